/**
 * Requests and limits → what the runtime enforces (kuberuntime's
 * calculateLinuxResources): CPU shares from the request, a CFS quota from the
 * limit, the memory limit in bytes; and the pod's QoS class as Kubernetes
 * computes it (pkg/apis/core/helper/qos).
 */
import type { Container, Pod, ResourceRequirements } from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityMilliValue, quantityToNumber, type Quantity } from '../api/quantity.js';
import { podQOSClass } from '../api/defaults.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { LinuxContainerResources } from './cri/types.js';

/** CFS period the kubelet uses (100 ms, in microseconds). */
export const CPU_PERIOD_US = 100_000;
/** Smallest cpu.shares the kernel takes; BestEffort containers get it. */
const MIN_SHARES = 2;
const SHARES_PER_CPU = 1024;
/** Smallest quota the kubelet sets (1 ms). */
const MIN_QUOTA_US = 1000;

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

function quantity(list: Record<string, unknown> | undefined, name: string): Quantity | undefined {
  const raw = list?.[name];
  if (typeof raw !== 'string' && typeof raw !== 'number') return undefined;
  try {
    return parseQuantity(raw);
  } catch {
    return undefined;
  }
}

/** cpu.shares for a CPU request in millicores (MilliCPUToShares). */
export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  return Math.max(MIN_SHARES, Math.floor((milliCpu * SHARES_PER_CPU) / 1000));
}

/** CFS quota (µs per period) for a CPU limit in millicores; 0 = unlimited (milliCPUToQuota). */
export function milliCpuToQuota(milliCpu: number, periodUs = CPU_PERIOD_US): number {
  if (milliCpu === 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

/** A container's CPU (millicores) and memory (bytes) requests and limits; 0 = not set. */
export function containerResourceNumbers(resources: ResourceRequirements | undefined): {
  cpuRequestMilli: number;
  cpuLimitMilli: number;
  memoryRequest: number;
  memoryLimit: number;
} {
  const requests = resources?.requests as Record<string, unknown> | undefined;
  const limits = resources?.limits as Record<string, unknown> | undefined;
  const milli = (q: Quantity | undefined) => (q ? Number(quantityMilliValue(q)) : 0);
  const bytes = (q: Quantity | undefined) => (q ? Math.ceil(quantityToNumber(q)) : 0);
  const cpuLimitMilli = milli(quantity(limits, 'cpu'));
  const memoryLimit = bytes(quantity(limits, 'memory'));
  // As the API defaults it (and the kubelet repeats): a request left out is the limit.
  const cpuRequest = quantity(requests, 'cpu');
  const memoryRequest = quantity(requests, 'memory');
  return {
    cpuRequestMilli: cpuRequest ? milli(cpuRequest) : cpuLimitMilli,
    cpuLimitMilli,
    memoryRequest: memoryRequest ? bytes(memoryRequest) : memoryLimit,
    memoryLimit,
  };
}

/**
 * The CRI resources of a container. `oomScoreAdj` follows Kubernetes' policy
 * but never goes below 0: this machine cannot lower it (RUNTIME.md), and
 * containerd's restrict_oom_score_adj would clamp it anyway.
 */
export function linuxContainerResources(container: Container, pod: Pod, memoryCapacityBytes: number): LinuxContainerResources {
  const r = containerResourceNumbers(container.resources);
  const resources: LinuxContainerResources = {
    cpuShares: milliCpuToShares(r.cpuRequestMilli),
    cpuPeriod: CPU_PERIOD_US,
    cpuQuota: milliCpuToQuota(r.cpuLimitMilli),
    oomScoreAdj: Math.max(0, oomScoreAdjust(pod, container, memoryCapacityBytes)),
  };
  if (r.memoryLimit > 0) resources.memoryLimitInBytes = r.memoryLimit;
  return resources;
}

/** The kubelet's OOM score policy (pkg/kubelet/qos/policy.go): Guaranteed -997, BestEffort 1000, Burstable in between. */
export function oomScoreAdjust(pod: Pod, container: Container, memoryCapacityBytes: number): number {
  const qos = podQosClass(pod);
  if (pod.spec?.priorityClassName === 'system-node-critical' || pod.spec?.priorityClassName === 'system-cluster-critical') return -997;
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const { memoryRequest } = containerResourceNumbers(container.resources);
  if (memoryCapacityBytes <= 0) return 999;
  const adjust = 1000 - Math.floor((1000 * memoryRequest) / memoryCapacityBytes);
  // Burstable stays strictly between Guaranteed (1000 - 997 = 3 at full memory) and BestEffort.
  if (adjust < 3) return 3;
  return adjust === 1000 ? 999 : adjust;
}

/**
 * The pod's QoS class (GetPodQOS): BestEffort without any cpu/memory request
 * or limit; Guaranteed when every container (init ones too) has cpu and memory
 * limits and the summed requests equal the summed limits; Burstable otherwise.
 * The same computation the API server uses for status.qosClass.
 */
export function podQosClass(pod: Pod): QosClass {
  return podQOSClass(pod as unknown as KubeObject);
}

/**
 * The pod-level resources of the sandbox (calculateSandboxResources over
 * PodRequests/PodLimits): regular containers and sidecars add up, a plain init
 * container counts alone when it needs more; limits a container leaves out make
 * the pod's unlimited.
 */
export function podSandboxResources(pod: Pod): LinuxContainerResources {
  const regular = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  const inits = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy !== 'Always');
  const sum = (cs: Container[], pick: (n: ReturnType<typeof containerResourceNumbers>) => number) => cs.reduce((t, c) => t + pick(containerResourceNumbers(c.resources)), 0);
  const max = (cs: Container[], pick: (n: ReturnType<typeof containerResourceNumbers>) => number) => cs.reduce((m, c) => Math.max(m, pick(containerResourceNumbers(c.resources))), 0);
  const all = [...regular, ...inits];
  const unlimited = (pick: (n: ReturnType<typeof containerResourceNumbers>) => number) => all.some((c) => pick(containerResourceNumbers(c.resources)) === 0);
  const cpuRequest = Math.max(sum(regular, (n) => n.cpuRequestMilli), max(inits, (n) => n.cpuRequestMilli));
  const cpuLimit = unlimited((n) => n.cpuLimitMilli) ? 0 : Math.max(sum(regular, (n) => n.cpuLimitMilli), max(inits, (n) => n.cpuLimitMilli));
  const memoryLimit = unlimited((n) => n.memoryLimit) ? 0 : Math.max(sum(regular, (n) => n.memoryLimit), max(inits, (n) => n.memoryLimit));
  const out: LinuxContainerResources = { cpuShares: milliCpuToShares(cpuRequest), cpuPeriod: CPU_PERIOD_US, cpuQuota: milliCpuToQuota(cpuLimit) };
  if (memoryLimit > 0) out.memoryLimitInBytes = memoryLimit;
  return out;
}

/** The pod's overhead (spec.overhead, set by its RuntimeClass) as CRI resources, if it has one. */
export function podOverheadResources(pod: Pod): LinuxContainerResources | undefined {
  const overhead = pod.spec?.overhead as Record<string, unknown> | undefined;
  if (!overhead || Object.keys(overhead).length === 0) return undefined;
  const n = containerResourceNumbers({ requests: overhead as Record<string, string>, limits: overhead as Record<string, string> });
  const out: LinuxContainerResources = { cpuShares: milliCpuToShares(n.cpuRequestMilli), cpuPeriod: CPU_PERIOD_US, cpuQuota: milliCpuToQuota(n.cpuLimitMilli) };
  if (n.memoryLimit > 0) out.memoryLimitInBytes = n.memoryLimit;
  return out;
}
