/**
 * What every cluster has from its first start: the four system namespaces and
 * the `kubernetes` Service in `default` (with its Endpoints). Idempotent: runs
 * on every start and only creates what is missing.
 */
import { networkInterfaces } from 'node:os';
import { StatusError } from '../apimachinery/errors.js';
import type { ApiServer } from './api-server.js';
import { kubernetesServiceIp } from './allocators.js';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

async function createIfMissing(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 409)) throw error;
  }
}

/** The first non-internal IPv4 address of this machine (what the node advertises), else 127.0.0.1. */
export function hostAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

/** Creates the system namespaces and the `kubernetes` service if they are missing. */
export async function bootstrapCluster(api: ApiServer, apiPort: number): Promise<void> {
  const namespaces = api.storeFor('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES) {
    if (!namespaces.cache.get(namespaces.key(undefined, name))) {
      await createIfMissing(() => namespaces.create(undefined, { metadata: { name } }));
    }
  }
  const services = api.storeFor('', 'services');
  if (!services.cache.get(services.key('default', 'kubernetes'))) {
    await createIfMissing(() =>
      services.create('default', {
        metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: {
          type: 'ClusterIP',
          clusterIP: kubernetesServiceIp(api.serviceRanges.serviceCidr),
          ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: apiPort }],
          sessionAffinity: 'None',
        },
      }),
    );
  }
  const endpoints = api.storeFor('', 'endpoints');
  const subsets = [{ addresses: [{ ip: hostAddress() }], ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }] }];
  const existing = endpoints.cache.get(endpoints.key('default', 'kubernetes'));
  if (!existing) {
    await createIfMissing(() => endpoints.create('default', { metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }));
  } else {
    await endpoints.update('default', 'kubernetes', (current) => ({ ...current, subsets }));
  }
  // kube-apiserver keeps an EndpointSlice beside the Endpoints: what service proxies read.
  const slices = api.storeFor('discovery.k8s.io', 'endpointslices');
  const slice = {
    metadata: { name: 'kubernetes', labels: { 'kubernetes.io/service-name': 'kubernetes', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [hostAddress()], conditions: { ready: true } }],
    ports: [{ name: 'https', port: apiPort, protocol: 'TCP' }],
  };
  if (!slices.cache.get(slices.key('default', 'kubernetes'))) {
    await createIfMissing(() => slices.create('default', slice));
  } else {
    await slices.update('default', 'kubernetes', (current) => ({ ...current, endpoints: slice.endpoints, ports: slice.ports }));
  }
}
