/**
 * A witness for disk noise: while a latency benchmark runs, this separate
 * process does one fsync'd SQLite insert every `--interval-ms` (default 50)
 * for `--seconds` (after printing `ready`) and prints one JSON line with the slowest of them. A write
 * p99 that misses its aim while this probe saw a stall of the same size is
 * the disk's doing, not the server's. Usage:
 *   node dist/bench/disk-probe.js --dir DIR [--seconds 10] [--interval-ms 50]
 */
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** What the probe prints. */
export interface DiskProbeResult {
  samples: number;
  p50Ms: number;
  maxMs: number;
  /** Inserts slower than 20 ms. */
  over20Ms: number;
}

const { values } = parseArgs({ options: { dir: { type: 'string' }, seconds: { type: 'string' }, 'interval-ms': { type: 'string' } }, strict: true });
if (!values.dir) throw new Error('--dir is required');
const seconds = Number(values.seconds ?? 10);
const interval = Number(values['interval-ms'] ?? 50);
const db = new Database(join(values.dir, 'disk-probe.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, value TEXT NOT NULL)');
const insert = db.prepare<[string]>('INSERT INTO probe (value) VALUES (?)');
const value = 'x'.repeat(1000);
const times: number[] = [];
process.stdout.write('ready\n');
const end = performance.now() + seconds * 1000;
for (let i = 0; i < 100_000 && performance.now() < end; i++) {
  const t = performance.now();
  insert.run(value);
  times.push(performance.now() - t);
  await new Promise((resolve) => setTimeout(resolve, interval));
}
db.close();
times.sort((a, b) => a - b);
const result: DiskProbeResult = {
  samples: times.length,
  p50Ms: times[Math.floor(times.length / 2)] ?? NaN,
  maxMs: times[times.length - 1] ?? NaN,
  over20Ms: times.filter((t) => t > 20).length,
};
process.stdout.write(JSON.stringify(result) + '\n');
