/**
 * Storage benchmarks and the floor beneath them: how many durable writes per
 * second plain SQLite can do on this disk (one fsync'd transaction per
 * insert), against how many creates per second SqliteStorage acknowledges.
 */
import Database from 'better-sqlite3';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import type { KeyValue } from '../src/storage/interface.js';

/** A ~1 KB JSON value, like a small Kubernetes object. */
export function benchValue(i: number): string {
  return JSON.stringify({ kind: 'ConfigMap', metadata: { name: `object-${i}` }, data: { blob: 'x'.repeat(960) } });
}

/**
 * The floor: plain better-sqlite3 in WAL mode with synchronous=FULL, one
 * INSERT of a ~1 KB value per transaction. Returns inserts per second.
 */
export function measureRawDurableInsertsPerSecond(dir: string, seconds = 2): number {
  const db = new Database(join(dir, 'raw-floor.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec('CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL)');
    const insert = db.prepare<[string, string]>('INSERT INTO kv (key, value) VALUES (?, ?)');
    const deadline = performance.now() + seconds * 1000;
    const start = performance.now();
    let n = 0;
    // In autocommit mode each run() is its own transaction: one WAL fsync each.
    while (performance.now() < deadline) {
      insert.run(`/raw/${n}`, benchValue(n));
      n++;
    }
    return n / ((performance.now() - start) / 1000);
  } finally {
    db.close();
  }
}

/** SqliteStorage creates of ~1 KB values from 64 concurrent writers. Returns acknowledged creates per second. */
export async function measureStorageCreatesPerSecond(dir: string, seconds = 2, writers = 64): Promise<number> {
  const storage = SqliteStorage.open(join(dir, 'storage-creates.db'));
  try {
    const start = performance.now();
    const deadline = start + seconds * 1000;
    let n = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < deadline) {
          const i = n++;
          await storage.create(`/registry/configmaps/bench/object-${i}`, benchValue(i));
        }
      }),
    );
    return n / ((performance.now() - start) / 1000);
  } finally {
    await storage.close();
  }
}

/** What {@link measureCompactionBound} found. */
export interface CompactionBound {
  objects: number;
  updates: number;
  seconds: number;
  /** Bytes of keys and values of the live objects at the end. */
  liveBytes: number;
  /** Database file plus WAL at the end. */
  fileBytes: number;
  /** Largest database + WAL size sampled during the run. */
  peakFileBytes: number;
  ratio: number;
  peakRatio: number;
}

/**
 * Updates `objects` ~1 KB objects `updates` times in total (50 concurrent
 * writers, automatic compaction at its defaults) and measures the file size
 * against the live data size.
 */
export async function measureCompactionBound(dir: string, objects = 1000, updates = 100_000): Promise<CompactionBound> {
  const path = join(dir, 'compaction-bound.db');
  const size = (p: string) => (existsSync(p) ? statSync(p).size : 0);
  const fileBytes = () => size(path) + size(`${path}-wal`);
  const storage = SqliteStorage.open(path);
  try {
    const start = performance.now();
    const current: KeyValue[] = await Promise.all(
      Array.from({ length: objects }, (_, i) => storage.create(`/registry/configmaps/bench/object-${i}`, benchValue(i))),
    );
    let done = 0;
    let peakFileBytes = 0;
    // 50 concurrent writers, each updating its own 20 objects round-robin (so no CAS conflicts).
    const writers = 50;
    const perWriter = Math.ceil(objects / writers);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let n = 0; n < Math.ceil(updates / writers); n++) {
          const i = Math.min(objects - 1, w * perWriter + (n % perWriter));
          const kv = current[i]!;
          current[i] = await storage.update(kv.key, benchValue(i + n), kv.modRevision);
          if (++done % 5000 === 0) peakFileBytes = Math.max(peakFileBytes, fileBytes());
        }
      }),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    await storage.compact(await storage.compactedRevision()); // waits for a running automatic compaction
    const seconds = (performance.now() - start) / 1000;
    const live = await storage.list({ prefix: '/registry/configmaps/bench/' });
    const liveBytes = live.items.reduce((n, kv) => n + Buffer.byteLength(kv.key) + Buffer.byteLength(kv.value), 0);
    const end = fileBytes();
    peakFileBytes = Math.max(peakFileBytes, end);
    return {
      objects,
      updates,
      seconds,
      liveBytes,
      fileBytes: end,
      peakFileBytes,
      ratio: end / liveBytes,
      peakRatio: peakFileBytes / liveBytes,
    };
  } finally {
    await storage.close();
  }
}
