/**
 * The storage conformance suite: the contract of ./interface.ts as tests.
 * Every backend (SQLite, etcd, …) runs it unchanged, so it tests only what
 * the interface promises, never how a backend keeps its data.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StorageError, type KeyValue, type Storage, type StorageErrorCode, type StorageEvent, type Watcher } from './interface.js';

/** Opens a fresh, empty backend for one test; cleanup closes it and removes its data. */
export type OpenStorage = () => Promise<{ storage: Storage; cleanup: () => Promise<void> }>;

/** How long a test waits for a watch event before failing. */
const WAIT_MS = 5000;

/**
 * Registers the conformance tests for one backend under `describe(backendName)`.
 * `open` must return an empty store each time.
 */
export function runStorageConformance(backendName: string, open: OpenStorage): void {
  /** Runs `body` on a fresh store and always cleans up. */
  const withStore = (body: (s: Storage) => Promise<void>) => async () => {
    const { storage, cleanup } = await open();
    try {
      await body(storage);
    } finally {
      await cleanup();
    }
  };

  describe(`storage conformance: ${backendName}`, () => {
    describe('create and get', () => {
      it('creates a key and reads it back', withStore(async (s) => {
        const kv = await s.create('/registry/pods/default/a', '{"a":1}');
        assert.equal(kv.key, '/registry/pods/default/a');
        assert.equal(kv.value, '{"a":1}');
        assert.ok(kv.modRevision > 0);
        assert.equal(kv.createRevision, kv.modRevision);
        assert.deepEqual(await s.get('/registry/pods/default/a'), kv);
        assert.equal(await s.currentRevision(), kv.modRevision);
      }));

      it('returns undefined for an absent key', withStore(async (s) => {
        assert.equal(await s.get('/registry/pods/default/none'), undefined);
        await s.create('/registry/pods/default/a', 'x');
        assert.equal(await s.get('/registry/pods/default/none'), undefined);
        assert.equal(await s.get('/registry/pods/default/'), undefined, 'a prefix is not a key');
      }));

      it('rejects creating a live key with KeyExists and leaves it unchanged', withStore(async (s) => {
        const kv = await s.create('/k', 'one');
        await expectStorageError(s.create('/k', 'two'), 'KeyExists');
        assert.deepEqual(await s.get('/k'), kv);
        assert.equal(await s.currentRevision(), kv.modRevision);
      }));

      it('stores values byte for byte', withStore(async (s) => {
        const value = JSON.stringify({ text: 'é ü 中文 😀 \u0000 "quoted" \\ back', big: 'x'.repeat(100_000) });
        await s.create('/v', value);
        assert.equal((await s.get('/v'))?.value, value);
        await s.create('/empty', '');
        assert.equal((await s.get('/empty'))?.value, '');
      }));
    });

    describe('update', () => {
      it('replaces the value when the expected revision matches', withStore(async (s) => {
        const created = await s.create('/k', 'v1');
        const updated = await s.update('/k', 'v2', created.modRevision);
        assert.equal(updated.value, 'v2');
        assert.ok(updated.modRevision > created.modRevision);
        assert.equal(updated.createRevision, created.createRevision);
        assert.deepEqual(await s.get('/k'), updated);
      }));

      it('fails with Conflict carrying the current value when the revision is stale', withStore(async (s) => {
        const created = await s.create('/k', 'v1');
        const updated = await s.update('/k', 'v2', created.modRevision);
        const error = await expectStorageError(s.update('/k', 'v3', created.modRevision), 'Conflict');
        assert.equal(error.key, '/k');
        assert.deepEqual(error.current, updated);
        assert.deepEqual(await s.get('/k'), updated);
      }));

      it('fails with NotFound for an absent key', withStore(async (s) => {
        await expectStorageError(s.update('/nope', 'v', 1), 'NotFound');
        const kv = await s.create('/gone', 'v');
        await s.delete('/gone');
        await expectStorageError(s.update('/gone', 'v2', kv.modRevision), 'NotFound');
      }));

      it('keeps createRevision across updates', withStore(async (s) => {
        let kv = await s.create('/k', '0');
        const createRevision = kv.createRevision;
        for (let i = 1; i <= 5; i++) {
          kv = await s.update('/k', String(i), kv.modRevision);
          assert.equal(kv.createRevision, createRevision);
        }
      }));
    });

    describe('delete', () => {
      it('deletes unconditionally and returns the last value at the delete revision', withStore(async (s) => {
        const kv = await s.create('/k', 'last');
        const deleted = await s.delete('/k');
        assert.equal(deleted.key, '/k');
        assert.equal(deleted.value, 'last');
        assert.equal(deleted.createRevision, kv.createRevision);
        assert.ok(deleted.modRevision > kv.modRevision);
        assert.equal(await s.currentRevision(), deleted.modRevision);
        assert.equal(await s.get('/k'), undefined);
      }));

      it('deletes with a matching expected revision', withStore(async (s) => {
        const kv = await s.create('/k', 'v');
        const deleted = await s.delete('/k', kv.modRevision);
        assert.equal(deleted.value, 'v');
        assert.equal(await s.get('/k'), undefined);
      }));

      it('fails with Conflict (and the current value) for a stale expected revision', withStore(async (s) => {
        const kv = await s.create('/k', 'v1');
        const updated = await s.update('/k', 'v2', kv.modRevision);
        const error = await expectStorageError(s.delete('/k', kv.modRevision), 'Conflict');
        assert.deepEqual(error.current, updated);
        assert.deepEqual(await s.get('/k'), updated);
      }));

      it('fails with NotFound for an absent key', withStore(async (s) => {
        await expectStorageError(s.delete('/nope'), 'NotFound');
        await expectStorageError(s.delete('/nope', 3), 'NotFound');
        await s.create('/k', 'v');
        await s.delete('/k');
        await expectStorageError(s.delete('/k'), 'NotFound');
      }));

      it('gives a recreated key a new createRevision', withStore(async (s) => {
        const first = await s.create('/k', 'a');
        await s.delete('/k');
        const second = await s.create('/k', 'b');
        assert.ok(second.createRevision > first.createRevision);
        assert.equal(second.createRevision, second.modRevision);
        const updated = await s.update('/k', 'c', second.modRevision);
        assert.equal(updated.createRevision, second.createRevision);
      }));
    });

    describe('revisions', () => {
      it('starts at 0 on an empty store', withStore(async (s) => {
        assert.equal(await s.currentRevision(), 0);
        assert.equal(await s.compactedRevision(), 0);
        const result = await s.list({ prefix: '/' });
        assert.deepEqual(result.items, []);
        assert.equal(result.remaining, 0);
      }));

      it('are global and strictly increasing across keys and operations', withStore(async (s) => {
        const seen: number[] = [];
        const a = await s.create('/a', '1');
        seen.push(a.modRevision);
        const b = await s.create('/b', '1');
        seen.push(b.modRevision);
        seen.push((await s.update('/a', '2', a.modRevision)).modRevision);
        seen.push((await s.delete('/b')).modRevision);
        seen.push((await s.create('/c', '1')).modRevision);
        for (let i = 1; i < seen.length; i++) assert.ok(seen[i]! > seen[i - 1]!, `revision ${seen[i]} after ${seen[i - 1]}`);
        assert.equal(await s.currentRevision(), seen[seen.length - 1]);
      }));
    });

    describe('reads at a past revision', () => {
      it('get returns the value as of that revision', withStore(async (s) => {
        const v1 = await s.create('/k', 'v1');
        const v2 = await s.update('/k', 'v2', v1.modRevision);
        const other = await s.create('/other', 'x');
        const deleted = await s.delete('/k');
        await s.create('/k', 'v3');
        assert.deepEqual(await s.get('/k', v1.modRevision), v1);
        assert.deepEqual(await s.get('/k', v2.modRevision), v2);
        assert.deepEqual(await s.get('/k', other.modRevision), v2, 'unchanged at a later revision');
        assert.equal(await s.get('/k', deleted.modRevision), undefined, 'absent at its delete revision');
        assert.equal(await s.get('/other', v2.modRevision), undefined, 'absent before its creation');
        assert.equal((await s.get('/k'))?.value, 'v3');
      }));

      it('list returns the state as of that revision', withStore(async (s) => {
        const a = await s.create('/p/a', 'a1');
        const b = await s.create('/p/b', 'b1');
        const at = await s.currentRevision();
        await s.update('/p/a', 'a2', a.modRevision);
        await s.delete('/p/b', b.modRevision);
        await s.create('/p/c', 'c1');
        const past = await s.list({ prefix: '/p/', revision: at });
        assert.equal(past.revision, at);
        assert.deepEqual(past.items, [a, b]);
        const latest = await s.list({ prefix: '/p/' });
        assert.equal(latest.revision, await s.currentRevision());
        assert.deepEqual(latest.items.map((kv) => [kv.key, kv.value]), [['/p/a', 'a2'], ['/p/c', 'c1']]);
      }));
    });

    describe('list', () => {
      it('returns keys under the prefix in key order', withStore(async (s) => {
        for (const name of ['c', 'a', 'b', 'aa', 'a-b']) await s.create(`/p/${name}`, name);
        const result = await s.list({ prefix: '/p/' });
        assert.deepEqual(result.items.map((kv) => kv.key), ['/p/a', '/p/a-b', '/p/aa', '/p/b', '/p/c']);
        assert.equal(result.remaining, 0);
      }));

      it('isolates prefixes that share leading characters', withStore(async (s) => {
        await s.create('/registry/pods/default/a', 'pod');
        await s.create('/registry/podsecurity/x', 'ps');
        await s.create('/registry/pods', 'exact');
        await s.create('/registry/pod/b', 'pod-singular');
        const pods = await s.list({ prefix: '/registry/pods/' });
        assert.deepEqual(pods.items.map((kv) => kv.key), ['/registry/pods/default/a']);
        assert.equal(await s.count('/registry/pods/'), 1);
        assert.equal(await s.count('/registry/pods'), 3, 'without the slash the prefix matches more');
      }));

      it('treats % and _ in keys and prefixes literally', withStore(async (s) => {
        await s.create('/x/a%b/1', '1');
        await s.create('/x/aXb/1', '2');
        await s.create('/x/a_c/1', '3');
        await s.create('/x/abc/1', '4');
        const at = await s.currentRevision();
        for (const revision of [undefined, at]) {
          assert.deepEqual((await s.list({ prefix: '/x/a%', revision })).items.map((kv) => kv.key), ['/x/a%b/1']);
          assert.deepEqual((await s.list({ prefix: '/x/a_', revision })).items.map((kv) => kv.key), ['/x/a_c/1']);
        }
        assert.equal(await s.count('/x/a%'), 1);
        assert.equal(await s.count('/x/a_'), 1);
      }));

      it('orders keys by their UTF-8 bytes at any revision', withStore(async (s) => {
        const names = ['z', 'é', '\uffef', '😀', 'A', '~', '\u00ff', 'a b'];
        for (const name of names) await s.create(`/u/${name}`, name);
        const expected = names.map((n) => `/u/${n}`).sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
        const at = await s.currentRevision();
        await s.create('/u/zz', 'later');
        assert.deepEqual((await s.list({ prefix: '/u/', revision: at })).items.map((kv) => kv.key), expected);
        assert.deepEqual(
          (await s.list({ prefix: '/u/' })).items.map((kv) => kv.key),
          [...expected, '/u/zz'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
        );
      }));

      it('lists everything with an empty prefix', withStore(async (s) => {
        await s.create('/a', '1');
        await s.create('/b/c', '2');
        const at = await s.currentRevision();
        await s.create('/d', '3');
        assert.equal((await s.list({ prefix: '' })).items.length, 3);
        assert.equal((await s.list({ prefix: '', revision: at })).items.length, 2);
        assert.equal(await s.count(''), 3);
      }));

      it('paginates with limit, startKey and remaining', withStore(async (s) => {
        const keys = Array.from({ length: 10 }, (_, i) => `/p/k${String(i).padStart(2, '0')}`);
        for (const key of keys) await s.create(key, key);
        await s.create('/q/outside', 'x');
        const first = await s.list({ prefix: '/p/', limit: 4 });
        assert.deepEqual(first.items.map((kv) => kv.key), keys.slice(0, 4));
        assert.equal(first.remaining, 6);
        const second = await s.list({ prefix: '/p/', limit: 4, startKey: keys[4] });
        assert.deepEqual(second.items.map((kv) => kv.key), keys.slice(4, 8));
        assert.equal(second.remaining, 2);
        const last = await s.list({ prefix: '/p/', limit: 4, startKey: keys[8] });
        assert.deepEqual(last.items.map((kv) => kv.key), keys.slice(8));
        assert.equal(last.remaining, 0);
        const exact = await s.list({ prefix: '/p/', limit: 10 });
        assert.equal(exact.items.length, 10);
        assert.equal(exact.remaining, 0);
        const between = await s.list({ prefix: '/p/', startKey: '/p/k035' });
        assert.deepEqual(between.items.map((kv) => kv.key), keys.slice(4), 'startKey need not exist');
        assert.deepEqual((await s.list({ prefix: '/p/', startKey: '/q/' })).items, [], 'startKey past the prefix');
        assert.deepEqual((await s.list({ prefix: '/p/', startKey: '/a' })).items.length, 10, 'startKey before the prefix');
      }));

      it('paginates a fixed revision consistently while writes continue', withStore(async (s) => {
        const kvs: KeyValue[] = [];
        for (let i = 0; i < 12; i++) kvs.push(await s.create(`/p/${String(i).padStart(2, '0')}`, `v${i}`));
        const at = await s.currentRevision();
        const pages: KeyValue[] = [];
        let startKey: string | undefined;
        let step = 0;
        for (;;) {
          const page = await s.list({ prefix: '/p/', revision: at, limit: 5, startKey });
          assert.equal(page.revision, at);
          pages.push(...page.items);
          assert.equal(page.remaining, 12 - pages.length);
          if (page.remaining === 0) break;
          startKey = page.items[page.items.length - 1]!.key + '\u0000';
          // Writes between pages, before and after the cursor, must not show up.
          const victim = kvs[step * 5]!;
          await s.update(victim.key, 'changed', victim.modRevision);
          await s.delete(kvs[11 - step]!.key);
          await s.create(`/p/${String(step).padStart(2, '0')}-new`, 'new');
          step++;
        }
        assert.deepEqual(pages, kvs);
      }));

      it('count counts live keys under a prefix', withStore(async (s) => {
        assert.equal(await s.count('/c/'), 0);
        for (let i = 0; i < 5; i++) await s.create(`/c/${i}`, 'x');
        await s.create('/d/0', 'x');
        assert.equal(await s.count('/c/'), 5);
        await s.delete('/c/3');
        const kv = await s.get('/c/1');
        await s.update('/c/1', 'y', kv!.modRevision);
        assert.equal(await s.count('/c/'), 4);
        assert.equal(await s.count('/d/'), 1);
        assert.equal(await s.count('/e/'), 0);
      }));
    });

    describe('watch', () => {
      it('replays events after a past revision, then delivers live ones in order', withStore(async (s) => {
        const start = await s.currentRevision();
        const a = await s.create('/w/a', 'a1');
        await s.create('/w/b', 'b1');
        await s.update('/w/a', 'a2', a.modRevision);
        const rec = record(s, '/w/', start);
        await rec.until(3);
        await s.delete('/w/b');
        await s.create('/w/c', 'c1');
        const events = await rec.until(5);
        rec.watcher.stop();
        assert.deepEqual(
          events.map((e) => [e.type, e.key]),
          [['create', '/w/a'], ['create', '/w/b'], ['update', '/w/a'], ['delete', '/w/b'], ['create', '/w/c']],
        );
        for (let i = 1; i < events.length; i++) assert.ok(events[i]!.revision > events[i - 1]!.revision);
        assert.equal(events[events.length - 1]!.revision, await s.currentRevision());
      }));

      it('starts strictly after the given revision', withStore(async (s) => {
        await s.create('/w/a', '1');
        const b = await s.create('/w/b', '1');
        const rec = record(s, '/w/', b.modRevision - 1);
        const now = record(s, '/w/', b.modRevision);
        await s.create('/w/c', '1');
        assert.deepEqual((await rec.until(2)).map((e) => e.key), ['/w/b', '/w/c']);
        assert.deepEqual((await now.until(1)).map((e) => e.key), ['/w/c']);
        rec.watcher.stop();
        now.watcher.stop();
      }));

      it('filters by prefix', withStore(async (s) => {
        const start = await s.currentRevision();
        const pods = record(s, '/registry/pods/', start);
        const all = record(s, '/registry/', start);
        await s.create('/registry/podsecurity/x', '1');
        await s.create('/registry/pods/default/a', '1');
        await s.create('/registry/services/default/a', '1');
        await s.create('/registry/pods/default/b', '1');
        await all.until(4);
        assert.deepEqual((await pods.until(2)).map((e) => e.key), ['/registry/pods/default/a', '/registry/pods/default/b']);
        pods.watcher.stop();
        all.watcher.stop();
      }));

      it('carries values, prevValue and revisions on every event type', withStore(async (s) => {
        const start = await s.currentRevision();
        const rec = record(s, '/k', start);
        const created = await s.create('/k', 'v1');
        const updated = await s.update('/k', 'v2', created.modRevision);
        const deleted = await s.delete('/k');
        const [c, u, d] = await rec.until(3);
        rec.watcher.stop();
        assert.deepEqual(
          { ...c },
          { type: 'create', key: '/k', revision: created.modRevision, value: 'v1', createRevision: created.modRevision },
        );
        assert.equal(c!.prevValue, undefined);
        assert.equal(c!.prevRevision, undefined);
        assert.deepEqual(
          { ...u },
          {
            type: 'update',
            key: '/k',
            revision: updated.modRevision,
            value: 'v2',
            prevValue: 'v1',
            createRevision: created.modRevision,
            prevRevision: created.modRevision,
          },
        );
        assert.equal(d!.type, 'delete');
        assert.equal(d!.revision, deleted.modRevision);
        assert.equal(d!.value, 'v2', 'a delete event carries the last value');
        assert.equal(d!.prevValue, 'v2');
        assert.equal(d!.prevRevision, updated.modRevision);
        assert.equal(d!.createRevision, created.modRevision);
      }));

      it('replayed events carry the same fields as live ones', withStore(async (s) => {
        const start = await s.currentRevision();
        const live = record(s, '/k', start);
        const kv = await s.create('/k', 'v1');
        await s.update('/k', 'v2', kv.modRevision);
        await s.delete('/k');
        const liveEvents = await live.until(3);
        live.watcher.stop();
        const replay = record(s, '/k', start);
        const replayed = await replay.until(3);
        replay.watcher.stop();
        assert.deepEqual(replayed.map((e) => ({ ...e })), liveEvents.map((e) => ({ ...e })));
      }));

      it('delivers the same sequence to every watcher', withStore(async (s) => {
        const start = await s.currentRevision();
        const watchers = [record(s, '/m/', start), record(s, '/m/', start), record(s, '/m/', start)];
        let kv = await s.create('/m/x', '0');
        await s.create('/m/y', '0');
        for (let i = 1; i <= 5; i++) kv = await s.update('/m/x', String(i), kv.modRevision);
        await s.delete('/m/y');
        const sequences = await Promise.all(watchers.map((w) => w.until(8)));
        for (const w of watchers) w.watcher.stop();
        const summary = (events: StorageEvent[]) => events.map((e) => `${e.type} ${e.key} ${e.revision} ${e.value}`);
        assert.deepEqual(summary(sequences[1]!), summary(sequences[0]!));
        assert.deepEqual(summary(sequences[2]!), summary(sequences[0]!));
      }));

      it('stops a watcher whose handler throws, without affecting the others', withStore(async (s) => {
        const start = await s.currentRevision();
        const healthy = record(s, '/t/', start);
        let calls = 0;
        const failure = new Promise<Error>((resolve) => {
          s.watch('/t/', start, {
            onEvent() {
              calls++;
              throw new Error('handler broke');
            },
            onError: resolve,
          });
        });
        await s.create('/t/a', '1');
        await s.create('/t/b', '1');
        await s.create('/t/c', '1');
        assert.equal((await withDeadline(failure, 'onError of the throwing watcher')).message, 'handler broke');
        assert.equal((await healthy.until(3)).length, 3);
        healthy.watcher.stop();
        assert.equal(calls, 1, 'no events after the handler threw');
      }));

      it('stop() ends delivery', withStore(async (s) => {
        const start = await s.currentRevision();
        const stopped = record(s, '/s/', start);
        const barrier = record(s, '/s/', start);
        await s.create('/s/a', '1');
        await stopped.until(1);
        stopped.watcher.stop();
        stopped.watcher.stop(); // idempotent
        await s.create('/s/b', '1');
        await s.create('/s/c', '1');
        await barrier.until(3);
        barrier.watcher.stop();
        assert.equal(stopped.events.length, 1);
      }));

      it('a watcher stopped before its replay receives nothing', withStore(async (s) => {
        const start = await s.currentRevision();
        await s.create('/s/a', '1');
        const stopped = record(s, '/s/', start);
        stopped.watcher.stop();
        const barrier = record(s, '/s/', start);
        await s.create('/s/b', '1');
        await barrier.until(2);
        barrier.watcher.stop();
        assert.equal(stopped.events.length, 0);
      }));
    });

    describe('compaction', () => {
      /** Writes some history and compacts in the middle of it. */
      async function compactedStore(s: Storage): Promise<{ before: number; at: number; kept: KeyValue[] }> {
        let a = await s.create('/c/a', 'a0');
        const before = a.modRevision;
        let b = await s.create('/c/b', 'b0');
        await s.create('/c/gone', 'x');
        a = await s.update('/c/a', 'a1', a.modRevision);
        await s.delete('/c/gone');
        const at = await s.currentRevision();
        b = await s.update('/c/b', 'b1', b.modRevision);
        const c = await s.create('/c/c', 'c0');
        await s.compact(at);
        return { before, at, kept: [a, b, c] };
      }

      it('reports the compacted revision', withStore(async (s) => {
        const { at } = await compactedStore(s);
        assert.ok((await s.compactedRevision()) >= at);
        assert.ok((await s.compactedRevision()) <= (await s.currentRevision()));
      }));

      it('keeps the latest values and the state at the compacted revision', withStore(async (s) => {
        const { at, kept } = await compactedStore(s);
        assert.deepEqual((await s.list({ prefix: '/c/' })).items, kept);
        assert.deepEqual(
          (await s.list({ prefix: '/c/', revision: at })).items.map((kv) => [kv.key, kv.value]),
          [['/c/a', 'a1'], ['/c/b', 'b0']],
        );
        assert.equal((await s.get('/c/a', at))?.value, 'a1');
        assert.equal(await s.get('/c/gone', at), undefined);
        assert.equal(await s.count('/c/'), 3);
        const updated = await s.update('/c/a', 'a2', kept[0]!.modRevision);
        assert.ok(updated.modRevision > (await s.compactedRevision()));
      }));

      it('rejects reads below the compacted revision with Compacted', withStore(async (s) => {
        const { before } = await compactedStore(s);
        await expectStorageError(s.get('/c/a', before), 'Compacted');
        await expectStorageError(s.list({ prefix: '/c/', revision: before }), 'Compacted');
      }));

      it('rejects a watch from below the compacted revision with Compacted', withStore(async (s) => {
        const { before } = await compactedStore(s);
        const compacted = await s.compactedRevision();
        const error = await watchError(s, '/c/', before);
        assert.ok(error instanceof StorageError && error.code === 'Compacted', `expected Compacted, got ${String(error)}`);
        const error2 = await watchError(s, '/c/', compacted - 1);
        assert.ok(error2 instanceof StorageError && error2.code === 'Compacted', `expected Compacted, got ${String(error2)}`);
      }));

      it('still replays events after the compacted revision', withStore(async (s) => {
        await compactedStore(s);
        const compacted = await s.compactedRevision();
        const rec = record(s, '/c/', compacted);
        const current = await s.currentRevision();
        const events = current > compacted ? await rec.until(current - compacted) : [];
        rec.watcher.stop();
        for (const e of events) assert.ok(e.revision > compacted);
        const update = events.find((e) => e.type === 'update');
        if (update) assert.equal(update.prevValue, 'b0', 'prevValue survives for events after the compaction');
      }));

      it('accepts compacting to an already compacted revision', withStore(async (s) => {
        const { at } = await compactedStore(s);
        await s.compact(at);
        await s.compact(at - 1);
        assert.ok((await s.compactedRevision()) >= at);
      }));
    });

    describe('concurrency', () => {
      it('concurrent creates of one key: exactly one wins', withStore(async (s) => {
        const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => s.create('/race', `v${i}`)));
        const won = results.filter((r) => r.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const r of results) if (r.status === 'rejected') assertStorageError(r.reason, 'KeyExists');
        assert.deepEqual(await s.get('/race'), (won[0] as PromiseFulfilledResult<KeyValue>).value);
      }));

      it('concurrent updates with the same expected revision: exactly one wins per revision', withStore(async (s) => {
        let kv = await s.create('/race', 'start');
        for (let round = 0; round < 5; round++) {
          const results = await Promise.allSettled(
            Array.from({ length: 20 }, (_, i) => s.update('/race', `r${round}-${i}`, kv.modRevision)),
          );
          const won = results.filter((r): r is PromiseFulfilledResult<KeyValue> => r.status === 'fulfilled');
          assert.equal(won.length, 1, `round ${round}`);
          for (const r of results) if (r.status === 'rejected') assertStorageError(r.reason, 'Conflict');
          kv = won[0]!.value;
          assert.deepEqual(await s.get('/race'), kv);
        }
      }));

      it('concurrent writes to many keys get distinct revisions', withStore(async (s) => {
        const created = await Promise.all(Array.from({ length: 100 }, (_, i) => s.create(`/many/${i}`, String(i))));
        const updated = await Promise.all(created.map((kv) => s.update(kv.key, 'u', kv.modRevision)));
        const revisions = [...created, ...updated].map((kv) => kv.modRevision);
        assert.equal(new Set(revisions).size, revisions.length);
        assert.equal(await s.currentRevision(), Math.max(...revisions));
        assert.equal(await s.count('/many/'), 100);
        for (const kv of updated) assert.deepEqual(await s.get(kv.key), kv);
      }));

      it('concurrent delete and update of one key: the loser sees the winner', withStore(async (s) => {
        const kv = await s.create('/dk', 'v');
        const [del, upd] = await Promise.allSettled([s.delete('/dk', kv.modRevision), s.update('/dk', 'v2', kv.modRevision)]);
        const outcomes = [del.status, upd.status].sort();
        assert.deepEqual(outcomes, ['fulfilled', 'rejected']);
        const current = await s.get('/dk');
        if (del.status === 'fulfilled') {
          assert.equal(current, undefined);
          assertStorageError((upd as PromiseRejectedResult).reason, 'NotFound');
        } else {
          assert.equal(current?.value, 'v2');
          assertStorageError(del.reason, 'Conflict');
        }
      }));
    });

    describe('close', () => {
      it('rejects calls after close with Closed', async () => {
        const { storage: s, cleanup } = await open();
        try {
          await s.create('/k', 'v');
          await s.close();
          await expectStorageError(s.get('/k'), 'Closed');
          await expectStorageError(s.create('/k2', 'v'), 'Closed');
          await expectStorageError(s.list({ prefix: '/' }), 'Closed');
        } finally {
          await cleanup();
        }
      });
    });
  });
}

/** A watch that records its events, with a way to wait for the first n of them. */
interface Recording {
  events: StorageEvent[];
  watcher: Watcher;
  /** Resolves with the first n events, or fails after WAIT_MS or on a watch error. */
  until(n: number): Promise<StorageEvent[]>;
}

function record(s: Storage, prefix: string, afterRevision: number): Recording {
  const events: StorageEvent[] = [];
  let error: Error | undefined;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };
  const watcher = s.watch(prefix, afterRevision, {
    onEvent(event) {
      events.push(event);
      wake();
    },
    onError(e) {
      error = e;
      wake();
    },
  });
  const until = (n: number) =>
    new Promise<StorageEvent[]>((resolve, reject) => {
      const check = () => {
        if (events.length >= n) {
          done();
          resolve(events.slice(0, n));
        } else if (error) {
          done();
          reject(error);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`watch ${prefix}: ${events.length} of ${n} events after ${WAIT_MS} ms`));
      }, WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });
  return { events, watcher, until };
}

/** The error a watch ends with, whether watch() throws it or reports it through onError. */
async function watchError(s: Storage, prefix: string, afterRevision: number): Promise<unknown> {
  let watcher: Watcher | undefined;
  try {
    const reported = new Promise<Error>((resolve) => {
      watcher = s.watch(prefix, afterRevision, { onEvent() {}, onError: resolve });
    });
    return await withDeadline(reported, `error of watch ${prefix} from ${afterRevision}`);
  } catch (error) {
    return error;
  } finally {
    watcher?.stop();
  }
}

async function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function assertStorageError(error: unknown, code: StorageErrorCode): asserts error is StorageError {
  assert.ok(error instanceof StorageError, `expected StorageError ${code}, got ${String(error)}`);
  assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
}

async function expectStorageError(promise: Promise<unknown>, code: StorageErrorCode): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    assertStorageError(error, code);
    return error;
  }
  assert.fail(`expected StorageError ${code}, but the call succeeded`);
}
