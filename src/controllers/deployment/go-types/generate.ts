/**
 * Generates the table of Go struct shapes that pod-template hashing needs
 * (./v1_32.ts, ./v1_19.ts) from the Go sources of k8s.io/api and
 * k8s.io/apimachinery at one release.
 *
 * Kubernetes names a Deployment's ReplicaSets after a hash of the Go *struct*
 * printed by go-spew (every field, zero or not, in declaration order, with
 * type names), so hashing the JSON alone cannot match: we need each struct's
 * fields, their Go types and their JSON names, exactly as declared at the
 * release a real cluster runs.
 *
 * Usage (sources extracted from the two repositories at a tag):
 *   node dist/src/controllers/deployment/go-types/generate.js <k8s.io/api dir> <k8s.io/apimachinery dir> <label> > out.ts
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A struct field: Go name, JSON name ('' = inline), Go type expression (package-qualified keys). */
type Field = [name: string, json: string, type: string];
type Decl = { kind: 'struct'; fields: Field[] } | { kind: 'named'; underlying: string } | { kind: 'alias'; target: string };

/** Our package keys and the Go package name `reflect.Type.String()` prints for them. */
const PACKAGE_NAMES: Record<string, string> = {
  corev1: 'v1',
  metav1: 'v1',
  types: 'types',
  intstr: 'intstr',
  resource: 'resource',
  time: 'time',
  inf: 'inf',
  big: 'big',
};

/** Import qualifiers used in the sources → our package keys. */
const QUALIFIERS: Record<string, string> = { metav1: 'metav1', v1: 'metav1', resource: 'resource', types: 'types', intstr: 'intstr', time: 'time', inf: 'inf', big: 'big' };

const BASIC = new Set(['string', 'bool', 'int', 'int8', 'int16', 'int32', 'int64', 'uint', 'uint8', 'uint16', 'uint32', 'uint64', 'uintptr', 'byte', 'rune', 'float32', 'float64']);

function stripComments(source: string): string {
  // Block comments, then line comments (tags never contain "//" in these files).
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
}

/** Qualifies a Go type expression written inside package `pkg`. */
function qualify(expr: string, pkg: string): string {
  if (expr.startsWith('*')) return '*' + qualify(expr.slice(1), pkg);
  if (expr.startsWith('[]')) return '[]' + qualify(expr.slice(2), pkg);
  if (expr.startsWith('map[')) {
    let depth = 0;
    let i = 3;
    for (; i < expr.length; i++) {
      if (expr[i] === '[') depth++;
      else if (expr[i] === ']' && --depth === 0) break;
    }
    return `map[${qualify(expr.slice(4, i), pkg)}]${qualify(expr.slice(i + 1), pkg)}`;
  }
  if (BASIC.has(expr)) return expr === 'byte' ? 'uint8' : expr === 'rune' ? 'int32' : expr;
  const dot = expr.indexOf('.');
  if (dot > 0) {
    const qualifier = expr.slice(0, dot);
    // Unknown packages stay as written; reaching one of their types fails the generation.
    const target = QUALIFIERS[qualifier] ?? qualifier;
    return `${target}.${expr.slice(dot + 1)}`;
  }
  return `${pkg}.${expr}`;
}

function parseStructBody(body: string, pkg: string): Field[] {
  const fields: Field[] = [];
  for (const raw of body.split('\n')) {
    const tagMatch = /`([^`]*)`/.exec(raw);
    const tag = tagMatch?.[1] ?? '';
    const line = raw.replace(/`[^`]*`/, '').trim();
    if (!line) continue;
    const json = /json:"([^"]*)"/.exec(tag)?.[1];
    const jsonName = json === undefined ? undefined : json.split(',')[0]!;
    const tokens = line.split(/\s+/);
    if (tokens.length === 1) {
      // Embedded field: its name is the type's name without package or pointer.
      const type = tokens[0]!;
      const name = type.replace(/^\*/, '').replace(/^.*\./, '');
      fields.push([name, jsonName === undefined ? '' : jsonName, qualify(type, pkg)]);
    } else {
      const type = tokens[tokens.length - 1]!;
      const names = tokens.slice(0, -1).join('').split(',').filter(Boolean);
      for (const name of names) fields.push([name, jsonName ?? name, qualify(type, pkg)]);
    }
  }
  return fields;
}

/** Every type declaration of the Go files in `dir`, keyed `pkg.Name`. */
function parsePackage(dir: string, pkg: string, into: Map<string, Decl>): void {
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.go') || file.endsWith('_test.go') || file.startsWith('zz_generated') || file === 'generated.pb.go' || file.endsWith('swagger_doc_generated.go')) continue;
    const source = stripComments(readFileSync(join(dir, file), 'utf8'));
    // Grouped declarations: type ( A string \n B struct {...} )
    const text = source.replace(/\ntype \(\n([\s\S]*?)\n\)/g, (_m, inner: string) => '\n' + inner.replace(/^\s*(\w+\s)/gm, 'type $1'));
    const re = /^type (\w+)(\s*=)?\s+(.*)$/gm;
    let match: RegExpExecArray | null;
    while ((match = re.exec(text))) {
      const [, name, alias, rest] = match as unknown as [string, string, string | undefined, string];
      const key = `${pkg}.${name}`;
      if (rest.startsWith('struct {')) {
        if (rest.trim() === 'struct {}') {
          into.set(key, { kind: 'struct', fields: [] });
          continue;
        }
        const start = match.index + match[0].length;
        const end = text.indexOf('\n}', start);
        into.set(key, { kind: 'struct', fields: parseStructBody(text.slice(start, end), pkg) });
      } else if (rest.startsWith('interface')) {
        continue;
      } else if (alias) {
        into.set(key, { kind: 'alias', target: qualify(rest.trim(), pkg) });
      } else {
        into.set(key, { kind: 'named', underlying: qualify(rest.trim(), pkg) });
      }
    }
  }
}

/** Types outside the two repositories, spelled as the Go runtime declares them. */
function addBuiltins(into: Map<string, Decl>): void {
  into.set('time.Time', { kind: 'struct', fields: [['wall', 'wall', 'uint64'], ['ext', 'ext', 'int64'], ['loc', 'loc', '*time.Location']] });
  into.set('time.Location', { kind: 'struct', fields: [] });
  into.set('inf.Dec', { kind: 'struct', fields: [['unscaled', 'unscaled', 'big.Int'], ['scale', 'scale', 'inf.Scale']] });
  into.set('inf.Scale', { kind: 'named', underlying: 'int32' });
  into.set('big.Int', { kind: 'struct', fields: [['neg', 'neg', 'bool'], ['abs', 'abs', 'big.nat']] });
  into.set('big.nat', { kind: 'named', underlying: '[]big.Word' });
  into.set('big.Word', { kind: 'named', underlying: 'uint' });
}

/** The named types a type expression mentions. */
function namedIn(expr: string): string[] {
  return expr.split(/[*[\]]|map/).filter((part) => part.includes('.'));
}

function main(): void {
  const [apiDir, apimachineryDir, label] = process.argv.slice(2);
  if (!apiDir || !apimachineryDir || !label) throw new Error('usage: generate <k8s.io/api dir> <k8s.io/apimachinery dir> <label>');
  const decls = new Map<string, Decl>();
  parsePackage(join(apiDir, 'core/v1'), 'corev1', decls);
  parsePackage(join(apimachineryDir, 'pkg/apis/meta/v1'), 'metav1', decls);
  parsePackage(join(apimachineryDir, 'pkg/types'), 'types', decls);
  parsePackage(join(apimachineryDir, 'pkg/util/intstr'), 'intstr', decls);
  parsePackage(join(apimachineryDir, 'pkg/api/resource'), 'resource', decls);
  addBuiltins(decls);

  // Keep only what a PodTemplateSpec reaches.
  const reached = new Map<string, Decl>();
  const pending = ['corev1.PodTemplateSpec'];
  while (pending.length) {
    const key = pending.pop()!;
    if (reached.has(key)) continue;
    const decl = decls.get(key);
    if (!decl) throw new Error(`type ${key} not found`);
    reached.set(key, decl);
    const exprs = decl.kind === 'struct' ? decl.fields.map((f) => f[2]) : [decl.kind === 'named' ? decl.underlying : decl.target];
    for (const expr of exprs) pending.push(...namedIn(expr));
  }

  const lines: string[] = [];
  lines.push('/* eslint-disable */');
  lines.push(`// Generated by go-types/generate.ts from k8s.io/api and k8s.io/apimachinery ${label}. Do not edit.`);
  lines.push("import type { GoTypeTable } from './table.js';");
  lines.push('');
  const constName = `GO_TYPES_${label.replace(/^v/, 'V').replace(/\./g, '_').replace(/_\d+$/, '')}`;
  lines.push(`/** Go declarations reachable from core/v1 PodTemplateSpec at ${label}. */`);
  lines.push(`export const ${constName}: GoTypeTable = {`);
  lines.push(`  packages: ${JSON.stringify(PACKAGE_NAMES)},`);
  lines.push('  types: {');
  for (const key of [...reached.keys()].sort()) {
    const decl = reached.get(key)!;
    if (decl.kind === 'struct') lines.push(`    ${JSON.stringify(key)}: { fields: ${JSON.stringify(decl.fields)} },`);
    else if (decl.kind === 'named') lines.push(`    ${JSON.stringify(key)}: { underlying: ${JSON.stringify(decl.underlying)} },`);
    else lines.push(`    ${JSON.stringify(key)}: { alias: ${JSON.stringify(decl.target)} },`);
  }
  lines.push('  },');
  lines.push('};');
  process.stdout.write(lines.join('\n') + '\n');
}

// Only when run as a program (importing the module has no effect).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
