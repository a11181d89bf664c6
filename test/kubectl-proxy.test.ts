/**
 * End-to-end: `kubectl proxy` (the real binary) in front of a `pilote server`,
 * then plain HTTP from Node as the tutorial does with curl
 * (`kubectl proxy --port=8001 &` then `curl http://localhost:8001/...`):
 * the root index, version, discovery, lists, writes and a watch stream read
 * line by line through the proxy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request, type IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import { TestCluster, waitFor } from './helpers/cluster.js';
import { freePort } from './helpers/ports.js';
import { readResponse, type ApiResponse } from './helpers/api-client.js';

type HttpAnswer = ApiResponse;

/** One plain HTTP request (what curl does), bounded in time. */
function http(port: number, method: string, path: string, body?: unknown): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      { host: '127.0.0.1', port, method, path, timeout: 10_000, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} },
      (res) => readResponse(res).then(resolve, reject),
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A watch through the proxy: the chunked body read line by line, one JSON event per line. */
class LineWatch {
  readonly events: Array<{ type: string; object: any }> = [];
  private constructor(
    readonly response: IncomingMessage,
    private readonly abort: () => void,
  ) {
    const lines = createInterface({ input: response });
    lines.on('line', (line) => {
      if (line.trim()) this.events.push(JSON.parse(line));
    });
    // Closing the watch aborts the response (readline re-emits it): that is the end, not a failure.
    response.on('error', () => undefined);
    lines.on('error', () => undefined);
  }

  static open(port: number, path: string): Promise<LineWatch> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'GET', path }, (res) => resolve(new LineWatch(res, () => req.destroy())));
      req.setTimeout(10_000, () => req.destroy(new Error('no answer to the watch')));
      req.on('error', reject);
      req.end();
    });
  }

  /** Waits until an event matches. */
  async waitFor(what: string, match: (event: { type: string; object: any }) => boolean): Promise<{ type: string; object: any }> {
    return waitFor(() => this.events.find(match), `${what} (events: ${JSON.stringify(this.events.map((e) => [e.type, e.object?.metadata?.name]))})`);
  }

  close(): void {
    this.abort();
  }
}

describe('kubectl proxy in front of pilote', () => {
  let cluster: TestCluster;
  let proxy: ChildProcess;
  let port: number;
  let proxyOutput = '';

  before(async () => {
    cluster = await TestCluster.start();
    await cluster.kubectlOk(['run', 'web', '--image=nginx']);
    await cluster.kubectlOk(['run', 'cache', '--image=redis', '--labels=app=cache']);
    port = await freePort();
    proxy = cluster.kubectlSpawn(['proxy', `--port=${port}`]);
    proxy.stdout!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    proxy.stderr!.on('data', (chunk: Buffer) => (proxyOutput += chunk.toString()));
    await waitFor(() => proxyOutput.includes(`Starting to serve on 127.0.0.1:${port}`), `kubectl proxy to start (output: ${proxyOutput})`, 15_000);
  });

  after(async () => {
    if (proxy && proxy.exitCode === null && proxy.signalCode === null) {
      const exited = new Promise((resolve) => proxy.once('exit', resolve));
      proxy.kill('SIGTERM');
      await exited;
    }
    await cluster?.stop();
  });

  it('GET / lists the API paths (the tutorial\'s first curl)', async () => {
    const root = await http(port, 'GET', '/');
    assert.equal(root.status, 200, root.text);
    assert.match(String(root.headers['content-type']), /^application\/json/);
    const paths: string[] = root.json.paths;
    for (const path of ['/api', '/api/v1', '/apis', '/apis/apps', '/apis/apps/v1', '/healthz', '/version']) assert.ok(paths.includes(path), `${path} in ${paths.join(' ')}`);
    assert.deepEqual(paths, [...paths].sort());
  });

  it('GET /version and /api answer through the proxy', async () => {
    const version = await http(port, 'GET', '/version');
    assert.equal(version.status, 200);
    assert.equal(version.json.major, '1');
    assert.match(version.json.gitVersion, /^v1\.\d+\.\d+/);

    const api = await http(port, 'GET', '/api');
    assert.equal(api.status, 200);
    assert.equal(api.json.kind, 'APIVersions');
    assert.deepEqual(api.json.versions, ['v1']);

    const apis = await http(port, 'GET', '/apis');
    assert.equal(apis.json.kind, 'APIGroupList');
    assert.ok(apis.json.groups.some((g: { name: string }) => g.name === 'apps'));

    const resources = await http(port, 'GET', '/api/v1');
    assert.equal(resources.json.kind, 'APIResourceList');
    assert.ok(resources.json.resources.some((r: { name: string }) => r.name === 'pods'));
  });

  it('GET /api/v1/namespaces/default/pods returns the PodList with the pods created before', async () => {
    const pods = await http(port, 'GET', '/api/v1/namespaces/default/pods');
    assert.equal(pods.status, 200, pods.text);
    assert.match(String(pods.headers['content-type']), /^application\/json/);
    assert.equal(pods.json.kind, 'PodList');
    assert.equal(pods.json.apiVersion, 'v1');
    assert.ok(Number(pods.json.metadata.resourceVersion) > 0);
    assert.deepEqual(pods.json.items.map((p: { metadata: { name: string } }) => p.metadata.name).sort(), ['cache', 'web']);
    const web = pods.json.items.find((p: { metadata: { name: string } }) => p.metadata.name === 'web');
    assert.equal(web.spec.containers[0].image, 'nginx');
    assert.equal(web.metadata.labels.run, 'web');

    const selected = await http(port, 'GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dcache');
    assert.deepEqual(
      selected.json.items.map((p: { metadata: { name: string } }) => p.metadata.name),
      ['cache'],
    );
    const one = await http(port, 'GET', '/api/v1/namespaces/default/pods/web');
    assert.equal(one.json.kind, 'Pod');
    const missing = await http(port, 'GET', '/api/v1/namespaces/default/pods/nope');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.kind, 'Status');
    assert.equal(missing.json.reason, 'NotFound');
    assert.equal(missing.json.message, 'pods "nope" not found');
  });

  it('a watch through the proxy streams events for a pod created meanwhile', async () => {
    const watch = await LineWatch.open(port, '/api/v1/namespaces/default/pods?watch=true');
    try {
      assert.equal(watch.response.statusCode, 200);
      assert.equal(watch.response.headers['transfer-encoding'], 'chunked');
      // Without a resourceVersion the watch starts with the current pods.
      await watch.waitFor('the existing pods', () => watch.events.filter((e) => e.type === 'ADDED').length >= 2);
      assert.deepEqual(watch.events.map((e) => `${e.type} ${e.object.metadata.name}`).sort(), ['ADDED cache', 'ADDED web']);

      // Created through the proxy too, with a plain JSON POST.
      const created = await http(port, 'POST', '/api/v1/namespaces/default/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'late' },
        spec: { containers: [{ name: 'app', image: 'busybox' }] },
      });
      assert.equal(created.status, 201, created.text);
      const added = await watch.waitFor('the new pod', (e) => e.type === 'ADDED' && e.object.metadata.name === 'late');
      assert.equal(added.object.kind, 'Pod');
      assert.equal(added.object.metadata.resourceVersion, created.json.metadata.resourceVersion);

      await cluster.kubectlOk(['label', 'pod', 'late', 'stage=2']);
      const modified = await watch.waitFor('the label change', (e) => e.type === 'MODIFIED' && e.object.metadata.name === 'late');
      assert.equal(modified.object.metadata.labels.stage, '2');

      const deleted = await http(port, 'DELETE', '/api/v1/namespaces/default/pods/late');
      assert.equal(deleted.status, 200, deleted.text);
      await watch.waitFor('the deletion', (e) => e.type === 'DELETED' && e.object.metadata.name === 'late');
    } finally {
      watch.close();
    }
  });

  it('a watch from a list resourceVersion through the proxy sends only later changes', async () => {
    const list = await http(port, 'GET', '/api/v1/namespaces/default/pods');
    const rv = list.json.metadata.resourceVersion;
    const watch = await LineWatch.open(port, `/api/v1/namespaces/default/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=true`);
    try {
      await cluster.kubectlOk(['run', 'after', '--image=nginx']);
      const added = await watch.waitFor('the pod created after the list', (e) => e.type === 'ADDED' && e.object.metadata.name === 'after');
      assert.ok(Number(added.object.metadata.resourceVersion) > Number(rv));
      assert.deepEqual(
        watch.events.map((e) => `${e.type} ${e.object.metadata.name}`),
        ['ADDED after'],
      );
    } finally {
      watch.close();
    }
  });

  it('a PATCH without a patch content type is a 415 naming the patch types, as kube-apiserver answers', async () => {
    const answer = await http(port, 'PATCH', '/api/v1/namespaces/default/pods/web');
    assert.equal(answer.status, 415, answer.text);
    assert.equal(answer.json.reason, 'UnsupportedMediaType');
    assert.equal(
      answer.json.message,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
    );
    const merged = await http(port, 'PATCH', '/api/v1/namespaces/default/pods/web', { metadata: { labels: { via: 'proxy' } } });
    assert.equal(merged.status, 415, 'application/json is not a patch type');
  });

  it('kubectl proxy itself refuses exec, as it should (no server involved)', async () => {
    const exec = await http(port, 'GET', '/api/v1/namespaces/default/pods/web/exec?command=ls');
    assert.equal(exec.status, 403);
  });
});
