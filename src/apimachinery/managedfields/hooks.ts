/**
 * Where the generic store calls in: one field manager per resource, and the
 * two points of a write where managedFields are recorded (create after
 * defaults, update after the strategy prepared the new object).
 */
import type { KubeObject } from '../types.js';
import { jsonEqual } from '../meta.js';
import { sameModuloTimes, type ManagedFieldsEntry } from './managed.js';
import { FieldManager, statusSubresourceResetFields } from './manager.js';

/** What a field manager needs to know about a resource (ResourceStore has all of it). */
export interface ManagedResource {
  readonly group: string;
  readonly kind: string;
  readonly strategy: { readonly info: { readonly version: string }; readonly statusSubresource?: boolean };
}

/** The parts of a write's options that concern managed fields. */
export interface ManagedWriteOptions {
  /**
   * Who writes (the `fieldManager` parameter, or the client's user agent).
   * Undefined for the server's own internal writes, which are not tracked
   * (as the pod binding subresource in Kubernetes).
   */
  readonly fieldManager?: string;
  /** The subresource written through ('' or undefined for the object itself). */
  readonly subresource?: string;
  /** The object comes from a server-side apply, whose managed fields are already computed. */
  readonly managedFieldsApplied?: boolean;
}

const managers = new WeakMap<object, FieldManager>();

/** The field manager of a resource (one per store, made on first use). */
export function fieldManagerFor(resource: ManagedResource): FieldManager {
  let manager = managers.get(resource);
  if (!manager) {
    const { group, kind, strategy } = resource;
    manager = new FieldManager({ group, version: strategy.info.version, kind, ...(strategy.statusSubresource ? statusSubresourceResetFields() : {}) });
    managers.set(resource, manager);
  }
  return manager;
}

/** Records a create in `obj.metadata.managedFields` (call after defaults, before admission mutates the object). */
export function trackCreate(resource: ManagedResource, obj: KubeObject, options: ManagedWriteOptions): void {
  if (options.managedFieldsApplied || options.fieldManager === undefined) return;
  fieldManagerFor(resource).update(undefined, obj, options.fieldManager);
}

/**
 * Records an update in `next.metadata.managedFields` (call once the strategy
 * prepared `next`, before deciding whether anything changed). For applies,
 * only undoes a timestamp bump when the object did not change after all.
 */
export function trackUpdate(resource: ManagedResource, old: KubeObject, next: KubeObject, options: ManagedWriteOptions): void {
  if (options.managedFieldsApplied) {
    keepTimestampsIfUnchanged(old, next);
    return;
  }
  if (options.fieldManager === undefined) return;
  fieldManagerFor(resource).update(old, next, options.fieldManager, options.subresource ?? '');
}

/**
 * IgnoreManagedFieldsTimestampsTransformer: when the only change is the time
 * of some managedFields entries, the old times are kept, so that a no-op
 * write does not bump the resourceVersion.
 */
export function keepTimestampsIfUnchanged(old: KubeObject, next: KubeObject): void {
  const before = old.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  const after = next.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  if (!before || !after || before.length !== after.length) return;
  if (before.every((entry, i) => entry.time === after[i]!.time)) return;
  if (!sameModuloTimes(before, after)) return;
  next.metadata.managedFields = old.metadata.managedFields;
  if (!jsonEqual(next, old)) next.metadata.managedFields = after as KubeObject['metadata']['managedFields'];
}
