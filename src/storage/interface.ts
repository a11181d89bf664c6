/**
 * The one storage interface every backend implements, with etcd's semantics:
 * a single global revision counter (the resourceVersion of every object),
 * compare-and-swap writes, reads at a past revision, and watches that replay
 * the log from a revision. The conformance suite in ./conformance.ts proves a
 * backend follows it; the SQLite backend is the embedded default.
 */

/** One key at one revision. `value` is the object's JSON text as stored. */
export interface KeyValue {
  key: string;
  value: string;
  /** Revision at which this key was (last) created. */
  createRevision: number;
  /** Revision of the write that produced this value. */
  modRevision: number;
}

export interface ListOptions {
  /** Keys that start with this prefix (use a trailing "/" to stay within a folder). */
  prefix: string;
  /** Read the state as of this revision; 0 or undefined = latest. */
  revision?: number;
  /** At most this many items; 0 or undefined = all. */
  limit?: number;
  /** Start at this key (inclusive), for pagination. */
  startKey?: string;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at (the latest revision when none was asked). */
  revision: number;
  /** Number of keys under the prefix after the returned page (0 when none). */
  remaining: number;
}

export type StorageEventType = 'create' | 'update' | 'delete';

/** One change in the log. */
export interface StorageEvent {
  type: StorageEventType;
  key: string;
  /** Revision of this change. */
  revision: number;
  /** The value after the change; for a delete, the last value before it. */
  value: string;
  /** The value before the change (absent on create). */
  prevValue?: string;
  /** Revision at which the key was created. */
  createRevision: number;
  /** modRevision of the previous value (absent on create). */
  prevRevision?: number;
}

/** A running watch; `stop()` is idempotent. */
export interface Watcher {
  stop(): void;
}

export interface WatchHandlers {
  /** Called for each event, in revision order, never concurrently. */
  onEvent(event: StorageEvent): void;
  /** Called once if the watch ends with an error (then no more events). */
  onError?(error: Error): void;
}

/** Error codes a backend raises; the API layer maps them to Status errors. */
export type StorageErrorCode = 'KeyExists' | 'NotFound' | 'Conflict' | 'Compacted' | 'Closed';

/** The one error type backends throw. */
export class StorageError extends Error {
  constructor(
    readonly code: StorageErrorCode,
    readonly key: string,
    message?: string,
    /** For Conflict: the current value, so callers can retry without another read. */
    readonly current?: KeyValue,
  ) {
    super(message ?? `${code}: ${key}`);
    this.name = 'StorageError';
  }
}

export interface Storage {
  /** Latest (or as-of-`revision`) value of a key; undefined when absent. Throws Compacted for a compacted revision. */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;

  /** Keys under a prefix in key order, as of a revision. Throws Compacted for a compacted revision. */
  list(options: ListOptions): Promise<ListResult>;

  /** Number of live keys under a prefix. */
  count(prefix: string): Promise<number>;

  /** Creates a key; throws KeyExists if it is live. Resolves once durable. */
  create(key: string, value: string): Promise<KeyValue>;

  /**
   * Replaces a key's value if its modRevision is `expectedRevision`.
   * Throws NotFound if absent, Conflict (with the current value) otherwise. Resolves once durable.
   */
  update(key: string, value: string, expectedRevision: number): Promise<KeyValue>;

  /**
   * Deletes a key (if `expectedRevision` is given, only at that modRevision).
   * Resolves with the deleted value and the delete's revision as modRevision.
   * Throws NotFound / Conflict like update. Resolves once durable.
   */
  delete(key: string, expectedRevision?: number): Promise<KeyValue>;

  /**
   * Streams every change under `prefix` with revision > `afterRevision`, first
   * the ones already in the log, then live ones. Throws (synchronously or via
   * onError) Compacted if `afterRevision` is older than the compacted revision.
   */
  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Watcher;

  /** The latest revision (0 on an empty store). */
  currentRevision(): Promise<number>;

  /** The revision up to which history has been compacted (0 if never). */
  compactedRevision(): Promise<number>;

  /** Drops history at or below `revision` except the latest value of each live key. */
  compact(revision: number): Promise<void>;

  /** Flushes and releases resources; later calls throw Closed. */
  close(): Promise<void>;
}
