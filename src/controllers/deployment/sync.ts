/**
 * One Deployment sync (Kubernetes' pkg/controller/deployment/sync.go): finding
 * the new and old ReplicaSets and keeping revisions in step, creating the new
 * ReplicaSet (named <deployment>-<pod-template-hash>), scaling (proportionally
 * during a rollout), cleaning up old revisions and computing status.
 *
 * A `DeploymentSync` works on a private copy of one Deployment; every write of
 * it updates the copy's resourceVersion so later writes in the same sync do
 * not conflict with the earlier ones.
 */
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { deepCopy } from '../../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import type { EventRecorder } from '../runtime/events.js';
import type { ReplicaSetObject } from '../replicaset/controller.js';
import type { PodLike } from '../replicaset/pods.js';
import { controllerRef } from '../replicaset/ref-manager.js';
import { computePodTemplateHash } from './hash.js';
import {
  availableReplicaCount,
  actualReplicaCount,
  byRevision,
  bySizeNewer,
  bySizeOlder,
  desiredReplicasAnnotation,
  equalIgnoreHash,
  FAILED_RS_CREATE_REASON,
  filterActive,
  findActiveOrLatest,
  findNewReplicaSet,
  findOldReplicaSets,
  FOUND_NEW_RS_REASON,
  getCondition,
  hasProgressDeadline,
  hasRevisionHistoryLimit,
  isRollingUpdate,
  isSaturated,
  maxRevision,
  maxSurge,
  maxUnavailable,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  NEW_REPLICA_SET_REASON,
  newCondition,
  newRSNewReplicas,
  PAUSED_DEPLOY_REASON,
  POD_TEMPLATE_HASH_LABEL,
  readyReplicaCount,
  replicaCount,
  replicaSetProportion,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  RESUMED_DEPLOY_REASON,
  setCondition,
  setDeploymentRevision,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  statusEqual,
  TIMED_OUT_REASON,
  type DeploymentObject,
  type DeploymentStatus,
} from './util.js';

/** What a sync reads from and writes through. */
export interface SyncEnvironment {
  client: ApiClient;
  events: EventRecorder;
  now(): Date;
  /** The cached ReplicaSet of that name, if any. */
  cachedReplicaSet(namespace: string, name: string): ReplicaSetObject | undefined;
}

/** A Deployment being synced, and the operations of a sync. */
export class DeploymentSync {
  /** The annotations last written to the API (or read from it). */
  private writtenAnnotations: Record<string, string>;
  /** Set when the Deployment should be looked at again later (a progress deadline check). */
  requeueAfterMs: number | undefined;

  constructor(
    readonly d: DeploymentObject,
    readonly env: SyncEnvironment,
  ) {
    this.writtenAnnotations = { ...(d.metadata.annotations ?? {}) };
  }

  private get deployments() {
    return this.env.client.resource(RESOURCES.deployments);
  }

  private get replicaSets() {
    return this.env.client.resource(RESOURCES.replicaSets);
  }

  event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.env.events.event(this.d, type, reason, message);
  }

  /**
   * Writes the Deployment's status (UpdateStatus). Kubernetes' status
   * strategy for Deployments keeps metadata.annotations from the request, so
   * the revision annotation travels with status writes there; our status
   * subresource keeps metadata, so changed annotations get their own write
   * first (same resourceVersion precondition).
   */
  async updateStatus(): Promise<void> {
    const d = this.d;
    if (!jsonEqual(d.metadata.annotations ?? {}, this.writtenAnnotations)) {
      const { status: _status, ...rest } = d;
      const updated = await this.deployments.update(d.metadata.namespace, rest as DeploymentObject);
      d.metadata.resourceVersion = updated.metadata.resourceVersion;
      this.writtenAnnotations = { ...(d.metadata.annotations ?? {}) };
    }
    const written = await this.deployments.updateStatus(d.metadata.namespace, { ...d, status: cleanStatus(d.status ?? {}) });
    d.metadata.resourceVersion = written.metadata.resourceVersion;
  }

  /** A full update of the Deployment (spec and metadata), as the rollback does. */
  async update(): Promise<void> {
    const { status: _status, ...rest } = this.d;
    const updated = await this.deployments.update(this.d.metadata.namespace, rest as DeploymentObject);
    this.d.metadata.resourceVersion = updated.metadata.resourceVersion;
    this.writtenAnnotations = { ...(this.d.metadata.annotations ?? {}) };
  }

  // -------------------------------------------------------------------------
  // New and old ReplicaSets
  // -------------------------------------------------------------------------

  /** getAllReplicaSetsAndSyncRevision: [newRS (maybe created), all old ReplicaSets]. */
  async getAllReplicaSetsAndSyncRevision(rsList: ReplicaSetObject[], createIfNotExisted: boolean): Promise<[ReplicaSetObject | undefined, ReplicaSetObject[]]> {
    const [, allOld] = findOldReplicaSets(this.d, rsList);
    const newRS = await this.getNewReplicaSet(rsList, allOld, createIfNotExisted);
    return [newRS, allOld];
  }

  /**
   * getNewReplicaSet: the ReplicaSet whose template is the Deployment's, with
   * its revision raised above the old ones (a rollback brings an old
   * ReplicaSet back with a new revision); created when asked and missing.
   */
  async getNewReplicaSet(rsList: ReplicaSetObject[], oldRSs: ReplicaSetObject[], createIfNotExisted: boolean): Promise<ReplicaSetObject | undefined> {
    const d = this.d;
    const now = this.env.now();
    const existing = findNewReplicaSet(d, rsList);
    const newRevision = maxRevision(oldRSs) + 1;

    if (existing) {
      const rsCopy = deepCopy(existing);
      const annotationsUpdated = setNewReplicaSetAnnotations(d, rsCopy, newRevision, true);
      const minReadySecondsNeedsUpdate = (rsCopy.spec.minReadySeconds ?? 0) !== (d.spec.minReadySeconds ?? 0);
      if (annotationsUpdated || minReadySecondsNeedsUpdate) {
        if (d.spec.minReadySeconds) rsCopy.spec.minReadySeconds = d.spec.minReadySeconds;
        else delete rsCopy.spec.minReadySeconds;
        const updated = (await this.replicaSets.update(rsCopy.metadata.namespace, rsCopy)) as ReplicaSetObject;
        // Later steps of this sync see the written ReplicaSet, not the stale cached one.
        const index = rsList.indexOf(existing);
        if (index >= 0) rsList[index] = updated;
        return updated;
      }
      // The existing new ReplicaSet's revision is the Deployment's.
      let needsUpdate = setDeploymentRevision(d, rsCopy.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        d.status ??= {};
        setCondition(d.status, newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${rsCopy.metadata.name}"`, now));
        needsUpdate = true;
      }
      if (needsUpdate) await this.updateStatus();
      return rsCopy;
    }
    if (!createIfNotExisted) return undefined;

    const template = deepCopy(d.spec.template ?? {});
    const hash = computePodTemplateHash(d.spec.template, d.status?.collisionCount);
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
    const selector = deepCopy(d.spec.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const newRS: ReplicaSetObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        // Deterministic, so a retry after a stale cache finds it (AlreadyExists).
        name: `${d.metadata.name}-${hash}`,
        namespace: d.metadata.namespace,
        ownerReferences: [controllerRef(d, 'apps/v1', 'Deployment')],
        labels: { ...(template.metadata.labels as Record<string, string>) },
      },
      spec: { replicas: 0, ...(d.spec.minReadySeconds ? { minReadySeconds: d.spec.minReadySeconds } : {}), selector, template },
    };
    const newReplicas = newRSNewReplicas(d, [...oldRSs, newRS], newRS);
    newRS.spec.replicas = newReplicas;
    setNewReplicaSetAnnotations(d, newRS, newRevision, false);

    let created: ReplicaSetObject | undefined;
    let alreadyExists = false;
    try {
      created = (await this.replicaSets.create(d.metadata.namespace, newRS)) as ReplicaSetObject;
    } catch (error) {
      if (error instanceof StatusError && error.code === 409 && error.reason === 'AlreadyExists') {
        alreadyExists = true;
        const rs = this.env.cachedReplicaSet(d.metadata.namespace!, newRS.metadata.name!);
        if (!rs) throw error;
        const ref = rs.metadata.ownerReferences?.find((r) => r.controller);
        if (ref && ref.uid === d.metadata.uid && equalIgnoreHash(d.spec.template, rs.spec.template)) {
          created = rs;
        } else {
          // A hash collision: another object holds the name. Bump collisionCount and come back.
          d.status ??= {};
          d.status.collisionCount = (d.status.collisionCount ?? 0) + 1;
          try {
            await this.updateStatus();
          } catch {
            // the original error is what gets the Deployment requeued
          }
          throw error;
        }
      } else if (error instanceof StatusError && (error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating')) {
        throw error;
      } else {
        const message = `Failed to create new replica set "${newRS.metadata.name}": ${(error as Error).message}`;
        if (hasProgressDeadline(d)) {
          d.status ??= {};
          setCondition(d.status, newCondition('Progressing', 'False', FAILED_RS_CREATE_REASON, message, now));
          await this.updateStatus().catch(() => undefined);
        }
        this.event('Warning', FAILED_RS_CREATE_REASON, message);
        throw error;
      }
    }
    if (!alreadyExists && newReplicas > 0) {
      this.event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${newReplicas}`);
    }
    let needsUpdate = setDeploymentRevision(d, String(newRevision));
    if (!alreadyExists && hasProgressDeadline(d)) {
      d.status ??= {};
      setCondition(d.status, newCondition('Progressing', 'True', NEW_REPLICA_SET_REASON, `Created new replica set "${created.metadata.name}"`, now));
      needsUpdate = true;
    }
    if (needsUpdate) await this.updateStatus();
    return created;
  }

  // -------------------------------------------------------------------------
  // Scaling
  // -------------------------------------------------------------------------

  /** scaleReplicaSetAndRecordEvent: no-op when already at that size. */
  async scaleReplicaSetAndRecordEvent(rs: ReplicaSetObject, newScale: number): Promise<[boolean, ReplicaSetObject]> {
    if (replicasOf(rs) === newScale) return [false, rs];
    return this.scaleReplicaSet(rs, newScale);
  }

  /** scaleReplicaSet: writes the size and the replica annotations; the event says "Scaled up|down replica set X from A to B". */
  async scaleReplicaSet(rs: ReplicaSetObject, newScale: number): Promise<[boolean, ReplicaSetObject]> {
    const d = this.d;
    const sizeNeedsUpdate = replicasOf(rs) !== newScale;
    const desired = replicasOf(d);
    const max = desired + maxSurge(d);
    if (!sizeNeedsUpdate && !replicasAnnotationsNeedUpdate(rs, desired, max)) return [false, rs];
    const oldScale = replicasOf(rs);
    const copy = deepCopy(rs);
    copy.spec.replicas = newScale;
    setReplicasAnnotations(copy, desired, max);
    const updated = (await this.replicaSets.update(copy.metadata.namespace, copy)) as ReplicaSetObject;
    if (sizeNeedsUpdate) {
      const operation = oldScale < newScale ? 'up' : 'down';
      this.event('Normal', 'ScalingReplicaSet', `Scaled ${operation} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return [sizeNeedsUpdate, updated];
  }

  /**
   * scale: with one active ReplicaSet it takes all the replicas; with a
   * saturated new one the old go to zero; otherwise (a rollout in progress)
   * replicas added or removed are spread in proportion to the ReplicaSets'
   * sizes, bounded by replicas + maxSurge.
   */
  async scale(newRS: ReplicaSetObject | undefined, oldRSs: ReplicaSetObject[]): Promise<void> {
    const d = this.d;
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if (replicasOf(activeOrLatest) === replicasOf(d)) return;
      await this.scaleReplicaSetAndRecordEvent(activeOrLatest, replicasOf(d));
      return;
    }
    if (isSaturated(d, newRS)) {
      for (const old of filterActive(oldRSs)) await this.scaleReplicaSetAndRecordEvent(old, 0);
      return;
    }
    if (!isRollingUpdate(d)) return;
    const all = filterActive([...oldRSs, newRS]);
    const allReplicas = replicaCount(all);
    const allowedSize = replicasOf(d) > 0 ? replicasOf(d) + maxSurge(d) : 0;
    const toAdd = allowedSize - allReplicas;
    if (toAdd > 0) all.sort(bySizeNewer);
    else if (toAdd < 0) all.sort(bySizeOlder);
    let added = 0;
    const sizes = new Map<string, number>();
    for (const rs of all) {
      if (toAdd !== 0) {
        const proportion = replicaSetProportion(rs, d, toAdd, added);
        sizes.set(rs.metadata.name!, replicasOf(rs) + proportion);
        added += proportion;
      } else sizes.set(rs.metadata.name!, replicasOf(rs));
    }
    for (let i = 0; i < all.length; i++) {
      const rs = all[i]!;
      // Leftovers of rounding go to the largest ReplicaSet.
      if (i === 0 && toAdd !== 0) sizes.set(rs.metadata.name!, Math.max(0, sizes.get(rs.metadata.name!)! + toAdd - added));
      await this.scaleReplicaSet(rs, sizes.get(rs.metadata.name!)!);
    }
  }

  /** isScalingEvent: an active ReplicaSet was sized for another spec.replicas. */
  async isScalingEvent(rsList: ReplicaSetObject[]): Promise<boolean> {
    const [newRS, oldRSs] = await this.getAllReplicaSetsAndSyncRevision(rsList, false);
    for (const rs of filterActive([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired === undefined) continue;
      if (desired !== replicasOf(this.d)) return true;
    }
    return false;
  }

  /** sync: scaling events and paused Deployments (no rollout). */
  async sync(rsList: ReplicaSetObject[]): Promise<void> {
    const [newRS, oldRSs] = await this.getAllReplicaSetsAndSyncRevision(rsList, false);
    await this.scale(newRS, oldRSs);
    if (this.d.spec.paused && !this.d.metadata.annotations?.['deprecated.deployment.rollback.to']) await this.cleanupDeployment(oldRSs);
    return this.syncDeploymentStatus([...oldRSs, newRS], newRS);
  }

  /** cleanupDeployment: deletes the oldest zero-sized ReplicaSets beyond revisionHistoryLimit. */
  async cleanupDeployment(oldRSs: ReplicaSetObject[]): Promise<void> {
    const d = this.d;
    if (!hasRevisionHistoryLimit(d)) return;
    const cleanable = oldRSs.filter((rs) => rs && !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - (d.spec.revisionHistoryLimit ?? 0);
    if (diff <= 0) return;
    cleanable.sort(byRevision);
    for (let i = 0; i < diff; i++) {
      const rs = cleanable[i]!;
      if ((rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0) || rs.metadata.deletionTimestamp) continue;
      try {
        await this.replicaSets.delete(rs.metadata.namespace, rs.metadata.name!);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
  }

  // -------------------------------------------------------------------------
  // Status
  // -------------------------------------------------------------------------

  /** calculateStatus: counts from the ReplicaSets, and the Available condition. */
  calculateStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): DeploymentStatus {
    const d = this.d;
    const available = availableReplicaCount(allRSs);
    const total = replicaCount(allRSs);
    const unavailable = Math.max(0, total - available);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata.generation ?? 0,
      replicas: actualReplicaCount(allRSs),
      updatedReplicas: actualReplicaCount([newRS]),
      readyReplicas: readyReplicaCount(allRSs),
      availableReplicas: available,
      unavailableReplicas: unavailable,
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    if (d.status?.conditions?.length) status.conditions = d.status.conditions.map((c) => ({ ...c }));
    const now = this.env.now();
    if (available >= replicasOf(d) - maxUnavailable(d)) {
      setCondition(status, newCondition('Available', 'True', MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', now));
    } else {
      setCondition(status, newCondition('Available', 'False', MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
    }
    return status;
  }

  /** syncDeploymentStatus: writes the status when it changed. */
  async syncDeploymentStatus(allRSs: (ReplicaSetObject | undefined)[], newRS: ReplicaSetObject | undefined): Promise<void> {
    const status = this.calculateStatus(allRSs, newRS);
    if (statusEqual(this.d.status, status) && jsonEqual(this.d.metadata.annotations ?? {}, this.writtenAnnotations)) return;
    this.d.status = status;
    await this.updateStatus();
  }

  /** Whether annotations changed since they were last written. */
  annotationsDirty(): boolean {
    return !jsonEqual(this.d.metadata.annotations ?? {}, this.writtenAnnotations);
  }

  /** checkPausedConditions: Progressing becomes Unknown/DeploymentPaused while paused, DeploymentResumed after. */
  async checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const condition = getCondition(d.status, 'Progressing');
    if (condition?.reason === TIMED_OUT_REASON) return;
    const pausedConditionExists = condition?.reason === PAUSED_DEPLOY_REASON;
    const now = this.env.now();
    d.status ??= {};
    if (d.spec.paused && !pausedConditionExists) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', PAUSED_DEPLOY_REASON, 'Deployment is paused', now));
    } else if (!d.spec.paused && pausedConditionExists) {
      setCondition(d.status, newCondition('Progressing', 'Unknown', RESUMED_DEPLOY_REASON, 'Deployment is resumed', now));
    } else return;
    await this.updateStatus();
  }
}

/** The status as Go serializes it: zero counts omitted (omitempty), collisionCount kept when set. */
export function cleanStatus(status: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = {};
  for (const key of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (status[key]) out[key] = status[key];
  }
  if (status.conditions?.length) out.conditions = status.conditions;
  if (status.collisionCount !== undefined) out.collisionCount = status.collisionCount;
  return out;
}

/** The pods of a Deployment, by the uid of the ReplicaSet that controls them (getPodMapForDeployment). */
export type PodMap = Map<string, PodLike[]>;
