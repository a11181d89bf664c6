import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshot, writeDiffTar } from './layer-diff.js';
import { materialize } from './rootfs.js';

const work = mkdtempSync(join(tmpdir(), 'pilote-diff-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function listing(tarPath: string): string[] {
  return execFileSync('tar', ['-tvf', tarPath, '--numeric-owner'], { encoding: 'utf8' }).trim().split('\n');
}

describe('layer diff', () => {
  it('records new, changed and deleted paths (whiteouts), symlinks and hardlinks; untouched files stay out', async () => {
    const root = join(work, 'root');
    mkdirSync(join(root, 'etc'), { recursive: true });
    mkdirSync(join(root, 'gone/deep'), { recursive: true });
    writeFileSync(join(root, 'etc/keep'), 'same');
    writeFileSync(join(root, 'etc/change'), 'v1');
    writeFileSync(join(root, 'etc/remove'), 'x');
    writeFileSync(join(root, 'gone/deep/file'), 'x');
    const before = snapshot(root);

    writeFileSync(join(root, 'etc/change'), 'v2');
    unlinkSync(join(root, 'etc/remove'));
    rmSync(join(root, 'gone'), { recursive: true });
    mkdirSync(join(root, 'new'));
    writeFileSync(join(root, 'new/file'), 'hello');
    chmodSync(join(root, 'new/file'), 0o4755);
    linkSync(join(root, 'new/file'), join(root, 'new/hard'));
    symlinkSync('file', join(root, 'new/link'));

    const tarPath = join(work, 'layer.tar');
    const { summary } = await writeDiffTar(root, before, tarPath);
    const lines = listing(tarPath);
    const names = lines.map((l) => l.split(/\s+/).slice(5).join(' '));
    assert.ok(names.includes('etc/change'), names.join('\n'));
    assert.ok(!names.includes('etc/keep'));
    assert.ok(names.includes('etc/.wh.remove'));
    assert.ok(names.includes('.wh.gone'));
    assert.ok(!names.some((n) => n.startsWith('gone/')), 'no whiteout below a whited-out directory');
    assert.ok(names.includes('new/link -> file'));
    assert.ok(names.some((n) => /^new\/(hard|file) link to new\/(file|hard)$/.test(n)), names.join('\n'));
    assert.ok(lines.some((l) => l.startsWith('-rwsr-xr-x') && l.endsWith('new/file') || l.endsWith('new/hard')));
    assert.equal(summary.deleted, 2);

    // Applying the layer on the old tree reproduces the new one.
    const replay = join(work, 'replay');
    mkdirSync(join(replay, 'etc'), { recursive: true });
    mkdirSync(join(replay, 'gone/deep'), { recursive: true });
    writeFileSync(join(replay, 'etc/remove'), 'x');
    await materialize(replay, [{ path: tarPath, mediaType: 'application/vnd.oci.image.layer.v1.tar' }]);
    const out = execFileSync('sh', ['-c', `cd ${replay} && find . | sort`], { encoding: 'utf8' });
    assert.ok(!out.includes('./gone'));
    assert.ok(!out.includes('./etc/remove'));
    assert.ok(out.includes('./new/link'));
  });
});
