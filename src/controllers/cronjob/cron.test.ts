/**
 * Cron schedules: robfig/cron's standard parser and Next, which the CronJob
 * controller relies on — fields, names, steps, descriptors, the
 * day-of-month/day-of-week rule, time zones and daylight-saving changes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CronParseError, parseCronSchedule, parseGoDuration } from './cron.js';
import { mostRecentScheduleTime, nextScheduleDelay } from './schedule.js';
import { dateInZone, formatRFC1123ZUtc, formatRFC3339InZone, isKnownTimeZone, wallClock } from './zoned-time.js';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));

/** The next `count` activations after `from`. */
function nexts(schedule: string, from: string, count = 3, zone = 'UTC'): (string | undefined)[] {
  const s = parseCronSchedule(schedule, zone);
  const out: (string | undefined)[] = [];
  let t: number | undefined = Date.parse(from);
  for (let i = 0; i < count && t !== undefined; i++) {
    t = s.next(t);
    out.push(iso(t));
  }
  return out;
}

describe('cron schedules', () => {
  it('every minute, steps and ranges', () => {
    assert.deepEqual(nexts('*/1 * * * *', '2024-05-01T10:00:30Z'), ['2024-05-01T10:01:00Z', '2024-05-01T10:02:00Z', '2024-05-01T10:03:00Z']);
    assert.deepEqual(nexts('* * * * *', '2024-05-01T10:00:00Z', 1), ['2024-05-01T10:01:00Z'], 'strictly after');
    assert.deepEqual(nexts('*/15 * * * *', '2024-05-01T10:07:00Z'), ['2024-05-01T10:15:00Z', '2024-05-01T10:30:00Z', '2024-05-01T10:45:00Z']);
    assert.deepEqual(nexts('5/20 * * * *', '2024-05-01T10:00:00Z'), ['2024-05-01T10:05:00Z', '2024-05-01T10:25:00Z', '2024-05-01T10:45:00Z'], 'N/step is N-max/step');
    assert.deepEqual(nexts('0 9-17/4 * * *', '2024-05-01T10:00:00Z'), ['2024-05-01T13:00:00Z', '2024-05-01T17:00:00Z', '2024-05-02T09:00:00Z']);
    assert.deepEqual(nexts('0,30 1 * * *', '2024-05-01T00:00:00Z'), ['2024-05-01T01:00:00Z', '2024-05-01T01:30:00Z', '2024-05-02T01:00:00Z']);
  });

  it('weekdays, months and their names', () => {
    assert.deepEqual(nexts('0 9 * * 1-5', '2024-05-03T10:00:00Z'), ['2024-05-06T09:00:00Z', '2024-05-07T09:00:00Z', '2024-05-08T09:00:00Z']);
    assert.deepEqual(nexts('0 0 * JAN mon', '2024-01-01T00:00:00Z'), ['2024-01-08T00:00:00Z', '2024-01-15T00:00:00Z', '2024-01-22T00:00:00Z']);
    assert.deepEqual(nexts('0 0 1 */3 *', '2024-02-10T00:00:00Z'), ['2024-04-01T00:00:00Z', '2024-07-01T00:00:00Z', '2024-10-01T00:00:00Z']);
  });

  it('day of month OR day of week when both are restricted, AND when one is *', () => {
    // Fridays and the 13th.
    assert.deepEqual(nexts('0 0 13 * 5', '2024-01-01T00:00:00Z'), ['2024-01-05T00:00:00Z', '2024-01-12T00:00:00Z', '2024-01-13T00:00:00Z']);
    // */2 in day-of-week is a restriction, not a star.
    assert.deepEqual(nexts('0 0 1 * */2', '2024-01-01T00:00:00Z', 2), ['2024-01-02T00:00:00Z', '2024-01-04T00:00:00Z']);
  });

  it('descriptors', () => {
    const from = '2024-05-03T10:00:00Z';
    assert.deepEqual(nexts('@hourly', from, 1), ['2024-05-03T11:00:00Z']);
    assert.deepEqual(nexts('@daily', from, 1), ['2024-05-04T00:00:00Z']);
    assert.deepEqual(nexts('@midnight', from, 1), ['2024-05-04T00:00:00Z']);
    assert.deepEqual(nexts('@weekly', from, 2), ['2024-05-05T00:00:00Z', '2024-05-12T00:00:00Z'], 'Sundays');
    assert.deepEqual(nexts('@monthly', from, 2), ['2024-06-01T00:00:00Z', '2024-07-01T00:00:00Z']);
    assert.deepEqual(nexts('@yearly', from, 1), ['2025-01-01T00:00:00Z']);
    assert.deepEqual(nexts('@annually', from, 1), ['2025-01-01T00:00:00Z']);
    assert.deepEqual(nexts('@every 90s', '2024-01-01T00:00:00.500Z', 2), ['2024-01-01T00:01:30Z', '2024-01-01T00:03:00Z']);
    assert.deepEqual(nexts('@every 100ms', '2024-01-01T00:00:00Z', 1), ['2024-01-01T00:00:01Z'], 'at least one second');
  });

  it('impossible dates never fire; rare ones do', () => {
    assert.deepEqual(nexts('0 0 30 2 *', '2024-01-01T00:00:00Z', 1), [undefined]);
    assert.deepEqual(nexts('0 0 29 2 *', '2024-03-01T00:00:00Z', 1), ['2028-02-29T00:00:00Z']);
  });

  it('time zones: TZ= prefix and the default zone', () => {
    // Paris: UTC+1 in winter, UTC+2 from the last Sunday of March.
    assert.deepEqual(nexts('TZ=Europe/Paris 0 9 * * *', '2024-03-29T00:00:00Z'), ['2024-03-29T08:00:00Z', '2024-03-30T08:00:00Z', '2024-03-31T07:00:00Z']);
    assert.deepEqual(nexts('CRON_TZ=Asia/Tokyo @daily', '2024-05-01T00:00:00Z', 1), ['2024-05-01T15:00:00Z']);
    assert.deepEqual(nexts('15 10 * * *', '2024-05-01T00:00:00Z', 1, 'Asia/Kolkata'), ['2024-05-01T04:45:00Z']);
  });

  it('daylight saving: a time in the spring gap is skipped that day; the autumn overlap runs twice', () => {
    // New York, 2024-03-10: 02:00 EST jumps to 03:00 EDT.
    assert.deepEqual(nexts('30 2 * * *', '2024-03-09T12:00:00Z', 2, 'America/New_York'), ['2024-03-11T06:30:00Z', '2024-03-12T06:30:00Z']);
    // 2024-11-03: 02:00 EDT goes back to 01:00 EST; 01:30 happens twice.
    assert.deepEqual(nexts('30 1 * * *', '2024-11-02T12:00:00Z', 3, 'America/New_York'), ['2024-11-03T05:30:00Z', '2024-11-03T06:30:00Z', '2024-11-04T06:30:00Z']);
    // Santiago, 2024-09-08: midnight does not exist.
    assert.deepEqual(nexts('0 0 * * *', '2024-09-06T12:00:00Z', 2, 'America/Santiago'), ['2024-09-07T04:00:00Z', '2024-09-09T03:00:00Z']);
  });

  it('parse errors carry robfig/cron messages', () => {
    assert.throws(() => parseCronSchedule('bad'), (e: unknown) => e instanceof CronParseError && e.message === 'expected exactly 5 fields, found 1: [bad]');
    assert.throws(() => parseCronSchedule('61 * * * *'), /end of range \(61\) above maximum \(59\): 61/);
    assert.throws(() => parseCronSchedule('@sometimes'), /unrecognized descriptor: @sometimes/);
    assert.throws(() => parseCronSchedule('TZ=Mars/Olympus * * * * *'), /provided bad location Mars\/Olympus/);
  });

  it('Go durations', () => {
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('300ms'), 300);
    assert.equal(parseGoDuration('0'), 0);
  });
});

describe('zoned time', () => {
  it('wall clock and time.Date in a zone', () => {
    const w = wallClock(Date.parse('2024-07-01T12:34:56Z'), 'Europe/Paris');
    assert.deepEqual(w, { year: 2024, month: 7, day: 1, hour: 14, minute: 34, second: 56, weekday: 1 });
    assert.equal(iso(dateInZone(2024, 7, 1, 14, 34, 56, 'Europe/Paris')), '2024-07-01T12:34:56Z');
    assert.equal(iso(dateInZone(2024, 13, 1, 0, 0, 0, 'UTC')), '2025-01-01T00:00:00Z', 'months roll over');
    assert.equal(iso(dateInZone(2024, 2, 30, 0, 0, 0, 'UTC')), '2024-03-01T00:00:00Z', 'days roll over');
  });

  it('formats as Go does', () => {
    const ms = Date.parse('2024-01-15T00:00:00Z');
    assert.equal(formatRFC3339InZone(ms, 'UTC'), '2024-01-15T00:00:00Z');
    assert.equal(formatRFC3339InZone(ms, 'Asia/Tokyo'), '2024-01-15T09:00:00+09:00');
    assert.equal(formatRFC3339InZone(ms, 'America/New_York'), '2024-01-14T19:00:00-05:00');
    assert.equal(formatRFC3339InZone(ms, 'Asia/Kolkata'), '2024-01-15T05:30:00+05:30');
    assert.equal(formatRFC1123ZUtc(Date.parse('2006-01-02T15:04:05Z')), 'Mon, 02 Jan 2006 15:04:05 +0000');
  });

  it('knows time zone names as time.LoadLocation does', () => {
    assert.ok(isKnownTimeZone('Europe/Paris'));
    assert.ok(isKnownTimeZone('UTC'));
    assert.ok(!isKnownTimeZone('Mars/Olympus'));
  });
});

describe('schedule times of a CronJob', () => {
  const everyMinute = parseCronSchedule('* * * * *');
  const created = Date.parse('2024-05-01T10:00:30Z');
  const at = (s: string) => Date.parse(s);

  it('nothing due before the first activation', () => {
    const state = mostRecentScheduleTime({ creationMs: created }, at('2024-05-01T10:00:59Z'), everyMinute, true);
    assert.equal(state.mostRecent, undefined);
    assert.equal(state.missed, 'none');
  });

  it('the activation due now, then the most recent of those missed', () => {
    assert.equal(iso(mostRecentScheduleTime({ creationMs: created }, at('2024-05-01T10:01:10Z'), everyMinute, true).mostRecent), '2024-05-01T10:01:00Z');
    const state = mostRecentScheduleTime({ creationMs: created }, at('2024-05-01T10:05:10Z'), everyMinute, true);
    assert.equal(iso(state.mostRecent), '2024-05-01T10:05:00Z');
    assert.equal(state.missed, 'few');
    const after = mostRecentScheduleTime({ creationMs: created, lastScheduleMs: at('2024-05-01T10:05:00Z') }, at('2024-05-01T10:05:10Z'), everyMinute, true);
    assert.equal(after.mostRecent, undefined, 'already scheduled');
  });

  it('more than 100 missed: "many", still the most recent one', () => {
    const state = mostRecentScheduleTime({ creationMs: created }, at('2024-05-01T13:20:10Z'), everyMinute, true);
    assert.equal(state.missed, 'many');
    assert.equal(iso(state.mostRecent), '2024-05-01T13:20:00Z');
  });

  it('startingDeadlineSeconds hides activations older than the deadline', () => {
    const times = { creationMs: created, startingDeadlineSeconds: 10 };
    assert.equal(mostRecentScheduleTime(times, at('2024-05-01T10:01:30Z'), everyMinute, true).mostRecent, undefined);
    assert.equal(iso(mostRecentScheduleTime(times, at('2024-05-01T10:01:05Z'), everyMinute, true).mostRecent), '2024-05-01T10:01:00Z');
    assert.equal(iso(mostRecentScheduleTime(times, at('2024-05-01T10:01:30Z'), everyMinute, false).mostRecent), '2024-05-01T10:01:00Z');
  });

  it('irregular schedules find the exact most recent time', () => {
    const s = parseCronSchedule('30 6-16/4 * * 1-5');
    const state = mostRecentScheduleTime({ creationMs: at('2024-05-01T00:00:00Z') }, at('2024-05-07T12:00:00Z'), s, true);
    assert.equal(iso(state.mostRecent), '2024-05-07T10:30:00Z');
  });

  it('impossible schedules are an error', () => {
    const state = mostRecentScheduleTime({ creationMs: created }, at('2024-05-02T00:00:00Z'), parseCronSchedule('59 23 31 2 *'), true);
    assert.equal(state.error, 'time difference between two schedules is less than 1 second');
  });

  it('wakes up 100 ms after the next activation', () => {
    assert.equal(nextScheduleDelay({ creationMs: created }, at('2024-05-01T10:00:40Z'), everyMinute), 20_100);
    assert.equal(nextScheduleDelay({ creationMs: created, lastScheduleMs: at('2024-05-01T10:01:00Z') }, at('2024-05-01T10:01:01Z'), everyMinute), 59_100);
    // Missed activations: counted from the most recent one.
    assert.equal(nextScheduleDelay({ creationMs: created }, at('2024-05-01T10:05:10Z'), everyMinute), 50_100);
  });
});
