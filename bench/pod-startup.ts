/**
 * Pod startup latency: pod created → Running as seen by a watch, for one pod
 * at a time and for 50 pods at once, through the in-process API server, the
 * kubelet's pod workers and a real containerd (src/kubelet's test node: its
 * own containerd, CNI bridge and pod /24). Beside it, the floor measured in
 * the same run: RunPodSandbox + CreateContainer + StartContainer through CRI
 * alone, with the kubelet's worker count as concurrency for the burst.
 * Run with `node dist/bench/pod-startup.js [samples] [burst]` (as root).
 */
import { pathToFileURL } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { RESOURCES } from '../src/client/types.js';
import type { CriClient } from '../src/kubelet/cri/client.js';
import { startTestNode, type TestNode } from '../src/kubelet/kubelet-harness.test-helper.js';
import { backgroundLoad, machineLine, markdownTable, percentile, type BenchRow } from './report.js';

/** Per-pod latencies (ms) and the wall time of the whole round. */
interface Round {
  latenciesMs: number[];
  wallMs: number;
}

export interface PodStartupResult {
  single: Round;
  burst: Round;
  floorSingle: Round;
  floorBurst: Round;
  samples: number;
  burstSize: number;
  workers: number;
}

const WORKERS = 16;

/** Sandbox + container straight through CRI: the runtime's own cost of a pod. */
async function criPod(cri: CriClient, image: string, name: string, logDir: string): Promise<void> {
  const sandboxConfig = { metadata: { name, uid: `floor-${name}`, namespace: 'bench', attempt: 0 }, hostname: name, logDirectory: join(logDir, name), labels: { 'pilote.dev/bench-floor': 'true' }, linux: {} };
  const sandbox = await cri.runPodSandbox(sandboxConfig);
  const container = await cri.createContainer(sandbox, { metadata: { name: 'main' }, image: { image }, command: ['sleep', '3600'], logPath: 'main.log', linux: {} }, sandboxConfig);
  await cri.startContainer(container);
}

async function removeFloorPods(cri: CriClient): Promise<void> {
  for (const s of await cri.listPodSandbox({ labelSelector: { 'pilote.dev/bench-floor': 'true' } })) {
    await cri.stopPodSandbox(s.id);
    await cri.removePodSandbox(s.id);
  }
}

/** `count` CRI pods with at most `concurrency` in flight. */
async function floorRound(cri: CriClient, image: string, count: number, concurrency: number, tag: string): Promise<Round> {
  const logDir = mkdtempSync(join(tmpdir(), 'pilote-bench-logs-'));
  const latenciesMs: number[] = [];
  const started = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, count) }, async () => {
        while (next < count) {
          const i = next++;
          await criPod(cri, image, `${tag}-${i}`, logDir);
          // From the round's start, as every pod of a burst is asked for at once.
          latenciesMs.push(performance.now() - started);
        }
      }),
    );
    return { latenciesMs, wallMs: performance.now() - started };
  } finally {
    await removeFloorPods(cri);
    rmSync(logDir, { recursive: true, force: true });
  }
}

/** Creates `count` pods at once and resolves with each one's create → Running latency, as a watch sees it. */
async function kubeletRound(node: TestNode, count: number, tag: string): Promise<Round> {
  const pods = node.client.resource(RESOURCES.pods);
  const { resourceVersion } = await pods.list('default');
  const createdAt = new Map<string, number>();
  const latenciesMs: number[] = [];
  const started = performance.now();
  let watch: { stop(): void } | undefined;
  const allRunning = new Promise<void>((resolve, reject) => {
    watch = pods.watch(
      'default',
      { resourceVersion },
      (event) => {
        const pod = event.object as unknown as Pod;
        const name = pod.metadata?.name ?? '';
        if (pod.status?.phase !== 'Running' || !name.startsWith(`${tag}-`) || !createdAt.has(name)) return;
        latenciesMs.push(performance.now() - createdAt.get(name)!);
        createdAt.set(name, Infinity);
        if (latenciesMs.length === count) resolve();
      },
      reject,
    );
  });
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const name = `${tag}-${i}`;
      createdAt.set(name, performance.now());
      await node.createPod({ metadata: { name }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'main', image: 'busybox', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }] } });
    }),
  );
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([allRunning, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`${tag}: not all pods Running within 120 s`)), 120_000)))]);
  } finally {
    clearTimeout(timer);
    watch?.stop();
  }
  const wallMs = performance.now() - started;
  // Force-delete, then wait until the kubelet has removed them from the runtime.
  await Promise.all(Array.from({ length: count }, (_, i) => pods.delete('default', `${tag}-${i}`, { gracePeriodSeconds: 0 })));
  for (let waited = 0; (await node.cri.listPodSandbox()).length > 0 && waited < 60_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
  return { latenciesMs, wallMs };
}

/** Runs both rounds for the kubelet and for the floor on one test node. */
export async function runPodStartupBench(samples = 10, burstSize = 50): Promise<PodStartupResult> {
  const node = await startTestNode({ workers: WORKERS });
  try {
    const image = (await node.cri.imageStatus('docker.io/library/busybox:latest')).image!.id;
    // Warm-up: the first sandbox of a containerd is slower (snapshots, CNI plugin loading).
    await floorRound(node.cri, image, 2, 1, 'warm');
    await kubeletRound(node, 2, 'warm');
    const floorSingle: Round = { latenciesMs: [], wallMs: 0 };
    const single: Round = { latenciesMs: [], wallMs: 0 };
    for (let i = 0; i < samples; i++) {
      const f = await floorRound(node.cri, image, 1, 1, `fs${i}`);
      floorSingle.latenciesMs.push(...f.latenciesMs);
      floorSingle.wallMs += f.wallMs;
      const k = await kubeletRound(node, 1, `single${i}`);
      single.latenciesMs.push(...k.latenciesMs);
      single.wallMs += k.wallMs;
    }
    const floorBurst = await floorRound(node.cri, image, burstSize, WORKERS, 'fb');
    const burst = await kubeletRound(node, burstSize, 'burst');
    return { single, burst, floorSingle, floorBurst, samples, burstSize, workers: WORKERS };
  } finally {
    await node.stop();
  }
}

/** The figures as report rows. */
export function podStartupRows(r: PodStartupResult): BenchRow[] {
  const single = 'CRI sandbox + create + start, one at a time';
  const burst = `CRI sandbox + create + start, ${r.workers} in flight`;
  const rate = (round: Round) => (round.latenciesMs.length / round.wallMs) * 1000;
  return [
    { metric: `1 pod: create → Running (watch) p50, ${r.samples} samples`, value: percentile(r.single.latenciesMs, 50), unit: 'ms', floor: percentile(r.floorSingle.latenciesMs, 50), floorName: single },
    { metric: '1 pod: create → Running (watch) p99', value: percentile(r.single.latenciesMs, 99), unit: 'ms', floor: percentile(r.floorSingle.latenciesMs, 99), floorName: single, aim: { op: '<', value: 1000 } },
    { metric: `${r.burstSize} pods at once: create → Running p50`, value: percentile(r.burst.latenciesMs, 50), unit: 'ms', floor: percentile(r.floorBurst.latenciesMs, 50), floorName: burst },
    { metric: `${r.burstSize} pods at once: create → Running p99`, value: percentile(r.burst.latenciesMs, 99), unit: 'ms', floor: percentile(r.floorBurst.latenciesMs, 99), floorName: burst, aim: { op: '<', value: 5000 } },
    { metric: `${r.burstSize} pods at once: pods Running per second`, value: rate(r.burst), unit: '/s', floor: rate(r.floorBurst), floorName: burst, aim: { op: '>=', value: 20 } },
  ];
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 10);
  const burstSize = Number(process.argv[3] ?? 50);
  console.log(`Pod startup benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`background: ${await backgroundLoad()}`);
  const result = await runPodStartupBench(samples, burstSize);
  console.log(markdownTable(podStartupRows(result)));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
