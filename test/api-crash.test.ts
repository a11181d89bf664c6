/**
 * Crash safety of the whole API server: 16 concurrent HTTPS writers create
 * and update ConfigMaps; the server process is killed with SIGKILL while
 * writes are in flight; on restart over the same data directory every
 * acknowledged write must be there, the store must be consistent (list ==
 * gets, unique resourceVersions, list revision ≥ items, cache == storage),
 * and writes must work again. Three kill cycles on the same data directory.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster } from './helpers/cluster.js';
import type { ApiClient } from './helpers/api-client.js';

const CYCLES = 3;
const WRITERS = 16;
const NAMESPACE = 'crash';
const PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps`;

/** What the test knows of one ConfigMap. */
interface Known {
  /** The last acknowledged write: its resourceVersion and value. */
  acked?: { rv: number; value: string };
  /** Values written after the last ack whose outcome is unknown (in flight when the server died). */
  unknown: string[];
}

interface Item {
  metadata: { name: string; resourceVersion: string; uid: string };
  data?: { value?: string };
}

/** One acknowledged write. */
interface Ack {
  name: string;
  rv: number;
  value: string;
}

/** Runs the writers until `killAfter` acks, then kills the server with SIGKILL while writes are in flight. Returns the acks. */
async function writeAndKill(cluster: TestCluster, api: ApiClient, known: Map<string, Known>, cycle: number, killAfter: number): Promise<Ack[]> {
  const acked: Ack[] = [];
  let acks = 0;
  let killed = false;
  const errors: string[] = [];
  const exited = new Promise<void>((resolve) => cluster.process.once('exit', () => resolve()));
  // Names are c<cycle>-w<writer>-<seq>: each writer owns its names, so no two writes to a name are ever in flight.
  const ownedBy = (w: number) => [...known.keys()].filter((name) => name.includes(`-w${w}-`));

  const writer = async (w: number): Promise<void> => {
    const names = ownedBy(w);
    for (let seq = 0; !killed; seq++) {
      const value = `c${cycle}-w${w}-s${seq}`;
      const create = names.length < 3 || Math.random() < 0.25;
      const name = create ? `c${cycle}-w${w}-${seq}` : names[Math.floor(Math.random() * names.length)]!;
      const entry = known.get(name) ?? { unknown: [] };
      known.set(name, entry);
      entry.unknown.push(value);
      let res;
      try {
        if (create) {
          res = await api.post(PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { writer: String(w) } }, data: { value } });
        } else if (seq % 2 === 0) {
          // An unconditional PUT (no resourceVersion): this writer owns the name, so it cannot conflict.
          res = await api.put(`${PATH}/${name}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { writer: String(w) } }, data: { value } });
        } else {
          res = await api.patch(`${PATH}/${name}`, { data: { value } }, 'application/merge-patch+json');
        }
      } catch (error) {
        // Connection reset or refused: only expected once the server is gone; the outcome stays unknown.
        if (!killed) errors.push(`${name}: ${(error as Error).message}`);
        return;
      }
      if (res.status !== 200 && res.status !== 201) {
        if (!killed) errors.push(`${name}: ${res.status} ${res.text}`);
        return;
      }
      assert.equal(res.json.data.value, value);
      entry.acked = { rv: Number(res.json.metadata.resourceVersion), value };
      entry.unknown = [];
      if (create) names.push(name);
      acked.push({ name, value, rv: entry.acked.rv });
      acks++;
      if (!killed && acks >= killAfter) {
        killed = true;
        cluster.process.kill('SIGKILL');
      }
    }
  };

  const deadline = setTimeout(() => {
    if (!killed) {
      killed = true;
      errors.push(`only ${acks} acks in 20 s`);
      cluster.process.kill('SIGKILL');
    }
  }, 20_000);
  await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
  clearTimeout(deadline);
  await exited;
  await cluster.stop({ keepData: true, signal: 'SIGKILL' });
  assert.deepEqual(errors, [], 'no write failed before the kill');
  return acked;
}

/**
 * Checks every acknowledged write and the store's consistency; folds what the store shows into
 * `known`. Returns how many writes had an unknown outcome and how many of those landed.
 */
async function verify(api: ApiClient, known: Map<string, Known>): Promise<{ inFlight: number; landed: number }> {
  const list = await api.get(PATH);
  assert.equal(list.status, 200, list.text);
  const items = list.json.items as Item[];
  const listRv = Number(list.json.metadata.resourceVersion);
  const byName = new Map(items.map((item) => [item.metadata.name, item]));

  // Every acknowledged write is there: at its revision with its value, or overwritten by a later (unacknowledged) write.
  let checked = 0;
  for (const [name, entry] of known) {
    const item = byName.get(name);
    if (!entry.acked) {
      // Never acknowledged: it may exist (the create committed) or not, but only with a value that was sent.
      if (item) assert.ok(entry.unknown.includes(item.data?.value ?? ''), `${name} has a value never written: ${JSON.stringify(item)}`);
      continue;
    }
    checked++;
    assert.ok(item, `acknowledged ${name}@${entry.acked.rv} (${entry.acked.value}) is missing`);
    const rv = Number(item.metadata.resourceVersion);
    const value = item.data?.value ?? '';
    if (value === entry.acked.value) {
      assert.equal(rv, entry.acked.rv, `${name} holds the acknowledged value at another revision`);
    } else {
      assert.ok(entry.unknown.includes(value), `${name} lost its acknowledged value ${entry.acked.value}@${entry.acked.rv}: now ${value}@${rv}`);
      assert.ok(rv > entry.acked.rv, `${name} went back in revisions: ${rv} < ${entry.acked.rv}`);
    }
  }
  assert.ok(checked > 0);
  for (const item of items) assert.ok(known.has(item.metadata.name), `unexpected object ${item.metadata.name}`);

  // Consistency: unique revisions, list revision covers the items, list == gets, cache == storage.
  const rvs = items.map((item) => Number(item.metadata.resourceVersion));
  assert.equal(new Set(rvs).size, rvs.length, 'resourceVersions are unique');
  assert.ok(listRv >= Math.max(...rvs), `list resourceVersion ${listRv} < newest item ${Math.max(...rvs)}`);
  const gets = await Promise.all(items.map((item) => api.get(`${PATH}/${item.metadata.name}`)));
  gets.forEach((got, i) => {
    assert.equal(got.status, 200, got.text);
    assert.deepEqual({ ...got.json, kind: undefined, apiVersion: undefined }, { ...items[i], kind: undefined, apiVersion: undefined });
  });
  const fromStorage = await api.get(`${PATH}?resourceVersion=${listRv}&resourceVersionMatch=Exact`);
  assert.equal(fromStorage.status, 200, fromStorage.text);
  assert.deepEqual(fromStorage.json.items, items, 'the watch cache and storage agree');

  // What survived is now durable and observed: it becomes the acknowledged state.
  const outcome = { inFlight: 0, landed: 0 };
  for (const [name, entry] of known) {
    const item = byName.get(name);
    outcome.inFlight += entry.unknown.length;
    if (item && entry.unknown.includes(item.data?.value ?? '')) outcome.landed++;
    if (item) entry.acked = { rv: Number(item.metadata.resourceVersion), value: item.data?.value ?? '' };
    else if (!entry.acked) known.delete(name);
    entry.unknown = [];
  }
  return outcome;
}

describe('API server crash safety', () => {
  it(`keeps every acknowledged write across ${CYCLES} kill -9 cycles with ${WRITERS} concurrent writers`, { timeout: 60_000 }, async (t) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pilote-crash-'));
    const known = new Map<string, Known>();
    let lastAcks: Ack[] = [];
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        const cluster = await TestCluster.start({ dataDir });
        const api = cluster.client();
        try {
          if (cycle === 1) {
            const ns = await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
            assert.equal(ns.status, 201, ns.text);
          } else {
            const { inFlight, landed } = await verify(api, known);
            assert.ok(inFlight > 0, 'the server was killed with writes in flight');
            t.diagnostic(`restart ${cycle - 1}: ${known.size} objects checked; ${inFlight} writes were in flight at the kill, ${landed} of them landed`);
          }
          const killAfter = 200 + Math.floor(Math.random() * 200);
          const acks = await writeAndKill(cluster, api, known, cycle, killAfter);
          assert.ok(acks.length >= killAfter, `cycle ${cycle}: ${acks.length} acks`);
          lastAcks = acks;
        } finally {
          api.close();
          if (cluster.process.exitCode === null && cluster.process.signalCode === null) await cluster.stop({ keepData: true, signal: 'SIGKILL' });
        }
      }

      // The last restart: everything is there, and the server takes writes again.
      const cluster = await TestCluster.start({ dataDir });
      const api = cluster.client();
      try {
        const { inFlight, landed } = await verify(api, known);
        assert.ok(inFlight > 0, 'the server was killed with writes in flight');
        t.diagnostic(`restart ${CYCLES}: ${known.size} objects checked; ${inFlight} writes were in flight at the kill, ${landed} of them landed`);

        // A client resuming its watch from before the crash gets every acknowledged write since, in order
        // (replayed from storage: the restarted watch cache has no history yet), then live events.
        const from = lastAcks[Math.floor(lastAcks.length / 2)]!.rv;
        const expected = lastAcks.filter((ack) => ack.rv > from).sort((a, b) => a.rv - b.rv);
        const watch = await api.watch(`${PATH}?watch=true&resourceVersion=${from}`);
        try {
          assert.equal(watch.status, 200);
          const seen = new Map<number, { name: string; value: string }>();
          const target = expected[expected.length - 1]!.rv;
          for (let last = from; last < target; ) {
            const event = await watch.next(5000);
            assert.ok(event, `watch replay stopped after ${seen.size} events`);
            const rv = Number(event.object.metadata.resourceVersion);
            assert.ok(rv > last, `events in order: ${rv} after ${last}`);
            last = rv;
            seen.set(rv, { name: event.object.metadata.name, value: event.object.data?.value });
          }
          for (const ack of expected) {
            assert.deepEqual(seen.get(ack.rv), { name: ack.name, value: ack.value }, `acked write ${ack.name}@${ack.rv} replayed`);
          }
          const live = await api.patch(`${PATH}/${expected[0]!.name}`, { data: { value: 'live' } }, 'application/merge-patch+json');
          assert.equal(live.status, 200, live.text);
          for (;;) {
            const event = await watch.next(5000);
            assert.ok(event, 'the live event after the replay');
            if (event.object.metadata.resourceVersion === live.json.metadata.resourceVersion) {
              assert.equal(event.type, 'MODIFIED');
              break;
            }
          }
          known.get(expected[0]!.name)!.acked = { rv: Number(live.json.metadata.resourceVersion), value: 'live' };
        } finally {
          watch.close();
        }
        const created = await api.post(PATH, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-crash' }, data: { value: 'a' } });
        assert.equal(created.status, 201, created.text);
        const updated = await api.put(`${PATH}/after-crash`, { ...created.json, data: { value: 'b' } });
        assert.equal(updated.status, 200, updated.text);
        assert.ok(Number(updated.json.metadata.resourceVersion) > Number(created.json.metadata.resourceVersion));
        const anyAcked = [...known.keys()][0]!;
        const patched = await api.patch(`${PATH}/${anyAcked}`, { data: { value: 'patched' } }, 'application/merge-patch+json');
        assert.equal(patched.status, 200, patched.text);
        const deleted = await api.delete(`${PATH}/after-crash`);
        assert.equal(deleted.status, 200, deleted.text);
        const list = await api.get(PATH);
        assert.equal(list.json.items.length, known.size);
        // The system objects made by bootstrap survived the kills too.
        assert.equal((await api.get('/api/v1/namespaces/default/services/kubernetes')).status, 200);
      } finally {
        api.close();
        await cluster.stop({ keepData: true });
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
