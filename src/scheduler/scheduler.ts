/**
 * The scheduler: watches pods and nodes, places each pending pod of its
 * schedulerName on a node, and binds it through pods/binding, as
 * kube-scheduler does.
 *
 * Why not a Controller of the reconcile pattern: scheduling is not a
 * per-key reconcile. Decisions must be taken one at a time against a cache
 * that already counts the pods chosen a moment ago (assumed pods), pods
 * that fit nowhere must wait for a cluster change rather than a timer, and
 * the order is by priority. So the scheduler keeps Kubernetes' own shape:
 * informer handlers feed a cache and a scheduling queue; one loop pops a
 * pod, decides synchronously (the cache is the snapshot), assumes it on the
 * chosen node and lets the binding write proceed asynchronously while the
 * next pod is decided.
 *
 * What users see matches kube-scheduler 1.32: the PodScheduled condition
 * (True set by the binding, False/Unschedulable with the FitError message),
 * a Normal "Scheduled" event ("Successfully assigned ns/pod to node") and
 * Warning "FailedScheduling" events with the exact message.
 */
import { performance } from 'node:perf_hooks';
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { timestamp } from '../apimachinery/meta.js';
import { labelSelectorFromSpec, type LabelSelector, type LabelRequirement, type LabelSelectorSpec } from '../apimachinery/selectors.js';
import { RESOURCES, type ApiClient, type ResourceClient } from '../client/types.js';
import type { Informer, InformerFactory } from '../client/informer.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import { logger } from '../util/log.js';
import { SchedulerCache } from './cache.js';
import { defaultScorers, SchedulingAlgorithm } from './algorithm.js';
import { truncateMessage } from './framework.js';
import { parsePod, type PodInfo } from './pod-info.js';
import { SchedulingQueue, type ClusterEvent, type QueuedPod } from './queue.js';
import { NODE_UNSCHEDULABLE } from './plugins/node-unschedulable.js';
import { NODE_NAME } from './plugins/node-name.js';
import { TAINT_TOLERATION } from './plugins/taint-toleration.js';
import { NODE_AFFINITY } from './plugins/node-affinity.js';
import { NODE_PORTS } from './plugins/node-ports.js';
import { NODE_RESOURCES_FIT } from './plugins/node-resources.js';
import { POD_TOPOLOGY_SPREAD } from './plugins/pod-topology-spread.js';
import { INTER_POD_AFFINITY } from './plugins/inter-pod-affinity.js';

const log = logger('scheduler');

export interface SchedulerOptions {
  /** Pods with this spec.schedulerName are ours (default "default-scheduler"). */
  schedulerName?: string;
  /**
   * Bindings written at once. Decisions themselves are taken one at a time
   * (Node has one thread; Kubernetes' parallelism spreads filtering over
   * goroutines instead); binding writes overlap, and the store commits them
   * in groups. Default 128.
   */
  parallelism?: number;
  /** As kube-scheduler's percentageOfNodesToScore: 0 (default) = adaptive, at least 100 nodes. */
  percentageOfNodesToScore?: number;
  /** Start the informer factory (for a scheduler that owns it). Default false: the caller starts it once. */
  startInformers?: boolean;
  /** Spread pods of the same service/ReplicaSet/StatefulSet by default (system default topology spread). Default true. */
  defaultSpreading?: boolean;
  /** Tie-breaking randomness (tests). */
  random?: () => number;
}

// Cluster events and the plugins whose rejections they may undo.
const ALL_FILTERS = new Set([NODE_UNSCHEDULABLE, NODE_NAME, TAINT_TOLERATION, NODE_AFFINITY, NODE_PORTS, NODE_RESOURCES_FIT, POD_TOPOLOGY_SPREAD, INTER_POD_AFFINITY]);
const NODE_ADD: ClusterEvent = { label: 'NodeAdd', plugins: ALL_FILTERS };
const NODE_DELETE: ClusterEvent = { label: 'NodeDelete', plugins: new Set([POD_TOPOLOGY_SPREAD]) };
const ASSIGNED_POD_ADD: ClusterEvent = { label: 'AssignedPodAdd', plugins: new Set([INTER_POD_AFFINITY, POD_TOPOLOGY_SPREAD]) };
const ASSIGNED_POD_UPDATE: ClusterEvent = { label: 'AssignedPodUpdate', plugins: new Set([INTER_POD_AFFINITY, POD_TOPOLOGY_SPREAD, NODE_RESOURCES_FIT]) };
const ASSIGNED_POD_DELETE: ClusterEvent = { label: 'AssignedPodDelete', plugins: new Set([NODE_RESOURCES_FIT, NODE_PORTS, INTER_POD_AFFINITY, POD_TOPOLOGY_SPREAD]) };
const NAMESPACE_CHANGE: ClusterEvent = { label: 'NamespaceChange', plugins: new Set([INTER_POD_AFFINITY]) };

/**
 * The longest the decision loop runs before letting I/O (watch events,
 * binding replies, other requests) through; it also yields whenever
 * `parallelism` bindings are in flight or the queue is empty. The bindings
 * issued in one slice reach the store together and share one durable
 * commit: short slices would spend the time in fsyncs (measured: 8 ms
 * slices bound half as many pods per second as 50 ms ones on this machine).
 */
const SLICE_MS = 50;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

/** The scheduling-relevant changes of a node update, as a cluster event (undefined: nothing that could help a pod). */
function nodeUpdateEvent(old: KubeObject, node: KubeObject): ClusterEvent | undefined {
  const plugins = new Set<string>();
  const spec = (o: KubeObject) => (isObject(o.spec) ? o.spec : {});
  const status = (o: KubeObject) => (isObject(o.status) ? o.status : {});
  if (json(old.metadata.labels) !== json(node.metadata.labels)) {
    for (const p of [NODE_AFFINITY, POD_TOPOLOGY_SPREAD, INTER_POD_AFFINITY, NODE_RESOURCES_FIT]) plugins.add(p);
  }
  if (json(spec(old).taints) !== json(spec(node).taints) || spec(old).unschedulable !== spec(node).unschedulable) {
    for (const p of [NODE_UNSCHEDULABLE, TAINT_TOLERATION, POD_TOPOLOGY_SPREAD, NODE_RESOURCES_FIT]) plugins.add(p);
  }
  if (json(status(old).allocatable) !== json(status(node).allocatable) || json(status(old).capacity) !== json(status(node).capacity)) {
    plugins.add(NODE_RESOURCES_FIT);
  }
  return plugins.size === 0 ? undefined : { label: 'NodeUpdate', plugins };
}

/** isPodUpdated: a change beyond status and bookkeeping fields. */
function podChanged(old: KubeObject, pod: KubeObject): boolean {
  const strip = (o: KubeObject) => {
    const { resourceVersion: _rv, generation: _g, managedFields: _m, finalizers: _f, ...meta } = o.metadata;
    return json({ meta, spec: o.spec });
  };
  return strip(old) !== strip(pod);
}

/** Places pending pods on nodes. */
export class Scheduler {
  readonly schedulerName: string;
  private readonly cache = new SchedulerCache();
  private readonly queue = new SchedulingQueue();
  private readonly algorithm: SchedulingAlgorithm;
  private readonly pods: ResourceClient;
  private readonly parallelism: number;
  private podInformer?: Informer;
  private serviceInformer?: Informer;
  private replicaSetInformer?: Informer;
  private statefulSetInformer?: Informer;
  private bindingsInFlight = 0;
  private slotWaiter?: () => void;
  private running?: Promise<void>;
  private stopped = false;
  private started = false;
  private readonly counters = { scheduled: 0, bound: 0, unschedulable: 0, errors: 0 };

  constructor(
    private readonly client: ApiClient,
    private readonly informers: InformerFactory,
    private readonly events: EventRecorder,
    private readonly options: SchedulerOptions = {},
  ) {
    this.schedulerName = options.schedulerName ?? 'default-scheduler';
    this.parallelism = Math.max(1, options.parallelism ?? 128);
    this.pods = client.resource(RESOURCES.pods);
    const spreading = options.defaultSpreading ?? true;
    this.algorithm = new SchedulingAlgorithm(this.cache, {
      percentageOfNodesToScore: options.percentageOfNodesToScore,
      random: options.random,
      scorers: defaultScorers(spreading ? (pod) => this.defaultSpreadSelector(pod) : undefined),
    });
  }

  /**
   * Registers the informer handlers, waits for the pod, node and namespace
   * caches to fill, then starts deciding. The informer factory must be
   * started (by the caller, once, before or after this call) unless
   * `startInformers` is set.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const pods = this.informers.informer(RESOURCES.pods);
    const nodes = this.informers.informer(RESOURCES.nodes);
    const namespaces = this.informers.informer(RESOURCES.namespaces);
    this.podInformer = pods;
    if (this.options.defaultSpreading ?? true) {
      this.serviceInformer = this.informers.informer(RESOURCES.services);
      this.replicaSetInformer = this.informers.informer(RESOURCES.replicaSets);
      this.statefulSetInformer = this.informers.informer(RESOURCES.statefulSets);
    }
    // Shared informers cannot drop handlers: after stop() these return at once.
    nodes.addHandlers({
      onAdd: (node) => {
        if (this.stopped) return;
        this.cache.setNode(node);
        this.queue.moveOnEvent(NODE_ADD);
      },
      onUpdate: (old, node) => {
        if (this.stopped) return;
        this.cache.setNode(node);
        const event = nodeUpdateEvent(old, node);
        if (event) this.queue.moveOnEvent(event);
      },
      onDelete: (node) => {
        if (this.stopped) return;
        this.cache.removeNode(node.metadata.name!);
        this.queue.moveOnEvent(NODE_DELETE);
      },
    });
    namespaces.addHandlers({
      onAdd: (ns) => this.cache.namespaceLabels.set(ns.metadata.name!, (ns.metadata.labels ?? {}) as Record<string, string>),
      onUpdate: (old, ns) => {
        this.cache.namespaceLabels.set(ns.metadata.name!, (ns.metadata.labels ?? {}) as Record<string, string>);
        if (json(old.metadata.labels) !== json(ns.metadata.labels)) this.queue.moveOnEvent(NAMESPACE_CHANGE);
      },
      onDelete: (ns) => this.cache.namespaceLabels.delete(ns.metadata.name!),
    });
    pods.addHandlers({
      onAdd: (pod) => this.onPod(undefined, pod),
      onUpdate: (old, pod) => this.onPod(old, pod),
      onDelete: (pod) => this.onPodDeleted(pod),
    });
    if (this.options.startInformers) this.informers.start();
    const waits = [pods, nodes, namespaces, this.serviceInformer, this.replicaSetInformer, this.statefulSetInformer];
    await Promise.all(waits.map((i) => i?.hasSynced()));
    if (this.stopped) return;
    this.running = this.run();
    log.info('scheduler started', { schedulerName: this.schedulerName, nodes: this.cache.nodes().length });
  }

  /** Stops deciding; bindings already written complete. Leaves the informers to their owner. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.close();
    this.slotWaiter?.();
    await this.running;
    if (this.options.startInformers) this.informers.stop();
  }

  /** Counters (decisions, acknowledged bindings, failed attempts, binding errors) and the number of pods queued; cheap. */
  stats(): { scheduled: number; bound: number; unschedulable: number; errors: number; pending: number; bindingsInFlight: number } {
    return { ...this.counters, pending: this.queue.size, bindingsInFlight: this.bindingsInFlight };
  }

  /** Queued pods per state (active, backoff, unschedulable, gated, in flight); walks the queue. */
  queueStats(): ReturnType<SchedulingQueue['stats']> {
    return this.queue.stats();
  }

  // ---------------------------------------------------------------- events from informers

  private responsibleFor(info: PodInfo): boolean {
    return info.schedulerName === this.schedulerName;
  }

  private onPod(old: KubeObject | undefined, pod: KubeObject): void {
    if (this.stopped) return;
    // The usual update after one of our bindings: the assumed pod becomes a bound one as it is.
    const nodeName = nodeNameOf(pod);
    if (old && nodeName !== '' && nodeNameOf(old) === '' && this.cache.confirmBinding(old.metadata.resourceVersion, pod, nodeName)) {
      this.queue.delete(pod.metadata.uid ?? '');
      this.queue.moveOnEvent(ASSIGNED_POD_ADD);
      return;
    }
    const info = parsePod(pod);
    if (info.nodeName !== '') {
      this.queue.delete(info.uid);
      if (info.terminal) {
        // A finished pod holds nothing any more (the scheduler's informer excludes Succeeded/Failed pods).
        if (this.cache.nodeOfPod(info.uid) !== undefined) {
          this.cache.removePod(info.uid);
          this.queue.moveOnEvent(ASSIGNED_POD_DELETE);
        }
        return;
      }
      const wasAssigned = old !== undefined && nodeNameOf(old) !== '';
      this.cache.setPod(info);
      if (!wasAssigned) this.queue.moveOnEvent(ASSIGNED_POD_ADD);
      else if (json(old.metadata.labels) !== json(pod.metadata.labels)) this.queue.moveOnEvent(ASSIGNED_POD_UPDATE);
      return;
    }
    if (info.terminal || !this.responsibleFor(info)) {
      this.queue.delete(info.uid);
      return;
    }
    if (old && this.queue.has(info.uid) && !podChanged(old, pod)) return;
    this.queue.add(info);
  }

  private onPodDeleted(pod: KubeObject): void {
    if (this.stopped) return;
    const uid = pod.metadata.uid ?? '';
    this.queue.delete(uid);
    if (this.cache.nodeOfPod(uid) !== undefined) {
      this.cache.removePod(uid);
      this.queue.moveOnEvent(ASSIGNED_POD_DELETE);
    }
  }

  // ---------------------------------------------------------------- the decision loop

  private async run(): Promise<void> {
    let sliceStart = performance.now();
    while (!this.stopped) {
      if (this.bindingsInFlight >= this.parallelism) {
        await new Promise<void>((resolve) => {
          this.slotWaiter = resolve;
        });
        continue;
      }
      const queued = this.queue.pop();
      if (!queued) {
        await this.queue.waitForPods();
        sliceStart = performance.now();
        continue;
      }
      try {
        this.scheduleOne(queued);
      } catch (error) {
        log.error('scheduling failed', { pod: queued.info.key, error });
        this.fail(queued, undefined, `${(error as Error).message}`, 'SchedulerError');
      }
      if (performance.now() - sliceStart > SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  }

  private scheduleOne(queued: QueuedPod): void {
    const info = queued.info;
    if (info.deleting) {
      this.queue.delete(info.uid);
      this.events.event(asPod(info.pod), 'Warning', 'FailedScheduling', `skip schedule deleting pod: ${info.namespace}/${info.name}`);
      return;
    }
    if (this.cache.isAssumed(info.uid)) {
      this.queue.done(info.uid);
      return;
    }
    const cycle = this.queue.cycle;
    const outcome = this.algorithm.schedule(info);
    if (outcome.kind === 'scheduled') {
      this.counters.scheduled++;
      this.cache.assumePod(info, outcome.node);
      this.bind(queued, outcome.node);
      return;
    }
    this.counters.unschedulable++;
    const plugins = outcome.kind === 'unschedulable' ? outcome.diagnosis.unschedulablePlugins : new Set<string>();
    this.fail(queued, plugins, outcome.message, 'Unschedulable', cycle);
  }

  private bind(queued: QueuedPod, nodeName: string): void {
    const info = queued.info;
    this.bindingsInFlight++;
    const binding: KubeObject = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: info.name, namespace: info.namespace, uid: info.uid },
      target: { kind: 'Node', name: nodeName },
    };
    this.pods.createSubresource(info.namespace, info.name, 'binding', binding).then(
      () => {
        this.counters.bound++;
        this.queue.done(info.uid);
        this.events.event(asPod(info.pod), 'Normal', 'Scheduled', `Successfully assigned ${info.namespace}/${info.name} to ${nodeName}`);
      },
      (error: Error) => {
        this.counters.errors++;
        this.cache.forgetPod(info.uid);
        // The resources it held in the cache are free again.
        this.queue.moveOnEvent(ASSIGNED_POD_DELETE);
        this.fail(queued, undefined, `running Bind plugin "DefaultBinder": ${error.message}`, 'SchedulerError');
      },
    ).finally(() => {
      this.bindingsInFlight--;
      const waiter = this.slotWaiter;
      this.slotWaiter = undefined;
      waiter?.();
    });
  }

  /**
   * handleSchedulingFailure: requeues the pod (parked when it fits nowhere,
   * back-off after an error), records a FailedScheduling event and sets
   * PodScheduled=False with the reason and message.
   */
  private fail(queued: QueuedPod, plugins: ReadonlySet<string> | undefined, message: string, reason: 'Unschedulable' | 'SchedulerError', cycle = this.queue.cycle): void {
    const info = queued.info;
    const cached = this.podInformer?.get(info.key);
    if (!cached || cached.metadata.uid !== info.uid) {
      this.queue.delete(info.uid);
      return;
    }
    const current = cached.metadata.resourceVersion === info.pod.metadata.resourceVersion ? info : parsePod(cached);
    if (current.nodeName !== '') {
      this.queue.delete(info.uid);
      return;
    }
    this.queue.requeue(info.uid, current, reason === 'Unschedulable' ? plugins ?? new Set() : undefined, cycle);
    this.events.event(asPod(info.pod), 'Warning', 'FailedScheduling', truncateMessage(message));
    this.setUnschedulableCondition(cached, reason, message);
  }

  /** Patches PodScheduled=False unless the pod already says exactly that. */
  private setUnschedulableCondition(pod: KubeObject, reason: string, message: string): void {
    const status = isObject(pod.status) ? pod.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
    const existing = conditions.find((c) => c.type === 'PodScheduled');
    if (existing && existing.status === 'False' && existing.reason === reason && existing.message === message && existing.lastProbeTime == null) return;
    const lastTransitionTime = existing && existing.status === 'False' && typeof existing.lastTransitionTime === 'string' ? existing.lastTransitionTime : timestamp();
    const condition = { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime, reason, message };
    // A JSON patch keeps `lastProbeTime: null` as Kubernetes shows it (merge patches drop nulls); the
    // test makes a concurrent change of the list fail the patch instead of overwriting another condition.
    const index = Array.isArray(status.conditions) ? status.conditions.indexOf(existing) : -1;
    const patch = !Array.isArray(status.conditions)
      ? [{ op: 'add', path: '/status/conditions', value: [condition] }]
      : existing
        ? [
            { op: 'test', path: `/status/conditions/${index}/type`, value: 'PodScheduled' },
            { op: 'replace', path: `/status/conditions/${index}`, value: condition },
          ]
        : [{ op: 'add', path: '/status/conditions/-', value: condition }];
    this.pods
      .patch(pod.metadata.namespace, pod.metadata.name!, 'json', patch, 'status')
      .catch((error: Error) => log.debug('pod condition update failed', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, error: error.message }));
  }

  // ---------------------------------------------------------------- default topology spreading

  /**
   * helper.DefaultSelector: the selectors of the services selecting the pod
   * and of its controlling ReplicaSet or StatefulSet, ANDed; undefined when
   * nothing selects it (then no default spreading applies).
   */
  private defaultSpreadSelector(pod: PodInfo): LabelSelector | undefined {
    const requirements: LabelRequirement[] = [];
    const merged: Record<string, string> = {};
    for (const svc of this.serviceInformer?.list(pod.namespace) ?? []) {
      const spec = isObject(svc.spec) ? svc.spec : {};
      if (!isObject(spec.selector)) continue;
      const selector = spec.selector as Record<string, string>;
      let matches = true;
      for (const key in selector) {
        if (pod.labels[key] !== selector[key]) {
          matches = false;
          break;
        }
      }
      if (matches) Object.assign(merged, selector);
    }
    for (const key of Object.keys(merged).sort()) requirements.push({ key, operator: '=', values: [merged[key]!] });
    const owner = pod.pod.metadata.ownerReferences?.find((r) => r.controller);
    if (owner && (owner.apiVersion === 'apps/v1') && (owner.kind === 'ReplicaSet' || owner.kind === 'StatefulSet')) {
      const informer = owner.kind === 'ReplicaSet' ? this.replicaSetInformer : this.statefulSetInformer;
      const controller = informer?.get(`${pod.namespace}/${owner.name}`);
      const spec = controller && isObject(controller.spec) ? controller.spec : undefined;
      if (spec && isObject(spec.selector)) {
        try {
          requirements.push(...labelSelectorFromSpec(spec.selector as LabelSelectorSpec).requirements);
        } catch {
          // An invalid selector adds nothing, as Kubernetes ignores its parse error.
        }
      }
    }
    if (requirements.length === 0) return undefined;
    return selectorOf(requirements);
  }
}

/** A selector over ANDed requirements (labels.Selector.Add). */
function selectorOf(requirements: readonly LabelRequirement[]): LabelSelector {
  const matches = (labels: Readonly<Record<string, string>> | undefined): boolean => {
    for (const r of requirements) {
      const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
      const value = has ? labels![r.key]! : undefined;
      switch (r.operator) {
        case 'in':
        case '=':
        case '==':
          if (!has || !r.values.includes(value!)) return false;
          break;
        case 'notin':
        case '!=':
          if (has && r.values.includes(value!)) return false;
          break;
        case 'exists':
          if (!has) return false;
          break;
        case '!':
          if (has) return false;
          break;
        default:
          return false;
      }
    }
    return true;
  };
  return {
    empty: requirements.length === 0,
    requirements,
    matches,
    requiresExactMatch: () => undefined,
    toString: () => '',
  };
}

/** Informer objects carry no TypeMeta; events need the involved object's kind. */
function asPod(pod: KubeObject): KubeObject {
  return pod.kind ? pod : { ...pod, apiVersion: 'v1', kind: 'Pod' };
}

function nodeNameOf(pod: KubeObject): string {
  const spec = isObject(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' ? spec.nodeName : '';
}
