/**
 * An informer: list + watch of one resource into a local cache, with event
 * handlers. The watch resumes from the last seen resourceVersion when it ends,
 * and relists when that version has been compacted (410), so the cache always
 * converges on the server's state. Like client-go's SharedIndexInformer, one
 * informer per resource is shared by every controller that needs it.
 */
import type { KubeObject } from '../apimachinery/types.js';
import { StatusError } from '../apimachinery/errors.js';
import { logger } from '../util/log.js';
import { objectKey, type ApiClient, type ClientListOptions, type ClientWatch, type ResourceClient, type ResourceRef } from './types.js';

const log = logger('informer');

/** Callbacks an informer calls after its cache changed. */
export interface InformerHandlers {
  onAdd?(object: KubeObject): void;
  onUpdate?(oldObject: KubeObject, newObject: KubeObject): void;
  /** For a delete, the last state known. */
  onDelete?(object: KubeObject): void;
}

export interface InformerOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Every so often, handlers see every object again as an update (level-triggered safety net). 0 = never. */
  resyncMs?: number;
}

/** A cache of one resource kept in sync by list + watch. */
export class Informer {
  private readonly cache = new Map<string, KubeObject>();
  private readonly handlers: InformerHandlers[] = [];
  private watch?: ClientWatch;
  private resourceVersion = '';
  private stopped = false;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private resyncTimer?: NodeJS.Timeout;
  private retryTimer?: NodeJS.Timeout;

  constructor(
    private readonly client: ResourceClient,
    private readonly options: InformerOptions = {},
  ) {}

  /** Registers handlers; objects already cached are replayed as adds. */
  addHandlers(handlers: InformerHandlers): void {
    this.handlers.push(handlers);
    if (this.synced) for (const object of this.cache.values()) handlers.onAdd?.(object);
  }

  /** Starts listing and watching. */
  start(): void {
    void this.relist();
    if (this.options.resyncMs) {
      this.resyncTimer = setInterval(() => {
        for (const object of this.cache.values()) for (const h of this.handlers) h.onUpdate?.(object, object);
      }, this.options.resyncMs);
      this.resyncTimer.unref();
    }
  }

  stop(): void {
    this.stopped = true;
    this.watch?.stop();
    clearInterval(this.resyncTimer);
    clearTimeout(this.retryTimer);
  }

  /** Resolves once the first list has been loaded into the cache. */
  hasSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached object with this key ("ns/name" or "name"). */
  get(key: string): KubeObject | undefined {
    return this.cache.get(key);
  }

  /** Every cached object (optionally only one namespace's). */
  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  private listOptions(): ClientListOptions {
    return { labelSelector: this.options.labelSelector, fieldSelector: this.options.fieldSelector };
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const list = await this.client.list(this.options.namespace, this.listOptions());
      const seen = new Set<string>();
      for (const object of list.items) {
        const key = objectKey(object);
        seen.add(key);
        this.store(key, object);
      }
      for (const [key, object] of [...this.cache]) {
        if (!seen.has(key)) {
          this.cache.delete(key);
          for (const h of this.handlers) h.onDelete?.(object);
        }
      }
      this.resourceVersion = list.resourceVersion;
      if (!this.synced) {
        this.synced = true;
        for (const resolve of this.syncWaiters.splice(0)) resolve();
      }
      this.startWatch();
    } catch (error) {
      log.warn('list failed; retrying', { error });
      this.retryTimer = setTimeout(() => void this.relist(), 1000);
      this.retryTimer.unref();
    }
  }

  private startWatch(): void {
    if (this.stopped) return;
    this.watch = this.client.watch(
      this.options.namespace,
      { ...this.listOptions(), resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (event) => {
        const object = event.object;
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (event.type === 'BOOKMARK') return;
        const key = objectKey(object);
        if (event.type === 'DELETED') {
          const last = this.cache.get(key) ?? object;
          this.cache.delete(key);
          for (const h of this.handlers) h.onDelete?.(last);
        } else {
          this.store(key, object);
        }
      },
      (error) => {
        if (this.stopped) return;
        // 410: our resourceVersion was compacted away; anything else: resume from where we were.
        const expired = error instanceof StatusError && error.code === 410;
        if (expired) void this.relist();
        else {
          this.retryTimer = setTimeout(() => this.startWatch(), 200);
          this.retryTimer.unref();
        }
      },
    );
  }

  private store(key: string, object: KubeObject): void {
    const previous = this.cache.get(key);
    this.cache.set(key, object);
    if (!previous) for (const h of this.handlers) h.onAdd?.(object);
    else if (previous.metadata.resourceVersion !== object.metadata.resourceVersion) for (const h of this.handlers) h.onUpdate?.(previous, object);
  }
}

/** Informers shared per resource (and namespace/selectors), so each resource is watched once. */
export class InformerFactory {
  private readonly informers = new Map<string, Informer>();
  private started = false;

  constructor(private readonly client: ApiClient) {}

  /** The shared informer of a resource (per namespace and selectors). */
  informer(ref: ResourceRef, options: InformerOptions = {}): Informer {
    const key = `${ref.group}/${ref.resource}|${options.namespace ?? ''}|${options.labelSelector ?? ''}|${options.fieldSelector ?? ''}`;
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer(this.client.resource(ref), options);
      this.informers.set(key, informer);
      if (this.started) informer.start();
    }
    return informer;
  }

  /** Starts every informer (and those created later). */
  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  /** Resolves when every informer has loaded its first list. */
  async waitForSync(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.hasSynced()));
  }

  stop(): void {
    for (const informer of this.informers.values()) informer.stop();
  }
}
