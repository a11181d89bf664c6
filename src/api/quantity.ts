/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource):
 * parsing "500m", "128Mi", "1e3", "1.5", comparing them exactly, and printing
 * them in the canonical form the API server writes back ("0.5" → "500m",
 * "1000m" → "1", "1.5Gi" → "1536Mi").
 *
 * Values are kept exact as `mantissa × 10^exp10` with a BigInt mantissa, so
 * nothing is lost to floating point.
 */

/** How a quantity prints: the suffix family it was written with. */
export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

/** An exact quantity: value = mantissa × 10^exp10. */
export interface Quantity {
  mantissa: bigint;
  exp10: number;
  format: QuantityFormat;
}

/** The message Kubernetes gives for a string that is not a quantity at all. */
export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
/** The message for a well-formed number with an unknown suffix ("5Xi"). */
export const QUANTITY_SUFFIX_ERROR = "unable to parse quantity's suffix";

/** A quantity that failed to parse; `message` is Kubernetes' wording. */
export class QuantityParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXP = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_EXP = new Map(Object.entries(BINARY_SUFFIXES).map(([s, e]) => [e, s]));

/** Smallest representable step: values are rounded up (away from zero) to nano. */
const NANO = -9;

interface SuffixMeaning {
  base: 2 | 10;
  exponent: number;
  format: QuantityFormat;
}

function interpretSuffix(suffix: string): SuffixMeaning | undefined {
  if (suffix in DECIMAL_SUFFIXES) return { base: 10, exponent: DECIMAL_SUFFIXES[suffix], format: 'DecimalSI' };
  if (suffix in BINARY_SUFFIXES) return { base: 2, exponent: BINARY_SUFFIXES[suffix], format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?[0-9]+$/.test(suffix.slice(1))) {
    return { base: 10, exponent: Number.parseInt(suffix.slice(1), 10), format: 'DecimalExponent' };
  }
  return undefined;
}

/** Splits "−12.5Mi" into sign, integer digits, fraction digits and suffix, as Go's parseQuantityString does. */
function splitQuantity(str: string): { positive: boolean; num: string; denom: string; suffix: string } {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*(?:[-+]?[0-9]*)?)$/.exec(str);
  if (!m || (m[2] === '' && m[3] === undefined)) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
  const num = m[2].replace(/^0+/, '') || '0';
  return { positive: m[1] !== '-', num, denom: m[3] ?? '', suffix: m[4] };
}

/** Rounds |mantissa| × 10^exp up to the given scale (away from zero), exactly. */
function roundUpToScale(mantissa: bigint, exp10: number, scale: number): { mantissa: bigint; exp10: number } {
  if (exp10 >= scale) return { mantissa, exp10 };
  const divisor = 10n ** BigInt(scale - exp10);
  const negative = mantissa < 0n;
  const abs = negative ? -mantissa : mantissa;
  let q = abs / divisor;
  if (abs % divisor !== 0n) q += 1n;
  return { mantissa: negative ? -q : q, exp10: scale };
}

/**
 * Parses a quantity as the API server does when decoding JSON. Numbers are
 * accepted too (YAML `cpu: 1` arrives as a JSON number). Throws
 * QuantityParseError with Kubernetes' message on bad input.
 */
export function parseQuantity(input: string | number): Quantity {
  const str = typeof input === 'number' ? String(input) : input.trim();
  if (str.length === 0) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
  const { positive, num, denom, suffix } = splitQuantity(str);
  const meaning = interpretSuffix(suffix);
  if (!meaning) throw new QuantityParseError(QUANTITY_SUFFIX_ERROR);
  let mantissa = BigInt(num + denom);
  let exp10 = -denom.length;
  if (meaning.base === 10) exp10 += meaning.exponent;
  else mantissa *= 2n ** BigInt(meaning.exponent);
  if (!positive) mantissa = -mantissa;
  // Non-zero values are rounded up to the smallest representable amount (nano).
  ({ mantissa, exp10 } = roundUpToScale(mantissa, exp10, NANO));
  return { mantissa, exp10, format: meaning.format };
}

/** Like parseQuantity but returns undefined instead of throwing. */
export function tryParseQuantity(input: unknown): Quantity | undefined {
  if (typeof input !== 'string' && typeof input !== 'number') return undefined;
  try {
    return parseQuantity(input);
  } catch {
    return undefined;
  }
}

/** Rounds up to `scale` (e.g. -3 for milli), as SetDefaults_ResourceList does. */
export function roundUpQuantity(q: Quantity, scale: number): Quantity {
  return { ...roundUpToScale(q.mantissa, q.exp10, scale), format: q.format };
}

/** Sign: -1, 0 or 1. */
export function quantitySign(q: Quantity): -1 | 0 | 1 {
  return q.mantissa === 0n ? 0 : q.mantissa < 0n ? -1 : 1;
}

function align(a: Quantity, b: Quantity): [bigint, bigint] {
  const exp = Math.min(a.exp10, b.exp10);
  return [a.mantissa * 10n ** BigInt(a.exp10 - exp), b.mantissa * 10n ** BigInt(b.exp10 - exp)];
}

/** Exact comparison: -1 when a < b, 0 when equal, 1 when a > b. */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Exact sum; the format of `a` wins (as Quantity.Add keeps the receiver's format). */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  const [x, y] = align(a, b);
  return { mantissa: x + y, exp10: Math.min(a.exp10, b.exp10), format: a.format };
}

/** The value as a JS number (may lose precision; for display and scheduling maths). */
export function quantityToNumber(q: Quantity): number {
  return Number(q.mantissa) * 10 ** q.exp10;
}

/** The value in thousandths, rounded up (Quantity.MilliValue). */
export function quantityMilliValue(q: Quantity): bigint {
  return roundUpToScale(q.mantissa, q.exp10, -3).mantissa * 10n ** BigInt(Math.max(0, q.exp10 + 3));
}

function isInteger(q: Quantity): boolean {
  if (q.exp10 >= 0) return true;
  return q.mantissa % 10n ** BigInt(-q.exp10) === 0n;
}

function integerValue(q: Quantity): bigint {
  return q.exp10 >= 0 ? q.mantissa * 10n ** BigInt(q.exp10) : q.mantissa / 10n ** BigInt(-q.exp10);
}

/**
 * The canonical string Kubernetes serializes: the suffix family of the input,
 * mantissa stripped of trailing zeros, exponent a multiple of 3 (decimal) or
 * of 1024 (binary). Binary values under 1024 or with fractions print decimal.
 */
export function formatQuantity(q: Quantity): string {
  if (q.mantissa === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const small = compareQuantities(q, { mantissa: 1024n, exp10: 0, format }) < 0 &&
      compareQuantities(q, { mantissa: -1024n, exp10: 0, format }) > 0;
    if (small || !isInteger(q)) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let amount = integerValue(q);
    let exp = 0;
    while (amount % 1024n === 0n && exp < 60) {
      amount /= 1024n;
      exp += 10;
    }
    return `${amount}${BINARY_BY_EXP.get(exp) ?? ''}`;
  }
  let amount = q.mantissa;
  let exp = q.exp10;
  while (amount % 10n === 0n) {
    amount /= 10n;
    exp += 1;
  }
  // Go's % keeps the sign, so this always moves the exponent down to a multiple of 3.
  while (exp % 3 !== 0) {
    amount *= 10n;
    exp -= 1;
  }
  if (format === 'DecimalExponent') return exp === 0 ? `${amount}` : `${amount}e${exp}`;
  const suffix = DECIMAL_BY_EXP.get(exp);
  return suffix === undefined ? `${amount}e${exp}` : `${amount}${suffix}`;
}

/**
 * Canonical form of a quantity given as string or number; `roundToMilli`
 * applies the milli rounding Kubernetes does for resource lists. Returns the
 * input unchanged (as a string) if it does not parse, so validation can report it.
 */
export function canonicalQuantity(input: string | number, roundToMilli = false): string {
  const q = tryParseQuantity(input);
  if (!q) return String(input);
  return formatQuantity(roundToMilli ? roundUpQuantity(q, -3) : q);
}
