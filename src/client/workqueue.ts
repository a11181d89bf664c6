/**
 * The controllers' work queue, with client-go's guarantees: a key is never
 * processed by two workers at once, a key added while it is being processed is
 * processed again afterwards, bursts of adds collapse into one, and failures
 * are retried with per-key exponential back-off (5 ms doubling up to 1000 s).
 */

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** A de-duplicating queue of string keys. */
export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys waiting to be processed (in `queue` or to be re-queued after processing). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly dueAt = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
  }

  /** Adds a key now (no-op if it is already waiting). */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // re-queued by done()
    const waiter = this.waiters.shift();
    if (waiter) waiter(key);
    else this.queue.push(key);
  }

  /** Adds a key after a delay; when a delay is already pending for the key, the sooner one wins (as client-go's delaying queue). */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const due = Date.now() + delayMs;
    const pending = this.dueAt.get(key);
    if (pending !== undefined && pending <= due) return;
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.dueAt.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, timer);
    this.dueAt.set(key, due);
  }

  /** Re-adds a key after its back-off delay, which doubles on each consecutive failure. */
  addRateLimited(key: string): void {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs));
  }

  /** Clears a key's back-off after it succeeded. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Number of consecutive failures of a key. */
  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Waits for the next key; undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.startProcessing(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => {
      this.waiters.push((next) => {
        if (next !== undefined) this.startProcessing(next);
        resolve(next);
      });
    });
  }

  private startProcessing(key: string): void {
    this.dirty.delete(key);
    this.processing.add(key);
  }

  /** Marks a key processed; if it was added meanwhile it goes back in the queue. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  /** Number of keys waiting. */
  get length(): number {
    return this.queue.length;
  }

  /** Stops handing out keys; pending get() calls resolve with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.dueAt.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }
}
