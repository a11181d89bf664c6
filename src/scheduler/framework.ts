/**
 * The scheduling framework's shapes (pkg/scheduler/framework): plugin
 * statuses, filter and score plugin interfaces, and the FitError message
 * kube-scheduler v1.32 writes into FailedScheduling events and the
 * PodScheduled condition:
 *
 *   0/3 nodes are available: 1 node(s) had untolerated taint {a: b}, 2 Insufficient cpu.
 *   preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling,
 *   2 No preemption victims found for incoming pod.
 *
 * Plugins are compiled per pod: `preFilter` / `preScore` look at the pod once
 * and return a closure evaluated per node, so the per-node work is plain
 * field reads and arithmetic.
 */
import type { NodeInfo, SchedulerCache } from './cache.js';
import type { PodInfo } from './pod-info.js';

/** Why a node (or the whole pod) was rejected. */
export type RejectionCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

/** A plugin's rejection: Kubernetes' framework.Status for the non-success codes. */
export interface Status {
  readonly code: RejectionCode;
  readonly reasons: readonly string[];
  readonly plugin: string;
}

/** Builds a rejection status. */
export function reject(plugin: string, code: RejectionCode, ...reasons: string[]): Status {
  return Object.freeze({ code, reasons: Object.freeze(reasons), plugin });
}

/** A node check compiled for one pod: null when the node passes. */
export type NodeFilter = (node: NodeInfo) => Status | null;

/** What a filter plugin's PreFilter returns when the pod goes on to per-node filtering. */
export interface PreFilterResult {
  filter: NodeFilter;
  /** Only these nodes can fit (PreFilterResult.NodeNames); others are not evaluated. */
  nodeNames?: ReadonlySet<string>;
}

/** The read-only view plugins get of the cluster. */
export type Snapshot = SchedulerCache;

/** A filter plugin (with its PreFilter). */
export interface FilterPlugin {
  readonly name: string;
  /**
   * Looks at the pod once: null when the plugin has nothing to check
   * (Skip), a Status when the pod is rejected on every node, else the
   * per-node filter.
   */
  preFilter(pod: PodInfo, snapshot: Snapshot): PreFilterResult | Status | null;
}

/** Per-node scoring compiled for one pod. */
export interface NodeScorer {
  score(node: NodeInfo): number;
  /** Rescales the raw scores (same order as `nodes`) to 0…100 in place. */
  normalize?(scores: number[], nodes: readonly NodeInfo[]): void;
}

/** A score plugin (with its PreScore). */
export interface ScorePlugin {
  readonly name: string;
  readonly weight: number;
  /** null when the plugin does not score this pod (Skip). `nodes` are the feasible nodes. */
  preScore(pod: PodInfo, nodes: readonly NodeInfo[], snapshot: Snapshot): NodeScorer | null;
}

export const MAX_NODE_SCORE = 100;

/** helper.DefaultNormalizeScore: scales to 0…max by the highest score, optionally reversed. */
export function defaultNormalizeScore(scores: number[], reverse: boolean, max = MAX_NODE_SCORE): void {
  let highest = 0;
  for (const s of scores) if (s > highest) highest = s;
  if (highest === 0) {
    if (reverse) scores.fill(max);
    return;
  }
  for (let i = 0; i < scores.length; i++) {
    const scaled = Math.trunc((max * scores[i]!) / highest);
    scores[i] = reverse ? max - scaled : scaled;
  }
}

/** Why a pod fits nowhere: each evaluated node's status, a status for the others, and what PreFilter said. */
export class Diagnosis {
  /** Node name → the status of the first filter that rejected it. */
  readonly nodeToStatus = new Map<string, Status>();
  /** The status of nodes not in `nodeToStatus` (PreFilter rejections and PreFilterResult exclusions). */
  absentStatus: Status | undefined;
  /** Plugins that rejected the pod somewhere: which cluster events may make it schedulable. */
  readonly unschedulablePlugins = new Set<string>();
  preFilterMsg = '';
  postFilterMsg = '';

  /** Records a node's rejection. */
  set(node: string, status: Status): void {
    this.nodeToStatus.set(node, status);
    this.unschedulablePlugins.add(status.plugin);
  }

  /** The status of a node, explicit or absent. */
  statusOf(node: string): Status | undefined {
    return this.nodeToStatus.get(node) ?? this.absentStatus;
  }
}

/** "0/%v nodes are available" (framework.NoNodeAvailableMsg). */
export function noNodeAvailableMsg(numAllNodes: number): string {
  return `0/${numAllNodes} nodes are available`;
}

/**
 * FitError.Error(): the PreFilter message if PreFilter rejected the pod,
 * else a histogram of the node statuses' reasons ("2 Insufficient cpu"),
 * sorted as Go's sort.Strings does, then the PostFilter (preemption) message.
 */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  let message = `${noNodeAvailableMsg(numAllNodes)}:`;
  if (diagnosis.preFilterMsg !== '') {
    message += ` ${diagnosis.preFilterMsg}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of diagnosis.nodeToStatus.values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    const absent = numAllNodes - diagnosis.nodeToStatus.size;
    if (absent > 0 && diagnosis.absentStatus) {
      for (const reason of diagnosis.absentStatus.reasons) counts.set(reason, (counts.get(reason) ?? 0) + absent);
    }
    const histogram = [...counts].map(([reason, n]) => `${n} ${reason}`).sort(compareBytes);
    if (histogram.length > 0) message += ` ${histogram.join(', ')}.`;
  }
  if (diagnosis.postFilterMsg !== '') message += ` ${diagnosis.postFilterMsg}`;
  return message;
}

/** Go's string order (bytewise; for the ASCII of reasons, UTF-16 order is the same). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** kube-scheduler's limit on event messages (validation.NoteLengthLimit) and its truncation. */
export function truncateMessage(message: string): string {
  const max = 1024;
  if (Buffer.byteLength(message) <= max) return message;
  const suffix = ' ...';
  return Buffer.from(message).subarray(0, max - suffix.length).toString() + suffix;
}
