/**
 * The scheduling queue (internal/queue.PriorityQueue), three parts:
 *
 * - activeQ: pods ready to be tried, highest priority first, then oldest;
 * - backoffQ: pods waiting out their back-off (1 s doubling per attempt up to
 *   10 s) before they go back to activeQ;
 * - unschedulable: pods that fit nowhere, parked until a cluster event that
 *   could help them (a node added or changed, a pod deleted…) moves them
 *   back (to backoffQ while their back-off runs), or until 5 minutes pass.
 *
 * Pods with scheduling gates wait aside until their gates are removed. So a
 * pod that cannot be placed is retried when the cluster changes, with
 * back-off, never in a tight loop.
 */
import type { PodInfo } from './pod-info.js';

/** A pod in the queue, with its scheduling history. */
export interface QueuedPod {
  info: PodInfo;
  /** When it entered activeQ (orders pods of equal priority). */
  timestamp: number;
  /** Scheduling attempts so far. */
  attempts: number;
  /** When its last attempt failed. */
  lastFailure: number;
  /** Plugins that rejected it on its last attempt; empty = any event may help. */
  unschedulablePlugins: Set<string>;
  /** Where it is. */
  where: 'active' | 'backoff' | 'unschedulable' | 'gated' | 'inFlight';
  /** Bumped whenever it is (re)inserted into a heap; stale heap entries are skipped. */
  version: number;
}

/** A cluster change, and the plugins whose rejections it may undo (Kubernetes' ClusterEvent → EventsToRegister). */
export interface ClusterEvent {
  label: string;
  /** Plugins interested in this event. */
  plugins: ReadonlySet<string>;
}

export const INITIAL_BACKOFF_MS = 1000;
export const MAX_BACKOFF_MS = 10_000;
/** Unschedulable pods are retried at least this often (podMaxInUnschedulablePodsDuration). */
export const MAX_UNSCHEDULABLE_MS = 5 * 60_000;

interface HeapEntry {
  pod: QueuedPod;
  version: number;
  key: number;
  priority: number;
}

/** A binary min-heap on (−priority, key). */
class Heap {
  private readonly items: HeapEntry[] = [];

  get size(): number {
    return this.items.length;
  }

  push(entry: HeapEntry): void {
    const items = this.items;
    items.push(entry);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  peek(): HeapEntry | undefined {
    return this.items[0];
  }

  pop(): HeapEntry | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let smallest = i;
        if (l < items.length && this.less(items[l]!, items[smallest]!)) smallest = l;
        if (r < items.length && this.less(items[r]!, items[smallest]!)) smallest = r;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top;
  }

  private less(a: HeapEntry, b: HeapEntry): boolean {
    if (a.priority !== b.priority) return a.priority > b.priority;
    return a.key < b.key;
  }
}

/** The back-off after `attempts` failed attempts: 1 s, 2 s, 4 s, 8 s, then 10 s. */
export function backoffDuration(attempts: number): number {
  let duration = INITIAL_BACKOFF_MS;
  for (let i = 1; i < attempts; i++) {
    if (duration > MAX_BACKOFF_MS - duration) return MAX_BACKOFF_MS;
    duration += duration;
  }
  return duration;
}

export class SchedulingQueue {
  /** uid → queued pod, wherever it is. */
  private readonly pods = new Map<string, QueuedPod>();
  private readonly activeQ = new Heap();
  /** Keyed by back-off expiry; priority ignored (set to 0). */
  private readonly backoffQ = new Heap();
  private readonly unschedulable = new Map<string, QueuedPod>();
  private backoffTimer?: NodeJS.Timeout;
  private backoffTimerAt = Infinity;
  private flushTimer?: NodeJS.Timeout;
  private waiter?: () => void;
  private closed = false;
  private sequence = 0;
  /** Scheduling cycle of the last pop, and the cycle at the last move request (moveRequestCycle). */
  private schedulingCycle = 0;
  private moveRequestCycle = -1;

  constructor(private readonly now: () => number = Date.now) {
    this.flushTimer = setInterval(() => this.flushUnschedulableLeftover(), 30_000);
    this.flushTimer.unref();
  }

  /** Number of pods known to the queue (any state, in flight included). */
  get size(): number {
    return this.pods.size;
  }

  /** Counts per state, for metrics and tests. */
  stats(): Record<QueuedPod['where'], number> {
    const out = { active: 0, backoff: 0, unschedulable: 0, gated: 0, inFlight: 0 };
    for (const p of this.pods.values()) out[p.where]++;
    return out;
  }

  has(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** A new pending pod (or a gated pod whose gates were removed). */
  add(info: PodInfo): void {
    if (this.closed) return;
    const existing = this.pods.get(info.uid);
    if (existing) return this.update(info);
    const pod: QueuedPod = { info, timestamp: this.now(), attempts: 0, lastFailure: 0, unschedulablePlugins: new Set(), where: 'gated', version: 0 };
    this.pods.set(info.uid, pod);
    if (info.gated) return;
    this.toActive(pod);
  }

  /** A pending pod changed: keep the newest object; a change that may help moves it out of unschedulable. */
  update(info: PodInfo): void {
    const pod = this.pods.get(info.uid);
    if (!pod) return this.add(info);
    pod.info = info;
    if (pod.where === 'gated' && !info.gated) {
      pod.timestamp = this.now();
      this.toActive(pod);
    } else if (pod.where === 'unschedulable') {
      this.unschedulable.delete(info.uid);
      if (info.gated) pod.where = 'gated';
      else this.toBackoffOrActive(pod);
    }
  }

  /** The pod is gone, bound or no longer ours. */
  delete(uid: string): void {
    const pod = this.pods.get(uid);
    if (!pod) return;
    this.pods.delete(uid);
    this.unschedulable.delete(uid);
    pod.where = 'inFlight';
    pod.version++;
  }

  /** The next pod to schedule, if any is ready (it is then in flight until done/requeued). */
  pop(): QueuedPod | undefined {
    for (;;) {
      const entry = this.activeQ.pop();
      if (!entry) return undefined;
      const pod = entry.pod;
      if (entry.version !== pod.version || pod.where !== 'active' || this.pods.get(pod.info.uid) !== pod) continue;
      pod.where = 'inFlight';
      pod.attempts++;
      this.schedulingCycle++;
      return pod;
    }
  }

  /** Cycle number of the latest pop (moveRequestCycle bookkeeping). */
  get cycle(): number {
    return this.schedulingCycle;
  }

  /** Resolves when a pod may be ready (or the queue closed). */
  waitForPods(): Promise<void> {
    if (this.closed || this.activeQ.size > 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** A scheduled pod is done with the queue (bound or binding in flight). */
  done(uid: string): void {
    const pod = this.pods.get(uid);
    if (pod && pod.where === 'inFlight') this.pods.delete(uid);
  }

  /**
   * A pod that failed: after an error it waits out its back-off; when it
   * fits nowhere it is parked until an event may help, unless such an event
   * came while it was being scheduled (then back-off only).
   */
  requeue(uid: string, info: PodInfo, unschedulablePlugins: ReadonlySet<string> | undefined, podCycle: number): void {
    const pod = this.pods.get(uid);
    if (!pod || this.closed) return;
    pod.info = info;
    pod.lastFailure = this.now();
    if (info.gated) {
      pod.where = 'gated';
      return;
    }
    if (unschedulablePlugins === undefined) {
      pod.unschedulablePlugins = new Set();
      this.toBackoff(pod);
      return;
    }
    pod.unschedulablePlugins = new Set(unschedulablePlugins);
    if (this.moveRequestCycle >= podCycle) this.toBackoffOrActive(pod);
    else {
      pod.where = 'unschedulable';
      this.unschedulable.set(uid, pod);
    }
  }

  /** A cluster event: unschedulable pods it may help go back to backoffQ or activeQ. */
  moveOnEvent(event: ClusterEvent, filter?: (pod: QueuedPod) => boolean): void {
    this.moveRequestCycle = this.schedulingCycle;
    if (this.unschedulable.size === 0) return;
    for (const [uid, pod] of this.unschedulable) {
      if (!podMatchesEvent(pod, event)) continue;
      if (filter && !filter(pod)) continue;
      this.unschedulable.delete(uid);
      this.toBackoffOrActive(pod);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.backoffTimer);
    clearInterval(this.flushTimer);
    this.waiter?.();
    this.waiter = undefined;
  }

  private toActive(pod: QueuedPod): void {
    pod.where = 'active';
    pod.version++;
    this.activeQ.push({ pod, version: pod.version, key: ++this.sequence, priority: pod.info.priority });
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      waiter();
    }
  }

  private backoffExpiry(pod: QueuedPod): number {
    return pod.lastFailure + backoffDuration(pod.attempts);
  }

  private toBackoffOrActive(pod: QueuedPod): void {
    if (this.backoffExpiry(pod) > this.now()) this.toBackoff(pod);
    else {
      pod.timestamp = this.now();
      this.toActive(pod);
    }
  }

  private toBackoff(pod: QueuedPod): void {
    pod.where = 'backoff';
    pod.version++;
    const expiry = this.backoffExpiry(pod);
    this.backoffQ.push({ pod, version: pod.version, key: expiry, priority: 0 });
    this.armBackoffTimer();
  }

  private armBackoffTimer(): void {
    const head = this.backoffQ.peek();
    if (!head) return;
    if (head.key >= this.backoffTimerAt && this.backoffTimer) return;
    clearTimeout(this.backoffTimer);
    this.backoffTimerAt = head.key;
    this.backoffTimer = setTimeout(() => this.flushBackoff(), Math.max(0, head.key - this.now()));
    this.backoffTimer.unref();
  }

  /** Moves pods whose back-off is over to activeQ. */
  private flushBackoff(): void {
    this.backoffTimer = undefined;
    this.backoffTimerAt = Infinity;
    const now = this.now();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || head.key > now) break;
      this.backoffQ.pop();
      const pod = head.pod;
      if (head.version !== pod.version || pod.where !== 'backoff' || this.pods.get(pod.info.uid) !== pod) continue;
      pod.timestamp = now;
      this.toActive(pod);
    }
    this.armBackoffTimer();
  }

  /** Pods parked for longer than 5 minutes are tried again anyway. */
  private flushUnschedulableLeftover(): void {
    const now = this.now();
    for (const [uid, pod] of this.unschedulable) {
      if (now - pod.lastFailure < MAX_UNSCHEDULABLE_MS) continue;
      this.unschedulable.delete(uid);
      this.toBackoffOrActive(pod);
    }
  }
}

/** Whether an event may help a pod: any event when no plugin is on record, else one of its rejecting plugins must care. */
function podMatchesEvent(pod: QueuedPod, event: ClusterEvent): boolean {
  if (pod.unschedulablePlugins.size === 0) return true;
  for (const plugin of pod.unschedulablePlugins) if (event.plugins.has(plugin)) return true;
  return false;
}
