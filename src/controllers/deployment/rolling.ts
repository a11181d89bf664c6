/**
 * The RollingUpdate strategy (Kubernetes' pkg/controller/deployment/rolling.go):
 * scale the new ReplicaSet up within replicas + maxSurge, scale old ones down
 * while at least replicas - maxUnavailable stay available, unhealthy old
 * replicas first.
 */
import type { ReplicaSetObject } from '../replicaset/controller.js';
import { syncRolloutStatus } from './progress.js';
import type { DeploymentSync } from './sync.js';
import { availableReplicaCount, byCreation, deploymentComplete, filterActive, maxUnavailable, newRSNewReplicas, replicaCount, replicasOf } from './util.js';

export async function rolloutRolling(sync: DeploymentSync, rsList: ReplicaSetObject[]): Promise<void> {
  const [newRS, oldRSs] = await sync.getAllReplicaSetsAndSyncRevision(rsList, true);
  const allRSs = [...oldRSs, newRS];
  if (await reconcileNewReplicaSet(sync, allRSs, newRS!)) return syncRolloutStatus(sync, allRSs, newRS);
  if (await reconcileOldReplicaSets(sync, allRSs, filterActive(oldRSs), newRS!)) return syncRolloutStatus(sync, allRSs, newRS);
  if (deploymentComplete(sync.d, sync.d.status ?? {})) await sync.cleanupDeployment(oldRSs);
  return syncRolloutStatus(sync, allRSs, newRS);
}

async function reconcileNewReplicaSet(sync: DeploymentSync, allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject): Promise<boolean> {
  const d = sync.d;
  if (replicasOf(newRS) === replicasOf(d)) return false;
  if (replicasOf(newRS) > replicasOf(d)) return (await sync.scaleReplicaSetAndRecordEvent(newRS, replicasOf(d)))[0];
  const count = newRSNewReplicas(d, allRSs.filter((rs): rs is ReplicaSetObject => !!rs), newRS);
  return (await sync.scaleReplicaSetAndRecordEvent(newRS, count))[0];
}

async function reconcileOldReplicaSets(sync: DeploymentSync, allRSs: (ReplicaSetObject | undefined)[], oldRSs: ReplicaSetObject[], newRS: ReplicaSetObject): Promise<boolean> {
  const d = sync.d;
  const oldPods = replicaCount(oldRSs);
  if (oldPods === 0) return false;
  const allPods = replicaCount(allRSs);
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const newRSUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
  const maxScaledDown = allPods - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return false;
  // Unhealthy old replicas go first: they would otherwise block the rollout.
  const [cleaned, cleanupCount] = await cleanupUnhealthyReplicas(sync, oldRSs, maxScaledDown);
  const scaledDown = await scaleDownOldReplicaSetsForRollingUpdate(sync, [...cleaned, newRS], cleaned);
  return cleanupCount + scaledDown > 0;
}

async function cleanupUnhealthyReplicas(sync: DeploymentSync, oldRSs: ReplicaSetObject[], maxCleanup: number): Promise<[ReplicaSetObject[], number]> {
  const sorted = [...oldRSs].sort(byCreation);
  let total = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (total >= maxCleanup) break;
    const rs = sorted[i]!;
    const replicas = replicasOf(rs);
    const available = rs.status?.availableReplicas ?? 0;
    if (replicas === 0 || replicas === available) continue;
    const count = Math.min(maxCleanup - total, replicas - available);
    const next = replicas - count;
    if (next > replicas) throw new Error(`when cleaning up unhealthy replicas, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${replicas} -> ${next}`);
    const [, updated] = await sync.scaleReplicaSetAndRecordEvent(rs, next);
    total += count;
    sorted[i] = updated;
  }
  return [sorted, total];
}

async function scaleDownOldReplicaSetsForRollingUpdate(sync: DeploymentSync, allRSs: ReplicaSetObject[], oldRSs: ReplicaSetObject[]): Promise<number> {
  const d = sync.d;
  const minAvailable = replicasOf(d) - maxUnavailable(d);
  const available = availableReplicaCount(allRSs);
  if (available <= minAvailable) return 0;
  const sorted = [...oldRSs].sort(byCreation);
  const totalToScaleDown = available - minAvailable;
  let total = 0;
  for (const rs of sorted) {
    if (total >= totalToScaleDown) break;
    if (replicasOf(rs) === 0) continue;
    const count = Math.min(replicasOf(rs), totalToScaleDown - total);
    const next = replicasOf(rs) - count;
    if (next > replicasOf(rs)) throw new Error(`when scaling down old replica set, got invalid request to scale down ${rs.metadata.namespace}/${rs.metadata.name} ${replicasOf(rs)} -> ${next}`);
    await sync.scaleReplicaSetAndRecordEvent(rs, next);
    total += count;
  }
  return total;
}
