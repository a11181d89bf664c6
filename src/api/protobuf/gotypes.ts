/**
 * The JSON forms of the Go types whose protobuf message differs from their JSON: metav1.Time
 * and MicroTime (RFC 3339 strings) and metav1.Duration (Go duration strings such as "1h0m0s").
 * Written from the documented Go formats so decoded protobuf reads exactly like the JSON a Go
 * client would have sent.
 */

/** Seconds of Go's zero time.Time (0001-01-01T00:00:00Z), which JSON writes as null. */
export const GO_ZERO_TIME_SECONDS = -62135596800;

/**
 * Formats Unix seconds (and nanoseconds) as Go writes metav1.Time (`2006-01-02T15:04:05Z`) or,
 * with `micro`, metav1.MicroTime (`2006-01-02T15:04:05.000000Z`). Returns undefined for years
 * outside 0000–9999, which Go refuses to marshal.
 */
export function formatGoTime(seconds: number, nanos: number, micro: boolean): string | undefined {
  const date = new Date(seconds * 1000);
  const year = date.getUTCFullYear();
  if (!Number.isFinite(date.getTime()) || year < 0 || year > 9999) return undefined;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const base =
    `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}` +
    `T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return micro ? `${base}.${pad(Math.floor(nanos / 1000), 6)}Z` : `${base}Z`;
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/** Parses an RFC 3339 timestamp into Unix seconds and nanoseconds; undefined when malformed. */
export function parseGoTime(text: string): { seconds: number; nanos: number } | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, 0);
  if (date.getUTCDate() !== day) return undefined; // e.g. February 30
  let seconds = date.getTime() / 1000;
  if (m[9] !== undefined) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60;
    seconds -= m[9] === '+' ? offset : -offset;
  }
  const nanos = m[7] === undefined ? 0 : Number(m[7].padEnd(9, '0'));
  return { seconds, nanos };
}

const NS = {
  ns: 1n,
  us: 1_000n,
  'µs': 1_000n, // U+00B5 micro sign
  'μs': 1_000n, // U+03BC Greek mu
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
} as const satisfies Record<string, bigint>;

const INT64_MAX = (1n << 63n) - 1n;

/** Digits of `value / 10^precision` after the point, trailing zeros dropped ("" when none). */
function fraction(value: bigint, precision: number): string {
  const scale = 10n ** BigInt(precision);
  const digits = (value % scale).toString().padStart(precision, '0').replace(/0+$/, '');
  return digits === '' ? '' : `.${digits}`;
}

/** Formats nanoseconds as Go's time.Duration.String(): "0s", "1.5µs", "300ms", "1h2m3.5s". */
export function formatGoDuration(nanoseconds: bigint): string {
  if (nanoseconds === 0n) return '0s';
  const negative = nanoseconds < 0n;
  const u = negative ? -nanoseconds : nanoseconds;
  let text: string;
  if (u < NS.us) text = `${u}ns`;
  else if (u < NS.ms) text = `${u / NS.us}${fraction(u, 3)}µs`;
  else if (u < NS.s) text = `${u / NS.ms}${fraction(u, 6)}ms`;
  else {
    const totalSeconds = u / NS.s;
    const secondsPart = `${totalSeconds % 60n}${fraction(u, 9)}s`;
    const minutes = totalSeconds / 60n;
    if (minutes === 0n) text = secondsPart;
    else {
      const hours = minutes / 60n;
      text = hours === 0n ? `${minutes}m${secondsPart}` : `${hours}h${minutes % 60n}m${secondsPart}`;
    }
  }
  return negative ? `-${text}` : text;
}

/** Parses a Go duration string ("1h30m", "1.5s", "-300ms", "0") into nanoseconds; undefined when malformed. */
export function parseGoDuration(text: string): bigint | undefined {
  let rest = text;
  let negative = false;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    negative = rest[0] === '-';
    rest = rest.slice(1);
  }
  if (rest === '0') return 0n;
  if (rest === '') return undefined;
  let total = 0n;
  const part = /^(\d*)(?:\.(\d*))?(ns|us|µs|μs|ms|s|m|h)/;
  while (rest !== '') {
    const m = part.exec(rest);
    if (!m || (m[1] === '' && (m[2] ?? '') === '')) return undefined;
    const unit = NS[m[3] as keyof typeof NS];
    let value = BigInt(m[1] === '' ? '0' : m[1]!) * unit;
    const frac = m[2] ?? '';
    if (frac !== '') value += (BigInt(frac) * unit) / 10n ** BigInt(frac.length);
    total += value;
    if (total > INT64_MAX + (negative ? 1n : 0n)) return undefined;
    rest = rest.slice(m[0].length);
  }
  return negative ? -total : total;
}
