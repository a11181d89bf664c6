// Generates src/api/generated/schema.json: one definition per Kubernetes type, read from the
// kubernetes-types declarations (interfaces, their JSDoc and optional markers) with the
// TypeScript compiler API. The output is committed, so builds never need to run this.
//
// Usage: node scripts/gen-schema.mjs [--check]
//   --check  exit 1 if the committed file differs from what would be generated.
//
// Definition names follow Kubernetes' OpenAPI naming (io.k8s.api.core.v1.Pod,
// io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta, …). Property schemas use a small
// OpenAPI subset: type string/integer/number/boolean, array + items, object +
// additionalProperties, $ref (a bare definition name), oneOf for the few union types.
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(root, 'node_modules', 'kubernetes-types');
const outFile = join(root, 'src', 'api', 'generated', 'schema.json');

/** kubernetes-types file (without .d.ts) → definition name prefix, for the files that are not k8s.io/api packages. */
const PACKAGE_PREFIXES = {
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  runtime: 'io.k8s.apimachinery.pkg.runtime',
  version: 'io.k8s.apimachinery.pkg.version',
  'apiextensions/v1': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1',
};

const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

// Types whose JSON form is arbitrary (custom unmarshalers keeping raw JSON): anything is accepted inside.
const OPAQUE = new Set([
  'io.k8s.apimachinery.pkg.runtime.RawExtension',
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'io.k8s.apimachinery.pkg.apis.meta.v1.Patch',
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSON',
]);

// kubernetes-types writes every Go number as `number`; all but these few are integers in the Go types.
const FLOAT_FIELDS = {
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': ['maximum', 'minimum', 'multipleOf'],
};

// String formats kubernetes-types drops, restored for the aliases that carry one in Kubernetes' OpenAPI.
const ALIAS_SCHEMAS = {
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
  'io.k8s.apimachinery.pkg.apis.meta.v1.Time': { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime': { type: 'string', format: 'date-time' },
};

// GVKs the declarations cannot tell (apiVersion/kind typed as plain string there).
const EXTRA_GVKS = {
  'io.k8s.apimachinery.pkg.apis.meta.v1.Status': [{ group: '', kind: 'Status', version: 'v1' }],
};

function listDeclarationFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listDeclarationFiles(path));
    else if (name.endsWith('.d.ts')) out.push(path);
  }
  return out.sort();
}

/** "core/v1" → io.k8s.api.core.v1; the apimachinery packages by table. */
function packagePrefix(fileName) {
  const rel = relative(typesDir, fileName).split(sep).join('/').replace(/\.d\.ts$/, '');
  if (PACKAGE_PREFIXES[rel]) return PACKAGE_PREFIXES[rel];
  const parts = rel.split('/');
  if (parts.length !== 2) throw new Error(`no definition prefix for kubernetes-types/${rel}`);
  return `io.k8s.api.${parts[0]}.${parts[1]}`;
}

const files = listDeclarationFiles(typesDir);
const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true, types: [] });
const checker = program.getTypeChecker();

/** The documentation comment of a declaration, as plain text. */
function docOf(node) {
  const symbol = node.name ? checker.getSymbolAtLocation(node.name) : undefined;
  if (!symbol) return '';
  return ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim();
}

/** The definition name a type reference resolves to. */
function definitionNameOf(typeName) {
  let symbol = checker.getSymbolAtLocation(typeName);
  if (!symbol) throw new Error(`unresolved type ${typeName.getText()}`);
  if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const decl = symbol.declarations?.[0];
  if (!decl) throw new Error(`no declaration for ${typeName.getText()}`);
  return `${packagePrefix(decl.getSourceFile().fileName)}.${symbol.getName()}`;
}

/** A JSON schema for a property's type node. `where` names it in errors. */
function schemaOf(node, where, numberType = 'integer') {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { type: numberType };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
    case ts.SyntaxKind.LiteralType:
      if (ts.isStringLiteral(node.literal)) return { type: 'string' };
      break;
    case ts.SyntaxKind.ArrayType:
      return { type: 'array', items: schemaOf(node.elementType, `${where}[]`, numberType) };
    case ts.SyntaxKind.ParenthesizedType:
      return schemaOf(node.type, where, numberType);
    case ts.SyntaxKind.TypeReference: {
      if (node.typeName.getText() === 'Array' && node.typeArguments?.length === 1) {
        return { type: 'array', items: schemaOf(node.typeArguments[0], `${where}[]`, numberType) };
      }
      return { $ref: definitionNameOf(node.typeName) };
    }
    case ts.SyntaxKind.TypeLiteral: {
      const [member] = node.members;
      if (node.members.length === 1 && ts.isIndexSignatureDeclaration(member)) {
        return { type: 'object', additionalProperties: schemaOf(member.type, `${where}{}`, numberType) };
      }
      break;
    }
    case ts.SyntaxKind.UnionType: {
      const kinds = node.types.map((t) => t.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
        return { $ref: INT_OR_STRING };
      }
      return { oneOf: node.types.map((t, i) => schemaOf(t, `${where}|${i}`, numberType)) };
    }
  }
  throw new Error(`unsupported type at ${where}: ${node.getText()}`);
}

/** The literal string type of a property, e.g. `kind?: "Pod"` → "Pod". */
function literalOf(member) {
  const type = member?.type;
  return type && ts.isLiteralTypeNode(type) && ts.isStringLiteral(type.literal) ? type.literal.text : undefined;
}

function interfaceDefinition(name, decl) {
  const def = { description: docOf(decl) || undefined, type: 'object' };
  if (OPAQUE.has(name)) def['x-kubernetes-preserve-unknown-fields'] = true;
  const properties = {};
  const required = [];
  const members = new Map();
  const floats = new Set(FLOAT_FIELDS[name] ?? []);
  for (const member of decl.members) {
    if (!ts.isPropertySignature(member) || !member.type) throw new Error(`unexpected member in ${name}`);
    const prop = member.name.getText().replace(/^"|"$/g, '');
    members.set(prop, member);
    const schema = schemaOf(member.type, `${name}.${prop}`, floats.has(prop) ? 'number' : 'integer');
    const description = docOf(member);
    properties[prop] = description ? { ...schema, description } : schema;
    if (!member.questionToken) required.push(prop);
  }
  if (Object.keys(properties).length > 0) def.properties = sortKeys(properties);
  if (required.length > 0) def.required = required;
  const apiVersion = literalOf(members.get('apiVersion'));
  const kind = literalOf(members.get('kind'));
  if (apiVersion && kind) {
    const slash = apiVersion.indexOf('/');
    const gvk = slash < 0 ? { group: '', kind, version: apiVersion } : { group: apiVersion.slice(0, slash), kind, version: apiVersion.slice(slash + 1) };
    def['x-kubernetes-group-version-kind'] = [gvk];
  } else if (EXTRA_GVKS[name]) {
    def['x-kubernetes-group-version-kind'] = EXTRA_GVKS[name];
  }
  return def;
}

function aliasDefinition(name, decl) {
  const description = docOf(decl) || undefined;
  const schema = ALIAS_SCHEMAS[name] ?? schemaOf(decl.type, name);
  return { description, ...schema };
}

function sortKeys(obj) {
  return Object.fromEntries(Object.entries(obj).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

const definitions = {};
for (const file of files) {
  const source = program.getSourceFile(file);
  const prefix = packagePrefix(file);
  for (const statement of source.statements) {
    if (ts.isInterfaceDeclaration(statement)) {
      const name = `${prefix}.${statement.name.text}`;
      definitions[name] = interfaceDefinition(name, statement);
    } else if (ts.isTypeAliasDeclaration(statement)) {
      const name = `${prefix}.${statement.name.text}`;
      definitions[name] = aliasDefinition(name, statement);
    }
  }
}

// IntOrString is inlined as `number | string` by kubernetes-types; Kubernetes names it.
definitions[INT_OR_STRING] = {
  description:
    'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
  format: 'int-or-string',
  oneOf: [{ type: 'integer' }, { type: 'string' }],
};

// Every $ref must resolve. (Walk schemas structurally: JSONSchemaProps has a property named "$ref".)
function checkRefs(schema, where) {
  if (schema.$ref !== undefined && !definitions[schema.$ref]) throw new Error(`${where} refers to missing ${schema.$ref}`);
  for (const [prop, sub] of Object.entries(schema.properties ?? {})) checkRefs(sub, `${where}.${prop}`);
  if (schema.items) checkRefs(schema.items, `${where}[]`);
  if (schema.additionalProperties) checkRefs(schema.additionalProperties, `${where}{}`);
  for (const sub of schema.oneOf ?? []) checkRefs(sub, `${where}|`);
}
for (const [name, def] of Object.entries(definitions)) checkRefs(def, name);

const typesVersion = JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')).version;
const output = `${JSON.stringify({ source: `kubernetes-types@${typesVersion}`, definitions: sortKeys(definitions) })}\n`;

if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(outFile, 'utf8');
  } catch {
    // missing counts as different
  }
  if (current !== output) {
    console.error(`${relative(root, outFile)} is out of date; run node scripts/gen-schema.mjs`);
    process.exit(1);
  }
} else {
  mkdirSync(dirname(outFile), { recursive: true });
  writeFileSync(outFile, output);
}
console.log(`${relative(root, outFile)}: ${Object.keys(definitions).length} definitions, ${(output.length / 1024).toFixed(0)} KiB`);
