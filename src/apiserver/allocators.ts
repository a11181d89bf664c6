/**
 * ClusterIP and NodePort allocation for Services. The allocation lives in the
 * Service objects themselves (as on a real cluster's repair loop): on start the
 * allocator learns what the stored Services use; new ones get a free random value.
 * Values being allocated by in-flight creates are reserved so concurrent creates
 * never get the same one.
 */
import { randomInt } from 'node:crypto';
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { fieldErrors, invalid } from '../apimachinery/errors.js';
import type { ResourceStore } from './store.js';

/** The default service range (its 1st address is the `kubernetes` service, its 10th cluster DNS). */
export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
/** The default NodePort range, as Kubernetes'. */
export const DEFAULT_NODE_PORT_RANGE = { min: 30000, max: 32767 };

/** Where ClusterIPs and NodePorts come from. */
export interface ServiceRanges {
  /** e.g. 10.43.0.0/16 */
  serviceCidr: string;
  nodePortRange: { min: number; max: number };
}

/** The `kubernetes` service's address: the first of the range. */
export function kubernetesServiceIp(serviceCidr: string): string {
  return numberToIp(parseRange(serviceCidr).base + 1);
}

/** The cluster DNS address: the tenth of the range (as k3s). */
export function clusterDnsIp(serviceCidr: string): string {
  return numberToIp(parseRange(serviceCidr).base + 10);
}

function parseRange(cidr: string): { base: number; size: number } {
  const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
  const prefix = Number(match?.[2]);
  if (!match || prefix < 8 || prefix > 28) throw new Error(`service CIDR must look like 10.43.0.0/16 (prefix 8 to 28), got "${cidr}"`);
  const size = 2 ** (32 - prefix);
  return { base: ipToNumber(match[1]) - (ipToNumber(match[1]) % size), size };
}

function ipToNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

interface ServiceSpecShape {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  ports?: { nodePort?: number; port?: number }[];
}

/** Allocates and releases ClusterIPs and NodePorts for the services store. */
export class ServiceAllocator {
  private readonly usedIps = new Set<string>();
  private readonly usedPorts = new Set<number>();
  /** What `allocate` took for an object being created, so a failed create gives back exactly that. */
  private readonly takenBy = new WeakMap<KubeObject, { ips: string[]; ports: number[] }>();

  private readonly range: { base: number; size: number };
  private readonly reservedDnsIp: string;

  constructor(
    private readonly services: ResourceStore,
    private readonly ranges: ServiceRanges = { serviceCidr: DEFAULT_SERVICE_CIDR, nodePortRange: DEFAULT_NODE_PORT_RANGE },
  ) {
    this.range = parseRange(ranges.serviceCidr);
    this.reservedDnsIp = clusterDnsIp(ranges.serviceCidr);
  }

  /** Learns the allocations of the services already stored. */
  load(): void {
    for (const cached of this.services.cache.list(this.services.prefix)) this.remember(cached.object);
  }

  private remember(svc: KubeObject): void {
    const spec = (svc.spec ?? {}) as ServiceSpecShape;
    for (const ip of spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])) if (ip !== 'None') this.usedIps.add(ip);
    for (const port of spec.ports ?? []) if (port.nodePort) this.usedPorts.add(port.nodePort);
  }

  /** Create hook: fills in clusterIP(s) and nodePorts, or rejects taken ones. */
  allocate(svc: KubeObject): void {
    if (!isObject(svc.spec)) return;
    const spec = svc.spec as ServiceSpecShape;
    const name = svc.metadata.name ?? '';
    if (spec.type === 'ExternalName') return;
    const taken = { ips: [] as string[], ports: [] as number[] };
    this.takenBy.set(svc, taken);
    const requested = spec.clusterIP || spec.clusterIPs?.[0];
    if (requested === 'None') {
      spec.clusterIP = 'None';
      spec.clusterIPs = ['None'];
    } else if (requested) {
      const n = ipToNumber(requested);
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(requested) || n < this.range.base || n >= this.range.base + this.range.size) {
        const message = `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range. The range of valid IPs is ${this.ranges.serviceCidr}`;
        throw invalid('', 'Service', name, [fieldErrors.invalid('spec.clusterIPs[0]', requested, message)]);
      }
      if (this.usedIps.has(requested)) {
        throw invalid('', 'Service', name, [fieldErrors.invalid('spec.clusterIPs', [requested], `failed to allocate IP ${requested}: provided IP is already allocated`)]);
      }
      this.usedIps.add(requested);
      taken.ips.push(requested);
      spec.clusterIP = requested;
      spec.clusterIPs = [requested];
    } else {
      const ip = this.freeIp();
      this.usedIps.add(ip);
      taken.ips.push(ip);
      spec.clusterIP = ip;
      spec.clusterIPs = [ip];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      (spec.ports ?? []).forEach((port, index) => {
        if (port.nodePort) {
          if (this.usedPorts.has(port.nodePort)) {
            throw invalid('', 'Service', name, [fieldErrors.invalid(`spec.ports[${index}].nodePort`, port.nodePort, 'provided port is already allocated')]);
          }
        } else {
          port.nodePort = this.freePort();
        }
        this.usedPorts.add(port.nodePort);
        taken.ports.push(port.nodePort);
      });
    }
  }

  /** Delete hook (and failed-create cleanup): returns a service's values to the pool. */
  release(svc: KubeObject): void {
    const taken = this.takenBy.get(svc);
    if (taken) {
      this.takenBy.delete(svc);
      for (const ip of taken.ips) this.usedIps.delete(ip);
      for (const port of taken.ports) this.usedPorts.delete(port);
      return;
    }
    const spec = (svc.spec ?? {}) as ServiceSpecShape;
    for (const ip of spec.clusterIPs ?? []) this.usedIps.delete(ip);
    for (const port of spec.ports ?? []) if (port.nodePort) this.usedPorts.delete(port.nodePort);
  }

  private freeIp(): string {
    // Random probing like Kubernetes' allocator; the range is large, so this ends fast.
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const offset = 2 + randomInt(this.range.size - 3);
      const ip = numberToIp(this.range.base + offset);
      if (!this.usedIps.has(ip) && ip !== this.reservedDnsIp) return ip;
    }
    throw new Error(`no free ClusterIP in ${this.ranges.serviceCidr}`);
  }

  private freePort(): number {
    const { min, max } = this.ranges.nodePortRange;
    for (let attempt = 0; attempt < 100_000; attempt++) {
      const port = min + randomInt(max - min + 1);
      if (!this.usedPorts.has(port)) return port;
    }
    throw new Error(`no free NodePort in ${min}-${max}`);
  }
}
