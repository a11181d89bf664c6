/**
 * Bounds how many writes are in flight at once, so 30,000 pods starting
 * together queue here instead of opening 30,000 requests.
 */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly max: number) {}

  /** Runs `task` once a slot is free. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      const next = this.waiting.shift();
      if (next) next();
      else if (this.active === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Tasks running or queued. */
  get pending(): number {
    return this.active + this.waiting.length;
  }

  /** Resolves when nothing is running or queued. */
  idle(): Promise<void> {
    if (this.active === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/**
 * Warnings of one kind at most once per period, with the number suppressed:
 * when the API server is away, a thousand nodes failing their renewals make
 * one line every few seconds, not a thousand per second.
 */
export class ThrottledWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly warn: (msg: string, fields?: Record<string, unknown>) => void,
    private readonly periodMs = 10_000,
  ) {}

  warnOnce(msg: string, fields: Record<string, unknown> = {}): void {
    const now = Date.now();
    const entry = this.last.get(msg);
    if (entry && now - entry.at < this.periodMs) {
      entry.suppressed++;
      return;
    }
    this.warn(msg, entry?.suppressed ? { ...fields, suppressed: entry.suppressed } : fields);
    this.last.set(msg, { at: now, suppressed: 0 });
  }
}
