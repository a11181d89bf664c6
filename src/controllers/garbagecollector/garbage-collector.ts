/**
 * The garbage collector: deletes objects whose owners are gone, and carries
 * out the two deletion policies that need help after the owner is marked for
 * deletion (pkg/controller/garbagecollector in Kubernetes):
 *
 * - Background: the owner leaves storage at once; its dependents, now with a
 *   dangling ownerReference (owner absent, or another object with the same
 *   name but another uid), are deleted.
 * - Foreground: the owner keeps a `foregroundDeletion` finalizer while its
 *   dependents are deleted; the finalizer goes once no dependent with
 *   `blockOwnerDeletion: true` is left.
 * - Orphan: the owner keeps an `orphan` finalizer while the ownerReferences to
 *   it are removed from its dependents; then the finalizer goes.
 *
 * The ownership graph is an index over the informer caches of every watched
 * resource: uid → object, owner uid → dependents. Decisions that delete or
 * rewrite an object are taken against the live object (a GET) and written
 * with uid/resourceVersion preconditions, as Kubernetes does, so a lagging
 * cache can delay collection but never collect the wrong object.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../apiserver/store.js';
import type { Informer } from '../../client/informer.js';
import type { ClientDeleteOptions, ResourceClient } from '../../client/types.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { ResourceMapper, defaultResourceMapper, resourceId, type ServedResource } from './resources.js';
import { recorderFor } from '../runtime/events.js';

/** An ownerReference as stored in metadata. */
interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface GarbageCollectorOptions {
  /**
   * Resources whose objects take part, as owners or dependents. Default: every
   * served resource that supports list, watch and delete, except events (which
   * Kubernetes' garbage collector ignores too).
   */
  resources?: ServedResource[];
  /** Maps ownerReference kinds to resources; default: every served resource. */
  mapper?: ResourceMapper;
  /** Parallel reconciles (default 4). */
  workers?: number;
}

/** Resources the garbage collector never watches (its DefaultIgnoredResources). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

/** Where an object of the graph lives. */
interface Identity {
  resource: ServedResource;
  namespace?: string;
  name: string;
}

const ownerRefsOf = (o: KubeObject): OwnerReference[] => (o.metadata.ownerReferences ?? []) as OwnerReference[];
const hasFinalizer = (o: KubeObject, f: string): boolean => o.metadata.finalizers?.includes(f) === true;
const beingDeleted = (o: KubeObject): boolean => Boolean(o.metadata.deletionTimestamp);
/** An owner in foreground deletion: its dependents go first ("waitingForDependentsDeletion"). */
const deletingDependents = (o: KubeObject): boolean => beingDeleted(o) && hasFinalizer(o, FOREGROUND_FINALIZER);
const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;

/** The garbage collector controller (see the module comment). */
class GarbageCollector implements Controller {
  readonly name = 'garbage-collector-controller';
  readonly workers: number;
  private readonly mapper: ResourceMapper;
  private readonly watched: ServedResource[];
  private readonly byId = new Map<string, ServedResource>();
  private readonly informers = new Map<string, Informer>();
  /** uid → key of every object in the caches. */
  private readonly uidToKey = new Map<string, string>();
  /** owner uid → keys of the objects that list it in their ownerReferences. */
  private readonly dependentKeys = new Map<string, Set<string>>();
  private recorder?: EventRecorder;
  private enqueue?: (key: string) => void;
  /** Until every cache is loaded, an owner missing from them proves nothing. */
  private synced = false;

  constructor(options: GarbageCollectorOptions) {
    this.mapper = options.mapper ?? defaultResourceMapper();
    this.watched = (options.resources ?? this.mapper.withVerbs('list', 'watch', 'delete')).filter((r) => !IGNORED.has(resourceId(r)));
    this.workers = options.workers ?? 4;
    for (const r of this.watched) this.byId.set(resourceId(r), r);
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.recorder = recorderFor(context, 'garbage-collector-controller');
    this.enqueue = enqueue;
    for (const resource of this.watched) {
      const informer = context.informers.informer(resource);
      this.informers.set(resourceId(resource), informer);
      informer.addHandlers({
        onAdd: (o) => {
          this.index(resource, o);
          this.onObjectChange(resource, undefined, o, enqueue);
        },
        onUpdate: (old, o) => {
          this.unindex(resource, old);
          this.index(resource, o);
          this.onObjectChange(resource, old, o, enqueue);
        },
        onDelete: (o) => {
          this.unindex(resource, o);
          // Its dependents may now be dangling; a foreground owner may be waiting for it.
          for (const dep of this.dependentKeys.get(o.metadata.uid ?? '') ?? []) enqueue(dep);
          for (const ref of ownerRefsOf(o)) this.enqueueOwnerIfWaiting(ref, enqueue);
        },
      });
    }
    // Once the whole graph is loaded, look for dependents whose owners it does not hold.
    void Promise.all([...this.informers.values()].map((i) => i.hasSynced())).then(() => {
      this.synced = true;
      for (const [id, informer] of this.informers) {
        const resource = this.byId.get(id)!;
        for (const o of informer.list()) if (ownerRefsOf(o).length > 0) this.onObjectChange(resource, undefined, o, enqueue);
      }
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const identity = this.parseKey(key);
    if (!identity) return;
    const client = context.client.resource(identity.resource);
    let latest: KubeObject;
    try {
      latest = await client.get(identity.namespace, identity.name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (beingDeleted(latest)) {
      // "Being deleted" is a one-way trip: only the GC finalizers need work.
      if (hasFinalizer(latest, ORPHAN_FINALIZER)) await this.orphanDependents(latest, identity, context);
      if (hasFinalizer(latest, FOREGROUND_FINALIZER)) return this.processDeletingDependents(latest, identity, context);
      return;
    }
    return this.attemptToDelete(latest, identity, context);
  }

  // ---- the graph ----

  private keyOf(resource: ServedResource, o: KubeObject): string {
    return `${resourceId(resource)}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;
  }

  private parseKey(key: string): Identity | undefined {
    const [id, namespace, name] = key.split('|');
    const resource = this.byId.get(id!);
    if (!resource || name === undefined) return undefined;
    return { resource, namespace: namespace || undefined, name };
  }

  /** The cached object behind a key. */
  private cached(key: string): { identity: Identity; object: KubeObject } | undefined {
    const identity = this.parseKey(key);
    if (!identity) return undefined;
    const object = this.informers.get(resourceId(identity.resource))?.get(identity.namespace ? `${identity.namespace}/${identity.name}` : identity.name);
    return object ? { identity, object } : undefined;
  }

  private index(resource: ServedResource, o: KubeObject): void {
    const key = this.keyOf(resource, o);
    if (o.metadata.uid) this.uidToKey.set(o.metadata.uid, key);
    for (const ref of ownerRefsOf(o)) {
      let set = this.dependentKeys.get(ref.uid);
      if (!set) this.dependentKeys.set(ref.uid, (set = new Set()));
      set.add(key);
    }
  }

  private unindex(resource: ServedResource, o: KubeObject): void {
    const key = this.keyOf(resource, o);
    if (o.metadata.uid && this.uidToKey.get(o.metadata.uid) === key) this.uidToKey.delete(o.metadata.uid);
    for (const ref of ownerRefsOf(o)) {
      const set = this.dependentKeys.get(ref.uid);
      set?.delete(key);
      if (set?.size === 0) this.dependentKeys.delete(ref.uid);
    }
  }

  /** The cached owner an ownerReference points to, if the cache holds exactly that object. */
  private localOwner(ref: OwnerReference, ownerResource: ServedResource, dependentNamespace: string | undefined): KubeObject | undefined {
    const key = this.uidToKey.get(ref.uid);
    if (!key) return undefined;
    const found = this.cached(key);
    if (!found || found.identity.resource !== ownerResource || found.object.metadata.name !== ref.name) return undefined;
    if (ownerResource.namespaced && found.object.metadata.namespace !== dependentNamespace) return undefined;
    return found.object;
  }

  /** The objects (from the caches) whose ownerReferences name this uid. */
  private dependentsOf(uid: string): { identity: Identity; object: KubeObject; ref: OwnerReference }[] {
    const out: { identity: Identity; object: KubeObject; ref: OwnerReference }[] = [];
    for (const key of this.dependentKeys.get(uid) ?? []) {
      const found = this.cached(key);
      const ref = found && ownerRefsOf(found.object).find((r) => r.uid === uid);
      if (found && ref) out.push({ ...found, ref });
    }
    return out;
  }

  private enqueueOwnerIfWaiting(ref: OwnerReference, enqueue: (key: string) => void): void {
    const key = this.uidToKey.get(ref.uid);
    const owner = key ? this.cached(key) : undefined;
    if (key && owner && deletingDependents(owner.object)) enqueue(key);
  }

  /** What a change means for the queue (the graph builder's processTransitions and virtual-node checks). */
  private onObjectChange(resource: ServedResource, old: KubeObject | undefined, o: KubeObject, enqueue: (key: string) => void): void {
    const key = this.keyOf(resource, o);
    if (beingDeleted(o)) {
      if (hasFinalizer(o, ORPHAN_FINALIZER) || hasFinalizer(o, FOREGROUND_FINALIZER)) enqueue(key);
      // Entering foreground deletion: every dependent is attempted.
      if (deletingDependents(o) && !(old && deletingDependents(old))) {
        for (const dep of this.dependentKeys.get(o.metadata.uid ?? '') ?? []) enqueue(dep);
      }
    }
    // A foreground owner waits on its blocking dependents: any change of theirs may unblock it.
    for (const ref of [...(old ? ownerRefsOf(old) : []), ...ownerRefsOf(o)]) this.enqueueOwnerIfWaiting(ref, enqueue);
    if (beingDeleted(o) || !this.synced) return;
    // A dependent whose owner is unknown locally, or waiting for its dependents, needs a decision.
    for (const ref of ownerRefsOf(o)) {
      const ownerResource = this.mapper.forKind(ref.apiVersion, ref.kind);
      const owner = ownerResource && this.localOwner(ref, ownerResource, o.metadata.namespace);
      if (!owner || deletingDependents(owner)) {
        enqueue(key);
        return;
      }
    }
  }

  // ---- decisions ----

  /** attemptToDeleteItem: collect an object whose owners are all gone (or all waiting for their dependents). */
  private async attemptToDelete(latest: KubeObject, identity: Identity, context: ControllerContext): Promise<ReconcileResult> {
    const refs = ownerRefsOf(latest);
    if (refs.length === 0) return;
    const solid: OwnerReference[] = [];
    const dangling: OwnerReference[] = [];
    const waiting: OwnerReference[] = [];
    for (const ref of refs) {
      const ownerResource = this.mapper.forKind(ref.apiVersion, ref.kind);
      if (!ownerResource) {
        // An owner of a kind this server does not serve: never collected on its account.
        context.log.debug('ownerReference to an unknown kind', { object: identity.name, apiVersion: ref.apiVersion, kind: ref.kind });
        solid.push(ref);
        continue;
      }
      if (!identity.resource.namespaced && ownerResource.namespaced) {
        // A cluster-scoped object cannot have a namespaced owner: report it and leave the object alone.
        this.recorder?.event(
          withKind(latest, identity.resource),
          'Warning',
          'OwnerRefInvalidNamespace',
          `ownerRef [${ref.apiVersion}/${ref.kind}, namespace: , name: ${ref.name}, uid: ${ref.uid}] does not exist in namespace ""`,
        );
        return;
      }
      const owner = this.localOwner(ref, ownerResource, latest.metadata.namespace) ?? (await this.liveOwner(ref, ownerResource, latest.metadata.namespace, context));
      if (!owner) dangling.push(ref);
      else if (deletingDependents(owner)) waiting.push(ref);
      else solid.push(ref);
    }
    const client = context.client.resource(identity.resource);
    if (solid.length > 0) {
      if (dangling.length === 0 && waiting.length === 0) return;
      // Keep the object, but drop references that would keep a foreground owner waiting forever.
      const drop = new Set([...dangling, ...waiting].map((r) => r.uid));
      await this.patchOwnerReferences(client, latest, refs.filter((r) => !drop.has(r.uid)));
      return;
    }
    const ownDependents = this.dependentsOf(latest.metadata.uid ?? '');
    if (waiting.length > 0 && ownDependents.length > 0) {
      // Its owner waits for it, and it has dependents of its own: delete it in the foreground too.
      if (ownDependents.some((d) => deletingDependents(d.object))) {
        // A possible cycle: make its own references non-blocking first.
        await this.patchOwnerReferences(client, latest, refs.map((r) => (r.blockOwnerDeletion ? { ...r, blockOwnerDeletion: false } : r)));
        return { requeue: true };
      }
      return this.deleteObject(client, latest, 'Foreground');
    }
    const policy = hasFinalizer(latest, ORPHAN_FINALIZER) ? 'Orphan' : hasFinalizer(latest, FOREGROUND_FINALIZER) ? 'Foreground' : 'Background';
    return this.deleteObject(client, latest, policy);
  }

  /** isDangling's API lookup: the owner, or undefined when absent or replaced (another uid). */
  private async liveOwner(ref: OwnerReference, ownerResource: ServedResource, namespace: string | undefined, context: ControllerContext): Promise<KubeObject | undefined> {
    try {
      const owner = await context.client.resource(ownerResource).get(ownerResource.namespaced ? namespace : undefined, ref.name);
      return owner.metadata.uid === ref.uid ? owner : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** processDeletingDependentsItem: a foreground owner loses its finalizer once no blocking dependent is left. */
  private async processDeletingDependents(owner: KubeObject, identity: Identity, context: ControllerContext): Promise<ReconcileResult> {
    const blocking = this.dependentsOf(owner.metadata.uid ?? '').filter((d) => d.ref.blockOwnerDeletion === true);
    if (blocking.length === 0) {
      await this.removeFinalizer(context.client.resource(identity.resource), identity, FOREGROUND_FINALIZER);
      return;
    }
    // Deleting a blocking dependent is that dependent's own decision (attemptToDelete); its changes bring us back here.
    for (const dep of blocking) {
      if (!deletingDependents(dep.object)) this.enqueue?.(this.keyOf(dep.identity.resource, dep.object));
    }
    return;
  }

  /** attemptToOrphan: remove the owner from its dependents' ownerReferences, then the `orphan` finalizer. */
  private async orphanDependents(owner: KubeObject, identity: Identity, context: ControllerContext): Promise<void> {
    const uid = owner.metadata.uid ?? '';
    for (const dep of this.dependentsOf(uid)) {
      const client = context.client.resource(dep.identity.resource);
      try {
        const live = await client.get(dep.identity.namespace, dep.identity.name);
        const refs = ownerRefsOf(live);
        if (refs.some((r) => r.uid === uid)) await this.patchOwnerReferences(client, live, refs.filter((r) => r.uid !== uid));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    await this.removeFinalizer(context.client.resource(identity.resource), identity, ORPHAN_FINALIZER);
  }

  // ---- writes ----

  /** A merge patch of ownerReferences, conditional on the object's uid and resourceVersion. */
  private async patchOwnerReferences(client: ResourceClient, live: KubeObject, refs: OwnerReference[]): Promise<void> {
    await client.patch(live.metadata.namespace, live.metadata.name!, 'merge', {
      metadata: { ownerReferences: refs.length > 0 ? refs : null, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion },
    });
  }

  private async removeFinalizer(client: ResourceClient, identity: Identity, finalizer: string): Promise<void> {
    try {
      const live = await client.get(identity.namespace, identity.name);
      const finalizers = live.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      await client.patch(identity.namespace, identity.name, 'merge', {
        metadata: { finalizers: rest.length > 0 ? rest : null, uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion },
      });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** deleteObject: delete with uid + resourceVersion preconditions; retry on the uid alone if only unrelated fields changed. */
  private async deleteObject(client: ResourceClient, latest: KubeObject, policy: NonNullable<ClientDeleteOptions['propagationPolicy']>): Promise<ReconcileResult> {
    const namespace = latest.metadata.namespace;
    const name = latest.metadata.name!;
    const uid = latest.metadata.uid;
    try {
      await client.delete(namespace, name, { propagationPolicy: policy, preconditions: { uid, resourceVersion: latest.metadata.resourceVersion } });
      return;
    } catch (error) {
      if (isNotFound(error)) return;
      if (!isConflict(error)) throw error;
    }
    // The object changed since we decided: delete anyway only if its owners did not.
    let live: KubeObject;
    try {
      live = await client.get(namespace, name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (live.metadata.uid !== uid) return;
    if (!jsonEqual(live.metadata.ownerReferences ?? [], latest.metadata.ownerReferences ?? [])) return { requeue: true };
    try {
      await client.delete(namespace, name, { propagationPolicy: policy, preconditions: { uid } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return;
  }
}

/** The object with its kind and apiVersion, as events need them. */
function withKind(o: KubeObject, resource: ServedResource): KubeObject {
  return { ...o, kind: resource.kind, apiVersion: resource.group ? `${resource.group}/${resource.version}` : resource.version };
}

/**
 * The garbage collector controller. Keys are `group/resource|namespace|name`.
 * @param options which resources take part (default: every served resource but events) and how many workers run.
 */
export function garbageCollectorController(options: GarbageCollectorOptions = {}): Controller {
  return new GarbageCollector(options);
}
