/**
 * `pilote server`: a one-node cluster in the foreground — the API server on
 * embedded SQLite storage, with its certificates and kubeconfig under the data
 * directory. Prints the one line a user needs, shuts down cleanly on SIGTERM/SIGINT.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import { ApiServer } from '../apiserver/api-server.js';
import { loadOrCreatePki, writeKubeconfig } from '../apiserver/pki.js';
import { bootstrapCluster } from '../apiserver/bootstrap.js';
import { knownControllerNames, startControlPlane } from '../controllers/index.js';
import { logger } from '../util/log.js';

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

/** Starts the server with the given options and returns once it is ready. */
export async function startServer(options: {
  dataDir: string;
  port: number;
  bindAddress?: string;
  simulatedNodes?: number;
  simulatedPodRunSeconds?: number;
  controllers?: string[];
  nodeMonitorGracePeriodMs?: number;
}): Promise<RunningServer> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(join(dataDir, 'db'), { recursive: true, mode: 0o700 });
  const pki = await loadOrCreatePki(dataDir);
  const storage = SqliteStorage.open(join(dataDir, 'db', 'state.db'));
  const tokens = new Map([[pki.adminToken, { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] }]]);
  const api = new ApiServer({ storage, tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert }, tokens, port: options.port, host: options.bindAddress });
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
  let stopped: Promise<void> | undefined;
  return {
    port,
    kubeconfig,
    dataDir,
    api,
    stop() {
      stopped ??= (async () => {
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
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'bind-address': { type: 'string' },
      'simulated-nodes': { type: 'string' },
      'simulated-pod-run-seconds': { type: 'string' },
      controllers: { type: 'string' },
      'node-monitor-grace-period': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
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
  });
  log.info('ready', { port: server.port, dataDir: server.dataDir, startupMs: Date.now() - started });
  process.stdout.write(`export KUBECONFIG=${server.kubeconfig}\n`);
  const shutdown = (signal: string) => {
    log.info('shutting down', { signal });
    server.stop().then(
      () => process.exit(0),
      (error) => {
        log.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}
