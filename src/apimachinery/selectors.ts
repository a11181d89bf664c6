/**
 * Label and field selectors, as k8s.io/apimachinery/pkg/labels and
 * pkg/fields parse, match and print them. Parse errors are 400 BadRequest
 * StatusErrors whose messages are the ones kube-apiserver answers for
 * `?labelSelector=` / `?fieldSelector=` (e.g. `unable to parse requirement: …`).
 */
import { Buffer } from 'node:buffer';
import type { LabelSelector as LabelSelectorSpec } from 'kubernetes-types/meta/v1.js';
import { StatusError, badRequest } from './errors.js';

export type { LabelSelectorSpec };

// ===========================================================================
// Label keys and values (k8s.io/apimachinery/pkg/util/validation, v1.32 messages)
// ===========================================================================

const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const QUALIFIED_NAME_ERR =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`);
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** Go's RegexError, double spaces included ("'MyName',  or 'my.name'"). */
function regexError(message: string, regex: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${regex}')`;
  return `${message} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${regex}')`;
}

function byteLength(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 253) errors.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN_RE.test(value)) errors.push(regexError(DNS1123_SUBDOMAIN_ERR, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  return errors;
}

/**
 * Problems with a label key (a "qualified name": optional DNS subdomain
 * prefix and `/`, then a name of at most 63 characters). Empty when valid.
 */
function labelKeyErrors(key: string): string[] {
  const errors: string[] = [];
  const parts = key.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0]!;
  } else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((m) => `prefix part ${m}`));
  } else {
    return [
      `a qualified name ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) errors.push('name part must be non-empty');
  else if (byteLength(name) > 63) errors.push(`name part ${maxLenError(63)}`);
  if (!QUALIFIED_NAME_RE.test(name)) {
    errors.push(`name part ${regexError(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errors;
}

/** Problems with a label value (empty, or at most 63 alphanumerics with `-_.` inside). Empty when valid. */
function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (byteLength(value) > 63) errors.push(maxLenError(63));
  if (!LABEL_VALUE_RE.test(value)) errors.push(regexError(LABEL_VALUE_ERR, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errors;
}

/** A field error rendered like Go's field.Error (`path: Invalid value: "x": detail`). */
function invalidValue(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${JSON.stringify(value === undefined ? null : value)}: ${detail}`;
}

/** Go's aggregate error text: one message, or `[a, b]` without duplicates. */
function aggregate(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

// ===========================================================================
// Label selectors
// ===========================================================================

/** The operators of a label requirement, spelled as k8s.io/apimachinery/pkg/selection does. */
export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** One ANDed term of a label selector. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Empty for exists/!; sorted and unique when parsed from a string. */
  readonly values: readonly string[];
}

/** A parsed label selector. */
export interface LabelSelector {
  /** True when it does not restrict anything (matches every object). False for {@link NOTHING_LABEL_SELECTOR}. */
  readonly empty: boolean;
  /** The requirements, sorted by key. */
  readonly requirements: readonly LabelRequirement[];
  /** Whether an object with these labels is selected. */
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  /** The value `key` must equal (`key=v`, `key==v` or `key in (v)`), if any. */
  requiresExactMatch(key: string): string | undefined;
  /** Canonical form, e.g. `app=redis,tier notin (db)`; `""` for everything and nothing. */
  toString(): string;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** strconv.ParseInt(s, 10, 64). */
function parseInt64(value: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

function requirementMatches(r: LabelRequirement, labels: Readonly<Record<string, string>> | undefined): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels![r.key]! : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const actual = parseInt64(value!);
      const bound = parseInt64(r.values[0]!);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

function requirementToString(r: LabelRequirement): string {
  const prefix = r.operator === '!' ? '!' : '';
  const values = r.values.length === 1 ? r.values[0]! : [...r.values].sort(compareStrings).join(',');
  switch (r.operator) {
    case 'exists':
    case '!':
      return `${prefix}${r.key}`;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** Byte-wise string order, like Go's sort.Strings (for ASCII, code-unit order is the same). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

class RequirementsSelector implements LabelSelector {
  readonly requirements: readonly LabelRequirement[];

  constructor(requirements: LabelRequirement[]) {
    // Stable sort by key, as Selector.Add does, for a deterministic string form.
    this.requirements = Object.freeze([...requirements].sort((a, b) => compareStrings(a.key, b.key)));
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Readonly<Record<string, string>> | undefined): boolean {
    for (const r of this.requirements) if (!requirementMatches(r, labels)) return false;
    return true;
  }

  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
      return undefined;
    }
    return undefined;
  }

  toString(): string {
    return this.requirements.map(requirementToString).join(',');
  }
}

/** Matches every object (the empty selector `{}` or the empty string). */
export const EVERYTHING_LABEL_SELECTOR: LabelSelector = new RequirementsSelector([]);

/** Matches no object: what a `null` metav1.LabelSelector means. */
export const NOTHING_LABEL_SELECTOR: LabelSelector = Object.freeze({
  empty: false,
  requirements: Object.freeze([]) as readonly LabelRequirement[],
  matches: () => false,
  requiresExactMatch: () => undefined,
  toString: () => '',
});

/**
 * labels.NewRequirement: validates the key, the values and their number for
 * the operator. Returns the field errors (path "key", "values[i][key]"…).
 */
function requirementErrors(key: string, operator: LabelOperator, values: string[] | null): string[] {
  const errors: string[] = [];
  const keyErrors = labelKeyErrors(key);
  if (keyErrors.length > 0) errors.push(invalidValue('key', key, keyErrors.join('; ')));
  const list = values ?? [];
  switch (operator) {
    case 'in':
    case 'notin':
      if (list.length === 0) errors.push(invalidValue('values', values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (list.length !== 1) errors.push(invalidValue('values', values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (list.length !== 0) errors.push(invalidValue('values', values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (list.length !== 1) errors.push(invalidValue('values', values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      list.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errors.push(invalidValue(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
  }
  list.forEach((v, i) => {
    const valueErrors = labelValueErrors(v);
    if (valueErrors.length > 0) errors.push(invalidValue(`values[${i}][${key}]`, v, valueErrors.join('; ')));
  });
  return errors;
}

// ---- the string parser (labels.Parse) ----

type Token =
  | 'error'
  | 'end'
  | ')'
  | ','
  | '!'
  | '=='
  | '='
  | '>'
  | 'identifier'
  | 'in'
  | '<'
  | '!='
  | 'notin'
  | '(';

const LITERAL_TOKENS: ReadonlyMap<string, Token> = new Map<string, Token>([
  [')', ')'],
  [',', ','],
  ['!', '!'],
  ['==', '=='],
  ['=', '='],
  ['>', '>'],
  ['in', 'in'],
  ['<', '<'],
  ['!=', '!='],
  ['notin', 'notin'],
  ['(', '('],
]);

interface Scanned {
  token: Token;
  literal: string;
}

const END_CHAR = '\0';

function isWhitespace(ch: string): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

function isSpecialSymbol(ch: string): boolean {
  return ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
}

/** Splits a selector into tokens; `in`/`notin` are keywords only where an operator may stand. */
function lex(input: string): Scanned[] {
  let pos = 0;
  const read = (): string => (pos < input.length ? input[pos++]! : END_CHAR);
  const unread = (): void => {
    pos--;
  };
  const items: Scanned[] = [];
  for (;;) {
    let ch = read();
    while (isWhitespace(ch)) ch = read();
    if (ch === END_CHAR) {
      items.push({ token: 'end', literal: '' });
      return items;
    }
    unread();
    if (isSpecialSymbol(ch)) {
      // Longest run of special characters that still spells an operator.
      let buffer = '';
      let last: Scanned | undefined;
      for (;;) {
        const c = read();
        if (c === END_CHAR) break;
        if (isSpecialSymbol(c)) {
          buffer += c;
          const token = LITERAL_TOKENS.get(buffer);
          if (token) last = { token, literal: buffer };
          else if (last) {
            unread();
            break;
          }
        } else {
          unread();
          break;
        }
      }
      items.push(last ?? { token: 'error', literal: `error expected: keyword found '${buffer}'` });
    } else {
      let buffer = '';
      for (;;) {
        const c = read();
        if (c === END_CHAR) break;
        if (isSpecialSymbol(c) || isWhitespace(c)) {
          unread();
          break;
        }
        buffer += c;
      }
      items.push({ token: LITERAL_TOKENS.get(buffer) ?? 'identifier', literal: buffer });
    }
  }
}

/** Thrown inside the parser; turned into a 400 at the edge. */
class ParseError extends Error {}

class Parser {
  private position = 0;

  constructor(private readonly items: Scanned[]) {}

  /** In value context `in`/`notin` are plain identifiers. */
  private peek(valueContext: boolean): Scanned {
    return this.adjust(this.items[this.position]!, valueContext);
  }

  private next(valueContext: boolean): Scanned {
    return this.adjust(this.items[this.position++]!, valueContext);
  }

  private adjust(item: Scanned, valueContext: boolean): Scanned {
    if (valueContext && (item.token === 'in' || item.token === 'notin')) return { token: 'identifier', literal: item.literal };
    return item;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { token, literal } = this.peek(true);
      if (token === 'identifier' || token === '!') {
        try {
          requirements.push(this.parseRequirement());
        } catch (err) {
          if (err instanceof ParseError) throw new ParseError(`unable to parse requirement: ${err.message}`);
          throw err;
        }
        const after = this.next(true);
        if (after.token === 'end') return requirements;
        if (after.token === ',') {
          const following = this.peek(true);
          if (following.token !== 'identifier' && following.token !== '!') {
            throw new ParseError(`found '${following.literal}', expected: identifier after ','`);
          }
        } else {
          throw new ParseError(`found '${after.literal}', expected: ',' or 'end of string'`);
        }
      } else if (token === 'end') {
        return requirements;
      } else {
        throw new ParseError(`found '${literal}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let operator: LabelOperator | undefined;
    let item = this.next(true);
    if (item.token === '!') {
      operator = '!';
      item = this.next(true);
    }
    if (item.token !== 'identifier') throw new ParseError(`found '${item.literal}', expected: identifier`);
    const key = item.literal;
    const keyErrors = labelKeyErrors(key);
    // The parser validates with a nil field path, which Go prints as "<nil>".
    if (keyErrors.length > 0) throw new ParseError(invalidValue('<nil>', key, keyErrors.join('; ')));
    const ahead = this.peek(true).token;
    if ((ahead === 'end' || ahead === ',') && operator === undefined) operator = 'exists';

    let values: string[];
    if (operator === 'exists' || operator === '!') {
      values = [];
    } else {
      operator = this.parseOperator();
      values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    }
    const errors = requirementErrors(key, operator, values);
    if (errors.length > 0) throw new ParseError(aggregate(errors));
    return { key, operator, values };
  }

  private parseOperator(): LabelOperator {
    const { token, literal } = this.next(false);
    switch (token) {
      case 'in':
        return 'in';
      case '=':
        return '=';
      case '==':
        return '==';
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      case 'notin':
        return 'notin';
      case '!=':
        return '!=';
      default:
        throw new ParseError(`found '${literal}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  /** `(a,b,…)`: a sorted set; `()` is the set holding "". */
  private parseValues(): string[] {
    const open = this.next(true);
    if (open.token !== '(') throw new ParseError(`found '${open.literal}' expected: '('`);
    const { token, literal } = this.peek(true);
    if (token === 'identifier' || token === ',') {
      const values = this.parseIdentifiersList();
      // Go reports the token seen after "(" here, not the offending one.
      if (this.next(true).token !== ')') throw new ParseError(`found '${literal}', expected: ')'`);
      return values;
    }
    if (token === ')') {
      this.next(true);
      return [''];
    }
    throw new ParseError(`found '${literal}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const { token, literal } = this.next(true);
      if (token === 'identifier') {
        values.add(literal);
        const after = this.peek(true);
        if (after.token === ',') continue;
        if (after.token === ')') return sortedSet(values);
        throw new ParseError(`found '${after.literal}', expected: ',' or ')'`);
      } else if (token === ',') {
        if (values.size === 0) values.add(''); // "(,"
        const after = this.peek(true).token;
        if (after === ')') {
          values.add(''); // ",)"
          return sortedSet(values);
        }
        if (after === ',') values.add(''); // ",,"
      } else {
        throw new ParseError(`found '${literal}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): string[] {
    const ahead = this.peek(true).token;
    if (ahead === 'end' || ahead === ',') return [''];
    const { token, literal } = this.next(true);
    if (token === 'identifier') return [literal];
    throw new ParseError(`found '${literal}', expected: identifier`);
  }
}

function sortedSet(values: Set<string>): string[] {
  return [...values].sort(compareStrings);
}

/**
 * Parses a label selector string (`?labelSelector=`, `kubectl -l`):
 * `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>5`, `a<5`,
 * comma-separated (AND), whitespace tolerant. `""` selects everything.
 * Throws a 400 BadRequest StatusError with Kubernetes' message on bad syntax
 * or invalid keys/values.
 */
export function parseLabelSelector(text: string): LabelSelector {
  try {
    return new RequirementsSelector(new Parser(lex(text)).parse());
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.message);
    throw err;
  }
}

const SPEC_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: 'in',
  NotIn: 'notin',
  Exists: 'exists',
  DoesNotExist: '!',
};

/**
 * Converts the object form (metav1.LabelSelector: matchLabels ANDed with
 * matchExpressions In/NotIn/Exists/DoesNotExist) into a selector, as
 * metav1.LabelSelectorAsSelector does: `null`/`undefined` selects nothing,
 * `{}` selects everything. Invalid keys, values or operators → 400.
 */
export function labelSelectorFromSpec(spec: LabelSelectorSpec | null | undefined): LabelSelector {
  if (spec === null || spec === undefined) return NOTHING_LABEL_SELECTOR;
  const matchLabels = spec.matchLabels ?? {};
  const expressions = spec.matchExpressions ?? [];
  if (Object.keys(matchLabels).length + expressions.length === 0) return EVERYTHING_LABEL_SELECTOR;
  const requirements: LabelRequirement[] = [];
  for (const key of Object.keys(matchLabels).sort(compareStrings)) {
    requirements.push(checkedRequirement(key, '=', [matchLabels[key]!]));
  }
  for (const expression of expressions) {
    const operator = SPEC_OPERATORS[expression.operator];
    if (!operator) throw badRequest(`${JSON.stringify(expression.operator)} is not a valid label selector operator`);
    const values = expression.values ? [...expression.values] : null;
    requirements.push(checkedRequirement(expression.key, operator, values));
  }
  return new RequirementsSelector(requirements);
}

function checkedRequirement(key: string, operator: LabelOperator, values: string[] | null): LabelRequirement {
  const errors = requirementErrors(key, operator, values);
  if (errors.length > 0) throw badRequest(aggregate(errors));
  return { key, operator, values: values ?? [] };
}

/**
 * The canonical string of a metav1.LabelSelector, as Kubernetes prints it in
 * Scale `status.selector` (e.g. `app=redis,pod-template-hash=abc`,
 * `env in (dev,prod)`); `""` when empty or null. Throws 400 when invalid.
 */
export function labelSelectorToString(spec: LabelSelectorSpec | null | undefined): string {
  return labelSelectorFromSpec(spec).toString();
}

/**
 * metav1.FormatLabelSelector, for printers (the SELECTOR column of
 * `kubectl get rs -o wide`): `<none>` when empty or null, `<error>` when invalid.
 */
export function formatLabelSelector(spec: LabelSelectorSpec | null | undefined): string {
  try {
    return labelSelectorToString(spec) || '<none>';
  } catch (err) {
    if (err instanceof StatusError) return '<error>';
    throw err;
  }
}

/** A selector matching exactly these labels (labels.SelectorFromSet); empty or missing → everything. */
export function labelSelectorFromSet(set: Readonly<Record<string, string>> | undefined): LabelSelector {
  if (!set) return EVERYTHING_LABEL_SELECTOR;
  return new RequirementsSelector(Object.keys(set).map((key) => ({ key, operator: '=' as const, values: [set[key]!] })));
}

// ===========================================================================
// Field selectors
// ===========================================================================

/** One ANDed term of a field selector; `==` is normalized to `=`. */
export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

/** A parsed field selector. */
export interface FieldSelector {
  /** True when it has no terms (matches everything). */
  readonly empty: boolean;
  /** The terms, in Kubernetes' order (sorted by their text). */
  readonly requirements: readonly FieldRequirement[];
  /** Whether an object with these selectable fields is selected; a missing field reads as "". */
  matches(fields: Readonly<Record<string, string>>): boolean;
  /** The value `field` must equal, if a `field=value` term exists. */
  requiresExactMatch(field: string): string | undefined;
  /** Canonical form with values escaped, e.g. `metadata.name=x,status.phase!=Running`. */
  toString(): string;
}

class TermsSelector implements FieldSelector {
  readonly requirements: readonly FieldRequirement[];

  constructor(requirements: FieldRequirement[]) {
    this.requirements = Object.freeze(requirements);
  }

  get empty(): boolean {
    return this.requirements.length === 0;
  }

  matches(fields: Readonly<Record<string, string>>): boolean {
    for (const r of this.requirements) {
      const actual = Object.prototype.hasOwnProperty.call(fields, r.field) ? fields[r.field] : '';
      if ((actual === r.value) !== (r.operator === '=')) return false;
    }
    return true;
  }

  requiresExactMatch(field: string): string | undefined {
    for (const r of this.requirements) if (r.field === field && r.operator === '=') return r.value;
    return undefined;
  }

  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
  }
}

/** Escapes `\`, `,` and `=` in a field selector value (fields.EscapeValue). */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/** fields.UnescapeValue; errors are Kubernetes' messages. */
function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let inSlash = false;
  for (const c of value) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new ParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') {
      // Go prints the rune with %v, i.e. its code point.
      throw new ParseError(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    } else out += c;
  }
  if (inSlash) throw new ParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** Splits on unescaped commas, keeping the escapes in the terms. */
function splitFieldTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

const FIELD_OPERATORS = ['!=', '==', '='] as const;

/**
 * Parses a field selector string (`?fieldSelector=`): `a=b`, `a==b`, `a!=b`,
 * comma-separated (AND); `\,`, `\=` and `\\` escape values. No whitespace
 * trimming, as in Kubernetes. Throws 400 BadRequest with Kubernetes' message
 * (e.g. `invalid selector: 'foo'; can't understand 'foo'`). Which fields are
 * allowed is the caller's business: see {@link unknownFieldSelectorError}.
 */
export function parseFieldSelector(text: string): FieldSelector {
  const parts = splitFieldTerms(text).sort(compareStrings);
  const requirements: FieldRequirement[] = [];
  try {
    for (const part of parts) {
      if (part === '') continue;
      const split = splitFieldTerm(part);
      if (!split) throw new ParseError(`invalid selector: '${text}'; can't understand '${part}'`);
      const [field, operator, rhs] = split;
      requirements.push({ field, operator: operator === '!=' ? '!=' : '=', value: unescapeFieldValue(rhs) });
    }
  } catch (err) {
    if (err instanceof ParseError) throw badRequest(err.message);
    throw err;
  }
  return new TermsSelector(requirements);
}

/** The first operator occurrence splits the term (field names cannot be escaped). */
function splitFieldTerm(term: string): [string, string, string] | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of FIELD_OPERATORS) {
      if (term.startsWith(op, i)) return [term.slice(0, i), op, term.slice(i + op.length)];
    }
  }
  return undefined;
}

/** A field selector from terms (e.g. `metadata.name=<name>` for a single-object watch). */
export function fieldSelectorFromRequirements(requirements: readonly FieldRequirement[]): FieldSelector {
  return new TermsSelector([...requirements]);
}

/**
 * Kinds whose field-label conversion Kubernetes registers itself, with the
 * message of their rejection; every other kind gets the default conversion
 * (runtime.DefaultMetaV1FieldSelectorConversion).
 */
const FIELD_LABEL_REJECTIONS: ReadonlyArray<{ group: string; kind: string; message: (field: string) => string }> = [
  ...['Pod', 'Node', 'ReplicationController', 'Event', 'Namespace', 'Secret', 'Service'].map((kind) => ({
    group: '',
    kind,
    message: (field: string) => `field label not supported: ${field}`,
  })),
  { group: 'batch', kind: 'Job', message: (field: string) => `field label ${JSON.stringify(field)} not supported for batchv1.Job` },
];

/**
 * The 400 BadRequest kube-apiserver answers for a field selector on an
 * unsupported field. For kinds with their own field-label conversion (Pod,
 * Node, Event, Namespace, Secret, Service, ReplicationController, batch Job)
 * the message is theirs (`field label not supported: spec.foo`); for the
 * others (and when `kind` is omitted) it is
 * `"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace"`.
 * `group` disambiguates kinds present in several groups (core vs events.k8s.io Event).
 */
export function unknownFieldSelectorError(field: string, kind?: string, group?: string): StatusError {
  const rejection =
    kind === undefined
      ? undefined
      : FIELD_LABEL_REJECTIONS.find((r) => r.kind === kind && (group === undefined || r.group === group));
  const message = rejection
    ? rejection.message(field)
    : `${JSON.stringify(field)} is not a known field selector: only "metadata.name", "metadata.namespace"`;
  return badRequest(message);
}
