/**
 * The API's semantics and failure behaviour, asserted on the wire: raw HTTPS
 * requests against a server started by the test, checking status codes,
 * `Status` reasons, messages and field paths against what real Kubernetes
 * answers (staging/src/k8s.io/apiserver/pkg/endpoints/handlers and
 * registry/generic/registry/store.go are the reference). Every failure case
 * also checks that nothing was stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadOrCreatePki } from '../src/apiserver/pki.js';
import { TestCluster, waitFor } from './helpers/cluster.js';
import { ApiClient, type ApiResponse } from './helpers/api-client.js';

let cluster: TestCluster;
let api: ApiClient;

before(async () => {
  cluster = await TestCluster.start();
  api = cluster.client('cert');
});

after(async () => {
  api?.close();
  await cluster?.stop();
});

// ---- helpers ----

const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const DISCOVERY_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';
const MERGE = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

/** Asserts a `Status` failure answer: HTTP code, body code, reason and (exact or matching) message. */
function assertStatus(res: ApiResponse, code: number, reason: string, message?: string | RegExp): void {
  assert.equal(res.status, code, `expected ${code}, got ${res.status}: ${res.text}`);
  assert.equal(res.headers['content-type'], 'application/json');
  assert.equal(res.json?.kind, 'Status', res.text);
  assert.equal(res.json.apiVersion, 'v1');
  assert.equal(res.json.status, 'Failure');
  assert.equal(res.json.code, code);
  assert.equal(res.json.reason, reason, res.text);
  if (typeof message === 'string') assert.equal(res.json.message, message);
  else if (message) assert.match(res.json.message, message);
}

function assertOk(res: ApiResponse, code = 200): void {
  assert.equal(res.status, code, `expected ${code}, got ${res.status}: ${res.text}`);
}

async function createNamespace(name: string): Promise<void> {
  const res = await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  assertOk(res, 201);
}

function configMap(name: string, data: Record<string, string> = { k: 'v' }, metadata: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...metadata }, data };
}

function pod(name: string, metadata: Record<string, unknown> = {}) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...metadata }, spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] } };
}

function deployment(name: string) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [
            { name: 'web', image: 'nginx:1.27' },
            { name: 'cache', image: 'redis:6' },
          ],
        },
      },
    },
  };
}

/** The state of a collection: list resourceVersion and item names with their resourceVersions. */
/**
 * The objects of a list with their resourceVersions: any write to them shows.
 * (The list's own resourceVersion is the cluster-wide revision, which other
 * writers such as the controller manager's Lease renewals also move.)
 */
async function snapshot(path: string): Promise<{ items: string[] }> {
  const res = await api.get(path);
  assertOk(res);
  return {
    items: res.json.items.map((i: { metadata: { name: string; resourceVersion: string } }) => `${i.metadata.name}@${i.metadata.resourceVersion}`).sort(),
  };
}

function names(res: ApiResponse): string[] {
  assertOk(res);
  return res.json.items.map((i: { metadata: { name: string } }) => i.metadata.name).sort();
}

function warnings(res: ApiResponse): string[] {
  const header = res.headers.warning;
  if (header === undefined) return [];
  return Array.isArray(header) ? header : [header];
}

// ---- auth ----

describe('authentication and open endpoints', () => {
  it('answers 401 Unauthorized without credentials, with a bad token, and accepts the token and the client certificate', async () => {
    const anonymous = cluster.client('none');
    const badToken = cluster.client({ token: 'not-the-token' });
    const token = cluster.client('token');
    try {
      assertStatus(await anonymous.get('/api/v1/pods'), 401, 'Unauthorized', 'Unauthorized');
      assertStatus(await anonymous.get('/api/v1/namespaces/default/configmaps'), 401, 'Unauthorized', 'Unauthorized');
      assertStatus(await badToken.get('/api/v1/pods'), 401, 'Unauthorized', 'Unauthorized');
      assertStatus(await anonymous.get('/metrics'), 401, 'Unauthorized');
      assertStatus(await anonymous.get('/apis'), 401, 'Unauthorized');

      const byToken = await token.get('/api/v1/pods');
      assertOk(byToken);
      assert.equal(byToken.json.kind, 'PodList');
      const byCert = await api.get('/api/v1/namespaces');
      assertOk(byCert);
      assert.equal(byCert.json.kind, 'NamespaceList');
    } finally {
      anonymous.close();
      badToken.close();
      token.close();
    }
  });

  it('refuses a client certificate from another CA, even one naming system:admin in system:masters', async () => {
    const foreign = mkdtempSync(join(tmpdir(), 'pilote-foreign-pki-'));
    try {
      await loadOrCreatePki(foreign); // another cluster's CA and admin certificate
      copyFileSync(join(cluster.dataDir, 'tls', 'ca.crt'), join(foreign, 'tls', 'ca.crt')); // still trust our server
      const impostor = new ApiClient(cluster.port, join(foreign, 'tls'), 'cert');
      try {
        assertStatus(await impostor.get('/api/v1/namespaces'), 401, 'Unauthorized', 'Unauthorized');
      } finally {
        impostor.close();
      }
    } finally {
      rmSync(foreign, { recursive: true, force: true });
    }
  });

  it('serves /healthz, /livez, /readyz and /version without credentials', async () => {
    const anonymous = cluster.client('none');
    try {
      for (const path of ['/healthz', '/livez', '/readyz']) {
        const res = await anonymous.get(path);
        assertOk(res);
        assert.equal(res.text, 'ok');
        assert.match(String(res.headers['content-type']), /^text\/plain/);
      }
      const verbose = await anonymous.get('/readyz?verbose');
      assertOk(verbose);
      assert.match(verbose.text, /readyz check passed/);
      const version = await anonymous.get('/version');
      assertOk(version);
      assert.equal(version.json.major, '1');
      assert.match(version.json.gitVersion, /^v1\.\d+\.\d+/);
      assert.ok(version.json.platform);
    } finally {
      anonymous.close();
    }
  });

  it('serves Prometheus metrics to authenticated clients', async () => {
    // Make sure there is a write, a watch and a request to count.
    const watch = await api.watch('/api/v1/namespaces/default/configmaps?watch=true');
    try {
      assertOk(await api.get('/api/v1/namespaces/default/configmaps'));
      const res = await api.get('/metrics');
      assertOk(res);
      assert.match(String(res.headers['content-type']), /^text\/plain/);
      for (const name of ['apiserver_request_total', 'apiserver_request_duration_seconds', 'pilote_storage_operation_duration_seconds', 'apiserver_registered_watchers']) {
        assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), `missing ${name}`);
      }
      assert.match(res.text, /^apiserver_request_total\{[^}]*verb="LIST"[^}]*resource="configmaps"[^}]*code="200"[^}]*\} \d+/m);
      assert.match(res.text, /^apiserver_registered_watchers\{group="",resource="configmaps"\} [1-9]/m);
      assert.match(res.text, /^apiserver_request_duration_seconds_bucket\{/m);
      assert.match(res.text, /^pilote_storage_operation_duration_seconds_count\{/m);
    } finally {
      watch.close();
    }
  });
});

// ---- bad input ----

describe('bad input is refused with a Status and stores nothing', () => {
  const ns = 'bad-input';
  const cms = `/api/v1/namespaces/${ns}/configmaps`;
  const pods = `/api/v1/namespaces/${ns}/pods`;

  /** Runs `attempt` and checks that nothing changed meanwhile: same items, same list revisions. */
  async function assertNothingStored(attempt: () => Promise<void>): Promise<void> {
    const before = { cms: await snapshot(cms), pods: await snapshot(pods) };
    await attempt();
    assert.deepEqual(await snapshot(cms), before.cms, 'config maps unchanged');
    assert.deepEqual(await snapshot(pods), before.pods, 'pods unchanged');
  }

  before(async () => {
    await createNamespace(ns);
    assertOk(await api.post(cms, configMap('existing')), 201);
  });

  it('malformed JSON → 400', async () => {
    await assertNothingStored(async () => {
      const res = await api.post(cms, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name": x}}');
      assertStatus(res, 400, 'BadRequest', /^the object provided is unrecognized \(must be of type ConfigMap\): couldn't get version\/kind; json parse error: /);
      const truncated = await api.post(cms, '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"');
      assertStatus(truncated, 400, 'BadRequest', /^the object provided is unrecognized \(must be of type ConfigMap\)/);
      assertStatus(await api.post(cms, ''), 400, 'BadRequest');
    });
  });

  it('malformed YAML (application/yaml) → 400; well-formed YAML is accepted', async () => {
    await assertNothingStored(async () => {
      const res = await api.post(cms, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken\n', { contentType: 'application/yaml' });
      assertStatus(res, 400, 'BadRequest', /^the object provided is unrecognized \(must be of type ConfigMap\): yaml: line \d+: /);
    });
    const ok = await api.post(cms, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  a: "1"\n', { contentType: 'application/yaml' });
    assertOk(ok, 201);
    assert.deepEqual(ok.json.data, { a: '1' });
  });

  it('an unsupported content type → 415', async () => {
    await assertNothingStored(async () => {
      const res = await api.post(cms, 'name=x', { contentType: 'application/x-www-form-urlencoded' });
      assertStatus(res, 415, 'UnsupportedMediaType');
    });
  });

  it('a body over 3 MiB → 413 RequestEntityTooLarge (declared length and chunked)', async () => {
    await assertNothingStored(async () => {
      const big = JSON.stringify(configMap('too-big', { blob: 'x'.repeat(3 * 1024 * 1024 + 10) }));
      assertStatus(await api.post(cms, big), 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      const chunked = await api.post(cms, big, { headers: { 'Transfer-Encoding': 'chunked' } });
      assertStatus(chunked, 413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
      const patch = await api.patch(`${cms}/existing`, JSON.stringify({ data: { blob: 'x'.repeat(3 * 1024 * 1024 + 10) } }), MERGE);
      assertStatus(patch, 413, 'RequestEntityTooLarge');
    });
    // The server is still fine afterwards, and a body just under the limit is read (whitespace keeps the object small).
    assertOk(await api.get(`${cms}/existing`));
    const padded = JSON.stringify(configMap('just-under')) + ' '.repeat(3 * 1024 * 1024 - 200);
    assertOk(await api.post(cms, padded), 201);
  });

  it('fieldValidation=Strict refuses an unknown field with 400', async () => {
    await assertNothingStored(async () => {
      const body = { ...pod('strict'), spec: { ...pod('strict').spec, foo: 'bar' } };
      const res = await api.post(`${pods}?fieldValidation=Strict`, body);
      assertStatus(res, 400, 'BadRequest', 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"');
    });
  });

  it('fieldValidation=Strict refuses a duplicate field with 400', async () => {
    await assertNothingStored(async () => {
      const text = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dup","name":"dup2"},"data":{"a":"1"}}';
      const res = await api.post(`${cms}?fieldValidation=Strict`, text);
      assertStatus(res, 400, 'BadRequest', 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "metadata.name"');
    });
  });

  it('an invalid fieldValidation value → 422 on the options', async () => {
    await assertNothingStored(async () => {
      const res = await api.post(`${cms}?fieldValidation=Loud`, configMap('loud'));
      assertStatus(res, 422, 'Invalid', /fieldValidation: Unsupported value: "Loud"/);
    });
  });

  it('fieldValidation=Warn stores the object and answers a Warning header; Ignore stays silent', async () => {
    const withFoo = (name: string) => ({ ...pod(name), spec: { ...pod(name).spec, foo: 'bar' } });
    const warned = await api.post(`${pods}?fieldValidation=Warn`, withFoo('warned'));
    assertOk(warned, 201);
    assert.deepEqual(warnings(warned), ['299 - "unknown field \\"spec.foo\\""']);
    assert.equal(warned.json.spec.foo, undefined, 'the unknown field is dropped');
    assert.equal((await api.get(`${pods}/warned`)).json.spec.foo, undefined);
    // Warn is the default.
    const byDefault = await api.post(pods, withFoo('warned-default'));
    assertOk(byDefault, 201);
    assert.deepEqual(warnings(byDefault), ['299 - "unknown field \\"spec.foo\\""']);

    const ignored = await api.post(`${pods}?fieldValidation=Ignore`, withFoo('ignored'));
    assertOk(ignored, 201);
    assert.deepEqual(warnings(ignored), []);
    assert.equal(ignored.json.spec.foo, undefined);
  });

  it('an invalid object → 422 Invalid with causes', async () => {
    await assertNothingStored(async () => {
      const badName = await api.post(pods, pod('My_Pod'));
      assertStatus(
        badName,
        422,
        'Invalid',
        /^Pod "My_Pod" is invalid: metadata\.name: Invalid value: "My_Pod": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '\.', and must start and end with an alphanumeric character/,
      );
      assert.equal(badName.json.details.name, 'My_Pod');
      assert.equal(badName.json.details.kind, 'Pod');
      assert.deepEqual(
        badName.json.details.causes.map((c: { reason: string; field: string }) => [c.reason, c.field]),
        [['FieldValueInvalid', 'metadata.name']],
      );

      const badLabel = await api.post(cms, configMap('bad-label', {}, { labels: { 'a b': 'c' } }));
      assertStatus(badLabel, 422, 'Invalid', /^ConfigMap "bad-label" is invalid: metadata\.labels: Invalid value: "a b"/);
      assert.deepEqual(badLabel.json.details.causes.map((c: { field: string }) => c.field), ['metadata.labels']);

      const noName = await api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', data: {} });
      assertStatus(noName, 422, 'Invalid', /metadata\.name: Required value: name or generateName is required/);
    });
  });

  it('a pod without containers → 422 spec.containers: Required value', async () => {
    await assertNothingStored(async () => {
      const noContainers = await api.post(pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'empty' }, spec: {} });
      assertStatus(noContainers, 422, 'Invalid', /^Pod "empty" is invalid: .*spec\.containers: Required value/);
      assert.ok(
        noContainers.json.details.causes.some((c: { reason: string; field: string }) => c.reason === 'FieldValueRequired' && c.field === 'spec.containers'),
        noContainers.text,
      );
    });
  });

  it('a wrong apiVersion or kind in the body → 400', async () => {
    await assertNothingStored(async () => {
      const wrongKind = await api.post(cms, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-kind' } });
      assertStatus(wrongKind, 400, 'BadRequest', /^Secret in version "v1" cannot be handled as a ConfigMap/);
      const wrongGroup = await api.post(cms, { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'wrong-group' } });
      assertStatus(wrongGroup, 400, 'BadRequest');
      const unknownVersion = await api.post(cms, { apiVersion: 'v2', kind: 'ConfigMap', metadata: { name: 'wrong-version' } });
      assertStatus(unknownVersion, 400, 'BadRequest');
      const notAnObject = await api.post(cms, '[1,2,3]');
      assertStatus(notAnObject, 400, 'BadRequest');
      const wrongPodKind = await api.post(pods, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'wrong' } });
      assertStatus(wrongPodKind, 400, 'BadRequest');
    });
  });

  it('a namespace in the body that differs from the URL → 400', async () => {
    await assertNothingStored(async () => {
      const res = await api.post(cms, configMap('elsewhere', {}, { namespace: 'default' }));
      assertStatus(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    });
  });

  it('an update with a bad body, a mismatched name or a bad patch stores nothing', async () => {
    const current = (await api.get(`${cms}/existing`)).json;
    await assertNothingStored(async () => {
      assertStatus(await api.put(`${cms}/existing`, '{"metadata":'), 400, 'BadRequest');
      const renamed = await api.put(`${cms}/existing`, { ...current, metadata: { ...current.metadata, name: 'other' } });
      assertStatus(renamed, 400, 'BadRequest', 'the name of the object (other) does not match the name on the URL (existing)');
      const { name: _name, ...metaWithoutName } = current.metadata;
      const unnamed = await api.put(`${cms}/existing`, { ...current, metadata: metaWithoutName });
      assertStatus(unnamed, 400, 'BadRequest', 'the name of the object () does not match the name on the URL (existing)');
      const metadataDropped = await api.patch(`${cms}/existing`, { metadata: null }, MERGE);
      assertStatus(metadataDropped, 400, 'BadRequest', 'the name of the object () does not match the name on the URL (existing)');
      const badLabels = await api.put(`${cms}/existing`, { ...current, metadata: { ...current.metadata, labels: { 'a b': 'c' } } });
      assertStatus(badLabels, 422, 'Invalid', /^ConfigMap "existing" is invalid: metadata\.labels/);
      assertStatus(await api.patch(`${cms}/existing`, '{"data":', MERGE), 400, 'BadRequest');
      assertStatus(await api.patch(`${cms}/existing`, '{}', 'application/xml'), 415, 'UnsupportedMediaType');
      const badOp = await api.patch(`${cms}/existing`, [{ op: 'remove', path: '/data/nothing-here' }], JSON_PATCH);
      assert.ok(badOp.status >= 400 && badOp.status < 500, badOp.text);
      assert.equal(badOp.json.kind, 'Status');
      const strictPatch = await api.patch(`${cms}/existing?fieldValidation=Strict`, { spec: { foo: 1 } }, MERGE);
      assertStatus(strictPatch, 422, 'Invalid', / "" is invalid: patch: .*strict decoding error: unknown field "spec"/);
    });
  });
});

// ---- object semantics ----

describe('object semantics', () => {
  const ns = 'semantics';
  const cms = `/api/v1/namespaces/${ns}/configmaps`;
  const pods = `/api/v1/namespaces/${ns}/pods`;
  const deployments = `/apis/apps/v1/namespaces/${ns}/deployments`;

  before(async () => {
    await createNamespace(ns);
  });

  it('create sets uid, creationTimestamp and resourceVersion; GET reads the same object', async () => {
    const started = Date.now();
    const res = await api.post(cms, configMap('plain', { a: '1' }));
    assertOk(res, 201);
    const meta = res.json.metadata;
    assert.equal(res.json.kind, 'ConfigMap');
    assert.equal(res.json.apiVersion, 'v1');
    assert.match(meta.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(meta.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(meta.creationTimestamp) - started) < 5000);
    assert.match(meta.resourceVersion, /^\d+$/);
    assert.equal(meta.namespace, ns);
    const got = await api.get(`${cms}/plain`);
    assertOk(got);
    assert.deepEqual(got.json, res.json);
  });

  it('generateName makes a unique name with a 5-character suffix', async () => {
    const a = await api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
    const b = await api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'gen-' } });
    assertOk(a, 201);
    assertOk(b, 201);
    assert.match(a.json.metadata.name, /^gen-[a-z0-9]{5}$/);
    assert.notEqual(a.json.metadata.name, b.json.metadata.name);
    assert.equal(a.json.metadata.generateName, 'gen-');
    assertOk(await api.get(`${cms}/${a.json.metadata.name}`));
  });

  it('a second create of the same name → 409 AlreadyExists', async () => {
    const res = await api.post(cms, configMap('plain'));
    assertStatus(res, 409, 'AlreadyExists', 'configmaps "plain" already exists');
    assert.deepEqual(res.json.details, { name: 'plain', kind: 'configmaps' });
    const dep = await api.post(deployments, deployment('twice'));
    assertOk(dep, 201);
    const again = await api.post(deployments, deployment('twice'));
    assertStatus(again, 409, 'AlreadyExists', 'deployments.apps "twice" already exists');
    assert.deepEqual(again.json.details, { name: 'twice', group: 'apps', kind: 'deployments' });
  });

  it('GET of a missing object → 404 NotFound', async () => {
    const res = await api.get(`${cms}/missing`);
    assertStatus(res, 404, 'NotFound', 'configmaps "missing" not found');
    assert.deepEqual(res.json.details, { name: 'missing', kind: 'configmaps' });
    assertStatus(await api.get(`${deployments}/missing`), 404, 'NotFound', 'deployments.apps "missing" not found');
    assertStatus(await api.get('/api/v1/namespaces/semantics/widgets'), 404, 'NotFound', 'the server could not find the requested resource');
    assertStatus(await api.get('/api/v1/namespaces/semantics/configmaps/%zz'), 400, 'BadRequest');
  });

  it('PUT with a stale resourceVersion → 409 Conflict; without one it overwrites', async () => {
    const created = (await api.post(cms, configMap('cas', { v: '1' }))).json;
    const first = await api.put(`${cms}/cas`, { ...created, data: { v: '2' } });
    assertOk(first);
    assert.ok(Number(first.json.metadata.resourceVersion) > Number(created.metadata.resourceVersion));
    const stale = await api.put(`${cms}/cas`, { ...created, data: { v: 'stale' } });
    assertStatus(stale, 409, 'Conflict', 'Operation cannot be fulfilled on configmaps "cas": the object has been modified; please apply your changes to the latest version and try again');
    assert.deepEqual(stale.json.details, { name: 'cas', kind: 'configmaps' });
    assert.deepEqual((await api.get(`${cms}/cas`)).json.data, { v: '2' });
    const { resourceVersion: _rv, ...metaWithoutRv } = created.metadata;
    const unconditional = await api.put(`${cms}/cas`, { ...created, metadata: metaWithoutRv, data: { v: '3' } });
    assertOk(unconditional);
    assert.deepEqual(unconditional.json.data, { v: '3' });
    // PUT of a missing object is 404 (configmaps do not allow create on update).
    assertStatus(await api.put(`${cms}/nobody`, configMap('nobody')), 404, 'NotFound', 'configmaps "nobody" not found');
  });

  it('concurrent unconditional patches of one object all land (no spurious 409)', async () => {
    assertOk(await api.post(cms, configMap('hot', {})), 201);
    const writers = 48;
    const results = await Promise.all(Array.from({ length: writers }, (_, i) => api.patch(`${cms}/hot`, { data: { [`k${i}`]: String(i) } }, MERGE)));
    assert.deepEqual(results.filter((r) => r.status !== 200).map((r) => r.text), []);
    const rvs = new Set(results.map((r) => r.json.metadata.resourceVersion));
    assert.equal(rvs.size, writers, 'each patch is its own revision');
    assert.equal(Object.keys((await api.get(`${cms}/hot`)).json.data).length, writers, 'no patch was lost');
  });

  it('metadata.generation bumps on a spec change of a Deployment, not on a label change', async () => {
    const created = await api.post(deployments, deployment('gen'));
    assertOk(created, 201);
    assert.equal(created.json.metadata.generation, 1);
    const labelled = await api.patch(`${deployments}/gen`, { metadata: { labels: { extra: 'yes' } } }, MERGE);
    assertOk(labelled);
    assert.equal(labelled.json.metadata.generation, 1);
    assert.equal(labelled.json.metadata.labels.extra, 'yes');
    const annotated = await api.patch(`${deployments}/gen`, { metadata: { annotations: { note: 'x' } } }, MERGE);
    assert.equal(annotated.json.metadata.generation, 1);
    const scaled = await api.patch(`${deployments}/gen`, { spec: { replicas: 2 } }, MERGE);
    assertOk(scaled);
    assert.equal(scaled.json.metadata.generation, 2);
    const current = scaled.json;
    current.spec.template.spec.containers[0].image = 'nginx:1.28';
    const put = await api.put(`${deployments}/gen`, current);
    assertOk(put);
    assert.equal(put.json.metadata.generation, 3);
    // A no-op update changes nothing, not even the resourceVersion.
    const same = await api.put(`${deployments}/gen`, put.json);
    assertOk(same);
    assert.equal(same.json.metadata.generation, 3);
    assert.equal(same.json.metadata.resourceVersion, put.json.metadata.resourceVersion);
  });

  it('the status subresource is separate: PUT ignores status, PUT /status ignores spec', async () => {
    const created = (await api.post(deployments, { ...deployment('split'), status: { replicas: 9 } })).json;
    assert.equal(created.status?.replicas, undefined, 'status is cleared on create');

    const withStatus = await api.put(`${deployments}/split/status`, { ...created, spec: { ...created.spec, replicas: 5 }, status: { replicas: 1, observedGeneration: 1 } });
    assertOk(withStatus);
    assert.equal(withStatus.json.status.replicas, 1);
    assert.equal(withStatus.json.spec.replicas, 1, 'PUT /status ignores spec');
    assert.equal(withStatus.json.metadata.generation, 1);

    const viaMain = await api.put(`${deployments}/split`, { ...withStatus.json, spec: { ...withStatus.json.spec, replicas: 3 }, status: { replicas: 42 } });
    assertOk(viaMain);
    assert.equal(viaMain.json.spec.replicas, 3);
    assert.equal(viaMain.json.status.replicas, 1, 'PUT ignores status');
    assert.equal(viaMain.json.metadata.generation, 2);

    const statusPatch = await api.patch(`${deployments}/split/status`, { spec: { replicas: 7 }, status: { replicas: 3 } }, MERGE);
    assertOk(statusPatch);
    assert.equal(statusPatch.json.status.replicas, 3);
    assert.equal(statusPatch.json.spec.replicas, 3);
    const got = (await api.get(`${deployments}/split/status`)).json;
    assert.equal(got.kind, 'Deployment');
    assert.equal(got.status.replicas, 3);
  });

  it('a create in a missing namespace → 404 namespaces "nope" not found', async () => {
    const res = await api.post('/api/v1/namespaces/nope/configmaps', configMap('orphan'));
    assertStatus(res, 404, 'NotFound', 'namespaces "nope" not found');
    assert.deepEqual(res.json.details, { name: 'nope', kind: 'namespaces' });
    assertStatus(await api.get('/api/v1/namespaces/nope/configmaps/orphan'), 404, 'NotFound');
  });

  it('a Terminating namespace refuses new content with 403 and goes away once its objects are finalized', async () => {
    const doomed = 'doomed';
    await createNamespace(doomed);
    const held = await api.post(`/api/v1/namespaces/${doomed}/configmaps`, configMap('held', {}, { finalizers: ['example.com/hold'] }));
    assertOk(held, 201);

    const deleted = await api.delete(`/api/v1/namespaces/${doomed}`);
    assertOk(deleted);
    assert.equal(deleted.json.kind, 'Namespace');
    assert.ok(deleted.json.metadata.deletionTimestamp);
    assert.equal(deleted.json.status.phase, 'Terminating');

    // The namespace controller deletes the content; the finalizer holds the config map (and so the namespace).
    await waitFor(async () => (await api.get(`/api/v1/namespaces/${doomed}/configmaps/held`)).json?.metadata?.deletionTimestamp, 'held to be marked for deletion');
    const ns = await api.get(`/api/v1/namespaces/${doomed}`);
    assertOk(ns);
    assert.equal(ns.json.status.phase, 'Terminating');

    const refused = await api.post(`/api/v1/namespaces/${doomed}/configmaps`, configMap('late'));
    assertStatus(refused, 403, 'Forbidden', `configmaps "late" is forbidden: unable to create new content in namespace ${doomed} because it is being terminated`);
    assert.equal(refused.json.details.name, 'late');
    assert.equal(refused.json.details.kind, 'configmaps');
    assert.deepEqual(refused.json.details.causes, [{ reason: 'NamespaceTerminating', message: `namespace ${doomed} is being terminated`, field: 'metadata.namespace' }]);
    assertStatus(await api.get(`/api/v1/namespaces/${doomed}/configmaps/late`), 404, 'NotFound');

    // Release the finalizer: the config map goes, then the namespace.
    const released = await api.patch(`/api/v1/namespaces/${doomed}/configmaps/held`, { metadata: { finalizers: null } }, MERGE);
    assertOk(released);
    assertStatus(await api.get(`/api/v1/namespaces/${doomed}/configmaps/held`), 404, 'NotFound');
    await waitFor(async () => (await api.get(`/api/v1/namespaces/${doomed}`)).status === 404, 'the namespace to go away', 15_000);
    assertStatus(await api.get(`/api/v1/namespaces/${doomed}`), 404, 'NotFound', `namespaces "${doomed}" not found`);
  });

  it('DELETE of an object with finalizers answers 200 with deletionTimestamp set, and the object stays until they are removed', async () => {
    assertOk(await api.post(cms, configMap('final', {}, { finalizers: ['example.com/a', 'example.com/b'] })), 201);
    const res = await api.delete(`${cms}/final`);
    assertOk(res, 200);
    assert.equal(res.json.kind, 'ConfigMap');
    assert.ok(res.json.metadata.deletionTimestamp);
    assert.equal(res.json.metadata.deletionGracePeriodSeconds, 0);
    assert.deepEqual(res.json.metadata.finalizers, ['example.com/a', 'example.com/b']);

    const still = await api.get(`${cms}/final`);
    assertOk(still);
    assert.equal(still.json.metadata.deletionTimestamp, res.json.metadata.deletionTimestamp);
    // Deleting again changes nothing.
    const again = await api.delete(`${cms}/final`);
    assertOk(again, 200);
    assert.equal(again.json.metadata.resourceVersion, res.json.metadata.resourceVersion);
    // New finalizers cannot be added to an object being deleted.
    const added = await api.patch(`${cms}/final`, { metadata: { finalizers: ['example.com/a', 'example.com/b', 'example.com/c'] } }, MERGE);
    assertStatus(added, 422, 'Invalid', /metadata\.finalizers: Forbidden: no new finalizers can be added if the object is being deleted/);

    const one = await api.patch(`${cms}/final`, { metadata: { finalizers: ['example.com/b'] } }, MERGE);
    assertOk(one);
    assertOk(await api.get(`${cms}/final`));
    const none = await api.patch(`${cms}/final`, [{ op: 'remove', path: '/metadata/finalizers' }], JSON_PATCH);
    assertOk(none);
    assertStatus(await api.get(`${cms}/final`), 404, 'NotFound');
  });

  it('DELETE of an object without finalizers answers a Success Status and removes it', async () => {
    const created = (await api.post(cms, configMap('gone'))).json;
    const res = await api.delete(`${cms}/gone`);
    assertOk(res);
    assert.deepEqual(res.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: 'gone', kind: 'configmaps', uid: created.metadata.uid } });
    assertStatus(await api.get(`${cms}/gone`), 404, 'NotFound');
    assertStatus(await api.delete(`${cms}/gone`), 404, 'NotFound', 'configmaps "gone" not found');
  });

  it('DELETE preconditions: a wrong uid or resourceVersion → 409', async () => {
    const created = (await api.post(cms, configMap('guarded'))).json;
    const wrongUid = await api.delete(`${cms}/guarded`, { body: { preconditions: { uid: 'nope' } } });
    assertStatus(wrongUid, 409, 'Conflict', /Precondition failed: UID in precondition: nope, UID in object meta: /);
    const wrongRv = await api.delete(`${cms}/guarded`, { body: { preconditions: { resourceVersion: '1' } } });
    assertStatus(wrongRv, 409, 'Conflict', /Precondition failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: /);
    assertOk(await api.get(`${cms}/guarded`));
    assertOk(await api.delete(`${cms}/guarded`, { body: { preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion } } }));
    assertStatus(await api.get(`${cms}/guarded`), 404, 'NotFound');
  });

  it('a pod bound to a node is deleted gracefully; gracePeriodSeconds=0 removes it', async () => {
    assertOk(await api.post(pods, pod('bound')), 201);
    const binding = await api.post(`${pods}/bound/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } });
    assertOk(binding, 201);
    assert.equal(binding.json.kind, 'Status');
    assert.equal(binding.json.status, 'Success');
    const boundPod = (await api.get(`${pods}/bound`)).json;
    assert.equal(boundPod.spec.nodeName, 'node-a');
    assert.ok(boundPod.status.conditions.some((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'True'));
    // A second binding conflicts.
    const rebind = await api.post(`${pods}/bound/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { name: 'node-b' } });
    assertStatus(rebind, 409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "node-a"');

    const graceful = await api.delete(`${pods}/bound`);
    assertOk(graceful, 200);
    assert.equal(graceful.json.kind, 'Pod');
    assert.ok(graceful.json.metadata.deletionTimestamp);
    assert.equal(graceful.json.metadata.deletionGracePeriodSeconds, 30);
    const deadline = Date.parse(graceful.json.metadata.deletionTimestamp);
    assert.ok(deadline > Date.now() + 20_000, 'deletionTimestamp is now + the grace period');
    const still = await api.get(`${pods}/bound`);
    assertOk(still);
    assert.ok(still.json.metadata.deletionTimestamp);

    // A shorter grace period shortens the deadline; a longer one is ignored.
    const shorter = await api.delete(`${pods}/bound?gracePeriodSeconds=10`);
    assertOk(shorter);
    assert.equal(shorter.json.metadata.deletionGracePeriodSeconds, 10);
    const longer = await api.delete(`${pods}/bound`, { body: { gracePeriodSeconds: 60 } });
    assertOk(longer);
    assert.equal(longer.json.metadata.deletionGracePeriodSeconds, 10);

    const now = await api.delete(`${pods}/bound?gracePeriodSeconds=0`);
    assertOk(now, 200);
    assert.equal(now.json.kind, 'Pod');
    assertStatus(await api.get(`${pods}/bound`), 404, 'NotFound', 'pods "bound" not found');
  });

  it('an unbound pod is deleted at once, answering the pod', async () => {
    assertOk(await api.post(pods, pod('unbound')), 201);
    const res = await api.delete(`${pods}/unbound`);
    assertOk(res, 200);
    assert.equal(res.json.kind, 'Pod');
    assert.equal(res.json.metadata.name, 'unbound');
    assertStatus(await api.get(`${pods}/unbound`), 404, 'NotFound');
  });

  it('an unbound pod held by a finalizer cannot be bound once it is being deleted', async () => {
    assertOk(await api.post(pods, pod('held-pod', { finalizers: ['example.com/hold'] })), 201);
    const marked = await api.delete(`${pods}/held-pod`);
    assertOk(marked, 200);
    assert.equal(marked.json.metadata.deletionGracePeriodSeconds, 0);
    const binding = await api.post(`${pods}/held-pod/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'held-pod' }, target: { name: 'node-a' } });
    assertStatus(binding, 409, 'Conflict', 'Operation cannot be fulfilled on pods/binding "held-pod": pod held-pod is being deleted, cannot be assigned to a host');
    assertOk(await api.patch(`${pods}/held-pod`, { metadata: { finalizers: [] } }, MERGE));
    assertStatus(await api.get(`${pods}/held-pod`), 404, 'NotFound');
  });

  it('ownerReferences are stored as sent', async () => {
    const owner = (await api.post(cms, configMap('owner'))).json;
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
    const res = await api.post(cms, configMap('owned', {}, { ownerReferences: [ref] }));
    assertOk(res, 201);
    assert.deepEqual(res.json.metadata.ownerReferences, [ref]);
    assert.deepEqual((await api.get(`${cms}/owned`)).json.metadata.ownerReferences, [ref]);
  });

  it('the default namespaces and the kubernetes service exist', async () => {
    const list = await api.get('/api/v1/namespaces');
    for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      const ns = list.json.items.find((i: { metadata: { name: string } }) => i.metadata.name === name);
      assert.ok(ns, `namespace ${name}`);
      assert.equal(ns.status.phase, 'Active');
      assert.deepEqual(ns.spec.finalizers, ['kubernetes']);
      assert.equal(ns.metadata.labels['kubernetes.io/metadata.name'], name);
    }
    const svc = await api.get('/api/v1/namespaces/default/services/kubernetes');
    assertOk(svc);
    assert.equal(svc.json.spec.type, 'ClusterIP');
    assert.match(svc.json.spec.clusterIP, /^\d+\.\d+\.\d+\.1$/);
    assert.equal(svc.json.spec.ports[0].port, 443);
    assert.equal(svc.json.spec.ports[0].name, 'https');
    assert.equal(svc.json.metadata.labels.component, 'apiserver');
    const ep = await api.get('/api/v1/namespaces/default/endpoints/kubernetes');
    assertOk(ep);
    assert.equal(ep.json.subsets[0].ports[0].port, cluster.port);
  });

  it('the system namespaces may not be deleted → 403', async () => {
    for (const name of ['default', 'kube-system', 'kube-public']) {
      const res = await api.delete(`/api/v1/namespaces/${name}`);
      assertStatus(res, 403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`);
      assert.deepEqual(res.json.details, { name, kind: 'namespaces' });
      const ns = (await api.get(`/api/v1/namespaces/${name}`)).json;
      assert.equal(ns.metadata.deletionTimestamp, undefined);
      assert.equal(ns.status.phase, 'Active');
    }
    assertStatus(await api.delete('/api/v1/namespaces/default?dryRun=All'), 403, 'Forbidden');
    assertOk(await api.get('/api/v1/namespaces/default/services/kubernetes'));
  });

  it('create refuses a resourceVersion; update refuses a stale one or another uid', async () => {
    const withRv = await api.post(cms, configMap('with-rv', {}, { resourceVersion: '5' }));
    assertStatus(withRv, 500, 'InternalError', 'Internal error occurred: resourceVersion should not be set on objects to be created');
    assertStatus(await api.get(`${cms}/with-rv`), 404, 'NotFound');
    const created = (await api.post(cms, configMap('guarded-update', { v: '1' }))).json;
    assertOk(await api.patch(`${cms}/guarded-update`, { data: { v: '2' } }, MERGE));
    const stalePatch = await api.patch(`${cms}/guarded-update`, { metadata: { resourceVersion: created.metadata.resourceVersion }, data: { v: '3' } }, MERGE);
    assertStatus(stalePatch, 409, 'Conflict', /^Operation cannot be fulfilled on configmaps "guarded-update": the object has been modified/);
    const current = (await api.get(`${cms}/guarded-update`)).json;
    const otherUid = await api.put(`${cms}/guarded-update`, { ...current, metadata: { ...current.metadata, uid: '00000000-0000-0000-0000-000000000000' } });
    assertStatus(otherUid, 409, 'Conflict', /Precondition failed: UID in precondition: 00000000-0000-0000-0000-000000000000, UID in object meta: /);
    assert.deepEqual((await api.get(`${cms}/guarded-update`)).json.data, { v: '2' });
  });

  it('dryRun=All validates and answers, but stores nothing', async () => {
    const beforeCms = await snapshot(cms);
    const created = await api.post(`${cms}?dryRun=All`, configMap('dry', { a: '1' }));
    assertOk(created, 201);
    assert.equal(created.json.metadata.name, 'dry');
    assert.ok(created.json.metadata.uid);
    assert.ok(created.json.metadata.creationTimestamp);
    assertStatus(await api.get(`${cms}/dry`), 404, 'NotFound');
    // Validation still runs.
    assertStatus(await api.post(`${cms}?dryRun=All`, configMap('Dry_Bad')), 422, 'Invalid');
    const current = (await api.get(`${cms}/plain`)).json;
    const updated = await api.put(`${cms}/plain?dryRun=All`, { ...current, data: { dry: 'run' } });
    assertOk(updated);
    assert.deepEqual(updated.json.data, { dry: 'run' });
    const patched = await api.patch(`${cms}/plain?dryRun=All`, { data: { dry: 'patch' } }, MERGE);
    assertOk(patched);
    assert.deepEqual(patched.json.data, { a: '1', dry: 'patch' });
    assertOk(await api.delete(`${cms}/plain?dryRun=All`));
    assert.deepEqual((await api.get(`${cms}/plain`)).json, current);
    // Any other dryRun value is refused, never taken for a real write.
    const typo = await api.post(`${cms}?dryRun=Sometimes`, configMap('dry2'));
    assertStatus(typo, 422, 'Invalid', 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: []string{"Sometimes"}: supported values: "All"');
    assertStatus(await api.patch(`${cms}/plain?dryRun=all`, { data: { x: 'y' } }, MERGE), 422, 'Invalid', /^PatchOptions\.meta\.k8s\.io "" is invalid: dryRun/);
    assertStatus(await api.delete(`${cms}/plain?dryRun=yes`), 422, 'Invalid', /^DeleteOptions\.meta\.k8s\.io "" is invalid: dryRun/);
    assertStatus(await api.get(`${cms}/dry2`), 404, 'NotFound');
    assert.deepEqual(await snapshot(cms), beforeCms);
  });

  it('JSON patch, merge patch and strategic merge patch (containers merged by name)', async () => {
    assertOk(await api.post(deployments, deployment('patched')), 201);
    const json = await api.patch(
      `${deployments}/patched`,
      [
        { op: 'replace', path: '/spec/replicas', value: 3 },
        { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      ],
      JSON_PATCH,
    );
    assertOk(json);
    assert.equal(json.json.spec.replicas, 3);
    assert.equal(json.json.metadata.labels.tier, 'front');
    const failedTest = await api.patch(`${deployments}/patched`, [{ op: 'test', path: '/spec/replicas', value: 99 }], JSON_PATCH);
    assert.ok(failedTest.status === 422 || failedTest.status === 409 || failedTest.status === 400, failedTest.text);
    assert.equal(failedTest.json.kind, 'Status');

    const merge = await api.patch(`${deployments}/patched`, { metadata: { labels: { tier: null, merged: 'yes' } } }, MERGE);
    assertOk(merge);
    assert.deepEqual(merge.json.metadata.labels, { app: 'patched', merged: 'yes' });

    const smp = await api.patch(`${deployments}/patched`, { spec: { template: { spec: { containers: [{ name: 'cache', image: 'redis:7' }] } } } }, STRATEGIC);
    assertOk(smp);
    const containers = smp.json.spec.template.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]);
    assert.deepEqual(containers, [
      ['web', 'nginx:1.27'],
      ['cache', 'redis:7'],
    ]);
    // The same list in a merge patch replaces it.
    const replaced = await api.patch(`${deployments}/patched`, { spec: { template: { spec: { containers: [{ name: 'only', image: 'busybox' }] } } } }, MERGE);
    assertOk(replaced);
    assert.deepEqual(replaced.json.spec.template.spec.containers.map((c: { name: string }) => c.name), ['only']);
    // A new element goes first without $setElementOrder (normalizeElementOrder puts patch items before server-only ones).
    const added = await api.patch(`${deployments}/patched`, { spec: { template: { spec: { containers: [{ name: 'side', image: 'envoy' }] } } } }, STRATEGIC);
    assert.deepEqual(added.json.spec.template.spec.containers.map((c: { name: string }) => c.name), ['side', 'only']);
    const ordered = await api.patch(
      `${deployments}/patched`,
      { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'only' }, { name: 'side' }], containers: [{ name: 'side', image: 'envoy:2' }] } } } },
      STRATEGIC,
    );
    assert.deepEqual(ordered.json.spec.template.spec.containers.map((c: { name: string; image: string }) => [c.name, c.image]), [
      ['only', 'busybox'],
      ['side', 'envoy:2'],
    ]);
    // $patch: delete removes an element by its merge key.
    const removed = await api.patch(`${deployments}/patched`, { spec: { template: { spec: { containers: [{ name: 'only', $patch: 'delete' }] } } } }, STRATEGIC);
    assertOk(removed);
    assert.deepEqual(removed.json.spec.template.spec.containers.map((c: { name: string }) => c.name), ['side']);
    // PATCH of a missing object is 404.
    assertStatus(await api.patch(`${deployments}/nobody`, { spec: {} }, MERGE), 404, 'NotFound', 'deployments.apps "nobody" not found');
  });

  it('the scale subresource reads and writes an autoscaling/v1 Scale', async () => {
    const created = (await api.post(deployments, deployment('scaled'))).json;
    const scale = await api.get(`${deployments}/scaled/scale`);
    assertOk(scale);
    assert.equal(scale.json.kind, 'Scale');
    assert.equal(scale.json.apiVersion, 'autoscaling/v1');
    assert.equal(scale.json.metadata.name, 'scaled');
    assert.equal(scale.json.metadata.namespace, ns);
    assert.equal(scale.json.metadata.uid, created.metadata.uid);
    assert.deepEqual(scale.json.spec, { replicas: 1 });
    assert.equal(scale.json.status.selector, 'app=scaled');

    const patched = await api.patch(`${deployments}/scaled/scale`, { spec: { replicas: 4 } }, MERGE);
    assertOk(patched);
    assert.equal(patched.json.kind, 'Scale');
    assert.equal(patched.json.spec.replicas, 4);
    const dep = (await api.get(`${deployments}/scaled`)).json;
    assert.equal(dep.spec.replicas, 4);
    assert.equal(dep.metadata.generation, 2);
    assert.equal(patched.json.metadata.resourceVersion, dep.metadata.resourceVersion);

    const put = await api.put(`${deployments}/scaled/scale`, { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'scaled', namespace: ns }, spec: { replicas: 2 } });
    assertOk(put);
    assert.equal(put.json.spec.replicas, 2);
    const negative = await api.patch(`${deployments}/scaled/scale`, { spec: { replicas: -1 } }, MERGE);
    assertStatus(negative, 422, 'Invalid', /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/);
    assert.equal((await api.get(`${deployments}/scaled`)).json.spec.replicas, 2);
    assertStatus(await api.get(`${deployments}/nobody/scale`), 404, 'NotFound');
  });
});

// ---- lists: selectors and pagination ----

describe('lists: selectors, pagination, resourceVersion', () => {
  const ns = 'lists';
  const cms = `/api/v1/namespaces/${ns}/configmaps`;
  const pods = `/api/v1/namespaces/${ns}/pods`;
  const q = (selector: string, kind = 'labelSelector') => `${cms}?${kind}=${encodeURIComponent(selector)}`;

  before(async () => {
    await createNamespace(ns);
    const labels: Record<string, Record<string, string>> = {
      a: { env: 'prod', tier: 'web' },
      b: { env: 'dev', tier: 'web' },
      c: { env: 'qa' },
      d: {},
    };
    for (const [name, l] of Object.entries(labels)) assertOk(await api.post(cms, configMap(name, {}, { labels: l })), 201);
  });

  it('label selectors: =, ==, !=, in, notin, exists, !exists, and conjunctions', async () => {
    assert.deepEqual(names(await api.get(q('env=prod'))), ['a']);
    assert.deepEqual(names(await api.get(q('env==prod'))), ['a']);
    assert.deepEqual(names(await api.get(q('env!=prod'))), ['b', 'c', 'd']);
    assert.deepEqual(names(await api.get(q('env in (prod,dev)'))), ['a', 'b']);
    assert.deepEqual(names(await api.get(q('env notin (prod,dev)'))), ['c', 'd']);
    assert.deepEqual(names(await api.get(q('tier'))), ['a', 'b']);
    assert.deepEqual(names(await api.get(q('!tier'))), ['c', 'd']);
    assert.deepEqual(names(await api.get(q('tier=web,env!=prod'))), ['b']);
    assert.deepEqual(names(await api.get(q('env=none'))), []);
    const bad = await api.get(q('env in prod'));
    assertStatus(bad, 400, 'BadRequest', /unable to parse requirement|found 'prod', expected: '\('/);
  });

  it('field selectors: metadata.name, status.phase, spec.nodeName, involvedObject.name', async () => {
    assert.deepEqual(names(await api.get(q('metadata.name=c', 'fieldSelector'))), ['c']);
    assert.deepEqual(names(await api.get(q('metadata.name!=c', 'fieldSelector'))), ['a', 'b', 'd']);
    assert.deepEqual(names(await api.get(q('metadata.namespace=lists,metadata.name=a', 'fieldSelector'))), ['a']);

    for (const name of ['p1', 'p2']) assertOk(await api.post(pods, pod(name)), 201);
    assertOk(await api.post(`${pods}/p1/binding`, { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p1' }, target: { kind: 'Node', name: 'node-x' } }), 201);
    const p1 = (await api.get(`${pods}/p1`)).json;
    assertOk(await api.put(`${pods}/p1/status`, { ...p1, status: { ...p1.status, phase: 'Running' } }));
    const pq = (selector: string) => `${pods}?fieldSelector=${encodeURIComponent(selector)}`;
    assert.deepEqual(names(await api.get(pq('status.phase=Running'))), ['p1']);
    assert.deepEqual(names(await api.get(pq('status.phase=Pending'))), ['p2']);
    assert.deepEqual(names(await api.get(pq('status.phase!=Running'))), ['p2']);
    assert.deepEqual(names(await api.get(pq('spec.nodeName=node-x'))), ['p1']);
    assert.deepEqual(names(await api.get(pq('spec.nodeName='))), ['p2']);
    // Across namespaces too.
    assert.deepEqual(names(await api.get(`/api/v1/pods?fieldSelector=${encodeURIComponent('spec.nodeName=node-x')}`)), ['p1']);

    const event = (name: string, involved: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { apiVersion: 'v1', kind: 'Pod', name: involved, namespace: ns },
      reason: 'Scheduled',
      message: `assigned ${involved}`,
      type: 'Normal',
      source: { component: 'test' },
      count: 1,
      firstTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      lastTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    assertOk(await api.post(`/api/v1/namespaces/${ns}/events`, event('p1.1', 'p1')), 201);
    assertOk(await api.post(`/api/v1/namespaces/${ns}/events`, event('p2.1', 'p2')), 201);
    const evq = (selector: string) => `/api/v1/namespaces/${ns}/events?fieldSelector=${encodeURIComponent(selector)}`;
    assert.deepEqual(names(await api.get(evq('involvedObject.name=p1'))), ['p1.1']);
    assert.deepEqual(names(await api.get(evq(`involvedObject.name=p2,involvedObject.namespace=${ns},involvedObject.kind=Pod`))), ['p2.1']);
  });

  it('an unsupported field selector → 400', async () => {
    assertStatus(await api.get(q('data.k=v', 'fieldSelector')), 400, 'BadRequest', /data\.k/);
    assertStatus(await api.get(`${pods}?fieldSelector=${encodeURIComponent('spec.foo=1')}`), 400, 'BadRequest', 'field label not supported: spec.foo');
    assertStatus(await api.get(`${pods}?watch=true&fieldSelector=${encodeURIComponent('spec.foo=1')}`), 400, 'BadRequest', 'field label not supported: spec.foo');
  });

  it('the list carries a resourceVersion at least the newest item', async () => {
    const res = await api.get(cms);
    assertOk(res);
    assert.equal(res.json.kind, 'ConfigMapList');
    assert.equal(res.json.apiVersion, 'v1');
    const rv = Number(res.json.metadata.resourceVersion);
    assert.ok(rv > 0);
    for (const item of res.json.items) assert.ok(Number(item.metadata.resourceVersion) <= rv);
    // Items carry no kind/apiVersion in a list, as in Kubernetes' JSON.
    assert.equal(res.json.items[0].kind, undefined);
  });

  it('limit/continue returns every item exactly once across pages, at the first page’s snapshot, while writes happen', async () => {
    const pageNs = 'pages';
    await createNamespace(pageNs);
    const path = `/api/v1/namespaces/${pageNs}/configmaps`;
    const original: string[] = [];
    for (let i = 0; i < 40; i++) {
      const name = `item-${String(i).padStart(2, '0')}`;
      original.push(name);
      assertOk(await api.post(path, configMap(name, { v: '0' })), 201);
    }
    const seen: string[] = [];
    let token: string | undefined;
    let snapshotRv: string | undefined;
    let page = 0;
    do {
      const res = await api.get(`${path}?limit=7${token ? `&continue=${encodeURIComponent(token)}` : ''}`);
      assertOk(res);
      assert.ok(res.json.items.length <= 7);
      snapshotRv ??= res.json.metadata.resourceVersion;
      assert.equal(res.json.metadata.resourceVersion, snapshotRv, 'every page is read at the first page’s revision');
      for (const item of res.json.items) {
        seen.push(item.metadata.name);
        assert.ok(Number(item.metadata.resourceVersion) <= Number(snapshotRv));
        assert.deepEqual(item.data, { v: '0' }, 'items are read as of the snapshot');
      }
      token = res.json.metadata.continue;
      // Writes between pages: new names before and after, updates and deletes of items not yet listed.
      await Promise.all([
        api.post(path, configMap(`aaa-new-${page}`)),
        api.post(path, configMap(`zzz-new-${page}`)),
        api.patch(`${path}/item-${String(39 - page).padStart(2, '0')}`, { data: { v: String(page + 1) } }, MERGE),
        page < 5 ? api.delete(`${path}/item-${String(30 - page).padStart(2, '0')}`) : Promise.resolve(undefined),
      ]);
      page++;
    } while (token);
    assert.equal(page, 6);
    assert.deepEqual(seen, original, 'each original item exactly once, in key order');
    // A fresh list sees the writes.
    const now = names(await api.get(path));
    assert.ok(now.includes('aaa-new-0') && now.includes('zzz-new-5'));
    assert.ok(!now.includes('item-30'));
    assertStatus(await api.get(`${path}?limit=7&continue=garbage`), 400, 'BadRequest');
  });

  it('a list at a resourceVersion the server has not reached → 504 Timeout with the ResourceVersionTooLarge cause', async () => {
    const current = Number((await api.get(cms)).json.metadata.resourceVersion);
    const started = Date.now();
    const res = await api.get(`${cms}?resourceVersion=${current + 1_000_000}`);
    assertStatus(res, 504, 'Timeout', new RegExp(`^Timeout: Too large resource version: ${current + 1_000_000}, current: \\d+$`));
    const reported = Number(/current: (\d+)$/.exec(res.json.message)![1]);
    assert.ok(reported >= current && reported < current + 1_000_000, `the current revision is reported: ${res.json.message}`);
    assert.ok(Date.now() - started >= 2500, 'the server waits (3 s) for the revision first');
    assert.deepEqual(res.json.details, { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 });
    assert.equal(res.headers['retry-after'], '1');
    assertStatus(await api.get(`${cms}?resourceVersion=abc`), 400, 'BadRequest');
  });

  it('limit with a selector fills pages with matching items only', async () => {
    const first = await api.get(`${cms}?limit=1&labelSelector=tier%3Dweb`);
    assert.deepEqual(names(first), ['a']);
    assert.ok(first.json.metadata.continue);
    const second = await api.get(`${cms}?limit=1&labelSelector=tier%3Dweb&continue=${encodeURIComponent(first.json.metadata.continue)}`);
    assert.deepEqual(names(second), ['b']);
    assert.equal(second.json.metadata.continue, undefined);
  });
});

// ---- watch ----

describe('watch', () => {
  const ns = 'watching';
  const cms = `/api/v1/namespaces/${ns}/configmaps`;

  before(async () => {
    await createNamespace(ns);
  });

  it('from a list resourceVersion: the later events, in order, then live ones', async () => {
    const list = await api.get(cms);
    const rv = list.json.metadata.resourceVersion;
    const created = (await api.post(cms, configMap('w1', { v: '1' }))).json;
    const updated = (await api.patch(`${cms}/w1`, { data: { v: '2' } }, MERGE)).json;
    assertOk(await api.delete(`${cms}/w1`));
    const watch = await api.watch(`${cms}?watch=true&resourceVersion=${rv}`);
    try {
      assert.equal(watch.status, 200);
      assert.equal(watch.headers['content-type'], 'application/json');
      assert.equal(watch.headers['transfer-encoding'], 'chunked');
      const events = await watch.take(3);
      assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name]), [
        ['ADDED', 'w1'],
        ['MODIFIED', 'w1'],
        ['DELETED', 'w1'],
      ]);
      assert.equal(events[0].object.kind, 'ConfigMap');
      assert.equal(events[0].object.apiVersion, 'v1');
      assert.equal(events[0].object.metadata.resourceVersion, created.metadata.resourceVersion);
      assert.equal(events[1].object.metadata.resourceVersion, updated.metadata.resourceVersion);
      assert.deepEqual(events[1].object.data, { v: '2' });
      const rvs = events.map((e) => Number(e.object.metadata.resourceVersion));
      assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2], `increasing: ${rvs}`);
      // Live events follow.
      assertOk(await api.post(cms, configMap('w2')), 201);
      const live = await watch.next();
      assert.equal(live?.type, 'ADDED');
      assert.equal(live?.object.metadata.name, 'w2');
      assert.ok(Number(live?.object.metadata.resourceVersion) > rvs[2]);
    } finally {
      watch.close();
    }
  });

  it('resourceVersion=0 sends ADDED for every existing object first', async () => {
    const path = `/api/v1/namespaces/${ns}/secrets`;
    for (const name of ['s1', 's2', 's3']) assertOk(await api.post(path, { apiVersion: 'v1', kind: 'Secret', metadata: { name }, stringData: { k: name } }), 201);
    const watch = await api.watch(`${path}?watch=true&resourceVersion=0`);
    try {
      const initial = await watch.take(3);
      assert.deepEqual(initial.map((e) => [e.type, e.object.metadata.name]).sort(), [
        ['ADDED', 's1'],
        ['ADDED', 's2'],
        ['ADDED', 's3'],
      ]);
      assert.equal(initial[0].object.kind, 'Secret');
      assert.equal(await watch.next(200), undefined, 'nothing else until a change');
      assertOk(await api.delete(`${path}/s2`));
      const deleted = await watch.next();
      assert.equal(deleted?.type, 'DELETED');
      assert.equal(deleted?.object.metadata.name, 's2');
    } finally {
      watch.close();
    }
  });

  it('a label-selector watch turns a label removal into DELETED and its return into ADDED', async () => {
    const created = (await api.post(cms, configMap('labelled', {}, { labels: { app: 'x' } }))).json;
    const watch = await api.watch(`${cms}?watch=true&labelSelector=app%3Dx&resourceVersion=${created.metadata.resourceVersion}`);
    try {
      assertOk(await api.patch(`${cms}/labelled`, { data: { a: '1' } }, MERGE));
      assertOk(await api.patch(`${cms}/labelled`, { metadata: { labels: { app: null } } }, MERGE));
      assertOk(await api.patch(`${cms}/labelled`, { data: { a: '2' } }, MERGE)); // not selected: no event
      assertOk(await api.patch(`${cms}/labelled`, { metadata: { labels: { app: 'x' } } }, MERGE));
      const events = await watch.take(3);
      assert.deepEqual(events.map((e) => e.type), ['MODIFIED', 'DELETED', 'ADDED']);
      assert.deepEqual(events[1].object.metadata.labels ?? {}, {}, 'DELETED carries the object as it is now');
      assert.deepEqual(events[2].object.data, { a: '2' });
      assert.equal(await watch.next(200), undefined);
    } finally {
      watch.close();
    }
  });

  it('a watch of one object by name (kubectl get -w NAME) sees only that object', async () => {
    assertOk(await api.post(cms, configMap('single')), 201);
    assertOk(await api.post(cms, configMap('other')), 201);
    const watch = await api.watch(`${cms}?fieldSelector=${encodeURIComponent('metadata.name=single')}&resourceVersion=0&watch=true`);
    try {
      const first = await watch.next();
      assert.equal(first?.type, 'ADDED');
      assert.equal(first?.object.metadata.name, 'single');
      assertOk(await api.patch(`${cms}/other`, { data: { x: '1' } }, MERGE));
      assertOk(await api.patch(`${cms}/single`, { data: { x: '1' } }, MERGE));
      const next = await watch.next();
      assert.equal(next?.type, 'MODIFIED');
      assert.equal(next?.object.metadata.name, 'single');
    } finally {
      watch.close();
    }
  });

  it('timeoutSeconds ends the stream', async () => {
    const started = Date.now();
    const watch = await api.watch(`${cms}?watch=true&timeoutSeconds=1`);
    await Promise.race([watch.ended, new Promise((resolve) => setTimeout(resolve, 5000))]);
    assert.ok(watch.endedAt !== undefined, 'the server closed the stream');
    const took = watch.endedAt! - started;
    assert.ok(took >= 900 && took < 4000, `closed after ${took} ms`);
  });

  it('sendInitialEvents with allowWatchBookmarks ends the initial events with a BOOKMARK', async () => {
    const path = `/api/v1/namespaces/${ns}/serviceaccounts`;
    for (const name of ['sa1', 'sa2']) assertOk(await api.post(path, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name } }), 201);
    const watch = await api.watch(`${path}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
    try {
      const events = await watch.take(3);
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK']);
      const bookmark = events[2].object;
      assert.equal(bookmark.kind, 'ServiceAccount');
      assert.equal(bookmark.metadata.annotations['k8s.io/initial-events-end'], 'true');
      assert.ok(Number(bookmark.metadata.resourceVersion) >= Math.max(...events.slice(0, 2).map((e) => Number(e.object.metadata.resourceVersion))));
    } finally {
      watch.close();
    }
  });

  it('allowWatchBookmarks sends periodic BOOKMARK events', { skip: 'the bookmark interval is 60 s, too slow for this suite' }, async () => {
    const watch = await api.watch(`${cms}?watch=true&allowWatchBookmarks=true&resourceVersion=0`);
    try {
      for (;;) {
        const event = await watch.next(70_000);
        assert.ok(event, 'a bookmark within 70 s');
        if (event.type === 'BOOKMARK') break;
      }
    } finally {
      watch.close();
    }
  });

  it('a Table watch sends one-row Tables, with the columns in the first event', async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const watch = await api.watch(`${path}?watch=true&resourceVersion=0`, { accept: TABLE_ACCEPT });
    try {
      assert.equal(watch.headers['content-type'], TABLE_ACCEPT);
      assertOk(await api.post(path, pod('tw1')), 201);
      assertOk(await api.post(path, pod('tw2')), 201);
      const [first, second] = await watch.take(2);
      assert.equal(first.type, 'ADDED');
      assert.equal(first.object.kind, 'Table');
      assert.equal(first.object.columnDefinitions[0].name, 'Name');
      assert.equal(first.object.rows[0].cells[0], 'tw1');
      assert.equal(second.object.rows[0].cells[0], 'tw2');
    } finally {
      watch.close();
    }
  });

  it('a watch from a compacted resourceVersion gets one ERROR event with a 410 Expired Status', async () => {
    const path = `/api/v1/namespaces/${ns}/configmaps`;
    const writers = 8;
    for (let w = 0; w < writers; w++) assertOk(await api.post(path, configMap(`churn-${w}`, { n: '0' })), 201);
    const firstPage = await api.get(`${path}?limit=2`);
    const staleContinue = firstPage.json.metadata.continue;
    assert.ok(staleContinue);
    // ~1500 revisions: past the 1250 that triggers compaction (keeping 1000).
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 1; i <= 190; i++) {
          const res = await api.patch(`${path}/churn-${w}`, { data: { n: String(i) } }, MERGE);
          assert.equal(res.status, 200, res.text);
        }
      }),
    );
    const watch = await waitFor(
      async () => {
        const attempt = await api.watch(`${path}?watch=true&resourceVersion=1`);
        const event = await attempt.next(2000);
        attempt.close();
        return event?.type === 'ERROR' ? { attempt, event } : undefined;
      },
      'the history to be compacted',
      15_000,
    );
    assert.equal(watch.attempt.status, 200);
    assert.deepEqual(
      { ...watch.event.object, message: undefined },
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410, message: undefined },
    );
    assert.match(watch.event.object.message, /^too old resource version: 1 \(\d+\)$/);
    // A list at that revision is gone too; a list at the latest revision is fine.
    const exact = await api.get(`${path}?resourceVersion=1&resourceVersionMatch=Exact`);
    assertStatus(exact, 410, 'Expired', 'The resourceVersion for the provided list is too old.');
    const continued = await api.get(`${path}?limit=2&continue=${encodeURIComponent(staleContinue)}`);
    assertStatus(continued, 410, 'Expired', /^The provided continue parameter is too old to display a consistent list result/);
    assertOk(await api.get(path));
    // Recent history is still there.
    const recent = await api.get(path);
    const rv = Number(recent.json.metadata.resourceVersion);
    const fresh = await api.watch(`${path}?watch=true&resourceVersion=${rv - 5}`);
    try {
      const event = await fresh.next();
      assert.equal(event?.type, 'MODIFIED');
    } finally {
      fresh.close();
    }
  });
});

// ---- output shapes: Table, discovery, OpenAPI ----

describe('Table output, discovery and OpenAPI', () => {
  const ns = 'shapes';

  before(async () => {
    await createNamespace(ns);
    assertOk(await api.post(`/api/v1/namespaces/${ns}/pods`, pod('table-pod')), 201);
  });

  it('Table output for pods has the columns Name, Ready, Status, Restarts, Age (+ wide ones)', async () => {
    const res = await api.get(`/api/v1/namespaces/${ns}/pods`, { accept: `${TABLE_ACCEPT},application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json` });
    assertOk(res);
    assert.equal(res.headers['content-type'], TABLE_ACCEPT);
    assert.equal(res.json.kind, 'Table');
    assert.equal(res.json.apiVersion, 'meta.k8s.io/v1');
    assert.match(res.json.metadata.resourceVersion, /^\d+$/);
    const columns = res.json.columnDefinitions.map((c: { name: string; priority: number }) => [c.name, c.priority]);
    assert.deepEqual(columns.slice(0, 5), [
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
    ]);
    assert.deepEqual(columns.slice(5).map((c: [string, number]) => c[0]), ['IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    assert.ok(columns.slice(5).every((c: [string, number]) => c[1] === 1));
    assert.equal(res.json.columnDefinitions[0].format, 'name');
    assert.equal(res.json.rows.length, 1);
    const [name, ready, status, restarts, age] = res.json.rows[0].cells;
    assert.equal(name, 'table-pod');
    assert.equal(ready, '0/1');
    assert.equal(status, 'Pending');
    assert.equal(restarts, '0');
    assert.match(age, /^\d+s$/);
    assert.equal(res.json.rows[0].object.kind, 'PartialObjectMetadata');
    assert.equal(res.json.rows[0].object.metadata.name, 'table-pod');
    // A single object as a Table, and a kind without a printer gets Name + Created At.
    const one = await api.get(`/api/v1/namespaces/${ns}/pods/table-pod`, { accept: TABLE_ACCEPT });
    assert.equal(one.json.rows.length, 1);
    const cms = await api.get(`/api/v1/namespaces/${ns}/configmaps`, { accept: TABLE_ACCEPT });
    assertOk(cms);
    assert.equal(cms.json.kind, 'Table');
  });

  it('aggregated discovery is negotiated from Accept: v2, then v2beta1, else the legacy documents', async () => {
    const kubectlAccept = `${DISCOVERY_V2},${DISCOVERY_V2BETA1},application/json`;
    const v2 = await api.get('/apis', { accept: kubectlAccept });
    assertOk(v2);
    assert.equal(v2.headers['content-type'], DISCOVERY_V2);
    assert.equal(v2.json.kind, 'APIGroupDiscoveryList');
    assert.equal(v2.json.apiVersion, 'apidiscovery.k8s.io/v2');
    const apps = v2.json.items.find((g: { metadata: { name: string } }) => g.metadata.name === 'apps');
    const deployments = apps.versions[0].resources.find((r: { resource: string }) => r.resource === 'deployments');
    assert.deepEqual(deployments.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
    assert.equal(deployments.scope, 'Namespaced');
    assert.ok(deployments.subresources.some((s: { subresource: string }) => s.subresource === 'scale'));

    const core = await api.get('/api', { accept: kubectlAccept });
    assert.equal(core.headers['content-type'], DISCOVERY_V2);
    const pods = core.json.items[0].versions[0].resources.find((r: { resource: string }) => r.resource === 'pods');
    assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
    assert.ok(pods.verbs.includes('watch'));
    assert.deepEqual(pods.shortNames, ['po']);

    const beta = await api.get('/apis', { accept: `${DISCOVERY_V2BETA1},application/json` });
    assert.equal(beta.headers['content-type'], DISCOVERY_V2BETA1);
    assert.equal(beta.json.apiVersion, 'apidiscovery.k8s.io/v2beta1');

    const legacyApis = await api.get('/apis', { accept: 'application/json' });
    assert.equal(legacyApis.headers['content-type'], 'application/json');
    assert.equal(legacyApis.json.kind, 'APIGroupList');
    assert.ok(legacyApis.json.groups.some((g: { name: string; preferredVersion: { groupVersion: string } }) => g.name === 'apps' && g.preferredVersion.groupVersion === 'apps/v1'));
    const legacyApi = await api.get('/api');
    assert.equal(legacyApi.json.kind, 'APIVersions');
    assert.deepEqual(legacyApi.json.versions, ['v1']);
    assert.match(String(v2.headers.vary), /Accept/);

    const resourceList = await api.get('/api/v1');
    assert.equal(resourceList.json.kind, 'APIResourceList');
    assert.equal(resourceList.json.groupVersion, 'v1');
    const names = resourceList.json.resources.map((r: { name: string }) => r.name);
    for (const name of ['pods', 'pods/status', 'pods/binding', 'configmaps', 'namespaces']) assert.ok(names.includes(name), name);
    const appsList = await api.get('/apis/apps/v1');
    assert.ok(appsList.json.resources.some((r: { name: string }) => r.name === 'deployments/scale'));
    assertStatus(await api.get('/apis/nothing.example.com/v1'), 404, 'NotFound');
  });

  it('/openapi/v3 lists the group-versions and serves their documents', async () => {
    const index = await api.get('/openapi/v3');
    assertOk(index);
    const core = index.json.paths['api/v1'];
    assert.match(core.serverRelativeURL, /^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/i);
    assert.ok(index.json.paths['apis/apps/v1']);
    const doc = await api.get(core.serverRelativeURL);
    assertOk(doc);
    assert.match(doc.json.openapi, /^3\./);
    const podSchema = doc.json.components.schemas['io.k8s.api.core.v1.Pod'];
    assert.deepEqual(podSchema['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.ok(podSchema.description);
    const podPath = doc.json.paths['/api/v1/namespaces/{namespace}/pods/{name}'];
    assert.ok(podPath.patch.parameters.some((p: { name: string }) => p.name === 'fieldValidation'), 'PATCH of a pod lists fieldValidation');
    const apps = await api.get(index.json.paths['apis/apps/v1'].serverRelativeURL);
    assert.ok(apps.json.components.schemas['io.k8s.api.apps.v1.Deployment']);
    const stale = await api.get('/openapi/v3/api/v1?hash=0000');
    assert.equal(stale.status, 301);
    assert.equal(stale.headers.location, core.serverRelativeURL);
    assertStatus(await api.get('/openapi/v3/apis/nothing/v1'), 404, 'NotFound');
  });
});
