/**
 * Kubernetes protobuf (`application/vnd.kubernetes.protobuf`) ⇄ the JSON form of an object.
 *
 * Wire layout: the 4 magic bytes `k8s\0`, then a runtime.Unknown message
 * {1 typeMeta {1 apiVersion, 2 kind}, 2 raw (the object's own message), 3 contentEncoding,
 * 4 contentType}. The object's message layout comes from messages.json, generated from
 * Kubernetes' generated.proto files and Go struct tags by scripts/gen-protobuf.mjs.
 *
 * The decoded JSON is what a Go client would have sent as JSON for the same Go struct: Go's
 * encoding/json rules decide what appears — a non-pointer `omitempty` field holding its zero
 * value is left out (Go's protobuf encoder writes every non-pointer field, even empty ones),
 * a pointer field present on the wire is kept even when zero (`replicas: 0`), a non-pointer
 * struct is always written (`spec: {}`, `creationTimestamp: null`), a nil slice or map without
 * omitempty is `null`. Encoding follows Go's protobuf encoder the same way, so a body decoded
 * and encoded again is byte-identical to what the Go client sent.
 */
import { readFileSync } from 'node:fs';
import { ProtoReader, ProtoWriter, ProtobufDecodeError, WireType } from './wire.js';
import { GO_ZERO_TIME_SECONDS, formatGoDuration, formatGoTime, parseGoDuration, parseGoTime } from './gotypes.js';

export { ProtobufDecodeError } from './wire.js';

/** The media type of Kubernetes protobuf bodies. */
export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/** The 4 bytes every Kubernetes protobuf body starts with. */
export const PROTOBUF_MAGIC: Readonly<Uint8Array> = Uint8Array.from([0x6b, 0x38, 0x73, 0x00]);

/** A JSON object (the decoded form of a Kubernetes object). */
export type JsonObject = Record<string, unknown>;

/** An object decoded from a protobuf body, with its apiVersion and kind. */
export interface DecodedObject {
  apiVersion: string;
  kind: string;
  /** The JSON form, `apiVersion` and `kind` set. */
  object: JsonObject;
}

/** The object cannot be written as protobuf (no message for its kind, or a value of the wrong type). */
export class ProtobufEncodeError extends Error {
  override name = 'ProtobufEncodeError';
}

// ---------------------------------------------------------------------------------------------
// The message table

/** How a message's JSON differs from a plain object of its fields. */
type Special = 'quantity' | 'intOrString' | 'time' | 'microTime' | 'duration' | 'rawExtension' | 'fieldsV1' | 'list';

interface FieldSpec {
  number: number;
  json: string;
  /** Scalar type name, or a message's full name; for maps, the value type. */
  type: string;
  scalar: boolean;
  /** Map key type (always a scalar in Kubernetes: string). */
  mapKey?: string;
  repeated: boolean;
  pointer: boolean;
  omitempty: boolean;
  inline: boolean;
  /** `json:"-"`: on the wire, not in JSON (only inside the special messages). */
  hidden: boolean;
}

interface MessageSpec {
  name: string;
  fields: FieldSpec[];
  byNumber: Map<number, FieldSpec>;
  special?: Special;
  /** JSON names of the message's own (non-inline) fields: they win over inlined ones, as in Go. */
  ownNames: Set<string>;
}

interface MessageTable {
  kinds: Record<string, Record<string, string>>;
  lists: string[];
  messages: Record<string, Array<[number, string, string, string]>>;
}

const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
const SPECIALS: Record<string, Special> = {
  'k8s.io.apimachinery.pkg.api.resource.Quantity': 'quantity',
  'k8s.io.apimachinery.pkg.api.resource.QuantityValue': 'quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString': 'intOrString',
  [`${META}.Time`]: 'time',
  [`${META}.MicroTime`]: 'microTime',
  [`${META}.Duration`]: 'duration',
  [`${META}.FieldsV1`]: 'fieldsV1',
  'k8s.io.apimachinery.pkg.runtime.RawExtension': 'rawExtension',
};

/** Kinds metav1.AddToGroupVersion registers in every group version (Go's scheme does the same). */
const META_KINDS_IN_EVERY_VERSION = new Set(['WatchEvent', 'ListOptions', 'GetOptions', 'DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions']);
/** Kinds registered once as unversioned `v1` (Status is what error bodies carry). */
const META_UNVERSIONED_KINDS = new Set(['Status', 'APIVersions', 'APIGroupList', 'APIGroup', 'APIResourceList']);

const SCALARS = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'float', 'double', 'string', 'bytes']);

// messages.json sits next to this file in src/; the build (dist/) does not copy it.
const TABLE_LOCATIONS = ['./messages.json', '../../../../src/api/protobuf/messages.json'];

let table: { kinds: MessageTable['kinds']; messages: Map<string, MessageSpec> } | undefined;

function loadTable(): NonNullable<typeof table> {
  if (table) return table;
  let raw: MessageTable | undefined;
  for (const location of TABLE_LOCATIONS) {
    try {
      raw = JSON.parse(readFileSync(new URL(location, import.meta.url), 'utf8')) as MessageTable;
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (!raw) throw new Error('src/api/protobuf/messages.json not found; run node scripts/gen-protobuf.mjs');
  const lists = new Set(raw.lists);
  const messages = new Map<string, MessageSpec>();
  for (const [name, rows] of Object.entries(raw.messages)) {
    const fields = rows.map(([number, json, type, flags]): FieldSpec => {
      const map = /^map<([^,]+),(.+)>$/.exec(type);
      const valueType = map ? map[2]! : type;
      return {
        number,
        json,
        type: valueType,
        scalar: SCALARS.has(valueType),
        mapKey: map ? map[1] : undefined,
        repeated: flags.includes('r'),
        pointer: flags.includes('p'),
        omitempty: flags.includes('o'),
        inline: flags.includes('i'),
        hidden: flags.includes('x'),
      };
    });
    messages.set(name, {
      name,
      fields,
      byNumber: new Map(fields.map((f) => [f.number, f])),
      special: SPECIALS[name] ?? (lists.has(name) ? 'list' : undefined),
      ownNames: new Set(fields.filter((f) => !f.inline && !f.hidden).map((f) => f.json)),
    });
  }
  table = { kinds: raw.kinds, messages };
  return table;
}

function messageSpec(name: string): MessageSpec {
  const spec = loadTable().messages.get(name);
  if (!spec) throw new Error(`protobuf table has no message ${name}`); // a generator bug, not bad input
  return spec;
}

/** The full protobuf message name for apiVersion/kind, or undefined when Pilote has none. */
export function protobufMessageName(apiVersion: string, kind: string): string | undefined {
  const { kinds } = loadTable();
  const direct = kinds[apiVersion]?.[kind];
  if (direct) return direct;
  if (META_KINDS_IN_EVERY_VERSION.has(kind) || (apiVersion === 'v1' && META_UNVERSIONED_KINDS.has(kind))) {
    // WatchEvent has no TypeMeta in Go, so it is not among the table's kinds.
    return kinds['meta.k8s.io/v1']?.[kind] ?? (loadTable().messages.has(`${META}.${kind}`) ? `${META}.${kind}` : undefined);
  }
  return undefined;
}

/** Whether objects of apiVersion/kind can be encoded as protobuf (for content negotiation). */
export function hasProtobufForm(apiVersion: string, kind: string): boolean {
  return protobufMessageName(apiVersion, kind) !== undefined;
}

/** Whether a Content-Type (or Accept entry) names Kubernetes protobuf, parameters aside. */
export function isProtobufContentType(contentType: string | undefined): boolean {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === PROTOBUF_CONTENT_TYPE;
}

// ---------------------------------------------------------------------------------------------
// Decoding

const MAX_DEPTH = 100;

/**
 * Decodes a Kubernetes protobuf body (magic + runtime.Unknown envelope) into the object's JSON
 * form, `apiVersion` and `kind` set.
 * @throws ProtobufDecodeError on a malformed body or a kind without a known message.
 */
export function decodeProtobufObject(body: Uint8Array): DecodedObject {
  return decodeEnvelope(body, 0);
}

function decodeEnvelope(body: Uint8Array, depth: number): DecodedObject {
  if (body.length < PROTOBUF_MAGIC.length || PROTOBUF_MAGIC.some((b, i) => body[i] !== b)) {
    throw new ProtobufDecodeError('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  }
  const reader = new ProtoReader(body, PROTOBUF_MAGIC.length);
  let apiVersion = '';
  let kind = '';
  let raw: Uint8Array | undefined;
  let contentEncoding = '';
  let contentType = '';
  while (!reader.done) {
    const { field, wireType } = reader.readTag();
    if (field >= 1 && field <= 4 && wireType !== WireType.LengthDelimited) {
      throw new ProtobufDecodeError(`runtime.Unknown field ${field}: wire type ${wireType}, expected 2 (length-delimited)`);
    }
    if (field === 1) {
      const { start, end } = reader.readLengthDelimited();
      const typeMeta = new ProtoReader(body, start, end);
      while (!typeMeta.done) {
        const tag = typeMeta.readTag();
        if ((tag.field === 1 || tag.field === 2) && tag.wireType !== WireType.LengthDelimited) {
          throw new ProtobufDecodeError(`runtime.TypeMeta field ${tag.field}: wire type ${tag.wireType}, expected 2 (length-delimited)`);
        }
        if (tag.field === 1) apiVersion = typeMeta.readString();
        else if (tag.field === 2) kind = typeMeta.readString();
        else typeMeta.skip(tag.wireType);
      }
    } else if (field === 2) raw = reader.readBytes();
    else if (field === 3) contentEncoding = reader.readString();
    else if (field === 4) contentType = reader.readString();
    else reader.skip(wireType);
  }
  if (contentEncoding !== '') throw new ProtobufDecodeError(`unsupported content encoding "${contentEncoding}"`);
  if (contentType !== '' && !isProtobufContentType(contentType)) throw new ProtobufDecodeError(`unsupported embedded content type "${contentType}"`);
  if (kind === '') throw new ProtobufDecodeError('Object \'Kind\' is missing in the protobuf envelope');
  const name = protobufMessageName(apiVersion, kind);
  if (!name) throw new ProtobufDecodeError(`no kind "${kind}" is registered for version "${apiVersion}"`);
  const value = decodeMessage(messageSpec(name), raw ?? new Uint8Array(0), 0, raw?.length ?? 0, depth);
  const object: JsonObject = { kind, apiVersion, ...(value as JsonObject) };
  return { apiVersion, kind, object };
}

/** Expected wire type of a scalar (packed repeated scalars also arrive as length-delimited). */
function scalarWireType(type: string): number {
  switch (type) {
    case 'string':
    case 'bytes':
      return WireType.LengthDelimited;
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return WireType.Fixed64;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return WireType.Fixed32;
    default:
      return WireType.Varint;
  }
}

function readScalar(reader: ProtoReader, type: string): unknown {
  switch (type) {
    case 'string':
      return reader.readString();
    case 'bytes':
      return Buffer.from(reader.readBytes()).toString('base64');
    case 'bool':
      return reader.readBool();
    case 'int32':
      return reader.readInt32();
    case 'int64':
      return reader.readInt64();
    case 'uint32':
      return Number(BigInt.asUintN(32, reader.readVarintBig()));
    case 'uint64':
      return reader.readUint64();
    case 'sint32':
    case 'sint64': {
      const v = reader.readVarintBig();
      return Number((v >> 1n) ^ -(v & 1n));
    }
    case 'double':
      return reader.readFixed64().getFloat64(0, true);
    case 'float':
      return reader.readFixed32().getFloat32(0, true);
    case 'fixed32':
      return reader.readFixed32().getUint32(0, true);
    case 'sfixed32':
      return reader.readFixed32().getInt32(0, true);
    case 'fixed64':
      return Number(reader.readFixed64().getBigUint64(0, true));
    case 'sfixed64':
      return Number(reader.readFixed64().getBigInt64(0, true));
    default:
      throw new Error(`unknown scalar type ${type}`);
  }
}

const WIRE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

/** What one field collected on the wire. */
type Collected = { chunks: Array<[number, number]> } | { values: unknown[] } | { map: Map<string, unknown> };

function decodeMessage(spec: MessageSpec, buf: Uint8Array, start: number, end: number, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`messages nested deeper than ${MAX_DEPTH} levels`);
  if (spec.special) return decodeSpecial(spec, buf, start, end, depth);
  const reader = new ProtoReader(buf, start, end);
  const seen = new Map<number, Collected>();
  while (!reader.done) {
    const { field, wireType } = reader.readTag();
    const f = spec.byNumber.get(field);
    if (!f) {
      reader.skip(wireType); // unknown fields are skipped, as Go's generated code does
      continue;
    }
    if (f.mapKey !== undefined) {
      if (wireType !== WireType.LengthDelimited) throw wrongWireType(fieldName(spec, f), wireType, WireType.LengthDelimited);
      const entry = reader.readLengthDelimited();
      let collected = seen.get(field) as { map: Map<string, unknown> } | undefined;
      if (!collected) seen.set(field, (collected = { map: new Map() }));
      const [key, value] = decodeMapEntry(spec, f, buf, entry.start, entry.end, depth);
      collected.map.set(key, value);
      continue;
    }
    if (f.scalar) {
      const expected = scalarWireType(f.type);
      let collected = seen.get(field) as { values: unknown[] } | undefined;
      if (!collected) seen.set(field, (collected = { values: [] }));
      if (wireType === expected) {
        collected.values.push(readScalar(reader, f.type));
      } else if (f.repeated && wireType === WireType.LengthDelimited && expected !== WireType.LengthDelimited) {
        // packed repeated scalars
        const packed = reader.readLengthDelimited();
        const inner = new ProtoReader(buf, packed.start, packed.end);
        while (!inner.done) collected.values.push(readScalar(inner, f.type));
      } else {
        throw wrongWireType(fieldName(spec, f), wireType, expected);
      }
      continue;
    }
    if (wireType !== WireType.LengthDelimited) throw wrongWireType(fieldName(spec, f), wireType, WireType.LengthDelimited);
    const range = reader.readLengthDelimited();
    let collected = seen.get(field) as { chunks: Array<[number, number]> } | undefined;
    if (!collected) seen.set(field, (collected = { chunks: [] }));
    collected.chunks.push([range.start, range.end]);
  }

  const out: JsonObject = {};
  for (const f of spec.fields) {
    if (f.hidden) continue;
    const collected = seen.get(f.number);
    if (f.inline) {
      if (!collected && f.pointer) continue;
      const inner = decodeMessageField(f, buf, collected as { chunks: Array<[number, number]> } | undefined, depth);
      if (inner && typeof inner === 'object') {
        for (const [k, v] of Object.entries(inner)) if (!spec.ownNames.has(k)) out[k] = v;
      }
      continue;
    }
    const value = collected ? presentValue(f, buf, collected, depth) : absentValue(f);
    if (value !== undefined) out[f.json] = value;
  }
  return out;
}

/** `<message>.<json name>` for error messages (inlined fields have no JSON name: their type's). */
function fieldName(spec: MessageSpec, f: FieldSpec): string {
  return `${spec.name}.${f.json || f.type.slice(f.type.lastIndexOf('.') + 1)}`;
}

function wrongWireType(where: string, got: number, expected: number): ProtobufDecodeError {
  return new ProtobufDecodeError(`${where}: wrong wire type ${got} (${WIRE_NAMES[got] ?? 'invalid'}), expected ${expected} (${WIRE_NAMES[expected]})`);
}

function decodeMapEntry(spec: MessageSpec, f: FieldSpec, buf: Uint8Array, start: number, end: number, depth: number): [string, unknown] {
  const reader = new ProtoReader(buf, start, end);
  let key: unknown;
  let value: unknown;
  let valueChunk: [number, number] | undefined;
  while (!reader.done) {
    const { field, wireType } = reader.readTag();
    if (field === 1) {
      const expected = scalarWireType(f.mapKey!);
      if (wireType !== expected) throw wrongWireType(`${fieldName(spec, f)} (map key)`, wireType, expected);
      key = readScalar(reader, f.mapKey!);
    } else if (field === 2) {
      const expected = f.scalar ? scalarWireType(f.type) : WireType.LengthDelimited;
      if (wireType !== expected) throw wrongWireType(`${fieldName(spec, f)}[${String(key ?? '')}]`, wireType, expected);
      if (f.scalar) value = readScalar(reader, f.type);
      else {
        const r = reader.readLengthDelimited();
        valueChunk = [r.start, r.end];
      }
    } else reader.skip(wireType);
  }
  if (!f.scalar) value = decodeMessage(messageSpec(f.type), buf, valueChunk?.[0] ?? 0, valueChunk?.[1] ?? 0, depth + 1);
  else if (value === undefined) value = f.type === 'bytes' ? '' : zeroScalar(f.type);
  return [String(key ?? (f.mapKey === 'string' ? '' : 0)), value];
}

/** A message-typed field's value: its chunks merged (repeated occurrences concatenate, as in protobuf). */
function decodeMessageField(f: FieldSpec, buf: Uint8Array, collected: { chunks: Array<[number, number]> } | undefined, depth: number): unknown {
  const spec = messageSpec(f.type);
  const chunks = collected?.chunks ?? [];
  if (chunks.length <= 1) return decodeMessage(spec, buf, chunks[0]?.[0] ?? 0, chunks[0]?.[1] ?? 0, depth + 1);
  const merged = Buffer.concat(chunks.map(([s, e]) => buf.subarray(s, e)));
  return decodeMessage(spec, merged, 0, merged.length, depth + 1);
}

function presentValue(f: FieldSpec, buf: Uint8Array, collected: Collected, depth: number): unknown {
  if ('map' in collected) {
    if (f.omitempty && collected.map.size === 0) return undefined;
    return Object.fromEntries(collected.map);
  }
  if (f.repeated) {
    // An empty packed run leaves Go's slice nil.
    if ('values' in collected) return collected.values.length > 0 ? collected.values : absentValue(f);
    const spec = messageSpec(f.type);
    return (collected as { chunks: Array<[number, number]> }).chunks.map(([s, e]) => decodeMessage(spec, buf, s, e, depth + 1));
  }
  let value: unknown;
  if ('values' in collected) value = collected.values[collected.values.length - 1];
  else value = decodeMessageField(f, buf, collected, depth);
  if (f.pointer || !f.omitempty) return value;
  return isGoEmpty(f, value) ? undefined : value;
}

/** Go encoding/json's omitempty test for a non-pointer value. */
function isGoEmpty(f: FieldSpec, value: unknown): boolean {
  if (f.scalar) return value === '' || value === 0 || value === false;
  // Structs are never empty to encoding/json; named slices (ExtraValue, Verbs) are when empty.
  return Array.isArray(value) && value.length === 0;
}

function zeroScalar(type: string): unknown {
  if (type === 'string') return '';
  if (type === 'bool') return false;
  return 0;
}

/** The JSON of a field absent from the wire: Go's zero value, under Go's omitempty rules. */
function absentValue(f: FieldSpec): unknown {
  if (f.pointer || f.repeated || f.mapKey !== undefined || f.type === 'bytes') return f.omitempty ? undefined : null;
  if (f.scalar) return f.omitempty ? undefined : zeroScalar(f.type);
  const spec = messageSpec(f.type);
  if (spec.special === 'list') return f.omitempty ? undefined : null;
  return decodeMessage(spec, new Uint8Array(0), 0, 0, 0);
}

/** Reads the single-field messages with custom JSON (Quantity, Time, IntOrString, …). */
function decodeSpecial(spec: MessageSpec, buf: Uint8Array, start: number, end: number, depth: number): unknown {
  const reader = new ProtoReader(buf, start, end);
  const values = new Map<number, unknown>();
  const items: unknown[] = [];
  while (!reader.done) {
    const { field, wireType } = reader.readTag();
    const f = spec.byNumber.get(field);
    if (!f) {
      reader.skip(wireType);
      continue;
    }
    const expected = scalarWireType(f.type);
    if (wireType !== expected) {
      if (f.repeated && wireType === WireType.LengthDelimited) {
        const packed = reader.readLengthDelimited();
        const inner = new ProtoReader(buf, packed.start, packed.end);
        while (!inner.done) items.push(readScalar(inner, f.type));
        continue;
      }
      throw wrongWireType(`${spec.name}.${f.json}`, wireType, expected);
    }
    // bytes are kept raw here (RawExtension, FieldsV1 carry JSON, not base64)
    const value = f.type === 'bytes' ? reader.readBytes() : readScalar(reader, f.type);
    if (f.repeated) items.push(value);
    else values.set(field, value);
  }
  switch (spec.special) {
    case 'quantity': {
      const text = values.get(1);
      if (text === undefined) return '0';
      if (text === '') throw new ProtobufDecodeError(`${spec.name}: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`);
      return text;
    }
    case 'intOrString': {
      const type = (values.get(1) as number | undefined) ?? 0;
      if (type === 0) return (values.get(2) as number | undefined) ?? 0;
      if (type === 1) return (values.get(3) as string | undefined) ?? '';
      throw new ProtobufDecodeError(`${spec.name}: impossible IntOrString.Type ${type}`);
    }
    case 'time':
    case 'microTime': {
      if (start === end) return null;
      const seconds = (values.get(1) as number | undefined) ?? 0;
      const nanos = spec.special === 'microTime' ? ((values.get(2) as number | undefined) ?? 0) : 0;
      if (nanos < 0 || nanos > 999_999_999) throw new ProtobufDecodeError(`${spec.name}: nanos ${nanos} out of range`);
      if (seconds === GO_ZERO_TIME_SECONDS && nanos < 1000) return null;
      const text = formatGoTime(seconds, nanos, spec.special === 'microTime');
      if (text === undefined) throw new ProtobufDecodeError(`${spec.name}: year outside of range [0,9999] (seconds ${seconds})`);
      return text;
    }
    case 'duration': {
      reader.pos = start; // re-read exactly: int64 nanoseconds exceed 2^53 past ~104 days
      let ns = 0n;
      while (!reader.done) {
        const { field, wireType } = reader.readTag();
        if (field === 1 && wireType === WireType.Varint) ns = BigInt.asIntN(64, reader.readVarintBig());
        else reader.skip(wireType);
      }
      return formatGoDuration(ns);
    }
    case 'rawExtension':
    case 'fieldsV1': {
      const raw = values.get(1) as Uint8Array | undefined;
      if (!raw || raw.length === 0) return null;
      return decodeEmbedded(spec.name, raw, depth);
    }
    case 'list':
      return items;
    default:
      throw new Error(`unhandled special message ${spec.name}`);
  }
}

/** RawExtension/FieldsV1 bytes: JSON, or (inside protobuf watch events and lists) a nested protobuf object. */
function decodeEmbedded(where: string, raw: Uint8Array, depth: number): unknown {
  if (raw.length >= 4 && PROTOBUF_MAGIC.every((b, i) => raw[i] === b)) {
    if (depth > MAX_DEPTH) throw new ProtobufDecodeError(`objects nested deeper than ${MAX_DEPTH} levels`);
    return decodeEnvelope(raw, depth + 1).object;
  }
  try {
    return JSON.parse(Buffer.from(raw).toString('utf8')) as unknown;
  } catch {
    throw new ProtobufDecodeError(`${where}: embedded bytes are neither JSON nor a protobuf object`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Encodes an object's JSON form as a Kubernetes protobuf body (magic + runtime.Unknown
 * envelope), for clients that accept only `application/vnd.kubernetes.protobuf`. Keys the
 * message does not know (including `apiVersion` and `kind`, which go into the envelope) are
 * ignored. Fields are written as Go's generated encoder writes them.
 * @throws ProtobufEncodeError when apiVersion/kind has no message, or a value has the wrong type.
 */
export function encodeProtobufObject(object: JsonObject, apiVersion: string, kind: string): Buffer {
  const name = protobufMessageName(apiVersion, kind);
  if (!name) throw new ProtobufEncodeError(`no protobuf message for kind "${kind}" in version "${apiVersion}"`);
  const raw = new ProtoWriter(1024);
  encodeMessage(messageSpec(name), object, raw, kind, 0);
  const typeMeta = new ProtoWriter(64);
  typeMeta.tag(1, WireType.LengthDelimited).string(apiVersion);
  typeMeta.tag(2, WireType.LengthDelimited).string(kind);
  const out = new ProtoWriter(raw.length + 64);
  out.tag(1, WireType.LengthDelimited).bytes(typeMeta.finish());
  out.tag(2, WireType.LengthDelimited).bytes(raw.finish());
  out.tag(3, WireType.LengthDelimited).string('');
  out.tag(4, WireType.LengthDelimited).string('');
  const body = out.finish();
  const result = Buffer.allocUnsafe(PROTOBUF_MAGIC.length + body.length);
  result.set(PROTOBUF_MAGIC, 0);
  result.set(body, PROTOBUF_MAGIC.length);
  return result;
}

function typeError(path: string, expected: string, value: unknown): ProtobufEncodeError {
  return new ProtobufEncodeError(`${path}: expected ${expected}, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encodeMessage(spec: MessageSpec, value: unknown, w: ProtoWriter, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new ProtobufEncodeError(`${path}: nested deeper than ${MAX_DEPTH} levels`);
  if (spec.special) {
    encodeSpecial(spec, value, w, path);
    return;
  }
  if (value !== null && value !== undefined && !isObject(value)) throw typeError(path, 'object', value);
  const obj = (value ?? {}) as JsonObject;
  for (const f of spec.fields) {
    if (f.hidden) continue;
    const fieldPath = f.inline ? path : `${path}.${f.json}`;
    const v = f.inline ? obj : obj[f.json];
    if (f.mapKey !== undefined) {
      if (v === undefined || v === null) continue;
      if (!isObject(v)) throw typeError(fieldPath, 'object', v);
      // Go's encoder sorts map keys (sort.Strings: byte order, which code-unit order matches for BMP text).
      for (const key of Object.keys(v).sort()) {
        const entry = new ProtoWriter(64);
        entry.tag(1, WireType.LengthDelimited).string(key);
        const item = v[key];
        if (f.scalar) {
          if (f.type === 'bytes' && (item === null || item === undefined)) {
            // Go writes no value for a nil []byte
          } else writeScalarField(entry, 2, f.type, item ?? zeroScalar(f.type), `${fieldPath}[${key}]`);
        } else {
          const nested = new ProtoWriter(64);
          encodeMessage(messageSpec(f.type), item, nested, `${fieldPath}[${key}]`, depth + 1);
          entry.tag(2, WireType.LengthDelimited).bytes(nested.finish());
        }
        w.tag(f.number, WireType.LengthDelimited).bytes(entry.finish());
      }
      continue;
    }
    if (f.repeated) {
      if (v === undefined || v === null) continue;
      if (!Array.isArray(v)) throw typeError(fieldPath, 'array', v);
      v.forEach((item, i) => {
        if (f.scalar) writeScalarField(w, f.number, f.type, item ?? zeroScalar(f.type), `${fieldPath}[${i}]`);
        else writeMessageField(w, f.number, messageSpec(f.type), item, `${fieldPath}[${i}]`, depth);
      });
      continue;
    }
    if (f.scalar) {
      if (v === undefined || v === null) {
        // Go writes every non-pointer scalar, even a zero one; nil pointers and nil []byte not at all.
        if (f.pointer || f.type === 'bytes') continue;
        writeScalarField(w, f.number, f.type, zeroScalar(f.type), fieldPath);
      } else writeScalarField(w, f.number, f.type, v, fieldPath);
      continue;
    }
    const nestedSpec = messageSpec(f.type);
    if ((v === undefined || v === null) && (f.pointer || nestedSpec.special === 'list')) continue;
    writeMessageField(w, f.number, nestedSpec, v, fieldPath, depth);
  }
}

function writeMessageField(w: ProtoWriter, number: number, spec: MessageSpec, value: unknown, path: string, depth: number): void {
  const nested = new ProtoWriter(128);
  encodeMessage(spec, value, nested, path, depth + 1);
  w.tag(number, WireType.LengthDelimited).bytes(nested.finish());
}

const INT_RANGES: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  sint32: [-(2 ** 31), 2 ** 31 - 1],
  sfixed32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  fixed32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sint64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
  fixed64: [0, Number.MAX_SAFE_INTEGER],
};

function writeScalarField(w: ProtoWriter, number: number, type: string, value: unknown, path: string): void {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw typeError(path, 'string', value);
      w.tag(number, WireType.LengthDelimited).string(value);
      return;
    case 'bytes': {
      if (typeof value !== 'string') throw typeError(path, 'base64 string', value);
      w.tag(number, WireType.LengthDelimited).bytes(Buffer.from(value, 'base64'));
      return;
    }
    case 'bool':
      if (typeof value !== 'boolean') throw typeError(path, 'boolean', value);
      w.tag(number, WireType.Varint).varint(value ? 1 : 0);
      return;
    case 'double':
    case 'float':
      if (typeof value !== 'number') throw typeError(path, 'number', value);
      if (type === 'double') w.tag(number, WireType.Fixed64).double(value);
      else w.tag(number, WireType.Fixed32).float(value);
      return;
  }
  const range = INT_RANGES[type];
  if (!range) throw new Error(`unknown scalar type ${type}`);
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(path, `integer (${type})`, value);
  if (value < range[0] || value > range[1]) throw new ProtobufEncodeError(`${path}: ${value} is out of range for ${type}`);
  switch (type) {
    case 'sint32':
    case 'sint64':
      w.tag(number, WireType.Varint).varint(value >= 0 ? value * 2 : -value * 2 - 1);
      return;
    case 'fixed32':
    case 'sfixed32':
      w.tag(number, WireType.Fixed32).fixed32(value);
      return;
    case 'fixed64':
    case 'sfixed64':
      w.tag(number, WireType.Fixed64).fixed64(value);
      return;
    default:
      w.tag(number, WireType.Varint).signedVarint(value);
  }
}

function encodeSpecial(spec: MessageSpec, value: unknown, w: ProtoWriter, path: string): void {
  switch (spec.special) {
    case 'quantity': {
      if (value === undefined || value === null) value = '0';
      if (typeof value === 'number') value = String(value);
      if (typeof value !== 'string') throw typeError(path, 'quantity string', value);
      w.tag(1, WireType.LengthDelimited).string(value);
      return;
    }
    case 'intOrString': {
      // Go writes all three fields of the non-pointer struct.
      const text = typeof value === 'string' ? value : undefined;
      const int = typeof value === 'number' ? value : 0;
      if (value !== undefined && value !== null && text === undefined && !Number.isInteger(value)) {
        throw typeError(path, 'integer or string', value);
      }
      if (int < INT_RANGES.int32![0] || int > INT_RANGES.int32![1]) throw new ProtobufEncodeError(`${path}: ${int} is out of range for int32`);
      w.tag(1, WireType.Varint).varint(text === undefined ? 0 : 1);
      w.tag(2, WireType.Varint).signedVarint(text === undefined ? int : 0);
      w.tag(3, WireType.LengthDelimited).string(text ?? '');
      return;
    }
    case 'time':
    case 'microTime': {
      if (value === undefined || value === null) return; // the zero time is an empty message
      if (typeof value !== 'string') throw typeError(path, 'RFC 3339 time string', value);
      const t = parseGoTime(value);
      if (!t) throw new ProtobufEncodeError(`${path}: "${value}" is not an RFC 3339 time`);
      w.tag(1, WireType.Varint).signedVarint(t.seconds);
      // metav1.Time keeps whole seconds only; MicroTime keeps microseconds.
      w.tag(2, WireType.Varint).varint(spec.special === 'microTime' ? Math.floor(t.nanos / 1000) * 1000 : 0);
      return;
    }
    case 'duration': {
      let ns = 0n;
      if (value !== undefined && value !== null) {
        if (typeof value !== 'string') throw typeError(path, 'duration string', value);
        const parsed = parseGoDuration(value);
        if (parsed === undefined) throw new ProtobufEncodeError(`${path}: "${value}" is not a duration`);
        ns = parsed;
      }
      w.tag(1, WireType.Varint).signedVarint(ns);
      return;
    }
    case 'rawExtension':
    case 'fieldsV1': {
      if (value === undefined || value === null) return;
      w.tag(1, WireType.LengthDelimited).bytes(Buffer.from(JSON.stringify(value), 'utf8'));
      return;
    }
    case 'list': {
      if (value === undefined || value === null) return;
      if (!Array.isArray(value)) throw typeError(path, 'array', value);
      const item = spec.fields[0]!;
      value.forEach((v, i) => writeScalarField(w, item.number, item.type, v, `${path}[${i}]`));
      return;
    }
    default:
      throw new Error(`unhandled special message ${spec.name}`);
  }
}
