/**
 * Controller expectations, as Kubernetes' UIDTrackingControllerExpectations:
 * after a controller creates or deletes pods it expects to see those changes
 * in its informer before it acts on the same owner again, so a stale cache
 * never makes it create (or delete) twice. Creations are counted; deletions
 * are tracked by pod key so each is observed exactly once. Expectations older
 * than five minutes are considered satisfied (a watch event may be lost).
 */

/** ExpectationsTimeout in Kubernetes. */
export const EXPECTATIONS_TIMEOUT_MS = 5 * 60 * 1000;

interface Expectation {
  add: number;
  deletions: Set<string>;
  timestamp: number;
}

/** Pending creations and deletions per owner key ("namespace/name"). */
export class ControllerExpectations {
  private readonly records = new Map<string, Expectation>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** True when nothing is pending for the owner (or the record expired, or there is none). */
  satisfied(key: string): boolean {
    const record = this.records.get(key);
    if (!record) return true;
    if (record.add <= 0 && record.deletions.size === 0) return true;
    return this.clock() - record.timestamp > EXPECTATIONS_TIMEOUT_MS;
  }

  /** Expects `count` pod creations (replacing any earlier record). */
  expectCreations(key: string, count: number): void {
    this.records.set(key, { add: count, deletions: new Set(), timestamp: this.clock() });
  }

  /** Expects the deletion of these pods (keys "namespace/name"). */
  expectDeletions(key: string, podKeys: string[]): void {
    this.records.set(key, { add: 0, deletions: new Set(podKeys), timestamp: this.clock() });
  }

  /** One expected creation was seen (or will never happen). */
  creationObserved(key: string): void {
    const record = this.records.get(key);
    if (record) record.add--;
  }

  /** The deletion of a pod was seen (or will never happen). */
  deletionObserved(key: string, podKey: string): void {
    this.records.get(key)?.deletions.delete(podKey);
  }

  /** Forgets an owner (deleted, or to start clean). */
  delete(key: string): void {
    this.records.delete(key);
  }
}
