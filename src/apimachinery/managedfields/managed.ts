/**
 * `metadata.managedFields` on the wire and in memory: entries are decoded into
 * one field set per manager identifier (manager + operation + subresource,
 * and the API version for updates, as Kubernetes' BuildManagerIdentifier
 * builds it) with its time, and encoded back sorted as kube-apiserver sorts
 * them (Apply before Update, then oldest first, then by manager).
 */
import { StatusError, type StatusCause } from '../errors.js';
import { FieldSet, pathString } from './fieldpath.js';
import type { Conflict, ManagedFieldSets } from './updater.js';

export type Operation = 'Apply' | 'Update';

/** One entry of metadata.managedFields (meta/v1 ManagedFieldsEntry), fields in Go's order. */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: Operation;
  apiVersion?: string;
  time?: string;
  fieldsType?: string;
  fieldsV1?: Record<string, unknown>;
  subresource?: string;
}

/** Managed fields in memory: sets and times per manager identifier. */
export interface Managed {
  readonly fields: ManagedFieldSets;
  readonly times: Map<string, string | undefined>;
}

export function emptyManaged(): Managed {
  return { fields: new Map(), times: new Map() };
}

/** What identifies a manager: appliers are the same whatever API version they use. */
export interface ManagerInfo {
  readonly manager: string;
  readonly operation: Operation;
  readonly apiVersion?: string;
  readonly subresource?: string;
}

/** The identifier JSON Kubernetes keys managers by, e.g. `{"manager":"kubectl","operation":"Apply"}`. */
export function managerIdentifier(info: ManagerInfo): string {
  const id: Record<string, string> = {};
  if (info.manager) id.manager = info.manager;
  id.operation = info.operation;
  if (info.operation === 'Update' && info.apiVersion) id.apiVersion = info.apiVersion;
  if (info.subresource) id.subresource = info.subresource;
  return JSON.stringify(id);
}

/** The parts of an identifier. */
export function parseIdentifier(id: string): ManagerInfo {
  try {
    const parsed = JSON.parse(id) as Partial<ManagerInfo>;
    return { manager: parsed.manager ?? '', operation: parsed.operation === 'Apply' ? 'Apply' : 'Update', apiVersion: parsed.apiVersion, subresource: parsed.subresource };
  } catch {
    return { manager: id, operation: 'Update' };
  }
}

/**
 * Decodes metadata.managedFields. Throws (with Kubernetes' wording) on an
 * entry with a bad operation, no apiVersion, a missing or unknown fieldsType,
 * or FieldsV1 that does not parse.
 */
export function decodeManagedFields(entries: unknown): Managed {
  const managed = emptyManaged();
  if (entries === undefined || entries === null) return managed;
  if (!Array.isArray(entries)) throw new Error('managedFields must be a list');
  entries.forEach((raw, i) => {
    const entry = (raw ?? {}) as ManagedFieldsEntry;
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!entry.apiVersion) throw new Error('apiVersion must not be empty');
    if (!entry.fieldsType) throw new Error(`missing fieldsType in managed fields entry ${i}`);
    if (entry.fieldsType !== 'FieldsV1') throw new Error(`invalid fieldsType ${JSON.stringify(entry.fieldsType)} in managed fields entry ${i}`);
    const id = managerIdentifier({ manager: entry.manager ?? '', operation: entry.operation, apiVersion: entry.apiVersion, subresource: entry.subresource });
    let set: FieldSet;
    try {
      set = FieldSet.fromFieldsV1(entry.fieldsV1 ?? {});
    } catch (error) {
      throw new Error(`error decoding versioned set from ${JSON.stringify(entry)}: error decoding set: ${(error as Error).message}`);
    }
    managed.fields.set(id, { set, apiVersion: entry.apiVersion, applied: entry.operation === 'Apply' });
    managed.times.set(id, entry.time);
  });
  return managed;
}

/** Encodes managed fields, sorted as Kubernetes does; undefined when there are none. */
export function encodeManagedFields(managed: Managed): ManagedFieldsEntry[] | undefined {
  if (managed.fields.size === 0) return undefined;
  const entries: ManagedFieldsEntry[] = [];
  for (const [id, versioned] of managed.fields) {
    const info = parseIdentifier(id);
    const entry: ManagedFieldsEntry = {};
    if (info.manager) entry.manager = info.manager;
    entry.operation = versioned.applied ? 'Apply' : 'Update';
    if (versioned.apiVersion) entry.apiVersion = versioned.apiVersion;
    const time = managed.times.get(id);
    if (time) entry.time = time;
    entry.fieldsType = 'FieldsV1';
    entry.fieldsV1 = versioned.set.toFieldsV1();
    if (info.subresource) entry.subresource = info.subresource;
    entries.push(entry);
  }
  entries.sort(compareEntries);
  return entries;
}

function seconds(time: string | undefined): number {
  if (!time) return 0;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

function compareStrings(a = '', b = ''): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sortEncodedManagedFields: operation, time (seconds), manager, apiVersion, subresource. */
function compareEntries(p: ManagedFieldsEntry, q: ManagedFieldsEntry): number {
  return (
    compareStrings(p.operation, q.operation) ||
    seconds(p.time) - seconds(q.time) ||
    compareStrings(p.manager, q.manager) ||
    compareStrings(p.apiVersion, q.apiVersion) ||
    compareStrings(p.subresource, q.subresource)
  );
}

/** Whether two encoded lists are the same except for times (IgnoreManagedFieldsTimestampsTransformer's first check). */
export function sameModuloTimes(a: readonly ManagedFieldsEntry[] | undefined, b: readonly ManagedFieldsEntry[] | undefined): boolean {
  a ??= [];
  b ??= [];
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.manager !== y.manager || x.operation !== y.operation || x.apiVersion !== y.apiVersion || x.fieldsType !== y.fieldsType || x.subresource !== y.subresource) return false;
    if (JSON.stringify(x.fieldsV1) !== JSON.stringify(y.fieldsV1)) return false;
  }
  return true;
}

/** How a conflict names a manager: `"kubectl"`, `"kubectl-edit" using apps/v1`, `"x" with subresource "status" using v1`. */
export function printManager(id: string): string {
  let info: Partial<ManagerInfo> & { time?: string };
  try {
    info = JSON.parse(id) as Partial<ManagerInfo>;
  } catch {
    return JSON.stringify(id);
  }
  let text = JSON.stringify(info.manager ?? '');
  if (info.subresource) text += ` with subresource ${JSON.stringify(info.subresource)}`;
  if (info.operation === 'Update') text += ` using ${info.apiVersion ?? ''}`;
  return text;
}

/**
 * The 409 of an apply that conflicts (NewConflictError): reason Conflict,
 * one FieldManagerConflict cause per field, and Kubernetes' message.
 */
export function conflictError(conflicts: readonly Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => compareStrings(a.manager, b.manager));
  const causes: StatusCause[] = sorted.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (sorted.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(sorted[0]!.manager)}: ${pathString(sorted[0]!.path)}`;
  } else {
    const lines: string[] = [];
    let previous: string | undefined;
    for (const c of sorted) {
      if (c.manager !== previous) lines.push(`conflicts with ${printManager(c.manager)}:`);
      previous = c.manager;
      lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join('\n')}`;
  }
  return new StatusError(409, 'Conflict', message, { causes });
}
