/**
 * PodTopologySpread: DoNotSchedule constraints keep the number of matching
 * pods per topology domain within maxSkew of the least loaded domain (or of
 * 0 while there are fewer than minDomains domains); ScheduleAnyway
 * constraints (and, for pods that set none, the system defaults: hostname
 * maxSkew 3, zone maxSkew 5, when a service or controller selects the pod)
 * only steer scoring towards the emptier domains.
 *
 * Eligible domains honour nodeAffinityPolicy (default Honor) and
 * nodeTaintsPolicy (default Ignore), as with the NodeInclusionPolicy feature
 * of Kubernetes 1.32.
 */
import { reject, MAX_NODE_SCORE, type FilterPlugin, type ScorePlugin } from '../framework.js';
import type { NodeInfo } from '../cache.js';
import { matchesRequiredNodeAffinity, tolerationsTolerate, type PodInfo, type SpreadConstraint } from '../pod-info.js';
import type { LabelSelector } from '../../apimachinery/selectors.js';

export const POD_TOPOLOGY_SPREAD = 'PodTopologySpread';
export const ERR_REASON_CONSTRAINTS_NOT_MATCH = "node(s) didn't match pod topology spread constraints";
export const ERR_REASON_NODE_LABEL_NOT_MATCH = `${ERR_REASON_CONSTRAINTS_NOT_MATCH} (missing required label)`;

const HOSTNAME_LABEL = 'kubernetes.io/hostname';
const ZONE_LABEL = 'topology.kubernetes.io/zone';

const SKEW_REJECTED = reject(POD_TOPOLOGY_SPREAD, 'Unschedulable', ERR_REASON_CONSTRAINTS_NOT_MATCH);
const LABEL_REJECTED = reject(POD_TOPOLOGY_SPREAD, 'UnschedulableAndUnresolvable', ERR_REASON_NODE_LABEL_NOT_MATCH);

/** Finds the selector of the system default constraints for a pod (its services, ReplicaSets, StatefulSets…); undefined: none. */
export type DefaultSpreadSelector = (pod: PodInfo) => LabelSelector | undefined;

function hasAllKeys(labels: Readonly<Record<string, string>>, constraints: readonly SpreadConstraint[]): boolean {
  for (const c of constraints) if (labels[c.topologyKey] === undefined) return false;
  return true;
}

/** Whether a node counts as a domain of the constraint (matchNodeInclusionPolicies). */
function included(c: SpreadConstraint, pod: PodInfo, node: NodeInfo): boolean {
  if (c.nodeAffinityPolicy === 'Honor' && !matchesRequiredNodeAffinity(pod, node.labels, node.name)) return false;
  if (c.nodeTaintsPolicy === 'Honor') {
    for (const taint of node.taints) {
      if ((taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerationsTolerate(pod.tolerations, taint)) return false;
    }
  }
  return true;
}

/** Pods on the node that count for a constraint: same namespace, not terminating, selected. */
function countMatching(node: NodeInfo, selector: LabelSelector, namespace: string): number {
  let n = 0;
  for (const p of node.pods.values()) if (!p.deleting && p.namespace === namespace && selector.matches(p.labels)) n++;
  return n;
}

export const podTopologySpreadFilter: FilterPlugin = {
  name: POD_TOPOLOGY_SPREAD,
  preFilter(pod, snapshot) {
    const constraints = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === 'DoNotSchedule');
    if (constraints.length === 0) return null;
    const counts = constraints.map(() => new Map<string, number>());
    for (const node of snapshot.nodes()) {
      if (!hasAllKeys(node.labels, constraints)) continue;
      for (let i = 0; i < constraints.length; i++) {
        const c = constraints[i]!;
        if (!included(c, pod, node)) continue;
        const value = node.labels[c.topologyKey]!;
        counts[i]!.set(value, (counts[i]!.get(value) ?? 0) + countMatching(node, c.selector, pod.namespace));
      }
    }
    const minimums = counts.map((byValue, i) => {
      if (byValue.size < constraints[i]!.minDomains) return 0;
      let min = Infinity;
      for (const n of byValue.values()) if (n < min) min = n;
      return min;
    });
    const selfMatch = constraints.map((c) => (c.selector.matches(pod.labels) ? 1 : 0));
    return {
      filter(node) {
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i]!;
          const value = node.labels[c.topologyKey];
          if (value === undefined) return LABEL_REJECTED;
          const skew = (counts[i]!.get(value) ?? 0) + selfMatch[i]! - minimums[i]!;
          if (skew > c.maxSkew) return SKEW_REJECTED;
        }
        return null;
      },
    };
  },
};

/** Builds the scoring half, with an optional source of system default constraints. */
export function podTopologySpreadScore(defaultSelector?: DefaultSpreadSelector): ScorePlugin {
  return {
    name: POD_TOPOLOGY_SPREAD,
    weight: 2,
    preScore(pod, nodes, snapshot) {
      if (nodes.length === 0) return null;
      let constraints: SpreadConstraint[];
      let requireAllTopologies = true;
      if (pod.spreadConstraints.length > 0) {
        constraints = pod.spreadConstraints.filter((c) => c.whenUnsatisfiable === 'ScheduleAnyway');
      } else {
        const selector = defaultSelector?.(pod);
        if (!selector) return null;
        requireAllTopologies = false;
        constraints = [
          { maxSkew: 3, topologyKey: HOSTNAME_LABEL, whenUnsatisfiable: 'ScheduleAnyway', selector, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' },
          { maxSkew: 5, topologyKey: ZONE_LABEL, whenUnsatisfiable: 'ScheduleAnyway', selector, minDomains: 1, nodeAffinityPolicy: 'Honor', nodeTaintsPolicy: 'Ignore' },
        ];
      }
      if (constraints.length === 0) return null;

      // Domains among the feasible nodes; nodes lacking a key are not scored (when all keys are required).
      const ignored = new Set<NodeInfo>();
      const pairCounts = constraints.map(() => new Map<string, number>());
      for (const node of nodes) {
        if (requireAllTopologies && !hasAllKeys(node.labels, constraints)) {
          ignored.add(node);
          continue;
        }
        for (let i = 0; i < constraints.length; i++) {
          const c = constraints[i]!;
          if (c.topologyKey === HOSTNAME_LABEL) continue;
          const value = node.labels[c.topologyKey] ?? '';
          if (!pairCounts[i]!.has(value)) pairCounts[i]!.set(value, 0);
        }
      }
      const weights = constraints.map((c, i) => {
        const size = c.topologyKey === HOSTNAME_LABEL ? nodes.length - ignored.size : pairCounts[i]!.size;
        return Math.log(size + 2);
      });
      // Matching pods per domain, over every node of the cluster. Only nodes carrying the key read a domain's
      // count, so a key no feasible node has (e.g. no zones) needs no counting.
      const counted = constraints.map((c) => c.topologyKey !== HOSTNAME_LABEL && nodes.some((n) => n.labels[c.topologyKey] !== undefined));
      if (counted.some(Boolean)) {
        for (const node of snapshot.nodes()) {
          if (requireAllTopologies && !hasAllKeys(node.labels, constraints)) continue;
          for (let i = 0; i < constraints.length; i++) {
            const c = constraints[i]!;
            if (!counted[i] || !included(c, pod, node)) continue;
            const value = node.labels[c.topologyKey] ?? '';
            const current = pairCounts[i]!.get(value);
            if (current === undefined) continue;
            pairCounts[i]!.set(value, current + countMatching(node, c.selector, pod.namespace));
          }
        }
      }
      return {
        score(node) {
          if (ignored.has(node)) return -1;
          let score = 0;
          for (let i = 0; i < constraints.length; i++) {
            const c = constraints[i]!;
            const value = node.labels[c.topologyKey];
            if (value === undefined) continue;
            const count = c.topologyKey === HOSTNAME_LABEL ? countMatching(node, c.selector, pod.namespace) : pairCounts[i]!.get(value) ?? 0;
            score += count * weights[i]! + (c.maxSkew - 1);
          }
          return Math.round(score);
        },
        normalize(scores, scored) {
          let min = Infinity;
          let max = 0;
          for (let i = 0; i < scores.length; i++) {
            if (ignored.has(scored[i]!)) continue;
            const s = scores[i]!;
            if (s < min) min = s;
            if (s > max) max = s;
          }
          for (let i = 0; i < scores.length; i++) {
            if (ignored.has(scored[i]!)) scores[i] = 0;
            else if (max === 0) scores[i] = MAX_NODE_SCORE;
            else scores[i] = Math.trunc((MAX_NODE_SCORE * (max + min - scores[i]!)) / max);
          }
        },
      };
    },
  };
}
