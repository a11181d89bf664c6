/**
 * Liveness, readiness and startup probes (pkg/kubelet/prober): one worker per
 * probe of a running container, with the real timing fields
 * (initialDelaySeconds, periodSeconds, timeoutSeconds, successThreshold,
 * failureThreshold); exec through CRI ExecSync, httpGet, tcpSocket and grpc
 * health checks; Unhealthy events worded as the kubelet's. The startup probe
 * holds liveness and readiness back until it succeeds. Results are read by
 * container id (the pod worker restarts on liveness/startup failure, the
 * status shows readiness).
 */
import { connect } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import * as grpc from '@grpc/grpc-js';
import type { Container, Pod, Probe } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import type { ExecSyncResponse } from './cri/types.js';
import { logger } from '../util/log.js';

const log = logger('prober');

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

/** The User-Agent of HTTP probes: kube-probe/<major>.<minor> of the server version. */
export const PROBE_USER_AGENT = 'kube-probe/1.32';
/** Bytes of an HTTP probe's body the kubelet reads at most. */
const MAX_BODY_BYTES = 10 * 1024;

/** The outcome of one probe run: success or failure with the prober's output. */
export interface ProbeOutcome {
  success: boolean;
  output: string;
  /** The probe could not run at all (the kubelet's "probe errored"); it still counts as a failure. */
  errored?: boolean;
}

/** What an exec probe needs of the runtime. */
export interface ExecRunner {
  execSync(containerId: string, cmd: string[], timeoutSeconds?: number): Promise<ExecSyncResponse>;
}

/** A port as the spec gives it: a number, or the name of one of the container's ports. */
export function resolveProbePort(port: number | string | undefined, container: Container): number {
  if (typeof port === 'number') return port;
  if (port === undefined || port === '') throw new Error('probe port is missing');
  if (/^\d+$/.test(port)) return Number(port);
  const found = container.ports?.find((p) => p.name === port);
  if (!found) throw new Error(`couldn't find port: ${port} in ${JSON.stringify(container.ports ?? [])}`);
  return found.containerPort;
}

const hostPort = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** One GET: the answer, or the failure in Go's words. */
function getOnce(url: URL, headers: Record<string, string>, deadline: number, first: URL): Promise<{ code: number; body: string; location?: string } | ProbeOutcome> {
  return new Promise((resolve) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const done = (answer: { code: number; body: string; location?: string } | ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const req = send(url, { method: 'GET', headers, rejectUnauthorized: false, agent: false }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        if (body.length < MAX_BODY_BYTES) body += chunk.toString('utf8').slice(0, MAX_BODY_BYTES - body.length);
      });
      res.on('end', () => done({ code: res.statusCode ?? 0, body, location: res.headers.location }));
      res.on('error', (error) => done({ success: false, output: `Get "${first.href}": ${error.message}` }));
    });
    const timer = setTimeout(() => {
      done({ success: false, output: `Get "${first.href}": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
      req.destroy();
    }, Math.max(0, deadline - Date.now()));
    req.on('error', (error: NodeJS.ErrnoException) =>
      done({ success: false, output: `Get "${first.href}": ${dialError(url.hostname, Number(url.port || (url.protocol === 'https:' ? 443 : 80)), error)}` }),
    );
    req.end();
  });
}

/**
 * One HTTP(S) GET probe (prober/http): 200–399 succeed. Redirects to the same
 * host are followed (at most 10) and the last answer decides; a redirect to
 * another host ends the probe as a success, as the kubelet's.
 */
export async function probeHttp(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<ProbeOutcome> {
  const deadline = Date.now() + timeoutMs;
  let current = url;
  for (let hops = 0; ; hops++) {
    const answer = await getOnce(current, headers, deadline, url);
    if ('success' in answer) return answer;
    const { code, body, location } = answer;
    if (code >= 300 && code < 400 && location && hops < 10) {
      const next = new URL(location, current);
      if (next.host !== url.host) return { success: true, output: `Probe terminated redirects, Response body: ${body}` };
      current = next;
      continue;
    }
    if (code >= 200 && code < 400) return { success: true, output: body };
    return { success: false, output: `HTTP probe failed with statuscode: ${code}` };
  }
}

/** Go's wording of a failed dial. */
function dialError(host: string, port: number, error: NodeJS.ErrnoException): string {
  const target = hostPort(host.replace(/^\[|\]$/g, ''), port);
  switch (error.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${target}: connect: no route to host`;
    case 'ENETUNREACH':
      return `dial tcp ${target}: connect: network is unreachable`;
    case 'ECONNRESET':
      return `read tcp ${target}: read: connection reset by peer`;
    default:
      return `dial tcp ${target}: ${error.message}`;
  }
}

/** One TCP probe: success when a connection opens within the timeout. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeOutcome> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ success: false, output: `dial tcp ${hostPort(host, port)}: i/o timeout` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ success: true, output: '' });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ success: false, output: dialError(host, port, error) });
    });
  });
}

/** One exec probe through CRI ExecSync: exit code 0 succeeds; the output is stdout + stderr. */
export async function probeExec(runner: ExecRunner, containerId: string, command: string[], timeoutSeconds: number): Promise<ProbeOutcome> {
  try {
    const result = await runner.execSync(containerId, command, timeoutSeconds);
    const output = Buffer.concat([result.stdout ?? Buffer.alloc(0), result.stderr ?? Buffer.alloc(0)]).toString('utf8');
    return { success: result.exitCode === 0, output };
  } catch (error) {
    const message = (error as Error).message;
    if (/deadline|timeout|timed out/i.test(message)) return { success: false, output: `command ${JSON.stringify(command.join(' '))} timed out` };
    return { success: false, output: message, errored: true };
  }
}

const HEALTH_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/** One gRPC health check (grpc.health.v1.Health/Check, the protocol of Kubernetes' grpc probes). */
export function probeGrpc(host: string, port: number, service: string, timeoutMs: number): Promise<ProbeOutcome> {
  const target = hostPort(host, port);
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  // HealthCheckRequest { string service = 1 } and HealthCheckResponse { ServingStatus status = 1 }, encoded by hand.
  const serialize = (s: string) => {
    const bytes = Buffer.from(s);
    return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
  };
  const deserialize = (buf: Buffer) => (buf.length >= 2 && buf[0] === 0x08 ? buf[1] : 0);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', serialize, deserialize, service, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, status) => {
      client.close();
      if (error) {
        if (error.code === grpc.status.DEADLINE_EXCEEDED || error.code === grpc.status.UNAVAILABLE) {
          resolve({ success: false, output: `timeout: failed to connect service "${target}" within ${Math.round(timeoutMs / 1000)}s: context deadline exceeded` });
        } else if (error.code === grpc.status.UNIMPLEMENTED) {
          resolve({ success: false, output: 'error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service grpc.health.v1.Health' });
        } else resolve({ success: false, output: `rpc error: code = ${grpc.status[error.code]} desc = ${error.details}` });
        return;
      }
      if (status === 1) resolve({ success: true, output: '' });
      else resolve({ success: false, output: `service unhealthy (responded with "${HEALTH_STATUS[status ?? 0] ?? status}")` });
    });
  });
}

/** Runs a probe once for a container at `podIP`. */
export async function runProbe(probe: Probe, container: Container, containerId: string, podIP: string, runner: ExecRunner): Promise<ProbeOutcome> {
  const timeoutSeconds = probe.timeoutSeconds ?? 1;
  try {
    if (probe.exec) return await probeExec(runner, containerId, [...(probe.exec.command ?? [])], timeoutSeconds);
    if (probe.httpGet) {
      const get = probe.httpGet;
      const scheme = (get.scheme ?? 'HTTP').toLowerCase();
      const host = get.host || podIP;
      const port = resolveProbePort(get.port, container);
      let path = get.path ?? '/';
      if (!path.startsWith('/')) path = '/' + path;
      const url = new URL(`${scheme}://${hostPort(host, port)}${path}`);
      const headers: Record<string, string> = { 'User-Agent': PROBE_USER_AGENT, Accept: '*/*' };
      for (const h of get.httpHeaders ?? []) {
        const existing = Object.keys(headers).find((k) => k.toLowerCase() === h.name.toLowerCase());
        if (existing) delete headers[existing];
        if (h.value !== '' || h.name.toLowerCase() !== 'user-agent') headers[h.name] = h.value;
      }
      return await probeHttp(url, headers, timeoutSeconds * 1000);
    }
    if (probe.tcpSocket) return await probeTcp(probe.tcpSocket.host || podIP, resolveProbePort(probe.tcpSocket.port, container), timeoutSeconds * 1000);
    if (probe.grpc) return await probeGrpc(podIP, probe.grpc.port, probe.grpc.service ?? '', timeoutSeconds * 1000);
    return { success: false, output: 'missing probe handler' };
  } catch (error) {
    return { success: false, output: (error as Error).message, errored: true };
  }
}

const CAPITALIZED: Record<ProbeKind, string> = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' };

/** Called when a probe's result changes (after its thresholds). */
export type ProbeResultListener = (event: { podUid: string; containerName: string; containerId: string; kind: ProbeKind; success: boolean }) => void;

/** One probe of one container instance. */
class ProbeWorker {
  /** Current result: undefined until the thresholds decided one. */
  result: boolean | undefined;
  private lastOutcome: boolean | undefined;
  private run = 0;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private onHold = false;

  constructor(
    private readonly owner: ContainerProbes,
    readonly kind: ProbeKind,
    private readonly probe: Probe,
  ) {
    // As the kubelet's initial results: readiness starts false; liveness is assumed healthy.
    this.result = kind === 'readiness' ? false : kind === 'liveness' ? true : undefined;
  }

  start(): void {
    const initialDelayMs = (this.probe.initialDelaySeconds ?? 0) * 1000;
    const wait = Math.max(0, this.owner.startedAtMs + initialDelayMs - Date.now());
    this.schedule(wait);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    const periodMs = (this.probe.periodSeconds ?? 10) * 1000;
    const started = Date.now();
    try {
      await this.once();
    } catch (error) {
      log.warn('probe crashed', { kind: this.kind, error: (error as Error).message });
    }
    this.schedule(Math.max(0, periodMs - (Date.now() - started)));
  }

  /** One doProbe of the kubelet's worker. */
  private async once(): Promise<void> {
    if (this.onHold) return;
    // Liveness and readiness wait for the startup probe.
    if (this.kind !== 'startup' && !this.owner.started()) return;
    // A startup probe that succeeded is done.
    if (this.kind === 'startup' && this.result === true) return;
    const { pod, container, containerId, podIP } = this.owner;
    const outcome = await runProbe(this.probe, container, containerId, podIP, this.owner.manager.runner);
    if (this.stopped) return;
    if (!outcome.success) {
      const verb = outcome.errored ? 'errored' : 'failed';
      this.owner.manager.recorder.event(pod as unknown as KubeObject, 'Warning', 'Unhealthy', `${CAPITALIZED[this.kind]} probe ${verb}: ${outcome.output}`);
    }
    if (this.lastOutcome === outcome.success) this.run++;
    else {
      this.lastOutcome = outcome.success;
      this.run = 1;
    }
    const threshold = outcome.success ? (this.kind === 'readiness' ? (this.probe.successThreshold ?? 1) : 1) : (this.probe.failureThreshold ?? 3);
    if (this.run < threshold) return;
    const changed = this.result !== outcome.success;
    this.result = outcome.success;
    if (!outcome.success && this.kind !== 'readiness') {
      // The container will be restarted: stop probing it (the kubelet's onHold).
      this.onHold = true;
      this.run = 0;
    }
    if (changed) this.owner.changed(this.kind, outcome.success);
  }
}

/** The probes of one container instance. */
class ContainerProbes {
  readonly workers = new Map<ProbeKind, ProbeWorker>();

  constructor(
    readonly manager: ProbeManager,
    readonly pod: Pod,
    readonly container: Container,
    readonly containerId: string,
    readonly podIP: string,
    readonly startedAtMs: number,
  ) {}

  started(): boolean {
    const startup = this.workers.get('startup');
    return !startup || startup.result === true;
  }

  changed(kind: ProbeKind, success: boolean): void {
    this.manager.notify({ podUid: this.pod.metadata?.uid ?? '', containerName: this.container.name, containerId: this.containerId, kind, success });
  }
}

export interface ProbeManagerOptions {
  /** Runs exec probes (the CRI client). */
  cri: ExecRunner;
  recorder: EventRecorder;
  /** Called when a result changes (readiness flips, liveness or startup fails or passes). */
  onResult?: ProbeResultListener;
}

/**
 * Runs the probes of running containers. Add a container when it starts,
 * remove it when it stops; read results by container id.
 */
export class ProbeManager {
  private readonly containers = new Map<string, ContainerProbes>();
  readonly runner: ExecRunner;
  readonly recorder: EventRecorder;

  constructor(private readonly options: ProbeManagerOptions) {
    this.runner = options.cri;
    this.recorder = options.recorder;
  }

  /** @internal */
  notify(event: Parameters<ProbeResultListener>[0]): void {
    this.options.onResult?.(event);
  }

  /**
   * Starts the probes of a container that runs (started at `startedAtMs`).
   * Adding the same container id again does nothing.
   */
  add(pod: Pod, container: Container, containerId: string, podIP: string, startedAtMs = Date.now()): void {
    if (this.containers.has(containerId)) return;
    const probes = new ContainerProbes(this, pod, container, containerId, podIP, startedAtMs);
    const specs: [ProbeKind, Probe | undefined][] = [
      ['startup', container.startupProbe],
      ['liveness', container.livenessProbe],
      ['readiness', container.readinessProbe],
    ];
    for (const [kind, spec] of specs) if (spec) probes.workers.set(kind, new ProbeWorker(probes, kind, spec));
    this.containers.set(containerId, probes);
    for (const worker of probes.workers.values()) worker.start();
  }

  /** Stops the probes of a container instance. */
  remove(containerId: string): void {
    const probes = this.containers.get(containerId);
    if (!probes) return;
    for (const worker of probes.workers.values()) worker.stop();
    this.containers.delete(containerId);
  }

  /** Stops the probes of every container of a pod (or of one container name). */
  removePod(podUid: string, containerName?: string): void {
    for (const [id, probes] of this.containers) {
      if (probes.pod.metadata?.uid === podUid && (containerName === undefined || probes.container.name === containerName)) this.remove(id);
    }
  }

  /** Readiness result: undefined without a readiness probe (or an unknown container), false until it passes. */
  isReady(containerId: string): boolean | undefined {
    const probes = this.containers.get(containerId);
    const worker = probes?.workers.get('readiness');
    if (!probes || !worker) return undefined;
    return probes.started() && worker.result === true;
  }

  /** Startup result: undefined without a startup probe, false until it passes. */
  isStarted(containerId: string): boolean | undefined {
    const worker = this.containers.get(containerId)?.workers.get('startup');
    if (!worker) return undefined;
    return worker.result === true;
  }

  /**
   * Why the container must be restarted, if it must: `Container <name> failed
   * liveness probe` / `… failed startup probe` (the pod worker adds ", will be restarted").
   */
  failure(containerId: string): string | undefined {
    const probes = this.containers.get(containerId);
    if (!probes) return undefined;
    if (probes.workers.get('liveness')?.result === false) return `Container ${probes.container.name} failed liveness probe`;
    if (probes.workers.get('startup')?.result === false) return `Container ${probes.container.name} failed startup probe`;
    return undefined;
  }

  /** Stops every probe. */
  stop(): void {
    for (const id of [...this.containers.keys()]) this.remove(id);
  }
}

