/**
 * Pod facts the workload controllers share, as Kubernetes' podutil and
 * controller_utils define them: readiness, availability (ready for
 * minReadySeconds), activeness, and the order in which a controller prefers to
 * delete pods (ActivePodsWithRanks).
 */
import type { KubeObject } from '../../apimachinery/types.js';

/** The fields of a Pod these helpers read. */
export interface PodLike extends KubeObject {
  spec?: { nodeName?: string; [key: string]: unknown };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string | null }[];
    containerStatuses?: { restartCount?: number }[];
    initContainerStatuses?: { restartCount?: number }[];
    [key: string]: unknown;
  };
}

/** The Ready condition of a pod, if any. */
function readyCondition(pod: PodLike): { status: string; lastTransitionTime?: string | null } | undefined {
  return pod.status?.conditions?.find((c) => c.type === 'Ready');
}

/** podutil.IsPodReady: the Ready condition is True. */
export function isPodReady(pod: PodLike): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod became ready (ms since epoch), or undefined when not ready or unknown. */
export function podReadyTime(pod: PodLike): number | undefined {
  const condition = readyCondition(pod);
  if (condition?.status !== 'True' || !condition.lastTransitionTime) return undefined;
  const ms = Date.parse(condition.lastTransitionTime);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * podutil.IsPodAvailable: ready, and ready for at least minReadySeconds
 * (strictly longer, as `LastTransitionTime + minReady < now`).
 */
export function isPodAvailable(pod: PodLike, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(pod)) return false;
  if (minReadySeconds <= 0) return true;
  const readySince = podReadyTime(pod);
  return readySince !== undefined && readySince + minReadySeconds * 1000 < now.getTime();
}

/** Milliseconds until a ready pod becomes available; undefined when it is not ready or already available. */
export function msUntilAvailable(pod: PodLike, minReadySeconds: number, now: Date): number | undefined {
  if (!isPodReady(pod) || minReadySeconds <= 0) return undefined;
  const readySince = podReadyTime(pod);
  if (readySince === undefined) return undefined;
  const remaining = readySince + minReadySeconds * 1000 - now.getTime();
  return remaining >= 0 ? remaining + 1 : undefined;
}

/** controller.IsPodActive: not Succeeded, not Failed, not being deleted. */
export function isPodActive(pod: PodLike): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

function creationTime(o: KubeObject): number | undefined {
  const t = o.metadata.creationTimestamp ? Date.parse(o.metadata.creationTimestamp as unknown as string) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/** `controller.kubernetes.io/pod-deletion-cost`, 0 when absent or invalid. */
function deletionCost(pod: PodLike): number {
  const value = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (value === undefined || !/^[+-]?\d+$/.test(value)) return 0;
  const n = Number(value);
  return n >= -2147483648 && n <= 2147483647 ? n : 0;
}

/** Highest restart count among regular containers, then among restartable init containers (sidecars). */
function maxRestarts(pod: PodLike): [number, number] {
  const regular = Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
  const sidecar = Math.max(0, ...(pod.status?.initContainerStatuses ?? []).map((c) => c.restartCount ?? 0));
  return [regular, sidecar];
}

const PHASE_ORDINAL: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** afterOrZero: t1 after t2, a missing time counting as after any other. */
function afterOrZero(t1: number | undefined, t2: number | undefined): boolean {
  if (t1 === undefined || t2 === undefined) return t1 === undefined;
  return t1 > t2;
}

/** The LogarithmicScaleDown rank difference: floor(log2(age in ns)) compared. */
function logarithmicRankDiff(t1: number, t2: number, now: number): number {
  const rank = (t: number) => {
    const ns = (now - t) * 1e6;
    return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
  };
  return rank(t1) - rank(t2);
}

/**
 * ActivePodsWithRanks.Less: true when pod `a` should be deleted before `b`.
 * Unassigned < assigned; Pending < Unknown < Running; not ready < ready; lower
 * deletion cost first; more pods of the same owner on the node first; ready
 * for less time first (log2 buckets); more restarts first; newer first (log2
 * buckets), ties by UID.
 */
export function deleteBefore(a: PodLike, rankA: number, b: PodLike, rankB: number, now: number): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  const phaseA = PHASE_ORDINAL[a.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDINAL[b.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return !readyA;
  const costA = deletionCost(a);
  const costB = deletionCost(b);
  if (costA !== costB) return costA < costB;
  if (rankA !== rankB) return rankA > rankB;
  const uidLess = () => (a.metadata.uid ?? '') < (b.metadata.uid ?? '');
  if (readyA && readyB) {
    const t1 = podReadyTime(a);
    const t2 = podReadyTime(b);
    if (t1 !== t2) {
      if (t1 === undefined || t2 === undefined) return afterOrZero(t1, t2);
      const diff = logarithmicRankDiff(t1, t2, now);
      return diff === 0 ? uidLess() : diff < 0;
    }
  }
  const [regularA, sidecarA] = maxRestarts(a);
  const [regularB, sidecarB] = maxRestarts(b);
  if (regularA !== regularB) return regularA > regularB;
  if (sidecarA !== sidecarB) return sidecarA > sidecarB;
  const c1 = creationTime(a);
  const c2 = creationTime(b);
  if (c1 !== c2) {
    if (c1 === undefined || c2 === undefined) return afterOrZero(c1, c2);
    const diff = logarithmicRankDiff(c1, c2, now);
    return diff === 0 ? uidLess() : diff < 0;
  }
  return false;
}

/**
 * The `count` pods a controller deletes first when scaling down: ranked by
 * deleteBefore, where a pod's rank is the number of active related pods (the
 * owner's siblings' too) on its node.
 */
export function podsToDelete<P extends PodLike>(pods: P[], related: PodLike[], count: number, now: Date): P[] {
  if (count >= pods.length) return pods.slice(0, count);
  const onNode = new Map<string, number>();
  for (const pod of related) {
    if (!isPodActive(pod)) continue;
    const node = pod.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  const t = now.getTime();
  ranked.sort((x, y) => (deleteBefore(x.pod, x.rank, y.pod, y.rank, t) ? -1 : deleteBefore(y.pod, y.rank, x.pod, x.rank, t) ? 1 : 0));
  return ranked.slice(0, count).map((r) => r.pod);
}
