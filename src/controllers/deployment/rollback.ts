/**
 * Server-side rollback through the deprecated `deprecated.deployment.rollback.to`
 * annotation (what extensions/v1beta1 `spec.rollbackTo` converts to), as
 * Kubernetes' pkg/controller/deployment/rollback.go. kubectl 1.32's
 * `rollout undo` does not use it: it patches spec.template itself, and the
 * regular sync then reuses the matching ReplicaSet with a new revision.
 */
import type { ReplicaSetObject } from '../replicaset/controller.js';
import type { DeploymentSync } from './sync.js';
import {
  DEPRECATED_ROLLBACK_TO,
  equalIgnoreHash,
  lastRevision,
  POD_TEMPLATE_HASH_LABEL,
  revisionOf,
  ROLLBACK_DONE,
  ROLLBACK_REVISION_NOT_FOUND,
  ROLLBACK_TEMPLATE_UNCHANGED,
  setDeploymentAnnotationsTo,
} from './util.js';
import { deepCopy } from '../../apimachinery/types.js';

/** The revision asked for by the annotation (0 = the previous one), or undefined. */
export function rollbackTo(sync: DeploymentSync): number | undefined {
  const value = sync.d.metadata.annotations?.[DEPRECATED_ROLLBACK_TO];
  if (!value || !/^[+-]?\d+$/.test(value)) return undefined;
  return Number(value);
}

async function updateAndClearRollbackTo(sync: DeploymentSync): Promise<void> {
  if (sync.d.metadata.annotations) delete sync.d.metadata.annotations[DEPRECATED_ROLLBACK_TO];
  await sync.update();
}

export async function rollback(sync: DeploymentSync, rsList: ReplicaSetObject[]): Promise<void> {
  const d = sync.d;
  const [newRS, allOld] = await sync.getAllReplicaSetsAndSyncRevision(rsList, true);
  const all = [...allOld, ...(newRS ? [newRS] : [])];
  let revision = rollbackTo(sync) ?? 0;
  if (revision === 0) {
    revision = lastRevision(all);
    if (revision === 0) {
      sync.event('Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find last revision.');
      return updateAndClearRollbackTo(sync);
    }
  }
  for (const rs of all) {
    if (revisionOf(rs) !== revision) continue;
    let performed = false;
    if (!equalIgnoreHash(d.spec.template, rs.spec.template)) {
      // SetFromReplicaSetTemplate: the ReplicaSet's template without its hash label.
      const template = deepCopy(rs.spec.template ?? {});
      if (template.metadata?.labels) delete template.metadata.labels[POD_TEMPLATE_HASH_LABEL];
      d.spec.template = template;
      setDeploymentAnnotationsTo(d, rs);
      performed = true;
    } else {
      sync.event('Warning', ROLLBACK_TEMPLATE_UNCHANGED, `The rollback revision contains the same template as current deployment "${d.metadata.name}"`);
    }
    await updateAndClearRollbackTo(sync);
    if (performed) sync.event('Normal', ROLLBACK_DONE, `Rolled back deployment "${d.metadata.name}" to revision ${revision}`);
    return;
  }
  sync.event('Warning', ROLLBACK_REVISION_NOT_FOUND, 'Unable to find the revision to rollback to.');
  return updateAndClearRollbackTo(sync);
}
