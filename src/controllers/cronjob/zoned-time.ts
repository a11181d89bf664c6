/**
 * Wall-clock arithmetic in an IANA time zone, on epoch milliseconds, with the
 * semantics of Go's `time` package that robfig/cron (and so the Kubernetes
 * CronJob controller) relies on: `time.Date` normalisation of out-of-range
 * fields and of wall times that fall in a daylight-saving gap, `AddDate`, and
 * absolute `Add`/`Truncate`. Zone data comes from Intl (ICU), no library.
 */

/** The calendar fields of an instant as seen in one zone. */
export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  /** 1–31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday … 6 = Saturday */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      era: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone this process runs in (Go's time.Local). */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Whether Go's time.LoadLocation would accept the name ("" and "UTC" mean UTC, "Local" the process zone). */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === '' || zone === 'UTC' || zone === 'Local') return true;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    // Zone files are looked up case-sensitively; Intl is case-insensitive.
    return resolved === zone || resolved.toLowerCase() !== zone.toLowerCase();
  } catch {
    return false;
  }
}

/** Maps Go location names to an Intl zone. */
export function normalizeZone(zone: string | undefined): string {
  if (zone === undefined || zone === '' || zone === 'UTC') return 'UTC';
  if (zone === 'Local') return localTimeZone();
  return zone;
}

const isUtc = (zone: string) => zone === 'UTC' || zone === 'Etc/UTC' || zone === 'Etc/GMT' || zone === 'GMT';

/** The wall clock of `ms` in `zone`. */
export function wallClock(ms: number, zone: string): WallClock {
  const d = new Date(ms);
  if (isUtc(zone)) {
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const out = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  let bc = false;
  for (const part of formatter(zone).formatToParts(d)) {
    switch (part.type) {
      case 'year':
        out.year = Number(part.value);
        break;
      case 'month':
        out.month = Number(part.value);
        break;
      case 'day':
        out.day = Number(part.value);
        break;
      case 'hour':
        out.hour = Number(part.value);
        break;
      case 'minute':
        out.minute = Number(part.value);
        break;
      case 'second':
        out.second = Number(part.value);
        break;
      case 'era':
        bc = part.value === 'BC' || part.value === 'B';
        break;
    }
  }
  if (bc) out.year = 1 - out.year;
  out.weekday = new Date(utcFromFields(out.year, out.month, out.day, 0, 0, 0)).getUTCDay();
  return out;
}

/** Date.UTC without the 0–99 → 1900s quirk; fields may overflow (normalised like Go). */
function utcFromFields(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** The zone's offset from UTC at instant `ms`, in milliseconds (whole seconds). */
export function zoneOffset(ms: number, zone: string): number {
  if (isUtc(zone)) return 0;
  const at = Math.floor(ms / 1000) * 1000;
  const w = wallClock(at, zone);
  return utcFromFields(w.year, w.month, w.day, w.hour, w.minute, w.second) - at;
}

/**
 * Go's time.Date(year, month, day, hour, min, sec, 0, loc): out-of-range
 * fields roll over; a wall time in a DST gap or overlap is resolved the way
 * Go does (offset looked up at the wall time read as UTC, then corrected once).
 */
export function dateInZone(year: number, month: number, day: number, hour: number, minute: number, second: number, zone: string): number {
  const local = utcFromFields(year, month, day, hour, minute, second);
  if (isUtc(zone)) return local;
  const first = zoneOffset(local, zone);
  const utc = local - first;
  const second_ = zoneOffset(utc, zone);
  return second_ === first ? utc : local - second_;
}

/** Go's t.AddDate(years, months, days) for a time in `zone`. */
export function addDate(ms: number, zone: string, years: number, months: number, days: number): number {
  const w = wallClock(ms, zone);
  const sub = ms - Math.floor(ms / 1000) * 1000;
  return dateInZone(w.year + years, w.month + months, w.day + days, w.hour, w.minute, w.second, zone) + sub;
}

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** Go's t.In(zone).Format(time.RFC3339) (seconds precision, "Z" for UTC). */
export function formatRFC3339InZone(ms: number, zone: string): string {
  const w = wallClock(ms, zone);
  const offset = zoneOffset(ms, zone) / 1000;
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  if (offset === 0 && isUtc(zone)) return `${date}Z`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor((abs % 3600) / 60))}`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's t.UTC().Format(time.RFC1123Z): "Mon, 02 Jan 2006 15:04:05 +0000". */
export function formatRFC1123ZUtc(ms: number): string {
  const w = wallClock(ms, 'UTC');
  return `${DAYS[w.weekday]}, ${pad(w.day)} ${MONTHS[w.month - 1]} ${pad(w.year, 4)} ${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)} +0000`;
}
