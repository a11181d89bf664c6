/**
 * Simulated nodes (a product feature, like KWOK): N Node objects that behave
 * like nodes with a kubelet — registered with a real kubelet's status, their
 * Lease in kube-node-lease renewed, and the pods bound to them played through
 * their lifecycle (./kubelet.ts) — without containers. For scale rehearsals
 * of the control plane: 1,000 nodes and 30,000 pods cost one pod watch, one
 * node watch, one timer for every heartbeat, and writes only on transitions.
 *
 * Everything goes through the ApiClient, so the simulation runs inside the
 * server (in-process client) or joins any cluster over HTTPS (`pilote simulate`).
 */
import { StatusError } from '../apimachinery/errors.js';
import { timestamp } from '../apimachinery/meta.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';
import { Informer } from '../client/informer.js';
import { RESOURCES, type ApiClient, type ResourceClient } from '../client/types.js';
import { ClientEventRecorder } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import { NodeAddressBlock } from './addresses.js';
import { SimulatedKubelet, type SimulatedNode } from './kubelet.js';
import { Limiter, ThrottledWarnings } from './limiter.js';
import {
  NODE_ANNOTATIONS,
  NODE_LEASE_NAMESPACE,
  SIMULATED_LABEL,
  goArch,
  leaseObject,
  microTime,
  nodeLabels,
  nodeObject,
  nodeStatus,
  readyConditions,
  type NodeShape,
} from './node-template.js';
import { Reflector } from './pod-reflector.js';

const log = logger('simulated-nodes');
const warnings = new ThrottledWarnings((msg, fields) => log.warn(msg, fields));

export interface SimulatedNodesOptions {
  /** How many nodes. */
  count: number;
  /** Node names are `<prefix><i>`, i from 0 (default "pilote-sim-"). */
  namePrefix?: string;
  /** Capacity of each node (defaults: 4 CPUs, 16Gi, 100Gi of ephemeral storage, 110 pods). */
  cpu?: string;
  memory?: string;
  ephemeralStorage?: string;
  pods?: number;
  /** Extra labels and taints of every node. */
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  /** How long pods with restartPolicy Never/OnFailure run before exiting 0 (default 5; annotation pilote.dev/simulated-run-seconds overrides). */
  podRunSeconds?: number;
  /** Between admission and the sandbox (default 0: straight to Running in one write). */
  podStartSeconds?: number;
  /** How long each init container runs (default 1). */
  initContainerSeconds?: number;
  /** First restart back-off of crashing containers (default 10, doubling to 300). */
  restartBackoffSeconds?: number;
  /** Lease renewal period (default 10, the kubelet's). */
  leaseRenewSeconds?: number;
  /** Status heartbeat when nothing changed (default 300, the kubelet's nodeStatusReportFrequency). */
  nodeStatusReportSeconds?: number;
  /** Start of the fake address range: node i gets the i-th /24 after it (default 10.42.0.0). */
  podCIDRBase?: string;
  /** Record kubelet Events (Pulled, Created, Started, Killing, BackOff…; default true). */
  events?: boolean;
  /** Pod status writes in flight at most (default 32). */
  maxConcurrentWrites?: number;
}

/** A running simulation. */
export interface SimulatedNodes {
  /** Names of the simulated nodes. */
  readonly nodes: string[];
  /** Counts (for logs, benchmarks and tests). */
  stats(): { nodes: number; pods: number; running: number; pendingWrites: number; leaseRenewals: number };
  /**
   * Stops the kubelets: leases are no longer renewed (the node lifecycle
   * controller will mark the nodes NotReady and evict their pods), unless
   * `deleteNodes` also removes the nodes and their leases.
   */
  stop(options?: { deleteNodes?: boolean }): Promise<void>;
}

interface NodeEntry extends SimulatedNode {
  index: number;
  uid?: string;
  bootID: string;
  readySince: string;
  nextLeaseAt: number;
  nextStatusAt: number;
  leaseBusy: boolean;
  statusBusy: boolean;
  /** Lease renewals failed in a row. */
  failures: number;
  /** Deleted by someone else: a kubelet does not re-register until it restarts. */
  deleted: boolean;
}

/** Only the Events a simulation can afford: bounded in flight, dropped past a backlog (as client-go's broadcaster drops). */
function throttledEvents(client: ApiClient, limiter: Limiter, maxBacklog: number): ApiClient {
  return {
    resource(ref) {
      const inner = client.resource(ref);
      if (ref.group !== '' || ref.resource !== 'events') return inner;
      const limited = <T>(task: () => Promise<T>): Promise<T> => (limiter.pending >= maxBacklog ? Promise.reject(new Error('event backlog full: dropped')) : limiter.run(task));
      const wrapped: ResourceClient = {
        get: (ns, name) => inner.get(ns, name),
        list: (ns, o) => inner.list(ns, o),
        watch: (ns, o, onEvent, onError) => inner.watch(ns, o, onEvent, onError),
        create: (ns, object) => limited(() => inner.create(ns, object)),
        update: (ns, object) => limited(() => inner.update(ns, object)),
        updateStatus: (ns, object) => limited(() => inner.updateStatus(ns, object)),
        patch: (ns, name, type, patch, sub) => limited(() => inner.patch(ns, name, type, patch, sub)),
        delete: (ns, name, o) => inner.delete(ns, name, o),
        createSubresource: (ns, name, sub, body) => inner.createSubresource(ns, name, sub, body),
      };
      return wrapped;
    },
  };
}

const isCode = (error: unknown, code: number): boolean => error instanceof StatusError && error.code === code;

/**
 * Registers `options.count` simulated nodes and starts their kubelets;
 * resolves once every node is registered and the pods already bound to them
 * are known. Throws when a node of that name exists and is not simulated.
 */
export async function startSimulatedNodes(client: ApiClient, options: SimulatedNodesOptions): Promise<SimulatedNodes> {
  if (!Number.isInteger(options.count) || options.count < 0) throw new Error(`count must be a whole number, got ${options.count}`);
  const prefix = options.namePrefix ?? 'pilote-sim-';
  const shape: NodeShape = {
    cpu: options.cpu ?? '4',
    memory: options.memory ?? '16Gi',
    ephemeralStorage: options.ephemeralStorage ?? '100Gi',
    pods: options.pods ?? 110,
    arch: goArch(),
    labels: options.labels ?? {},
    taints: options.taints ?? [],
  };
  if (!Number.isInteger(shape.pods) || shape.pods < 0) throw new Error(`pods must be a whole number, got ${shape.pods}`);
  const leaseRenewMs = (options.leaseRenewSeconds ?? 10) * 1000;
  const statusReportMs = (options.nodeStatusReportSeconds ?? 300) * 1000;
  const withEvents = options.events ?? true;
  const eventsLimiter = new Limiter(8);
  const eventsClient = throttledEvents(client, eventsLimiter, 10_000);
  const heartbeats = new Limiter(16);
  const nodesClient = client.resource(RESOURCES.nodes);
  const leasesClient = client.resource(RESOURCES.leases);
  const base = options.podCIDRBase ?? '10.42.0.0';

  const entries = new Map<string, NodeEntry>();
  const started = Date.now();
  for (let i = 0; i < options.count; i++) {
    const name = `${prefix}${i}`;
    entries.set(name, {
      index: i,
      name,
      addresses: new NodeAddressBlock(base, i, shape.pods),
      podsCapacity: shape.pods,
      active: new Set(),
      events: withEvents ? new ClientEventRecorder(eventsClient, 'kubelet', name) : undefined,
      bootID: '',
      readySince: '',
      // Renewals spread evenly over one period instead of all at once.
      nextLeaseAt: started + Math.floor((i / Math.max(1, options.count)) * leaseRenewMs) + leaseRenewMs,
      nextStatusAt: started + Math.floor((i / Math.max(1, options.count)) * statusReportMs) + statusReportMs,
      leaseBusy: false,
      statusBusy: false,
      failures: 0,
      deleted: false,
    });
  }

  /** The reference a kubelet uses for its node's events (UID = node name). */
  const nodeRef = (name: string): KubeObject => ({ kind: 'Node', apiVersion: 'v1', metadata: { name, uid: name } });

  async function register(entry: NodeEntry): Promise<void> {
    const now = timestamp();
    const wanted = nodeObject(entry.name, entry.addresses.nodeIP, shape, now);
    entry.bootID = String((wanted.status as { nodeInfo: { bootID: string } }).nodeInfo.bootID);
    try {
      const created = await nodesClient.create(undefined, wanted);
      entry.uid = created.metadata.uid;
      entry.readySince = now;
    } catch (error) {
      if (!isCode(error, 409)) throw error;
      // Registered before (a restart): reconcile what a kubelet reconciles, keep the rest.
      const existing = await nodesClient.get(undefined, entry.name);
      if (existing.metadata.labels?.[SIMULATED_LABEL] !== 'true') throw new Error(`node ${entry.name} exists and is not a simulated node (no ${SIMULATED_LABEL}=true label)`);
      entry.uid = existing.metadata.uid;
      const labels = nodeLabels(entry.name, shape);
      const annotations = existing.metadata.annotations ?? {};
      const labelsDiffer = Object.entries(labels).some(([k, v]) => existing.metadata.labels?.[k] !== v);
      const annotationsDiffer = Object.entries(NODE_ANNOTATIONS).some(([k, v]) => annotations[k] !== v);
      if (labelsDiffer || annotationsDiffer) await nodesClient.patch(undefined, entry.name, 'merge', { metadata: { labels, annotations: NODE_ANNOTATIONS } });
      const conditions = isObject(existing.status) && Array.isArray(existing.status.conditions) ? existing.status.conditions.filter(isObject) : [];
      const ready = conditions.find((c) => c.type === 'Ready');
      entry.readySince = ready?.status === 'True' && typeof ready.lastTransitionTime === 'string' ? ready.lastTransitionTime : now;
      await nodesClient.patch(undefined, entry.name, 'strategic', { status: nodeStatus(entry.name, entry.addresses.nodeIP, shape, entry.bootID, now, entry.readySince) }, 'status');
    }
    try {
      await leasesClient.create(NODE_LEASE_NAMESPACE, leaseObject(entry.name, entry.uid));
    } catch (error) {
      if (!isCode(error, 409)) throw error;
      await leasesClient.patch(NODE_LEASE_NAMESPACE, entry.name, 'merge', { spec: { holderIdentity: entry.name, renewTime: microTime() } });
    }
    entry.events?.event(nodeRef(entry.name), 'Normal', 'Starting', 'Starting kubelet.');
    entry.events?.event(nodeRef(entry.name), 'Normal', 'NodeReady', `Node ${entry.name} status is now: NodeReady`);
  }

  const registration = new Limiter(32);
  await Promise.all([...entries.values()].map((entry) => registration.run(() => register(entry))));
  log.debug('nodes registered', { count: entries.size, ms: Date.now() - started });

  // ---- heartbeats: one timer for every node's lease and status ----
  let stopped = false;
  let leaseRenewals = 0;
  const nodeInformer = new Informer(nodesClient, { labelSelector: `${SIMULATED_LABEL}=true` });

  async function renewLease(entry: NodeEntry): Promise<void> {
    try {
      await leasesClient.patch(NODE_LEASE_NAMESPACE, entry.name, 'merge', { spec: { holderIdentity: entry.name, renewTime: microTime() } });
      leaseRenewals++;
    } catch (error) {
      if (isCode(error, 404)) await leasesClient.create(NODE_LEASE_NAMESPACE, leaseObject(entry.name, entry.uid)).catch(() => undefined);
      else throw error;
    }
  }

  async function reportStatus(entry: NodeEntry): Promise<void> {
    const now = timestamp();
    const node = nodeInformer.get(entry.name);
    const conditions = node && isObject(node.status) && Array.isArray(node.status.conditions) ? node.status.conditions.filter(isObject) : [];
    const ready = conditions.find((c) => c.type === 'Ready');
    // Someone (the node lifecycle controller) said otherwise: Ready again from now on.
    const transition = node !== undefined && ready?.status !== 'True';
    if (transition) entry.readySince = now;
    await nodesClient.patch(undefined, entry.name, 'strategic', { status: { conditions: readyConditions(now, entry.readySince) } }, 'status');
    if (transition) entry.events?.event(nodeRef(entry.name), 'Normal', 'NodeReady', `Node ${entry.name} status is now: NodeReady`);
  }

  const tickMs = Math.max(50, Math.min(1000, leaseRenewMs / 4));
  const ticker = setInterval(() => {
    if (stopped) return;
    const now = Date.now();
    for (const entry of entries.values()) {
      if (entry.deleted) continue;
      if (!entry.leaseBusy && now >= entry.nextLeaseAt) {
        entry.leaseBusy = true;
        entry.nextLeaseAt = now + leaseRenewMs;
        heartbeats
          .run(() => renewLease(entry))
          .then(() => (entry.failures = 0))
          .catch((error: Error) => {
            warnings.warnOnce('lease renewal failed', { node: entry.name, error: error.message });
            // Soon after a blip; no faster than the renewals themselves while the server is away.
            entry.nextLeaseAt = Date.now() + Math.min(leaseRenewMs, 1000 * 2 ** entry.failures++);
          })
          .finally(() => (entry.leaseBusy = false));
      }
      if (!entry.statusBusy && now >= entry.nextStatusAt) {
        entry.statusBusy = true;
        entry.nextStatusAt = now + statusReportMs;
        heartbeats
          .run(() => reportStatus(entry))
          .catch((error: Error) => {
            if (isCode(error, 404)) return;
            warnings.warnOnce('node status update failed', { node: entry.name, error: error.message });
            entry.nextStatusAt = Date.now() + Math.min(statusReportMs, Math.max(1000, leaseRenewMs));
          })
          .finally(() => (entry.statusBusy = false));
      }
    }
  }, tickMs);

  nodeInformer.addHandlers({
    onUpdate(_old, node) {
      const entry = entries.get(node.metadata.name ?? '');
      if (!entry || stopped || entry.deleted) return;
      const conditions = isObject(node.status) && Array.isArray(node.status.conditions) ? node.status.conditions.filter(isObject) : [];
      // The kubelet's next status update (every 10 s) would set it right: do it now, at most once a second.
      if (conditions.find((c) => c.type === 'Ready')?.status !== 'True') entry.nextStatusAt = Math.min(entry.nextStatusAt, Date.now() + 1000);
    },
    onDelete(node) {
      const entry = entries.get(node.metadata.name ?? '');
      if (!entry || stopped || entry.uid !== node.metadata.uid) return;
      entry.deleted = true;
      log.warn('simulated node deleted; it is no longer simulated', { node: entry.name });
    },
  });
  nodeInformer.start();

  // ---- pods: one watch for every simulated node ----
  const kubelet = new SimulatedKubelet(client, entries, {
    podRunSeconds: options.podRunSeconds ?? 5,
    podStartSeconds: options.podStartSeconds ?? 0,
    initContainerSeconds: options.initContainerSeconds ?? 1,
    restartBackoffSeconds: options.restartBackoffSeconds ?? 10,
    maxConcurrentWrites: options.maxConcurrentWrites ?? 32,
  });
  // Unbound pods never reach us; pods on other nodes are dropped on arrival.
  const reflector = new Reflector(client.resource(RESOURCES.pods), { fieldSelector: 'spec.nodeName!=' }, (pod) => kubelet.handles(pod), {
    upsert: (pod) => kubelet.upsert(pod),
    remove: (key) => kubelet.remove(key),
  });
  reflector.start();
  await Promise.all([reflector.synced, nodeInformer.hasSynced()]);
  log.debug('simulated nodes ready', { count: entries.size, ms: Date.now() - started });

  let stopping: Promise<void> | undefined;
  return {
    nodes: [...entries.keys()],
    stats: () => ({ nodes: entries.size, ...kubelet.stats(), leaseRenewals }),
    stop(stopOptions = {}) {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(ticker);
        reflector.stop();
        nodeInformer.stop();
        await kubelet.stop();
        await heartbeats.idle();
        if (stopOptions.deleteNodes) {
          const deletion = new Limiter(32);
          await Promise.all(
            [...entries.values()].map((entry) =>
              deletion.run(async () => {
                await leasesClient.delete(NODE_LEASE_NAMESPACE, entry.name).catch((e) => !isCode(e, 404) && log.warn('lease delete failed', { node: entry.name, error: (e as Error).message }));
                await nodesClient.delete(undefined, entry.name).catch((e) => !isCode(e, 404) && log.warn('node delete failed', { node: entry.name, error: (e as Error).message }));
              }),
            ),
          );
        }
        // Events are best effort: give the backlog a moment, never hang on it.
        await Promise.race([eventsLimiter.idle(), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      })();
      return stopping;
    },
  };
}
