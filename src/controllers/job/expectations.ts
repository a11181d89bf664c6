/**
 * What the controller expects its informer to show next, so a reconcile that
 * runs before the cache caught up with its own writes does not act twice
 * (client-go's ControllerExpectations and the Job controller's finalizer
 * expectations).
 */

/** Pod creations/deletions in flight per Job; expire after five minutes, as in Kubernetes. */
export class Expectations {
  private readonly records = new Map<string, { adds: number; dels: number; at: number }>();

  constructor(private readonly ttlMs = 5 * 60_000) {}

  expectCreations(key: string, count: number): void {
    this.records.set(key, { adds: count, dels: 0, at: Date.now() });
  }

  expectDeletions(key: string, count: number): void {
    this.records.set(key, { adds: 0, dels: count, at: Date.now() });
  }

  creationObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.adds--;
  }

  deletionObserved(key: string): void {
    const r = this.records.get(key);
    if (r) r.dels--;
  }

  /** True when nothing is pending (or the expectations expired). */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    return (r.adds <= 0 && r.dels <= 0) || Date.now() - r.at > this.ttlMs;
  }

  delete(key: string): void {
    this.records.delete(key);
  }
}

/** Pod UIDs whose tracking finalizer the controller removed but the cache may still show. */
export class FinalizerExpectations {
  private readonly records = new Map<string, Set<string>>();

  expectRemoved(key: string, uids: readonly string[]): void {
    let set = this.records.get(key);
    if (!set) this.records.set(key, (set = new Set()));
    for (const uid of uids) set.add(uid);
  }

  removalObserved(key: string, uid: string): void {
    const set = this.records.get(key);
    if (!set) return;
    set.delete(uid);
    if (set.size === 0) this.records.delete(key);
  }

  expected(key: string): ReadonlySet<string> {
    return new Set(this.records.get(key) ?? []);
  }

  delete(key: string): void {
    this.records.delete(key);
  }
}
