/**
 * Test helpers for the workload controllers: a "fake kubelet" that marks the
 * pods of a namespace Running and Ready by writing their status (there is no
 * kubelet in controller tests), and a polling wait.
 */
import { StatusError } from '../../apimachinery/errors.js';
import { timestamp } from '../../apimachinery/meta.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { RESOURCES, type ApiClient, type ClientWatch } from '../../client/types.js';

export interface FakeKubelet {
  /** Pods it will not make ready (by name). */
  readonly holdBack: Set<string>;
  /** Makes a held-back pod ready now. */
  release(name: string): Promise<void>;
  stop(): void;
}

/** The status a kubelet reports for a running, ready pod. */
export function runningStatus(pod: KubeObject, now = new Date()): Record<string, unknown> {
  const at = timestamp(now);
  const containers = ((pod.spec as { containers?: { name: string; image: string }[] } | undefined)?.containers ?? []).map((c) => ({
    name: c.name,
    image: c.image,
    imageID: '',
    ready: true,
    restartCount: 0,
    started: true,
    state: { running: { startedAt: at } },
  }));
  return {
    phase: 'Running',
    conditions: [
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: at },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: at },
    ],
    hostIP: '10.0.0.1',
    podIP: '10.244.0.10',
    startTime: at,
    containerStatuses: containers,
  };
}

function isReady(pod: KubeObject): boolean {
  const conditions = (pod.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Marks every pod of `namespace` (optionally after `delayMs`) Running and Ready, as a kubelet would. */
export async function startFakeKubelet(client: ApiClient, namespace: string, options: { delayMs?: number } = {}): Promise<FakeKubelet> {
  const pods = client.resource(RESOURCES.pods);
  const holdBack = new Set<string>();
  let stopped = false;
  const markReady = async (pod: KubeObject): Promise<void> => {
    for (let attempt = 0; attempt < 5 && !stopped; attempt++) {
      try {
        const current = attempt === 0 ? pod : await pods.get(namespace, pod.metadata.name!);
        if (current.metadata.deletionTimestamp || isReady(current)) return;
        await pods.updateStatus(namespace, { ...current, status: runningStatus(current) });
        return;
      } catch (error) {
        if (error instanceof StatusError && (error.code === 404 || error.code === 403)) return;
        if (!(error instanceof StatusError && error.code === 409)) throw error;
      }
    }
  };
  const consider = (pod: KubeObject) => {
    if (stopped || pod.metadata.deletionTimestamp || isReady(pod) || holdBack.has(pod.metadata.name!)) return;
    const run = () => void markReady(pod).catch(() => undefined);
    if (options.delayMs) setTimeout(run, options.delayMs);
    else run();
  };
  const list = await pods.list(namespace);
  for (const pod of list.items) consider(pod);
  let watch: ClientWatch | undefined;
  const start = (resourceVersion: string) => {
    watch = pods.watch(
      namespace,
      { resourceVersion },
      (event) => {
        if (event.type === 'ADDED' || event.type === 'MODIFIED') consider(event.object);
      },
      () => {
        if (!stopped) void pods.list(namespace).then((l) => start(l.resourceVersion));
      },
    );
  };
  start(list.resourceVersion);
  return {
    holdBack,
    async release(name) {
      holdBack.delete(name);
      await markReady(await pods.get(namespace, name));
    },
    stop() {
      stopped = true;
      watch?.stop();
    },
  };
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
