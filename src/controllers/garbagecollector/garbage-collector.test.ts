/**
 * The garbage collector against a real API server: background, foreground and
 * orphan cascades from a ReplicaSet to pods created by hand with
 * ownerReferences, dangling references, and the per-resource default policy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import { waitFor } from '../../../test/helpers/cluster.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { garbageCollectorController } from './garbage-collector.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let counter = 0;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  // Garbage left before the collector starts: found by its start-up scan.
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'before-start' } });
  await client.resource(RESOURCES.pods).create('before-start', {
    metadata: { name: 'leftover', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: '22222222-2222-2222-2222-222222222222', controller: true }] },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [garbageCollectorController()],
  );
  await manager.start();
});

after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

const pods = () => client.resource(RESOURCES.pods);
const replicaSets = () => client.resource(RESOURCES.replicaSets);

async function newNamespace(): Promise<string> {
  const name = `gc-${++counter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name } });
  return name;
}

async function createReplicaSet(ns: string, name: string): Promise<KubeObject> {
  return replicaSets().create(ns, {
    metadata: { name },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
}

function ownerRef(owner: KubeObject, kind = 'ReplicaSet', apiVersion = 'apps/v1', uid = owner.metadata.uid!) {
  return { apiVersion, kind, name: owner.metadata.name!, uid, controller: true, blockOwnerDeletion: true };
}

async function createPod(ns: string, name: string, refs: unknown[], finalizers?: string[]): Promise<KubeObject> {
  return pods().create(ns, {
    metadata: { name, ownerReferences: refs as never, ...(finalizers ? { finalizers } : {}) },
    spec: { containers: [{ name: 'c', image: 'busybox' }] },
  });
}

async function exists(get: () => Promise<KubeObject>): Promise<KubeObject | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

describe('garbage collector', () => {
  it('collects dependents whose owner vanished before it started', async () => {
    await waitFor(async () => !(await exists(() => pods().get('before-start', 'leftover'))), 'leftover pod collected');
  });

  it('background: the owner goes at once, then its dependents', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    await createPod(ns, 'web-a', [ownerRef(rs)]);
    await createPod(ns, 'web-b', [ownerRef(rs)]);
    await replicaSets().delete(ns, 'web', { propagationPolicy: 'Background' });
    assert.equal(await exists(() => replicaSets().get(ns, 'web')), undefined);
    await waitFor(async () => (await pods().list(ns)).items.length === 0, 'pods collected');
  });

  it('background is the default for apps/v1', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    await createPod(ns, 'web-a', [ownerRef(rs)]);
    await replicaSets().delete(ns, 'web');
    await waitFor(async () => (await pods().list(ns)).items.length === 0, 'pods collected');
  });

  it('foreground: the owner waits with foregroundDeletion until blocking dependents are gone', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    await createPod(ns, 'web-a', [ownerRef(rs)]);
    // A finalizer of its own keeps this dependent (and so the owner) around until we release it.
    await createPod(ns, 'web-held', [ownerRef(rs)], ['example.com/hold']);
    await replicaSets().delete(ns, 'web', { propagationPolicy: 'Foreground' });
    const marked = await replicaSets().get(ns, 'web');
    assert.ok(marked.metadata.deletionTimestamp);
    assert.deepEqual(marked.metadata.finalizers, ['foregroundDeletion']);
    await waitFor(async () => !(await exists(() => pods().get(ns, 'web-a'))), 'web-a deleted');
    const held = await waitFor(async () => {
      const pod = await pods().get(ns, 'web-held');
      return pod.metadata.deletionTimestamp ? pod : undefined;
    }, 'web-held marked for deletion');
    assert.ok(held);
    // Still blocked by web-held.
    assert.ok(await exists(() => replicaSets().get(ns, 'web')));
    await pods().patch(ns, 'web-held', 'merge', { metadata: { finalizers: null } });
    await waitFor(async () => !(await exists(() => replicaSets().get(ns, 'web'))), 'owner deleted after its dependents');
  });

  it('foreground: non-blocking dependents do not hold the owner but are deleted too', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    await createPod(ns, 'free', [{ ...ownerRef(rs), blockOwnerDeletion: false }], ['example.com/hold']);
    await replicaSets().delete(ns, 'web', { propagationPolicy: 'Foreground' });
    await waitFor(async () => !(await exists(() => replicaSets().get(ns, 'web'))), 'owner deleted');
    // The dependent was deleted as well (it waits on its own finalizer).
    const pod = await waitFor(async () => {
      const p = await pods().get(ns, 'free');
      return p.metadata.deletionTimestamp ? p : undefined;
    }, 'dependent marked for deletion');
    assert.ok(pod);
    await pods().patch(ns, 'free', 'merge', { metadata: { finalizers: null } });
  });

  it('foreground cascades through a chain: Deployment → ReplicaSet → Pod', async () => {
    const ns = await newNamespace();
    const deployments = client.resource(RESOURCES.deployments);
    const deploy = await deployments.create(ns, {
      metadata: { name: 'app' },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'app' } },
        template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    const rs = await replicaSets().create(ns, {
      metadata: { name: 'app-1', ownerReferences: [ownerRef(deploy, 'Deployment')] },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'app' } },
        template: { metadata: { labels: { app: 'app' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await createPod(ns, 'app-1-x', [ownerRef(rs)]);
    await deployments.delete(ns, 'app', { propagationPolicy: 'Foreground' });
    await waitFor(async () => !(await exists(() => deployments.get(ns, 'app'))), 'deployment deleted');
    assert.equal(await exists(() => replicaSets().get(ns, 'app-1')), undefined);
    assert.equal(await exists(() => pods().get(ns, 'app-1-x')), undefined);
  });

  it('orphan: dependents lose the ownerReference and stay', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    const other = { apiVersion: 'v1', kind: 'ConfigMap', name: 'keeper', uid: (await client.resource(RESOURCES.configMaps).create(ns, { metadata: { name: 'keeper' } })).metadata.uid! };
    await createPod(ns, 'web-a', [ownerRef(rs)]);
    await createPod(ns, 'web-b', [ownerRef(rs), other]);
    await replicaSets().delete(ns, 'web', { propagationPolicy: 'Orphan' });
    await waitFor(async () => !(await exists(() => replicaSets().get(ns, 'web'))), 'owner deleted');
    const a = await pods().get(ns, 'web-a');
    assert.equal(a.metadata.ownerReferences, undefined);
    const b = await pods().get(ns, 'web-b');
    assert.deepEqual(b.metadata.ownerReferences, [other]);
  });

  it('batch/v1 Jobs orphan their pods by default', async () => {
    const ns = await newNamespace();
    const jobs = client.resource(RESOURCES.jobs);
    const job = await jobs.create(ns, {
      metadata: { name: 'once' },
      spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
    });
    await createPod(ns, 'once-x', [ownerRef(job, 'Job', 'batch/v1')]);
    await jobs.delete(ns, 'once');
    await waitFor(async () => !(await exists(() => jobs.get(ns, 'once'))), 'job deleted');
    const pod = await waitFor(async () => {
      const p = await pods().get(ns, 'once-x');
      return p.metadata.ownerReferences ? undefined : p;
    }, 'pod orphaned');
    assert.ok(pod);
  });

  it('a reference to a replaced owner (same name, other uid) is dangling: the dependent is deleted', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    await createPod(ns, 'stale', [ownerRef(rs, 'ReplicaSet', 'apps/v1', '00000000-0000-0000-0000-000000000000')]);
    await createPod(ns, 'orphaned', [{ ...ownerRef(rs), name: 'never-existed' }]);
    await createPod(ns, 'kept', [ownerRef(rs)]);
    await waitFor(async () => !(await exists(() => pods().get(ns, 'stale'))), 'pod with stale owner uid deleted');
    await waitFor(async () => !(await exists(() => pods().get(ns, 'orphaned'))), 'pod with absent owner deleted');
    assert.ok(await exists(() => pods().get(ns, 'kept')));
  });

  it('an object with one solid owner keeps living; its dangling reference is removed', async () => {
    const ns = await newNamespace();
    const rs = await createReplicaSet(ns, 'web');
    const ghost = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'ghost', uid: '11111111-1111-1111-1111-111111111111' };
    await createPod(ns, 'two-owners', [ownerRef(rs), ghost]);
    const pod = await waitFor(async () => {
      const p = await pods().get(ns, 'two-owners');
      return p.metadata.ownerReferences?.length === 1 ? p : undefined;
    }, 'dangling reference removed');
    assert.equal(pod.metadata.ownerReferences![0]!.uid, rs.metadata.uid);
  });
});
