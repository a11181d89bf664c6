/**
 * InterPodAffinity: required pod affinity (some matching pod must already
 * run in the node's topology domain), required anti-affinity (none may),
 * and the anti-affinity of pods already placed (the new pod must not land in
 * a domain where an existing pod refuses it). Scoring adds the weights of
 * preferred terms, both the new pod's and those of existing pods, per
 * topology domain.
 *
 * Domains are "topologyKey=value" pairs of node labels; counts are built
 * from the cache once per scheduling cycle (PreFilter / PreScore).
 */
import { reject, MAX_NODE_SCORE, type FilterPlugin, type ScorePlugin, type Snapshot } from '../framework.js';
import type { NodeInfo } from '../cache.js';
import { affinityTermMatches, type AffinityTerm, type PodInfo, type WeightedAffinityTerm } from '../pod-info.js';

export const INTER_POD_AFFINITY = 'InterPodAffinity';
export const ERR_REASON_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod affinity rules";
export const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't match pod anti-affinity rules";
export const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH = "node(s) didn't satisfy existing pods anti-affinity rules";

const AFFINITY_REJECTED = reject(INTER_POD_AFFINITY, 'UnschedulableAndUnresolvable', ERR_REASON_AFFINITY_RULES_NOT_MATCH);
const ANTI_AFFINITY_REJECTED = reject(INTER_POD_AFFINITY, 'Unschedulable', ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH);
const EXISTING_ANTI_AFFINITY_REJECTED = reject(INTER_POD_AFFINITY, 'Unschedulable', ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH);

/** Weight of an existing pod's required affinity term in scoring (HardPodAffinityWeight default). */
const HARD_POD_AFFINITY_WEIGHT = 1;

/** Counts per "key\0value" topology pair. */
type PairCounts = Map<string, number>;

function pair(key: string, value: string): string {
  return `${key}\x00${value}`;
}

function bump(counts: PairCounts, node: NodeInfo, topologyKey: string, by: number): void {
  const value = node.labels[topologyKey];
  if (value === undefined) return;
  const key = pair(topologyKey, value);
  const n = (counts.get(key) ?? 0) + by;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}

function matchesAll(terms: readonly AffinityTerm[], pod: PodInfo, snapshot: Snapshot): boolean {
  if (terms.length === 0) return false;
  const nsLabels = snapshot.namespaceLabels.get(pod.namespace);
  for (const t of terms) if (!affinityTermMatches(t, pod, nsLabels)) return false;
  return true;
}

export const interPodAffinityFilter: FilterPlugin = {
  name: INTER_POD_AFFINITY,
  preFilter(pod, snapshot) {
    const podNsLabels = snapshot.namespaceLabels.get(pod.namespace);
    // Existing pods whose required anti-affinity the new pod matches: their domains are closed to it.
    const existingAnti: PairCounts = new Map();
    for (const node of snapshot.nodesWithRequiredAntiAffinityPods) {
      if (!node.node) continue;
      for (const existing of node.podsWithRequiredAntiAffinity.values()) {
        for (const term of existing.requiredAntiAffinityTerms) {
          if (affinityTermMatches(term, pod, podNsLabels)) bump(existingAnti, node, term.topologyKey, 1);
        }
      }
    }
    const affinityTerms = pod.requiredAffinityTerms;
    const antiTerms = pod.requiredAntiAffinityTerms;
    if (existingAnti.size === 0 && affinityTerms.length === 0 && antiTerms.length === 0) return null;

    const affinityCounts: PairCounts = new Map();
    const antiCounts: PairCounts = new Map();
    if (affinityTerms.length > 0 || antiTerms.length > 0) {
      for (const node of snapshot.nodes()) {
        for (const existing of node.pods.values()) {
          if (affinityTerms.length > 0 && matchesAll(affinityTerms, existing, snapshot)) {
            for (const t of affinityTerms) bump(affinityCounts, node, t.topologyKey, 1);
          }
          for (const t of antiTerms) {
            if (affinityTermMatches(t, existing, snapshot.namespaceLabels.get(existing.namespace))) bump(antiCounts, node, t.topologyKey, 1);
          }
        }
      }
    }
    // The first pod of a group with affinity to itself may go anywhere its terms' keys exist.
    const selfMatch = affinityCounts.size === 0 && matchesAll(affinityTerms, pod, snapshot);

    return {
      filter(node) {
        const labels = node.labels;
        if (affinityTerms.length > 0) {
          let podsExist = true;
          for (const t of affinityTerms) {
            const value = labels[t.topologyKey];
            if (value === undefined) return AFFINITY_REJECTED;
            if ((affinityCounts.get(pair(t.topologyKey, value)) ?? 0) <= 0) podsExist = false;
          }
          if (!podsExist && !selfMatch) return AFFINITY_REJECTED;
        }
        if (antiCounts.size > 0) {
          for (const t of antiTerms) {
            const value = labels[t.topologyKey];
            if (value !== undefined && (antiCounts.get(pair(t.topologyKey, value)) ?? 0) > 0) return ANTI_AFFINITY_REJECTED;
          }
        }
        if (existingAnti.size > 0) {
          for (const key in labels) if ((existingAnti.get(pair(key, labels[key]!)) ?? 0) > 0) return EXISTING_ANTI_AFFINITY_REJECTED;
        }
        return null;
      },
    };
  },
};

/** topologyKey → value → score. */
type TopologyScores = Map<string, Map<string, number>>;

function addScore(scores: TopologyScores, term: AffinityTerm, weight: number, pod: PodInfo, nsLabels: Readonly<Record<string, string>> | undefined, node: NodeInfo): void {
  if (!affinityTermMatches(term, pod, nsLabels)) return;
  const value = node.labels[term.topologyKey];
  if (value === undefined) return;
  let byValue = scores.get(term.topologyKey);
  if (!byValue) {
    byValue = new Map();
    scores.set(term.topologyKey, byValue);
  }
  byValue.set(value, (byValue.get(value) ?? 0) + weight);
}

function addWeighted(scores: TopologyScores, terms: readonly WeightedAffinityTerm[], multiplier: number, pod: PodInfo, nsLabels: Readonly<Record<string, string>> | undefined, node: NodeInfo): void {
  for (const t of terms) addScore(scores, t, t.weight * multiplier, pod, nsLabels, node);
}

export const interPodAffinityScore: ScorePlugin = {
  name: INTER_POD_AFFINITY,
  weight: 2,
  preScore(pod, _nodes, snapshot) {
    const hasConstraints = pod.preferredAffinityTerms.length > 0 || pod.preferredAntiAffinityTerms.length > 0;
    // Without preferences of its own, only nodes hosting pods with affinity can move the score.
    const nodes: Iterable<NodeInfo> = hasConstraints ? snapshot.nodes() : snapshot.nodesWithAffinityPods;
    const podNsLabels = snapshot.namespaceLabels.get(pod.namespace);
    const scores: TopologyScores = new Map();
    for (const node of nodes) {
      if (!node.node) continue;
      let hasLabels = false;
      for (const _ in node.labels) {
        hasLabels = true;
        break;
      }
      if (!hasLabels) continue;
      const existingPods = hasConstraints ? node.pods : node.podsWithAffinity;
      for (const existing of existingPods.values()) {
        const existingNsLabels = snapshot.namespaceLabels.get(existing.namespace);
        addWeighted(scores, pod.preferredAffinityTerms, 1, existing, existingNsLabels, node);
        addWeighted(scores, pod.preferredAntiAffinityTerms, -1, existing, existingNsLabels, node);
        for (const t of existing.requiredAffinityTerms) addScore(scores, t, HARD_POD_AFFINITY_WEIGHT, pod, podNsLabels, node);
        addWeighted(scores, existing.preferredAffinityTerms, 1, pod, podNsLabels, node);
        addWeighted(scores, existing.preferredAntiAffinityTerms, -1, pod, podNsLabels, node);
      }
    }
    if (scores.size === 0) return null;
    return {
      score(node) {
        let sum = 0;
        for (const [key, byValue] of scores) {
          const value = node.labels[key];
          if (value !== undefined) sum += byValue.get(value) ?? 0;
        }
        return sum;
      },
      normalize(values) {
        let min = Infinity;
        let max = -Infinity;
        for (const v of values) {
          if (v > max) max = v;
          if (v < min) min = v;
        }
        const diff = max - min;
        for (let i = 0; i < values.length; i++) values[i] = diff > 0 ? Math.trunc(MAX_NODE_SCORE * ((values[i]! - min) / diff)) : 0;
      },
    };
  },
};
