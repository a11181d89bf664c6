import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { openapiV3Document, openapiV3DocumentJSON, openapiV3Index } from './openapi.js';
import type { OpenAPIResource } from './openapi.js';

const RESOURCES: OpenAPIResource[] = [
  { group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespaced: false, subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, subresources: ['status', 'log', 'exec', 'binding', 'eviction', 'ephemeralcontainers'] },
  { group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespaced: true, subresources: [] },
  { group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespaced: true, subresources: ['status', 'scale'] },
  { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', namespaced: false, subresources: [] },
];

type Json = Record<string, any>;

function doc(groupVersion: string): Json {
  const found = openapiV3Document(groupVersion, RESOURCES);
  assert.ok(found, `document for ${groupVersion}`);
  return found;
}

/** Every operation of a document: [path, method, operation]. */
function operations(document: Json): Array<[string, string, Json]> {
  const out: Array<[string, string, Json]> = [];
  for (const [path, item] of Object.entries(document.paths as Json)) {
    for (const [method, op] of Object.entries(item as Json)) if (method !== 'parameters') out.push([path, method, op as Json]);
  }
  return out;
}

describe('openapiV3Index', () => {
  it('lists one document per group-version with a sha512 hash', () => {
    const index = openapiV3Index(RESOURCES);
    assert.deepEqual(Object.keys(index.paths), ['api/v1', 'apis/apps/v1', 'apis/rbac.authorization.k8s.io/v1']);
    const url = index.paths['api/v1']!.serverRelativeURL;
    assert.match(url, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]{128}$/);
    const json = openapiV3DocumentJSON('api/v1', RESOURCES);
    assert.ok(json);
    assert.equal(url, `/openapi/v3/api/v1?hash=${createHash('sha512').update(json.json).digest('hex').toUpperCase()}`);
    assert.equal(json.hash, url.split('hash=')[1]);
  });

  it('is computed once per resource set', () => {
    assert.equal(openapiV3Document('apps/v1', RESOURCES), openapiV3Document('apis/apps/v1', [...RESOURCES]));
    assert.equal(openapiV3Document('apis/batch/v1', RESOURCES), undefined);
  });
});

describe('openapiV3Document', () => {
  it('is an OpenAPI 3.0 document', () => {
    const core = doc('api/v1');
    assert.equal(core.openapi, '3.0.0');
    assert.ok(core.paths['/api/v1/']);
    assert.ok(core.components.schemas['io.k8s.api.core.v1.Pod']);
  });

  it('offers fieldValidation on every PATCH, subresources included, tagged with the GVK', () => {
    const core = doc('api/v1');
    const patch = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
    assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation' && p.in === 'query'));
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: '', kind: 'Pod', version: 'v1' });
    assert.equal(patch['x-kubernetes-action'], 'patch');
    const patches = [...operations(core), ...operations(doc('apis/apps/v1'))].filter(([, method]) => method === 'patch');
    assert.ok(patches.length >= 8);
    for (const [path, , op] of patches) {
      assert.ok(op.parameters.some((p: Json) => p.name === 'fieldValidation'), `${path} PATCH lists fieldValidation`);
      assert.ok(op['x-kubernetes-group-version-kind'], `${path} PATCH has a GVK`);
    }
    const scale = doc('apis/apps/v1').paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch;
    assert.deepEqual(scale['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  });

  it('has the CRUD operations of namespaced and cluster resources', () => {
    const core = doc('api/v1');
    const pods = core.paths['/api/v1/namespaces/{namespace}/pods'];
    assert.deepEqual(Object.keys(pods).sort(), ['delete', 'get', 'parameters', 'post']);
    assert.equal(pods.get.operationId, 'listCoreV1NamespacedPod');
    assert.equal(pods.post['x-kubernetes-action'], 'post');
    const pod = core.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.deepEqual(Object.keys(pod).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
    assert.equal(pod.get.operationId, 'readCoreV1NamespacedPod');
    assert.ok(core.paths['/api/v1/pods'].get);
    assert.ok(core.paths['/api/v1/namespaces/{name}'].put);
    assert.equal(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/log'].get.operationId, 'readCoreV1NamespacedPodLog');
    assert.ok(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec'].get);
    const rbac = doc('apis/rbac.authorization.k8s.io/v1');
    assert.equal(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].patch.operationId, 'patchRbacAuthorizationV1ClusterRole');
    assert.deepEqual(rbac.paths['/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}'].patch.tags, ['rbacAuthorization_v1']);
  });

  it('has the schemas kubectl explain prints', () => {
    const schemas = doc('api/v1').components.schemas;
    const pod = schemas['io.k8s.api.core.v1.Pod'];
    assert.equal(pod.description, 'Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.');
    assert.deepEqual(pod['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.deepEqual(pod.properties.spec.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }]);
    assert.match(pod.properties.spec.description, /^Specification of the desired behavior of the pod/);
    const containers = schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
    assert.equal(containers.type, 'array');
    assert.deepEqual(containers.items, { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' });
    assert.deepEqual(schemas['io.k8s.api.core.v1.Container'].required, ['name']);
    // Every reference resolves inside the document.
    const refs = JSON.stringify(schemas).match(/#\/components\/schemas\/[^"]+/g) ?? [];
    for (const ref of new Set(refs)) assert.ok(schemas[ref.slice('#/components/schemas/'.length)], `${ref} is in the document`);
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString']);
  });

  it('includes the kinds other group-versions refer to', () => {
    const schemas = doc('apis/apps/v1').components.schemas;
    assert.ok(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']);
    assert.ok(schemas['io.k8s.api.core.v1.PodTemplateSpec']);
    assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale']);
    assert.equal(schemas['io.k8s.api.core.v1.Pod'], undefined);
  });

  it('carries custom resource schemas for explain, with fieldValidation on their PATCH', () => {
    const crontab: OpenAPIResource = {
      group: 'stable.example.com',
      version: 'v1',
      kind: 'CronTab',
      resource: 'crontabs',
      namespaced: true,
      subresources: ['status'],
      schema: { type: 'object', description: 'A cron tab.', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' } } } } },
    };
    const document = openapiV3Document('apis/stable.example.com/v1', [...RESOURCES, crontab]);
    assert.ok(document);
    const schemas = (document as Json).components.schemas;
    const schema = schemas['com.example.stable.v1.CronTab'];
    assert.equal(schema.description, 'A cron tab.');
    assert.deepEqual(schema['x-kubernetes-group-version-kind'], [{ group: 'stable.example.com', kind: 'CronTab', version: 'v1' }]);
    assert.deepEqual(schema.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
    assert.ok(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    const patch = (document as Json).paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}'].patch;
    assert.ok(patch.parameters.some((p: Json) => p.name === 'fieldValidation'));
    assert.deepEqual(patch.requestBody.content['application/json-patch+json'].schema, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Patch' });
  });
});
