/**
 * Configuration of a node agent (kubelet, containerd, service proxy): the one
 * object every node component receives. See docs/node.md for the defaults and
 * how tests give each cluster its own bridge, table and ranges.
 */
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';

/** Parts of the agent that can be left out with `--disable`. */
export const AGENT_COMPONENTS = ['dns', 'ingress', 'servicelb', 'proxy'] as const;
export type AgentComponent = (typeof AGENT_COMPONENTS)[number];

export interface AgentConfig {
  /** Name of the Node object. */
  nodeName: string;
  /** Agent state: containerd, CNI, pod volumes, logs. */
  dataDir: string;
  /** The node's InternalIP: kubelet endpoint, NodePorts, LoadBalancer address. */
  nodeIp: string;
  /** This node's pod range (Node spec.podCIDR), the CNI bridge subnet. */
  podCidr: string;
  /** Every pod of the cluster. */
  clusterCidr: string;
  /** ClusterIP range. */
  serviceCidr: string;
  /** Cluster DNS service address, written in pods' resolv.conf. */
  clusterDns: string;
  clusterDomain: string;
  /** CNI bridge interface name (at most 15 characters). */
  bridgeName: string;
  /** nftables table (family ip) of the service proxy. */
  nftTable: string;
  /** Port of the kubelet's HTTPS server; 0 picks a free one. */
  kubeletPort: number;
  /** Pilote's OCI image store, shared with `pilote build`. */
  imageStoreDir: string;
  /** Optional registries.yaml (mirrors), as k3s'. */
  registriesFile: string;
  /** PEM of the cluster CA: the kubelet serves with a certificate it signs and trusts clients it signed. */
  caPem: string;
}

/** Parses "a.b.c.d/n" into its base address (as a number) and prefix length. */
export function parseCidr(cidr: string): { base: number; prefix: number } {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr.trim());
  if (!match) throw new Error(`not an IPv4 CIDR: "${cidr}" (expected e.g. 10.42.0.0/16)`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR: "${cidr}"`);
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (address & mask) >>> 0, prefix };
}

/** The n-th address of a CIDR (0 = the network address). */
export function nthAddress(cidr: string, n: number): string {
  const { base } = parseCidr(cidr);
  const value = base + n;
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

/** The first IPv4 address of a non-internal interface, else 127.0.0.1. */
export function defaultNodeIp(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

/** An AgentConfig with the documented defaults, for a server data directory. */
export function defaultAgentConfig(serverDataDir: string, caPem: string, overrides: Partial<AgentConfig> = {}): AgentConfig {
  const clusterCidr = overrides.clusterCidr ?? '10.42.0.0/16';
  const serviceCidr = overrides.serviceCidr ?? '10.43.0.0/16';
  return {
    nodeName: hostname().toLowerCase(),
    dataDir: join(serverDataDir, 'agent'),
    nodeIp: defaultNodeIp(),
    podCidr: `${nthAddress(clusterCidr, 0)}/24`,
    clusterCidr,
    serviceCidr,
    clusterDns: nthAddress(serviceCidr, 10),
    clusterDomain: 'cluster.local',
    bridgeName: 'pilote0',
    nftTable: 'pilote',
    kubeletPort: 10250,
    imageStoreDir: join(serverDataDir, 'images'),
    registriesFile: join(serverDataDir, 'registries.yaml'),
    caPem,
    ...overrides,
  };
}
