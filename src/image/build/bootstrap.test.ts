import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore } from '../store.js';
import { bootstrapImage, hostDebianMirror } from './bootstrap.js';

const dir = mkdtempSync(join(tmpdir(), 'pilote-bootstrap-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('pilote image bootstrap (offline checks)', () => {
  it('makes Debian images only, before running anything', async () => {
    const store = ImageStore.open(dir);
    await assert.rejects(bootstrapImage({ store, ref: 'nginx:latest', progress: () => undefined }), /Debian images only: give debian:<suite>/);
    await assert.rejects(bootstrapImage({ store, ref: 'quay.io/debian:bookworm', progress: () => undefined }), /Debian images only/);
    assert.deepEqual(await store.list(), []);
  });

  it('finds the Debian mirror of this machine\'s apt sources, if any', () => {
    const mirror = hostDebianMirror();
    if (mirror !== undefined) assert.match(mirror, /^https?:\/\/\S+\/debian\/?$/);
  });
});
