/**
 * NodeResourcesFit (filter, and the LeastAllocated scoring strategy) and
 * NodeResourcesBalancedAllocation: a pod fits when its requests (cpu,
 * memory, ephemeral-storage, extended resources, one pod slot) fit in the
 * node's allocatable minus what the pods already there (or assumed there)
 * request. Scoring prefers emptier nodes and nodes whose cpu and memory are
 * used in the same proportion, which spreads load.
 */
import { MAX_NODE_SCORE, reject, type FilterPlugin, type ScorePlugin, type Status } from '../framework.js';
import type { NodeInfo } from '../cache.js';

export const NODE_RESOURCES_FIT = 'NodeResourcesFit';
export const NODE_RESOURCES_BALANCED_ALLOCATION = 'NodeResourcesBalancedAllocation';

const TOO_MANY_PODS = 'Too many pods';
const INSUFFICIENT_CPU = 'Insufficient cpu';
const INSUFFICIENT_MEMORY = 'Insufficient memory';
const INSUFFICIENT_EPHEMERAL = 'Insufficient ephemeral-storage';

// The common combinations, allocated once.
const fixedStatuses = new Map<number, Status>();
function fixedStatus(mask: number): Status {
  let status = fixedStatuses.get(mask);
  if (!status) {
    const reasons: string[] = [];
    if (mask & 1) reasons.push(TOO_MANY_PODS);
    if (mask & 2) reasons.push(INSUFFICIENT_CPU);
    if (mask & 4) reasons.push(INSUFFICIENT_MEMORY);
    if (mask & 8) reasons.push(INSUFFICIENT_EPHEMERAL);
    // Kubernetes 1.32 answers Unschedulable even when the node could never hold the pod.
    status = reject(NODE_RESOURCES_FIT, 'Unschedulable', ...reasons);
    fixedStatuses.set(mask, status);
  }
  return status;
}

export const nodeResourcesFit: FilterPlugin = {
  name: NODE_RESOURCES_FIT,
  preFilter(pod) {
    const req = pod.requests;
    const scalar = req.scalar ? [...req.scalar].filter(([, amount]) => amount !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)) : [];
    const requestsNothing = req.milliCpu === 0 && req.memory === 0 && req.ephemeralStorage === 0 && scalar.length === 0;
    return {
      filter(node: NodeInfo) {
        let mask = 0;
        if (node.pods.size + 1 > node.allowedPodNumber) mask |= 1;
        if (requestsNothing) return mask === 0 ? null : fixedStatus(mask);
        const alloc = node.allocatable;
        const used = node.requested;
        if (req.milliCpu > 0 && req.milliCpu > alloc.milliCpu - used.milliCpu) mask |= 2;
        if (req.memory > 0 && req.memory > alloc.memory - used.memory) mask |= 4;
        if (req.ephemeralStorage > 0 && req.ephemeralStorage > alloc.ephemeralStorage - used.ephemeralStorage) mask |= 8;
        let missing: string[] | undefined;
        for (const [name, amount] of scalar) {
          const free = (alloc.scalar?.get(name) ?? 0) - (used.scalar?.get(name) ?? 0);
          if (amount > free) (missing ??= []).push(`Insufficient ${name}`);
        }
        if (missing) {
          const fixed = mask === 0 ? [] : fixedStatus(mask).reasons;
          return reject(NODE_RESOURCES_FIT, 'Unschedulable', ...fixed, ...missing);
        }
        return mask === 0 ? null : fixedStatus(mask);
      },
    };
  },
};

/** leastRequestedScore: the free share of a resource after placing the pod, 0…100. */
function leastRequested(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** NodeResourcesFit's score with the default LeastAllocated strategy (cpu and memory, weight 1 each). */
export const leastAllocatedScore: ScorePlugin = {
  name: NODE_RESOURCES_FIT,
  weight: 1,
  preScore(pod) {
    const cpu = pod.nonZeroMilliCpu;
    const memory = pod.nonZeroMemory;
    return {
      score(node) {
        let sum = 0;
        let weights = 0;
        if (node.allocatable.milliCpu !== 0) {
          sum += leastRequested(node.nonZeroMilliCpu + cpu, node.allocatable.milliCpu);
          weights++;
        }
        if (node.allocatable.memory !== 0) {
          sum += leastRequested(node.nonZeroMemory + memory, node.allocatable.memory);
          weights++;
        }
        return weights === 0 ? 0 : Math.floor(sum / weights);
      },
    };
  },
};

/** NodeResourcesBalancedAllocation: 100 × (1 − standard deviation of the cpu and memory fractions after placing the pod). */
export const balancedAllocationScore: ScorePlugin = {
  name: NODE_RESOURCES_BALANCED_ALLOCATION,
  weight: 1,
  preScore(pod) {
    const cpu = pod.requests.milliCpu;
    const memory = pod.requests.memory;
    // A pod that requests nothing would pile onto already balanced nodes: Kubernetes skips it.
    if (cpu === 0 && memory === 0) return null;
    return {
      score(node) {
        let first = -1;
        let second = -1;
        if (node.allocatable.milliCpu !== 0) first = Math.min(1, (node.requested.milliCpu + cpu) / node.allocatable.milliCpu);
        if (node.allocatable.memory !== 0) {
          const f = Math.min(1, (node.requested.memory + memory) / node.allocatable.memory);
          if (first < 0) first = f;
          else second = f;
        }
        const std = second < 0 ? 0 : Math.abs((first - second) / 2);
        return Math.trunc((1 - std) * MAX_NODE_SCORE);
      },
    };
  },
};
