/**
 * Pod startup on containerd (issue 6): a real `pilote server` process with
 * its node (containerd, CNI bridge, kubelet; nodeTestArgs() isolates it),
 * driven over HTTPS like any client. Each figure beside its floor measured in
 * the same run:
 *
 *   1 pod at a time, create → Running as a watch sees it (p50/p99)
 *       vs RunPodSandbox + CreateContainer + StartContainer through CRI alone
 *   50 pods created at once: create → Running p50/p99, pods Running per second
 *       vs 50 such CRI pods started concurrently
 *   RSS of `pilote server` with the node idle, and with the 50 pods Running
 *       vs the same server without a node (`--disable-agent`), and the node idle
 *
 * The floor runs on a second containerd started by the same code the node
 * uses (startContainerd, writeCniConfig: same binary, same config, its own
 * root, bridge and pod /24), with the same busybox image imported from the
 * same image store. Pods run `sleep 3600`; runs alternate floor / server so
 * both see the same machine.
 *
 * Run with `node dist/bench/pod-startup.js [samples] [burst]` as root (default
 * 10 and 50); bench/run-all.ts imports {@link runPodStartupBench}. Needs busybox
 * in the test image store (scripts/build-example-images.sh). Loopback only;
 * every wait is bounded; everything started is removed at the end.
 * `POD_STARTUP_CPU_PROF=DIR` starts the server with `--cpu-prof --cpu-prof-dir DIR`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { defaultAgentConfig, type AgentConfig } from '../src/agent/config.js';
import { writeCniConfig } from '../src/kubelet/cni.js';
import { containerdPaths, startContainerd, type ContainerdHandle } from '../src/kubelet/containerd.js';
import { CriClient } from '../src/kubelet/cri/client.js';
import { cleanupNodeNetwork, ensureLocalRoutes } from '../src/kubelet/host-network.js';
import { ImageManager } from '../src/kubelet/image-manager.js';
import { buildSandboxConfig } from '../src/kubelet/sandbox-config.js';
import { nodeTestArgs, TEST_IMAGE_STORE } from '../test/helpers/cluster.js';
import { PILOTE_BIN, Endpoint, clientTls, kubeconfigPort, rssMB, startPilote } from './api.js';
import { backgroundLoad, machineLine, markdownTable, percentile, type BenchRow } from './report.js';

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench/pod-startup] ${message}\n`);

/** The image every pod runs: busybox from the test image store. */
const IMAGE = 'busybox';
const IMAGE_FULL = 'docker.io/library/busybox:latest';
/** Settle time before an RSS reading. */
const SETTLE_MS = 3000;

/** Per-pod latencies (ms) and the wall time of the whole round (first create → last Running). */
interface Round {
  latenciesMs: number[];
  wallMs: number;
  /** Server rounds: create → bound to the node (seen by the watch), per pod. */
  boundMs?: number[];
}

export interface PodStartupResult {
  samples: number;
  burstSize: number;
  single: Round;
  burst: Round;
  floorSingle: Round;
  floorBurst: Round;
  /** The same CRI floor with the kubelet's 16 pod workers' concurrency instead of all at once. */
  floorBurst16: Round;
  /** CPU each burst took (ms, all pods together). */
  burstCpu: CpuSample;
  floorBurstCpu: CpuSample;
  rssIdleMB: number;
  rssBurstMB: number;
  rssNoNodeMB: number;
  notes: string[];
}

// ---------------------------------------------------------------- the pilote server with a node

/** A `pilote server` child process with a node. */
interface NodeServer {
  child: ChildProcess;
  dataDir: string;
  kubeconfig: string;
  api: Endpoint;
  /** containerd of the server's node (read-only use: waiting for sandboxes to go, CPU and RSS). */
  cri: CriClient;
  containerdSocket: string;
  containerdPid(): number;
  stop(): Promise<void>;
}

/** Starts `pilote server` with the whole control plane and an isolated node; resolves when its KUBECONFIG line is printed. */
async function startNodeServer(dataDir: string): Promise<NodeServer> {
  const profile = process.env.POD_STARTUP_CPU_PROF;
  const args = [...(profile ? ['--cpu-prof', '--cpu-prof-dir', profile] : []), PILOTE_BIN, 'server', '--port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir, ...nodeTestArgs()];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PILOTE_LOG_LEVEL: 'warn' } });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-16_384)));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      // --cleanup stops every pod and removes the bridge and rules: give it time before SIGKILL.
      const kill = setTimeout(() => {
        log(`pilote server did not exit within 90 s of SIGTERM; killing it (its pods may be left: check ${dataDir})`);
        child.kill('SIGKILL');
      }, 90_000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    }));
  try {
    const kubeconfig = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pilote server not ready within 60 s:\n${stderr}`)), 60_000);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const match = /^export KUBECONFIG=(.+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`pilote server exited with ${code} before it was ready:\n${stderr}`));
      });
    });
    const api = new Endpoint(kubeconfigPort(kubeconfig), clientTls(dataDir), 64);
    const paths = containerdPaths(join(dataDir, 'agent'));
    const cri = new CriClient(paths.socket);
    return {
      child,
      dataDir,
      kubeconfig,
      api,
      cri,
      containerdSocket: paths.socket,
      containerdPid: () => Number(readFileSync(paths.pidFile, 'utf8').trim()),
      async stop() {
        api.close();
        cri.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Polls `check` every 50 ms until it returns a value, or throws after `timeoutMs`. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message;
    }
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${last}` : ''}`);
    await sleep(50);
  }
}

/** Waits until the server's Node is Ready and the default ServiceAccount exists (pods are refused before). */
async function waitNodeReady(server: NodeServer): Promise<string> {
  const nodeName = await waitFor('the node to be Ready', 60_000, async () => {
    const nodes = JSON.parse((await server.api.ok('GET', '/api/v1/nodes')).body.toString('utf8')) as { items: { metadata: { name: string }; status?: { conditions?: { type: string; status: string }[] } }[] };
    return nodes.items.find((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))?.metadata.name;
  });
  await waitFor('the default ServiceAccount', 30_000, async () => ((await server.api.request('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status === 200 ? true : undefined));
  return nodeName;
}

/** One watch on the namespace's pods for the whole run: when each pod was first seen Running, and which are gone. */
class PodWatch {
  readonly runningAt = new Map<string, number>();
  /** When each pod was first seen with a node (bound by the scheduler). */
  readonly boundAt = new Map<string, number>();
  readonly deleted = new Set<string>();
  /** Pods stuck on an error (waiting reason other than ContainerCreating, or phase Failed): name → reason. */
  readonly problems = new Map<string, string>();
  private waiters = new Set<() => void>();
  private stream?: { close(): void; opened: Promise<void> };

  async open(api: Endpoint, namespace: string): Promise<void> {
    const list = JSON.parse((await api.ok('GET', `/api/v1/namespaces/${namespace}/pods?limit=1`)).body.toString('utf8')) as { metadata: { resourceVersion: string } };
    this.stream = api.stream(`/api/v1/namespaces/${namespace}/pods?watch=true&allowWatchBookmarks=false&resourceVersion=${list.metadata.resourceVersion}`, (line) => this.onLine(line));
    await this.stream.opened;
  }

  private onLine(line: string): void {
    const at = now();
    const event = JSON.parse(line) as { type: string; object: Pod };
    const name = event.object.metadata?.name ?? '';
    if (event.object.spec?.nodeName && !this.boundAt.has(name)) this.boundAt.set(name, at);
    if (event.type === 'DELETED') this.deleted.add(name);
    else if (event.object.status?.phase === 'Running') {
      if (!this.runningAt.has(name)) this.runningAt.set(name, at);
    } else {
      const waiting = event.object.status?.containerStatuses?.find((s) => s.state?.waiting && s.state.waiting.reason !== 'ContainerCreating')?.state?.waiting;
      if (waiting) this.problems.set(name, `${waiting.reason}: ${waiting.message ?? ''}`);
      else if (event.object.status?.phase === 'Failed') this.problems.set(name, `Failed: ${event.object.status.message ?? ''}`);
    }
    for (const wake of this.waiters) wake();
  }

  /** Resolves when `done()` holds, re-checked at every event; throws after `timeoutMs` saying what is missing. */
  async until(what: string, timeoutMs: number, done: () => boolean, missing: () => string): Promise<void> {
    if (done()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; ${missing()}`));
      }, timeoutMs);
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  close(): void {
    this.stream?.close();
  }
}

function podManifest(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'pod-startup-bench' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [{ name: 'main', image: IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] }],
    },
  });
}

/**
 * Creates `count` pods at once (every POST issued together) and returns each
 * one's create → Running latency (from its own POST) and first POST → last Running.
 */
async function serverRound(server: NodeServer, watch: PodWatch, names: string[], timeoutMs: number): Promise<Round> {
  const createdAt = new Map<string, number>();
  const started = now();
  await Promise.all(
    names.map(async (name) => {
      createdAt.set(name, now());
      await server.api.ok('POST', '/api/v1/namespaces/default/pods', podManifest(name));
    }),
  );
  const pending = () => names.filter((n) => !watch.runningAt.has(n));
  await watch.until(`${names.length} pod(s) Running`, timeoutMs, () => pending().length === 0 || names.some((n) => watch.problems.has(n)), () => {
    const left = pending();
    return `${left.length} not Running (${left.slice(0, 5).join(', ')})`;
  });
  const broken = names.filter((n) => watch.problems.has(n) && !watch.runningAt.has(n));
  if (broken.length) throw new Error(`pods failed to start: ${broken.slice(0, 3).map((n) => `${n}: ${watch.problems.get(n)}`).join('; ')}`);
  const latenciesMs = names.map((n) => watch.runningAt.get(n)! - createdAt.get(n)!);
  const boundMs = names.map((n) => (watch.boundAt.get(n) ?? NaN) - createdAt.get(n)!);
  const wallMs = Math.max(...names.map((n) => watch.runningAt.get(n)!)) - started;
  return { latenciesMs, wallMs, boundMs };
}

/** Force-deletes the pods, then waits until the kubelet has removed their sandboxes from containerd: the next round starts on a quiet node. */
async function serverTeardown(server: NodeServer, watch: PodWatch, names: string[]): Promise<void> {
  await Promise.all(names.map((name) => server.api.ok('DELETE', `/api/v1/namespaces/default/pods/${name}`, JSON.stringify({ gracePeriodSeconds: 0 }))));
  await watch.until('pods deleted', 60_000, () => names.every((n) => watch.deleted.has(n)), () => `${names.filter((n) => !watch.deleted.has(n)).length} still in the API`);
  await waitFor('the kubelet to remove the deleted pods\' sandboxes', 120_000, async () => ((await server.cri.listPodSandbox()).length === 0 ? true : undefined));
}

// ---------------------------------------------------------------- the CRI floor

/** A second containerd set up as the node's, for the floor. */
interface FloorRuntime {
  config: AgentConfig;
  containerd: ContainerdHandle;
  cri: CriClient;
  imageRef: string;
  stop(): Promise<void>;
}

/** A pod /24 with no route on the machine yet (another cluster may be running beside us). */
function freePodSubnet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const subnet = randomInt(1, 255);
    if (!routes.includes(`10.42.${subnet}.0/24`)) return subnet;
  }
  throw new Error('no free 10.42.X.0/24 for the floor bridge: remove stale bridges (ip -4 route show)');
}

/** A synthetic pod, for the kubelet's own sandbox config builder. */
function floorPod(name: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'floor', uid: `floor-${randomBytes(8).toString('hex')}`, labels: { 'pilote.dev/bench-floor': 'true' } },
    spec: { containers: [{ name: 'main', image: IMAGE, command: ['sleep', '3600'] }] },
  };
}

async function startFloorRuntime(dir: string): Promise<FloorRuntime> {
  const id = randomBytes(3).toString('hex');
  const config = defaultAgentConfig(dir, '', {
    nodeName: `floor-${id}`,
    dataDir: join(dir, 'agent'),
    nodeIp: '127.0.0.1',
    podCidr: `10.42.${freePodSubnet()}.0/24`,
    bridgeName: `pf${id}`,
    nftTable: `pf_${id}`,
    imageStoreDir: TEST_IMAGE_STORE,
  });
  // As startAgent does: cluster/service ranges routed nowhere, the node's conflist, its containerd.
  ensureLocalRoutes(config);
  writeCniConfig(config);
  const containerd = await startContainerd(config);
  const cri = new CriClient(containerd.socket);
  const stop = async () => {
    cri.close();
    await containerd.stop({ cleanup: true });
    cleanupNodeNetwork(config);
  };
  try {
    // The node's own import path: the busybox of the image store, streamed into containerd.
    const images = new ImageManager({ cri, config, recorder: { event: () => undefined } });
    const pod = floorPod('image');
    const ensured = await images.ensureImage(pod, { ...(pod.spec!.containers[0] as Container), imagePullPolicy: 'IfNotPresent' });
    return { config, containerd, cri, imageRef: ensured.imageRef, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** RunPodSandbox + CreateContainer + StartContainer: the runtime's own cost of a one-container pod. */
async function criPod(floor: FloorRuntime, name: string): Promise<void> {
  const pod = floorPod(name);
  const sandboxConfig = buildSandboxConfig(pod, floor.config, 0);
  mkdirSync(sandboxConfig.logDirectory!, { recursive: true });
  const sandbox = await floor.cri.runPodSandbox(sandboxConfig);
  const container = await floor.cri.createContainer(
    sandbox,
    { metadata: { name: 'main', attempt: 0 }, image: { image: floor.imageRef }, command: ['sleep', '3600'], logPath: 'main.log', linux: {} },
    sandboxConfig,
  );
  await floor.cri.startContainer(container);
}

/** `count` CRI pods, at most `concurrency` in flight; latency of each from the round's start (all are asked for at once). */
async function floorRound(floor: FloorRuntime, count: number, concurrency: number, tag: string): Promise<Round> {
  const latenciesMs: number[] = [];
  const started = now();
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async () => {
      while (next < count) {
        const i = next++;
        await criPod(floor, `${tag}-${i}`);
        latenciesMs.push(now() - started);
      }
    }),
  );
  return { latenciesMs, wallMs: now() - started };
}

/** Stops and removes every floor sandbox (untimed). */
async function floorTeardown(floor: FloorRuntime): Promise<void> {
  const sandboxes = await floor.cri.listPodSandbox();
  await Promise.all(
    sandboxes.map(async (s) => {
      await floor.cri.stopPodSandbox(s.id);
      await floor.cri.removePodSandbox(s.id);
    }),
  );
  rmSync(join(floor.config.dataDir, 'logs'), { recursive: true, force: true });
}

// ---------------------------------------------------------------- CPU and memory

/** Clock ticks per second of /proc's CPU times. */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU milliseconds of a process from /proc/<pid>/stat: its own (user + system), and that of its children it has reaped. */
function processCpuMs(pid: number): { own: number; children: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ", stat(5) fields 14–17 (utime, stime, cutime, cstime) are at indexes 11–14.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    return { own: ((f[11]! + f[12]!) * 1000) / CLK_TCK, children: ((f[13]! + f[14]!) * 1000) / CLK_TCK };
  } catch {
    return { own: 0, children: 0 }; // gone
  }
}

/** CPU milliseconds all CPUs spent busy (not idle or iowait) since boot, from /proc/stat. */
function machineBusyCpuMs(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  return ((total - fields[3]! - fields[4]!) * 1000) / CLK_TCK;
}

/** containerd of a node and the containerd-shim-runc-v2 processes serving its socket. */
function runtimePids(containerdPid: number, socket: string): { containerd: number; shims: number[] } {
  const shims: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline[0]?.endsWith('containerd-shim-runc-v2') && cmdline[cmdline.indexOf('-address') + 1] === socket) shims.push(Number(entry));
    } catch {
      /* the process went away */
    }
  }
  return { containerd: containerdPid, shims };
}

/** CPU counters sampled before and after a round (ms). */
interface CpuSample {
  machine: number;
  /** The pilote server process itself (0 for the floor). */
  server: number;
  /** Its reaped children (mount, umount, ctr…). */
  serverChildren: number;
  /** containerd and its shims, with their reaped children (runc, CNI plugins). */
  runtime: number;
}

function sampleCpu(serverPid: number | undefined, containerdPid: number, socket: string): CpuSample {
  const server = serverPid ? processCpuMs(serverPid) : { own: 0, children: 0 };
  const { containerd, shims } = runtimePids(containerdPid, socket);
  let runtime = 0;
  for (const pid of [containerd, ...shims]) {
    const cpu = processCpuMs(pid);
    runtime += cpu.own + cpu.children;
  }
  return { machine: machineBusyCpuMs(), server: server.own, serverChildren: server.children, runtime };
}

/**
 * Runs `work` and returns its result with the CPU it took. Shims are counted
 * from their start, so every round must start with none alive (each round
 * starts after the previous one's sandboxes are removed).
 */
async function withCpu<T>(serverPid: number | undefined, containerdPid: number, socket: string, work: () => Promise<T>): Promise<{ result: T; cpu: CpuSample }> {
  const before = sampleCpu(serverPid, containerdPid, socket);
  const result = await work();
  const after = sampleCpu(serverPid, containerdPid, socket);
  return {
    result,
    cpu: { machine: after.machine - before.machine, server: after.server - before.server, serverChildren: after.serverChildren - before.serverChildren, runtime: after.runtime - before.runtime },
  };
}

/** RSS (MB) of a node's containerd and of its shims. */
function runtimeRssMB(containerdPid: number, socket: string): { containerdMB: number; shims: number; shimsMB: number } {
  const { containerd, shims } = runtimePids(containerdPid, socket);
  let shimsMB = 0;
  for (const pid of shims) {
    try {
      shimsMB += rssMB(pid);
    } catch {
      /* gone */
    }
  }
  return { containerdMB: rssMB(containerd), shims: shims.length, shimsMB };
}

/** VmRSS of an API-only `pilote server` (no node) after the same settle time: what the node adds is the difference. */
async function noNodeRssMB(root: string): Promise<number> {
  const dataDir = join(root, 'no-node');
  const server = startPilote(dataDir);
  try {
    await server.ready;
    await sleep(SETTLE_MS);
    return rssMB(server.pid);
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------- the benchmark

function mergeRounds(rounds: Round[]): Round {
  return { latenciesMs: rounds.flatMap((r) => r.latenciesMs), wallMs: rounds.reduce((sum, r) => sum + r.wallMs, 0), boundMs: rounds.flatMap((r) => r.boundMs ?? []) };
}

/** Runs the whole benchmark; see the file comment. */
export async function runPodStartupBench(samples = 10, burstSize = 50): Promise<PodStartupResult> {
  if (process.getuid?.() !== 0) throw new Error('bench/pod-startup needs root (containerd, CNI bridges, nftables)');
  const root = mkdtempSync(join(tmpdir(), 'pilote-bench-pods-'));
  const notes: string[] = [];
  let floor: FloorRuntime | undefined;
  let server: NodeServer | undefined;
  const watch = new PodWatch();
  try {
    log('API-only server (RSS floor)');
    const rssNoNodeMB = await noNodeRssMB(root);

    log('floor containerd + busybox import');
    let t = now();
    floor = await startFloorRuntime(join(root, 'floor'));
    notes.push(`floor containerd ${floor.containerd.version} started and busybox imported from the image store in ${(now() - t).toFixed(0)} ms`);

    log('pilote server with a node');
    t = now();
    server = await startNodeServer(join(root, 'server'));
    const nodeName = await waitNodeReady(server);
    notes.push(`pilote server start → node ${nodeName} Ready and default ServiceAccount present: ${(now() - t).toFixed(0)} ms`);
    await watch.open(server.api, 'default');
    await sleep(SETTLE_MS);
    const rssIdleMB = rssMB(server.child.pid!);
    const idleRuntime = runtimeRssMB(server.containerdPid(), server.containerdSocket);

    // Warm-up: the first pod imports busybox into the node's containerd; first sandboxes load CNI plugins.
    log('warm-up');
    const firstPod = await serverRound(server, watch, ['warm-0'], 120_000);
    notes.push(`first pod (imports busybox from the image store into the node's containerd): create → Running ${firstPod.latenciesMs[0]!.toFixed(0)} ms (not counted)`);
    await serverTeardown(server, watch, ['warm-0']);
    await serverRound(server, watch, ['warm-1', 'warm-2'], 60_000);
    await serverTeardown(server, watch, ['warm-1', 'warm-2']);
    await floorRound(floor, 2, 2, 'warm');
    await floorTeardown(floor);

    log(`${samples} single pods, alternating floor and server`);
    const singles: Round[] = [];
    const floorSingles: Round[] = [];
    for (let i = 0; i < samples; i++) {
      floorSingles.push(await floorRound(floor, 1, 1, `fs${i}`));
      await floorTeardown(floor);
      singles.push(await serverRound(server, watch, [`single-${i}`], 60_000));
      await serverTeardown(server, watch, [`single-${i}`]);
    }

    log(`${burstSize} pods at once: floor (all at once, then 16 in flight), then server`);
    const floorMeasured = await withCpu(undefined, floor.containerd.pid, floor.containerd.socket, () => floorRound(floor!, burstSize, burstSize, 'fb'));
    const floorBurst = floorMeasured.result;
    await floorTeardown(floor);
    const floorBurst16 = await floorRound(floor, burstSize, 16, 'fb16');
    await floorTeardown(floor);
    const names = Array.from({ length: burstSize }, (_, i) => `burst-${i}`);
    const burstMeasured = await withCpu(server.child.pid!, server.containerdPid(), server.containerdSocket, () => serverRound(server!, watch, names, 180_000));
    const burst = burstMeasured.result;
    await sleep(SETTLE_MS);
    const rssBurstMB = rssMB(server.child.pid!);
    const burstRuntime = runtimeRssMB(server.containerdPid(), server.containerdSocket);
    notes.push(
      `node's runtime beside the server: containerd ${idleRuntime.containerdMB.toFixed(0)} MB idle, ${burstRuntime.containerdMB.toFixed(0)} MB with ${burstSize} pods; ` +
        `${burstRuntime.shims} containerd-shim-runc-v2 processes, ${burstRuntime.shimsMB.toFixed(0)} MB together (not in the server's RSS)`,
    );
    const ms = (values: number[] | undefined, p: number) => percentile(values ?? [], p).toFixed(0);
    notes.push(
      `create → bound (scheduler) as the watch saw it: single pods p50 ${ms(singles.flatMap((r) => r.boundMs ?? []), 50)} ms; ` +
        `${burstSize} at once p50 ${ms(burst.boundMs, 50)} ms, p99 ${ms(burst.boundMs, 99)} ms — the rest of create → Running is the kubelet and the runtime`,
    );
    t = now();
    await serverTeardown(server, watch, names);
    notes.push(`${burstSize} pods force-deleted → all their sandboxes removed by the kubelet: ${(now() - t).toFixed(0)} ms`);

    return {
      samples,
      burstSize,
      single: mergeRounds(singles),
      burst,
      floorSingle: mergeRounds(floorSingles),
      floorBurst,
      floorBurst16,
      burstCpu: burstMeasured.cpu,
      floorBurstCpu: floorMeasured.cpu,
      rssIdleMB,
      rssBurstMB,
      rssNoNodeMB,
      notes,
    };
  } finally {
    watch.close();
    // Every step runs even if one before it failed: nothing may be left on the machine.
    for (const [what, step] of [
      ['server', () => server?.stop()],
      ['floor sandboxes', () => floor && floorTeardown(floor)],
      ['floor containerd', () => floor?.stop()],
      ['files', () => rmSync(root, { recursive: true, force: true })],
    ] as const) {
      try {
        await step();
      } catch (error) {
        log(`cleanup of ${what} failed: ${(error as Error).message}`);
      }
    }
  }
}

/** The figures as report rows. */
export function podStartupRows(r: PodStartupResult): BenchRow[] {
  const single = 'CRI RunPodSandbox + CreateContainer + StartContainer, one at a time';
  const burst = `the same, ${r.burstSize} at once`;
  const rate = (round: Round) => (round.latenciesMs.length / round.wallMs) * 1000;
  const n = r.burstSize;
  return [
    { metric: `1 pod: create → Running (watch) p50, ${r.samples} samples`, value: percentile(r.single.latenciesMs, 50), unit: 'ms', floor: percentile(r.floorSingle.latenciesMs, 50), floorName: single },
    { metric: '1 pod: create → Running (watch) p99', value: percentile(r.single.latenciesMs, 99), unit: 'ms', floor: percentile(r.floorSingle.latenciesMs, 99), floorName: single, aim: { op: '<', value: 1000 } },
    { metric: `${r.burstSize} pods at once: create → Running p50`, value: percentile(r.burst.latenciesMs, 50), unit: 'ms', floor: percentile(r.floorBurst.latenciesMs, 50), floorName: burst },
    { metric: `${r.burstSize} pods at once: create → Running p99`, value: percentile(r.burst.latenciesMs, 99), unit: 'ms', floor: percentile(r.floorBurst.latenciesMs, 99), floorName: burst, aim: { op: '<', value: 5000 } },
    { metric: `${r.burstSize} pods at once: pods Running per second (first create → last Running)`, value: rate(r.burst), unit: '/s', floor: rate(r.floorBurst), floorName: burst, aim: { op: '>=', value: 20 } },
    { metric: `${r.burstSize} pods at once: same, floor with 16 CRI pods in flight (the kubelet's pod workers)`, value: rate(r.burst), unit: '/s', floor: rate(r.floorBurst16), floorName: `the same CRI calls, 16 in flight` },
    { metric: `${r.burstSize} pods at once: busy CPU of the whole machine per pod`, value: r.burstCpu.machine / n, unit: 'ms', floor: r.floorBurstCpu.machine / n, floorName: burst },
    { metric: `${r.burstSize} pods at once: CPU of containerd + shims per pod (with runc and CNI plugins)`, value: r.burstCpu.runtime / n, unit: 'ms', floor: r.floorBurstCpu.runtime / n, floorName: burst },
    { metric: `${r.burstSize} pods at once: CPU of the pilote server process per pod (API server, scheduler, controllers, kubelet)`, value: r.burstCpu.server / n, unit: 'ms' },
    { metric: `${r.burstSize} pods at once: CPU of the server's child processes per pod (mount, umount…)`, value: r.burstCpu.serverChildren / n, unit: 'ms' },
    { metric: 'RSS of pilote server, node idle (after start + 3 s)', value: r.rssIdleMB, unit: 'MB', floor: r.rssNoNodeMB, floorName: 'the same server without a node, --disable-agent' },
    { metric: `RSS of pilote server, ${r.burstSize} pods Running (+ 3 s)`, value: r.rssBurstMB, unit: 'MB', floor: r.rssIdleMB, floorName: 'the same server, node idle' },
  ];
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 10);
  const burstSize = Number(process.argv[3] ?? 50);
  console.log(`Pod startup benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`before: ${await backgroundLoad()}`);
  const started = now();
  const result = await runPodStartupBench(samples, burstSize);
  console.log(markdownTable(podStartupRows(result)));
  for (const note of result.notes) console.log(`- ${note}`);
  const list = (round: Round) => round.latenciesMs.map((ms) => ms.toFixed(0)).join(', ');
  console.log(`- single pods (ms): ${list(result.single)}; floor: ${list(result.floorSingle)}`);
  console.log(`- after: ${await backgroundLoad()}`);
  console.log(`(${((now() - started) / 1000).toFixed(0)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
