/** NodePorts: the host ports a pod asks for must be free on the node (0.0.0.0 overlaps every address). */
import { reject, type FilterPlugin } from '../framework.js';

export const NODE_PORTS = 'NodePorts';
/** ErrReason of the NodePorts plugin. */
export const ERR_REASON_NODE_PORTS = "node(s) didn't have free ports for the requested pod ports";

const REJECTED = reject(NODE_PORTS, 'Unschedulable', ERR_REASON_NODE_PORTS);

export const nodePorts: FilterPlugin = {
  name: NODE_PORTS,
  preFilter(pod) {
    if (pod.hostPorts.length === 0) return null;
    const wanted = pod.hostPorts;
    return {
      filter(node) {
        for (const p of wanted) if (node.portConflicts(p)) return REJECTED;
        return null;
      },
    };
  },
};
