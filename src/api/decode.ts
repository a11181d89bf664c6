/**
 * Request body decoding for create/update, and the strict field checks of patches,
 * with kube-apiserver's field validation (`?fieldValidation=Strict|Warn|Ignore`):
 * unknown and duplicate fields fail the request (Strict), come back as warnings
 * (Warn) or are dropped silently (Ignore). Messages follow
 * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/{create,update,patch,rest}.go
 * and apimachinery's JSON/YAML serializer.
 */
import { LineCounter, parseAllDocuments, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import type { Node as YamlNode } from 'yaml';
import { StatusError, badRequest, fieldErrors, invalid, unsupportedMediaType } from '../apimachinery/errors.js';
import {
  JsonSyntaxError,
  decodeTree,
  definitionFor,
  goQuote,
  jsonTreeOf,
  jsonValueOf,
  parseJsonTree,
  strictFieldErrorMessage,
} from './schema.js';
import type { Definition, JsonNode } from './schema.js';
import { decodeProtobufObject, isProtobufContentType } from './protobuf/codec.js';
import { ProtobufDecodeError } from './protobuf/wire.js';

/** The `fieldValidation` directive of a write request. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** The group/version/kind an endpoint accepts, e.g. {group: 'apps', version: 'v1', kind: 'Deployment'}. */
export interface ExpectedKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** A decoded body and the warnings to send back as `Warning: 299 - "…"` headers. */
export interface DecodedBody {
  readonly object: Record<string, unknown>;
  readonly warnings: string[];
}

/**
 * The directive from the `fieldValidation` query parameter; absent means Warn (Kubernetes'
 * default since 1.23). Anything else is a 422 on the request's options kind, as Kubernetes
 * validates CreateOptions/UpdateOptions/PatchOptions.
 */
export function parseFieldValidation(
  value: string | null | undefined,
  optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions',
): FieldValidation {
  if (value === null || value === undefined || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw invalid('meta.k8s.io', optionsKind, '', [fieldErrors.notSupported('fieldValidation', value, ['', 'Ignore', 'Strict', 'Warn'])]);
}

/** The value of one `Warning` response header for `text`, as Kubernetes writes it. */
export function warningHeaderValue(text: string): string {
  const escaped = text
    .trim()
    .replace(/[\\"]/g, (c) => `\\${c}`)
    // Header values cannot carry control characters; Kubernetes drops such warnings, we keep them readable.
    .replace(/[\x00-\x1f\x7f]/g, ' ');
  return `299 - "${escaped}"`;
}

/**
 * Decodes a create or update body (`application/json` or `application/yaml`) for an
 * endpoint serving `expected`. The returned object carries `kind` and `apiVersion`, and
 * has unknown fields dropped. Throws a 400 `StatusError` worded as kube-apiserver's:
 * malformed bodies (`the object provided is unrecognized (must be of type Pod): couldn't
 * get version/kind; json parse error: …`), type mismatches and, with Strict, unknown or
 * duplicate fields (`Pod in version "v1" cannot be handled as a Pod: strict decoding
 * error: unknown field "spec.foo"`). Protobuf bodies (`application/vnd.kubernetes.protobuf`,
 * what typed clients such as `kubectl create namespace` send) carry no unknown JSON
 * fields, so field validation has nothing to report for them.
 */
export function decodeBody(body: Buffer, contentType: string, fieldValidation: FieldValidation, expected: ExpectedKind): DecodedBody {
  const mediaType = contentType.split(';')[0]!.trim().toLowerCase();
  if (isProtobufContentType(mediaType)) return decodeProtobufBody(body, expected);
  if (mediaType !== 'application/json' && mediaType !== 'application/yaml') throw unsupportedMediaType(contentType);
  const strictMode = fieldValidation !== 'Ignore';
  const unrecognized = (why: string): StatusError =>
    badRequest(`the object provided is unrecognized (must be of type ${expected.kind}): ${why} (${summarizeData(body, 30)})`);

  // 1. Syntax, as the serializer's YAML→JSON conversion and JSON scanner see it.
  let tree: JsonNode;
  let yamlStrictError: string | undefined;
  const text = body.toString('utf8');
  if (mediaType === 'application/yaml') {
    const parsed = parseYaml(text, strictMode);
    if ('error' in parsed) throw unrecognized(parsed.error);
    tree = parsed.tree;
    yamlStrictError = parsed.duplicates;
  } else {
    try {
      tree = parseJsonTree(text);
    } catch (err) {
      if (err instanceof JsonSyntaxError) throw unrecognized(`couldn't get version/kind; json parse error: ${err.message}`);
      throw err;
    }
  }

  // 2. apiVersion/kind (the serializer's Interpret), defaulted from the endpoint.
  const typeMeta = interpretTypeMeta(tree);
  if ('error' in typeMeta) throw unrecognized(typeMeta.error);
  const actual = withDefaults(typeMeta, expected);
  const cannotHandle = (why: string): StatusError =>
    badRequest(`${actual.kind} in version ${goQuote(actual.version)} cannot be handled as a ${expected.kind}: ${why}`);
  if (!actual.version) throw cannotHandle(`Object 'apiVersion' is missing in '${text}'`);

  // 3. The type to decode into: the body's own kind, which must convert to the endpoint's.
  const expectedDefinition = definitionFor(expected.group, expected.version, expected.kind);
  let definition: Definition | undefined = expectedDefinition;
  if (expectedDefinition && (actual.kind !== expected.kind || actual.group !== expected.group || actual.version !== expected.version)) {
    definition = definitionFor(actual.group, actual.version, actual.kind);
    if (!definition) {
      throw cannotHandle(`no kind ${goQuote(actual.kind)} is registered for version ${goQuote(groupVersion(actual))} in scheme "pkg/api/legacyscheme/scheme.go:30"`);
    }
    if (actual.kind !== expected.kind) {
      const internalPackage = expected.group === '' ? 'core' : expected.group.split('.')[0];
      throw cannotHandle(`converting (${actual.version}.${actual.kind}) to (${internalPackage}.${expected.kind}): unknown conversion`);
    }
  }

  // 4. The typed decode: fatal type errors, then strict errors.
  const decoded = decodeTree(definition, tree, { duplicates: strictMode && mediaType === 'application/json' });
  if (decoded.error !== undefined) throw cannotHandle(decoded.error);
  const strictErrors: string[] = [];
  if (strictMode) {
    if (yamlStrictError) strictErrors.push(yamlStrictError);
    for (const error of decoded.strictErrors) strictErrors.push(strictFieldErrorMessage(error));
  }
  let warnings: string[] = [];
  if (strictErrors.length > 0) {
    if (fieldValidation === 'Strict') throw cannotHandle(strictDecodingError(strictErrors));
    warnings = strictErrors.flatMap(splitYamlErrors);
  }

  // 5. The endpoint only takes its own group/version.
  if (actual.group !== expected.group || actual.version !== expected.version) {
    throw badRequest(`the API version in the data (${groupVersion(actual)}) does not match the expected API version (${groupVersion(expected)})`);
  }

  const value = decoded.value;
  const fields = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const { kind: _kind, apiVersion: _apiVersion, ...rest } = fields;
  return { object: { kind: actual.kind, apiVersion: groupVersion(actual), ...rest }, warnings };
}

/** A protobuf body for an endpoint serving `expected`: 400 when malformed or of another kind. */
function decodeProtobufBody(body: Buffer, expected: ExpectedKind): DecodedBody {
  let decoded: ReturnType<typeof decodeProtobufObject>;
  try {
    decoded = decodeProtobufObject(body);
  } catch (err) {
    if (err instanceof ProtobufDecodeError) throw badRequest(`the object provided is unrecognized (must be of type ${expected.kind}): ${err.message}`);
    throw err;
  }
  const wanted = expected.group ? `${expected.group}/${expected.version}` : expected.version;
  if (decoded.apiVersion !== wanted) {
    throw badRequest(`the API version in the data (${decoded.apiVersion}) does not match the expected API version (${wanted})`);
  }
  if (decoded.kind !== expected.kind) {
    throw badRequest(`the kind in the data (${decoded.kind}) does not match the expected kind (${expected.kind})`);
  }
  return { object: decoded.object, warnings: [] };
}

/** The content type of a patch request. */
export type PatchContentType =
  | 'application/json-patch+json'
  | 'application/merge-patch+json'
  | 'application/strategic-merge-patch+json'
  | 'application/apply-patch+yaml';

/** What {@link strictPatchCheck} needs besides the patched object. */
export interface StrictPatchOptions {
  readonly fieldValidation: FieldValidation;
  readonly patchType: PatchContentType;
  /** The request body, as sent. */
  readonly patch: Buffer | string;
}

/**
 * Field validation of a patch request, run on the patched object before it is stored,
 * as kube-apiserver decodes the patch result into the Go type: unknown fields are
 * dropped from `patchedObject` (in place) whatever the directive; type mismatches fail
 * with 422; with Warn/Strict, duplicate keys in the patch itself and the unknown fields
 * are reported — as the returned warnings (Warn) or a thrown 422 (Strict), e.g.
 * ` "" is invalid: patch: Invalid value: "…": strict decoding error: unknown field
 * "spec.foo"` (kubectl prints it as "The request is invalid: …"). For apply patches only
 * duplicate keys are checked here; unknown fields of an apply configuration are the
 * field manager's to report.
 */
export function strictPatchCheck(definition: Definition | undefined, patchedObject: Record<string, unknown>, options: StrictPatchOptions): string[] {
  const checkStrict = options.fieldValidation !== 'Ignore';
  const patchText = typeof options.patch === 'string' ? options.patch : options.patch.toString('utf8');

  if (options.patchType === 'application/apply-patch+yaml') {
    if (!checkStrict) return [];
    const parsed = parseYaml(patchText, true);
    if ('error' in parsed || !parsed.duplicates) return [];
    // sigs.k8s.io/yaml's UnmarshalStrict wraps the YAML error.
    const error = `error converting YAML to JSON: ${parsed.duplicates}`;
    if (options.fieldValidation === 'Strict') throw badRequest(`error strict decoding YAML: ${error}`);
    return splitYamlErrors(error);
  }

  // Strict errors of the patch document itself (duplicate keys; for JSON patches, unknown operation fields).
  const patchErrors: string[] = [];
  let patchTree: JsonNode | undefined;
  try {
    patchTree = parseJsonTree(patchText);
  } catch {
    // A malformed patch fails earlier, when it is applied.
  }
  if (patchTree && checkStrict) {
    if (options.patchType === 'application/json-patch+json') {
      for (const error of decodeTree(JSON_PATCH_OPERATIONS, patchTree).strictErrors) patchErrors.push(`json patch ${strictFieldErrorMessage(error)}`);
    } else {
      for (const error of decodeTree(undefined, patchTree).strictErrors) patchErrors.push(strictFieldErrorMessage(error));
    }
  }

  // The result is re-encoded (keys sorted, as Go marshals maps) and decoded into the Go type.
  const decoded = decodeTree(definition, jsonTreeOf(patchedObject, true), { duplicates: false });
  // The invalid value shown is the patched JSON (json/merge patch) or the patch map as Go prints it (SMP).
  const shown = (): string =>
    options.patchType === 'application/strategic-merge-patch+json' && patchTree
      ? goFormatValue(jsonValueOf(patchTree))
      : JSON.stringify(sortedValue(patchedObject));
  if (decoded.error !== undefined) throwPatchInvalid(`Invalid value: ${goQuote(shown())}: ${decoded.error}`);

  const errors = checkStrict ? [...patchErrors, ...decoded.strictErrors.map(strictFieldErrorMessage)] : [];
  if (errors.length > 0 && options.fieldValidation === 'Strict') {
    throwPatchInvalid(`Invalid value: ${goQuote(shown())}: ${strictDecodingError(errors)}`);
  }
  if (decoded.value !== null && typeof decoded.value === 'object') {
    for (const key of Object.keys(patchedObject)) delete patchedObject[key];
    Object.assign(patchedObject, decoded.value);
  }
  return errors;
}

function throwPatchInvalid(message: string): never {
  throw new StatusError(422, 'Invalid', ` "" is invalid: patch: ${message}`, {
    causes: [{ reason: 'FieldValueInvalid', message, field: 'patch' }],
  });
}

/** A JSON patch is decoded strictly into []jsonPatchOp{op, path, from, value}. */
const JSON_PATCH_OPERATIONS: Definition = {
  name: 'jsonPatchOps',
  schema: {
    type: 'array',
    items: {
      type: 'object',
      properties: { op: { type: 'string' }, path: { type: 'string' }, from: { type: 'string' }, value: { 'x-kubernetes-preserve-unknown-fields': true } },
    },
  },
};

/** runtime.NewStrictDecodingError's message. */
function strictDecodingError(errors: readonly string[]): string {
  return `strict decoding error: ${errors.join(', ')}`;
}

/** Kubernetes turns each line of a YAML strict error into its own warning (rest.go parseYAMLWarnings). */
function splitYamlErrors(error: string): string[] {
  for (const prefix of ['yaml: unmarshal errors:\n', 'error converting YAML to JSON: yaml: unmarshal errors:\n']) {
    if (error.startsWith(prefix)) return error.slice(prefix.length).split('\n').map((line) => line.trim());
  }
  return [error];
}

/** The first bytes of a body for error messages, as rest.go summarizeData: text if it looks like JSON, else hex. */
function summarizeData(data: Buffer, maxLength: number): string {
  if (data.length === 0) return '<empty>';
  const more = data.length > maxLength ? ' ...' : '';
  const head = data.subarray(0, maxLength);
  return data[0] === 0x7b /* { */ ? `${head.toString('utf8')}${more}` : `${head.toString('hex')}${more}`;
}

interface TypeMeta {
  group: string;
  version: string;
  kind: string;
}

/** The Go type the serializer reads apiVersion/kind into, as encoding/json names it in errors. */
const TYPE_META_GO_TYPE = 'struct { APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }';

/** apiVersion and kind of a body, as the serializer's SimpleMetaFactory reads them (encoding/json: keys match case-insensitively). */
function interpretTypeMeta(tree: JsonNode): TypeMeta | { error: string } {
  const fail = (what: string, field?: string) => ({
    error: `couldn't get version/kind; json parse error: json: cannot unmarshal ${what} into Go ${
      field ? `struct field .${field} of type string` : `value of type ${TYPE_META_GO_TYPE}`
    }`,
  });
  if (tree.kind === 'null') return { group: '', version: '', kind: '' };
  if (tree.kind !== 'object') return fail(jsonKindName(tree));
  let apiVersion = '';
  let kind = '';
  for (const [key, value] of tree.entries) {
    const lower = key.toLowerCase();
    if (lower !== 'apiversion' && lower !== 'kind') continue;
    const field = lower === 'kind' ? 'kind' : 'apiVersion';
    if (value.kind === 'null') continue;
    if (value.kind !== 'string') return fail(jsonKindName(value), field);
    if (field === 'kind') kind = value.value;
    else apiVersion = value.value;
  }
  // schema.ParseGroupVersion
  if (apiVersion === '' || apiVersion === '/') return { group: '', version: '', kind };
  const parts = apiVersion.split('/');
  if (parts.length === 1) return { group: '', version: apiVersion, kind };
  if (parts.length === 2) return { group: parts[0]!, version: parts[1]!, kind };
  return { error: `unexpected GroupVersion string: ${apiVersion}` };
}

function jsonKindName(node: JsonNode): string {
  return node.kind === 'boolean' ? 'bool' : node.kind;
}

/** The serializer's gvkWithDefaults: missing parts come from the endpoint's kind. */
function withDefaults(actual: TypeMeta, defaults: ExpectedKind): TypeMeta {
  const out = { ...actual };
  if (!out.kind) out.kind = defaults.kind;
  if (!out.version && !out.group) {
    out.group = defaults.group;
    out.version = defaults.version;
  }
  if (!out.version && out.group === defaults.group) out.version = defaults.version;
  return out;
}

function groupVersion(gv: { group: string; version: string }): string {
  return gv.group ? `${gv.group}/${gv.version}` : gv.version;
}

// ---------------------------------------------------------------------------
// YAML bodies: the serializer converts YAML to JSON (a map, so keys come out sorted),
// and in strict mode re-reads the YAML to report duplicate keys as go-yaml words them.

type ParsedYaml = { tree: JsonNode; duplicates?: string } | { error: string };

function parseYaml(text: string, findDuplicates: boolean): ParsedYaml {
  const lineCounter = new LineCounter();
  // YAML 1.1, as go-yaml v2 resolves scalars (yes/no/y/n are booleans, 0777 is octal, << merges);
  // but go-yaml keeps timestamps as strings and has no base-60 numbers.
  const documents = parseAllDocuments(text, {
    lineCounter,
    uniqueKeys: false,
    version: '1.1',
    customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || (tag.format !== 'TIME' && tag.tag !== 'tag:yaml.org,2002:timestamp')),
  });
  const document = Array.isArray(documents) ? documents[0] : undefined;
  if (!document) return { tree: { kind: 'null' } };
  const problem = document.errors[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line ?? 1;
    const reason = problem.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    return { error: `yaml: line ${line}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}` };
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    return { error: `yaml: ${err instanceof Error ? err.message : String(err)}` };
  }
  const tree = jsonTreeOf(value, true);
  if (!findDuplicates) return { tree };
  const lines: string[] = [];
  collectYamlDuplicates(document.contents, lineCounter, lines);
  return lines.length > 0 ? { tree, duplicates: `yaml: unmarshal errors:\n  ${lines.join('\n  ')}` } : { tree };
}

/** go-yaml v2's strict check: `line N: key "k" already set in map`, N being the duplicate's value line. */
function collectYamlDuplicates(node: YamlNode | null, lineCounter: LineCounter, out: string[]): void {
  if (!node || isAlias(node)) return;
  if (isSeq(node)) {
    for (const item of node.items) collectYamlDuplicates(item as YamlNode | null, lineCounter, out);
    return;
  }
  if (!isMap(node)) return;
  const seen = new Set<string>();
  for (const pair of node.items) {
    if (!isPair(pair)) continue;
    const key = pair.key as YamlNode | null;
    const value = pair.value as YamlNode | null;
    const keyValue = isScalar(key) ? key.value : undefined;
    if (keyValue === '<<') continue; // merge key
    // Go decodes the value before storing it, so problems inside it come first.
    collectYamlDuplicates(value, lineCounter, out);
    if (!isScalar(key)) continue;
    const identity = `${typeof keyValue}:${String(keyValue)}`;
    if (!seen.has(identity)) {
      seen.add(identity);
      continue;
    }
    const at = value?.range?.[0] ?? key.range?.[0] ?? 0;
    out.push(`line ${lineCounter.linePos(at).line}: key ${goKey(keyValue)} already set in map`);
  }
}

/** A key as Go's %#v prints it. */
function goKey(key: unknown): string {
  if (typeof key === 'string') return goQuote(key);
  if (key === null || key === undefined) return '<nil>';
  return String(key);
}

// ---------------------------------------------------------------------------

/** Go's fmt %+v of a decoded JSON value: map[a:1 b:[x y]] with sorted keys. */
function goFormatValue(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormatValue).join(' ')}]`;
  if (typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    return `map[${keys.map((k) => `${k}:${goFormatValue(record[k])}`).join(' ')}]`;
  }
  return String(value);
}

/** A copy with object keys sorted, as Go's json.Marshal of a map writes it. */
function sortedValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedValue);
  if (value === null || typeof value !== 'object') return value;
  const record = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(record)
      .sort()
      .map((k) => [k, sortedValue(record[k])]),
  );
}
