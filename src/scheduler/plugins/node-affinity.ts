/**
 * NodeAffinity: spec.nodeSelector and the required node affinity terms
 * (In, NotIn, Exists, DoesNotExist, Gt, Lt on labels; metadata.name in
 * matchFields). PreFilter narrows the nodes to the names required through
 * matchFields, as Kubernetes does. Scoring sums the weights of the matching
 * preferred terms.
 */
import { defaultNormalizeScore, reject, type FilterPlugin, type ScorePlugin } from '../framework.js';
import { matchesRequiredNodeAffinity, nodeSelectorTermMatches } from '../pod-info.js';
import type { NodeInfo } from '../cache.js';

export const NODE_AFFINITY = 'NodeAffinity';
/** ErrReasonPod. */
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** errReasonConflict: every term requires node names that no term allows together. */
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const REJECTED = reject(NODE_AFFINITY, 'UnschedulableAndUnresolvable', ERR_REASON_POD);
const CONFLICT = reject(NODE_AFFINITY, 'UnschedulableAndUnresolvable', ERR_REASON_CONFLICT);

export const nodeAffinityFilter: FilterPlugin = {
  name: NODE_AFFINITY,
  preFilter(pod) {
    if (pod.requiredNodeTerms === null && pod.nodeSelector === undefined) return null;
    const filter = (node: NodeInfo) => (matchesRequiredNodeAffinity(pod, node.labels, node.name) ? null : REJECTED);
    const terms = pod.requiredNodeTerms;
    if (terms === null || terms.length === 0) return { filter };
    // The nodes a metadata.name In requirement allows, per term (ANDed) and across terms (ORed).
    let names: Set<string> | undefined;
    for (const term of terms) {
      let termNames: Set<string> | undefined;
      for (const r of term.fields) {
        if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
        const values = new Set(r.values);
        termNames = termNames === undefined ? values : new Set([...termNames].filter((n) => values.has(n)));
      }
      // A term without such a requirement allows every node.
      if (termNames === undefined) return { filter };
      names = names === undefined ? termNames : new Set([...names, ...termNames]);
    }
    if (names !== undefined && names.size === 0) return CONFLICT;
    return { filter, nodeNames: names };
  },
};

export const nodeAffinityScore: ScorePlugin = {
  name: NODE_AFFINITY,
  weight: 2,
  preScore(pod) {
    if (pod.preferredNodeTerms.length === 0) return null;
    const terms = pod.preferredNodeTerms;
    return {
      score(node) {
        let sum = 0;
        for (const { weight, term } of terms) if (nodeSelectorTermMatches(term, node.labels, node.name)) sum += weight;
        return sum;
      },
      normalize: (scores) => defaultNormalizeScore(scores, false),
    };
  },
};
