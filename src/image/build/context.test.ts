import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildContext, SourceNotFoundError } from './context.js';

const dir = mkdtempSync(join(tmpdir(), 'pilote-ctx-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, 'src/lib'), { recursive: true });
mkdirSync(join(dir, 'node_modules/x'), { recursive: true });
writeFileSync(join(dir, 'a.txt'), 'a');
writeFileSync(join(dir, 'b.txt'), 'b');
writeFileSync(join(dir, 'secret.key'), 'k');
writeFileSync(join(dir, 'src/main.js'), 'main');
writeFileSync(join(dir, 'src/lib/util.js'), 'util');
writeFileSync(join(dir, 'src/lib/keep.md'), 'keep');
writeFileSync(join(dir, 'node_modules/x/index.js'), 'x');
writeFileSync(join(dir, '.dockerignore'), '# deps\nnode_modules\n*.key\nsrc/**/*.md\n!src/lib/keep.md\n');

describe('build context', () => {
  const context = BuildContext.open(dir);

  it('applies .dockerignore, including exceptions', () => {
    const listing = context.list();
    assert.ok(listing.includes('a.txt'));
    assert.ok(!listing.some((p) => p.startsWith('node_modules')));
    assert.ok(!listing.includes('secret.key'));
    assert.ok(listing.includes('src/lib/keep.md'));
  });

  it('expands globs and plain paths, refuses ignored or missing ones', () => {
    assert.deepEqual(context.resolve(['*.txt']).map((s) => s.relPath), ['a.txt', 'b.txt']);
    assert.deepEqual(context.resolve(['src']).map((s) => s.relPath), ['src']);
    assert.throws(() => context.resolve(['secret.key']), SourceNotFoundError);
    assert.throws(() => context.resolve(['missing.txt']), /"missing.txt" not found in the build context/);
    // As Docker: `..` cannot leave the context (it is cleaned to the context root).
    assert.throws(() => context.resolve(['../etc/passwd']), /not found in the build context/);
  });

  it('hashes content: equal for equal trees, different when a file changes', async () => {
    const before = await context.hashSources(context.resolve(['src']));
    assert.equal(await BuildContext.open(dir).hashSources(BuildContext.open(dir).resolve(['src'])), before);
    writeFileSync(join(dir, 'src/lib/util.js'), 'util v2');
    const fresh = BuildContext.open(dir);
    assert.notEqual(await fresh.hashSources(fresh.resolve(['src'])), before);
  });
});
