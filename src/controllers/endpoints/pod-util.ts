/**
 * What the Endpoints and EndpointSlice controllers share (k8s.io/endpointslice/util
 * and pkg/api/v1/pod in Kubernetes): which pods back a service, their ports,
 * readiness and hostnames, and the last-change trigger time.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import type { Informer } from '../../client/informer.js';

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  appProtocol?: string;
}

interface PodCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

const spec = (o: KubeObject): Record<string, unknown> => (isObject(o.spec) ? o.spec : {});
const status = (o: KubeObject): Record<string, unknown> => (isObject(o.status) ? o.status : {});

/** The service's selector, or undefined when it has none (such services get no endpoints from the controllers). */
export function serviceSelector(service: KubeObject): Record<string, string> | undefined {
  const selector = spec(service).selector;
  // An empty selector reads back as none from the API (it does not survive storage in Kubernetes).
  return isObject(selector) && Object.keys(selector).length > 0 ? (selector as Record<string, string>) : undefined;
}

/** Whether every label of the selector is on the object. */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export function servicePorts(service: KubeObject): ServicePort[] {
  const ports = spec(service).ports;
  return Array.isArray(ports) ? (ports.filter(isObject) as unknown as ServicePort[]) : [];
}

export function isHeadless(service: KubeObject): boolean {
  return spec(service).clusterIP === 'None';
}

/** helper.IsServiceIPSet: a cluster IP other than None. */
export function isServiceIPSet(service: KubeObject): boolean {
  const ip = spec(service).clusterIP;
  return typeof ip === 'string' && ip !== '' && ip !== 'None';
}

export function publishNotReadyAddresses(service: KubeObject): boolean {
  return spec(service).publishNotReadyAddresses === true;
}

export function podReadyCondition(pod: KubeObject): PodCondition | undefined {
  const conditions = status(pod).conditions;
  return Array.isArray(conditions) ? (conditions as PodCondition[]).find((c) => c?.type === 'Ready') : undefined;
}

export function isPodReady(pod: KubeObject): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

export function isPodTerminal(pod: KubeObject): boolean {
  const phase = status(pod).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** The pod's IPs (status.podIPs, else status.podIP). */
export function podIPs(pod: KubeObject): string[] {
  const ips = status(pod).podIPs;
  if (Array.isArray(ips) && ips.length > 0) return ips.map((entry) => (isObject(entry) ? String(entry.ip ?? '') : '')).filter(Boolean);
  const ip = status(pod).podIP;
  return typeof ip === 'string' && ip ? [ip] : [];
}

export const isIPv6 = (ip: string): boolean => ip.includes(':');

/** ShouldPodBeInEndpoints: not finished, has an IP, and (unless included) not terminating. */
export function shouldPodBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (podIPs(pod).length === 0) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** ShouldSetHostname: the pod asked for a hostname under this (same-namespace) service as subdomain. */
export function shouldSetHostname(pod: KubeObject, service: KubeObject): boolean {
  const s = spec(pod);
  return typeof s.hostname === 'string' && s.hostname !== '' && s.subdomain === service.metadata.name && pod.metadata.namespace === service.metadata.namespace;
}

/** podutil.FindPort: the port a service port targets on this pod (named ports resolved against container ports). */
export function findPort(pod: KubeObject, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  const containers = [...asArray(spec(pod).containers), ...asArray(spec(pod).initContainers).filter((c) => c.restartPolicy === 'Always')];
  for (const container of containers) {
    for (const p of asArray(container.ports)) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return Number(p.containerPort);
    }
  }
  return undefined;
}

function asArray(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** The selector-bearing services (from the cache) a pod belongs to, as "namespace/name" keys. */
export function podServiceKeys(services: Informer, pod: KubeObject): string[] {
  const keys: string[] = [];
  for (const service of services.list(pod.metadata.namespace)) {
    const selector = serviceSelector(service);
    if (selector && selectorMatches(selector, pod.metadata.labels)) keys.push(`${service.metadata.namespace}/${service.metadata.name}`);
  }
  return keys;
}

/** Whether a pod change can change endpoints (podEndpointsChanged, plus labels). */
export function podEndpointsChanged(old: KubeObject, pod: KubeObject): boolean {
  const view = (p: KubeObject) => ({
    labels: p.metadata.labels,
    deleting: Boolean(p.metadata.deletionTimestamp),
    ips: podIPs(p),
    ready: podReadyCondition(p),
    terminal: isPodTerminal(p),
    nodeName: spec(p).nodeName,
    hostname: spec(p).hostname,
    subdomain: spec(p).subdomain,
  });
  return !jsonEqual(view(old), view(pod));
}

/** The services to sync after a pod change: those it left and those it joined (or stays in, if it changed). */
export function servicesToUpdateOnPodChange(services: Informer, old: KubeObject, pod: KubeObject): string[] {
  if (!podEndpointsChanged(old, pod)) return [];
  return [...new Set([...podServiceKeys(services, old), ...podServiceKeys(services, pod)])];
}

/**
 * TriggerTimeTracker: the `endpoints.kubernetes.io/last-change-trigger-time`
 * of a sync, i.e. the earliest change (a pod's Ready transition, the service's
 * creation) not yet reflected in the endpoints; the service's creation time on
 * the first sync.
 */
export class TriggerTimeTracker {
  private readonly states = new Map<string, { pods: Map<string, number>; service: number }>();

  compute(service: KubeObject, pods: KubeObject[]): Date | undefined {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const state = this.states.get(key);
    let min: number | undefined;
    const podTimes = new Map<string, number>();
    for (const pod of pods) {
      const at = Date.parse(podReadyCondition(pod)?.lastTransitionTime ?? '');
      if (Number.isNaN(at)) continue;
      podTimes.set(pod.metadata.name!, at);
      if (at > (state?.pods.get(pod.metadata.name!) ?? -Infinity)) min = min === undefined ? at : Math.min(min, at);
    }
    const serviceTime = Date.parse(service.metadata.creationTimestamp ?? '');
    if (!Number.isNaN(serviceTime) && serviceTime > (state?.service ?? -Infinity)) min = min === undefined ? serviceTime : Math.min(min, serviceTime);
    this.states.set(key, { pods: podTimes, service: Number.isNaN(serviceTime) ? -Infinity : serviceTime });
    if (!state) return Number.isNaN(serviceTime) ? undefined : new Date(serviceTime);
    return min === undefined ? undefined : new Date(min);
  }

  forget(namespace: string, name: string): void {
    this.states.delete(`${namespace}/${name}`);
  }
}

/** Go's time.RFC3339Nano for a UTC time: fractional seconds without trailing zeros. */
export function rfc3339Nano(date: Date): string {
  return date.toISOString().replace(/\.?0*Z$/, 'Z');
}
