/**
 * What cluster DNS knows about the cluster: Services, their ready endpoints
 * (from EndpointSlices) and the namespaces, kept in indexes that informer
 * events update incrementally, so a query costs a few map lookups whatever
 * the cluster's size. The resolver (./resolver.ts) only reads this view.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { objectKey } from '../../client/types.js';

/** The parts of a Service port DNS uses. */
export interface DnsServicePort {
  name: string;
  protocol: string;
  port: number;
}

/** A Service as DNS sees it. */
export interface DnsService {
  namespace: string;
  name: string;
  /** ClusterIPs; empty for headless and ExternalName services. */
  clusterIPs: string[];
  headless: boolean;
  externalName?: string;
  ports: DnsServicePort[];
}

/** One ready address of a service's endpoints, with the ports of its slice. */
export interface DnsEndpoint {
  ip: string;
  /** The endpoint's DNS label: its hostname, else the IP with dots (or colons) as dashes. */
  label: string;
  ports: DnsServicePort[];
}

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

interface SliceShape {
  addressType?: string;
  endpoints?: { addresses?: string[]; hostname?: string; conditions?: { ready?: boolean } }[];
  ports?: { name?: string; protocol?: string; port?: number }[];
}

interface ServiceSpecShape {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  externalName?: string;
  ports?: { name?: string; protocol?: string; port?: number }[];
}

/** The label an endpoint gets in `<label>.<svc>.<ns>.svc.<zone>` (CoreDNS without endpoint_pod_names). */
export function endpointLabel(ip: string, hostname: string | undefined): string {
  if (hostname) return hostname.toLowerCase();
  return ip.includes(':') ? ip.replaceAll(':', '-') : ip.replaceAll('.', '-');
}

/** Turns a Service object into the shape DNS uses. */
export function toDnsService(object: KubeObject): DnsService {
  const spec = (object.spec ?? {}) as ServiceSpecShape;
  const ips = (spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : []).filter((ip) => ip && ip !== 'None');
  const isExternal = spec.type === 'ExternalName';
  return {
    namespace: object.metadata.namespace ?? 'default',
    name: object.metadata.name ?? '',
    clusterIPs: isExternal ? [] : ips,
    headless: !isExternal && (spec.clusterIP === 'None' || ips.length === 0),
    externalName: isExternal ? spec.externalName?.replace(/\.$/, '').toLowerCase() : undefined,
    ports: (spec.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toUpperCase(), port: p.port ?? 0 })),
  };
}

/** Indexes of services, ready endpoints and namespaces, updated from informer events. */
export class ClusterView {
  private readonly services = new Map<string, DnsService>();
  private readonly namespaces = new Set<string>();
  /** service key → slice key → that slice's ready endpoints. */
  private readonly slicesByService = new Map<string, Map<string, DnsEndpoint[]>>();
  /** slice key → the service key it belongs to (to undo an index entry when a slice changes service). */
  private readonly sliceOwner = new Map<string, string>();
  /** IP → owner ("svc:ns/name" or "slice:ns/name") → the name a PTR query for that IP answers. */
  private readonly reverse = new Map<string, Map<string, string>>();
  /** Unix seconds of the last change: the SOA serial, as CoreDNS does. */
  serial = Math.floor(Date.now() / 1000);

  constructor(private readonly zone: string) {}

  private touch(): void {
    this.serial = Math.max(this.serial + 1, Math.floor(Date.now() / 1000)) >>> 0;
  }

  /** A Service was added or changed. */
  upsertService(object: KubeObject): void {
    const service = toDnsService(object);
    const key = `${service.namespace}/${service.name}`;
    this.services.set(key, service);
    const owner = `svc:${key}`;
    this.dropReverse(owner);
    for (const ip of service.clusterIPs) this.addReverse(ip, owner, `${service.name}.${service.namespace}.svc.${this.zone}`);
    this.refreshSliceReverse(key);
    this.touch();
  }

  /** A Service was deleted. */
  deleteService(object: KubeObject): void {
    const key = objectKey(object);
    const service = this.services.get(key);
    this.services.delete(key);
    this.dropReverse(`svc:${key}`);
    if (service) this.refreshSliceReverse(key);
    this.touch();
  }

  /** An EndpointSlice was added or changed. */
  upsertSlice(object: KubeObject): void {
    const sliceKey = objectKey(object);
    this.removeSliceFromIndex(sliceKey);
    const serviceName = object.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!serviceName) return;
    const serviceKey = `${object.metadata.namespace}/${serviceName}`;
    const slice = object as KubeObject & SliceShape;
    const ports = (slice.ports ?? []).map((p) => ({ name: (p.name ?? '').toLowerCase(), protocol: (p.protocol ?? 'TCP').toUpperCase(), port: p.port ?? 0 }));
    const ready: DnsEndpoint[] = [];
    for (const endpoint of slice.endpoints ?? []) {
      // Ready unset means ready (EndpointSlice API); terminating or unready endpoints get no records.
      if (endpoint.conditions?.ready === false) continue;
      for (const ip of endpoint.addresses ?? []) ready.push({ ip, label: endpointLabel(ip, endpoint.hostname), ports });
    }
    let slices = this.slicesByService.get(serviceKey);
    if (!slices) this.slicesByService.set(serviceKey, (slices = new Map()));
    slices.set(sliceKey, ready);
    this.sliceOwner.set(sliceKey, serviceKey);
    this.addSliceReverse(sliceKey, serviceKey, ready);
    this.touch();
  }

  /** An EndpointSlice was deleted. */
  deleteSlice(object: KubeObject): void {
    this.removeSliceFromIndex(objectKey(object));
    this.touch();
  }

  /** A Namespace was added or changed. */
  upsertNamespace(object: KubeObject): void {
    this.namespaces.add(object.metadata.name ?? '');
  }

  /** A Namespace was deleted. */
  deleteNamespace(object: KubeObject): void {
    this.namespaces.delete(object.metadata.name ?? '');
  }

  /** True when the namespace exists (CoreDNS answers NXDOMAIN under unknown namespaces). */
  hasNamespace(namespace: string): boolean {
    return this.namespaces.has(namespace);
  }

  /** The service `name` in `namespace`. */
  service(namespace: string, name: string): DnsService | undefined {
    return this.services.get(`${namespace}/${name}`);
  }

  /** Every service of a namespace (for wildcard queries). */
  servicesIn(namespace: string | undefined): DnsService[] {
    const all = [...this.services.values()];
    return namespace === undefined ? all : all.filter((s) => s.namespace === namespace);
  }

  /** The ready endpoints of a service, over all its slices (an address listed twice counts once). */
  endpoints(namespace: string, name: string): DnsEndpoint[] {
    const slices = this.slicesByService.get(`${namespace}/${name}`);
    if (!slices) return [];
    if (slices.size === 1) return slices.values().next().value as DnsEndpoint[];
    const seen = new Set<string>();
    const out: DnsEndpoint[] = [];
    for (const endpoints of slices.values()) {
      for (const endpoint of endpoints) {
        if (seen.has(endpoint.ip)) continue;
        seen.add(endpoint.ip);
        out.push(endpoint);
      }
    }
    return out;
  }

  /** Names (without trailing dot) a PTR query for `ip` answers. */
  reverseNames(ip: string): string[] {
    const owners = this.reverse.get(ip);
    return owners ? [...new Set(owners.values())] : [];
  }

  private removeSliceFromIndex(sliceKey: string): void {
    const serviceKey = this.sliceOwner.get(sliceKey);
    if (serviceKey === undefined) return;
    this.sliceOwner.delete(sliceKey);
    const slices = this.slicesByService.get(serviceKey);
    slices?.delete(sliceKey);
    if (slices && slices.size === 0) this.slicesByService.delete(serviceKey);
    this.dropReverse(`slice:${sliceKey}`);
  }

  private addSliceReverse(sliceKey: string, serviceKey: string, endpoints: DnsEndpoint[]): void {
    // Endpoint PTRs name the service, so they exist only while the service does.
    if (!this.services.has(serviceKey)) return;
    const [namespace, name] = serviceKey.split('/');
    for (const endpoint of endpoints) this.addReverse(endpoint.ip, `slice:${sliceKey}`, `${endpoint.label}.${name}.${namespace}.svc.${this.zone}`);
  }

  private refreshSliceReverse(serviceKey: string): void {
    for (const [sliceKey, endpoints] of this.slicesByService.get(serviceKey) ?? []) {
      this.dropReverse(`slice:${sliceKey}`);
      this.addSliceReverse(sliceKey, serviceKey, endpoints);
    }
  }

  private readonly reverseByOwner = new Map<string, string[]>();

  private addReverse(ip: string, owner: string, name: string): void {
    let owners = this.reverse.get(ip);
    if (!owners) this.reverse.set(ip, (owners = new Map()));
    owners.set(owner, name);
    const ips = this.reverseByOwner.get(owner);
    if (ips) ips.push(ip);
    else this.reverseByOwner.set(owner, [ip]);
  }

  private dropReverse(owner: string): void {
    for (const ip of this.reverseByOwner.get(owner) ?? []) {
      const owners = this.reverse.get(ip);
      owners?.delete(owner);
      if (owners && owners.size === 0) this.reverse.delete(ip);
    }
    this.reverseByOwner.delete(owner);
  }
}
