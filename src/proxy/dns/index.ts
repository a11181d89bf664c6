/** Cluster DNS: the server, the kube-dns Service, and the resolver they share. */
export { startClusterDns, type ClusterDns, type ClusterDnsOptions } from './server.js';
export { ensureDnsService, DNS_SERVICE_NAME, DNS_SERVICE_NAMESPACE } from './dns-service.js';
export { ClusterResolver, DNS_TTL } from './resolver.js';
export { ClusterView } from './cluster-view.js';
