/**
 * Test harness: starts a real `pilote server` process on a free port with its
 * own data directory, and runs the real kubectl binary against it with a
 * private HOME (so discovery caches never leak between tests).
 */
import { spawn, execFile, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createServer as createNetServer } from 'node:net';
import { ApiClient, type ApiAuth } from './api-client.js';

/** Compiled entry point of the pilote CLI. */
export const PILOTE_BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cmd', 'pilote.js');

/** Folder holding kubectl.1.27 … kubectl.1.33 beside the dispatcher's real file. */
export function kubectlDir(): string {
  const which = execFileSync('bash', ['-c', 'command -v kubectl'], { encoding: 'utf8' });
  return dirname(realpathSync(which.trim()));
}

/** Path of a pinned kubectl minor (default 1.32, the machine's own). */
export function kubectlBinary(minor = process.env.PILOTE_KUBECTL_MINOR ?? '32'): string {
  return join(kubectlDir(), `kubectl.1.${minor}`);
}

/** The kubectl minor tests run by default (PILOTE_KUBECTL_MINOR, else 32), as a number for comparisons. */
export function kubectlMinor(minor = process.env.PILOTE_KUBECTL_MINOR ?? '32'): number {
  return Number(minor);
}

/** Every kubectl minor Pilote is tested with. */
export const KUBECTL_MINORS = ['27', '28', '29', '30', '31', '32', '33'] as const;

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** A running test cluster. */
export class TestCluster {
  /** Everything the server wrote on stderr (its JSON logs). */
  stderr = '';
  /** The server flags this cluster started with (pass them again to restart it as the same node). */
  args: string[] = [];

  private constructor(
    readonly process: ChildProcess,
    readonly dataDir: string,
    readonly kubeconfig: string,
    readonly home: string,
    readonly port: number,
    private readonly ownsDir: boolean,
  ) {}

  /**
   * Starts `pilote server --port 0` (or `options.port`) with `options.args` as
   * extra flags, and waits for its KUBECONFIG line.
   *
   * API-level tests run the API server with the namespace controller only
   * (`--controllers=namespace`), so what they check is not moved by other
   * controllers; pass `controllers: true` (or ask for simulated nodes) for the
   * whole control plane.
   */
  static async start(options: { dataDir?: string; env?: Record<string, string>; port?: number; args?: string[]; controllers?: boolean; node?: boolean } = {}): Promise<TestCluster> {
    const ownsDir = !options.dataDir;
    const args = [...(options.args ?? [])];
    const controllers = options.controllers ?? (options.node || args.some((a) => a.startsWith('--simulated-nodes')));
    if (!controllers) args.push('--controllers=namespace');
    if (options.node) args.push(...nodeTestArgs());
    else if (!args.some((a) => a.startsWith('--node-name') || a === '--disable-agent')) args.push('--disable-agent');
    const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'pilote-test-'));
    // A fixed port (e.g. the previous run's, on restart) keeps clients holding the old kubeconfig working.
    const child = spawn(process.execPath, [PILOTE_BIN, 'server', '--port', String(options.port ?? (await portOutsideEphemeralRange())), '--bind-address', '127.0.0.1', '--data-dir', dataDir, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PILOTE_LOG_LEVEL: process.env.PILOTE_LOG_LEVEL ?? 'warn', ...options.env },
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (process.env.PILOTE_TEST_VERBOSE) process.stderr.write(chunk);
    });
    const kubeconfig = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start within 20 s:\n${stderr}`)), 20_000);
      const lines = createInterface({ input: child.stdout! });
      lines.on('line', (line) => {
        const match = /^export KUBECONFIG=(.+)$/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code} before it was ready:\n${stderr}`));
      });
    });
    const port = Number(/server: https:\/\/127\.0\.0\.1:(\d+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]);
    const home = mkdtempSync(join(tmpdir(), 'pilote-home-'));
    const cluster = new TestCluster(child, dataDir, kubeconfig, home, port, ownsDir);
    cluster.args = args;
    cluster.stderr = stderr;
    child.stderr!.on('data', (chunk: Buffer) => (cluster.stderr += chunk.toString()));
    return cluster;
  }

  /** A raw HTTPS client for this server (admin client certificate by default). */
  client(auth: ApiAuth = 'cert'): ApiClient {
    return new ApiClient(this.port, join(this.dataDir, 'tls'), auth);
  }

  /** Runs kubectl with this cluster's kubeconfig; never throws on a non-zero exit. */
  kubectl(args: string[], options: { input?: string; env?: Record<string, string>; minor?: string; timeoutMs?: number } = {}): Promise<KubectlResult> {
    return new Promise((resolve) => {
      const child = execFile(
        kubectlBinary(options.minor),
        args,
        { env: { ...process.env, KUBECONFIG: this.kubeconfig, HOME: this.home, ...options.env }, timeout: options.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
          resolve({ stdout: String(stdout), stderr: String(stderr), code });
        },
      );
      if (options.input !== undefined) child.stdin!.end(options.input);
    });
  }

  /** Like kubectl() but fails the test on a non-zero exit. */
  async kubectlOk(args: string[], options: Parameters<TestCluster['kubectl']>[1] = {}): Promise<string> {
    const result = await this.kubectl(args, options);
    if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
    return result.stdout;
  }

  /** Starts a long-running kubectl (e.g. `get -w`), returning the process. */
  kubectlSpawn(args: string[], minor?: string): ChildProcess {
    return spawn(kubectlBinary(minor), args, { env: { ...process.env, KUBECONFIG: this.kubeconfig, HOME: this.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Stops the server gracefully (SIGTERM) and removes its files unless asked to keep them. */
  async stop(options: { keepData?: boolean; signal?: NodeJS.Signals } = {}): Promise<number | null> {
    const exited = new Promise<number | null>((resolve) => {
      // A process already gone (e.g. killed by a signal) has no more 'exit' to wait for.
      if (this.process.exitCode !== null || this.process.signalCode !== null) resolve(this.process.exitCode);
      else this.process.once('exit', (code) => resolve(code));
    });
    this.process.kill(options.signal ?? 'SIGTERM');
    const code = await exited;
    rmSync(this.home, { recursive: true, force: true });
    if (this.ownsDir && !options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
    return code;
  }
}

/**
 * A free port below the kernel's ephemeral range (32768+), so that no socket
 * bound to port 0 by a test running beside this one can take it while a
 * server restarts on it.
 */
export async function portOutsideEphemeralRange(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = randomInt(20000, 30000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createNetServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000-29999');
}

/** The shared image store of the tests (busybox, alpine, nginx, redis), filled by scripts/build-example-images.sh. */
export const TEST_IMAGE_STORE = process.env.PILOTE_TEST_IMAGE_STORE ?? '/var/lib/pilote-test/images';

/** Node settings of their own for one test cluster: bridge, nft table, pod and service /24, free ports. */
export function nodeTestArgs(): string[] {
  const id = randomBytes(3).toString('hex');
  // A /24 whose route is not on the machine yet: another cluster may be running side by side.
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  let subnet = 0;
  for (let attempt = 0; attempt < 50 && (subnet === 0 || routes.includes(`10.42.${subnet}.0/24`)); attempt++) subnet = randomInt(1, 255);
  return [
    `--node-name=node-${id}`,
    `--bridge-name=pt${id}`,
    `--nft-table=pilote_${id}`,
    `--cluster-cidr=10.42.0.0/16`,
    `--pod-cidr=10.42.${subnet}.0/24`,
    `--service-cidr=10.43.${subnet}.0/24`,
    '--kubelet-port=0',
    '--cluster-dns-port=0',
    '--ingress-http-port=0',
    '--ingress-https-port=0',
    `--image-store=${TEST_IMAGE_STORE}`,
    '--cleanup',
  ];
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
