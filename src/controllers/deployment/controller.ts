/**
 * The Deployment controller (Kubernetes' pkg/controller/deployment): owns
 * ReplicaSets named <deployment>-<pod-template-hash> and drives them with the
 * RollingUpdate or Recreate strategy, keeps revision annotations (a template
 * that matches an old ReplicaSet — `kubectl rollout undo` — brings that
 * ReplicaSet back with a new revision), scales proportionally while paused or
 * mid-rollout, cleans up beyond revisionHistoryLimit, and reports the status
 * and conditions `kubectl rollout status` waits on.
 */
import { labelSelectorFromSpec, type LabelSelector } from '../../apimachinery/selectors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { deepCopy, type KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { objectKey, RESOURCES } from '../../client/types.js';
import { controllerOf, type Controller, type ControllerContext, type ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { type ReplicaSetObject } from '../replicaset/controller.js';
import { recorderFor } from '../runtime/events.js';
import type { PodLike } from '../replicaset/pods.js';
import { claimObjects, recheckDeletionTimestamp } from '../replicaset/ref-manager.js';
import { rolloutRecreate } from './recreate.js';
import { rollback, rollbackTo } from './rollback.js';
import { rolloutRolling } from './rolling.js';
import { DeploymentSync, type SyncEnvironment } from './sync.js';
import type { DeploymentObject } from './util.js';

interface State {
  deployments: Informer;
  replicaSets: Informer;
  pods: Informer;
  events: EventRecorder;
}

/** The Deployment a controller reference points at, if cached with that uid. */
function resolveDeployment(state: State, namespace: string | undefined, ref: { kind: string; name: string; uid: string } | undefined): DeploymentObject | undefined {
  if (!ref || ref.kind !== 'Deployment') return undefined;
  const d = state.deployments.get(`${namespace}/${ref.name}`) as DeploymentObject | undefined;
  return d && d.metadata.uid === ref.uid ? d : undefined;
}

/** Deployments whose selector matches an orphan ReplicaSet's labels (getDeploymentsForReplicaSet). */
function deploymentsSelecting(state: State, rs: KubeObject): DeploymentObject[] {
  const out: DeploymentObject[] = [];
  for (const d of state.deployments.list(rs.metadata.namespace) as DeploymentObject[]) {
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromSpec(d.spec?.selector);
    } catch {
      continue;
    }
    if (!selector.empty && selector.matches(rs.metadata.labels)) out.push(d);
  }
  return out;
}

/** Creates the Deployment controller. Each ControllerManager gets its own state (keyed by its context). */
export function newDeploymentController(): Controller {
  const states = new WeakMap<ControllerContext, State>();

  return {
    name: 'deployment-controller',
    workers: 5,

    setup(context, enqueue) {
      const state: State = {
        deployments: context.informers.informer(RESOURCES.deployments),
        replicaSets: context.informers.informer(RESOURCES.replicaSets),
        pods: context.informers.informer(RESOURCES.pods),
        events: recorderFor(context, 'deployment-controller'),
      };
      states.set(context, state);
      const enqueueDeployment = (d: KubeObject | undefined) => {
        if (d) enqueue(objectKey(d));
      };

      state.deployments.addHandlers({ onAdd: enqueueDeployment, onUpdate: (_old, d) => enqueueDeployment(d), onDelete: enqueueDeployment });

      const replicaSetDeleted = (rs: KubeObject) => enqueueDeployment(resolveDeployment(state, rs.metadata.namespace, controllerOf(rs)));
      state.replicaSets.addHandlers({
        onAdd: (rs) => {
          if (rs.metadata.deletionTimestamp) return replicaSetDeleted(rs);
          const ref = controllerOf(rs);
          if (ref) return enqueueDeployment(resolveDeployment(state, rs.metadata.namespace, ref));
          for (const d of deploymentsSelecting(state, rs)) enqueueDeployment(d);
        },
        onUpdate: (old, rs) => {
          if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
          const ref = controllerOf(rs);
          const oldRef = controllerOf(old);
          const refChanged = !jsonEqual(ref, oldRef);
          if (refChanged && oldRef) enqueueDeployment(resolveDeployment(state, old.metadata.namespace, oldRef));
          if (ref) return enqueueDeployment(resolveDeployment(state, rs.metadata.namespace, ref));
          const labelsChanged = !jsonEqual(old.metadata.labels, rs.metadata.labels);
          if (labelsChanged || refChanged) for (const d of deploymentsSelecting(state, rs)) enqueueDeployment(d);
        },
        onDelete: replicaSetDeleted,
      });

      // A Recreate rollout waits for the old pods to be gone.
      state.pods.addHandlers({
        onDelete: (pod) => {
          const ref = controllerOf(pod);
          if (ref?.kind !== 'ReplicaSet') return;
          const rs = state.replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
          if (!rs || rs.metadata.uid !== ref.uid) return;
          const d = resolveDeployment(state, rs.metadata.namespace, controllerOf(rs));
          if (d && d.spec?.strategy?.type === 'Recreate') enqueueDeployment(d);
        },
      });
    },

    async reconcile(key, context) {
      const state = states.get(context);
      if (!state) throw new Error('deployment controller used before setup');
      return syncDeployment(state, key, context);
    },
  };
}

/** The Deployment controller. */
export const deploymentController: Controller = newDeploymentController();

/** syncDeployment: one pass over one Deployment. */
async function syncDeployment(state: State, key: string, context: ControllerContext): Promise<ReconcileResult> {
  const cached = state.deployments.get(key) as DeploymentObject | undefined;
  if (!cached) return;
  const d: DeploymentObject = { ...deepCopy(cached), apiVersion: 'apps/v1', kind: 'Deployment' };
  const env: SyncEnvironment = {
    client: context.client,
    events: state.events,
    now: () => context.now(),
    cachedReplicaSet: (namespace, name) => state.replicaSets.get(`${namespace}/${name}`) as ReplicaSetObject | undefined,
  };
  const sync = new DeploymentSync(d, env);

  const selectorSpec = d.spec.selector;
  if (selectorSpec && Object.keys(selectorSpec.matchLabels ?? {}).length === 0 && (selectorSpec.matchExpressions ?? []).length === 0) {
    sync.event('Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
    if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
      d.status = { ...(d.status ?? {}), observedGeneration: d.metadata.generation };
      await sync.updateStatus();
    }
    return;
  }

  const rsList = await replicaSetsForDeployment(state, context, d);
  const podMap = podMapForDeployment(state, d, rsList);

  if (d.metadata.deletionTimestamp) {
    const [newRS, oldRSs] = await sync.getAllReplicaSetsAndSyncRevision(rsList, false);
    await sync.syncDeploymentStatus([...oldRSs, newRS], newRS);
    return;
  }

  await sync.checkPausedConditions();
  if (d.spec.paused) {
    await sync.sync(rsList);
    return result(sync);
  }
  if (rollbackTo(sync) !== undefined) {
    await rollback(sync, rsList);
    return;
  }
  if (await sync.isScalingEvent(rsList)) {
    await sync.sync(rsList);
    return result(sync);
  }
  switch (d.spec.strategy?.type ?? 'RollingUpdate') {
    case 'Recreate':
      await rolloutRecreate(sync, rsList, podMap);
      break;
    case 'RollingUpdate':
      await rolloutRolling(sync, rsList);
      break;
    default:
      throw new Error(`unexpected deployment strategy type: ${d.spec.strategy?.type}`);
  }
  return result(sync);
}

function result(sync: DeploymentSync): ReconcileResult {
  return sync.requeueAfterMs !== undefined ? { requeueAfterMs: sync.requeueAfterMs } : undefined;
}

/** getReplicaSetsForDeployment: the namespace's ReplicaSets the Deployment controls, after adoption and release. */
async function replicaSetsForDeployment(state: State, context: ControllerContext, d: DeploymentObject): Promise<ReplicaSetObject[]> {
  let selector: LabelSelector;
  try {
    selector = labelSelectorFromSpec(d.spec.selector);
  } catch (error) {
    throw new Error(`deployment ${d.metadata.namespace}/${d.metadata.name} has invalid label selector: ${(error as Error).message}`);
  }
  const all = (state.replicaSets.list(d.metadata.namespace) as ReplicaSetObject[]).map((rs) => ({ ...deepCopy(rs), apiVersion: 'apps/v1', kind: 'ReplicaSet' }));
  return claimObjects(
    {
      owner: d,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector,
      client: context.client.resource(RESOURCES.replicaSets),
      objectKind: 'ReplicaSet',
      canAdopt: recheckDeletionTimestamp(context.client.resource(RESOURCES.deployments), d, 'Deployment'),
    },
    all,
  );
}

/** getPodMapForDeployment: the Deployment's pods grouped by the uid of their ReplicaSet. */
function podMapForDeployment(state: State, d: DeploymentObject, rsList: ReplicaSetObject[]): Map<string, PodLike[]> {
  const map = new Map<string, PodLike[]>(rsList.map((rs) => [rs.metadata.uid!, []]));
  let selector: LabelSelector;
  try {
    selector = labelSelectorFromSpec(d.spec.selector);
  } catch {
    return map;
  }
  for (const pod of state.pods.list(d.metadata.namespace) as PodLike[]) {
    if (!selector.matches(pod.metadata.labels)) continue;
    const ref = controllerOf(pod);
    if (ref && map.has(ref.uid)) map.get(ref.uid)!.push(pod);
  }
  return map;
}

