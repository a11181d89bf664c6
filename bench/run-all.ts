/**
 * Runs every benchmark (bench/storage, bench/api, bench/codec, bench/scheduler,
 * bench/workloads, bench/pod-startup, bench/build, bench/image-hash,
 * bench/service-proxy, bench/dns, bench/ingress) and prints one Markdown
 * summary: date, machine, then each figure beside the floor measured in the
 * same run. `npm run bench` runs this (`node dist/bench/run-all.js`).
 */
import { execFileSync } from 'node:child_process';
import { runStorageBench, storageRows } from './storage.js';
import { runApiBench } from './api.js';
import { runCodecBench } from './codec.js';
import { runSchedulerBench, schedulerRows } from './scheduler.js';
import { runWorkloadsBench } from './workloads.js';
import { podStartupRows, runPodStartupBench } from './pod-startup.js';
import { runBuildBench } from './build.js';
import { imageHashRows, runImageHashBench } from './image-hash.js';
import { runServiceProxyBench, serviceProxyRows } from './service-proxy.js';
import { dnsRows, runDnsBench } from './dns.js';
import { ingressRows, runIngressBench } from './ingress.js';
import { backgroundLoad, machineLine, markdownTable } from './report.js';

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${rev} (src/ modified)` : rev;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const out: string[] = [];
  out.push(`# Pilote benchmarks`, '');
  out.push(`- date: ${new Date().toString()}`);
  out.push(`- machine: ${machineLine()}`);
  out.push(`- revision: ${gitRevision()}`);
  out.push(`- command: \`node dist/bench/run-all.js\` (\`npm run bench\`)`);
  out.push(`- before the run: ${await backgroundLoad()}`, '');

  process.stderr.write('[bench] storage\n');
  const storage = await runStorageBench();
  out.push('## Storage (in-process SqliteStorage)', '', markdownTable(storageRows(storage)), '');

  process.stderr.write('[bench] API server\n');
  const api = await runApiBench();
  out.push('## API server (pilote server process, HTTPS, real kubectl)', '', markdownTable(api.rows), '');
  for (const note of api.notes) out.push(`- ${note}`);

  process.stderr.write('[bench] client compatibility (codecs, OpenAPI)\n');
  out.push('', '## Client compatibility (decoding, OpenAPI)', '', markdownTable(await runCodecBench()), '');

  process.stderr.write('[bench] scheduler (in-process)\n');
  out.push('## Scheduler (in-process API server, 1,000 nodes, 10,000 pods)', '', markdownTable(schedulerRows(await runSchedulerBench())), '');

  process.stderr.write('[bench] workloads (controllers, scheduler, simulated nodes)\n');
  const workloads = await runWorkloadsBench();
  out.push('## Workloads (pilote server process with controllers, scheduler and simulated nodes)', '', markdownTable(workloads.rows), '');
  for (const note of workloads.notes) out.push(`- ${note}`);
  out.push('');

  process.stderr.write('[bench] image layer hashing\n');
  out.push('## Image layers (hashing and compression)', '', markdownTable(imageHashRows(await runImageHashBench())), '');
  process.stderr.write('[bench] cluster DNS\n');
  out.push('## Cluster DNS', '', markdownTable(dnsRows(await runDnsBench())), '');
  process.stderr.write('[bench] ingress\n');
  out.push('## Ingress', '', markdownTable(ingressRows(await runIngressBench())), '');

  // Real containers and the kernel datapath: runc, containerd, CNI bridges, nftables and mounts need root.
  if (process.getuid?.() === 0) {
    process.stderr.write('[bench] image builds\n');
    out.push('## Image builds (pilote build; RUN in runc)', '', markdownTable(await runBuildBench()), '');
    process.stderr.write('[bench] service proxy\n');
    out.push('## Service proxy (nftables)', '', markdownTable(serviceProxyRows(await runServiceProxyBench())), '');
    process.stderr.write('[bench] pods on containerd\n');
    const pods = await runPodStartupBench();
    out.push('## Pods on containerd (pilote server with a real node; floor: CRI alone)', '', markdownTable(podStartupRows(pods)), '');
    for (const note of pods.notes) out.push(`- ${note}`);
  } else out.push('## Image builds, service proxy, pods on containerd', '', '- skipped: need root (runc, containerd, nftables)');
  out.push('');
  out.push(`- after the run: ${await backgroundLoad()}`);
  out.push('', `Ratio = value / floor. Total run time ${((performance.now() - started) / 1000).toFixed(0)} s.`);
  console.log(out.join('\n'));
}

await main();
