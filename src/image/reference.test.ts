import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarName, formatReference, parseReference } from './reference.js';

const D = 'sha256:' + 'a'.repeat(64);

test('normalises names as Docker does', () => {
  const cases: [string, string][] = [
    ['nginx', 'docker.io/library/nginx:latest'],
    ['nginx:1.19', 'docker.io/library/nginx:1.19'],
    ['library/nginx', 'docker.io/library/nginx:latest'],
    ['docker.io/nginx', 'docker.io/library/nginx:latest'],
    ['index.docker.io/library/nginx:alpine', 'docker.io/library/nginx:alpine'],
    ['user/app', 'docker.io/user/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/x', 'localhost:5000/x:latest'],
    ['127.0.0.1:5000/a/b/c:v1.2-rc_3', '127.0.0.1:5000/a/b/c:v1.2-rc_3'],
    ['quay.io/coreos/etcd', 'quay.io/coreos/etcd:latest'],
    ['my-registry.example.com:443/team/app.web__x--y', 'my-registry.example.com:443/team/app.web__x--y:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    ['[::1]:5000/app:x', '[::1]:5000/app:x'],
  ];
  for (const [input, full] of cases) assert.equal(formatReference(parseReference(input)), full, input);
});

test('parts of a reference', () => {
  assert.deepEqual(parseReference('localhost:5000/team/app:2'), { registry: 'localhost:5000', repository: 'team/app', tag: '2' });
  assert.deepEqual(parseReference(`a@${D}`), { registry: 'docker.io', repository: 'library/a', digest: D });
});

test('familiar names as docker shows them', () => {
  assert.equal(familiarName('docker.io/library/nginx:latest'), 'nginx:latest');
  assert.equal(familiarName('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiarName('localhost:5000/app:1'), 'localhost:5000/app:1');
  assert.equal(familiarName('docker.io/library/a/b:1'), 'library/a/b:1');
});

test('rejects invalid references with the reason', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['Nginx', /lowercase/],
    ['docker.io/Library/nginx', /lowercase/],
    ['nginx:', /not a valid tag/],
    ['nginx:-x', /not a valid tag/],
    ['nginx:' + 'a'.repeat(129), /not a valid tag/],
    ['nginx@sha256:' + 'a'.repeat(40), /64 lowercase hexadecimal/], ['nginx@sha256:abc', /not a digest/],
    ['nginx@notadigest', /not a digest/],
    ['a'.repeat(64), /image ID/],
    ['a//b', /path component/],
    ['a/b_', /path component/],
    ['-a', /path component/],
    ['host:port/app', /invalid port/],
    ['x/' + 'a'.repeat(300), /longer than 255/],
  ];
  for (const [input, reason] of bad) assert.throws(() => parseReference(input), reason, JSON.stringify(input));
});
