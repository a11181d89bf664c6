/**
 * The Recreate strategy (Kubernetes' pkg/controller/deployment/recreate.go):
 * scale every old ReplicaSet to zero, wait until no old pod runs, then create
 * and scale up the new ReplicaSet.
 */
import type { ReplicaSetObject } from '../replicaset/controller.js';
import type { PodLike } from '../replicaset/pods.js';
import { syncRolloutStatus } from './progress.js';
import type { DeploymentSync } from './sync.js';
import { actualReplicaCount, deploymentComplete, filterActive, replicasOf } from './util.js';

export async function rolloutRecreate(sync: DeploymentSync, rsList: ReplicaSetObject[], podMap: Map<string, PodLike[]>): Promise<void> {
  let [newRS, oldRSs] = await sync.getAllReplicaSetsAndSyncRevision(rsList, false);
  let allRSs = [...oldRSs, newRS];
  const activeOld = filterActive(oldRSs);

  let scaledDown = false;
  for (const rs of activeOld) {
    if (replicasOf(rs) === 0) continue;
    const [scaled] = await sync.scaleReplicaSetAndRecordEvent(rs, 0);
    if (scaled) scaledDown = true;
  }
  if (scaledDown) return syncRolloutStatus(sync, allRSs, newRS);
  if (oldPodsRunning(newRS, oldRSs, podMap)) return syncRolloutStatus(sync, allRSs, newRS);

  if (!newRS) {
    [newRS, oldRSs] = await sync.getAllReplicaSetsAndSyncRevision(rsList, true);
    allRSs = [...oldRSs, newRS];
  }
  await sync.scaleReplicaSetAndRecordEvent(newRS!, replicasOf(sync.d));
  if (deploymentComplete(sync.d, sync.d.status ?? {})) await sync.cleanupDeployment(oldRSs);
  return syncRolloutStatus(sync, allRSs, newRS);
}

/** oldPodsRunning: an old ReplicaSet still reports pods, or one of its pods is not finished. */
function oldPodsRunning(newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[], podMap: Map<string, PodLike[]>): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    for (const pod of pods) {
      const phase = pod.status?.phase;
      if (phase === 'Failed' || phase === 'Succeeded') continue;
      return true;
    }
  }
  return false;
}
