import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { negotiateOpenAPIV2, openapiV2Document, openapiV2Spec } from './openapi-v2.js';
import type { OpenAPIResource } from './openapi.js';
import { ProtoReader, WireType } from './protobuf/wire.js';
import { serveOpenAPIV2 } from '../apiserver/openapi-v2-handler.js';

const RESOURCES: OpenAPIResource[] = [
  { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, subresources: ['status', 'log', 'exec', 'binding', 'eviction'] },
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true, subresources: ['status', 'scale'] },
  {
    group: 'stable.example.com',
    version: 'v1',
    kind: 'CronTab',
    resource: 'crontabs',
    namespaced: true,
    subresources: [],
    schema: {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            tags: { type: 'array', nullable: true, items: { type: 'string' } },
          },
        },
      },
    },
  },
];

type Json = Record<string, any>;

const doc = openapiV2Document(RESOURCES) as Json;

/** Every schema node of a definition tree, depth first. */
function* nodes(schema: Json): Generator<Json> {
  yield schema;
  for (const child of Object.values((schema.properties as Json | undefined) ?? {})) yield* nodes(child as Json);
  if (schema.items) yield* nodes(schema.items as Json);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') yield* nodes(schema.additionalProperties as Json);
}

describe('openapiV2Document', () => {
  it('is one Swagger 2.0 document with every group-version', () => {
    assert.equal(doc.swagger, '2.0');
    assert.ok(doc.paths['/api/v1/namespaces/{namespace}/pods/{name}']);
    assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']);
    assert.ok(doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs']);
    assert.deepEqual(doc.security, [{ BearerToken: [] }]);
    assert.equal(doc.securityDefinitions.BearerToken.type, 'apiKey');
  });

  it('writes operations as v2 does: consumes, produces, typed query parameters, a body parameter', () => {
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
    assert.ok(patch.produces.includes('application/json'));
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    assert.equal(patch['x-kubernetes-action'], 'patch');
    assert.deepEqual(patch.parameters[0], { in: 'body', name: 'body', required: true, schema: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' } });
    const validation = patch.parameters.find((p: Json) => p.name === 'fieldValidation');
    assert.equal(validation.type, 'string');
    assert.equal(validation.in, 'query');
    assert.equal(validation.schema, undefined);
    assert.deepEqual(patch.responses['200'].schema, { $ref: '#/definitions/io.k8s.api.apps.v1.Deployment' });
    assert.deepEqual(patch.schemes, ['https']);
    const item = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.deepEqual(
      item.parameters.map((p: Json) => [p.name, p.in, p.type]),
      [['name', 'path', 'string'], ['namespace', 'path', 'string'], ['pretty', 'query', 'string']],
    );
    // Custom resources take no strategic merge patch.
    const crPatch = doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
    assert.ok(!crPatch.consumes.includes('application/strategic-merge-patch+json'));
  });

  it('has definitions with GVKs, patch strategies and descriptions beside $ref', () => {
    const defs = doc.definitions;
    assert.deepEqual(defs['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    const spec = defs['io.k8s.api.core.v1.Pod'].properties.spec;
    assert.equal(spec.$ref, '#/definitions/io.k8s.api.core.v1.PodSpec');
    assert.match(spec.description, /^Specification of the desired behavior of the pod/);
    assert.equal(spec.allOf, undefined);
    const containers = defs['io.k8s.api.core.v1.PodSpec'].properties.containers;
    assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.deepEqual(containers.items, { $ref: '#/definitions/io.k8s.api.core.v1.Container' });
    const ports = defs['io.k8s.api.core.v1.Container'].properties.ports;
    assert.equal(ports['x-kubernetes-patch-merge-key'], 'containerPort');
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].type, 'string');
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].format, 'int-or-string');
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.api.resource.Quantity'].type, 'string');
  });

  it('only has what kubectl’s v2 model parser accepts', () => {
    for (const [name, definition] of Object.entries(doc.definitions as Json)) {
      for (const node of nodes(definition as Json)) {
        for (const key of ['oneOf', 'anyOf', 'allOf', 'nullable', 'not']) assert.equal(node[key], undefined, `${name}: no ${key}`);
        if (node.$ref) {
          assert.equal(node.type, undefined, `${name}: a $ref has no type`);
          assert.equal(node.properties, undefined, `${name}: a $ref has no properties`);
          assert.ok(doc.definitions[node.$ref.slice('#/definitions/'.length)], `${name}: ${node.$ref} resolves`);
        }
        if (node.type === 'array') assert.ok(node.items, `${name}: an array has items`);
      }
    }
    const cron = doc.definitions['com.example.stable.v1.CronTab'].properties.spec.properties;
    assert.deepEqual(cron.port, { 'x-kubernetes-int-or-string': true });
    assert.deepEqual(cron.tags, { items: { type: 'string' }, type: 'array' });
  });
});

// ---------------------------------------------------------------------------
// Reading the protobuf form back, field by field.

type Fields = Map<number, Array<Buffer | number>>;

function decode(bytes: Buffer): Fields {
  const reader = new ProtoReader(bytes);
  const fields: Fields = new Map();
  while (!reader.done) {
    const { field, wireType } = reader.readTag();
    let value: Buffer | number;
    if (wireType === WireType.LengthDelimited) value = Buffer.from(reader.readBytes());
    else if (wireType === WireType.Varint) value = reader.readVarint();
    else throw new Error(`unexpected wire type ${wireType}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

const text = (fields: Fields, n: number): string | undefined => (fields.get(n)?.[0] as Buffer | undefined)?.toString('utf8');
const sub = (fields: Fields, n: number): Fields[] => (fields.get(n) ?? []).map((b) => decode(b as Buffer));

/** The entries of a gnostic map message (`repeated Named* additional_properties = 1` or the given field). */
function named(fields: Fields, n = 1): Map<string, Fields> {
  return new Map(sub(fields, n).map((entry) => [text(entry, 1)!, sub(entry, 2)[0]!]));
}

/** `repeated NamedAny vendor_extension` as name → parsed value (the YAML is JSON). */
function extensions(fields: Fields, n: number): Record<string, unknown> {
  return Object.fromEntries(sub(fields, n).map((entry) => [text(entry, 1)!, JSON.parse(text(sub(entry, 2)[0]!, 2)!)]));
}

describe('openapiV2Spec protobuf', () => {
  const spec = openapiV2Spec(RESOURCES);
  const document = decode(spec.protobuf);

  it('is a gnostic openapi.v2.Document', () => {
    assert.equal(text(document, 1), '2.0');
    assert.equal(text(sub(document, 2)[0]!, 1), 'Kubernetes');
    const definitions = named(sub(document, 9)[0]!);
    assert.equal(definitions.size, Object.keys(doc.definitions).length);
    const deployment = definitions.get('io.k8s.api.apps.v1.Deployment')!;
    assert.match(text(deployment, 4)!, /^Deployment enables declarative updates/);
    assert.deepEqual(extensions(deployment, 31), { 'x-kubernetes-group-version-kind': [{ group: 'apps', kind: 'Deployment', version: 'v1' }] });
    assert.deepEqual(sub(deployment, 22)[0]!.get(1)!.map((b) => b.toString()), ['object']);
    const properties = named(sub(deployment, 25)[0]!);
    assert.deepEqual([...properties.keys()], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    assert.equal(text(properties.get('spec')!, 1), '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
    const podSpec = named(sub(definitions.get('io.k8s.api.core.v1.PodSpec')!, 25)[0]!);
    const containers = podSpec.get('containers')!;
    assert.deepEqual(extensions(containers, 31), { 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge' });
    assert.deepEqual(definitions.get('io.k8s.api.core.v1.Container')!.get(19)!.map((b) => b.toString()), ['name']);
  });

  it('has the PATCH operations kubectl reads consumes and GVKs from', () => {
    const paths = named(sub(document, 8)[0]!, 2);
    const item = paths.get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}')!;
    const patch = sub(item, 8)[0]!;
    assert.equal(text(patch, 5), 'patchAppsV1NamespacedDeployment');
    assert.ok(patch.get(7)!.map((b) => b.toString()).includes('application/strategic-merge-patch+json'));
    assert.deepEqual(extensions(patch, 13)['x-kubernetes-group-version-kind'], { group: 'apps', kind: 'Deployment', version: 'v1' });
    // The first parameter is the body: ParametersItem.parameter.body_parameter.
    const body = sub(sub(sub(patch, 8)[0]!, 1)[0]!, 1)[0]!;
    assert.equal(text(body, 2), 'body');
    assert.equal(body.get(4)![0], 1);
    // A query parameter: ParametersItem.parameter.non_body_parameter.query_parameter_sub_schema.
    const queries = sub(patch, 8).map((p) => sub(sub(sub(p, 1)[0]!, 2)[0] ?? new Map(), 3)[0]).filter(Boolean) as Fields[];
    const validation = queries.find((q) => text(q, 4) === 'fieldValidation')!;
    assert.equal(text(validation, 2), 'query');
    assert.equal(text(validation, 6), 'string');
    // Responses: 200 → Response.schema.schema.$ref
    const ok = named(sub(patch, 9)[0]!).get('200')!;
    const response = sub(ok, 1)[0]!;
    assert.equal(text(response, 1), 'OK');
    assert.equal(text(sub(sub(response, 2)[0]!, 1)[0]!, 1), '#/definitions/io.k8s.api.apps.v1.Deployment');
  });
});

describe('GET /openapi/v2', () => {
  async function get(headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
    const server = createServer((req, res) => serveOpenAPIV2(req, res, RESOURCES));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      return await new Promise((resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', path: '/openapi/v2', headers }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    } finally {
      server.close();
    }
  }

  it('negotiates JSON, protobuf (both spellings) or 406 as kube-openapi does', () => {
    const proto = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
    assert.equal(negotiateOpenAPIV2(undefined)?.form, 'json');
    assert.equal(negotiateOpenAPIV2('*/*')?.form, 'json');
    assert.equal(negotiateOpenAPIV2('application/json, */*')?.contentType, 'application/json');
    assert.equal(negotiateOpenAPIV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf')?.contentType, proto);
    assert.equal(negotiateOpenAPIV2(proto)?.form, 'protobuf');
    assert.equal(negotiateOpenAPIV2('application/json;q=0.5, application/com.github.proto-openapi.spec.v2@v1.0+protobuf')?.form, 'protobuf');
    assert.equal(negotiateOpenAPIV2('text/html'), undefined);
  });

  it('answers with an ETag, 304 when it matches, gzip when asked', async () => {
    const json = await get({ Accept: 'application/json' });
    assert.equal(json.status, 200);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
    const etag = json.headers.etag!;
    assert.match(etag, /^"[0-9A-F]{128}"$/);
    assert.equal((await get({ Accept: 'application/json', 'If-None-Match': etag })).status, 304);
    const proto = await get({ Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf', 'Accept-Encoding': 'gzip' });
    assert.equal(proto.headers['content-encoding'], 'gzip');
    assert.equal(proto.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    assert.deepEqual(gunzipSync(proto.body), openapiV2Spec(RESOURCES).protobuf);
    assert.equal((await get({ Accept: 'text/html' })).status, 406);
  });
});
