/**
 * Generic validation shared by every kind: name formats, labels, annotations,
 * label selectors and ObjectMeta — with Kubernetes' exact messages
 * (k8s.io/apimachinery/pkg/util/validation and pkg/api/validation), so
 * `kubectl` prints the same `Invalid value` lines a real cluster does.
 *
 * The `is*` functions return the list of problems as plain strings (empty when
 * valid), like their Go counterparts; callers wrap them into FieldErrors.
 */
import { fieldErrors, type FieldError } from './errors.js';
import type { ObjectMeta } from './types.js';
import { isObject } from './types.js';

// ---------------------------------------------------------------------------
// Message helpers (util/validation)
// ---------------------------------------------------------------------------

/** "must be no more than N characters" */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** "must be between LO and HI, inclusive" */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

/**
 * Kubernetes' regex message: `msg (e.g. 'a',  or 'b', regex used for validation is 'fmt')`.
 * The double space before "or" is how Kubernetes prints it.
 */
export function regexError(msg: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${format}')`;
  let out = `${msg} (e.g. `;
  examples.forEach((example, i) => {
    if (i > 0) out += ' or ';
    out += `'${example}', `;
  });
  return `${out}regex used for validation is '${format}')`;
}

export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';
export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';

// ---------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_ERR =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`);
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_ERR =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`);
const WILDCARD_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_SUBDOMAIN_ERR =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";

const QNAME_CHAR_FMT = '[A-Za-z0-9]';
const QNAME_EXT_CHAR_FMT = '[-A-Za-z0-9_.]';
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR_FMT}${QNAME_EXT_CHAR_FMT}*)?${QNAME_CHAR_FMT}`;
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const QUALIFIED_NAME_MAX = 63;

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MAX = 63;

const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_MAP_KEY_ERR = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const CONFIG_MAP_KEY_RE = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);

const ENV_VAR_NAME_FMT = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const ENV_VAR_NAME_ERR =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const ENV_VAR_NAME_RE = new RegExp(`^${ENV_VAR_NAME_FMT}$`);
const RELAXED_ENV_VAR_NAME_ERR = "a valid environment variable name must consist only of printable ASCII characters other than '='";

const PERCENT_FMT = '[0-9]+%';
const PERCENT_ERR = "a valid percent string must be a numeric string followed by an ending '%'";
const PERCENT_RE = new RegExp(`^${PERCENT_FMT}$`);

const HTTP_HEADER_NAME_FMT = '[-A-Za-z0-9]+';
const HTTP_HEADER_NAME_RE = new RegExp(`^${HTTP_HEADER_NAME_FMT}$`);

/** Byte length of a string as Go's len() counts it (UTF-8). */
function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

/** A DNS (RFC 1123) label: pod container names, namespace names, volume names. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1123_LABEL_RE.test(value)) {
    // A valid subdomain that is not a valid label can only be failing because of dots.
    if (DNS1123_SUBDOMAIN_RE.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_ERR, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** A DNS (RFC 1123) subdomain: most object names. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errs.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errs;
}

/** A DNS (RFC 1035) label: service names. */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 63) errs.push(maxLenError(63));
  if (!DNS1035_LABEL_RE.test(value)) errs.push(regexError(DNS1035_LABEL_ERR, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  return errs;
}

/** `*.example.com` style hosts (Ingress rules). */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!new RegExp(`^${WILDCARD_SUBDOMAIN_FMT}$`).test(value)) {
    errs.push(regexError(WILDCARD_SUBDOMAIN_ERR, WILDCARD_SUBDOMAIN_FMT, '*.example.com'));
  }
  return errs;
}

/** A "qualified name" (label keys, annotation keys, finalizers): optional DNS prefix + name. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else errs.push(...isDNS1123Subdomain(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (name.length > QUALIFIED_NAME_MAX) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errs.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

/** A label value: empty, or a qualified-name-like string of at most 63 characters. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (value.length > LABEL_VALUE_MAX) errs.push(maxLenError(LABEL_VALUE_MAX));
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs;
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** A ConfigMap / Secret data key. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (value.length > 253) errs.push(maxLenError(253));
  if (!CONFIG_MAP_KEY_RE.test(value)) errs.push(regexError(CONFIG_MAP_KEY_ERR, CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** The strict (pre-1.32) environment variable name rule. */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!ENV_VAR_NAME_RE.test(value)) {
    errs.push(regexError(ENV_VAR_NAME_ERR, ENV_VAR_NAME_FMT, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** The relaxed rule (RelaxedEnvironmentVariableValidation, on by default since 1.32). */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push('environment variable name must be non-empty');
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code < 0x20 || code > 0x7e || ch === '=') {
      errs.push(RELAXED_ENV_VAR_NAME_ERR);
      break;
    }
  }
  return errs;
}

/** A port number 1..65535. */
export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

/** An IANA_SVC_NAME: named ports. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (port.length > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

/** "25%" style strings. */
export function isValidPercent(value: string): string[] {
  return PERCENT_RE.test(value) ? [] : [regexError(PERCENT_ERR, PERCENT_FMT, '1%', '93%')];
}

/** HTTP header names in probes. */
export function isHTTPHeaderName(value: string): string[] {
  return HTTP_HEADER_NAME_RE.test(value)
    ? []
    : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", HTTP_HEADER_NAME_FMT, 'X-Header-Name')];
}

/** True for a dotted-quad IPv4 address. */
export function isIPv4(value: string): boolean {
  const parts = value.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^[0-9]{1,3}$/.test(p) && Number(p) <= 255);
}

/** True for an IPv6 address (with optional embedded IPv4 tail). */
export function isIPv6(value: string): boolean {
  if (!value.includes(':') || value.includes(':::')) return false;
  let text = value;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    // An embedded IPv4 tail stands for two 16-bit groups.
    if (!isIPv4(tail)) return false;
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return false;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9a-fA-F]{1,4}$/.test(g))) return false;
  return halves.length === 2 ? all.length < 8 : all.length === 8;
}

/** `validation.IsValidIP` as FieldErrors. */
export function isValidIP(path: string, value: string): FieldError[] {
  return isIPv4(value) || isIPv6(value)
    ? []
    : [fieldErrors.invalid(path, value, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)')];
}

/** `validation.IsValidIPv4Address` as FieldErrors. */
export function isValidIPv4Address(path: string, value: string): FieldError[] {
  return isIPv4(value) ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv4 address')];
}

/** `validation.IsValidIPv6Address` as FieldErrors. */
export function isValidIPv6Address(path: string, value: string): FieldError[] {
  return isIPv6(value) ? [] : [fieldErrors.invalid(path, value, 'must be a valid IPv6 address')];
}

/** `validation.IsValidCIDR` as FieldErrors. */
export function isValidCIDR(path: string, value: string): FieldError[] {
  const [ip, bits, extra] = value.split('/');
  const max = isIPv4(ip) ? 32 : isIPv6(ip) ? 128 : -1;
  const ok = extra === undefined && max > 0 && bits !== undefined && /^[0-9]+$/.test(bits) && Number(bits) <= max;
  return ok ? [] : [fieldErrors.invalid(path, value, 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)')];
}

/** A name usable as one URL path segment (RBAC objects, HPA names). */
export function isValidPathSegmentName(name: string): string[] {
  if (name === '.' || name === '..') return [`may not be '${name}'`];
  const errs: string[] = [];
  for (const illegal of ['/', '%']) {
    if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  }
  return errs;
}

/** `domain/path` values such as IngressClass controllers and Job managedBy. */
export function isDomainPrefixedPath(path: string, value: string): FieldError[] {
  if (value.length === 0) return [fieldErrors.required(path)];
  const slash = value.indexOf('/');
  const host = slash < 0 ? value : value.slice(0, slash);
  const rest = slash < 0 ? '' : value.slice(slash + 1);
  if (slash < 0 || host.length === 0 || rest.length === 0) {
    return [fieldErrors.invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  }
  const errs = isDNS1123Subdomain(host).map((m) => fieldErrors.invalid(path, host, m));
  const httpPathFmt = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
  if (!new RegExp(`^${httpPathFmt}$`).test(rest)) {
    errs.push(fieldErrors.invalid(path, rest, regexError('Invalid path', httpPathFmt)));
  }
  return errs;
}

// ---------------------------------------------------------------------------
// Name validation functions (pkg/api/validation/generic.go)
// ---------------------------------------------------------------------------

/** Which rule an object's metadata.name follows. */
export type NameValidation = 'dns1123Subdomain' | 'dns1123Label' | 'dns1035Label' | 'pathSegment';

/** With generateName, the server appends random characters, so a trailing dash is fine. */
export function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

/** The messages for `name` under the given rule; `prefix` is true for generateName. */
export function validateName(rule: NameValidation, name: string, prefix = false): string[] {
  switch (rule) {
    case 'dns1123Label':
      return isDNS1123Label(prefix ? maskTrailingDash(name) : name);
    case 'dns1035Label':
      return isDNS1035Label(prefix ? maskTrailingDash(name) : name);
    case 'pathSegment':
      // A prefix may legitimately be "." or ".." before the random suffix is added.
      return prefix ? isValidPathSegmentName(name).filter((m) => m.startsWith('may not contain')) : isValidPathSegmentName(name);
    default:
      return isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
  }
}

// ---------------------------------------------------------------------------
// Go value rendering for `Invalid value: …`
// ---------------------------------------------------------------------------

/**
 * An Invalid error whose value is already rendered the way Go's `%#v` prints
 * it (maps, structs); fieldErrors.invalid would JSON-encode objects instead.
 */
export function invalidRendered(field: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `${field}: Invalid value: ${rendered}: ${detail}` };
}

/** A Go string literal as %q / %#v prints it. */
export function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** `map[string]string{"a":"b", "c":"d"}` (keys sorted, like fmt), or `map[string]string(nil)`. */
export function goStringMap(map: unknown): string {
  if (!isObject(map)) return 'map[string]string(nil)';
  const entries = Object.keys(map)
    .sort()
    .map((k) => `${goQuote(k)}:${goQuote(String(map[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

/** `[]string{"a", "b"}` or `[]string(nil)`. */
export function goStringSlice(values: unknown, elemType = 'string'): string {
  if (!Array.isArray(values)) return `[]${elemType}(nil)`;
  return `[]${elemType}{${values.map((v) => goQuote(String(v))).join(', ')}}`;
}

/** A metav1.LabelSelector value as `%#v` prints it in field errors. */
export function goLabelSelector(selector: unknown): string {
  const sel = isObject(selector) ? selector : {};
  const exprs = Array.isArray(sel.matchExpressions)
    ? `[]v1.LabelSelectorRequirement{${sel.matchExpressions
        .map((e) => {
          const r = isObject(e) ? e : {};
          return `v1.LabelSelectorRequirement{Key:${goQuote(String(r.key ?? ''))}, Operator:${goQuote(String(r.operator ?? ''))}, Values:${goStringSlice(r.values)}}`;
        })
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return `v1.LabelSelector{MatchLabels:${goStringMap(sel.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** An intstr.IntOrString value as `%#v` prints it. */
export function goIntOrString(value: unknown): string {
  if (typeof value === 'number') return `intstr.IntOrString{Type:0, IntVal:${value}, StrVal:""}`;
  return `intstr.IntOrString{Type:1, IntVal:0, StrVal:${goQuote(String(value ?? ''))}}`;
}

// ---------------------------------------------------------------------------
// Labels, annotations, selectors
// ---------------------------------------------------------------------------

/** `ValidateLabelName`: a label key must be a qualified name. */
export function validateLabelName(key: string, path: string): FieldError[] {
  return isQualifiedName(key).map((m) => fieldErrors.invalid(path, key, m));
}

/** `ValidateLabels`: every key a qualified name, every value a label value. Errors point at the map. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (!isObject(labels)) return [];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateLabelName(k, path));
    const value = typeof v === 'string' ? v : String(v);
    errs.push(...isValidLabelValue(value).map((m) => fieldErrors.invalid(path, value, m)));
  }
  return errs;
}

/** Total size of all annotation keys and values. */
export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** `ValidateAnnotations`: keys are (case-insensitive) qualified names; total size ≤ 256 KiB. */
export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  if (!isObject(annotations)) return [];
  const errs: FieldError[] = [];
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    errs.push(...isQualifiedName(k.toLowerCase()).map((m) => fieldErrors.invalid(path, k, m)));
    total += byteLength(k) + byteLength(typeof v === 'string' ? v : String(v));
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldErrors.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

/** `ValidateLabelSelector` (metav1). */
export function validateLabelSelector(selector: unknown, path: string): FieldError[] {
  if (!isObject(selector)) return [];
  const errs = validateLabels(selector.matchLabels, `${path}.matchLabels`);
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  exprs.forEach((raw, i) => {
    const expr = isObject(raw) ? raw : {};
    const p = `${path}.matchExpressions[${i}]`;
    const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
    const op = String(expr.operator ?? '');
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(fieldErrors.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) {
        errs.push(fieldErrors.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
    } else {
      errs.push(fieldErrors.invalid(`${p}.operator`, op, 'not a valid selector operator'));
    }
    errs.push(...validateLabelName(String(expr.key ?? ''), `${p}.key`));
    values.forEach((v, j) => errs.push(...isValidLabelValue(v).map((m) => fieldErrors.invalid(`${p}.values[${j}]`, v, m))));
  });
  return errs;
}

/**
 * A compiled metav1.LabelSelector. `undefined` selector matches nothing (as
 * LabelSelectorAsSelector(nil) = labels.Nothing()); an empty one matches everything.
 */
export interface CompiledSelector {
  /** True when the selector has no requirements (labels.Everything). */
  empty: boolean;
  matches(labels: Record<string, string> | undefined): boolean;
}

/** Compiles a LabelSelector; returns undefined when an operator is unknown (conversion error). */
export function compileLabelSelector(selector: unknown): CompiledSelector | undefined {
  if (selector === undefined || selector === null) return { empty: false, matches: () => false };
  if (!isObject(selector)) return undefined;
  const tests: Array<(labels: Record<string, string>) => boolean> = [];
  if (isObject(selector.matchLabels)) {
    for (const [k, v] of Object.entries(selector.matchLabels)) tests.push((l) => l[k] === String(v));
  }
  const exprs = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
  for (const raw of exprs) {
    if (!isObject(raw)) return undefined;
    const key = String(raw.key ?? '');
    const values = Array.isArray(raw.values) ? raw.values.map(String) : [];
    switch (raw.operator) {
      case 'In':
        tests.push((l) => key in l && values.includes(l[key]));
        break;
      case 'NotIn':
        tests.push((l) => !(key in l) || !values.includes(l[key]));
        break;
      case 'Exists':
        tests.push((l) => key in l);
        break;
      case 'DoesNotExist':
        tests.push((l) => !(key in l));
        break;
      default:
        return undefined;
    }
  }
  return {
    empty: tests.length === 0,
    matches: (labels) => tests.every((t) => t(labels ?? {})),
  };
}

// ---------------------------------------------------------------------------
// Small generic field checks
// ---------------------------------------------------------------------------

/** `ValidateNonnegativeField`. */
export function validateNonnegativeField(value: number, path: string): FieldError[] {
  return value < 0 ? [fieldErrors.invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** Structural equality of JSON values (Go's semantic DeepEqual for our purposes). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * `ValidateImmutableField`: "field is immutable" with the new value. `render`
 * prints the value like Go would when it is not a plain string or number.
 */
export function validateImmutableField(
  newValue: unknown,
  oldValue: unknown,
  path: string,
  render?: (value: unknown) => string,
): FieldError[] {
  if (deepEqual(newValue, oldValue)) return [];
  if (render) return [invalidRendered(path, render(newValue), FIELD_IMMUTABLE_ERROR_MSG)];
  return [fieldErrors.invalid(path, newValue, FIELD_IMMUTABLE_ERROR_MSG)];
}

// ---------------------------------------------------------------------------
// ObjectMeta
// ---------------------------------------------------------------------------

/** How to validate an object's metadata. */
export interface ObjectMetaValidationOptions {
  /** Namespaced kinds need metadata.namespace; cluster-scoped kinds must not have one. */
  namespaced: boolean;
  /** Rule for metadata.name; default DNS-1123 subdomain. */
  nameValidation?: NameValidation;
}

/** Finalizer names Kubernetes accepts without a domain prefix. */
const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** `ValidateFinalizers` plus core's check that unprefixed finalizers are standard ones. */
export function validateFinalizers(finalizers: unknown, path: string): FieldError[] {
  if (!Array.isArray(finalizers)) return [];
  const errs: FieldError[] = [];
  for (const f of finalizers.map(String)) {
    errs.push(...isQualifiedName(f).map((m) => fieldErrors.invalid(path, f, m)));
  }
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push(
      invalidRendered(path, goStringSlice(finalizers), 'finalizer orphan and foregroundDeletion cannot be both set'),
    );
  }
  finalizers.map(String).forEach((f, i) => {
    if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(fieldErrors.invalid(`${path}[${i}]`, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  });
  return errs;
}

/** `ValidateOwnerReferences`. */
export function validateOwnerReferences(refs: unknown, path: string): FieldError[] {
  if (!Array.isArray(refs)) return [];
  const errs: FieldError[] = [];
  let firstController = '';
  for (const raw of refs) {
    const ref = isObject(raw) ? raw : {};
    const apiVersion = String(ref.apiVersion ?? '');
    const version = apiVersion.includes('/') ? apiVersion.split('/')[1] : apiVersion;
    if (!version) errs.push(fieldErrors.invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!ref.kind) errs.push(fieldErrors.invalid(`${path}.kind`, String(ref.kind ?? ''), 'must not be empty'));
    if (!ref.name) errs.push(fieldErrors.invalid(`${path}.name`, String(ref.name ?? ''), 'must not be empty'));
    if (!ref.uid) errs.push(fieldErrors.invalid(`${path}.uid`, String(ref.uid ?? ''), 'must not be empty'));
    if (apiVersion === 'v1' && ref.kind === 'Event') {
      errs.push(fieldErrors.invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${String(ref.kind)}/${String(ref.name)}`;
      if (firstController) {
        errs.push(
          fieldErrors.invalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return errs;
}

/**
 * `ValidateObjectMeta` for a create: name (or generateName), namespace scope,
 * generation, labels, annotations, owner references and finalizers.
 * Name generation happens in the store; an object that only has generateName is
 * accepted here and its generateName checked with the trailing dash allowed.
 */
export function validateObjectMeta(meta: ObjectMeta | undefined, options: ObjectMetaValidationOptions): FieldError[] {
  const m: ObjectMeta = meta ?? {};
  const rule = options.nameValidation ?? 'dns1123Subdomain';
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of validateName(rule, m.generateName, true)) {
      errs.push(fieldErrors.invalid('metadata.generateName', m.generateName, msg));
    }
  }
  if (!m.name) {
    if (!m.generateName) errs.push(fieldErrors.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of validateName(rule, m.name)) errs.push(fieldErrors.invalid('metadata.name', m.name, msg));
  }
  if (options.namespaced) {
    if (!m.namespace) errs.push(fieldErrors.required('metadata.namespace'));
    else for (const msg of isDNS1123Label(m.namespace)) errs.push(fieldErrors.invalid('metadata.namespace', m.namespace, msg));
  } else if (m.namespace) {
    errs.push(fieldErrors.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  if (typeof m.generation === 'number') errs.push(...validateNonnegativeField(m.generation, 'metadata.generation'));
  errs.push(...validateLabels(m.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(m.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(m.ownerReferences, 'metadata.ownerReferences'));
  errs.push(...validateFinalizers(m.finalizers, 'metadata.finalizers'));
  return errs;
}

/** Renders a metav1.Time the way Go prints time.Time in field errors. */
function goTime(value: unknown): string {
  if (typeof value !== 'string' || !value) return '<nil>';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return goQuote(value);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 UTC`;
}

/**
 * `ValidateObjectMetaUpdate`: name, namespace, uid, creationTimestamp,
 * deletionTimestamp and deletionGracePeriodSeconds are immutable; generation
 * may not go down; no new finalizers once deletion started. The new object's
 * labels, annotations, owners and finalizers are checked by validateObjectMeta,
 * which the store also runs on updates (so they are not reported twice).
 * Like Kubernetes' store, callers fill in resourceVersion for unconditional
 * updates before calling this.
 */
export function validateObjectMetaUpdate(newMeta: ObjectMeta | undefined, oldMeta: ObjectMeta | undefined): FieldError[] {
  const n: ObjectMeta = newMeta ?? {};
  const o: ObjectMeta = oldMeta ?? {};
  const errs: FieldError[] = [];
  if (o.deletionTimestamp) {
    const added = (n.finalizers ?? []).filter((f) => !(o.finalizers ?? []).includes(f)).sort();
    if (added.length > 0) {
      errs.push(
        fieldErrors.forbidden(
          'metadata.finalizers',
          `no new finalizers can be added if the object is being deleted, found new finalizers ${goStringSlice(added)}`,
        ),
      );
    }
  }
  if (!n.resourceVersion) errs.push(fieldErrors.invalid('metadata.resourceVersion', '', 'must be specified for an update'));
  if ((n.generation ?? 0) < (o.generation ?? 0)) {
    errs.push(fieldErrors.invalid('metadata.generation', n.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...validateImmutableField(n.name ?? '', o.name ?? '', 'metadata.name'));
  errs.push(...validateImmutableField(n.namespace ?? '', o.namespace ?? '', 'metadata.namespace'));
  errs.push(...validateImmutableField(n.uid ?? '', o.uid ?? '', 'metadata.uid'));
  errs.push(...validateImmutableField(n.creationTimestamp, o.creationTimestamp, 'metadata.creationTimestamp', goTime));
  errs.push(...validateImmutableField(n.deletionTimestamp, o.deletionTimestamp, 'metadata.deletionTimestamp', goTime));
  errs.push(
    ...validateImmutableField(n.deletionGracePeriodSeconds, o.deletionGracePeriodSeconds, 'metadata.deletionGracePeriodSeconds', (v) =>
      v === undefined || v === null ? 'null' : String(v),
    ),
  );
  return errs;
}
