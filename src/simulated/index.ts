/** Simulated nodes: registered Nodes with a simulated kubelet each (see ./simulated-nodes.ts). */
export { startSimulatedNodes, type SimulatedNodes, type SimulatedNodesOptions } from './simulated-nodes.js';
export { SIMULATED_LABEL, KUBELET_VERSION, RUNTIME_VERSION } from './node-template.js';
export { RUN_SECONDS_ANNOTATION, EXIT_CODE_ANNOTATION } from './pod-status.js';
