/**
 * NodeUnschedulable: a cordoned node (spec.unschedulable) takes only pods
 * that tolerate the node.kubernetes.io/unschedulable:NoSchedule taint.
 */
import { reject, type FilterPlugin } from '../framework.js';
import { tolerationsTolerate } from '../pod-info.js';

export const NODE_UNSCHEDULABLE = 'NodeUnschedulable';
/** ErrReasonUnschedulable. */
export const ERR_REASON_UNSCHEDULABLE = 'node(s) were unschedulable';

const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', value: '', effect: 'NoSchedule' };
const REJECTED = reject(NODE_UNSCHEDULABLE, 'UnschedulableAndUnresolvable', ERR_REASON_UNSCHEDULABLE);

export const nodeUnschedulable: FilterPlugin = {
  name: NODE_UNSCHEDULABLE,
  preFilter(pod) {
    // A pod that tolerates the taint passes every node: nothing to check.
    if (tolerationsTolerate(pod.tolerations, UNSCHEDULABLE_TAINT)) return null;
    return { filter: (node) => (node.unschedulable ? REJECTED : null) };
  },
};
