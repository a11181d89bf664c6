/**
 * The embedded storage backend: etcd semantics over one append-only SQLite
 * log, after kine (k3s-io/kine). Each row is one event; its INTEGER PRIMARY
 * KEY is the global revision. A read at revision R is the newest row of each
 * key with revision <= R that is not a delete marker.
 *
 * What makes it fast and safe in one process:
 * - the live keys (latest value, revisions) are held in memory, so latest
 *   reads and compare-and-swap checks never touch SQL; only reads at an
 *   older revision and watch replays older than the in-memory ring do;
 * - writes are group-committed: every write queued in one event-loop turn is
 *   committed in one transaction (one fsync), each still getting its own
 *   revision and its own success or failure;
 * - watchers are fed from the same in-process log right after each commit,
 *   before the writers' promises resolve;
 * - compaction keeps the file bounded, and the database is opened with an
 *   exclusive lock so no second process can write behind the memory state.
 */
import Database from 'better-sqlite3';
import {
  StorageError,
  type KeyValue,
  type ListOptions,
  type ListResult,
  type Storage,
  type StorageEvent,
  type Watcher,
  type WatchHandlers,
} from '../interface.js';

/** Tuning for {@link SqliteStorage.open}. */
export interface SqliteStorageOptions {
  /** Revisions of history automatic compaction keeps behind the latest (default 1000, like kine). */
  compactKeep?: number;
  /** Period of the automatic compaction timer in ms (default 60 000; 0 disables the timer, not the write-count trigger). */
  compactIntervalMs?: number;
  /** How long open waits for another process to release the file (default 5000 ms). */
  busyTimeoutMs?: number;
}

/** Counters for metrics and tests. */
export interface SqliteStorageStats {
  revision: number;
  compactedRevision: number;
  liveKeys: number;
  /** Write operations processed (including failed CAS). */
  writes: number;
  /** Transactions committed for those writes (group commit makes this much smaller). */
  commits: number;
  compactions: number;
}

const DEFAULT_COMPACT_KEEP = 1000;
const DEFAULT_COMPACT_INTERVAL_MS = 60_000;
/** Events kept in memory for watch replay; older ones are read back from SQL. */
const RING_CAPACITY = 10_000;
/** Upper bound on writes per transaction, so one flush never blocks the loop for long. */
const MAX_BATCH = 8192;
/** Revisions compacted per transaction; the loop yields between chunks. */
const COMPACT_CHUNK = 10_000;
/**
 * Checkpoint the WAL every this many pages (~1 MB; SQLite's default is 1000).
 * With one connection and no long readers every checkpoint completes, so this
 * bounds the WAL (kine's WAL growth came from readers pinning old snapshots).
 */
const WAL_AUTOCHECKPOINT_PAGES = 256;
/**
 * After a checkpoint resets the WAL, a larger file (from a big transaction or
 * a compaction landing on top of the autocheckpoint threshold) is truncated
 * back to this; below it the WAL is reused in place.
 */
const JOURNAL_SIZE_LIMIT_BYTES = 1024 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision        INTEGER PRIMARY KEY,
  key             TEXT    NOT NULL,
  created         INTEGER NOT NULL,
  deleted         INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision   INTEGER NOT NULL,
  value           TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
`;

/** A row of the log as read back. */
interface LogRow {
  revision: number;
  key: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string;
}

/** A log row joined with its predecessor's value (for update events). */
interface EventRow extends LogRow {
  prev_value: string | null;
}

type InsertParams = [number, string, number, number, number, number, string];

type WriteKind = 'create' | 'update' | 'delete';

/** One queued write; all share one shape so the flush loop stays monomorphic. */
interface PendingWrite {
  kind: WriteKind;
  key: string;
  value: string;
  /** Required modRevision; undefined for create and unconditional delete. */
  expected: number | undefined;
  resolve: (kv: KeyValue) => void;
  reject: (error: Error) => void;
}

/**
 * Compares keys in Unicode code point order, which is the UTF-8 byte order
 * SQLite (BINARY collation) and etcd use. Plain `<` compares UTF-16 code
 * units, which differs only where a surrogate meets U+E000..U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        const xs = x < 0xe000;
        const ys = y < 0xe000;
        if (xs !== ys) return xs ? 1 : -1;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key starting with `prefix`, or
 * undefined when there is none (empty prefix). Ranges are [prefix, end) so
 * that keys containing LIKE wildcards (% and _) need no escaping.
 */
export function prefixEnd(prefix: string): string | undefined {
  const last = prefix.charCodeAt(prefix.length - 1);
  if (last < 0xd7ff) return prefix.slice(0, -1) + String.fromCharCode(last + 1);
  const points = Array.from(prefix);
  for (let i = points.length - 1; i >= 0; i--) {
    const cp = points[i]!.codePointAt(0)!;
    if (cp < 0x10ffff) {
      return points.slice(0, i).join('') + String.fromCodePoint(cp === 0xd7ff ? 0xe000 : cp + 1);
    }
  }
  return undefined;
}

type Compare = (a: string, b: string) => number;

/** UTF-16 code unit order: the engine's native (fast) string comparison. */
const compareNative: Compare = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Whether native order equals code point order for this key against any other such key. */
function isPlainKey(key: string): boolean {
  return !/[\ud800-\uffff]/.test(key);
}

/** Index of the first element of sorted `a` that is >= key. */
function lowerBound(a: readonly string[], key: string, cmp: Compare): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cmp(a[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The live keys in code point order, as a list of small sorted chunks:
 * inserts and deletes move at most one chunk's worth of references, and a
 * range scan starts with two binary searches. While no key holds a character
 * at or above U+D800 (the usual case) the native comparison is exact and used.
 */
class SortedKeys {
  private static readonly CHUNK = 512;
  private chunks: string[][] = [];
  /** Keys for which native comparison may disagree with code point order. */
  private unusual = 0;
  size = 0;

  /** Builds from keys already in order. */
  static fromSorted(keys: string[]): SortedKeys {
    const set = new SortedKeys();
    for (let i = 0; i < keys.length; i += SortedKeys.CHUNK / 2) set.chunks.push(keys.slice(i, i + SortedKeys.CHUNK / 2));
    set.size = keys.length;
    for (const key of keys) if (!isPlainKey(key)) set.unusual++;
    return set;
  }

  /** The comparison to use with `probe`: native when that is exact. */
  private compareFor(probe: string, probe2?: string): Compare {
    return this.unusual === 0 && isPlainKey(probe) && (probe2 === undefined || isPlainKey(probe2)) ? compareNative : compareKeys;
  }

  /** Index of the first chunk whose last key is >= key (chunks.length if none). */
  private chunkFor(key: string, cmp: Compare): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid]!;
      if (cmp(c[c.length - 1]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(key: string): void {
    const cmp = this.compareFor(key);
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
    } else {
      const ci = Math.min(this.chunkFor(key, cmp), this.chunks.length - 1);
      const chunk = this.chunks[ci]!;
      const i = lowerBound(chunk, key, cmp);
      if (chunk[i] === key) return;
      chunk.splice(i, 0, key);
      if (chunk.length > SortedKeys.CHUNK) this.chunks.splice(ci + 1, 0, chunk.splice(SortedKeys.CHUNK / 2));
    }
    this.size++;
    if (!isPlainKey(key)) this.unusual++;
  }

  delete(key: string): void {
    const cmp = this.compareFor(key);
    const ci = this.chunkFor(key, cmp);
    const chunk = this.chunks[ci];
    if (!chunk) return;
    const i = lowerBound(chunk, key, cmp);
    if (chunk[i] !== key) return;
    chunk.splice(i, 1);
    if (chunk.length === 0) this.chunks.splice(ci, 1);
    this.size--;
    if (!isPlainKey(key)) this.unusual--;
  }

  /** Number of keys < key. */
  private rank(key: string, cmp: Compare): number {
    const ci = this.chunkFor(key, cmp);
    let n = 0;
    for (let c = 0; c < ci; c++) n += this.chunks[c]!.length;
    const chunk = this.chunks[ci];
    return chunk ? n + lowerBound(chunk, key, cmp) : n;
  }

  /** Number of keys in [from, end); end undefined = no upper bound. */
  count(from: string, end: string | undefined): number {
    const cmp = this.compareFor(from, end);
    const hi = end === undefined ? this.size : this.rank(end, cmp);
    return Math.max(0, hi - this.rank(from, cmp));
  }

  /** Up to `limit` keys (0 = all) in [from, end), in order. */
  range(from: string, end: string | undefined, limit: number): string[] {
    const cmp = this.compareFor(from, end);
    const out: string[] = [];
    let ci = this.chunkFor(from, cmp);
    if (ci >= this.chunks.length) return out;
    let i = lowerBound(this.chunks[ci]!, from, cmp);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const chunk = this.chunks[ci]!;
      for (; i < chunk.length; i++) {
        const key = chunk[i]!;
        if (end !== undefined && cmp(key, end) >= 0) return out;
        out.push(key);
        if (out.length === limit) return out;
      }
    }
    return out;
  }
}

/**
 * The most recent events, in revision order. Revisions are contiguous (every
 * successful write takes exactly one), so the event at revision r sits at
 * offset r - floor - 1 and every event after `floor` is here.
 */
class EventRing {
  private readonly buf: (StorageEvent | undefined)[];
  private head = 0;
  private size = 0;

  /** Every event with revision > floor is in the ring. */
  constructor(
    private readonly capacity: number,
    public floor: number,
  ) {
    this.buf = new Array<StorageEvent | undefined>(capacity);
  }

  /** Revision of the newest event held (floor when empty). */
  get last(): number {
    return this.floor + this.size;
  }

  push(event: StorageEvent): void {
    if (event.revision !== this.floor + this.size + 1) {
      // Not contiguous (cannot happen in one process); start afresh rather than serve a gap.
      this.head = 0;
      this.size = 0;
      this.floor = event.revision - 1;
    }
    if (this.size < this.capacity) {
      this.buf[(this.head + this.size) % this.capacity] = event;
      this.size++;
    } else {
      this.floor = this.buf[this.head]!.revision;
      this.buf[this.head] = event;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  /** Events with revision > after (after must be >= floor) whose key starts with prefix. */
  since(after: number, prefix: string, out: StorageEvent[]): void {
    for (let j = Math.max(0, after - this.floor); j < this.size; j++) {
      const event = this.buf[(this.head + j) % this.capacity]!;
      if (event.key.startsWith(prefix)) out.push(event);
    }
  }
}

/**
 * One registered watch. The replay is delivered from a microtask (not inside
 * `watch()`, so the caller holds the Watcher first); live events queue behind it.
 */
class Watch implements Watcher {
  /** Events waiting for delivery while the replay has not run yet; undefined once live. */
  backlog: StorageEvent[] | undefined;
  private stopped = false;

  constructor(
    readonly prefix: string,
    /** Live events at or below this revision are already in the replay. */
    readonly through: number,
    private readonly handlers: WatchHandlers,
    private readonly detach: (watch: Watch) => void,
    replay: StorageEvent[],
  ) {
    this.backlog = replay;
    queueMicrotask(() => this.drain());
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.backlog = undefined;
    this.detach(this);
  }

  /** Hands one live event to the watcher (the caller checked revision and prefix). */
  deliver(event: StorageEvent): void {
    if (this.backlog) this.backlog.push(event);
    else this.emit(event);
  }

  /** Ends the watch with an error; a throwing onError is ignored. */
  fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    try {
      this.handlers.onError?.(error instanceof Error ? error : new Error(String(error)));
    } catch {
      // The watch is over either way.
    }
  }

  private emit(event: StorageEvent): void {
    try {
      this.handlers.onEvent(event);
    } catch (error) {
      this.fail(error);
    }
  }

  private drain(): void {
    const backlog = this.backlog;
    if (!backlog) return;
    // Index loop: the backlog may grow while we deliver (close() flushes synchronously, for one).
    for (let i = 0; i < backlog.length && this.backlog; i++) this.emit(backlog[i]!);
    this.backlog = undefined;
  }
}

/** Two variants of a range statement: with an upper key bound, and without (empty prefix). */
interface RangeStatements<P extends object, R> {
  bounded: Database.Statement<P, R>;
  unbounded: Database.Statement<P, R>;
}

interface ListAtParams {
  start: string;
  end?: string;
  rev: number;
  limit: number;
}

interface CountAtParams {
  start: string;
  end?: string;
  rev: number;
}

/** The SQLite-backed {@link Storage}. Open with {@link SqliteStorage.open}. */
export class SqliteStorage implements Storage {
  private revision: number;
  private compacted: number;
  private readonly live = new Map<string, KeyValue>();
  private readonly keys: SortedKeys;
  private readonly ring: EventRing;
  private readonly watchers = new Set<Watch>();

  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;

  private readonly compactKeep: number;
  /** Automatic compaction runs once history exceeds compactKeep by this many revisions. */
  private readonly compactStep: number;
  private compaction: Promise<void> = Promise.resolve();
  private autoCompacting = false;
  private readonly timer: NodeJS.Timeout | undefined;

  private readonly counters = { writes: 0, commits: 0, compactions: 0 };

  private readonly insertRow: Database.Statement<InsertParams>;
  private readonly commitRows: (rows: InsertParams[]) => void;
  private readonly getAtStmt: Database.Statement<[string, number], LogRow>;
  private readonly eventsStmt: Database.Statement<[number, number], EventRow>;
  private readonly listAtStmts: RangeStatements<ListAtParams, LogRow>;
  private readonly countAtStmts: RangeStatements<CountAtParams, { n: number }>;
  private readonly compactChunk: (lo: number, hi: number) => void;

  private constructor(
    private readonly db: Database.Database,
    options: SqliteStorageOptions,
  ) {
    this.compactKeep = Math.max(0, options.compactKeep ?? DEFAULT_COMPACT_KEEP);
    this.compactStep = Math.max(64, Math.ceil(this.compactKeep / 4));

    this.insertRow = db.prepare<InsertParams>(
      'INSERT INTO log (revision, key, created, deleted, create_revision, prev_revision, value) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.commitRows = db.transaction((rows: InsertParams[]) => {
      for (const row of rows) this.insertRow.run(...row);
    });
    this.getAtStmt = db.prepare<[string, number], LogRow>(
      'SELECT * FROM log WHERE key = ? AND revision <= ? ORDER BY revision DESC LIMIT 1',
    );
    this.eventsStmt = db.prepare<[number, number], EventRow>(
      `SELECT l.*, CASE WHEN l.created = 0 AND l.deleted = 0 THEN p.value END AS prev_value
       FROM log l LEFT JOIN log p ON p.revision = l.prev_revision
       WHERE l.revision > ? AND l.revision <= ? ORDER BY l.revision`,
    );
    // Newest row per key at or below @rev, in key order, from the (key, revision) index alone;
    // then the rows themselves by rowid, minus delete markers. Ordering by m.key lets SQLite
    // stream (no sort), so LIMIT stops the scan early.
    const latestAt = (bound: string): string =>
      `SELECT key, MAX(revision) AS rev FROM log WHERE key >= @start ${bound} AND revision <= @rev GROUP BY key ORDER BY key`;
    const rangeStatements = <P extends object, R>(sql: (bound: string) => string): RangeStatements<P, R> => ({
      bounded: db.prepare<P, R>(sql('AND key < @end')) as Database.Statement<P, R>,
      unbounded: db.prepare<P, R>(sql('')) as Database.Statement<P, R>,
    });
    this.listAtStmts = rangeStatements<ListAtParams, LogRow>(
      (bound) =>
        `SELECT l.* FROM (${latestAt(bound)}) m JOIN log l ON l.revision = m.rev
         WHERE l.deleted = 0 ORDER BY m.key LIMIT @limit`,
    );
    this.countAtStmts = rangeStatements<CountAtParams, { n: number }>(
      (bound) => `SELECT COUNT(*) AS n FROM (${latestAt(bound)}) m JOIN log l ON l.revision = m.rev WHERE l.deleted = 0`,
    );

    // Compacting (lo, hi]: a row referenced as prev_revision by a row <= hi is superseded at hi;
    // a delete marker <= hi hides nothing anyone may still read. The compacted mark moves in the
    // same transaction, so a crash leaves a consistent compaction point.
    const dropSuperseded = db.prepare<[number, number]>(
      `DELETE FROM log WHERE revision IN
         (SELECT prev_revision FROM log WHERE revision > ? AND revision <= ? AND prev_revision > 0)`,
    );
    const dropDeleteMarkers = db.prepare<[number, number]>(
      'DELETE FROM log WHERE revision > ? AND revision <= ? AND deleted = 1',
    );
    const setMeta = db.prepare<[string, number]>(
      'INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
    );
    this.compactChunk = db.transaction((lo: number, hi: number) => {
      dropSuperseded.run(lo, hi);
      dropDeleteMarkers.run(lo, hi);
      setMeta.run('compacted', hi);
    });

    // Load the state: compacted mark, current revision, live keys.
    const meta = db.prepare<[], { value: number }>("SELECT value FROM meta WHERE name = 'compacted'").get();
    this.compacted = meta?.value ?? 0;
    const max = db.prepare<[], { rev: number | null }>('SELECT MAX(revision) AS rev FROM log').get();
    // A compaction may have removed the newest row (a delete marker); revisions never go back.
    this.revision = Math.max(max?.rev ?? 0, this.compacted);
    const rows = db
      .prepare<[], LogRow>(
        `SELECT l.* FROM (SELECT MAX(revision) AS rev FROM log GROUP BY key) m
         JOIN log l ON l.revision = m.rev WHERE l.deleted = 0 ORDER BY l.key`,
      )
      .iterate();
    const sorted: string[] = [];
    let inOrder = true;
    for (const row of rows) {
      if (sorted.length > 0 && compareKeys(sorted[sorted.length - 1]!, row.key) >= 0) inOrder = false;
      sorted.push(row.key);
      this.live.set(row.key, toKeyValue(row));
    }
    if (!inOrder) sorted.sort(compareKeys);
    this.keys = SortedKeys.fromSorted(sorted);
    this.ring = new EventRing(RING_CAPACITY, this.revision);

    const interval = options.compactIntervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
    if (interval > 0) {
      this.timer = setInterval(() => this.autoCompact(), interval);
      this.timer.unref();
    }
  }

  /**
   * Opens (creating if needed) the store at `path`. The file is locked for
   * this process until {@link close}; a second opener fails with SQLITE_BUSY.
   */
  static open(path: string, options: SqliteStorageOptions = {}): SqliteStorage {
    const db = new Database(path, { timeout: options.busyTimeoutMs ?? 5000 });
    try {
      // Exclusive: the in-memory state must be the only writer. Must precede WAL so no -shm is used.
      db.pragma('locking_mode = EXCLUSIVE');
      // Only takes effect on a new database (before the first table); lets us give pages back.
      db.pragma('auto_vacuum = INCREMENTAL');
      const mode = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`sqlite: cannot enable WAL (journal_mode=${String(mode)})`);
      // FULL: the WAL is fsynced at every commit, so an acknowledged write survives power loss.
      db.pragma('synchronous = FULL');
      db.pragma(`wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
      db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT_BYTES}`);
      db.exec(SCHEMA);
      return new SqliteStorage(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  // ---- reads ----

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    this.checkOpen();
    if (!revision || revision === this.revision) return this.live.get(key);
    this.checkReadable(revision, key);
    const row = this.getAtStmt.get(key, revision);
    return row && !row.deleted ? toKeyValue(row) : undefined;
  }

  async list(options: ListOptions): Promise<ListResult> {
    this.checkOpen();
    const { prefix, startKey } = options;
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const end = prefixEnd(prefix);
    const start = startKey !== undefined && compareKeys(startKey, prefix) > 0 ? startKey : prefix;

    if (!options.revision || options.revision === this.revision) {
      const keys = this.keys.range(start, end, limit);
      const items = keys.map((k) => this.live.get(k)!);
      const remaining = limit && items.length === limit ? this.keys.count(items[items.length - 1]!.key + '\0', end) : 0;
      return { items, revision: this.revision, remaining };
    }

    const rev = options.revision;
    this.checkReadable(rev, prefix);
    const variant = end === undefined ? 'unbounded' : 'bounded';
    const items = this.listAtStmts[variant].all({ start, end, rev, limit: limit || -1 }).map(toKeyValue);
    let remaining = 0;
    if (limit && items.length === limit) {
      const after = items[items.length - 1]!.key + '\0';
      remaining = this.countAtStmts[variant].get({ start: after, end, rev })?.n ?? 0;
    }
    return { items, revision: rev, remaining };
  }

  async count(prefix: string): Promise<number> {
    this.checkOpen();
    return this.keys.count(prefix, prefixEnd(prefix));
  }

  async currentRevision(): Promise<number> {
    this.checkOpen();
    return this.revision;
  }

  async compactedRevision(): Promise<number> {
    this.checkOpen();
    return this.compacted;
  }

  /** Counters for metrics and tests (synchronous, cheap). */
  stats(): SqliteStorageStats {
    return {
      revision: this.revision,
      compactedRevision: this.compacted,
      liveKeys: this.live.size,
      ...this.counters,
    };
  }

  // ---- writes (group commit) ----

  create(key: string, value: string): Promise<KeyValue> {
    return this.enqueue('create', key, value, undefined);
  }

  update(key: string, value: string, expectedRevision: number): Promise<KeyValue> {
    return this.enqueue('update', key, value, expectedRevision);
  }

  delete(key: string, expectedRevision?: number): Promise<KeyValue> {
    return this.enqueue('delete', key, '', expectedRevision);
  }

  private enqueue(kind: WriteKind, key: string, value: string, expected: number | undefined): Promise<KeyValue> {
    if (this.closed) return Promise.reject(closedError(key));
    if (typeof key !== 'string' || key === '') return Promise.reject(new TypeError('storage: key must be a non-empty string'));
    if (typeof value !== 'string') return Promise.reject(new TypeError(`storage: value of ${key} must be a string`));
    return new Promise<KeyValue>((resolve, reject) => {
      this.pending.push({ kind, key, value, expected, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // setImmediate (not a microtask) so writes arriving from other I/O callbacks in this loop turn join the batch.
        setImmediate(() => this.flushAll());
      }
    });
  }

  private flushAll(): void {
    this.flushScheduled = false;
    while (this.pending.length > 0) this.flush();
  }

  /**
   * Commits one batch: decides each write against the batch's own view (so
   * writes in a batch see each other in order), inserts the successful ones in
   * one transaction, then publishes: memory state, ring, watchers, promises.
   */
  private flush(): void {
    const batch = this.pending.length <= MAX_BATCH ? this.pending : this.pending.slice(0, MAX_BATCH);
    this.pending = batch === this.pending ? [] : this.pending.slice(MAX_BATCH);
    this.counters.writes += batch.length;

    // key -> value after this batch (null = deleted), layered over this.live.
    const overlay = new Map<string, KeyValue | null>();
    const rows: InsertParams[] = [];
    const events: StorageEvent[] = [];
    const outcomes: (KeyValue | StorageError)[] = [];
    let rev = this.revision;

    for (const w of batch) {
      const staged = overlay.get(w.key);
      const current = staged === undefined ? this.live.get(w.key) : (staged ?? undefined);
      if (w.kind === 'create') {
        if (current) {
          outcomes.push(new StorageError('KeyExists', w.key));
          continue;
        }
        rev++;
        const kv = freezeKv(w.key, w.value, rev, rev);
        rows.push([rev, w.key, 1, 0, rev, 0, w.value]);
        events.push(Object.freeze({ type: 'create', key: w.key, revision: rev, value: w.value, createRevision: rev }));
        overlay.set(w.key, kv);
        outcomes.push(kv);
        continue;
      }
      if (!current) {
        outcomes.push(new StorageError('NotFound', w.key));
        continue;
      }
      if (w.expected !== undefined && w.expected !== current.modRevision) {
        outcomes.push(
          new StorageError(
            'Conflict',
            w.key,
            `Conflict: ${w.key} is at revision ${current.modRevision}, not ${w.expected}`,
            current,
          ),
        );
        continue;
      }
      const prev = current;
      if (w.kind === 'update') {
        rev++;
        const kv = freezeKv(w.key, w.value, prev.createRevision, rev);
        rows.push([rev, w.key, 0, 0, prev.createRevision, prev.modRevision, w.value]);
        events.push(
          Object.freeze({
            type: 'update',
            key: w.key,
            revision: rev,
            value: w.value,
            prevValue: prev.value,
            createRevision: prev.createRevision,
            prevRevision: prev.modRevision,
          }),
        );
        overlay.set(w.key, kv);
        outcomes.push(kv);
      } else {
        // The delete marker keeps the last value, so a replayed delete event can carry it.
        rev++;
        rows.push([rev, w.key, 0, 1, prev.createRevision, prev.modRevision, prev.value]);
        events.push(
          Object.freeze({
            type: 'delete',
            key: w.key,
            revision: rev,
            value: prev.value,
            prevValue: prev.value,
            createRevision: prev.createRevision,
            prevRevision: prev.modRevision,
          }),
        );
        overlay.set(w.key, null);
        outcomes.push(freezeKv(w.key, prev.value, prev.createRevision, rev));
      }
    }

    if (rows.length > 0) {
      try {
        this.commitRows(rows);
        this.counters.commits++;
      } catch (error) {
        // Nothing of this batch is durable, and nothing was published: fail every write in it.
        const err = error instanceof Error ? error : new Error(String(error));
        for (const w of batch) w.reject(err);
        return;
      }
    }

    for (const [key, kv] of overlay) {
      if (kv) {
        if (!this.live.has(key)) this.keys.insert(key);
        this.live.set(key, kv);
      } else if (this.live.delete(key)) {
        this.keys.delete(key);
      }
    }
    this.revision = rev;
    // Watchers see the writes before any writer is answered.
    for (const event of events) {
      this.ring.push(event);
      for (const watch of this.watchers) {
        if (event.revision > watch.through && event.key.startsWith(watch.prefix)) watch.deliver(event);
      }
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i]!;
      if (outcome instanceof StorageError) batch[i]!.reject(outcome);
      else batch[i]!.resolve(outcome);
    }

    if (!this.autoCompacting && this.revision - this.compacted >= this.compactKeep + this.compactStep) {
      this.autoCompacting = true;
      setImmediate(() => this.autoCompact());
    }
  }

  // ---- watch ----

  watch(prefix: string, afterRevision: number, handlers: WatchHandlers): Watcher {
    this.checkOpen();
    if (afterRevision < this.compacted) {
      throw new StorageError(
        'Compacted',
        prefix,
        `Compacted: revision ${afterRevision} is older than the compacted revision ${this.compacted}`,
      );
    }
    const replay: StorageEvent[] = [];
    if (afterRevision < this.ring.floor) {
      // Older than memory: read the log between afterRevision and the ring from SQL.
      for (const row of this.eventsStmt.iterate(afterRevision, this.ring.floor)) {
        if (row.key.startsWith(prefix)) replay.push(toEvent(row));
      }
    }
    this.ring.since(Math.max(afterRevision, this.ring.floor), prefix, replay);
    // `through` also covers a watch started by a handler mid-dispatch, whose replay already holds the event.
    const through = Math.max(afterRevision, this.ring.last);
    const watch = new Watch(prefix, through, handlers, (w) => this.watchers.delete(w), replay);
    this.watchers.add(watch);
    return watch;
  }

  // ---- compaction ----

  async compact(revision: number): Promise<void> {
    this.checkOpen();
    if (revision > this.revision) {
      throw new RangeError(`storage: cannot compact to future revision ${revision} (current ${this.revision})`);
    }
    // Serialized: one compaction at a time, in call order.
    const run = this.compaction.then(() => this.runCompaction(revision));
    this.compaction = run.catch(() => undefined);
    return run;
  }

  private autoCompact(): void {
    const target = this.revision - this.compactKeep;
    if (this.closed || target <= this.compacted) {
      this.autoCompacting = false;
      return;
    }
    this.compact(target)
      .catch(() => undefined) // Retried at the next trigger; a closed store needs none.
      .finally(() => {
        this.autoCompacting = false;
      });
  }

  private async runCompaction(revision: number): Promise<void> {
    if (revision <= this.compacted) return;
    while (this.compacted < revision) {
      if (this.closed) return;
      const hi = Math.min(revision, this.compacted + COMPACT_CHUNK);
      this.compactChunk(this.compacted, hi);
      this.compacted = hi;
      if (hi < revision) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.counters.compactions++;
    this.reclaimSpace();
  }

  /**
   * Freed pages are reused by later inserts, so steady churn needs nothing
   * more; give pages back to the file system only when a large share is
   * free (e.g. after a mass deletion), then truncate the WAL that the big
   * compaction left behind. Otherwise the WAL is bounded by the
   * autocheckpoint and journal_size_limit.
   */
  private reclaimSpace(): void {
    const free = Number(this.db.pragma('freelist_count', { simple: true }));
    const total = Number(this.db.pragma('page_count', { simple: true }));
    if (free > 256 && free * 4 > total) {
      this.db.pragma('incremental_vacuum');
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    }
  }

  // ---- lifecycle ----

  async close(): Promise<void> {
    if (this.closed) return;
    this.flushAll();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.compaction;
    for (const watch of [...this.watchers]) watch.fail(closedError(watch.prefix));
    this.db.close();
  }

  private checkOpen(): void {
    if (this.closed) throw closedError('');
  }

  /** Throws for revisions that history no longer (or not yet) holds. */
  private checkReadable(revision: number, key: string): void {
    if (revision < this.compacted) {
      throw new StorageError(
        'Compacted',
        key,
        `Compacted: revision ${revision} is older than the compacted revision ${this.compacted}`,
      );
    }
    if (revision > this.revision) {
      throw new RangeError(`storage: revision ${revision} is in the future (current ${this.revision})`);
    }
  }
}

function closedError(key: string): StorageError {
  return new StorageError('Closed', key, 'Closed: the storage is closed');
}

function freezeKv(key: string, value: string, createRevision: number, modRevision: number): KeyValue {
  return Object.freeze({ key, value, createRevision, modRevision });
}

function toKeyValue(row: LogRow): KeyValue {
  return freezeKv(row.key, row.value, row.create_revision, row.revision);
}

function toEvent(row: EventRow): StorageEvent {
  if (row.created) {
    return { type: 'create', key: row.key, revision: row.revision, value: row.value, createRevision: row.create_revision };
  }
  return {
    type: row.deleted ? 'delete' : 'update',
    key: row.key,
    revision: row.revision,
    value: row.value,
    prevValue: row.deleted ? row.value : (row.prev_value ?? undefined),
    createRevision: row.create_revision,
    prevRevision: row.prev_revision,
  };
}
