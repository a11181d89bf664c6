/**
 * Walks over JSON values guided by the structured-merge-diff schema
 * (./schema.ts): validation of applied configurations, the set of fields a
 * value sets, the comparison of two values (added/modified/removed paths),
 * the merge of an applied configuration into a live object, and removal of
 * a set of fields. Semantics follow sigs.k8s.io/structured-merge-diff/v4
 * (typed/{validate,tofieldset,compare,merge,remove}.go) as kube-apiserver 1.32
 * uses them.
 *
 * Values are plain JSON; `undefined` means "absent". Inputs are never
 * mutated; outputs may share unchanged subtrees with the inputs.
 */
import { deducedAtom, type Atom, type ListAtom, type MapAtom } from './schema.js';
import { FieldSet, PathElement, type KeyField } from './fieldpath.js';

type JsonMap = Record<string, unknown>;

/** A problem with a value against the schema; `path` as structured-merge-diff prints it (`.spec.foo`). */
export interface TypedProblem {
  readonly path: string;
  readonly message: string;
}

/** Errors of a typed walk, printed as structured-merge-diff's ValidationErrors. */
export class TypedError extends Error {
  constructor(readonly problems: readonly TypedProblem[]) {
    super(formatProblems(problems));
    this.name = 'TypedError';
  }
}

function formatProblems(problems: readonly TypedProblem[]): string {
  const one = (p: TypedProblem) => (p.path ? `${p.path}: ${p.message}` : p.message);
  if (problems.length === 1) return one(problems[0]!);
  return ['errors:', ...problems.map((p) => `  ${one(p)}`)].join('\n');
}

function isMap(value: unknown): value is JsonMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasOwn(map: JsonMap, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(map, key) && map[key] !== undefined;
}

type AtomKind = 'scalar' | 'list' | 'map';

/** deduceAtom + handleAtom: which facet of the type handles this value. */
function kindOf(atom: Atom, value: unknown): AtomKind {
  if (value !== undefined && value !== null) {
    if (Array.isArray(value)) {
      if (atom.list) return 'list';
    } else if (typeof value === 'object') {
      if (atom.map) return 'map';
    } else if (atom.scalar) return 'scalar';
  }
  return atom.map ? 'map' : atom.scalar ? 'scalar' : 'list';
}

/** The type of `key` in a map: a declared field, the element type, or (for robustness) deduced. */
function childAtom(map: MapAtom, key: string): Atom {
  return map.fields?.get(key)?.type ?? map.elementType ?? deducedAtom();
}

/** The zero value of struct field `key`, if typed Go objects always carry it. */
function zeroOf(map: MapAtom, key: string): unknown {
  return map.zeroFields.length ? map.fields?.get(key)?.zero : undefined;
}

function typedEmpty(map: JsonMap, atom: MapAtom): boolean {
  if (atom.zeroFields.length > 0) return false;
  for (const key in map) if (map[key] !== undefined) return false;
  return true;
}

/**
 * The path element of a list item: its key fields (with schema defaults for
 * missing keys, e.g. protocol TCP) or, for sets, the value itself.
 */
export function listItemElement(list: ListAtom, item: unknown): PathElement {
  if (!list.associative) throw new Error('invalid indexing of non-associative list');
  const keys = list.keys;
  if (keys && keys.length > 0) {
    if (item === null || item === undefined) throw new Error('associative list with keys may not have a null element');
    if (!isMap(item)) throw new Error('associative list with keys may not have non-map elements');
    const fields: KeyField[] = [];
    for (const key of keys) {
      if (hasOwn(item, key)) {
        fields.push([key, item[key]]);
        continue;
      }
      const fallback = list.elementType.map?.fields?.get(key)?.keyDefault;
      if (fallback === undefined || fallback === null) {
        throw new Error(`associative list with keys has an element that omits key field ${JSON.stringify(key)} (and doesn't have default value)`);
      }
      fields.push([key, fallback]);
    }
    return PathElement.key(fields);
  }
  if (isMap(item)) throw new Error("associative list without keys has an element that's a map type");
  if (Array.isArray(item)) throw new Error('not supported: associative list with lists as elements');
  if (item === null || item === undefined) throw new Error("associative list without keys has an element that's an explicit null");
  return PathElement.value(item);
}

function tryListItemElement(list: ListAtom, item: unknown): PathElement | undefined {
  try {
    return listItemElement(list, item);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------
// Validation (ObjectToTyped of an applied configuration)

/**
 * Checks a value against the schema as structured-merge-diff's validating
 * walker does: scalar types, undeclared struct fields, list-map keys and, unless
 * allowed, duplicate list items. Returns the problems (empty when valid).
 */
export function validate(value: unknown, atom: Atom, options: { allowDuplicates?: boolean } = {}): TypedProblem[] {
  const problems: TypedProblem[] = [];
  validateValue(value, atom, '', problems, options.allowDuplicates === true);
  return problems;
}

function validateValue(value: unknown, atom: Atom, path: string, out: TypedProblem[], allowDuplicates: boolean): void {
  const kind = kindOf(atom, value);
  if (kind === 'scalar') {
    const problem = scalarProblem(atom.scalar!, value);
    if (problem) out.push({ path, message: problem });
    return;
  }
  if (value === null || value === undefined) return;
  if (kind === 'list') {
    if (!Array.isArray(value)) {
      out.push({ path, message: `expected list, got ${goPointerValue(value)}` });
      return;
    }
    const list = atom.list!;
    const seen = new Set<string>();
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      let pe: PathElement;
      if (!list.associative) {
        pe = PathElement.index(i);
      } else {
        try {
          pe = listItemElement(list, item);
        } catch (error) {
          out.push({ path, message: `element ${i}: ${(error as Error).message}` });
          return;
        }
        if (seen.has(pe.id) && !allowDuplicates) out.push({ path, message: `duplicate entries for key ${pe.toString()}` });
        seen.add(pe.id);
      }
      validateValue(item, list.elementType, path + pe.toString(), out, allowDuplicates);
    }
    return;
  }
  if (!isMap(value)) {
    out.push({ path, message: `expected map, got ${goPointerValue(value)}` });
    return;
  }
  const map = atom.map!;
  for (const key of Object.keys(value)) {
    if (value[key] === undefined) continue;
    const declared = map.fields?.get(key);
    const type = declared?.type ?? map.elementType;
    if (!type) {
      // Kubernetes stops at the first undeclared field of a struct.
      out.push({ path: `${path}.${key}`, message: 'field not declared in schema' });
      return;
    }
    validateValue(value[key], type, `${path}.${key}`, out, allowDuplicates);
  }
}

function scalarProblem(kind: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  switch (kind) {
    case 'numeric':
      return typeof value === 'number' ? undefined : `expected numeric (int or float), got ${goTypeName(value)}`;
    case 'string':
      return typeof value === 'string' ? undefined : `expected string, got &value.valueUnstructured{Value:${goSharpV(value)}}`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : `expected boolean, got ${goPointerValue(value)}`;
    default:
      return typeof value === 'object' ? `expected any scalar, got ${goPointerValue(value)}` : undefined;
  }
}

/** Go's %T of a decoded JSON value. */
function goTypeName(value: unknown): string {
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (Array.isArray(value)) return '[]interface {}';
  if (isMap(value)) return 'map[string]interface {}';
  return Number.isInteger(value) ? 'int64' : 'float64';
}

/** Go's %#v of a decoded JSON value. */
function goSharpV(value: unknown): string {
  if (value === null || value === undefined) return 'interface {}(nil)';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSharpV).join(', ')}}`;
  if (isMap(value)) {
    const keys = Object.keys(value).sort();
    return `map[string]interface {}{${keys.map((k) => `${JSON.stringify(k)}:${goSharpV(value[k])}`).join(', ')}}`;
  }
  return String(value);
}

/** Go's %v of a *valueUnstructured holding a decoded JSON value: `&{…}`. */
function goPointerValue(value: unknown): string {
  return `&{${goV(value)}}`;
}

function goV(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goV).join(' ')}]`;
  if (isMap(value)) {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${goV(value[k])}`).join(' ')}]`;
  }
  return String(value);
}

// ---------------------------------------------------------------------------
// Field sets

/**
 * The set of fields a value sets (ToFieldSet): scalars, atomic lists and
 * maps, list items, empty or null maps, and the keys of plain maps. Paths in
 * `exclude` (as members) are skipped with everything below them.
 */
export function toFieldSet(value: unknown, atom: Atom, exclude?: FieldSet): FieldSet {
  const set = new FieldSet();
  fieldSetWalk(value, atom, [], set, exclude);
  return set;
}

function fieldSetWalk(value: unknown, atom: Atom, path: PathElement[], set: FieldSet, exclude: FieldSet | undefined): void {
  const kind = kindOf(atom, value);
  if (kind === 'scalar') {
    set.insert(path);
    return;
  }
  if (kind === 'list') {
    const list = atom.list!;
    if (!list.associative) {
      set.insert(path);
      return;
    }
    if (!Array.isArray(value)) return;
    const elements = value.map((item) => tryListItemElement(list, item));
    const seen = new Set<string>();
    const duplicates = new Set<string>();
    for (const pe of elements) {
      if (!pe) continue;
      if (seen.has(pe.id)) {
        if (!duplicates.has(pe.id) && !exclude?.hasMember(pe)) {
          path.push(pe);
          set.insert(path);
          path.pop();
        }
        duplicates.add(pe.id);
      } else seen.add(pe.id);
    }
    for (let i = 0; i < value.length; i++) {
      const pe = elements[i];
      if (!pe || duplicates.has(pe.id) || exclude?.hasMember(pe)) continue;
      path.push(pe);
      fieldSetWalk(value[i], list.elementType, path, set, exclude?.child(pe));
      set.insert(path);
      path.pop();
    }
    return;
  }
  const map = atom.map!;
  if (map.atomic) {
    set.insert(path);
    return;
  }
  if (!isMap(value)) return;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if (child === undefined) continue;
    const pe = PathElement.field(key);
    if (exclude?.hasMember(pe)) continue;
    path.push(pe);
    fieldSetWalk(child, childAtom(map, key), path, set, exclude?.child(pe));
    if (child === null || (isMap(child) && Object.keys(child).length === 0) || !map.fields?.has(key)) set.insert(path);
    path.pop();
  }
}

// ---------------------------------------------------------------------------
// Comparison

/** The difference between two values, as sets of paths. */
export interface Comparison {
  readonly added: FieldSet;
  readonly modified: FieldSet;
  readonly removed: FieldSet;
}

/** Whether a comparison found no difference at all. */
export function isSame(comparison: Comparison): boolean {
  return comparison.added.isEmpty() && comparison.modified.isEmpty() && comparison.removed.isEmpty();
}

/**
 * Compares `lhs` (old) with `rhs` (new) as typed Go objects compare: struct
 * fields a Go object always carries (value structs, fields without
 * omitempty) count as present with their zero value. Paths in `exclude` are
 * not compared. Throws a TypedError when list items cannot be identified.
 */
export function compare(lhs: unknown, rhs: unknown, atom: Atom, exclude?: FieldSet): Comparison {
  const walker = new CompareWalker();
  walker.compare(lhs, rhs, atom, [], exclude);
  if (walker.problems.length) throw new TypedError(walker.problems);
  return walker.result;
}

class CompareWalker {
  readonly result: Comparison = { added: new FieldSet(), modified: new FieldSet(), removed: new FieldSet() };
  readonly problems: TypedProblem[] = [];

  compare(lhs: unknown, rhs: unknown, atom: Atom, path: PathElement[], exclude: FieldSet | undefined): void {
    if (lhs === undefined && rhs === undefined) return;
    let inLeaf = false;
    const kind = rhs === undefined ? kindOf(atom, lhs) : kindOf(atom, rhs);
    if (lhs !== undefined && rhs !== undefined && kind !== kindOf(atom, lhs)) {
      // Values of different shapes under a deduced type: a plain modification.
      this.leaf(lhs, rhs, path);
      return;
    }
    if (kind === 'scalar') {
      this.leaf(lhs, rhs, path);
      inLeaf = true;
    } else if (kind === 'list') {
      const list = atom.list!;
      const l = Array.isArray(lhs) ? lhs : undefined;
      const r = Array.isArray(rhs) ? rhs : undefined;
      if (!list.associative || ((!l || l.length === 0) && (!r || r.length === 0))) {
        this.leaf(lhs, rhs, path);
        inLeaf = true;
      } else {
        this.visitList(l, r, list, path, exclude);
      }
    } else {
      const map = atom.map!;
      const l = isMap(lhs) ? lhs : undefined;
      const r = isMap(rhs) ? rhs : undefined;
      if (map.atomic || ((!l || typedEmpty(l, map)) && (!r || typedEmpty(r, map)))) {
        this.leaf(lhs, rhs, path);
        inLeaf = true;
      } else {
        this.visitMap(l, r, map, path, exclude);
      }
    }
    if (!inLeaf) {
      if (lhs === undefined) this.result.added.insert(path);
      else if (rhs === undefined) this.result.removed.insert(path);
    }
  }

  private leaf(lhs: unknown, rhs: unknown, path: PathElement[]): void {
    if (lhs === undefined) this.result.added.insert(path);
    else if (rhs === undefined) this.result.removed.insert(path);
    else if (!deepEqual(lhs, rhs)) this.result.modified.insert(path);
  }

  private visitMap(l: JsonMap | undefined, r: JsonMap | undefined, map: MapAtom, path: PathElement[], exclude: FieldSet | undefined): void {
    const zeros = map.zeroFields.length > 0;
    if (l) {
      for (const key in l) {
        const lv = l[key];
        if (lv === undefined) continue;
        const pe = PathElement.field(key);
        if (exclude?.hasMember(pe)) continue;
        let rv = r?.[key];
        if (rv === undefined && r && zeros) rv = zeroOf(map, key);
        path.push(pe);
        this.compare(lv, rv, childAtom(map, key), path, exclude?.child(pe));
        path.pop();
      }
    }
    if (r) {
      for (const key in r) {
        const rv = r[key];
        if (rv === undefined || (l && l[key] !== undefined)) continue;
        const pe = PathElement.field(key);
        if (exclude?.hasMember(pe)) continue;
        const lv = l && zeros ? zeroOf(map, key) : undefined;
        path.push(pe);
        this.compare(lv, rv, childAtom(map, key), path, exclude?.child(pe));
        path.pop();
      }
    }
    // Zero-valued fields missing on a side whose struct is present.
    if (zeros && (!l || !r)) {
      const present = (l ?? r)!;
      for (const field of map.zeroFields) {
        if (present[field.name] !== undefined) continue;
        const pe = PathElement.field(field.name);
        if (exclude?.hasMember(pe)) continue;
        path.push(pe);
        if (l) this.compare(field.zero, undefined, field.type, path, exclude?.child(pe));
        else this.compare(undefined, field.zero, field.type, path, exclude?.child(pe));
        path.pop();
      }
    }
  }

  private visitList(l: unknown[] | undefined, r: unknown[] | undefined, list: ListAtom, path: PathElement[], exclude: FieldSet | undefined): void {
    const entries = new Map<string, { pe: PathElement; left: unknown[]; right: unknown[] }>();
    const order: string[] = [];
    const index = (items: unknown[] | undefined, side: 'left' | 'right') => {
      if (!items) return;
      for (let i = 0; i < items.length; i++) {
        let pe: PathElement;
        try {
          pe = listItemElement(list, items[i]);
        } catch (error) {
          this.problems.push({ path: pathText(path), message: `element ${i}: ${(error as Error).message}` });
          continue;
        }
        let entry = entries.get(pe.id);
        if (!entry) {
          entry = { pe, left: [], right: [] };
          entries.set(pe.id, entry);
          order.push(pe.id);
        }
        entry[side].push(items[i]);
      }
    };
    index(l, 'left');
    index(r, 'right');
    for (const id of order) {
      const { pe, left, right } = entries.get(id)!;
      if (exclude?.hasMember(pe)) continue;
      path.push(pe);
      const childExclude = exclude?.child(pe);
      if (left.length <= 1 && right.length <= 1) {
        this.compare(left[0], right[0], list.elementType, path, childExclude);
      } else if (left.length >= 2 && right.length >= 2) {
        if (left.length !== right.length || left.some((item, i) => !deepEqual(item, right[i]))) this.result.modified.insert(path);
      } else if (left.length >= 2) {
        if (right.length) this.compare(undefined, right[0], list.elementType, path, childExclude);
        this.result.removed.insert(path);
      } else {
        if (left.length) this.compare(left[0], undefined, list.elementType, path, childExclude);
        this.result.added.insert(path);
      }
      path.pop();
    }
  }
}

function pathText(path: readonly PathElement[]): string {
  return path.map((pe) => pe.toString()).join('');
}

/** Structural equality of JSON values (object key order ignored; absent and undefined alike). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const am = a as JsonMap;
  const bm = b as JsonMap;
  let count = 0;
  for (const key in am) {
    if (am[key] === undefined) continue;
    count++;
    if (!deepEqual(am[key], bm[key])) return false;
  }
  for (const key in bm) if (bm[key] !== undefined) count--;
  return count === 0;
}

// ---------------------------------------------------------------------------
// Merge (apply)

/**
 * Merges an applied configuration (`rhs`) into a live value (`lhs`): scalars,
 * atomic lists and atomic maps from the configuration replace the live ones;
 * maps merge key by key; associative lists merge item by item, keeping live
 * items in place and configuration items in the configuration's order.
 * Returns undefined when nothing remains.
 */
export function merge(lhs: unknown, rhs: unknown, atom: Atom): unknown {
  const problems: TypedProblem[] = [];
  const out = mergeValue(lhs, rhs, atom, '', problems);
  if (problems.length) throw new TypedError(problems);
  return out;
}

function mergeValue(lhs: unknown, rhs: unknown, atom: Atom, path: string, problems: TypedProblem[]): unknown {
  const keepRight = () => (rhs !== undefined ? rhs : lhs);
  const kind = rhs === undefined ? kindOf(atom, lhs) : kindOf(atom, rhs);
  if (lhs !== undefined && rhs !== undefined && kind !== kindOf(atom, lhs)) return keepRight();
  if (kind === 'scalar') return keepRight();
  if (kind === 'list') {
    const list = atom.list!;
    const l = Array.isArray(lhs) ? lhs : undefined;
    const r = Array.isArray(rhs) ? rhs : undefined;
    if (!list.associative || ((!l || l.length === 0) && (!r || r.length === 0))) return keepRight();
    return mergeList(l ?? [], r ?? [], list, path, problems);
  }
  const map = atom.map!;
  const l = isMap(lhs) ? lhs : undefined;
  const r = isMap(rhs) ? rhs : undefined;
  if (map.atomic || ((!l || Object.keys(l).length === 0) && (!r || Object.keys(r).length === 0))) return keepRight();
  const out: JsonMap = {};
  let any = false;
  if (l) {
    for (const key of Object.keys(l)) {
      if (l[key] === undefined) continue;
      const merged = mergeValue(l[key], r?.[key], childAtom(map, key), `${path}.${key}`, problems);
      if (merged !== undefined) {
        out[key] = merged;
        any = true;
      }
    }
  }
  if (r) {
    for (const key of Object.keys(r)) {
      if (r[key] === undefined || (l && l[key] !== undefined)) continue;
      const merged = mergeValue(undefined, r[key], childAtom(map, key), `${path}.${key}`, problems);
      if (merged !== undefined) {
        out[key] = merged;
        any = true;
      }
    }
  }
  return any ? out : undefined;
}

interface IndexedList {
  readonly elements: PathElement[];
  readonly observed: Map<string, unknown>;
}

function indexList(items: unknown[], list: ListAtom, allowDuplicates: boolean, path: string, problems: TypedProblem[]): IndexedList {
  const elements: PathElement[] = [];
  const observed = new Map<string, unknown>();
  for (let i = 0; i < items.length; i++) {
    let pe: PathElement;
    try {
      pe = listItemElement(list, items[i]);
    } catch (error) {
      problems.push({ path, message: `element ${i}: ${(error as Error).message}` });
      continue;
    }
    if (observed.has(pe.id)) {
      if (!allowDuplicates) {
        problems.push({ path, message: `duplicate entries for key ${pe.toString()}` });
        continue;
      }
      observed.set(pe.id, null);
    } else {
      observed.set(pe.id, items[i]);
    }
    elements.push(pe);
  }
  return { elements, observed };
}

/** structured-merge-diff's list merge: live order, with configuration items placed by the configuration's order. */
function mergeList(lhs: unknown[], rhs: unknown[], list: ListAtom, path: string, problems: TypedProblem[]): unknown {
  const before = problems.length;
  const right = indexList(rhs, list, false, path, problems);
  const left = indexList(lhs, list, true, path, problems);
  if (problems.length > before) return undefined;
  const out: unknown[] = [];
  const push = (pe: PathElement, l: unknown, r: unknown) => {
    const merged = mergeValue(l, r, list.elementType, path + pe.toString(), problems);
    if (merged !== undefined) out.push(merged);
  };
  const shared = right.elements.filter((pe) => left.observed.has(pe.id));
  let sharedIndex = 0;
  let nextShared: PathElement | undefined = shared[sharedIndex++];
  const mergedRight = new Set<string>();
  const lLen = left.elements.length;
  const rLen = right.elements.length;
  let lI = 0;
  let rI = 0;
  while (lI < lLen || rI < rLen) {
    if (lI < lLen && rI < rLen) {
      const pe = left.elements[lI]!;
      if (pe.id === right.elements[rI]!.id) {
        mergedRight.add(pe.id);
        push(pe, left.observed.get(pe.id), right.observed.get(pe.id));
        lI++;
        rI++;
        nextShared = shared[sharedIndex++];
        continue;
      }
      if (right.observed.has(pe.id) && nextShared && nextShared.id !== pe.id) {
        lI++;
        continue;
      }
    }
    if (lI < lLen) {
      const pe = left.elements[lI]!;
      if (!right.observed.has(pe.id)) {
        push(pe, lhs[lI], undefined);
        lI++;
        continue;
      } else if (mergedRight.has(pe.id)) {
        lI++;
      }
    }
    if (rI < rLen) {
      const pe = right.elements[rI]!;
      mergedRight.add(pe.id);
      push(pe, left.observed.has(pe.id) ? left.observed.get(pe.id) : undefined, right.observed.get(pe.id));
      rI++;
      if (nextShared && nextShared.id === pe.id) nextShared = shared[sharedIndex++];
    }
  }
  return out.length > 0 ? out : undefined;
}

// ---------------------------------------------------------------------------
// Removal

/**
 * The value without the paths of `toRemove` (RemoveItems): a removed field
 * or list item disappears with everything below it. Maps and lists that end
 * up empty disappear too (structured-merge-diff leaves a null there, which a
 * typed Go object then drops); undefined when nothing remains.
 */
export function removeItems(value: unknown, toRemove: FieldSet, atom: Atom): unknown {
  if (toRemove.isEmpty()) return value;
  return removeWalk(value, toRemove, atom);
}

function removeWalk(value: unknown, toRemove: FieldSet, atom: Atom): unknown {
  const kind = kindOf(atom, value);
  if (kind === 'scalar') return value;
  if (kind === 'list') {
    const list = atom.list!;
    if (!Array.isArray(value) || value.length === 0 || !list.associative) return undefined;
    const items: unknown[] = [];
    for (let item of value) {
      const pe = tryListItemElement(list, item);
      if (pe) {
        if (toRemove.hasMember(pe)) continue;
        const subset = toRemove.child(pe);
        if (subset && !subset.isEmpty()) item = removeWalk(item, subset, list.elementType);
      }
      if (item !== undefined) items.push(item);
    }
    return items.length > 0 ? items : undefined;
  }
  const map = atom.map!;
  if (!isMap(value) || map.atomic) return undefined;
  const out: JsonMap = {};
  let any = false;
  for (const key of Object.keys(value)) {
    let child = value[key];
    if (child === undefined) continue;
    const pe = PathElement.field(key);
    if (toRemove.hasMember(pe)) continue;
    const subset = toRemove.child(pe);
    if (subset && !subset.isEmpty()) child = removeWalk(child, subset, childAtom(map, key));
    if (child === undefined) continue;
    out[key] = child;
    any = true;
  }
  return any ? out : undefined;
}

/**
 * EnsureNamedFieldsAreMembers: the set plus every struct field that has
 * members below it (so removing by the set can remove the field itself).
 */
export function withNamedFields(set: FieldSet, atom: Atom | undefined): FieldSet {
  return set.ensureMembers(atom, (pe, a) => pe.name !== undefined && a?.map?.fields?.has(pe.name) === true, (pe, a) => {
    if (!a) return undefined;
    if (pe.name !== undefined && a.map) return childAtom(a.map, pe.name);
    if (pe.key !== undefined && a.list) return a.list.elementType;
    return undefined;
  });
}

// ---------------------------------------------------------------------------
// Clean-up after apply

/**
 * Drops from `result` (in place) the nulls the applied configuration set, as
 * decoding into a Go object does: a null field becomes unset, unless the field
 * always serializes as null (a non-pointer time, a required pointer).
 */
export function dropAppliedNulls(result: unknown, config: unknown, atom: Atom): void {
  if (!isMap(config) && !Array.isArray(config)) return;
  const kind = kindOf(atom, config);
  if (kind === 'list') {
    const list = atom.list!;
    if (!list.associative || !Array.isArray(config) || !Array.isArray(result)) return;
    const byId = new Map<string, unknown>();
    for (const item of result) {
      const pe = tryListItemElement(list, item);
      if (pe) byId.set(pe.id, item);
    }
    for (const item of config) {
      const pe = tryListItemElement(list, item);
      if (pe && byId.has(pe.id)) dropAppliedNulls(byId.get(pe.id), item, list.elementType);
    }
    return;
  }
  if (kind !== 'map' || !isMap(config) || !isMap(result) || atom.map!.atomic) return;
  const map = atom.map!;
  for (const key of Object.keys(config)) {
    const value = config[key];
    if (value === null) {
      if (result[key] === null && map.fields?.get(key)?.zero !== null) delete result[key];
    } else if (typeof value === 'object') {
      dropAppliedNulls(result[key], value, childAtom(map, key));
    }
  }
}
