// Generates src/api/generated/enums.json: the `+enum` string types of the Kubernetes API and
// the struct fields typed with them, read from the Go sources of k8s.io/api. kube-apiserver's
// OpenAPI (openapi-gen) gives such a field an `enum` list and appends "Possible enum values:"
// to its description; kubernetes-types drops both, so the schema generated from it
// (gen-schema.mjs) lacks them and `kubectl explain` would print neither. The output is
// committed, so builds never need to run this.
//
// Usage: node scripts/gen-enums.mjs <k8s.io/api source dir> [--check]
//   e.g. a checkout of k8s.io/api at v0.32.5 (the API version Pilote reports), with
//   K8S_API_VERSION=v0.32.5 to record it.
//   --check  exit 1 if the committed file differs from what would be generated.
//
// The rules are openapi-gen's (kube-openapi pkg/generators/enum.go): an enum type is a
// `type X string` whose doc comment has the `+enum` tag; its values are the string
// constants of that type (one per value, the longer comment wins); a field gets them
// when its type is the enum or a pointer to it (not a slice or a map). Each value is
// described as ` - `"Value"` <its comment without the constant's name>`, lines sorted.
import { readFileSync, writeFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'src', 'api', 'generated', 'enums.json');
const args = process.argv.slice(2);
const check = args.includes('--check');
const apiDir = args.find((a) => !a.startsWith('--'));
if (!apiDir) {
  console.error('usage: node scripts/gen-enums.mjs <k8s.io/api source dir> [--check]');
  process.exit(2);
}
// Recorded in the output: the @vX.Y.Z of a Go module cache directory, else $K8S_API_VERSION.
const version = /@(v[\d.]+)/.exec(apiDir)?.[1] ?? process.env.K8S_API_VERSION ?? 'unknown';

/** Go packages of k8s.io/api: "core/v1", "apps/v1", … → their non-test, non-generated .go files. */
function listPackages(dir) {
  const packages = new Map();
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) {
        if (name !== 'testdata') walk(path);
      } else if (name.endsWith('.go') && !name.endsWith('_test.go') && !name.startsWith('zz_generated') && !name.startsWith('generated.')) {
        const pkg = relative(dir, d).split(sep).join('/');
        if (!packages.has(pkg)) packages.set(pkg, []);
        packages.get(pkg).push(path);
      }
    }
  };
  walk(dir);
  return packages;
}

/**
 * The doc comment directly above line `i` (contiguous `//` lines), as go/ast's
 * CommentGroup.Text() gives it: markers and one following space removed.
 */
function docAbove(lines, i) {
  const out = [];
  for (let j = i - 1; j >= 0; j--) {
    const m = /^\s*\/\/ ?(.*)$/.exec(lines[j]);
    if (!m) break;
    out.unshift(m[1].replace(/\s+$/, ''));
  }
  return out.filter((line) => !/^(line |extern |export |[a-z0-9]+:[a-z0-9])/.test(line));
}

/** Import alias → package path under k8s.io/api ("core/v1"), for a file's imports. */
function importsOf(text) {
  const imports = new Map();
  const block = /^import\s*\(([\s\S]*?)^\)/m.exec(text)?.[1] ?? '';
  const singles = [...text.matchAll(/^import\s+(\w+\s+)?"([^"]+)"/gm)].map((m) => `${m[1] ?? ''}"${m[2]}"`);
  for (const line of [...block.split('\n'), ...singles]) {
    const m = /^\s*(\w+)?\s*"k8s\.io\/api\/([^"]+)"/.exec(line);
    if (m) imports.set(m[1] ?? m[2].split('/').pop(), m[2]);
  }
  return imports;
}

const packages = listPackages(apiDir);
/** "core/v1.DNSPolicy" → { values: Map(value → {name, comment}) } */
const enumTypes = new Map();
const files = [];
for (const [pkg, paths] of packages) {
  for (const path of paths) {
    const text = readFileSync(path, 'utf8');
    files.push({ pkg, text, lines: text.split('\n') });
  }
}

// Enum types: `type X string` with `+enum` in its doc comment.
for (const { pkg, lines } of files) {
  lines.forEach((line, i) => {
    const m = /^\s*(?:type\s+)?([A-Z]\w*)\s+string\s*$/.exec(line);
    if (!m || !/^\s*type\s/.test(line) && !insideTypeBlock(lines, i)) return;
    if (docAbove(lines, i).some((l) => /^\+enum\b/.test(l.trim()))) enumTypes.set(`${pkg}.${m[1]}`, { values: new Map() });
  });
}

function insideTypeBlock(lines, i) {
  for (let j = i - 1; j >= 0; j--) {
    if (/^type\s*\($/.test(lines[j])) return true;
    if (/^\S/.test(lines[j]) && !/^\/\//.test(lines[j])) return false;
  }
  return false;
}

// Enum values: string constants of those types, `Name Type = "v"` or `Name = Type("v")`.
for (const { pkg, text, lines } of files) {
  const imports = importsOf(text);
  const resolve = (typeName) => {
    const [qualifier, name] = typeName.includes('.') ? typeName.split('.') : [undefined, typeName];
    const target = qualifier ? imports.get(qualifier) : pkg;
    return target ? `${target}.${name}` : undefined;
  };
  lines.forEach((line, i) => {
    const typed = /^\s*(?:const\s+)?([A-Z]\w*)\s+((?:\w+\.)?[A-Z]\w*)\s*=\s*"((?:[^"\\]|\\.)*)"/.exec(line);
    const converted = /^\s*(?:const\s+)?([A-Z]\w*)\s*=\s*((?:\w+\.)?[A-Z]\w*)\("((?:[^"\\]|\\.)*)"\)/.exec(line);
    const m = typed ?? converted;
    if (!m) return;
    const type = enumTypes.get(resolve(m[2]));
    if (!type) return;
    const value = JSON.parse(`"${m[3]}"`);
    const comment = docAbove(lines, i).join(' ');
    const existing = type.values.get(value);
    // openapi-gen keeps one constant per value: the longer comment (then the smaller one).
    if (!existing || existing.comment.length < comment.length || (existing.comment.length === comment.length && existing.comment > comment)) {
      type.values.set(value, { name: m[1], comment });
    }
  });
}

/** The value's description line, as enumValue.Description() writes it. */
function describe(value, { name, comment }) {
  let text = comment.trim();
  if (text.startsWith(name)) text = text.slice(name.length);
  text = text.trim().replace(/\s+/g, ' ');
  return ` - \`${goQuote(value)}\` ${text}`;
}

/** Go's %q for the ASCII strings enum values are. */
function goQuote(s) {
  return JSON.stringify(s);
}

// Fields typed with an enum (or a pointer to one), per definition.
const fields = {};
for (const { pkg, text, lines } of files) {
  const imports = importsOf(text);
  let struct;
  lines.forEach((line) => {
    const start = /^type\s+([A-Z]\w*)\s+struct\s*\{\s*$/.exec(line);
    if (start) {
      struct = start[1];
      return;
    }
    if (struct && /^\}/.test(line)) {
      struct = undefined;
      return;
    }
    if (!struct) return;
    const m = /^\t([A-Z]\w*)\s+\*?((?:\w+\.)?[A-Z]\w*)\s+`[^`]*json:"([^",]*)/.exec(line);
    if (!m || !m[3] || m[3] === '-') return;
    const [qualifier, name] = m[2].includes('.') ? m[2].split('.') : [undefined, m[2]];
    const target = qualifier ? imports.get(qualifier) : pkg;
    const key = target && `${target}.${name}`;
    if (!key || !enumTypes.has(key)) return;
    const definition = `io.k8s.api.${pkg.replace(/\//g, '.')}.${struct}`;
    (fields[definition] ??= {})[m[3]] = key;
  });
}

const types = {};
for (const key of [...enumTypes.keys()].sort()) {
  const { values } = enumTypes.get(key);
  if (values.size === 0) continue;
  types[key] = {
    values: [...values.keys()].sort((a, b) => (goQuote(a) < goQuote(b) ? -1 : goQuote(a) > goQuote(b) ? 1 : 0)),
    lines: [...values.entries()].map(([value, constant]) => describe(value, constant)).sort(),
  };
}
const sortedFields = {};
for (const definition of Object.keys(fields).sort()) {
  const entries = Object.entries(fields[definition]).filter(([, key]) => types[key]);
  if (entries.length) sortedFields[definition] = Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)));
}

const output = `${JSON.stringify({ source: `k8s.io/api@${version}`, types, fields: sortedFields }, null, 1)}\n`;
if (check) {
  let current = '';
  try {
    current = readFileSync(outFile, 'utf8');
  } catch {}
  if (current !== output) {
    console.error(`${relative(root, outFile)} is out of date; run node scripts/gen-enums.mjs <k8s.io/api dir>`);
    process.exit(1);
  }
} else {
  writeFileSync(outFile, output);
  console.log(`wrote ${relative(root, outFile)}: ${Object.keys(types).length} enum types, ${Object.values(sortedFields).reduce((n, f) => n + Object.keys(f).length, 0)} fields`);
}
