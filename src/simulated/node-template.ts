/**
 * The Node and Lease objects a simulated kubelet registers and keeps fresh,
 * shaped like a real kubelet's (pkg/kubelet/nodestatus setters): default
 * labels and annotations, capacity and allocatable (memory minus the 100Mi
 * hard-eviction threshold, 90 % of ephemeral storage), the four conditions
 * with the kubelet's reasons and messages, addresses, daemon endpoints and
 * nodeInfo.
 */
import { createHash, randomUUID } from 'node:crypto';
import { release } from 'node:os';
import { parseQuantity, quantityToNumber, canonicalQuantity } from '../api/quantity.js';
import type { KubeObject } from '../apimachinery/types.js';

/** The label every simulated node carries (select them with -l pilote.dev/simulated=true). */
export const SIMULATED_LABEL = 'pilote.dev/simulated';
export const INSTANCE_TYPE = 'pilote-simulated';
export const KUBELET_VERSION = 'v1.32.0-pilote-sim';
export const RUNTIME_VERSION = 'pilote-sim://0.1.0';
export const OS_IMAGE = 'Pilote simulated node';
/** Namespace of the node heartbeat leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The kubelet's default NodeLeaseDurationSeconds. */
export const LEASE_DURATION_SECONDS = 40;

/** What a simulated node offers. */
export interface NodeShape {
  cpu: string;
  memory: string;
  ephemeralStorage: string;
  pods: number;
  arch: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
}

/** Go's runtime.GOARCH for this machine. */
export function goArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/** Micro-second timestamps, as Lease's MicroTime fields carry them. */
export function microTime(date = new Date()): string {
  return date.toISOString().replace('Z', '000Z');
}

function bytesOf(quantity: string, what: string): number {
  try {
    return quantityToNumber(parseQuantity(quantity));
  } catch {
    throw new Error(`${what}: not a quantity: ${quantity}`);
  }
}

/** Capacity and allocatable as a kubelet reports them (memory and storage capacity in Ki). */
export function resources(shape: NodeShape): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memoryKi = Math.floor(bytesOf(shape.memory, 'memory') / 1024);
  const storageBytes = bytesOf(shape.ephemeralStorage, 'ephemeral-storage');
  const cpu = canonicalQuantity(shape.cpu);
  const pods = String(shape.pods);
  const capacity = {
    cpu,
    'ephemeral-storage': `${Math.floor(storageBytes / 1024)}Ki`,
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${memoryKi}Ki`,
    pods,
  };
  const allocatable = {
    cpu,
    // nodefs.available<10% and memory.available<100Mi: the kubelet's default hard eviction thresholds.
    'ephemeral-storage': String(Math.floor(storageBytes * 0.9)),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory: `${Math.max(0, memoryKi - 100 * 1024)}Ki`,
    pods,
  };
  return { capacity, allocatable };
}

/** The four conditions of a healthy kubelet. */
export function readyConditions(now: string, readySince: string): Record<string, unknown>[] {
  const c = (type: string, status: string, reason: string, message: string, since = readySince) => ({ type, status, lastHeartbeatTime: now, lastTransitionTime: since, reason, message });
  return [
    c('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    c('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    c('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    c('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/** A stable hex id derived from the node name (machine-id, system UUID). */
function stableHex(name: string, salt: string): string {
  return createHash('sha256').update(`${salt}:${name}`).digest('hex');
}

const uuidOf = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;

/** Labels a kubelet puts on its node, plus the simulation's. */
export function nodeLabels(name: string, shape: NodeShape): Record<string, string> {
  return {
    'beta.kubernetes.io/arch': shape.arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': shape.arch,
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'node.kubernetes.io/instance-type': INSTANCE_TYPE,
    [SIMULATED_LABEL]: 'true',
    ...shape.labels,
  };
}

export const NODE_ANNOTATIONS = {
  'node.alpha.kubernetes.io/ttl': '0',
  'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
};

/** The status a simulated kubelet reports (conditions included). */
export function nodeStatus(name: string, nodeIP: string, shape: NodeShape, bootID: string, now: string, readySince: string): Record<string, unknown> {
  const machine = stableHex(name, 'machine-id');
  return {
    ...resources(shape),
    conditions: readyConditions(now, readySince),
    addresses: [
      { type: 'InternalIP', address: nodeIP },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: machine.slice(0, 32),
      systemUUID: uuidOf(stableHex(name, 'system-uuid')),
      bootID,
      kernelVersion: release(),
      osImage: OS_IMAGE,
      containerRuntimeVersion: RUNTIME_VERSION,
      kubeletVersion: KUBELET_VERSION,
      // 1.32 still reports it (the DisableNodeKubeProxyVersion gate is off by default).
      kubeProxyVersion: KUBELET_VERSION,
      operatingSystem: 'linux',
      architecture: shape.arch,
    },
    runtimeHandlers: [
      { name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: true } },
      { name: '', features: { recursiveReadOnlyMounts: true, userNamespaces: true } },
    ],
  };
}

/** The Node object a simulated kubelet registers. */
export function nodeObject(name: string, nodeIP: string, shape: NodeShape, now: string): KubeObject {
  const spec: Record<string, unknown> = {};
  if (shape.taints.length) spec.taints = shape.taints;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: nodeLabels(name, shape), annotations: { ...NODE_ANNOTATIONS } },
    spec,
    status: nodeStatus(name, nodeIP, shape, randomUUID(), now, now),
  };
}

/** The node's Lease in kube-node-lease, owned by the Node (so it goes with it). */
export function leaseObject(name: string, nodeUID: string | undefined, now = new Date()): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUID ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUID }] } : {}),
    },
    spec: { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime: microTime(now) },
  };
}
