/**
 * When a CronJob should run (pkg/controller/cronjob/utils.go): the most
 * recent schedule time not yet started, how many were missed, and when to
 * look again. Times are epoch milliseconds.
 */
import type { CronSchedule } from './cron.js';

/** Go's time.Time{} (January 1, year 1, UTC). */
const GO_ZERO_TIME_MS = -62_135_596_800_000;

export type MissedSchedules = 'none' | 'few' | 'many';

/** What a CronJob's schedule says about `now`. */
export interface ScheduleState {
  /** The last schedule time, or the creation time (later cut by startingDeadlineSeconds when asked). */
  earliest: number;
  /** The most recent schedule time in (earliest, now], if any. */
  mostRecent?: number;
  missed: MissedSchedules;
  /** Set for schedules that are valid text but never fire twice (e.g. "59 23 31 2 *"). */
  error?: string;
}

export interface CronJobTimes {
  creationMs: number;
  lastScheduleMs?: number;
  startingDeadlineSeconds?: number;
}

/**
 * mostRecentScheduleTime: the latest activation after the last schedule
 * time (or creation), counting roughly how many were missed from the
 * interval between the next two activations — without walking through more
 * than a hundred of them.
 */
export function mostRecentScheduleTime(times: CronJobTimes, nowMs: number, schedule: CronSchedule, includeStartingDeadline: boolean): ScheduleState {
  let earliest = times.lastScheduleMs ?? times.creationMs;
  let missed: MissedSchedules = 'none';
  if (includeStartingDeadline && times.startingDeadlineSeconds !== undefined) {
    // Nothing before this point will be scheduled any more.
    const deadline = nowMs - times.startingDeadlineSeconds * 1000;
    if (deadline > earliest) earliest = deadline;
  }
  // No activation within five years is Go's zero time, which ends in the error below.
  const t1 = schedule.next(earliest) ?? GO_ZERO_TIME_MS;
  if (nowMs < t1) return { earliest, missed };
  const t2 = t1 === GO_ZERO_TIME_MS ? GO_ZERO_TIME_MS : (schedule.next(t1) ?? GO_ZERO_TIME_MS);
  if (nowMs < t2) return { earliest, mostRecent: t1, missed };
  const between = Math.round((t2 - t1) / 1000);
  if (between < 1) return { earliest, missed, error: 'time difference between two schedules is less than 1 second' };
  const elapsed = Math.trunc((nowMs - t1) / 1000);
  const count = Math.trunc(elapsed / between) + 1;
  // Start one interval early and let the schedule find the exact times (irregular schedules).
  let mostRecent: number | undefined;
  const potentialEarliest = t1 + (count - 2) * between * 1000;
  for (let t = schedule.next(potentialEarliest); t !== undefined && t <= nowMs; t = schedule.next(t)) mostRecent = t;
  if (count > 100) missed = 'many';
  else if (count > 0) missed = 'few';
  return mostRecent === undefined ? { earliest, missed } : { earliest, mostRecent, missed };
}

/** 100 ms past the next activation, against clock skew (nextScheduleDelta). */
export const NEXT_SCHEDULE_DELTA_MS = 100;

/**
 * nextScheduleTimeDuration: milliseconds from `now` until just after the next
 * activation, counted from the most recent one (or from now when some were
 * missed), so the controller wakes up when a Job is due.
 */
export function nextScheduleDelay(times: CronJobTimes, nowMs: number, schedule: CronSchedule): number {
  const state = mostRecentScheduleTime(times, nowMs, schedule, false);
  let from: number;
  if (state.error !== undefined) from = nowMs;
  else if (state.mostRecent !== undefined) from = state.mostRecent;
  else from = state.missed === 'none' ? state.earliest : nowMs;
  const next = schedule.next(from);
  // An impossible schedule: Go's zero time makes a hugely negative delay, i.e. "now"; we look again in a day.
  if (next === undefined) return 24 * 3_600_000;
  return next + NEXT_SCHEDULE_DELTA_MS - nowMs;
}
