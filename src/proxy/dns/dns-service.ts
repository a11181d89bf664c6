/**
 * The `kube-system/kube-dns` Service that pods' resolv.conf points at (its
 * ClusterIP is config.clusterDns), with the names and labels CoreDNS' manifest
 * uses. It has no selector: cluster DNS runs in the agent, not in a pod, so
 * its Endpoints and EndpointSlice are written here and point at the node
 * address and port where the server listens; the service proxy then carries
 * pods' queries there.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { AgentConfig } from '../../agent/config.js';
import { RESOURCES, type ApiClient, type ResourceClient } from '../../client/types.js';
import { logger } from '../../util/log.js';

const log = logger('dns');

export const DNS_SERVICE_NAMESPACE = 'kube-system';
export const DNS_SERVICE_NAME = 'kube-dns';
/** EndpointSlice managed-by value, so the EndpointSlice controller leaves ours alone. */
const MANAGED_BY = 'cluster-dns.pilote.io';
const SLICE_NAME = 'kube-dns-pilote';

function desiredService(config: AgentConfig): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_SERVICE_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/name': 'CoreDNS', 'kubernetes.io/cluster-service': 'true' },
      annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
    },
    spec: {
      type: 'ClusterIP',
      clusterIP: config.clusterDns,
      clusterIPs: [config.clusterDns],
      ports: [
        { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
        { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
      ],
    },
  };
}

function desiredEndpoints(port: number, nodeIp: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: DNS_SERVICE_NAME,
      namespace: DNS_SERVICE_NAMESPACE,
      labels: { 'k8s-app': 'kube-dns', 'endpointslice.kubernetes.io/skip-mirror': 'true' },
    },
    subsets: [
      {
        addresses: [{ ip: nodeIp }],
        ports: [
          { name: 'dns', port, protocol: 'UDP' },
          { name: 'dns-tcp', port, protocol: 'TCP' },
        ],
      },
    ],
  };
}

function desiredSlice(port: number, nodeIp: string): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: SLICE_NAME,
      namespace: DNS_SERVICE_NAMESPACE,
      labels: { 'kubernetes.io/service-name': DNS_SERVICE_NAME, 'endpointslice.kubernetes.io/managed-by': MANAGED_BY, 'k8s-app': 'kube-dns' },
    },
    addressType: nodeIp.includes(':') ? 'IPv6' : 'IPv4',
    endpoints: [{ addresses: [nodeIp], conditions: { ready: true, serving: true, terminating: false } }],
    ports: [
      { name: 'dns', port, protocol: 'UDP' },
      { name: 'dns-tcp', port, protocol: 'TCP' },
    ],
  };
}

/**
 * Creates or updates the kube-dns Service, Endpoints and EndpointSlice so the
 * DNS service address leads to `nodeIp:port`. A Service whose ClusterIP is
 * not config.clusterDns is recreated (ClusterIPs are immutable).
 */
export async function ensureDnsService(client: ApiClient, config: AgentConfig, port: number, nodeIp: string): Promise<void> {
  const services = client.resource(RESOURCES.services);
  const wanted = desiredService(config);
  const current = await getOrUndefined(services, DNS_SERVICE_NAME);
  if (current && (current.spec as { clusterIP?: string } | undefined)?.clusterIP !== config.clusterDns) {
    log.warn('kube-dns Service has another ClusterIP; recreating it', { clusterIP: (current.spec as { clusterIP?: string }).clusterIP, wanted: config.clusterDns });
    await services.delete(DNS_SERVICE_NAMESPACE, DNS_SERVICE_NAME).catch(ignoreNotFound);
    await services.create(DNS_SERVICE_NAMESPACE, wanted);
  } else if (!current) {
    await createOrIgnoreExists(services, wanted);
  } else if (JSON.stringify((current.spec as { ports?: unknown }).ports) !== JSON.stringify((wanted.spec as { ports: unknown }).ports) || (current.spec as { selector?: unknown }).selector) {
    const spec = { ...(current.spec as object), ports: (wanted.spec as { ports: unknown }).ports, selector: undefined };
    await services.update(DNS_SERVICE_NAMESPACE, { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, ...wanted.metadata.labels } }, spec });
  }
  await upsert(client.resource(RESOURCES.endpoints), desiredEndpoints(port, nodeIp));
  await upsert(client.resource(RESOURCES.endpointSlices), desiredSlice(port, nodeIp));
}

async function upsert(resource: ResourceClient, wanted: KubeObject): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await getOrUndefined(resource, wanted.metadata.name!);
    try {
      if (!current) await resource.create(DNS_SERVICE_NAMESPACE, wanted);
      else {
        const { apiVersion: _a, kind: _k, metadata, ...body } = wanted;
        await resource.update(DNS_SERVICE_NAMESPACE, { ...current, ...body, metadata: { ...current.metadata, labels: metadata.labels } });
      }
      return;
    } catch (error) {
      // Someone wrote it between our read and write: read again.
      if (attempt < 3 && error instanceof StatusError && (error.code === 409)) continue;
      throw error;
    }
  }
}

async function getOrUndefined(resource: ResourceClient, name: string): Promise<KubeObject | undefined> {
  try {
    return await resource.get(DNS_SERVICE_NAMESPACE, name);
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

async function createOrIgnoreExists(resource: ResourceClient, object: KubeObject): Promise<void> {
  try {
    await resource.create(DNS_SERVICE_NAMESPACE, object);
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 409)) throw error;
  }
}

function ignoreNotFound(error: unknown): void {
  if (!(error instanceof StatusError && error.code === 404)) throw error;
}
