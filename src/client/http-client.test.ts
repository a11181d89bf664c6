/**
 * The HTTPS client against a real `pilote server` process: kubeconfig
 * loading (inline data, files, token), every ResourceClient operation, Status
 * errors carried over with their code, reason, message and details, the three
 * patch content types, pods/binding, watch streams (in order, stop without an
 * error, a 410 from a compacted resourceVersion), and the shared Informer on
 * top of it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { TestCluster, waitFor } from '../../test/helpers/cluster.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { HttpApiClient, loadKubeconfig } from './http-client.js';
import { Informer } from './informer.js';
import { RESOURCES, type ClientWatchEvent } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

let cluster: TestCluster;
let client: HttpApiClient;
let dir: string;
const ns = 'http-client';

function isStatus(code: number, reason: string, message?: string | RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof StatusError, `expected a StatusError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.reason, reason);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message) assert.match(error.message, message);
    return true;
  };
}

const configMap = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, labels },
  data,
});

before(async () => {
  cluster = await TestCluster.start();
  client = HttpApiClient.fromKubeconfig(cluster.kubeconfig);
  dir = mkdtempSync(join(tmpdir(), 'pilote-http-client-'));
  await client.resource(RESOURCES.namespaces).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
});

after(async () => {
  client?.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('kubeconfig', () => {
  it('resolves the current context with inline data', () => {
    const credentials = loadKubeconfig(cluster.kubeconfig);
    assert.equal(credentials.server, `https://127.0.0.1:${cluster.port}`);
    assert.match(credentials.ca!.toString(), /BEGIN CERTIFICATE/);
    assert.match(credentials.cert!.toString(), /BEGIN CERTIFICATE/);
    assert.match(credentials.key!.toString(), /PRIVATE KEY/);
  });

  it('reads files relative to the kubeconfig and bearer tokens', async () => {
    const config = parseYaml(readFileSync(cluster.kubeconfig, 'utf8'));
    writeFileSync(join(dir, 'ca.crt'), Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64'));
    delete config.clusters[0].cluster['certificate-authority-data'];
    config.clusters[0].cluster['certificate-authority'] = 'ca.crt';
    config.users[0].user = { token: readFileSync(join(cluster.dataDir, 'tls', 'admin.token'), 'utf8').trim() };
    config.contexts.push({ name: 'anonymous', context: { cluster: 'pilote', user: 'nobody' } });
    config.users.push({ name: 'nobody', user: {} });
    const path = join(dir, 'kubeconfig.yaml');
    writeFileSync(path, stringifyYaml(config));

    const withToken = HttpApiClient.fromKubeconfig(path);
    try {
      const list = await withToken.resource(RESOURCES.namespaces).list(undefined);
      assert.ok(list.items.some((n) => n.metadata.name === 'kube-node-lease'));
    } finally {
      withToken.close();
    }
    const anonymous = HttpApiClient.fromKubeconfig(path, { context: 'anonymous' });
    try {
      await assert.rejects(anonymous.resource(RESOURCES.namespaces).list(undefined), isStatus(401, 'Unauthorized', 'Unauthorized'));
    } finally {
      anonymous.close();
    }
    assert.throws(() => loadKubeconfig(path, 'missing'), /context "missing" not found/);
  });
});

describe('requests', () => {
  const cms = () => client.resource(RESOURCES.configMaps);

  it('creates, reads, lists, updates and deletes', async () => {
    const created = await cms().create(ns, configMap('one', { a: '1' }, { app: 'x' }));
    assert.equal(created.kind, 'ConfigMap');
    assert.ok(created.metadata.uid && created.metadata.resourceVersion);
    await cms().create(ns, configMap('two', {}, { app: 'y' }));
    const got = await cms().get(ns, 'one');
    assert.deepEqual(got.data, { a: '1' });
    const selected = await cms().list(ns, { labelSelector: 'app=x' });
    assert.deepEqual(
      selected.items.map((i) => i.metadata.name),
      ['one'],
    );
    assert.match(selected.resourceVersion, /^\d+$/);
    const paged = await cms().list(ns, { limit: 1 });
    assert.equal(paged.items.length, 1);
    assert.ok(paged.continue);
    const rest = await cms().list(ns, { limit: 1, continue: paged.continue });
    assert.notEqual(rest.items[0].metadata.name, paged.items[0].metadata.name);

    const updated = await cms().update(ns, { ...got, data: { a: '2' } });
    assert.deepEqual(updated.data, { a: '2' });
    // The stale resourceVersion: the server's 409, as is.
    await assert.rejects(
      cms().update(ns, { ...got, data: { a: '3' } }),
      isStatus(409, 'Conflict', 'Operation cannot be fulfilled on configmaps "one": the object has been modified; please apply your changes to the latest version and try again'),
    );
    await cms().delete(ns, 'one');
    await assert.rejects(cms().get(ns, 'one'), (error: unknown) => {
      isStatus(404, 'NotFound', 'configmaps "one" not found')(error);
      assert.deepEqual((error as StatusError).details, { name: 'one', kind: 'configmaps' });
      return true;
    });
    await assert.rejects(cms().create(ns, configMap('two')), isStatus(409, 'AlreadyExists', 'configmaps "two" already exists'));
  });

  it('carries validation errors with their causes', async () => {
    await assert.rejects(cms().create(ns, configMap('Bad_Name')), (error: unknown) => {
      isStatus(422, 'Invalid', /^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/)(error);
      assert.equal((error as StatusError).details?.causes?.[0]?.field, 'metadata.name');
      return true;
    });
  });

  it('patches with the three content types', async () => {
    await cms().create(ns, configMap('patched', { a: '1', b: '2' }));
    const merged = await cms().patch(ns, 'patched', 'merge', { data: { a: null, c: '3' } });
    assert.deepEqual(merged.data, { b: '2', c: '3' });
    const strategic = await cms().patch(ns, 'patched', 'strategic', { metadata: { labels: { tier: 'web' } } });
    assert.deepEqual(strategic.metadata.labels, { tier: 'web' });
    const json = await cms().patch(ns, 'patched', 'json', [{ op: 'replace', path: '/data/b', value: 'two' }]);
    assert.deepEqual(json.data, { b: 'two', c: '3' });
    await assert.rejects(cms().patch(ns, 'patched', 'json', [{ op: 'test', path: '/data/b', value: 'nope' }]), (error: unknown) => error instanceof StatusError && error.code >= 400 && error.code < 500);
  });

  it('ignores the namespace of cluster-scoped resources, binds pods and writes status', async () => {
    const nodes = client.resource(RESOURCES.nodes);
    await nodes.create('ignored', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'http-node' } });
    assert.equal((await nodes.get('ignored', 'http-node')).metadata.name, 'http-node');

    const pods = client.resource(RESOURCES.pods);
    await pods.create(ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bound' }, spec: { containers: [{ name: 'c', image: 'nginx' }] } });
    const answer = (await pods.createSubresource(ns, 'bound', 'binding', {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'bound' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'http-node' },
    } as KubeObject)) as Any;
    assert.equal(answer.status, 'Success');
    const pod: Any = await pods.get(ns, 'bound');
    assert.equal(pod.spec.nodeName, 'http-node');
    await assert.rejects(
      pods.createSubresource(ns, 'bound', 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { name: 'http-node' } } as KubeObject),
      isStatus(409, 'Conflict', /already assigned to node "http-node"/),
    );
    const withStatus = await pods.updateStatus(ns, { ...pod, status: { ...pod.status, phase: 'Running' } });
    assert.equal((withStatus as Any).status.phase, 'Running');
    const patched = await pods.patch(ns, 'bound', 'merge', { status: { podIP: '10.42.9.9' } }, 'status');
    assert.equal((patched as Any).status.podIP, '10.42.9.9');
    await pods.delete(ns, 'bound', { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    await assert.rejects(pods.get(ns, 'bound'), isStatus(404, 'NotFound'));
    await nodes.delete(undefined, 'http-node');
  });

  it('serves many requests at once over a bounded pool', async () => {
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => cms().create(ns, configMap(`many-${i}`))));
    assert.equal(results.length, 200);
    const list = await cms().list(ns, { labelSelector: '' });
    assert.ok(list.items.filter((i) => i.metadata.name!.startsWith('many-')).length === 200);
  });
});

describe('watch', () => {
  it('streams events in order and stops without an error', async () => {
    const cms = client.resource(RESOURCES.configMaps);
    const start = await cms.list(ns);
    const events: ClientWatchEvent[] = [];
    const errors: Error[] = [];
    const watch = cms.watch(ns, { resourceVersion: start.resourceVersion, fieldSelector: 'metadata.name=watched' }, (e) => events.push(e), (e) => errors.push(e));
    await cms.create(ns, configMap('watched', { n: '0' }));
    await cms.patch(ns, 'watched', 'merge', { data: { n: '1' } });
    await cms.create(ns, configMap('unwatched'));
    await cms.delete(ns, 'watched');
    await waitFor(() => events.length >= 3, 'three events');
    assert.deepEqual(
      events.map((e) => [e.type, e.object.metadata.name, (e.object as Any).data?.n]),
      [
        ['ADDED', 'watched', '0'],
        ['MODIFIED', 'watched', '1'],
        ['DELETED', 'watched', '1'],
      ],
    );
    assert.equal(events[0].object.kind, 'ConfigMap');
    watch.stop();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(errors, []);
  });

  it('feeds an Informer that follows the server', async () => {
    const informer = new Informer(client.resource(RESOURCES.configMaps), { namespace: ns, labelSelector: 'informed=yes' });
    informer.start();
    try {
      await informer.hasSynced();
      await client.resource(RESOURCES.configMaps).create(ns, configMap('informed', {}, { informed: 'yes' }));
      await waitFor(() => informer.get(`${ns}/informed`), 'the informer to see the new object');
      await client.resource(RESOURCES.configMaps).delete(ns, 'informed');
      await waitFor(() => !informer.get(`${ns}/informed`), 'the informer to see the delete');
    } finally {
      informer.stop();
    }
  });

  it('reports a compacted resourceVersion as a StatusError 410', async () => {
    const cms = client.resource(RESOURCES.configMaps);
    await cms.create(ns, configMap('churn', { n: '0' }));
    // ~1500 revisions: past the point where the server compacts its history (it keeps ~1000).
    for (let start = 1; start <= 1500; start += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => cms.patch(ns, 'churn', 'merge', { data: { n: String(start + i) } })));
    }
    const error = await waitFor(
      () =>
        new Promise<Error | undefined>((resolve) => {
          const watch = cms.watch(
            ns,
            { resourceVersion: '1' },
            () => undefined,
            (e) => resolve(e),
          );
          setTimeout(() => {
            watch.stop();
            resolve(undefined);
          }, 1000);
        }),
      'resourceVersion 1 to be compacted',
      30_000,
    );
    assert.ok(error instanceof StatusError, String(error));
    assert.equal(error.code, 410);
    assert.equal(error.reason, 'Expired');
    assert.match(error.message, /^too old resource version: 1 \(\d+\)$/);
  });
});
