/**
 * Storage benchmark: SqliteStorage creates/s against the raw durable insert
 * floor measured in the same run, and the file-size bound under compaction.
 * Run with `node dist/bench/storage.js [seconds]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { measureCompactionBound, measureRawDurableInsertsPerSecond, measureStorageCreatesPerSecond } from './storage-floor.js';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 2);
  const dir = mkdtempSync(join(tmpdir(), 'pilote-bench-storage-'));
  try {
    console.log(`storage benchmark — ${new Date().toISOString()} — ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}, ${dir}`);
    const floor = measureRawDurableInsertsPerSecond(dir, seconds);
    const creates = await measureStorageCreatesPerSecond(dir, seconds);
    console.log(`raw durable inserts/s (1 KB, 1 txn each): ${floor.toFixed(0)}`);
    console.log(`SqliteStorage creates/s (64 writers):      ${creates.toFixed(0)}`);
    console.log(`ratio storage / floor:                     ${(creates / floor).toFixed(2)}×`);

    const bound = await measureCompactionBound(dir);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(2)} MB`;
    console.log(
      `compaction bound: ${bound.updates} updates to ${bound.objects} objects in ${bound.seconds.toFixed(1)} s ` +
        `(${(bound.updates / bound.seconds).toFixed(0)} updates/s)`,
    );
    console.log(`  live data ${mb(bound.liveBytes)}, file (db + wal) ${mb(bound.fileBytes)}, ratio ${bound.ratio.toFixed(2)}×`);
    console.log(`  peak file ${mb(bound.peakFileBytes)}, peak ratio ${bound.peakRatio.toFixed(2)}×`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
