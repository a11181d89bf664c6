/**
 * Rollout status and the Progressing condition (Kubernetes'
 * pkg/controller/deployment/progress.go): NewReplicaSetAvailable once the
 * rollout is complete, ReplicaSetUpdated while it makes progress,
 * ProgressDeadlineExceeded when it made none for progressDeadlineSeconds; a
 * ReplicaSet's ReplicaFailure is raised to the Deployment.
 */
import type { ReplicaSetObject } from '../replicaset/controller.js';
import type { DeploymentSync } from './sync.js';
import {
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  getCondition,
  hasProgressDeadline,
  NEW_RS_AVAILABLE_REASON,
  newCondition,
  removeCondition,
  REPLICA_SET_UPDATED_REASON,
  setCondition,
  statusEqual,
  TIMED_OUT_REASON,
  type DeploymentCondition,
  type DeploymentStatus,
} from './util.js';

/** syncRolloutStatus: status plus the Progressing and ReplicaFailure conditions; requeues for the deadline check. */
export async function syncRolloutStatus(sync: DeploymentSync, allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): Promise<void> {
  const d = sync.d;
  const now = sync.env.now();
  const status = sync.calculateStatus(allRSs, newRS);
  if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');

  const current = getCondition(d.status, 'Progressing');
  const isCompleteDeployment = status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE_REASON;
  if (hasProgressDeadline(d) && !isCompleteDeployment) {
    if (deploymentComplete(d, status)) {
      const message = newRS ? `ReplicaSet "${newRS.metadata.name}" has successfully progressed.` : `Deployment "${d.metadata.name}" has successfully progressed.`;
      setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, message, now));
    } else if (deploymentProgressing(d, status)) {
      const message = newRS ? `ReplicaSet "${newRS.metadata.name}" is progressing.` : `Deployment "${d.metadata.name}" is progressing.`;
      const condition = newCondition('Progressing', 'True', REPLICA_SET_UPDATED_REASON, message, now);
      // Progress refreshes lastUpdateTime even with the same reason; lastTransitionTime stays while True.
      if (current) {
        if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
      }
      setCondition(status, condition);
    } else if (deploymentTimedOut(d, status, now)) {
      const message = newRS ? `ReplicaSet "${newRS.metadata.name}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`;
      setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, message, now));
    }
  }

  const failure = replicaFailures(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, 'ReplicaFailure');

  if (statusEqual(d.status, status) && !sync.annotationsDirty()) {
    sync.requeueAfterMs = requeueStuckDeployment(sync, status);
    return;
  }
  d.status = status;
  await sync.updateStatus();
}

/** The ReplicaFailure condition of the new ReplicaSet, else of an old one. */
function replicaFailures(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): DeploymentCondition | undefined {
  for (const rs of [newRS, ...allRSs]) {
    const c = rs?.status?.conditions?.find((x) => x.type === 'ReplicaFailure');
    if (c) return { type: c.type, status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
  }
  return undefined;
}

/**
 * requeueStuckDeployment: when a rollout shows no progress, look again when
 * its deadline passes (lastUpdateTime + progressDeadlineSeconds, plus a second).
 */
function requeueStuckDeployment(sync: DeploymentSync, status: DeploymentStatus): number | undefined {
  const d = sync.d;
  const current = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !current) return undefined;
  if (deploymentComplete(d, status) || current.reason === TIMED_OUT_REASON) return undefined;
  const last = Date.parse(current.lastUpdateTime ?? '');
  if (Number.isNaN(last)) return undefined;
  const after = last + (d.spec.progressDeadlineSeconds ?? 0) * 1000 - sync.env.now().getTime();
  if (after < 1000) return 1000;
  return after + 1000;
}
