/**
 * Node lifecycle (pkg/controller/nodelifecycle in Kubernetes). Every monitor
 * period it checks each node's heartbeats — the renewals of its Lease in
 * kube-node-lease, or new heartbeats in its Ready condition — and when none
 * came for the grace period it sets the node's conditions to Unknown
 * (NodeStatusUnknown, "Kubelet stopped posting node status."), records a
 * NodeNotReady event and marks the node's pods not ready. A node that is not
 * ready gets a NoExecute taint (not-ready when Ready=False, unreachable when
 * Unknown), which the taint eviction controller turns into pod evictions; the
 * taints go when the node is ready again. Tainting is rate limited per zone,
 * and stops altogether when every node of every zone is down (a control-plane
 * problem is likelier than the whole cluster failing at once).
 *
 * Independently, each node carries the NoSchedule taints its conditions call
 * for (not-ready, unreachable, memory/disk/pid pressure, network unavailable)
 * and node.kubernetes.io/unschedulable when cordoned.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { deepCopy, isObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual, timestamp } from '../../apimachinery/meta.js';
import { RESOURCES } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import {
  TAINT_DISK_PRESSURE,
  TAINT_MEMORY_PRESSURE,
  TAINT_NETWORK_UNAVAILABLE,
  TAINT_NOT_READY,
  TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
  hasTaint,
  sameTaint,
  taintsOf,
  type Taint,
} from './taints.js';
import { recorderFor } from '../runtime/events.js';

export interface NodeLifecycleOptions {
  /** How long a node may go without a heartbeat (Lease renewal or status) before it is Unknown; default 50 s (--node-monitor-grace-period of v1.32). */
  gracePeriodMs?: number;
  /** The same for a node that never posted its status; default 60 s (--node-startup-grace-period). */
  startupGracePeriodMs?: number;
  /** How often node health is checked; default 5 s (--node-monitor-period). */
  monitorPeriodMs?: number;
  /** Nodes tainted NoExecute per second in a healthy zone; default 0.1 (--node-eviction-rate). */
  evictionRateQps?: number;
  /** The same in a partially disrupted large zone; default 0.01 (--secondary-node-eviction-rate). */
  secondaryEvictionRateQps?: number;
  /** Zones with more nodes than this are large; default 50 (--large-cluster-size-threshold). */
  largeClusterThreshold?: number;
  /** Share of not-ready nodes (with more than 2) from which a zone is partially disrupted; default 0.55 (--unhealthy-zone-threshold). */
  unhealthyZoneThreshold?: number;
}

const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const MONITOR_KEY = '#monitor';
const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';
const ZONE_LABELS = ['topology.kubernetes.io/zone', 'failure-domain.beta.kubernetes.io/zone'];
const REGION_LABELS = ['topology.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/region'];
/** Conditions set to Unknown when a node stops posting status (NetworkUnavailable is the network's, not the kubelet's). */
const KUBELET_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];
/** Condition → status → the NoSchedule taint it calls for (nodeConditionToTaintKeyStatusMap). */
const CONDITION_TAINTS: Record<string, Record<string, string>> = {
  Ready: { False: TAINT_NOT_READY, Unknown: TAINT_UNREACHABLE },
  MemoryPressure: { True: TAINT_MEMORY_PRESSURE },
  DiskPressure: { True: TAINT_DISK_PRESSURE },
  NetworkUnavailable: { True: TAINT_NETWORK_UNAVAILABLE },
  PIDPressure: { True: TAINT_PID_PRESSURE },
};
const CONDITION_TAINT_KEYS = new Set(Object.values(CONDITION_TAINTS).flatMap((m) => Object.values(m)));
const UNREACHABLE_NO_EXECUTE: Taint = { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
const NOT_READY_NO_EXECUTE: Taint = { key: TAINT_NOT_READY, effect: 'NoExecute' };

interface NodeCondition {
  type: string;
  status: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

type ZoneState = 'Initial' | 'Normal' | 'PartialDisruption' | 'FullDisruption';

/** What the controller last saw of a node (nodeHealthData). Times are this controller's clock, in ms. */
interface NodeHealth {
  probeTimestamp: number;
  readyTransitionTimestamp: number;
  ready?: NodeCondition;
  leaseRenewTime?: number;
}

/** A token bucket with burst 1 (the eviction rate limiter). */
class RateLimiter {
  private tokens = 1;
  private last = 0;
  constructor(private qps: number) {}
  swap(qps: number): void {
    if (qps === this.qps) return;
    this.qps = qps;
    this.tokens = qps > 0 ? 1 : 0;
  }
  tryAccept(now: number): boolean {
    if (this.qps <= 0) return false;
    if (this.last) this.tokens = Math.min(1, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const conditionsOf = (node: KubeObject): NodeCondition[] =>
  isObject(node.status) && Array.isArray(node.status.conditions) ? (node.status.conditions as NodeCondition[]) : [];
const readyOf = (node: KubeObject): NodeCondition | undefined => conditionsOf(node).find((c) => c.type === 'Ready');

/** nodetopology.GetZoneKey: region and zone, or "" when the node has neither. */
function zoneKey(node: KubeObject): string {
  const labels = node.metadata.labels ?? {};
  const region = REGION_LABELS.map((l) => labels[l]).find(Boolean) ?? '';
  const zone = ZONE_LABELS.map((l) => labels[l]).find(Boolean) ?? '';
  return region === '' && zone === '' ? '' : `${region}:\x00:${zone}`;
}

class NodeLifecycleController implements Controller {
  readonly name = 'node-lifecycle-controller';
  readonly workers = 2;
  private readonly gracePeriodMs: number;
  private readonly startupGracePeriodMs: number;
  private readonly monitorPeriodMs: number;
  private readonly evictionQps: number;
  private readonly secondaryEvictionQps: number;
  private readonly largeClusterThreshold: number;
  private readonly unhealthyZoneThreshold: number;
  private nodes?: Informer;
  private leases?: Informer;
  private pods?: Informer;
  private recorder?: EventRecorder;
  private readonly health = new Map<string, NodeHealth>();
  private readonly zoneStates = new Map<string, ZoneState>();
  /** Per zone: nodes waiting for their NoExecute taint, and the limiter that lets them through. */
  private readonly tainters = new Map<string, { queue: Set<string>; limiter: RateLimiter }>();
  private readonly nodesToRetry = new Set<string>();

  constructor(options: NodeLifecycleOptions) {
    this.gracePeriodMs = options.gracePeriodMs ?? 50_000;
    this.startupGracePeriodMs = options.startupGracePeriodMs ?? 60_000;
    this.monitorPeriodMs = options.monitorPeriodMs ?? 5_000;
    this.evictionQps = options.evictionRateQps ?? 0.1;
    this.secondaryEvictionQps = options.secondaryEvictionRateQps ?? 0.01;
    this.largeClusterThreshold = options.largeClusterThreshold ?? 50;
    this.unhealthyZoneThreshold = options.unhealthyZoneThreshold ?? 0.55;
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.recorder = recorderFor(context, 'node-controller');
    this.nodes = context.informers.informer(RESOURCES.nodes);
    this.leases = context.informers.informer(RESOURCES.leases, { namespace: NODE_LEASE_NAMESPACE });
    this.pods = context.informers.informer(RESOURCES.pods);
    // The NoSchedule taints follow every node change; health is checked periodically.
    this.nodes.addHandlers({
      onAdd: (node) => enqueue(node.metadata.name!),
      onUpdate: (_old, node) => enqueue(node.metadata.name!),
      onDelete: (node) => {
        this.health.delete(node.metadata.name!);
        this.nodesToRetry.delete(node.metadata.name!);
        for (const tainter of this.tainters.values()) tainter.queue.delete(node.metadata.name!);
      },
    });
    enqueue(MONITOR_KEY);
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    if (key !== MONITOR_KEY) return this.noScheduleTaintingPass(key, context);
    try {
      await this.monitorNodeHealth(context);
      await this.noExecuteTaintingPass(context);
    } catch (error) {
      context.log.warn('node health pass failed', { error: (error as Error).message });
    }
    return { requeueAfterMs: this.monitorPeriodMs };
  }

  // ---- NoSchedule taints from conditions ----

  /** doNoScheduleTaintingPass: the node's condition and unschedulable NoSchedule taints, exactly. */
  private async noScheduleTaintingPass(name: string, context: ControllerContext): Promise<ReconcileResult> {
    const node = this.nodes!.get(name);
    if (!node) return;
    const wanted: Taint[] = [];
    for (const condition of conditionsOf(node)) {
      const key = CONDITION_TAINTS[condition.type]?.[condition.status];
      if (key) wanted.push({ key, effect: 'NoSchedule' });
    }
    if ((node.spec as { unschedulable?: boolean } | undefined)?.unschedulable) wanted.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
    const current = taintsOf(node).filter((t) => t.effect === 'NoSchedule' && (t.key === TAINT_UNSCHEDULABLE || CONDITION_TAINT_KEYS.has(t.key)));
    const add = wanted.filter((w) => !current.some((c) => sameTaint(c, w)));
    const remove = current.filter((c) => !wanted.some((w) => sameTaint(c, w)));
    if (add.length === 0 && remove.length === 0) return;
    await this.swapTaints(name, add, remove, context);
    return;
  }

  /** SwapNodeControllerTaint: add taints (stamped with timeAdded) and remove others, in one conditional write. */
  private async swapTaints(name: string, add: Taint[], remove: Pick<Taint, 'key' | 'effect'>[], context: ControllerContext): Promise<boolean> {
    const client = context.client.resource(RESOURCES.nodes);
    let node: KubeObject;
    try {
      node = await client.get(undefined, name);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return false;
      throw error;
    }
    const now = timestamp(context.now());
    const stamped = add.map((t) => ({ key: t.key, ...(t.value ? { value: t.value } : {}), effect: t.effect, timeAdded: now }));
    const taints = taintsOf(node).filter((t) => !remove.some((r) => sameTaint(t, r)) && !stamped.some((s) => sameTaint(t, s)));
    const next = [...taints, ...stamped];
    if (jsonEqual(next, taintsOf(node))) return true;
    const spec = { ...(isObject(node.spec) ? node.spec : {}) };
    if (next.length > 0) spec.taints = next;
    else delete spec.taints;
    await client.update(undefined, { ...node, spec });
    return true;
  }

  // ---- health ----

  /** monitorNodeHealth: one pass over every node. */
  private async monitorNodeHealth(context: ControllerContext): Promise<void> {
    const zoneToReady = new Map<string, (NodeCondition | undefined)[]>();
    const nodes = this.nodes!.list();
    for (const cached of nodes) {
      const name = cached.metadata.name!;
      let result: { observed: NodeCondition; current?: NodeCondition; node: KubeObject };
      try {
        result = await this.tryUpdateNodeHealth(cached, context);
      } catch (error) {
        context.log.warn('updating node health failed', { node: name, error: (error as Error).message });
        continue;
      }
      const { observed, current, node } = result;
      if (!(EXCLUDE_DISRUPTION_LABEL in (node.metadata.labels ?? {}))) {
        const zone = zoneKey(node);
        if (!zoneToReady.has(zone)) zoneToReady.set(zone, []);
        zoneToReady.get(zone)!.push(current);
      }
      if (!current) continue;
      try {
        await this.processTaintBasedEviction(node, observed, context);
      } catch (error) {
        context.log.warn('updating NoExecute taints failed; will retry', { node: name, error: (error as Error).message });
      }
      const needsRetry = this.nodesToRetry.has(name);
      const turnedNotReady = current.status !== 'True' && observed.status === 'True';
      if (turnedNotReady) {
        this.recorder?.event({ kind: 'Node', apiVersion: 'v1', metadata: { name, uid: node.metadata.uid } }, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
      if (turnedNotReady || (needsRetry && observed.status !== 'True')) {
        try {
          await this.markPodsNotReady(name, context);
        } catch (error) {
          context.log.warn('marking pods not ready failed; will retry', { node: name, error: (error as Error).message });
          this.nodesToRetry.add(name);
          continue;
        }
      }
      this.nodesToRetry.delete(name);
    }
    await this.handleDisruption(zoneToReady, nodes, context);
  }

  /**
   * tryUpdateNodeHealth: when the node's last heartbeat (Lease renewal or
   * Ready heartbeat, as observed by us) is older than the grace period, its
   * kubelet conditions become Unknown. Returns the Ready condition as posted
   * (observed) and as it is now (current).
   */
  private async tryUpdateNodeHealth(node: KubeObject, context: ControllerContext): Promise<{ observed: NodeCondition; current?: NodeCondition; node: KubeObject }> {
    const name = node.metadata.name!;
    const now = context.now().getTime();
    const created = Date.parse(node.metadata.creationTimestamp ?? '') || now;
    let health = this.health.get(name);
    let currentReady = readyOf(node);
    let observed: NodeCondition;
    let gracePeriod: number;
    if (!currentReady) {
      // Never posted: a stand-in Unknown condition dated at creation, and the startup grace period.
      observed = { type: 'Ready', status: 'Unknown', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: node.metadata.creationTimestamp };
      gracePeriod = this.startupGracePeriodMs;
      health = health ? { ...health, ready: undefined } : { probeTimestamp: created, readyTransitionTimestamp: created };
    } else {
      observed = { ...currentReady };
      gracePeriod = this.gracePeriodMs;
      const saved = health?.ready;
      if (!health) {
        // First sight of a node that posted status (e.g. after our restart): give it a full grace period from now.
        health = { probeTimestamp: now, readyTransitionTimestamp: now, ready: { ...currentReady } };
      } else if (!saved) {
        health = { ...health, probeTimestamp: now, readyTransitionTimestamp: now, ready: { ...currentReady } };
      } else if (saved.lastHeartbeatTime !== currentReady.lastHeartbeatTime) {
        const transition = saved.lastTransitionTime !== currentReady.lastTransitionTime ? now : health.readyTransitionTimestamp;
        health = { ...health, probeTimestamp: now, readyTransitionTimestamp: transition, ready: { ...currentReady } };
      }
    }
    // A renewed Lease is a heartbeat too.
    const lease = this.leases!.get(`${NODE_LEASE_NAMESPACE}/${name}`);
    const renewTime = Date.parse(((lease?.spec as { renewTime?: string } | undefined)?.renewTime ?? '') as string);
    if (!Number.isNaN(renewTime) && (health.leaseRenewTime === undefined || renewTime > health.leaseRenewTime)) {
      health = { ...health, leaseRenewTime: renewTime, probeTimestamp: now };
    }
    this.health.set(name, health);

    if (now <= health.probeTimestamp + gracePeriod) return { observed, current: currentReady, node };
    // From here on the node is changed: work on a copy, never on the cache's object.
    node = deepCopy(node);
    const nowStamp = timestamp(context.now());
    const status = isObject(node.status) ? node.status : (node.status = {});
    const conditions: NodeCondition[] = Array.isArray(status.conditions) ? (status.conditions as NodeCondition[]) : (status.conditions = []);
    for (const type of KUBELET_CONDITIONS) {
      const condition = conditions.find((c) => c.type === type);
      if (!condition) {
        conditions.push({
          type,
          status: 'Unknown',
          lastHeartbeatTime: node.metadata.creationTimestamp,
          lastTransitionTime: nowStamp,
          reason: 'NodeStatusNeverUpdated',
          message: 'Kubelet never posted node status.',
        });
      } else if (condition.status !== 'Unknown') {
        condition.status = 'Unknown';
        condition.reason = 'NodeStatusUnknown';
        condition.message = 'Kubelet stopped posting node status.';
        condition.lastTransitionTime = nowStamp;
      }
    }
    currentReady = conditions.find((c) => c.type === 'Ready');
    // Written only when Ready changed (it is already Unknown after the first time).
    if (jsonEqual(currentReady, observed)) return { observed, current: currentReady, node };
    const written = await context.client.resource(RESOURCES.nodes).updateStatus(undefined, node);
    this.health.set(name, { ...health, ready: readyOf(written) ? { ...readyOf(written)! } : undefined, readyTransitionTimestamp: now });
    return { observed, current: readyOf(written), node: written };
  }

  /** MarkPodsNotReady: the node's pods lose their Ready condition (their endpoints go), with a NodeNotReady event each. */
  private async markPodsNotReady(nodeName: string, context: ControllerContext): Promise<void> {
    const client = context.client.resource(RESOURCES.pods);
    const errors: string[] = [];
    for (const pod of this.pods!.list()) {
      if ((pod.spec as { nodeName?: string } | undefined)?.nodeName !== nodeName) continue;
      const conditions = isObject(pod.status) && Array.isArray(pod.status.conditions) ? (pod.status.conditions as { type: string; status: string; lastTransitionTime?: string }[]) : [];
      const ready = conditions.find((c) => c.type === 'Ready');
      if (!ready || ready.status === 'False') continue;
      const next = deepCopy(pod);
      const nextReady = (next.status as { conditions: typeof conditions }).conditions.find((c) => c.type === 'Ready')!;
      nextReady.status = 'False';
      nextReady.lastTransitionTime = timestamp(context.now());
      try {
        await client.updateStatus(pod.metadata.namespace, next);
        this.recorder?.event({ ...pod, kind: 'Pod', apiVersion: 'v1' }, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) continue;
        errors.push(`${pod.metadata.namespace}/${pod.metadata.name}: ${(error as Error).message}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
  }

  // ---- NoExecute taints ----

  private tainter(zone: string): { queue: Set<string>; limiter: RateLimiter } {
    let tainter = this.tainters.get(zone);
    if (!tainter) this.tainters.set(zone, (tainter = { queue: new Set(), limiter: new RateLimiter(this.evictionQps) }));
    return tainter;
  }

  /** processTaintBaseEviction: queue a not-ready node for its NoExecute taint; swap not-ready/unreachable at once; untaint a ready one. */
  private async processTaintBasedEviction(node: KubeObject, observed: NodeCondition, context: ControllerContext): Promise<void> {
    const name = node.metadata.name!;
    const tainter = this.tainter(zoneKey(node));
    switch (observed.status) {
      case 'False':
        if (hasTaint(node, UNREACHABLE_NO_EXECUTE)) await this.swapTaints(name, [NOT_READY_NO_EXECUTE], [UNREACHABLE_NO_EXECUTE], context);
        else if (!hasTaint(node, NOT_READY_NO_EXECUTE)) tainter.queue.add(name);
        break;
      case 'Unknown':
        if (hasTaint(node, NOT_READY_NO_EXECUTE)) await this.swapTaints(name, [UNREACHABLE_NO_EXECUTE], [NOT_READY_NO_EXECUTE], context);
        else if (!hasTaint(node, UNREACHABLE_NO_EXECUTE)) tainter.queue.add(name);
        break;
      case 'True':
        await this.markNodeAsReachable(node, context);
        break;
    }
  }

  /** markNodeAsReachable: no NoExecute node-controller taint, nothing queued. */
  private async markNodeAsReachable(node: KubeObject, context: ControllerContext): Promise<void> {
    for (const tainter of this.tainters.values()) tainter.queue.delete(node.metadata.name!);
    if (hasTaint(node, UNREACHABLE_NO_EXECUTE) || hasTaint(node, NOT_READY_NO_EXECUTE)) {
      await this.swapTaints(node.metadata.name!, [], [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE], context);
    }
  }

  /** doNoExecuteTaintingPass: taint the queued nodes the zone limiters let through, per their current Ready condition. */
  private async noExecuteTaintingPass(context: ControllerContext): Promise<void> {
    const now = context.now().getTime();
    for (const { queue, limiter } of this.tainters.values()) {
      for (const name of [...queue]) {
        const node = this.nodes!.get(name);
        const ready = node && readyOf(node);
        if (!node || !ready || ready.status === 'True') {
          queue.delete(name);
          continue;
        }
        if (!limiter.tryAccept(now)) break;
        const [add, opposite] = ready.status === 'False' ? [NOT_READY_NO_EXECUTE, UNREACHABLE_NO_EXECUTE] : [UNREACHABLE_NO_EXECUTE, NOT_READY_NO_EXECUTE];
        try {
          if (await this.swapTaints(name, [add], [opposite], context)) queue.delete(name);
        } catch (error) {
          context.log.warn('tainting node failed', { node: name, error: (error as Error).message });
        }
      }
    }
  }

  // ---- disruption ----

  /** ComputeZoneState. */
  private zoneState(readies: (NodeCondition | undefined)[]): ZoneState {
    const ready = readies.filter((c) => c?.status === 'True').length;
    const notReady = readies.length - ready;
    if (ready === 0 && notReady > 0) return 'FullDisruption';
    if (notReady > 2 && notReady / (notReady + ready) >= this.unhealthyZoneThreshold) return 'PartialDisruption';
    return 'Normal';
  }

  private setLimiterInZone(zone: string, size: number, state: ZoneState): void {
    const qps = state === 'PartialDisruption' ? (size > this.largeClusterThreshold ? this.secondaryEvictionQps : 0) : this.evictionQps;
    this.tainter(zone).limiter.swap(qps);
  }

  /** handleDisruption: per-zone eviction rates; with every zone fully down, no NoExecute taints at all. */
  private async handleDisruption(zoneToReady: Map<string, (NodeCondition | undefined)[]>, nodes: KubeObject[], context: ControllerContext): Promise<void> {
    const newStates = new Map<string, ZoneState>();
    let allAreFullyDisrupted = true;
    for (const [zone, readies] of zoneToReady) {
      const state = this.zoneState(readies);
      if (state !== 'FullDisruption') allAreFullyDisrupted = false;
      newStates.set(zone, state);
      if (!this.zoneStates.has(zone)) this.zoneStates.set(zone, 'Initial');
    }
    let allWasFullyDisrupted = true;
    for (const [zone, state] of [...this.zoneStates]) {
      if (!zoneToReady.has(zone)) {
        this.zoneStates.delete(zone);
        continue;
      }
      if (state !== 'FullDisruption') {
        allWasFullyDisrupted = false;
        break;
      }
    }
    if (allAreFullyDisrupted && allWasFullyDisrupted) return;
    if (allAreFullyDisrupted) {
      context.log.info('all nodes are not ready: entering control-plane disruption mode, no evictions');
      for (const node of nodes) {
        const current = this.nodes!.get(node.metadata.name!);
        if (current) await this.markNodeAsReachable(current, context).catch((error: Error) => context.log.warn('untainting node failed', { node: node.metadata.name, error: error.message }));
      }
      for (const zone of this.zoneStates.keys()) {
        this.tainter(zone).limiter.swap(0);
        this.zoneStates.set(zone, 'FullDisruption');
      }
      return;
    }
    if (allWasFullyDisrupted) {
      context.log.info('some nodes are ready: leaving control-plane disruption mode');
      const now = context.now().getTime();
      for (const node of nodes) {
        const health = this.health.get(node.metadata.name!);
        if (health) this.health.set(node.metadata.name!, { ...health, probeTimestamp: now, readyTransitionTimestamp: now });
      }
      for (const zone of this.zoneStates.keys()) {
        const state = newStates.get(zone) ?? 'Normal';
        this.setLimiterInZone(zone, zoneToReady.get(zone)?.length ?? 0, state);
        this.zoneStates.set(zone, state);
      }
      return;
    }
    for (const [zone, state] of this.zoneStates) {
      const next = newStates.get(zone) ?? 'Normal';
      if (state === next) continue;
      this.setLimiterInZone(zone, zoneToReady.get(zone)?.length ?? 0, next);
      this.zoneStates.set(zone, next);
    }
  }
}

/**
 * The node lifecycle controller. Keys are node names (NoSchedule taints) and
 * one internal key for the periodic health pass.
 * @param options grace periods, monitor period and eviction rates (Kubernetes' defaults when absent).
 */
export function nodeLifecycleController(options: NodeLifecycleOptions = {}): Controller {
  return new NodeLifecycleController(options);
}
