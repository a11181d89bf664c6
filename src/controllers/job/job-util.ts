/**
 * Shapes and small helpers shared by the Job controller's parts: typed views
 * of Jobs and Pods, conditions, pod states (active, terminating, failed,
 * finished time) and the constants Kubernetes uses on them.
 */
import type { JobCondition, JobSpec, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { PodSpec, PodStatus, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../apimachinery/types.js';

/** A batch/v1 Job as the controller reads it. */
export type Job = KubeObject & { spec: JobSpec; status?: JobStatus };
/** A core/v1 Pod as the controller reads it. */
export type Pod = KubeObject & { spec?: PodSpec; status?: PodStatus };
export type { JobCondition, JobSpec, JobStatus, PodTemplateSpec };

/** Finalizer that keeps finished pods until the Job controller counted them. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** Annotation (and label) with the completion index of an Indexed Job's pod. */
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** Environment variable carrying the completion index. */
export const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';
/** spec.managedBy value of Jobs this controller reconciles. */
export const JOB_CONTROLLER_NAME = 'kubernetes.io/job-controller';

export const CONDITION = {
  complete: 'Complete',
  failed: 'Failed',
  suspended: 'Suspended',
  failureTarget: 'FailureTarget',
  successCriteriaMet: 'SuccessCriteriaMet',
} as const;

export const REASON = {
  backoffLimitExceeded: 'BackoffLimitExceeded',
  deadlineExceeded: 'DeadlineExceeded',
  podFailurePolicy: 'PodFailurePolicy',
  successPolicy: 'SuccessPolicy',
  completionsReached: 'CompletionsReached',
} as const;

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Parses a metav1.Time; undefined when absent or invalid. */
export function parseTime(value: string | undefined | null): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function findCondition(conditions: readonly JobCondition[] | undefined, type: string): JobCondition | undefined {
  return conditions?.find((c) => c.type === type);
}

/** A condition with both timestamps at `now`, fields in Go's JSON order. */
export function newCondition(type: string, status: 'True' | 'False', reason: string, message: string, now: Date): JobCondition {
  const condition: JobCondition = { type, status, lastProbeTime: rfc3339(now), lastTransitionTime: rfc3339(now) };
  if (reason) condition.reason = reason;
  if (message) condition.message = message;
  return condition;
}

/**
 * ensureJobConditionStatus: sets a condition (replacing one of the same type
 * when status, reason or message differ); a False condition is never added
 * from nothing. Returns whether the list changed.
 */
export function ensureCondition(status: JobStatus, type: string, value: 'True' | 'False', reason: string, message: string, now: Date): boolean {
  const conditions = status.conditions ?? [];
  const index = conditions.findIndex((c) => c.type === type);
  if (index >= 0) {
    const c = conditions[index];
    if (c.status !== value || (c.reason ?? '') !== reason || (c.message ?? '') !== message) {
      conditions[index] = newCondition(type, value, reason, message, now);
      status.conditions = conditions;
      return true;
    }
    return false;
  }
  if (value !== 'False') {
    status.conditions = [...conditions, newCondition(type, value, reason, message, now)];
    return true;
  }
  return false;
}

/** The finished condition type (Complete or Failed) when one is True. */
export function finishedConditionType(job: Job): 'Complete' | 'Failed' | undefined {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === CONDITION.complete || c.type === CONDITION.failed) && c.status === 'True') return c.type;
  }
  return undefined;
}

/** util.IsJobFinished. */
export function isJobFinished(job: Job): boolean {
  return finishedConditionType(job) !== undefined;
}

export function isIndexedJob(job: Job): boolean {
  return job.spec.completionMode === 'Indexed';
}

export function isSuspended(job: Job): boolean {
  return job.spec.suspend === true;
}

/** The Job is reconciled by another controller (spec.managedBy). */
export function managedElsewhere(job: Job): boolean {
  const managedBy = job.spec.managedBy;
  return managedBy !== undefined && managedBy !== null && managedBy !== JOB_CONTROLLER_NAME;
}

// ---------------------------------------------------------------------------
// Pods
// ---------------------------------------------------------------------------

export function podPhase(pod: Pod): string {
  return pod.status?.phase ?? '';
}

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/** controller.FilterActivePods: not finished and not being deleted. */
export function isPodActive(pod: Pod): boolean {
  const phase = podPhase(pod);
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** controller.IsPodTerminating: being deleted but not finished. */
export function isPodTerminating(pod: Pod): boolean {
  const phase = podPhase(pod);
  return Boolean(pod.metadata.deletionTimestamp) && phase !== 'Succeeded' && phase !== 'Failed';
}

export function isPodReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** The completion index annotation, or -1 when absent or invalid. */
export function completionIndex(pod: Pod): number {
  const value = pod.metadata.annotations?.[JOB_COMPLETION_INDEX];
  if (value === undefined || !/^[+-]?[0-9]+$/.test(value)) return -1;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/**
 * When a pod finished: the latest container finish time when all containers
 * terminated, else when Ready turned False, else its deletion moment, else its
 * creation (backoff_utils.getFinishedTime).
 */
export function podFinishedTime(pod: Pod): number {
  const statuses = pod.status?.containerStatuses ?? [];
  let latest: number | undefined;
  let all = statuses.length > 0;
  for (const cs of statuses) {
    const finished = parseTime(cs.state?.terminated?.finishedAt);
    if (finished === undefined) {
      all = false;
      break;
    }
    if (latest === undefined || finished > latest) latest = finished;
  }
  if (all && latest !== undefined) return latest;
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  const readyFalse = ready && ready.status === 'False' ? parseTime(ready.lastTransitionTime) : undefined;
  if (readyFalse !== undefined) return readyFalse;
  const deletion = parseTime(pod.metadata.deletionTimestamp);
  if (deletion !== undefined) return deletion - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(pod.metadata.creationTimestamp) ?? 0;
}

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * controller.ActivePods ordering: the pods to delete first come first —
 * unscheduled before scheduled, pending before running, not ready before
 * ready, ready for less time, more restarts, newer.
 */
export function compareActivePodsForDeletion(a: Pod, b: Pod): number {
  const aNode = a.spec?.nodeName ? 1 : 0;
  const bNode = b.spec?.nodeName ? 1 : 0;
  if (aNode !== bNode) return aNode - bNode;
  const ap = phaseRank[podPhase(a)] ?? 0;
  const bp = phaseRank[podPhase(b)] ?? 0;
  if (ap !== bp) return ap - bp;
  const ar = isPodReady(a) ? 1 : 0;
  const br = isPodReady(b) ? 1 : 0;
  if (ar !== br) return ar - br;
  if (ar && br) {
    const at = readySince(a);
    const bt = readySince(b);
    if (at !== bt) return bt - at; // ready for less time first
  }
  const restarts = (p: Pod) => Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const rDiff = restarts(b) - restarts(a);
  if (rDiff !== 0) return rDiff;
  const created = (p: Pod) => parseTime(p.metadata.creationTimestamp) ?? 0;
  return created(b) - created(a);
}

function readySince(pod: Pod): number {
  const ready = pod.status?.conditions?.find((c) => c.type === 'Ready');
  return parseTime(ready?.lastTransitionTime) ?? 0;
}
