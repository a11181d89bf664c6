import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openWorkspace } from './workspace.js';

const work = mkdtempSync(join(tmpdir(), 'pilote-ws-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A base layer: etc/{a,b}, var/cache/{x,y}, usr/bin/tool. */
function baseLayer(): string {
  const tree = join(work, 'base-tree');
  mkdirSync(join(tree, 'etc'), { recursive: true });
  mkdirSync(join(tree, 'var/cache'), { recursive: true });
  mkdirSync(join(tree, 'usr/bin'), { recursive: true });
  writeFileSync(join(tree, 'etc/a'), 'a');
  writeFileSync(join(tree, 'etc/b'), 'b');
  writeFileSync(join(tree, 'var/cache/x'), 'x');
  writeFileSync(join(tree, 'var/cache/y'), 'y');
  writeFileSync(join(tree, 'usr/bin/tool'), 'tool');
  const tarPath = join(work, 'base.tar');
  execFileSync('tar', ['-C', tree, '--numeric-owner', '-cf', tarPath, '.']);
  return tarPath;
}

/** The entries of a layer tar, sorted (`name` or `name -> target`). */
function entries(tarPath: string): string[] {
  return execFileSync('tar', ['-tf', tarPath], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).sort();
}

for (const mode of ['auto', 'plain'] as const) {
  describe(`build workspace (${mode === 'auto' ? 'overlay' : 'plain copy'})`, () => {
    it('turns changes into a layer: added, modified, deleted (whiteouts), recreated directories', async () => {
      const store = join(work, `store-${mode}`);
      mkdirSync(store, { recursive: true });
      const base = baseLayer();
      const ws = await openWorkspace([{ path: base, mediaType: 'application/vnd.oci.image.layer.v1.tar', diffId: `sha256:${mode}` }], store, work, mode);
      try {
        assert.equal(ws.kind, mode === 'auto' ? 'overlay' : 'plain', 'overlayfs is available on these machines');
        writeFileSync(join(ws.root, 'etc/a'), 'a2');
        unlinkSync(join(ws.root, 'etc/b'));
        rmSync(join(ws.root, 'var/cache'), { recursive: true });
        mkdirSync(join(ws.root, 'var/cache'));
        writeFileSync(join(ws.root, 'var/cache/z'), 'z');
        symlinkSync('tool', join(ws.root, 'usr/bin/alias'));
        const first = join(work, `first-${mode}.tar`);
        const summary = await ws.commit(first);
        const names = entries(first);
        for (const expected of ['etc/a', 'etc/.wh.b', 'var/cache/z', 'var/cache/.wh.x', 'var/cache/.wh.y', 'usr/bin/alias']) {
          assert.ok(names.some((n) => n.replace(/^\.\//, '') === expected), `${expected} in ${names.join(', ')}`);
        }
        assert.ok(!names.some((n) => n.endsWith('usr/bin/tool')), 'untouched files stay out');
        assert.ok(summary.deleted >= 3);

        // The next commit holds only what changed after the first.
        writeFileSync(join(ws.root, 'etc/new'), 'n');
        const second = join(work, `second-${mode}.tar`);
        await ws.commit(second);
        const next = entries(second).map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''));
        assert.ok(next.includes('etc/new'));
        assert.ok(!next.includes('etc/a') && !next.includes('var/cache/z'), next.join(', '));
      } finally {
        ws.dispose();
      }
    });
  });
}
