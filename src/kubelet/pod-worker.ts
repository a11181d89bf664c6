/**
 * The sync of one pod: compare what the pod asks for with what the runtime
 * holds and take the steps between them, as the kubelet's
 * computePodActions/SyncPod (pkg/kubelet/kuberuntime/kuberuntime_manager.go):
 * a sandbox when there is none (or it died: then every container starts
 * over), init containers one at a time in order, sidecars kept running,
 * regular containers per restartPolicy with crash-loop back-off, restarts on a
 * spec change or a failed liveness probe, and the sandbox stopped once every
 * container is done. The status written afterwards is ./pod-status.ts's.
 *
 * A PodWorker is only ever called for one pod at a time (the kubelet's queue
 * guarantees it), so nothing here needs locking.
 */
import { createHash } from 'node:crypto';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import type { CriClient } from './cri/client.js';
import type { ContainerConfig, PodSandboxConfig } from './cri/types.js';
import { Backoff, goDuration } from './backoff.js';
import { runHook } from './lifecycle-hooks.js';
import { formatPod, isSidecar, shouldRestart, type WaitingReason } from './pod-status.js';
import { ANNOTATIONS, LABELS, latestContainer, type RuntimeContainer, type RuntimePod } from './runtime-state.js';
import { killContainer, killPod, type StopContext } from './termination.js';

/**
 * How long a pod whose container could not be created (image, config or
 * runtime error) waits before the next try: the kubelet pod workers' back-off
 * period, so a broken pod costs one sync (and one event) per 10 s, not a stream.
 */
const SYNC_ERROR_RETRY_MS = 10_000;

const log = logger('kubelet');

/** Which list a container comes from. */
export type ContainerKind = 'init' | 'sidecar' | 'regular';

/** An image ready to run (ImageManager.ensureImage's answer). */
export interface EnsuredImage {
  imageRef: string;
  imageId?: string;
  user?: string | number;
}

/** A failure to start a container that the pod status shows as the container's waiting reason. */
export class ContainerStartError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'ContainerStartError';
  }
}

/**
 * What the worker needs from the other node parts (images, container and
 * sandbox configuration, volumes, probes). The kubelet wires the real ones.
 */
export interface PodHelpers {
  /** Pulls (or finds) the container's image; throws an error with `reason` ErrImagePull / ImagePullBackOff / ErrImageNeverPull. */
  ensureImage(pod: Pod, container: Container): Promise<EnsuredImage>;
  sandboxConfig(pod: Pod, attempt: number): Promise<PodSandboxConfig>;
  /** Throws an error whose message is the CreateContainerConfigError text. */
  containerConfig(args: { pod: Pod; container: Container; kind: ContainerKind; restartCount: number; image: EnsuredImage; podIP: string; sandboxConfig: PodSandboxConfig }): Promise<ContainerConfig>;
  setUpVolumes(pod: Pod): Promise<void>;
  tearDownVolumes(pod: Pod): Promise<void>;
  /** A container runs (just started, or found running after a restart): begin its probes (idempotent). */
  containerStarted(pod: Pod, container: Container, containerId: string, podIP: string, startedAtMs: number): void;
  /** A container stopped (or is being stopped): end its probes. */
  containerStopped(containerId: string): void;
  /** Liveness or startup probe failed for this running container: the message to restart it with, if so. */
  probeFailure(containerId: string): string | undefined;
  /** Whether the startup probe of a running sidecar passed (true when it has none). */
  sidecarStarted(container: Container, containerId: string): boolean;
}

/** Everything a worker uses, shared by all pods. */
export interface WorkerContext extends StopContext {
  cri: CriClient;
  recorder: EventRecorder;
  helpers: PodHelpers;
  backoff: Backoff;
}

/** What one sync did, for the kubelet's scheduling of the next one. */
export interface SyncOutcome {
  /** Something was created, started or stopped: read the runtime again soon. */
  changed: boolean;
  /** Sync again after this many ms (a back-off running out). */
  retryAfterMs?: number;
  /** Every container is done and will not start again: the pod is terminal. */
  finished: boolean;
}

/** The spec hash kept in the io.kubernetes.container.hash annotation: a change restarts the container. */
export function containerHash(container: Container): string {
  const { resources: _resources, ...rest } = container;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex').slice(0, 16);
}

/** The back-off key of a container (kubelet's getStableKey: pod, uid, container, hash). */
function backoffKey(pod: Pod, container: Container): string {
  return `${pod.metadata!.name}_${pod.metadata!.namespace}_${pod.metadata!.uid}_${container.name}_${containerHash(container)}`;
}

const asKube = (pod: Pod): KubeObject => pod as unknown as KubeObject;
const shouldRestartOnFailure = (pod: Pod): boolean => (pod.spec?.restartPolicy ?? 'Always') !== 'Never';

/** The state the kubelet keeps for one pod between syncs. */
export class PodWorker {
  /** Last failure to start each container: the waiting reason in the status. */
  readonly reasons = new Map<string, WaitingReason>();

  constructor(private readonly context: WorkerContext) {}

  /** One step towards the pod's desired state. */
  async sync(pod: Pod, runtime: RuntimePod | undefined): Promise<SyncOutcome> {
    const outcome: SyncOutcome = { changed: false, finished: false };
    const sandbox = runtime?.sandboxes[0];
    const readySandboxes = runtime?.sandboxes.filter((s) => s.ready).length ?? 0;
    const hostNetwork = pod.spec?.hostNetwork === true;
    const sandboxChanged = !sandbox || !sandbox.ready || readySandboxes > 1 || (!hostNetwork && !sandbox.ip);
    const initContainers = pod.spec?.initContainers ?? [];
    const containers = pod.spec?.containers ?? [];

    if (sandboxChanged) {
      const attempt = sandbox ? sandbox.attempt + 1 : 0;
      const anyContainer = (runtime?.containers.length ?? 0) > 0;
      if (!shouldRestartOnFailure(pod) && attempt !== 0 && anyContainer) {
        // A Never pod whose sandbox is gone does not start over.
        await this.stopAll(pod, runtime, outcome);
        outcome.finished = true;
        return outcome;
      }
      const toStart = containers.filter((c) => !(pod.spec?.restartPolicy === 'OnFailure' && latestContainer(runtime, c.name)?.state === 'exited' && latestContainer(runtime, c.name)?.exitCode === 0));
      const regularCreated = containers.some((c) => latestContainer(runtime, c.name) !== undefined);
      if (toStart.length === 0 && regularCreated) {
        await this.stopAll(pod, runtime, outcome);
        outcome.finished = true;
        return outcome;
      }
      if (sandbox) this.context.recorder.event(asKube(pod), 'Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      await this.stopAll(pod, runtime, outcome);
      // A new sandbox starts initialization over: the old init containers must not count as done (purgeInitContainers).
      const initNames = new Set(initContainers.map((c) => c.name));
      for (const c of runtime?.containers ?? []) if (initNames.has(c.name)) await this.context.cri.removeContainer(c.id).catch(() => undefined);
      const created = await this.createSandbox(pod, attempt);
      outcome.changed = true;
      if (!created) return outcome;
      const fresh: RuntimePod = {
        uid: pod.metadata!.uid!,
        name: pod.metadata!.name!,
        namespace: pod.metadata!.namespace!,
        sandboxes: [created.sandbox],
        containers: (runtime?.containers ?? []).filter((c) => !initNames.has(c.name)),
      };
      if (initContainers.length > 0) await this.startContainer(pod, initContainers[0], initKind(initContainers[0]), fresh, created.config, outcome);
      else for (const c of toStart) await this.startContainer(pod, c, 'regular', fresh, created.config, outcome);
      return outcome;
    }

    // Only built when a container is to start.
    let sandboxConfig: Promise<PodSandboxConfig> | undefined;
    const config = () => (sandboxConfig ??= this.context.helpers.sandboxConfig(pod, sandbox.attempt));
    const init = this.initActions(pod, runtime!);
    for (const [id, message] of init.kill) {
      const c = runtime!.containers.find((x) => x.id === id)!;
      await killContainer(this.context, pod, c, { message, podIP: sandbox.ip });
      outcome.changed = true;
    }
    if (init.killPod) {
      await this.stopAll(pod, runtime, outcome);
      outcome.finished = true;
      return outcome;
    }
    for (const index of init.start) {
      const container = initContainers[index];
      await this.startContainer(pod, container, initKind(container), runtime!, await config(), outcome);
      // An init container that could not start holds back the ones after it.
      if (!isSidecar(container) && this.reasons.has(container.name)) break;
    }
    if (!init.initialized) return outcome;

    let keep = 0;
    const start: Container[] = [];
    for (const c of containers) {
      const latest = latestContainer(runtime, c.name);
      if (!latest || latest.state !== 'running') {
        if (shouldRestart(c, pod, latest)) {
          start.push(c);
          if (latest?.state === 'unknown') await killContainer(this.context, pod, latest, { message: `Container is in "unknown" state, try killing it before restart`, podIP: sandbox.ip });
        }
        continue;
      }
      let message: string | undefined;
      let restart = shouldRestartOnFailure(pod);
      if (latest.hash && latest.hash !== containerHash(c)) {
        message = `Container ${c.name} definition changed`;
        restart = true;
      } else message = this.context.helpers.probeFailure(latest.id);
      if (!message) {
        keep++;
        continue;
      }
      if (restart) {
        message = `${message}, will be restarted`;
        start.push(c);
      }
      await killContainer(this.context, pod, latest, { message, podIP: sandbox.ip });
      outcome.changed = true;
    }
    if (keep === 0 && start.length === 0) {
      // Every container is done for good: stop the sandbox (the containers stay, for their logs).
      await this.stopAll(pod, runtime, outcome);
      outcome.finished = true;
      return outcome;
    }
    for (const c of start) await this.startContainer(pod, c, 'regular', runtime!, await config(), outcome);
    return outcome;
  }

  /** Init container actions (computeInitContainerActions): which to start, which to kill, whether the pod is initialized. */
  private initActions(pod: Pod, runtime: RuntimePod): { start: number[]; kill: Map<string, string>; initialized: boolean; killPod: boolean } {
    const inits = pod.spec?.initContainers ?? [];
    const kill = new Map<string, string>();
    if (inits.length === 0) return { start: [], kill, initialized: true, killPod: false };
    let initialized = pod.spec!.containers.some((c) => {
      const s = latestContainer(runtime, c.name);
      return s?.state === 'created' || s?.state === 'running';
    });
    let previouslyInitialized = initialized;
    const restartOnFailure = shouldRestartOnFailure(pod);
    const start: number[] = [];
    for (let i = inits.length - 1; i >= 0; i--) {
      const container = inits[i];
      const sidecar = isSidecar(container);
      const status = latestContainer(runtime, container.name);
      if (!status) {
        if (previouslyInitialized && sidecar) start.push(i);
        continue;
      }
      if (previouslyInitialized && !sidecar) continue;
      switch (status.state) {
        case 'created':
          start.push(i);
          break;
        case 'running':
          if (!sidecar) break;
          if (!this.context.helpers.sidecarStarted(container, status.id)) {
            const failure = this.context.helpers.probeFailure(status.id);
            if (failure) {
              kill.set(status.id, `Init container ${container.name} failed startup probe`);
              start.push(i);
            }
            break;
          }
          if (i === inits.length - 1) initialized = true;
          else if (!previouslyInitialized) start.push(i + 1);
          if (status.hash && status.hash !== containerHash(container)) {
            kill.set(status.id, `Init container ${container.name} definition changed`);
            start.push(i);
            break;
          }
          {
            const failure = this.context.helpers.probeFailure(status.id);
            if (failure) {
              kill.set(status.id, `Init container ${container.name} failed liveness probe`);
              start.push(i);
            }
          }
          break;
        case 'exited':
          if (sidecar) start.push(i);
          else if (status.exitCode !== 0) {
            if (!restartOnFailure) return { start: [], kill, initialized: false, killPod: true };
            start.push(i);
          } else if (i === inits.length - 1) initialized = true;
          else start.push(i + 1);
          break;
        default:
          if (!sidecar && !restartOnFailure) return { start: [], kill, initialized: false, killPod: true };
          kill.set(status.id, `Init container is in "${status.state}" state, try killing it before restart`);
          start.push(i);
      }
      previouslyInitialized = true;
    }
    if (!previouslyInitialized) start.push(0);
    // Each index at most once, in spec order; a later one is only started once the ones before are started.
    const ordered = [...new Set(start)].sort((a, b) => a - b);
    return { start: ordered, kill, initialized, killPod: false };
  }

  private async createSandbox(pod: Pod, attempt: number): Promise<{ sandbox: RuntimePod['sandboxes'][number]; config: PodSandboxConfig } | undefined> {
    const { cri, helpers, recorder } = this.context;
    try {
      await helpers.setUpVolumes(pod);
    } catch (error) {
      recorder.event(asKube(pod), 'Warning', 'FailedMount', (error as Error).message);
      throw error;
    }
    const config = await helpers.sandboxConfig(pod, attempt);
    let id: string;
    try {
      id = await cri.runPodSandbox(config);
    } catch (error) {
      recorder.event(asKube(pod), 'Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(error as Error).message}`);
      throw error;
    }
    const status = (await cri.podSandboxStatus(id)).status;
    return {
      config,
      sandbox: {
        id,
        attempt,
        ready: true,
        createdAt: Date.now(),
        ip: status?.network?.ip ?? '',
        additionalIps: status?.network?.additionalIps.map((a) => a.ip) ?? [],
      },
    };
  }

  /** Stops every live container of the pod and its sandboxes. */
  private async stopAll(pod: Pod, runtime: RuntimePod | undefined, outcome: SyncOutcome): Promise<void> {
    if (!runtime) return;
    const live = runtime.containers.some((c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown') || runtime.sandboxes.some((s) => s.ready);
    if (!live) return;
    await killPod(this.context, pod, runtime);
    outcome.changed = true;
  }

  /**
   * startContainer of kuberuntime_container.go, preceded by the crash-loop
   * back-off check (doBackOff): image, config, create, start, postStart hook.
   * A failure becomes the container's waiting reason; it is not thrown.
   */
  private async startContainer(pod: Pod, container: Container, kind: ContainerKind, runtime: RuntimePod, sandboxConfig: PodSandboxConfig, outcome: SyncOutcome): Promise<void> {
    const { cri, helpers, recorder, backoff } = this.context;
    const latest = latestContainer(runtime, container.name);
    const sandbox = runtime.sandboxes[0];
    const podIP = sandbox?.ip ?? '';
    // Restarting an exited container first waits out its crash-loop back-off (doBackOff).
    if (latest && latest.state === 'exited') {
      const key = backoffKey(pod, container);
      const finished = latest.finishedAt || Date.now();
      const left = backoff.remaining(key, finished);
      if (left > 0) {
        const delay = goDuration(backoff.delay(key));
        this.reasons.set(container.name, { reason: 'CrashLoopBackOff', message: `back-off ${delay} restarting failed container=${container.name} pod=${formatPod(asKube(pod))}` });
        recorder.event(asKube(pod), 'Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${formatPod(asKube(pod))}`);
        outcome.retryAfterMs = Math.min(outcome.retryAfterMs ?? Infinity, left + 50);
        return;
      }
      backoff.next(key, finished);
    }
    let image: EnsuredImage;
    try {
      image = await helpers.ensureImage(pod, container);
    } catch (error) {
      const reason = (error as { reason?: string }).reason ?? 'ErrImagePull';
      this.reasons.set(container.name, { reason, message: (error as Error).message });
      outcome.retryAfterMs = Math.min(outcome.retryAfterMs ?? Infinity, SYNC_ERROR_RETRY_MS);
      return;
    }
    const restartCount = latest ? latest.restartCount + 1 : 0;
    let config: ContainerConfig;
    try {
      config = await helpers.containerConfig({ pod, container, kind, restartCount, image, podIP, sandboxConfig });
    } catch (error) {
      const message = (error as Error).message;
      this.reasons.set(container.name, { reason: 'CreateContainerConfigError', message });
      recorder.event(asKube(pod), 'Warning', 'Failed', `Error: ${message}`);
      outcome.retryAfterMs = Math.min(outcome.retryAfterMs ?? Infinity, SYNC_ERROR_RETRY_MS);
      return;
    }
    config.labels = {
      ...config.labels,
      [LABELS.podName]: pod.metadata!.name!,
      [LABELS.podNamespace]: pod.metadata!.namespace!,
      [LABELS.podUid]: pod.metadata!.uid!,
      [LABELS.containerName]: container.name,
    };
    config.annotations = {
      ...config.annotations,
      [ANNOTATIONS.containerHash]: containerHash(container),
      [ANNOTATIONS.restartCount]: String(restartCount),
      [ANNOTATIONS.terminationGracePeriod]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
      [ANNOTATIONS.containerKind]: kind,
      ...(image.imageId ? { [ANNOTATIONS.imageId]: image.imageId } : {}),
    };
    config.metadata = { name: container.name, attempt: restartCount };
    let id: string;
    try {
      id = await cri.createContainer(sandbox.id, config, sandboxConfig);
    } catch (error) {
      const message = cleanCriMessage(error);
      this.reasons.set(container.name, { reason: 'CreateContainerError', message });
      recorder.event(asKube(pod), 'Warning', 'Failed', `Error: ${message}`);
      outcome.retryAfterMs = Math.min(outcome.retryAfterMs ?? Infinity, SYNC_ERROR_RETRY_MS);
      return;
    }
    outcome.changed = true;
    recorder.event(asKube(pod), 'Normal', 'Created', `Created container ${container.name}`);
    try {
      await cri.startContainer(id);
    } catch (error) {
      const message = cleanCriMessage(error);
      this.reasons.set(container.name, { reason: 'RunContainerError', message });
      recorder.event(asKube(pod), 'Warning', 'Failed', `Error: ${message}`);
      return;
    }
    recorder.event(asKube(pod), 'Normal', 'Started', `Started container ${container.name}`);
    this.reasons.delete(container.name);
    helpers.containerStarted(pod, container, id, podIP, Date.now());
    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      const failure = await runHook(cri, pod, container, id, podIP, postStart, pod.spec?.terminationGracePeriodSeconds ?? 30);
      if (failure) {
        recorder.event(asKube(pod), 'Warning', 'FailedPostStartHook', failure);
        const started: RuntimeContainer = { ...placeholder(id, sandbox.id, container.name), state: 'running' };
        await killContainer(this.context, pod, started, { message: 'FailedPostStartHook', podIP });
      }
    }
    log.debug('container started', { pod: formatPod(asKube(pod)), container: container.name, id });
  }
}

const initKind = (c: Container): ContainerKind => (isSidecar(c) ? 'sidecar' : 'init');

/** The runtime's message without the CRI call prefix. */
function cleanCriMessage(error: unknown): string {
  const e = error as { details?: string; message: string };
  return e.details ?? e.message;
}

function placeholder(id: string, sandboxId: string, name: string): RuntimeContainer {
  return { id, sandboxId, name, state: 'running', createdAt: Date.now(), startedAt: Date.now(), finishedAt: 0, exitCode: 0, reason: '', message: '', image: '', imageRef: '', restartCount: 0, hash: '', logPath: '', annotations: {} };
}
