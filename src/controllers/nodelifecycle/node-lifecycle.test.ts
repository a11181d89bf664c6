/**
 * Node lifecycle with a short grace period: a node whose Lease stops being
 * renewed turns Unknown and gets the unreachable taints; its pods are marked
 * not ready and evicted once their toleration runs out; the taints go when
 * the node is back; and when every node is down nothing is evicted.
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
import { nodeLifecycleController } from './node-lifecycle-controller.js';
import { taintEvictionController } from './taint-eviction-controller.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
/** The nodes whose "kubelet" is alive: their Lease is renewed and Ready heartbeats posted. */
const alive = new Set<string>();
let heartbeat: NodeJS.Timeout;

const microTime = (d = new Date()) => d.toISOString().replace('Z', '000Z');
const seconds = (d = new Date()) => d.toISOString().replace(/\.\d+Z$/, 'Z');

async function beat(name: string): Promise<void> {
  const leases = client.resource(RESOURCES.leases);
  const lease = await leases.get('kube-node-lease', name);
  await leases.update('kube-node-lease', { ...lease, spec: { ...(lease.spec as object), renewTime: microTime() } });
}

/** Posts Ready=True as a kubelet coming back would. */
async function postReady(name: string): Promise<void> {
  const nodes = client.resource(RESOURCES.nodes);
  const node = await nodes.get(undefined, name);
  const now = seconds();
  await nodes.updateStatus(undefined, {
    ...node,
    status: {
      ...(node.status as object),
      conditions: [
        { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
        { type: 'Ready', status: 'True', lastHeartbeatTime: now, lastTransitionTime: now, reason: 'KubeletReady', message: 'kubelet is posting ready status' },
      ],
    },
  });
}

async function addNode(name: string, zone: string): Promise<void> {
  await client.resource(RESOURCES.nodes).create(undefined, { metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } } });
  await postReady(name);
  await client.resource(RESOURCES.leases).create('kube-node-lease', {
    metadata: { name },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: microTime() },
  });
  alive.add(name);
}

async function addPod(name: string, node: string, tolerations?: unknown[]): Promise<KubeObject> {
  const pods = client.resource(RESOURCES.pods);
  await pods.create('default', {
    metadata: { name },
    spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }], ...(tolerations ? { tolerations } : {}) },
  });
  const pod = await pods.get('default', name);
  return pods.updateStatus('default', { ...pod, status: { phase: 'Running', podIP: '10.9.0.2', conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: seconds() }] } });
}

type Condition = { type: string; status: string; reason?: string; message?: string };
type Taint = { key: string; effect: string; timeAdded?: string };
const conditionOf = (o: KubeObject, type: string) => ((o.status as { conditions?: Condition[] }).conditions ?? []).find((c) => c.type === type);
const taintsOf = (node: KubeObject) => ((node.spec as { taints?: Taint[] } | undefined)?.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort();

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  await addNode('n1', 'a');
  await addNode('n2', 'a');
  await addNode('n3', 'b');
  heartbeat = setInterval(() => {
    for (const name of alive) void beat(name).catch(() => undefined);
  }, 150);
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [nodeLifecycleController({ gracePeriodMs: 1000, monitorPeriodMs: 100, evictionRateQps: 100 }), taintEvictionController()],
  );
  await manager.start();
});

after(async () => {
  clearInterval(heartbeat);
  await manager?.stop();
  await cluster?.stop();
});

describe('node lifecycle', () => {
  it('a node that stops renewing its Lease turns Unknown, is tainted, and its pods are evicted after their toleration', async () => {
    const nodes = client.resource(RESOURCES.nodes);
    const pods = client.resource(RESOURCES.pods);
    await addPod('short', 'n1', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
    await addPod('forever', 'n1', [{ operator: 'Exists' }]);
    await addPod('default-toleration', 'n1');
    await addPod('elsewhere', 'n2', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
    // The NoSchedule pass leaves healthy nodes untainted.
    assert.deepEqual(taintsOf(await nodes.get(undefined, 'n1')), []);

    alive.delete('n1');
    const node = await waitFor(async () => {
      const n = await nodes.get(undefined, 'n1');
      return taintsOf(n).length === 2 ? n : undefined;
    }, 'n1 tainted', 10_000);
    assert.deepEqual(taintsOf(node), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    assert.ok(((node.spec as { taints: Taint[] }).taints).every((t) => t.timeAdded));
    assert.deepEqual(
      (({ status, reason, message }) => ({ status, reason, message }))(conditionOf(node, 'Ready')!),
      { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' },
    );
    assert.equal(conditionOf(node, 'MemoryPressure')!.status, 'Unknown');
    // Conditions the kubelet never posted appear as never updated.
    assert.equal(conditionOf(node, 'DiskPressure')!.reason, 'NodeStatusNeverUpdated');
    assert.deepEqual(taintsOf(await nodes.get(undefined, 'n2')), []);

    // Its pods are no longer ready.
    const forever = await waitFor(async () => {
      const p = await pods.get('default', 'forever');
      return conditionOf(p, 'Ready')?.status === 'False' ? p : undefined;
    }, 'pods marked not ready');
    assert.ok(forever);

    // The pod tolerating the taint for 1 s is evicted: DisruptionTarget, then deleted (gracefully: it is bound).
    const evicted = await waitFor(async () => {
      try {
        const p = await pods.get('default', 'short');
        return p.metadata.deletionTimestamp ? p : undefined;
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return { metadata: {} } as KubeObject;
        throw error;
      }
    }, 'short-toleration pod evicted', 10_000);
    if (evicted.status) {
      assert.deepEqual(
        (({ status, reason, message }) => ({ status, reason, message }))(conditionOf(evicted, 'DisruptionTarget')!),
        { status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' },
      );
    }
    // The others stay: tolerated forever, or for the default 300 s; and nothing happens on healthy nodes.
    assert.equal((await pods.get('default', 'forever')).metadata.deletionTimestamp, undefined);
    assert.equal((await pods.get('default', 'default-toleration')).metadata.deletionTimestamp, undefined);
    assert.equal((await pods.get('default', 'elsewhere')).metadata.deletionTimestamp, undefined);

    const events = (await client.resource(RESOURCES.events).list('default')).items;
    const notReady = events.find((e) => e.reason === 'NodeNotReady' && (e.involvedObject as { kind: string }).kind === 'Node');
    assert.equal(notReady?.message, 'Node n1 status is now: NodeNotReady');
    assert.deepEqual(notReady?.source, { component: 'node-controller' });
    const eviction = events.find((e) => e.reason === 'TaintManagerEviction');
    assert.equal(eviction?.message, 'Marking for deletion Pod default/short');
  });

  it('the taints go when the node is back', async () => {
    const nodes = client.resource(RESOURCES.nodes);
    alive.add('n1');
    await postReady('n1');
    await waitFor(async () => taintsOf(await nodes.get(undefined, 'n1')).length === 0, 'n1 untainted', 10_000);
    assert.equal(conditionOf(await nodes.get(undefined, 'n1'), 'Ready')!.status, 'True');
  });

  it('cordoning a node taints it unschedulable', async () => {
    const nodes = client.resource(RESOURCES.nodes);
    await nodes.patch(undefined, 'n2', 'merge', { spec: { unschedulable: true } });
    await waitFor(async () => taintsOf(await nodes.get(undefined, 'n2')).join() === 'node.kubernetes.io/unschedulable:NoSchedule', 'unschedulable taint');
    await nodes.patch(undefined, 'n2', 'merge', { spec: { unschedulable: null } });
    await waitFor(async () => taintsOf(await nodes.get(undefined, 'n2')).length === 0, 'unschedulable taint removed');
  });

  it('when every node is down, nodes are not tainted NoExecute and nothing is evicted', async () => {
    const nodes = client.resource(RESOURCES.nodes);
    const pods = client.resource(RESOURCES.pods);
    await addPod('survivor', 'n3', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]);
    for (const name of ['n1', 'n2', 'n3']) alive.delete(name);
    await waitFor(async () => {
      const all = await Promise.all(['n1', 'n2', 'n3'].map((n) => nodes.get(undefined, n)));
      return all.every((n) => conditionOf(n, 'Ready')!.status === 'Unknown' && taintsOf(n).join() === 'node.kubernetes.io/unreachable:NoSchedule');
    }, 'all nodes Unknown, NoSchedule only', 10_000);
    // Well past the 1 s toleration: still there.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const all = await Promise.all(['n1', 'n2', 'n3'].map((n) => nodes.get(undefined, n)));
    assert.ok(all.every((n) => !taintsOf(n).includes('node.kubernetes.io/unreachable:NoExecute')));
    assert.equal((await pods.get('default', 'survivor')).metadata.deletionTimestamp, undefined);
  });
});
