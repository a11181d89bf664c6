import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { loadImages, saveImages } from './archive.js';
import { ImageStore, imageId } from './store.js';
import type { LayerInfo } from './types.js';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mtime: new Date(0) }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function makeImage(store: ImageStore, dir: string, names: string[]) {
  const layers: LayerInfo[] = [];
  for (const [i, files] of ([{ 'a.txt': 'a' }, { 'b/c.txt': 'c'.repeat(5000) }] as Record<string, string>[]).entries()) {
    writeFileSync(join(dir, `l${i}.tar`), await tarOf(files));
    layers.push(await store.addLayerFromTar(join(dir, `l${i}.tar`)));
  }
  const config = { architecture: 'amd64', os: 'linux', config: { Cmd: ['sh'], Env: ['A=1'] }, rootfs: { type: 'layers' as const, diff_ids: layers.map((l) => l.diffId) } };
  return store.writeImage(config, layers, names);
}

function hasSkopeo(): boolean {
  try {
    execFileSync('skopeo', ['--version']);
    return true;
  } catch {
    return false;
  }
}

for (const format of ['docker', 'oci'] as const) {
  test(`${format} archive: save, load into a fresh store, skopeo reads it`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-archive-test-'));
    try {
      const source = ImageStore.open(join(dir, 'a'));
      const image = await makeImage(source, dir, ['localhost:5000/demo/app:1', 'app:latest']);
      const file = join(dir, `out-${format}.tar`);
      await saveImages(source, ['app'], file, format);

      const target = ImageStore.open(join(dir, 'b'));
      const [loaded] = await loadImages(target, file);
      assert.ok(loaded);
      assert.deepEqual(loaded.names, ['docker.io/library/app:latest']);
      assert.equal(imageId(loaded), imageId(image), 'the image ID (config digest) survives the round trip');
      assert.deepEqual(loaded.config.rootfs.diff_ids, image.config.rootfs.diff_ids);
      if (format === 'oci') assert.equal(loaded.digest, image.digest, 'an OCI archive keeps the manifest digest');
      for (const layer of loaded.manifest.layers) assert.ok(target.hasBlob(layer.digest));

      // A gzipped archive loads too (docker load accepts .tar.gz).
      writeFileSync(`${file}.gz`, gzipSync(readFileSync(file)));
      const third = ImageStore.open(join(dir, 'c'));
      assert.equal(imageId((await loadImages(third, `${file}.gz`))[0]!), imageId(image));

      if (hasSkopeo()) {
        const transport = format === 'oci' ? 'oci-archive' : 'docker-archive';
        const inspected = JSON.parse(execFileSync('skopeo', ['inspect', '--config', `${transport}:${file}`], { encoding: 'utf8' })) as { rootfs: { diff_ids: string[] }; config: { Cmd: string[] } };
        assert.deepEqual(inspected.rootfs.diff_ids, image.config.rootfs.diff_ids);
        assert.deepEqual(inspected.config.Cmd, ['sh']);
        execFileSync('skopeo', ['copy', '-q', `${transport}:${file}`, `dir:${join(dir, 'copy')}`]);
        const copied = JSON.parse(readFileSync(join(dir, 'copy', 'manifest.json'), 'utf8')) as { layers: unknown[] };
        assert.equal(copied.layers.length, 2);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('load rejects what is not an image archive, and leaves no image', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pilote-archive-test-'));
  try {
    const store = ImageStore.open(join(dir, 's'));
    writeFileSync(join(dir, 'x.tar'), await tarOf({ 'hello.txt': 'hi' }));
    await assert.rejects(loadImages(store, join(dir, 'x.tar')), /neither a docker-archive/);
    const manifest = JSON.stringify([{ Config: 'c.json', RepoTags: ['x:1'], Layers: ['missing/layer.tar'] }]);
    writeFileSync(join(dir, 'y.tar'), await tarOf({ 'manifest.json': manifest, 'c.json': JSON.stringify({ rootfs: { diff_ids: ['sha256:' + '0'.repeat(64)] } }) }));
    await assert.rejects(loadImages(store, join(dir, 'y.tar')), /lacks missing\/layer.tar/);
    assert.deepEqual(await store.list(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
