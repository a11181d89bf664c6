/**
 * Kind-specific validation, as Kubernetes' pkg/apis/<group>/validation does it
 * (v1.32), with the same field paths and messages so the real kubectl prints
 * the same `Invalid value` lines a real cluster does.
 *
 * Metadata (names, labels, annotations, owners, finalizers, immutable
 * metadata) is validated generically by the store; the functions here only
 * look at spec and the other kind-specific fields. Objects arrive defaulted
 * (and, for pods, admitted), exactly as Kubernetes validates them.
 *
 * Objects are plain JSON that may be malformed in any way, so every accessor
 * below tolerates wrong types instead of trusting the declared shape.
 * Kubernetes' field paths follow its internal Go types; where those differ
 * from the v1 JSON (e.g. `metadata.taints` for node taints) we keep
 * Kubernetes' path, since that is what users see.
 */
import { fieldErrors, type FieldError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import {
  FIELD_IMMUTABLE_ERROR_MSG,
  IS_NEGATIVE_ERROR_MSG,
  compileLabelSelector,
  goIntOrString,
  goLabelSelector,
  goQuote,
  goStringMap,
  goStringSlice,
  inclusiveRangeError,
  invalidRendered,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDomainPrefixedPath,
  isHTTPHeaderName,
  isIPv4,
  isIPv6,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  maxLenError,
  validateAnnotations,
  validateLabelName,
  validateLabelSelector,
  validateLabels,
} from '../apimachinery/validation.js';
import {
  QUANTITY_FORMAT_ERROR,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  quantityMilliValue,
  quantitySign,
  type Quantity,
} from './quantity.js';

/** Validation hooks of one kind; `validateUpdate` includes the checks of `validate` on the new object. */
export interface KindValidator {
  /** Errors of a new object (create). */
  validate(obj: KubeObject): FieldError[];
  /** Errors of an update: the new object's own errors plus what may not change from `old`. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
}

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------
// JSON access (tolerant of malformed input)
// ---------------------------------------------------------------------------

/** The object at `value`, or undefined. */
function asObj(value: unknown): Obj | undefined {
  return isObject(value) ? value : undefined;
}

/** The object at `value`, or an empty one. */
function objOf(value: unknown): Obj {
  return isObject(value) ? value : {};
}

/** The elements of an array field as objects; non-objects become `{}` so indices stay aligned. */
function objs(value: unknown): Obj[] {
  return Array.isArray(value) ? value.map(objOf) : [];
}

/** The elements of an array field (none when not an array). */
function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** A string field; "" when absent or not a string (Go's zero value). */
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** A number field, or undefined. */
function num(value: unknown): number | undefined {
  return typeof value === 'number' ? value : undefined;
}

/** True when a field is set (Go: non-nil pointer). */
function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Entries of a map field in the order given. */
function entries(value: unknown): Array<[string, unknown]> {
  return isObject(value) ? Object.entries(value) : [];
}

/** The string map at `value` (labels, selectors), or undefined. */
function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

/** `spec` of an object. */
function specOf(obj: KubeObject): Obj {
  return objOf(obj.spec);
}

/**
 * Go's apiequality.Semantic.DeepEqual on JSON: nil and empty slices are
 * equal, and so are absent and null fields.
 */
function semanticEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  if (empty(a) && empty(b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((v, i) => semanticEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) if (!semanticEqual(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

// ---------------------------------------------------------------------------
// Error builders beyond fieldErrors (k8s.io/apimachinery/pkg/util/validation/field)
// ---------------------------------------------------------------------------

function required(path: string, detail = ''): FieldError {
  return fieldErrors.required(path, detail);
}

function invalid(path: string, value: unknown, detail: string): FieldError {
  return fieldErrors.invalid(path, value, detail);
}

function forbidden(path: string, detail: string): FieldError {
  return fieldErrors.forbidden(path, detail);
}

function notSupported(path: string, value: unknown, supported: string[]): FieldError {
  return fieldErrors.notSupported(path, value, supported);
}

/** NotSupported whose value is already rendered Go-style (structs). */
function notSupportedRendered(path: string, rendered: string, supported: string[]): FieldError {
  const values = supported.map((s) => goQuote(s)).join(', ');
  return { type: 'FieldValueNotSupported', field: path, message: `${path}: Unsupported value: ${rendered}: supported values: ${values}` };
}

function duplicate(path: string, value: unknown): FieldError {
  return fieldErrors.duplicate(path, value);
}

/** Duplicate whose value is already rendered Go-style. */
function duplicateRendered(path: string, rendered: string, detail = ''): FieldError {
  return { type: 'FieldValueDuplicate', field: path, message: `${path}: Duplicate value: ${rendered}${detail ? `: ${detail}` : ''}` };
}

/** `Not found: "x"` — a reference to something that does not exist. */
function notFound(path: string, value: string, detail = ''): FieldError {
  return { type: 'FieldValueNotFound', field: path, message: `${path}: Not found: ${goQuote(value)}${detail ? `: ${detail}` : ''}` };
}

/** Invalid without a value (field.OmitValueType): `path: Invalid value: detail`. */
function invalidOmitValue(path: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, message: `${path}: Invalid value: ${detail}` };
}

/** Invalid with a rendered value and no detail (Go's empty detail prints nothing after the value). */
function invalidNoDetail(path: string, rendered: string): FieldError {
  return { type: 'FieldValueInvalid', field: path, message: `${path}: Invalid value: ${rendered}` };
}

/**
 * Go prints a nil pointer value as the string "null" (quoted), so absent
 * optional values are passed as this string.
 */
const NIL = 'null';

/** `Too many: N: must have at most M items`. */
function tooMany(path: string, actual: number, max: number): FieldError {
  return {
    type: 'FieldValueTooMany',
    field: path,
    message: `${path}: Too many: ${actual}: must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
  };
}

/** One Invalid error per message, as the `for _, msg := range validation.IsX(v)` loops do. */
function invalidEach(path: string, value: unknown, messages: string[]): FieldError[] {
  return messages.map((m) => invalid(path, value, m));
}

/** Path helpers that read like Go's fldPath.Child / .Index / .Key. */
const at = (path: string, child: string) => (path ? `${path}.${child}` : child);
const idx = (path: string, i: number) => `${path}[${i}]`;
const key = (path: string, k: string) => `${path}[${k}]`;

// ---------------------------------------------------------------------------
// Go value rendering (%#v) for the few structs users see in messages
// ---------------------------------------------------------------------------

/** A value rendered the way a JSON-shaped Go struct would roughly print; used where Kubernetes dumps a struct. */
function goStruct(type: string, value: unknown): string {
  return `${type}${JSON.stringify(value ?? {})}`;
}

/** rbac.RoleRef{APIGroup:"…", Kind:"…", Name:"…"} */
function goRoleRef(ref: unknown): string {
  const r = objOf(ref);
  return `rbac.RoleRef{APIGroup:${goQuote(str(r.apiGroup))}, Kind:${goQuote(str(r.kind))}, Name:${goQuote(str(r.name))}}`;
}

// ---------------------------------------------------------------------------
// Small shared checks
// ---------------------------------------------------------------------------

/** ValidateNonnegativeField on an optional number. */
function nonNegative(value: unknown, path: string): FieldError[] {
  return typeof value === 'number' && value < 0 ? [invalid(path, value, IS_NEGATIVE_ERROR_MSG)] : [];
}

/** ValidateDNS1123Label as field errors. */
function dns1123Label(value: string, path: string): FieldError[] {
  return invalidEach(path, value, isDNS1123Label(value));
}

/** ValidateDNS1123Subdomain as field errors. */
function dns1123Subdomain(value: string, path: string): FieldError[] {
  return invalidEach(path, value, isDNS1123Subdomain(value));
}

/** ValidateQualifiedName as field errors. */
function qualifiedName(value: string, path: string): FieldError[] {
  return invalidEach(path, value, isQualifiedName(value));
}

/** A required enum-valued string: Required when empty, NotSupported when unknown. */
function enumField(value: unknown, path: string, supported: string[]): FieldError[] {
  const v = str(value);
  if (v === '') return [required(path)];
  return supported.includes(v) ? [] : [notSupported(path, value, supported)];
}

/** An optional enum-valued string (Go pointer): only checked when set. */
function optionalEnum(value: unknown, path: string, supported: string[]): FieldError[] {
  if (!isSet(value)) return [];
  return typeof value === 'string' && supported.includes(value) ? [] : [notSupported(path, value, supported)];
}

/** ValidateImmutableField with Semantic.DeepEqual; `render` prints non-scalar values. */
function immutable(newValue: unknown, oldValue: unknown, path: string, render?: (v: unknown) => string): FieldError[] {
  if (semanticEqual(newValue, oldValue)) return [];
  if (render) return [invalidRendered(path, render(newValue), FIELD_IMMUTABLE_ERROR_MSG)];
  return [invalid(path, newValue ?? NIL, FIELD_IMMUTABLE_ERROR_MSG)];
}

/** The label selector must be present, valid and non-empty (Deployment, ReplicaSet, StatefulSet). */
function requiredNonEmptySelector(selector: unknown, path: string, kindWord: string): FieldError[] {
  if (!isSet(selector)) return [required(path)];
  const errs = validateLabelSelector(selector, path);
  const sel = objOf(selector);
  if (Object.keys(objOf(sel.matchLabels)).length + list(sel.matchExpressions).length === 0) {
    errs.push(invalidRendered(path, goLabelSelector(selector), `empty selector is invalid for ${kindWord}`));
  }
  return errs;
}

/**
 * "`selector` does not match template `labels`" unless the selector matches
 * the template's labels. An absent selector matches nothing (labels.Nothing()),
 * an empty one everything.
 */
function selectorMatchesTemplate(selector: unknown, template: Obj, path: string): FieldError[] {
  const compiled = compileLabelSelector(selector);
  const labels = stringMap(objOf(template.metadata).labels);
  if (!compiled || compiled.empty || compiled.matches(labels)) return [];
  return [invalidRendered(at(path, 'template.metadata.labels'), goStringMap(labels), '`selector` does not match template `labels`')];
}

// ---------------------------------------------------------------------------
// Resource names and quantities (helper.IsStandardResourceName & co.)
// ---------------------------------------------------------------------------

const STANDARD_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage',
  'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods', 'resourcequotas', 'services',
  'replicationcontrollers', 'secrets', 'configmaps', 'persistentvolumeclaims', 'storage', 'requests.storage',
  'services.nodeports', 'services.loadbalancers',
]);
const STANDARD_QUOTA_RESOURCES = new Set([
  'cpu', 'memory', 'ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.storage',
  'requests.ephemeral-storage', 'limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'pods',
  'resourcequotas', 'services', 'replicationcontrollers', 'secrets', 'persistentvolumeclaims', 'configmaps',
  'services.nodeports', 'services.loadbalancers',
]);
const STANDARD_CONTAINER_RESOURCES = new Set(['cpu', 'memory', 'ephemeral-storage']);
const INTEGER_RESOURCES = new Set([
  'pods', 'resourcequotas', 'services', 'replicationcontrollers', 'secrets', 'configmaps',
  'persistentvolumeclaims', 'services.nodeports', 'services.loadbalancers',
]);

const isHugePageResource = (name: string) => name.startsWith('hugepages-');
const isQuotaHugePageResource = (name: string) => name.startsWith('hugepages-') || name.startsWith('requests.hugepages-');
/** Native resources are unprefixed or in a kubernetes.io domain. */
const isNativeResource = (name: string) => !name.includes('/') || name.includes('kubernetes.io/');

/** Extended resources: fully qualified, not native, usable in quota as `requests.<name>`. */
function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** Resources whose requests must equal their limits. */
const isOvercommitAllowed = (name: string) => isNativeResource(name) && !isHugePageResource(name);

/** validateResourceName: a qualified name, and a standard one when unprefixed. */
function validateResourceName(name: string, path: string): FieldError[] {
  const errs = invalidEach(path, name, isQualifiedName(name));
  if (errs.length > 0) return errs;
  if (!name.includes('/') && !STANDARD_RESOURCES.has(name) && !isQuotaHugePageResource(name)) {
    errs.push(invalid(path, name, 'must be a standard resource type or fully qualified'));
  }
  return errs;
}

/** validateContainerResourceName: cpu, memory, ephemeral-storage, hugepages or an extended resource. */
function validateContainerResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/')) {
    if (!STANDARD_CONTAINER_RESOURCES.has(name) && !isHugePageResource(name)) {
      errs.push(invalid(path, name, 'must be a standard resource for containers'));
    }
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** ValidateResourceQuotaResourceName. */
function validateQuotaResourceName(name: string, path: string): FieldError[] {
  const errs = validateResourceName(name, path);
  if (!name.includes('/') && !STANDARD_QUOTA_RESOURCES.has(name) && !isQuotaHugePageResource(name)) {
    errs.push(invalid(path, name, 'must be a standard resource for quota'));
  }
  return errs;
}

/**
 * A quantity field parsed, or an error. Real Kubernetes rejects unparsable
 * quantities while decoding; here they surface as a field error at their path.
 */
function parseQuantityAt(value: unknown, path: string, errs: FieldError[]): Quantity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') {
    errs.push(invalid(path, value ?? NIL, QUANTITY_FORMAT_ERROR));
    return undefined;
  }
  try {
    return parseQuantity(value);
  } catch (error) {
    errs.push(invalid(path, String(value), error instanceof Error ? error.message : QUANTITY_FORMAT_ERROR));
    return undefined;
  }
}

/** ValidateResourceQuantityValue: non-negative, and whole for countable resources. */
function validateResourceQuantityValue(name: string, q: Quantity, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (quantitySign(q) < 0) errs.push(invalid(path, formatQuantity(q), IS_NEGATIVE_ERROR_MSG));
  if ((INTEGER_RESOURCES.has(name) || isExtendedResourceName(name)) && quantityMilliValue(q) % 1000n !== 0n) {
    errs.push(invalid(path, formatQuantity(q), 'must be an integer'));
  }
  return errs;
}

/** Every quantity of a resource list parsed (names checked by `checkName`). */
function parseResourceList(
  value: unknown,
  path: string,
  checkName: (name: string, path: string) => FieldError[],
  errs: FieldError[],
): Map<string, Quantity> {
  const parsed = new Map<string, Quantity>();
  for (const [name, raw] of entries(value)) {
    const p = key(path, name);
    errs.push(...checkName(name, p));
    const q = parseQuantityAt(raw, p, errs);
    if (!q) continue;
    errs.push(...validateResourceQuantityValue(name, q, p));
    parsed.set(name, q);
  }
  return parsed;
}

/** ValidateContainerResourceRequirements: names, quantities, requests ≤ limits. */
function validateResourceRequirements(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const res = objOf(resources);
  const limPath = at(path, 'limits');
  const reqPath = at(path, 'requests');
  const limits = parseResourceList(res.limits, limPath, validateContainerResourceName, errs);
  const names = [...limits.keys()];
  for (const [name, raw] of entries(res.requests)) {
    const p = key(reqPath, name);
    names.push(name);
    errs.push(...validateContainerResourceName(name, p));
    const request = parseQuantityAt(raw, p, errs);
    if (!request) continue;
    errs.push(...validateResourceQuantityValue(name, request, p));
    const limit = limits.get(name);
    if (limit) {
      // Requests of resources that cannot be overcommitted must equal their limits.
      const cmp = compareQuantities(request, limit);
      if (cmp !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
      } else if (cmp > 0) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
      }
    } else if (!isOvercommitAllowed(name) && !(isObject(res.limits) && name in res.limits)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  const computeOrMemory = names.some((n) => n === 'cpu' || n === 'memory');
  if (!computeOrMemory && names.some(isHugePageResource)) errs.push(forbidden(path, 'HugePages require cpu or memory'));
  return errs;
}

// ---------------------------------------------------------------------------
// Paths inside volumes and mounts
// ---------------------------------------------------------------------------

/** validatePathNoBacksteps: no `..` element. */
function pathNoBacksteps(target: string, path: string): FieldError[] {
  return target.split('/').includes('..') ? [invalid(path, target, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative, without backsteps. */
function localDescendingPath(target: string, path: string): FieldError[] {
  const errs = target.startsWith('/') ? [invalid(path, target, 'must be a relative path')] : [];
  return [...errs, ...pathNoBacksteps(target, path)];
}

/** ValidateLocalNonReservedPath: also may not start with `..`. */
function localNonReservedPath(target: string, path: string): FieldError[] {
  const errs = localDescendingPath(target, path);
  if (target.startsWith('..') && !target.startsWith('../')) errs.push(invalid(path, target, "must not start with '..'"));
  return errs;
}

const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** A file mode (defaultMode, mode) within 0..0777. */
function fileMode(value: unknown, path: string): FieldError[] {
  const mode = num(value);
  return mode !== undefined && (mode < 0 || mode > 0o777) ? [invalid(path, mode, FILE_MODE_ERROR)] : [];
}

/** validateKeyToPath: items of secret/configMap volumes. */
function validateKeyToPath(item: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(item.key)) errs.push(required(at(path, 'key')));
  if (!str(item.path)) errs.push(required(at(path, 'path')));
  errs.push(...localNonReservedPath(str(item.path), at(path, 'path')));
  errs.push(...fileMode(item.mode, at(path, 'mode')));
  return errs;
}

// ---------------------------------------------------------------------------
// Downward API and env
// ---------------------------------------------------------------------------

const ENV_FIELD_PATHS = [
  'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName', 'spec.serviceAccountName',
  'status.hostIP', 'status.hostIPs', 'status.podIP', 'status.podIPs',
];
const VOLUME_FIELD_PATHS = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];
const CONVERTIBLE_FIELD_LABELS = new Set([
  'metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid', 'spec.nodeName',
  'spec.restartPolicy', 'spec.serviceAccountName', 'spec.schedulerName', 'status.phase', 'status.hostIP',
  'status.hostIPs', 'status.podIP', 'status.podIPs',
]);
const RESOURCE_FIELD_PATHS = [
  'limits.cpu', 'limits.ephemeral-storage', 'limits.memory', 'requests.cpu', 'requests.ephemeral-storage', 'requests.memory',
];

/** `metadata.labels['key']` → ["metadata.labels", "key"]. */
function splitSubscriptedPath(fieldPath: string): [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const open = fieldPath.indexOf("['");
  if (open < 0) return undefined;
  return [fieldPath.slice(0, open), fieldPath.slice(open + 2, -2)];
}

/** validateObjectFieldSelector (fieldRef of env and downwardAPI volumes). */
function validateObjectFieldSelector(ref: Obj, expressions: string[], path: string): FieldError[] {
  if (!str(ref.apiVersion)) return [required(at(path, 'apiVersion'))];
  const fieldPath = str(ref.fieldPath);
  if (!fieldPath) return [required(at(path, 'fieldPath'))];
  // podshelper.ConvertDownwardAPIFieldLabel
  let conversionError = '';
  const subscripted = splitSubscriptedPath(fieldPath);
  if (ref.apiVersion !== 'v1') conversionError = `unsupported pod version: ${str(ref.apiVersion)}`;
  else if (subscripted && subscripted[0] !== 'metadata.annotations' && subscripted[0] !== 'metadata.labels') {
    conversionError = `field label does not support subscript: ${fieldPath}`;
  } else if (!subscripted && !CONVERTIBLE_FIELD_LABELS.has(fieldPath) && fieldPath !== 'spec.host') {
    conversionError = `field label not supported: ${fieldPath}`;
  }
  if (conversionError) return [invalid(at(path, 'fieldPath'), fieldPath, `error converting fieldPath: ${conversionError}`)];
  if (subscripted) {
    const [base, sub] = subscripted;
    return qualifiedName(base === 'metadata.annotations' ? sub.toLowerCase() : sub, path);
  }
  const internal = fieldPath === 'spec.host' ? 'spec.nodeName' : fieldPath;
  return expressions.includes(internal) ? [] : [notSupported(at(path, 'fieldPath'), internal, expressions)];
}

/** validateContainerResourceFieldSelector (resourceFieldRef). */
function validateResourceFieldSelector(ref: Obj, path: string, volume: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const resource = str(ref.resource);
  if (volume && !str(ref.containerName)) errs.push(required(at(path, 'containerName')));
  else if (!resource) errs.push(required(at(path, 'resource')));
  else if (!RESOURCE_FIELD_PATHS.includes(resource) && !resource.startsWith('requests.hugepages-') && !resource.startsWith('limits.hugepages-')) {
    errs.push(notSupported(at(path, 'resource'), resource, RESOURCE_FIELD_PATHS));
  }
  if (isSet(ref.divisor)) {
    const divisor = parseQuantityAt(ref.divisor, at(path, 'divisor'), errs);
    if (divisor && quantitySign(divisor) !== 0) {
      const text = formatQuantity(divisor);
      const binaryOrDecimal = ['1', '1k', '1M', '1G', '1T', '1P', '1E', '1Ki', '1Mi', '1Gi', '1Ti', '1Pi', '1Ei'];
      const supportedList = '1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei';
      if ((resource === 'limits.cpu' || resource === 'requests.cpu') && text !== '1m' && text !== '1') {
        errs.push(invalid(at(path, 'divisor'), resource, "only divisor's values 1m and 1 are supported with the cpu resource"));
      } else if ((resource === 'limits.memory' || resource === 'requests.memory') && !binaryOrDecimal.includes(text)) {
        errs.push(invalid(at(path, 'divisor'), resource, `only divisor's values ${supportedList} are supported with the memory resource`));
      } else if (resource.endsWith('ephemeral-storage') && !binaryOrDecimal.includes(text)) {
        errs.push(invalid(at(path, 'divisor'), resource, `only divisor's values ${supportedList} are supported with the local ephemeral storage resource`));
      }
    }
  }
  return errs;
}

/** ValidateEnv (relaxed names: RelaxedEnvironmentVariableValidation is on in 1.32). */
function validateEnv(env: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(env).forEach((ev, i) => {
    const p = idx(path, i);
    const name = str(ev.name);
    if (!name) errs.push(required(at(p, 'name')));
    else errs.push(...invalidEach(at(p, 'name'), name, isRelaxedEnvVarName(name)));
    errs.push(...validateEnvVarValueFrom(ev, at(p, 'valueFrom')));
  });
  return errs;
}

function validateEnvVarValueFrom(ev: Obj, path: string): FieldError[] {
  const from = asObj(ev.valueFrom);
  if (!from) return [];
  const errs: FieldError[] = [];
  let sources = 0;
  if (isObject(from.fieldRef)) {
    sources++;
    errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_FIELD_PATHS, at(path, 'fieldRef')));
  }
  if (isObject(from.resourceFieldRef)) {
    sources++;
    errs.push(...validateResourceFieldSelector(from.resourceFieldRef, at(path, 'resourceFieldRef'), false));
  }
  for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
    const selector = asObj(from[ref]);
    if (!selector) continue;
    sources++;
    const p = at(path, ref);
    const name = str(selector.name);
    errs.push(...invalidEach(at(p, 'name'), name, isDNS1123Subdomain(name)));
    const k = str(selector.key);
    if (!k) errs.push(required(at(p, 'key')));
    else errs.push(...invalidEach(at(p, 'key'), k, isConfigMapKey(k)));
  }
  if (sources === 0) {
    errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if (str(ev.value)) {
    errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  } else if (sources > 1) {
    errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  }
  return errs;
}

/** ValidateEnvFrom. */
function validateEnvFrom(envFrom: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(envFrom).forEach((ev, i) => {
    const p = idx(path, i);
    const prefix = str(ev.prefix);
    if (prefix) errs.push(...invalidEach(at(p, 'prefix'), prefix, isRelaxedEnvVarName(prefix)));
    let sources = 0;
    for (const ref of ['configMapRef', 'secretRef']) {
      const source = asObj(ev[ref]);
      if (!source) continue;
      sources++;
      const name = str(source.name);
      // Prefix validation: the name gets a generated suffix, so a trailing dash is fine.
      const checked = name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
      if (!name) errs.push(required(at(at(p, ref), 'name')));
      else errs.push(...invalidEach(at(at(p, ref), 'name'), name, isDNS1123Subdomain(checked)));
    }
    if (sources === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (sources > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}

// ---------------------------------------------------------------------------
// Volumes
// ---------------------------------------------------------------------------

/** Valid volumes of a pod spec by name (only error-free ones, as Kubernetes keeps them for mount checks). */
type VolumeMap = Map<string, Obj>;

const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

/** Required string or list fields of the simpler volume sources. */
function requireFields(source: Obj, path: string, fields: string[]): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of fields) {
    const v = source[f];
    if ((Array.isArray(v) && v.length === 0) || (!Array.isArray(v) && !str(v))) errs.push(required(at(path, f)));
  }
  return errs;
}

function validateHostPathSource(source: Obj, path: string): FieldError[] {
  const p = str(source.path);
  if (!p) return [required(at(path, 'path'))];
  const errs = pathNoBacksteps(p, at(path, 'path'));
  if (isSet(source.type) && !HOST_PATH_TYPES.includes(str(source.type))) errs.push(notSupported(at(path, 'type'), source.type, HOST_PATH_TYPES));
  return errs;
}

function validateSecretSource(source: Obj, path: string): FieldError[] {
  const errs = str(source.secretName) ? [] : [required(at(path, 'secretName'))];
  errs.push(...fileMode(source.defaultMode, at(path, 'defaultMode')));
  objs(source.items).forEach((item, i) => errs.push(...validateKeyToPath(item, idx(at(path, 'items'), i))));
  return errs;
}

function validateConfigMapSource(source: Obj, path: string): FieldError[] {
  const errs = str(source.name) ? [] : [required(at(path, 'name'))];
  errs.push(...fileMode(source.defaultMode, at(path, 'defaultMode')));
  objs(source.items).forEach((item, i) => errs.push(...validateKeyToPath(item, idx(at(path, 'items'), i))));
  return errs;
}

/** validateDownwardAPIVolumeFile; note Kubernetes reports item errors at the source's path, without an index. */
function validateDownwardAPIFile(file: Obj, path: string): FieldError[] {
  const errs = str(file.path) ? [] : [required(at(path, 'path'))];
  errs.push(...localNonReservedPath(str(file.path), at(path, 'path')));
  if (isObject(file.fieldRef)) {
    errs.push(...validateObjectFieldSelector(file.fieldRef, VOLUME_FIELD_PATHS, at(path, 'fieldRef')));
    if (isObject(file.resourceFieldRef)) errs.push(invalid(path, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (isObject(file.resourceFieldRef)) {
    errs.push(...validateResourceFieldSelector(file.resourceFieldRef, at(path, 'resourceFieldRef'), true));
  } else {
    errs.push(required(path, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...fileMode(file.mode, at(path, 'mode')));
  return errs;
}

function validateDownwardAPISource(source: Obj, path: string): FieldError[] {
  const errs = fileMode(source.defaultMode, at(path, 'defaultMode'));
  for (const file of objs(source.items)) errs.push(...validateDownwardAPIFile(file, path));
  return errs;
}

function validateProjectedSource(source: Obj, path: string): FieldError[] {
  const errs = fileMode(source.defaultMode, at(path, 'defaultMode'));
  const seenPaths = new Set<string>();
  const claimPath = (p: string, value: string) => {
    if (!p) return;
    if (seenPaths.has(p)) errs.push(invalid(path, value, 'conflicting duplicate paths'));
    else seenPaths.add(p);
  };
  objs(source.sources).forEach((projection, i) => {
    const srcPath = idx(at(path, 'sources'), i);
    let kinds = 0;
    for (const kind of ['secret', 'configMap']) {
      const ref = asObj(projection[kind]);
      if (!ref) continue;
      kinds++;
      const p = at(srcPath, kind);
      if (!str(ref.name)) errs.push(required(at(p, 'name')));
      objs(ref.items).forEach((item, j) => {
        errs.push(...validateKeyToPath(item, idx(at(p, 'items'), j)));
        claimPath(str(item.path), str(ref.name));
      });
    }
    const downward = asObj(projection.downwardAPI);
    if (downward) {
      kinds++;
      for (const file of objs(downward.items)) {
        errs.push(...validateDownwardAPIFile(file, at(srcPath, 'downwardAPI')));
        claimPath(str(file.path), str(file.path));
      }
    }
    const token = asObj(projection.serviceAccountToken);
    if (token) {
      kinds++;
      const seconds = num(token.expirationSeconds) ?? 0;
      const p = at(srcPath, 'serviceAccountToken');
      if (seconds < 600) errs.push(invalid(at(p, 'expirationSeconds'), seconds, 'may not specify a duration less than 10 minutes'));
      if (seconds > 2 ** 32) errs.push(invalid(at(p, 'expirationSeconds'), seconds, 'may not specify a duration larger than 2^32 seconds'));
      if (!str(token.path)) errs.push(required(at(path, 'path')));
      else errs.push(...localNonReservedPath(str(token.path), at(path, 'path')));
    }
    const bundle = asObj(projection.clusterTrustBundle);
    if (bundle) {
      kinds++;
      const p = at(srcPath, 'clusterTrustBundle');
      if (!isSet(bundle.name) && !isSet(bundle.signerName)) errs.push(required(p, 'either name or signerName must be specified'));
      if (!str(bundle.path)) errs.push(required(at(p, 'path')));
      errs.push(...localNonReservedPath(str(bundle.path), at(p, 'path')));
      claimPath(str(bundle.path), str(bundle.path));
    }
    if (kinds > 1) errs.push(forbidden(srcPath, 'may not specify more than 1 volume type per source'));
  });
  return errs;
}

function validateEphemeralSource(source: Obj, path: string): FieldError[] {
  const template = asObj(source.volumeClaimTemplate);
  if (!template) return [required(at(path, 'volumeClaimTemplate'))];
  const p = at(path, 'volumeClaimTemplate');
  const meta = objOf(template.metadata);
  const errs = [...validateAnnotations(meta.annotations, at(at(p, 'metadata'), 'annotations')), ...validateLabels(meta.labels, at(at(p, 'metadata'), 'labels'))];
  // Only labels and annotations may be set in the template's metadata.
  for (const field of Object.keys(meta)) {
    if (field !== 'labels' && field !== 'annotations' && field !== 'creationTimestamp' && isSet(meta[field])) {
      errs.push(forbidden(at(at(p, 'metadata'), field), 'cannot be set'));
    }
  }
  errs.push(...validatePersistentVolumeClaimSpec(objOf(template.spec), at(p, 'spec')));
  return errs;
}

/** One entry per volume source: JSON field, the name Kubernetes uses in "more than 1" errors, its checks. */
const VOLUME_SOURCES: Array<{ field: string; pathName?: string; check?: (source: Obj, path: string) => FieldError[] }> = [
  { field: 'emptyDir' },
  { field: 'hostPath', check: validateHostPathSource },
  { field: 'gitRepo', check: (s, p) => [...requireFields(s, p, ['repository']), ...localDescendingPath(str(s.directory), at(p, 'directory'))] },
  // Kubernetes reports gcePersistentDisk errors under "persistentDisk".
  { field: 'gcePersistentDisk', check: (s, p) => requireFields(s, p.replace(/gcePersistentDisk$/, 'persistentDisk'), ['pdName']) },
  { field: 'awsElasticBlockStore', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'secret', check: validateSecretSource },
  {
    field: 'nfs',
    check: (s, p) => [
      ...requireFields(s, p, ['server', 'path']),
      ...(str(s.path).startsWith('/') ? [] : [invalid(at(p, 'path'), str(s.path), 'must be an absolute path')]),
    ],
  },
  { field: 'iscsi', check: (s, p) => requireFields(s, p, ['targetPortal', 'iqn']) },
  { field: 'glusterfs', check: (s, p) => requireFields(s, p, ['endpoints', 'path']) },
  { field: 'flocker' },
  { field: 'persistentVolumeClaim', check: (s, p) => requireFields(s, p, ['claimName']) },
  { field: 'rbd', check: (s, p) => requireFields(s, p, ['monitors', 'image']) },
  { field: 'cinder', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'cephfs', pathName: 'cephFS', check: (s, p) => requireFields(s, p, ['monitors']) },
  { field: 'quobyte', check: (s, p) => requireFields(s, p, ['volume']) },
  // "downwarAPI" is how Kubernetes spells it in this one message.
  { field: 'downwardAPI', pathName: 'downwarAPI', check: validateDownwardAPISource },
  { field: 'fc' },
  { field: 'flexVolume', check: (s, p) => requireFields(s, p, ['driver']) },
  { field: 'configMap', check: validateConfigMapSource },
  { field: 'azureFile', check: (s, p) => requireFields(s, p, ['secretName', 'shareName']) },
  { field: 'vsphereVolume', check: (s, p) => requireFields(s, p, ['volumePath']) },
  { field: 'photonPersistentDisk', check: (s, p) => requireFields(s, p, ['pdID']) },
  { field: 'portworxVolume', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'azureDisk', check: (s, p) => requireFields(s, p, ['diskName', 'diskURI']) },
  { field: 'storageos', check: (s, p) => (str(s.volumeName) ? dns1123Label(str(s.volumeName), at(p, 'volumeName')) : [required(at(p, 'volumeName'))]) },
  { field: 'projected', check: validateProjectedSource },
  { field: 'scaleIO', check: (s, p) => requireFields(s, p, ['gateway', 'system', 'volumeName']) },
  { field: 'csi', check: (s, p) => (str(s.driver) ? invalidEach(at(p, 'driver'), str(s.driver), isDNS1123Subdomain(str(s.driver).toLowerCase())) : [required(at(p, 'driver'))]) },
  { field: 'ephemeral', check: validateEphemeralSource },
  { field: 'image', check: (s, p) => enumField(s.pullPolicy, at(p, 'pullPolicy'), PULL_POLICIES) },
];

/** validateVolumeSource: exactly one source, each with its own checks. */
function validateVolumeSource(volume: Obj, path: string, resourceIsPod: boolean): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const { field, pathName, check } of VOLUME_SOURCES) {
    const source = volume[field];
    if (!isSet(source)) continue;
    if (count > 0 && field !== 'emptyDir') {
      errs.push(forbidden(at(path, pathName ?? field), 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    if (field === 'image' && resourceIsPod && !str(objOf(source).reference)) errs.push(required(at(at(path, 'image'), 'reference')));
    if (check) errs.push(...check(objOf(source), at(path, field)));
  }
  if (count === 0) errs.push(required(path, 'must specify a volume type'));
  return errs;
}

/** ValidateVolumes: returns the valid volumes by name for the mount checks. */
function validateVolumes(volumes: unknown, path: string, resourceIsPod: boolean, podName: string): { errs: FieldError[]; byName: VolumeMap } {
  const errs: FieldError[] = [];
  const byName: VolumeMap = new Map();
  const vols = objs(volumes);
  // PVCs generic ephemeral volumes will create; a persistentVolumeClaim volume may not use them.
  const createdClaims = new Set(podName ? vols.filter((v) => isSet(v.ephemeral)).map((v) => `${podName}-${str(v.name)}`) : []);
  vols.forEach((volume, i) => {
    const p = idx(path, i);
    const name = str(volume.name);
    const el = validateVolumeSource(volume, p, resourceIsPod);
    if (!name) el.push(required(at(p, 'name')));
    else el.push(...dns1123Label(name, at(p, 'name')));
    if (byName.has(name)) el.push(duplicate(at(p, 'name'), name));
    if (el.length === 0) byName.set(name, volume);
    else errs.push(...el);
    const claim = str(objOf(volume.persistentVolumeClaim).claimName);
    if (claim && createdClaims.has(claim)) {
      errs.push(invalid(at(at(p, 'persistentVolumeClaim'), 'claimName'), claim, 'must not reference a PVC that gets created for an ephemeral volume'));
    }
  });
  return { errs, byName };
}

/** ValidateVolumeMounts. */
function validateVolumeMounts(container: Obj, volumes: VolumeMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mountPoints = new Set<string>();
  const devices = new Map(objs(container.volumeDevices).map((d) => [str(d.name), str(d.devicePath)]));
  const privileged = objOf(container.securityContext).privileged === true;
  objs(container.volumeMounts).forEach((mount, i) => {
    const p = idx(path, i);
    const name = str(mount.name);
    const mountPath = str(mount.mountPath);
    if (!name) errs.push(required(at(p, 'name')));
    if (!volumes.has(name)) errs.push(notFound(at(p, 'name'), name));
    if (!mountPath) errs.push(required(at(p, 'mountPath')));
    if (mountPoints.has(mountPath)) errs.push(invalid(at(p, 'mountPath'), mountPath, 'must be unique'));
    mountPoints.add(mountPath);
    if (devices.has(name)) errs.push(invalid(at(p, 'name'), name, 'must not already exist in volumeDevices'));
    if ([...devices.values()].includes(mountPath)) errs.push(invalid(at(p, 'mountPath'), mountPath, 'must not already exist as a path in volumeDevices'));
    if (isSet(volumes.get(name)?.image)) {
      if (str(mount.subPath)) errs.push(invalid(at(p, 'subPath'), str(mount.subPath), 'not allowed in image volume sources'));
      if (str(mount.subPathExpr)) errs.push(invalid(at(p, 'subPathExpr'), str(mount.subPathExpr), 'not allowed in image volume sources'));
    }
    // Kubernetes reports subPath problems at the list's path, without the index.
    if (str(mount.subPath)) errs.push(...localDescendingPath(str(mount.subPath), at(path, 'subPath')));
    if (str(mount.subPathExpr)) {
      if (str(mount.subPath)) errs.push(invalid(at(p, 'subPathExpr'), str(mount.subPathExpr), 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...localDescendingPath(str(mount.subPathExpr), at(path, 'subPathExpr')));
    }
    if (isSet(mount.mountPropagation)) {
      const propagation = str(mount.mountPropagation);
      const propagationPath = at(path, 'mountPropagation');
      errs.push(...optionalEnum(mount.mountPropagation, propagationPath, ['Bidirectional', 'HostToContainer', 'None']));
      if (propagation === 'Bidirectional' && !privileged) {
        errs.push(forbidden(propagationPath, 'Bidirectional mount propagation is available only to privileged containers'));
      }
    }
    if (isSet(mount.recursiveReadOnly)) {
      const rro = str(mount.recursiveReadOnly);
      const rroPath = at(path, 'recursiveReadOnly');
      if (rro === 'Enabled' || rro === 'IfPossible') {
        if (mount.readOnly !== true) errs.push(forbidden(rroPath, 'may only be specified when readOnly is true'));
        if (isSet(mount.mountPropagation) && mount.mountPropagation !== 'None') {
          errs.push(forbidden(rroPath, 'may only be specified when mountPropagation is None or not specified'));
        }
      } else if (rro !== 'Disabled') {
        errs.push(notSupported(rroPath, mount.recursiveReadOnly, ['Disabled', 'Enabled', 'IfPossible']));
      }
    }
  });
  return errs;
}

/** ValidateVolumeDevices (block volumes from PVCs). */
function validateVolumeDevices(container: Obj, volumes: VolumeMap, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const mounts = new Map(objs(container.volumeMounts).map((m) => [str(m.name), str(m.mountPath)]));
  const names = new Set<string>();
  const paths = new Set<string>();
  objs(container.volumeDevices).forEach((device, i) => {
    const p = idx(path, i);
    const name = str(device.name);
    const devicePath = str(device.devicePath);
    const volume = volumes.get(name);
    if (!name) errs.push(required(at(p, 'name')));
    if (names.has(name)) errs.push(invalid(at(p, 'name'), name, 'must be unique'));
    if (volume && !isSet(volume.persistentVolumeClaim) && !isSet(volume.ephemeral)) {
      errs.push(invalid(at(p, 'name'), name, 'can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode'));
    }
    if (!volume) errs.push(notFound(at(p, 'name'), name));
    if (!devicePath) errs.push(required(at(p, 'devicePath')));
    if (paths.has(devicePath)) errs.push(invalid(at(p, 'devicePath'), devicePath, 'must be unique'));
    if (devicePath && devicePath.split('/').includes('..')) errs.push(invalid(at(p, 'devicePath'), devicePath, "can not contain backsteps ('..')"));
    else paths.add(devicePath);
    if (mounts.has(name)) errs.push(invalid(at(p, 'name'), name, 'must not already exist in volumeMounts'));
    if ([...mounts.values()].includes(devicePath)) errs.push(invalid(at(p, 'devicePath'), devicePath, 'must not already exist as a path in volumeMounts'));
    if (name) names.add(name);
  });
  return errs;
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

const PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** validateContainerPorts. */
function validateContainerPorts(ports: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(ports).forEach((port, i) => {
    const p = idx(path, i);
    const name = str(port.name);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length > 0) errs.push(...invalidEach(at(p, 'name'), name, msgs));
      else if (names.has(name)) errs.push(duplicate(at(p, 'name'), name));
      else names.add(name);
    }
    const containerPort = num(port.containerPort) ?? 0;
    if (containerPort === 0) errs.push(required(at(p, 'containerPort')));
    else errs.push(...invalidEach(at(p, 'containerPort'), containerPort, isValidPortNum(containerPort)));
    const hostPort = num(port.hostPort) ?? 0;
    if (hostPort !== 0) errs.push(...invalidEach(at(p, 'hostPort'), hostPort, isValidPortNum(hostPort)));
    errs.push(...enumField(port.protocol, at(p, 'protocol'), PORT_PROTOCOLS));
  });
  return errs;
}

/** ValidatePortNumOrName (probe and service target ports). */
function validatePortNumOrName(port: unknown, path: string): FieldError[] {
  if (typeof port === 'number') return invalidEach(path, port, isValidPortNum(port));
  if (typeof port === 'string') return invalidEach(path, port, isValidPortName(port));
  return [invalid(path, port ?? NIL, 'must be an integer or a port name')];
}

/** validateHandler: exactly one of exec, httpGet, tcpSocket, grpc (probes) or sleep (lifecycle). */
function validateHandler(handler: Obj, kinds: string[], gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const kind of kinds) {
    const action = asObj(handler[kind]);
    if (!action) continue;
    const p = at(path, kind);
    if (count > 0) {
      errs.push(forbidden(p, 'may not specify more than 1 handler type'));
      continue;
    }
    count++;
    switch (kind) {
      case 'exec':
        if (list(action.command).length === 0) errs.push(required(at(p, 'command')));
        break;
      case 'httpGet':
        if (!str(action.path)) errs.push(required(at(p, 'path')));
        errs.push(...validatePortNumOrName(action.port, at(p, 'port')));
        if (!['HTTP', 'HTTPS'].includes(str(action.scheme))) errs.push(notSupported(at(p, 'scheme'), str(action.scheme), ['HTTP', 'HTTPS']));
        for (const header of objs(action.httpHeaders)) {
          errs.push(...invalidEach(at(p, 'httpHeaders'), str(header.name), isHTTPHeaderName(str(header.name))));
        }
        break;
      case 'tcpSocket':
        errs.push(...validatePortNumOrName(action.port, at(p, 'port')));
        break;
      case 'grpc':
        errs.push(...validatePortNumOrName(num(action.port) ?? 0, at(p, 'port')));
        break;
      case 'sleep': {
        const seconds = num(action.seconds) ?? 0;
        // AllowPodLifecycleSleepActionZeroValue is alpha (off) in 1.32.
        if (gracePeriod !== undefined && (seconds <= 0 || seconds > gracePeriod)) {
          errs.push(
            invalid(
              p,
              seconds,
              `must be greater than 0 and less than terminationGracePeriodSeconds (${gracePeriod}). Enable AllowPodLifecycleSleepActionZeroValue feature gate for zero sleep.`,
            ),
          );
        }
        break;
      }
    }
  }
  if (count === 0) errs.push(required(path, 'must specify a handler type'));
  return errs;
}

const PROBE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'grpc'];
const LIFECYCLE_HANDLERS = ['exec', 'httpGet', 'tcpSocket', 'sleep'];

/** validateProbe plus the liveness/readiness/startup specifics. */
function validateProbe(probe: unknown, kind: 'liveness' | 'readiness' | 'startup', gracePeriod: number | undefined, path: string): FieldError[] {
  const p = asObj(probe);
  if (!p) return [];
  const errs = validateHandler(p, PROBE_HANDLERS, gracePeriod, path);
  for (const f of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    errs.push(...nonNegative(p[f], at(path, f)));
  }
  const grace = num(p.terminationGracePeriodSeconds);
  if (grace !== undefined && grace <= 0) errs.push(invalid(at(path, 'terminationGracePeriodSeconds'), grace, 'must be greater than 0'));
  if (kind !== 'readiness' && (num(p.successThreshold) ?? 0) !== 1) {
    errs.push(invalid(at(path, 'successThreshold'), num(p.successThreshold) ?? 0, 'must be 1'));
  }
  if (kind === 'readiness' && isSet(p.terminationGracePeriodSeconds)) {
    errs.push(invalid(at(path, 'terminationGracePeriodSeconds'), p.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
  }
  return errs;
}

function validateLifecycle(lifecycle: Obj, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const hook of ['postStart', 'preStop']) {
    const handler = asObj(lifecycle[hook]);
    if (handler) errs.push(...validateHandler(handler, LIFECYCLE_HANDLERS, gracePeriod, at(path, hook)));
  }
  return errs;
}

/** Probes and lifecycle, allowed on regular and restartable init containers. */
function validateProbesAndLifecycle(c: Obj, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isObject(c.lifecycle)) errs.push(...validateLifecycle(c.lifecycle, gracePeriod, at(path, 'lifecycle')));
  errs.push(...validateProbe(c.livenessProbe, 'liveness', gracePeriod, at(path, 'livenessProbe')));
  errs.push(...validateProbe(c.readinessProbe, 'readiness', gracePeriod, at(path, 'readinessProbe')));
  errs.push(...validateProbe(c.startupProbe, 'startup', gracePeriod, at(path, 'startupProbe')));
  return errs;
}

const MAX_ID = 2147483647;

/** IsValidUserID / IsValidGroupID. */
function validId(value: unknown, path: string): FieldError[] {
  const id = num(value);
  return id !== undefined && (id < 0 || id > MAX_ID) ? [invalid(path, id, inclusiveRangeError(0, MAX_ID))] : [];
}

/** validateSeccompProfileField. */
function validateSeccompProfile(profile: unknown, path: string): FieldError[] {
  const sp = asObj(profile);
  if (!sp) return [];
  const errs: FieldError[] = [];
  const type = str(sp.type);
  if (!type) errs.push(required(at(path, 'type'), 'type is required when seccompProfile is set'));
  else if (!['Localhost', 'RuntimeDefault', 'Unconfined'].includes(type)) {
    errs.push(notSupported(at(path, 'type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined']));
  }
  if (type === 'Localhost') {
    if (!isSet(sp.localhostProfile)) errs.push(required(at(path, 'localhostProfile'), 'must be set when seccomp type is Localhost'));
    else errs.push(...localDescendingPath(str(sp.localhostProfile), at(path, 'localhostProfile')));
  } else if (isSet(sp.localhostProfile)) {
    errs.push(invalid(at(path, 'localhostProfile'), str(sp.localhostProfile), 'can only be set when seccomp type is Localhost'));
  }
  return errs;
}

/** ValidateAppArmorProfileField. */
function validateAppArmorProfile(profile: unknown, path: string): FieldError[] {
  const ap = asObj(profile);
  if (!ap) return [];
  const type = str(ap.type);
  switch (type) {
    case 'Localhost': {
      if (!isSet(ap.localhostProfile)) return [required(at(path, 'localhostProfile'), 'must be set when AppArmor type is Localhost')];
      const local = str(ap.localhostProfile);
      if (local.trim() !== local) return [invalid(at(path, 'localhostProfile'), local, 'must not be padded with whitespace')];
      if (!local) return [required(at(path, 'localhostProfile'), 'must be set when AppArmor type is Localhost')];
      return [];
    }
    case 'RuntimeDefault':
    case 'Unconfined':
      return isSet(ap.localhostProfile) ? [invalid(at(path, 'localhostProfile'), str(ap.localhostProfile), 'can only be set when AppArmor type is Localhost')] : [];
    case '':
      return [required(at(path, 'type'), 'type is required when appArmorProfile is set')];
    default:
      return [notSupported(at(path, 'type'), type, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

/** ValidateSecurityContext (containers). */
function validateContainerSecurityContext(context: unknown, hostUsers: boolean, path: string): FieldError[] {
  const sc = asObj(context);
  if (!sc) return [];
  const errs = [...validId(sc.runAsUser, at(path, 'runAsUser')), ...validId(sc.runAsGroup, at(path, 'runAsGroup'))];
  if (isSet(sc.procMount)) {
    errs.push(...optionalEnum(sc.procMount, at(path, 'procMount'), ['Default', 'Unmasked']));
    if (hostUsers && sc.procMount === 'Unmasked') errs.push(invalid(at(path, 'procMount'), 'Unmasked', '`hostUsers` must be false to use `Unmasked`'));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, at(path, 'seccompProfile')));
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) {
      errs.push(invalidRendered(path, goStruct('&core.SecurityContext', sc), 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    }
    if (list(objOf(sc.capabilities).add).includes('CAP_SYS_ADMIN')) {
      errs.push(invalidRendered(path, goStruct('&core.SecurityContext', sc), 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, at(path, 'appArmorProfile')));
  return errs;
}

/** validateResizePolicy. */
function validateResizePolicy(policies: unknown, podRestartPolicy: string, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(policies).forEach((policy, i) => {
    const name = str(policy.resourceName);
    const restart = str(policy.restartPolicy);
    if (seen.has(name)) errs.push(duplicate(idx(path, i), name));
    seen.add(name);
    if (!name) errs.push(required(path));
    else if (name !== 'cpu' && name !== 'memory') errs.push(notSupported(path, name, ['cpu', 'memory']));
    if (!restart) errs.push(required(path));
    else if (restart !== 'NotRequired' && restart !== 'RestartContainer') errs.push(notSupported(path, restart, ['NotRequired', 'RestartContainer']));
    if (podRestartPolicy === 'Never' && restart !== 'NotRequired') {
      errs.push(invalid(path, restart, "must be 'NotRequired' when `restartPolicy` is 'Never'"));
    }
  });
  return errs;
}

/** What every container kind shares (validateContainerCommon). */
interface ContainerContext {
  volumes: VolumeMap;
  podRestartPolicy: string;
  hostUsers: boolean;
}

/** validateContainerCommon: name, image, ports, env, mounts, pull policy, resources, security. */
function validateContainerCommon(c: Obj, ctx: ContainerContext, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(c.name);
  if (!name) errs.push(required(at(path, 'name')));
  else errs.push(...dns1123Label(name, at(path, 'name')));
  if (!str(c.image)) errs.push(required(at(path, 'image')));
  errs.push(...enumField(c.terminationMessagePolicy, at(path, 'terminationMessagePolicy'), ['File', 'FallbackToLogsOnError']));
  errs.push(...validateContainerPorts(c.ports, at(path, 'ports')));
  errs.push(...validateEnv(c.env, at(path, 'env')));
  errs.push(...validateEnvFrom(c.envFrom, at(path, 'envFrom')));
  errs.push(...validateVolumeMounts(c, ctx.volumes, at(path, 'volumeMounts')));
  errs.push(...validateVolumeDevices(c, ctx.volumes, at(path, 'volumeDevices')));
  errs.push(...enumField(c.imagePullPolicy, at(path, 'imagePullPolicy'), PULL_POLICIES));
  errs.push(...validateResourceRequirements(c.resources, at(path, 'resources')));
  errs.push(...validateResizePolicy(c.resizePolicy, ctx.podRestartPolicy, at(path, 'resizePolicy')));
  errs.push(...validateContainerSecurityContext(c.securityContext, ctx.hostUsers, at(path, 'securityContext')));
  return errs;
}

/** Host ports may not collide (protocol/hostIP/port) among the given containers. */
function hostPortConflicts(containers: Obj[], path: string, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    objs(c.ports).forEach((port, pi) => {
      const hostPort = num(port.hostPort) ?? 0;
      if (hostPort === 0) return;
      const id = `${str(port.protocol)}/${str(port.hostIP)}/${hostPort}`;
      if (seen.has(id)) errs.push(duplicate(at(idx(at(idx(path, ci), 'ports'), pi), 'hostPort'), id));
      else seen.add(id);
    });
  });
  return errs;
}

/** validateContainers: the regular containers (at least one). */
function validateContainers(containers: unknown, ctx: ContainerContext, gracePeriod: number | undefined, path: string): FieldError[] {
  const list = objs(containers);
  if (list.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  list.forEach((c, i) => {
    const p = idx(path, i);
    errs.push(...validateContainerCommon(c, ctx, p));
    const name = str(c.name);
    if (names.has(name)) errs.push(duplicate(at(p, 'name'), name));
    else names.add(name);
    errs.push(...validateProbesAndLifecycle(c, gracePeriod, p));
    if (isSet(c.restartPolicy)) errs.push(forbidden(at(p, 'restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(list, path));
  return errs;
}

/** validateInitContainers: like regular ones, but probes/lifecycle only for sidecars (restartPolicy Always). */
function validateInitContainers(inits: unknown, regular: unknown, ctx: ContainerContext, gracePeriod: number | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set(objs(regular).map((c) => str(c.name)));
  objs(inits).forEach((c, i) => {
    const p = idx(path, i);
    errs.push(...validateContainerCommon(c, ctx, p));
    const sidecar = c.restartPolicy === 'Always';
    if (isSet(c.restartPolicy) && !sidecar) errs.push(notSupported(at(p, 'restartPolicy'), c.restartPolicy, ['Always']));
    const name = str(c.name);
    if (names.has(name)) errs.push(duplicate(at(p, 'name'), name));
    else if (name) names.add(name);
    // Init containers run one by one, so host ports only conflict within one container.
    errs.push(...hostPortConflicts([c], path));
    if (sidecar) {
      errs.push(...validateProbesAndLifecycle(c, gracePeriod, p));
    } else {
      for (const field of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (isSet(c[field])) errs.push(forbidden(at(p, field), 'may not be set for init containers without restartPolicy=Always'));
      }
    }
    if (list(c.resizePolicy).length > 0) {
      errs.push(invalidRendered(at(p, 'resizePolicy'), goStruct('[]core.ContainerResizePolicy', c.resizePolicy), 'must not be set for init containers'));
    }
  });
  return errs;
}

/** Fields an ephemeral container may not set. */
const EPHEMERAL_FORBIDDEN_FIELDS = ['ports', 'resources', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'];

/** validateEphemeralContainers. */
function validateEphemeralContainers(ephemeral: unknown, spec: Obj, ctx: ContainerContext, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const others = new Set([...objs(spec.containers), ...objs(spec.initContainers)].map((c) => str(c.name)));
  const all = new Set(others);
  objs(ephemeral).forEach((c, i) => {
    const p = idx(path, i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (str(c.image).trim() !== str(c.image)) errs.push(invalid(at(p, 'image'), str(c.image), 'must not have leading or trailing whitespace'));
    const name = str(c.name);
    if (all.has(name)) errs.push(duplicate(at(p, 'name'), name));
    else all.add(name);
    if (str(c.targetContainerName) && !others.has(str(c.targetContainerName))) {
      errs.push(notFound(at(p, 'targetContainerName'), str(c.targetContainerName)));
    }
    for (const field of EPHEMERAL_FORBIDDEN_FIELDS) {
      const v = c[field];
      // `resources: {}` is the zero value every container reads back with.
      const zero = !isSet(v) || (field === 'resources' && isObject(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0);
      if (!zero) errs.push(forbidden(at(p, field), 'cannot be set for an Ephemeral Container'));
    }
    objs(c.volumeMounts).forEach((m, j) => {
      for (const field of ['subPath', 'subPathExpr']) {
        if (str(m[field])) errs.push(forbidden(at(idx(at(p, 'volumeMounts'), j), field), 'cannot be set for an Ephemeral Container'));
      }
    });
  });
  return errs;
}

// ---------------------------------------------------------------------------
// Scheduling-related pod spec fields
// ---------------------------------------------------------------------------

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** ValidateTolerations. */
function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(tolerations).forEach((t, i) => {
    const p = idx(path, i);
    const k = str(t.key);
    const operator = str(t.operator);
    const effect = str(t.effect);
    if (k) errs.push(...validateLabelName(k, at(p, 'key')));
    if (!k && operator !== 'Exists') {
      errs.push(invalid(at(p, 'operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (isSet(t.tolerationSeconds) && effect !== 'NoExecute') {
      errs.push(invalid(at(p, 'effect'), effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    switch (operator) {
      case 'Equal':
      case '': {
        const msgs = isValidLabelValue(str(t.value));
        if (msgs.length > 0) errs.push(invalid(at(p, 'operator'), str(t.value), msgs.join(';')));
        break;
      }
      case 'Exists':
        if (str(t.value)) errs.push(invalid(at(p, 'operator'), str(t.value), "value must be empty when `operator` is 'Exists'"));
        break;
      default:
        errs.push(notSupported(at(p, 'operator'), operator, ['Equal', 'Exists']));
    }
    if (effect && !TAINT_EFFECTS.includes(effect)) errs.push(notSupported(at(p, 'effect'), effect, TAINT_EFFECTS));
  });
  return errs;
}

/** ValidateNodeSelectorRequirement (matchExpressions of node affinity). */
function validateNodeSelectorRequirement(req: Obj, allowInvalidValues: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const values = list(req.values).map(String);
  switch (str(req.operator)) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errs.push(required(at(path, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errs.push(forbidden(at(path, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errs.push(required(at(path, 'values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errs.push(invalid(at(path, 'operator'), str(req.operator), 'not a valid selector operator'));
  }
  errs.push(...validateLabelName(str(req.key), at(path, 'key')));
  if (!allowInvalidValues) values.forEach((v, i) => errs.push(...invalidEach(idx(at(path, 'values'), i), v, isValidLabelValue(v))));
  return errs;
}

/** ValidateNodeSelectorTerm. */
function validateNodeSelectorTerm(term: Obj, allowInvalidValues: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(term.matchExpressions).forEach((req, j) => errs.push(...validateNodeSelectorRequirement(req, allowInvalidValues, idx(at(path, 'matchExpressions'), j))));
  objs(term.matchFields).forEach((req, j) => {
    const p = idx(at(path, 'matchFields'), j);
    const op = str(req.operator);
    if (op === 'In' || op === 'NotIn') {
      if (list(req.values).length !== 1) errs.push(required(at(p, 'values'), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
    } else {
      errs.push(invalid(at(p, 'operator'), op, 'not a valid selector operator'));
    }
    if (str(req.key) !== 'metadata.name') errs.push(invalid(at(p, 'key'), str(req.key), 'not a valid field selector key'));
    else list(req.values).forEach((v, k) => errs.push(...invalidEach(idx(at(p, 'values'), k), String(v), isDNS1123Subdomain(String(v)))));
  });
  return errs;
}

/** ValidateNodeSelector (required node affinity, PV node affinity). */
function validateNodeSelector(selector: Obj, path: string): FieldError[] {
  const terms = objs(selector.nodeSelectorTerms);
  const termsPath = at(path, 'nodeSelectorTerms');
  if (terms.length === 0) return [required(termsPath, 'must have at least one node selector term')];
  return terms.flatMap((term, i) => validateNodeSelectorTerm(term, false, idx(termsPath, i)));
}

/** validatePodAffinityTerm. */
function validatePodAffinityTerm(term: Obj, path: string): FieldError[] {
  const errs = [...validateLabelSelector(term.labelSelector, at(path, 'labelSelector')), ...validateLabelSelector(term.namespaceSelector, at(path, 'namespaceSelector'))];
  for (const ns of list(term.namespaces).map(String)) errs.push(...invalidEach(at(path, 'namespace'), ns, isDNS1123Label(ns)));
  for (const field of ['matchLabelKeys', 'mismatchLabelKeys']) {
    const keys = list(term[field]).map(String);
    if (keys.length > 0 && !isSet(term.labelSelector)) errs.push(forbidden(at(path, field), 'must not be specified when labelSelector is not set'));
    else keys.forEach((k, i) => errs.push(...validateLabelName(k, idx(at(path, field), i))));
  }
  const topologyKey = str(term.topologyKey);
  if (!topologyKey) errs.push(required(at(path, 'topologyKey'), 'can not be empty'));
  errs.push(...validateLabelName(topologyKey, at(path, 'topologyKey')));
  return errs;
}

/** Required and weighted terms of podAffinity / podAntiAffinity. */
function validatePodAffinity(affinity: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  objs(affinity.requiredDuringSchedulingIgnoredDuringExecution).forEach((term, i) =>
    errs.push(...validatePodAffinityTerm(term, idx(at(path, 'requiredDuringSchedulingIgnoredDuringExecution'), i))),
  );
  objs(affinity.preferredDuringSchedulingIgnoredDuringExecution).forEach((weighted, i) => {
    const p = idx(at(path, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
    const weight = num(weighted.weight) ?? 0;
    if (weight <= 0 || weight > 100) errs.push(invalid(at(p, 'weight'), weight, 'must be in the range 1-100'));
    errs.push(...validatePodAffinityTerm(objOf(weighted.podAffinityTerm), at(p, 'podAffinityTerm')));
  });
  return errs;
}

/** validateAffinity. */
function validateAffinity(affinity: unknown, path: string): FieldError[] {
  const a = asObj(affinity);
  if (!a) return [];
  const errs: FieldError[] = [];
  const node = asObj(a.nodeAffinity);
  if (node) {
    const p = at(path, 'nodeAffinity');
    const requiredTerms = asObj(node.requiredDuringSchedulingIgnoredDuringExecution);
    if (requiredTerms) errs.push(...validateNodeSelector(requiredTerms, at(p, 'requiredDuringSchedulingIgnoredDuringExecution')));
    objs(node.preferredDuringSchedulingIgnoredDuringExecution).forEach((term, i) => {
      const tp = idx(at(p, 'preferredDuringSchedulingIgnoredDuringExecution'), i);
      const weight = num(term.weight) ?? 0;
      if (weight <= 0 || weight > 100) errs.push(invalid(at(tp, 'weight'), weight, 'must be in the range 1-100'));
      // Preferred terms may carry invalid label values: they can still match nothing harmlessly.
      errs.push(...validateNodeSelectorTerm(objOf(term.preference), true, at(tp, 'preference')));
    });
  }
  if (isObject(a.podAffinity)) errs.push(...validatePodAffinity(a.podAffinity, at(path, 'podAffinity')));
  if (isObject(a.podAntiAffinity)) errs.push(...validatePodAffinity(a.podAntiAffinity, at(path, 'podAntiAffinity')));
  return errs;
}

/** validatePodDNSConfig. */
function validateDNSConfig(config: unknown, dnsPolicy: string, path: string): FieldError[] {
  const c = asObj(config);
  if (dnsPolicy === 'None') {
    if (!c) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (list(c.nameservers).length === 0) return [required(at(path, 'nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!c) return [];
  const errs: FieldError[] = [];
  const nameservers = list(c.nameservers).map(String);
  if (nameservers.length > 3) errs.push(invalidRendered(at(path, 'nameservers'), goStringSlice(nameservers), 'must not have more than 3 nameservers'));
  nameservers.forEach((ns, i) => errs.push(...isValidIP(idx(at(path, 'nameservers'), i), ns)));
  const searches = list(c.searches).map(String);
  if (searches.length > 32) errs.push(invalidRendered(at(path, 'searches'), goStringSlice(searches), 'must not have more than 32 search paths'));
  if (searches.join(' ').length > 2048) {
    errs.push(invalidRendered(at(path, 'searches'), goStringSlice(searches), 'must not have more than 2048 characters (including spaces) in the search list'));
  }
  searches.forEach((search, i) => {
    // RelaxedDNSSearchValidation is alpha in 1.32: strict subdomains, trailing dot allowed.
    const trimmed = search.endsWith('.') ? search.slice(0, -1) : search;
    errs.push(...dns1123Subdomain(trimmed, idx(at(path, 'searches'), i)));
  });
  objs(c.options).forEach((option, i) => {
    if (!str(option.name)) errs.push(required(idx(at(path, 'options'), i), 'must not be empty'));
  });
  return errs;
}

/** validatePodSpecSecurityContext. */
function validatePodSecurityContext(spec: Obj, path: string): FieldError[] {
  const sc = asObj(spec.securityContext);
  if (!sc) return [];
  const errs = [...validId(sc.fsGroup, at(path, 'fsGroup')), ...validId(sc.runAsUser, at(path, 'runAsUser')), ...validId(sc.runAsGroup, at(path, 'runAsGroup'))];
  list(sc.supplementalGroups).forEach((gid, i) => errs.push(...validId(gid, idx(at(path, 'supplementalGroups'), i))));
  if (spec.shareProcessNamespace === true && spec.hostPID === true) {
    errs.push(invalid(at(path, 'shareProcessNamespace'), true, 'ShareProcessNamespace and HostPID cannot both be enabled'));
  }
  const sysctlNames = new Set<string>();
  objs(sc.sysctls).forEach((s, i) => {
    const p = at(idx(at(path, 'sysctls'), i), 'name');
    const name = str(s.name);
    const valid = name.length <= 253 && /^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/.test(name);
    if (!name) errs.push(required(p));
    else if (!valid) {
      errs.push(invalid(p, name, 'must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$'));
    } else if (sysctlNames.has(name)) errs.push(duplicate(p, name));
    if (spec.hostNetwork === true && name.startsWith('net.')) errs.push(invalid(p, name, "may not be specified when 'hostNetwork' is true"));
    if (spec.hostIPC === true && (name.startsWith('kernel.shm') || name.startsWith('kernel.msg') || name.startsWith('kernel.sem') || name.startsWith('fs.mqueue.'))) {
      errs.push(invalid(p, name, "may not be specified when 'hostIPC' is true"));
    }
    sysctlNames.add(name);
  });
  errs.push(...optionalEnum(sc.fsGroupChangePolicy, at(path, 'fsGroupChangePolicy'), ['Always', 'OnRootMismatch']));
  errs.push(...validateSeccompProfile(sc.seccompProfile, at(path, 'seccompProfile')));
  errs.push(...validateAppArmorProfile(sc.appArmorProfile, at(path, 'appArmorProfile')));
  errs.push(...optionalEnum(sc.supplementalGroupsPolicy, at(path, 'supplementalGroupsPolicy'), ['Merge', 'Strict']));
  errs.push(...optionalEnum(sc.seLinuxChangePolicy, at(path, 'seLinuxChangePolicy'), ['MountOption', 'Recursive']));
  return errs;
}

/** validateTopologySpreadConstraints. */
function validateTopologySpreadConstraints(constraints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const all = objs(constraints);
  all.forEach((c, i) => {
    const p = idx(path, i);
    const maxSkew = num(c.maxSkew) ?? 0;
    if (maxSkew <= 0) errs.push(invalid(at(p, 'maxSkew'), maxSkew, 'must be greater than zero'));
    if (!str(c.topologyKey)) errs.push(required(at(p, 'topologyKey'), 'can not be empty'));
    const action = str(c.whenUnsatisfiable);
    if (action !== 'DoNotSchedule' && action !== 'ScheduleAnyway') errs.push(notSupported(at(p, 'whenUnsatisfiable'), action, ['DoNotSchedule', 'ScheduleAnyway']));
    if (all.slice(i + 1).some((o) => str(o.topologyKey) === str(c.topologyKey) && str(o.whenUnsatisfiable) === action)) {
      errs.push(duplicate(at(p, '{topologyKey, whenUnsatisfiable}'), `{${str(c.topologyKey)}, ${action}}`));
    }
    if (isSet(c.minDomains)) {
      const minDomains = num(c.minDomains) ?? 0;
      if (minDomains <= 0) errs.push(invalid(at(p, 'minDomains'), minDomains, 'must be greater than zero'));
      if (action !== 'DoNotSchedule') errs.push(invalid(at(p, 'minDomains'), minDomains, `can only use minDomains if whenUnsatisfiable=DoNotSchedule, not ${action}`));
    }
    errs.push(...optionalEnum(c.nodeAffinityPolicy, at(p, 'nodeAffinityPolicy'), ['Honor', 'Ignore']));
    errs.push(...optionalEnum(c.nodeTaintsPolicy, at(p, 'nodeTaintsPolicy'), ['Honor', 'Ignore']));
    const keys = list(c.matchLabelKeys).map(String);
    if (keys.length > 0 && !isSet(c.labelSelector)) errs.push(forbidden(at(p, 'matchLabelKeys'), 'must not be specified when labelSelector is not set'));
    keys.forEach((k, j) => errs.push(...validateLabelName(k, idx(at(p, 'matchLabelKeys'), j))));
    errs.push(...validateLabelSelector(c.labelSelector, at(p, 'labelSelector')));
  });
  return errs;
}

// ---------------------------------------------------------------------------
// PodSpec
// ---------------------------------------------------------------------------

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

/** How a PodSpec is being validated. */
interface PodSpecOptions {
  /** The spec belongs to a Pod (not a template): host ports must be explicit, image volumes need a reference. */
  resourceIsPod: boolean;
  /** The pod's name, to check the PVC names generic ephemeral volumes will get. */
  podName?: string;
}

/**
 * ValidatePodSpec: everything about a pod spec that does not depend on it
 * being a Pod or a template. Shared by Pod and every workload's template.
 */
export function validatePodSpec(spec: Obj, path: string, options: PodSpecOptions = { resourceIsPod: false }): FieldError[] {
  const errs: FieldError[] = [];
  const gracePeriod = num(spec.terminationGracePeriodSeconds);
  if (!isSet(spec.terminationGracePeriodSeconds)) errs.push(required(at(path, 'terminationGracePeriodSeconds')));
  const hostUsers = objOf(spec.securityContext).hostUsers !== false && spec.hostUsers !== false;
  const { errs: volumeErrs, byName } = validateVolumes(spec.volumes, at(path, 'volumes'), options.resourceIsPod, options.podName ?? '');
  errs.push(...volumeErrs);
  const ctx: ContainerContext = { volumes: byName, podRestartPolicy: str(spec.restartPolicy), hostUsers };
  errs.push(...validatePodResourceClaims(spec.resourceClaims, at(path, 'resourceClaims')));
  errs.push(...validateContainers(spec.containers, ctx, gracePeriod, at(path, 'containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, ctx, gracePeriod, at(path, 'initContainers')));
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, spec, ctx, at(path, 'ephemeralContainers')));
  errs.push(...validateHostNetworkPorts(spec, path, options.resourceIsPod));
  errs.push(...enumField(spec.restartPolicy, at(path, 'restartPolicy'), RESTART_POLICIES));
  errs.push(...enumField(spec.dnsPolicy, at(path, 'dnsPolicy'), DNS_POLICIES));
  errs.push(...validateLabels(spec.nodeSelector, at(path, 'nodeSelector')));
  errs.push(...validatePodSecurityContext(spec, at(path, 'securityContext')));
  errs.push(...validateAffinity(spec.affinity, at(path, 'affinity')));
  errs.push(...validateDNSConfig(spec.dnsConfig, str(spec.dnsPolicy), at(path, 'dnsConfig')));
  objs(spec.readinessGates).forEach((gate, i) => errs.push(...qualifiedName(str(gate.conditionType), at(idx(at(path, 'readinessGates'), i), 'conditionType'))));
  errs.push(...validateSchedulingGates(spec.schedulingGates, at(path, 'schedulingGates')));
  errs.push(...validateTopologySpreadConstraints(spec.topologySpreadConstraints, at(path, 'topologySpreadConstraints')));
  errs.push(...validateHostUsers(spec, path));
  for (const field of ['serviceAccountName', 'nodeName']) {
    const value = str(spec[field]);
    if (value) errs.push(...invalidEach(at(path, field), value, isDNS1123Subdomain(value)));
  }
  if (isSet(spec.activeDeadlineSeconds)) {
    const value = num(spec.activeDeadlineSeconds) ?? 0;
    if (value < 1 || value > MAX_ID) errs.push(invalid(at(path, 'activeDeadlineSeconds'), value, inclusiveRangeError(1, MAX_ID)));
  }
  if (str(spec.hostname)) errs.push(...dns1123Label(str(spec.hostname), at(path, 'hostname')));
  if (str(spec.subdomain)) errs.push(...dns1123Label(str(spec.subdomain), at(path, 'subdomain')));
  errs.push(...validateTolerations(spec.tolerations, at(path, 'tolerations')));
  objs(spec.hostAliases).forEach((alias, i) => {
    const p = idx(at(path, 'hostAliases'), i);
    errs.push(...isValidIP(at(p, 'ip'), str(alias.ip)));
    list(alias.hostnames).forEach((h, j) => errs.push(...dns1123Subdomain(String(h), idx(at(p, 'hostnames'), j))));
  });
  if (str(spec.priorityClassName)) errs.push(...dns1123Subdomain(str(spec.priorityClassName), at(path, 'priorityClassName')));
  if (isSet(spec.runtimeClassName)) errs.push(...dns1123Subdomain(str(spec.runtimeClassName), at(path, 'runtimeClassName')));
  if (isSet(spec.preemptionPolicy)) errs.push(...enumField(spec.preemptionPolicy, at(path, 'preemptionPolicy'), ['PreemptLowerPriority', 'Never']));
  if (isSet(spec.overhead)) errs.push(...validateResourceRequirements({ limits: spec.overhead }, at(path, 'overhead')));
  if (isObject(spec.os)) {
    const name = str(spec.os.name);
    if (!name) errs.push(required(at(at(path, 'os'), 'name'), 'cannot be empty'));
    else if (name !== 'linux' && name !== 'windows') errs.push(notSupported(at(path, 'os'), name, ['linux', 'windows']));
  }
  return errs;
}

/** With hostNetwork, a host port must equal its container port (templates may leave it 0). */
function validateHostNetworkPorts(spec: Obj, path: string, resourceIsPod: boolean): FieldError[] {
  if (spec.hostNetwork !== true) return [];
  const errs: FieldError[] = [];
  objs(spec.containers).forEach((c, i) => {
    objs(c.ports).forEach((port, j) => {
      const hostPort = num(port.hostPort) ?? 0;
      const containerPort = num(port.containerPort) ?? 0;
      if ((resourceIsPod || hostPort !== 0) && hostPort !== containerPort) {
        errs.push(invalid(at(idx(at(idx(at(path, 'containers'), i), 'ports'), j), 'hostPort'), hostPort, 'must match `containerPort` when `hostNetwork` is true'));
      }
    });
  });
  return errs;
}

/** validateHostUsers: user namespaces exclude the other host namespaces. */
function validateHostUsers(spec: Obj, path: string): FieldError[] {
  if (spec.hostUsers !== false) return [];
  const errs: FieldError[] = [];
  if (spec.hostNetwork === true) errs.push(forbidden(at(path, 'hostNetwork'), 'when `pod.Spec.HostUsers` is false'));
  if (spec.hostPID === true) errs.push(forbidden(at(path, 'HostPID'), 'when `pod.Spec.HostUsers` is false'));
  if (spec.hostIPC === true) errs.push(forbidden(at(path, 'HostIPC'), 'when `pod.Spec.HostUsers` is false'));
  return errs;
}

function validateSchedulingGates(gates: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(gates).forEach((gate, i) => {
    const name = str(gate.name);
    errs.push(...qualifiedName(name, idx(path, i)));
    if (seen.has(name)) errs.push(duplicate(idx(path, i), name));
    seen.add(name);
  });
  return errs;
}

function validatePodResourceClaims(claims: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  objs(claims).forEach((claim, i) => {
    const p = idx(path, i);
    const name = str(claim.name);
    if (!name) errs.push(required(at(p, 'name')));
    else if (names.has(name)) errs.push(duplicate(at(p, 'name'), name));
    else {
      errs.push(...dns1123Label(name, at(p, 'name')));
      names.add(name);
    }
    const hasClaim = isSet(claim.resourceClaimName);
    const hasTemplate = isSet(claim.resourceClaimTemplateName);
    const rendered = goStruct('core.PodResourceClaim', claim);
    if (hasClaim && hasTemplate) {
      errs.push(invalidRendered(p, rendered, 'at most one of `resourceClaimName` or `resourceClaimTemplateName` may be specified'));
    }
    if (!hasClaim && !hasTemplate) errs.push(invalidRendered(p, rendered, 'must specify one of: `resourceClaimName`, `resourceClaimTemplateName`'));
  });
  return errs;
}

/**
 * ValidatePodTemplateSpec: a workload's pod template. Labels and annotations
 * are checked at `<path>.labels` / `<path>.annotations` (Kubernetes' paths).
 */
export function validatePodTemplateSpec(template: unknown, path: string): FieldError[] {
  const t = objOf(template);
  const meta = objOf(t.metadata);
  const spec = objOf(t.spec);
  const errs = [...validateLabels(meta.labels, at(path, 'labels')), ...validateAnnotations(meta.annotations, at(path, 'annotations'))];
  errs.push(...validatePodSpec(spec, at(path, 'spec')));
  if (list(spec.ephemeralContainers).length > 0) errs.push(forbidden(at(at(path, 'spec'), 'ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  return errs;
}

// ---------------------------------------------------------------------------
// Pod
// ---------------------------------------------------------------------------

/** validatePodMetadataAndSpec minus metadata: what create and update share. */
function validatePodObject(pod: KubeObject): FieldError[] {
  const spec = specOf(pod);
  const errs = validatePodSpec(spec, 'spec', { resourceIsPod: true, podName: pod.metadata.name });
  const mirror = pod.metadata.annotations?.['kubernetes.io/config.mirror'];
  if (mirror !== undefined && !str(spec.nodeName)) {
    errs.push(invalid('metadata.annotations[kubernetes.io/config.mirror]', mirror, 'must set spec.nodeName if mirror pod annotation is set'));
  }
  const cost = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  if (cost !== undefined && !(/^[+-]?[0-9]+$/.test(cost) && Number(cost) >= -MAX_ID - 1 && Number(cost) <= MAX_ID)) {
    errs.push(invalid('metadata.annotations[controller.kubernetes.io/pod-deletion-cost]', cost, 'must be a 32bit integer'));
  }
  // A projected service account token needs a service account.
  if (!str(spec.serviceAccountName)) {
    objs(spec.volumes).forEach((volume, vi) => {
      objs(objOf(volume.projected).sources).forEach((source, si) => {
        if (isSet(source.serviceAccountToken)) {
          errs.push(forbidden(`spec.volumes[${vi}].projected.sources[${si}].serviceAccountToken`, 'must not be specified when serviceAccountName is not set'));
        }
      });
    });
  }
  for (const field of ['containers', 'initContainers']) {
    objs(spec[field]).forEach((c, i) => {
      const image = str(c.image);
      if (image.trim() !== image) errs.push(invalid(`spec.${field}[${i}].image`, image, 'must not have leading or trailing whitespace'));
    });
  }
  return errs;
}

/** ValidatePodCreate. */
function validatePod(pod: KubeObject): FieldError[] {
  const spec = specOf(pod);
  const errs = validatePodObject(pod);
  // Ephemeral containers are only added through the ephemeralcontainers subresource.
  if (list(spec.ephemeralContainers).length > 0) errs.push(forbidden('spec.ephemeralContainers', 'cannot be set on create'));
  if (str(spec.nodeName) && list(spec.schedulingGates).length > 0) {
    errs.push(forbidden('spec.nodeName', 'cannot be set until all schedulingGates have been cleared'));
  }
  return errs;
}

/** The fields of a pod spec a user may change, in Kubernetes' message. */
const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** ValidateContainerUpdates: same number of containers, each with an image. */
function validateContainerUpdates(next: unknown, prev: unknown, path: string): { errs: FieldError[]; stop: boolean } {
  const nextList = objs(next);
  if (nextList.length !== objs(prev).length) return { errs: [forbidden(path, 'pod updates may not add or remove containers')], stop: true };
  const errs: FieldError[] = [];
  nextList.forEach((c, i) => {
    const image = str(c.image);
    if (!image) errs.push(required(at(idx(path, i), 'image')));
    if (image.trim() !== image) errs.push(invalid(at(idx(path, i), 'image'), image, 'must not have leading or trailing whitespace'));
  });
  return { errs, stop: false };
}

/** validateOnlyAddedTolerations: existing tolerations may only change their tolerationSeconds. */
function validateOnlyAddedTolerations(next: unknown, prev: unknown, path: string): FieldError[] {
  const nextList = objs(next);
  const sameIgnoringSeconds = (a: Obj, b: Obj) =>
    ['key', 'operator', 'value', 'effect'].every((f) => str(a[f]) === str(b[f]));
  for (const old of objs(prev)) {
    if (!nextList.some((t) => sameIgnoringSeconds(old, t))) {
      return [forbidden(path, 'existing toleration can not be modified except its tolerationSeconds')];
    }
  }
  return validateTolerations(next, path);
}

/**
 * A readable diff of two pod specs for the "pod updates may not change"
 * message. Kubernetes prints go-cmp's diff of its Go structs; we print the
 * changed JSON paths in the same -/+ layout.
 */
function specDiff(prev: unknown, next: unknown, type: string): string {
  const lines: string[] = [`  ${type}{`];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (semanticEqual(a, b)) return;
    if (isObject(a) && isObject(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], path ? `${path}.${k}` : k);
      return;
    }
    if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
      a.forEach((v, i) => walk(v, b[i], `${path}[${i}]`));
      return;
    }
    if (a !== undefined) lines.push(`- \t${path}: ${JSON.stringify(a)},`);
    if (b !== undefined) lines.push(`+ \t${path}: ${JSON.stringify(b)},`);
  };
  walk(prev, next, '');
  lines.push('  }');
  return `${lines.join('\n')}\n`;
}

/** A gated pod may gain nodeSelector entries but not change or lose any. */
function validateGatedNodeSelector(next: unknown, prev: unknown, path: string): FieldError[] {
  const nextMap = stringMap(next) ?? {};
  for (const [k, v] of Object.entries(stringMap(prev) ?? {})) {
    if (nextMap[k] !== v) {
      return [invalidRendered(path, goStringMap(next), 'only additions to spec.nodeSelector are allowed (no mutations or deletions)')];
    }
  }
  return [];
}

/** ValidatePodUpdate: the new pod's own errors, then what may change (images, deadline, tolerations…). */
function validatePodUpdate(pod: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePodObject(pod);
  const spec = specOf(pod);
  const oldSpec = specOf(old);
  for (const field of ['containers', 'initContainers']) {
    const result = validateContainerUpdates(spec[field], oldSpec[field], `spec.${field}`);
    errs.push(...result.errs);
    if (result.stop) return errs;
  }
  // activeDeadlineSeconds may be set, or lowered, but never removed or raised.
  if (isSet(spec.activeDeadlineSeconds)) {
    const value = num(spec.activeDeadlineSeconds) ?? 0;
    if (value < 0 || value > MAX_ID) {
      errs.push(invalid('spec.activeDeadlineSeconds', value, inclusiveRangeError(0, MAX_ID)));
      return errs;
    }
    const oldValue = num(oldSpec.activeDeadlineSeconds);
    if (oldValue !== undefined && oldValue < value) {
      errs.push(invalid('spec.activeDeadlineSeconds', value, 'must be less than or equal to previous value'));
      return errs;
    }
  } else if (isSet(oldSpec.activeDeadlineSeconds)) {
    errs.push(invalid('spec.activeDeadlineSeconds', NIL, 'must not update from a positive integer to nil value'));
  }
  errs.push(...validateOnlyAddedTolerations(spec.tolerations, oldSpec.tolerations, 'spec.tolerations'));
  const oldGates = new Set(objs(oldSpec.schedulingGates).map((g) => str(g.name)));
  objs(spec.schedulingGates).forEach((gate, i) => {
    if (!oldGates.has(str(gate.name))) {
      errs.push(forbidden(`spec.schedulingGates[${i}].name`, `only deletion is allowed, but found new scheduling gate '${str(gate.name)}'`));
    }
  });
  if (semanticEqual(spec, oldSpec)) return errs;

  // Put back what may change, then anything still different is forbidden.
  const munged: Obj = structuredClone(spec);
  for (const field of ['containers', 'initContainers']) {
    const oldList = objs(oldSpec[field]);
    if (Array.isArray(munged[field])) {
      munged[field] = objs(munged[field]).map((c, i) => ({ ...c, image: oldList[i]?.image }));
    }
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  munged.schedulingGates = oldSpec.schedulingGates;
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = num(oldSpec.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && munged.terminationGracePeriodSeconds === 1) munged.terminationGracePeriodSeconds = oldGrace;
  if (oldGates.size > 0) {
    // Gated pods may gain node constraints before they are scheduled.
    if (!semanticEqual(munged.nodeSelector, oldSpec.nodeSelector)) {
      errs.push(...validateGatedNodeSelector(munged.nodeSelector, oldSpec.nodeSelector, 'spec.nodeSelector'));
      munged.nodeSelector = oldSpec.nodeSelector;
    }
    const oldAffinity = objOf(oldSpec.affinity);
    if (!isSet(objOf(oldAffinity.nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution) && isObject(munged.affinity)) {
      munged.affinity = { ...munged.affinity, nodeAffinity: oldAffinity.nodeAffinity };
      if (!isSet(oldSpec.affinity) && !isSet(objOf(munged.affinity).podAffinity) && !isSet(objOf(munged.affinity).podAntiAffinity)) {
        munged.affinity = oldSpec.affinity;
      }
    }
  }
  // Pilote binds pods through a plain update of spec.nodeName (Kubernetes uses
  // the binding subresource, which skips this check), so allow "" → node.
  if (!str(oldSpec.nodeName) && str(munged.nodeName)) munged.nodeName = oldSpec.nodeName;
  if (!semanticEqual(munged, oldSpec)) {
    const detail = `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${specDiff(oldSpec, munged, 'core.PodSpec')}`;
    errs.push(forbidden('spec', detail));
  }
  return errs;
}

/** PodTemplate objects (`kubectl create` of kind PodTemplate). */
function validatePodTemplate(obj: KubeObject): FieldError[] {
  return validatePodTemplateSpec(obj.template, 'template');
}

// ---------------------------------------------------------------------------
// Workloads: ReplicationController, Deployment, ReplicaSet, DaemonSet, StatefulSet
// ---------------------------------------------------------------------------

/** An IntOrString as Go's %#v prints it; absent is the zero value (Type:0, IntVal:0). */
function goIntOrStr(value: unknown): string {
  return typeof value === 'string' ? goIntOrString(value) : goIntOrString(num(value) ?? 0);
}

/** ValidatePositiveIntOrPercent (maxSurge, maxUnavailable, PDB bounds). */
function positiveIntOrPercent(value: unknown, path: string): FieldError[] {
  if (typeof value === 'string') return isValidPercent(value).map((m) => invalidRendered(path, goIntOrStr(value), m));
  return nonNegative(num(value) ?? 0, path);
}

/** getIntOrPercentValue: "25%" → 25, 3 → 3, anything else → 0. */
function intOrPercentValue(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return 0;
  const text = /^[0-9]+%$/.test(value) ? value.slice(0, -1) : value;
  return /^[+-]?[0-9]+$/.test(text) ? Number(text) : 0;
}

/** IsNotMoreThan100Percent. */
function notMoreThan100Percent(value: unknown, path: string): FieldError[] {
  if (typeof value !== 'string' || !/^[0-9]+%$/.test(value) || Number(value.slice(0, -1)) <= 100) return [];
  return [invalidRendered(path, goIntOrStr(value), 'must not be greater than 100%')];
}

/**
 * ValidatePodTemplateSpecForReplicaSet (Deployments and ReplicaSets): the
 * selector matches the template, the template is a valid always-restarting pod.
 */
function validateTemplateForReplicaSet(selector: unknown, template: unknown, path: string, kindWord: string): FieldError[] {
  const compiled = compileLabelSelector(selector);
  if (!compiled) return [invalidRendered(at(path, 'selector'), goLabelSelector(selector), 'invalid label selector')];
  const t = objOf(template);
  const templatePath = at(path, 'template');
  const errs = selectorMatchesTemplate(selector, t, path);
  errs.push(...validatePodTemplateSpec(t, templatePath));
  errs.push(...restartAlways(t, templatePath, kindWord));
  return errs;
}

/** Controllers that keep pods running need restartPolicy Always and no activeDeadlineSeconds. */
function restartAlways(template: Obj, templatePath: string, kindWord: string): FieldError[] {
  const spec = objOf(template.spec);
  const errs: FieldError[] = [];
  if (spec.restartPolicy !== 'Always') errs.push(notSupported(`${templatePath}.spec.restartPolicy`, str(spec.restartPolicy), ['Always']));
  if (isSet(spec.activeDeadlineSeconds)) {
    errs.push(forbidden(`${templatePath}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kindWord} is not Supported`));
  }
  return errs;
}

/** ValidateReplicationControllerSpec. */
function validateReplicationController(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = nonNegative(spec.minReadySeconds, 'spec.minReadySeconds');
  const selector = stringMap(spec.selector) ?? {};
  if (Object.keys(selector).length === 0) errs.push(required('spec.selector'));
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  const template = asObj(spec.template);
  if (!template) return [...errs, required('spec.template')];
  const labels = stringMap(objOf(template.metadata).labels) ?? {};
  if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels[k] === v)) {
    errs.push(invalidRendered('spec.template.metadata.labels', goStringMap(objOf(template.metadata).labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  errs.push(...restartAlways(template, 'spec.template', 'ReplicationController'));
  return errs;
}

/** ValidateDeploymentStrategy. */
function validateDeploymentStrategy(strategy: unknown, path: string): FieldError[] {
  const s = objOf(strategy);
  const rollingUpdate = asObj(s.rollingUpdate);
  switch (s.type) {
    case 'Recreate':
      return rollingUpdate ? [forbidden(at(path, 'rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'")] : [];
    case 'RollingUpdate': {
      if (!rollingUpdate) return [required(at(path, 'rollingUpdate'), 'this should be defaulted and never be nil')];
      const p = at(path, 'rollingUpdate');
      const errs = [
        ...positiveIntOrPercent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')),
        ...positiveIntOrPercent(rollingUpdate.maxSurge, at(p, 'maxSurge')),
      ];
      if (intOrPercentValue(rollingUpdate.maxUnavailable) === 0 && intOrPercentValue(rollingUpdate.maxSurge) === 0) {
        errs.push(invalidRendered(at(p, 'maxUnavailable'), goIntOrStr(rollingUpdate.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      errs.push(...notMoreThan100Percent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')));
      return errs;
    }
    default: {
      const update = rollingUpdate ? '&apps.RollingUpdateDeployment{…}' : '(*apps.RollingUpdateDeployment)(nil)';
      const rendered = `apps.DeploymentStrategy{Type:${goQuote(str(s.type))}, RollingUpdate:${update}}`;
      return [notSupportedRendered(path, rendered, ['Recreate', 'RollingUpdate'])];
    }
  }
}

/** ValidateDeploymentSpec. */
function validateDeployment(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = nonNegative(spec.replicas, 'spec.replicas');
  errs.push(...requiredNonEmptySelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validateTemplateForReplicaSet(spec.selector, spec.template, 'spec', 'ReplicaSet'));
  errs.push(...validateDeploymentStrategy(spec.strategy, 'spec.strategy'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (isSet(spec.progressDeadlineSeconds)) {
    const deadline = num(spec.progressDeadlineSeconds) ?? 0;
    errs.push(...nonNegative(deadline, 'spec.progressDeadlineSeconds'));
    if (deadline <= (num(spec.minReadySeconds) ?? 0)) errs.push(invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return errs;
}

/** apps/v1 selectors are immutable (Deployments, ReplicaSets, DaemonSets). */
function immutableSelector(obj: KubeObject, old: KubeObject): FieldError[] {
  return immutable(specOf(obj).selector, specOf(old).selector, 'spec.selector', goLabelSelector);
}

/** ValidateReplicaSetSpec. */
function validateReplicaSet(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = [...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  // Kubernetes says "deployment" here too.
  errs.push(...requiredNonEmptySelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validateTemplateForReplicaSet(spec.selector, spec.template, 'spec', 'ReplicaSet'));
  return errs;
}

/** ValidateDaemonSetUpdateStrategy. */
function validateDaemonSetUpdateStrategy(strategy: unknown, path: string): FieldError[] {
  const s = objOf(strategy);
  const rollingUpdate = asObj(s.rollingUpdate);
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      if (!rollingUpdate) return [required(at(path, 'rollingUpdate'))];
      const p = at(path, 'rollingUpdate');
      const errs = [
        ...positiveIntOrPercent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')),
        ...positiveIntOrPercent(rollingUpdate.maxSurge, at(p, 'maxSurge')),
        ...notMoreThan100Percent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')),
        ...notMoreThan100Percent(rollingUpdate.maxSurge, at(p, 'maxSurge')),
      ];
      // Exactly one of maxSurge and maxUnavailable is non-zero.
      const hasUnavailable = intOrPercentValue(rollingUpdate.maxUnavailable) !== 0;
      const hasSurge = intOrPercentValue(rollingUpdate.maxSurge) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidRendered(at(p, 'maxSurge'), goIntOrStr(rollingUpdate.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(required(at(p, 'maxUnavailable'), 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default: {
      const update = rollingUpdate ? '&apps.RollingUpdateDaemonSet{…}' : '(*apps.RollingUpdateDaemonSet)(nil)';
      const rendered = `apps.DaemonSetUpdateStrategy{Type:${goQuote(str(s.type))}, RollingUpdate:${update}}`;
      return [notSupportedRendered(path, rendered, ['RollingUpdate', 'OnDelete'])];
    }
  }
}

/** ValidateDaemonSetSpec (a missing selector shows up as a template mismatch, as in Kubernetes). */
function validateDaemonSet(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const template = objOf(spec.template);
  const errs = validateLabelSelector(spec.selector, 'spec.selector');
  const compiled = compileLabelSelector(spec.selector);
  if (compiled && !compiled.matches(stringMap(objOf(template.metadata).labels))) {
    errs.push(invalidRendered('spec.template.metadata.labels', goStringMap(objOf(template.metadata).labels), '`selector` does not match template `labels`'));
  }
  const sel = asObj(spec.selector);
  if (sel && Object.keys(objOf(sel.matchLabels)).length + list(sel.matchExpressions).length === 0) {
    errs.push(invalidRendered('spec.selector', goLabelSelector(sel), 'empty selector is invalid for daemonset'));
  }
  errs.push(...validatePodTemplateSpec(template, 'spec.template'));
  errs.push(...restartAlways(template, 'spec.template', 'DaemonSet'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateDaemonSetUpdateStrategy(spec.updateStrategy, 'spec.updateStrategy'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  return errs;
}

/**
 * ValidateStatefulSetSpec. In Kubernetes 1.32 the pod template's spec is not
 * validated for StatefulSets (only its labels and annotations).
 */
function validateStatefulSet(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const policy = str(spec.podManagementPolicy);
  if (!policy) errs.push(required('spec.podManagementPolicy'));
  else if (policy !== 'OrderedReady' && policy !== 'Parallel') errs.push(invalid('spec.podManagementPolicy', policy, "must be 'OrderedReady' or 'Parallel'"));
  const strategy = objOf(spec.updateStrategy);
  const rollingUpdate = asObj(strategy.rollingUpdate);
  switch (strategy.type) {
    case undefined:
    case null:
    case '':
      errs.push(required('spec.updateStrategy'));
      break;
    case 'OnDelete':
      if (rollingUpdate) {
        const rendered = goStruct('&apps.RollingUpdateStatefulSetStrategy', rollingUpdate);
        errs.push(invalidRendered('spec.updateStrategy.rollingUpdate', rendered, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      if (rollingUpdate) {
        const p = 'spec.updateStrategy.rollingUpdate';
        errs.push(...nonNegative(rollingUpdate.partition, at(p, 'partition')));
        if (isSet(rollingUpdate.maxUnavailable)) {
          errs.push(...positiveIntOrPercent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')));
          if (intOrPercentValue(rollingUpdate.maxUnavailable) === 0) errs.push(invalidRendered(at(p, 'maxUnavailable'), goIntOrStr(rollingUpdate.maxUnavailable), 'cannot be 0'));
          errs.push(...notMoreThan100Percent(rollingUpdate.maxUnavailable, at(p, 'maxUnavailable')));
        }
      }
      break;
    default:
      errs.push(invalidRendered('spec.updateStrategy', goStruct('apps.StatefulSetUpdateStrategy', strategy), "must be 'RollingUpdate' or 'OnDelete'"));
  }
  const retention = asObj(spec.persistentVolumeClaimRetentionPolicy);
  if (retention) {
    for (const field of ['whenDeleted', 'whenScaled']) {
      if (retention[field] !== 'Retain' && retention[field] !== 'Delete') {
        errs.push(notSupported(`spec.persistentVolumeClaimRetentionPolicy.${field}`, str(retention[field]), ['Retain', 'Delete']));
      }
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  if (isObject(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  errs.push(...requiredNonEmptySelector(spec.selector, 'spec.selector', 'statefulset'));
  const template = objOf(spec.template);
  const compiled = compileLabelSelector(spec.selector);
  if (!compiled) errs.push(invalidNoDetail('spec.selector', goLabelSelector(spec.selector)));
  else {
    const meta = objOf(template.metadata);
    if (!compiled.empty && !compiled.matches(stringMap(meta.labels))) {
      errs.push(invalidRendered('spec.template.metadata.labels', goStringMap(meta.labels), '`selector` does not match template `labels`'));
    }
    errs.push(...validateLabels(meta.labels, 'spec.template.labels'), ...validateAnnotations(meta.annotations, 'spec.template.annotations'));
  }
  errs.push(...restartAlways(template, 'spec.template', 'StatefulSet'));
  return errs;
}

/** ValidateStatefulSetUpdate: only a few spec fields may change. */
function validateStatefulSetUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStatefulSet(obj);
  const mutable = ['replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];
  const strip = (spec: Obj) => Object.fromEntries(Object.entries(spec).filter(([k]) => !mutable.includes(k)));
  if (!semanticEqual(strip(specOf(obj)), strip(specOf(old)))) {
    errs.push(
      forbidden(
        'spec',
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errs;
}

/** ControllerRevisions hold immutable data. */
function validateControllerRevision(obj: KubeObject): FieldError[] {
  const errs = isSet(obj.data) ? [] : [required('data', 'data is mandatory')];
  return [...errs, ...nonNegative(obj.revision, 'revision')];
}

// ---------------------------------------------------------------------------
// batch: Job and CronJob
// ---------------------------------------------------------------------------

/** Label keys the Job strategy generates on pod templates. */
const JOB_NAME_LABELS = ['job-name', 'batch.kubernetes.io/job-name'];
const JOB_UID_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid'];

/** ValidateHasLabel on the pod template of a Job. */
function templateHasLabel(labels: unknown, k: string, expected: string): FieldError[] {
  const path = `spec.template.metadata.labels[${k}]`;
  const map = stringMap(labels) ?? {};
  if (!(k in map)) return [required(path, `must be '${expected}'`)];
  return map[k] === expected ? [] : [invalidRendered(path, goStringMap(labels), `must be '${expected}'`)];
}

/** validateGeneratedSelector: unless manualSelector, the generated labels and selector are in place. */
function validateGeneratedSelector(job: KubeObject, requirePrefixedLabels: boolean): FieldError[] {
  const spec = specOf(job);
  if (spec.manualSelector === true || !isSet(spec.selector)) return [];
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const errs = uid ? [] : [required('metadata.uid')];
  const labels = objOf(objOf(spec.template).metadata).labels;
  const expected: Record<string, string> = {};
  const wanted: Array<[string, string]> = [[JOB_UID_LABELS[0], uid], [JOB_NAME_LABELS[0], name]];
  if (requirePrefixedLabels) wanted.push([JOB_UID_LABELS[1], uid], [JOB_NAME_LABELS[1], name]);
  for (const [k, v] of wanted) {
    errs.push(...templateHasLabel(labels, k, v));
    expected[k] = v;
  }
  const compiled = compileLabelSelector(spec.selector);
  if (compiled && !compiled.matches(expected)) errs.push(invalidRendered('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  return errs;
}

const POD_FAILURE_POLICY_ACTIONS = ['Count', 'FailIndex', 'FailJob', 'Ignore'];

/** Go's %q of a []string: ["a" "b"]. */
function goQuotedList(values: string[]): string {
  return `[${values.map(goQuote).join(' ')}]`;
}

/** validatePodFailurePolicy. */
function validatePodFailurePolicy(spec: Obj, path: string): FieldError[] {
  const policy = objOf(spec.podFailurePolicy);
  const rulesPath = at(path, 'rules');
  const rules = objs(policy.rules);
  const errs = rules.length > 20 ? [tooMany(rulesPath, rules.length, 20)] : [];
  const template = objOf(objOf(spec.template).spec);
  const containerNames = new Set([...objs(template.containers), ...objs(template.initContainers)].map((c) => str(c.name)));
  rules.forEach((rule, i) => {
    const p = idx(rulesPath, i);
    const action = str(rule.action);
    if (!action) errs.push(required(at(p, 'action'), `valid values: ${goQuotedList(POD_FAILURE_POLICY_ACTIONS)}`));
    else if (action === 'FailIndex') {
      if (!isSet(spec.backoffLimitPerIndex)) errs.push(invalid(at(p, 'action'), action, 'requires the backoffLimitPerIndex to be set'));
    } else if (!POD_FAILURE_POLICY_ACTIONS.includes(action)) errs.push(notSupported(at(p, 'action'), action, POD_FAILURE_POLICY_ACTIONS));
    const onExitCodes = asObj(rule.onExitCodes);
    const onPodConditions = objs(rule.onPodConditions);
    if (onExitCodes) errs.push(...validateOnExitCodes(onExitCodes, containerNames, at(p, 'onExitCodes')));
    if (onPodConditions.length > 0) {
      const cp = at(p, 'onPodConditions');
      if (onPodConditions.length > 20) errs.push(tooMany(cp, onPodConditions.length, 20));
      onPodConditions.forEach((pattern, j) => {
        const pp = idx(cp, j);
        errs.push(...qualifiedName(str(pattern.type), at(pp, 'type')));
        const status = str(pattern.status);
        if (!status) errs.push(required(at(pp, 'status'), `valid values: ${goQuotedList(['False', 'True', 'Unknown'])}`));
        else if (!['False', 'True', 'Unknown'].includes(status)) errs.push(notSupported(at(pp, 'status'), status, ['False', 'True', 'Unknown']));
      });
    }
    if (onExitCodes && onPodConditions.length > 0) errs.push(invalidOmitValue(p, 'specifying both OnExitCodes and OnPodConditions is not supported'));
    if (!onExitCodes && onPodConditions.length === 0) errs.push(invalidOmitValue(p, 'specifying one of OnExitCodes and OnPodConditions is required'));
  });
  return errs;
}

function validateOnExitCodes(req: Obj, containerNames: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const operator = str(req.operator);
  if (!operator) errs.push(required(at(path, 'operator'), `valid values: ${goQuotedList(['In', 'NotIn'])}`));
  else if (operator !== 'In' && operator !== 'NotIn') errs.push(notSupported(at(path, 'operator'), operator, ['In', 'NotIn']));
  if (isSet(req.containerName) && !containerNames.has(str(req.containerName))) {
    errs.push(invalid(at(path, 'containerName'), str(req.containerName), 'must be one of the container or initContainer names in the pod template'));
  }
  const values = list(req.values).map((v) => num(v) ?? 0);
  const valuesPath = at(path, 'values');
  if (values.length === 0) errs.push(invalidRendered(valuesPath, '[]int32(nil)', 'at least one value is required'));
  else if (values.length > 255) errs.push(tooMany(valuesPath, values.length, 255));
  const seen = new Set<number>();
  values.forEach((v, j) => {
    if (operator === 'In' && v === 0) errs.push(invalid(idx(valuesPath, j), v, 'must not be 0 for the In operator'));
    if (seen.has(v)) errs.push(duplicate(idx(valuesPath, j), v));
    seen.add(v);
  });
  if (values.some((v, j) => j > 0 && values[j - 1] > v)) errs.push(invalidRendered(valuesPath, `[]int32{${values.join(', ')}}`, 'must be ordered'));
  return errs;
}

/** validateJobSpec: counts, completion mode, policies and the run-to-completion pod template. */
function validateJobSpecFields(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const field of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex']) {
    errs.push(...nonNegative(spec[field], at(path, field)));
  }
  if (isSet(spec.maxFailedIndexes)) {
    errs.push(...nonNegative(spec.maxFailedIndexes, at(path, 'maxFailedIndexes')));
    if (!isSet(spec.backoffLimitPerIndex)) errs.push(required(at(path, 'backoffLimitPerIndex'), 'when maxFailedIndexes is specified'));
  }
  if (isSet(spec.managedBy)) {
    const managedBy = str(spec.managedBy);
    errs.push(...isDomainPrefixedPath(at(path, 'managedBy'), managedBy));
    if (managedBy.length > 63) errs.push(fieldErrors.tooLong(at(path, 'managedBy'), 63));
  }
  const indexed = spec.completionMode === 'Indexed';
  if (isSet(spec.completionMode)) {
    if (spec.completionMode !== 'NonIndexed' && !indexed) errs.push(notSupported(at(path, 'completionMode'), spec.completionMode, ['NonIndexed', 'Indexed']));
    if (indexed) {
      const completions = num(spec.completions);
      const parallelism = num(spec.parallelism);
      const maxFailed = num(spec.maxFailedIndexes);
      if (completions === undefined) errs.push(required(at(path, 'completions'), 'when completion mode is Indexed'));
      if (parallelism !== undefined && parallelism > 100000) {
        errs.push(invalid(at(path, 'parallelism'), parallelism, 'must be less than or equal to 100000 when completion mode is Indexed'));
      }
      if (completions !== undefined && maxFailed !== undefined && maxFailed > completions) {
        errs.push(invalid(at(path, 'maxFailedIndexes'), maxFailed, 'must be less than or equal to completions'));
      }
      if (maxFailed !== undefined && maxFailed > 100000) errs.push(invalid(at(path, 'maxFailedIndexes'), maxFailed, 'must be less than or equal to 100000'));
    }
  }
  if (!indexed) {
    if (isSet(spec.backoffLimitPerIndex)) errs.push(invalid(at(path, 'backoffLimitPerIndex'), spec.backoffLimitPerIndex, 'requires indexed completion mode'));
    if (isSet(spec.maxFailedIndexes)) errs.push(invalid(at(path, 'maxFailedIndexes'), spec.maxFailedIndexes, 'requires indexed completion mode'));
  }
  if (isObject(spec.podFailurePolicy)) errs.push(...validatePodFailurePolicy(spec, at(path, 'podFailurePolicy')));
  if (isObject(spec.successPolicy) && !indexed) {
    errs.push(invalidRendered(at(path, 'successPolicy'), goStruct('batch.SuccessPolicy', spec.successPolicy), 'requires indexed completion mode'));
  }
  if (isSet(spec.podReplacementPolicy)) {
    if (isObject(spec.podFailurePolicy)) {
      if (spec.podReplacementPolicy !== 'Failed') errs.push(notSupported(at(path, 'podReplacementPolicy'), spec.podReplacementPolicy, ['Failed']));
    } else errs.push(...optionalEnum(spec.podReplacementPolicy, at(path, 'podReplacementPolicy'), ['Failed', 'TerminatingOrFailed']));
  }
  const template = objOf(spec.template);
  errs.push(...validatePodTemplateSpec(template, at(path, 'template')));
  // Defaulting turns a missing restartPolicy into Always, so both mean "not set" here.
  const restartPolicy = str(objOf(template.spec).restartPolicy);
  const restartPath = `${at(path, 'template')}.spec.restartPolicy`;
  if (restartPolicy === 'Always' || restartPolicy === '') errs.push(required(restartPath, 'valid values: "OnFailure", "Never"'));
  else if (restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') errs.push(notSupported(restartPath, restartPolicy, ['OnFailure', 'Never']));
  else if (isObject(spec.podFailurePolicy) && restartPolicy !== 'Never') {
    errs.push(invalid(restartPath, restartPolicy, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

/** ValidateJobSpec: the spec plus its selector. */
function validateJobSpec(spec: Obj, path: string): FieldError[] {
  const errs = validateJobSpecFields(spec, path);
  if (!isSet(spec.selector)) errs.push(required(at(path, 'selector')));
  else errs.push(...validateLabelSelector(spec.selector, at(path, 'selector')));
  const compiled = compileLabelSelector(spec.selector);
  const labels = objOf(objOf(spec.template).metadata).labels;
  if (compiled && !compiled.matches(stringMap(labels))) {
    errs.push(invalidRendered(`${at(path, 'template')}.metadata.labels`, goStringMap(labels), '`selector` does not match template `labels`'));
  }
  return errs;
}

/** ValidateJob (create). */
function validateJob(job: KubeObject): FieldError[] {
  const spec = specOf(job);
  const errs = [...validateGeneratedSelector(job, true), ...validateJobSpec(spec, 'spec')];
  const completions = num(spec.completions);
  if (spec.completionMode === 'Indexed' && completions !== undefined && completions > 0) {
    // Indexed pods get the hostname <job>-<index>, which must be a DNS label.
    const hostname = `${job.metadata.name ?? ''}-${completions - 1}`;
    if (isDNS1123Label(hostname).length > 0) {
      errs.push(invalid('metadata.name', job.metadata.name ?? '', `will not able to create pod with invalid DNS label: ${hostname}`));
    }
  }
  return errs;
}

/** ValidateJobUpdate: most of the spec is immutable once the Job exists. */
function validateJobUpdate(job: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(job);
  const oldSpec = specOf(old);
  const errs = validateJobSpec(spec, 'spec');
  if (spec.completionMode === 'Indexed') {
    // Indexed Jobs may scale completions together with parallelism (elastic Indexed Jobs).
    if (!semanticEqual(spec.completions, oldSpec.completions) && isSet(spec.completions) && spec.completions !== spec.parallelism) {
      errs.push(invalid('spec.completions', spec.completions, 'can only be modified in tandem with spec.parallelism'));
    }
  } else {
    errs.push(...immutable(spec.completions, oldSpec.completions, 'spec.completions'));
  }
  errs.push(...immutable(spec.selector, oldSpec.selector, 'spec.selector', goLabelSelector));
  errs.push(...validateJobTemplateUpdate(spec, oldSpec, old));
  errs.push(...immutable(spec.completionMode, oldSpec.completionMode, 'spec.completionMode'));
  errs.push(...immutable(spec.podFailurePolicy, oldSpec.podFailurePolicy, 'spec.podFailurePolicy', (v) => goStruct('&batch.PodFailurePolicy', v)));
  errs.push(...immutable(spec.backoffLimitPerIndex, oldSpec.backoffLimitPerIndex, 'spec.backoffLimitPerIndex'));
  errs.push(...immutable(spec.managedBy, oldSpec.managedBy, 'spec.managedBy'));
  errs.push(...immutable(spec.successPolicy, oldSpec.successPolicy, 'spec.successPolicy', (v) => goStruct('&batch.SuccessPolicy', v)));
  return errs;
}

/**
 * The pod template is immutable, except scheduling directives (node affinity,
 * node selector, tolerations, labels, annotations, scheduling gates) while the
 * Job is suspended and has never started.
 */
function validateJobTemplateUpdate(spec: Obj, oldSpec: Obj, old: KubeObject): FieldError[] {
  const template = objOf(spec.template);
  let oldTemplate: Obj = objOf(oldSpec.template);
  const mutableScheduling = oldSpec.suspend === true && !isSet(objOf(old.status).startTime);
  if (mutableScheduling) {
    oldTemplate = structuredClone(oldTemplate);
    const tSpec = objOf(template.spec);
    const oSpec = objOf(oldTemplate.spec);
    const oldAffinity = asObj(oSpec.affinity);
    if (!isSet(tSpec.affinity) && oldAffinity) {
      const rest = { ...oldAffinity, nodeAffinity: undefined };
      oSpec.affinity = semanticEqual(rest, {}) ? undefined : rest;
    } else if (isObject(tSpec.affinity)) {
      oSpec.affinity = { ...(oldAffinity ?? {}), nodeAffinity: tSpec.affinity.nodeAffinity };
    }
    oSpec.nodeSelector = tSpec.nodeSelector;
    oSpec.tolerations = tSpec.tolerations;
    oSpec.schedulingGates = tSpec.schedulingGates;
    oldTemplate.spec = oSpec;
    const oMeta = { ...objOf(oldTemplate.metadata) };
    const tMeta = objOf(template.metadata);
    oMeta.annotations = tMeta.annotations;
    oMeta.labels = tMeta.labels;
    oldTemplate.metadata = oMeta;
  }
  return immutable(template, oldTemplate, 'spec.template', (v) => goStruct('core.PodTemplateSpec', v));
}

// --- CronJob schedules (robfig/cron's standard parser, as Kubernetes uses it) ---

interface CronBounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const CRON_FIELDS: CronBounds[] = [
  { min: 0, max: 59 },
  { min: 0, max: 23 },
  { min: 1, max: 31 },
  { min: 1, max: 12, names: { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 } },
  { min: 0, max: 6, names: { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 } },
];
const CRON_DESCRIPTORS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** strconv.Atoi with its error text. */
function goAtoi(text: string): number | string {
  if (!/^[+-]?[0-9]+$/.test(text)) return `strconv.Atoi: parsing ${goQuote(text)}: invalid syntax`;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : `strconv.Atoi: parsing ${goQuote(text)}: value out of range`;
}

function cronInt(text: string): number | string {
  const n = goAtoi(text);
  if (typeof n === 'string') return `failed to parse int from ${text}: ${n}`;
  return n < 0 ? `negative number (${n}) not allowed: ${text}` : n;
}

function cronIntOrName(text: string, bounds: CronBounds): number | string {
  const named = bounds.names?.[text.toLowerCase()];
  return named ?? cronInt(text);
}

/** One comma-separated element of a cron field: `*`, `a-b`, `a/s`, `a-b/s`. */
function cronRange(expr: string, bounds: CronBounds): string | undefined {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  let start: number;
  let end: number;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
  } else {
    const low = cronIntOrName(lowAndHigh[0], bounds);
    if (typeof low === 'string') return low;
    start = low;
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) {
      const high = cronIntOrName(lowAndHigh[1], bounds);
      if (typeof high === 'string') return high;
      end = high;
    } else return `too many hyphens: ${expr}`;
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    const parsed = cronInt(rangeAndStep[1]);
    if (typeof parsed === 'string') return parsed;
    step = parsed;
    // "N/step" means "N-max/step".
    if (lowAndHigh.length === 1) end = bounds.max;
  } else if (rangeAndStep.length > 2) return `too many slashes: ${expr}`;
  if (start < bounds.min) return `beginning of range (${start}) below minimum (${bounds.min}): ${expr}`;
  if (end > bounds.max) return `end of range (${end}) above maximum (${bounds.max}): ${expr}`;
  if (start > end) return `beginning of range (${start}) beyond end of range (${end}): ${expr}`;
  if (step === 0) return `step of range should be a positive number: ${expr}`;
  return undefined;
}

const GO_DURATION_UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h']);

/** time.ParseDuration's error for `text`, or undefined when it parses. */
function goDurationError(text: string): string | undefined {
  const invalidDuration = `time: invalid duration ${goQuote(text)}`;
  let s = text;
  if (s.startsWith('-') || s.startsWith('+')) s = s.slice(1);
  if (s === '0') return undefined;
  if (s === '') return invalidDuration;
  while (s !== '') {
    const m = /^([0-9]*)(\.([0-9]*))?/.exec(s);
    const whole = m?.[1] ?? '';
    const fraction = m?.[3] ?? '';
    if (!m || (whole === '' && fraction === '')) return invalidDuration;
    s = s.slice(m[0].length);
    const unit = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${goQuote(text)}`;
    if (!GO_DURATION_UNITS.has(unit)) return `time: unknown unit ${goQuote(unit)} in duration ${goQuote(text)}`;
    s = s.slice(unit.length);
  }
  return undefined;
}

/**
 * Parses a CronJob schedule like robfig/cron's ParseStandard (5 fields,
 * names for months and weekdays, `@hourly`-style descriptors, `@every 1h`,
 * an optional `TZ=`/`CRON_TZ=` prefix). Returns the parser's error message,
 * or undefined when the schedule is valid.
 */
export function cronScheduleError(schedule: string): string | undefined {
  let spec = schedule;
  if (spec.length === 0) return 'empty spec string';
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const location = spec.slice(spec.indexOf('=') + 1, space < 0 ? undefined : space);
    if (!isKnownTimeZone(location)) return `provided bad location ${location}: unknown time zone ${location}`;
    spec = space < 0 ? '' : spec.slice(space).trim();
  }
  if (spec.startsWith('@')) {
    if (CRON_DESCRIPTORS.has(spec)) return undefined;
    if (spec.startsWith('@every ')) {
      const error = goDurationError(spec.slice('@every '.length));
      return error ? `failed to parse duration ${spec}: ${error}` : undefined;
    }
    return `unrecognized descriptor: ${spec}`;
  }
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  for (let i = 0; i < 5; i++) {
    for (const expr of fields[i].split(',').filter((e) => e !== '')) {
      const error = cronRange(expr, CRON_FIELDS[i]);
      if (error) return error;
    }
  }
  return undefined;
}

/** time.LoadLocation accepts the name: an IANA zone, exactly as spelled, or UTC/Local. */
function isKnownTimeZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'Local' || zone === '') return true;
  try {
    const resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
    // Zone files are case-sensitive; Intl is not.
    return resolved === zone || resolved.toLowerCase() !== zone.toLowerCase();
  } catch {
    return false;
  }
}

/** validateTimeZone. */
function validateTimeZone(value: unknown, path: string): FieldError[] {
  if (!isSet(value)) return [];
  const zone = str(value);
  if (!zone) return [invalid(path, '', 'timeZone must be nil or non-empty string')];
  for (const part of zone.split('/')) {
    if (part === '.' || part === '..' || part.startsWith('-') || !/^[A-Za-z.\-_0-9+]{1,14}$/.test(part)) {
      return [invalid(path, zone, `unknown time zone ${zone}`)];
    }
  }
  const errs: FieldError[] = [];
  if (zone.toLowerCase() === 'local') errs.push(invalid(path, zone, 'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones'));
  if (!isKnownTimeZone(zone)) errs.push(invalid(path, zone, `unknown time zone ${zone}`));
  return errs;
}

/** validateScheduleFormat: cron syntax, and no TZ= prefix (use spec.timeZone) unless it was already there. */
function validateSchedule(schedule: string, allowTZ: boolean, timeZone: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const error = cronScheduleError(schedule);
  if (error) errs.push(invalid(path, schedule, error));
  if (allowTZ && schedule.includes('TZ') && isSet(timeZone)) {
    errs.push(invalid(path, schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
  } else if (!allowTZ && schedule.includes('TZ')) {
    errs.push(invalid(path, schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  }
  return errs;
}

/** validateCronJobSpec; `oldSpec` is set on update. */
function validateCronJobSpec(spec: Obj, oldSpec: Obj | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const schedule = str(spec.schedule);
  if (!schedule) errs.push(required('spec.schedule'));
  else errs.push(...validateSchedule(schedule, str(oldSpec?.schedule).includes('TZ'), spec.timeZone, 'spec.schedule'));
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (!oldSpec || oldSpec.timeZone !== spec.timeZone) errs.push(...validateTimeZone(spec.timeZone, 'spec.timeZone'));
  errs.push(...enumField(spec.concurrencyPolicy, 'spec.concurrencyPolicy', ['Allow', 'Forbid', 'Replace']));
  const jobSpec = objOf(objOf(spec.jobTemplate).spec);
  errs.push(...validateJobSpecFields(jobSpec, 'spec.jobTemplate.spec'));
  // The Job's selector is generated when the CronJob creates it.
  if (isSet(jobSpec.selector)) errs.push(invalidRendered('spec.jobTemplate.spec.selector', goLabelSelector(jobSpec.selector), '`selector` will be auto-generated'));
  if (jobSpec.manualSelector === true) errs.push(notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

/** ValidateCronJobCreate: also keeps names short enough for `<name>-<timestamp>` Jobs. */
function validateCronJob(obj: KubeObject): FieldError[] {
  const errs = validateCronJobSpec(specOf(obj), undefined);
  const name = obj.metadata.name ?? '';
  if (name.length > 52) errs.push(invalid('metadata.name', name, maxLenError(52)));
  return errs;
}

// ---------------------------------------------------------------------------
// IP helpers (netutils)
// ---------------------------------------------------------------------------

/** An IPv4 or IPv6 address as a 32- or 128-bit integer (leading zeros accepted, as ParseIPSloppy does). */
function ipToBigInt(ip: string): { value: bigint; bits: 32 | 128 } | undefined {
  if (isIPv4(ip)) return { value: ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n), bits: 32 };
  if (!isIPv6(ip)) return undefined;
  let text = ip;
  const tail = text.slice(text.lastIndexOf(':') + 1);
  if (tail.includes('.')) {
    const v4 = ipToBigInt(tail)!.value;
    text = `${text.slice(0, text.lastIndexOf(':') + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const zeros = text.includes('::') ? 8 - headGroups.length - restGroups.length : 0;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  return { value: groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n), bits: 128 };
}

/** A CIDR as network bits and prefix length, or undefined when it does not parse. */
function parseCIDR(cidr: string): { value: bigint; bits: 32 | 128; prefix: number } | undefined {
  const [ip, prefixText, extra] = cidr.split('/');
  const addr = ipToBigInt(ip ?? '');
  if (!addr || extra !== undefined || !/^[0-9]+$/.test(prefixText ?? '')) return undefined;
  const prefix = Number(prefixText);
  if (prefix > addr.bits) return undefined;
  return { ...addr, prefix };
}

function cidrContains(net: { value: bigint; bits: 32 | 128; prefix: number }, ip: { value: bigint; bits: 32 | 128 }): boolean {
  if (net.bits !== ip.bits) return false;
  const shift = BigInt(net.bits - net.prefix);
  return net.value >> shift === ip.value >> shift;
}

/** ValidateNonSpecialIP: endpoints and external IPs may not be unspecified, loopback or link-local. */
function validateNonSpecialIP(ip: string, path: string): FieldError[] {
  const addr = ipToBigInt(ip);
  if (!addr) return [invalid(path, ip, 'must be a valid IP address')];
  const inRange = (cidr: string) => {
    const net = parseCIDR(cidr)!;
    return cidrContains(net, addr);
  };
  const v4 = addr.bits === 32;
  // IPv4-mapped IPv6 addresses count as their IPv4 address.
  const mapped = !v4 && addr.value >> 32n === 0xffffn ? { value: addr.value & 0xffffffffn, bits: 32 as const } : undefined;
  const test = (v4cidr: string, v6cidr: string) => (v4 || mapped ? cidrContains(parseCIDR(v4cidr)!, mapped ?? addr) : inRange(v6cidr));
  const errs: FieldError[] = [];
  if (addr.value === 0n || (mapped && mapped.value === 0n)) errs.push(invalid(path, ip, `may not be unspecified (${ip})`));
  if (test('127.0.0.0/8', '::1/128')) errs.push(invalid(path, ip, 'may not be in the loopback range (127.0.0.0/8, ::1/128)'));
  if (test('169.254.0.0/16', 'fe80::/10')) errs.push(invalid(path, ip, 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'));
  if (test('224.0.0.0/24', 'ff02::/16')) errs.push(invalid(path, ip, 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)'));
  return errs;
}

// ---------------------------------------------------------------------------
// Services
// ---------------------------------------------------------------------------

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const NODE_PORT_RANGE = { min: 30000, max: 32767 };

/**
 * The service's clusterIPs as Kubernetes' strategy normalizes them before
 * validation (clusterIP and clusterIPs kept in sync), falling back to the
 * old object's when an update leaves them out (as its REST layer does).
 */
function serviceClusterIPs(spec: Obj, oldSpec?: Obj): { clusterIP: string; clusterIPs: string[] } {
  let clusterIP = str(spec.clusterIP);
  let clusterIPs = list(spec.clusterIPs).map(String);
  if (!clusterIP && clusterIPs.length > 0) clusterIP = clusterIPs[0];
  if (clusterIP && clusterIPs.length === 0) clusterIPs = [clusterIP];
  if (oldSpec && !clusterIP && spec.type !== 'ExternalName' && oldSpec.type !== 'ExternalName') {
    return serviceClusterIPs(oldSpec);
  }
  return { clusterIP, clusterIPs };
}

const isHeadless = (clusterIPs: string[]) => clusterIPs.length === 1 && clusterIPs[0] === 'None';

/** core.ServicePort{…} as %#v prints the (protocol, port) key of duplicate ports. */
function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${goQuote(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/** validateServicePort. */
function validateServicePort(port: Obj, requireName: boolean, names: Set<string>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(port.name);
  if (requireName && !name) errs.push(required(at(path, 'name')));
  else if (name) {
    errs.push(...dns1123Label(name, at(path, 'name')));
    if (names.has(name)) errs.push(duplicate(at(path, 'name'), name));
    else names.add(name);
  }
  errs.push(...invalidEach(at(path, 'port'), num(port.port) ?? 0, isValidPortNum(num(port.port) ?? 0)));
  errs.push(...enumField(port.protocol, at(path, 'protocol'), PORT_PROTOCOLS));
  errs.push(...validatePortNumOrName(port.targetPort ?? 0, at(path, 'targetPort')));
  if (isSet(port.appProtocol)) errs.push(...qualifiedName(str(port.appProtocol), at(path, 'appProtocol')));
  return errs;
}

/** ValidateServiceClusterIPsRelatedFields. */
function validateClusterIPFields(spec: Obj, ips: { clusterIP: string; clusterIPs: string[] }): FieldError[] {
  if (spec.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const { clusterIP, clusterIPs } = ips;
  const field = 'spec.clusterIPs';
  if (clusterIP) {
    if (clusterIPs.length === 0) errs.push(required(field));
    else if (clusterIPs[0] !== clusterIP) errs.push(invalidRendered(field, goStringSlice(clusterIPs), 'first value must match `clusterIP`'));
  } else if (clusterIPs.length > 0) {
    errs.push(invalidRendered(field, goStringSlice(clusterIPs), 'must be empty when `clusterIP` is not specified'));
  }
  const families = list(spec.ipFamilies).map(String);
  const seen = new Set<string>();
  families.forEach((family, i) => {
    if (family !== 'IPv4' && family !== 'IPv6') errs.push(notSupported(idx('spec.ipFamilies', i), family, ['IPv4', 'IPv6']));
    if (seen.has(family)) errs.push(duplicate(idx('spec.ipFamilies', i), family));
    seen.add(family);
  });
  errs.push(...optionalEnum(spec.ipFamilyPolicy, 'spec.ipFamilyPolicy', ['PreferDualStack', 'RequireDualStack', 'SingleStack']));
  let hasInvalidIPs = false;
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) {
        hasInvalidIPs = true;
        errs.push(invalidRendered(field, goStringSlice(clusterIPs), "'None' must be the first and only value"));
      }
      return;
    }
    const ipErrs = isValidIP(idx(field, i), ip);
    hasInvalidIPs ||= ipErrs.length > 0;
    errs.push(...ipErrs);
  });
  if (clusterIPs.length > 2) errs.push(invalidRendered(field, goStringSlice(clusterIPs), 'may only hold up to 2 values'));
  if (hasInvalidIPs) return errs;
  if (clusterIPs.length > 1 && isIPv6(clusterIPs[0]) === isIPv6(clusterIPs[1])) {
    errs.push(invalidRendered(field, goStringSlice(clusterIPs), 'may specify no more than one IP for each IP family'));
  }
  if (!isHeadless(clusterIPs)) {
    clusterIPs.forEach((ip, i) => {
      if (i >= families.length) return;
      if (families[i] === 'IPv4' && isIPv6(ip)) errs.push(invalid(idx(field, i), ip, `expected an IPv4 value as indicated by \`ipFamilies[${i}]\``));
      if (families[i] === 'IPv6' && !isIPv6(ip)) errs.push(invalid(idx(field, i), ip, `expected an IPv6 value as indicated by \`ipFamilies[${i}]\``));
    });
  }
  return errs;
}

/** ValidateService; `oldSpec` is set on update (for the clusterIP fallback). */
function validateServiceObject(svc: KubeObject, oldSpec?: Obj): FieldError[] {
  const spec = specOf(svc);
  const errs: FieldError[] = [];
  const annotations = svc.metadata.annotations ?? {};
  const hints = annotations['service.kubernetes.io/topology-aware-hints'];
  const mode = annotations['service.kubernetes.io/topology-mode'];
  if (hints !== undefined && mode !== undefined && hints !== mode) {
    errs.push(invalid('metadata.annotations[service.kubernetes.io/topology-mode]', mode, 'must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified'));
  }
  const ips = serviceClusterIPs(spec, oldSpec);
  const headless = isHeadless(ips.clusterIPs);
  const ports = objs(spec.ports);
  const type = str(spec.type);
  if (ports.length === 0 && !headless && type !== 'ExternalName') errs.push(required('spec.ports'));
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    errs.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  }
  if (type === 'ExternalName') {
    // Kubernetes' strategy drops the IP fields a service keeps from its old type
    // (dropTypeDependentFields) before validating, so only new values count here.
    const kept = (field: string) => oldSpec !== undefined && oldSpec.type !== 'ExternalName' && semanticEqual(spec[field], oldSpec[field]);
    const hasClusterIPs = list(spec.clusterIPs).length > 0 || str(spec.clusterIP) !== '';
    if (hasClusterIPs && !(kept('clusterIP') && kept('clusterIPs'))) errs.push(forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
    if (list(spec.ipFamilies).length > 0 && !kept('ipFamilies')) errs.push(forbidden('spec.ipFamilies', 'may not be set for ExternalName services'));
    if (isSet(spec.ipFamilyPolicy) && !kept('ipFamilyPolicy')) errs.push(forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'));
    // The CNAME may end with a dot to mark it fully qualified.
    const cname = str(spec.externalName).replace(/\.$/, '');
    if (cname) errs.push(...dns1123Subdomain(cname, 'spec.externalName'));
    else errs.push(required('spec.externalName'));
  }
  const names = new Set<string>();
  ports.forEach((port, i) => errs.push(...validateServicePort(port, ports.length > 1, names, idx('spec.ports', i))));
  if (isSet(spec.selector)) errs.push(...validateLabels(spec.selector, 'spec.selector'));
  const affinity = str(spec.sessionAffinity);
  if (!affinity) errs.push(required('spec.sessionAffinity'));
  else if (affinity !== 'ClientIP' && affinity !== 'None') errs.push(notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']));
  if (affinity === 'ClientIP') errs.push(...validateClientIPAffinity(spec.sessionAffinityConfig));
  else if (affinity === 'None' && isSet(spec.sessionAffinityConfig)) {
    errs.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }
  errs.push(...validateClusterIPFields(spec, ips));
  list(spec.externalIPs).map(String).forEach((ip, i) => {
    const ipErrs = isValidIP(idx('spec.externalIPs', i), ip);
    errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(ip, idx('spec.externalIPs', i))));
  });
  if (!type) errs.push(required('spec.type'));
  else if (!SERVICE_TYPES.includes(type)) errs.push(notSupported('spec.type', type, SERVICE_TYPES));
  ports.forEach((port, i) => {
    const nodePort = num(port.nodePort) ?? 0;
    if (nodePort === 0) return;
    if (type === 'ClusterIP') errs.push(forbidden(`spec.ports[${i}].nodePort`, "may not be used when `type` is 'ClusterIP'"));
    // The allocator's range check (30000-32767 on a default cluster).
    if ((type === 'NodePort' || type === 'LoadBalancer') && (nodePort < NODE_PORT_RANGE.min || nodePort > NODE_PORT_RANGE.max)) {
      errs.push(invalid(`spec.ports[${i}].nodePort`, nodePort, `provided port is not in the valid range. The range of valid ports is ${NODE_PORT_RANGE.min}-${NODE_PORT_RANGE.max}`));
    }
  });
  const nodePorts = new Set<string>();
  ports.forEach((port, i) => {
    const nodePort = num(port.nodePort) ?? 0;
    if (nodePort === 0) return;
    const k = `${str(port.protocol)}/${nodePort}`;
    if (nodePorts.has(k)) errs.push(duplicate(`spec.ports[${i}].nodePort`, nodePort));
    nodePorts.add(k);
  });
  const portKeys = new Set<string>();
  ports.forEach((port, i) => {
    const k = `${str(port.protocol)}/${num(port.port) ?? 0}`;
    if (portKeys.has(k)) errs.push(duplicateRendered(`spec.ports[${i}]`, goServicePortKey(str(port.protocol), num(port.port) ?? 0)));
    portKeys.add(k);
  });
  errs.push(...validateSourceRanges(svc, type));
  if (isSet(spec.allocateLoadBalancerNodePorts) && type !== 'LoadBalancer') {
    errs.push(forbidden('spec.allocateLoadBalancerNodePorts', "may only be used when `type` is 'LoadBalancer'"));
  }
  // Kubernetes reports this one without the "spec." prefix.
  if (type === 'LoadBalancer' && !isSet(spec.allocateLoadBalancerNodePorts)) errs.push(required('allocateLoadBalancerNodePorts'));
  if (isSet(spec.loadBalancerClass)) {
    if (type === 'LoadBalancer') errs.push(...qualifiedName(str(spec.loadBalancerClass), 'spec.loadBalancerClass'));
    else errs.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  errs.push(...validateTrafficPolicies(spec, type));
  return errs;
}

function validateClientIPAffinity(config: unknown): FieldError[] {
  const detail = 'when session affinity type is ClientIP';
  const c = asObj(config);
  if (!c) return [required('spec.sessionAffinityConfig', detail)];
  const clientIP = asObj(c.clientIP);
  if (!clientIP) return [required('spec.sessionAffinityConfig.clientIP', detail)];
  if (!isSet(clientIP.timeoutSeconds)) return [required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', detail)];
  const timeout = num(clientIP.timeoutSeconds) ?? 0;
  return timeout <= 0 || timeout > 86400
    ? [invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, 'must be greater than 0 and less than 86400')]
    : [];
}

/** loadBalancerSourceRanges (Kubernetes' path is capitalized) or its annotation. */
function validateSourceRanges(svc: KubeObject, type: string): FieldError[] {
  const spec = specOf(svc);
  const errs: FieldError[] = [];
  const ranges = list(spec.loadBalancerSourceRanges).map(String);
  const annotation = svc.metadata.annotations?.['service.beta.kubernetes.io/load-balancer-source-ranges'];
  if (ranges.length > 0) {
    const path = 'spec.LoadBalancerSourceRanges';
    if (type !== 'LoadBalancer') errs.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    ranges.forEach((r, i) => errs.push(...isValidCIDR(idx(path, i), r.trim())));
  } else if (annotation !== undefined) {
    const path = 'metadata.annotations[service.beta.kubernetes.io/load-balancer-source-ranges]';
    if (type !== 'LoadBalancer') errs.push(forbidden(path, "may only be used when `type` is 'LoadBalancer'"));
    const value = annotation.trim();
    if (value) for (const r of value.split(',')) errs.push(...isValidCIDR(path, r.trim()));
  }
  return errs;
}

/** External and internal traffic policies, health check node port, traffic distribution. */
function validateTrafficPolicies(spec: Obj, type: string): FieldError[] {
  const errs: FieldError[] = [];
  const externallyAccessible = type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && list(spec.externalIPs).length > 0);
  const external = str(spec.externalTrafficPolicy);
  if (!externallyAccessible) {
    if (external) errs.push(invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services'));
  } else if (!external) errs.push(required('spec.externalTrafficPolicy'));
  else if (external !== 'Cluster' && external !== 'Local') errs.push(notSupported('spec.externalTrafficPolicy', external, ['Cluster', 'Local']));
  const healthCheckNodePort = num(spec.healthCheckNodePort) ?? 0;
  const needsHealthCheck = type === 'LoadBalancer' && external === 'Local';
  if (!needsHealthCheck && healthCheckNodePort !== 0) {
    errs.push(invalid('spec.healthCheckNodePort', healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"));
  } else if (needsHealthCheck && healthCheckNodePort !== 0) {
    // Kubernetes allocates the port when unset; Pilote leaves it unset, so only a given one is checked.
    errs.push(...invalidEach('spec.healthCheckNodePort', healthCheckNodePort, isValidPortNum(healthCheckNodePort)));
  }
  if (!isSet(spec.internalTrafficPolicy)) {
    if (type === 'NodePort' || type === 'LoadBalancer' || type === 'ClusterIP') errs.push(required('spec.internalTrafficPolicy'));
  } else errs.push(...optionalEnum(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local']));
  if (isSet(spec.trafficDistribution) && spec.trafficDistribution !== 'PreferClose') {
    errs.push(notSupported('spec.trafficDistribution', spec.trafficDistribution, ['PreferClose']));
  }
  return errs;
}

/** ValidateServiceUpdate: cluster IPs and families may not change (except to/from ExternalName or headless). */
function validateServiceUpdate(svc: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(svc);
  const oldSpec = specOf(old);
  const errs: FieldError[] = [];
  const externalName = spec.type === 'ExternalName' || oldSpec.type === 'ExternalName';
  const next = serviceClusterIPs(spec, oldSpec).clusterIPs;
  const prev = serviceClusterIPs(oldSpec).clusterIPs;
  if (!externalName && !(isHeadless(prev) && isHeadless(next))) {
    const rendered = goStringSlice(next);
    if (prev.length === next.length) {
      prev.forEach((ip, i) => {
        if (ip !== next[i]) errs.push(invalidRendered(`spec.clusterIPs[${i}]`, rendered, 'may not change once set'));
      });
    } else if (prev.length > next.length) {
      if (next.length === 0) errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'primary clusterIP can not be unset'));
      if (prev.length > 0 && next.length > 0 && next[0] !== prev[0]) errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'may not change once set'));
      if (next.length === 1 && spec.ipFamilyPolicy !== 'SingleStack') {
        errs.push(invalid('spec.ipFamilyPolicy', spec.ipFamilyPolicy ?? NIL, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
      }
    } else if (prev.length > 0 && next[0] !== prev[0]) {
      errs.push(invalidRendered('spec.clusterIPs[0]', rendered, 'may not change once set'));
    }
  }
  const nextFamilies = list(spec.ipFamilies).map(String);
  const prevFamilies = list(oldSpec.ipFamilies).map(String);
  if (!externalName && !isHeadless(next) && !isHeadless(prev)) {
    if (prevFamilies.length === nextFamilies.length && prevFamilies.some((f, i) => f !== nextFamilies[i])) {
      errs.push(invalidRendered('spec.ipFamilies[0]', goStringSlice(nextFamilies, 'core.IPFamily'), 'may not change once set'));
    } else if (prevFamilies.length !== nextFamilies.length && nextFamilies.length > 0 && prevFamilies.length > 0 && nextFamilies[0] !== prevFamilies[0]) {
      errs.push(invalidRendered('spec.ipFamilies[0]', goStringSlice(next), 'may not change once set'));
    }
  }
  if (spec.type === 'LoadBalancer' && oldSpec.type === 'LoadBalancer' && !semanticEqual(spec.loadBalancerClass, oldSpec.loadBalancerClass)) {
    errs.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass ?? NIL, 'may not change once set'));
  }
  const needsHealthCheck = (s: Obj) => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';
  if (needsHealthCheck(spec) && needsHealthCheck(oldSpec) && (num(spec.healthCheckNodePort) ?? 0) !== (num(oldSpec.healthCheckNodePort) ?? 0)) {
    errs.push(forbidden('spec.healthCheckNodePort', FIELD_IMMUTABLE_ERROR_MSG));
  }
  errs.push(...validateServiceObject(svc, oldSpec));
  return errs;
}

// ---------------------------------------------------------------------------
// Endpoints and EndpointSlices
// ---------------------------------------------------------------------------

/** validateEndpointPort (Endpoints subsets). */
function validateEndpointPort(port: Obj, requireName: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(port.name);
  if (requireName && !name) errs.push(required(at(path, 'name')));
  else if (name) errs.push(...dns1123Label(name, at(path, 'name')));
  errs.push(...invalidEach(at(path, 'port'), num(port.port) ?? 0, isValidPortNum(num(port.port) ?? 0)));
  errs.push(...enumField(port.protocol, at(path, 'protocol'), PORT_PROTOCOLS));
  if (isSet(port.appProtocol)) errs.push(...qualifiedName(str(port.appProtocol), at(path, 'appProtocol')));
  return errs;
}

/** ValidateEndpoints: every subset has addresses with valid, ordinary IPs. */
function validateEndpoints(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  objs(obj.subsets).forEach((subset, i) => {
    const p = idx('subsets', i);
    if (list(subset.addresses).length === 0 && list(subset.notReadyAddresses).length === 0) {
      errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    for (const field of ['addresses', 'notReadyAddresses']) {
      objs(subset[field]).forEach((address, j) => {
        const ap = idx(at(p, field), j);
        const ip = str(address.ip);
        errs.push(...isValidIP(at(ap, 'ip'), ip));
        if (str(address.hostname)) errs.push(...dns1123Label(str(address.hostname), at(ap, 'hostname')));
        if (isSet(address.nodeName)) errs.push(...dns1123Subdomain(str(address.nodeName), at(ap, 'nodeName')));
        errs.push(...validateNonSpecialIP(ip, at(ap, 'ip')));
      });
    }
    const ports = objs(subset.ports);
    ports.forEach((port, j) => errs.push(...validateEndpointPort(port, ports.length > 1, idx(at(p, 'ports'), j))));
  });
  return errs;
}

/** IsFullyQualifiedDomainName (FQDN EndpointSlice addresses). */
function fullyQualifiedDomainName(name: string, path: string): FieldError[] {
  if (!name) return [required(path)];
  const trimmed = name.replace(/\.$/, '');
  const subdomainErrs = isDNS1123Subdomain(trimmed);
  if (subdomainErrs.length > 0) return [invalid(path, trimmed, subdomainErrs.join(','))];
  const labels = trimmed.split('.');
  if (labels.length < 2) return [invalid(path, trimmed, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length > 0) return [invalid(path, label, labelErrs.join(','))];
  }
  return [];
}

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];

/** ValidateEndpointSlice. */
function validateEndpointSlice(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const addressType = str(obj.addressType);
  if (!addressType) errs.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) errs.push(notSupported('addressType', addressType, ADDRESS_TYPES));
  const endpoints = objs(obj.endpoints);
  if (endpoints.length > 1000) errs.push(tooMany('endpoints', endpoints.length, 1000));
  else {
    endpoints.forEach((endpoint, i) => {
      const p = idx('endpoints', i);
      const addressesPath = at(p, 'addresses');
      const addresses = list(endpoint.addresses).map(String);
      if (addresses.length === 0) errs.push(required(addressesPath, 'must contain at least 1 address'));
      else if (addresses.length > 100) errs.push(tooMany(addressesPath, addresses.length, 100));
      addresses.forEach((address, j) => {
        const ap = idx(addressesPath, j);
        if (addressType === 'IPv4') {
          const ipErrs = isValidIPv4Address(ap, address);
          errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(address, ap)));
        } else if (addressType === 'IPv6') {
          const ipErrs = isValidIPv6Address(ap, address);
          errs.push(...(ipErrs.length > 0 ? ipErrs : validateNonSpecialIP(address, ap)));
        } else if (addressType === 'FQDN') {
          errs.push(...fullyQualifiedDomainName(address, ap));
        }
      });
      if (isSet(endpoint.nodeName)) errs.push(...dns1123Subdomain(str(endpoint.nodeName), at(p, 'nodeName')));
      const topology = entries(endpoint.deprecatedTopology);
      if (topology.length > 16) errs.push(tooMany(at(p, 'deprecatedTopology'), topology.length, 16));
      errs.push(...validateLabels(endpoint.deprecatedTopology, at(p, 'deprecatedTopology')));
      if (isSet(endpoint.hostname)) errs.push(...dns1123Label(str(endpoint.hostname), at(p, 'hostname')));
    });
  }
  const ports = objs(obj.ports);
  if (ports.length > 20000) errs.push(tooMany('ports', ports.length, 20000));
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const p = idx('ports', i);
    const name = str(port.name);
    if (name) errs.push(...dns1123Label(name, at(p, 'name')));
    if (names.has(name)) errs.push(duplicate(at(p, 'name'), name));
    names.add(name);
    if (!isSet(port.protocol)) errs.push(required(at(p, 'protocol')));
    else if (!PORT_PROTOCOLS.includes(str(port.protocol))) errs.push(notSupported(at(p, 'protocol'), port.protocol, PORT_PROTOCOLS));
    if (isSet(port.appProtocol)) errs.push(...qualifiedName(str(port.appProtocol), at(p, 'appProtocol')));
  });
  return errs;
}

function validateEndpointSliceUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateEndpointSlice(obj);
  if (str(obj.addressType) !== str(old.addressType)) errs.push(invalid('addressType', str(obj.addressType), FIELD_IMMUTABLE_ERROR_MSG));
  return errs;
}

// ---------------------------------------------------------------------------
// networking.k8s.io: Ingress, IngressClass, NetworkPolicy
// ---------------------------------------------------------------------------

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];

/** validateIngressBackend: a service (name + port name or number) or a resource. */
function validateIngressBackend(backend: Obj, path: string): FieldError[] {
  const resource = asObj(backend.resource);
  const service = asObj(backend.service);
  if (resource && service) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (resource) return validateTypedLocalObjectReference(resource, at(path, 'resource'));
  if (!service) return [invalid(path, '', 'resource or service backend is required')];
  const errs: FieldError[] = [];
  const name = str(service.name);
  if (!name) errs.push(required(at(path, 'service.name')));
  else errs.push(...invalidEach(at(path, 'service.name'), name, isDNS1035Label(name)));
  const port = objOf(service.port);
  const portName = str(port.name);
  const portNumber = num(port.number) ?? 0;
  if (portName && portNumber !== 0) errs.push(invalid(path, '', 'cannot set both port name & port number'));
  else if (portName) errs.push(...invalidEach(at(path, 'service.port.name'), portName, isValidPortName(portName)));
  else if (portNumber !== 0) errs.push(...invalidEach(at(path, 'service.port.number'), portNumber, isValidPortNum(portNumber)));
  else errs.push(required(path, 'port name or number is required'));
  return errs;
}

/** validateIngressTypedLocalObjectReference (resource backends, IngressClass parameters). */
function validateTypedLocalObjectReference(ref: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isSet(ref.apiGroup)) errs.push(...dns1123Subdomain(str(ref.apiGroup), at(path, 'apiGroup')));
  for (const field of ['kind', 'name']) {
    const value = str(ref[field]);
    if (!value) errs.push(required(at(path, field), `${field} is required`));
    else errs.push(...invalidEach(at(path, field), value, isValidPathSegmentName(value)));
  }
  return errs;
}

/** validateHTTPIngressPath. */
function validateIngressPath(httpPath: Obj, path: string): FieldError[] {
  if (!isSet(httpPath.pathType)) return [required(at(path, 'pathType'), 'pathType must be specified')];
  const errs: FieldError[] = [];
  const p = str(httpPath.path);
  switch (httpPath.pathType) {
    case 'Exact':
    case 'Prefix':
      if (!p.startsWith('/')) errs.push(invalid(at(path, 'path'), p, 'must be an absolute path'));
      for (const seq of ['//', '/./', '/../', '%2f', '%2F']) if (p.includes(seq)) errs.push(invalid(at(path, 'path'), p, `must not contain '${seq}'`));
      for (const suffix of ['/..', '/.']) if (p.endsWith(suffix)) errs.push(invalid(at(path, 'path'), p, `cannot end with '${suffix}'`));
      break;
    case 'ImplementationSpecific':
      if (p && !p.startsWith('/')) errs.push(invalid(at(path, 'path'), p, 'must be an absolute path'));
      break;
    default:
      errs.push(notSupported(at(path, 'pathType'), httpPath.pathType, PATH_TYPES));
  }
  errs.push(...validateIngressBackend(objOf(httpPath.backend), at(path, 'backend')));
  return errs;
}

/** ValidateIngressSpec. */
function validateIngressSpec(spec: Obj): FieldError[] {
  const errs: FieldError[] = [];
  const rules = objs(spec.rules);
  if (rules.length === 0 && !isSet(spec.defaultBackend)) {
    errs.push(invalidRendered('spec', '[]networking.IngressRule(nil)', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (isObject(spec.defaultBackend)) errs.push(...validateIngressBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((rule, i) => {
    const p = idx('spec.rules', i);
    const host = str(rule.host);
    if (host) {
      if (ipToBigInt(host)) errs.push(invalid(at(p, 'host'), host, 'must be a DNS name, not an IP address'));
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      errs.push(...invalidEach(at(p, 'host'), host, msgs));
    }
    const http = asObj(rule.http);
    if (http) {
      const paths = objs(http.paths);
      if (paths.length === 0) errs.push(required(at(p, 'http.paths')));
      paths.forEach((httpPath, j) => errs.push(...validateIngressPath(httpPath, idx(at(p, 'http.paths'), j))));
    }
  });
  objs(spec.tls).forEach((tls, i) => {
    const p = idx('spec.tls', i);
    list(tls.hosts).map(String).forEach((host, j) => {
      const msgs = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
      errs.push(...invalidEach(idx(at(p, 'hosts'), j), host, msgs));
    });
    if (str(tls.secretName)) errs.push(...dns1123Subdomain(str(tls.secretName), at(p, 'secretName')));
  });
  if (isSet(spec.ingressClassName)) errs.push(...dns1123Subdomain(str(spec.ingressClassName), 'spec.ingressClassName'));
  return errs;
}

/** ValidateIngressCreate: also, the class annotation and field are exclusive. */
function validateIngress(obj: KubeObject): FieldError[] {
  const errs = validateIngressSpec(specOf(obj));
  const annotation = obj.metadata.annotations?.['kubernetes.io/ingress.class'];
  if (annotation !== undefined && isSet(specOf(obj).ingressClassName)) {
    errs.push(invalid('annotations.kubernetes.io/ingress.class', annotation, 'can not be set when the class field is also set'));
  }
  return errs;
}

/** validateIngressClassSpec. */
function validateIngressClass(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const controller = str(spec.controller);
  const errs = controller.length > 250 ? [fieldErrors.tooLong('spec.controller', 250)] : [];
  errs.push(...isDomainPrefixedPath('spec.controller', controller));
  const params = asObj(spec.parameters);
  if (params) {
    const path = 'spec.parameters';
    errs.push(...validateTypedLocalObjectReference(params, path));
    if (!isSet(params.scope)) errs.push(required(at(path, 'scope')));
    else if (params.scope !== 'Cluster' && params.scope !== 'Namespace') errs.push(notSupported(at(path, 'scope'), str(params.scope), ['Cluster', 'Namespace']));
    else if (params.scope === 'Namespace') {
      if (!isSet(params.namespace)) errs.push(required(at(path, 'namespace'), "`parameters.scope` is set to 'Namespace'"));
      else errs.push(...dns1123Label(str(params.namespace), at(path, 'namespace')));
    } else if (isSet(params.namespace)) errs.push(forbidden(at(path, 'namespace'), "`parameters.scope` is set to 'Cluster'"));
  }
  return errs;
}

/** ValidateNetworkPolicyPort. */
function validateNetworkPolicyPort(port: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isSet(port.protocol) && !['TCP', 'UDP', 'SCTP'].includes(str(port.protocol))) {
    errs.push(notSupported(at(path, 'protocol'), port.protocol, ['TCP', 'UDP', 'SCTP']));
  }
  const endPort = num(port.endPort);
  if (typeof port.port === 'number') {
    errs.push(...invalidEach(at(path, 'port'), port.port, isValidPortNum(port.port)));
    if (endPort !== undefined) {
      // Kubernetes reports the start port as the bad value here.
      if (endPort < port.port) errs.push(invalid(at(path, 'endPort'), port.port, 'must be greater than or equal to `port`'));
      errs.push(...invalidEach(at(path, 'endPort'), endPort, isValidPortNum(endPort)));
    }
  } else if (typeof port.port === 'string') {
    if (endPort !== undefined) errs.push(invalid(at(path, 'endPort'), endPort, 'may not be specified when `port` is non-numeric'));
    errs.push(...invalidEach(at(path, 'port'), port.port, isValidPortName(port.port)));
  } else if (endPort !== undefined) {
    errs.push(invalid(at(path, 'endPort'), endPort, 'may not be specified when `port` is not specified'));
  }
  return errs;
}

/** ValidateIPBlock. */
function validateIPBlock(block: Obj, path: string): FieldError[] {
  const cidrText = str(block.cidr);
  if (!cidrText) return [required(at(path, 'cidr'))];
  const cidr = parseCIDR(cidrText);
  if (!cidr) return [invalid(at(path, 'cidr'), cidrText, 'not a valid CIDR')];
  const errs: FieldError[] = [];
  const excepts = list(block.except).map(String);
  for (let i = 0; i < excepts.length; i++) {
    const p = idx(at(path, 'except'), i);
    const except = parseCIDR(excepts[i]);
    if (!except) return [...errs, invalid(p, excepts[i], 'not a valid CIDR')];
    if (!cidrContains(cidr, except) || cidr.prefix >= except.prefix) errs.push(invalid(p, excepts[i], 'must be a strict subset of `cidr`'));
  }
  return errs;
}

/** ValidateNetworkPolicyPeer. */
function validateNetworkPolicyPeer(peer: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let count = 0;
  for (const field of ['podSelector', 'namespaceSelector']) {
    if (!isSet(peer[field])) continue;
    count++;
    errs.push(...validateLabelSelector(peer[field], at(path, field)));
  }
  if (isObject(peer.ipBlock)) {
    count++;
    errs.push(...validateIPBlock(peer.ipBlock, at(path, 'ipBlock')));
  }
  if (count === 0) errs.push(required(path, 'must specify a peer'));
  else if (count > 1 && isSet(peer.ipBlock)) errs.push(forbidden(path, 'may not specify both ipBlock and another peer'));
  return errs;
}

/** ValidateNetworkPolicySpec. */
function validateNetworkPolicy(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = validateLabelSelector(spec.podSelector ?? {}, 'spec.podSelector');
  for (const [direction, peers] of [['ingress', 'from'], ['egress', 'to']] as const) {
    objs(spec[direction]).forEach((rule, i) => {
      const p = idx(`spec.${direction}`, i);
      objs(rule.ports).forEach((port, j) => errs.push(...validateNetworkPolicyPort(port, idx(at(p, 'ports'), j))));
      objs(rule[peers]).forEach((peer, j) => errs.push(...validateNetworkPolicyPeer(peer, idx(at(p, peers), j))));
    });
  }
  const types = list(spec.policyTypes).map(String);
  if (types.length > 2) return [...errs, invalidRendered('spec.policyTypes', goStringSlice(types, 'networking.PolicyType'), 'may not specify more than two policyTypes')];
  types.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') errs.push(notSupported(idx('spec.policyTypes', i), t, ['Ingress', 'Egress']));
  });
  return errs;
}

// ---------------------------------------------------------------------------
// ConfigMap, Secret
// ---------------------------------------------------------------------------

/** ConfigMaps and Secrets hold at most 1 MiB of data. */
const MAX_DATA_SIZE = 1024 * 1024;

/** Decoded size of a base64 value (binaryData, Secret data). */
function decodedLength(value: unknown): number {
  return typeof value === 'string' ? Buffer.from(value, 'base64').length : 0;
}

/** ValidateConfigMap. */
function validateConfigMap(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const binary = objOf(obj.binaryData);
  let total = 0;
  for (const [k, v] of entries(obj.data)) {
    errs.push(...invalidEach(key('data', k), k, isConfigMapKey(k)));
    if (k in binary) errs.push(invalid(key('data', k), k, 'duplicate of key present in binaryData'));
    total += Buffer.byteLength(str(v), 'utf8');
  }
  for (const [k, v] of entries(obj.binaryData)) {
    errs.push(...invalidEach(key('binaryData', k), k, isConfigMapKey(k)));
    total += decodedLength(v);
  }
  // Kubernetes reports the size at the root path, which prints as "[]".
  if (total > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('[]', MAX_DATA_SIZE));
  return errs;
}

/** `immutable: true` freezes the data (and the flag itself). */
function immutableData(obj: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const detail = 'field is immutable when `immutable` is set';
  const errs = obj.immutable === true ? [] : [forbidden('immutable', detail)];
  for (const field of fields) if (!semanticEqual(obj[field], old[field])) errs.push(forbidden(field, detail));
  return errs;
}

function validateConfigMapUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  return [...immutableData(obj, old, ['data', 'binaryData']), ...validateConfigMap(obj)];
}

/** A Go json.Unmarshal error into map[string]interface{}, roughly as encoding/json words it. */
function goJSONObjectError(text: string): string | undefined {
  const trimmed = text.trim();
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    const first = trimmed[0];
    if (first === undefined) return 'unexpected end of JSON input';
    if (!'{["-0123456789tfn'.includes(first)) return `invalid character '${first}' looking for beginning of value`;
    return 'unexpected end of JSON input';
  }
  if (isObject(parsed) || parsed === null) return undefined;
  const kind = Array.isArray(parsed) ? 'array' : typeof parsed === 'number' ? 'number' : typeof parsed;
  return `json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`;
}

/** ValidateSecret: keys, size, and the keys each well-known type requires. */
function validateSecret(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const data = objOf(obj.data);
  let total = 0;
  for (const [k, v] of Object.entries(data)) {
    errs.push(...invalidEach(key('data', k), k, isConfigMapKey(k)));
    total += decodedLength(v);
  }
  if (total > MAX_DATA_SIZE) errs.push(fieldErrors.tooLong('data', MAX_DATA_SIZE));
  const requireKey = (k: string) => (k in data ? [] : [required(key('data', k))]);
  const requireJSON = (k: string) => {
    if (!(k in data)) return [required(key('data', k))];
    const error = goJSONObjectError(Buffer.from(str(data[k]), 'base64').toString('utf8'));
    return error ? [invalid(key('data', k), '<secret contents redacted>', error)] : [];
  };
  switch (str(obj.type)) {
    case 'kubernetes.io/service-account-token':
      if (!obj.metadata.annotations?.['kubernetes.io/service-account.name']) {
        errs.push(required('metadata.annotations[kubernetes.io/service-account.name]'));
      }
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...requireJSON('.dockercfg'));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...requireJSON('.dockerconfigjson'));
      break;
    case 'kubernetes.io/basic-auth':
      // Either may be empty, but one of them must be present.
      if (!('username' in data) && !('password' in data)) errs.push(required('data[username]'), required('data[password]'));
      break;
    case 'kubernetes.io/ssh-auth':
      if (decodedLength(data['ssh-privatekey']) === 0) errs.push(required('data[ssh-privatekey]'));
      break;
    case 'kubernetes.io/tls':
      errs.push(...requireKey('tls.crt'), ...requireKey('tls.key'));
      break;
  }
  return errs;
}

function validateSecretUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = immutable(str(obj.type), str(old.type), 'type');
  return [...errs, ...immutableData(obj, old, ['data']), ...validateSecret(obj)];
}

// ---------------------------------------------------------------------------
// Namespace, Node, ServiceAccount
// ---------------------------------------------------------------------------

const STANDARD_FINALIZERS = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** validateFinalizerName: qualified, or one of the standard unprefixed names. */
function finalizerName(name: string, path: string): FieldError[] {
  const errs = qualifiedName(name, path);
  if (!name.includes('/') && !STANDARD_FINALIZERS.has(name)) {
    errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

/** ValidateNamespace: spec.finalizers (Kubernetes reports them without an index on create). */
function validateNamespace(obj: KubeObject): FieldError[] {
  return list(specOf(obj).finalizers).flatMap((f) => finalizerName(String(f), 'spec.finalizers'));
}

/** Namespace updates only change spec through /finalize, whose finalizers are checked per index. */
function validateNamespaceUpdate(obj: KubeObject): FieldError[] {
  return list(specOf(obj).finalizers).flatMap((f, i) => finalizerName(String(f), `spec.finalizers[${i}]`));
}

/** core.Taint{…} as %#v prints it. */
function goTaint(taint: Obj): string {
  return `core.Taint{Key:${goQuote(str(taint.key))}, Value:${goQuote(str(taint.value))}, Effect:${goQuote(str(taint.effect))}, TimeAdded:(*v1.Time)(nil)}`;
}

/** validateNodeTaints; Kubernetes reports node taints under `metadata.taints`. */
function validateNodeTaints(taints: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  objs(taints).forEach((taint, i) => {
    const p = idx(path, i);
    errs.push(...validateLabelName(str(taint.key), at(p, 'key')));
    const valueErrs = isValidLabelValue(str(taint.value));
    if (valueErrs.length > 0) errs.push(invalid(at(p, 'value'), str(taint.value), valueErrs.join(';')));
    const effect = str(taint.effect);
    if (!effect) errs.push(required(at(p, 'effect')));
    else if (!TAINT_EFFECTS.includes(effect)) errs.push(notSupported(at(p, 'effect'), effect, TAINT_EFFECTS));
    const id = `${effect}\u0000${str(taint.key)}`;
    if (seen.has(id)) {
      errs.push(duplicateRendered(p, goTaint(taint), 'taints must be unique by key and effect pair'));
      return;
    }
    seen.add(id);
  });
  return errs;
}

/** The node's pod CIDRs: podCIDRs, or the single podCIDR of older clients. */
function nodePodCIDRs(spec: Obj): string[] {
  const cidrs = list(spec.podCIDRs).map(String);
  return cidrs.length > 0 ? cidrs : str(spec.podCIDR) ? [str(spec.podCIDR)] : [];
}

/** ValidateNode. */
function validateNode(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = validateNodeTaints(spec.taints, 'metadata.taints');
  const status = objOf(obj.status);
  for (const field of ['capacity', 'allocatable']) {
    for (const [name, value] of entries(status[field])) {
      const p = `status.${field}.${name}`;
      const q = parseQuantityAt(value, p, errs);
      if (q) errs.push(...validateResourceQuantityValue(name, q, p));
    }
  }
  const cidrs = nodePodCIDRs(spec);
  cidrs.forEach((cidr, i) => errs.push(...isValidCIDR(`spec.podCIDRs[${i}]`, cidr)));
  if (cidrs.length > 1) {
    const families = cidrs.map((c) => parseCIDR(c)?.bits);
    if (cidrs.length > 2 || families[0] === families[1]) {
      errs.push(invalidRendered('spec.podCIDRs', goStringSlice(cidrs), 'may specify no more than one CIDR for each IP family'));
    }
    const seen = new Set<string>();
    cidrs.forEach((cidr, i) => {
      if (seen.has(cidr)) errs.push(duplicate(`spec.podCIDRs[${i}]`, cidr));
      seen.add(cidr);
    });
  }
  return errs;
}

/** ValidateNodeUpdate: pod CIDRs and provider ID are set once. */
function validateNodeUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const oldSpec = specOf(old);
  const errs = validateNode(obj);
  const seen = new Set<string>();
  objs(objOf(obj.status).addresses).forEach((address, i) => {
    const id = `${str(address.type)}\u0000${str(address.address)}`;
    if (seen.has(id)) {
      errs.push(duplicateRendered(`status.addresses[${i}]`, `core.NodeAddress{Type:${goQuote(str(address.type))}, Address:${goQuote(str(address.address))}}`));
    }
    seen.add(id);
  });
  const oldCIDRs = nodePodCIDRs(oldSpec);
  const newCIDRs = nodePodCIDRs(spec);
  const cidrMessage = 'node updates may not change podCIDR except from "" to valid';
  if (oldCIDRs.length > 0) {
    if (oldCIDRs.length !== newCIDRs.length) errs.push(forbidden('spec.podCIDRs', cidrMessage));
    else oldCIDRs.forEach((cidr, i) => cidr !== newCIDRs[i] && errs.push(forbidden('spec.podCIDRs', cidrMessage)));
  }
  if (str(oldSpec.providerID) && str(oldSpec.providerID) !== str(spec.providerID)) {
    errs.push(forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid'));
  }
  if (str(spec.externalID) !== str(oldSpec.externalID)) errs.push(forbidden('spec.externalID', 'may not be updated'));
  return errs;
}

// ---------------------------------------------------------------------------
// Events and Leases
// ---------------------------------------------------------------------------

/** The fields of an event under Kubernetes' internal names (core/v1 and events.k8s.io/v1 spell them differently). */
interface EventFields {
  involvedNamespace: string;
  eventTime: unknown;
  reportingController: string;
  reportingInstance: string;
  action: string;
  reason: string;
  message: string;
}

/** legacyValidateEvent: namespaces agree; "new" events (with eventTime) name their reporter and action. */
function legacyValidateEvent(obj: KubeObject, e: EventFields, reportingField: string): FieldError[] {
  const errs: FieldError[] = [];
  const ns = obj.metadata.namespace ?? '';
  const nsMismatch = () => invalid('involvedObject.namespace', e.involvedNamespace, 'does not match event.namespace');
  if (!isSet(e.eventTime) || e.eventTime === '') {
    if (!e.involvedNamespace) {
      if (ns !== '' && ns !== 'default') errs.push(nsMismatch());
    } else if (ns !== e.involvedNamespace) errs.push(nsMismatch());
  } else {
    if (!e.involvedNamespace && ns !== 'default' && ns !== 'kube-system') errs.push(nsMismatch());
    if (!e.reportingController) errs.push(required(reportingField));
    errs.push(...qualifiedName(e.reportingController, reportingField));
    const limited: Array<[string, string, number]> = [
      ['reportingInstance', e.reportingInstance, 128],
      ['action', e.action, 128],
      ['reason', e.reason, 128],
    ];
    for (const [field, value, limit] of limited) {
      if (!value) errs.push(required(field));
      if (value.length > limit) errs.push(invalid(field, '', `can have at most ${limit} characters`));
    }
    if (e.message.length > 1024) errs.push(invalid('message', '', 'can have at most 1024 characters'));
  }
  errs.push(...dns1123Subdomain(ns, 'namespace'));
  return errs;
}

/** core/v1 Events: only the legacy rules, for compatibility with old clients. */
function validateCoreEvent(obj: KubeObject): FieldError[] {
  return legacyValidateEvent(
    obj,
    {
      involvedNamespace: str(objOf(obj.involvedObject).namespace),
      eventTime: obj.eventTime,
      reportingController: str(obj.reportingComponent),
      reportingInstance: str(obj.reportingInstance),
      action: str(obj.action),
      reason: str(obj.reason),
      message: str(obj.message),
    },
    'reportingComponent',
  );
}

/** events.k8s.io/v1 Events: the legacy rules plus the new-style requirements. */
function validateEventsV1Event(obj: KubeObject): FieldError[] {
  const errs = legacyValidateEvent(
    obj,
    {
      involvedNamespace: str(objOf(obj.regarding).namespace),
      eventTime: obj.eventTime,
      reportingController: str(obj.reportingController),
      reportingInstance: str(obj.reportingInstance),
      action: str(obj.action),
      reason: str(obj.reason),
      message: str(obj.note),
    },
    'reportingController',
  );
  const series = asObj(obj.series);
  if (series) {
    if ((num(series.count) ?? 0) < 2) errs.push(invalid('series.count', '', 'should be at least 2'));
    if (!isSet(series.lastObservedTime)) errs.push(required('series.lastObservedTime'));
  }
  if (!isSet(obj.eventTime)) errs.push(required('eventTime'));
  const type = str(obj.type);
  if (type !== 'Normal' && type !== 'Warning') errs.push(invalid('type', '', `has invalid value: ${type}`));
  if (isSet(obj.deprecatedFirstTimestamp)) errs.push(invalid('firstTimestamp', '', 'needs to be unset'));
  if (isSet(obj.deprecatedLastTimestamp)) errs.push(invalid('lastTimestamp', '', 'needs to be unset'));
  if ((num(obj.deprecatedCount) ?? 0) !== 0) errs.push(invalid('count', '', 'needs to be unset'));
  const source = objOf(obj.deprecatedSource);
  if (str(source.component) || str(source.host)) errs.push(invalid('source', '', 'needs to be unset'));
  return errs;
}

/** events.k8s.io/v1 updates: what identifies the event may not change. */
function validateEventsV1EventUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateEventsV1Event(obj);
  const fields: Array<[string, string]> = [
    ['regarding', 'involvedObject'], ['reason', 'reason'], ['related', 'related'], ['reportingController', 'reportingController'],
    ['reportingInstance', 'reportingInstance'], ['type', 'type'], ['action', 'action'], ['eventTime', 'eventTime'], ['note', 'message'],
  ];
  for (const [field, internal] of fields) {
    if (!semanticEqual(obj[field], old[field])) {
      errs.push(invalidRendered(internal, typeof obj[field] === 'string' ? goQuote(str(obj[field])) : goStruct('', obj[field] ?? null), FIELD_IMMUTABLE_ERROR_MSG));
    }
  }
  return errs;
}

/** ValidateLeaseSpec. */
function validateLease(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const duration = num(spec.leaseDurationSeconds);
  if (duration !== undefined && duration <= 0) errs.push(invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = num(spec.leaseTransitions);
  if (transitions !== undefined && transitions < 0) errs.push(invalid('spec.leaseTransitions', transitions, IS_NEGATIVE_ERROR_MSG));
  if (str(spec.preferredHolder) && !str(spec.strategy)) errs.push(forbidden('spec.preferredHolder', 'may only be specified if `strategy` is defined'));
  return errs;
}

// ---------------------------------------------------------------------------
// rbac.authorization.k8s.io
// ---------------------------------------------------------------------------

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** ValidatePolicyRule. */
function validatePolicyRule(rule: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (list(rule.verbs).length === 0) errs.push(required(at(path, 'verbs'), 'verbs must contain at least one value'));
  const urls = list(rule.nonResourceURLs).map(String);
  if (urls.length > 0) {
    if (namespaced) errs.push(invalidRendered(at(path, 'nonResourceURLs'), goStringSlice(urls), 'namespaced rules cannot apply to non-resource URLs'));
    if (list(rule.apiGroups).length > 0 || list(rule.resources).length > 0 || list(rule.resourceNames).length > 0) {
      errs.push(invalidRendered(at(path, 'nonResourceURLs'), goStringSlice(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    return errs;
  }
  if (list(rule.apiGroups).length === 0) errs.push(required(at(path, 'apiGroups'), 'resource rules must supply at least one api group'));
  if (list(rule.resources).length === 0) errs.push(required(at(path, 'resources'), 'resource rules must supply at least one resource'));
  return errs;
}

function validateRole(obj: KubeObject): FieldError[] {
  return objs(obj.rules).flatMap((rule, i) => validatePolicyRule(rule, true, idx('rules', i)));
}

function validateClusterRole(obj: KubeObject): FieldError[] {
  const errs = objs(obj.rules).flatMap((rule, i) => validatePolicyRule(rule, false, idx('rules', i)));
  const aggregation = asObj(obj.aggregationRule);
  if (aggregation) {
    const selectors = list(aggregation.clusterRoleSelectors);
    const path = 'aggregationRule.clusterRoleSelectors';
    if (selectors.length === 0) errs.push(required(path, 'at least one clusterRoleSelector required if aggregationRule is non-nil'));
    selectors.forEach((selector, i) => {
      errs.push(...validateLabelSelector(selector, idx(path, i)));
      if (!compileLabelSelector(selector)) errs.push(invalidRendered(idx(path, i), goLabelSelector(selector), 'invalid label selector.'));
    });
  }
  return errs;
}

/** ValidateRoleBindingSubject. */
function validateSubject(subject: Obj, namespaced: boolean, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const name = str(subject.name);
  const apiGroup = str(subject.apiGroup);
  if (!name) errs.push(required(at(path, 'name')));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (name) errs.push(...dns1123Subdomain(name, at(path, 'name')));
      if (apiGroup) errs.push(notSupported(at(path, 'apiGroup'), apiGroup, ['']));
      if (!namespaced && !str(subject.namespace)) errs.push(required(at(path, 'namespace')));
      break;
    case 'User':
    case 'Group':
      if (apiGroup !== RBAC_GROUP) errs.push(notSupported(at(path, 'apiGroup'), apiGroup, [RBAC_GROUP]));
      break;
    default:
      errs.push(notSupported(at(path, 'kind'), str(subject.kind), ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** ValidateRoleBinding / ValidateClusterRoleBinding. */
function validateBinding(obj: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const ref = objOf(obj.roleRef);
  if (str(ref.apiGroup) !== RBAC_GROUP) errs.push(notSupported('roleRef.apiGroup', str(ref.apiGroup), [RBAC_GROUP]));
  const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  if (!kinds.includes(str(ref.kind))) errs.push(notSupported('roleRef.kind', str(ref.kind), kinds));
  const name = str(ref.name);
  if (!name) errs.push(required('roleRef.name'));
  else errs.push(...invalidEach('roleRef.name', name, isValidPathSegmentName(name)));
  objs(obj.subjects).forEach((subject, i) => errs.push(...validateSubject(subject, namespaced, idx('subjects', i))));
  return errs;
}

/** A binding's roleRef never changes: delete and recreate the binding instead. */
function validateBindingUpdate(obj: KubeObject, old: KubeObject, namespaced: boolean): FieldError[] {
  const errs = validateBinding(obj, namespaced);
  const ref = objOf(obj.roleRef);
  const oldRef = objOf(old.roleRef);
  if (['apiGroup', 'kind', 'name'].some((f) => str(ref[f]) !== str(oldRef[f]))) {
    errs.push(invalidRendered('roleRef', goRoleRef(ref), 'cannot change roleRef'));
  }
  return errs;
}

// ---------------------------------------------------------------------------
// autoscaling: HorizontalPodAutoscaler
// ---------------------------------------------------------------------------

const METRIC_SOURCE_TYPES: Array<[string, string]> = [
  ['Object', 'object'], ['Pods', 'pods'], ['Resource', 'resource'], ['External', 'external'], ['ContainerResource', 'containerResource'],
];

/** validateMetricTarget. */
function validateMetricTarget(target: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(target.type);
  if (!type) errs.push(required(at(path, 'type'), 'must specify a metric target type'));
  else if (!['Utilization', 'Value', 'AverageValue'].includes(type)) errs.push(notSupported(at(path, 'type'), type, ['Utilization', 'Value', 'AverageValue']));
  for (const field of ['value', 'averageValue']) {
    if (!isSet(target[field])) continue;
    const q = parseQuantityAt(target[field], at(path, field), errs);
    if (q && quantitySign(q) <= 0) errs.push(invalid(at(path, field), formatQuantity(q), 'must be positive'));
  }
  const utilization = num(target.averageUtilization);
  if (utilization !== undefined && utilization < 1) errs.push(invalid(at(path, 'averageUtilization'), utilization, 'must be greater than 0'));
  return errs;
}

/** validateMetricSpec (basic): one source matching its type, resource metrics with a name and a target. */
function validateMetricSpec(metric: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const type = str(metric.type);
  if (!type) errs.push(required(at(path, 'type'), 'must specify a metric source type'));
  const present = METRIC_SOURCE_TYPES.filter(([, field]) => isSet(metric[field])).map(([, field]) => field);
  const expected = METRIC_SOURCE_TYPES.find(([t]) => t === type)?.[1];
  if (!expected) errs.push(notSupported(at(path, 'type'), type, METRIC_SOURCE_TYPES.map(([t]) => t)));
  else if (!isSet(metric[expected])) errs.push(required(at(path, expected), 'must populate information for the given metric source'));
  if (present.length !== 1) {
    for (const field of present) if (field !== expected) errs.push(forbidden(at(path, field), 'must populate the given metric source only'));
  }
  for (const field of ['resource', 'containerResource']) {
    const source = asObj(metric[field]);
    if (!source || present[0] !== field) continue;
    const p = at(path, field);
    if (!str(source.name)) errs.push(required(at(p, 'name'), 'must specify a resource name'));
    if (field === 'containerResource' && !str(source.container)) errs.push(required(at(p, 'container'), 'must specify a container'));
    const target = objOf(source.target);
    errs.push(...validateMetricTarget(target, at(p, 'target')));
    if (!isSet(target.averageUtilization) && !isSet(target.averageValue)) {
      errs.push(required(at(at(p, 'target'), 'averageUtilization'), 'must set either a target raw value or a target utilization'));
    }
    if (isSet(target.averageUtilization) && isSet(target.averageValue)) {
      errs.push(forbidden(at(at(p, 'target'), 'averageValue'), 'may not set both a target raw value and a target utilization'));
    }
  }
  return errs;
}

/** validateHorizontalPodAutoscalerSpec. */
function validateHorizontalPodAutoscaler(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  const minReplicas = num(spec.minReplicas);
  const maxReplicas = num(spec.maxReplicas) ?? 0;
  if (minReplicas !== undefined && minReplicas < 1) errs.push(invalid('spec.minReplicas', minReplicas, 'must be greater than or equal to 1'));
  if (maxReplicas < 1) errs.push(invalid('spec.maxReplicas', maxReplicas, 'must be greater than 0'));
  if (minReplicas !== undefined && maxReplicas < minReplicas) errs.push(invalid('spec.maxReplicas', maxReplicas, 'must be greater than or equal to `minReplicas`'));
  const ref = objOf(spec.scaleTargetRef);
  for (const field of ['kind', 'name']) {
    const value = str(ref[field]);
    if (!value) errs.push(required(`spec.scaleTargetRef.${field}`));
    else errs.push(...invalidEach(`spec.scaleTargetRef.${field}`, value, isValidPathSegmentName(value)));
  }
  objs(spec.metrics).forEach((metric, i) => errs.push(...validateMetricSpec(metric, idx('spec.metrics', i))));
  const cpu = num(spec.targetCPUUtilizationPercentage);
  if (cpu !== undefined && cpu < 1) errs.push(invalid('spec.targetCPUUtilizationPercentage', cpu, 'must be greater than 0'));
  return errs;
}

// ---------------------------------------------------------------------------
// Storage: StorageClass, PersistentVolume, PersistentVolumeClaim
// ---------------------------------------------------------------------------

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const VOLUME_MODES = ['Block', 'Filesystem'];

/** Access modes are known, and ReadWriteOncePod is used alone. */
function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let rwop = false;
  let others = false;
  for (const mode of list(modes).map(String)) {
    if (!ACCESS_MODES.includes(mode)) errs.push(notSupported(path, mode, ACCESS_MODES));
    if (mode === 'ReadWriteOncePod') rwop = true;
    else if (ACCESS_MODES.includes(mode)) others = true;
  }
  if (rwop && others) errs.push(forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  return errs;
}

/** ValidatePositiveQuantityValue. */
function positiveQuantity(q: Quantity, path: string): FieldError[] {
  return quantitySign(q) <= 0 ? [invalid(path, formatQuantity(q), 'must be greater than zero')] : [];
}

/** validateDataSource / validateDataSourceRef. */
function validateDataSource(ref: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(ref.name)) errs.push(required(at(path, 'name')));
  if (!str(ref.kind)) errs.push(required(at(path, 'kind')));
  const apiGroup = str(ref.apiGroup);
  if (!apiGroup && ref.kind !== 'PersistentVolumeClaim') errs.push(invalid(path, str(ref.kind), "must be 'PersistentVolumeClaim' when referencing the default apiGroup"));
  if (apiGroup) errs.push(...dns1123Subdomain(apiGroup, at(path, 'apiGroup')));
  if (str(ref.namespace)) errs.push(...dns1123Label(str(ref.namespace), at(path, 'namespace')));
  return errs;
}

/** ValidatePersistentVolumeClaimSpec (claims and claim templates). */
function validatePersistentVolumeClaimSpec(spec: Obj, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (list(spec.accessModes).length === 0) errs.push(required(at(path, 'accessModes'), 'at least 1 access mode is required'));
  if (isSet(spec.selector)) errs.push(...validateLabelSelector(spec.selector, at(path, 'selector')));
  errs.push(...validateAccessModes(spec.accessModes, at(path, 'accessModes')));
  const storagePath = key(at(path, 'resources'), 'storage');
  const requests = objOf(objOf(spec.resources).requests);
  if (!('storage' in requests)) errs.push(required(storagePath));
  else {
    const q = parseQuantityAt(requests.storage, storagePath, errs);
    if (q) {
      const positive = positiveQuantity(q, storagePath);
      errs.push(...(positive.length > 0 ? positive : validateResourceQuantityValue('storage', q, storagePath)));
    }
  }
  if (str(spec.storageClassName)) errs.push(...dns1123Subdomain(str(spec.storageClassName), at(path, 'storageClassName')));
  errs.push(...optionalEnum(spec.volumeMode, at(path, 'volumeMode'), VOLUME_MODES));
  if (isObject(spec.dataSource)) errs.push(...validateDataSource(spec.dataSource, at(path, 'dataSource')));
  if (isObject(spec.dataSourceRef)) errs.push(...validateDataSource(spec.dataSourceRef, at(path, 'dataSourceRef')));
  return errs;
}

function validatePersistentVolumeClaim(obj: KubeObject): FieldError[] {
  return validatePersistentVolumeClaimSpec(specOf(obj), 'spec');
}

/**
 * ValidatePersistentVolumeClaimUpdate: the spec is immutable, except that
 * volumeName may be set once, a storage class may be set when there was none,
 * and bound claims may change their storage request (grow, or shrink above
 * status.capacity: RecoverVolumeExpansionFailure is on in 1.32).
 */
function validatePersistentVolumeClaimUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolumeClaim(obj);
  const spec = specOf(obj);
  const oldSpec = structuredClone(specOf(old));
  const next = structuredClone(spec);
  if (!str(oldSpec.volumeName)) oldSpec.volumeName = next.volumeName;
  const betaClass = old.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (isSet(next.storageClassName) && !isSet(oldSpec.storageClassName) && (betaClass === undefined || betaClass === next.storageClassName)) {
    oldSpec.storageClassName = next.storageClassName;
  }
  const bound = objOf(obj.status).phase === 'Bound';
  if (bound) {
    const nextResources = objOf(next.resources);
    const requests = asObj(nextResources.requests);
    if (requests) requests.storage = objOf(objOf(oldSpec.resources).requests).storage;
    if (isSet(next.volumeAttributesClassName)) next.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
  }
  if (!semanticEqual(next, oldSpec)) {
    errs.push(
      forbidden(
        'spec',
        `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${specDiff(oldSpec, next, 'core.PersistentVolumeClaimSpec')}`,
      ),
    );
  }
  const sink: FieldError[] = [];
  const newSize = tryQuantity(objOf(objOf(spec.resources).requests).storage, sink);
  const oldSize = tryQuantity(objOf(objOf(specOf(old).resources).requests).storage, sink);
  const statusSize = tryQuantity(objOf(objOf(old.status).capacity).storage, sink);
  if (newSize && oldSize && compareQuantities(newSize, oldSize) < 0 && compareQuantities(newSize, statusSize ?? parseQuantity(0)) <= 0) {
    errs.push(forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
  }
  errs.push(...immutable(spec.volumeMode, specOf(old).volumeMode, 'volumeMode'));
  return errs;
}

/** A quantity if it parses (errors go to `sink`). */
function tryQuantity(value: unknown, sink: FieldError[]): Quantity | undefined {
  return isSet(value) ? parseQuantityAt(value, '', sink) : undefined;
}

/** The volume sources a PersistentVolume may use (PV variants of the pod volume sources). */
const PV_SOURCES: Array<{ field: string; check?: (source: Obj, path: string) => FieldError[] }> = [
  { field: 'hostPath', check: validateHostPathSource },
  { field: 'gcePersistentDisk', check: (s, p) => requireFields(s, p.replace(/gcePersistentDisk$/, 'persistentDisk'), ['pdName']) },
  { field: 'awsElasticBlockStore', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'glusterfs', check: (s, p) => requireFields(s, p, ['endpoints', 'path']) },
  { field: 'flocker' },
  {
    field: 'nfs',
    check: (s, p) => [
      ...requireFields(s, p, ['server', 'path']),
      ...(str(s.path).startsWith('/') ? [] : [invalid(at(p, 'path'), str(s.path), 'must be an absolute path')]),
    ],
  },
  { field: 'rbd', check: (s, p) => requireFields(s, p, ['monitors', 'image']) },
  { field: 'quobyte', check: (s, p) => requireFields(s, p, ['volume']) },
  { field: 'cephfs', check: (s, p) => requireFields(s, p, ['monitors']) },
  { field: 'iscsi', check: (s, p) => requireFields(s, p, ['targetPortal', 'iqn']) },
  { field: 'cinder', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'fc' },
  { field: 'flexVolume', check: (s, p) => requireFields(s, p, ['driver']) },
  { field: 'azureFile', check: (s, p) => requireFields(s, p, ['secretName', 'shareName']) },
  { field: 'vsphereVolume', check: (s, p) => requireFields(s, p, ['volumePath']) },
  { field: 'photonPersistentDisk', check: (s, p) => requireFields(s, p, ['pdID']) },
  { field: 'portworxVolume', check: (s, p) => requireFields(s, p, ['volumeID']) },
  { field: 'azureDisk', check: (s, p) => requireFields(s, p, ['diskName', 'diskURI']) },
  { field: 'scaleIO', check: (s, p) => requireFields(s, p, ['gateway', 'system', 'volumeName']) },
  { field: 'local', check: (s, p) => (str(s.path) ? pathNoBacksteps(str(s.path), at(p, 'path')) : [required(at(p, 'path'))]) },
  { field: 'storageos', check: (s, p) => (str(s.volumeName) ? dns1123Label(str(s.volumeName), at(p, 'volumeName')) : [required(at(p, 'volumeName'))]) },
  {
    field: 'csi',
    check: (s, p) => [
      ...(str(s.driver) ? invalidEach(at(p, 'driver'), str(s.driver), isDNS1123Subdomain(str(s.driver).toLowerCase())) : [required(at(p, 'driver'))]),
      ...(str(s.volumeHandle) ? [] : [required(at(p, 'volumeHandle'))]),
    ],
  },
];

/** Go's path.Clean, enough to recognise "/" spelled as "//" or "/./". */
function cleanPath(p: string): string {
  const parts: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  const joined = parts.join('/');
  return p.startsWith('/') ? `/${joined}` : joined || '.';
}

/** ValidatePersistentVolumeSpec. */
function validatePersistentVolume(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  if (list(spec.accessModes).length === 0) errs.push(required('spec.accessModes'));
  errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  const capacity = entries(spec.capacity);
  if (capacity.length === 0) errs.push(required('spec.capacity'));
  if (!capacity.some(([k]) => k === 'storage') || capacity.length > 1) {
    errs.push(notSupportedRendered('spec.capacity', goStruct('core.ResourceList', spec.capacity ?? {}), ['storage']));
  }
  for (const [name, value] of capacity) {
    const p = key('spec.capacity', name);
    const q = parseQuantityAt(value, p, errs);
    if (q) errs.push(...positiveQuantity(q, p));
  }
  if (str(spec.persistentVolumeReclaimPolicy)) {
    errs.push(...optionalEnum(spec.persistentVolumeReclaimPolicy, 'spec.persistentVolumeReclaimPolicy', ['Delete', 'Recycle', 'Retain']));
  }
  let nodeAffinitySet = false;
  const affinity = asObj(spec.nodeAffinity);
  if (affinity) {
    nodeAffinitySet = true;
    if (isObject(affinity.required)) errs.push(...validateNodeSelector(affinity.required, 'spec.nodeAffinity.required'));
    else errs.push(required('spec.nodeAffinity.required', 'must specify required node constraints'));
  }
  let count = 0;
  for (const { field, check } of PV_SOURCES) {
    if (!isSet(spec[field])) continue;
    if (count > 0 && field !== 'flexVolume') {
      errs.push(forbidden(`spec.${field}`, 'may not specify more than 1 volume type'));
      continue;
    }
    count++;
    if (check) errs.push(...check(objOf(spec[field]), `spec.${field}`));
    if (field === 'local' && !nodeAffinitySet) errs.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (count === 0) errs.push(required('spec', 'must specify a volume type'));
  if (isSet(spec.hostPath) && cleanPath(str(objOf(spec.hostPath).path)) === '/' && spec.persistentVolumeReclaimPolicy === 'Recycle') {
    errs.push(forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
  }
  if (str(spec.storageClassName)) errs.push(...dns1123Subdomain(str(spec.storageClassName), 'spec.storageClassName'));
  errs.push(...optionalEnum(spec.volumeMode, 'spec.volumeMode', VOLUME_MODES));
  return errs;
}

/** ValidatePersistentVolumeUpdate: the volume source never changes. */
function validatePersistentVolumeUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePersistentVolume(obj);
  const spec = specOf(obj);
  const oldSpec = specOf(old);
  const sourceOf = (s: Obj) => Object.fromEntries(PV_SOURCES.map(({ field }) => [field, s[field]]).filter(([, v]) => isSet(v)));
  const nextSource = sourceOf(spec);
  const oldSource = sourceOf(oldSpec);
  // A CSI volume may gain a controllerExpandSecretRef.
  const nextCSI = asObj(nextSource.csi);
  if (nextCSI && isObject(oldSource.csi) && !isSet(oldSource.csi.controllerExpandSecretRef)) {
    nextSource.csi = { ...nextCSI, controllerExpandSecretRef: undefined };
  }
  if (!semanticEqual(nextSource, oldSource)) {
    errs.push(forbidden('spec.persistentvolumesource', `spec.persistentvolumesource is immutable after creation\n${specDiff(oldSource, nextSource, 'core.PersistentVolumeSource')}`));
  }
  errs.push(...immutable(spec.volumeMode, oldSpec.volumeMode, 'volumeMode'));
  if (isSet(oldSpec.nodeAffinity) && !semanticEqual(spec.nodeAffinity, oldSpec.nodeAffinity)) {
    const rendered = goStruct('&core.VolumeNodeAffinity', spec.nodeAffinity ?? null);
    errs.push(invalidRendered('nodeAffinity', rendered, `${FIELD_IMMUTABLE_ERROR_MSG}, except for updating from beta label to GA`));
  }
  return errs;
}

/** ValidateStorageClass. */
function validateStorageClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = str(obj.provisioner);
  if (!provisioner) errs.push(required('provisioner'));
  else errs.push(...qualifiedName(provisioner.toLowerCase(), 'provisioner'));
  const params = entries(obj.parameters);
  if (params.length > 512) errs.push(fieldErrors.tooLong('parameters', 512));
  else {
    let total = 0;
    for (const [k, v] of params) {
      if (!k) errs.push(invalid('parameters', k, 'field can not be empty.'));
      total += Buffer.byteLength(k) + Buffer.byteLength(str(v));
    }
    if (total > 256 * 1024) errs.push(fieldErrors.tooLong('parameters', 256 * 1024));
  }
  if (str(obj.reclaimPolicy)) errs.push(...optionalEnum(obj.reclaimPolicy, 'reclaimPolicy', ['Delete', 'Retain']));
  if (!isSet(obj.volumeBindingMode)) errs.push(required('volumeBindingMode'));
  else errs.push(...optionalEnum(obj.volumeBindingMode, 'volumeBindingMode', ['Immediate', 'WaitForFirstConsumer']));
  objs(obj.allowedTopologies).forEach((term, i) => {
    const keys = new Set<string>();
    objs(term.matchLabelExpressions).forEach((expr, j) => {
      const p = idx(at(idx('allowedTopologies', i), 'matchLabelExpressions'), j);
      const values = list(expr.values).map(String);
      if (values.length === 0) errs.push(required(at(p, 'values')));
      const seen = new Set<string>();
      values.forEach((v, k) => {
        if (seen.has(v)) errs.push(duplicate(idx(at(p, 'values'), k), v));
        seen.add(v);
      });
      errs.push(...validateLabelName(str(expr.key), at(p, 'key')));
      if (keys.has(str(expr.key))) errs.push(duplicate(at(p, 'key'), str(expr.key)));
      keys.add(str(expr.key));
    });
  });
  return errs;
}

/** ValidateStorageClassUpdate: parameters, provisioner and policies are fixed at creation. */
function validateStorageClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateStorageClass(obj);
  if (!semanticEqual(obj.parameters ?? {}, old.parameters ?? {})) errs.push(forbidden('parameters', 'updates to parameters are forbidden.'));
  if (str(obj.provisioner) !== str(old.provisioner)) errs.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
  if (str(obj.reclaimPolicy) !== str(old.reclaimPolicy)) errs.push(forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
  errs.push(...immutable(obj.volumeBindingMode, old.volumeBindingMode, 'volumeBindingMode'));
  return errs;
}

// ---------------------------------------------------------------------------
// Policies: LimitRange, ResourceQuota, PodDisruptionBudget, PriorityClass
// ---------------------------------------------------------------------------

const LIMIT_TYPES = new Set(['Pod', 'Container', 'PersistentVolumeClaim']);

/** Go's %f. */
function goFloat(value: number): string {
  return value.toFixed(6);
}

/** ValidateLimitRange. */
function validateLimitRange(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const types = new Set<string>();
  objs(specOf(obj).limits).forEach((limit, i) => {
    const p = idx('spec.limits', i);
    const type = str(limit.type);
    const typeErrs = invalidEach(at(p, 'type'), type, isQualifiedName(type));
    if (typeErrs.length === 0 && !type.includes('/') && !LIMIT_TYPES.has(type)) {
      typeErrs.push(invalid(at(p, 'type'), type, 'must be a standard limit type or fully qualified'));
    }
    errs.push(...typeErrs);
    if (types.has(type)) errs.push(duplicate(at(p, 'type'), type));
    types.add(type);
    const nameCheck = type === 'Pod' || type === 'Container' ? validateContainerResourceName : validateResourceName;
    const lists = new Map<string, Map<string, Quantity>>();
    for (const field of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      if (type === 'Pod' && (field === 'default' || field === 'defaultRequest')) {
        if (entries(limit[field]).length > 0) errs.push(forbidden(at(p, field), "may not be specified when `type` is 'Pod'"));
        lists.set(field, new Map());
        continue;
      }
      const parsed = new Map<string, Quantity>();
      for (const [name, value] of entries(limit[field])) {
        const fp = key(at(p, field), name);
        errs.push(...nameCheck(name, fp));
        const q = parseQuantityAt(value, fp, errs);
        if (q) parsed.set(name, q);
      }
      lists.set(field, parsed);
    }
    if (type === 'PersistentVolumeClaim' && !lists.get('min')!.has('storage') && !lists.get('max')!.has('storage')) {
      errs.push(required(at(p, 'limits'), 'either minimum or maximum storage value is required, but neither was provided'));
    }
    errs.push(...validateLimitBounds(lists, p));
  });
  return errs;
}

/** min ≤ defaultRequest ≤ default ≤ max, and sane limit/request ratios. */
function validateLimitBounds(lists: Map<string, Map<string, Quantity>>, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const [max, min, defaults, defaultRequests, ratios] = ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'].map((f) => lists.get(f)!);
  const names = new Set([...max.keys(), ...min.keys(), ...defaults.keys(), ...defaultRequests.keys(), ...ratios.keys()]);
  const f = formatQuantity;
  for (const name of names) {
    const lo = min.get(name);
    const hi = max.get(name);
    const def = defaults.get(name);
    const req = defaultRequests.get(name);
    const ratio = ratios.get(name);
    if (lo && hi && compareQuantities(lo, hi) > 0) errs.push(invalid(key(at(path, 'min'), name), f(lo), `min value ${f(lo)} is greater than max value ${f(hi)}`));
    const requestPath = key(at(path, 'defaultRequest'), name);
    if (req && lo && compareQuantities(lo, req) > 0) errs.push(invalid(requestPath, f(req), `min value ${f(lo)} is greater than default request value ${f(req)}`));
    if (req && hi && compareQuantities(req, hi) > 0) errs.push(invalid(requestPath, f(req), `default request value ${f(req)} is greater than max value ${f(hi)}`));
    if (req && def && compareQuantities(req, def) > 0) {
      errs.push(invalid(requestPath, f(req), `default request value ${f(req)} is greater than default limit value ${f(def)}`));
    }
    if (def && lo && compareQuantities(lo, def) > 0) errs.push(invalid(key(at(path, 'default'), name), f(lo), `min value ${f(lo)} is greater than default value ${f(def)}`));
    if (def && hi && compareQuantities(def, hi) > 0) errs.push(invalid(key(at(path, 'default'), name), f(hi), `default value ${f(def)} is greater than max value ${f(hi)}`));
    if (ratio && compareQuantities(ratio, parseQuantity(1)) < 0) errs.push(invalid(key(at(path, 'maxLimitRequestRatio'), name), f(ratio), `ratio ${f(ratio)} is less than 1`));
    if (ratio && lo && hi) {
      const limit = Number(quantityMilliValue(hi)) / Number(quantityMilliValue(lo));
      if (Number(quantityMilliValue(ratio)) / 1000 > limit) {
        errs.push(invalid(key(at(path, 'maxLimitRequestRatio'), name), f(ratio), `ratio ${f(ratio)} is greater than max/min = ${goFloat(limit)}`));
      }
    }
    if (!isOvercommitAllowed(name) && def && req && compareQuantities(def, req) !== 0) {
      errs.push(invalid(requestPath, f(req), `default value ${f(def)} must equal to defaultRequest value ${f(req)} in ${name}`));
    }
  }
  return errs;
}

const QUOTA_SCOPES = ['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'PriorityClass', 'CrossNamespacePodAffinity'];
const POD_COMPUTE_QUOTA_RESOURCES = new Set(['cpu', 'memory', 'limits.cpu', 'limits.memory', 'requests.cpu', 'requests.memory']);

/** IsResourceQuotaScopeValidForResource. */
function scopeValidForResource(scope: string, resource: string): boolean {
  if (scope === 'BestEffort') return resource === 'pods' || resource === 'count/pods';
  if (QUOTA_SCOPES.includes(scope)) return resource === 'pods' || resource === 'count/pods' || POD_COMPUTE_QUOTA_RESOURCES.has(resource);
  return true;
}

/** The hard limits of a quota spec or status. */
function validateQuotaList(value: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of entries(value)) {
    const p = key(path, name);
    errs.push(...validateQuotaResourceName(name, p));
    const q = parseQuantityAt(raw, p, errs);
    if (q) errs.push(...validateResourceQuantityValue(name, q, p));
  }
  return errs;
}

/** ValidateResourceQuota. */
function validateResourceQuota(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs = validateQuotaList(spec.hard, 'spec.hard');
  const scopes = list(spec.scopes).map(String);
  const rendered = goStringSlice(scopes, 'core.ResourceQuotaScope');
  const hard = entries(spec.hard).map(([k]) => k).sort();
  for (const scope of scopes) {
    if (!QUOTA_SCOPES.includes(scope)) errs.push(invalidRendered('spec.scopes', rendered, 'unsupported scope'));
    for (const resource of hard) {
      if ((STANDARD_QUOTA_RESOURCES.has(resource) || isQuotaHugePageResource(resource)) && !scopeValidForResource(scope, resource)) {
        errs.push(invalidRendered('spec.scopes', rendered, 'unsupported scope applied to resource'));
      }
    }
  }
  for (const [a, b] of [['BestEffort', 'NotBestEffort'], ['Terminating', 'NotTerminating']]) {
    if (scopes.includes(a) && scopes.includes(b)) errs.push(invalidRendered('spec.scopes', rendered, 'conflicting scopes'));
  }
  const selector = asObj(spec.scopeSelector);
  objs(selector?.matchExpressions).forEach((req) => {
    const p = 'spec.scopeSelector.matchExpressions';
    const scope = str(req.scopeName);
    if (!QUOTA_SCOPES.includes(scope)) errs.push(invalid(at(p, 'scopeName'), scope, 'unsupported scope'));
    const op = str(req.operator);
    if (['Terminating', 'NotTerminating', 'BestEffort', 'NotBestEffort', 'CrossNamespacePodAffinity'].includes(scope) && op !== 'Exists') {
      errs.push(
        invalid(
          at(p, 'operator'),
          op,
          "must be 'Exists' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
        ),
      );
    }
    const values = list(req.values).map(String);
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) errs.push(required(at(p, 'values'), "must be at least one value when `operator` is 'In' or 'NotIn' for scope selector"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) errs.push(invalidRendered(at(p, 'values'), goStringSlice(values), "must be no value when `operator` is 'Exist' or 'DoesNotExist' for scope selector"));
    } else errs.push(invalid(at(p, 'operator'), op, 'not a valid selector operator'));
  });
  const status = objOf(obj.status);
  errs.push(...validateQuotaList(status.hard, 'status.hard'), ...validateQuotaList(status.used, 'status.used'));
  return errs;
}

function validateResourceQuotaUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validateResourceQuota(obj);
  const next = new Set(list(specOf(obj).scopes).map(String));
  const prev = new Set(list(specOf(old).scopes).map(String));
  if (next.size !== prev.size || [...next].some((s) => !prev.has(s))) {
    errs.push(invalidRendered('spec.scopes', goStringSlice([...list(specOf(obj).scopes).map(String)], 'core.ResourceQuotaScope'), FIELD_IMMUTABLE_ERROR_MSG));
  }
  return errs;
}

/** ValidatePodDisruptionBudgetSpec. */
function validatePodDisruptionBudget(obj: KubeObject): FieldError[] {
  const spec = specOf(obj);
  const errs: FieldError[] = [];
  if (isSet(spec.minAvailable) && isSet(spec.maxUnavailable)) {
    errs.push(invalidRendered('spec', goStruct('policy.PodDisruptionBudgetSpec', spec), 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const field of ['minAvailable', 'maxUnavailable']) {
    if (!isSet(spec[field])) continue;
    errs.push(...positiveIntOrPercent(spec[field], `spec.${field}`), ...notMoreThan100Percent(spec[field], `spec.${field}`));
  }
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  errs.push(...optionalEnum(spec.unhealthyPodEvictionPolicy, 'spec.unhealthyPodEvictionPolicy', ['AlwaysAllow', 'IfHealthyBudget']));
  return errs;
}

/** The PriorityClasses every cluster has; names starting with "system-" are reserved for them. */
const SYSTEM_PRIORITY_CLASSES: Record<string, number> = { 'system-node-critical': 2000001000, 'system-cluster-critical': 2000000000 };
const HIGHEST_USER_PRIORITY = 1000000000;

/** ValidatePriorityClass. */
function validatePriorityClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = obj.metadata.name ?? '';
  const value = num(obj.value) ?? 0;
  if (name.startsWith('system-')) {
    const known = SYSTEM_PRIORITY_CLASSES[name];
    let problem = '';
    if (known === undefined) problem = `${name} is not a known system priority class`;
    else if (known !== value) problem = `value of ${name} PriorityClass must be ${known}`;
    else if (obj.globalDefault === true) problem = `globalDefault of ${name} PriorityClass must be false`;
    if (problem) errs.push(forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`));
  } else if (value > HIGHEST_USER_PRIORITY) {
    errs.push(forbidden('value', `maximum allowed value of a user defined priority is ${HIGHEST_USER_PRIORITY}`));
  }
  if (isSet(obj.preemptionPolicy)) errs.push(...enumField(obj.preemptionPolicy, 'preemptionPolicy', ['PreemptLowerPriority', 'Never']));
  return errs;
}

function validatePriorityClassUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  if ((num(obj.value) ?? 0) !== (num(old.value) ?? 0)) errs.push(forbidden('value', 'may not be changed in an update.'));
  errs.push(...immutable(obj.preemptionPolicy, old.preemptionPolicy, 'preemptionPolicy'));
  return errs;
}

// ---------------------------------------------------------------------------
// The registry
// ---------------------------------------------------------------------------

/** Nothing kind-specific to check beyond metadata. */
function noErrors(): FieldError[] {
  return [];
}

/** An update that only re-validates the new object plus `extra` rules. */
function updateWith(validate: (obj: KubeObject) => FieldError[], extra: (obj: KubeObject, old: KubeObject) => FieldError[]) {
  return (obj: KubeObject, old: KubeObject): FieldError[] => [...validate(obj), ...extra(obj, old)];
}

/**
 * Validators keyed `"<group>/<Kind>"` ("" group for core: "/Pod"), like the
 * defaulters. `validate` runs on create; `validateUpdate` (when present) runs
 * instead on updates and includes the new object's own checks.
 */
export const validators: Record<string, KindValidator> = {
  '/Pod': { validate: validatePod, validateUpdate: validatePodUpdate },
  '/PodTemplate': { validate: validatePodTemplate },
  '/ReplicationController': { validate: validateReplicationController },
  '/Service': { validate: (svc) => validateServiceObject(svc), validateUpdate: validateServiceUpdate },
  '/Endpoints': { validate: validateEndpoints },
  '/ConfigMap': { validate: validateConfigMap, validateUpdate: validateConfigMapUpdate },
  '/Secret': { validate: validateSecret, validateUpdate: validateSecretUpdate },
  '/Namespace': { validate: validateNamespace, validateUpdate: validateNamespaceUpdate },
  '/Node': { validate: validateNode, validateUpdate: validateNodeUpdate },
  '/PersistentVolume': { validate: validatePersistentVolume, validateUpdate: validatePersistentVolumeUpdate },
  '/PersistentVolumeClaim': { validate: validatePersistentVolumeClaim, validateUpdate: validatePersistentVolumeClaimUpdate },
  '/Event': { validate: validateCoreEvent },
  '/LimitRange': { validate: validateLimitRange },
  '/ResourceQuota': { validate: validateResourceQuota, validateUpdate: validateResourceQuotaUpdate },
  '/ServiceAccount': { validate: noErrors },
  'apps/Deployment': { validate: validateDeployment, validateUpdate: updateWith(validateDeployment, immutableSelector) },
  'apps/ReplicaSet': { validate: validateReplicaSet, validateUpdate: updateWith(validateReplicaSet, immutableSelector) },
  'apps/StatefulSet': { validate: validateStatefulSet, validateUpdate: validateStatefulSetUpdate },
  'apps/DaemonSet': { validate: validateDaemonSet, validateUpdate: updateWith(validateDaemonSet, immutableSelector) },
  'apps/ControllerRevision': {
    validate: validateControllerRevision,
    validateUpdate: updateWith(validateControllerRevision, (obj, old) => immutable(obj.data, old.data, 'data', (v) => goStruct('runtime.RawExtension', v))),
  },
  'batch/Job': { validate: validateJob, validateUpdate: validateJobUpdate },
  'batch/CronJob': { validate: validateCronJob, validateUpdate: (obj, old) => validateCronJobSpec(specOf(obj), specOf(old)) },
  'networking.k8s.io/Ingress': { validate: validateIngress, validateUpdate: (obj) => validateIngressSpec(specOf(obj)) },
  'networking.k8s.io/IngressClass': {
    validate: validateIngressClass,
    validateUpdate: updateWith(validateIngressClass, (obj, old) => immutable(str(specOf(obj).controller), str(specOf(old).controller), 'spec.controller')),
  },
  'networking.k8s.io/NetworkPolicy': { validate: validateNetworkPolicy },
  'discovery.k8s.io/EndpointSlice': { validate: validateEndpointSlice, validateUpdate: validateEndpointSliceUpdate },
  'autoscaling/HorizontalPodAutoscaler': { validate: validateHorizontalPodAutoscaler },
  'coordination.k8s.io/Lease': { validate: validateLease },
  'events.k8s.io/Event': { validate: validateEventsV1Event, validateUpdate: validateEventsV1EventUpdate },
  'storage.k8s.io/StorageClass': { validate: validateStorageClass, validateUpdate: validateStorageClassUpdate },
  'scheduling.k8s.io/PriorityClass': { validate: validatePriorityClass, validateUpdate: updateWith(validatePriorityClass, validatePriorityClassUpdate) },
  'policy/PodDisruptionBudget': { validate: validatePodDisruptionBudget },
  'rbac.authorization.k8s.io/Role': { validate: validateRole },
  'rbac.authorization.k8s.io/ClusterRole': { validate: validateClusterRole },
  'rbac.authorization.k8s.io/RoleBinding': {
    validate: (obj) => validateBinding(obj, true),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, true),
  },
  'rbac.authorization.k8s.io/ClusterRoleBinding': {
    validate: (obj) => validateBinding(obj, false),
    validateUpdate: (obj, old) => validateBindingUpdate(obj, old, false),
  },
};
