/**
 * Storage benchmark: SqliteStorage creates/s against the raw durable insert
 * floor measured in the same run, and the file-size bound under compaction.
 * Run with `node dist/bench/storage.js [seconds]`; bench/run-all.ts imports
 * {@link runStorageBench}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { measureCompactionBound, measureRawDurableInsertsPerSecond, measureStorageCreatesPerSecond, type CompactionBound } from './storage-floor.js';
import { machineLine, markdownTable, type BenchRow } from './report.js';

/** Figures of one storage benchmark run. */
export interface StorageBenchResult {
  rawInsertsPerSecond: number;
  storageCreatesPerSecond: number;
  bound: CompactionBound;
}

/** Runs the storage benchmark in a temporary directory (removed afterwards). */
export async function runStorageBench(seconds = 2): Promise<StorageBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pilote-bench-storage-'));
  try {
    const rawInsertsPerSecond = measureRawDurableInsertsPerSecond(dir, seconds);
    const storageCreatesPerSecond = await measureStorageCreatesPerSecond(dir, seconds);
    const bound = await measureCompactionBound(dir);
    return { rawInsertsPerSecond, storageCreatesPerSecond, bound };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The storage figures as report rows. */
export function storageRows(result: StorageBenchResult): BenchRow[] {
  const { bound } = result;
  const mb = (n: number) => n / 1024 / 1024;
  return [
    {
      metric: 'SqliteStorage creates/s (1 KB, 64 writers, in-process)',
      value: result.storageCreatesPerSecond,
      unit: '/s',
      floor: result.rawInsertsPerSecond,
      floorName: 'raw SQLite durable inserts, 1 txn each',
    },
    {
      metric: `compaction: ${bound.updates} updates to ${bound.objects} objects, file at end (db + wal)`,
      value: mb(bound.fileBytes),
      unit: 'MB',
      floor: mb(bound.liveBytes),
      floorName: 'live keys + values',
    },
    { metric: 'compaction: peak file (db + wal)', value: mb(bound.peakFileBytes), unit: 'MB', floor: mb(bound.liveBytes), floorName: 'live keys + values' },
    { metric: 'compaction: updates/s (50 writers)', value: bound.updates / bound.seconds, unit: '/s' },
  ];
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 2);
  console.log(`storage benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  const result = await runStorageBench(seconds);
  console.log(markdownTable(storageRows(result)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
