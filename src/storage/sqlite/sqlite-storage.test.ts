import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStorageConformance } from '../conformance.js';
import { StorageError, type KeyValue, type StorageEvent } from '../interface.js';
import { SqliteStorage, compareKeys, prefixEnd } from './sqlite-storage.js';

/** A fresh directory under the OS temp dir, removed by the returned function. */
function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pilote-sqlite-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Bytes of the database file plus its WAL. */
function fileBytes(path: string): number {
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  return size(path) + size(`${path}-wal`);
}

runStorageConformance('sqlite', async () => {
  const { dir, remove } = tempDir();
  const storage = SqliteStorage.open(join(dir, 'state.db'));
  return {
    storage,
    cleanup: async () => {
      await storage.close();
      remove();
    },
  };
});

describe('SqliteStorage', () => {
  let dir: string;
  let remove: () => void;
  before(() => ({ dir, remove } = tempDir()));
  after(() => remove());

  it('keeps values, revisions and the compacted revision across close and reopen', async () => {
    const path = join(dir, 'persist.db');
    let s = SqliteStorage.open(path);
    const a = await s.create('/p/a', 'a1');
    const a2 = await s.update('/p/a', 'a2', a.modRevision);
    const b = await s.create('/p/b', 'b1');
    await s.delete('/p/b');
    const c = await s.create('/p/c', 'c1');
    const c2 = await s.update('/p/c', 'c2', c.modRevision);
    const afterC2 = await s.currentRevision();
    await s.compact(a2.modRevision);
    const d = await s.delete('/p/c'); // the newest row is a delete marker…
    await s.compact(d.modRevision); // …which compaction removes: the revision must not go back.
    const revision = await s.currentRevision();
    await s.close();

    s = SqliteStorage.open(path);
    try {
      assert.equal(await s.currentRevision(), revision);
      assert.equal(await s.compactedRevision(), d.modRevision);
      assert.deepEqual(await s.get('/p/a'), a2);
      assert.equal(await s.get('/p/b'), undefined);
      assert.equal(await s.get('/p/c'), undefined);
      assert.equal(await s.count('/p/'), 1);
      await assert.rejects(s.get('/p/c', afterC2), (e: unknown) => e instanceof StorageError && e.code === 'Compacted');
      const next = await s.create('/p/b', 'b2');
      assert.equal(next.modRevision, revision + 1);
      assert.ok(next.createRevision > b.createRevision);
      assert.deepEqual(c2.value, 'c2');
    } finally {
      await s.close();
    }
  });

  it('replays from the log on disk after reopen, with prevValue', async () => {
    const path = join(dir, 'replay.db');
    let s = SqliteStorage.open(path);
    const kv = await s.create('/r/a', 'v1');
    await s.update('/r/a', 'v2', kv.modRevision);
    await s.create('/r/b', 'x');
    await s.delete('/r/b');
    await s.close();

    s = SqliteStorage.open(path);
    try {
      const events: StorageEvent[] = [];
      const done = new Promise<void>((resolve) => {
        s.watch('/r/', 0, {
          onEvent(e) {
            events.push(e);
            if (events.length === 5) resolve();
          },
        });
      });
      await s.create('/r/c', 'live');
      await done;
      assert.deepEqual(
        events.map((e) => [e.type, e.key, e.value, e.prevValue]),
        [
          ['create', '/r/a', 'v1', undefined],
          ['update', '/r/a', 'v2', 'v1'],
          ['create', '/r/b', 'x', undefined],
          ['delete', '/r/b', 'x', 'x'],
          ['create', '/r/c', 'live', undefined],
        ],
      );
    } finally {
      await s.close();
    }
  });

  it('group-commits concurrent writes: distinct revisions, few transactions', async () => {
    const s = SqliteStorage.open(join(dir, 'group.db'));
    try {
      const before = s.stats();
      const n = 2000;
      const created = await Promise.all(Array.from({ length: n }, (_, i) => s.create(`/g/${i}`, `{"i":${i}}`)));
      const revisions = created.map((kv) => kv.modRevision).sort((x, y) => x - y);
      assert.equal(new Set(revisions).size, n);
      assert.equal(revisions[0], before.revision + 1);
      assert.equal(revisions[n - 1], before.revision + n, 'revisions are contiguous');
      const commits = s.stats().commits - before.commits;
      assert.ok(commits <= 2, `${n} concurrent creates took ${commits} commits`);
    } finally {
      await s.close();
    }
  });

  it('lets writes in one batch see each other in order', async () => {
    const s = SqliteStorage.open(join(dir, 'batch.db'));
    try {
      const results = await Promise.allSettled([
        s.create('/b/k', 'one'),
        s.create('/b/k', 'two'), // KeyExists: the first create is ahead of it in the batch
        s.delete('/b/k'),
        s.create('/b/k', 'three'),
        s.update('/b/k', 'four', 1_000_000), // Conflict against the batch's own state
      ]);
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value.value : (r.reason as StorageError).code)),
        ['one', 'KeyExists', 'one', 'three', 'Conflict'],
      );
      const conflict = (results[4] as PromiseRejectedResult).reason as StorageError;
      assert.equal(conflict.current?.value, 'three');
      assert.equal((await s.get('/b/k'))?.value, 'three');
      assert.equal(s.stats().commits, 1);
    } finally {
      await s.close();
    }
  });

  it('shows a write to watchers before the writer is answered', async () => {
    const s = SqliteStorage.open(join(dir, 'order.db'));
    try {
      const seen: number[] = [];
      s.watch('/o/', 0, { onEvent: (e) => seen.push(e.revision) });
      await new Promise<void>((resolve) => setImmediate(resolve)); // replay (empty) done
      const kv = await s.create('/o/a', 'x');
      assert.deepEqual(seen, [kv.modRevision]);
    } finally {
      await s.close();
    }
  });

  it('replays from SQL when the watch starts before the in-memory ring', async () => {
    const s = SqliteStorage.open(join(dir, 'ring.db'), { compactKeep: 100_000 });
    try {
      const n = 12_000; // more than the ring holds
      let kv = await s.create('/ring/k', '0');
      for (let i = 1; i < n; i += 500) {
        // Batches of updates to other keys, then one update of /ring/k.
        await Promise.all(Array.from({ length: 500 }, (_, j) => s.create(`/ring/x/${i}-${j}`, 'x')));
        kv = await s.update('/ring/k', String(i), kv.modRevision);
      }
      const events: StorageEvent[] = [];
      const want = await s.currentRevision(); // every revision is under /ring/
      await new Promise<void>((resolve, reject) => {
        s.watch('/ring/', 0, {
          onEvent(e) {
            events.push(e);
            if (events.length === want) resolve();
          },
          onError: reject,
        });
      });
      for (let i = 1; i < events.length; i++) assert.equal(events[i]!.revision, events[i - 1]!.revision + 1);
      const updates = events.filter((e) => e.type === 'update');
      assert.equal(updates[0]!.prevValue, '0');
      assert.equal(updates[updates.length - 1]!.value, kv.value);
    } finally {
      await s.close();
    }
  });

  it('refuses a second opener while open', async () => {
    const path = join(dir, 'lock.db');
    const s = SqliteStorage.open(path);
    try {
      await s.create('/l', 'x');
      assert.throws(() => SqliteStorage.open(path, { busyTimeoutMs: 50 }), /locked|busy/i);
    } finally {
      await s.close();
    }
    const again = SqliteStorage.open(path);
    assert.equal((await again.get('/l'))?.value, 'x');
    await again.close();
  });

  it('ends watches with Closed when closed and rejects later calls', async () => {
    const s = SqliteStorage.open(join(dir, 'closed.db'));
    const ended = new Promise<Error>((resolve) => s.watch('/', 0, { onEvent() {}, onError: resolve }));
    const pending = s.create('/c', 'x'); // queued: close flushes it
    await s.close();
    assert.equal((await pending).value, 'x');
    const error = await ended;
    assert.ok(error instanceof StorageError && error.code === 'Closed');
    assert.throws(() => s.watch('/', 0, { onEvent() {} }), (e: unknown) => e instanceof StorageError && e.code === 'Closed');
    await s.close(); // idempotent
  });

  it('gives space back to the file system after a mass deletion', async () => {
    const path = join(dir, 'shrink.db');
    const s = SqliteStorage.open(path);
    try {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => s.create(`/s/${i}`, 'x'.repeat(1000))));
      const full = fileBytes(path);
      await Promise.all(Array.from({ length: 3000 }, (_, i) => s.delete(`/s/${i}`)));
      await s.compact(await s.currentRevision());
      const after = fileBytes(path);
      assert.ok(full > 3_000_000, `full: ${full}`);
      assert.ok(after < 200_000, `after deleting everything: ${after} bytes (was ${full})`);
    } finally {
      await s.close();
    }
  });

  it('compacts automatically and keeps the file bounded under heavy updates', async () => {
    const path = join(dir, 'bound.db');
    const objects = 1000;
    const updates = 100_000;
    const s = SqliteStorage.open(path, { compactKeep: 1000 });
    try {
      const payload = (i: number, round: number) => JSON.stringify({ i, round, data: 'x'.repeat(1000) });
      const current: KeyValue[] = await Promise.all(
        Array.from({ length: objects }, (_, i) => s.create(`/bound/${String(i).padStart(4, '0')}`, payload(i, 0))),
      );
      let peak = 0;
      let done = 0;
      // 50 concurrent writers, each updating its own 20 objects round-robin (so no CAS conflicts).
      const writers = 50;
      const perWriter = objects / writers;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let n = 0; n < updates / writers; n++) {
            const i = w * perWriter + (n % perWriter);
            const kv = current[i]!;
            current[i] = await s.update(kv.key, payload(i, n + 1), kv.modRevision);
            if (++done % 5000 === 0) peak = Math.max(peak, fileBytes(path));
          }
        }),
      );
      // Let an automatic compaction scheduled by the last writes run, then wait for it.
      await new Promise<void>((resolve) => setImmediate(resolve));
      await s.compact(await s.compactedRevision());
      const live = (await s.list({ prefix: '/bound/' })).items.reduce((n, kv) => n + kv.key.length + kv.value.length, 0);
      const size = fileBytes(path);
      const stats = s.stats();
      assert.equal(stats.liveKeys, objects);
      assert.ok(stats.revision - stats.compactedRevision <= 2000, `history kept: ${stats.revision - stats.compactedRevision}`);
      assert.ok(size < 5 * live, `file ${size} bytes vs live ${live} bytes (ratio ${(size / live).toFixed(2)})`);
      assert.ok(peak < 6 * live, `peak file ${peak} bytes vs live ${live} bytes (ratio ${(peak / live).toFixed(2)})`);
    } finally {
      await s.close();
    }
  });
});

describe('key order helpers', () => {
  it('compareKeys follows UTF-8 byte order', () => {
    const keys = ['a', 'b', 'ab', '', 'é', '\uffef', '😀', '\u{10ffff}', '\ud7ff', '\ue000', 'a\u0000'];
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), bytes);
  });

  it('prefixEnd is the first key past the prefix', () => {
    assert.equal(prefixEnd('/a/'), '/a0');
    assert.equal(prefixEnd(''), undefined);
    assert.equal(prefixEnd('a\u{10ffff}'), 'b');
    assert.equal(prefixEnd('\ud7ff'), '\ue000');
    assert.equal(prefixEnd('x😀'), 'x😁');
    for (const [prefix, key] of [['/a/', '/a/zzz'], ['x😀', 'x😀\u{10ffff}'], ['\uffff', '\uffff\uffff']] as const) {
      assert.ok(compareKeys(key, prefixEnd(prefix)!) < 0, `${key} < end of ${prefix}`);
    }
  });
});
