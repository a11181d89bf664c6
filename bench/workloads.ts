/**
 * Workload benchmarks: a real `pilote server` process with its controllers,
 * its scheduler and simulated nodes (src/simulated/), driven over HTTPS like
 * any client, each figure beside its floor measured in the same run:
 *
 *   Deployment of 1,000 replicas on 100 simulated nodes, create → availableReplicas = 1,000
 *       vs the same pods written by hand on an API-only server (create + binding + status PUT each, 32 clients)
 *   10,000 pods created by 32 clients on 1,000 simulated nodes, first create → all bound (pods/s)
 *       vs 10,000 pods created pre-bound (spec.nodeName set by the client) on the same server: no scheduling
 *   RSS with 1,000 simulated nodes and 30,000 Running pods (30 Deployments × 1,000, a namespace each)
 *       vs the RSS of the same server idle with no objects
 *
 * The in-process scheduler benchmark (bench/scheduler.ts) measures the
 * scheduler alone; this one measures it through the whole server (HTTPS,
 * admission, storage, watch fan-out to every informer, the simulated kubelets'
 * status writes and the events they all record).
 *
 * Run with `node dist/bench/workloads.js [--quick] [--only deployment,scheduling,memory]`; bench/run-all.ts imports
 * {@link runWorkloadsBench}. Loopback only; every phase is bounded in count and
 * time. `WORKLOADS_CPU_PROF=DIR` starts every server with `--cpu-prof --cpu-prof-dir DIR`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { PILOTE_BIN, Endpoint, clientTls, closedLoop, kubeconfigPort, rssMB, type LoadResult } from './api.js';
import { backgroundLoad, machineLine, markdownTable, type BenchRow } from './report.js';

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench/workloads] ${message}\n`);
const pad = (i: number) => String(i).padStart(6, '0');
const k = (n: number) => n.toLocaleString('en-US');

// ---------------------------------------------------------------- options

export interface WorkloadsBenchOptions {
  concurrency: number;
  /** Benchmark 1: one Deployment of this many replicas on this many simulated nodes. */
  deploymentReplicas: number;
  deploymentNodes: number;
  /** Benchmark 2: pods created on simulated nodes. */
  schedulePods: number;
  scheduleNodes: number;
  /** Benchmark 3: Deployments × replicas on simulated nodes. */
  memoryDeployments: number;
  memoryReplicas: number;
  memoryNodes: number;
  /**
   * One namespace per Deployment (default), or all in one: the ReplicaSet and
   * Deployment controllers scan every pod of a namespace on each sync, which
   * makes one crowded namespace quadratic (see docs/benchmarks.md).
   */
  memoryNamespacePerDeployment: boolean;
  /** Benchmark 3 stops waiting after this long and extrapolates from what runs. */
  memoryBudgetSeconds: number;
  /** Settle time before an RSS reading. */
  settleSeconds: number;
  /** Which benchmarks to run (default: all three). */
  only: ('deployment' | 'scheduling' | 'memory')[];
}

export const DEFAULT_WORKLOADS_OPTIONS: WorkloadsBenchOptions = {
  concurrency: 32,
  deploymentReplicas: 1000,
  deploymentNodes: 100,
  schedulePods: 10_000,
  scheduleNodes: 1000,
  memoryDeployments: 30,
  memoryReplicas: 1000,
  memoryNodes: 1000,
  memoryNamespacePerDeployment: true,
  memoryBudgetSeconds: 240,
  settleSeconds: 5,
  only: ['deployment', 'scheduling', 'memory'],
};

/** What the simulated nodes offer by default (src/simulated/simulated-nodes.ts), for the capacity check. */
const NODE_CAPACITY = { pods: 110, milliCpu: 4000, memoryMi: 16 * 1024 };
/** Requests of every benchmark pod: small, so that only the pods limit could bind. */
const POD_REQUESTS = { cpu: '10m', memory: '16Mi', milliCpu: 10, memoryMi: 16 };

function checkCapacity(pods: number, nodes: number, what: string): void {
  const perNode = Math.ceil(pods / nodes);
  const fits = perNode <= NODE_CAPACITY.pods && perNode * POD_REQUESTS.milliCpu <= NODE_CAPACITY.milliCpu && perNode * POD_REQUESTS.memoryMi <= NODE_CAPACITY.memoryMi;
  if (!fits) throw new Error(`${what}: ${pods} pods on ${nodes} nodes (${perNode} per node) exceed a simulated node's capacity`);
}

// ---------------------------------------------------------------- processes

interface Server {
  child: ChildProcess;
  pid: number;
  dataDir: string;
  /** Milliseconds from spawn to the `export KUBECONFIG=` line. */
  readyMs: number;
  api: Endpoint;
  stop(): Promise<void>;
}

/** Starts `pilote server` with extra flags and waits (up to `timeoutMs`) for it to be ready. */
async function startServer(dataDir: string, flags: string[], timeoutMs = 120_000): Promise<Server> {
  const started = now();
  const profDir = process.env.WORKLOADS_CPU_PROF;
  const nodeArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const child = spawn(process.execPath, [...nodeArgs, PILOTE_BIN, 'server', '--port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir, '--disable-agent', ...flags], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PILOTE_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    }));
  try {
    const readyMs = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pilote server ${flags.join(' ')} not ready within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (/^export KUBECONFIG=/.test(line)) {
          clearTimeout(timer);
          resolve(now() - started);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pilote server exited with ${code} before it was ready:\n${stderr}`));
      });
    });
    const api = new Endpoint(kubeconfigPort(join(dataDir, 'kubeconfig.yaml')), clientTls(dataDir));
    return {
      child,
      pid: child.pid!,
      dataDir,
      readyMs,
      api,
      async stop() {
        api.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** Size of the server's SQLite files (db + wal), MB. */
function dbMB(dataDir: string): number {
  let bytes = 0;
  for (const file of ['state.db', 'state.db-wal']) {
    try {
      bytes += statSync(join(dataDir, 'db', file)).size;
    } catch {
      // no WAL right now
    }
  }
  return bytes / 1e6;
}

// ---------------------------------------------------------------- API helpers

interface Obj {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: Record<string, unknown> & { nodeName?: string; replicas?: number };
  status?: Record<string, unknown> & { phase?: string; availableReplicas?: number };
}

const json = (body: Buffer) => JSON.parse(body.toString('utf8')) as unknown;

async function createNamespace(api: Endpoint, name: string): Promise<void> {
  await api.ok('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}

/** The storage revision now (the resourceVersion of a list is the server's current revision). */
async function revision(api: Endpoint): Promise<number> {
  const list = json((await api.ok('GET', '/api/v1/namespaces?limit=1')).body) as { metadata: { resourceVersion: string } };
  return Number(list.metadata.resourceVersion);
}

/** How many items a list holds: `limit=1` and the remainingItemCount of the answer (no full walk while writes go on). */
async function countItems(api: Endpoint, path: string): Promise<number> {
  const sep = path.includes('?') ? '&' : '?';
  const list = json((await api.ok('GET', `${path}${sep}limit=1`)).body) as { items: unknown[]; metadata: { remainingItemCount?: number; continue?: string } };
  if (list.metadata.remainingItemCount !== undefined || !list.metadata.continue) return list.items.length + (list.metadata.remainingItemCount ?? 0);
  // No count from the server: one full list (bounded by the 30 s request timeout).
  return (json((await api.ok('GET', path)).body) as { items: unknown[] }).items.length;
}

/** Waits until every node is Ready (polled once a second; bounded). */
async function nodesReady(api: Endpoint, expected: number, timeoutMs: number): Promise<number> {
  const deadline = now() + timeoutMs;
  for (;;) {
    const list = json((await api.ok('GET', '/api/v1/nodes')).body) as { items: { status?: { conditions?: { type: string; status: string }[] } }[] };
    const ready = list.items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    if (ready >= expected || now() > deadline) return ready;
    await sleep(1000);
  }
}

/**
 * A watch from the current state: lists `path` for its resourceVersion, then
 * streams every change after it to `onEvent`.
 */
async function watchFrom(api: Endpoint, path: string, onEvent: (type: string, object: Obj) => void): Promise<{ close(): void }> {
  const sep = path.includes('?') ? '&' : '?';
  const list = json((await api.ok('GET', `${path}${sep}limit=1`)).body) as { metadata: { resourceVersion: string } };
  const watch = api.stream(`${path}${sep}watch=true&resourceVersion=${list.metadata.resourceVersion}`, (line) => {
    const event = JSON.parse(line) as { type: string; object: Obj };
    onEvent(event.type, event.object);
  });
  await watch.opened;
  return watch;
}

/** Polls `done` every 10 ms until it is true or `timeoutMs` passed; returns whether it became true. */
async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = now() + timeoutMs;
  while (!done()) {
    if (now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

function checkErrors(what: string, result: LoadResult, expected: number): void {
  if (result.errors > 0 || result.ok !== expected) throw new Error(`${what}: ${result.ok}/${expected} ok, ${result.errors} errors, first: ${result.firstError}`);
}

const container = { name: 'app', image: 'registry.example/app:1', resources: { requests: { cpu: POD_REQUESTS.cpu, memory: POD_REQUESTS.memory } } };

function podObject(name: string, app: string, nodeName?: string): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app } }, spec: { ...(nodeName ? { nodeName } : {}), containers: [container] } };
}

function deploymentObject(name: string, replicas: number): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [container] } } },
  };
}

/** The status a kubelet reports for a running pod (what the floor PUTs by hand). */
function runningStatus(nodeIndex: number, podIndex: number): Record<string, unknown> {
  const t = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ip = `10.42.${nodeIndex}.${(podIndex % 250) + 2}`;
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: t });
  return {
    phase: 'Running',
    conditions: ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition),
    hostIP: `172.18.${nodeIndex >> 8}.${nodeIndex & 255}`,
    hostIPs: [{ ip: `172.18.${nodeIndex >> 8}.${nodeIndex & 255}` }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: t,
    qosClass: 'Burstable',
    containerStatuses: [
      {
        name: 'app',
        state: { running: { startedAt: t } },
        lastState: {},
        ready: true,
        restartCount: 0,
        image: container.image,
        imageID: `${container.image}@sha256:${'0'.repeat(64)}`,
        containerID: `containerd://${String(podIndex).padStart(64, '0')}`,
        started: true,
      },
    ],
  };
}

// ---------------------------------------------------------------- the benchmark

export interface WorkloadsBenchResult {
  rows: BenchRow[];
  notes: string[];
}

/** Runs the three workload benchmarks on fresh servers in temporary directories (removed afterwards). */
export async function runWorkloadsBench(partial: Partial<WorkloadsBenchOptions> = {}): Promise<WorkloadsBenchResult> {
  const o = { ...DEFAULT_WORKLOADS_OPTIONS, ...partial };
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'pilote-bench-workloads-'));
  const servers: Server[] = [];
  const start = async (name: string, flags: string[]) => {
    const server = await startServer(join(root, name), flags);
    servers.push(server);
    return server;
  };
  const stop = async (server: Server) => {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  };
  try {
    // ---- 0. the idle floor: a server with nothing in it (controllers and scheduler running, no nodes)
    log('idle server, 0 objects');
    const idle = await start('idle', []);
    await sleep(o.settleSeconds * 1000);
    const idleRss = rssMB(idle.pid);
    const idleReadyMs = idle.readyMs;
    await stop(idle);

    // Each benchmark on its own servers; one that fails leaves a note and the others still run.
    const benches = { deployment: deploymentBench, scheduling: schedulingBench, memory: memoryBench } as const;
    for (const name of o.only) {
      const before = rows.length;
      try {
        await benches[name](o, start, stop, rows, notes, { idleRss, idleReadyMs });
      } catch (error) {
        log(`${name} failed: ${(error as Error).message}`);
        notes.push(`**${name} benchmark failed**: ${(error as Error).message.split('\n')[0]}`);
      }
      log(`${name} done:\n${markdownTable(rows.slice(before))}`);
      for (const server of servers.splice(0)) await stop(server);
    }
    return { rows, notes };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

type Start = (name: string, flags: string[]) => Promise<Server>;
type Stop = (server: Server) => Promise<void>;
/** What every benchmark compares with: the server with nothing in it. */
interface Idle {
  idleRss: number;
  idleReadyMs: number;
}

// ---- 1. Deployment of 1,000 replicas
async function deploymentBench(o: WorkloadsBenchOptions, start: Start, stop: Stop, rows: BenchRow[], notes: string[], { idleReadyMs }: Idle): Promise<void> {
  const replicas = o.deploymentReplicas;
  const nodes = o.deploymentNodes;
  checkCapacity(replicas, nodes, 'deployment');
  log(`deployment: ${k(replicas)} replicas on ${nodes} simulated nodes`);
  const server = await start('deploy', ['--simulated-nodes', String(nodes)]);
  const { api } = server;
  const ready = await nodesReady(api, nodes, 30_000);
  if (ready < nodes) throw new Error(`deployment: only ${ready}/${nodes} simulated nodes Ready`);
  rows.push({ metric: `start-up with --simulated-nodes ${nodes} → ready`, value: server.readyMs, unit: 'ms', floor: idleReadyMs, floorName: 'same server, no simulated nodes' });
  await createNamespace(api, 'bench');
  await sleep(500); // the namespace's service account and root CA ConfigMap are written now, not during the rollout

  const created = new Set<string>();
  const bound = new Set<string>();
  const running = new Set<string>();
  const at: { created?: number; bound?: number; running?: number; available?: number } = {};
  const pods = await watchFrom(api, '/api/v1/namespaces/bench/pods', (type, pod) => {
    if (type === 'DELETED' || type === 'BOOKMARK') return;
    const name = pod.metadata.name;
    const t = now();
    if (!created.has(name) && (created.add(name), created.size === replicas)) at.created = t;
    if (pod.spec?.nodeName && !bound.has(name) && (bound.add(name), bound.size === replicas)) at.bound = t;
    if (pod.status?.phase === 'Running' && !running.has(name) && (running.add(name), running.size === replicas)) at.running = t;
  });
  let lastAvailable = 0;
  const deployments = await watchFrom(api, '/apis/apps/v1/namespaces/bench/deployments', (type, d) => {
    lastAvailable = d.status?.availableReplicas ?? 0;
    if (type !== 'DELETED' && lastAvailable >= replicas) at.available ??= now();
  });
  const rev0 = await revision(api);
  const cpu0 = cpuSeconds(server.pid);
  const t0 = now();
  await api.ok('POST', '/apis/apps/v1/namespaces/bench/deployments', JSON.stringify(deploymentObject('web', replicas)));
  const done = await until(() => at.available !== undefined, 180_000);
  const cpu = cpuSeconds(server.pid) - cpu0;
  pods.close();
  deployments.close();
  if (!done) throw new Error(`deployment: availableReplicas ${lastAvailable}/${replicas} after 180 s (created ${created.size}, bound ${bound.size}, running ${running.size})`);
  const rolloutMs = at.available! - t0;
  const writes = (await revision(api)) - rev0;
  const events = await countItems(api, '/api/v1/namespaces/bench/events');
  await stop(server);

  // Floor: the same pods written by hand on an API-only server: create, binding, status PUT.
  log('deployment floor: create + binding + status PUT by hand, API-only server');
  const floorServer = await start('deploy-floor', ['--controllers=-*']);
  const raw = floorServer.api;
  await createNamespace(raw, 'bench');
  const nodeNames = Array.from({ length: nodes }, (_, i) => `pilote-sim-${i}`);
  const nodesCreate = await closedLoop(o.concurrency, 60, nodes, async (i) => {
    await raw.ok('POST', '/api/v1/nodes', JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeNames[i] } }));
  });
  checkErrors('floor nodes', nodesCreate, nodes);
  const podsPath = '/api/v1/namespaces/bench/pods';
  const createdPods: Obj[] = [];
  const floorRev0 = await revision(raw);
  const floorCpu0 = cpuSeconds(floorServer.pid);
  const createPhase = await closedLoop(o.concurrency, 120, replicas, async (i) => {
    createdPods[i] = json((await raw.ok('POST', podsPath, JSON.stringify(podObject(`web-${pad(i)}`, 'web')))).body) as Obj;
  });
  checkErrors('floor creates', createPhase, replicas);
  const bindPhase = await closedLoop(o.concurrency, 120, replicas, async (i) => {
    const name = `web-${pad(i)}`;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'bench' }, target: { apiVersion: 'v1', kind: 'Node', name: nodeNames[i % nodes] } };
    await raw.ok('POST', `${podsPath}/${name}/binding`, JSON.stringify(binding));
  });
  checkErrors('floor bindings', bindPhase, replicas);
  const statusPhase = await closedLoop(o.concurrency, 120, replicas, async (i) => {
    const pod = createdPods[i]!;
    const body = { ...pod, metadata: { ...pod.metadata, resourceVersion: undefined }, status: runningStatus(i % nodes, i) };
    await raw.ok('PUT', `${podsPath}/${pod.metadata.name}/status`, JSON.stringify(body));
  });
  checkErrors('floor status writes', statusPhase, replicas);
  const floorCpu = cpuSeconds(floorServer.pid) - floorCpu0;
  const floorWrites = (await revision(raw)) - floorRev0;
  const running0 = (json((await raw.ok('GET', `${podsPath}?fieldSelector=status.phase%3DRunning`)).body) as { items: Obj[] }).items.filter((p) => p.spec?.nodeName).length;
  if (running0 !== replicas) throw new Error(`deployment floor: ${running0}/${replicas} pods bound and Running`);
  await stop(floorServer);
  const floorMs = (createPhase.seconds + bindPhase.seconds + statusPhase.seconds) * 1000;

  rows.push({
    metric: `Deployment of ${k(replicas)} replicas on ${nodes} simulated nodes: create → availableReplicas = ${k(replicas)}`,
    value: rolloutMs,
    unit: 'ms',
    floor: floorMs,
    floorName: `${k(3 * replicas)} raw writes by ${o.concurrency} HTTPS clients: ${k(replicas)} pod creates + bindings + status PUTs, API-only server`,
  });
  rows.push({ metric: '  same, in pods/s', value: (replicas * 1000) / rolloutMs, unit: 'pods/s', floor: (replicas * 1000) / floorMs, floorName: 'the raw writes above' });
  rows.push({ metric: '  server CPU during the rollout', value: cpu, unit: 's', floor: floorCpu, floorName: 'server CPU during the raw writes' });
  rows.push({ metric: '  writes the server made during the rollout (revisions)', value: writes, unit: 'writes', floor: floorWrites, floorName: 'during the raw writes' });
  const ms = (t: number | undefined) => (t === undefined ? '—' : `${(t - t0).toFixed(0)} ms`);
  notes.push(
    `deployment: all ${k(replicas)} pods created after ${ms(at.created)}, all bound ${ms(at.bound)}, all Running ${ms(at.running)}, available ${ms(at.available)}; ` +
      `${k(writes)} revisions written (${(writes / replicas).toFixed(1)} per pod), of which ${k(events)} Events in the namespace; ` +
      `floor phases: creates ${(createPhase.seconds * 1000).toFixed(0)} ms, bindings ${(bindPhase.seconds * 1000).toFixed(0)} ms, status PUTs ${(statusPhase.seconds * 1000).toFixed(0)} ms`,
  );
}

// ---- 2. scheduling throughput through the whole server
async function schedulingBench(o: WorkloadsBenchOptions, start: Start, stop: Stop, rows: BenchRow[], notes: string[], { idleReadyMs }: Idle): Promise<void> {
  const n = o.schedulePods;
  const nodes = o.scheduleNodes;
  checkCapacity(2 * n + 1000, nodes, 'scheduling');
  log(`scheduling: ${k(nodes)} simulated nodes`);
  const server = await start('sched', ['--simulated-nodes', String(nodes)]);
  const { api } = server;
  const ready = await nodesReady(api, nodes, 60_000);
  if (ready < nodes) throw new Error(`scheduling: only ${ready}/${nodes} simulated nodes Ready`);
  rows.push({ metric: `start-up with --simulated-nodes ${k(nodes)} → ready`, value: server.readyMs, unit: 'ms', floor: idleReadyMs, floorName: 'same server, no simulated nodes' });
  const idleCpu0 = cpuSeconds(server.pid);
  await sleep(3000);
  const idleCpuShare = (cpuSeconds(server.pid) - idleCpu0) / 3;
  const idleNodesRss = rssMB(server.pid);

  /** Creates `n` pods in `namespace` (pre-bound round-robin when `preBound`), and times first create → all bound (seen by a watch). */
  async function run(namespace: string, preBound: boolean, n = o.schedulePods): Promise<{ ms: number; createMs: number; running: number; cpu: number; clientCpu: number; writes: number }> {
    await createNamespace(api, namespace);
    await sleep(300);
    const bound = new Set<string>();
    let allBound: number | undefined;
    const running = new Set<string>();
    const watch = await watchFrom(api, `/api/v1/namespaces/${namespace}/pods?fieldSelector=spec.nodeName!%3D`, (type, pod) => {
      if (type === 'DELETED' || type === 'BOOKMARK' || !pod.spec?.nodeName) return;
      if (!bound.has(pod.metadata.name) && (bound.add(pod.metadata.name), bound.size === n)) allBound = now();
      if (pod.status?.phase === 'Running') running.add(pod.metadata.name);
    });
    const rev0 = await revision(api);
    const cpu0 = cpuSeconds(server.pid);
    const client0 = process.cpuUsage();
    const t0 = now();
    const creates = await closedLoop(o.concurrency, 300, n, async (i) => {
      const nodeName = preBound ? `pilote-sim-${i % nodes}` : undefined;
      await api.ok('POST', `/api/v1/namespaces/${namespace}/pods`, JSON.stringify(podObject(`p-${pad(i)}`, namespace, nodeName)));
    });
    checkErrors(`${namespace} creates`, creates, n);
    const createMs = now() - t0;
    if (!(await until(() => allBound !== undefined, 120_000))) throw new Error(`${namespace}: only ${bound.size}/${n} pods bound 120 s after the last create`);
    const ms = allBound! - t0;
    const cpu = cpuSeconds(server.pid) - cpu0;
    const client = process.cpuUsage(client0);
    const clientCpu = (client.user + client.system) / 1e6;
    const writes = (await revision(api)) - rev0;
    // Let the simulated kubelets finish (all Running) before the next phase, bounded.
    await until(() => running.size >= n, 60_000);
    watch.close();
    return { ms, createMs, running: running.size, cpu, clientCpu, writes };
  }

  // Warm-up, not counted: both paths once, so that neither measured run pays for the JIT and the first TLS handshakes.
  const warm = Math.min(500, n);
  await run('warm-bound', true, warm);
  await run('warm-sched', false, warm);
  // The floor first: the scheduled run then starts with the floor's pods in every cache (conservative for it).
  log(`scheduling floor: ${k(n)} pods pre-bound at create`);
  const floor = await run('floor', true);
  log(`scheduling: ${k(n)} pods by ${o.concurrency} clients, scheduler binds`);
  const sched = await run('sched', false);
  const rss = rssMB(server.pid);
  await stop(server);

  const rate = (r: { ms: number }) => (n * 1000) / r.ms;
  rows.push({
    metric: `${k(n)} pods created by ${o.concurrency} HTTPS clients on ${k(nodes)} simulated nodes, first create → all bound`,
    value: rate(sched),
    unit: 'pods/s',
    floor: rate(floor),
    floorName: 'same pods pre-bound at create (spec.nodeName set by the client), same server: no scheduling',
    aim: { op: '>=', value: 1000 },
  });
  rows.push({ metric: '  client creates/s while the scheduler binds', value: (n * 1000) / sched.createMs, unit: '/s', floor: (n * 1000) / floor.createMs, floorName: 'pre-bound creates/s' });
  rows.push({ metric: '  server CPU, first create → all bound', value: sched.cpu, unit: 's', floor: floor.cpu, floorName: 'pre-bound' });
  rows.push({ metric: '  writes (revisions), first create → all bound', value: sched.writes, unit: 'writes', floor: floor.writes, floorName: 'pre-bound' });
  notes.push(
    `scheduling: ${k(nodes)} simulated nodes idle use ${(idleCpuShare * 100).toFixed(0)} % of a core (lease renewals every 10 s), RSS ${idleNodesRss.toFixed(0)} MB; ` +
      `scheduled run: last create at ${sched.createMs.toFixed(0)} ms, all bound at ${sched.ms.toFixed(0)} ms, ${k(sched.running)} Running when the next phase began, ` +
      `server CPU ${((sched.cpu * 1000) / n).toFixed(2)} ms per pod, benchmark client CPU ${sched.clientCpu.toFixed(1)} s; ` +
      `pre-bound floor: last create at ${floor.createMs.toFixed(0)} ms, all seen at ${floor.ms.toFixed(0)} ms, ${k(floor.running)} Running, ` +
      `server CPU ${((floor.cpu * 1000) / n).toFixed(2)} ms per pod, client CPU ${floor.clientCpu.toFixed(1)} s; RSS after both ${rss.toFixed(0)} MB (${k(2 * n)} pods)`,
  );
}

// ---- 3. memory with 1,000 nodes and 30,000 pods
async function memoryBench(o: WorkloadsBenchOptions, start: Start, stop: Stop, rows: BenchRow[], notes: string[], { idleRss }: Idle): Promise<void> {
  const nodes = o.memoryNodes;
  const target = o.memoryDeployments * o.memoryReplicas;
  checkCapacity(target, nodes, 'memory');
  log(`memory: ${k(nodes)} simulated nodes, ${o.memoryDeployments} Deployments × ${k(o.memoryReplicas)}`);
  const server = await start('memory', ['--simulated-nodes', String(nodes)]);
  const { api } = server;
  const ready = await nodesReady(api, nodes, 60_000);
  if (ready < nodes) throw new Error(`memory: only ${ready}/${nodes} simulated nodes Ready`);
  const namespaceOf = (i: number) => (o.memoryNamespacePerDeployment ? `bench-${String(i).padStart(2, '0')}` : 'bench');
  for (const ns of new Set(Array.from({ length: o.memoryDeployments }, (_, i) => namespaceOf(i)))) await createNamespace(api, ns);
  await sleep(o.settleSeconds * 1000);
  const nodesRss = rssMB(server.pid);

  const available = new Map<string, number>();
  let total = 0;
  const watch = await watchFrom(api, '/apis/apps/v1/deployments', (type, d) => {
    available.set(`${d.metadata.namespace}/${d.metadata.name}`, type === 'DELETED' ? 0 : (d.status?.availableReplicas ?? 0));
    total = 0;
    for (const v of available.values()) total += v;
  });
  const t0 = now();
  for (let i = 0; i < o.memoryDeployments; i++) {
    await api.ok('POST', `/apis/apps/v1/namespaces/${namespaceOf(i)}/deployments`, JSON.stringify(deploymentObject(`d-${String(i).padStart(2, '0')}`, o.memoryReplicas)));
  }
  // Progress every 15 s: replicas available and RSS, for the notes (and the extrapolation when the budget runs out).
  const samples: string[] = [];
  const progress = setInterval(() => {
    const line = `${((now() - t0) / 1000).toFixed(0)} s: ${k(total)} available, RSS ${rssMB(server.pid).toFixed(0)} MB`;
    samples.push(line);
    log(`memory: ${line}`);
  }, 15_000);
  const complete = await until(() => total >= target, o.memoryBudgetSeconds * 1000);
  clearInterval(progress);
  const rolloutMs = now() - t0;
  watch.close();
  const runningPods = total;
  log(`memory: ${k(runningPods)} pods available after ${(rolloutMs / 1000).toFixed(0)} s; settling`);
  const rssAtEnd = rssMB(server.pid);
  await sleep(o.settleSeconds * 1000);
  const rss = rssMB(server.pid);
  const db = dbMB(server.dataDir);
  const events = await countItems(api, '/api/v1/events');
  await stop(server);

  const perThousand = ((rss - nodesRss) * 1000) / Math.max(1, runningPods);
  const extrapolated = nodesRss + (perThousand * target) / 1000;
  rows.push({
    metric: complete
      ? `RSS with ${k(nodes)} simulated nodes and ${k(runningPods)} Running pods (${o.memoryDeployments} Deployments × ${k(o.memoryReplicas)}${o.memoryNamespacePerDeployment ? ', one namespace each' : ', one namespace'})`
      : `RSS with ${k(nodes)} simulated nodes and ${k(target)} pods, EXTRAPOLATED from ${k(runningPods)} Running after ${o.memoryBudgetSeconds} s`,
    value: complete ? rss : extrapolated,
    unit: 'MB',
    floor: idleRss,
    floorName: 'same server idle, 0 objects',
  });
  rows.push({ metric: `  RSS with the ${k(nodes)} simulated nodes alone (before any pod)`, value: nodesRss, unit: 'MB', floor: idleRss, floorName: 'same server idle, 0 objects' });
  rows.push({ metric: '  RSS per 1,000 Running pods (beyond the nodes)', value: perThousand, unit: 'MB' });
  rows.push({ metric: `  ${k(runningPods)} replicas available, first Deployment create → all available`, value: (runningPods * 1000) / rolloutMs, unit: 'pods/s' });
  rows.push({ metric: `  SQLite files (db + wal) after the rollout`, value: db, unit: 'MB' });
  notes.push(
    `memory: ${complete ? 'all' : 'NOT all'} ${k(target)} replicas available after ${(rolloutMs / 1000).toFixed(1)} s (${k(runningPods)}); ` +
      `RSS ${rssAtEnd.toFixed(0)} MB when the last became available, ${rss.toFixed(0)} MB ${o.settleSeconds} s later; ${k(events)} Events stored in the cluster; ` +
      `progress: ${samples.join('; ')}`,
  );
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const options: Partial<WorkloadsBenchOptions> = quick
    ? { deploymentReplicas: 200, deploymentNodes: 20, schedulePods: 2000, scheduleNodes: 200, memoryDeployments: 5, memoryReplicas: 500, memoryNodes: 200, memoryBudgetSeconds: 60, settleSeconds: 2 }
    : {};
  const only = args.indexOf('--only');
  if (only >= 0) options.only = (args[only + 1] ?? '').split(',') as WorkloadsBenchOptions['only'];
  console.log(`workload benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`before: ${await backgroundLoad()}`);
  const started = now();
  const result = await runWorkloadsBench(options);
  console.log(markdownTable(result.rows));
  for (const note of result.notes) console.log(`- ${note}`);
  console.log(`after: ${await backgroundLoad()}`);
  console.log(`(${((now() - started) / 1000).toFixed(0)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
