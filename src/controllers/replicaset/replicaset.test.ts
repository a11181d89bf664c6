/**
 * The ReplicaSet controller against a real API server (in process), with a
 * fake kubelet marking pods ready: creation of missing pods, replacement,
 * scale-down order, adoption and release, availability with minReadySeconds,
 * the ReplicaFailure condition, and the events users see in describe.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import { StatusError, forbidden } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient, type ResourceClient, type ResourceRef } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { newReplicaSetController, slowStartBatch } from './controller.js';
import { ControllerExpectations } from './expectations.js';
import { podsToDelete, type PodLike } from './pods.js';
import { eventually, startFakeKubelet, type FakeKubelet } from './testing.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let counter = 0;
/** Set to make every pod creation through the controllers' client fail (as a quota would). */
let failPodCreates: string | undefined;

/** The cluster's client, except that pod creations fail while `failPodCreates` is set. */
function failingClient(inner: ApiClient): ApiClient {
  return {
    resource(ref: ResourceRef): ResourceClient {
      const real = inner.resource(ref);
      if (ref.resource !== 'pods') return real;
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'create') {
            return async (namespace: string | undefined, object: KubeObject) => {
              if (failPodCreates) throw forbidden('', 'pods', object.metadata.name ?? '', failPodCreates);
              return target.create(namespace, object);
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  };
}

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  const controllerClient = failingClient(client);
  manager = new ControllerManager(
    { client: controllerClient, informers: new InformerFactory(controllerClient), events: new ClientEventRecorder(controllerClient, 'test'), now: () => new Date() },
    [newReplicaSetController()],
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
  const name = `rs-${++counter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name } });
  return name;
}

function replicaSet(name: string, replicas: number, extra: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name, tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } },
      ...extra,
    },
  };
}

async function activePods(ns: string, app?: string): Promise<KubeObject[]> {
  const list = await pods().list(ns, app ? { labelSelector: `app=${app}` } : {});
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

async function events(ns: string, reason: string): Promise<KubeObject[]> {
  return (await client.resource(RESOURCES.events).list(ns)).items.filter((e) => e.reason === reason);
}

type Status = { replicas?: number; readyReplicas?: number; availableReplicas?: number; fullyLabeledReplicas?: number; observedGeneration?: number; conditions?: { type: string; reason?: string; message?: string }[] };
const statusOf = (o: KubeObject) => (o.status ?? {}) as Status;

describe('replicaset controller', () => {
  let kubelets: FakeKubelet[] = [];
  after(() => kubelets.forEach((k) => k.stop()));

  it('creates spec.replicas pods named <rs>-<5 chars>, owned by the ReplicaSet, and reports them', async () => {
    const ns = await newNamespace();
    kubelets.push(await startFakeKubelet(client, ns));
    const rs = await replicaSets().create(ns, replicaSet('web', 3));
    const created = await eventually(async () => {
      const list = await activePods(ns, 'web');
      return list.length === 3 && list;
    }, '3 pods');
    for (const pod of created) {
      assert.match(pod.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.metadata.generateName, 'web-');
      assert.deepEqual(pod.metadata.labels, { app: 'web', tier: 'web' });
      assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    const final = await eventually(async () => {
      const current = await replicaSets().get(ns, 'web');
      const s = statusOf(current);
      return s.replicas === 3 && s.readyReplicas === 3 && s.availableReplicas === 3 && s.fullyLabeledReplicas === 3 && s.observedGeneration === 1 && current;
    }, 'status 3/3');
    assert.equal(statusOf(final).conditions, undefined);
    const createdEvents = await eventually(async () => {
      const list = await events(ns, 'SuccessfulCreate');
      return list.length === 3 && list;
    }, '3 SuccessfulCreate events');
    for (const event of createdEvents) {
      assert.match(String(event.message), /^Created pod: web-[a-z0-9]{5}$/);
      assert.equal((event.involvedObject as { kind: string }).kind, 'ReplicaSet');
      assert.equal((event.source as { component: string }).component, 'replicaset-controller');
    }
    // Steady state: no more pods than asked for.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await activePods(ns, 'web')).length, 3);
  });

  it('replaces a deleted pod', async () => {
    const ns = await newNamespace();
    kubelets.push(await startFakeKubelet(client, ns));
    await replicaSets().create(ns, replicaSet('api', 2));
    const before = await eventually(async () => {
      const list = await activePods(ns, 'api');
      return list.length === 2 && list;
    }, '2 pods');
    await pods().delete(ns, before[0]!.metadata.name!);
    const after = await eventually(async () => {
      const list = await activePods(ns, 'api');
      return list.length === 2 && !list.some((p) => p.metadata.name === before[0]!.metadata.name) && list;
    }, 'a replacement pod');
    assert.ok(after.some((p) => p.metadata.name === before[1]!.metadata.name));
  });

  it('scales down, deleting pods that are not ready first', async () => {
    const ns = await newNamespace();
    const kubelet = await startFakeKubelet(client, ns);
    kubelets.push(kubelet);
    await replicaSets().create(ns, replicaSet('db', 3));
    await eventually(async () => statusOf(await replicaSets().get(ns, 'db')).readyReplicas === 3, '3 ready');
    await replicaSets().patch(ns, 'db', 'merge', { spec: { replicas: 5 } });
    const five = await eventually(async () => {
      const list = await activePods(ns, 'db');
      return list.length === 5 && list;
    }, '5 pods');
    await eventually(async () => statusOf(await replicaSets().get(ns, 'db')).readyReplicas === 5, '5 ready');
    // Make one pod not ready by hand, then scale to 4: that pod goes.
    const victim = five[4]!;
    const fresh = await pods().get(ns, victim.metadata.name!);
    const notReady = { ...(fresh.status as object), conditions: [{ type: 'Ready', status: 'False' }] };
    kubelet.holdBack.add(victim.metadata.name!);
    await pods().updateStatus(ns, { ...fresh, status: notReady });
    await eventually(async () => statusOf(await replicaSets().get(ns, 'db')).readyReplicas === 4, '4 ready');
    await replicaSets().patch(ns, 'db', 'merge', { spec: { replicas: 4 } });
    await eventually(async () => {
      const list = await activePods(ns, 'db');
      return list.length === 4 && !list.some((p) => p.metadata.name === victim.metadata.name);
    }, 'the not-ready pod deleted');
    await replicaSets().patch(ns, 'db', 'merge', { spec: { replicas: 1 } });
    await eventually(async () => (await activePods(ns, 'db')).length === 1, '1 pod');
    const deleted = await eventually(async () => {
      const list = await events(ns, 'SuccessfulDelete');
      return list.length === 4 && list;
    }, '4 SuccessfulDelete events');
    assert.ok(deleted.some((e) => e.message === `Deleted pod: ${victim.metadata.name}`));
    await eventually(async () => {
      const s = statusOf(await replicaSets().get(ns, 'db'));
      return s.replicas === 1 && s.readyReplicas === 1 && s.observedGeneration === 4;
    }, 'status 1 replica at generation 4');
  });

  it('adopts a matching orphan instead of creating, and releases a pod that stops matching', async () => {
    const ns = await newNamespace();
    await pods().create(ns, { metadata: { name: 'orphan', labels: { app: 'cache', tier: 'web' } }, spec: { containers: [{ name: 'c', image: 'redis' }] } });
    const rs = await replicaSets().create(ns, replicaSet('cache', 2));
    await eventually(async () => {
      const orphan = await pods().get(ns, 'orphan');
      return orphan.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid;
    }, 'orphan adopted');
    const list = await eventually(async () => {
      const l = await activePods(ns, 'cache');
      return l.length === 2 && l;
    }, '2 pods in all');
    assert.ok(list.some((p) => p.metadata.name === 'orphan'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.equal((await activePods(ns, 'cache')).length, 2);

    // Relabel it: released (ownerReference removed) and replaced.
    await pods().patch(ns, 'orphan', 'merge', { metadata: { labels: { app: 'other' } } });
    await eventually(async () => ((await pods().get(ns, 'orphan')).metadata.ownerReferences ?? []).length === 0, 'pod released');
    await eventually(async () => (await activePods(ns, 'cache')).length === 2, 'a replacement for the released pod');
  });

  it('ignores pods owned by another controller', async () => {
    const ns = await newNamespace();
    await pods().create(ns, {
      metadata: { name: 'taken', labels: { app: 'q', tier: 'web' }, ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: 'x', uid: 'other-uid', controller: true }] },
      spec: { containers: [{ name: 'c', image: 'redis' }] },
    });
    await replicaSets().create(ns, replicaSet('q', 1));
    await eventually(async () => (await activePods(ns, 'q')).length === 2, 'its own pod besides the foreign one');
    const taken = await pods().get(ns, 'taken');
    assert.equal(taken.metadata.ownerReferences?.[0]?.uid, 'other-uid');
  });

  it('counts a ready pod as available only after minReadySeconds', async () => {
    const ns = await newNamespace();
    kubelets.push(await startFakeKubelet(client, ns));
    await replicaSets().create(ns, replicaSet('slow', 1, { minReadySeconds: 1 }));
    await eventually(async () => {
      const s = statusOf(await replicaSets().get(ns, 'slow'));
      return s.readyReplicas === 1 && !s.availableReplicas;
    }, 'ready but not available');
    await eventually(async () => statusOf(await replicaSets().get(ns, 'slow')).availableReplicas === 1, 'available after minReadySeconds', 5000);
  });

  it('reports ReplicaFailure when pods cannot be created, and clears it once they can', async () => {
    const ns = await newNamespace();
    failPodCreates = 'exceeded quota: compute-resources';
    try {
      await replicaSets().create(ns, replicaSet('quota', 2));
      const failed = await eventually(async () => {
        const s = statusOf(await replicaSets().get(ns, 'quota'));
        return s.conditions?.find((c) => c.type === 'ReplicaFailure');
      }, 'ReplicaFailure condition');
      assert.equal(failed.reason, 'FailedCreate');
      assert.equal(failed.message, 'pods is forbidden: exceeded quota: compute-resources');
      const warnings = await eventually(async () => {
        const list = await events(ns, 'FailedCreate');
        return list.length > 0 && list;
      }, 'FailedCreate event');
      assert.equal(warnings[0]!.type, 'Warning');
      assert.equal(warnings[0]!.message, 'Error creating: pods is forbidden: exceeded quota: compute-resources');
    } finally {
      failPodCreates = undefined;
    }
    await eventually(async () => {
      const current = await replicaSets().get(ns, 'quota');
      return statusOf(current).replicas === 2 && !statusOf(current).conditions;
    }, 'condition cleared after the pods were created', 20_000);
  });
});

describe('replicaset helpers', () => {
  it('slow start: batches 1, 2, 4… and stops after a failing batch', async () => {
    let calls = 0;
    const [ok, error] = await slowStartBatch(10, 1, async () => {
      calls++;
      if (calls > 3) throw new StatusError(403, 'Forbidden', 'no');
    });
    // Batches of 1 and 2 succeed, the batch of 4 fails: 3 + 0 successes, 7 calls made.
    assert.equal(calls, 7);
    assert.equal(ok, 3);
    assert.equal(error?.message, 'no');
    const [all] = await slowStartBatch(5, 1, async () => undefined);
    assert.equal(all, 5);
  });

  it('expectations: satisfied once every creation and deletion was observed, or after 5 minutes', () => {
    let now = 0;
    const e = new ControllerExpectations(() => now);
    assert.ok(e.satisfied('a/b'));
    e.expectCreations('a/b', 2);
    assert.ok(!e.satisfied('a/b'));
    e.creationObserved('a/b');
    e.creationObserved('a/b');
    assert.ok(e.satisfied('a/b'));
    e.expectDeletions('a/b', ['a/p1']);
    assert.ok(!e.satisfied('a/b'));
    e.deletionObserved('a/b', 'a/p1');
    assert.ok(e.satisfied('a/b'));
    e.expectCreations('a/b', 1);
    now += 5 * 60 * 1000 + 1;
    assert.ok(e.satisfied('a/b'));
  });

  it('deletion order: unscheduled, pending, not ready, low cost, doubled-up, newest', () => {
    const t0 = Date.parse('2025-01-01T00:00:00Z');
    const at = (s: number) => new Date(t0 + s * 1000).toISOString().replace('.000', '');
    const pod = (name: string, opts: { node?: string; phase?: string; ready?: boolean; created?: number; cost?: string }): PodLike => ({
      metadata: { name, uid: name, creationTimestamp: at(opts.created ?? 0), annotations: opts.cost ? { 'controller.kubernetes.io/pod-deletion-cost': opts.cost } : {} },
      spec: { nodeName: opts.node },
      status: { phase: opts.phase ?? 'Running', conditions: opts.ready === false ? [] : [{ type: 'Ready', status: 'True', lastTransitionTime: at(opts.created ?? 0) }] },
    });
    const pods = [
      pod('running-old', { node: 'n1', created: 0 }),
      pod('running-new', { node: 'n1', created: 3000 }),
      pod('not-ready', { node: 'n1', ready: false }),
      pod('unscheduled', { phase: 'Pending', ready: false }),
      pod('pending', { node: 'n1', phase: 'Pending', ready: false }),
      pod('cheap', { node: 'n3', created: 0, cost: '-10' }),
    ];
    const order = podsToDelete(pods, pods, 6 - 1, new Date(t0 + 10_000 * 1000)).map((p) => p.metadata.name);
    assert.deepEqual(order, ['unscheduled', 'pending', 'not-ready', 'cheap', 'running-new']);
    // Same age bucket and node count: more pods of the owner on the node go first.
    const spread = [pod('alone', { node: 'a', created: 0 }), pod('crowded-1', { node: 'b', created: 0 }), pod('crowded-2', { node: 'b', created: 0 })];
    assert.equal(podsToDelete(spread, spread, 1, new Date(t0 + 1000))[0]!.metadata.name!.startsWith('crowded'), true);
  });
});
