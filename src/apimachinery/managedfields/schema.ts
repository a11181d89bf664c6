/**
 * The structured-merge-diff view of the built-in types: for every type, whether
 * it is a scalar, a list (atomic, a set, or a map keyed by some fields) or a
 * map/struct (granular or atomic). Server-side apply and managedFields walk
 * objects with it. Loaded once from generated/ssa-schema.json
 * (scripts/gen-ssa-schema.mjs), the schema client-go embeds for apply
 * configurations, i.e. what kube-apiserver derives from its OpenAPI.
 */
import { readFileSync } from 'node:fs';
import { definitionFor } from '../../api/schema.js';

export type ScalarKind = 'string' | 'numeric' | 'boolean' | 'untyped';

/** A field of a struct. */
export interface StructField {
  readonly name: string;
  readonly type: Atom;
  /** The schema default, when it is a scalar (used for missing list-map keys, e.g. protocol: TCP). */
  readonly keyDefault?: unknown;
  /**
   * What a typed Go object holds for this field when nobody set it, when it
   * serializes at all: `{}` for value structs, null or a scalar zero for fields
   * without omitempty. Absent (undefined) for omitted fields.
   */
  readonly zero?: unknown;
}

export interface MapAtom {
  /** Struct fields; absent for plain maps (labels, data…). */
  readonly fields?: ReadonlyMap<string, StructField>;
  /** Type of map values (and of undeclared keys); absent for closed structs. */
  readonly elementType?: Atom;
  /** Atomic maps/structs are owned and replaced as a whole. */
  readonly atomic: boolean;
  /** The fields that have a zero value, for comparing as typed Go objects do. */
  readonly zeroFields: readonly StructField[];
}

export interface ListAtom {
  readonly elementType: Atom;
  /** Associative lists merge item by item: by `keys`, or as a set of scalars when there are none. */
  readonly associative: boolean;
  readonly keys?: readonly string[];
}

/** One schema type: usually one of scalar/list/map; deduced (untyped) types have all three. */
export interface Atom {
  readonly name?: string;
  readonly scalar?: ScalarKind;
  readonly list?: ListAtom;
  readonly map?: MapAtom;
}

type RawRef = string | (RawAtom & { n?: string; r?: string });
interface RawAtom {
  s?: ScalarKind;
  l?: { e: RawRef; r?: string; k?: string[] };
  m?: { f?: Array<[string, RawRef] | [string, RawRef, { d?: unknown; z?: unknown }]>; e?: RawRef; a?: 1 };
}

interface SchemaFile {
  source: string;
  types: Record<string, RawAtom>;
}

/** The generated file sits next to the sources; from dist/src/apimachinery/managedfields it is four levels up. */
const LOCATIONS = ['./generated/ssa-schema.json', '../../../../src/apimachinery/managedfields/generated/ssa-schema.json'];

/** Deduced type: anything goes, maps are granular, lists atomic (objects of unknown kinds, RawExtension…). */
export const DEDUCED_TYPE = '__untyped_deduced_';

class LoadedSchema {
  private readonly atoms = new Map<string, Atom & Record<string, unknown>>();
  private readonly overrides: Array<{ target: Record<string, unknown>; name: string; relationship: string }> = [];

  constructor(file: SchemaFile) {
    for (const name of Object.keys(file.types)) this.atoms.set(name, { name });
    for (const [name, raw] of Object.entries(file.types)) Object.assign(this.atoms.get(name)!, this.build(raw));
    // A field may override the relationship of the type it names (e.g. a granular ObjectReference).
    for (const { target, name, relationship } of this.overrides) {
      const base = this.atoms.get(name)!;
      Object.assign(target, base, { name: `${name}(${relationship})` });
      if (base.map) target.map = { ...base.map, atomic: relationship === 'atomic' };
      if (base.list) target.list = { ...base.list, associative: relationship === 'associative' };
    }
  }

  atom(name: string): Atom | undefined {
    return this.atoms.get(name);
  }

  private ref(raw: RawRef): Atom {
    if (typeof raw === 'string') return this.named(raw);
    if (raw.n !== undefined) {
      if (raw.r === undefined) return this.named(raw.n);
      const target: Record<string, unknown> = {};
      this.overrides.push({ target, name: raw.n, relationship: raw.r });
      return target as Atom;
    }
    return this.build(raw);
  }

  private named(name: string): Atom {
    const atom = this.atoms.get(name);
    if (!atom) throw new Error(`ssa schema: no type ${name}`);
    return atom;
  }

  private build(raw: RawAtom): Atom {
    const atom: { scalar?: ScalarKind; list?: ListAtom; map?: MapAtom } = {};
    if (raw.s) atom.scalar = raw.s;
    if (raw.l) atom.list = { elementType: this.ref(raw.l.e), associative: raw.l.r === 'associative', ...(raw.l.k ? { keys: raw.l.k } : {}) };
    if (raw.m) {
      let fields: Map<string, StructField> | undefined;
      const zeroFields: StructField[] = [];
      if (raw.m.f) {
        fields = new Map();
        for (const [name, type, extras] of raw.m.f) {
          const field: { name: string; type: Atom; keyDefault?: unknown; zero?: unknown } = { name, type: this.ref(type) };
          if (extras && 'd' in extras) field.keyDefault = extras.d;
          if (extras && 'z' in extras) {
            field.zero = extras.z;
            zeroFields.push(field);
          }
          fields.set(name, field);
        }
      }
      atom.map = { fields, elementType: raw.m.e !== undefined ? this.ref(raw.m.e) : undefined, atomic: raw.m.a === 1, zeroFields };
    }
    return atom;
  }
}

let loaded: LoadedSchema | undefined;

function load(): LoadedSchema {
  if (loaded) return loaded;
  let text: string | undefined;
  for (const location of LOCATIONS) {
    try {
      text = readFileSync(new URL(location, import.meta.url), 'utf8');
      break;
    } catch {
      // try the next location
    }
  }
  if (text === undefined) throw new Error('src/apimachinery/managedfields/generated/ssa-schema.json not found; run node scripts/gen-ssa-schema.mjs');
  loaded = new LoadedSchema(JSON.parse(text) as SchemaFile);
  return loaded;
}

/** A named type of the schema (e.g. "io.k8s.api.core.v1.PodSpec"). */
export function namedAtom(name: string): Atom | undefined {
  return load().atom(name);
}

/** The deduced type, used for kinds the schema does not know. */
export function deducedAtom(): Atom {
  return load().atom(DEDUCED_TYPE)!;
}

const byKind = new Map<string, Atom>();

/** The root type of a kind, e.g. ("apps", "v1", "Deployment"); the deduced type for unknown kinds. */
export function atomForKind(group: string, version: string, kind: string): Atom {
  const key = `${group}/${version}/${kind}`;
  let atom = byKind.get(key);
  if (!atom) {
    const definition = definitionFor(group, version, kind);
    atom = (definition && namedAtom(definition.name)) || deducedAtom();
    byKind.set(key, atom);
  }
  return atom;
}
