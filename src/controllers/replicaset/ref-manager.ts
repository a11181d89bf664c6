/**
 * ControllerRef management (Kubernetes' BaseControllerRefManager.ClaimObject):
 * a controller owns the objects whose controller ownerReference points at it;
 * it adopts orphans its selector matches and releases owned objects its
 * selector no longer matches. Adoption and release are strategic merge
 * patches of metadata.ownerReferences that also carry the object's uid, so
 * they never touch a re-created object of the same name.
 */
import { StatusError } from '../../apimachinery/errors.js';
import type { LabelSelector } from '../../apimachinery/selectors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import type { ResourceClient } from '../../client/types.js';
import { controllerOf } from '../runtime/controller.js';

export interface ClaimOptions {
  /** The controller (ReplicaSet, Deployment) claiming objects. */
  owner: KubeObject;
  /** Its apiVersion and kind, for the ownerReference. */
  ownerApiVersion: string;
  ownerKind: string;
  selector: LabelSelector;
  /** The client of the claimed objects' resource. */
  client: ResourceClient;
  /** Kind of the claimed objects, for error messages ("Pod", "ReplicaSet"). */
  objectKind: string;
  /** Checked once before the first adoption: rejects when the owner is gone or being deleted. */
  canAdopt: () => Promise<void>;
}

/** The controller ownerReference for `owner`. */
export function controllerRef(owner: KubeObject, apiVersion: string, kind: string) {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** A canAdopt check that re-reads the owner from the API (RecheckDeletionTimestamp). */
export function recheckDeletionTimestamp(client: ResourceClient, owner: KubeObject, kind: string): () => Promise<void> {
  return async () => {
    let fresh: KubeObject;
    try {
      fresh = await client.get(owner.metadata.namespace, owner.metadata.name!);
    } catch (error) {
      throw new Error(`can't recheck DeletionTimestamp: ${(error as Error).message}`);
    }
    if (fresh.metadata.uid !== owner.metadata.uid) {
      throw new Error(`can't recheck DeletionTimestamp: original ${kind} ${owner.metadata.namespace}/${owner.metadata.name} is gone: got uid ${fresh.metadata.uid}, wanted ${owner.metadata.uid}`);
    }
    if (fresh.metadata.deletionTimestamp) {
      throw new Error(`${fresh.metadata.namespace}/${fresh.metadata.name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
    }
  };
}

function isNotFound(error: unknown): boolean {
  return error instanceof StatusError && error.code === 404;
}

/**
 * The objects `owner` controls among `objects`, adopting and releasing as
 * needed. Errors of individual adoptions are collected and thrown together
 * after every object was considered.
 */
export async function claimObjects<T extends KubeObject>(options: ClaimOptions, objects: T[]): Promise<T[]> {
  const { owner, selector, client } = options;
  const claimed: T[] = [];
  const errors: string[] = [];
  let adoptCheck: Promise<void> | undefined;
  for (const object of objects) {
    const ref = controllerOf(object);
    const matches = selector.matches(object.metadata.labels);
    if (ref) {
      if (ref.uid !== owner.metadata.uid) continue;
      if (matches) {
        claimed.push(object);
        continue;
      }
      if (owner.metadata.deletionTimestamp) continue;
      // Owned but no longer selected: release it.
      try {
        await client.patch(object.metadata.namespace, object.metadata.name!, 'strategic', {
          metadata: { ownerReferences: [{ $patch: 'delete', uid: owner.metadata.uid }], uid: object.metadata.uid },
        });
      } catch (error) {
        if (isNotFound(error) || (error instanceof StatusError && (error.code === 422 || error.code === 409))) continue;
        errors.push((error as Error).message);
      }
      continue;
    }
    // An orphan.
    if (owner.metadata.deletionTimestamp || !matches || object.metadata.deletionTimestamp) continue;
    if (owner.metadata.namespace && owner.metadata.namespace !== object.metadata.namespace) continue;
    try {
      adoptCheck ??= options.canAdopt();
      try {
        await adoptCheck;
      } catch (error) {
        throw new Error(`can't adopt ${options.objectKind} ${object.metadata.namespace}/${object.metadata.name} (${object.metadata.uid}): ${(error as Error).message}`);
      }
      await client.patch(object.metadata.namespace, object.metadata.name!, 'strategic', {
        metadata: { ownerReferences: [controllerRef(owner, options.ownerApiVersion, options.ownerKind)], uid: object.metadata.uid },
      });
      claimed.push(object);
    } catch (error) {
      if (isNotFound(error)) continue;
      errors.push((error as Error).message);
    }
  }
  if (errors.length > 0) throw new Error(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
  return claimed;
}
