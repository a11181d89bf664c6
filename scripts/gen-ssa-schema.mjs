// Generates src/apimachinery/managedfields/generated/ssa-schema.json: the structured-merge-diff
// view of every built-in type (which lists are associative and by which keys, which are sets,
// which structs and maps are atomic), as server-side apply and managedFields need it.
//
// Source: the schema YAML that client-go's applyconfiguration-gen embeds in
// applyconfigurations/internal/internal.go (the same one kube-apiserver derives from its
// OpenAPI), plus src/api/generated/schema.json for the Go zero value of each struct (which
// fields a typed Go object always carries: value structs as {}, required fields as null/zero).
// The output is committed, so builds never need to run this.
//
// Usage: node scripts/gen-ssa-schema.mjs <path to client-go applyconfigurations/internal/internal.go> [source label]
//   e.g. git -C client-go show v0.32.13:applyconfigurations/internal/internal.go > /tmp/internal.go
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'src', 'apimachinery', 'managedfields', 'generated', 'ssa-schema.json');
const [input, label = 'k8s.io/client-go v0.32.13 applyconfigurations/internal/internal.go'] = process.argv.slice(2);
if (!input) {
  console.error('usage: node scripts/gen-ssa-schema.mjs <internal.go> [source label]');
  process.exit(2);
}

const goSource = readFileSync(input, 'utf8');
const match = /typed\.YAMLObject\(`([\s\S]*?)`\)/.exec(goSource);
if (!match) throw new Error('no schemaYAML literal found');
const smd = parse(match[1]);
const openapi = JSON.parse(readFileSync(join(root, 'src', 'api', 'generated', 'schema.json'), 'utf8')).definitions;

/** Compact type reference: a named type as its name, an inline atom as an object. */
function typeRef(ref) {
  const out = ref.namedType !== undefined ? { n: ref.namedType } : atom(ref);
  if (ref.elementRelationship !== undefined && ref.namedType !== undefined) out.r = ref.elementRelationship;
  return out.n !== undefined && out.r === undefined ? out.n : out;
}

function atom(def) {
  const out = {};
  if (def.scalar !== undefined) out.s = def.scalar;
  if (def.list !== undefined) {
    const l = { e: typeRef(def.list.elementType) };
    if (def.list.elementRelationship && def.list.elementRelationship !== 'atomic') l.r = def.list.elementRelationship;
    if (def.list.keys) l.k = def.list.keys;
    out.l = l;
  }
  if (def.map !== undefined) {
    const m = {};
    if (def.map.fields) m.f = def.map.fields.map((f) => field(def, f));
    if (def.map.elementType) m.e = typeRef(def.map.elementType);
    if (def.map.elementRelationship === 'atomic') m.a = 1;
    out.m = m;
  }
  return out;
}

let currentType = '';

/** [name, type, extras]: extras.d = schema default (list-map key defaults), extras.z = Go zero value. */
function field(_def, f) {
  const extras = {};
  if (f.default !== undefined && !(typeof f.default === 'object' && f.default !== null)) extras.d = f.default;
  const zero = zeroOf(currentType, f);
  if (zero !== undefined) extras.z = zero;
  const entry = [f.name, typeRef(f.type)];
  if (Object.keys(extras).length) entry.push(extras);
  return entry;
}

/**
 * What a Go object of this struct carries for the field when nobody set it: a value struct
 * (default {}) is an empty object, a field without omitempty (OpenAPI "required") is null or
 * the scalar zero; ObjectMeta.creationTimestamp is a non-pointer Time, i.e. null.
 */
function zeroOf(typeName, f) {
  if (f.default !== undefined && typeof f.default === 'object' && f.default !== null && !Array.isArray(f.default)) return {};
  if (typeName === 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' && f.name === 'creationTimestamp') return null;
  const def = openapi[typeName];
  if (!def?.required?.includes(f.name)) return undefined;
  const scalar = f.type.scalar;
  if (scalar === 'string') return '';
  if (scalar === 'numeric') return 0;
  if (scalar === 'boolean') return false;
  return null;
}

const types = {};
for (const def of smd.types) {
  currentType = def.name;
  types[def.name] = atom(def);
}

mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, JSON.stringify({ source: label, types }) + '\n');
console.log(`wrote ${outFile}: ${Object.keys(types).length} types`);
