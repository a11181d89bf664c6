/**
 * End-to-end: the official JavaScript client, `@kubernetes/client-node`, used
 * unchanged against a `pilote server` started by the test. Typed APIs (create,
 * read, the three patch content types, delete, list by label), then informers:
 * every event in order, reconnection across a server restart that resumes from
 * the informer's resourceVersion, and the relist after a 410 once that
 * resourceVersion is compacted away.
 *
 * client-node 1.x is used: 2.x depends on undici 8, which needs Node ≥ 22.19.
 * Its API is the same generation (promise based, object parameters,
 * `setHeaderOptions` + `PatchStrategy` to pick the patch content type).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
import { TestCluster, waitFor } from './helpers/cluster.js';

/** ApiException of client-node, narrowed for assertions. */
function isApiError(code: number, reason?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof k8s.ApiException, `expected an ApiException, got ${String(error)}`);
    assert.equal(error.code, code);
    if (reason) {
      const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
      assert.equal(body.kind, 'Status');
      assert.equal(body.reason, reason);
    }
    return true;
  };
}

const merge = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
const strategic = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch);

function kubeConfigFor(cluster: TestCluster): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  return kc;
}

describe('@kubernetes/client-node typed APIs', () => {
  let cluster: TestCluster;
  let core: k8s.CoreV1Api;
  let apps: k8s.AppsV1Api;
  const namespace = 'typed';

  before(async () => {
    cluster = await TestCluster.start();
    const kc = kubeConfigFor(cluster);
    core = kc.makeApiClient(k8s.CoreV1Api);
    apps = kc.makeApiClient(k8s.AppsV1Api);
    await core.createNamespace({ body: { metadata: { name: namespace } } });
  });

  after(async () => {
    await cluster?.stop();
  });

  it('reads the server version and lists namespaces', async () => {
    const kc = kubeConfigFor(cluster);
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    assert.equal(version.major, '1');
    assert.match(version.gitVersion, /^v1\.\d+\.\d+/);
    const namespaces = await core.listNamespace();
    const names = namespaces.items.map((ns) => ns.metadata?.name);
    for (const name of ['default', 'kube-system', namespace]) assert.ok(names.includes(name), `${name} missing from ${names.join(' ')}`);
  });

  it('creates, reads, patches (JSON, merge, strategic) and deletes a ConfigMap', async () => {
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings', labels: { app: 'web' } }, data: { color: 'blue', size: 'L' } },
    });
    assert.equal(created.metadata?.namespace, namespace);
    assert.match(created.metadata?.uid ?? '', /^[0-9a-f-]{36}$/);
    assert.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp deserializes to a Date');
    assert.deepEqual(created.data, { color: 'blue', size: 'L' });

    const read = await core.readNamespacedConfigMap({ name: 'settings', namespace });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
    assert.equal(read.metadata?.uid, created.metadata?.uid);

    // Without options the generated client sends the first patch type it knows: JSON patch.
    const jsonPatched = await core.patchNamespacedConfigMap({
      name: 'settings',
      namespace,
      body: [
        { op: 'replace', path: '/data/color', value: 'green' },
        { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      ],
    });
    assert.deepEqual(jsonPatched.data, { color: 'green', size: 'L' });
    assert.deepEqual(jsonPatched.metadata?.labels, { app: 'web', tier: 'front' });

    // Merge patch: null removes a key.
    const merged = await core.patchNamespacedConfigMap({ name: 'settings', namespace, body: { data: { size: null, shape: 'round' } } }, merge);
    assert.deepEqual(merged.data, { color: 'green', shape: 'round' });
    assert.ok(Number(merged.metadata?.resourceVersion) > Number(jsonPatched.metadata?.resourceVersion));

    const strategicPatched = await core.patchNamespacedConfigMap(
      { name: 'settings', namespace, body: { metadata: { labels: { tier: null } }, data: { color: 'red' } } },
      strategic,
    );
    assert.deepEqual(strategicPatched.data, { color: 'red', shape: 'round' });
    assert.deepEqual(strategicPatched.metadata?.labels, { app: 'web' });

    // A stale resourceVersion in a replace is a 409 Conflict.
    await assert.rejects(
      core.replaceNamespacedConfigMap({ name: 'settings', namespace, body: { ...created, data: { stale: 'yes' } } }),
      isApiError(409, 'Conflict'),
    );

    const deleted = await core.deleteNamespacedConfigMap({ name: 'settings', namespace });
    assert.ok(deleted, 'delete answers with a body');
    await assert.rejects(core.readNamespacedConfigMap({ name: 'settings', namespace }), isApiError(404, 'NotFound'));
    await assert.rejects(core.deleteNamespacedConfigMap({ name: 'settings', namespace }), isApiError(404, 'NotFound'));
  });

  it('creates a Pod, patches it by strategy (containers merged by name) and deletes it', async () => {
    const pod = await core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, name: 'http' }] },
            { name: 'sidecar', image: 'busybox', command: ['sleep', '3600'] },
          ],
        },
      },
    });
    assert.equal(pod.status?.phase, 'Pending');
    assert.equal(pod.spec?.restartPolicy, 'Always');
    assert.equal(pod.spec?.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(pod.spec?.containers[1].imagePullPolicy, 'Always');

    // Strategic merge: only the named container changes, the other and the ports stay.
    const patched = await core.patchNamespacedPod({ name: 'web', namespace, body: { spec: { containers: [{ name: 'nginx', image: 'nginx:1.28' }] } } }, strategic);
    assert.deepEqual(
      patched.spec?.containers.map((c) => [c.name, c.image]),
      [
        ['nginx', 'nginx:1.28'],
        ['sidecar', 'busybox'],
      ],
    );
    assert.equal(patched.spec?.containers[0].ports?.[0].containerPort, 80);

    const labelled = await core.patchNamespacedPod({ name: 'web', namespace, body: { metadata: { labels: { version: 'v2' } } } }, merge);
    assert.deepEqual(labelled.metadata?.labels, { app: 'web', version: 'v2' });

    const read = await core.readNamespacedPod({ name: 'web', namespace });
    assert.equal(read.metadata?.resourceVersion, labelled.metadata?.resourceVersion);

    await core.deleteNamespacedPod({ name: 'web', namespace });
    // A pod never bound to a node goes at once (no kubelet has to confirm it).
    await waitFor(
      () => core.readNamespacedPod({ name: 'web', namespace }).then(() => false, (error: unknown) => error instanceof k8s.ApiException && error.code === 404),
      'the pod to be gone',
    );
  });

  it('creates a Deployment and patches it: strategic keeps other containers, merge replaces lists', async () => {
    const deployment = await apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'shop', labels: { app: 'shop' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'shop' } },
          template: {
            metadata: { labels: { app: 'shop' } },
            spec: {
              containers: [
                { name: 'app', image: 'shop:1', env: [{ name: 'MODE', value: 'prod' }] },
                { name: 'proxy', image: 'envoy:1' },
              ],
            },
          },
        },
      },
    });
    assert.equal(deployment.metadata?.generation, 1);
    assert.equal(deployment.spec?.strategy?.type, 'RollingUpdate');
    assert.equal(deployment.spec?.revisionHistoryLimit, 10);

    const strategicPatched = await apps.patchNamespacedDeployment(
      { name: 'shop', namespace, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'shop:2', env: [{ name: 'DEBUG', value: '1' }] }] } } } } },
      strategic,
    );
    const containers = strategicPatched.spec?.template.spec?.containers ?? [];
    assert.deepEqual(
      containers.map((c) => [c.name, c.image]),
      [
        ['app', 'shop:2'],
        ['proxy', 'envoy:1'],
      ],
    );
    assert.deepEqual(
      containers[0].env?.map((e) => e.name),
      ['DEBUG', 'MODE'],
    );
    assert.equal(strategicPatched.metadata?.generation, 2);

    const scaled = await apps.patchNamespacedDeployment({ name: 'shop', namespace, body: { spec: { replicas: 5 } } }, merge);
    assert.equal(scaled.spec?.replicas, 5);
    assert.equal(scaled.spec?.template.spec?.containers.length, 2);

    // A merge patch replaces the whole list.
    const replaced = await apps.patchNamespacedDeployment(
      { name: 'shop', namespace, body: { spec: { template: { spec: { containers: [{ name: 'app', image: 'shop:3' }] } } } } },
      merge,
    );
    assert.deepEqual(
      replaced.spec?.template.spec?.containers.map((c) => [c.name, c.image]),
      [['app', 'shop:3']],
    );

    const scale = await apps.readNamespacedDeploymentScale({ name: 'shop', namespace });
    assert.equal(scale.spec?.replicas, 5);
    assert.equal(scale.status?.selector, 'app=shop');
  });

  it('lists with a label selector', async () => {
    for (const [name, tier] of [
      ['cm-front-1', 'front'],
      ['cm-front-2', 'front'],
      ['cm-back', 'back'],
    ]) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: { name, labels: { tier } }, data: { tier } } });
    }
    const front = await core.listNamespacedConfigMap({ namespace, labelSelector: 'tier=front' });
    assert.equal(front.kind, 'ConfigMapList');
    assert.ok(Number(front.metadata?.resourceVersion) > 0);
    assert.deepEqual(front.items.map((cm) => cm.metadata?.name).sort(), ['cm-front-1', 'cm-front-2']);
    const notFront = await core.listNamespacedConfigMap({ namespace, labelSelector: 'tier,tier!=front' });
    assert.deepEqual(
      notFront.items.map((cm) => cm.metadata?.name),
      ['cm-back'],
    );
    const everywhere = await core.listConfigMapForAllNamespaces({ labelSelector: 'tier in (front,back)' });
    assert.equal(everywhere.items.length, 3);

    // Pagination with limit/continue.
    const first = await core.listNamespacedConfigMap({ namespace, labelSelector: 'tier', limit: 2 });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata?._continue, 'a continue token');
    const rest = await core.listNamespacedConfigMap({ namespace, labelSelector: 'tier', limit: 2, _continue: first.metadata?._continue });
    assert.equal(rest.items.length, 1);
    assert.equal(rest.metadata?._continue, undefined);

    const deployments = await apps.listNamespacedDeployment({ namespace, labelSelector: 'app=shop' });
    assert.deepEqual(
      deployments.items.map((d) => d.metadata?.name),
      ['shop'],
    );
  });
});

describe('@kubernetes/client-node generic object API (YAML manifests)', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates, reads, patches, lists and deletes the objects of a multi-document manifest', async () => {
    const kc = kubeConfigFor(cluster);
    const client = k8s.KubernetesObjectApi.makeApiClient(kc);
    const manifest = `
apiVersion: v1
kind: Namespace
metadata:
  name: manifests
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: redis
  namespace: manifests
  labels: {app: redis}
spec:
  selector:
    matchLabels: {app: redis}
  template:
    metadata:
      labels: {app: redis}
    spec:
      containers:
      - name: redis
        image: redis:7
        ports:
        - containerPort: 6379
---
apiVersion: v1
kind: Service
metadata:
  name: redis
  namespace: manifests
spec:
  selector: {app: redis}
  ports:
  - port: 6379
`;
    const specs = k8s.loadAllYaml(manifest) as k8s.KubernetesObject[];
    assert.equal(specs.length, 3);
    for (const spec of specs) {
      const created = await client.create(spec);
      assert.equal(created.kind, spec.kind);
      assert.ok(created.metadata?.uid, `${spec.kind} has a uid`);
    }

    const deployment = (await client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'redis', namespace: 'manifests' } })) as k8s.V1Deployment;
    assert.ok(deployment instanceof k8s.V1Deployment, 'typed by apiVersion and kind');
    assert.equal(deployment.spec?.replicas, 1);
    const service = (await client.read({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis', namespace: 'manifests' } })) as k8s.V1Service;
    assert.match(service.spec?.clusterIP ?? '', /^10\.43\.\d+\.\d+$/);
    assert.equal(service.spec?.ports?.[0].targetPort, 6379);

    // The generic client patches with a strategic merge patch by default.
    const patched = (await client.patch({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'redis', namespace: 'manifests' },
      spec: { template: { spec: { containers: [{ name: 'redis', image: 'redis:7.2' }] } } },
    } as k8s.KubernetesObject)) as k8s.V1Deployment;
    const container = patched.spec?.template.spec?.containers[0];
    assert.equal(container?.image, 'redis:7.2');
    assert.equal(container?.ports?.[0].containerPort, 6379);

    const deployments = await client.list('apps/v1', 'Deployment', 'manifests');
    assert.deepEqual(
      deployments.items.map((d) => d.metadata?.name),
      ['redis'],
    );

    for (const spec of specs.slice(1).reverse()) await client.delete(spec);
    const services = await client.list('v1', 'Service', 'manifests');
    assert.equal(services.items.length, 0);
    await assert.rejects(client.read({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'redis', namespace: 'manifests' } }), isApiError(404, 'NotFound'));
  });
});

/** What an informer handler saw. */
interface Seen {
  type: 'add' | 'update' | 'delete';
  name: string;
  rv: number;
  value?: string;
}

/** The resourceVersion an informer would resume from (makeInformer returns a ListWatch). */
function resourceVersionOf(informer: k8s.Informer<k8s.V1ConfigMap>): string {
  assert.ok(informer instanceof k8s.ListWatch);
  return informer.latestResourceVersion();
}

describe('@kubernetes/client-node informers', () => {
  const namespace = 'watched';
  let cluster: TestCluster;
  let dataDir: string;
  let port: number;
  let kc: k8s.KubeConfig;
  let core: k8s.CoreV1Api;
  let informer: k8s.Informer<k8s.V1ConfigMap> & k8s.ObjectCache<k8s.V1ConfigMap>;
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  let connects = 0;
  let lists = 0;
  /** While true an informer error schedules a restart, as client-node's docs tell users to do. */
  let restartOnError = true;
  let restartPending = false;
  /** Restarts wait for this: the test holds them while it changes things behind the informer's back. */
  let serverUp: Promise<void> = Promise.resolve();
  let openGate = () => {};

  const record = (type: Seen['type']) => (cm: k8s.V1ConfigMap) =>
    seen.push({ type, name: cm.metadata?.name ?? '', rv: Number(cm.metadata?.resourceVersion), value: cm.data?.value });

  /** Waits until the informer saw `count` more events than `from`, then returns them. */
  async function events(from: number, count: number, what: string, timeoutMs = 15_000): Promise<Seen[]> {
    await waitFor(() => seen.length >= from + count, `${what} (seen: ${JSON.stringify(seen.slice(from))})`, timeoutMs);
    // Anything beyond the expected count would be a duplicate or a spurious event.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return seen.slice(from);
  }

  const summary = (list: Seen[]) => list.map((e) => `${e.type} ${e.name}${e.value !== undefined ? `=${e.value}` : ''}`);

  function serverCore(): k8s.CoreV1Api {
    return kc.makeApiClient(k8s.CoreV1Api);
  }

  async function serverState(): Promise<Map<string, string>> {
    const list = await serverCore().listNamespacedConfigMap({ namespace });
    return new Map(list.items.map((cm) => [cm.metadata!.name!, cm.metadata!.resourceVersion!]));
  }

  function cacheState(): Map<string, string> {
    return new Map(informer.list(namespace).map((cm) => [cm.metadata!.name!, cm.metadata!.resourceVersion!]));
  }

  before(async () => {
    cluster = await TestCluster.start();
    dataDir = cluster.dataDir;
    port = cluster.port;
    kc = kubeConfigFor(cluster);
    core = serverCore();
    await core.createNamespace({ body: { metadata: { name: namespace } } });
    await core.createNamespace({ body: { metadata: { name: 'noise' } } });
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'pre' }, data: { value: '0' } } });
    informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/configmaps`, () => {
      lists++;
      return core.listNamespacedConfigMap({ namespace });
    });
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    informer.on('connect', () => connects++);
    informer.on('error', (error: unknown) => {
      errors.push(error);
      // One pending restart at most: two concurrent start() calls would open two watches.
      if (!restartOnError || restartPending) return;
      restartPending = true;
      setTimeout(() => {
        void serverUp
          .then(() => {
            restartPending = false;
            if (restartOnError) return informer.start();
          })
          .catch(() => undefined);
      }, 200);
    });
  });

  after(async () => {
    restartOnError = false;
    openGate();
    await informer?.stop();
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists, then sees every add, update and delete in order', async () => {
    await informer.start();
    const initial = await events(0, 1, 'the initial list');
    assert.deepEqual(summary(initial), ['add pre=0']);
    assert.equal(lists, 1);

    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'a' }, data: { value: '1' } } });
    await core.patchNamespacedConfigMap({ name: 'a', namespace, body: { data: { value: '2' } } }, merge);
    await core.patchNamespacedConfigMap({ name: 'a', namespace, body: { data: { value: '3' } } }, strategic);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'b' }, data: { value: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'pre', namespace, body: { metadata: { name: 'pre' }, data: { value: '1' } } });
    await core.deleteNamespacedConfigMap({ name: 'a', namespace });
    // Changes elsewhere are not this informer's business.
    await core.createNamespacedConfigMap({ namespace: 'noise', body: { metadata: { name: 'a' }, data: { value: 'x' } } });

    const changes = await events(1, 6, 'six changes');
    assert.deepEqual(summary(changes), ['add a=1', 'update a=2', 'update a=3', 'add b=1', 'update pre=1', 'delete a=3']);
    for (let i = 1; i < changes.length; i++) assert.ok(changes[i].rv > changes[i - 1].rv, `resourceVersions increase: ${JSON.stringify(changes)}`);
    assert.deepEqual(cacheState(), await serverState());
    assert.equal(errors.length, 0, `no errors: ${errors.map(String).join('; ')}`);
  });

  it('follows a server restart on the same port and resumes from its resourceVersion', async () => {
    const before = seen.length;
    const lastRv = resourceVersionOf(informer);
    assert.ok(Number(lastRv) > 0);

    serverUp = new Promise((resolve) => (openGate = resolve));
    await cluster.stop({ keepData: true });
    // The server ends the watch; client-node reconnects at once, fails, and reports the error.
    await waitFor(() => errors.length > 0, 'the informer to notice the server is gone');

    cluster = await TestCluster.start({ dataDir, port });
    assert.equal(cluster.port, port);
    core = serverCore();
    // First batch before the informer is back: its watch from lastRv must replay them. The write to
    // "noise" after the informer's last event puts lastRv before the new watch cache's start, so the
    // replay comes from the storage log, not from the cache's window.
    await core.patchNamespacedConfigMap({ name: 'b', namespace, body: { data: { value: '2' } } }, merge);
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'c' }, data: { value: '1' } } });
    assert.equal(seen.length, before, 'nothing seen while the informer is away');
    openGate();
    const firstBatch = await events(before, 2, 'the changes made right after the restart');
    assert.deepEqual(summary(firstBatch), ['update b=2', 'add c=1']);

    // Second batch: the informer is connected to the new process.
    await core.deleteNamespacedConfigMap({ name: 'b', namespace });
    await core.patchNamespacedConfigMap({ name: 'pre', namespace, body: { data: { value: '2' } } }, merge);
    const all = await events(before, 4, 'the changes made once reconnected');
    assert.deepEqual(summary(all), ['update b=2', 'add c=1', 'delete b=2', 'update pre=2']);
    assert.ok(all[0].rv > Number(lastRv), 'no event from before the restart is replayed');
    // Resumed from its resourceVersion: no relist happened.
    assert.equal(lists, 1, 'the informer resumed its watch instead of relisting');
    assert.deepEqual(cacheState(), await serverState());
  });

  it('relists after a 410 when its resourceVersion was compacted, and ends with the server state', async () => {
    // Stopping aborts the watch, which client-node reports as an error: no automatic restart now.
    restartOnError = false;
    await informer.stop();
    const staleRv = resourceVersionOf(informer);
    const before = seen.length;
    const listsBefore = lists;

    // Changes the informer misses while stopped…
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'd' }, data: { value: '1' } } });
    await core.deleteNamespacedConfigMap({ name: 'c', namespace });
    await core.patchNamespacedConfigMap({ name: 'pre', namespace, body: { data: { value: '3' } } }, merge);
    // …then enough writes elsewhere for compaction to pass its resourceVersion (history kept ≈ 1000 revisions).
    const api = cluster.client();
    try {
      const created = await api.post('/api/v1/namespaces/noise/configmaps', { metadata: { name: 'churn' }, data: { n: '0' } });
      assert.equal(created.status, 201, created.text);
      for (let start = 1; start <= 1500; start += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, i) => start + i).map(async (n) => {
            const patched = await api.patch('/api/v1/namespaces/noise/configmaps/churn', { data: { [`k${n % 20}`]: String(n) } }, 'application/merge-patch+json');
            assert.equal(patched.status, 200, patched.text);
          }),
        );
      }
      // Compaction runs in the background: wait until a watch from the stale resourceVersion is refused.
      await waitFor(
        async () => {
          const watch = await api.watch(`/api/v1/namespaces/${namespace}/configmaps?watch=true&resourceVersion=${staleRv}`);
          try {
            const event = await watch.next(1000);
            return event?.type === 'ERROR' && event.object?.code === 410 ? event : undefined;
          } finally {
            watch.close();
          }
        },
        `resourceVersion ${staleRv} to be compacted`,
        30_000,
      );
    } finally {
      api.close();
    }

    restartOnError = true;
    await informer.start();
    const caughtUp = await events(before, 3, 'the relist after 410');
    // The relist reports what changed meanwhile: c went away, d came, pre changed (order of a relist is not specified).
    assert.deepEqual(summary(caughtUp).sort(), ['add d=1', 'delete c=1', 'update pre=3']);
    assert.equal(lists, listsBefore + 1, 'exactly one relist');
    assert.deepEqual(cacheState(), await serverState());
    assert.deepEqual([...cacheState().keys()].sort(), ['d', 'pre']);

    // And it keeps watching from the new list's resourceVersion.
    await core.patchNamespacedConfigMap({ name: 'd', namespace, body: { data: { value: '2' } } }, merge);
    const after = await events(before, 4, 'a change after the relist');
    assert.deepEqual(summary(after.slice(3)), ['update d=2']);
    assert.deepEqual(cacheState(), await serverState());
  });
});

describe('@kubernetes/client-node informer with a label selector', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('sees objects enter and leave the selection as add and delete, across namespaces', async () => {
    const kc = kubeConfigFor(cluster);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    for (const name of ['blue', 'green']) await core.createNamespace({ body: { metadata: { name } } });
    await core.createNamespacedConfigMap({ namespace: 'blue', body: { metadata: { name: 'one', labels: { team: 'a' } } } });
    await core.createNamespacedConfigMap({ namespace: 'green', body: { metadata: { name: 'two', labels: { team: 'b' } } } });

    const informer = k8s.makeInformer(kc, '/api/v1/configmaps', () => core.listConfigMapForAllNamespaces({ labelSelector: 'team=a' }), 'team=a');
    const seen: string[] = [];
    informer.on('add', (cm) => seen.push(`add ${cm.metadata?.namespace}/${cm.metadata?.name}`));
    informer.on('update', (cm) => seen.push(`update ${cm.metadata?.namespace}/${cm.metadata?.name}`));
    informer.on('delete', (cm) => seen.push(`delete ${cm.metadata?.namespace}/${cm.metadata?.name} team=${cm.metadata?.labels?.team}`));
    const errors: unknown[] = [];
    informer.on('error', (error: unknown) => errors.push(error));
    await informer.start();
    try {
      await waitFor(() => seen.length >= 1, 'the initial list');
      // two joins the selection, one leaves it, one comes back, two is deleted.
      await core.patchNamespacedConfigMap({ name: 'two', namespace: 'green', body: { metadata: { labels: { team: 'a' } } } }, merge);
      await core.patchNamespacedConfigMap({ name: 'one', namespace: 'blue', body: { metadata: { labels: { team: 'b' } } } }, merge);
      await core.patchNamespacedConfigMap({ name: 'one', namespace: 'blue', body: { metadata: { labels: { team: 'a' } }, data: { back: 'yes' } } }, merge);
      await core.patchNamespacedConfigMap({ name: 'one', namespace: 'blue', body: { data: { again: 'yes' } } }, merge);
      await core.deleteNamespacedConfigMap({ name: 'two', namespace: 'green' });
      // Outside the selection from start to end: never seen.
      await core.createNamespacedConfigMap({ namespace: 'green', body: { metadata: { name: 'three', labels: { team: 'b' } } } });
      await core.createNamespacedConfigMap({ namespace: 'green', body: { metadata: { name: 'last', labels: { team: 'a' } } } });
      await waitFor(() => seen.includes('add green/last'), `all changes (seen: ${seen.join(', ')})`);
      assert.deepEqual(seen, [
        'add blue/one',
        'add green/two',
        // The DELETED event for an object leaving the selection carries its new state.
        'delete blue/one team=b',
        'add blue/one',
        'update blue/one',
        'delete green/two team=a',
        'add green/last',
      ]);
      assert.deepEqual(
        informer
          .list()
          .map((cm) => `${cm.metadata?.namespace}/${cm.metadata?.name}`)
          .sort(),
        ['blue/one', 'green/last'],
      );
      assert.equal(errors.length, 0);
    } finally {
      await informer.stop();
    }
  });
});
