/**
 * `pilote server`: a one-node cluster in the foreground — the API server on
 * embedded SQLite storage, with its certificates and kubeconfig under the data
 * directory. Prints the one line a user needs, shuts down cleanly on SIGTERM/SIGINT.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { ApiServer } from '../apiserver/api-server.js';
import { loadOrCreatePki, writeKubeconfig } from '../apiserver/pki.js';
import { bootstrapCluster } from '../apiserver/bootstrap.js';
import { knownControllerNames, startControlPlane } from '../controllers/index.js';
import { logger } from '../util/log.js';
import { stopOnSignals } from './signals.js';
import { AGENT_COMPONENTS, defaultAgentConfig, defaultNodeIp, nthAddress, type AgentComponent, type AgentConfig } from '../agent/config.js';
import type { RunningAgent } from '../agent/index.js';
import { NODE_FLAG_OPTIONS, nodeToken } from './agent.js';
import { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, kubernetesServiceIp } from '../apiserver/allocators.js';
import { LocalClient } from '../client/local-client.js';

const log = logger('server');

export const SERVER_USAGE = `Usage: pilote server [options]

Starts a one-node cluster in the foreground.

Options:
  --data-dir DIR       where state, certificates and the kubeconfig live (default: ~/.pilote, or $PILOTE_DATA_DIR)
  --port PORT          HTTPS port of the API server (default: 6443; 0 picks a free one)
  --bind-address ADDR  address to listen on (default: 0.0.0.0)
  --simulated-nodes N  register N simulated nodes that run pods without containers (scale rehearsal; default 0)
  --simulated-pod-run-seconds S
                       how long simulated pods of Jobs (restartPolicy Never/OnFailure) run before exiting 0 (default 5)
  --node-monitor-grace-period D
                       how long a node may stop renewing its Lease before it is NotReady (default 50s; e.g. 3s, 500ms)
  --controllers LIST   controllers to run, as kube-controller-manager: "*" all (default), NAME enables,
                       -NAME disables (e.g. "*,-job"); "scheduler" is one of them; "-*" runs the API server alone

Node (this machine runs pods with containerd unless --disable-agent):
  --disable-agent      no node on this machine: no containerd, kubelet, service proxy, DNS or ingress
  --disable LIST       components to leave out: dns, ingress, servicelb, proxy (comma-separated)
  --node-name NAME     name of this machine's Node (default: the hostname)
  --node-ip IP         the node's InternalIP (default: the first non-loopback IPv4 address)
  --cluster-cidr CIDR  pod range of the cluster (default 10.42.0.0/16; this node takes its first /24)
  --pod-cidr CIDR      this node's pod range (default: the first /24 of --cluster-cidr)
  --service-cidr CIDR  ClusterIP range (default 10.43.0.0/16; .1 is kubernetes, .10 cluster DNS)
  --service-node-port-range MIN-MAX
                       NodePort range (default 30000-32767)
  --bridge-name NAME   CNI bridge of the pods (default pilote0)
  --nft-table NAME     nftables table of the service proxy (default pilote)
  --kubelet-port PORT  kubelet HTTPS port for logs/exec/port-forward (default 10250; 0 picks a free one)
  --cluster-dns-port PORT
                       port the cluster DNS server listens on, behind the kube-dns Service (default 53)
  --ingress-http-port PORT, --ingress-https-port PORT
                       ports of the built-in ingress controller (default 80 and 443; 0 picks free ones)
  --image-store DIR    Pilote's image store, shared with \`pilote build\` (default: DATA_DIR/images)
  --registries FILE    registry mirrors and credentials, as k3s' registries.yaml (default: DATA_DIR/registries.yaml)
  --cleanup            on shutdown, stop every pod and remove the node's rules, bridge and containerd
                       (default: containers keep running and are re-adopted at the next start)
  -h, --help           show this help
`;

/** A running cluster, for tests and the CLI. */
export interface RunningServer {
  port: number;
  kubeconfig: string;
  dataDir: string;
  api: ApiServer;
  stop(): Promise<void>;
}

/** The node part of `pilote server`: AgentConfig overrides plus what runs beside the kubelet. */
export interface ServerAgentOptions {
  config: Partial<AgentConfig>;
  /** Components left out (dns, ingress, servicelb, proxy). */
  disable: AgentComponent[];
  dnsPort: number;
  ingressHttpPort: number;
  ingressHttpsPort: number;
  /** On stop, remove pods, rules and the bridge instead of leaving them running for the next start. */
  cleanup: boolean;
}

/** Starts the server with the given options and returns once it is ready. */
export async function startServer(options: {
  dataDir: string;
  port: number;
  bindAddress?: string;
  simulatedNodes?: number;
  simulatedPodRunSeconds?: number;
  controllers?: string[];
  nodeMonitorGracePeriodMs?: number;
  /** ClusterIP range (default 10.43.0.0/16). */
  serviceCidr?: string;
  nodePortRange?: { min: number; max: number };
  /** Runs a node on this machine (containerd, kubelet, proxy, DNS, ingress) when given. */
  agent?: ServerAgentOptions;
}): Promise<RunningServer> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, 'db'), { recursive: true, mode: 0o700 });
  const serviceCidr = options.serviceCidr ?? DEFAULT_SERVICE_CIDR;
  // Pods reach the API server by the `kubernetes` service's address, other machines by this one's.
  const pki = await loadOrCreatePki(dataDir, [kubernetesServiceIp(serviceCidr), defaultNodeIp()]);
  const storage = SqliteStorage.open(join(dataDir, 'db', 'state.db'));
  const tokens = new Map([[pki.adminToken, { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] }]]);
  const serviceRanges = { serviceCidr, nodePortRange: options.nodePortRange ?? DEFAULT_NODE_PORT_RANGE };
  const api = new ApiServer({ storage, tls: { cert: `${pki.serverCert.trimEnd()}\n${pki.caCert}`, key: pki.serverKey, ca: pki.caCert }, tokens, port: options.port, host: options.bindAddress, serviceAccountKeyFile: join(dataDir, 'tls', 'service-account.key'), serviceRanges, caKey: pki.caKey });
  const port = await api.start();
  await bootstrapCluster(api, port);
  const controlPlane = await startControlPlane(api, {
    caPem: pki.caCert,
    simulatedNodes: options.simulatedNodes,
    simulatedPodRunSeconds: options.simulatedPodRunSeconds,
    controllers: options.controllers,
    nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs,
  });
  const kubeconfig = writeKubeconfig(dataDir, pki, `https://127.0.0.1:${port}`);
  // What `pilote agent --token` takes to join another machine.
  writeFileSync(join(dataDir, 'node-token'), `${nodeToken(pki.caCert, pki.adminToken)}\n`, { mode: 0o600 });
  let agent: RunningAgent | undefined;
  if (options.agent) {
    const config = defaultAgentConfig(dataDir, pki.caCert, { serviceCidr: serviceRanges.serviceCidr, ...options.agent.config });
    try {
      // Loaded only with a node: the API server alone starts without gRPC and friends.
      const { startAgent } = await import('../agent/index.js');
      agent = await startAgent({
        client: new LocalClient(api, 'pilote-agent'),
        config,
        caKeyPem: pki.caKey,
        controlPlane: true,
        disable: options.agent.disable,
        dnsPort: options.agent.dnsPort,
        ingressHttpPort: options.agent.ingressHttpPort,
        ingressHttpsPort: options.agent.ingressHttpsPort,
      });
    } catch (error) {
      await controlPlane.stop();
      await api.stop();
      await storage.close();
      throw error;
    }
  }
  const cleanup = options.agent?.cleanup ?? false;
  let stopped: Promise<void> | undefined;
  return {
    port,
    kubeconfig,
    dataDir,
    api,
    stop() {
      stopped ??= (async () => {
        await agent?.stop({ cleanup });
        await controlPlane.stop();
        await api.stop();
        await storage.close();
      })();
      return stopped;
    },
  };
}

/** Parses and checks a --controllers list. */
function parseControllers(text: string): string[] {
  const list = text.split(',').map((s) => s.trim()).filter(Boolean);
  const known = knownControllerNames();
  for (const entry of list) {
    const name = entry.replace(/^-/, '');
    if (name !== '*' && !known.includes(name)) throw new Error(`--controllers: unknown controller "${name}"; known: ${known.join(', ')}`);
  }
  return list;
}

/** Parses "30000-32767". */
function parsePortRange(text: string): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(text.trim());
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (!match || min < 1 || max > 65535 || min > max) throw new Error(`--service-node-port-range must look like 30000-32767, got "${text}"`);
  return { min, max };
}

/** Parses a port flag (0 allowed: pick a free port). */
function parsePort(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${flag} must be a port number between 0 and 65535, got "${text}"`);
  return port;
}

/** The node options of `pilote server` from its flags. */
function agentOptionsFromFlags(values: Record<string, string | boolean | undefined>, dataDir: string): ServerAgentOptions {
  const text = (name: string) => values[name] as string | undefined;
  const disable = (text('disable') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of disable) {
    if (!(AGENT_COMPONENTS as readonly string[]).includes(name)) throw new Error(`--disable: unknown component "${name}"; known: ${AGENT_COMPONENTS.join(', ')}`);
  }
  const config: Partial<AgentConfig> = {};
  if (text('node-name')) config.nodeName = text('node-name');
  if (text('node-ip')) config.nodeIp = text('node-ip');
  if (text('cluster-cidr')) {
    config.clusterCidr = text('cluster-cidr');
    config.podCidr = `${nthAddress(config.clusterCidr!, 0)}/24`;
  }
  if (text('pod-cidr')) config.podCidr = text('pod-cidr');
  if (text('service-cidr')) {
    config.serviceCidr = text('service-cidr');
    config.clusterDns = nthAddress(config.serviceCidr!, 10);
  }
  if (text('bridge-name')) {
    if (text('bridge-name')!.length > 15) throw new Error('--bridge-name must be at most 15 characters (a Linux interface name)');
    config.bridgeName = text('bridge-name');
  }
  if (text('nft-table')) config.nftTable = text('nft-table');
  if (text('kubelet-port') !== undefined) config.kubeletPort = parsePort(text('kubelet-port'), '--kubelet-port', 10250);
  config.imageStoreDir = resolve(text('image-store') ?? join(dataDir, 'images'));
  config.registriesFile = resolve(text('registries') ?? join(dataDir, 'registries.yaml'));
  return {
    config,
    disable: disable as AgentComponent[],
    dnsPort: parsePort(text('cluster-dns-port'), '--cluster-dns-port', 53),
    ingressHttpPort: parsePort(text('ingress-http-port'), '--ingress-http-port', 80),
    ingressHttpsPort: parsePort(text('ingress-https-port'), '--ingress-https-port', 443),
    cleanup: values.cleanup === true,
  };
}

/** Parses a Go-style duration ("3s", "500ms", "2m", or plain seconds) into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) throw new Error(`${flag} must be a duration such as 3s, 500ms or 2m, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(match[1]) * unit;
}

/** CLI entry of `pilote server`. */
export async function serverCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...NODE_FLAG_OPTIONS,
      port: { type: 'string' },
      'bind-address': { type: 'string' },
      'simulated-nodes': { type: 'string' },
      'simulated-pod-run-seconds': { type: 'string' },
      controllers: { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      'disable-agent': { type: 'boolean' },
      disable: { type: 'string' },
      'cluster-cidr': { type: 'string' },
      'service-node-port-range': { type: 'string' },
      'cluster-dns-port': { type: 'string' },
      'ingress-http-port': { type: 'string' },
      'ingress-https-port': { type: 'string' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SERVER_USAGE);
    return;
  }
  const dataDir = values['data-dir'] ?? process.env.PILOTE_DATA_DIR ?? join(homedir(), '.pilote');
  const port = values.port === undefined ? 6443 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a number between 0 and 65535, got ${values.port}`);
  const started = Date.now();
  const simulatedNodes = Number(values['simulated-nodes'] ?? 0);
  if (!Number.isInteger(simulatedNodes) || simulatedNodes < 0) throw new Error(`--simulated-nodes must be a whole number, got ${values['simulated-nodes']}`);
  const simulatedPodRunSeconds = values['simulated-pod-run-seconds'] === undefined ? undefined : Number(values['simulated-pod-run-seconds']);
  if (simulatedPodRunSeconds !== undefined && !(simulatedPodRunSeconds >= 0)) {
    throw new Error(`--simulated-pod-run-seconds must be a number of seconds, got ${values['simulated-pod-run-seconds']}`);
  }
  const server = await startServer({
    dataDir,
    port,
    bindAddress: values['bind-address'],
    simulatedNodes,
    simulatedPodRunSeconds,
    controllers: values.controllers === undefined ? undefined : parseControllers(values.controllers),
    nodeMonitorGracePeriodMs: values['node-monitor-grace-period'] === undefined ? undefined : parseDuration(values['node-monitor-grace-period'], '--node-monitor-grace-period'),
    serviceCidr: values['service-cidr'],
    nodePortRange: values['service-node-port-range'] === undefined ? undefined : parsePortRange(values['service-node-port-range']),
    agent: values['disable-agent'] ? undefined : agentOptionsFromFlags(values, dataDir),
  });
  log.info('ready', { port: server.port, dataDir: server.dataDir, startupMs: Date.now() - started });
  process.stdout.write(`export KUBECONFIG=${server.kubeconfig}\n`);
  stopOnSignals(() => server.stop(), log);
}
