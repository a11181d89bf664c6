/**
 * The one generic store: CRUD, conflicts, dry-run, finalizers, graceful
 * deletion, list and watch for every resource. Each resource only supplies a
 * ResourceStrategy (./registry/strategy.ts); the order of steps is fixed here,
 * as in Kubernetes' generic registry (rest/create.go, registry/store.go).
 */
import { randomUUID } from 'node:crypto';
import type { Storage } from '../storage/interface.js';
import { StorageError } from '../storage/interface.js';
import type { KubeObject } from '../apimachinery/types.js';
import { apiVersionOf, deepCopy, isObject } from '../apimachinery/types.js';
import {
  StatusError,
  STALE_OBJECT_MESSAGE,
  alreadyExists,
  badRequest,
  conflict,
  forbidden,
  internalError,
  invalid,
  notFound,
  resourceExpired,
  tooLargeResourceVersion,
  type FieldError,
} from '../apimachinery/errors.js';
import { generateName, jsonEqual, timestamp } from '../apimachinery/meta.js';
import { parseFieldSelector, parseLabelSelector, unknownFieldSelectorError } from '../apimachinery/selectors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../apimachinery/validation.js';
import type { ResourceStrategy } from './registry/strategy.js';
import { CachedObject, WatchCache, decodeStored, type CacheEvent } from './watch-cache.js';
import { trackCreate, trackUpdate } from '../apimachinery/managedfields/hooks.js';

/** Options shared by writes (query parameters of the request). */
export interface WriteOptions {
  dryRun?: boolean;
  /** Who writes, for metadata.managedFields; undefined for internal writes, which are not tracked. */
  fieldManager?: string;
  /** The object comes from a server-side apply that already computed its managedFields. */
  managedFieldsApplied?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  /** Deprecated form of propagationPolicy; only changes the answer's code (202 when false and not gone yet). */
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListPage {
  items: CachedObject[];
  revision: number;
  continue?: string;
  remainingItemCount?: number;
}

export interface WatchOptions extends ListOptions {
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
}

/** An event as delivered to an API watcher (after selector filtering). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: CachedObject;
}

export interface StoreWatcher {
  stop(): void;
  /** Revision of the last event or bookmark delivered. */
  readonly revision: number;
}

/** Result of a delete: the object still exists (graceful/finalizers) or is gone. */
export interface DeleteResult {
  object: KubeObject;
  deleted: boolean;
}

/** Lets a store ask about namespaces (existence, termination) without knowing their store. */
export interface NamespaceLookup {
  namespacePhase(name: string): 'Active' | 'Terminating' | undefined;
}

/** Hooks run with an object being created, after defaults; e.g. admission or IP allocation. */
export type CreateHook = (obj: KubeObject, options: WriteOptions) => void | Promise<void>;

/** The finalizers through which the garbage collector orphans or deletes dependents (metav1.FinalizerOrphanDependents / FinalizerDeleteDependents). */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
/** Resources whose delete orphans dependents unless told otherwise (rest.OrphanDependents): batch/v1 Jobs, for backwards compatibility. */
const ORPHAN_BY_DEFAULT = new Set(['batch/jobs']);
/** Resources outside garbage collection (rest.Unsupported): events. */
const GC_UNSUPPORTED = new Set(['/events', 'events.k8s.io/events']);

/** A pause between compare-and-swap retries never helps in-process; bound the retries instead. */
const MAX_CAS_RETRIES = 20;

/** The generic store of one resource. */
export class ResourceStore {
  readonly group: string;
  readonly resource: string;
  readonly kind: string;
  readonly apiVersion: string;
  /** Storage key prefix: `/registry/<group>/<resource>/`. */
  readonly prefix: string;
  private readonly selectableFieldNames: Set<string>;
  /** Runs after defaults and before validation on create (admission, allocation). */
  readonly createHooks: CreateHook[] = [];
  /** Runs when an object leaves storage, or a create fails or was a dry run (release allocations). */
  readonly releaseHooks: ((obj: KubeObject) => void)[] = [];
  /** Runs before a delete (dry runs too) with the current object; throws to refuse it (admission). */
  readonly deleteHooks: ((obj: KubeObject) => void)[] = [];

  constructor(
    readonly strategy: ResourceStrategy,
    private readonly storage: Storage,
    readonly cache: WatchCache,
    private readonly namespaces: NamespaceLookup,
  ) {
    const info = strategy.info;
    this.group = info.group;
    this.resource = info.resource;
    this.kind = info.kind;
    this.apiVersion = apiVersionOf(info.group, info.version);
    this.prefix = storePrefix(info.group, info.resource);
    this.selectableFieldNames = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(this.selectableFields({ metadata: {} }))]);
  }

  get namespaced(): boolean {
    return this.strategy.info.namespaced;
  }

  /** Storage key of an object. */
  key(namespace: string | undefined, name: string): string {
    return this.namespaced ? `${this.prefix}${namespace}/${name}` : `${this.prefix}${name}`;
  }

  /** Key prefix of a namespace's objects (or of all objects when namespace is empty). */
  private listPrefix(namespace: string | undefined): string {
    return this.namespaced && namespace ? `${this.prefix}${namespace}/` : this.prefix;
  }

  /** The object with kind and apiVersion set, as single-object responses carry it. */
  withTypeMeta(object: KubeObject): KubeObject {
    return { kind: this.kind, apiVersion: this.apiVersion, ...object };
  }

  // ---- reads ----

  /** Current object or 404. */
  get(namespace: string | undefined, name: string): CachedObject {
    const cached = this.cache.get(this.key(namespace, name));
    if (!cached) throw notFound(this.group, this.resource, name);
    return cached;
  }

  /** Fields a field selector can use for this object. */
  selectableFields(obj: KubeObject): Record<string, string> {
    const fields: Record<string, string> = {
      'metadata.name': obj.metadata?.name ?? '',
    };
    if (this.namespaced) fields['metadata.namespace'] = obj.metadata?.namespace ?? '';
    return { ...fields, ...(this.strategy.selectableFields?.(obj) ?? {}) };
  }

  /** Builds the predicate for label and field selectors; rejects unknown fields. */
  matcher(options: ListOptions): (object: KubeObject) => boolean {
    const labels = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const fields = options.fieldSelector ? parseFieldSelector(options.fieldSelector) : undefined;
    if (fields) {
      for (const requirement of fields.requirements) {
        if (!this.selectableFieldNames.has(requirement.field)) throw unknownFieldSelectorError(requirement.field, this.kind, this.group);
      }
    }
    if (!labels && !fields) return () => true;
    return (object) =>
      (!labels || labels.matches(object.metadata?.labels)) && (!fields || fields.matches(this.selectableFields(object)));
  }

  /** LIST with selectors and pagination, from the cache or (past revisions, continuations) from storage. */
  async list(namespace: string | undefined, options: ListOptions): Promise<ListPage> {
    const matches = this.matcher(options);
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const prefix = this.listPrefix(namespace);
    if (options.continue) {
      const token = decodeContinue(options.continue, prefix);
      // Nothing changed since the first page: the cache still holds that snapshot (kubectl pages by 500).
      if (token.revision >= this.cache.lastChangeRevision) {
        return this.listFromCache(prefix, token.startKey, limit, matches, token.revision);
      }
      return this.listFromStorage(prefix, token.revision, token.startKey, limit, matches);
    }
    const rv = parseResourceVersion(options.resourceVersion);
    if (options.resourceVersionMatch === 'Exact') {
      if (rv === undefined || rv === 0) throw badRequest('resourceVersionMatch "Exact" requires a non-zero resourceVersion');
      return this.listFromStorage(prefix, rv, undefined, limit, matches);
    }
    const revision = rv !== undefined && rv > 0 ? await this.waitForRevision(rv) : await this.cacheRevision();
    return this.listFromCache(prefix, undefined, limit, matches, revision);
  }

  /** A page of the cache's live objects from `startKey`, reported at `revision` (the snapshot it equals). */
  private listFromCache(prefix: string, startKey: string | undefined, limit: number, matches: (o: KubeObject) => boolean, revision: number): ListPage {
    const items: CachedObject[] = [];
    let next: CachedObject | undefined;
    for (const cached of this.cache.list(prefix, startKey)) {
      if (!matches(cached.object)) continue;
      if (limit && items.length === limit) {
        next = cached;
        break;
      }
      items.push(cached);
    }
    if (!next) return { items, revision };
    return { items, revision, continue: encodeContinue(revision, next.key, prefix) };
  }

  private async listFromStorage(
    prefix: string,
    revision: number,
    startKey: string | undefined,
    limit: number,
    matches: (o: KubeObject) => boolean,
  ): Promise<ListPage> {
    const items: CachedObject[] = [];
    let cursor = startKey;
    try {
      for (;;) {
        const page = await this.storage.list({ prefix, revision, startKey: cursor, limit: limit ? Math.max(limit, 100) : 0 });
        for (const kv of page.items) {
          const object = decodeStored(kv.value, kv.modRevision);
          if (!matches(object)) continue;
          if (limit && items.length === limit) {
            return { items, revision, continue: encodeContinue(revision, kv.key, prefix) };
          }
          items.push(new CachedObject(kv.key, object, kv.modRevision));
        }
        if (page.remaining === 0 || page.items.length === 0) break;
        cursor = page.items[page.items.length - 1].key + '\0';
      }
    } catch (error) {
      if (error instanceof StorageError && error.code === 'Compacted') {
        // A continuation and an exact-revision list are told apart, as the etcd3 store's interpretListError.
        if (startKey === undefined) throw resourceExpired('The resourceVersion for the provided list is too old.');
        throw new StatusError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      throw error;
    }
    return { items, revision };
  }

  /** Waits (up to 3 s, as Kubernetes does) for the cache to reach a revision. */
  private async waitForRevision(revision: number): Promise<number> {
    const deadline = Date.now() + 3000;
    for (;;) {
      const current = await this.cacheRevision();
      if (current >= revision) return current;
      if (Date.now() > deadline) throw tooLargeResourceVersion(revision, current);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /**
   * The global revision the cache is current at. Storage dispatches its events
   * synchronously when a write commits, so the cache has seen every change of
   * this resource up to the storage's latest revision, even when the latest
   * writes were to other resources. (A backend with asynchronous watches, like
   * etcd, needs progress notifications here.)
   */
  private async cacheRevision(): Promise<number> {
    return Math.max(this.cache.revision, await this.storage.currentRevision());
  }

  /**
   * WATCH: events after `resourceVersion` (or the current state as ADDED
   * events first when it is unset or "0"), filtered by selectors, with the
   * ADDED/DELETED translation Kubernetes does when an object enters or leaves
   * the selection.
   */
  watch(namespace: string | undefined, options: WatchOptions, send: (event: WatchEvent) => void, onError: (error: Error) => void): StoreWatcher {
    const matches = this.matcher(options);
    const prefix = this.listPrefix(namespace);
    const rv = parseResourceVersion(options.resourceVersion);
    let lastRevision = 0;
    const deliver = (event: CacheEvent) => {
      if (!event.object.key.startsWith(prefix)) return;
      lastRevision = event.revision;
      const now = matches(event.object.object);
      const before = event.previous ? matches(event.previous.object) : false;
      if (event.type === 'ADDED') {
        if (now) send({ type: 'ADDED', object: event.object });
      } else if (event.type === 'DELETED') {
        if (now || before) send({ type: 'DELETED', object: event.object });
      } else if (now && before) send({ type: 'MODIFIED', object: event.object });
      else if (now) send({ type: 'ADDED', object: event.object });
      else if (before) send({ type: 'DELETED', object: event.object });
    };

    let startRevision: number;
    if (rv === undefined || rv === 0) {
      // Start at the current state: synthetic ADDED events, then changes.
      startRevision = this.cache.revision;
      for (const cached of this.cache.list(prefix)) if (matches(cached.object)) send({ type: 'ADDED', object: cached });
      lastRevision = startRevision;
      if (options.sendInitialEvents && options.allowWatchBookmarks) {
        send({ type: 'BOOKMARK', object: bookmarkObject(this, startRevision, true) });
      }
    } else {
      startRevision = rv;
      lastRevision = rv;
    }

    const fromCache = this.cache.watch(startRevision, deliver);
    if (fromCache) {
      return {
        stop: () => fromCache.stop(),
        get revision() {
          return lastRevision;
        },
      };
    }
    // Older than the cache window: replay from the storage log (it throws Compacted past the compaction point).
    try {
      const watcher = this.storage.watch(prefix, startRevision, {
        onEvent: (event) => {
          const object = new CachedObject(event.key, decodeStored(event.value, event.revision), event.revision);
          const previous =
            event.prevValue !== undefined && event.prevRevision !== undefined
              ? new CachedObject(event.key, decodeStored(event.prevValue, event.prevRevision), event.prevRevision)
              : undefined;
          const type = event.type === 'create' ? 'ADDED' : event.type === 'update' ? 'MODIFIED' : 'DELETED';
          deliver({ type, revision: event.revision, object, previous });
        },
        onError,
      });
      return {
        stop: () => watcher.stop(),
        get revision() {
          return lastRevision;
        },
      };
    } catch (error) {
      if (error instanceof StorageError && error.code === 'Compacted') {
        throw resourceExpired(`too old resource version: ${startRevision} (${this.cache.revision})`);
      }
      throw error;
    }
  }

  // ---- writes ----

  /** POST: create an object in `namespace`. */
  async create(namespace: string | undefined, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const obj = this.checkTypeMeta(body);
    obj.metadata ??= {};
    const meta = obj.metadata;
    if (this.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = namespace ?? meta.namespace;
    } else {
      delete meta.namespace;
    }
    if (meta.resourceVersion) throw internalError('resourceVersion should not be set on objects to be created');
    if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
    this.checkNamespaceActive(meta.namespace, meta.name ?? '');

    this.strategy.defaults?.(obj);
    trackCreate(this, obj, options);
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (this.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (this.strategy.statusSubresource && this.strategy.clearStatusOnCreate !== false) delete obj.status;
    this.strategy.prepareForCreate?.(obj);
    for (const hook of this.createHooks) await hook(obj, options);
    try {
      return await this.validateAndStore(obj, options);
    } catch (error) {
      for (const hook of this.releaseHooks) hook(obj);
      throw error;
    } finally {
      if (options.dryRun) for (const hook of this.releaseHooks) hook(obj);
    }
  }

  private async validateAndStore(obj: KubeObject, options: WriteOptions): Promise<KubeObject> {
    const meta = obj.metadata;
    this.validateOrThrow(obj, [
      ...validateObjectMeta(meta, { namespaced: this.namespaced, nameValidation: this.strategy.nameValidation }),
      ...(this.strategy.validate?.(obj) ?? []),
    ]);
    const stored = orderFields(obj);
    if (options.dryRun) return this.withTypeMeta(stored);
    try {
      const kv = await this.storage.create(this.key(meta.namespace, meta.name!), JSON.stringify(stored));
      stored.metadata.resourceVersion = String(kv.modRevision);
      return this.withTypeMeta(stored);
    } catch (error) {
      if (error instanceof StorageError && error.code === 'KeyExists') throw alreadyExists(this.group, this.resource, meta.name!);
      throw error;
    }
  }

  /**
   * PUT (and the write half of PATCH): replace the object or one of its
   * subresources. `build` maps the current object to the new one; it runs
   * again with the fresh object when a concurrent write wins the race, unless
   * the caller pinned a resourceVersion.
   */
  async update(
    namespace: string | undefined,
    name: string,
    build: (current: KubeObject) => KubeObject,
    /** `binding`: the pods/binding write, which sets spec.nodeName and the PodScheduled condition together. */
    options: WriteOptions & { subresource?: 'status' | 'scale' | 'binding' | ''; pinnedResourceVersion?: boolean } = {},
  ): Promise<KubeObject> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const current = this.cache.get(key);
      if (!current) throw notFound(this.group, this.resource, name);
      const old = current.object;
      const proposed = this.checkTypeMeta(build(deepCopy(old)));
      proposed.metadata ??= {};
      // A stale resourceVersion conflicts (checked before validation, as registry/store.go does);
      // none at all is an unconditional update of the current object (AllowUnconditionalUpdate).
      const sent = proposed.metadata.resourceVersion;
      if (sent && sent !== old.metadata.resourceVersion) throw conflict(this.group, this.resource, name, STALE_OBJECT_MESSAGE);
      proposed.metadata.resourceVersion = old.metadata.resourceVersion;
      const next = this.prepareUpdate(proposed, old, namespace, name, options.subresource ?? '');
      next.metadata.resourceVersion = old.metadata.resourceVersion;
      trackUpdate(this, old, next, options);
      // Nothing changed: answer with the current object, as Kubernetes does, without a write.
      if (jsonEqual(next, old)) return this.withTypeMeta(old);
      if (options.dryRun) return this.withTypeMeta(next);
      // The last finalizer removed from an object being deleted: it goes now.
      if (next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length) && this.deletableNow(next)) {
        const result = await this.deleteFromStorage(key, current.revision, name);
        if (result) return this.withTypeMeta(result);
        continue;
      }
      const stored = orderFields(next);
      delete stored.metadata.resourceVersion;
      try {
        const kv = await this.storage.update(key, JSON.stringify(stored), current.revision);
        stored.metadata.resourceVersion = String(kv.modRevision);
        return this.withTypeMeta(stored);
      } catch (error) {
        if (error instanceof StorageError && error.code === 'Conflict') {
          if (options.pinnedResourceVersion) throw conflict(this.group, this.resource, name, STALE_OBJECT_MESSAGE);
          // Losing the race to another writer is progress, not a failed attempt: as GuaranteedUpdate, an
          // unconditional write retries until it lands (N writers on one key need up to N attempts).
          if ((error.current?.modRevision ?? 0) > current.revision) attempt--;
          await this.waitForRevision(error.current?.modRevision ?? 0);
          continue;
        }
        if (error instanceof StorageError && error.code === 'NotFound') throw notFound(this.group, this.resource, name);
        throw error;
      }
    }
    throw conflict(this.group, this.resource, name, STALE_OBJECT_MESSAGE);
  }

  /** Applies the update rules: immutable metadata, status separation, defaults, generation, validation. */
  private prepareUpdate(proposed: KubeObject, old: KubeObject, namespace: string | undefined, name: string, subresource: string): KubeObject {
    proposed.metadata ??= {};
    const meta = proposed.metadata;
    // checkName (handlers/rest.go): a body or patch without the name does not match either.
    if ((meta.name ?? '') !== name) {
      throw badRequest(`the name of the object (${meta.name ?? ''}) does not match the name on the URL (${name})`);
    }
    if (this.namespaced && meta.namespace && namespace && meta.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.uid && meta.uid !== old.metadata.uid) {
      throw conflict(this.group, this.resource, name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${old.metadata.uid}`);
    }
    let next: KubeObject;
    if (subresource === 'status') {
      // Status writes change status only; metadata keeps its identity fields (ResetObjectMetaForStatus).
      next = deepCopy(old);
      if (proposed.status === undefined) delete next.status;
      else next.status = proposed.status;
      next.metadata.resourceVersion = meta.resourceVersion;
      if (meta.managedFields) next.metadata.managedFields = meta.managedFields;
    } else {
      next = proposed;
      this.strategy.defaults?.(next);
      if (this.strategy.statusSubresource && subresource !== 'binding') {
        if (old.status === undefined) delete next.status;
        else next.status = deepCopy(old.status);
      }
    }
    const nextMeta = next.metadata;
    nextMeta.name = name;
    if (this.namespaced) nextMeta.namespace = namespace;
    else delete nextMeta.namespace;
    nextMeta.uid = old.metadata.uid;
    nextMeta.creationTimestamp = old.metadata.creationTimestamp;
    if (old.metadata.deletionTimestamp) nextMeta.deletionTimestamp = old.metadata.deletionTimestamp;
    else delete nextMeta.deletionTimestamp;
    if (old.metadata.deletionGracePeriodSeconds !== undefined) nextMeta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
    else delete nextMeta.deletionGracePeriodSeconds;
    if (old.metadata.generateName !== undefined && nextMeta.generateName === undefined) nextMeta.generateName = old.metadata.generateName;
    if (this.strategy.tracksGeneration) {
      nextMeta.generation = old.metadata.generation ?? 1;
      if (subresource !== 'status' && !jsonEqual(specOf(next), specOf(old))) nextMeta.generation += 1;
    } else {
      delete nextMeta.generation;
    }
    if (subresource !== 'status') this.strategy.prepareForUpdate?.(next, old);
    const errors: FieldError[] = [...validateObjectMetaUpdate(nextMeta, old.metadata)];
    // A binding only sets spec.nodeName and a condition of an already valid pod (BindingREST skips update validation too).
    if (subresource !== 'status' && subresource !== 'binding') {
      errors.push(...validateObjectMeta(nextMeta, { namespaced: this.namespaced, nameValidation: this.strategy.nameValidation }));
      errors.push(...(this.strategy.validateUpdate ? this.strategy.validateUpdate(next, old) : (this.strategy.validate?.(next) ?? [])));
    }
    this.validateOrThrow(next, errors);
    return next;
  }

  /** DELETE: immediate, graceful (pods), or marked for finalizers. */
  async delete(namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const key = this.key(namespace, name);
    for (let attempt = 0; attempt < MAX_CAS_RETRIES; attempt++) {
      const current = this.cache.get(key);
      if (!current) throw notFound(this.group, this.resource, name);
      const obj = current.object;
      for (const hook of this.deleteHooks) hook(obj);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== obj.metadata.uid) {
        throw conflict(this.group, this.resource, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
        throw conflict(this.group, this.resource, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`);
      }
      const grace = this.gracePeriod(obj, options);
      // propagationPolicy becomes the orphan / foregroundDeletion finalizer the garbage collector acts on.
      const gcFinalizers = this.garbageCollectionFinalizers(obj, options);
      const finalizers = gcFinalizers ?? obj.metadata.finalizers ?? [];
      const hasFinalizers = finalizers.length > 0 || this.strategy.finalizeOnDelete?.(obj) === true;
      if (grace > 0 || hasFinalizers) {
        // Mark the object; it goes when its finalizers are removed (or the kubelet confirms a pod is gone).
        const marked = deepCopy(obj);
        if (gcFinalizers) {
          if (gcFinalizers.length > 0) marked.metadata.finalizers = gcFinalizers;
          else delete marked.metadata.finalizers;
        }
        const already = marked.metadata.deletionTimestamp;
        const previousGrace = marked.metadata.deletionGracePeriodSeconds;
        if (!already || (previousGrace !== undefined && grace < previousGrace)) {
          marked.metadata.deletionTimestamp = timestamp(new Date(Date.now() + grace * 1000));
          marked.metadata.deletionGracePeriodSeconds = grace;
        }
        this.strategy.prepareForDelete?.(marked);
        if (jsonEqual(marked, obj)) return { object: this.withTypeMeta(obj), deleted: false };
        if (options.dryRun) return { object: this.withTypeMeta(marked), deleted: false };
        const stored = orderFields(marked);
        delete stored.metadata.resourceVersion;
        try {
          const kv = await this.storage.update(key, JSON.stringify(stored), current.revision);
          stored.metadata.resourceVersion = String(kv.modRevision);
          return { object: this.withTypeMeta(stored), deleted: false };
        } catch (error) {
          if (error instanceof StorageError && error.code === 'Conflict') continue;
          throw error;
        }
      }
      if (options.dryRun) return { object: this.withTypeMeta(obj), deleted: true };
      const deleted = await this.deleteFromStorage(key, current.revision, name);
      if (deleted) return { object: this.withTypeMeta(deleted), deleted: true };
    }
    throw conflict(this.group, this.resource, name, STALE_OBJECT_MESSAGE);
  }

  /** Deletes every object matching the list options (DELETE on a collection). */
  async deleteCollection(namespace: string | undefined, listOptions: ListOptions, options: DeleteOptions): Promise<KubeObject[]> {
    const page = await this.list(namespace, { ...listOptions, limit: 0, continue: undefined });
    const results: KubeObject[] = [];
    for (const item of page.items) {
      try {
        results.push((await this.delete(item.object.metadata.namespace, item.object.metadata.name!, options)).object);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    return results;
  }

  /** Removes a key at a revision; returns undefined when it changed meanwhile (the caller retries). */
  private async deleteFromStorage(key: string, revision: number, name: string): Promise<KubeObject | undefined> {
    try {
      const kv = await this.storage.delete(key, revision);
      const object = decodeStored(kv.value, kv.modRevision);
      for (const hook of this.releaseHooks) hook(object);
      return object;
    } catch (error) {
      if (error instanceof StorageError && error.code === 'Conflict') return undefined;
      if (error instanceof StorageError && error.code === 'NotFound') throw notFound(this.group, this.resource, name);
      throw error;
    }
  }

  private gracePeriod(obj: KubeObject, options: DeleteOptions): number {
    if (!this.strategy.gracefulDeletion) return 0;
    const requested = options.gracePeriodSeconds;
    const grace = this.strategy.gracefulDeletion(obj, requested);
    return Math.max(0, grace);
  }

  /**
   * The finalizers an object gets from this delete's propagation policy, or
   * undefined when they stay as they are (deletionFinalizersForGarbageCollection
   * in registry/store.go): Orphan adds `orphan`, Foreground adds
   * `foregroundDeletion`, Background removes both; without a policy, a GC
   * finalizer already there stands, else the resource's default applies.
   */
  private garbageCollectionFinalizers(obj: KubeObject, options: DeleteOptions): string[] | undefined {
    const current = obj.metadata.finalizers ?? [];
    let orphan = false;
    let foreground = false;
    if (!GC_UNSUPPORTED.has(`${this.group}/${this.resource}`)) {
      if (options.orphanDependents !== undefined) orphan = options.orphanDependents;
      else if (options.propagationPolicy) {
        orphan = options.propagationPolicy === 'Orphan';
        foreground = options.propagationPolicy === 'Foreground';
      } else {
        const existing = current.find((f) => f === ORPHAN_FINALIZER || f === FOREGROUND_FINALIZER);
        if (existing) {
          orphan = existing === ORPHAN_FINALIZER;
          foreground = existing === FOREGROUND_FINALIZER;
        } else orphan = ORPHAN_BY_DEFAULT.has(`${this.group}/${this.resource}`);
      }
    }
    const next = current.filter((f) => f !== ORPHAN_FINALIZER && f !== FOREGROUND_FINALIZER);
    if (orphan) next.push(ORPHAN_FINALIZER);
    if (foreground) next.push(FOREGROUND_FINALIZER);
    const before = new Set(current);
    const after = new Set(next);
    const same = before.size === after.size && [...after].every((f) => before.has(f));
    return same ? undefined : next;
  }

  /** Whether an object marked for deletion may leave storage now that its finalizers are gone. */
  private deletableNow(obj: KubeObject): boolean {
    // A namespace also waits for its spec.finalizers (ShouldDeleteNamespaceDuringUpdate).
    if (this.strategy.finalizeOnDelete?.(obj)) return false;
    if (!this.strategy.gracefulDeletion) return true;
    return (obj.metadata.deletionGracePeriodSeconds ?? 0) === 0;
  }

  // ---- helpers ----

  private checkTypeMeta(body: KubeObject): KubeObject {
    if (!isObject(body)) throw badRequest('the body of the request must be an object');
    const { apiVersion, kind, ...rest } = body;
    if (apiVersion !== undefined && apiVersion !== this.apiVersion) {
      throw badRequest(`the API version in the data (${apiVersion}) does not match the expected API version (${this.apiVersion})`);
    }
    if (kind !== undefined && kind !== this.kind) {
      throw badRequest(`the kind in the data (${kind}) does not match the expected kind (${this.kind})`);
    }
    if (rest.metadata !== undefined && !isObject(rest.metadata)) throw badRequest('metadata must be an object');
    return rest as KubeObject;
  }

  private checkNamespaceActive(namespace: string | undefined, name: string): void {
    if (!this.namespaced || !namespace) return;
    const phase = this.namespaces.namespacePhase(namespace);
    if (phase === undefined) throw notFound('', 'namespaces', namespace);
    if (phase === 'Terminating') {
      const error = forbidden(this.group, this.resource, name, `unable to create new content in namespace ${namespace} because it is being terminated`);
      // Clients look for this cause (NamespaceLifecycle admission adds it) to tell it from other 403s.
      error.details!.causes = [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }];
      throw error;
    }
  }

  private validateOrThrow(obj: KubeObject, errors: FieldError[]): void {
    if (errors.length > 0) throw invalid(this.group, this.kind, obj.metadata?.name ?? '', errors);
  }
}

/** Storage prefix of a resource. Core resources live under "core". */
export function storePrefix(group: string, resource: string): string {
  return `/registry/${group || 'core'}/${resource}/`;
}

/** Everything an update may change that counts as "spec" for metadata.generation. */
function specOf(obj: KubeObject): unknown {
  const { metadata: _metadata, status: _status, ...rest } = obj;
  return rest;
}

/** metadata first, status last: the order Kubernetes' structs serialize in. */
function orderFields(obj: KubeObject): KubeObject {
  const { metadata, status, ...rest } = obj;
  const ordered: KubeObject = { metadata, ...rest };
  if (status !== undefined) ordered.status = status;
  return ordered;
}

function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version: ${value}`);
  return Number(value);
}

/** Continue tokens, in Kubernetes' shape: base64 of {"v":"meta.k8s.io/v1","rv":N,"start":"<key suffix>"}. */
function encodeContinue(revision: number, nextKey: string, prefix: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start: nextKey.slice(prefix.length) })).toString('base64url');
}

function decodeContinue(token: string, prefix: string): { revision: number; startKey: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: string; rv?: number; start?: string };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw new Error('bad token');
    return { revision: parsed.rv, startKey: prefix + parsed.start };
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/** The object of a BOOKMARK event: just the kind and resourceVersion. */
export function bookmarkObject(store: ResourceStore, revision: number, initialEventsEnd = false): CachedObject {
  const metadata: KubeObject['metadata'] = { resourceVersion: String(revision) };
  if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return new CachedObject('', { metadata }, revision);
}
