/**
 * Stopping containers and pods as the kubelet does (kuberuntime killContainer /
 * killPodWithSyncResult): the Killing event, the preStop hook within the grace
 * period, then CRI StopContainer with what is left of it (containerd sends the
 * image's STOPSIGNAL, SIGTERM by default, then SIGKILL when the time is up),
 * and the sandboxes stopped once every container is down.
 */
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import { isNotFound, type CriClient } from './cri/client.js';
import { runHook } from './lifecycle-hooks.js';
import { ANNOTATIONS, type RuntimeContainer, type RuntimePod } from './runtime-state.js';

const log = logger('kubelet');

/** The kubelet never gives a container less than this to stop (minimumGracePeriodInSeconds). */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

/** What stopping needs. */
export interface StopContext {
  cri: CriClient;
  recorder: EventRecorder;
  /** Called when a container is stopped (probes end). */
  onStopped?(containerId: string): void;
}

/** A container of the pod spec (init, sidecar or regular) by name. */
export function specContainer(pod: Pod | undefined, name: string): Container | undefined {
  return pod?.spec?.containers.find((c) => c.name === name) ?? pod?.spec?.initContainers?.find((c) => c.name === name);
}

/** The grace period for stopping a container: the deletion's, else the pod's (default 30 s); a probe may override it. */
export function gracePeriodFor(pod: Pod | undefined, container: RuntimeContainer, override?: number): number {
  let grace: number;
  if (override !== undefined) grace = override;
  else if (pod?.metadata?.deletionGracePeriodSeconds !== undefined && pod.metadata.deletionTimestamp) grace = pod.metadata.deletionGracePeriodSeconds;
  else if (pod?.spec?.terminationGracePeriodSeconds !== undefined) grace = pod.spec.terminationGracePeriodSeconds;
  else {
    const annotated = Number(container.annotations[ANNOTATIONS.terminationGracePeriod]);
    grace = Number.isFinite(annotated) && container.annotations[ANNOTATIONS.terminationGracePeriod] !== undefined ? annotated : 30;
  }
  return grace;
}

/**
 * Stops one container: Killing event, preStop hook (when the spec is known),
 * StopContainer with the remaining grace period. `message` is the Killing
 * event's text (default "Stopping container x").
 */
export async function killContainer(
  context: StopContext,
  pod: Pod | undefined,
  container: RuntimeContainer,
  options: { message?: string; gracePeriodSeconds?: number; podIP?: string } = {},
): Promise<void> {
  const spec = specContainer(pod, container.name);
  const started = Date.now();
  let grace = gracePeriodFor(pod, container, options.gracePeriodSeconds);
  if (pod) context.recorder.event(pod as unknown as KubeObject, 'Normal', 'Killing', options.message ?? `Stopping container ${container.name}`);
  const preStop = spec?.lifecycle?.preStop;
  if (pod && spec && preStop && container.state === 'running' && grace > 0) {
    const failure = await runHook(context.cri, pod, spec, container.id, options.podIP ?? '', preStop, grace);
    if (failure) context.recorder.event(pod as unknown as KubeObject, 'Warning', 'FailedPreStopHook', failure);
    grace -= Math.floor((Date.now() - started) / 1000);
  }
  if (grace < MINIMUM_GRACE_PERIOD_SECONDS) grace = MINIMUM_GRACE_PERIOD_SECONDS;
  try {
    await context.cri.stopContainer(container.id, grace);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  context.onStopped?.(container.id);
}

/** Stops every live container of a pod at once, then its sandboxes (killPodWithSyncResult). */
export async function killPod(context: StopContext, pod: Pod | undefined, runtime: RuntimePod | undefined, options: { gracePeriodSeconds?: number } = {}): Promise<void> {
  if (!runtime) return;
  const podIP = runtime.sandboxes[0]?.ip ?? '';
  const live = runtime.containers.filter((c) => c.state === 'running' || c.state === 'created' || c.state === 'unknown');
  const results = await Promise.allSettled(live.map((c) => killContainer(context, pod, c, { gracePeriodSeconds: options.gracePeriodSeconds, podIP })));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  for (const sandbox of runtime.sandboxes.filter((s) => s.ready)) {
    try {
      await context.cri.stopPodSandbox(sandbox.id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  log.debug('pod stopped', { uid: runtime.uid, containers: live.length });
}

/** Removes every sandbox of a pod (and with them their containers and logs). */
export async function removePod(cri: CriClient, runtime: RuntimePod | undefined): Promise<string[]> {
  if (!runtime) return [];
  const removed: string[] = [];
  for (const c of runtime.containers) {
    try {
      await cri.removeContainer(c.id);
      removed.push(c.id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  for (const s of runtime.sandboxes) {
    try {
      await cri.removePodSandbox(s.id);
      removed.push(s.id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}
