/**
 * The field manager of one kind: keeps `metadata.managedFields` up to date on
 * every write and performs server-side apply. It is kube-apiserver's stack of
 * field managers (k8s.io/apimachinery/pkg/util/managedfields/internal) in one
 * class: version check, last-applied annotation upgrade for `kubectl`,
 * tracking that starts with the first create or apply, at most 10 update
 * managers (older ones folded into "ancient-changes"), manager identifiers,
 * timestamps, and object metadata that nobody owns.
 */
import { StatusError, badRequest } from '../errors.js';
import { timestamp } from '../meta.js';
import type { KubeObject } from '../types.js';
import { logger } from '../../util/log.js';
import { FieldSet, fieldSetOf, goJson } from './fieldpath.js';
import {
  conflictError,
  decodeManagedFields,
  emptyManaged,
  encodeManagedFields,
  managerIdentifier,
  type Managed,
  type ManagedFieldsEntry,
} from './managed.js';
import { atomForKind, type Atom } from './schema.js';
import { TypedError, compare, dropAppliedNulls, toFieldSet, validate } from './typed.js';
import { ApplyConflicts, apply as applyConfig, update as updateOwners, type ManagedFieldSets, type UpdaterScope } from './updater.js';

const log = logger('fieldmanager');

/** The annotation client-side `kubectl apply` keeps its last configuration in. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** The manager name `kubectl apply --server-side` uses; its applies keep the annotation above in sync. */
const KUBECTL_MANAGER = 'kubectl';

/** More update managers than this are folded into "ancient-changes" (DefaultMaxUpdateManagers). */
export const MAX_UPDATE_MANAGERS = 10;

/** Object metadata nobody owns (stripMetaManager). */
const STRIPPED = fieldSetOf(
  '.apiVersion',
  '.kind',
  '.metadata',
  '.metadata.name',
  '.metadata.namespace',
  '.metadata.creationTimestamp',
  '.metadata.selfLink',
  '.metadata.uid',
  '.metadata.clusterName',
  '.metadata.generation',
  '.metadata.managedFields',
  '.metadata.resourceVersion',
);

const MANAGED_FIELDS_PATH = fieldSetOf('.metadata.managedFields');

/** Annotations may hold at most 256 KiB in all (ValidateAnnotationsSize). */
const MAX_ANNOTATIONS_BYTES = 256 * 1024;

/** What a field manager knows about its kind. */
export interface FieldManagerOptions {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Fields writes to the main resource do not own (reset by the strategy): status, when there is a status subresource. */
  readonly resetFields?: FieldSet;
  /** Fields writes to /status do not own (reset by the status strategy): spec. */
  readonly statusResetFields?: FieldSet;
}

/** The reset fields of a resource with a status subresource. */
export function statusSubresourceResetFields(): { resetFields: FieldSet; statusResetFields: FieldSet } {
  return { resetFields: fieldSetOf('.status'), statusResetFields: fieldSetOf('.spec') };
}

type JsonMap = Record<string, unknown>;

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A field manager for one kind (group/version/kind). */
export class FieldManager {
  readonly apiVersion: string;
  private rootAtom?: Atom;
  private readonly scopes = new Map<string, UpdaterScope>();
  private lastErrorLog = 0;

  constructor(private readonly options: FieldManagerOptions) {
    this.apiVersion = options.group ? `${options.group}/${options.version}` : options.version;
  }

  private get atom(): Atom {
    return (this.rootAtom ??= atomForKind(this.options.group, this.options.version, this.options.kind));
  }

  private scope(subresource: string): UpdaterScope {
    let scope = this.scopes.get(subresource);
    if (!scope) {
      const ignored = subresource === 'status' ? this.options.statusResetFields : subresource === '' ? this.options.resetFields : undefined;
      scope = { atom: this.atom, ignored, compareExclude: ignored ? ignored.union(MANAGED_FIELDS_PATH) : MANAGED_FIELDS_PATH };
      this.scopes.set(subresource, scope);
    }
    return scope;
  }

  /**
   * Records an update (create when `live` is undefined; update or non-apply
   * patch otherwise) by `manager` in `next.metadata.managedFields`, in place.
   * `next` is the object about to be stored. The managed fields the request
   * carried are honoured (so clients can edit or reset them), except on
   * subresources. Never fails the write: on an internal error the object
   * loses its managed fields, as in Kubernetes.
   */
  update(live: KubeObject | undefined, next: KubeObject, manager: string, subresource = ''): void {
    const managed = this.decodeLiveOrNew(live, next, subresource !== '');
    delete next.metadata.managedFields;
    // Tracking starts with an object's creation or first apply.
    if (managed.fields.size === 0 && live !== undefined) return;
    try {
      this.recordUpdate(live ?? {}, next, managed, managerIdentifier({ manager: manager || 'unknown', operation: 'Update', apiVersion: this.apiVersion, subresource }), subresource);
      this.capUpdateManagers(managed);
      setManagedFields(next, encodeManagedFields(managed));
    } catch (error) {
      const now = Date.now();
      if (now - this.lastErrorLog > 1000) {
        this.lastErrorLog = now;
        log.error('[SHOULD NOT HAPPEN] failed to update managedFields', { kind: this.options.kind, namespace: next.metadata.namespace, name: next.metadata.name, error });
      }
      delete next.metadata.managedFields;
    }
  }

  /**
   * Server-side apply of `config` by `manager`. `live` is the current object
   * (a copy the caller lets this function change), or undefined to create.
   * Returns the object to store, with its managed fields. Throws a
   * StatusError: 400 for a configuration of another kind or carrying
   * managedFields, 409 on conflicts (unless `force`), 500 when the
   * configuration does not fit the schema.
   */
  apply(live: KubeObject | undefined, config: JsonMap, manager: string, force: boolean, subresource = ''): KubeObject {
    let managed: Managed;
    try {
      managed = decodeManagedFields(live?.metadata.managedFields);
    } catch (error) {
      throw new StatusError(500, '', `failed to decode managed fields: ${(error as Error).message}`);
    }
    const gvk = configKind(config);
    if (gvk.group !== this.options.group || gvk.version !== this.options.version || gvk.kind !== this.options.kind) {
      throw badRequest(`invalid object type: ${gvk.group}/${gvk.version}, Kind=${gvk.kind}`);
    }
    let result: { object: KubeObject; managed: Managed };
    try {
      result = this.applyOnce(live, config, managed, manager, force, subresource);
    } catch (error) {
      if (!(error instanceof ApplyConflicts)) throw error;
      // kubectl moving from client-side apply: conflicts on what its last-applied
      // configuration set, and the object still has, are its own.
      const allowed = manager === KUBECTL_MANAGER ? this.allowedConflictsFromLastApplied(live) : undefined;
      if (!allowed) throw conflictError(error.conflicts);
      const remaining = error.conflicts.filter((c) => !allowed.has(c.path));
      if (remaining.length > 0) throw conflictError(remaining);
      result = this.applyOnce(live, config, managed, manager, true, subresource);
    }
    const object = result.object;
    if (manager === KUBECTL_MANAGER && hasLastApplied(object)) setLastApplied(object, buildLastApplied(config));
    setManagedFields(object, encodeManagedFields(result.managed));
    return object;
  }

  private applyOnce(live: KubeObject | undefined, config: JsonMap, original: Managed, manager: string, force: boolean, subresource: string): { object: KubeObject; managed: Managed } {
    const managed: Managed = { fields: new Map(original.fields), times: new Map(original.times) };
    const liveValue: KubeObject = live ?? ({} as KubeObject);
    if (managed.fields.size === 0) {
      // The first apply to an object nobody tracked: its current fields belong to "before-first-apply".
      this.recordUpdate({}, liveValue, managed, managerIdentifier({ manager: 'before-first-apply', operation: 'Update', apiVersion: this.apiVersion, subresource }), subresource);
      this.capUpdateManagers(managed);
    }
    const id = managerIdentifier({ manager, operation: 'Apply', subresource });
    const meta = config.metadata;
    if (isMap(meta) && meta.managedFields !== undefined) throw badRequest('metadata.managedFields must be nil');
    const problems = validate(config, this.atom);
    if (problems.length > 0) {
      throw new StatusError(500, '', `failed to create typed patch object (${objectGVKNN(config, this.apiVersion, this.options.kind)}): ${new TypedError(problems).message}`);
    }
    let outcome: { object: unknown; managers: ManagedFieldSets };
    try {
      outcome = applyConfig(withoutManagedFields(liveValue), config, this.apiVersion, managed.fields, id, force, this.scope(subresource));
    } catch (error) {
      if (error instanceof ApplyConflicts) throw error;
      if (error instanceof TypedError) throw new StatusError(500, '', `failed to create typed live object (${objectGVKNN(liveValue, this.apiVersion, this.options.kind)}): ${error.message}`);
      throw error;
    }
    replaceFields(managed, outcome.managers);
    stripMeta(managed.fields, id);
    let object: KubeObject;
    if (outcome.object !== undefined) {
      managed.times.set(id, timestamp());
      object = outcome.object as KubeObject;
      object.metadata ??= {};
      dropAppliedNulls(object, config, this.atom);
    } else {
      object = liveValue;
      object.metadata ??= {};
      delete object.metadata.managedFields;
    }
    return { object, managed };
  }

  /** managedFieldsUpdater + stripMetaManager + structuredMergeManager for an update. */
  private recordUpdate(live: unknown, next: KubeObject, managed: Managed, id: string, subresource: string): void {
    const { managers, current } = updateOwners(live, withoutManagedFields(next), managed.fields, this.scope(subresource));
    replaceFields(managed, managers);
    const owned = current.difference(STRIPPED);
    if (owned.isEmpty()) return;
    const previous = managed.fields.get(id);
    managed.fields.set(id, { set: previous ? owned.union(previous.set) : owned, apiVersion: this.apiVersion, applied: false });
    managed.times.set(id, timestamp());
  }

  /** decodeLiveOrNew: the request's managed fields unless absent, broken or on a subresource; `[]` resets them. */
  private decodeLiveOrNew(live: KubeObject | undefined, next: KubeObject, subresource: boolean): Managed {
    const fromLive = (): Managed => {
      try {
        return decodeManagedFields(live?.metadata.managedFields);
      } catch {
        return emptyManaged();
      }
    };
    if (subresource) return fromLive();
    const sent = next.metadata.managedFields as unknown;
    if (isResetManagedFields(sent)) return emptyManaged();
    try {
      const managed = decodeManagedFields(sent);
      if (managed.fields.size > 0) return managed;
    } catch {
      // fall back to the live object's
    }
    return fromLive();
  }

  /** capManagersManager: the oldest update managers beyond the limit merge into "ancient-changes" (per API version). */
  private capUpdateManagers(managed: Managed): void {
    const updaters = [...managed.fields].filter(([, v]) => !v.applied).map(([id]) => id);
    if (updaters.length <= MAX_UPDATE_MANAGERS) return;
    const seconds = (id: string) => {
      const t = managed.times.get(id);
      const ms = t ? Date.parse(t) : NaN;
      return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
    };
    updaters.sort((a, b) => seconds(a) - seconds(b) || (a < b ? -1 : a > b ? 1 : 0));
    const firstByVersion = new Map<string, string>();
    let length = updaters.length;
    for (let i = 0; i < updaters.length && length > MAX_UPDATE_MANAGERS; i++) {
      const id = updaters[i]!;
      const versioned = managed.fields.get(id)!;
      const time = managed.times.get(id);
      const bucket = managerIdentifier({ manager: 'ancient-changes', operation: 'Update', apiVersion: versioned.apiVersion });
      const first = firstByVersion.get(versioned.apiVersion);
      if (first === undefined) {
        firstByVersion.set(versioned.apiVersion, id);
        continue;
      }
      if (!managed.fields.has(bucket)) {
        const firstSet = managed.fields.get(first)!;
        managed.fields.delete(first);
        managed.fields.set(bucket, firstSet);
      }
      const merged = managed.fields.get(bucket)!;
      managed.fields.set(bucket, { set: versioned.set.union(merged.set), apiVersion: versioned.apiVersion, applied: versioned.applied });
      managed.fields.delete(id);
      length--;
      managed.times.set(bucket, time);
    }
  }

  /**
   * lastAppliedManager: the fields kubectl's last-applied configuration set
   * and that still have those values in the live object.
   */
  private allowedConflictsFromLastApplied(live: KubeObject | undefined): FieldSet | undefined {
    const annotation = live?.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
    if (!live || !annotation) return undefined;
    let lastApplied: unknown;
    try {
      lastApplied = JSON.parse(annotation);
    } catch {
      return undefined;
    }
    if (!isMap(lastApplied) || lastApplied.apiVersion !== this.apiVersion) return undefined;
    try {
      if (validate(lastApplied, this.atom).length > 0 || validate(live, this.atom).length > 0) return undefined;
      const set = toFieldSet(lastApplied, this.atom);
      const comparison = compare(lastApplied, live, this.atom, MANAGED_FIELDS_PATH);
      return set.difference(comparison.modified).difference(comparison.added).difference(comparison.removed);
    } catch {
      return undefined;
    }
  }
}

function replaceFields(managed: Managed, fields: ManagedFieldSets): void {
  if (fields === managed.fields) return;
  managed.fields.clear();
  for (const [id, versioned] of fields) managed.fields.set(id, versioned);
  for (const id of [...managed.times.keys()]) if (!managed.fields.has(id)) managed.times.delete(id);
}

function stripMeta(fields: ManagedFieldSets, id: string): void {
  const versioned = fields.get(id);
  if (!versioned) return;
  const set = versioned.set.difference(STRIPPED);
  if (set.isEmpty()) fields.delete(id);
  else fields.set(id, { ...versioned, set });
}

/** The object without metadata.managedFields, without copying it (a shallow copy of metadata when needed). */
function withoutManagedFields(obj: KubeObject): KubeObject {
  if (!obj.metadata || obj.metadata.managedFields === undefined) return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata;
  return { ...obj, metadata };
}

function setManagedFields(obj: KubeObject, entries: ManagedFieldsEntry[] | undefined): void {
  obj.metadata ??= {};
  if (entries) obj.metadata.managedFields = entries as NonNullable<KubeObject['metadata']['managedFields']>;
  else delete obj.metadata.managedFields;
}

/** `[]` or a single empty entry asks for the managed fields to be reset. */
function isResetManagedFields(value: unknown): boolean {
  if (!Array.isArray(value)) return false;
  if (value.length === 0) return true;
  return value.length === 1 && isMap(value[0]) && Object.keys(value[0]).length === 0;
}

/** The group/version/kind an applied configuration declares. */
function configKind(config: JsonMap): { group: string; version: string; kind: string } {
  const apiVersion = typeof config.apiVersion === 'string' ? config.apiVersion : '';
  const kind = typeof config.kind === 'string' ? config.kind : '';
  const slash = apiVersion.indexOf('/');
  if (slash === -1) return { group: '', version: apiVersion, kind };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1), kind };
}

/** `namespace/name; group/version, Kind=Kind`, as Kubernetes names an object in field manager errors. */
function objectGVKNN(obj: JsonMap, apiVersion: string, kind: string): string {
  const meta = isMap(obj.metadata) ? obj.metadata : {};
  const gv = typeof obj.apiVersion === 'string' ? obj.apiVersion : apiVersion;
  const k = typeof obj.kind === 'string' ? obj.kind : kind;
  const group = gv.includes('/') ? gv.slice(0, gv.indexOf('/')) : '';
  const version = gv.includes('/') ? gv.slice(gv.indexOf('/') + 1) : gv;
  return `${typeof meta.namespace === 'string' ? meta.namespace : ''}/${typeof meta.name === 'string' ? meta.name : ''}; ${group}/${version}, Kind=${k}`;
}

function hasLastApplied(obj: KubeObject): boolean {
  const value = obj.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  return typeof value === 'string' && value.length > 0;
}

/** The configuration as the annotation holds it: Go's JSON of the object, keys sorted, without the annotation itself. */
export function buildLastApplied(config: JsonMap): string {
  const copy = structuredClone(config);
  const meta = copy.metadata;
  if (isMap(meta) && isMap(meta.annotations)) delete meta.annotations[LAST_APPLIED_ANNOTATION];
  return goMarshalSorted(copy) + '\n';
}

function setLastApplied(obj: KubeObject, value: string): void {
  const annotations: Record<string, string> = { ...(obj.metadata.annotations ?? {}), [LAST_APPLIED_ANNOTATION]: value };
  let size = 0;
  for (const [k, v] of Object.entries(annotations)) size += Buffer.byteLength(k) + Buffer.byteLength(v);
  if (size > MAX_ANNOTATIONS_BYTES) delete annotations[LAST_APPLIED_ANNOTATION];
  obj.metadata.annotations = annotations;
}

/** Go's json.Marshal of decoded JSON: map keys sorted, HTML characters escaped. */
function goMarshalSorted(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(goMarshalSorted).join(',')}]`;
  if (isMap(value)) {
    const keys = Object.keys(value).filter((k) => value[k] !== undefined).sort();
    return `{${keys.map((k) => `${goJson(k)}:${goMarshalSorted(value[k])}`).join(',')}}`;
  }
  return goJson(value);
}

