/**
 * Dockerfile parser: directives (`# escape=`, `# syntax=`), comments, line
 * continuations, instruction flags (`--from=…`), exec (JSON) and shell forms,
 * stages (`FROM … AS name`). Produces instructions carrying their line
 * number so every later error can name it (`Dockerfile:3: …`).
 */

/** An error tied to a Dockerfile line: `Dockerfile:3: unknown instruction: COPPY`. */
export class DockerfileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
  ) {
    super(line > 0 ? `${file}:${line}: ${detail}` : `${file}: ${detail}`);
  }
}

/** Instructions Pilote builds (HEALTHCHECK is accepted and ignored, as the kubelet ignores it). */
export const KNOWN_INSTRUCTIONS = [
  'FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'COPY', 'ADD', 'ENV', 'ARG', 'WORKDIR', 'USER', 'EXPOSE',
  'LABEL', 'VOLUME', 'MAINTAINER', 'STOPSIGNAL', 'SHELL', 'HEALTHCHECK', 'ONBUILD',
] as const;

/** An instruction keyword. */
export type Keyword = (typeof KNOWN_INSTRUCTIONS)[number];

/** Flags each instruction accepts (`--name=value`); others are rejected with the line. */
const ALLOWED_FLAGS: Partial<Record<Keyword, string[]>> = {
  FROM: ['platform'],
  COPY: ['from', 'chown', 'chmod', 'link'],
  ADD: ['chown', 'chmod', 'link'],
  RUN: [],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

/** One instruction as written. */
export interface Instruction {
  keyword: Keyword;
  /** First line of the instruction (1-based). */
  line: number;
  /** Flags given before the arguments, by name. */
  flags: Record<string, string>;
  /** The arguments after the flags, continuations joined, not yet expanded. */
  args: string;
  /** The exec/JSON form's strings when the arguments are a JSON array of strings. */
  json?: string[];
  /** The instruction as shown in progress and history (`COPY a b`). */
  text: string;
}

/** A build stage: a FROM and what follows it. */
export interface Stage {
  index: number;
  /** The `AS name`, lower-cased as Docker does. */
  name?: string;
  /** The base as written (before ARG expansion). */
  baseRaw: string;
  from: Instruction;
  instructions: Instruction[];
}

/** A parsed Dockerfile. */
export interface Dockerfile {
  file: string;
  escape: string;
  /** ARG instructions before the first FROM. */
  globalArgs: Instruction[];
  stages: Stage[];
}

/** Parses Dockerfile text; `file` names it in errors (e.g. `Dockerfile`). */
export function parseDockerfile(source: string, file = 'Dockerfile'): Dockerfile {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  let escape = '\\';
  let index = 0;
  // Directives: only at the very top, before any instruction, blank line or other comment.
  for (; index < lines.length; index++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[index]);
    if (!m) break;
    const key = m[1].toLowerCase();
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(file, index + 1, `invalid escape token '${m[2]}' does not match ` + '` or \\');
      escape = m[2];
    } else if (key !== 'syntax' && key !== 'check') break;
  }

  const logical: { line: number; text: string }[] = [];
  let pending: { line: number; text: string } | undefined;
  for (; index < lines.length; index++) {
    const raw = lines[index];
    const trimmed = raw.trim();
    if (trimmed.startsWith('#')) continue; // comments, also inside continuations
    if (!pending && trimmed === '') continue;
    if (pending && trimmed === '') continue; // empty continuation lines are skipped
    const body = raw.replace(/\s+$/, '');
    const continues = body.endsWith(escape);
    const piece = continues ? body.slice(0, -1) : body;
    if (pending) pending.text += piece;
    else pending = { line: index + 1, text: piece.replace(/^\s+/, '') };
    if (!continues) {
      logical.push(pending);
      pending = undefined;
    }
  }
  if (pending) logical.push(pending);

  const result: Dockerfile = { file, escape, globalArgs: [], stages: [] };
  for (const { line, text } of logical) {
    const instruction = parseInstruction(file, line, text);
    if (instruction.keyword === 'FROM') {
      result.stages.push(makeStage(file, result.stages.length, instruction));
    } else if (result.stages.length === 0) {
      if (instruction.keyword !== 'ARG') {
        throw new DockerfileError(file, line, `${instruction.keyword} before the first FROM: a Dockerfile must begin with FROM (only ARG may precede it)`);
      }
      result.globalArgs.push(instruction);
    } else {
      result.stages[result.stages.length - 1].instructions.push(instruction);
    }
  }
  if (result.stages.length === 0) throw new DockerfileError(file, 0, 'no FROM instruction: the file has no build stage');
  const names = new Set<string>();
  for (const stage of result.stages) {
    if (!stage.name) continue;
    if (names.has(stage.name)) throw new DockerfileError(file, stage.from.line, `duplicate stage name "${stage.name}"`);
    names.add(stage.name);
  }
  return result;
}

function parseInstruction(file: string, line: number, text: string): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text) as RegExpExecArray;
  const word = m[1];
  const keyword = word.toUpperCase() as Keyword;
  if (!(KNOWN_INSTRUCTIONS as readonly string[]).includes(keyword)) {
    const near = KNOWN_INSTRUCTIONS.find((known) => editDistance(known, keyword) <= 2);
    throw new DockerfileError(file, line, `unknown instruction: ${keyword}${near ? ` (did you mean ${near}?)` : ''}`);
  }
  if (keyword === 'ONBUILD') throw new DockerfileError(file, line, 'ONBUILD is not supported by pilote build');
  let rest = m[2];
  const flags: Record<string, string> = {};
  const allowed = ALLOWED_FLAGS[keyword];
  if (allowed) {
    for (;;) {
      const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=("[^"]*"|\S*))?(\s+|$)/.exec(rest);
      if (!f) break;
      const name = f[1].toLowerCase();
      if (!allowed.includes(name)) {
        const hint = keyword === 'RUN' ? ` (RUN --${name} is a BuildKit extension pilote build does not implement)` : '';
        throw new DockerfileError(file, line, `unknown flag for ${keyword}: --${name}${hint}`);
      }
      flags[name] = (f[2] ?? 'true').replace(/^"(.*)"$/, '$1');
      rest = rest.slice(f[0].length);
    }
  }
  rest = rest.trim();
  if ((keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') && /^<<-?["']?[A-Za-z_]/.test(rest)) {
    throw new DockerfileError(file, line, `${keyword} with a here-document (<<EOF) is not supported by pilote build: put the script in a file and COPY it, or use RUN with && and line continuations`);
  }
  const json = parseJsonForm(rest);
  const flagText = Object.entries(flags)
    .map(([k, v]) => `--${k}=${v} `)
    .join('');
  const instruction: Instruction = { keyword, line, flags, args: rest, text: `${keyword} ${flagText}${rest}`.trim() };
  if (json) instruction.json = json;
  if (rest === '' && !['CMD', 'ENTRYPOINT'].includes(keyword)) {
    throw new DockerfileError(file, line, `${keyword} requires at least one argument`);
  }
  return instruction;
}

/** The exec form: a JSON array of strings, else undefined (shell form). */
function parseJsonForm(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(args);
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    // not JSON: the shell form, as Docker treats it
  }
  return undefined;
}

function makeStage(file: string, index: number, from: Instruction): Stage {
  const words = from.args.split(/\s+/);
  let name: string | undefined;
  if (words.length === 3 && words[1].toUpperCase() === 'AS') {
    name = words[2].toLowerCase();
    if (!/^[a-z][a-z0-9-_.]*$/.test(name)) throw new DockerfileError(file, from.line, `invalid stage name "${words[2]}"`);
  } else if (words.length !== 1) {
    throw new DockerfileError(file, from.line, 'FROM requires either one or three arguments: FROM <image> [AS <name>]');
  }
  return { index, name, baseRaw: words[0], from, instructions: [] };
}

/** Levenshtein distance, for "did you mean" hints. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
