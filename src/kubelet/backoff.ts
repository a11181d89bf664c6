/**
 * Crash-loop back-off, as the kubelet's flowcontrol.Backoff keyed by container:
 * the first restart is immediate, then the delay starts at 10 s and doubles up
 * to 5 min; an entry not touched for twice the maximum (10 min of the container
 * running without a crash) starts over.
 */

/** One container's back-off record. */
interface Entry {
  delayMs: number;
  /** When the back-off was last advanced (the finish time of the crash it answered). */
  lastUpdateMs: number;
}

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  now?: () => number;
}

/** Per-key exponential back-off. */
export class Backoff {
  private readonly entries = new Map<string, Entry>();
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly now: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 10_000;
    this.maxMs = options.maxMs ?? 300_000;
    this.now = options.now ?? Date.now;
  }

  private expired(entry: Entry, atMs: number): boolean {
    return atMs - entry.lastUpdateMs > 2 * this.maxMs;
  }

  /**
   * Whether a restart for a crash that happened at `eventMs` must still wait;
   * when it must, the time left (ms) is returned, else 0.
   */
  remaining(key: string, eventMs: number): number {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, eventMs)) return 0;
    const left = eventMs + entry.delayMs - this.now();
    return left > 0 ? left : 0;
  }

  /** The current delay of a key (0 when none), for messages. */
  delay(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** Records a restart for a crash at `eventMs`: the next delay doubles (or starts at the initial one). */
  next(key: string, eventMs: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, eventMs)) this.entries.set(key, { delayMs: this.initialMs, lastUpdateMs: eventMs });
    else this.entries.set(key, { delayMs: Math.min(entry.delayMs * 2, this.maxMs), lastUpdateMs: eventMs });
  }

  /** Forgets every key starting with `prefix` (a pod gone). */
  forgetPrefix(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }

  /** Drops entries idle for longer than twice the maximum. */
  gc(): void {
    const now = this.now();
    for (const [key, entry] of [...this.entries]) if (this.expired(entry, now)) this.entries.delete(key);
  }
}

/** Go's time.Duration String() for whole seconds: 10s, 1m20s, 5m0s. */
export function goDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  return `${Math.floor(m / 60)}h${m % 60}m${s % 60}s`;
}
