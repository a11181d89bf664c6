/**
 * The watch cache: one per resource, fed by a single storage watch (as
 * Kubernetes' cacher). It holds every live object of the resource, parsed,
 * with its resourceVersion set, plus a window of recent events. LIST at the
 * latest revision and WATCH are answered from here; storage is for durability
 * and for reads at a past revision.
 *
 * Objects are encoded to JSON once per revision (lazily) and shared by every
 * list and watcher that sends them.
 */
import type { Storage, StorageEvent, Watcher } from '../storage/interface.js';
import type { KubeObject } from '../apimachinery/types.js';
import { logger } from '../util/log.js';

const log = logger('watch-cache');

/** One object at one revision, decoded once and encoded at most once. */
export class CachedObject {
  private json?: string;
  constructor(
    readonly key: string,
    readonly object: KubeObject,
    readonly revision: number,
  ) {}

  /** The object's JSON (without kind/apiVersion, as list items are sent). */
  encoded(): string {
    if (this.json === undefined) this.json = JSON.stringify(this.object);
    return this.json;
  }
}

export type CacheEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** A change as the cache saw it: the new object (or last state for DELETED) and the previous one. */
export interface CacheEvent {
  type: CacheEventType;
  revision: number;
  object: CachedObject;
  previous?: CachedObject;
}

/** A live subscription to a cache. */
export interface CacheWatcher {
  stop(): void;
}

/** Turns a stored value into an object with metadata.resourceVersion set. */
export function decodeStored(value: string, revision: number): KubeObject {
  const object = JSON.parse(value) as KubeObject;
  object.metadata ??= {};
  object.metadata.resourceVersion = String(revision);
  return object;
}

/** Live objects and recent history of one resource (one storage prefix). */
export class WatchCache {
  private readonly objects = new Map<string, CachedObject>();
  private sortedKeys: string[] | null = null;
  private readonly history: CacheEvent[] = [];
  private readonly subscribers = new Set<(event: CacheEvent) => void>();
  private storageWatcher?: Watcher;
  /** Revision the cache reflects: every event up to here has been applied. */
  revision = 0;
  /** Revision of the last change to this resource: the cached state equals the state at any revision since. */
  lastChangeRevision = 0;
  /** Oldest revision after which the history window is complete. */
  private historyStart = 0;

  constructor(
    private readonly storage: Storage,
    readonly prefix: string,
    private readonly historyLimit = 1000,
  ) {}

  /** Loads the current state and starts following the storage log. */
  async start(): Promise<void> {
    let startKey: string | undefined;
    let revision = 0;
    // Read in pages at one revision so start-up memory stays flat for big stores.
    for (;;) {
      const page = await this.storage.list({ prefix: this.prefix, revision, limit: 1000, startKey });
      revision = page.revision;
      for (const kv of page.items) {
        this.objects.set(kv.key, new CachedObject(kv.key, decodeStored(kv.value, kv.modRevision), kv.modRevision));
      }
      if (page.remaining === 0 || page.items.length === 0) break;
      startKey = page.items[page.items.length - 1].key + '\0';
    }
    this.revision = revision;
    this.lastChangeRevision = revision;
    this.historyStart = revision;
    this.storageWatcher = this.storage.watch(this.prefix, revision, {
      onEvent: (event) => this.apply(event),
      onError: (error) => log.error('storage watch ended', { prefix: this.prefix, error }),
    });
  }

  stop(): void {
    this.storageWatcher?.stop();
    this.subscribers.clear();
  }

  private apply(event: StorageEvent): void {
    const previous = this.objects.get(event.key);
    const object = new CachedObject(event.key, decodeStored(event.value, event.revision), event.revision);
    let type: CacheEventType;
    if (event.type === 'delete') {
      type = 'DELETED';
      this.objects.delete(event.key);
      this.sortedKeys = null;
    } else {
      type = previous ? 'MODIFIED' : 'ADDED';
      if (!previous) this.sortedKeys = null;
      this.objects.set(event.key, object);
    }
    const cacheEvent: CacheEvent = { type, revision: event.revision, object, previous };
    this.revision = event.revision;
    this.lastChangeRevision = event.revision;
    this.history.push(cacheEvent);
    if (this.history.length > this.historyLimit) {
      const dropped = this.history.shift()!;
      this.historyStart = dropped.revision;
    }
    for (const subscriber of this.subscribers) {
      try {
        subscriber(cacheEvent);
      } catch (error) {
        log.error('watcher failed', { error });
        this.subscribers.delete(subscriber);
      }
    }
  }

  /** The object at `key`, if live. */
  get(key: string): CachedObject | undefined {
    return this.objects.get(key);
  }

  /** Number of live objects. */
  get size(): number {
    return this.objects.size;
  }

  /** Live objects whose key starts with `prefix`, in key order, starting at `startKey` (inclusive). */
  *list(prefix: string, startKey?: string): Generator<CachedObject> {
    if (!this.sortedKeys) this.sortedKeys = [...this.objects.keys()].sort();
    const keys = this.sortedKeys;
    const from = startKey && startKey > prefix ? startKey : prefix;
    let index = lowerBound(keys, from);
    for (; index < keys.length; index++) {
      const key = keys[index];
      if (!key.startsWith(prefix)) break;
      const object = this.objects.get(key);
      if (object) yield object;
    }
  }

  /**
   * Subscribes to events with revision > `afterRevision`: first replays the
   * history window, then live events. Returns undefined when the window no
   * longer reaches back that far (the caller then replays from storage).
   */
  watch(afterRevision: number, onEvent: (event: CacheEvent) => void): CacheWatcher | undefined {
    if (afterRevision < this.historyStart) return undefined;
    for (const event of this.history) if (event.revision > afterRevision) onEvent(event);
    this.subscribers.add(onEvent);
    return { stop: () => this.subscribers.delete(onEvent) };
  }

  /** Number of active subscribers (for /metrics). */
  get watcherCount(): number {
    return this.subscribers.size;
  }
}

function lowerBound(sorted: string[], value: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (sorted[mid] < value) low = mid + 1;
    else high = mid;
  }
  return low;
}
