/**
 * The ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps
 * exactly spec.replicas active pods matching a ReplicaSet's selector. It
 * adopts matching orphans, releases owned pods that stopped matching, creates
 * missing pods from the template in slow-start batches (1, 2, 4…) and deletes
 * surplus pods in Kubernetes' preference order; expectations keep it from
 * acting twice on a change its informer has not shown yet. Status carries
 * replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
 * (minReadySeconds honoured) and the ReplicaFailure condition.
 */
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual, timestamp } from '../../apimachinery/meta.js';
import { labelSelectorFromSet, labelSelectorFromSpec, type LabelSelector } from '../../apimachinery/selectors.js';
import { deepCopy, type KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { objectKey, RESOURCES, splitKey } from '../../client/types.js';
import { controllerOf, type Controller, type ControllerContext, type ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { ControllerExpectations } from './expectations.js';
import { isPodActive, isPodAvailable, isPodReady, msUntilAvailable, podsToDelete, type PodLike } from './pods.js';
import { claimObjects, controllerRef, recheckDeletionTimestamp } from './ref-manager.js';
import { recorderFor } from '../runtime/events.js';

/** Most pods created or deleted in one sync (BurstReplicas). */
export const BURST_REPLICAS = 500;
/** First batch of the slow start (SlowStartInitialBatchSize). */
export const SLOW_START_INITIAL_BATCH_SIZE = 1;

/** The fields of a ReplicaSet the controller reads and writes. */
export interface ReplicaSetObject extends KubeObject {
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; finalizers?: string[] }; spec?: Record<string, unknown> };
  };
  status?: ReplicaSetStatus;
}

export interface ReplicaSetCondition {
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ReplicaSetStatus {
  replicas?: number;
  fullyLabeledReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  observedGeneration?: number;
  conditions?: ReplicaSetCondition[];
}

/** What one running instance of the controller keeps between reconciles. */
interface State {
  replicaSets: Informer;
  pods: Informer;
  expectations: ControllerExpectations;
  events: EventRecorder;
}

function podKey(pod: KubeObject): string {
  return `${pod.metadata.namespace}/${pod.metadata.name}`;
}

/** The ReplicaSet a controller reference points at, if it is in the cache with that uid. */
function resolveOwner(state: State, namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): ReplicaSetObject | undefined {
  if (!ref || ref.kind !== 'ReplicaSet') return undefined;
  const rs = state.replicaSets.get(`${namespace}/${ref.name}`) as ReplicaSetObject | undefined;
  return rs && rs.metadata.uid === ref.uid ? rs : undefined;
}

/** ReplicaSets whose selector matches a pod's labels (for orphans). */
function replicaSetsSelecting(state: State, pod: KubeObject): ReplicaSetObject[] {
  const out: ReplicaSetObject[] = [];
  for (const rs of state.replicaSets.list(pod.metadata.namespace) as ReplicaSetObject[]) {
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromSpec(rs.spec?.selector);
    } catch {
      continue;
    }
    if (!selector.empty && selector.matches(pod.metadata.labels)) out.push(rs);
  }
  return out;
}

/** Creates the ReplicaSet controller. Each ControllerManager gets its own state (keyed by its context). */
export function newReplicaSetController(): Controller {
  const states = new WeakMap<ControllerContext, State>();
  const stateOf = (context: ControllerContext): State => {
    const state = states.get(context);
    if (!state) throw new Error('replicaset controller used before setup');
    return state;
  };

  return {
    name: 'replicaset-controller',
    workers: 5,

    setup(context, enqueue) {
      const state: State = {
        replicaSets: context.informers.informer(RESOURCES.replicaSets),
        pods: context.informers.informer(RESOURCES.pods),
        expectations: new ControllerExpectations(() => context.now().getTime()),
        events: recorderFor(context, 'replicaset-controller'),
      };
      states.set(context, state);

      state.replicaSets.addHandlers({
        onAdd: (rs) => enqueue(objectKey(rs)),
        onUpdate: (old, rs) => {
          if (old.metadata.uid !== rs.metadata.uid) state.expectations.delete(objectKey(old));
          enqueue(objectKey(rs));
        },
        onDelete: (rs) => {
          state.expectations.delete(objectKey(rs));
          enqueue(objectKey(rs));
        },
      });

      const podDeleted = (pod: KubeObject) => {
        const rs = resolveOwner(state, pod.metadata.namespace, controllerOf(pod));
        if (!rs) return;
        state.expectations.deletionObserved(objectKey(rs), podKey(pod));
        enqueue(objectKey(rs));
      };
      state.pods.addHandlers({
        onAdd: (pod) => {
          if (pod.metadata.deletionTimestamp) return podDeleted(pod);
          const ref = controllerOf(pod);
          if (ref) {
            const rs = resolveOwner(state, pod.metadata.namespace, ref);
            if (!rs) return;
            state.expectations.creationObserved(objectKey(rs));
            enqueue(objectKey(rs));
            return;
          }
          for (const rs of replicaSetsSelecting(state, pod)) enqueue(objectKey(rs));
        },
        onUpdate: (old, pod) => {
          if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
          const labelsChanged = !jsonEqual(old.metadata.labels, pod.metadata.labels);
          if (pod.metadata.deletionTimestamp) {
            podDeleted(pod);
            if (labelsChanged) podDeleted(old);
            return;
          }
          const ref = controllerOf(pod);
          const oldRef = controllerOf(old);
          const refChanged = !jsonEqual(ref, oldRef);
          if (refChanged && oldRef) {
            const previous = resolveOwner(state, old.metadata.namespace, oldRef);
            if (previous) enqueue(objectKey(previous));
          }
          if (ref) {
            const rs = resolveOwner(state, pod.metadata.namespace, ref);
            if (rs) enqueue(objectKey(rs));
            return;
          }
          if (labelsChanged || refChanged) for (const rs of replicaSetsSelecting(state, pod)) enqueue(objectKey(rs));
        },
        onDelete: podDeleted,
      });
    },

    async reconcile(key, context) {
      return syncReplicaSet(stateOf(context), key, context);
    },
  };
}

/** The ReplicaSet controller. */
export const replicaSetController: Controller = newReplicaSetController();

async function syncReplicaSet(state: State, key: string, context: ControllerContext): Promise<ReconcileResult> {
  const cached = state.replicaSets.get(key) as ReplicaSetObject | undefined;
  if (!cached) {
    state.expectations.delete(key);
    return;
  }
  // Events name the object by kind: the cache may hold it without TypeMeta.
  const rs: ReplicaSetObject = { ...deepCopy(cached), apiVersion: 'apps/v1', kind: 'ReplicaSet' };
  const needsSync = state.expectations.satisfied(key);
  let selector: LabelSelector;
  try {
    selector = labelSelectorFromSpec(rs.spec?.selector);
  } catch (error) {
    context.log.warn('invalid selector', { key, error: (error as Error).message });
    return;
  }
  const { namespace } = splitKey(key);
  const active = (state.pods.list(namespace) as PodLike[]).filter(isPodActive);
  const pods = context.client.resource(RESOURCES.pods);
  const rsClient = context.client.resource(RESOURCES.replicaSets);
  const filtered = await claimObjects(
    {
      owner: rs,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'ReplicaSet',
      selector,
      client: pods,
      objectKind: 'Pod',
      canAdopt: recheckDeletionTimestamp(rsClient, rs, 'ReplicaSet'),
    },
    active,
  );

  let manageError: Error | undefined;
  if (needsSync && !rs.metadata.deletionTimestamp) {
    try {
      await manageReplicas(state, context, filtered, rs);
    } catch (error) {
      manageError = error as Error;
    }
  }

  const now = context.now();
  const status = calculateStatus(rs, filtered, manageError, now);
  const updated = await updateReplicaSetStatus(context, rs, status);
  if (manageError) throw manageError;

  // Ready pods that are not yet available: look again when the first of them will be.
  const minReady = updated.spec.minReadySeconds ?? 0;
  if (minReady > 0) {
    let soonest: number | undefined;
    for (const pod of filtered) {
      const ms = msUntilAvailable(pod, minReady, now);
      if (ms !== undefined && (soonest === undefined || ms < soonest)) soonest = ms;
    }
    if (soonest !== undefined) return { requeueAfterMs: soonest };
  }
  return;
}

/** Creates or deletes pods so that `pods` (the active, owned ones) count spec.replicas. */
async function manageReplicas(state: State, context: ControllerContext, pods: PodLike[], rs: ReplicaSetObject): Promise<void> {
  const key = objectKey(rs);
  const replicas = rs.spec.replicas ?? 1;
  let diff = pods.length - replicas;
  const client = context.client.resource(RESOURCES.pods);
  if (diff < 0) {
    diff = Math.min(-diff, BURST_REPLICAS);
    state.expectations.expectCreations(key, diff);
    context.log.debug('too few replicas', { key, need: replicas, creating: diff });
    const [successes, error] = await slowStartBatch(diff, SLOW_START_INITIAL_BATCH_SIZE, () => createPod(state, context, rs));
    // Creations never attempted will not be observed.
    for (let i = successes; i < diff; i++) state.expectations.creationObserved(key);
    if (error) throw error;
    return;
  }
  if (diff > 0) {
    diff = Math.min(diff, BURST_REPLICAS);
    context.log.debug('too many replicas', { key, need: replicas, deleting: diff });
    const related = relatedPods(state, rs);
    const victims = podsToDelete(pods, related, diff, context.now());
    state.expectations.expectDeletions(key, victims.map(podKey));
    const results = await Promise.all(
      victims.map(async (pod) => {
        try {
          await client.delete(pod.metadata.namespace, pod.metadata.name!);
          state.events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          return undefined;
        } catch (error) {
          state.expectations.deletionObserved(key, podKey(pod));
          if (error instanceof StatusError && error.code === 404) return undefined;
          state.events.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
          return error as Error;
        }
      }),
    );
    const failure = results.find((e) => e !== undefined);
    if (failure) throw failure;
  }
}

/** True when the error says the namespace is being terminated (creations there are pointless). */
function namespaceTerminating(error: unknown): boolean {
  return error instanceof StatusError && (error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/** One pod from the template (controller.GetPodFromTemplate), with its events. */
async function createPod(state: State, context: ControllerContext, rs: ReplicaSetObject): Promise<void> {
  const template = rs.spec.template ?? {};
  const labels = { ...(template.metadata?.labels ?? {}) };
  if (Object.keys(labels).length === 0) throw new Error('unable to create pods, no labels');
  const metadata: KubeObject['metadata'] = {
    generateName: `${rs.metadata.name}-`,
    namespace: rs.metadata.namespace,
    labels,
    ownerReferences: [controllerRef(rs, 'apps/v1', 'ReplicaSet')],
  };
  if (template.metadata?.annotations && Object.keys(template.metadata.annotations).length > 0) metadata.annotations = { ...template.metadata.annotations };
  if (template.metadata?.finalizers?.length) metadata.finalizers = [...template.metadata.finalizers];
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata, spec: deepCopy(template.spec ?? {}) };
  try {
    const created = await context.client.resource(RESOURCES.pods).create(rs.metadata.namespace, pod);
    state.events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
  } catch (error) {
    if (namespaceTerminating(error)) return; // every creation would fail: nothing to report
    state.events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
    throw error;
  }
}

/**
 * Calls `fn` `count` times in batches of 1, 2, 4… (each batch in parallel),
 * stopping after the first batch with a failure. Returns the successes and
 * the first error.
 */
export async function slowStartBatch(count: number, initialBatchSize: number, fn: () => Promise<void>): Promise<[number, Error | undefined]> {
  let remaining = count;
  let successes = 0;
  for (let batch = Math.min(remaining, initialBatchSize); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    successes += batch - failures.length;
    if (failures.length > 0) return [successes, failures[0]!.reason as Error];
    remaining -= batch;
  }
  return [successes, undefined];
}

/** Pods of every ReplicaSet sharing this one's controller (for the "same node" rank). */
function relatedPods(state: State, rs: ReplicaSetObject): PodLike[] {
  const owner = controllerOf(rs);
  if (!owner) return [];
  const seen = new Set<string>();
  const out: PodLike[] = [];
  for (const sibling of state.replicaSets.list(rs.metadata.namespace) as ReplicaSetObject[]) {
    if (controllerOf(sibling)?.uid !== owner.uid) continue;
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromSpec(sibling.spec?.selector);
    } catch {
      continue;
    }
    for (const pod of state.pods.list(rs.metadata.namespace) as PodLike[]) {
      const uid = pod.metadata.uid ?? '';
      if (seen.has(uid) || !selector.matches(pod.metadata.labels)) continue;
      seen.add(uid);
      out.push(pod);
    }
  }
  return out;
}

/** The status the ReplicaSet should report (calculateStatus). */
export function calculateStatus(rs: ReplicaSetObject, pods: PodLike[], manageError: Error | undefined, now: Date): ReplicaSetStatus {
  const templateLabels = labelSelectorFromSet(rs.spec.template?.metadata?.labels);
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  const minReady = rs.spec.minReadySeconds ?? 0;
  for (const pod of pods) {
    if (templateLabels.matches(pod.metadata.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReady, now)) available++;
    }
  }
  let conditions = [...(rs.status?.conditions ?? [])];
  const failure = conditions.find((c) => c.type === 'ReplicaFailure');
  if (manageError && !failure) {
    const diff = pods.length - (rs.spec.replicas ?? 1);
    const reason = diff < 0 ? 'FailedCreate' : diff > 0 ? 'FailedDelete' : '';
    conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: timestamp(now), reason, message: manageError.message });
  } else if (!manageError && failure) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  // Zero counts are omitted, as Go's omitempty does (replicas always shows).
  const status: ReplicaSetStatus = { replicas: pods.length };
  if (fullyLabeled) status.fullyLabeledReplicas = fullyLabeled;
  if (ready) status.readyReplicas = ready;
  if (available) status.availableReplicas = available;
  if (rs.status?.observedGeneration) status.observedGeneration = rs.status.observedGeneration;
  if (conditions.length) status.conditions = conditions;
  return status;
}

/** Writes the status when it changed (or the generation was not observed yet); one retry on conflict. */
async function updateReplicaSetStatus(context: ControllerContext, rs: ReplicaSetObject, status: ReplicaSetStatus): Promise<ReplicaSetObject> {
  const current = rs.status ?? {};
  const generation = rs.metadata.generation ?? 0;
  if (
    (current.replicas ?? 0) === (status.replicas ?? 0) &&
    (current.fullyLabeledReplicas ?? 0) === (status.fullyLabeledReplicas ?? 0) &&
    (current.readyReplicas ?? 0) === (status.readyReplicas ?? 0) &&
    (current.availableReplicas ?? 0) === (status.availableReplicas ?? 0) &&
    generation === (current.observedGeneration ?? 0) &&
    jsonEqual(current.conditions ?? [], status.conditions ?? [])
  ) {
    return rs;
  }
  const client = context.client.resource(RESOURCES.replicaSets);
  // The generation acted on, not a newer one read on retry.
  const newStatus: ReplicaSetStatus = { ...status };
  if (generation) newStatus.observedGeneration = generation;
  else delete newStatus.observedGeneration;
  let target: ReplicaSetObject = rs;
  for (let attempt = 0; ; attempt++) {
    const next: ReplicaSetObject = { ...deepCopy(target), status: newStatus };
    try {
      return (await client.updateStatus(rs.metadata.namespace, next)) as ReplicaSetObject;
    } catch (error) {
      if (attempt >= 1 || !(error instanceof StatusError && error.code === 409)) throw error;
      target = (await client.get(rs.metadata.namespace, rs.metadata.name!)) as ReplicaSetObject;
    }
  }
}
