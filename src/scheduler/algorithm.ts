/**
 * One scheduling decision (schedule_one.go's schedulePod): PreFilter, then
 * Filter over the nodes starting where the previous decision stopped, until
 * enough feasible nodes are found (percentageOfNodesToScore, adaptive with a
 * minimum of 100 nodes, as Kubernetes); then PreScore/Score/NormalizeScore
 * and the highest total wins, ties broken at random. A pod that fits nowhere
 * gets Kubernetes' FitError message, including what default preemption
 * would say about it.
 *
 * Everything here is synchronous: it runs on the cache as one consistent
 * snapshot.
 */
import type { NodeInfo, SchedulerCache } from './cache.js';
import { Diagnosis, fitErrorMessage, reject, type FilterPlugin, type NodeFilter, type ScorePlugin, type Status } from './framework.js';
import type { PodInfo } from './pod-info.js';
import { nodeUnschedulable } from './plugins/node-unschedulable.js';
import { nodeName } from './plugins/node-name.js';
import { taintTolerationFilter, taintTolerationScore } from './plugins/taint-toleration.js';
import { nodeAffinityFilter, nodeAffinityScore } from './plugins/node-affinity.js';
import { nodePorts } from './plugins/node-ports.js';
import { balancedAllocationScore, leastAllocatedScore, nodeResourcesFit } from './plugins/node-resources.js';
import { podTopologySpreadFilter, podTopologySpreadScore, type DefaultSpreadSelector } from './plugins/pod-topology-spread.js';
import { interPodAffinityFilter, interPodAffinityScore } from './plugins/inter-pod-affinity.js';
import { imageLocalityScore } from './plugins/image-locality.js';

/** Filters in the order of Kubernetes' default profile: a node's status is that of the first filter that rejects it. */
export const DEFAULT_FILTERS: readonly FilterPlugin[] = [
  nodeUnschedulable,
  nodeName,
  taintTolerationFilter,
  nodeAffinityFilter,
  nodePorts,
  nodeResourcesFit,
  podTopologySpreadFilter,
  interPodAffinityFilter,
];

/** Score plugins with the default profile's weights. */
export function defaultScorers(defaultSpreadSelector?: DefaultSpreadSelector): ScorePlugin[] {
  return [
    taintTolerationScore,
    nodeAffinityScore,
    leastAllocatedScore,
    podTopologySpreadScore(defaultSpreadSelector),
    interPodAffinityScore,
    balancedAllocationScore,
    imageLocalityScore,
  ];
}

/** Nodes needed before the search stops, whatever the percentage (minFeasibleNodesToFind). */
const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never goes below this (minFeasibleNodesPercentageToFind). */
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/** numFeasibleNodesToFind: all nodes below 100; else percentage (adaptive: 50 − nodes/125, at least 5) of them, at least 100. */
export function numFeasibleNodesToFind(numAllNodes: number, percentageOfNodesToScore = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage <= 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

export type ScheduleOutcome =
  | { kind: 'scheduled'; node: string; evaluatedNodes: number; feasibleNodes: number }
  /** FitError: `message` is what the event and the PodScheduled condition say. */
  | { kind: 'unschedulable'; message: string; diagnosis: Diagnosis }
  /** ErrNoNodesAvailable. */
  | { kind: 'noNodes'; message: string };

export interface AlgorithmOptions {
  /** 0 (default): adaptive, as Kubernetes. */
  percentageOfNodesToScore?: number;
  /** Source of randomness for tie breaking (tests may fix it). */
  random?: () => number;
  filters?: readonly FilterPlugin[];
  scorers?: readonly ScorePlugin[];
}

const DEFAULT_PREEMPTION = 'DefaultPreemption';
const NO_VICTIMS = reject(DEFAULT_PREEMPTION, 'UnschedulableAndUnresolvable', 'No preemption victims found for incoming pod');
const NOT_HELPFUL = reject(DEFAULT_PREEMPTION, 'UnschedulableAndUnresolvable', 'Preemption is not helpful for scheduling');

/** Runs the compiled filters on one node: the first rejection, or null. */
function runFilters(filters: readonly NodeFilter[], node: NodeInfo): Status | null {
  for (let i = 0; i < filters.length; i++) {
    const status = filters[i]!(node);
    if (status !== null) return status;
  }
  return null;
}

/** Schedules pods one at a time against the cache. */
export class SchedulingAlgorithm {
  private nextStartNodeIndex = 0;
  private readonly filters: readonly FilterPlugin[];
  private readonly scorers: readonly ScorePlugin[];
  private readonly random: () => number;
  private readonly percentage: number;

  constructor(
    private readonly cache: SchedulerCache,
    options: AlgorithmOptions = {},
  ) {
    this.filters = options.filters ?? DEFAULT_FILTERS;
    this.scorers = options.scorers ?? defaultScorers();
    this.random = options.random ?? Math.random;
    this.percentage = options.percentageOfNodesToScore ?? 0;
  }

  /** Finds the node for a pod, or explains why there is none. */
  schedule(pod: PodInfo): ScheduleOutcome {
    const allNodes = this.cache.nodes();
    if (allNodes.length === 0) return { kind: 'noNodes', message: 'no nodes available to schedule pods' };
    const diagnosis = new Diagnosis();

    // PreFilter: compile each plugin's per-node check, or stop at a pod-wide rejection.
    const filters: NodeFilter[] = [];
    let nodeNames: ReadonlySet<string> | undefined;
    const pluginsWithNodes: string[] = [];
    let rejection: Status | undefined;
    for (const plugin of this.filters) {
      const result = plugin.preFilter(pod, this.cache);
      if (result === null) continue;
      if ('code' in result) {
        rejection = result;
        // UnschedulableAndUnresolvable stops PreFilter at once; Unschedulable lets the others run.
        if (result.code === 'UnschedulableAndUnresolvable') break;
        continue;
      }
      filters.push(result.filter);
      if (result.nodeNames) {
        pluginsWithNodes.push(plugin.name);
        nodeNames = nodeNames === undefined ? result.nodeNames : new Set([...nodeNames].filter((n) => result.nodeNames!.has(n)));
      }
    }
    if (rejection) {
      diagnosis.absentStatus = rejection;
      diagnosis.preFilterMsg = rejection.reasons.join(', ');
      diagnosis.unschedulablePlugins.add(rejection.plugin);
      return this.unschedulable(pod, allNodes, diagnosis, filters);
    }

    let nodes: readonly NodeInfo[] = allNodes;
    if (nodeNames !== undefined) {
      const narrowed: NodeInfo[] = [];
      for (const name of nodeNames) {
        const node = this.cache.get(name);
        if (node) narrowed.push(node);
      }
      nodes = narrowed;
      pluginsWithNodes.sort();
      for (const p of pluginsWithNodes) diagnosis.unschedulablePlugins.add(p);
      diagnosis.absentStatus = reject(pluginsWithNodes[0]!, 'UnschedulableAndUnresolvable', `node(s) didn't satisfy plugin(s) [${pluginsWithNodes.join(' ')}]`);
    }

    // Filter, from where the previous pod stopped, until enough feasible nodes are found.
    const feasible: NodeInfo[] = [];
    const count = nodes.length;
    const toFind = numFeasibleNodesToFind(count, this.percentage);
    const start = count === 0 ? 0 : this.nextStartNodeIndex % count;
    let processed = 0;
    for (let i = 0; i < count && feasible.length < toFind; i++) {
      const node = nodes[(start + i) % count]!;
      processed++;
      const status = runFilters(filters, node);
      if (status === null) feasible.push(node);
      else diagnosis.set(node.name, status);
    }
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % allNodes.length;

    if (feasible.length === 0) return this.unschedulable(pod, allNodes, diagnosis, filters);
    const evaluatedNodes = feasible.length + diagnosis.nodeToStatus.size;
    if (feasible.length === 1) return { kind: 'scheduled', node: feasible[0]!.name, evaluatedNodes, feasibleNodes: 1 };
    const chosen = this.prioritize(pod, feasible);
    return { kind: 'scheduled', node: chosen.name, evaluatedNodes, feasibleNodes: feasible.length };
  }

  /** Weighted sum of the normalized plugin scores; the best node, ties broken by reservoir sampling. */
  // Score buffers reused from one decision to the next.
  private totals = new Float64Array(0);
  private readonly scores: number[] = [];

  private prioritize(pod: PodInfo, nodes: readonly NodeInfo[]): NodeInfo {
    const n = nodes.length;
    if (this.totals.length < n) this.totals = new Float64Array(n * 2);
    const totals = this.totals;
    totals.fill(0, 0, n);
    const scores = this.scores;
    scores.length = n;
    for (const plugin of this.scorers) {
      const scorer = plugin.preScore(pod, nodes, this.cache);
      if (!scorer) continue;
      for (let i = 0; i < n; i++) scores[i] = scorer.score(nodes[i]!);
      scorer.normalize?.(scores, nodes);
      const weight = plugin.weight;
      for (let i = 0; i < n; i++) totals[i]! += scores[i]! * weight;
    }
    let best = -Infinity;
    let chosen = 0;
    let ties = 0;
    for (let i = 0; i < n; i++) {
      const total = totals[i]!;
      if (total > best) {
        best = total;
        chosen = i;
        ties = 1;
      } else if (total === best) {
        ties++;
        if (this.random() * ties < 1) chosen = i;
      }
    }
    return nodes[chosen]!;
  }

  private unschedulable(pod: PodInfo, allNodes: readonly NodeInfo[], diagnosis: Diagnosis, filters: readonly NodeFilter[]): ScheduleOutcome {
    diagnosis.postFilterMsg = this.preemptionMessage(pod, allNodes, diagnosis, filters);
    return { kind: 'unschedulable', message: fitErrorMessage(allNodes.length, diagnosis), diagnosis };
  }

  /**
   * What DefaultPreemption reports when it finds no node where evicting
   * lower-priority pods would make room. Nodes rejected for reasons
   * preemption cannot change are "not helpful"; on the others, the pod must
   * fit once every lower-priority pod is gone. When some node would fit,
   * Kubernetes would preempt and report nothing here; this scheduler does
   * not evict (yet), so the message then stays without a preemption part.
   */
  private preemptionMessage(pod: PodInfo, allNodes: readonly NodeInfo[], diagnosis: Diagnosis, filters: readonly NodeFilter[]): string {
    if (pod.preemptionPolicy === 'Never') return 'preemption: not eligible due to preemptionPolicy=Never.';
    const dryRun = new Diagnosis();
    let candidates = 0;
    for (const node of allNodes) {
      const status = diagnosis.statusOf(node.name);
      if (!status || status.code !== 'Unschedulable') continue;
      const remaining: PodInfo[] = [];
      let victims = 0;
      for (const p of node.pods.values()) {
        if (p.priority < pod.priority) victims++;
        else remaining.push(p);
      }
      if (victims === 0) {
        dryRun.set(node.name, NO_VICTIMS);
        continue;
      }
      const after = runFilters(filters, node.withPods(remaining));
      if (after) dryRun.set(node.name, after);
      else candidates++;
    }
    if (candidates > 0) return '';
    dryRun.absentStatus = NOT_HELPFUL;
    return `preemption: ${fitErrorMessage(allNodes.length, dryRun)}`;
  }
}
