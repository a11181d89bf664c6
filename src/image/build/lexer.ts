/**
 * Dockerfile word processing: quote removal, escapes and variable
 * substitution ($VAR, ${VAR}, ${VAR:-x}, ${VAR-x}, ${VAR:+x}, ${VAR+x},
 * ${VAR:?msg}, ${VAR?msg}) with the rules of Docker's shell lexer — used by
 * the instructions that expand variables (FROM, COPY, ADD, ENV, ARG, LABEL,
 * WORKDIR, USER, EXPOSE, VOLUME, STOPSIGNAL). RUN/CMD/ENTRYPOINT are left to
 * the shell in the container, as Docker does.
 */

/** Variables visible to an instruction, by name. */
export type VarLookup = (name: string) => string | undefined;

/** Raised for `${VAR:?message}` on an unset variable and for malformed `${…}`. */
export class SubstitutionError extends Error {}

interface Piece {
  text: string;
  /** Quoted or escaped text never splits into several words. */
  literal: boolean;
}

class Scanner {
  pos = 0;
  constructor(readonly src: string, readonly escape: string, readonly vars: VarLookup) {}

  peek(): string {
    return this.src[this.pos] ?? '';
  }

  /** Scans until `stop` (not consumed) or end; returns pieces of text. */
  scan(stop: (ch: string) => boolean): Piece[] {
    const pieces: Piece[] = [];
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos];
      if (stop(ch)) break;
      if (ch === "'") pieces.push({ text: this.singleQuoted(), literal: true });
      else if (ch === '"') pieces.push({ text: this.doubleQuoted(), literal: true });
      else if (ch === '$') pieces.push({ text: this.dollar(), literal: false });
      else if (ch === this.escape) {
        this.pos++;
        if (this.pos >= this.src.length) pieces.push({ text: ch, literal: true });
        else pieces.push({ text: this.src[this.pos++], literal: true });
      } else {
        pieces.push({ text: ch, literal: false });
        this.pos++;
      }
    }
    return pieces;
  }

  private singleQuoted(): string {
    this.pos++;
    const end = this.src.indexOf("'", this.pos);
    if (end < 0) throw new SubstitutionError('unexpected end of statement while looking for matching single-quote');
    const text = this.src.slice(this.pos, end);
    this.pos = end + 1;
    return text;
  }

  private doubleQuoted(): string {
    this.pos++;
    let out = '';
    while (this.pos < this.src.length) {
      const ch = this.src[this.pos];
      if (ch === '"') {
        this.pos++;
        return out;
      }
      if (ch === '$') out += this.dollar();
      else if (ch === this.escape) {
        const next = this.src[this.pos + 1];
        if (next === undefined) {
          out += ch;
          this.pos++;
        } else if (next === '"' || next === '$' || next === this.escape) {
          out += next;
          this.pos += 2;
        } else {
          out += ch + next;
          this.pos += 2;
        }
      } else {
        out += ch;
        this.pos++;
      }
    }
    throw new SubstitutionError('unexpected end of statement while looking for matching double-quote');
  }

  /** At a `$`: returns the expansion (or a literal `$`). */
  private dollar(): string {
    this.pos++;
    const ch = this.peek();
    if (ch === '{') {
      this.pos++;
      return this.braced();
    }
    const name = this.name();
    if (!name) return '$';
    return this.vars(name) ?? '';
  }

  private name(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*|^[0-9]/.exec(this.src.slice(this.pos));
    if (!m) return '';
    this.pos += m[0].length;
    return m[0];
  }

  private braced(): string {
    const name = this.name();
    if (!name) throw new SubstitutionError(`bad substitution: missing variable name in "${this.src}"`);
    const ch = this.peek();
    if (ch === '}') {
      this.pos++;
      return this.vars(name) ?? '';
    }
    let op = '';
    if (ch === ':') {
      op = ':';
      this.pos++;
    }
    const kind = this.peek();
    if (kind !== '-' && kind !== '+' && kind !== '?') {
      throw new SubstitutionError(`unsupported modifier (${op}${kind}) in substitution "\${${name}${op}${kind}…}"`);
    }
    this.pos++;
    const word = this.scan((c) => c === '}')
      .map((p) => p.text)
      .join('');
    if (this.peek() !== '}') throw new SubstitutionError(`missing '}' in substitution of ${name}`);
    this.pos++;
    const value = this.vars(name);
    const unset = op === ':' ? !value : value === undefined;
    if (kind === '-') return unset ? word : (value as string);
    if (kind === '+') return unset ? '' : word;
    if (unset) throw new SubstitutionError(`${name}: ${word || 'is not allowed to be unset'}`);
    return value as string;
  }
}

/** Expands variables and removes quotes/escapes; the result is one string (whitespace kept). */
export function processWord(text: string, vars: VarLookup, escape = '\\'): string {
  const scanner = new Scanner(text, escape, vars);
  return scanner
    .scan(() => false)
    .map((p) => p.text)
    .join('');
}

/**
 * Expands variables, removes quotes/escapes and splits on unquoted
 * whitespace (also inside unquoted variable values), as Docker does for
 * COPY/ADD/EXPOSE/VOLUME arguments.
 */
export function processWords(text: string, vars: VarLookup, escape = '\\'): string[] {
  const scanner = new Scanner(text, escape, vars);
  const words: string[] = [];
  let current = '';
  let started = false;
  for (const piece of scanner.scan(() => false)) {
    if (piece.literal) {
      current += piece.text;
      started = true;
      continue;
    }
    for (const ch of piece.text) {
      if (/\s/.test(ch)) {
        if (started) words.push(current);
        current = '';
        started = false;
      } else {
        current += ch;
        started = true;
      }
    }
  }
  if (started) words.push(current);
  return words;
}

/**
 * Splits raw text on unquoted whitespace WITHOUT removing quotes or
 * expanding anything (Docker's parseWords): the `k=v` pairs of ENV/LABEL/ARG
 * are split first, then each key and value is processed.
 */
export function splitRawWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let current = '';
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (!quote && /\s/.test(ch)) {
      if (current) words.push(current);
      current = '';
      continue;
    }
    if (ch === escape && quote !== "'" && i + 1 < text.length) {
      current += ch + text[++i];
      continue;
    }
    if (quote && ch === quote) quote = '';
    else if (!quote && (ch === '"' || ch === "'")) quote = ch;
    current += ch;
  }
  if (current) words.push(current);
  return words;
}
