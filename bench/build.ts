/**
 * Build benchmark: `pilote build` of the tutorial's busybox image (FROM
 * scratch / ADD busybox.tar.xz / CMD ["sh"]) cold (empty store) and warm
 * (every layer cached), a RUN step in runc, and layer hashing throughput —
 * each beside its floor measured in the same run:
 * - cold: what the build must do at least, in shell tools: `tar -xJf` of
 *   the archive + `tar -c | gzip -1 | sha256sum` of the tree;
 * - warm: `sha256sum` of the build context (a cache hit must at least hash it);
 * - RUN: a bare `runc run` of `true` on the same rootfs;
 * - layer hashing: `sha256sum` of the same tar file.
 * Run with `node dist/bench/build.js`; needs root, runc and busybox-static.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ImageStore } from '../src/image/store.js';
import { build } from '../src/image/build/builder.js';
import { buildRuntimeConfig } from '../src/image/build/run.js';
import { machineLine, markdownTable, percentile, type BenchRow } from './report.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function seconds(fn: () => void): number {
  const start = performance.now();
  fn();
  return (performance.now() - start) / 1000;
}

async function secondsAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const median = (values: number[]) => percentile(values, 50);

/** Runs the build benchmark in a temporary directory (removed afterwards). */
export async function runBuildBench(rounds = 5): Promise<BenchRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'pilote-bench-build-'));
  const quiet = () => undefined;
  try {
    const ctx = join(work, 'busybox');
    mkdirSync(ctx);
    cpSync(join(REPO, 'examples/images/busybox/Dockerfile'), join(ctx, 'Dockerfile'));
    execFileSync('sh', [join(REPO, 'examples/images/busybox/make-rootfs.sh'), join(ctx, 'busybox.tar.xz')], { stdio: 'ignore' });
    const archive = join(ctx, 'busybox.tar.xz');

    const cold: number[] = [];
    const coldFloor: number[] = [];
    let store: ImageStore | undefined;
    for (let i = 0; i < rounds; i++) {
      const dir = join(work, `store-${i}`);
      store = ImageStore.open(dir);
      const s = store;
      cold.push(await secondsAsync(() => build({ contextDir: ctx, tags: ['busybox:latest'], store: s, progress: quiet })));
      const tree = join(work, `floor-${i}`);
      mkdirSync(tree);
      coldFloor.push(seconds(() => execFileSync('sh', ['-c', `tar -xJf ${archive} -C ${tree} && tar -C ${tree} -cf - . | gzip -1 | sha256sum >/dev/null`])));
    }
    const warm: number[] = [];
    const warmFloor: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const s = store as ImageStore;
      warm.push(await secondsAsync(() => build({ contextDir: ctx, tags: ['busybox:latest'], store: s, progress: quiet })));
      warmFloor.push(seconds(() => execFileSync('sh', ['-c', `sha256sum ${ctx}/Dockerfile ${archive} >/dev/null`])));
    }

    // A RUN step (cache off) beside a bare runc run of `true` on the same rootfs.
    const runCtx = join(work, 'run');
    mkdirSync(runCtx);
    writeFileSync(join(runCtx, 'Dockerfile'), 'FROM busybox\nRUN echo hello > /hello\n');
    const runStep: number[] = [];
    const runFloor: number[] = [];
    const rootfs = join(work, 'floor-0');
    chmodSync(rootfs, 0o755);
    const bundle = join(work, 'bundle');
    mkdirSync(bundle);
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildRuntimeConfig({ rootfs, args: ['/bin/true'], env: [], cwd: '/', output: quiet }, 'bench')));
    for (let i = 0; i < rounds; i++) {
      const s = store as ImageStore;
      const result = await build({ contextDir: runCtx, store: s, noCache: true, progress: quiet });
      runStep.push(result.steps.find((step) => step.text.startsWith('RUN'))!.seconds);
      runFloor.push(seconds(() => execFileSync('runc', ['run', '--bundle', bundle, `pilote-bench-${process.pid}-${i}`], { stdio: 'ignore' })));
    }

    // Layer hashing: the store's addLayerFromTar (sha256 of the tar + gzip + sha256 of the blob) vs sha256sum.
    const big = join(work, 'layer.tar');
    execFileSync('sh', ['-c', `tar -C /usr -cf - lib 2>/dev/null | head -c ${128 * 1024 * 1024} > ${big}`]);
    const sizeMb = Number(execFileSync('stat', ['-c', '%s', big], { encoding: 'utf8' })) / 1024 / 1024;
    const hashing: number[] = [];
    const hashFloor: number[] = [];
    const gzipFloor: number[] = [];
    for (let i = 0; i < 3; i++) {
      const s = ImageStore.open(join(work, `hash-${i}`));
      hashing.push(sizeMb / (await secondsAsync(() => s.addLayerFromTar(big))));
      hashFloor.push(sizeMb / seconds(() => execFileSync('sha256sum', [big], { stdio: 'ignore' })));
      gzipFloor.push(sizeMb / seconds(() => execFileSync('bash', ['-c', `set -o pipefail; tee <${big} >(sha256sum >/dev/null) | gzip -1 | sha256sum >/dev/null`], { stdio: 'ignore' })));
    }

    return [
      { metric: 'busybox image build, cold (empty store), median', value: median(cold) * 1000, unit: 'ms', floor: median(coldFloor) * 1000, floorName: 'tar -xJf, then tar -c, gzip -1, sha256sum' },
      { metric: 'busybox image build, warm (all cached), median', value: median(warm) * 1000, unit: 'ms', floor: median(warmFloor) * 1000, floorName: 'sha256sum of the context' },
      { metric: 'RUN step (busybox, --no-cache), median', value: median(runStep) * 1000, unit: 'ms', floor: median(runFloor) * 1000, floorName: 'bare runc run of true' },
      { metric: `layer hashing + gzip (${sizeMb.toFixed(0)} MB tar), best`, value: Math.max(...hashing), unit: 'MB/s', floor: Math.max(...hashFloor), floorName: 'sha256sum, same file' },
      { metric: `layer hashing + gzip (${sizeMb.toFixed(0)} MB tar), best`, value: Math.max(...hashing), unit: 'MB/s', floor: Math.max(...gzipFloor), floorName: 'sha256sum of the tar and of its gzip -1' },
    ];
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  console.log(`build benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(markdownTable(await runBuildBench()));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
