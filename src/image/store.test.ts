import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { ImageStore, imageId } from './store.js';
import type { ImageConfigFile, LayerInfo } from './types.js';

/** Builds a small tar file in memory and writes it to `path`. */
export async function writeTar(path: string, files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  const data = Buffer.concat(chunks);
  writeFileSync(path, data);
  return data;
}

function configFor(layers: LayerInfo[], cmd: string[] = ['sh']): ImageConfigFile {
  return { architecture: 'amd64', os: 'linux', config: { Cmd: cmd }, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) } };
}

function withStore(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-store-test-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('open creates an OCI layout', withStore(async (dir) => {
  const store = ImageStore.open(join(dir, 's'));
  assert.deepEqual(JSON.parse(readFileSync(join(store.root, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  assert.deepEqual(JSON.parse(readFileSync(join(store.root, 'index.json'), 'utf8')).manifests, []);
  ImageStore.open(join(dir, 's')); // idempotent
}));

test('layers, images, resolve, tag, rm and gc', withStore(async (dir) => {
  const store = ImageStore.open(join(dir, 'store'));
  const tarData = await writeTar(join(dir, 'l.tar'), { 'hello.txt': 'hello\n' });
  const layer = await store.addLayerFromTar(join(dir, 'l.tar'));
  assert.equal(layer.diffId, 'sha256:' + createHash('sha256').update(tarData).digest('hex'));
  const blob = readFileSync(store.blobPath(layer.descriptor.digest));
  assert.equal(layer.descriptor.digest, 'sha256:' + createHash('sha256').update(blob).digest('hex'));
  assert.equal(layer.descriptor.size, blob.length);
  assert.deepEqual(gunzipSync(blob), tarData);

  // The same layer as a compressed blob gives the same diffId.
  writeFileSync(join(dir, 'l.tar.gz'), blob);
  const again = await store.addLayerBlob(join(dir, 'l.tar.gz'), layer.descriptor.mediaType);
  assert.deepEqual(again, layer);

  const image = await store.writeImage(configFor([layer]), [layer], ['myapp', 'localhost:5000/team/myapp:v1']);
  assert.deepEqual(image.names, ['docker.io/library/myapp:latest', 'localhost:5000/team/myapp:v1']);
  for (const ref of ['myapp', 'myapp:latest', 'docker.io/library/myapp', 'localhost:5000/team/myapp:v1', image.digest, imageId(image),
    imageId(image).slice(7, 19), `myapp@${image.digest}`]) {
    assert.equal((await store.resolve(ref))?.digest, image.digest, ref);
  }
  assert.equal(await store.resolve('other'), undefined);
  assert.equal(await store.resolve('myapp:v2'), undefined);
  await assert.rejects(store.resolve('Bad'), /lowercase/);

  await store.tag('myapp', 'myapp:v2');
  assert.deepEqual((await store.get('myapp:v2')).names.sort(), ['docker.io/library/myapp:latest', 'docker.io/library/myapp:v2', 'localhost:5000/team/myapp:v1']);
  await assert.rejects(store.tag('nothere', 'x'), /not found/);

  // A second image takes over the name "myapp:latest".
  const layer2 = await store.addLayerFromTar(join(dir, 'l.tar'));
  const image2 = await store.writeImage(configFor([layer2], ['echo']), [layer2], ['myapp']);
  assert.notEqual(image2.digest, image.digest);
  assert.equal((await store.get('myapp')).digest, image2.digest);
  assert.equal((await store.list()).length, 2);

  await assert.rejects(store.remove(imageId(image)), /2 names/);
  assert.deepEqual(await store.remove('myapp:v2'), { untagged: ['docker.io/library/myapp:v2'] });
  const removed = await store.remove(imageId(image), { force: true });
  assert.equal(removed.deleted, image.digest);
  assert.equal(store.hasBlob(image.digest), false, 'manifest blob collected');
  assert.equal(store.hasBlob(image.manifest.config.digest), false, 'config blob collected');
  assert.equal(store.hasBlob(layer.descriptor.digest), true, 'shared layer kept');
  await store.remove('myapp');
  assert.deepEqual(await store.list(), []);
  assert.deepEqual(readdirSync(join(store.root, 'blobs', 'sha256')), []);
}));

test('an image that loses its last name stays as <none> until prune', withStore(async (dir) => {
  const store = ImageStore.open(dir);
  const layer = await store.addLayerFromTar(await (async () => { await writeTar(join(dir, 'l.tar'), { f: 'x' }); return join(dir, 'l.tar'); })());
  const old = await store.writeImage(configFor([layer], ['old']), [layer], ['app:1']);
  const fresh = await store.writeImage(configFor([layer], ['new']), [layer], ['app:1', 'app:1']);
  assert.deepEqual(fresh.names, ['docker.io/library/app:1']);
  const dangling = await store.get(imageId(old));
  assert.deepEqual(dangling.names, []);
  assert.equal((await store.list()).length, 2);
  // Naming the dangling image again removes its <none> entry.
  await store.tag(imageId(old), 'app:old');
  assert.deepEqual((await store.get('app:old')).names, ['docker.io/library/app:old']);
  await store.tag('app:1', 'app:old');
  assert.deepEqual(await store.prune(), [old.digest]);
  assert.equal(store.hasBlob(old.manifest.config.digest), false);
  assert.deepEqual((await store.list()).map((i) => i.digest), [fresh.digest]);
}));

test('a corrupt or truncated gzip layer is rejected and not stored', withStore(async (dir) => {
  const store = ImageStore.open(join(dir, 's'));
  const { gzipSync } = await import('node:zlib');
  const { randomBytes } = await import('node:crypto');
  const good = gzipSync(randomBytes(400_000));
  writeFileSync(join(dir, 'trunc.gz'), good.subarray(0, good.length / 2));
  writeFileSync(join(dir, 'corrupt.gz'), Buffer.concat([good.subarray(0, 100), randomBytes(2_000_000)]));
  for (const file of ['trunc.gz', 'corrupt.gz']) {
    await assert.rejects(store.addLayerBlob(join(dir, file), 'application/vnd.oci.image.layer.v1.tar+gzip'), /not a valid gzip stream/, file);
  }
  assert.deepEqual(readdirSync(join(store.root, 'blobs', 'sha256')), []);
  assert.deepEqual(readdirSync(join(store.root, 'ingest')), []);
}));

test('unnamed blobs of a live writer survive gc; released ones go', withStore(async (dir) => {
  const writer = ImageStore.open(dir);
  const other = ImageStore.open(dir);
  const d = await writer.putBlob(Buffer.from('half-written build'), 'application/octet-stream');
  assert.equal(await other.garbageCollect(), 0);
  assert.ok(writer.hasBlob(d.digest));
  await writer.releaseLeases();
  assert.equal(await other.garbageCollect(), 1);
  assert.equal(writer.hasBlob(d.digest), false);
}));

test('concurrent writers in several processes keep every name', withStore(async (dir) => {
  const storeUrl = new URL('./store.js', import.meta.url).href;
  const script = `
    import { ImageStore } from ${JSON.stringify(storeUrl)};
    const [dir, id] = process.argv.slice(1);
    const store = ImageStore.open(dir);
    for (let i = 0; i < 5; i++) {
      const data = Buffer.from('layer ' + id + ' ' + i);
      const layer = { descriptor: await store.putBlob(data, 'application/vnd.oci.image.layer.v1.tar'), diffId: '' };
      layer.diffId = layer.descriptor.digest;
      const config = { architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [layer.diffId] } };
      await store.writeImage(config, [layer], ['w' + id + ':' + i]);
      if (i % 2 === 1) await store.remove('w' + id + ':' + (i - 1));
    }`;
  const run = (id: number) => new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', script, dir, String(id)], (error, _out, stderr) => (error ? reject(new Error(stderr)) : resolve()));
  });
  await Promise.all([0, 1, 2, 3, 4, 5].map(run));
  const store = ImageStore.open(dir);
  const names = (await store.list()).flatMap((i) => i.names).sort();
  const expected = [0, 1, 2, 3, 4, 5].flatMap((id) => [1, 3, 4].map((i) => `docker.io/library/w${id}:${i}`)).sort();
  assert.deepEqual(names, expected);
  assert.equal(readdirSync(join(dir, 'blobs', 'sha256')).length, 6 * 3 * 3, 'manifest, config and layer of each remaining image');
}));
