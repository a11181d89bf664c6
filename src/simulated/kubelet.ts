/**
 * The kubelet's part for pods bound to simulated nodes, for every simulated
 * node at once: admit (pods capacity), "create the sandbox" (a fake pod IP),
 * run init containers in order, run the containers, let pods with
 * restartPolicy Never/OnFailure exit after their run time (restarting with
 * back-off when the policy says so), and confirm graceful deletions with a
 * DELETE of grace period 0 once the containers "stopped".
 *
 * Level-based like the real status manager: the status written is computed
 * from the simulation's state (./pod-status.ts) and written only when it
 * differs from what the server holds — on transitions, or when another
 * writer (the node lifecycle controller marking pods not ready) changed it.
 * Writes go through a bounded queue and coalesce: a pod whose state moved
 * twice while its write waited is written once.
 */
import { StatusError } from '../apimachinery/errors.js';
import { timestamp } from '../apimachinery/meta.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import type { EventRecorder, EventType } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import type { NodeAddressBlock } from './addresses.js';
import { Limiter, ThrottledWarnings } from './limiter.js';
import {
  newContainerID,
  ownedFingerprint,
  podView,
  renderPodStatus,
  stableStringify,
  type ContainerSpec,
  type ContainerState,
  type PodView,
  type SimulatedPodState,
  type Terminated,
} from './pod-status.js';

const log = logger('simulated-kubelet');
const warnings = new ThrottledWarnings((msg, fields) => log.warn(msg, fields));

/** What the kubelet knows of one simulated node. */
export interface SimulatedNode {
  name: string;
  addresses: NodeAddressBlock;
  podsCapacity: number;
  /** Keys of the admitted, not yet terminal pods (the kubelet's pod count for admission). */
  active: Set<string>;
  events?: EventRecorder;
}

export interface SimulatedKubeletOptions {
  /** How long containers of Never/OnFailure pods run before exiting (a pod annotation overrides it). */
  podRunSeconds: number;
  /** Time between admission and the sandbox being ready (0: the pod goes Running in one write). */
  podStartSeconds: number;
  /** How long each (non-sidecar) init container runs. */
  initContainerSeconds: number;
  /** First restart back-off; it doubles per restart up to 300 s, as the kubelet's. */
  restartBackoffSeconds: number;
  /** Status writes in flight at most. */
  maxConcurrentWrites: number;
}

interface PodRecord {
  view: PodView;
  node: SimulatedNode;
  /** Undefined until admitted (or adopted after a restart). */
  sim?: SimulatedPodState;
  /** The pod was terminal when first seen: nothing left to do for it. */
  finished: boolean;
  /** The pod IP reserved in the node's block (shown once the sandbox is "ready"). */
  ip?: string;
  holdsSlot: boolean;
  /** When the current containers started (ms), for their run time. */
  runStartedMs: number;
  timer?: NodeJS.Timeout;
  retryTimer?: NodeJS.Timeout;
  writing: boolean;
  dirty: boolean;
  /** resourceVersion of our last status write: older events do not show the status any more. */
  lastWriteRV: number;
  /** What we last sent, and the server's answer to it (owned fields), to tell our writes from others'. */
  lastSent?: string;
  lastServer?: string;
  /** Bumped on every step of the simulation; the one our last write rendered. */
  version: number;
  sentVersion: number;
  /** Failed writes in a row, for the retry back-off. */
  failures: number;
  deleteSent: boolean;
  gone: boolean;
}

const MAX_BACKOFF_SECONDS = 300;

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}

const isSidecar = (c: ContainerSpec): boolean => c.restartPolicy === 'Always';

/** Parses a container status written by a simulated kubelet before (adoption after a restart). */
function stateFromStatus(status: Record<string, unknown> | undefined, waitingReason: string): ContainerState {
  if (!status) return { id: '', state: 'waiting', waitingReason, restartCount: 0 };
  const state = isObject(status.state) ? status.state : {};
  const terminatedOf = (value: unknown): Terminated | undefined =>
    isObject(value)
      ? {
          exitCode: Number(value.exitCode ?? 0),
          reason: String(value.reason ?? ''),
          startedAt: String(value.startedAt ?? ''),
          finishedAt: String(value.finishedAt ?? ''),
          containerID: String(value.containerID ?? ''),
        }
      : undefined;
  const last = isObject(status.lastState) ? terminatedOf(status.lastState.terminated) : undefined;
  const base = { id: typeof status.containerID === 'string' ? status.containerID : '', restartCount: Number(status.restartCount ?? 0), lastTerminated: last };
  if (isObject(state.running)) return { ...base, state: 'running', startedAt: String(state.running.startedAt ?? timestamp()) };
  if (isObject(state.terminated)) return { ...base, state: 'terminated', terminated: terminatedOf(state.terminated), startedAt: String(state.terminated.startedAt ?? '') };
  const waiting = isObject(state.waiting) ? state.waiting : {};
  return { ...base, state: 'waiting', waitingReason: String(waiting.reason ?? waitingReason), waitingMessage: typeof waiting.message === 'string' ? waiting.message : undefined };
}

function byName(list: unknown): Map<string, Record<string, unknown>> {
  const map = new Map<string, Record<string, unknown>>();
  if (Array.isArray(list)) for (const item of list) if (isObject(item) && typeof item.name === 'string') map.set(item.name, item);
  return map;
}

/** The pods of every simulated node. */
export class SimulatedKubelet {
  private readonly records = new Map<string, PodRecord>();
  private readonly writes: Limiter;
  private stopped = false;

  constructor(
    private readonly client: ApiClient,
    private readonly nodes: ReadonlyMap<string, SimulatedNode>,
    private readonly options: SimulatedKubeletOptions,
  ) {
    this.writes = new Limiter(options.maxConcurrentWrites);
  }

  /** Whether a pod is bound to one of our nodes (the reflector's filter). */
  handles(pod: KubeObject): boolean {
    const spec = isObject(pod.spec) ? pod.spec : {};
    return typeof spec.nodeName === 'string' && this.nodes.has(spec.nodeName);
  }

  /** Counts for logs and tests. */
  stats(): { pods: number; running: number; pendingWrites: number } {
    let running = 0;
    for (const record of this.records.values()) if (record.sim?.stage === 'running') running++;
    return { pods: this.records.size, running, pendingWrites: this.writes.pending };
  }

  /** A pod on one of our nodes was added or changed. */
  upsert(pod: KubeObject): void {
    if (this.stopped) return;
    const view = podView(pod);
    const node = this.nodes.get(view.nodeName);
    if (!node) return;
    let record = this.records.get(view.key);
    if (record && record.view.uid !== view.uid) {
      // Same name, new pod (a StatefulSet replacement): the old one is gone.
      this.forget(record);
      record = undefined;
    }
    if (!record) {
      record = { view, node, finished: false, holdsSlot: false, runStartedMs: 0, writing: false, dirty: false, lastWriteRV: 0, version: 0, sentVersion: -1, failures: 0, deleteSent: false, gone: false };
      this.records.set(view.key, record);
      this.adopt(record);
    } else {
      // An event older than our last write shows a status that is not current any more.
      if (view.resourceVersion < record.lastWriteRV) {
        view.status = record.view.status;
        view.resourceVersion = record.view.resourceVersion;
      }
      record.view = view;
    }
    if (view.deleting) return this.kill(record);
    if (record.finished) return;
    const phase = view.status.phase;
    const terminal = record.sim?.stage === 'succeeded' || record.sim?.stage === 'failed' || record.sim?.stage === 'rejected';
    if ((phase === 'Succeeded' || phase === 'Failed') && !terminal) {
      // Someone else ended the pod (an eviction, a controller): a terminal phase is never left, so stop it here too.
      record.finished = true;
      clearTimeout(record.timer);
      this.release(record);
      return;
    }
    if (!record.sim) return this.admit(record);
    this.evaluate(record);
  }

  /** A pod of ours is gone from the server. */
  remove(key: string): void {
    const record = this.records.get(key);
    if (record) this.forget(record);
  }

  /** Stops every timer and waits for writes in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const record of this.records.values()) {
      clearTimeout(record.timer);
      clearTimeout(record.retryTimer);
    }
    await this.writes.idle();
  }

  // ---- lifecycle ----

  private forget(record: PodRecord): void {
    record.gone = true;
    clearTimeout(record.timer);
    clearTimeout(record.retryTimer);
    this.release(record);
    if (this.records.get(record.view.key) === record) this.records.delete(record.view.key);
  }

  private release(record: PodRecord): void {
    if (record.ip && !record.view.hostNetwork) record.node.addresses.release(record.ip);
    record.ip = undefined;
    if (record.holdsSlot) record.node.active.delete(record.view.key);
    record.holdsSlot = false;
  }

  private after(record: PodRecord, ms: number, step: () => void): void {
    clearTimeout(record.timer);
    record.timer = setTimeout(() => {
      record.timer = undefined;
      if (!this.stopped && !record.gone && !record.deleteSent) step();
    }, Math.max(0, ms));
  }

  private event(record: PodRecord, type: EventType, reason: string, message: string): void {
    const { view } = record;
    record.node.events?.event({ kind: 'Pod', apiVersion: 'v1', metadata: { name: view.name, namespace: view.namespace, uid: view.uid, resourceVersion: String(view.resourceVersion) } }, type, reason, message);
  }

  /** First sight of a pod: fresh, finished, or one this simulation ran before a restart. */
  private adopt(record: PodRecord): void {
    const { view, node } = record;
    const status = view.status;
    const phase = status.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      record.finished = true;
      return;
    }
    const mains = byName(status.containerStatuses);
    const inits = byName(status.initContainerStatuses);
    const ours = [...mains.values(), ...inits.values()].some((c) => typeof c.containerID === 'string' && c.containerID.startsWith('pilote-sim://'));
    if (!ours || typeof status.startTime !== 'string') return; // not started yet: admit() takes it
    const hasInit = view.initContainers.length > 0;
    const sim: SimulatedPodState = {
      stage: 'running',
      hostIP: node.addresses.nodeIP,
      podIP: typeof status.podIP === 'string' ? status.podIP : undefined,
      startTime: status.startTime,
      init: view.initContainers.map((c) => stateFromStatus(inits.get(c.name), 'PodInitializing')),
      main: view.containers.map((c) => stateFromStatus(mains.get(c.name), hasInit ? 'PodInitializing' : 'ContainerCreating')),
    };
    record.sim = sim;
    record.holdsSlot = true;
    node.active.add(view.key);
    if (sim.podIP && !view.hostNetwork && node.addresses.reserve(sim.podIP)) record.ip = sim.podIP;
    const started = sim.main.filter((c) => c.state === 'running').map((c) => Date.parse(c.startedAt ?? '') || Date.now());
    record.runStartedMs = started.length ? Math.max(...started) : Date.now();
    if (sim.main.some((c) => c.state === 'waiting' && c.waitingReason === 'CrashLoopBackOff')) {
      sim.stage = 'backoff';
      const restarts = Math.max(...sim.main.map((c) => c.restartCount));
      this.after(record, this.backoffSeconds(restarts) * 1000, () => this.startMain(record));
    } else if (sim.main.every((c) => c.state === 'running')) {
      sim.stage = 'running';
      this.scheduleFinish(record);
    } else {
      // Caught between steps (init or start): run the remaining ones.
      sim.stage = 'init';
      const next = view.initContainers.findIndex((c, i) => !isSidecar(c) && !(sim.init[i].state === 'terminated' && sim.init[i].terminated?.exitCode === 0));
      this.runInit(record, next < 0 ? view.initContainers.length : next);
    }
  }

  /** The kubelet's admission: a slot of the node's pod capacity, then the sandbox. */
  private admit(record: PodRecord): void {
    const { view, node } = record;
    if (view.containers.length === 0) return;
    const now = timestamp();
    const hasInit = view.initContainers.length > 0;
    const waiting = (reason: string): ContainerState => ({ id: '', state: 'waiting', waitingReason: reason, restartCount: 0 });
    if (node.active.size >= node.podsCapacity) {
      const message = `Node didn't have enough resource: pods, requested: 1, used: ${node.active.size}, capacity: ${node.podsCapacity}`;
      record.sim = { stage: 'rejected', hostIP: node.addresses.nodeIP, startTime: now, init: [], main: [], rejection: { reason: 'OutOfpods', message: `Pod was rejected: ${message}` } };
      this.event(record, 'Warning', 'OutOfpods', message);
      this.changed(record);
      return;
    }
    node.active.add(view.key);
    record.holdsSlot = true;
    record.ip = view.hostNetwork ? node.addresses.nodeIP : node.addresses.allocate();
    record.sim = {
      stage: 'creating',
      hostIP: node.addresses.nodeIP,
      startTime: now,
      init: view.initContainers.map(() => waiting('PodInitializing')),
      main: view.containers.map(() => waiting(hasInit ? 'PodInitializing' : 'ContainerCreating')),
    };
    if (this.options.podStartSeconds > 0) {
      this.changed(record);
      this.after(record, this.options.podStartSeconds * 1000, () => this.sandboxReady(record));
    } else {
      this.sandboxReady(record);
    }
  }

  private sandboxReady(record: PodRecord): void {
    record.sim!.podIP = record.ip;
    this.runInit(record, 0);
  }

  /** Runs init container `index` (sidecars start and stay up; the others run to completion, in order). */
  private runInit(record: PodRecord, index: number): void {
    const sim = record.sim!;
    const specs = record.view.initContainers;
    let i = index;
    while (i < specs.length && isSidecar(specs[i])) {
      if (sim.init[i].state !== 'running') this.startContainer(record, sim.init[i], specs[i]);
      i++;
    }
    if (i >= specs.length) return this.startMain(record);
    sim.stage = 'init';
    const state = sim.init[i];
    const runMs = this.options.initContainerSeconds * 1000;
    let remaining = runMs;
    if (state.state === 'running') remaining = Math.min(runMs, (Date.parse(state.startedAt ?? '') || Date.now()) + runMs - Date.now());
    else this.startContainer(record, state, specs[i]);
    this.changed(record);
    this.after(record, remaining, () => {
      state.state = 'terminated';
      state.terminated = { exitCode: 0, reason: 'Completed', startedAt: state.startedAt!, finishedAt: timestamp(), containerID: state.id };
      this.runInit(record, i + 1);
    });
  }

  private startContainer(record: PodRecord, state: ContainerState, spec: ContainerSpec): void {
    state.id = newContainerID();
    state.state = 'running';
    state.startedAt = timestamp();
    state.terminated = undefined;
    state.waitingReason = undefined;
    state.waitingMessage = undefined;
    this.event(record, 'Normal', 'Pulled', `Container image "${spec.image}" already present on machine`);
    this.event(record, 'Normal', 'Created', `Created container: ${spec.name}`);
    this.event(record, 'Normal', 'Started', `Started container ${spec.name}`);
  }

  private startMain(record: PodRecord): void {
    const sim = record.sim!;
    record.view.containers.forEach((spec, i) => this.startContainer(record, sim.main[i], spec));
    sim.stage = 'running';
    record.runStartedMs = Date.now();
    this.changed(record);
    this.scheduleFinish(record);
  }

  /** Containers of Never/OnFailure pods (or any pod with the run-seconds annotation) exit after their run time. */
  private scheduleFinish(record: PodRecord): void {
    const { view } = record;
    const seconds = view.runSeconds ?? (view.restartPolicy === 'Always' ? undefined : this.options.podRunSeconds);
    if (seconds === undefined || seconds < 0) return;
    this.after(record, record.runStartedMs + seconds * 1000 - Date.now(), () => this.finish(record));
  }

  /** Retry delay of a failed write: 1 s doubling to 30 s (the server may be away for a while). */
  private retryDelay(record: PodRecord): number {
    record.failures++;
    return Math.min(30_000, 1000 * 2 ** Math.min(record.failures - 1, 5));
  }

  private backoffSeconds(restartCount: number): number {
    return Math.min(MAX_BACKOFF_SECONDS, this.options.restartBackoffSeconds * 2 ** Math.max(0, restartCount - 1));
  }

  private finish(record: PodRecord): void {
    const { view } = record;
    const sim = record.sim!;
    const code = view.exitCode ?? 0;
    const now = timestamp();
    const terminated = (state: ContainerState, exitCode: number): Terminated => ({
      exitCode,
      reason: exitCode === 0 ? 'Completed' : 'Error',
      startedAt: state.startedAt ?? now,
      finishedAt: now,
      containerID: state.id,
    });
    const restart = view.restartPolicy === 'Always' || (view.restartPolicy === 'OnFailure' && code !== 0);
    if (!restart) {
      for (const state of sim.main) {
        state.state = 'terminated';
        state.terminated = terminated(state, code);
      }
      // Sidecars are stopped once the main containers are done.
      view.initContainers.forEach((spec, i) => {
        const state = sim.init[i];
        if (isSidecar(spec) && state.state === 'running') {
          state.state = 'terminated';
          state.terminated = terminated(state, 0);
        }
      });
      sim.stage = code === 0 ? 'succeeded' : 'failed';
      this.release(record);
      this.changed(record);
      return;
    }
    const restarts = Math.max(...sim.main.map((c) => c.restartCount)) + 1;
    const backoff = this.backoffSeconds(restarts);
    const pod = `${view.name}_${view.namespace}(${view.uid})`;
    view.containers.forEach((spec, i) => {
      const state = sim.main[i];
      state.lastTerminated = terminated(state, code);
      state.terminated = undefined;
      state.restartCount += 1;
      state.state = 'waiting';
      state.waitingReason = 'CrashLoopBackOff';
      state.waitingMessage = `back-off ${goDuration(backoff)} restarting failed container=${spec.name} pod=${pod}`;
      this.event(record, 'Warning', 'BackOff', `Back-off restarting failed container ${spec.name} in pod ${pod}`);
    });
    sim.stage = 'backoff';
    this.changed(record);
    this.after(record, backoff * 1000, () => this.startMain(record));
  }

  /** Graceful deletion: the containers "stop" at once, then the kubelet confirms with a DELETE of grace period 0. */
  private kill(record: PodRecord): void {
    if (record.deleteSent || this.stopped) return;
    record.deleteSent = true;
    clearTimeout(record.timer);
    clearTimeout(record.retryTimer);
    const { view } = record;
    const sim = record.sim;
    if (sim && !record.finished) {
      view.initContainers.forEach((spec, i) => sim.init[i]?.state === 'running' && this.event(record, 'Normal', 'Killing', `Stopping container ${spec.name}`));
      view.containers.forEach((spec, i) => sim.main[i]?.state === 'running' && this.event(record, 'Normal', 'Killing', `Stopping container ${spec.name}`));
    }
    this.release(record);
    this.writes
      .run(() => this.client.resource(RESOURCES.pods).delete(view.namespace, view.name, { gracePeriodSeconds: 0, preconditions: { uid: view.uid } }))
      .catch((error: Error) => {
        // Gone already, or a new pod took the name: nothing to confirm.
        if (error instanceof StatusError && (error.code === 404 || error.code === 409)) return;
        warnings.warnOnce('pod delete failed; retrying', { pod: view.key, error: error.message });
        record.deleteSent = false;
        record.retryTimer = setTimeout(() => !record.gone && !this.stopped && this.kill(record), this.retryDelay(record));
      });
  }

  // ---- status writes ----

  /** The simulation took a step for this pod. */
  private changed(record: PodRecord): void {
    record.version++;
    this.evaluate(record);
  }

  /** Writes the status when it differs from the server's (and the difference is not just our last write echoing back). */
  private evaluate(record: PodRecord): void {
    if (this.stopped || record.gone || record.deleteSent || !record.sim || record.finished) return;
    if (record.writing) {
      record.dirty = true;
      return;
    }
    // The echo of our own last write, and no step since: nothing to compare (the common case, kept cheap).
    if (record.view.resourceVersion === record.lastWriteRV && record.version === record.sentVersion) return;
    const desired = renderPodStatus(record.view, record.sim, timestamp());
    const wanted = stableStringify(desired);
    const observed = ownedFingerprint(record.view.status, Object.keys(desired));
    // The server still shows what it answered to our last write: write only if we moved on.
    // Otherwise someone else wrote (or this is the first write): write if the server differs.
    const upToDate = observed === record.lastServer ? wanted === record.lastSent : observed === wanted;
    if (upToDate) return;
    this.write(record);
  }

  private write(record: PodRecord): void {
    record.writing = true;
    record.dirty = false;
    this.writes
      .run(async () => {
        if (this.stopped || record.gone || record.deleteSent || !record.sim) return;
        // Rendered when the write leaves the queue, so it carries every step taken while it waited.
        const version = record.version;
        const status = renderPodStatus(record.view, record.sim, timestamp());
        const { view } = record;
        // A JSON patch: it replaces exactly the fields the kubelet owns and, unlike a merge patch, keeps
        // the nulls (lastProbeTime: null) a real server shows.
        const ops = isObject(view.status) && Object.keys(view.status).length > 0 ? Object.entries(status).map(([key, value]) => ({ op: 'add', path: `/status/${key}`, value })) : [{ op: 'add', path: '/status', value: status }];
        const result = await this.client.resource(RESOURCES.pods).patch(view.namespace, view.name, 'json', ops, 'status');
        record.lastSent = stableStringify(status);
        record.sentVersion = version;
        record.failures = 0;
        const resultStatus = isObject(result.status) ? result.status : {};
        record.lastServer = ownedFingerprint(resultStatus, Object.keys(status));
        record.lastWriteRV = Number(result.metadata?.resourceVersion ?? 0) || 0;
        if (record.lastWriteRV >= record.view.resourceVersion) {
          record.view.status = resultStatus;
          record.view.resourceVersion = record.lastWriteRV;
        }
      })
      .catch((error: Error) => {
        if (error instanceof StatusError && error.code === 404) return; // deleted meanwhile: its DELETED event follows
        if (!this.stopped) warnings.warnOnce('pod status write failed; retrying', { pod: record.view.key, error: error.message });
        clearTimeout(record.retryTimer);
        record.retryTimer = setTimeout(() => this.evaluate(record), this.retryDelay(record));
      })
      .finally(() => {
        record.writing = false;
        if (record.dirty) this.evaluate(record);
      });
  }
}
