/**
 * One scheduling decision on a hand-built cache: filters and their exact
 * Kubernetes reasons, the FitError/preemption message, scoring preferences,
 * resource arithmetic (init containers, sidecars, overhead) and the node
 * sampling of large clusters.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apimachinery/types.js';
import { SchedulerCache } from './cache.js';
import { SchedulingAlgorithm, defaultScorers, numFeasibleNodesToFind, type ScheduleOutcome } from './algorithm.js';
import { labelSelectorFromSet } from '../apimachinery/selectors.js';
import { Diagnosis, fitErrorMessage, reject, truncateMessage } from './framework.js';
import { parsePod, type PodInfo } from './pod-info.js';
import { podRequests } from './resources.js';
import { nodeObject, podObject, type NodeSpec, type PodSpecOptions } from './testing.js';

let uid = 0;

/** A parsed pod, as the informer would hand it (namespace default, a uid). */
function pod(name: string, options: PodSpecOptions = {}): PodInfo {
  const object = podObject(name, options);
  object.metadata.namespace = 'default';
  object.metadata.uid = `uid-${++uid}`;
  return parsePod(object);
}

function cacheWith(nodes: Record<string, NodeSpec>): SchedulerCache {
  const cache = new SchedulerCache();
  for (const [name, spec] of Object.entries(nodes)) cache.setNode(nodeObject(name, spec));
  return cache;
}

/** Places a pod on a node as a bound pod. */
function place(cache: SchedulerCache, info: PodInfo, nodeName: string): void {
  cache.setPod({ ...info, nodeName });
}

function message(outcome: ScheduleOutcome): string {
  assert.notEqual(outcome.kind, 'scheduled', `expected no fit, got ${JSON.stringify(outcome)}`);
  return (outcome as { message: string }).message;
}

function chosen(outcome: ScheduleOutcome): string {
  assert.equal(outcome.kind, 'scheduled', JSON.stringify(outcome));
  return (outcome as { node: string }).node;
}

describe('numFeasibleNodesToFind', () => {
  it('is adaptive as Kubernetes: all below 100, 50 − n/125 percent, at least 5 % and 100 nodes', () => {
    assert.equal(numFeasibleNodesToFind(50), 50);
    assert.equal(numFeasibleNodesToFind(100), 100);
    assert.equal(numFeasibleNodesToFind(199), 100);
    assert.equal(numFeasibleNodesToFind(1000), 420);
    assert.equal(numFeasibleNodesToFind(5000), 500);
    assert.equal(numFeasibleNodesToFind(6000), 300);
    assert.equal(numFeasibleNodesToFind(100_000), 5000);
    assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
    assert.equal(numFeasibleNodesToFind(1000, 5), 100);
  });

  it('evaluates only a sample of a large cluster, starting where the previous pod stopped', () => {
    const nodes: Record<string, NodeSpec> = {};
    for (let i = 0; i < 1000; i++) nodes[`n${i}`] = {};
    const algorithm = new SchedulingAlgorithm(cacheWith(nodes));
    const first = algorithm.schedule(pod('a'));
    assert.equal(first.kind === 'scheduled' && first.evaluatedNodes, 420);
    assert.equal(first.kind === 'scheduled' && first.feasibleNodes, 420);
  });
});

describe('resource requests', () => {
  it('sums containers, takes the largest init container, adds sidecars and overhead', () => {
    const spec = {
      initContainers: [
        { name: 'i1', resources: { requests: { cpu: '2', memory: '1G' } } },
        { name: 'i2', resources: { requests: { cpu: '2', memory: '3G' } } },
      ],
      containers: [
        { name: 'c1', resources: { requests: { cpu: '2', memory: '1G' } } },
        { name: 'c2', resources: { requests: { cpu: '1', memory: '1G' } } },
      ],
    };
    assert.deepEqual(podRequests(spec), { milliCpu: 3000, memory: 3e9, ephemeralStorage: 0 });
    const withSidecar = {
      initContainers: [
        { name: 'sidecar', restartPolicy: 'Always', resources: { requests: { cpu: '500m' } } },
        { name: 'setup', resources: { requests: { cpu: '4' } } },
      ],
      containers: [{ name: 'c', resources: { requests: { cpu: '1' } } }],
      overhead: { cpu: '250m', memory: '120Mi' },
    };
    // max(1 + 0.5 sidecar, 4 + 0.5 sidecar during init) + 0.25 overhead
    assert.deepEqual(podRequests(withSidecar), { milliCpu: 4750, memory: 120 * 1024 * 1024, ephemeralStorage: 0 });
  });

  it('counts containers without requests as 100m / 200Mi for scoring only', () => {
    const info = pod('empty');
    assert.equal(info.requests.milliCpu, 0);
    assert.equal(info.nonZeroMilliCpu, 100);
    assert.equal(info.nonZeroMemory, 200 * 1024 * 1024);
  });
});

describe('filters and the FitError message', () => {
  it('reports insufficient resources, including extended resources, and pod slots', () => {
    const cache = cacheWith({ a: { cpu: '1', memory: '1Gi' }, b: { extra: { 'example.com/gpu': '1' } }, c: { pods: '1' } });
    place(cache, pod('x'), 'c');
    place(cache, pod('gpu-user', { container: { resources: { requests: { 'example.com/gpu': '1' } } } }), 'b');
    const wants = pod('w', { cpu: '2', memory: '2Gi', container: { resources: { requests: { cpu: '2', memory: '2Gi', 'example.com/gpu': '1' } } } });
    assert.equal(
      message(new SchedulingAlgorithm(cache).schedule(wants)),
      // Every node lacks the GPU (a has none, b's is taken, c has none), and each node lists all its shortages.
      '0/3 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Too many pods, 3 Insufficient example.com/gpu. ' +
        'preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    );
  });

  it('sorts the histogram as Go sorts strings ("10 …" before "2 …")', () => {
    const d = new Diagnosis();
    for (let i = 0; i < 10; i++) d.set(`cpu-${i}`, reject('NodeResourcesFit', 'Unschedulable', 'Insufficient cpu'));
    for (let i = 0; i < 2; i++) d.set(`ports-${i}`, reject('NodePorts', 'Unschedulable', "node(s) didn't have free ports for the requested pod ports"));
    assert.equal(fitErrorMessage(12, d), "0/12 nodes are available: 10 Insufficient cpu, 2 node(s) didn't have free ports for the requested pod ports.");
  });

  it('stops at the first failing filter of a node', () => {
    const cache = cacheWith({ cordoned: { unschedulable: true, memory: '1Gi' }, tainted: { taints: [{ key: 'k', value: 'v', effect: 'NoExecute' }], memory: '1Gi' } });
    assert.equal(
      message(new SchedulingAlgorithm(cache).schedule(pod('p', { memory: '2Gi' }))),
      '0/2 nodes are available: 1 node(s) had untolerated taint {k: v}, 1 node(s) were unschedulable. ' +
        'preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('ignores PreferNoSchedule taints when filtering and matches tolerations as Kubernetes', () => {
    const cache = cacheWith({ soft: { taints: [{ key: 'a', value: 'b', effect: 'PreferNoSchedule' }] } });
    assert.equal(chosen(new SchedulingAlgorithm(cache).schedule(pod('p'))), 'soft');
    const hard = cacheWith({ hard: { taints: [{ key: 'a', value: 'b', effect: 'NoSchedule' }] } });
    const algorithm = new SchedulingAlgorithm(hard);
    assert.equal(chosen(algorithm.schedule(pod('all', { spec: { tolerations: [{ operator: 'Exists' }] } }))), 'hard');
    assert.equal(chosen(algorithm.schedule(pod('key', { spec: { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }] } }))), 'hard');
    assert.equal(algorithm.schedule(pod('effect', { spec: { tolerations: [{ key: 'a', value: 'b', effect: 'NoExecute' }] } })).kind, 'unschedulable');
    assert.equal(algorithm.schedule(pod('value', { spec: { tolerations: [{ key: 'a', value: 'c' }] } })).kind, 'unschedulable');
  });

  it('matches Gt/Lt only on integer labels', () => {
    const cache = cacheWith({ text: { labels: { gen: 'new' } }, number: { labels: { gen: '10' } } });
    const p = pod('p', {
      spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['2'] }] }] } } } },
    });
    assert.equal(chosen(new SchedulingAlgorithm(cache).schedule(p)), 'number');
  });

  it('reports conflicting metadata.name terms at PreFilter', () => {
    const cache = cacheWith({ a: {}, b: {} });
    const p = pod('p', {
      spec: {
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }, { key: 'metadata.name', operator: 'In', values: ['b'] }] }],
            },
          },
        },
      },
    });
    assert.equal(
      message(new SchedulingAlgorithm(cache).schedule(p)),
      '0/2 nodes are available: pod affinity terms conflict. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.',
    );
  });

  it('checks host ports per protocol and address (0.0.0.0 overlaps every address)', () => {
    const cache = cacheWith({ n: {} });
    place(cache, pod('tcp', { container: { ports: [{ containerPort: 53, hostPort: 53, protocol: 'TCP', hostIP: '10.0.0.1' }] } }), 'n');
    const algorithm = new SchedulingAlgorithm(cache);
    const port = (protocol: string, hostIP?: string) => pod('p', { container: { ports: [{ containerPort: 53, hostPort: 53, protocol, ...(hostIP ? { hostIP } : {}) }] } });
    assert.equal(chosen(algorithm.schedule(port('UDP'))), 'n');
    assert.equal(chosen(algorithm.schedule(port('TCP', '10.0.0.2'))), 'n');
    assert.equal(algorithm.schedule(port('TCP', '10.0.0.1')).kind, 'unschedulable');
    assert.equal(algorithm.schedule(port('TCP')).kind, 'unschedulable');
  });

  it('treats fewer domains than minDomains as a global minimum of 0', () => {
    const cache = cacheWith({ a: { labels: { zone: 'a' } } });
    const constraint = (minDomains?: number): PodSpecOptions => ({
      labels: { app: 'x' },
      spec: {
        topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'x' } }, ...(minDomains ? { minDomains } : {}) }],
      },
    });
    place(cache, pod('existing', { labels: { app: 'x' } }), 'a');
    const algorithm = new SchedulingAlgorithm(cache);
    // One domain: the minimum is the domain itself, so the skew stays 1.
    assert.equal(chosen(algorithm.schedule(pod('p', constraint()))), 'a');
    // minDomains 2 with one domain: minimum 0, skew 1 + 1 = 2 > 1.
    assert.equal(
      message(algorithm.schedule(pod('q', constraint(2)))),
      "0/1 nodes are available: 1 node(s) didn't match pod topology spread constraints. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.",
    );
  });
});

describe('preemption part of the message', () => {
  it('says nothing more when evicting lower-priority pods would make room (Kubernetes would preempt)', () => {
    const cache = cacheWith({ n: { memory: '2Gi' } });
    place(cache, { ...pod('low', { memory: '2Gi' }), priority: -10 }, 'n');
    const outcome = new SchedulingAlgorithm(cache).schedule(pod('high', { memory: '1Gi' }));
    assert.equal(message(outcome), '0/1 nodes are available: 1 Insufficient memory.');
  });

  it('gives the reason that remains once lower-priority pods are gone', () => {
    const cache = cacheWith({ n: { memory: '2Gi' } });
    place(cache, { ...pod('low', { memory: '1Gi' }), priority: -10 }, 'n');
    place(cache, pod('same', { memory: '1Gi' }), 'n');
    assert.equal(
      message(new SchedulingAlgorithm(cache).schedule(pod('big', { memory: '3Gi' }))),
      '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 Insufficient memory.',
    );
  });

  it('is not tried for preemptionPolicy Never', () => {
    const cache = cacheWith({ n: { memory: '1Gi' } });
    assert.equal(
      message(new SchedulingAlgorithm(cache).schedule(pod('p', { memory: '2Gi', spec: { preemptionPolicy: 'Never' } }))),
      '0/1 nodes are available: 1 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.',
    );
  });

  it('truncates event messages to 1024 bytes as kube-scheduler', () => {
    assert.equal(truncateMessage('x'.repeat(1024)).length, 1024);
    const long = truncateMessage('y'.repeat(2000));
    assert.equal(long.length, 1024);
    assert.ok(long.endsWith(' ...'));
  });
});

describe('scoring', () => {
  const fixed = () => 0.99;

  it('prefers the least allocated node, and balanced cpu/memory use', () => {
    const cache = cacheWith({ busy: {}, idle: {} });
    place(cache, pod('load', { cpu: '2', memory: '4Gi' }), 'busy');
    assert.equal(chosen(new SchedulingAlgorithm(cache, { random: fixed }).schedule(pod('p', { cpu: '100m', memory: '100Mi' }))), 'idle');
    // Same free totals, but on "skewed" cpu is mostly used and memory not: a cpu-light, memory-heavy pod balances it.
    const balance = cacheWith({ skewed: { cpu: '4', memory: '8Gi' }, even: { cpu: '4', memory: '8Gi' } });
    place(balance, pod('cpu-heavy', { cpu: '3', memory: '1Gi' }), 'skewed');
    place(balance, pod('mixed', { cpu: '1500m', memory: '4Gi' }), 'even');
    assert.equal(chosen(new SchedulingAlgorithm(balance, { random: fixed }).schedule(pod('mem', { cpu: '100m', memory: '3Gi' }))), 'skewed');
  });

  it('avoids PreferNoSchedule taints and follows preferred node affinity', () => {
    const cache = cacheWith({ tainted: { taints: [{ key: 'spot', value: 'true', effect: 'PreferNoSchedule' }] }, clean: {} });
    assert.equal(chosen(new SchedulingAlgorithm(cache, { random: fixed }).schedule(pod('p'))), 'clean');
    const labelled = cacheWith({ plain: {}, fast: { labels: { disk: 'ssd' } } });
    const p = pod('q', {
      spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } } },
    });
    assert.equal(chosen(new SchedulingAlgorithm(labelled, { random: fixed }).schedule(p)), 'fast');
  });

  it('follows preferred pod affinity and anti-affinity', () => {
    const cache = cacheWith({ a: {}, b: {} });
    place(cache, pod('cache', { labels: { app: 'cache' } }), 'a');
    const term = { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' } };
    const algorithm = new SchedulingAlgorithm(cache, { random: fixed });
    assert.equal(chosen(algorithm.schedule(pod('near', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term] } } } }))), 'a');
    assert.equal(chosen(algorithm.schedule(pod('far', { spec: { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [term] } } } }))), 'b');
  });

  it('prefers nodes that already have the image', () => {
    const cache = cacheWith({
      cold: {},
      warm: { images: [{ names: ['registry.example/big:1'], sizeBytes: 800 * 1024 * 1024 }] },
      other: {},
    });
    const p = pod('p', { container: { image: 'registry.example/big:1' } });
    assert.equal(chosen(new SchedulingAlgorithm(cache, { random: fixed }).schedule(p)), 'warm');
  });

  it('spreads pods selected by a service or controller across hostnames by default (system default constraints)', () => {
    const cache = cacheWith({ a: { cpu: '64', memory: '256Gi' }, b: { cpu: '4', memory: '8Gi' } });
    // Three pods of the same app on the big node: LeastAllocated still prefers it, default spreading must win.
    for (let i = 0; i < 3; i++) place(cache, pod(`web-${i}`, { labels: { app: 'web' } }), 'a');
    const selector = labelSelectorFromSet({ app: 'web' });
    const spreading = new SchedulingAlgorithm(cache, { random: fixed, scorers: defaultScorers((p) => (p.labels.app === 'web' ? selector : undefined)) });
    assert.equal(chosen(spreading.schedule(pod('web-new', { labels: { app: 'web' } }))), 'b');
    assert.equal(chosen(spreading.schedule(pod('other', { labels: { app: 'other' } }))), 'a');
  });

  it('breaks ties at random among the best nodes', () => {
    const cache = cacheWith({ a: {}, b: {}, c: {} });
    const seen = new Set<string>();
    const values = [0.1, 0.9, 0.1, 0.1, 0.9, 0.9, 0.5, 0.2, 0.7];
    let i = 0;
    const algorithm = new SchedulingAlgorithm(cache, { random: () => values[i++ % values.length]! });
    for (let n = 0; n < 12; n++) seen.add(chosen(algorithm.schedule(pod(`t${n}`))));
    assert.ok(seen.size > 1, `always the same node: ${[...seen].join(',')}`);
  });
});

describe('cache', () => {
  it('accounts assumed pods and forgets them when their binding fails', () => {
    const cache = cacheWith({ n: { cpu: '1' } });
    const algorithm = new SchedulingAlgorithm(cache);
    const first = pod('first', { cpu: '600m' });
    cache.assumePod(first, chosen(algorithm.schedule(first)));
    assert.equal(algorithm.schedule(pod('second', { cpu: '600m' })).kind, 'unschedulable');
    cache.forgetPod(first.uid);
    assert.equal(chosen(algorithm.schedule(pod('third', { cpu: '600m' }))), 'n');
  });

  it('confirms an assumed pod without counting it twice, and keeps node-less pods out of the node list', () => {
    const cache = cacheWith({ n: { pods: '2' } });
    const p = pod('p');
    cache.assumePod(p, 'n');
    cache.setPod({ ...p, nodeName: 'n' });
    assert.equal(cache.get('n')!.pods.size, 1);
    cache.removeNode('n');
    assert.equal(cache.nodes().length, 0);
    cache.setNode(nodeObject('n', { pods: '2' }) as KubeObject);
    assert.equal(cache.get('n')!.pods.size, 1);
    cache.removePod(p.uid);
    assert.equal(cache.get('n')!.pods.size, 0);
  });

  it('interleaves zones in the node list', () => {
    const cache = cacheWith({
      a1: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      a2: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      a3: { labels: { 'topology.kubernetes.io/zone': 'a' } },
      b1: { labels: { 'topology.kubernetes.io/zone': 'b' } },
    });
    assert.deepEqual(cache.nodes().map((n) => n.name), ['a1', 'b1', 'a2', 'a3']);
  });
});
