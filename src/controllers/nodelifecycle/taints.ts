/** Node taints and pod tolerations, as the node lifecycle and taint eviction controllers use them. */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  timeAdded?: string;
}

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

export function taintsOf(node: KubeObject | undefined): Taint[] {
  const taints = node && isObject(node.spec) ? node.spec.taints : undefined;
  return Array.isArray(taints) ? (taints.filter(isObject) as unknown as Taint[]) : [];
}

export function tolerationsOf(pod: KubeObject): Toleration[] {
  const tolerations = isObject(pod.spec) ? pod.spec.tolerations : undefined;
  return Array.isArray(tolerations) ? (tolerations.filter(isObject) as unknown as Toleration[]) : [];
}

/** MatchTaint: same key and effect. */
export const sameTaint = (a: Taint, b: Pick<Taint, 'key' | 'effect'>): boolean => a.key === b.key && a.effect === b.effect;

export const hasTaint = (node: KubeObject, taint: Pick<Taint, 'key' | 'effect'>): boolean => taintsOf(node).some((t) => sameTaint(t, taint));

/** ToleratesTaint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator ?? 'Equal') {
    case 'Equal':
      return (toleration.value ?? '') === (taint.value ?? '');
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** GetMatchingTolerations: whether every taint is tolerated, and the tolerations used. */
export function matchingTolerations(taints: Taint[], tolerations: Toleration[]): { tolerated: boolean; used: Toleration[] } {
  const used: Toleration[] = [];
  for (const taint of taints) {
    const match = tolerations.find((t) => tolerates(t, taint));
    if (!match) return { tolerated: false, used: [] };
    used.push(match);
  }
  return { tolerated: true, used };
}

/** getMinTolerationTime in ms: 0 = now, -1 = forever. */
export function minTolerationMs(used: Toleration[]): number {
  if (used.length === 0) return 0;
  let min = Infinity;
  for (const t of used) {
    if (typeof t.tolerationSeconds !== 'number') continue;
    if (t.tolerationSeconds <= 0) return 0;
    min = Math.min(min, t.tolerationSeconds);
  }
  return min === Infinity ? -1 : min * 1000;
}
