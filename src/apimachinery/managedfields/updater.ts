/**
 * Ownership bookkeeping for one write, as structured-merge-diff's
 * merge.Updater does it: an update takes every field it changes (from
 * whoever owned it), an apply merges a configuration, prunes what its
 * manager applied before and applies no more, and fails on fields another
 * manager owns with a different value unless forced.
 */
import { FieldSet, type Path } from './fieldpath.js';
import type { Atom } from './schema.js';
import { compare, isSame, merge, removeItems, toFieldSet, withNamedFields, type Comparison } from './typed.js';

/** The fields of one manager, at the API version it used, and whether it applied them. */
export interface VersionedSet {
  readonly set: FieldSet;
  readonly apiVersion: string;
  readonly applied: boolean;
}

/** Manager identifier (JSON, see managerIdentifier) → its fields. */
export type ManagedFieldSets = Map<string, VersionedSet>;

/** One field owned by another manager that an apply would change. */
export interface Conflict {
  /** Manager identifier. */
  readonly manager: string;
  readonly path: Path;
}

/** An apply changed fields other managers own (merge.Conflicts). */
export class ApplyConflicts extends Error {
  constructor(readonly conflicts: readonly Conflict[]) {
    super(`${conflicts.length} conflicts`);
    this.name = 'ApplyConflicts';
  }
}

/** What the updater needs to know about the resource being written. */
export interface UpdaterScope {
  /** Root type of the kind. */
  readonly atom: Atom;
  /** Fields nobody gains or loses through this endpoint (reset by the strategy: status, or spec on /status). */
  readonly ignored?: FieldSet;
  /** Fields compared as neither added nor removed (managedFields itself). */
  readonly compareExclude: FieldSet;
}

/** The result of one write: the new owners, and what changed. */
interface UpdateResult {
  readonly managers: ManagedFieldSets;
  readonly comparison: Comparison;
}

/**
 * Compares live with new and moves ownership: every other manager loses the
 * fields that were removed, and (forced or failing) the fields that changed.
 */
function updateOwners(live: unknown, next: unknown, managers: ManagedFieldSets, workflow: string, force: boolean, scope: UpdaterScope): UpdateResult {
  const comparison = compare(live, next, scope.atom, scope.compareExclude);
  const changed = comparison.modified.union(comparison.added);
  const conflicts = new Map<string, FieldSet>();
  const out: ManagedFieldSets = new Map(managers);
  for (const [manager, versioned] of managers) {
    if (manager === workflow) continue;
    const conflicting = versioned.set.intersection(changed);
    if (!conflicting.isEmpty()) conflicts.set(manager, conflicting);
  }
  if (!force && conflicts.size > 0) {
    const list: Conflict[] = [];
    for (const [manager, set] of conflicts) for (const path of set.paths()) list.push({ manager, path });
    throw new ApplyConflicts(list);
  }
  for (const [manager, versioned] of managers) {
    if (manager === workflow) continue;
    let set = versioned.set;
    const conflicting = conflicts.get(manager);
    if (conflicting) set = set.difference(conflicting);
    if (!comparison.removed.isEmpty()) set = set.difference(comparison.removed);
    if (set.isEmpty()) out.delete(manager);
    else if (set !== versioned.set) out.set(manager, { ...versioned, set });
  }
  const own = out.get(workflow);
  if (own && own.set.isEmpty()) out.delete(workflow);
  return { managers: out, comparison };
}

/** The result of an update: the owners after it, and the fields the operation itself set. */
export interface UpdateOwnersResult {
  /** Every manager's fields after the write (the writer's previous fields included, minus what it removed). */
  readonly managers: ManagedFieldSets;
  /** The fields this write changed, which its manager now owns (ignored fields left out). */
  readonly current: FieldSet;
}

/** The pseudo-manager an update runs as, so that the writer's previous fields are handled like anyone's. */
const CURRENT_OPERATION = 'current-operation';

/**
 * An update (create/update/patch): every manager loses the fields that were
 * removed and the fields that changed; the write owns what it changed. The
 * caller merges `current` into the writer's own entry (managedFieldsUpdater).
 */
export function update(live: unknown, next: unknown, managers: ManagedFieldSets, scope: UpdaterScope): UpdateOwnersResult {
  const { managers: owners, comparison } = updateOwners(live, next, managers, CURRENT_OPERATION, true, scope);
  let current = comparison.modified.union(comparison.added);
  if (scope.ignored) current = current.recursiveDifference(scope.ignored);
  return { managers: owners, current };
}

/** The result of an apply: the merged object (undefined when the apply changed nothing) and the new owners. */
export interface ApplyResult {
  readonly object: unknown;
  readonly managers: ManagedFieldSets;
}

/**
 * An apply of `config` by `manager` onto `live`. Throws ApplyConflicts when
 * it would change fields another manager owns, unless `force`.
 */
export function apply(live: unknown, config: unknown, version: string, managers: ManagedFieldSets, manager: string, force: boolean, scope: UpdaterScope): ApplyResult {
  let object = merge(live, config, scope.atom);
  const lastSet = managers.get(manager);
  const set = toFieldSet(config, scope.atom, scope.ignored);
  const owners: ManagedFieldSets = new Map(managers);
  owners.set(manager, { set, apiVersion: version, applied: true });
  object = prune(object, owners, lastSet, scope.atom);
  const result = updateOwners(live, object, owners, manager, force, scope);
  return { object: isSame(result.comparison) ? undefined : object, managers: result.managers };
}

/**
 * Removes what the applier applied last time and no longer applies, unless
 * another manager (or the new configuration) owns it.
 */
function prune(merged: unknown, owners: ManagedFieldSets, lastSet: VersionedSet | undefined, atom: Atom): unknown {
  if (!lastSet || lastSet.set.isEmpty()) return merged;
  const last = withNamedFields(lastSet.set, atom);
  let pruned = removeItems(merged, last, atom);
  // Add back what someone owns.
  const owned = new FieldSet();
  for (const versioned of owners.values()) owned.addAll(versioned.set);
  const mergedSet = withNamedFields(toFieldSet(merged, atom), atom);
  let prunedSet = withNamedFields(toFieldSet(pruned, atom), atom);
  pruned = removeItems(merged, mergedSet.difference(prunedSet.union(withNamedFields(owned, atom))), atom);
  // Only ever remove what the applier had applied.
  prunedSet = withNamedFields(toFieldSet(pruned, atom), atom);
  return removeItems(merged, mergedSet.difference(prunedSet).intersection(last), atom);
}
