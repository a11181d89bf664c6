/**
 * Scheduler benchmark: an in-process API server (SQLite, durable writes)
 * with 1,000 Ready nodes, and the scheduler placing 10,000 pods through the
 * same in-process client, each figure beside its floor measured in the same
 * run:
 *
 *   10,000 pods created concurrently, first create → all bound   vs creating then binding 10,000 pods with no scheduling
 *   10,000 pending pods, scheduler started → all bound            vs raw binding writes (pre-chosen nodes, round-robin)
 *   CPU ms per pod of both runs (API server + scheduler)           vs the CPU of the floors' writes
 *   decisions/s of the algorithm alone (no writes)                 (no floor: the cost of the logic itself)
 *
 * The CPU rows are the steadier comparison on a shared machine, where
 * other processes move the rates a lot from run to run.
 *
 * The scheduler writes what kube-scheduler writes: a binding and a
 * "Scheduled" event per pod. Run with `node dist/bench/scheduler.js [pods] [nodes]`;
 * {@link runSchedulerBench} returns the rows for bench/run-all.ts.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { startInProcessCluster, type InProcessCluster } from '../test/helpers/in-process.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { InformerFactory } from '../src/client/informer.js';
import { RESOURCES, type ApiClient } from '../src/client/types.js';
import { ClientEventRecorder } from '../src/controllers/runtime/events.js';
import { Scheduler } from '../src/scheduler/scheduler.js';
import { SchedulerCache } from '../src/scheduler/cache.js';
import { SchedulingAlgorithm } from '../src/scheduler/algorithm.js';
import { parsePod } from '../src/scheduler/pod-info.js';
import { backgroundLoad, machineLine, markdownTable, type BenchRow } from './report.js';

const log = (message: string) => process.stderr.write(`[bench/scheduler] ${message}\n`);
/** Concurrent writes of the floor and of pod creation (the scheduler's own binding parallelism is its default). */
const WRITERS = 128;

function node(i: number): KubeObject {
  const name = `node-${String(i).padStart(4, '0')}`;
  const resources = { cpu: '32', memory: '128Gi', pods: '110', 'ephemeral-storage': '500Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${i % 3}` } },
    spec: {},
    status: { capacity: resources, allocatable: resources, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
  };
}

function pod(name: string, schedulerName: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench' } },
    spec: {
      schedulerName,
      containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
    },
  };
}

/** Runs `fn(0…n-1)` with at most `concurrency` calls in flight. */
async function pool(n: number, concurrency: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        await fn(i);
      }
    }),
  );
}

async function createNamespace(client: ApiClient, name: string): Promise<void> {
  await client.resource(RESOURCES.namespaces).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

async function startScheduler(client: ApiClient, schedulerName: string): Promise<{ scheduler: Scheduler; stop(): Promise<void> }> {
  const informers = new InformerFactory(client);
  const scheduler = new Scheduler(client, informers, new ClientEventRecorder(client, schedulerName), { schedulerName });
  const started = scheduler.start();
  informers.start();
  await started;
  return {
    scheduler,
    async stop() {
      await scheduler.stop();
      informers.stop();
    },
  };
}

/** Resolves when the scheduler has written `n` bindings (polled; the scheduler counts acknowledged binding writes). */
async function allBound(scheduler: Scheduler, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (scheduler.stats().bound < n) {
    if (performance.now() > deadline) throw new Error(`only ${scheduler.stats().bound}/${n} pods bound after ${timeoutMs} ms: ${JSON.stringify(scheduler.stats())}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export interface SchedulerBenchResult {
  pods: number;
  nodes: number;
  concurrentPodsPerSecond: number;
  createThenBindPerSecond: number;
  pendingPodsPerSecond: number;
  rawBindsPerSecond: number;
  decisionsPerSecond: number;
  spread: { min: number; max: number };
  /** CPU milliseconds of this process (API server + scheduler) per pod: steadier than rates on a shared machine. */
  cpu: { concurrentPerPod: number; createThenBindPerPod: number; pendingPerPod: number; bindPerPod: number };
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/** Measures the scheduler and its floors on a fresh in-process cluster. */
export async function runSchedulerBench(pods = 10_000, nodes = 1_000): Promise<SchedulerBenchResult> {
  const cluster: InProcessCluster = await startInProcessCluster();
  try {
    const client = cluster.client;
    const podsClient = client.resource(RESOURCES.pods);
    log(`creating ${nodes} nodes`);
    await pool(nodes, WRITERS, (i) => client.resource(RESOURCES.nodes).create(undefined, node(i)));

    // 1. Pods created concurrently while the scheduler runs.
    await createNamespace(client, 'bench-a');
    const a = await startScheduler(client, 'default-scheduler');
    log(`phase 1: ${pods} pods created concurrently`);
    let t0 = performance.now();
    let cpu0 = process.cpuUsage();
    await pool(pods, WRITERS, (i) => podsClient.create('bench-a', pod(`a-${i}`, 'default-scheduler')));
    await allBound(a.scheduler, pods, 120_000);
    const concurrentMs = performance.now() - t0;
    const concurrentCpuMs = cpuMs(process.cpuUsage(cpu0));
    await a.stop();

    // Placement quality: pods per node.
    const perNode = new Map<string, number>();
    for (const p of (await podsClient.list('bench-a')).items) {
      const spec = p.spec as { nodeName?: string };
      if (spec.nodeName) perNode.set(spec.nodeName, (perNode.get(spec.nodeName) ?? 0) + 1);
    }
    const counts = [...perNode.values()];
    const spread = { min: perNode.size < nodes ? 0 : Math.min(...counts), max: Math.max(...counts) };

    // 2. Pods already pending when the scheduler starts.
    await createNamespace(client, 'bench-b');
    log(`phase 2: ${pods} pending pods, then the scheduler`);
    await pool(pods, WRITERS, (i) => podsClient.create('bench-b', pod(`b-${i}`, 'bench-b-scheduler')));
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    const b = await startScheduler(client, 'bench-b-scheduler');
    await allBound(b.scheduler, pods, 120_000);
    const pendingMs = performance.now() - t0;
    const pendingCpuMs = cpuMs(process.cpuUsage(cpu0));

    // 3. The algorithm alone, on the cache of a cluster this full.
    const cache = new SchedulerCache();
    for (const n of (await client.resource(RESOURCES.nodes).list(undefined)).items) cache.setNode(n);
    const all = (await podsClient.list(undefined)).items.map(parsePod);
    for (const p of all) if (p.nodeName) cache.setPod(p);
    const algorithm = new SchedulingAlgorithm(cache);
    const probe = parsePod({ ...pod('probe', 'x'), metadata: { name: 'probe', namespace: 'bench-a', uid: 'probe' } });
    let decisions = 0;
    t0 = performance.now();
    while (performance.now() - t0 < 1000) {
      algorithm.schedule(probe);
      decisions++;
    }
    const decisionsPerSecond = decisions / ((performance.now() - t0) / 1000);
    await b.stop();

    // 4. Floor: the same writes with no scheduling (pods of no scheduler, nodes pre-chosen round-robin).
    await createNamespace(client, 'bench-floor');
    log('floor: creates, then bindings round-robin');
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    await pool(pods, WRITERS, (i) => podsClient.create('bench-floor', pod(`f-${i}`, 'no-scheduler')));
    const createMs = performance.now() - t0;
    const createCpuMs = cpuMs(process.cpuUsage(cpu0));
    t0 = performance.now();
    cpu0 = process.cpuUsage();
    await pool(pods, WRITERS, (i) =>
      podsClient.createSubresource('bench-floor', `f-${i}`, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name: `f-${i}`, namespace: 'bench-floor' },
        target: { kind: 'Node', name: `node-${String(i % nodes).padStart(4, '0')}` },
      }),
    );
    const bindMs = performance.now() - t0;
    const bindCpuMs = cpuMs(process.cpuUsage(cpu0));

    return {
      pods,
      nodes,
      concurrentPodsPerSecond: (pods * 1000) / concurrentMs,
      createThenBindPerSecond: (pods * 1000) / (createMs + bindMs),
      pendingPodsPerSecond: (pods * 1000) / pendingMs,
      rawBindsPerSecond: (pods * 1000) / bindMs,
      decisionsPerSecond,
      spread,
      cpu: {
        concurrentPerPod: concurrentCpuMs / pods,
        createThenBindPerPod: (createCpuMs + bindCpuMs) / pods,
        pendingPerPod: pendingCpuMs / pods,
        bindPerPod: bindCpuMs / pods,
      },
    };
  } finally {
    await cluster.stop();
  }
}

/** The figures as report rows. */
export function schedulerRows(r: SchedulerBenchResult): BenchRow[] {
  const k = (n: number) => n.toLocaleString('en-US');
  return [
    {
      metric: `${k(r.pods)} pods created concurrently on ${k(r.nodes)} nodes, first create → all bound`,
      value: r.concurrentPodsPerSecond,
      unit: 'pods/s',
      floor: r.createThenBindPerSecond,
      floorName: 'same creates, then binds, no scheduling',
      aim: { op: '>=', value: 1000 },
    },
    {
      metric: `${k(r.pods)} pending pods, scheduler start → all bound`,
      value: r.pendingPodsPerSecond,
      unit: 'pods/s',
      floor: r.rawBindsPerSecond,
      floorName: 'raw binding writes, round-robin',
      aim: { op: '>=', value: 1000 },
    },
    {
      metric: 'CPU per pod, created concurrently → bound (API server + scheduler, one process)',
      value: r.cpu.concurrentPerPod,
      unit: 'ms',
      floor: r.cpu.createThenBindPerPod,
      floorName: 'create + bind, no scheduling',
    },
    { metric: 'CPU per pod, pending → bound', value: r.cpu.pendingPerPod, unit: 'ms', floor: r.cpu.bindPerPod, floorName: 'raw binding write' },
    { metric: `scheduling decisions/s, algorithm alone (${k(r.nodes)} nodes, ${k(2 * r.pods)} pods placed)`, value: r.decisionsPerSecond, unit: '/s' },
    { metric: 'pods per node after phase 1 (max − min)', value: r.spread.max - r.spread.min, unit: 'pods', aim: { op: '<=', value: 5 } },
  ];
}

async function main(): Promise<void> {
  const pods = Number(process.argv[2] ?? 10_000);
  const nodes = Number(process.argv[3] ?? 1_000);
  console.log(`scheduler benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`before: ${await backgroundLoad()}`);
  const result = await runSchedulerBench(pods, nodes);
  console.log(markdownTable(schedulerRows(result)));
  console.log(`after: ${await backgroundLoad()}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.PILOTE_LOG_LEVEL ??= 'warn';
  await main();
}
