/**
 * API server benchmarks: a real `pilote server` process driven over HTTPS
 * (keep-alive node:https agents, admin client certificate) and by the real
 * kubectl, each figure beside its floor measured in the same run:
 *
 *   start-up (cold and warm) to the first `kubectl get ns`  vs a bare Node HTTPS server replaying recorded answers
 *   idle RSS                                               vs an idle bare Node HTTPS server
 *   creates/s                                              vs raw durable SQLite inserts/s and raw HTTPS requests/s
 *   GET p50/p99, sequential and concurrent                 vs the raw HTTPS server sending a body of the same size
 *   write p99 at a paced 200/s                             vs the raw HTTPS server doing one durable insert per request
 *   LIST of 10,000 pods                                    vs the raw HTTPS server sending a body of the same size
 *   watch delivery latency                                 vs the paced durable write round trip
 *
 * Run with `node dist/bench/api.js`; bench/run-all.ts imports {@link runApiBench}.
 * Every phase is bounded in time and count; only loopback traffic.
 */
import { request as httpsRequest, Agent } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { measureRawDurableInsertsPerSecond } from './storage-floor.js';
import type { DiskProbeResult } from './disk-probe.js';
import { backgroundLoad, machineLine, markdownTable, median, percentile, type BenchRow } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
/** Compiled pilote entry point (dist/src/cmd/pilote.js). */
export const PILOTE_BIN = join(here, '..', 'src', 'cmd', 'pilote.js');
/** Compiled floor server (dist/bench/floor-server.js). */
export const FLOOR_BIN = join(here, 'floor-server.js');
/** Compiled disk probe (dist/bench/disk-probe.js). */
export const DISK_PROBE_BIN = join(here, 'disk-probe.js');

const now = () => performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const log = (message: string) => process.stderr.write(`[bench/api] ${message}\n`);

// ---------------------------------------------------------------- processes

/** The real kubectl 1.32 beside the dispatcher found on PATH. */
export function kubectlBinary(): string {
  const which = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim();
  return join(dirname(realpathSync(which)), 'kubectl.1.32');
}

/** A child server process: pilote or the floor server. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  /** Milliseconds from spawn to its ready line on stdout, and the line. */
  ready: Promise<{ ms: number; line: string }>;
  stop(): Promise<void>;
}

function startProcess(args: string[], readyPattern: RegExp, env: Record<string, string> = {}): ServerProcess {
  const started = now();
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PILOTE_LOG_LEVEL: 'warn', ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  const ready = new Promise<{ ms: number; line: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args[0]} not ready within 30 s:\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (readyPattern.test(line)) {
        clearTimeout(timer);
        resolve({ ms: now() - started, line });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args[0]} exited with ${code} before it was ready:\n${stderr}`));
    });
  });
  ready.catch(() => undefined);
  let stopped: Promise<void> | undefined;
  return {
    child,
    pid: child.pid!,
    ready,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}

/** Starts `pilote server` on a free loopback port with `dataDir`. */
export function startPilote(dataDir: string, extraArgs: string[] = []): ServerProcess {
  return startProcess([PILOTE_BIN, 'server', '--port', '0', '--bind-address', '127.0.0.1', '--data-dir', dataDir, '--disable-agent', ...extraArgs], /^export KUBECONFIG=/);
}

/** Starts the floor server (bench/floor-server.ts); see its usage. */
export function startFloor(options: { tlsDir: string; canned?: string; kubeconfigTemplate?: string; kubeconfigOut?: string; durable?: string }): ServerProcess {
  const args = [FLOOR_BIN, '--tls-dir', options.tlsDir];
  if (options.canned) args.push('--canned', options.canned);
  if (options.kubeconfigTemplate && options.kubeconfigOut) args.push('--kubeconfig-template', options.kubeconfigTemplate, '--kubeconfig-out', options.kubeconfigOut);
  if (options.durable) args.push('--durable', options.durable);
  return startProcess(args, /^ready \d+$/);
}

/**
 * Runs `during` while a disk probe process (bench/disk-probe.ts) does one
 * fsync'd insert every 50 ms beside it; returns both results.
 */
export async function withDiskProbe<T>(dir: string, seconds: number, during: () => Promise<T>): Promise<{ result: T; probe: DiskProbeResult | undefined }> {
  const child = spawn(process.execPath, [DISK_PROBE_BIN, '--dir', dir, '--seconds', String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => (onReady(), resolve())));
  const kill = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
  try {
    await Promise.race([ready, sleep(10_000)]);
    const result = await during();
    await exited;
    let probe: DiskProbeResult | undefined;
    try {
      probe = JSON.parse(out.replace(/^ready\n/, '')) as DiskProbeResult;
    } catch {
      probe = undefined;
    }
    return { result, probe };
  } finally {
    clearTimeout(kill);
  }
}

/** The port a kubeconfig points at. */
export function kubeconfigPort(kubeconfig: string): number {
  return Number(/server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]);
}

/** Resident set size of a process in MB, from /proc/<pid>/status VmRSS. */
export function rssMB(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) / 1024;
}

function runKubectl(kubectl: string, kubeconfig: string, home: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      kubectl,
      ['get', 'ns'],
      { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: home, NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' }, timeout: 10_000 },
      (error, stdout) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout: String(stdout) }),
    );
  });
}

/**
 * Launches a server and runs `kubectl get ns` in a tight loop until it
 * succeeds: whenever the kubeconfig exists, one kubectl; otherwise a 1 ms
 * wait. Returns milliseconds from launch to the first success.
 */
export async function timeToFirstKubectl(
  launch: () => ServerProcess,
  kubeconfig: string,
  kubectl: string,
): Promise<{ ms: number; readyMs: number; attempts: number; server: ServerProcess }> {
  const home = mkdtempSync(join(tmpdir(), 'pilote-bench-home-'));
  try {
    const started = now();
    const server = launch();
    let exited = false;
    server.child.once('exit', () => (exited = true));
    let attempts = 0;
    const deadline = started + 20_000;
    for (let spins = 0; spins < 20_000 && now() < deadline && !exited; spins++) {
      if (!existsSync(kubeconfig)) {
        await sleep(1);
        continue;
      }
      attempts++;
      const result = await runKubectl(kubectl, kubeconfig, home);
      if (result.code === 0 && /\bdefault\b/.test(result.stdout)) {
        const ms = now() - started;
        return { ms, readyMs: (await server.ready).ms, attempts, server };
      }
    }
    await server.stop();
    throw new Error(`kubectl get ns never succeeded (${attempts} attempts, exited=${exited}): ${await server.ready.catch((e: Error) => e.message)}`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- HTTPS client

/** Client credentials: the cluster CA and the admin client certificate. */
export interface ClientTls {
  ca: string;
  cert: string;
  key: string;
}

/** Reads the CA and the admin client certificate from a pilote data directory. */
export function clientTls(dataDir: string): ClientTls {
  const tls = join(dataDir, 'tls');
  return { ca: readFileSync(join(tls, 'ca.crt'), 'utf8'), cert: readFileSync(join(tls, 'admin.crt'), 'utf8'), key: readFileSync(join(tls, 'admin.key'), 'utf8') };
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** One HTTPS endpoint reached through a keep-alive agent (the same client code for pilote and its floor). */
export class Endpoint {
  readonly agent: Agent;
  constructor(
    readonly port: number,
    private readonly tls: ClientTls,
    maxSockets = 64,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca: tls.ca, cert: tls.cert, key: tls.key });
  }

  /** Sends a request and reads the whole answer (30 s timeout). */
  request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: body === undefined ? headers : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /** Like request() but throws unless the status is 2xx. */
  async ok(method: string, path: string, body?: string, headers?: Record<string, string>): Promise<HttpResult> {
    const result = await this.request(method, path, body, headers);
    if (result.status < 200 || result.status > 299) throw new Error(`${method} ${path}: ${result.status} ${result.body.toString('utf8', 0, 300)}`);
    return result;
  }

  /** Opens a long-running GET on its own connection (for watches). */
  stream(path: string, onLine: (line: string) => void): { close(): void; opened: Promise<void> } {
    const req = httpsRequest({ host: '127.0.0.1', port: this.port, path, agent: false, ca: this.tls.ca, cert: this.tls.cert, key: this.tls.key });
    const opened = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        if (res.statusCode !== 200) reject(new Error(`watch ${path}: ${res.statusCode}`));
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            if (line) onLine(line);
          }
        });
        res.on('error', () => undefined);
        resolve();
      });
      req.on('error', reject);
    });
    opened.catch(() => undefined);
    req.end();
    return { opened, close: () => req.destroy() };
  }

  close(): void {
    this.agent.destroy();
  }
}

// ---------------------------------------------------------------- load shapes

/** What a load run measured. */
export interface LoadResult {
  ok: number;
  errors: number;
  seconds: number;
  /** Latency of each successful operation, ms. */
  latencies: number[];
  firstError?: string;
}

/**
 * Closed loop: `concurrency` workers each issue `op` back to back until
 * `seconds` pass or `maxOps` operations were issued.
 */
export async function closedLoop(concurrency: number, seconds: number, maxOps: number, op: (i: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, errors: 0, seconds: 0, latencies: [] };
  const start = now();
  const deadline = start + seconds * 1000;
  let issued = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < deadline && issued < maxOps && result.errors < 100) {
        const i = issued++;
        const t = now();
        try {
          await op(i);
          result.latencies.push(now() - t);
          result.ok++;
        } catch (error) {
          result.errors++;
          result.firstError ??= (error as Error).message;
        }
      }
    }),
  );
  result.seconds = (now() - start) / 1000;
  return result;
}

/**
 * Open loop: operation i starts at start + i / rate whatever happened before;
 * its latency counts from that intended start (so a stall delays every
 * operation queued behind it, as it would for real clients).
 */
export async function pacedLoop(rate: number, seconds: number, op: (i: number) => Promise<void>): Promise<LoadResult> {
  const result: LoadResult = { ok: 0, errors: 0, seconds: 0, latencies: [] };
  const total = Math.round(rate * seconds);
  const period = 1000 / rate;
  const start = now() + 5;
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const intended = start + i * period;
    const wait = intended - now();
    if (wait > 0) await sleep(wait);
    inflight.push(
      op(i).then(
        () => {
          result.latencies.push(now() - intended);
          result.ok++;
        },
        (error: Error) => {
          result.errors++;
          result.firstError ??= error.message;
        },
      ),
    );
  }
  await Promise.all(inflight);
  result.seconds = (now() - start) / 1000;
  return result;
}

function checkErrors(what: string, result: LoadResult): void {
  if (result.errors > 0) log(`${what}: ${result.errors} errors (${result.ok} ok), first: ${result.firstError}`);
  if (result.ok === 0) throw new Error(`${what}: no successful operation: ${result.firstError}`);
}

// ---------------------------------------------------------------- objects

/** A ConfigMap of about 1 KB as JSON. */
export function configMapBody(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'bench' } }, data: { blob: 'x'.repeat(900) } });
}

/** A small pod (one container); pilote's defaults make it about 1.5 KB stored. */
export function podBody(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } });
}

const pad = (i: number) => String(i).padStart(6, '0');

// ---------------------------------------------------------------- the benchmark

/** Options of one run; the defaults keep the whole run around a minute and a half on 2 cores. */
export interface ApiBenchOptions {
  startups: number;
  concurrency: number;
  createSeconds: number;
  getSeconds: number;
  pacedRate: number;
  pacedSeconds: number;
  floorPacedSeconds: number;
  watchRate: number;
  watchSeconds: number;
  listPods: number;
  listRepeats: number;
  idleSeconds: number;
}

export const DEFAULT_API_BENCH_OPTIONS: ApiBenchOptions = {
  startups: 3,
  concurrency: 32,
  createSeconds: 5,
  getSeconds: 3,
  pacedRate: 200,
  pacedSeconds: 10,
  floorPacedSeconds: 10,
  watchRate: 200,
  watchSeconds: 5,
  listPods: 10_000,
  listRepeats: 15,
  idleSeconds: 3,
};

/** Everything a run measured, beyond the rows (for the doc and for debugging). */
export interface ApiBenchResult {
  rows: BenchRow[];
  notes: string[];
}

/** Runs every API benchmark against fresh pilote servers in temporary directories (removed afterwards). */
export async function runApiBench(partial: Partial<ApiBenchOptions> = {}): Promise<ApiBenchResult> {
  const options = { ...DEFAULT_API_BENCH_OPTIONS, ...partial };
  const rows: BenchRow[] = [];
  const notes: string[] = [];
  const root = mkdtempSync(join(tmpdir(), 'pilote-bench-api-'));
  const servers: ServerProcess[] = [];
  const endpoints: Endpoint[] = [];
  const track = (server: ServerProcess) => (servers.push(server), server);
  try {
    const kubectl = kubectlBinary();

    // ---- 1. start-up: cold (fresh data dir, certificates generated), warm (same dir again), floor
    log('start-up');
    const cold: number[] = [];
    const warm: number[] = [];
    const floor: number[] = [];
    const coldReady: number[] = [];
    const warmReady: number[] = [];
    const cannedPath = join(root, 'canned.json');
    const mainDir = join(root, 'pilote-0');
    for (let k = 0; k < options.startups; k++) {
      const dir = join(root, `pilote-${k}`);
      const kubeconfig = join(dir, 'kubeconfig.yaml');
      const first = await timeToFirstKubectl(() => track(startPilote(dir)), kubeconfig, kubectl);
      cold.push(first.ms);
      coldReady.push(first.readyMs);
      if (k === 0) await recordCanned(dir, cannedPath);
      await first.server.stop();
      unlinkSync(kubeconfig); // the warm start rewrites it with its new port
      const second = await timeToFirstKubectl(() => track(startPilote(dir)), kubeconfig, kubectl);
      warm.push(second.ms);
      warmReady.push(second.readyMs);
      await second.server.stop();
      const floorKubeconfig = join(root, `floor-kubeconfig-${k}.yaml`);
      const bare = await timeToFirstKubectl(
        () => track(startFloor({ tlsDir: join(mainDir, 'tls'), canned: cannedPath, kubeconfigTemplate: join(mainDir, 'kubeconfig.yaml'), kubeconfigOut: floorKubeconfig })),
        floorKubeconfig,
        kubectl,
      );
      floor.push(bare.ms);
      await bare.server.stop();
      if (k > 0) rmSync(dir, { recursive: true, force: true });
    }
    const floorName = 'bare Node HTTPS server + same kubectl get ns';
    rows.push({ metric: 'start-up, cold (new data dir, certs generated) → first kubectl get ns OK', value: median(cold), unit: 'ms', floor: median(floor), floorName, aim: { op: '<', value: 1000 } });
    rows.push({ metric: 'start-up, warm (same data dir) → first kubectl get ns OK', value: median(warm), unit: 'ms', floor: median(floor), floorName, aim: { op: '<', value: 1000 } });
    rows.push({ metric: 'start-up, cold → KUBECONFIG line printed (server ready)', value: median(coldReady), unit: 'ms' });
    rows.push({ metric: 'start-up, warm → KUBECONFIG line printed (server ready)', value: median(warmReady), unit: 'ms' });
    notes.push(
      `start-up runs (ms): cold ${cold.map((n) => n.toFixed(0)).join(', ')}; warm ${warm.map((n) => n.toFixed(0)).join(', ')}; floor ${floor.map((n) => n.toFixed(0)).join(', ')}`,
    );

    // ---- 2. idle memory: the server for the load phases, and an idle bare HTTPS server beside it
    log('idle memory');
    const pilote = track(startPilote(mainDir));
    const idleFloor = track(startFloor({ tlsDir: join(mainDir, 'tls') }));
    await Promise.all([pilote.ready, idleFloor.ready]);
    await sleep(options.idleSeconds * 1000);
    const idleRss = rssMB(pilote.pid);
    rows.push({ metric: `idle RSS after start + ${options.idleSeconds} s`, value: idleRss, unit: 'MB', floor: rssMB(idleFloor.pid), floorName: 'idle bare Node HTTPS server', aim: { op: '<', value: 150 } });
    await idleFloor.stop();

    // The load phases measure the API server and its storage alone: with no
    // nodes, the scheduler and controllers would add their own writes per pod.
    await pilote.stop();
    const apiOnly = track(startPilote(mainDir, ['--controllers=-*']));
    await apiOnly.ready;

    // The floor for the load phases: bare HTTPS, with a durable-insert route.
    const loadFloor = track(startFloor({ tlsDir: join(mainDir, 'tls'), durable: join(root, 'floor-durable.db') }));
    const floorPort = Number(/^ready (\d+)$/.exec((await loadFloor.ready).line)![1]);
    const tls = clientTls(mainDir);
    const api = new Endpoint(kubeconfigPort(join(mainDir, 'kubeconfig.yaml')), tls);
    const raw = new Endpoint(floorPort, tls);
    endpoints.push(api, raw);
    await api.ok('POST', '/api/v1/namespaces', JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }));

    // ---- 3. creates/s
    log('creates/s');
    const { concurrency } = options;
    const cmPath = '/api/v1/namespaces/bench/configmaps';
    // Warm-up (JIT, TLS sessions) for both servers, not counted.
    await closedLoop(concurrency, 0.5, 5000, async (i) => void (await api.ok('POST', cmPath, configMapBody(`warm-${pad(i)}`))));
    await closedLoop(concurrency, 0.5, 5000, async (i) => void (await raw.ok('POST', '/echo', configMapBody(`warm-${pad(i)}`))));
    const creates = await closedLoop(concurrency, options.createSeconds, 200_000, async (i) => void (await api.ok('POST', cmPath, configMapBody(`cm-${pad(i)}`))));
    checkErrors('creates', creates);
    const rawPosts = await closedLoop(concurrency, options.createSeconds, 500_000, async (i) => void (await raw.ok('POST', '/echo', configMapBody(`cm-${pad(i)}`))));
    checkErrors('raw posts', rawPosts);
    const durableDir = join(root, 'durable-floor');
    mkdirSync(durableDir, { recursive: true });
    const rawInserts = measureRawDurableInsertsPerSecond(durableDir, 2);
    const createRate = creates.ok / creates.seconds;
    const rawPostRate = rawPosts.ok / rawPosts.seconds;
    rows.push({
      metric: `ConfigMap creates/s over HTTPS (1 KB, ${concurrency} keep-alive clients)`,
      value: createRate,
      unit: '/s',
      floor: rawInserts,
      floorName: 'raw SQLite durable inserts/s, 1 txn each',
      aim: { op: '>=floor×', factor: 0.5 },
    });
    rows.push({ metric: 'ConfigMap creates/s over HTTPS (same run)', value: createRate, unit: '/s', floor: rawPostRate, floorName: 'raw HTTPS POST /echo, same client' });
    rows.push({ metric: `create latency p99 (${concurrency} clients)`, value: percentile(creates.latencies, 99), unit: 'ms', floor: percentile(rawPosts.latencies, 99), floorName: 'raw HTTPS POST p99' });

    // ---- 4. GET of one object
    log('GET latency');
    const getPath = `${cmPath}/cm-${pad(0)}`;
    const objectSize = (await api.ok('GET', getPath)).body.length;
    const blobPath = `/blob/${objectSize}`;
    const getOp = (endpoint: Endpoint, path: string) => async () => void (await endpoint.ok('GET', path));
    await closedLoop(1, 0.3, 10_000, getOp(api, getPath));
    await closedLoop(1, 0.3, 10_000, getOp(raw, blobPath));
    const getSeq = await closedLoop(1, options.getSeconds, 50_000, getOp(api, getPath));
    const rawSeq = await closedLoop(1, options.getSeconds, 50_000, getOp(raw, blobPath));
    const getConc = await closedLoop(concurrency, options.getSeconds, 200_000, getOp(api, getPath));
    const rawConc = await closedLoop(concurrency, options.getSeconds, 500_000, getOp(raw, blobPath));
    for (const [what, r] of [['GET seq', getSeq], ['raw GET seq', rawSeq], ['GET conc', getConc], ['raw GET conc', rawConc]] as const) checkErrors(what, r);
    const rawName = `raw HTTPS GET of ${objectSize} B`;
    rows.push({ metric: 'GET one ConfigMap, sequential, p50', value: percentile(getSeq.latencies, 50), unit: 'ms', floor: percentile(rawSeq.latencies, 50), floorName: rawName });
    rows.push({ metric: 'GET one ConfigMap, sequential, p99', value: percentile(getSeq.latencies, 99), unit: 'ms', floor: percentile(rawSeq.latencies, 99), floorName: rawName });
    rows.push({ metric: `GET one ConfigMap, ${concurrency} concurrent, p50`, value: percentile(getConc.latencies, 50), unit: 'ms', floor: percentile(rawConc.latencies, 50), floorName: rawName });
    rows.push({ metric: `GET one ConfigMap, ${concurrency} concurrent, p99`, value: percentile(getConc.latencies, 99), unit: 'ms', floor: percentile(rawConc.latencies, 99), floorName: rawName });
    rows.push({ metric: `GETs/s, ${concurrency} concurrent`, value: getConc.ok / getConc.seconds, unit: '/s', floor: rawConc.ok / rawConc.seconds, floorName: rawName });

    // ---- 5. paced writes: merge-patch updates of existing objects at a fixed rate
    log('paced writes');
    const patchHeaders = { 'Content-Type': 'application/merge-patch+json' };
    const targets = 200;
    const probeDir = join(root, 'disk-probe');
    mkdirSync(probeDir, { recursive: true });
    const { result: paced, probe: pacedProbe } = await withDiskProbe(probeDir, options.pacedSeconds, () =>
      pacedLoop(options.pacedRate, options.pacedSeconds, async (i) => {
        await api.ok('PATCH', `${cmPath}/cm-${pad(i % targets)}`, JSON.stringify({ data: { seq: String(i) } }), patchHeaders);
      }),
    );
    checkErrors('paced writes', paced);
    const { result: floorPaced, probe: floorProbe } = await withDiskProbe(probeDir, options.floorPacedSeconds, () =>
      pacedLoop(options.pacedRate, options.floorPacedSeconds, async (i) => void (await raw.ok('POST', '/durable', configMapBody(`cm-${pad(i)}`)))),
    );
    checkErrors('raw paced durable writes', floorPaced);
    const durableName = 'raw HTTPS + 1 durable SQLite insert';
    rows.push({
      metric: `write (PATCH) p99 at a paced ${options.pacedRate}/s for ${options.pacedSeconds} s`,
      value: percentile(paced.latencies, 99),
      unit: 'ms',
      floor: percentile(floorPaced.latencies, 99),
      floorName: durableName,
      aim: { op: '<', value: 20 },
    });
    rows.push({ metric: `write (PATCH) p50 at a paced ${options.pacedRate}/s`, value: percentile(paced.latencies, 50), unit: 'ms', floor: percentile(floorPaced.latencies, 50), floorName: durableName });
    rows.push({ metric: `write (PATCH) max at a paced ${options.pacedRate}/s`, value: Math.max(...paced.latencies), unit: 'ms', floor: Math.max(...floorPaced.latencies), floorName: durableName });
    if (pacedProbe && floorProbe) {
      rows.push({
        metric: 'disk witness: slowest fsync\'d insert of a probe process (every 50 ms) during the paced writes',
        value: pacedProbe.maxMs,
        unit: 'ms',
        floor: floorProbe.maxMs,
        floorName: 'same probe during the floor\'s paced writes',
      });
      notes.push(
        `disk probe during paced writes: ${pacedProbe.samples} fsyncs, p50 ${pacedProbe.p50Ms.toFixed(2)} ms, max ${pacedProbe.maxMs.toFixed(0)} ms, ${pacedProbe.over20Ms} over 20 ms; ` +
          `during the floor's: p50 ${floorProbe.p50Ms.toFixed(2)} ms, max ${floorProbe.maxMs.toFixed(0)} ms, ${floorProbe.over20Ms} over 20 ms`,
      );
    }

    // ---- 7. watch delivery: paced creates, write start → ADDED event received
    log('watch latency');
    const list = JSON.parse((await api.ok('GET', `${cmPath}?limit=1`)).body.toString('utf8')) as { metadata: { resourceVersion: string } };
    const written = new Map<string, number>();
    const acked = new Map<string, number>();
    const received = new Map<string, number>();
    let expected = 0;
    let allSeen: () => void = () => undefined;
    const seen = new Promise<void>((resolve) => (allSeen = resolve));
    const watch = api.stream(`${cmPath}?watch=true&resourceVersion=${list.metadata.resourceVersion}`, (line) => {
      const at = now();
      const event = JSON.parse(line) as { type: string; object: { metadata?: { name?: string } } };
      const name = event.object.metadata?.name;
      if (event.type !== 'ADDED' || !name || !written.has(name) || received.has(name)) return;
      received.set(name, at);
      if (received.size === expected) allSeen();
    });
    await watch.opened;
    expected = Math.round(options.watchRate * options.watchSeconds);
    const { result: watchWrites, probe: watchProbe } = await withDiskProbe(probeDir, options.watchSeconds, async () => {
      const result = await pacedLoop(options.watchRate, options.watchSeconds, async (i) => {
        const name = `w-${pad(i)}`;
        written.set(name, now());
        await api.ok('POST', cmPath, configMapBody(name));
        acked.set(name, now());
      });
      await Promise.race([seen, sleep(5000)]);
      return result;
    });
    checkErrors('watched writes', watchWrites);
    watch.close();
    const fromStart: number[] = [];
    const fromAck: number[] = [];
    for (const [name, at] of received) {
      fromStart.push(at - written.get(name)!);
      const ack = acked.get(name);
      if (ack !== undefined) fromAck.push(at - ack);
    }
    if (received.size < expected) log(`watch: only ${received.size} of ${expected} events arrived`);
    rows.push({
      metric: `watch delivery p99, write start → event (${options.watchRate}/s creates)`,
      value: percentile(fromStart, 99),
      unit: 'ms',
      floor: percentile(floorPaced.latencies, 99),
      floorName: durableName,
    });
    rows.push({ metric: 'watch delivery p50, write start → event', value: percentile(fromStart, 50), unit: 'ms', floor: percentile(floorPaced.latencies, 50), floorName: durableName });
    rows.push({ metric: 'watch delivery p99, write ack → event (negative: event first)', value: percentile(fromAck, 99), unit: 'ms' });
    if (watchProbe) {
      rows.push({ metric: 'disk witness: slowest probe fsync during the watched writes', value: watchProbe.maxMs, unit: 'ms', floor: floorProbe?.maxMs, floorName: 'same probe during the floor\'s paced writes' });
    }
    notes.push(`watch: ${received.size} of ${expected} events received; ${fromAck.filter((n) => n <= 0).length} arrived before the client had their write's response`);

    // ---- 6. LIST of 10,000 pods
    log(`creating ${options.listPods} pods`);
    const podPath = '/api/v1/namespaces/bench/pods';
    const podCreates = await closedLoop(concurrency, 120, options.listPods, async (i) => void (await api.ok('POST', podPath, podBody(`pod-${pad(i)}`))));
    checkErrors('pod creates', podCreates);
    rows.push({ metric: `Pod creates/s over HTTPS (${concurrency} clients, setting up the LIST)`, value: podCreates.ok / podCreates.seconds, unit: '/s', floor: rawInserts, floorName: 'raw SQLite durable inserts/s' });
    log('LIST');
    const first = await api.ok('GET', podPath);
    const count = (JSON.parse(first.body.toString('utf8')) as { items: unknown[] }).items.length;
    if (count !== podCreates.ok) log(`LIST returned ${count} pods, ${podCreates.ok} were created`);
    const listBytes = first.body.length;
    const listTimes: number[] = [];
    const listParsed: number[] = [];
    const floorTimes: number[] = [];
    const floorParsed: number[] = [];
    const listDeadline = now() + 40_000;
    for (let r = 0; r < options.listRepeats && now() < listDeadline; r++) {
      let t = now();
      const body = (await api.ok('GET', podPath)).body;
      listTimes.push(now() - t);
      JSON.parse(body.toString('utf8'));
      listParsed.push(now() - t);
      t = now();
      const rawBody = (await raw.ok('GET', `/blob/${listBytes}`)).body;
      floorTimes.push(now() - t);
      JSON.parse(rawBody.toString('utf8'));
      floorParsed.push(now() - t);
    }
    const listFloor = `raw HTTPS GET of a ${(listBytes / 1e6).toFixed(1)} MB body`;
    rows.push({ metric: `LIST ${count} pods (JSON, no limit) p50, to last byte`, value: median(listTimes), unit: 'ms', floor: median(floorTimes), floorName: listFloor, aim: { op: '<', value: 250 } });
    rows.push({ metric: `LIST ${count} pods p50, including client JSON.parse`, value: median(listParsed), unit: 'ms', floor: median(floorParsed), floorName: `${listFloor} + JSON.parse` });

    // kubectl-style: Table, limit=500, following continue tokens.
    const tableAccept = { Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' };
    const tableTimes: number[] = [];
    const pageSizes: number[] = [];
    for (let r = 0; r < 5 && now() < listDeadline + 20_000; r++) {
      const t = now();
      let token: string | undefined;
      for (let page = 0; page < 1000; page++) {
        const path = `${podPath}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
        const result = await api.ok('GET', path, undefined, tableAccept);
        if (r === 0) pageSizes.push(result.body.length);
        token = (JSON.parse(result.body.toString('utf8')) as { metadata?: { continue?: string } }).metadata?.continue;
        if (!token) break;
      }
      tableTimes.push(now() - t);
    }
    const floorTable: number[] = [];
    for (let r = 0; r < 5; r++) {
      const t = now();
      for (const size of pageSizes) JSON.parse((await raw.ok('GET', `/blob/${size}`)).body.toString('utf8'));
      floorTable.push(now() - t);
    }
    rows.push({
      metric: `LIST ${count} pods as Table, limit=500 (${pageSizes.length} pages, parsed) p50`,
      value: median(tableTimes),
      unit: 'ms',
      floor: median(floorTable),
      floorName: `raw HTTPS GETs of the same ${pageSizes.length} page sizes + parse`,
    });
    rows.push({ metric: `RSS after the load phases (${count} pods, ${creates.ok + expected} ConfigMaps; high-water incl. LIST buffers)`, value: rssMB(apiOnly.pid), unit: 'MB' });
    return { rows, notes };
  } finally {
    for (const endpoint of endpoints) endpoint.close();
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Records pilote's answers to the requests `kubectl get ns` makes (aggregated
 * discovery of /api and /apis, the namespaces Table), for the floor server to replay.
 */
async function recordCanned(dataDir: string, out: string): Promise<void> {
  const endpoint = new Endpoint(kubeconfigPort(join(dataDir, 'kubeconfig.yaml')), clientTls(dataDir), 1);
  try {
    const discovery = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';
    const table = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
    const canned: Record<string, { contentType: string; body: string }> = {};
    for (const [path, accept] of [
      ['/api', discovery],
      ['/apis', discovery],
      ['/api/v1/namespaces', table],
    ] as const) {
      const result = await endpoint.ok('GET', path, undefined, { Accept: accept });
      canned[path] = { contentType: String(result.headers['content-type']), body: result.body.toString('utf8') };
    }
    writeFileSync(out, JSON.stringify(canned));
  } finally {
    endpoint.close();
  }
}

async function main(): Promise<void> {
  console.log(`API server benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`before: ${await backgroundLoad()}`);
  const started = now();
  const result = await runApiBench();
  console.log(markdownTable(result.rows));
  for (const note of result.notes) console.log(`- ${note}`);
  console.log(`after: ${await backgroundLoad()}`);
  console.log(`(${((now() - started) / 1000).toFixed(0)} s)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
