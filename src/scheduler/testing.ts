/**
 * Helpers for scheduler tests: an in-process API server with a running
 * scheduler, hand-made Ready nodes and pods, and waits with deadlines.
 */
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { InformerFactory } from '../client/informer.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { ClientEventRecorder } from '../controllers/runtime/events.js';
import { Scheduler, type SchedulerOptions } from './scheduler.js';

/** What a test gets: the cluster's client and its scheduler. */
export interface SchedulerHarness {
  client: ApiClient;
  scheduler: Scheduler;
  informers: InformerFactory;
  stop(): Promise<void>;
}

/** Starts a scheduler (with its own informers) against a client. */
export async function startScheduler(client: ApiClient, options: SchedulerOptions = {}): Promise<SchedulerHarness> {
  const informers = new InformerFactory(client);
  const scheduler = new Scheduler(client, informers, new ClientEventRecorder(client, options.schedulerName ?? 'default-scheduler'), options);
  const started = scheduler.start();
  informers.start();
  await started;
  return {
    client,
    scheduler,
    informers,
    async stop() {
      await scheduler.stop();
      informers.stop();
    },
  };
}

export interface NodeSpec {
  cpu?: string;
  memory?: string;
  pods?: string;
  ephemeralStorage?: string;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  images?: { names: string[]; sizeBytes: number }[];
  extra?: Record<string, string>;
}

/** A Ready node with the given allocatable resources (4 cpu, 8Gi, 110 pods by default). */
export function nodeObject(name: string, spec: NodeSpec = {}): KubeObject {
  const resources = {
    cpu: spec.cpu ?? '4',
    memory: spec.memory ?? '8Gi',
    pods: spec.pods ?? '110',
    'ephemeral-storage': spec.ephemeralStorage ?? '100Gi',
    ...spec.extra,
  };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...spec.labels } },
    spec: { ...(spec.taints ? { taints: spec.taints } : {}), ...(spec.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: resources,
      allocatable: resources,
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }],
      ...(spec.images ? { images: spec.images } : {}),
    },
  };
}

export interface PodSpecOptions {
  cpu?: string;
  memory?: string;
  labels?: Record<string, string>;
  /** Merged into spec. */
  spec?: Record<string, unknown>;
  /** Merged into the first container. */
  container?: Record<string, unknown>;
}

/** A one-container pod requesting the given resources. */
export function podObject(name: string, options: PodSpecOptions = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (options.cpu) requests.cpu = options.cpu;
  if (options.memory) requests.memory = options.memory;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: options.labels ?? {} },
    spec: {
      containers: [{ name: 'app', image: 'registry.example/app:1', resources: { requests }, ...options.container }],
      ...options.spec,
    },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The node a pod is bound to, once it is. */
export async function waitForBinding(client: ApiClient, namespace: string, name: string, timeoutMs = 10_000): Promise<string> {
  return eventually(async () => {
    const pod = await client.resource(RESOURCES.pods).get(namespace, name);
    const spec = isObject(pod.spec) ? pod.spec : {};
    return typeof spec.nodeName === 'string' && spec.nodeName ? spec.nodeName : undefined;
  }, `pod ${namespace}/${name} to be bound`, timeoutMs);
}

/** The pod's PodScheduled condition, once `accept` likes it. */
export async function waitForScheduledCondition(
  client: ApiClient,
  namespace: string,
  name: string,
  accept: (condition: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  return eventually(async () => {
    const pod = await client.resource(RESOURCES.pods).get(namespace, name);
    const status = isObject(pod.status) ? pod.status : {};
    const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObject) : [];
    const condition = conditions.find((c) => c.type === 'PodScheduled');
    return condition && accept(condition) ? condition : undefined;
  }, `PodScheduled condition of ${namespace}/${name}`);
}

/** The events recorded about a pod (core/v1 Events in its namespace). */
export async function podEvents(client: ApiClient, namespace: string, name: string): Promise<KubeObject[]> {
  const list = await client.resource(RESOURCES.events).list(namespace);
  return list.items.filter((e) => isObject(e.involvedObject) && e.involvedObject.name === name && e.involvedObject.kind === 'Pod');
}

/** Waits for an event of `reason` on the pod and returns it. */
export async function waitForEvent(client: ApiClient, namespace: string, name: string, reason: string, message?: string): Promise<KubeObject> {
  return eventually(async () => {
    const events = await podEvents(client, namespace, name);
    return events.find((e) => e.reason === reason && (message === undefined || e.message === message));
  }, `${reason} event on ${namespace}/${name}${message ? ` saying "${message}"` : ''}`);
}
