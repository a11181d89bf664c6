/**
 * `pilote simulate`: joins a running cluster (Pilote or any Kubernetes) over
 * HTTPS with N simulated nodes — Nodes with a simulated kubelet that runs the
 * pods bound to them without containers — until SIGTERM/SIGINT.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HttpApiClient } from '../client/http-client.js';
import { startSimulatedNodes, type SimulatedNodesOptions } from '../simulated/index.js';
import { KUBELET_VERSION } from '../simulated/node-template.js';
import { logger } from '../util/log.js';
import { stopOnSignals } from './signals.js';

const log = logger('simulate');

export const SIMULATE_USAGE = `Usage: pilote simulate --nodes N [options]

Joins a running cluster with N simulated nodes: each registers a Node, renews
its Lease and plays the kubelet's part for the pods bound to it (Running with
fake IPs, Never/OnFailure pods exit after a while, deletions are confirmed),
without running containers. Stops on SIGTERM/SIGINT; the nodes then go
NotReady (or are deleted with --delete-nodes-on-exit).

Options:
  --kubeconfig FILE          cluster to join (default: $KUBECONFIG, else ~/.pilote/kubeconfig.yaml)
  --context NAME             kubeconfig context (default: its current context)
  --nodes N                  number of simulated nodes (required)
  --name-prefix P            node names are P0, P1, … (default: pilote-sim-)
  --pod-run-seconds S        how long pods with restartPolicy Never/OnFailure run before exiting 0 (default: 5)
  --cpu Q                    CPUs of each node (default: 4)
  --memory Q                 memory of each node (default: 16Gi)
  --pods N                   pods each node accepts (default: 110)
  --lease-renew-seconds S    node Lease renewal period (default: 10)
  --pod-cidr-base IP         start of the fake pod addresses: node i gets the i-th /24 (default: 10.42.0.0)
  --label KEY=VALUE          extra node label (repeatable)
  --taint KEY[=VALUE]:EFFECT node taint (repeatable)
  --no-events                do not record kubelet Events
  --delete-nodes-on-exit     delete the nodes and their leases when stopping
  -h, --help                 show this help

Pods may set annotations pilote.dev/simulated-run-seconds: "N" (any restart
policy) and pilote.dev/simulated-exit-code: "C".
`;

function number(value: string | undefined, flag: string, fallback: number | undefined, integer = false): number | undefined {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || (integer && !Number.isInteger(parsed))) throw new Error(`${flag} must be a ${integer ? 'whole ' : ''}number ≥ 0, got ${value}`);
  return parsed;
}

function parseTaint(text: string): { key: string; value?: string; effect: string } {
  const match = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text);
  if (!match) throw new Error(`--taint must look like key[=value]:NoSchedule|PreferNoSchedule|NoExecute, got ${text}`);
  return { key: match[1], ...(match[2] !== undefined ? { value: match[2] } : {}), effect: match[3] };
}

/** CLI entry of `pilote simulate`. */
export async function simulateCommand(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kubeconfig: { type: 'string' },
      context: { type: 'string' },
      nodes: { type: 'string' },
      'name-prefix': { type: 'string' },
      'pod-run-seconds': { type: 'string' },
      cpu: { type: 'string' },
      memory: { type: 'string' },
      pods: { type: 'string' },
      'lease-renew-seconds': { type: 'string' },
      'pod-cidr-base': { type: 'string' },
      label: { type: 'string', multiple: true },
      taint: { type: 'string', multiple: true },
      'no-events': { type: 'boolean' },
      'delete-nodes-on-exit': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(SIMULATE_USAGE);
    return;
  }
  if (values.nodes === undefined) throw new Error(`--nodes is required\n\n${SIMULATE_USAGE}`);
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG?.split(':')[0] ?? join(homedir(), '.pilote', 'kubeconfig.yaml');
  if (!existsSync(kubeconfig)) throw new Error(`kubeconfig ${kubeconfig} not found (use --kubeconfig)`);
  const labels: Record<string, string> = {};
  for (const label of values.label ?? []) {
    const eq = label.indexOf('=');
    if (eq <= 0) throw new Error(`--label must look like key=value, got ${label}`);
    labels[label.slice(0, eq)] = label.slice(eq + 1);
  }
  const options: SimulatedNodesOptions = {
    count: number(values.nodes, '--nodes', undefined, true)!,
    namePrefix: values['name-prefix'],
    podRunSeconds: number(values['pod-run-seconds'], '--pod-run-seconds', undefined),
    cpu: values.cpu,
    memory: values.memory,
    pods: number(values.pods, '--pods', undefined, true),
    leaseRenewSeconds: number(values['lease-renew-seconds'], '--lease-renew-seconds', undefined),
    podCIDRBase: values['pod-cidr-base'],
    labels,
    taints: (values.taint ?? []).map(parseTaint),
    events: !values['no-events'],
  };
  if (options.leaseRenewSeconds === 0) throw new Error('--lease-renew-seconds must be more than 0');

  // Requests show up as the kubelet's (its field manager is "kubelet", as a real one's).
  const client = HttpApiClient.fromKubeconfig(kubeconfig, { context: values.context, userAgent: `kubelet/${KUBELET_VERSION} (linux/${process.arch === 'x64' ? 'amd64' : process.arch}) pilote-simulate` });
  const started = Date.now();
  let simulation;
  try {
    simulation = await startSimulatedNodes(client, options);
  } catch (error) {
    client.close();
    throw error;
  }
  const nodes = simulation.nodes;
  const shown = nodes.length <= 3 ? nodes.join(', ') : `${nodes[0]} … ${nodes[nodes.length - 1]}`;
  log.info('ready', { server: client.server, nodes: nodes.length, startupMs: Date.now() - started });
  process.stdout.write(`simulating ${nodes.length} node${nodes.length === 1 ? '' : 's'} on ${client.server}: ${shown}\n`);

  stopOnSignals(
    async () => {
      await simulation.stop({ deleteNodes: values['delete-nodes-on-exit'] });
      client.close();
    },
    log,
    () => simulation.stats(),
  );
}
