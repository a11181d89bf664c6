/**
 * The kubelet's pod lifecycle: watch the pods bound to this node, and for each
 * one run a PodWorker (./pod-worker.ts) that turns it into a sandbox and
 * containers through CRI, then write the pod's status (./pod-status.ts).
 *
 * Scheduling of syncs follows the controllers' pattern: pod changes, container
 * state changes (CRI polled every second, the kubelet's PLEG), back-off
 * expiries and a periodic resync all enqueue the pod's uid in a WorkQueue, so
 * a pod is never synced twice at once and bursts collapse into one sync.
 *
 * Restart safety: the kubelet keeps no state of its own. A new kubelet lists
 * the runtime, finds each pod's sandboxes and containers by their CRI labels,
 * and carries on; stop() leaves containers running unless asked to clean up.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../agent/config.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { Informer } from '../client/informer.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { WorkQueue } from '../client/workqueue.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import { Backoff } from './backoff.js';
import { buildContainerConfig } from './container-config.js';
import { collectPodGarbage } from './container-gc.js';
import type { CriClient } from './cri/client.js';
import { generatePodStatus, stableStringify, type ProbeResults } from './pod-status.js';
import { PodWorker, type EnsuredImage, type PodHelpers, type WorkerContext } from './pod-worker.js';
import { ProbeManager } from './probes.js';
import { RuntimeReader, type RuntimePod } from './runtime-state.js';
import { buildSandboxConfig } from './sandbox-config.js';
import { killPod, removePod, specContainer } from './termination.js';
import { readTerminationMessage, VolumeManager } from './volumes.js';

const log = logger('kubelet');

/** What the kubelet needs of the image manager. */
export interface ImageEnsurer {
  ensureImage(pod: Pod, container: Container): Promise<EnsuredImage>;
}

export interface KubeletOptions {
  client: ApiClient;
  config: AgentConfig;
  cri: CriClient;
  images: ImageEnsurer;
  recorder: EventRecorder;
  /** Replaces parts of the default helpers (container config, volumes, probes). */
  helpers?: Partial<PodHelpers> & { probeResults?: ProbeResults };
  /** Periodic resync of every pod (default 10 s). */
  resyncMs?: number;
  /** How often CRI is polled for container state changes (default 1 s). */
  pollMs?: number;
  /** Pods synced in parallel (default 16). */
  workers?: number;
  /** Crash-loop back-off (tests shorten it). */
  backoff?: Backoff;
}

/** A running kubelet. */
export interface RunningKubelet {
  /** Stops the workers; containers keep running unless `cleanup` (then every pod of the node is stopped and removed). */
  stop(options?: { cleanup?: boolean }): Promise<void>;
}

/** What the kubelet remembers of one pod (by uid). */
interface PodRecord {
  uid: string;
  /** The pod as last seen (API or our own status write); kept after it is gone from the API, for cleanup. */
  pod: Pod;
  /** Gone from the API. */
  removed: boolean;
  worker: PodWorker;
  /** Fingerprint of the status we last wrote, and the resourceVersion the write produced. */
  lastSent?: string;
  lastWriteRV: number;
  /** The pod's containers are done for good (terminal phase). */
  finished: boolean;
  /** Why the kubelet failed the pod itself (active deadline exceeded). */
  failure?: { reason: string; message: string };
  /** A graceful termination under way: it runs beside the workers, as it may take the whole grace period. */
  terminating?: Promise<void>;
  /** The termination finished (the object was deleted). */
  terminated: boolean;
}

const rv = (pod: Pod): number => Number(pod.metadata?.resourceVersion ?? 0) || 0;
const uidOf = (pod: KubeObject | Pod): string => pod.metadata?.uid ?? '';
const isTerminalPhase = (phase: string | undefined): boolean => phase === 'Succeeded' || phase === 'Failed';

/** Keys of a status the kubelet writes (others, e.g. nominatedNodeName or resize, are someone else's). */
const OWNED_STATUS_KEYS = ['phase', 'conditions', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'qosClass', 'initContainerStatuses', 'containerStatuses', 'reason', 'message'];

function pickOwned(status: Record<string, unknown> | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const key of OWNED_STATUS_KEYS) if (status?.[key] !== undefined) picked[key] = status[key];
  return picked;
}

/**
 * The helpers wired to the node's parts: H5's sandbox/container builders,
 * volume manager and probe manager, the image manager; `options.helpers`
 * replaces any of them.
 */
function nodeHelpers(options: KubeletOptions, volumes: VolumeManager, probes: ProbeManager): PodHelpers & { probeResults: ProbeResults } {
  const { config, client } = options;
  return {
    ensureImage: (pod, container) => options.images.ensureImage(pod, container),
    sandboxConfig: async (pod, attempt) => buildSandboxConfig(pod, config, attempt),
    containerConfig: async (args) =>
      buildContainerConfig({ ...args, config, client, volumes: volumes.mounted(args.pod.metadata!.uid!) ?? (await volumes.setUp(args.pod)) }),
    setUpVolumes: async (pod) => {
      await volumes.setUp(pod);
    },
    tearDownVolumes: (pod) => volumes.tearDown(pod.metadata!.uid!),
    containerStarted: (pod, container, id, podIP, startedAtMs) => probes.add(pod, container, id, podIP, startedAtMs),
    containerStopped: (id) => probes.remove(id),
    probeFailure: (id) => probes.failure(id),
    sidecarStarted: (container, id) => !container.startupProbe || probes.isStarted(id) === true,
    probeResults: { ready: (id) => probes.isReady(id), started: (id) => probes.isStarted(id) },
    ...options.helpers,
  };
}

/** Starts the kubelet's pod workers for `config.nodeName`. */
export async function startKubelet(options: KubeletOptions): Promise<RunningKubelet> {
  const kubelet = new Kubelet(options);
  await kubelet.start();
  return { stop: (stopOptions) => kubelet.stop(stopOptions) };
}

/** The pod lifecycle of one node. */
export class Kubelet {
  private readonly records = new Map<string, PodRecord>();
  private readonly queue = new WorkQueue({ baseDelayMs: 200, maxDelayMs: 10_000 });
  private readonly reader: RuntimeReader;
  private readonly informer: Informer;
  private readonly helpers: PodHelpers & { probeResults: ProbeResults };
  private readonly context: WorkerContext;
  private readonly running: Promise<void>[] = [];
  private readonly terminations = new Map<string, Promise<void>>();
  private pollTimer?: NodeJS.Timeout;
  private resyncTimer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  /** Last container/sandbox states seen by the poller: id → "uid|state". */
  private lastStates = new Map<string, string>();

  private readonly volumes: VolumeManager;
  private readonly probes: ProbeManager;

  constructor(private readonly options: KubeletOptions) {
    this.reader = new RuntimeReader(options.cri, async (container, status) => {
      const record = this.records.get(status.labels['io.kubernetes.pod.uid'] ?? '');
      const spec = specContainer(record?.pod, container.name);
      if (!spec) return '';
      return readTerminationMessage({ container: spec, mounts: status.mounts, exitCode: container.exitCode, logPath: status.logPath });
    });
    this.volumes = new VolumeManager({ client: options.client, config: options.config });
    this.probes = new ProbeManager({
      cri: options.cri,
      recorder: options.recorder,
      // A readiness flip or a liveness failure: the pod's status (or its container) changes now.
      onResult: (event) => this.queue.add(event.podUid),
    });
    this.helpers = nodeHelpers(options, this.volumes, this.probes);
    this.context = {
      cri: options.cri,
      recorder: options.recorder,
      helpers: this.helpers,
      backoff: options.backoff ?? new Backoff(),
      onStopped: (id) => this.helpers.containerStopped(id),
    };
    this.informer = new Informer(options.client.resource(RESOURCES.pods), { fieldSelector: `spec.nodeName=${options.config.nodeName}` });
  }

  async start(): Promise<void> {
    this.informer.addHandlers({
      onAdd: (pod) => this.upsert(pod as unknown as Pod),
      onUpdate: (old, pod) => {
        if (uidOf(old) !== uidOf(pod)) this.markRemoved(uidOf(old));
        this.upsert(pod as unknown as Pod);
      },
      onDelete: (pod) => this.markRemoved(uidOf(pod)),
    });
    this.informer.start();
    await this.informer.hasSynced();
    // Volumes of pods gone while no kubelet ran (those still in the runtime go with their containers, in cleanUpRemoved).
    const inRuntime = (await this.options.cri.listPodSandbox()).map((s) => s.labels['io.kubernetes.pod.uid'] ?? '');
    await this.volumes.tearDownOrphans(new Set([...this.records.keys(), ...inRuntime])).catch((error: Error) => log.warn('orphaned volumes not removed', { error: error.message }));
    this.volumes.start();
    // Adoption: every pod the runtime holds gets a sync, those gone from the API are cleaned up.
    await this.poll();
    for (let i = 0; i < (this.options.workers ?? 16); i++) this.running.push(this.work());
    this.pollTimer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.pollTimer.unref();
    this.resyncTimer = setInterval(() => {
      for (const uid of this.records.keys()) this.queue.add(uid);
      this.context.backoff.gc();
    }, this.options.resyncMs ?? 10_000);
    this.resyncTimer.unref();
    log.info('kubelet started', { node: this.options.config.nodeName, pods: this.records.size });
  }

  async stop(options: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearInterval(this.resyncTimer);
    this.informer.stop();
    this.queue.shutDown();
    this.volumes.stop();
    this.probes.stop();
    // In-flight syncs finish (bounded: a container may be taking its grace period to stop).
    await Promise.race([Promise.allSettled([...this.running, ...this.terminations.values()]), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    if (options.cleanup) {
      const pods = await this.reader.readAll().catch(() => new Map<string, RuntimePod>());
      await Promise.allSettled(
        [...pods.values()].map(async (runtime) => {
          const pod = this.records.get(runtime.uid)?.pod;
          await killPod(this.context, pod, runtime, { gracePeriodSeconds: 0 });
          await removePod(this.options.cri, await this.reader.readPod(runtime.uid));
          await (pod ? this.helpers.tearDownVolumes(pod) : this.volumes.tearDown(runtime.uid)).catch(() => undefined);
        }),
      );
    }
  }

  private upsert(pod: Pod): void {
    if (this.stopped) return;
    // List items come without their type; events need it for their involvedObject.
    pod.kind ??= 'Pod';
    pod.apiVersion ??= 'v1';
    const uid = uidOf(pod);
    if (!uid) return;
    const record = this.records.get(uid);
    if (!record) {
      this.records.set(uid, { uid, pod, removed: false, worker: new PodWorker(this.context), lastWriteRV: 0, finished: false, terminated: false });
    } else if (rv(pod) >= rv(record.pod)) {
      // An event older than our own status write would show a status that is not current any more.
      record.pod = pod;
    }
    this.queue.add(uid);
  }

  private markRemoved(uid: string): void {
    const record = this.records.get(uid);
    if (record) record.removed = true;
    if (uid) this.queue.add(uid);
  }

  /** The PLEG: enqueue pods whose containers or sandboxes changed state, and pods the API does not know. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      const [sandboxes, containers] = await Promise.all([this.options.cri.listPodSandbox(), this.options.cri.listContainers()]);
      const next = new Map<string, string>();
      const changed = new Set<string>();
      for (const s of sandboxes) next.set(s.id, `${s.labels['io.kubernetes.pod.uid'] ?? ''}|${s.state}`);
      for (const c of containers) next.set(c.id, `${c.labels['io.kubernetes.pod.uid'] ?? ''}|${c.state}`);
      for (const [id, value] of next) if (this.lastStates.get(id) !== value) changed.add(value.split('|')[0]);
      for (const [id, value] of this.lastStates) if (!next.has(id)) changed.add(value.split('|')[0]);
      this.lastStates = next;
      for (const uid of changed) if (uid) this.queue.add(uid);
    } catch (error) {
      log.warn('listing the runtime failed', { error: (error as Error).message });
    } finally {
      this.polling = false;
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const uid = await this.queue.get();
      if (uid === undefined || this.stopped) return;
      try {
        const retryAfterMs = await this.syncPod(uid);
        this.queue.forget(uid);
        if (retryAfterMs !== undefined) this.queue.addAfter(uid, retryAfterMs);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 409)) log.warn('pod sync failed', { uid, error: (error as Error).message });
        this.queue.addRateLimited(uid);
      } finally {
        this.queue.done(uid);
      }
    }
  }

  /** One sync of one pod; returns when to sync it again, if sooner than the next event. */
  private async syncPod(uid: string): Promise<number | undefined> {
    const record = this.records.get(uid);
    // A termination under way finishes first; it enqueues the pod again when done.
    if (record?.terminating) return undefined;
    let runtime = await this.reader.readPod(uid);
    if (!record || record.removed) {
      await this.cleanUpRemoved(uid, record, runtime);
      return undefined;
    }
    const pod = record.pod;
    if (pod.metadata?.deletionTimestamp) {
      if (record.terminated) return undefined;
      // Stopping may take the whole grace period: it must not hold a worker that other pods need.
      record.terminating = this.terminate(record, runtime)
        .then(() => {
          record.terminated = true;
        })
        .catch((error: Error) => log.warn('pod termination failed; retrying', { uid, error: error.message }))
        .finally(() => {
          record.terminating = undefined;
          this.terminations.delete(uid);
          if (!this.stopped) this.queue.add(uid);
        });
      this.terminations.set(uid, record.terminating);
      return undefined;
    }
    const deadlineMs = this.activeDeadlineLeft(pod);
    if (deadlineMs !== undefined && deadlineMs <= 0 && !record.finished && !isTerminalPhase(pod.status?.phase)) {
      // pkg/kubelet/active_deadline.go: the pod has run for longer than spec.activeDeadlineSeconds.
      const message = 'Pod was active on the node longer than the specified deadline';
      record.failure = { reason: 'DeadlineExceeded', message };
      this.options.recorder.event(pod as unknown as KubeObject, 'Normal', 'DeadlineExceeded', message);
      record.finished = true;
    }
    if (record.finished || isTerminalPhase(pod.status?.phase)) {
      record.finished = true;
      if (runtime && (runtime.sandboxes.some((s) => s.ready) || runtime.containers.some((c) => c.state === 'running' || c.state === 'created'))) {
        await killPod(this.context, pod, runtime);
        runtime = await this.reader.readPod(uid);
      }
      await this.writeStatus(record, runtime, true);
      return undefined;
    }
    let outcome;
    try {
      outcome = await record.worker.sync(pod, runtime);
    } catch (error) {
      // The pod still gets a status (e.g. Pending, ContainerCreating while a volume cannot be set up).
      await this.writeStatus(record, await this.reader.readPod(uid), false).catch(() => undefined);
      throw error;
    }
    if (outcome.changed) runtime = await this.reader.readPod(uid);
    if (!outcome.finished && isTerminalPhase(this.status(record, runtime, false).phase)) {
      // Every container is done under the restart policy: the pod is terminal, its sandbox goes down.
      await killPod(this.context, pod, runtime);
      runtime = await this.reader.readPod(uid);
      outcome.finished = true;
    }
    if (outcome.finished) {
      record.finished = true;
      this.probes.removePod(uid);
    } else this.probeRunning(pod, runtime);
    await this.writeStatus(record, runtime, outcome.finished);
    if (runtime) {
      const removed = await collectPodGarbage(this.options.cri, runtime);
      this.reader.forget(removed);
    }
    if (deadlineMs !== undefined) return Math.min(outcome.retryAfterMs ?? Infinity, deadlineMs + 10);
    return outcome.retryAfterMs;
  }

  /** Milliseconds left before spec.activeDeadlineSeconds runs out (undefined without one). */
  private activeDeadlineLeft(pod: Pod): number | undefined {
    const deadline = pod.spec?.activeDeadlineSeconds;
    const start = pod.status?.startTime;
    if (deadline === undefined || !start) return undefined;
    return Date.parse(start) + deadline * 1000 - Date.now();
  }

  /** Probes for every running container (after a kubelet restart, those it did not start itself). */
  private probeRunning(pod: Pod, runtime: RuntimePod | undefined): void {
    const podIP = runtime?.sandboxes[0]?.ip ?? '';
    for (const c of runtime?.containers ?? []) {
      if (c.state !== 'running') {
        this.helpers.containerStopped(c.id);
        continue;
      }
      const spec = specContainer(pod, c.name);
      if (spec) this.helpers.containerStarted(pod, spec, c.id, podIP, c.startedAt || Date.now());
    }
  }

  private status(record: PodRecord, runtime: RuntimePod | undefined, podIsTerminal: boolean) {
    return generatePodStatus(record.pod, runtime, {
      hostIP: this.options.config.nodeIp,
      reasons: record.worker.reasons,
      probes: this.helpers.probeResults,
      podIsTerminal,
      failure: record.failure,
      now: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }

  /** Writes the pod's status when it differs from what the API holds (and from what we last wrote). */
  private async writeStatus(record: PodRecord, runtime: RuntimePod | undefined, podIsTerminal: boolean): Promise<void> {
    const status = this.status(record, runtime, podIsTerminal) as Record<string, unknown>;
    const fingerprint = stableStringify(status);
    const server = stableStringify(pickOwned(record.pod.status as Record<string, unknown> | undefined));
    if (fingerprint === server) {
      record.lastSent = fingerprint;
      return;
    }
    // The API still shows a status older than our last write: nothing new to say.
    if (fingerprint === record.lastSent && rv(record.pod) <= record.lastWriteRV) return;
    const patch: Record<string, unknown> = { ...status };
    // Fields we no longer report are removed (merge patch: null deletes).
    for (const key of OWNED_STATUS_KEYS) if (patch[key] === undefined && (record.pod.status as Record<string, unknown> | undefined)?.[key] !== undefined) patch[key] = null;
    const pods = this.options.client.resource(RESOURCES.pods);
    const updated = (await pods.patch(record.pod.metadata!.namespace, record.pod.metadata!.name!, 'merge', { metadata: { uid: record.uid }, status: patch }, 'status')) as unknown as Pod;
    record.lastSent = fingerprint;
    record.lastWriteRV = rv(updated);
    updated.kind ??= 'Pod';
    updated.apiVersion ??= 'v1';
    if (uidOf(updated) === record.uid && rv(updated) >= rv(record.pod)) record.pod = updated;
  }

  /**
   * A pod being deleted: stop its containers within the grace period
   * (preStop hooks first), write the final status, remove the sandbox and
   * volumes, then delete the object for good (grace period 0), as the real
   * kubelet's status manager does once the pod is terminated.
   */
  private async terminate(record: PodRecord, runtime: RuntimePod | undefined): Promise<void> {
    const pod = record.pod;
    this.probes.removePod(record.uid);
    await killPod(this.context, pod, runtime);
    runtime = await this.reader.readPod(record.uid);
    try {
      await this.writeStatus(record, runtime, true);
    } catch (error) {
      log.debug('final status not written', { uid: record.uid, error: (error as Error).message });
    }
    this.reader.forget(await removePod(this.options.cri, runtime));
    await this.helpers.tearDownVolumes(pod);
    try {
      await this.options.client.resource(RESOURCES.pods).delete(pod.metadata!.namespace, pod.metadata!.name!, { gracePeriodSeconds: 0, preconditions: { uid: record.uid } });
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) throw error;
    }
    record.finished = true;
    log.debug('pod terminated', { pod: `${pod.metadata!.namespace}/${pod.metadata!.name}`, uid: record.uid });
  }

  /** A pod gone from the API (or never known): its containers and sandboxes go. */
  private async cleanUpRemoved(uid: string, record: PodRecord | undefined, runtime: RuntimePod | undefined): Promise<void> {
    if (runtime) {
      // Deleted without a grace period (forced) or never known: stop at once (the minimum grace period still applies).
      const graceful = record?.pod.metadata?.deletionTimestamp !== undefined;
      await killPod(this.context, record?.pod, runtime, { gracePeriodSeconds: graceful ? record?.pod.metadata?.deletionGracePeriodSeconds : 1 });
      this.reader.forget(await removePod(this.options.cri, await this.reader.readPod(uid)));
    }
    if (record) await this.helpers.tearDownVolumes(record.pod);
    else await this.volumes.tearDown(uid);
    this.probes.removePod(uid);
    this.context.backoff.forgetPrefix(`${record?.pod.metadata?.name}_${record?.pod.metadata?.namespace}_${uid}_`);
    this.records.delete(uid);
  }
}
