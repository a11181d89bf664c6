/**
 * TaintToleration: a node's NoSchedule and NoExecute taints must all be
 * tolerated (that is also how not-ready, unreachable and pressured nodes are
 * kept out: the node lifecycle controller taints them). Scoring prefers
 * nodes with fewer untolerated PreferNoSchedule taints.
 */
import { defaultNormalizeScore, reject, type FilterPlugin, type ScorePlugin, type Status } from '../framework.js';
import { tolerationsTolerate, type Taint } from '../pod-info.js';

export const TAINT_TOLERATION = 'TaintToleration';

/** The message Kubernetes gives for a node with an untolerated taint. */
export function untoleratedTaintReason(taint: Taint): string {
  return `node(s) had untolerated taint {${taint.key}: ${taint.value}}`;
}

// Statuses per taint, so rejecting a node allocates nothing.
const statuses = new Map<string, Status>();
function statusFor(taint: Taint): Status {
  const key = `${taint.key}\x00${taint.value}`;
  let status = statuses.get(key);
  if (!status) {
    if (statuses.size > 1000) statuses.clear();
    status = reject(TAINT_TOLERATION, 'UnschedulableAndUnresolvable', untoleratedTaintReason(taint));
    statuses.set(key, status);
  }
  return status;
}

export const taintTolerationFilter: FilterPlugin = {
  name: TAINT_TOLERATION,
  preFilter(pod) {
    const tolerations = pod.tolerations;
    return {
      filter(node) {
        // FindMatchingUntoleratedTaint with the DoNotSchedule filter: the first such taint, in node order.
        for (const taint of node.taints) {
          if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
          if (!tolerationsTolerate(tolerations, taint)) return statusFor(taint);
        }
        return null;
      },
    };
  },
};

export const taintTolerationScore: ScorePlugin = {
  name: TAINT_TOLERATION,
  weight: 3,
  preScore(pod, nodes) {
    // Every node scores the same when none has a PreferNoSchedule taint: skipping changes no decision.
    if (!nodes.some((n) => n.hasPreferNoScheduleTaint)) return null;
    const tolerations = pod.tolerations.filter((t) => t.effect === '' || t.effect === 'PreferNoSchedule');
    return {
      score(node) {
        let intolerable = 0;
        for (const taint of node.taints) {
          if (taint.effect === 'PreferNoSchedule' && !tolerationsTolerate(tolerations, taint)) intolerable++;
        }
        return intolerable;
      },
      normalize: (scores) => defaultNormalizeScore(scores, true),
    };
  },
};
