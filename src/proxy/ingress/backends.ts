/**
 * From an Ingress backend (Service + port) to the addresses to connect to:
 * the Service port is found by number or name, and its ready endpoints come
 * from the Service's EndpointSlices, whose port of the same name carries the
 * resolved target port (named target ports included: the EndpointSlice
 * controller resolved them per pod). The ingress connects to pods directly,
 * as ingress-nginx and Traefik do, so it can pick and retry endpoints itself.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import type { ServiceBackendRef } from './routing.js';

/** A connectable endpoint. */
export interface Target {
  host: string;
  port: number;
}

/** Why a backend has no target (the 503 page says it). */
export type BackendProblem = 'no-service' | 'no-port' | 'no-endpoints';

interface ServiceSpecShape {
  type?: string;
  externalName?: string;
  ports?: { name?: string; port?: number; protocol?: string }[];
}

interface SliceShape {
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; port?: number; protocol?: string }[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** ExternalName Services naming other Services of the cluster are followed at most this deep (a loop ends as 'no-service'). */
const MAX_ALIAS_DEPTH = 8;

/** Indexes EndpointSlices by Service, and answers "where does this backend lead". */
export class BackendResolver {
  /** namespace/service → slice key → slice. */
  private readonly slices = new Map<string, Map<string, KubeObject>>();
  private readonly sliceService = new Map<string, string>();
  /** backend key → next round-robin index. */
  private readonly cursors = new Map<string, number>();
  /** backend key → targets computed at `version`; any Service or slice change bumps the version. */
  private readonly cache = new Map<string, { version: number; targets: Target[] | BackendProblem }>();
  private version = 0;

  /**
   * @param clusterDomain ExternalName Services naming a Service of this cluster
   *   (`<svc>.<ns>.svc.<clusterDomain>`) lead to that Service's endpoints: this
   *   process runs on the host, whose resolver knows nothing of cluster names.
   */
  constructor(
    private readonly services: Informer,
    private readonly clusterDomain = 'cluster.local',
  ) {}

  /** Forgets computed targets: call on every Service change (slice changes do it themselves). */
  invalidate(): void {
    this.version++;
  }

  /** Keeps the slice index in step with the EndpointSlice informer. */
  upsertSlice(slice: KubeObject): void {
    this.version++;
    const key = `${slice.metadata.namespace}/${slice.metadata.name}`;
    this.deleteSlice(slice);
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!service) return;
    const serviceKey = `${slice.metadata.namespace}/${service}`;
    let map = this.slices.get(serviceKey);
    if (!map) this.slices.set(serviceKey, (map = new Map()));
    map.set(key, slice);
    this.sliceService.set(key, serviceKey);
  }

  deleteSlice(slice: KubeObject): void {
    this.version++;
    const key = `${slice.metadata.namespace}/${slice.metadata.name}`;
    const serviceKey = this.sliceService.get(key);
    if (serviceKey === undefined) return;
    this.sliceService.delete(key);
    const map = this.slices.get(serviceKey);
    map?.delete(key);
    if (map?.size === 0) this.slices.delete(serviceKey);
  }

  /** The ready targets of a backend, or why there are none. */
  targets(ref: ServiceBackendRef, depth = 0): Target[] | BackendProblem {
    const service = this.services.get(`${ref.namespace}/${ref.service}`);
    if (!service) return 'no-service';
    const spec = (service.spec ?? {}) as ServiceSpecShape;
    const servicePort = (spec.ports ?? []).find((p) =>
      (p.protocol ?? 'TCP') === 'TCP' && (ref.port.name ? p.name === ref.port.name : p.port === ref.port.number));
    if (spec.type === 'ExternalName' && spec.externalName) {
      const port = servicePort?.port ?? ref.port.number;
      if (!port) return 'no-port';
      const host = spec.externalName.replace(/\.$/, '').toLowerCase();
      // A Service of this cluster (a cross-namespace alias): its endpoints, as cluster DNS would lead there.
      const inCluster = this.clusterServiceName(host);
      if (inCluster) return depth < MAX_ALIAS_DEPTH ? this.targets({ ...inCluster, port: { number: port } }, depth + 1) : 'no-service';
      // Another name outside the cluster: connect to it by name on the asked port.
      return [{ host, port }];
    }
    if (!servicePort) return 'no-port';
    const portName = servicePort.name ?? '';
    const targets: Target[] = [];
    const seen = new Set<string>();
    for (const slice of this.slices.get(`${ref.namespace}/${ref.service}`)?.values() ?? []) {
      const shape = slice as KubeObject & SliceShape;
      const port = (shape.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP')?.port;
      if (!port) continue;
      for (const endpoint of shape.endpoints ?? []) {
        // Ready unset means ready; a terminating or unready pod gets no new requests.
        if (endpoint.conditions?.ready === false) continue;
        const host = endpoint.addresses?.[0];
        if (!host || seen.has(`${host}:${port}`)) continue;
        seen.add(`${host}:${port}`);
        targets.push({ host, port });
      }
    }
    return targets.length ? targets : 'no-endpoints';
  }

  /** `{namespace, service}` for `<service>.<namespace>.svc.<clusterDomain>`, else undefined. */
  private clusterServiceName(host: string): { namespace: string; service: string } | undefined {
    const suffix = `.svc.${this.clusterDomain.toLowerCase()}`;
    if (!host.endsWith(suffix)) return undefined;
    const labels = host.slice(0, -suffix.length).split('.');
    return labels.length === 2 ? { service: labels[0], namespace: labels[1] } : undefined;
  }

  /** Targets in round-robin order for this backend: the first is the one to try first. */
  rotation(ref: ServiceBackendRef): Target[] | BackendProblem {
    const key = `${ref.namespace}/${ref.service}:${ref.port.name ?? ref.port.number}`;
    let cached = this.cache.get(key);
    if (!cached || cached.version !== this.version) {
      cached = { version: this.version, targets: this.targets(ref) };
      this.cache.set(key, cached);
    }
    const targets = cached.targets;
    if (typeof targets === 'string' || targets.length === 1) return targets;
    const cursor = (this.cursors.get(key) ?? 0) % targets.length;
    this.cursors.set(key, cursor + 1);
    return [...targets.slice(cursor), ...targets.slice(0, cursor)];
  }
}
