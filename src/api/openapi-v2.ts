/**
 * The OpenAPI v2 (Swagger 2.0) document a Kubernetes API server serves at
 * `GET /openapi/v2`, in JSON and in the protobuf form kubectl asks for.
 *
 * kubectl up to 1.28 computes `apply` patches from it (the `x-kubernetes-patch-strategy`
 * / `x-kubernetes-patch-merge-key` of each field, the PATCH `consumes` of each kind),
 * and every kubectl ≥ 1.27 still loads it before `apply`, `create -f`, `edit` and
 * `explain` (client-side validation schema, `--output plaintext-openapiv2`). Those
 * clients ask only for `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`
 * and unmarshal the body as gnostic's `openapi.v2.Document` message: JSON is not an
 * option for them. (Without the endpoint, kubectl 1.27 fails every `apply` with
 * `the server could not find the requested resource`.)
 *
 * The document is the union of the per-group-version OpenAPI v3 documents
 * (openapi.ts), converted the way kube-apiserver's v2 differs from its v3: `#/definitions/`
 * references with their description beside the `$ref` instead of `allOf`, parameters
 * typed in place, request bodies as `in: body` parameters, `consumes`/`produces` lists,
 * and the union types (IntOrString, Quantity) as strings.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { openapiV3Document, openapiV3Index, type OpenAPIResource } from './openapi.js';
import { ProtoWriter, WireType } from './protobuf/wire.js';

type Json = Record<string, unknown>;

/** The served forms of one v2 document, computed once per resource set. */
export interface OpenAPIV2Spec {
  readonly document: Json;
  /** The JSON text. */
  readonly json: Buffer;
  /** The gnostic `openapi.v2.Document` protobuf encoding. */
  readonly protobuf: Buffer;
  /** Uppercase hex SHA-512 of the JSON text, as kube-apiserver's ETag. */
  readonly etag: string;
  /** Gzipped bodies, made on first use. */
  gzipped(form: 'json' | 'protobuf'): Buffer;
}

const cache = new Map<string, OpenAPIV2Spec>();
const CACHED_SPECS = 4;

/** The `GET /openapi/v2` document (and its encodings) for these resources. */
export function openapiV2Spec(resources: readonly OpenAPIResource[]): OpenAPIV2Spec {
  const key = JSON.stringify(resources);
  const cached = cache.get(key);
  if (cached) return cached;
  const document = buildV2Document(resources);
  const json = Buffer.from(JSON.stringify(document));
  const protobuf = encodeDocument(document);
  const zipped: Partial<Record<'json' | 'protobuf', Buffer>> = {};
  const spec: OpenAPIV2Spec = {
    document,
    json,
    protobuf,
    etag: createHash('sha512').update(json).digest('hex').toUpperCase(),
    gzipped: (form) => (zipped[form] ??= gzipSync(form === 'json' ? json : protobuf)),
  };
  if (cache.size >= CACHED_SPECS) cache.delete(cache.keys().next().value!);
  cache.set(key, spec);
  return spec;
}

/** The Swagger 2.0 document for these resources. */
export function openapiV2Document(resources: readonly OpenAPIResource[]): Json {
  return openapiV2Spec(resources).document;
}

// ---------------------------------------------------------------------------
// Content negotiation (kube-openapi's handler)

/** Media types of /openapi/v2, and what each answers with. */
const V2_MEDIA: ReadonlyArray<{ type: string; subtype: string; form: 'json' | 'protobuf'; contentType: string }> = [
  { type: 'application', subtype: 'json', form: 'json', contentType: 'application/json' },
  {
    type: 'application',
    subtype: 'com.github.proto-openapi.spec.v2@v1.0+protobuf',
    form: 'protobuf',
    contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
  },
  {
    type: 'application',
    subtype: 'com.github.proto-openapi.spec.v2.v1.0+protobuf',
    form: 'protobuf',
    contentType: 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf',
  },
];

/**
 * Picks the form for an Accept header as kube-openapi does: clauses by quality, then
 * by specificity; the first of JSON, protobuf that a clause allows. Undefined = 406.
 */
export function negotiateOpenAPIV2(accept: string | undefined): { form: 'json' | 'protobuf'; contentType: string } | undefined {
  const clauses = (accept?.trim() ? accept : '*/*')
    .split(',')
    .map((raw, index) => {
      const [range = '', ...params] = raw.split(';').map((s) => s.trim());
      const [type = '', subtype = ''] = range.split('/');
      let q = 1;
      for (const param of params) {
        const [name, value] = param.split('=').map((s) => s.trim());
        if (name === 'q' && value !== undefined) q = Number(value);
      }
      return { type, subtype, q: Number.isFinite(q) ? q : 0, index };
    })
    .filter((c) => c.type && c.subtype && c.q > 0)
    .sort((a, b) => b.q - a.q || specificity(b) - specificity(a) || a.index - b.index);
  for (const clause of clauses) {
    for (const media of V2_MEDIA) {
      if ((clause.type === media.type || clause.type === '*') && (clause.subtype === media.subtype || clause.subtype === '*')) {
        return { form: media.form, contentType: media.contentType };
      }
    }
  }
  return undefined;
}

function specificity(clause: { type: string; subtype: string }): number {
  return (clause.type !== '*' ? 2 : 0) + (clause.subtype !== '*' ? 1 : 0);
}

// ---------------------------------------------------------------------------
// v3 → v2

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function buildV2Document(resources: readonly OpenAPIResource[]): Json {
  const paths: Record<string, Json> = {};
  const definitions: Record<string, Json> = {};
  for (const groupVersion of Object.keys(openapiV3Index(resources).paths)) {
    const v3 = openapiV3Document(groupVersion, resources);
    if (!v3) continue;
    for (const [path, item] of Object.entries(v3.paths as Record<string, Json>)) paths[path] = convertPathItem(item);
    const schemas = (v3.components as { schemas?: Record<string, Json> } | undefined)?.schemas ?? {};
    for (const [name, schema] of Object.entries(schemas)) definitions[name] ??= convertDefinition(name, schema);
  }
  return {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: sortKeys(paths),
    definitions: sortKeys(definitions),
    securityDefinitions: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    security: [{ BearerToken: [] }],
  };
}

function convertPathItem(item: Json): Json {
  const out: Json = {};
  for (const method of METHODS) {
    const operation = item[method] as Json | undefined;
    if (operation) out[method] = convertOperation(operation);
  }
  if (Array.isArray(item.parameters)) out.parameters = (item.parameters as Json[]).map(convertParameter);
  return out;
}

function convertOperation(op: Json): Json {
  const out: Json = {};
  const requestBody = op.requestBody as { content?: Record<string, { schema?: Json }>; required?: boolean } | undefined;
  if (requestBody?.content) out.consumes = Object.keys(requestBody.content);
  if (op.description !== undefined) out.description = op.description;
  if (op.operationId !== undefined) out.operationId = op.operationId;
  const parameters: Json[] = [];
  if (requestBody?.content) {
    const schema = Object.values(requestBody.content)[0]?.schema ?? {};
    const body: Json = { in: 'body', name: 'body', schema: convertSchema(schema) };
    if (requestBody.required) body.required = true;
    parameters.push(body);
  }
  for (const parameter of (op.parameters as Json[] | undefined) ?? []) parameters.push(convertParameter(parameter));
  if (parameters.length > 0) out.parameters = parameters;
  const produces = new Set<string>();
  const responses: Json = {};
  for (const [code, response] of Object.entries((op.responses as Record<string, Json> | undefined) ?? {})) {
    const converted: Json = { description: response.description ?? '' };
    const content = response.content as Record<string, { schema?: Json }> | undefined;
    if (content) {
      for (const media of Object.keys(content)) produces.add(media);
      const schema = Object.values(content)[0]?.schema;
      if (schema) converted.schema = convertSchema(schema);
    }
    responses[code] = converted;
  }
  if (produces.size > 0) out.produces = [...produces];
  out.responses = responses;
  out.schemes = ['https'];
  if (op.tags !== undefined) out.tags = op.tags;
  for (const [key, value] of Object.entries(op)) if (key.startsWith('x-')) out[key] = value;
  return out;
}

/** A v3 parameter (`schema: {type}`) as v2 writes it (`type` in place). */
function convertParameter(parameter: Json): Json {
  const { schema, ...rest } = parameter as Json & { schema?: Json };
  return sortKeys({ ...rest, ...(schema ?? {}) });
}

/** A named definition; the union types become what Swagger 2.0 can say about them. */
function convertDefinition(name: string, schema: Json): Json {
  if (name === INT_OR_STRING) return sortKeys({ description: schema.description, format: 'int-or-string', type: 'string' });
  if (name === QUANTITY) return sortKeys({ description: schema.description, type: 'string' });
  return convertSchema(schema);
}

/** Keywords of OpenAPI 3 schemas that Swagger 2.0 has no place for. */
const V3_ONLY = new Set(['oneOf', 'anyOf', 'not', 'nullable', 'writeOnly', 'deprecated']);

/**
 * A v3 schema node in v2 form. `allOf: [{$ref}]` with siblings becomes a `$ref` with
 * those siblings (the description and patch extensions kubectl reads); a `$ref` never
 * carries a type or properties, and an array always has items, since kubectl's v2
 * model parser rejects anything else.
 */
function convertSchema(node: Json): Json {
  const out: Json = {};
  const allOf = node.allOf as Json[] | undefined;
  const ref = (node.$ref as string | undefined) ?? (allOf?.length === 1 ? (allOf[0]!.$ref as string | undefined) : undefined);
  for (const [key, value] of Object.entries(node)) {
    if (V3_ONLY.has(key) || key === '$ref') continue;
    switch (key) {
      case 'allOf':
        if (!ref) out.allOf = (value as Json[]).map(convertSchema);
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, convertSchema(v)]));
        break;
      case 'items':
        out.items = Array.isArray(value) ? (value as Json[]).map(convertSchema) : convertSchema(value as Json);
        break;
      case 'additionalProperties':
        out.additionalProperties = typeof value === 'boolean' ? value : convertSchema(value as Json);
        break;
      default:
        out[key] = value;
    }
  }
  if (ref) {
    out.$ref = ref.startsWith(V3_REF) ? V2_REF + ref.slice(V3_REF.length) : ref;
    delete out.type;
    delete out.properties;
    delete out.items;
    delete out.additionalProperties;
  }
  if (out.type === 'array' && out.items === undefined) delete out.type;
  return sortKeys(out);
}

function sortKeys<T extends Json>(obj: T): T {
  const out: Json = {};
  for (const key of Object.keys(obj).sort()) if (obj[key] !== undefined) out[key] = obj[key];
  return out as T;
}

// ---------------------------------------------------------------------------
// Protobuf: gnostic's openapi.v2 messages (github.com/google/gnostic-models, OpenAPIv2.proto).
// Only the fields a Kubernetes document uses are written; field numbers are the proto's.

type Writer = ProtoWriter;

function message(w: Writer, field: number, build: (child: Writer) => void): void {
  const child = new ProtoWriter();
  build(child);
  w.tag(field, WireType.LengthDelimited).bytes(child.finish());
}

function str(w: Writer, field: number, value: unknown): void {
  if (typeof value === 'string' && value !== '') w.tag(field, WireType.LengthDelimited).string(value);
}

function strings(w: Writer, field: number, value: unknown): void {
  for (const item of toArray(value)) if (typeof item === 'string') w.tag(field, WireType.LengthDelimited).string(item);
}

function bool(w: Writer, field: number, value: unknown): void {
  if (value === true) w.tag(field, WireType.Varint).varint(1);
}

function int64(w: Writer, field: number, value: unknown): void {
  if (typeof value === 'number' && value !== 0) w.tag(field, WireType.Varint).signedVarint(Math.trunc(value));
}

function double(w: Writer, field: number, value: unknown): void {
  if (typeof value === 'number' && value !== 0) w.tag(field, WireType.Fixed64).double(value);
}

function toArray(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * `Any { string yaml = 2; }`: a free-form value as YAML text. JSON is YAML, and every
 * reader of these fields (kube-openapi's VendorExtensionToMap, kubectl's GetConsumes)
 * parses them with a YAML decoder, so the value is written as its JSON text.
 */
function any(w: Writer, field: number, value: unknown): void {
  message(w, field, (a) => str(a, 2, JSON.stringify(value)));
}

/** `repeated NamedAny vendor_extension`: the `x-` keys of an object. */
function vendorExtensions(w: Writer, field: number, obj: Json): void {
  for (const [name, value] of Object.entries(obj)) {
    if (!name.startsWith('x-') || value === undefined) continue;
    message(w, field, (named) => {
      str(named, 1, name);
      any(named, 2, value);
    });
  }
}

function encodeDocument(doc: Json): Buffer {
  const w = new ProtoWriter(1 << 20);
  str(w, 1, doc.swagger);
  const info = doc.info as Json | undefined;
  if (info) {
    message(w, 2, (m) => {
      str(m, 1, info.title);
      str(m, 2, info.version);
      str(m, 3, info.description);
      vendorExtensions(m, 7, info);
    });
  }
  str(w, 3, doc.host);
  str(w, 4, doc.basePath);
  strings(w, 5, doc.schemes);
  strings(w, 6, doc.consumes);
  strings(w, 7, doc.produces);
  const paths = doc.paths as Record<string, Json> | undefined;
  if (paths) {
    message(w, 8, (m) => {
      vendorExtensions(m, 1, paths);
      for (const [path, item] of Object.entries(paths)) {
        if (path.startsWith('x-')) continue;
        message(m, 2, (named) => {
          str(named, 1, path);
          message(named, 2, (p) => encodePathItem(p, item));
        });
      }
    });
  }
  const definitions = doc.definitions as Record<string, Json> | undefined;
  if (definitions) message(w, 9, (m) => namedSchemas(m, 1, definitions));
  for (const requirement of (doc.security as Array<Record<string, string[]>> | undefined) ?? []) {
    message(w, 12, (m) => securityRequirement(m, requirement));
  }
  const securityDefinitions = doc.securityDefinitions as Record<string, Json> | undefined;
  if (securityDefinitions) {
    message(w, 13, (m) => {
      for (const [name, definition] of Object.entries(securityDefinitions)) {
        message(m, 1, (named) => {
          str(named, 1, name);
          message(named, 2, (item) => securityDefinition(item, definition));
        });
      }
    });
  }
  vendorExtensions(w, 16, doc);
  return Buffer.from(w.finish());
}

function securityRequirement(w: Writer, requirement: Record<string, string[]>): void {
  for (const [name, scopes] of Object.entries(requirement)) {
    message(w, 1, (named) => {
      str(named, 1, name);
      message(named, 2, (array) => strings(array, 1, scopes));
    });
  }
}

/** `SecurityDefinitionsItem`: only the kinds Kubernetes uses (API key, basic). */
function securityDefinition(w: Writer, definition: Json): void {
  if (definition.type === 'apiKey') {
    message(w, 2, (m) => {
      str(m, 1, definition.type);
      str(m, 2, definition.name);
      str(m, 3, definition.in);
      str(m, 4, definition.description);
      vendorExtensions(m, 5, definition);
    });
  } else if (definition.type === 'basic') {
    message(w, 1, (m) => {
      str(m, 1, definition.type);
      str(m, 2, definition.description);
      vendorExtensions(m, 3, definition);
    });
  }
}

function encodePathItem(w: Writer, item: Json): void {
  str(w, 1, item.$ref);
  METHODS.forEach((method, i) => {
    const operation = item[method] as Json | undefined;
    if (operation) message(w, i + 2, (m) => encodeOperation(m, operation));
  });
  for (const parameter of (item.parameters as Json[] | undefined) ?? []) message(w, 9, (m) => parametersItem(m, parameter));
  vendorExtensions(w, 10, item);
}

function encodeOperation(w: Writer, op: Json): void {
  strings(w, 1, op.tags);
  str(w, 2, op.summary);
  str(w, 3, op.description);
  str(w, 5, op.operationId);
  strings(w, 6, op.produces);
  strings(w, 7, op.consumes);
  for (const parameter of (op.parameters as Json[] | undefined) ?? []) message(w, 8, (m) => parametersItem(m, parameter));
  const responses = op.responses as Record<string, Json> | undefined;
  if (responses) {
    message(w, 9, (m) => {
      for (const [code, response] of Object.entries(responses)) {
        if (code.startsWith('x-')) continue;
        message(m, 1, (named) => {
          str(named, 1, code);
          // ResponseValue { Response response = 1; } → Response { description = 1; SchemaItem schema = 2; }
          message(named, 2, (value) =>
            message(value, 1, (r) => {
              str(r, 1, response.description);
              const schema = response.schema as Json | undefined;
              if (schema) message(r, 2, (item) => message(item, 1, (s) => encodeSchema(s, schema)));
              vendorExtensions(r, 5, response);
            }),
          );
        });
      }
      vendorExtensions(m, 2, responses);
    });
  }
  strings(w, 10, op.schemes);
  bool(w, 11, op.deprecated);
  vendorExtensions(w, 13, op);
}

/** `ParametersItem { Parameter parameter = 1; }` → body or non-body parameter. */
function parametersItem(w: Writer, parameter: Json): void {
  message(w, 1, (p) => {
    if (parameter.in === 'body') {
      message(p, 1, (body) => {
        str(body, 1, parameter.description);
        str(body, 2, parameter.name);
        str(body, 3, parameter.in);
        bool(body, 4, parameter.required);
        if (parameter.schema) message(body, 5, (s) => encodeSchema(s, parameter.schema as Json));
        vendorExtensions(body, 6, parameter);
      });
      return;
    }
    // NonBodyParameter: header = 1, formData = 2, query = 3, path = 4.
    const kinds: Record<string, number> = { header: 1, formData: 2, query: 3, path: 4 };
    const which = kinds[String(parameter.in)];
    if (!which) return;
    message(p, 2, (nonBody) => message(nonBody, which, (m) => nonBodyParameter(m, parameter, which)));
  });
}

/**
 * The header/formData/query/path sub-schemas share their leading fields; query and
 * formData have `allow_empty_value` at 5, which shifts the rest by one.
 */
function nonBodyParameter(w: Writer, parameter: Json, kind: number): void {
  bool(w, 1, parameter.required);
  str(w, 2, parameter.in);
  str(w, 3, parameter.description);
  str(w, 4, parameter.name);
  const shift = kind === 2 || kind === 3 ? 1 : 0;
  if (shift) bool(w, 5, parameter.allowEmptyValue);
  str(w, 5 + shift, parameter.type);
  str(w, 6 + shift, parameter.format);
  str(w, 8 + shift, parameter.collectionFormat);
  if (parameter.default !== undefined) any(w, 9 + shift, parameter.default);
  bool(w, 19 + shift, parameter.uniqueItems);
  for (const value of toArray(parameter.enum)) any(w, 20 + shift, value);
  vendorExtensions(w, 22 + shift, parameter);
}

function namedSchemas(w: Writer, field: number, schemas: Record<string, Json>): void {
  for (const [name, schema] of Object.entries(schemas)) {
    message(w, field, (named) => {
      str(named, 1, name);
      message(named, 2, (s) => encodeSchema(s, schema));
    });
  }
}

function encodeSchema(w: Writer, schema: Json): void {
  str(w, 1, schema.$ref);
  str(w, 2, schema.format);
  str(w, 3, schema.title);
  str(w, 4, schema.description);
  if (schema.default !== undefined) any(w, 5, schema.default);
  double(w, 6, schema.multipleOf);
  double(w, 7, schema.maximum);
  bool(w, 8, schema.exclusiveMaximum);
  double(w, 9, schema.minimum);
  bool(w, 10, schema.exclusiveMinimum);
  int64(w, 11, schema.maxLength);
  int64(w, 12, schema.minLength);
  str(w, 13, schema.pattern);
  int64(w, 14, schema.maxItems);
  int64(w, 15, schema.minItems);
  bool(w, 16, schema.uniqueItems);
  int64(w, 17, schema.maxProperties);
  int64(w, 18, schema.minProperties);
  strings(w, 19, schema.required);
  for (const value of toArray(schema.enum)) any(w, 20, value);
  const additional = schema.additionalProperties;
  if (typeof additional === 'boolean') message(w, 21, (m) => m.tag(2, WireType.Varint).varint(additional ? 1 : 0));
  else if (additional && typeof additional === 'object') message(w, 21, (m) => message(m, 1, (s) => encodeSchema(s, additional as Json)));
  if (schema.type !== undefined) message(w, 22, (m) => strings(m, 1, schema.type));
  if (schema.items !== undefined) message(w, 23, (m) => toArray(schema.items).forEach((item) => message(m, 1, (s) => encodeSchema(s, item as Json))));
  for (const item of (schema.allOf as Json[] | undefined) ?? []) message(w, 24, (s) => encodeSchema(s, item));
  const properties = schema.properties as Record<string, Json> | undefined;
  if (properties) message(w, 25, (m) => namedSchemas(m, 1, properties));
  str(w, 26, schema.discriminator);
  bool(w, 27, schema.readOnly);
  if (schema.example !== undefined) any(w, 30, schema.example);
  vendorExtensions(w, 31, schema);
}
