/**
 * Field paths and sets of them, as structured-merge-diff models ownership:
 * a path is a list of elements (a struct field, a list-map key, a set value or
 * a list index); a set is a trie of paths whose nodes may be members
 * themselves. Sets serialize to the FieldsV1 form of `metadata.managedFields`
 * (`f:name`, `k:{"name":"x"}`, `v:"value"`, `i:0`, `.` for a node that is
 * itself a member), keys in structured-merge-diff's order.
 */

/** Kinds of path element, in their sort order. */
const enum Kind {
  Field = 0,
  Key = 1,
  Value = 2,
  Index = 3,
}

/** One key field of a list-map item, e.g. ["containerPort", 80]. */
export type KeyField = readonly [name: string, value: unknown];

/** One step of a path. `id` is its FieldsV1 form, used as the identity. */
export class PathElement {
  private constructor(
    readonly kind: Kind,
    readonly id: string,
    readonly name?: string,
    readonly key?: readonly KeyField[],
    readonly value?: unknown,
    readonly index?: number,
  ) {}

  private static readonly fields = new Map<string, PathElement>();

  /** A struct field or map key. */
  static field(name: string): PathElement {
    let pe = PathElement.fields.get(name);
    if (!pe) {
      pe = new PathElement(Kind.Field, `f:${name}`, name);
      if (PathElement.fields.size < 10_000) PathElement.fields.set(name, pe);
    }
    return pe;
  }

  /** A list-map item by its key fields (sorted here by name). */
  static key(fields: KeyField[]): PathElement {
    fields.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return new PathElement(Kind.Key, `k:{${fields.map(([n, v]) => `${goJson(n)}:${goJson(v)}`).join(',')}}`, undefined, fields);
  }

  /** An item of a set (a list of scalars merged as a set). */
  static value(value: unknown): PathElement {
    return new PathElement(Kind.Value, `v:${goJson(value)}`, undefined, undefined, value);
  }

  /** An item of a list by position (only in sets read from elsewhere). */
  static index(index: number): PathElement {
    return new PathElement(Kind.Index, `i:${index}`, undefined, undefined, undefined, index);
  }

  /** Parses a FieldsV1 key (`f:…`, `k:{…}`, `v:…`, `i:…`); undefined for unknown kinds (skipped, as Kubernetes does). */
  static parse(text: string): PathElement | undefined {
    if (text.length < 2 || text[1] !== ':') throw new Error(`missing colon: ${text}`);
    const rest = text.slice(2);
    switch (text[0]) {
      case 'f':
        return PathElement.field(rest);
      case 'k': {
        const parsed = JSON.parse(rest) as unknown;
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`invalid key: ${text}`);
        return PathElement.key(Object.entries(parsed as Record<string, unknown>));
      }
      case 'v':
        return PathElement.value(JSON.parse(rest));
      case 'i': {
        if (!/^-?\d+$/.test(rest)) throw new Error(`invalid index: ${text}`);
        return PathElement.index(Number(rest));
      }
      default:
        return undefined;
    }
  }

  /** The element as structured-merge-diff prints it in paths: `.name`, `[name="x"]`, `[="v"]`, `[0]`. */
  toString(): string {
    switch (this.kind) {
      case Kind.Field:
        return `.${this.name}`;
      case Kind.Key:
        return `[${this.key!.map(([n, v]) => `${n}=${valueString(v)}`).join(',')}]`;
      case Kind.Value:
        return `[=${valueString(this.value)}]`;
      default:
        return `[${this.index}]`;
    }
  }

  /** structured-merge-diff's total order: fields, then keys, values, indexes. */
  compare(other: PathElement): number {
    if (this.kind !== other.kind) return this.kind - other.kind;
    switch (this.kind) {
      case Kind.Field:
        return compareStrings(this.name!, other.name!);
      case Kind.Key: {
        const a = this.key!;
        const b = other.key!;
        for (let i = 0; i < a.length && i < b.length; i++) {
          const c = compareStrings(a[i]![0], b[i]![0]) || compareValues(a[i]![1], b[i]![1]);
          if (c !== 0) return c;
        }
        return a.length - b.length;
      }
      case Kind.Value:
        return compareValues(this.value, other.value);
      default:
        return this.index! - other.index!;
    }
  }
}

export type Path = readonly PathElement[];

/** A path as structured-merge-diff prints it, e.g. `.spec.template.spec.containers[name="nginx"].image`. */
export function pathString(path: Path): string {
  return path.map((pe) => pe.toString()).join('');
}

interface SetNode {
  readonly pe: PathElement;
  member: boolean;
  children: FieldSet | undefined;
}

/**
 * A set of field paths. Nodes are kept only while they are members or have
 * members below them. Operations return new sets and never share mutable
 * nodes with their inputs.
 */
export class FieldSet {
  private readonly nodes = new Map<string, SetNode>();

  /** Adds a path (the empty path is not a member of anything). */
  insert(path: Path): this {
    if (path.length === 0) return this;
    let set: FieldSet = this;
    for (let i = 0; i < path.length; i++) {
      const pe = path[i]!;
      let node = set.nodes.get(pe.id);
      if (!node) {
        node = { pe, member: false, children: undefined };
        set.nodes.set(pe.id, node);
      }
      if (i === path.length - 1) node.member = true;
      else set = node.children ??= new FieldSet();
    }
    return this;
  }

  has(path: Path): boolean {
    let set: FieldSet | undefined = this;
    for (let i = 0; i < path.length; i++) {
      const node: SetNode | undefined = set?.nodes.get(path[i]!.id);
      if (!node) return false;
      if (i === path.length - 1) return node.member;
      set = node.children;
    }
    return false;
  }

  /** Whether the element is a member directly under this set. */
  hasMember(pe: PathElement): boolean {
    return this.nodes.get(pe.id)?.member === true;
  }

  /** The paths under `pe`, relative to it (structured-merge-diff's WithPrefix); undefined when none. */
  child(pe: PathElement): FieldSet | undefined {
    return this.nodes.get(pe.id)?.children;
  }

  isEmpty(): boolean {
    return this.nodes.size === 0;
  }

  /** Number of member paths. */
  size(): number {
    let n = 0;
    for (const node of this.nodes.values()) n += (node.member ? 1 : 0) + (node.children?.size() ?? 0);
    return n;
  }

  union(other: FieldSet): FieldSet {
    const out = this.copy();
    out.addAll(other);
    return out;
  }

  /** Adds every path of `other` to this set, in place. */
  addAll(other: FieldSet): this {
    for (const [id, theirs] of other.nodes) {
      const mine = this.nodes.get(id);
      if (!mine) {
        this.nodes.set(id, { pe: theirs.pe, member: theirs.member, children: theirs.children?.copy() });
        continue;
      }
      mine.member ||= theirs.member;
      if (theirs.children) {
        if (mine.children) mine.children.addAll(theirs.children);
        else mine.children = theirs.children.copy();
      }
    }
    return this;
  }

  intersection(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, mine] of this.nodes) {
      const theirs = other.nodes.get(id);
      if (!theirs) continue;
      const children = mine.children && theirs.children ? mine.children.intersection(theirs.children) : undefined;
      const member = mine.member && theirs.member;
      if (member || (children && !children.isEmpty())) out.nodes.set(id, { pe: mine.pe, member, children: children && !children.isEmpty() ? children : undefined });
    }
    return out;
  }

  /** The paths of this set that are not in `other` (members only; children are compared path by path). */
  difference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, mine] of this.nodes) {
      const theirs = other.nodes.get(id);
      if (!theirs) {
        out.nodes.set(id, { pe: mine.pe, member: mine.member, children: mine.children?.copy() });
        continue;
      }
      const member = mine.member && !theirs.member;
      let children = mine.children;
      if (children) children = theirs.children ? children.difference(theirs.children) : children.copy();
      if (member || (children && !children.isEmpty())) out.nodes.set(id, { pe: mine.pe, member, children: children && !children.isEmpty() ? children : undefined });
    }
    return out;
  }

  /** Like difference, but a member of `other` also removes everything below it. */
  recursiveDifference(other: FieldSet): FieldSet {
    const out = new FieldSet();
    for (const [id, mine] of this.nodes) {
      const theirs = other.nodes.get(id);
      if (!theirs) {
        out.nodes.set(id, { pe: mine.pe, member: mine.member, children: mine.children?.copy() });
        continue;
      }
      if (theirs.member) continue;
      let children = mine.children;
      if (children) children = theirs.children ? children.recursiveDifference(theirs.children) : children.copy();
      if (mine.member || (children && !children.isEmpty())) out.nodes.set(id, { pe: mine.pe, member: mine.member, children: children && !children.isEmpty() ? children : undefined });
    }
    return out;
  }

  equals(other: FieldSet): boolean {
    if (this.nodes.size !== other.nodes.size) return false;
    for (const [id, mine] of this.nodes) {
      const theirs = other.nodes.get(id);
      if (!theirs || mine.member !== theirs.member) return false;
      if (mine.children || theirs.children) {
        if (!mine.children || !theirs.children || !mine.children.equals(theirs.children)) return false;
      }
    }
    return true;
  }

  copy(): FieldSet {
    const out = new FieldSet();
    for (const [id, node] of this.nodes) out.nodes.set(id, { pe: node.pe, member: node.member, children: node.children?.copy() });
    return out;
  }

  /**
   * A copy where every node that has children and for which `named` holds is
   * also a member; `descend` gives the context of a child node
   * (structured-merge-diff's EnsureNamedFieldsAreMembers, with the type as context).
   */
  ensureMembers<T>(context: T, named: (pe: PathElement, context: T) => boolean, descend: (pe: PathElement, context: T) => T): FieldSet {
    const out = new FieldSet();
    for (const [id, node] of this.nodes) {
      const children = node.children?.ensureMembers(descend(node.pe, context), named, descend);
      const member = node.member || (node.children !== undefined && named(node.pe, context));
      out.nodes.set(id, { pe: node.pe, member, children });
    }
    return out;
  }

  /** Every member path, in order. */
  paths(): PathElement[][] {
    const out: PathElement[][] = [];
    this.collect([], out);
    return out;
  }

  private collect(prefix: PathElement[], out: PathElement[][]): void {
    for (const node of this.sortedNodes()) {
      const path = [...prefix, node.pe];
      if (node.member) out.push(path);
      node.children?.collect(path, out);
    }
  }

  private sortedNodes(): SetNode[] {
    const nodes = [...this.nodes.values()];
    if (nodes.length > 1) nodes.sort((a, b) => a.pe.compare(b.pe));
    return nodes;
  }

  /** The FieldsV1 JSON object (`{"f:spec":{"f:replicas":{}}}`), keys in structured-merge-diff's order. */
  toFieldsV1(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const node of this.sortedNodes()) {
      const children = node.children && !node.children.isEmpty() ? node.children.toFieldsV1() : undefined;
      if (!children) {
        out[node.pe.id] = {};
        continue;
      }
      out[node.pe.id] = node.member ? { '.': {}, ...children } : children;
    }
    return out;
  }

  /** Reads a FieldsV1 object. Throws on keys that are not path elements. */
  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    if (fields === null || fields === undefined) return set;
    if (typeof fields !== 'object' || Array.isArray(fields)) throw new Error('FieldsV1 must be an object');
    set.read(fields as Record<string, unknown>);
    return set;
  }

  /** Fills this set from a FieldsV1 object; returns whether `.` marked the parent a member. */
  private read(fields: Record<string, unknown>): boolean {
    let self = false;
    for (const [key, value] of Object.entries(fields)) {
      if (key === '.') {
        self = true;
        continue;
      }
      const pe = PathElement.parse(key);
      if (!pe) continue;
      const childObject = value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
      const children = new FieldSet();
      const childIsMember = children.read(childObject);
      const hasChildren = !children.isEmpty();
      // An entry with no children at all is a member (`{}`), as is one marked with ".".
      const member = childIsMember || !hasChildren;
      const existing = this.nodes.get(pe.id);
      if (existing) {
        existing.member ||= member;
        if (hasChildren) existing.children = existing.children ? existing.children.union(children) : children;
      } else {
        this.nodes.set(pe.id, { pe, member, children: hasChildren ? children : undefined });
      }
    }
    return self;
  }

  /** The member paths as strings, e.g. [".spec.replicas"] (for tests and messages). */
  toStrings(): string[] {
    return this.paths().map(pathString);
  }
}

/** Builds a set from path strings such as `.spec.replicas` (field names only; for tests and fixed sets). */
export function fieldSetOf(...paths: string[]): FieldSet {
  const set = new FieldSet();
  for (const path of paths) set.insert(path.split('.').filter(Boolean).map((name) => PathElement.field(name)));
  return set;
}

// ---- values ----

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** structured-merge-diff's total order of values: numbers, strings, booleans, lists, maps, null. */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  switch (ra) {
    case 0:
      return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0;
    case 1:
      return compareStrings(a as string, b as string);
    case 2:
      return a === b ? 0 : a ? 1 : -1;
    case 3: {
      const la = a as unknown[];
      const lb = b as unknown[];
      for (let i = 0; i < la.length && i < lb.length; i++) {
        const c = compareValues(la[i], lb[i]);
        if (c !== 0) return c;
      }
      return la.length - lb.length;
    }
    case 4: {
      const ka = Object.keys(a as object).sort();
      const kb = Object.keys(b as object).sort();
      for (let i = 0; i < ka.length && i < kb.length; i++) {
        const c = compareStrings(ka[i]!, kb[i]!) || compareValues((a as Record<string, unknown>)[ka[i]!], (b as Record<string, unknown>)[kb[i]!]);
        if (c !== 0) return c;
      }
      return ka.length - kb.length;
    }
    default:
      return 0;
  }
}

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (v !== null && typeof v === 'object') return 4;
  return 5;
}

/** A value as structured-merge-diff prints it in paths (strings quoted as Go's %q). */
function valueString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(valueString).join(',')}]`;
  if (typeof v === 'object') {
    return Object.entries(v as Record<string, unknown>)
      .map(([k, x]) => `${k}=${valueString(x)}`)
      .join('');
  }
  return String(v);
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_UNSAFE_ALL = /[<>&\u2028\u2029]/g;

/** JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped. */
export function goJson(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return HTML_UNSAFE.test(text) ? text.replace(HTML_UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : text;
}
