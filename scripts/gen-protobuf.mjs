// Generates src/api/protobuf/messages.json: the facts the protobuf codec needs about every
// Kubernetes message Pilote serves — field number, JSON name, proto type, repeated/map, and the
// Go-side facts that decide the JSON form (pointer, omitempty, inline embedding) — plus the
// apiVersion/kind → message table. Only facts are extracted; no Kubernetes code is copied.
//
// Usage: node scripts/gen-protobuf.mjs <kubernetes/api repo> <kubernetes/apimachinery repo> [--ref=REV] [--check]
//   Each repo is either a checkout (files on disk) or a bare git directory read at REV (default
//   HEAD; the committed table was made with --ref=v0.36.3, i.e. Kubernetes 1.36.3, a stable release).
//   --check  exit 1 if the committed table differs from what would be generated.
//
// Sources, per package: generated.proto (messages, numbers, types) and the Go files of the same
// package (struct tags: `json:"name,omitempty" protobuf:"bytes,N,opt,name=x"`). The proto field
// name is not always the JSON name, so fields are joined by number, never by name.
//
// Table shape:
//   messages: { "<proto package>.<Message>": [[number, jsonName, type, flags], …] }
//     type:  bool | int32 | int64 | string | bytes | double | float | <full message name>
//            | "map<string,<value type>>"
//     flags: r = repeated, p = Go pointer, o = omitempty, i = inlined in the parent's JSON
//            (anonymous embedded struct), x = not in the JSON form (`json:"-"`), "" for none.
//   lists:   messages that wrap a Go named slice (`type ExtraValue []string`): their JSON is the
//            bare array of field 1 `items`.
//   kinds:   { "<apiVersion>": { "<Kind>": "<full message name>" } } for every Go struct that
//            embeds TypeMeta.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'src', 'api', 'protobuf', 'messages.json');

/** Packages whose messages go into the table: [repo key, directory, proto package]. */
const PACKAGES = [
  ['apimachinery', 'pkg/apis/meta/v1', 'k8s.io.apimachinery.pkg.apis.meta.v1'],
  ['apimachinery', 'pkg/api/resource', 'k8s.io.apimachinery.pkg.api.resource'],
  ['apimachinery', 'pkg/util/intstr', 'k8s.io.apimachinery.pkg.util.intstr'],
  ['apimachinery', 'pkg/runtime', 'k8s.io.apimachinery.pkg.runtime'],
  ['apimachinery', 'pkg/runtime/schema', 'k8s.io.apimachinery.pkg.runtime.schema'],
  ...[
    'core/v1',
    'apps/v1',
    'batch/v1',
    'networking/v1',
    'rbac/v1',
    'coordination/v1',
    'discovery/v1',
    'events/v1',
    'storage/v1',
    'autoscaling/v1',
    'autoscaling/v2',
    'authorization/v1',
    'authentication/v1',
    'policy/v1',
    'scheduling/v1',
  ].map((dir) => ['api', dir, `k8s.io.api.${dir.replace('/', '.')}`]),
];

const SCALARS = new Set(['bool', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64', 'float', 'double', 'string', 'bytes']);

// ---------------------------------------------------------------------------------------------
// Reading a repository: a checkout on disk, or a bare git directory read at HEAD.

function repoReader(path, ref) {
  const bare = !existsSync(join(path, 'go.mod')) && (existsSync(join(path, 'HEAD')) || existsSync(join(path, '.git')));
  const git = (...args) => execFileSync('git', [`--git-dir=${existsSync(join(path, '.git')) ? join(path, '.git') : path}`, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (bare) {
    return {
      commit: `${ref} ${git('rev-parse', `${ref}^{commit}`).trim()}`,
      read: (file) => git('show', `${ref}:${file}`),
      list: (dir) =>
        git('ls-tree', '--name-only', `${ref}:${dir}`)
          .split('\n')
          .filter(Boolean)
          .map((name) => `${dir}/${name}`),
    };
  }
  let commit = 'worktree';
  try {
    commit = execFileSync('git', ['-C', path, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout: the commit stays unknown
  }
  return {
    commit,
    read: (file) => readFileSync(join(path, file), 'utf8'),
    list: (dir) =>
      readdirSync(join(path, dir))
        .filter((name) => statSync(join(path, dir, name)).isFile())
        .map((name) => `${dir}/${name}`),
  };
}

// ---------------------------------------------------------------------------------------------
// generated.proto: top-level messages with their fields (go-to-protobuf never nests messages).

const FIELD_RE = /^\s*(optional|repeated|required)\s+([.\w]+)\s+(\w+)\s*=\s*(\d+)\s*;/;
const MAP_RE = /^\s*map<\s*(\w+)\s*,\s*([.\w]+)\s*>\s+(\w+)\s*=\s*(\d+)\s*;/;

function parseProto(text, pkg) {
  const messages = new Map();
  let current = null;
  const resolve = (type) => (SCALARS.has(type) ? type : type.startsWith('.') ? type.slice(1) : type.includes('.') ? type : `${pkg}.${type}`);
  for (const line of text.split('\n')) {
    const start = /^message\s+(\w+)\s*\{/.exec(line);
    if (start) {
      current = { name: start[1], fields: [] };
      messages.set(start[1], current);
      if (/\}\s*$/.test(line)) current = null;
      continue;
    }
    if (!current) continue;
    if (/^\}/.test(line)) {
      current = null;
      continue;
    }
    const field = FIELD_RE.exec(line);
    if (field) {
      current.fields.push({ label: field[1], type: resolve(field[2]), protoName: field[3], number: Number(field[4]) });
      continue;
    }
    const map = MAP_RE.exec(line);
    if (map) {
      current.fields.push({ label: 'map', keyType: resolve(map[1]), type: resolve(map[2]), protoName: map[3], number: Number(map[4]) });
      continue;
    }
    if (/^\s*(oneof|enum|message|extend)\b/.test(line)) throw new Error(`${pkg}: unsupported proto construct: ${line.trim()}`);
  }
  return messages;
}

// ---------------------------------------------------------------------------------------------
// Go types: struct fields with their tags, and named slice types.

function parseTag(tag, key) {
  const m = new RegExp(`(?:^|\\s)${key}:"([^"]*)"`).exec(tag);
  return m ? m[1] : undefined;
}

function parseGo(text, structs, namedSlices, typeMetaKinds) {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const slice = /^type\s+(\w+)\s+\[\](\S+)\s*$/.exec(lines[i]);
    if (slice && slice[2] !== 'byte') namedSlices.add(slice[1]);
    const start = /^type\s+(\w+)\s+struct\s*\{\s*$/.exec(lines[i]);
    if (!start) continue;
    const fields = [];
    let depth = 1;
    for (i++; i < lines.length && depth > 0; i++) {
      const line = lines[i].replace(/\/\/.*$/, '').trim();
      if (line === '') continue;
      if (line === '}') {
        depth--;
        continue;
      }
      if (line.endsWith('{')) {
        depth++; // anonymous nested struct: not part of any API type's proto
        continue;
      }
      if (depth !== 1) continue;
      const named = /^(\w+)\s+([^\s`]+)\s*(?:`([^`]*)`)?$/.exec(line);
      const embedded = /^(\*?[\w.]+)\s*(?:`([^`]*)`)?$/.exec(line);
      if (named) fields.push({ goName: named[1], goType: named[2], tag: named[3] ?? '', embedded: false });
      else if (embedded) fields.push({ goName: embedded[1].replace(/^\*/, '').replace(/^.*\./, ''), goType: embedded[1], tag: embedded[2] ?? '', embedded: true });
    }
    i--;
    structs.set(start[1], fields);
    if (fields.some((f) => f.embedded && /(^|\.)TypeMeta$/.test(f.goType))) typeMetaKinds.add(start[1]);
  }
}

/** The Go field facts keyed by protobuf field number. */
function goFieldsByNumber(fields) {
  const byNumber = new Map();
  for (const f of fields) {
    const pb = parseTag(f.tag, 'protobuf');
    if (!pb || pb === '-') continue;
    const number = Number(pb.split(',')[1]);
    const json = parseTag(f.tag, 'json');
    const [jsonName = '', ...opts] = (json ?? '').split(',');
    const inline = f.embedded && (json === undefined || jsonName === '');
    byNumber.set(number, {
      jsonName: inline ? '' : json === undefined || jsonName === '' ? f.goName : jsonName,
      omitempty: opts.includes('omitempty'),
      pointer: f.goType.startsWith('*'),
      inline,
      skip: jsonName === '-' && opts.length === 0,
    });
  }
  return byNumber;
}

// ---------------------------------------------------------------------------------------------

function generate(repoPaths, ref) {
  const repos = { api: repoReader(repoPaths.api, ref), apimachinery: repoReader(repoPaths.apimachinery, ref) };
  const messages = {};
  const lists = [];
  const kinds = {};
  const renamed = [];
  const warnings = [];

  for (const [repoKey, dir, pkg] of PACKAGES) {
    const repo = repos[repoKey];
    const proto = parseProto(repo.read(`${dir}/generated.proto`), pkg);
    const structs = new Map();
    const namedSlices = new Set();
    const typeMetaKinds = new Set();
    let groupName;
    for (const file of repo.list(dir)) {
      if (!file.endsWith('.go') || file.endsWith('_test.go') || /\/(generated\.pb|zz_generated[^/]*)\.go$/.test(file)) continue;
      const text = repo.read(file);
      parseGo(text, structs, namedSlices, typeMetaKinds);
      const group = /^const\s+GroupName\s*=\s*"([^"]*)"/m.exec(text);
      if (group) groupName = group[1];
    }

    for (const [name, message] of proto) {
      const full = `${pkg}.${name}`;
      const goFields = goFieldsByNumber(structs.get(name) ?? []);
      if (namedSlices.has(name)) {
        if (message.fields.length !== 1 || message.fields[0].protoName !== 'items') throw new Error(`${full}: named slice without a single items field`);
        lists.push(full);
      } else if (!structs.has(name)) {
        warnings.push(`${full}: no Go struct (custom type; the codec handles it by name)`);
      }
      const fields = [];
      for (const f of [...message.fields].sort((a, b) => a.number - b.number)) {
        const go = goFields.get(f.number);
        if (!go && structs.has(name)) warnings.push(`${full}.${f.protoName} (${f.number}): no Go field, JSON name taken from proto`);
        if (go?.skip) warnings.push(`${full}.${f.protoName} (${f.number}): json:"-", kept with its proto name and flag x`);
        const jsonName = go && !go.skip ? go.jsonName : f.protoName;
        if (go && !go.inline && jsonName !== f.protoName) renamed.push(`${full}: proto ${f.protoName} → json ${jsonName}`);
        let flags = '';
        if (f.label === 'repeated') flags += 'r';
        if (go?.pointer) flags += 'p';
        if (go?.omitempty) flags += 'o';
        if (go?.inline) flags += 'i';
        if (go?.skip) flags += 'x';
        const type = f.label === 'map' ? `map<${f.keyType},${f.type}>` : f.type;
        fields.push([f.number, jsonName, type, flags]);
      }
      for (const number of goFields.keys()) {
        if (!message.fields.some((f) => f.number === number)) warnings.push(`${full}: Go field number ${number} is not in generated.proto`);
      }
      messages[full] = fields;
    }

    if (groupName === undefined) continue; // support packages (resource, intstr, runtime) serve no kinds
    const version = dir.split('/').pop();
    const apiVersion = groupName === '' ? version : `${groupName}/${version}`;
    for (const kind of [...typeMetaKinds].sort()) {
      if (!proto.has(kind)) continue; // Go-only kinds (e.g. List) have no protobuf form
      (kinds[apiVersion] ??= {})[kind] = `${pkg}.${kind}`;
    }
  }

  // Every referenced message must be in the table, or the codec could not decode it.
  for (const [full, fields] of Object.entries(messages)) {
    for (const [, , type] of fields) {
      const ref = type.startsWith('map<') ? type.slice(type.indexOf(',') + 1, -1) : type;
      if (!SCALARS.has(ref) && !(ref in messages)) throw new Error(`${full}: references ${ref}, which is not in the table (add its package)`);
    }
  }

  const table = {
    comment: 'Generated by scripts/gen-protobuf.mjs from kubernetes/api and kubernetes/apimachinery generated.proto + Go struct tags. Do not edit.',
    source: { 'kubernetes/api': repos.api.commit, 'kubernetes/apimachinery': repos.apimachinery.commit },
    kinds,
    lists: lists.sort(),
    messages: Object.fromEntries(Object.entries(messages).sort(([a], [b]) => (a < b ? -1 : 1))),
  };
  return { table, renamed, warnings };
}

/** JSON with one message (or one apiVersion) per line: small diffs, still readable. */
function render(table) {
  const parts = ['{'];
  parts.push(`  "comment": ${JSON.stringify(table.comment)},`);
  parts.push(`  "source": ${JSON.stringify(table.source)},`);
  parts.push('  "kinds": {');
  const kindEntries = Object.entries(table.kinds);
  kindEntries.forEach(([v, k], i) => parts.push(`    ${JSON.stringify(v)}: ${JSON.stringify(k)}${i < kindEntries.length - 1 ? ',' : ''}`));
  parts.push('  },');
  parts.push(`  "lists": ${JSON.stringify(table.lists)},`);
  parts.push('  "messages": {');
  const entries = Object.entries(table.messages);
  entries.forEach(([name, fields], i) => parts.push(`    ${JSON.stringify(name)}: ${JSON.stringify(fields)}${i < entries.length - 1 ? ',' : ''}`));
  parts.push('  }');
  parts.push('}');
  return parts.join('\n') + '\n';
}

const args = process.argv.slice(2);
const check = args.includes('--check');
const ref = args.find((a) => a.startsWith('--ref='))?.slice('--ref='.length) ?? 'HEAD';
const [apiPath, apimachineryPath] = args.filter((a) => !a.startsWith('--'));
if (!apiPath || !apimachineryPath) {
  console.error('usage: node scripts/gen-protobuf.mjs <kubernetes/api repo> <kubernetes/apimachinery repo> [--check]');
  process.exit(2);
}
const { table, renamed, warnings } = generate({ api: apiPath, apimachinery: apimachineryPath }, ref);
const text = render(table);
for (const w of warnings) console.error(`note: ${w}`);
for (const r of renamed) console.error(`renamed: ${r}`);
const count = Object.keys(table.messages).length;
const fieldCount = Object.values(table.messages).reduce((n, f) => n + f.length, 0);
if (check) {
  const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  if (current !== text) {
    console.error(`${outFile} is out of date`);
    process.exit(1);
  }
  console.log(`${outFile} is up to date (${count} messages, ${fieldCount} fields)`);
} else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, text);
  console.log(`wrote ${outFile}: ${count} messages, ${fieldCount} fields, ${text.length} bytes`);
}
