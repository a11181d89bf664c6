/**
 * Cron schedules as the Kubernetes CronJob controller reads them: robfig/cron
 * v3's `ParseStandard` (5 fields — minute hour day-of-month month
 * day-of-week —, month and weekday names, `@yearly`… descriptors, `@every
 * <duration>`, an optional `TZ=`/`CRON_TZ=` prefix) and its `Next` algorithm,
 * including the day-of-month/day-of-week rule (both restricted: either may
 * match; one of them `*`: both must) and its daylight-saving behaviour.
 */
import { cronScheduleError } from '../../api/validation.js';
import { addDate, dateInZone, normalizeZone, wallClock } from './zoned-time.js';

/** A parsed schedule. */
export interface CronSchedule {
  /** The first activation strictly after `afterMs`, or undefined when there is none within five years (an impossible date like Feb 31). */
  next(afterMs: number): number | undefined;
}

/** A schedule that does not parse; `message` is robfig/cron's error text. */
export class CronParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CronParseError';
  }
}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } };
const DOW: Bounds = { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } };

/** The values a field allows, and whether it was written as `*`/`?` (robfig's star bit). */
interface Field {
  values: boolean[];
  star: boolean;
}

function allOf(bounds: Bounds): Field {
  const values: boolean[] = [];
  for (let i = bounds.min; i <= bounds.max; i++) values[i] = true;
  return { values, star: true };
}

function only(value: number): Field {
  const values: boolean[] = [];
  values[value] = true;
  return { values, star: false };
}

function parseNumber(text: string, bounds: Bounds): number {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? Number(text);
}

/** One field ("1,5-10/2,*"); the text was already validated by cronScheduleError. */
function parseField(text: string, bounds: Bounds): Field {
  const values: boolean[] = [];
  let star = false;
  for (const expr of text.split(',')) {
    if (expr === '') continue;
    const [range, stepText] = expr.split('/');
    const lowAndHigh = range.split('-');
    let start: number;
    let end: number;
    let extraStar = false;
    if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
      start = bounds.min;
      end = bounds.max;
      extraStar = true;
    } else {
      start = parseNumber(lowAndHigh[0], bounds);
      end = lowAndHigh.length === 2 ? parseNumber(lowAndHigh[1], bounds) : start;
    }
    let step = 1;
    if (stepText !== undefined) {
      step = Number(stepText);
      // "N/step" means "N-max/step".
      if (lowAndHigh.length === 1) end = bounds.max;
      if (step > 1) extraStar = false;
    }
    for (let i = start; i <= end; i += step) values[i] = true;
    if (extraStar) star = true;
  }
  return { values, star };
}

interface Spec {
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

const DESCRIPTORS: Record<string, () => Spec> = {
  '@yearly': () => ({ minute: only(0), hour: only(0), dom: only(1), month: only(1), dow: allOf(DOW) }),
  '@annually': () => DESCRIPTORS['@yearly'](),
  '@monthly': () => ({ minute: only(0), hour: only(0), dom: only(1), month: allOf(MONTHS), dow: allOf(DOW) }),
  '@weekly': () => ({ minute: only(0), hour: only(0), dom: allOf(DOM), month: allOf(MONTHS), dow: only(0) }),
  '@daily': () => ({ minute: only(0), hour: only(0), dom: allOf(DOM), month: allOf(MONTHS), dow: allOf(DOW) }),
  '@midnight': () => DESCRIPTORS['@daily'](),
  '@hourly': () => ({ minute: only(0), hour: allOf(HOURS), dom: allOf(DOM), month: allOf(MONTHS), dow: allOf(DOW) }),
};

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in milliseconds (the text was already validated). */
export function parseGoDuration(text: string): number {
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  let total = 0;
  while (s !== '') {
    const m = /^([0-9]*(?:\.[0-9]*)?)([^0-9.]+)/.exec(s);
    if (!m) throw new CronParseError(`time: invalid duration "${text}"`);
    total += Number(m[1]) * (DURATION_UNITS[m[2]] ?? NaN);
    s = s.slice(m[0].length);
  }
  if (!Number.isFinite(total)) throw new CronParseError(`time: invalid duration "${text}"`);
  return sign * total;
}

/** robfig's SpecSchedule.Next, field by field, in the schedule's zone. */
class SpecSchedule implements CronSchedule {
  constructor(
    private readonly spec: Spec,
    private readonly zone: string,
  ) {}

  private dayMatches(weekday: number, day: number): boolean {
    const domMatch = this.spec.dom.values[day] === true;
    const dowMatch = this.spec.dow.values[weekday] === true;
    if (this.spec.dom.star || this.spec.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  next(afterMs: number): number | undefined {
    const zone = this.zone;
    const s = this.spec;
    // The earliest possible time: the upcoming whole second.
    let t = Math.floor(afterMs / 1000) * 1000 + 1000;
    let added = false;
    const yearLimit = wallClock(t, zone).year + 5;
    wrap: for (;;) {
      let w = wallClock(t, zone);
      if (w.year > yearLimit) return undefined;
      while (!s.month.values[w.month]) {
        if (!added) {
          added = true;
          t = dateInZone(w.year, w.month, 1, 0, 0, 0, zone);
        }
        t = addDate(t, zone, 0, 1, 0);
        w = wallClock(t, zone);
        if (w.month === 1) continue wrap;
      }
      while (!this.dayMatches(w.weekday, w.day)) {
        if (!added) {
          added = true;
          t = dateInZone(w.year, w.month, w.day, 0, 0, 0, zone);
        }
        t = addDate(t, zone, 0, 0, 1);
        w = wallClock(t, zone);
        // A DST change may have moved midnight: go back to it (or on to the next one).
        if (w.hour !== 0) {
          t += w.hour > 12 ? (24 - w.hour) * 3_600_000 : -w.hour * 3_600_000;
          w = wallClock(t, zone);
        }
        if (w.day === 1) continue wrap;
      }
      while (!s.hour.values[w.hour]) {
        if (!added) {
          added = true;
          t = dateInZone(w.year, w.month, w.day, w.hour, 0, 0, zone);
        }
        t += 3_600_000;
        w = wallClock(t, zone);
        if (w.hour === 0) continue wrap;
      }
      while (!s.minute.values[w.minute]) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
        }
        t += 60_000;
        w = wallClock(t, zone);
        if (w.minute === 0) continue wrap;
      }
      // Standard schedules fire at second 0.
      while (w.second !== 0) {
        if (!added) {
          added = true;
          t = Math.floor(t / 1000) * 1000;
        }
        t += 1000;
        w = wallClock(t, zone);
        if (w.second === 0) continue wrap;
      }
      return t;
    }
  }
}

/** `@every <duration>`: a constant delay, rounded down to whole seconds (at least one). */
class ConstantDelaySchedule implements CronSchedule {
  constructor(private readonly delayMs: number) {}

  next(afterMs: number): number {
    return Math.floor(afterMs / 1000) * 1000 + this.delayMs;
  }
}

/**
 * Parses a schedule like robfig/cron's ParseStandard. `defaultZone` is the
 * zone of schedules without a `TZ=` prefix (Go's time.Local of the
 * controller manager). Throws CronParseError with robfig's message.
 */
export function parseCronSchedule(schedule: string, defaultZone = 'UTC'): CronSchedule {
  const error = cronScheduleError(schedule);
  if (error) throw new CronParseError(error);
  let spec = schedule;
  let zone = defaultZone;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    zone = normalizeZone(spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space));
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@every ')) {
    const delay = parseGoDuration(spec.slice('@every '.length));
    return new ConstantDelaySchedule(delay < 1000 ? 1000 : delay - (delay % 1000));
  }
  const descriptor = DESCRIPTORS[spec];
  if (descriptor) return new SpecSchedule(descriptor(), zone);
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  return new SpecSchedule(
    {
      minute: parseField(fields[0], MINUTES),
      hour: parseField(fields[1], HOURS),
      dom: parseField(fields[2], DOM),
      month: parseField(fields[3], MONTHS),
      dow: parseField(fields[4], DOW),
    },
    zone,
  );
}
