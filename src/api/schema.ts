/**
 * The schema of every built-in kind, generated at build time from kubernetes-types
 * (scripts/gen-schema.mjs → src/api/generated/schema.json), and the decoding checks
 * kube-apiserver makes against it: unknown fields, duplicate fields and JSON type
 * mismatches, with the field paths and messages of Kubernetes' strict JSON decoder
 * (sigs.k8s.io/json) and Go's encoding/json.
 */
import { readFileSync } from 'node:fs';

/** A JSON type in the schema. Integers are Go int32/int64, numbers float64. */
export type SchemaType = 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';

/** One node of the generated schema: an OpenAPI subset where `$ref` holds a bare definition name. */
export interface SchemaNode {
  readonly type?: SchemaType;
  readonly format?: string;
  readonly description?: string;
  /** A struct's fields. */
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly required?: readonly string[];
  /** Element schema of an array. */
  readonly items?: SchemaNode;
  /** Value schema of a map (an object without `properties`). */
  readonly additionalProperties?: SchemaNode;
  /** Alternatives for the union types (IntOrString, Quantity, JSONSchemaPropsOrArray, …). */
  readonly oneOf?: readonly SchemaNode[];
  /** Name of another definition, e.g. "io.k8s.api.core.v1.PodSpec". */
  readonly $ref?: string;
  /** Anything is accepted here (RawExtension, FieldsV1, …). */
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-group-version-kind'?: readonly GroupVersionKind[];
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** A named definition, e.g. `io.k8s.api.core.v1.Pod`. */
export interface Definition {
  readonly name: string;
  readonly schema: SchemaNode;
}

interface SchemaFile {
  source: string;
  definitions: Record<string, SchemaNode>;
}

interface LoadedSchema {
  definitions: Readonly<Record<string, SchemaNode>>;
  byName: Map<string, Definition>;
  byGvk: Map<string, Definition>;
}

let loaded: LoadedSchema | undefined;

/**
 * The generated file sits in src/api/generated; from the compiled module in
 * dist/src/api it is three levels up, next to the sources (tsc does not copy JSON).
 */
const SCHEMA_LOCATIONS = ['./generated/schema.json', '../../../src/api/generated/schema.json'];

function load(): LoadedSchema {
  if (loaded) return loaded;
  let text: string | undefined;
  for (const location of SCHEMA_LOCATIONS) {
    try {
      text = readFileSync(new URL(location, import.meta.url), 'utf8');
      break;
    } catch {
      // try the next location
    }
  }
  if (text === undefined) throw new Error('src/api/generated/schema.json not found; run node scripts/gen-schema.mjs');
  const file = JSON.parse(text) as SchemaFile;
  const byName = new Map<string, Definition>();
  const byGvk = new Map<string, Definition>();
  for (const [name, schema] of Object.entries(file.definitions)) {
    const definition: Definition = { name, schema };
    byName.set(name, definition);
    for (const gvk of schema['x-kubernetes-group-version-kind'] ?? []) {
      byGvk.set(gvkKey(gvk.group, gvk.version, gvk.kind), definition);
    }
  }
  loaded = { definitions: file.definitions, byName, byGvk };
  return loaded;
}

function gvkKey(group: string, version: string, kind: string): string {
  return `${group}/${version}/${kind}`;
}

/** Every definition of the generated schema, keyed by name. */
export function schemaDefinitions(): Readonly<Record<string, SchemaNode>> {
  return load().definitions;
}

/** The definition called `name` (e.g. "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"). */
export function definitionByName(name: string): Definition | undefined {
  return load().byName.get(name);
}

/** The definition of a top-level kind, e.g. ("apps", "v1", "Deployment"); undefined for kinds outside the built-in schema. */
export function definitionFor(group: string, version: string, kind: string): Definition | undefined {
  return load().byGvk.get(gvkKey(group, version, kind));
}

/** The definition a `$ref` names; a dangling reference is a bug in the generated file. */
export function resolveRef(ref: string): SchemaNode {
  const definition = load().byName.get(ref);
  if (!definition) throw new Error(`schema: no definition ${ref}`);
  return definition.schema;
}

// ---------------------------------------------------------------------------
// A JSON tree that keeps what JSON.parse loses: duplicate keys, key order and
// number text. Its parser reports syntax errors with Go's encoding/json wording,
// since Kubernetes passes those messages to clients verbatim.

/** A parsed JSON value. Objects keep every entry in document order, duplicates included. */
export type JsonNode =
  | { readonly kind: 'object'; readonly entries: ReadonlyArray<readonly [string, JsonNode]> }
  | { readonly kind: 'array'; readonly items: readonly JsonNode[] }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'number'; readonly value: number; readonly raw: string }
  | { readonly kind: 'boolean'; readonly value: boolean }
  | { readonly kind: 'null' };

/** A malformed JSON text; the message is Go's (`invalid character 'x' after object key`, `unexpected end of JSON input`). */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonSyntaxError';
  }
}

const NULL_NODE: JsonNode = { kind: 'null' };
const TRUE_NODE: JsonNode = { kind: 'boolean', value: true };
const FALSE_NODE: JsonNode = { kind: 'boolean', value: false };

/** Parses JSON text into a tree, with Go's syntax error messages. */
export function parseJsonTree(text: string): JsonNode {
  return new JsonTreeParser(text).parseDocument();
}

class JsonTreeParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): JsonNode {
    this.skipSpace();
    const node = this.parseValue();
    this.skipSpace();
    if (this.pos < this.text.length) this.fail('after top-level value');
    return node;
  }

  private parseValue(): JsonNode {
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.parseObject();
      case 0x5b /* [ */:
        return this.parseArray();
      case 0x22 /* " */:
        return { kind: 'string', value: this.parseString() };
      case 0x74 /* t */:
        this.parseLiteral('true');
        return TRUE_NODE;
      case 0x66 /* f */:
        this.parseLiteral('false');
        return FALSE_NODE;
      case 0x6e /* n */:
        this.parseLiteral('null');
        return NULL_NODE;
      default:
        if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return this.fail('looking for beginning of value');
    }
  }

  private parseObject(): JsonNode {
    this.pos++; // {
    const entries: Array<readonly [string, JsonNode]> = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x7d /* } */) {
      this.pos++;
      return { kind: 'object', entries };
    }
    for (;;) {
      if (this.text.charCodeAt(this.pos) !== 0x22) this.fail('looking for beginning of object key string');
      const key = this.parseString();
      this.skipSpace();
      if (this.text.charCodeAt(this.pos) !== 0x3a /* : */) this.fail('after object key');
      this.pos++;
      this.skipSpace();
      entries.push([key, this.parseValue()]);
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c /* , */) {
        this.pos++;
        this.skipSpace();
        continue;
      }
      if (c === 0x7d /* } */) {
        this.pos++;
        return { kind: 'object', entries };
      }
      this.fail('after object key:value pair');
    }
  }

  private parseArray(): JsonNode {
    this.pos++; // [
    const items: JsonNode[] = [];
    this.skipSpace();
    if (this.text.charCodeAt(this.pos) === 0x5d /* ] */) {
      this.pos++;
      return { kind: 'array', items };
    }
    for (;;) {
      items.push(this.parseValue());
      this.skipSpace();
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        this.skipSpace();
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return { kind: 'array', items };
      }
      this.fail('after array element');
    }
  }

  private parseString(): string {
    const text = this.text;
    const start = ++this.pos; // opening quote
    let escaped = false;
    for (;;) {
      if (this.pos >= text.length) this.fail('in string literal');
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('in string literal');
      if (c === 0x5c /* \ */) {
        escaped = true;
        this.pos++;
        const e = text.charCodeAt(this.pos);
        if (e === 0x75 /* u */) {
          for (let i = 0; i < 4; i++) {
            this.pos++;
            if (!isHexDigit(text.charCodeAt(this.pos))) this.failInToken('in \\u hexadecimal character escape');
          }
        } else if (this.pos >= text.length || !'"\\/bfnrt'.includes(text[this.pos]!)) {
          this.failInToken('in string escape code');
        }
      }
      this.pos++;
    }
    const raw = text.slice(start, this.pos);
    this.pos++; // closing quote
    return escaped ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  private parseNumber(): JsonNode {
    const text = this.text;
    const start = this.pos;
    if (text.charCodeAt(this.pos) === 0x2d) {
      this.pos++;
      if (!isDigit(text.charCodeAt(this.pos))) this.failInToken('in numeric literal');
    }
    // A leading 0 ends the integer part; a following digit is then "after" the value, as in Go.
    if (text.charCodeAt(this.pos) === 0x30) this.pos++;
    else while (isDigit(text.charCodeAt(this.pos))) this.pos++;
    if (text.charCodeAt(this.pos) === 0x2e /* . */) {
      this.pos++;
      if (!isDigit(text.charCodeAt(this.pos))) this.failInToken('after decimal point in numeric literal');
      while (isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    const e = text.charCodeAt(this.pos);
    if (e === 0x65 || e === 0x45 /* e E */) {
      this.pos++;
      const sign = text.charCodeAt(this.pos);
      if (sign === 0x2b || sign === 0x2d) this.pos++;
      if (!isDigit(text.charCodeAt(this.pos))) this.failInToken('in exponent of numeric literal');
      while (isDigit(text.charCodeAt(this.pos))) this.pos++;
    }
    const raw = text.slice(start, this.pos);
    return { kind: 'number', value: Number(raw), raw };
  }

  private parseLiteral(word: string): void {
    for (let i = 1; i < word.length; i++) {
      this.pos++;
      if (this.text[this.pos] !== word[i]) this.failInToken(`in literal ${word} (expecting ${quoteChar(word.charCodeAt(i))})`);
    }
    this.pos++;
  }

  private skipSpace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.pos++;
      else return;
    }
  }

  /** Throws Go's message for the character at the current position (or end of input). */
  private fail(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError('unexpected end of JSON input', this.pos);
    throw new JsonSyntaxError(`invalid character ${quoteChar(this.text.charCodeAt(this.pos))} ${context}`, this.pos);
  }

  /**
   * Like fail, inside a token where Go's scanner, at the end of input, feeds a space
   * and reports that (`invalid character ' ' in literal true (expecting 'e')`).
   */
  private failInToken(context: string): never {
    if (this.pos >= this.text.length) throw new JsonSyntaxError(`invalid character ' ' ${context}`, this.pos);
    return this.fail(context);
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isHexDigit(c: number): boolean {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/**
 * Go's quoteChar for the byte at an error: Go's scanner works on UTF-8 bytes, so a
 * non-ASCII character is reported by its first byte read as a Latin-1 rune.
 */
function quoteChar(code: number): string {
  if (code === 0x27) return `'\\''`;
  if (code === 0x22) return `'"'`;
  let byte = code;
  if (code >= 0x80) {
    byte = code < 0x800 ? 0xc0 | (code >> 6) : code >= 0xd800 && code <= 0xdbff ? 0xf0 : 0xe0 | (code >> 12);
  }
  const quoted = goQuote(String.fromCharCode(byte));
  return `'${quoted.slice(1, -1)}'`;
}

/** Go's strconv.Quote (for the ASCII and Latin-1 range exactly; other text printed as is). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A plain JS value as a tree; `sortKeys` orders object keys as Go's json.Marshal of a map does. */
export function jsonTreeOf(value: unknown, sortKeys = false): JsonNode {
  if (value === null || value === undefined) return NULL_NODE;
  if (typeof value === 'string') return { kind: 'string', value };
  if (typeof value === 'number') return { kind: 'number', value, raw: String(value) };
  if (typeof value === 'boolean') return value ? TRUE_NODE : FALSE_NODE;
  if (Array.isArray(value)) return { kind: 'array', items: value.map((item) => jsonTreeOf(item, sortKeys)) };
  if (typeof value === 'object') {
    const keys = Object.keys(value);
    if (sortKeys) keys.sort(compareUtf8);
    const record = value as Record<string, unknown>;
    return { kind: 'object', entries: keys.filter((k) => record[k] !== undefined).map((k) => [k, jsonTreeOf(record[k], sortKeys)] as const) };
  }
  return NULL_NODE;
}

/** The plain value of a tree; a duplicate key keeps its last value, as Go does. */
export function jsonValueOf(node: JsonNode): unknown {
  switch (node.kind) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [key, child] of node.entries) setOwn(out, key, jsonValueOf(child));
      return out;
    }
    case 'array':
      return node.items.map(jsonValueOf);
    case 'null':
      return null;
    default:
      return node.value;
  }
}

/** Assigns even "__proto__" as an own property (plain assignment would set the prototype). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** Orders strings by their UTF-8 bytes (Go's string order), which differs from UTF-16 only around surrogates. */
function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

// ---------------------------------------------------------------------------
// Decoding a tree against a definition, the way kube-apiserver's strict decoder
// (sigs.k8s.io/json UnmarshalStrict into the Go type) does.

/** An unknown or duplicate field, with the path Kubernetes reports (`spec.containers[0].imagee`). */
export interface StrictFieldError {
  readonly kind: 'unknown' | 'duplicate';
  readonly path: string;
}

/** The decoder's wording: `unknown field "spec.foo"`, `duplicate field "metadata.name"`. */
export function strictFieldErrorMessage(error: StrictFieldError): string {
  return `${error.kind} field ${goQuote(error.path)}`;
}

/** What decoding a tree against a definition found. */
export interface TreeDecodeResult {
  /** The value with unknown fields dropped (and null struct fields, which Go decodes as absent). */
  readonly value: unknown;
  /** Unknown and duplicate fields in document order, deduplicated, at most 100 (as sigs.k8s.io/json). */
  readonly strictErrors: readonly StrictFieldError[];
  /**
   * A fatal decoding error in Go's words, e.g. `json: cannot unmarshal string into Go struct field
   * DeploymentSpec.spec.replicas of type int32`, or a Quantity syntax error. It wins over strict errors.
   */
  readonly error?: string;
}

/** Options of {@link decodeTree}. */
export interface TreeDecodeOptions {
  /** Report duplicate keys (needs a tree from the raw text; trees from plain values have none). */
  readonly duplicates?: boolean;
}

/** Any JSON, duplicate keys reported: the schema of unstructured content. */
const ANY_JSON: SchemaNode = Object.freeze({});

const MAX_STRICT_ERRORS = 100;
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/**
 * Decodes a tree as an object of kind `definition`; without a definition (custom
 * resources) any JSON is accepted and only duplicate keys are reported, as for
 * Kubernetes' unstructured objects.
 */
export function decodeTree(definition: Definition | undefined, tree: JsonNode, options: TreeDecodeOptions = {}): TreeDecodeResult {
  const decoder = new TreeDecoder(options.duplicates ?? true);
  let value: unknown;
  try {
    value = decoder.decode(definition?.schema ?? ANY_JSON, definition?.name, tree, '', { struct: '', fields: '' });
  } catch (err) {
    if (!(err instanceof AbortDecoding)) throw err;
    return { value: undefined, strictErrors: decoder.strictErrors, error: err.message };
  }
  return { value, strictErrors: decoder.strictErrors, error: decoder.typeError };
}

/**
 * The unknown and duplicate fields of an object of kind `definition`. Pass the raw JSON
 * text the value was parsed from to find duplicate keys (JSON.parse keeps only the last).
 */
export function findUnknownAndDuplicateFields(definition: Definition, value: unknown, rawJsonText?: string): StrictFieldError[] {
  const tree = rawJsonText === undefined ? jsonTreeOf(value) : parseJsonTree(rawJsonText);
  return [...decodeTree(definition, tree, { duplicates: rawJsonText !== undefined }).strictErrors];
}

/** Raised inside the decoder for errors that stop Go's decoding at once (custom unmarshalers). */
class AbortDecoding extends Error {}

/** Where a value sits for Go's type-error messages: the innermost struct and the struct-field path (no indices, no map keys). */
interface GoContext {
  readonly struct: string;
  readonly fields: string;
}

class TreeDecoder {
  readonly strictErrors: StrictFieldError[] = [];
  typeError: string | undefined;
  private readonly seen = new Set<string>();

  constructor(private readonly duplicates: boolean) {}

  /** Decodes `node` as `schema` (reached through definition `refName`, if any) at strict path `path`. */
  decode(schema: SchemaNode, refName: string | undefined, node: JsonNode, path: string, ctx: GoContext): unknown {
    if (schema.$ref !== undefined) return this.decode(resolveRef(schema.$ref), schema.$ref, node, path, ctx);
    if (schema === ANY_JSON) return this.decodeAny(node, path);
    if (schema['x-kubernetes-preserve-unknown-fields']) return jsonValueOf(node);
    if (node.kind === 'null') return null;
    if (schema.oneOf) return this.decodeUnion(refName, node, ctx);
    switch (schema.type) {
      case 'string':
        // A named string type (metav1.Time) has a custom unmarshaler that decodes into a Go string and stops on error.
        if (node.kind !== 'string') this.mismatch(node, refName ? 'string' : goTypeName(schema), ctx, refName !== undefined);
        return jsonValueOf(node);
      case 'boolean':
        if (node.kind !== 'boolean') this.mismatch(node, 'bool', ctx);
        return jsonValueOf(node);
      case 'number':
        if (node.kind !== 'number') this.mismatch(node, 'float64', ctx);
        return jsonValueOf(node);
      case 'integer':
        if (node.kind !== 'number' || !isGoInteger(node.raw)) this.mismatch(node, goTypeName(schema), ctx, false, 64);
        return jsonValueOf(node);
      case 'array':
        return this.decodeArray(schema, refName, node, path, ctx);
      case 'object':
      case undefined:
        return schema.properties || !schema.additionalProperties
          ? this.decodeStruct(schema, refName, node, path, ctx)
          : this.decodeMap(schema, refName, node, path, ctx);
    }
  }

  private decodeStruct(schema: SchemaNode, refName: string | undefined, node: JsonNode, path: string, ctx: GoContext): unknown {
    if (node.kind !== 'object') {
      this.mismatch(node, goTypeName(schema, refName), ctx);
      return undefined;
    }
    const properties = schema.properties ?? {};
    const structName = refName ? refName.slice(refName.lastIndexOf('.') + 1) : '';
    const out: Record<string, unknown> = {};
    const seenFields = new Set<string>();
    for (const [key, child] of node.entries) {
      const childPath = path ? `${path}.${key}` : key;
      const property = Object.prototype.hasOwnProperty.call(properties, key) ? properties[key] : undefined;
      if (!property) {
        this.strict('unknown', childPath);
        continue;
      }
      if (this.duplicates) {
        if (seenFields.has(key)) this.strict('duplicate', childPath);
        else seenFields.add(key);
      }
      const value = this.decode(property, undefined, child, childPath, {
        struct: structName,
        fields: ctx.fields ? `${ctx.fields}.${key}` : key,
      });
      // Go decodes null into a struct field as "absent".
      if (value === null || value === undefined) delete out[key];
      else setOwn(out, key, value);
    }
    return out;
  }

  private decodeMap(schema: SchemaNode, refName: string | undefined, node: JsonNode, path: string, ctx: GoContext): unknown {
    if (node.kind !== 'object') {
      this.mismatch(node, goTypeName(schema, refName), ctx);
      return undefined;
    }
    const valueSchema = schema.additionalProperties!;
    const out: Record<string, unknown> = {};
    const seenKeys = this.duplicates ? new Set<string>() : undefined;
    for (const [key, child] of node.entries) {
      const childPath = path ? `${path}.${key}` : key;
      if (seenKeys) {
        if (seenKeys.has(key)) this.strict('duplicate', childPath);
        else seenKeys.add(key);
      }
      setOwn(out, key, this.decode(valueSchema, undefined, child, childPath, ctx));
    }
    return out;
  }

  private decodeArray(schema: SchemaNode, refName: string | undefined, node: JsonNode, path: string, ctx: GoContext): unknown {
    if (node.kind !== 'array') {
      this.mismatch(node, goTypeName(schema, refName), ctx);
      return undefined;
    }
    const itemSchema = schema.items ?? ANY_JSON;
    return node.items.map((item, i) => this.decode(itemSchema, undefined, item, `${path}[${i}]`, ctx));
  }

  /** Unstructured content: every object is a map, so only duplicate keys can be reported. */
  private decodeAny(node: JsonNode, path: string): unknown {
    if (node.kind === 'array') return node.items.map((item, i) => this.decodeAny(item, `${path}[${i}]`));
    if (node.kind !== 'object') return jsonValueOf(node);
    const out: Record<string, unknown> = {};
    const seenKeys = new Set<string>();
    for (const [key, child] of node.entries) {
      const childPath = path ? `${path}.${key}` : key;
      if (this.duplicates) {
        if (seenKeys.has(key)) this.strict('duplicate', childPath);
        else seenKeys.add(key);
      }
      setOwn(out, key, this.decodeAny(child, childPath));
    }
    return out;
  }

  /**
   * Union types have custom Go unmarshalers. IntOrString and Quantity are checked as
   * Kubernetes does (errors stop decoding); the others take their value as is.
   */
  private decodeUnion(refName: string | undefined, node: JsonNode, ctx: GoContext): unknown {
    if (refName === INT_OR_STRING && node.kind !== 'string') {
      // intstr.UnmarshalJSON decodes a non-string into an int32.
      if (node.kind !== 'number' || !isGoInteger(node.raw, 32)) this.mismatch(node, 'int32', ctx, true, 32);
    } else if (refName === QUANTITY) {
      const problem = quantitySyntaxError(node.kind === 'string' ? node.value : rawText(node));
      if (problem) throw new AbortDecoding(problem);
    }
    return jsonValueOf(node);
  }

  /**
   * Records Go's UnmarshalTypeError (the first one wins); one from a custom unmarshaler
   * stops decoding. `intBits` is set when the Go target is an integer.
   */
  private mismatch(node: JsonNode, goType: string, ctx: GoContext, abort = false, intBits?: 32 | 64): void {
    const message = typeErrorMessage(describeJson(node, intBits), goType, ctx);
    if (abort) throw new AbortDecoding(message);
    this.typeError ??= message;
  }

  private strict(kind: StrictFieldError['kind'], path: string): void {
    if (this.strictErrors.length >= MAX_STRICT_ERRORS) return;
    const key = `${kind}\0${path}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.strictErrors.push({ kind, path });
  }
}

/** Whether Go's strconv.ParseInt accepts the number text (no fraction or exponent, in range). */
function isGoInteger(raw: string, bits: 32 | 64 = 64): boolean {
  if (!/^-?\d+$/.test(raw)) return false;
  const n = BigInt(raw);
  const limit = bits === 32 ? 2n ** 31n : 2n ** 63n;
  return n >= -limit && n < limit;
}

/** How Go's decoder names a JSON value in a type error: "string", "number", "number 1.5", "bool", "array", "object". */
function describeJson(node: JsonNode, intBits: 32 | 64 | undefined): string {
  switch (node.kind) {
    case 'string':
      return 'string';
    case 'number':
      // A number that does not parse as the target integer is named with its text.
      return intBits !== undefined && !isGoInteger(node.raw, intBits) ? `number ${node.raw}` : 'number';
    case 'boolean':
      return 'bool';
    case 'array':
      return 'array';
    case 'object':
      return 'object';
    case 'null':
      return 'null';
  }
}

function typeErrorMessage(what: string, goType: string, ctx: GoContext): string {
  if (!ctx.struct && !ctx.fields) return `json: cannot unmarshal ${what} into Go value of type ${goType}`;
  return `json: cannot unmarshal ${what} into Go struct field ${ctx.struct}.${ctx.fields} of type ${goType}`;
}

/** The Go type of a schema for messages: "string", "int32", "[]v1.Container", "map[string]string", "v1.PodSpec". */
function goTypeName(schema: SchemaNode, refName?: string): string {
  if (refName) {
    const parts = refName.split('.');
    return `${parts[parts.length - 2]}.${parts[parts.length - 1]}`;
  }
  if (schema.$ref) return goTypeName(resolveRef(schema.$ref), schema.$ref);
  switch (schema.type) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'number':
      return 'float64';
    case 'integer':
      // kubernetes-types does not say which width; int32 is by far the most common in the API.
      return schema.format === 'int64' ? 'int64' : 'int32';
    case 'array':
      return `[]${goTypeName(schema.items ?? {})}`;
    default:
      if (schema.additionalProperties) return `map[string]${goTypeName(schema.additionalProperties)}`;
      return 'interface {}';
  }
}

/** The JSON text of a non-string node, as a custom Go unmarshaler receives it. */
function rawText(node: JsonNode): string {
  if (node.kind === 'number') return node.raw;
  return JSON.stringify(jsonValueOf(node));
}

/** Quantity syntax as resource.ParseQuantity checks it; undefined when valid. */
export function quantitySyntaxError(text: string): string | undefined {
  const formatWrong = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
  const match = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/.exec(text);
  if (!match) return formatWrong;
  const numeric = match[1]!.replace(/^[+-]/, '');
  if (!/^(\d+\.?\d*|\.\d+)$/.test(numeric)) return 'unable to parse numeric part of quantity';
  const suffix = match[2]!;
  const known = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'n', 'u', 'm', 'k', 'M', 'G', 'T', 'P', 'E'];
  if (!known.includes(suffix) && !/^[eE][+-]?\d+$/.test(suffix)) return "unable to parse quantity's suffix";
  return undefined;
}
