/** NodeName: a pod that names its node (spec.nodeName) fits only there. */
import { reject, type FilterPlugin } from '../framework.js';

export const NODE_NAME = 'NodeName';
/** ErrReason of the NodeName plugin. */
export const ERR_REASON_NODE_NAME = "node(s) didn't match the requested node name";

const REJECTED = reject(NODE_NAME, 'UnschedulableAndUnresolvable', ERR_REASON_NODE_NAME);

export const nodeName: FilterPlugin = {
  name: NODE_NAME,
  preFilter(pod) {
    if (pod.nodeName === '') return null;
    const wanted = pod.nodeName;
    return { filter: (node) => (node.name === wanted ? null : REJECTED) };
  },
};
