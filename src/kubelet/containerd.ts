/**
 * containerd as a child process of the agent: its own config, root, state and
 * socket under `<dataDir>/containerd`, so several agents (tests, a second node
 * on the same machine) never share a runtime. See ../../../shared/RUNTIME.md for
 * why each CRI setting is what it is on these machines.
 *
 * Restart safety: containers run under containerd-shim-runc-v2 processes that
 * outlive containerd; stopping containerd (SIGTERM) leaves them running and a
 * later containerd with the same root/state re-adopts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { AgentConfig } from '../agent/config.js';
import { logger, type Logger } from '../util/log.js';
import { CriClient, CriError, GrpcStatus } from './cri/client.js';
import { PAUSE_IMAGE, ensurePauseImage } from './pause-image.js';

const defaultLog = logger('containerd');

/** Longest unix socket path we accept (sun_path is 108 bytes; containerd adds ".ttrpc" for its second socket). */
const MAX_SOCKET_PATH = 100;

/** A running containerd. */
export interface ContainerdHandle {
  /** Path of containerd's gRPC socket (CRI and containerd API). */
  socket: string;
  /** containerd's version as CRI reports it, e.g. "1.6.20~ds1". */
  version: string;
  /** Port of containerd's CRI streaming server on 127.0.0.1 (exec/attach/port-forward URLs). */
  streamPort: number;
  /** Process id of containerd. */
  pid: number;
  /**
   * Stops containerd gracefully (SIGTERM, then SIGKILL after 10 s). Running containers are
   * left alone, unless `cleanup`: then every pod sandbox is stopped and removed first
   * (containers, network namespaces and CNI addresses released).
   */
  stop(options?: { cleanup?: boolean }): Promise<void>;
}

/** Options of startContainerd. */
export interface StartContainerdOptions {
  log?: Logger;
  /** Time allowed for the socket and CRI RuntimeReady (default 30 s). */
  readyTimeoutMs?: number;
  /** Import the pause (sandbox) image if absent (default true). */
  importPauseImage?: boolean;
  /** Called if containerd exits on its own after it was ready (not through stop()); it is also logged as an error. */
  onUnexpectedExit?: (exit: { code: number | null; signal: NodeJS.Signals | null }) => void;
}

/** Paths of the containerd files under an agent data dir. */
export function containerdPaths(dataDir: string): {
  dir: string; config: string; root: string; state: string; socket: string; pidFile: string; logFile: string; certsDir: string; cniConfDir: string;
} {
  const dir = join(dataDir, 'containerd');
  return {
    dir,
    config: join(dir, 'config.toml'),
    root: join(dir, 'root'),
    state: join(dir, 'state'),
    socket: socketPathFor(dir),
    pidFile: join(dir, 'containerd.pid'),
    logFile: join(dir, 'containerd.log'),
    certsDir: join(dir, 'certs.d'),
    cniConfDir: join(dataDir, 'cni', 'net.d'),
  };
}

/** `<dir>/containerd.sock`, or a short path under /run/pilote when that is too long for a unix socket. */
function socketPathFor(dir: string): string {
  const preferred = join(dir, 'containerd.sock');
  if (preferred.length <= MAX_SOCKET_PATH) return preferred;
  const hash = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  return `/run/pilote/containerd-${hash}.sock`;
}

function tomlString(value: string): string {
  return JSON.stringify(value);
}

function apparmorEnabled(): boolean {
  try {
    return readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y';
  } catch {
    return false;
  }
}

/** The config.toml (version 2) of an agent's containerd. */
export function containerdConfigToml(config: AgentConfig, streamPort: number): string {
  const p = containerdPaths(config.dataDir);
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `# Written by Pilote at each start (src/kubelet/containerd.ts); edits are overwritten.
version = 2
root = ${tomlString(p.root)}
state = ${tomlString(p.state)}
oom_score = 0
# Plugins that touch global paths (/opt/containerd) or cannot work here.
disabled_plugins = [
  "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = ${tomlString(p.socket)}

[ttrpc]
  address = ${tomlString(p.socket + '.ttrpc')}

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[${cri}]
  sandbox_image = ${tomlString(PAUSE_IMAGE)}
  # Root here lacks CAP_SYS_RESOURCE: without this every sandbox fails in runc (RUNTIME.md).
  restrict_oom_score_adj = true
  disable_apparmor = ${apparmorEnabled() ? 'false' : 'true'}
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  stream_server_port = ${tomlString(String(streamPort))}
  enable_selinux = false
  max_container_log_line_size = 16384
  tolerate_missing_hugetlb_controller = true
  disable_hugetlb_controller = true

  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    discard_unpacked_layers = false

    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        # Keep runc's state with ours rather than in the shared /run/containerd/runc.
        Root = ${tomlString(join(p.state, 'runc'))}

  [${cri}.cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = ${tomlString(p.cniConfDir)}
    max_conf_num = 1

  [${cri}.registry]
    config_path = ${tomlString(p.certsDir)}
`;
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pid in the pid file, if that process is still a containerd using our config. */
function previousContainerd(pidFile: string, configPath: string): number | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !processAlive(pid)) return undefined;
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (cmdline.some((arg) => arg.endsWith('containerd')) && cmdline.includes(configPath)) return pid;
  } catch {
    /* gone meanwhile */
  }
  return undefined;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string, intervalMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves when the process is gone. */
async function terminate(pid: number, graceMs: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  try {
    await waitFor(() => !processAlive(pid), graceMs, `containerd ${pid} to exit`, 25);
  } catch {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    await waitFor(() => !processAlive(pid), 5_000, `containerd ${pid} to die`, 25);
  }
}

/** Stops and removes every pod sandbox (and so every container) known to CRI. */
async function removeAllSandboxes(socket: string, log: Logger): Promise<void> {
  const cri = new CriClient(socket);
  try {
    const sandboxes = await cri.listPodSandbox(undefined, { timeoutMs: 10_000 });
    await Promise.all(sandboxes.map(async (sandbox) => {
      try {
        await cri.stopPodSandbox(sandbox.id);
        await cri.removePodSandbox(sandbox.id);
      } catch (error) {
        log.warn('could not remove pod sandbox during cleanup', { id: sandbox.id, error: (error as Error).message });
      }
    }));
  } catch (error) {
    log.warn('could not list pod sandboxes during cleanup', { error: (error as Error).message });
  } finally {
    cri.close();
  }
}

/**
 * Writes the agent's containerd config, starts containerd as a child process and
 * resolves once CRI reports RuntimeReady (and the pause image is present). A
 * containerd left running by a previous run of the same data dir is replaced:
 * its containers keep running and the new containerd re-adopts them.
 */
export async function startContainerd(config: AgentConfig, options: StartContainerdOptions = {}): Promise<ContainerdHandle> {
  const log = options.log ?? defaultLog;
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  const p = containerdPaths(config.dataDir);
  for (const dir of [p.dir, p.root, p.state, p.certsDir, p.cniConfDir]) mkdirSync(dir, { recursive: true });
  if (p.socket.startsWith('/run/pilote/')) mkdirSync('/run/pilote', { recursive: true });

  const previous = previousContainerd(p.pidFile, p.config);
  if (previous) {
    log.info('replacing containerd left by a previous run (its containers keep running)', { pid: previous });
    await terminate(previous, 10_000);
  }
  rmSync(p.socket, { force: true });
  rmSync(p.socket + '.ttrpc', { force: true });

  const streamPort = await freePort();
  writeFileSync(p.config, containerdConfigToml(config, streamPort));

  const logFd = openSync(p.logFile, 'a');
  let child: ChildProcess;
  try {
    // Own process group: a Ctrl-C on the terminal must not stop containerd before
    // the agent has finished with it; stop() does that in order.
    child = spawn('containerd', ['--config', p.config], { stdio: ['ignore', logFd, logFd], detached: true });
  } finally {
    closeSync(logFd);
  }
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let ready = false;
  let stopping: Promise<void> | undefined;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      if (ready && !stopping) {
        log.error('containerd exited unexpectedly; pods on this node cannot change until the agent restarts', { pid, code, signal, log: p.logFile });
        options.onUnexpectedExit?.(exited);
      }
      resolve();
    });
    child.once('error', (error) => {
      exited = { code: null, signal: null };
      log.error('containerd could not be started (is it installed? apt-get install containerd)', { error: error.message });
      resolve();
    });
  });
  const pid = child.pid ?? 0;
  if (pid) writeFileSync(p.pidFile, `${pid}\n`);
  const onProcessExit = () => {
    // Last resort when the agent exits without stop(): never leave an orphan runtime behind.
    if (!exited && pid) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  };
  process.once('exit', onProcessExit);

  const stop = (stopOptions: { cleanup?: boolean } = {}): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', onProcessExit);
      if (stopOptions.cleanup && !exited) await removeAllSandboxes(p.socket, log);
      if (!exited && pid) {
        await terminate(pid, 10_000);
        await Promise.race([exitPromise, new Promise((r) => setTimeout(r, 1_000))]);
      }
      // Only our own pid file: a later containerd of the same data dir may have replaced us.
      if (readPid(p.pidFile) === pid) rmSync(p.pidFile, { force: true });
      log.info('containerd stopped', { pid });
    })();
    return stopping;
  };

  const failure = () => {
    const tail = existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8').split('\n').slice(-15).join('\n') : '';
    return new Error(`containerd exited during startup (code ${exited?.code}, signal ${exited?.signal}); see ${p.logFile}:\n${tail}`);
  };

  const cri = new CriClient(p.socket);
  try {
    await waitFor(() => {
      if (exited) throw failure();
      return existsSync(p.socket);
    }, readyTimeoutMs, `containerd socket ${p.socket}`, 10);
    let version = '';
    await waitFor(async () => {
      if (exited) throw failure();
      try {
        const status = await cri.status(false, { timeoutMs: 2_000 });
        const ready = status.status?.conditions.find((c) => c.type === 'RuntimeReady');
        if (!ready?.status) return false;
        version = (await cri.version({ timeoutMs: 2_000 })).runtimeVersion;
        return true;
      } catch (error) {
        // The socket answers but without CRI: the plugin failed to load; waiting will not help.
        if (error instanceof CriError && error.code === GrpcStatus.UNIMPLEMENTED) {
          throw new Error(`containerd runs without its CRI plugin (see "failed to load plugin" in ${p.logFile})`);
        }
        return false;
      }
    }, readyTimeoutMs, 'containerd CRI RuntimeReady', 20);
    if (options.importPauseImage !== false) await ensurePauseImage(cri, p.socket, join(p.dir, 'pause'));
    ready = true;
    log.info('containerd ready', { pid, socket: p.socket, version, streamPort });
    return { socket: p.socket, version, streamPort, pid, stop };
  } catch (error) {
    await stop();
    throw error;
  } finally {
    cri.close();
  }
}
