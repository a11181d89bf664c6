/**
 * Human-readable durations exactly as Kubernetes prints them in AGE-style
 * columns (k8s.io/apimachinery/pkg/util/duration). kubectl prints the server's
 * cells verbatim, so every rounding rule here is visible to users: whole units
 * are truncated, never rounded, and precision drops as durations grow
 * ("2m3s" but "12m", "3h5m" but "9h", "2d5h" but "10d").
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * Formats a duration given in milliseconds like Go's `duration.HumanDuration`:
 * "0s", "59s", "119s", "2m", "2m3s", "12m", "3h", "3h5m", "9h", "2d", "2d5h",
 * "10d", "2y", "2y30d", "8y". Up to two seconds in the future (clock skew)
 * still reads "0s"; further in the future reads "<invalid>".
 */
export function humanDuration(ms: number): string {
  // Go converts to whole units by truncating toward zero.
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;

  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;

  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;

  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;

  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const d = days % 365;
    return d === 0 ? `${years}y` : `${years}y${d}d`;
  }
  return `${years}y`;
}

/**
 * Formats a duration given in milliseconds like Go's
 * `duration.ShortHumanDuration`: a single unit ("45s", "3m", "5h", "12d", "2y").
 */
export function shortHumanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 24) return `${hours}h`;
  if (hours < 24 * 365) return `${Math.trunc(hours / 24)}d`;
  return `${Math.trunc(hours / 24 / 365)}y`;
}

/** Go's zero time (0001-01-01T00:00:00Z), which metav1.Time treats as unset. */
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/**
 * Milliseconds since the epoch of an RFC 3339 timestamp (metav1.Time or
 * MicroTime), or undefined when it is absent, unparsable or Go's zero time —
 * the cases where metav1.Time.IsZero() is true.
 */
export function timestampMillis(timestamp: unknown): number | undefined {
  if (typeof timestamp !== 'string' || timestamp === '') return undefined;
  const ms = Date.parse(timestamp);
  if (Number.isNaN(ms) || ms <= GO_ZERO_TIME_MS) return undefined;
  return ms;
}

/**
 * Age of a timestamp relative to `now`, as printed in AGE columns; "<unknown>"
 * when the timestamp is absent (Kubernetes' translateTimestampSince).
 */
export function translateTimestampSince(timestamp: string | undefined, now: Date): string {
  const ms = timestampMillis(timestamp);
  return ms === undefined ? '<unknown>' : humanDuration(now.getTime() - ms);
}

/**
 * Time left until a timestamp relative to `now`; "<unknown>" when absent
 * (Kubernetes' translateTimestampUntil).
 */
export function translateTimestampUntil(timestamp: string | undefined, now: Date): string {
  const ms = timestampMillis(timestamp);
  return ms === undefined ? '<unknown>' : humanDuration(ms - now.getTime());
}
