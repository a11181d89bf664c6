/**
 * `pilote agent --server URL --token T`: joins this machine to a cluster as a
 * node (containerd, kubelet, service proxy), talking to the remote API server
 * only. The token is the server's node token (DATA_DIR/node-token): the hash of
 * the cluster CA, so the agent can trust the server on first contact as k3s
 * agents do, and the bearer token it authenticates with.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { parseArgs } from 'node:util';
import { HttpApiClient } from '../client/http-client.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { defaultAgentConfig, nthAddress, parseCidr, type AgentConfig } from '../agent/config.js';
import { logger } from '../util/log.js';
import { stopOnSignals } from './signals.js';

const log = logger('agent');

export const AGENT_USAGE = `Usage: pilote agent --server URL --token TOKEN [options]

Joins this machine to a Pilote cluster as a node: containerd, the kubelet and the
service proxy run here; the API server, scheduler and controllers stay on the server.

Options:
  --server URL         the API server, e.g. https://192.168.1.10:6443
  --token TOKEN        the server's node token (cat DATA_DIR/node-token on the server)
  --data-dir DIR       where this node keeps containerd, pods and images (default: ~/.pilote-agent)
  --node-name NAME     name of the Node (default: the hostname)
  --node-ip IP         the node's InternalIP (default: the first non-loopback IPv4 address)
  --pod-cidr CIDR      this node's pod range (default: the first /24 of 10.42.0.0/16 no node uses)
  --service-cidr CIDR  the cluster's ClusterIP range (default 10.43.0.0/16)
  --bridge-name NAME   CNI bridge of the pods (default pilote0)
  --nft-table NAME     nftables table of the service proxy (default pilote)
  --kubelet-port PORT  kubelet HTTPS port (default 10250; 0 picks a free one)
  --image-store DIR    Pilote's image store on this machine (default: DATA_DIR/images)
  --registries FILE    registry mirrors and credentials, as k3s' registries.yaml (default: DATA_DIR/registries.yaml)
  --cleanup            on shutdown, stop every pod and remove the node's rules and bridge
  -h, --help           show this help
`;

/** The node token of a cluster: `K10<sha256 of the CA certificate (DER)>::<bearer token>`, as k3s' secure token format. */
export function nodeToken(caPem: string, bearer: string): string {
  return `K10${createHash('sha256').update(new X509Certificate(caPem).raw).digest('hex')}::${bearer}`;
}

function parseNodeToken(token: string): { caHash: string; bearer: string } {
  const match = /^K10([0-9a-f]{64})::(.+)$/.exec(token.trim());
  if (!match) throw new Error('--token must be the server\'s node token (K10…::…): run `cat ~/.pilote/node-token` on the server');
  return { caHash: match[1], bearer: match[2] };
}

/**
 * Fetches the server's CA from its TLS handshake and checks it against the
 * hash in the token: trust on first contact without a CA file to copy.
 */
async function fetchTrustedCa(server: URL, caHash: string): Promise<string> {
  const chain = await new Promise<DetailedPeerCertificate>((resolvePeer, reject) => {
    const socket = connect({ host: server.hostname, port: Number(server.port || 443), rejectUnauthorized: false, servername: 'kubernetes' }, () => {
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolvePeer(peer);
    });
    socket.once('error', (error) => reject(new Error(`cannot reach the API server at ${server.origin}: ${error.message}`)));
  });
  let cert: PeerCertificate | DetailedPeerCertificate | undefined = chain;
  for (let depth = 0; cert && depth < 5; depth++) {
    if (createHash('sha256').update(cert.raw).digest('hex') === caHash) {
      return `-----BEGIN CERTIFICATE-----\n${cert.raw.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
    }
    const issuer: DetailedPeerCertificate | undefined = (cert as DetailedPeerCertificate).issuerCertificate;
    cert = issuer && issuer !== cert ? issuer : undefined;
  }
  throw new Error(`the server at ${server.origin} does not present the CA of the token: wrong --server or --token`);
}

/** The first /24 of the cluster range that no Node has taken. */
async function freePodCidr(client: ApiClient, clusterCidr: string): Promise<string> {
  const nodes = await client.resource(RESOURCES.nodes).list(undefined);
  const taken = new Set(nodes.items.map((node) => (node.spec as { podCIDR?: string } | undefined)?.podCIDR));
  const { prefix } = parseCidr(clusterCidr);
  for (let i = 0; i < 2 ** (24 - prefix); i++) {
    const cidr = `${nthAddress(clusterCidr, i * 256)}/24`;
    if (!taken.has(cidr)) return cidr;
  }
  throw new Error(`no free /24 left in ${clusterCidr}: pass --pod-cidr`);
}

/** The node's flags, the same for `pilote agent` and the agent inside `pilote server` (parseArgs options). */
export const NODE_FLAG_OPTIONS = {
  'data-dir': { type: 'string' },
  'node-name': { type: 'string' },
  'node-ip': { type: 'string' },
  'pod-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'bridge-name': { type: 'string' },
  'nft-table': { type: 'string' },
  'kubelet-port': { type: 'string' },
  'image-store': { type: 'string' },
  registries: { type: 'string' },
  cleanup: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** CLI entry of `pilote agent`. */
export async function agentCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      ...NODE_FLAG_OPTIONS,
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(AGENT_USAGE);
    return;
  }
  if (!values.server || !values.token) throw new Error(`--server and --token are required\n\n${AGENT_USAGE}`);
  const server = new URL(values.server);
  const { caHash, bearer } = parseNodeToken(values.token);
  const caPem = await fetchTrustedCa(server, caHash);
  // The serving certificate names `kubernetes`, whatever address the agent reaches the server by.
  const client = new HttpApiClient({ server: server.origin, ca: Buffer.from(caPem), token: bearer, tlsServerName: 'kubernetes' }, { userAgent: 'pilote-agent' });
  const dataDir = resolve(values['data-dir'] ?? join(homedir(), '.pilote-agent'));
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const overrides: Partial<AgentConfig> = { dataDir };
  if (values['node-name']) overrides.nodeName = values['node-name'];
  if (values['node-ip']) overrides.nodeIp = values['node-ip'];
  if (values['service-cidr']) overrides.serviceCidr = values['service-cidr'];
  if (values['bridge-name']) overrides.bridgeName = values['bridge-name'];
  if (values['nft-table']) overrides.nftTable = values['nft-table'];
  if (values['kubelet-port'] !== undefined) overrides.kubeletPort = Number(values['kubelet-port']);
  const config = defaultAgentConfig(dataDir, caPem, overrides);
  // An agent's own data dir holds what the server keeps in DATA_DIR/agent.
  config.dataDir = dataDir;
  config.imageStoreDir = resolve(values['image-store'] ?? join(dataDir, 'images'));
  config.registriesFile = resolve(values.registries ?? join(dataDir, 'registries.yaml'));
  // The cluster DNS address is whatever the server gave the kube-dns Service.
  try {
    const dns = await client.resource(RESOURCES.services).get('kube-system', 'kube-dns');
    const ip = (dns.spec as { clusterIP?: string } | undefined)?.clusterIP;
    if (ip) config.clusterDns = ip;
  } catch {
    log.warn('no kube-dns Service on the server: pods get the default DNS address', { clusterDns: config.clusterDns });
  }
  const existing = await client.resource(RESOURCES.nodes).get(undefined, config.nodeName).catch(() => undefined);
  const existingCidr = (existing?.spec as { podCIDR?: string } | undefined)?.podCIDR;
  config.podCidr = values['pod-cidr'] ?? existingCidr ?? (await freePodCidr(client, config.clusterCidr));
  const { startAgent } = await import('../agent/index.js');
  const agent = await startAgent({ client, config, controlPlane: false, disable: [], dnsPort: 0, ingressHttpPort: 0, ingressHttpsPort: 0 });
  log.info('joined', { server: server.origin, node: config.nodeName, podCidr: config.podCidr });
  process.stdout.write(`node ${config.nodeName} joined ${server.origin}\n`);
  const cleanup = values.cleanup === true;
  stopOnSignals(async () => {
    await agent.stop({ cleanup });
    client.close();
  }, log);
}
