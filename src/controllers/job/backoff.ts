/**
 * The delay before a Job replaces failed pods: exponential in the number of
 * failures since the last success (base, 2×base, 4×base… capped), counted
 * from the moment the last of them finished. Records live in memory per Job,
 * as in Kubernetes (a controller restart forgets them).
 */
import { podFinishedTime, type Pod } from './job-util.js';

/** Failures since the last success, and when the last one happened. */
export interface BackoffRecord {
  key: string;
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  /** The record updated with pods that finished since the last sync (not stored yet). */
  newRecord(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const old = this.records.get(key);
    const record: BackoffRecord = { key, failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, lastFailureTime: old?.lastFailureTime };
    const succeeded = newSucceeded.map(podFinishedTime).sort((a, b) => a - b);
    const failed = newFailed.map(podFinishedTime).sort((a, b) => a - b);
    if (succeeded.length === 0) {
      if (failed.length === 0) return record;
      record.failuresAfterLastSuccess += failed.length;
      record.lastFailureTime = failed[failed.length - 1];
      return record;
    }
    record.failuresAfterLastSuccess = 0;
    record.lastFailureTime = undefined;
    const lastSuccess = succeeded[succeeded.length - 1];
    for (let i = failed.length - 1; i >= 0 && failed[i] > lastSuccess; i--) {
      if (record.lastFailureTime === undefined) record.lastFailureTime = failed[i];
      record.failuresAfterLastSuccess++;
    }
    return record;
  }

  update(record: BackoffRecord): void {
    this.records.set(record.key, record);
  }

  remove(key: string): void {
    this.records.delete(key);
  }
}

/** Milliseconds left before pods may be created again (0 when none). */
export function remainingBackoff(record: BackoffRecord, nowMs: number, baseMs: number, maxMs: number): number {
  return remainingForFailures(record.failuresAfterLastSuccess, record.lastFailureTime, nowMs, baseMs, maxMs);
}

export function remainingForFailures(failures: number, lastFailureTime: number | undefined, nowMs: number, baseMs: number, maxMs: number): number {
  if (failures === 0 || lastFailureTime === undefined) return 0;
  let delay = baseMs;
  for (let i = 1; i < failures; i++) {
    delay *= 2;
    if (delay >= maxMs) {
      delay = maxMs;
      break;
    }
  }
  const elapsed = nowMs - lastFailureTime;
  return delay < elapsed ? 0 : delay - elapsed;
}
