/**
 * Pilote's service proxy (kube-proxy on nftables). It watches Services and
 * EndpointSlices (and Endpoints, for selectorless Services without slices) and keeps `table ip <config.nftTable>` in step with them:
 *
 * - at start, the whole table is rewritten in one transaction (ours is deleted
 *   first if it exists, so a restart never duplicates a rule and traffic keeps
 *   flowing through the old rules until the new ones replace them atomically);
 * - afterwards, changes are coalesced for a few milliseconds and applied as one
 *   `nft -f -` transaction that only touches the chains and map elements of the
 *   Services that changed (see ./rules.ts).
 *
 * If a transaction fails (someone edited our table by hand), the next sync
 * rewrites the whole table again.
 */
import type { KubeObject } from '../apimachinery/types.js';
import type { AgentConfig } from '../agent/config.js';
import { Informer } from '../client/informer.js';
import { objectKey, RESOURCES, type ApiClient } from '../client/types.js';
import { logger } from '../util/log.js';
import { computeServiceRules, RuleState, slicesFromEndpoints, type ServiceRules, type TransactionSummary, type UdpFlow } from './rules.js';
import { deleteTable, deleteUdpConntrack, enableRouteLocalnet, findConntrack, ipForwardingEnabled, runNftScript } from './nftables.js';

const log = logger('service-proxy');

/** Label linking an EndpointSlice to its Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** One applied transaction. */
export interface SyncReport extends TransactionSummary {
  /** Time nft took to apply it. */
  nftMs: number;
  /** Time from reading the caches to nft returning. */
  totalMs: number;
}

/** Counters of a running proxy, for tests, benchmarks and metrics. */
export interface ServiceProxyStats {
  /** Transactions applied (the first is the full sync). */
  syncs: number;
  fullSyncs: number;
  failures: number;
  last?: SyncReport;
}

/** Options of startServiceProxy. */
export interface ServiceProxyOptions {
  client: ApiClient;
  config: AgentConfig;
  /** How long changes are gathered into one transaction (default 20 ms). */
  coalesceMs?: number;
}

/** A running service proxy. */
export interface ServiceProxy {
  /** Stops watching; with cleanup the table is deleted, without it the rules stay (traffic keeps flowing across a restart). */
  stop(options?: { cleanup?: boolean }): Promise<void>;
  /** Counters: how many transactions, and what the last one contained. */
  stats(): ServiceProxyStats;
  /** Resolves once every change the informers have seen so far is in the kernel. */
  flush(): Promise<void>;
}

/** Starts the service proxy: resolves after the first full sync of the table. */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const proxy = new ServiceProxyRunner(opts);
  await proxy.start();
  return proxy;
}

function hasSelector(service: KubeObject | undefined): boolean {
  const selector = (service?.spec as { selector?: Record<string, string> } | undefined)?.selector;
  return selector !== undefined && Object.keys(selector).length > 0;
}

class ServiceProxyRunner implements ServiceProxy {
  private readonly services: Informer;
  private readonly slices: Informer;
  /** Endpoints, read only for selectorless Services that no EndpointSlice names (see slicesFromEndpoints). */
  private readonly endpoints: Informer;
  /** Service key → its slices by slice key. */
  private readonly slicesByService = new Map<string, Map<string, KubeObject>>();
  private readonly state: RuleState;
  private readonly dirty = new Set<string>();
  private needFull = true;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** False until both caches are loaded: a full sync from half-loaded caches would briefly reject live services. */
  private cachesLoaded = false;
  private readonly counters: ServiceProxyStats = { syncs: 0, fullSyncs: 0, failures: 0 };
  private readonly conntrack = findConntrack();
  private failureDelayMs = 0;
  private flushWaiters: (() => void)[] = [];

  constructor(private readonly opts: ServiceProxyOptions) {
    this.services = new Informer(opts.client.resource(RESOURCES.services));
    this.slices = new Informer(opts.client.resource(RESOURCES.endpointSlices));
    this.endpoints = new Informer(opts.client.resource(RESOURCES.endpoints));
    this.state = new RuleState(opts.config.nftTable, opts.config.serviceCidr);
  }

  async start(): Promise<void> {
    const { config } = this.opts;
    if (!enableRouteLocalnet()) log.warn('could not set net.ipv4.conf.all.route_localnet=1: NodePorts on 127.0.0.1 will not answer');
    if (!ipForwardingEnabled()) log.warn('net.ipv4.ip_forward is 0: pods will not reach services (the CNI bridge plugin normally turns it on)');
    if (!this.conntrack) log.info('conntrack tool not installed: stale UDP conntrack entries are not cleared when endpoints go away (apt-get install conntrack)');
    this.services.addHandlers({
      onAdd: (s) => this.markService(objectKey(s)),
      onUpdate: (_old, s) => this.markService(objectKey(s)),
      onDelete: (s) => this.markService(objectKey(s)),
    });
    this.slices.addHandlers({
      onAdd: (s) => this.indexSlice(undefined, s),
      onUpdate: (old, s) => this.indexSlice(old, s),
      onDelete: (s) => this.indexSlice(s, undefined),
    });
    // Endpoints of Services with a selector have slices from the EndpointSlice controller: not our concern.
    const endpointsChanged = (e: KubeObject) => {
      if (!hasSelector(this.services.get(objectKey(e)))) this.markService(objectKey(e));
    };
    this.endpoints.addHandlers({ onAdd: endpointsChanged, onUpdate: (_old, e) => endpointsChanged(e), onDelete: endpointsChanged });
    const informers = [this.services, this.slices, this.endpoints];
    for (const informer of informers) informer.start();
    await Promise.all(informers.map((i) => i.hasSynced()));
    this.cachesLoaded = true;
    await this.syncNow();
    if (this.needFull) {
      await this.stop();
      throw new Error(`service proxy: could not write nftables table ip ${config.nftTable}; see the nft error above`);
    }
    log.info('service proxy ready', { table: config.nftTable, services: this.services.list().length, ...this.counters.last });
  }

  stats(): ServiceProxyStats {
    return { ...this.counters, last: this.counters.last && { ...this.counters.last } };
  }

  flush(): Promise<void> {
    if (this.dirty.size === 0 && !this.needFull && !this.running) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push(resolve));
  }

  async stop(options: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const informer of [this.services, this.slices, this.endpoints]) informer.stop();
    await this.running;
    for (const resolve of this.flushWaiters.splice(0)) resolve();
    if (options.cleanup) {
      await deleteTable(this.opts.config.nftTable);
      log.info('service proxy rules removed', { table: this.opts.config.nftTable });
    }
  }

  private indexSlice(before: KubeObject | undefined, after: KubeObject | undefined): void {
    if (before) {
      const key = this.serviceKeyOf(before);
      if (key) {
        const map = this.slicesByService.get(key);
        map?.delete(objectKey(before));
        if (map?.size === 0) this.slicesByService.delete(key);
        this.markService(key);
      }
    }
    if (after) {
      const key = this.serviceKeyOf(after);
      if (key) {
        let map = this.slicesByService.get(key);
        if (!map) this.slicesByService.set(key, (map = new Map()));
        map.set(objectKey(after), after);
        this.markService(key);
      }
    }
  }

  private serviceKeyOf(slice: KubeObject): string | undefined {
    const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    return name ? `${slice.metadata.namespace}/${name}` : undefined;
  }

  private markService(key: string): void {
    this.dirty.add(key);
    this.schedule(this.opts.coalesceMs ?? 20);
  }

  private schedule(delayMs: number): void {
    if (this.stopped || !this.cachesLoaded || this.timer || this.running) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.syncNow();
    }, delayMs);
  }

  private rulesFor(key: string): ServiceRules | undefined {
    const service = this.services.get(key);
    if (!service) return undefined;
    let slices = [...(this.slicesByService.get(key)?.values() ?? [])];
    if (slices.length === 0 && !hasSelector(service)) {
      const endpoints = this.endpoints.get(key);
      if (endpoints) slices = slicesFromEndpoints(endpoints);
    }
    return computeServiceRules(service, slices, { clusterCidr: this.opts.config.clusterCidr, nodeName: this.opts.config.nodeName });
  }

  /** Applies what is dirty (or everything, after a failure) in one transaction. */
  private syncNow(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.sync().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.dirty.size > 0 || this.needFull) this.schedule(this.failureDelayMs || (this.opts.coalesceMs ?? 20));
      else for (const resolve of this.flushWaiters.splice(0)) resolve();
    });
    return this.running;
  }

  private async sync(): Promise<void> {
    const started = performance.now();
    const full = this.needFull;
    const keys = full ? this.services.list().map(objectKey) : [...this.dirty];
    this.dirty.clear();
    if (!full && keys.length === 0) return;
    const changes = new Map<string, ServiceRules | undefined>();
    for (const key of keys) changes.set(key, this.rulesFor(key));
    const before = new Map(keys.map((k) => [k, this.state.applied(k)]));
    const plan = full ? this.state.planFull(changes) : this.state.planChanges(changes);
    if (!full && plan.script.trim() === '') {
      plan.commit(); // the kernel already has these rules (e.g. a Service's status changed, not its rules)
      return;
    }
    const nftStarted = performance.now();
    try {
      await runNftScript(plan.script);
    } catch (error) {
      this.counters.failures++;
      // Our view of the kernel may be wrong now: rewrite the whole table next time, after a growing pause.
      this.needFull = true;
      for (const key of keys) this.dirty.add(key);
      this.failureDelayMs = Math.min(Math.max(this.failureDelayMs * 2, 100), 5000);
      log.error('nftables sync failed; will rewrite the whole table', { table: this.opts.config.nftTable, error, full });
      return;
    }
    plan.commit();
    this.needFull = false;
    this.failureDelayMs = 0;
    this.counters.syncs++;
    if (full) this.counters.fullSyncs++;
    const done = performance.now();
    this.counters.last = { ...plan.summary, nftMs: done - nftStarted, totalMs: done - started };
    log.debug('nftables synced', { ...this.counters.last });
    if (this.conntrack && !full) await this.clearStaleUdp(before, changes);
  }

  /**
   * UDP has no connection end: entries to a removed endpoint would keep a
   * client talking to it, and entries made while a service had no endpoint
   * would bypass the new DNAT. kube-proxy deletes both; so do we.
   */
  private async clearStaleUdp(before: Map<string, ServiceRules | undefined>, after: Map<string, ServiceRules | undefined>): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const [key, next] of after) {
      const oldFlows = before.get(key)?.udp ?? [];
      const newFlows = new Map((next?.udp ?? []).map((f) => [`${f.port}`, f]));
      for (const old of oldFlows) {
        const now: UdpFlow | undefined = newFlows.get(`${old.port}`);
        const remaining = new Set(now?.endpointIps ?? []);
        for (const ip of old.endpointIps) if (!remaining.has(ip)) jobs.push(deleteUdpConntrack(this.conntrack!, { dstNat: ip, origPortDst: old.port }));
        if (old.nodePort) for (const ip of old.endpointIps) if (!remaining.has(ip)) jobs.push(deleteUdpConntrack(this.conntrack!, { dstNat: ip, origPortDst: old.nodePort }));
      }
      for (const flow of newFlows.values()) {
        const old = oldFlows.find((f) => f.port === flow.port);
        if ((old?.endpointIps.length ?? 0) === 0 && flow.endpointIps.length > 0) {
          for (const ip of flow.serviceIps) jobs.push(deleteUdpConntrack(this.conntrack!, { origDst: ip, origPortDst: flow.port }));
        }
      }
    }
    await Promise.all(jobs);
  }
}
