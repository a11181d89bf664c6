import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { repoDigest } from './runtime-state.js';

describe('image ids', () => {
  it('shows the image repository with the digest, whatever name the import gave it', () => {
    assert.equal(repoDigest('docker.io/library/busybox:latest', 'docker.io/library/import-2026-11-26@sha256:e4b8'), 'docker.io/library/busybox@sha256:e4b8');
    assert.equal(repoDigest('localhost:5000/app:v1', 'localhost:5000/app@sha256:aa'), 'localhost:5000/app@sha256:aa');
    assert.equal(repoDigest('docker.io/library/busybox:latest', 'sha256:abcd'), 'sha256:abcd');
  });
});
