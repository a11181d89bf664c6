/**
 * The pod-template-hash, computed as Kubernetes' controller.ComputeHash does:
 * FNV-32a over go-spew's `%#v` rendering of the v1.PodTemplateSpec Go struct
 * (config: SortKeys, DisableMethods, SpewKeys — k8s.io/apimachinery
 * util/dump.ForHash), then the collisionCount as 8 little-endian bytes, then
 * the decimal sum encoded with rand.SafeEncodeString.
 *
 * go-spew prints every field of the struct in declaration order, zero or not,
 * with its Go type, so the JSON we store is projected onto the Go declarations
 * of the release we mimic (./go-types/v0_32.ts, generated from k8s.io/api
 * v0.32). The projection follows what the controller would have decoded from
 * protobuf: empty lists and maps are nil, an empty object for a pointer field
 * is a non-nil pointer, quantities are parsed as resource.ParseQuantity does
 * (including the cached canonical string it keeps only for some inputs).
 */
import type { GoTypeTable } from './go-types/table.js';
import { GO_TYPES_V0_32 } from './go-types/v0_32.js';

/** The Go type table used for hashing: Kubernetes 1.32's. */
export const DEFAULT_GO_TYPES = GO_TYPES_V0_32;

type Kind =
  | { kind: 'ptr'; elem: string }
  | { kind: 'slice'; elem: string }
  | { kind: 'map'; key: string; elem: string }
  | { kind: 'struct'; fields: readonly (readonly [string, string, string])[] }
  | { kind: 'basic'; name: string };

const INT_KINDS = new Set(['int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr']);

function isNil(value: unknown): boolean {
  return value === undefined || value === null;
}

/** The Go struct value of a JSON object (or undefined for its zero value). */
type GoObject = Record<string, unknown> | undefined;

function asObject(value: unknown): GoObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Prints Go values the way go-spew's formatter does for `%#v`. */
class SpewPrinter {
  private out = '';
  private ignoreNextType = false;
  private readonly kinds = new Map<string, Kind>();
  private readonly names = new Map<string, string>();

  constructor(private readonly table: GoTypeTable) {}

  print(value: unknown, type: string): string {
    this.out = '';
    this.ignoreNextType = false;
    this.format(value, type);
    return this.out;
  }

  /** reflect.Type.String() of a type expression. */
  private typeString(expr: string): string {
    let cached = this.names.get(expr);
    if (cached !== undefined) return cached;
    if (expr.startsWith('*')) cached = '*' + this.typeString(expr.slice(1));
    else if (expr.startsWith('[]')) cached = '[]' + this.typeString(expr.slice(2));
    else if (expr.startsWith('map[')) {
      const [key, elem] = splitMap(expr);
      cached = `map[${this.typeString(key)}]${this.typeString(elem)}`;
    } else if (!expr.includes('.')) cached = expr;
    else {
      const decl = this.table.types[expr];
      if (decl && 'alias' in decl) cached = this.typeString(decl.alias);
      else {
        const dot = expr.indexOf('.');
        cached = `${this.table.packages[expr.slice(0, dot)] ?? expr.slice(0, dot)}.${expr.slice(dot + 1)}`;
      }
    }
    this.names.set(expr, cached);
    return cached;
  }

  /** The structural kind behind a type expression (named types resolved to what they are). */
  private kindOf(expr: string): Kind {
    let cached = this.kinds.get(expr);
    if (cached) return cached;
    if (expr.startsWith('*')) cached = { kind: 'ptr', elem: expr.slice(1) };
    else if (expr.startsWith('[]')) cached = { kind: 'slice', elem: expr.slice(2) };
    else if (expr.startsWith('map[')) {
      const [key, elem] = splitMap(expr);
      cached = { kind: 'map', key, elem };
    } else if (!expr.includes('.')) cached = { kind: 'basic', name: expr };
    else {
      const decl = this.table.types[expr];
      if (!decl) throw new Error(`no Go declaration for ${expr}`);
      if ('fields' in decl) cached = { kind: 'struct', fields: decl.fields };
      else cached = this.kindOf('alias' in decl ? decl.alias : decl.underlying);
    }
    this.kinds.set(expr, cached);
    return cached;
  }

  private write(text: string): void {
    this.out += text;
  }

  private format(value: unknown, expr: string): void {
    const kind = this.kindOf(expr);
    if (kind.kind === 'ptr') return this.formatPtr(value, expr, kind.elem);
    value = goValueOf(value, expr);
    if (!this.ignoreNextType) this.write(`(${this.typeString(expr)})`);
    this.ignoreNextType = false;
    switch (kind.kind) {
      case 'basic':
        this.write(formatBasic(value, kind.name));
        return;
      case 'slice': {
        const items = Array.isArray(value) ? value : [];
        if (items.length === 0) {
          // Decoded from protobuf, an empty list is a nil slice.
          this.write('<nil>');
          return;
        }
        this.write('[');
        items.forEach((item, i) => {
          if (i > 0) this.write(' ');
          this.ignoreNextType = true;
          this.format(item, kind.elem);
        });
        this.write(']');
        return;
      }
      case 'map': {
        const object = asObject(value);
        const keys = object ? Object.keys(object).filter((k) => object[k] !== undefined) : [];
        if (!object || keys.length === 0) {
          this.write('<nil>');
          return;
        }
        keys.sort(compareBytes);
        this.write('map[');
        keys.forEach((key, i) => {
          if (i > 0) this.write(' ');
          this.ignoreNextType = true;
          this.format(key, kind.key);
          this.write(':');
          this.ignoreNextType = true;
          this.format(object[key], kind.elem);
        });
        this.write(']');
        return;
      }
      case 'struct': {
        const object = asObject(value);
        this.write('{');
        kind.fields.forEach(([name, json, type], i) => {
          if (i > 0) this.write(' ');
          this.write(`${name}:`);
          let fieldValue: unknown;
          if (json !== '') fieldValue = object?.[json];
          else fieldValue = this.kindOf(type).kind === 'struct' ? object : object?.[name]; // inlined embedded struct
          this.format(fieldValue, type);
        });
        this.write('}');
        return;
      }
    }
  }

  private formatPtr(value: unknown, expr: string, elem: string): void {
    const nil = isNil(value);
    if (nil && this.ignoreNextType) {
      this.write('<nil>');
      return;
    }
    if (!this.ignoreNextType) this.write(nil ? `(${this.typeString(expr)})` : `(*${this.typeString(elem)})`);
    else this.write('<*>');
    if (nil) {
      this.write('<nil>');
      return;
    }
    this.ignoreNextType = true;
    this.format(value, elem);
  }
}

/** Splits "map[K]V" into K and V. */
function splitMap(expr: string): [string, string] {
  let depth = 0;
  for (let i = 3; i < expr.length; i++) {
    if (expr[i] === '[') depth++;
    else if (expr[i] === ']' && --depth === 0) return [expr.slice(4, i), expr.slice(i + 1)];
  }
  throw new Error(`bad map type ${expr}`);
}

/** Go's string order (bytes; code units agree for the keys Kubernetes allows). */
function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function formatBasic(value: unknown, name: string): string {
  if (name === 'bool') return value === true ? 'true' : 'false';
  if (name === 'string') return typeof value === 'string' ? value : isNil(value) ? '' : String(value);
  if (INT_KINDS.has(name)) {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'number') return Number.isFinite(value) ? String(Math.trunc(value)) : '0';
    if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
    return '0';
  }
  if (name === 'float32' || name === 'float64') return typeof value === 'number' ? String(value) : '0';
  return isNil(value) ? '' : String(value);
}

// ---------------------------------------------------------------------------
// JSON → Go struct values for the types whose JSON form differs from their fields
// ---------------------------------------------------------------------------

function goValueOf(value: unknown, expr: string): unknown {
  switch (expr) {
    case 'resource.Quantity':
      return quantityStruct(value);
    case 'intstr.IntOrString':
      if (typeof value === 'number') return { Type: 0, IntVal: value, StrVal: '' };
      if (typeof value === 'string') return { Type: 1, IntVal: 0, StrVal: value };
      return undefined;
    case 'metav1.Time':
    case 'metav1.MicroTime':
      return timeStruct(value);
    default:
      return value;
  }
}

/** time.Time of a metav1.Time: zero for null; otherwise wall/ext as time.Unix(…).Local() sets them. */
function timeStruct(value: unknown): unknown {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) return undefined;
  const fraction = /\.(\d+)/.exec(value)?.[1] ?? '';
  const nanos = fraction ? Number((fraction + '000000000').slice(0, 9)) : 0;
  const seconds = BigInt(Math.floor(ms / 1000));
  // wall holds the nanoseconds (no monotonic reading); ext the seconds since year 1.
  // loc is the controller's Local zone, which a hash of a non-zero time cannot know: printed empty.
  return { wall: BigInt(nanos), ext: seconds + 62135596800n, loc: {} };
}

// ---------------------------------------------------------------------------
// resource.ParseQuantity, as far as the struct it produces
// ---------------------------------------------------------------------------

interface QuantityStruct {
  i: { value: bigint; scale: number };
  d: { Dec: null | { unscaled: { neg: boolean; abs: bigint[] }; scale: number } };
  s: string;
  Format: string;
}

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const INT64_MAX = 2n ** 63n - 1n;

function zeroQuantity(): QuantityStruct {
  return { i: { value: 0n, scale: 0 }, d: { Dec: null }, s: '', Format: '' };
}

/** The fields of the resource.Quantity that ParseQuantity(str) returns. */
export function quantityStruct(input: unknown): QuantityStruct {
  const str = typeof input === 'number' ? String(input) : typeof input === 'string' ? input.trim() : '';
  if (str === '') return zeroQuantity();
  if (str === '0') return { ...zeroQuantity(), Format: 'DecimalSI', s: '0' };
  const m = /^([+-]?)(0*)(\d*)(?:\.(\d*))?(.*)$/.exec(str);
  if (!m) return zeroQuantity();
  const positive = m[1] !== '-';
  let num = m[3]!;
  const denom = m[4] ?? '';
  const suffix = m[5]!;
  if (num === '' && m[2] === '' && denom === '' && !/\./.test(str)) return zeroQuantity();
  if (num === '') num = '0';

  let base: number;
  let exponent: number;
  let format: string;
  if (suffix in DECIMAL_SUFFIXES) {
    base = 10;
    exponent = DECIMAL_SUFFIXES[suffix]!;
    format = 'DecimalSI';
  } else if (suffix in BINARY_SUFFIXES) {
    base = 2;
    exponent = BINARY_SUFFIXES[suffix]!;
    format = 'BinarySI';
  } else if (/^[eE][+-]?\d+$/.test(suffix)) {
    base = 10;
    exponent = Number(suffix.slice(1));
    format = 'DecimalExponent';
  } else return zeroQuantity();

  let precision = 0;
  let scale = 0;
  let mantissa = 1n;
  if (format === 'BinarySI') {
    if (exponent >= 0 && denom.length === 0) {
      mantissa = 1n << BigInt(exponent);
      precision = 15 - num.length - Math.trunc(Math.fround((Math.fround(exponent) * 3) / 10)) - 1;
    } else precision = -1;
  } else {
    scale = exponent;
    precision = 18 - (num.length + denom.length);
  }

  if (precision >= 0) {
    scale -= denom.length;
    if (scale >= -9) {
      const shifted = num + denom;
      const value = BigInt(shifted);
      const product = value * mantissa;
      if (product <= INT64_MAX) {
        const result = positive ? product : -product;
        // ParseQuantity keeps the input string only when it is already canonical.
        const canonical =
          format === 'BinarySI' ? exponent % 10 === 0 && (value & 7n) !== 0n : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
        return { i: { value: result, scale }, d: { Dec: null }, s: canonical ? str : '', Format: format };
      }
    }
  }

  // Slow path: an inf.Dec rounded up to nano.
  let unscaled = BigInt((positive ? '' : '-') + (num + denom).replace(/^0+(?=\d)/, ''));
  let decScale = denom.length;
  if (base === 10) decScale -= exponent;
  else unscaled *= 1n << BigInt(exponent);
  const negative = unscaled < 0n;
  if (negative) unscaled = -unscaled;
  if (unscaled !== 0n) {
    if (decScale < 9) {
      unscaled *= 10n ** BigInt(9 - decScale);
    } else if (decScale > 9) {
      const divisor = 10n ** BigInt(decScale - 9);
      unscaled = (unscaled + divisor - 1n) / divisor;
    }
    decScale = 9;
  }
  // BinarySI is capped at MaxInt64 (inf.NewDec(MaxInt64, 0)); below one it turns DecimalSI.
  if (format === 'BinarySI' && decScale === 9 && unscaled > INT64_MAX * 10n ** 9n) {
    unscaled = INT64_MAX;
    decScale = 0;
  }
  if (format === 'BinarySI' && decScale === 9 && unscaled < 10n ** 9n && unscaled > 0n) format = 'DecimalSI';
  const words: bigint[] = [];
  for (let rest = unscaled; rest > 0n; rest >>= 64n) words.push(rest & (2n ** 64n - 1n));
  return { i: { value: 0n, scale: 0 }, d: { Dec: { unscaled: { neg: negative && unscaled !== 0n, abs: words }, scale: decScale } }, s: '', Format: format };
}

// ---------------------------------------------------------------------------
// Hashing
// ---------------------------------------------------------------------------

/** go-spew's `%#v` of a PodTemplateSpec given as JSON. */
export function spewPodTemplate(template: unknown, table: GoTypeTable = DEFAULT_GO_TYPES): string {
  return new SpewPrinter(table).print(template, 'corev1.PodTemplateSpec');
}

/** FNV-32a of bytes, continuing from `hash`. */
function fnv32a(bytes: Uint8Array, hash = 0x811c9dc5): number {
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** k8s.io/apimachinery rand.SafeEncodeString: each byte mapped into an alphabet without vowels. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/**
 * controller.ComputeHash: the pod-template-hash label value of a Deployment's
 * template (as stored, defaults applied) and its status.collisionCount.
 */
export function computePodTemplateHash(template: unknown, collisionCount?: number | null, table: GoTypeTable = DEFAULT_GO_TYPES): string {
  let hash = fnv32a(new TextEncoder().encode(spewPodTemplate(template, table)));
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}
