/**
 * The scheduler against a real API server (in process) with hand-made Ready
 * nodes: what users see (binding, PodScheduled, Scheduled and
 * FailedScheduling events with kube-scheduler 1.32's exact messages) for
 * resource fit, node selection, taints, cordoned nodes, host ports,
 * inter-pod anti-affinity, topology spread and load spreading, and retries
 * when the cluster changes.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { RESOURCES, type ApiClient, type ResourceClient, type ResourceRef } from '../client/types.js';
import { internalError } from '../apimachinery/errors.js';
import {
  eventually,
  nodeObject,
  podEvents,
  podObject,
  startScheduler,
  waitForBinding,
  waitForEvent,
  waitForScheduledCondition,
  type NodeSpec,
  type PodSpecOptions,
  type SchedulerHarness,
} from './testing.js';

let cluster: InProcessCluster | undefined;
let harness: SchedulerHarness | undefined;

afterEach(async () => {
  await harness?.stop();
  await cluster?.stop();
  harness = undefined;
  cluster = undefined;
});

const NS = 'default';

/** A fresh cluster with these nodes and a running scheduler (using `wrap(client)` if given). */
async function setup(nodes: Record<string, NodeSpec>, wrap?: (client: ApiClient) => ApiClient): Promise<ApiClient> {
  cluster = await startInProcessCluster();
  const client = cluster.client;
  for (const [name, spec] of Object.entries(nodes)) await client.resource(RESOURCES.nodes).create(undefined, nodeObject(name, spec));
  harness = await startScheduler(wrap ? wrap(client) : client);
  return client;
}

/** A client whose first `failures` pod bindings fail with an internal error. */
function failingBindings(failures: number): (client: ApiClient) => ApiClient {
  let left = failures;
  return (inner) => ({
    resource(ref: ResourceRef): ResourceClient {
      const real = inner.resource(ref);
      if (ref.resource !== 'pods') return real;
      return new Proxy(real, {
        get(target, prop, receiver) {
          if (prop === 'createSubresource') {
            return async (namespace: string | undefined, name: string, subresource: string, body: KubeObject) => {
              if (subresource === 'binding' && left > 0) {
                left--;
                throw internalError('etcd is having a bad day');
              }
              return target.createSubresource(namespace, name, subresource, body);
            };
          }
          const value = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      });
    },
  });
}

async function createPod(client: ApiClient, name: string, options: PodSpecOptions = {}): Promise<KubeObject> {
  return client.resource(RESOURCES.pods).create(NS, podObject(name, options));
}

async function nodeOf(client: ApiClient, name: string): Promise<string> {
  const pod = await client.resource(RESOURCES.pods).get(NS, name);
  const spec = isObject(pod.spec) ? pod.spec : {};
  return typeof spec.nodeName === 'string' ? spec.nodeName : '';
}

/** Waits for the FailedScheduling event with exactly this message and checks the PodScheduled condition says the same. */
async function expectUnschedulable(client: ApiClient, name: string, message: string): Promise<void> {
  await waitForEvent(client, NS, name, 'FailedScheduling', message);
  const condition = await waitForScheduledCondition(client, NS, name, (c) => c.status === 'False');
  assert.equal(condition.reason, 'Unschedulable');
  assert.equal(condition.message, message);
  assert.equal(condition.lastProbeTime, null);
  assert.equal(await nodeOf(client, name), '');
}

const NO_VICTIMS = (n: number, total = n) => `preemption: 0/${total} nodes are available: ${n} No preemption victims found for incoming pod.`;
const NOT_HELPFUL = (n: number, total = n) => `preemption: 0/${total} nodes are available: ${n} Preemption is not helpful for scheduling.`;

describe('scheduler', () => {
  it('binds a pod, sets PodScheduled=True and records a Scheduled event', async () => {
    const client = await setup({ 'node-1': {} });
    await createPod(client, 'web', { cpu: '100m', memory: '64Mi' });
    assert.equal(await waitForBinding(client, NS, 'web'), 'node-1');
    const condition = await waitForScheduledCondition(client, NS, 'web', (c) => c.status === 'True');
    assert.equal(condition.type, 'PodScheduled');
    const event = await waitForEvent(client, NS, 'web', 'Scheduled');
    assert.equal(event.message, 'Successfully assigned default/web to node-1');
    assert.equal(event.type, 'Normal');
    assert.deepEqual(event.source, { component: 'default-scheduler' });
    assert.equal((event.involvedObject as Record<string, unknown>).kind, 'Pod');
  });

  it('reports a pod too big for every node, then binds it when a bigger node appears', async () => {
    const client = await setup({ 'node-1': { memory: '2Gi' }, 'node-2': { memory: '2Gi' }, 'node-3': { memory: '2Gi' } });
    await createPod(client, 'big', { cpu: '100m', memory: '4Gi' });
    await expectUnschedulable(client, 'big', `0/3 nodes are available: 3 Insufficient memory. ${NO_VICTIMS(3)}`);
    const failed = (await podEvents(client, NS, 'big')).find((e) => e.reason === 'FailedScheduling')!;
    assert.equal(failed.type, 'Warning');

    await client.resource(RESOURCES.nodes).create(undefined, nodeObject('node-big', { memory: '16Gi' }));
    assert.equal(await waitForBinding(client, NS, 'big'), 'node-big');
    await waitForScheduledCondition(client, NS, 'big', (c) => c.status === 'True');
    await waitForEvent(client, NS, 'big', 'Scheduled', 'Successfully assigned default/big to node-big');
  });

  it('retries a failed binding with back-off, reporting it as a SchedulerError', async () => {
    const client = await setup({ 'node-1': {} }, failingBindings(1));
    await createPod(client, 'unlucky');
    const message = 'running Bind plugin "DefaultBinder": Internal error occurred: etcd is having a bad day';
    await waitForEvent(client, NS, 'unlucky', 'FailedScheduling', message);
    assert.equal(await waitForBinding(client, NS, 'unlucky'), 'node-1');
    await waitForEvent(client, NS, 'unlucky', 'Scheduled', 'Successfully assigned default/unlucky to node-1');
  });

  it('lists every insufficient resource and the too-many-pods reason', async () => {
    const client = await setup({ small: { cpu: '1', memory: '1Gi' }, full: { pods: '0' } });
    await createPod(client, 'hungry', { cpu: '2', memory: '2Gi' });
    await expectUnschedulable(
      client,
      'hungry',
      `0/2 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods. ${NO_VICTIMS(2)}`,
    );
  });

  it('counts pods whose binding is still in flight (no overcommit in a burst)', async () => {
    const client = await setup({ only: { pods: '5' } });
    await Promise.all(Array.from({ length: 8 }, (_, i) => createPod(client, `burst-${i}`, { cpu: '10m' })));
    const bound = await eventually(async () => {
      const pods = (await client.resource(RESOURCES.pods).list(NS)).items;
      const onNode = pods.filter((p) => isObject(p.spec) && p.spec.nodeName === 'only');
      const failed = pods.filter((p) => JSON.stringify(p.status ?? {}).includes('Too many pods'));
      return onNode.length + failed.length === 8 ? onNode.length : undefined;
    }, 'every burst pod to be bound or reported');
    assert.equal(bound, 5);
  });

  it('honours nodeSelector', async () => {
    const client = await setup({ plain: {}, ssd: { labels: { disk: 'ssd' } }, other: {} });
    await createPod(client, 'wants-ssd', { spec: { nodeSelector: { disk: 'ssd' } } });
    assert.equal(await waitForBinding(client, NS, 'wants-ssd'), 'ssd');
    await createPod(client, 'wants-nvme', { spec: { nodeSelector: { disk: 'nvme' } } });
    await expectUnschedulable(client, 'wants-nvme', `0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL(3)}`);
    // Labelling a node is a cluster event that retries the pod.
    await client.resource(RESOURCES.nodes).patch(undefined, 'other', 'merge', { metadata: { labels: { disk: 'nvme' } } });
    assert.equal(await waitForBinding(client, NS, 'wants-nvme'), 'other');
  });

  it('honours required node affinity (In, NotIn, Exists, DoesNotExist, Gt, Lt, metadata.name)', async () => {
    const client = await setup({
      a: { labels: { zone: 'z1', gen: '3' } },
      b: { labels: { zone: 'z2', gen: '5', gpu: 'yes' } },
      c: { labels: { zone: 'z3', gen: '7' } },
    });
    const affinity = (...matchExpressions: unknown[]) => ({
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions }] } } } },
    });
    await createPod(client, 'in', affinity({ key: 'zone', operator: 'In', values: ['z2'] }));
    await createPod(client, 'notin', affinity({ key: 'zone', operator: 'NotIn', values: ['z1', 'z2'] }));
    await createPod(client, 'exists', affinity({ key: 'gpu', operator: 'Exists' }));
    await createPod(client, 'gt-lt', affinity({ key: 'gen', operator: 'Gt', values: ['4'] }, { key: 'gen', operator: 'Lt', values: ['6'] }));
    await createPod(client, 'absent', affinity({ key: 'gpu', operator: 'DoesNotExist' }, { key: 'gen', operator: 'Lt', values: ['4'] }));
    await createPod(client, 'by-name', {
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] }] } } } },
    });
    assert.equal(await waitForBinding(client, NS, 'in'), 'b');
    assert.equal(await waitForBinding(client, NS, 'notin'), 'c');
    assert.equal(await waitForBinding(client, NS, 'exists'), 'b');
    assert.equal(await waitForBinding(client, NS, 'gt-lt'), 'b');
    assert.equal(await waitForBinding(client, NS, 'absent'), 'a');
    assert.equal(await waitForBinding(client, NS, 'by-name'), 'c');

    await createPod(client, 'nowhere', affinity({ key: 'zone', operator: 'In', values: ['z9'] }));
    await expectUnschedulable(client, 'nowhere', `0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. ${NOT_HELPFUL(3)}`);
    await createPod(client, 'missing-node', {
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['d'] }] }] } } } },
    });
    await expectUnschedulable(client, 'missing-node', `0/3 nodes are available: 3 node(s) didn't satisfy plugin(s) [NodeAffinity]. ${NOT_HELPFUL(3)}`);
  });

  it('keeps pods off tainted nodes unless they tolerate the taint', async () => {
    const client = await setup({
      gpu: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      'not-ready': { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] },
    });
    await createPod(client, 'plain');
    await expectUnschedulable(
      client,
      'plain',
      `0/2 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. ${NOT_HELPFUL(2)}`,
    );
    await createPod(client, 'tolerant', { spec: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] } });
    assert.equal(await waitForBinding(client, NS, 'tolerant'), 'gpu');
    // The node becomes ready: its taint goes, and the waiting pod is retried.
    await client.resource(RESOURCES.nodes).patch(undefined, 'not-ready', 'merge', { spec: { taints: null } });
    assert.equal(await waitForBinding(client, NS, 'plain'), 'not-ready');
  });

  it('skips cordoned nodes and retries when they are uncordoned', async () => {
    const client = await setup({ cordoned: { unschedulable: true } });
    await createPod(client, 'waiting');
    await expectUnschedulable(client, 'waiting', `0/1 nodes are available: 1 node(s) were unschedulable. ${NOT_HELPFUL(1)}`);
    await createPod(client, 'tolerates-cordon', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
    assert.equal(await waitForBinding(client, NS, 'tolerates-cordon'), 'cordoned');
    await client.resource(RESOURCES.nodes).patch(undefined, 'cordoned', 'merge', { spec: { unschedulable: null } });
    assert.equal(await waitForBinding(client, NS, 'waiting'), 'cordoned');
  });

  it('refuses a host port already taken, and binds once it is freed', async () => {
    const client = await setup({ single: {} });
    const port = (hostPort: number) => ({ container: { ports: [{ containerPort: 80, hostPort, protocol: 'TCP' }] } });
    await createPod(client, 'first', port(8080));
    assert.equal(await waitForBinding(client, NS, 'first'), 'single');
    await createPod(client, 'other-port', port(8081));
    assert.equal(await waitForBinding(client, NS, 'other-port'), 'single');
    await createPod(client, 'second', port(8080));
    await expectUnschedulable(client, 'second', `0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. ${NO_VICTIMS(1)}`);
    await client.resource(RESOURCES.pods).delete(NS, 'first', { gracePeriodSeconds: 0 });
    assert.equal(await waitForBinding(client, NS, 'second'), 'single');
  });

  it('spreads pods with required anti-affinity one per hostname', async () => {
    const client = await setup({ n1: {}, n2: {}, n3: {} });
    const antiAffinity: PodSpecOptions = {
      labels: { app: 'db' },
      spec: {
        affinity: {
          podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }],
          },
        },
      },
    };
    for (let i = 0; i < 3; i++) await createPod(client, `db-${i}`, antiAffinity);
    const placed = await Promise.all([0, 1, 2].map((i) => waitForBinding(client, NS, `db-${i}`)));
    assert.deepEqual([...placed].sort(), ['n1', 'n2', 'n3']);
    await createPod(client, 'db-3', antiAffinity);
    await expectUnschedulable(client, 'db-3', `0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. ${NO_VICTIMS(3)}`);
    // A plain pod is refused too where the existing pods' anti-affinity rejects it.
    await createPod(client, 'intruder', { labels: { app: 'db' } });
    await expectUnschedulable(client, 'intruder', `0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules. ${NO_VICTIMS(3)}`);
    // Freeing a node lets one of them in.
    await client.resource(RESOURCES.pods).delete(NS, 'db-0', { gracePeriodSeconds: 0 });
    await eventually(async () => ((await nodeOf(client, 'db-3')) || (await nodeOf(client, 'intruder')) ? true : undefined), 'a waiting pod to take the freed node');
  });

  it('honours pod affinity to pods of another app', async () => {
    const client = await setup({ n1: {}, n2: {}, n3: {} });
    await createPod(client, 'cache', { labels: { app: 'cache' } });
    const cacheNode = await waitForBinding(client, NS, 'cache');
    const affinity: PodSpecOptions = {
      spec: {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }],
          },
        },
      },
    };
    for (let i = 0; i < 3; i++) await createPod(client, `near-${i}`, affinity);
    for (let i = 0; i < 3; i++) assert.equal(await waitForBinding(client, NS, `near-${i}`), cacheNode);
    await createPod(client, 'lonely', {
      spec: {
        affinity: {
          podAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'nothing' } }, topologyKey: 'kubernetes.io/hostname' }],
          },
        },
      },
    });
    await expectUnschedulable(client, 'lonely', `0/3 nodes are available: 3 node(s) didn't match pod affinity rules. ${NOT_HELPFUL(3)}`);
  });

  it('keeps topology spread constraints (DoNotSchedule) within maxSkew', async () => {
    const client = await setup({
      a1: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      a2: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      b1: { labels: { 'topology.kubernetes.io/zone': 'b' } },
      unlabelled: {},
    });
    const spread: PodSpecOptions = {
      labels: { app: 'spread' },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }],
      },
    };
    for (let i = 0; i < 6; i++) {
      await createPod(client, `s-${i}`, spread);
      await waitForBinding(client, NS, `s-${i}`);
    }
    const zones = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 6; i++) {
      const node = await nodeOf(client, `s-${i}`);
      assert.notEqual(node, 'unlabelled');
      zones[node.startsWith('a') ? 'a' : 'b']!++;
    }
    assert.deepEqual(zones, { a: 3, b: 3 });
  });

  it('reports topology spread and taint rejections together, sorted as Kubernetes sorts them', async () => {
    const client = await setup({
      za: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      zb: { labels: { 'topology.kubernetes.io/zone': 'b' }, taints: [{ key: 'maintenance', value: 'true', effect: 'NoSchedule' }] },
      none: {},
    });
    const spread: PodSpecOptions = {
      labels: { app: 'skewed' },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'skewed' } } }],
      },
    };
    await createPod(client, 'k-0', spread);
    assert.equal(await waitForBinding(client, NS, 'k-0'), 'za');
    await createPod(client, 'k-1', spread);
    await expectUnschedulable(
      client,
      'k-1',
      "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) had untolerated taint {maintenance: true}. " +
        'preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    );
  });

  it('spreads 30 small pods evenly over 3 equal nodes', async () => {
    const client = await setup({ e1: {}, e2: {}, e3: {} });
    await Promise.all(Array.from({ length: 30 }, (_, i) => createPod(client, `small-${i}`, { cpu: '100m', memory: '128Mi' })));
    const counts = await eventually(async () => {
      const pods = (await client.resource(RESOURCES.pods).list(NS)).items;
      const placed = pods.map((p) => (isObject(p.spec) ? p.spec.nodeName : undefined)).filter((n): n is string => typeof n === 'string' && n !== '');
      if (placed.length < 30) return undefined;
      const counts: Record<string, number> = {};
      for (const n of placed) counts[n] = (counts[n] ?? 0) + 1;
      return counts;
    }, '30 pods to be bound');
    assert.deepEqual(Object.keys(counts).sort(), ['e1', 'e2', 'e3']);
    for (const n of Object.values(counts)) assert.ok(n >= 9 && n <= 11, `uneven spread: ${JSON.stringify(counts)}`);
  });

  it('waits for scheduling gates to be removed', async () => {
    const client = await setup({ n1: {} });
    await createPod(client, 'gated', { spec: { schedulingGates: [{ name: 'example.com/wait' }] } });
    await createPod(client, 'free');
    await waitForBinding(client, NS, 'free');
    assert.equal(await nodeOf(client, 'gated'), '');
    const pod = await client.resource(RESOURCES.pods).get(NS, 'gated');
    (pod.spec as Record<string, unknown>).schedulingGates = [];
    await client.resource(RESOURCES.pods).update(NS, pod);
    assert.equal(await waitForBinding(client, NS, 'gated'), 'n1');
  });

  it('leaves pods of another scheduler alone and says when there are no nodes', async () => {
    const client = await setup({});
    await createPod(client, 'mine');
    await expectUnschedulable(client, 'mine', 'no nodes available to schedule pods');
    await createPod(client, 'theirs', { spec: { schedulerName: 'other-scheduler' } });
    await client.resource(RESOURCES.nodes).create(undefined, nodeObject('late'));
    assert.equal(await waitForBinding(client, NS, 'mine'), 'late');
    assert.equal(await nodeOf(client, 'theirs'), '');
    assert.equal((await podEvents(client, NS, 'theirs')).length, 0);
  });
});
