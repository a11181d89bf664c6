/**
 * The CRI PodSandboxConfig of a pod (kuberuntime generatePodSandboxConfig):
 * metadata, hostname, log directory, DNS by dnsPolicy (pkg/kubelet/network/dns),
 * port mappings, the kubelet's labels, and the Linux security context
 * (namespaces, users, groups, sysctls).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pod, PodDNSConfig } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../agent/config.js';
import type { DNSConfig, PodSandboxConfig, PortMapping, Protocol } from './cri/types.js';
import { LABELS } from './runtime-state.js';
import { podOverheadResources, podSandboxResources } from './resources.js';
import { linuxSandboxSecurityContext, podSysctls } from './security.js';
import { podHostnameAndDomain } from './volumes.js';

/** Kubernetes' limits on resolv.conf (validation.MaxDNSSearchPaths, MaxDNSSearchListChars). */
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_CHARS = 2048;
const MAX_DNS_NAMESERVERS = 3;

/** `<dataDir>/logs/<ns>_<name>_<uid>`: where the runtime writes the pod's container logs. */
export function podLogDirectory(config: AgentConfig, pod: Pod): string {
  const meta = pod.metadata ?? {};
  return join(config.dataDir, 'logs', `${meta.namespace}_${meta.name}_${meta.uid}`);
}

/** A resolv.conf's nameservers, search list and options. */
export function parseResolvConf(text: string): Required<DNSConfig> {
  const out: Required<DNSConfig> = { servers: [], searches: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (!line) continue;
    const [keyword, ...fields] = line.split(/\s+/);
    if (keyword === 'nameserver' && fields[0]) out.servers.push(fields[0]);
    // The last search/domain line wins, as in the resolver.
    else if (keyword === 'search') out.searches = fields.filter((f) => f !== '.').map((f) => f.replace(/\.$/, ''));
    else if (keyword === 'domain' && fields[0]) out.searches = [fields[0]];
    else if (keyword === 'options') out.options.push(...fields);
  }
  return out;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/**
 * The node's resolver configuration. A loopback stub (systemd-resolved's
 * 127.0.0.53) cannot serve a pod's network namespace, so its upstream file
 * is used instead when there is one.
 */
export function hostResolvConf(path = '/etc/resolv.conf'): Required<DNSConfig> {
  const read = (p: string) => {
    try {
      return parseResolvConf(readFileSync(p, 'utf8'));
    } catch {
      return { servers: [], searches: [], options: [] };
    }
  };
  const conf = read(path);
  if (conf.servers.length > 0 && conf.servers.every(isLoopback)) {
    const upstream = read('/run/systemd/resolve/resolv.conf');
    if (upstream.servers.length > 0) return upstream;
  }
  return conf;
}

const unique = (items: string[]) => [...new Set(items)];

/** Pod options override same-named ones (mergeDNSOptions). */
function mergeDnsOptions(existing: string[], extra: PodDNSConfig['options']): string[] {
  const byName = new Map<string, string>();
  for (const option of existing) byName.set(option.split(':')[0], option);
  for (const option of extra ?? []) byName.set(option.name ?? '', option.value !== undefined ? `${option.name}:${option.value}` : (option.name ?? ''));
  return [...byName.values()];
}

/**
 * DNS of the pod by dnsPolicy: ClusterFirst (cluster DNS, search
 * `<ns>.svc.<domain> svc.<domain> <domain>` + the node's, ndots:5) — for host
 * network pods only with ClusterFirstWithHostNet —, Default (the node's
 * resolver), None (only spec.dnsConfig); spec.dnsConfig is appended in every case.
 */
export function podDnsConfig(pod: Pod, config: AgentConfig, host: Required<DNSConfig> = hostResolvConf()): DNSConfig {
  const spec = pod.spec;
  const namespace = pod.metadata?.namespace ?? 'default';
  let policy = spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'ClusterFirst' && spec?.hostNetwork) policy = 'Default';
  if (policy === 'ClusterFirstWithHostNet') policy = 'ClusterFirst';
  let dns: Required<DNSConfig>;
  switch (policy) {
    case 'None':
      dns = { servers: [], searches: [], options: [] };
      break;
    case 'Default':
      dns = { servers: [...host.servers], searches: [...host.searches], options: [...host.options] };
      break;
    default: {
      const domain = config.clusterDomain;
      dns = {
        servers: [config.clusterDns],
        searches: unique([`${namespace}.svc.${domain}`, `svc.${domain}`, domain, ...host.searches]),
        options: ['ndots:5'],
      };
    }
  }
  const extra = spec?.dnsConfig;
  if (extra) {
    dns.servers = unique([...dns.servers, ...(extra.nameservers ?? [])]);
    dns.searches = unique([...dns.searches, ...(extra.searches ?? [])]);
    dns.options = mergeDnsOptions(dns.options, extra.options);
  }
  dns.servers = dns.servers.slice(0, MAX_DNS_NAMESERVERS);
  // Keep the search list within what resolvers (and Kubernetes' validation) accept.
  const searches: string[] = [];
  let chars = 0;
  for (const s of dns.searches) {
    if (searches.length >= MAX_DNS_SEARCH_PATHS || chars + s.length + 1 > MAX_DNS_SEARCH_CHARS) break;
    searches.push(s);
    chars += s.length + 1;
  }
  dns.searches = searches;
  return dns;
}

/** Every container port as a CRI port mapping (the runtime's portmap uses those with a hostPort). */
function portMappings(pod: Pod): PortMapping[] {
  const out: PortMapping[] = [];
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      out.push({ protocol: (p.protocol ?? 'TCP') as Protocol, containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp: p.hostIP ?? '' });
    }
  }
  return out;
}

/**
 * The PodSandboxConfig for attempt `attempt` of the pod's sandbox: metadata,
 * hostname (spec.hostname or the pod name, at most 63 characters; none with
 * the host's network), log directory, DNS, port mappings, labels
 * (io.kubernetes.pod.* + the pod's), annotations and the Linux security context.
 */
export function buildSandboxConfig(pod: Pod, config: AgentConfig, attempt: number): PodSandboxConfig {
  const meta = pod.metadata ?? {};
  const hostNetwork = pod.spec?.hostNetwork === true;
  return {
    metadata: { name: meta.name, uid: meta.uid, namespace: meta.namespace, attempt },
    hostname: hostNetwork ? '' : podHostnameAndDomain(pod, config.clusterDomain).hostname,
    logDirectory: podLogDirectory(config, pod),
    dnsConfig: podDnsConfig(pod, config),
    portMappings: portMappings(pod),
    labels: { ...(meta.labels ?? {}), [LABELS.podName]: meta.name ?? '', [LABELS.podNamespace]: meta.namespace ?? '', [LABELS.podUid]: meta.uid ?? '' },
    annotations: { ...(meta.annotations ?? {}) },
    linux: {
      securityContext: linuxSandboxSecurityContext(pod),
      sysctls: podSysctls(pod),
      resources: podSandboxResources(pod),
      ...(podOverheadResources(pod) ? { overhead: podOverheadResources(pod) } : {}),
    },
  };
}
