/**
 * Layer hashing benchmark: throughput (MB/s) of the image store's streaming
 * sha256 over a ~200 MB file, next to `sha256sum` on the same file (the floor),
 * plus the store's whole layer ingest (sha256 of the tar + gzip + sha256 of the
 * blob + write) and gzip alone. Run with `node dist/bench/image-hash.js [MB]`;
 * {@link runImageHashBench} is importable by bench/run-all.ts.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { HashingPassThrough, ImageStore } from '../src/image/store.js';
import { machineLine, markdownTable, type BenchRow } from './report.js';

/** Figures of one run, in MB/s (1 MB = 2^20 bytes). */
export interface ImageHashBenchResult {
  megabytes: number;
  storeSha256: number;
  sha256sum: number;
  gzipOnly: number;
  layerIngest: number;
}

/** A file that compresses like a real layer: half random bytes, half repetitive text. */
function writeLayerLikeFile(path: string, megabytes: number): void {
  const fd = openSync(path, 'w');
  const text = Buffer.from('usr/share/doc/example/changelog: fixed a bug in the frobnicator; '.repeat(16384)).subarray(0, 512 * 1024);
  try {
    for (let i = 0; i < megabytes; i++) {
      writeSync(fd, randomBytes(512 * 1024));
      writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
}

function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, callback) => callback() });
}

/** Best of `runs` timings of `fn`, in seconds (the first run also warms the page cache). */
async function bestSeconds(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, (performance.now() - start) / 1000);
  }
  return best;
}

/** Runs the benchmark on a `megabytes` MB file in a temporary directory (removed afterwards). */
export async function runImageHashBench(megabytes = 200): Promise<ImageHashBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pilote-bench-image-'));
  try {
    const file = join(dir, 'layer.tar');
    writeLayerLikeFile(file, megabytes);
    const rate = (seconds: number) => megabytes / seconds;
    const sha256sum = rate(await bestSeconds(3, () => execFileSync('sha256sum', [file])));
    const storeSha256 = rate(await bestSeconds(3, async () => {
      const hash = new HashingPassThrough();
      await pipeline(createReadStream(file), hash, discard());
      hash.digest();
    }));
    const gzipOnly = rate(await bestSeconds(2, () => pipeline(createReadStream(file), createGzip({ level: zlibConstants.Z_BEST_SPEED }), discard())));
    const layerIngest = rate(await bestSeconds(2, async () => {
      const storeDir = join(dir, `store-${Math.random()}`);
      await ImageStore.open(storeDir).addLayerFromTar(file);
      rmSync(storeDir, { recursive: true, force: true });
    }));
    return { megabytes, storeSha256, sha256sum, gzipOnly, layerIngest };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as report rows. */
export function imageHashRows(result: ImageHashBenchResult): BenchRow[] {
  const floor = { floor: result.sha256sum, floorName: 'sha256sum, same file' };
  return [
    { metric: `layer sha256, store's streaming hash (${result.megabytes} MB)`, value: result.storeSha256, unit: 'MB/s', ...floor, aim: { op: '>=floor×', factor: 0.7 } },
    { metric: 'gzip alone (level 1, as the store compresses layers)', value: result.gzipOnly, unit: 'MB/s', ...floor },
    { metric: 'layer ingest: sha256 + gzip + sha256 + write (addLayerFromTar)', value: result.layerIngest, unit: 'MB/s', ...floor },
  ];
}

async function main(): Promise<void> {
  const megabytes = Number(process.argv[2] ?? 200);
  console.log(`image hashing benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(markdownTable(imageHashRows(await runImageHashBench(megabytes))));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
