/**
 * Simulated nodes against a real API server in this process: registration
 * with a kubelet's status and Lease renewals, pods bound to them (the test
 * binds, as the scheduler would) going Running with the full status, Never
 * pods finishing after their run time, exit codes and back-off restarts from
 * annotations, init containers in order, the pods-capacity admission, graceful
 * deletion, adoption after a restart, and stop().
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import { waitFor } from '../../test/helpers/cluster.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { startSimulatedNodes, type SimulatedNodes, type SimulatedNodesOptions } from './simulated-nodes.js';
import { NodeAddressBlock } from './addresses.js';
import { imageID, normalizeImage } from './pod-status.js';
import { goDuration } from './kubelet.js';

let cluster: InProcessCluster;
let client: ApiClient;
let podCounter = 0;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
});

after(async () => {
  await cluster.stop();
});

/** Any JSON shape, for assertions on objects read back. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const pods = () => client.resource(RESOURCES.pods);

async function podNamed(namespace: string, name: string): Promise<Any> {
  return pods().get(namespace, name);
}

/** Creates a pod and binds it to `node` through pods/binding, as the scheduler would. */
async function bindAndRun(node: string, spec: Record<string, unknown> = {}, annotations: Record<string, string> = {}): Promise<string> {
  const name = `sim-pod-${++podCounter}`;
  await pods().create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations }, spec: { containers: [{ name: 'main', image: 'nginx' }], ...spec } });
  await pods().createSubresource('default', name, 'binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } } as KubeObject);
  return name;
}

async function waitForPhase(name: string, phase: string, timeoutMs = 10_000): Promise<Any> {
  return waitFor(
    async () => {
      const pod = await podNamed('default', name);
      return pod.status?.phase === phase ? pod : undefined;
    },
    `pod ${name} to be ${phase}`,
    timeoutMs,
  );
}

function condition(object: Any, type: string): Any {
  return (object.status?.conditions ?? []).find((c: Any) => c.type === type);
}

async function simulate(options: Partial<SimulatedNodesOptions> & { namePrefix: string }): Promise<SimulatedNodes> {
  return startSimulatedNodes(client, { count: 2, podRunSeconds: 1, initContainerSeconds: 0.3, restartBackoffSeconds: 0.3, ...options });
}

describe('helpers', () => {
  it('normalizes images and ids as containerd reports them', () => {
    assert.equal(normalizeImage('nginx'), 'docker.io/library/nginx:latest');
    assert.equal(normalizeImage('bitnami/redis:7.2'), 'docker.io/bitnami/redis:7.2');
    assert.equal(normalizeImage('registry.k8s.io/pause:3.10'), 'registry.k8s.io/pause:3.10');
    assert.equal(normalizeImage('localhost:5000/app'), 'localhost:5000/app:latest');
    assert.match(imageID('nginx'), /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
    assert.equal(imageID('nginx@sha256:abc'), 'docker.io/library/nginx@sha256:abc');
  });

  it('gives every node its own block and every pod its own address', () => {
    const first = new NodeAddressBlock('10.42.0.0', 0, 110);
    const third = new NodeAddressBlock('10.42.0.0', 2, 110);
    const far = new NodeAddressBlock('10.42.0.0', 300, 110);
    assert.equal(first.nodeIP, '10.42.0.1');
    assert.equal(third.cidr, '10.42.2.0/24');
    assert.equal(far.cidr, '10.43.44.0/24');
    const seen = new Set<string>();
    for (let i = 0; i < 253; i++) seen.add(first.allocate()!);
    assert.equal(seen.size, 253);
    assert.ok(!seen.has('10.42.0.1') && !seen.has('10.42.0.0') && !seen.has('10.42.0.255'));
    assert.equal(first.allocate(), undefined);
    first.release('10.42.0.7');
    assert.equal(first.allocate(), '10.42.0.7');
    assert.equal(new NodeAddressBlock('10.42.0.0', 1, 500).cidr, '10.42.2.0/23');
  });

  it('prints back-off durations as Go does', () => {
    assert.deepEqual([10, 20, 40, 80, 160, 300].map(goDuration), ['10s', '20s', '40s', '1m20s', '2m40s', '5m0s']);
  });
});

describe('simulated nodes', () => {
  it('register with a kubelet status and renew their leases', async () => {
    const sim = await simulate({ namePrefix: 'reg-', leaseRenewSeconds: 0.2 });
    try {
      assert.deepEqual(sim.nodes, ['reg-0', 'reg-1']);
      const node: Any = await client.resource(RESOURCES.nodes).get(undefined, 'reg-1');
      assert.deepEqual(node.metadata.labels, {
        'beta.kubernetes.io/arch': node.status.nodeInfo.architecture,
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': node.status.nodeInfo.architecture,
        'kubernetes.io/hostname': 'reg-1',
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'pilote-simulated',
        'pilote.dev/simulated': 'true',
      });
      assert.equal(node.metadata.annotations['node.alpha.kubernetes.io/ttl'], '0');
      assert.deepEqual(node.status.capacity, { cpu: '4', 'ephemeral-storage': '100Gi', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '16Gi', pods: '110' });
      assert.deepEqual(node.status.allocatable, { cpu: '4', 'ephemeral-storage': '96636764160', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: '16284Mi', pods: '110' });
      assert.deepEqual(
        node.status.conditions.map((c: Any) => [c.type, c.status, c.reason, c.message]),
        [
          ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
          ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
          ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
          ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
        ],
      );
      for (const c of node.status.conditions) assert.ok(c.lastHeartbeatTime && c.lastTransitionTime);
      assert.deepEqual(node.status.addresses, [
        { type: 'InternalIP', address: '10.42.1.1' },
        { type: 'Hostname', address: 'reg-1' },
      ]);
      assert.deepEqual(node.status.daemonEndpoints, { kubeletEndpoint: { Port: 10250 } });
      const info = node.status.nodeInfo;
      assert.equal(info.kubeletVersion, 'v1.32.0-pilote-sim');
      assert.match(info.containerRuntimeVersion, /^pilote-sim:\/\//);
      assert.equal(info.operatingSystem, 'linux');
      assert.ok(info.osImage && info.kernelVersion && info.machineID && info.systemUUID && info.bootID);

      const leases = client.resource(RESOURCES.leases);
      const lease: Any = await leases.get('kube-node-lease', 'reg-1');
      assert.equal(lease.spec.holderIdentity, 'reg-1');
      assert.equal(lease.spec.leaseDurationSeconds, 40);
      assert.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: 'reg-1', uid: node.metadata.uid }]);
      assert.match(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      const renewed: Any = await waitFor(
        async () => {
          const now: Any = await leases.get('kube-node-lease', 'reg-1');
          return now.spec.renewTime > lease.spec.renewTime ? now : undefined;
        },
        'a lease renewal',
        5000,
      );
      assert.equal(renewed.spec.holderIdentity, 'reg-1');
      assert.ok(sim.stats().leaseRenewals >= 1);

      const events = await client.resource(RESOURCES.events).list('default', { fieldSelector: 'involvedObject.name=reg-0' });
      assert.ok(events.items.some((e: Any) => e.reason === 'Starting' && e.source.component === 'kubelet' && e.source.host === 'reg-0'));
    } finally {
      await sim.stop({ deleteNodes: true });
    }
    await assert.rejects(client.resource(RESOURCES.nodes).get(undefined, 'reg-1'), (e: unknown) => e instanceof StatusError && e.code === 404);
    await assert.rejects(client.resource(RESOURCES.leases).get('kube-node-lease', 'reg-1'), (e: unknown) => e instanceof StatusError && e.code === 404);
  });

  it('stop() stops renewing the leases and leaves the nodes', async () => {
    const sim = await simulate({ namePrefix: 'halt-', count: 1, leaseRenewSeconds: 0.1 });
    await sim.stop();
    const leases = client.resource(RESOURCES.leases);
    const first: Any = await leases.get('kube-node-lease', 'halt-0');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const later: Any = await leases.get('kube-node-lease', 'halt-0');
    assert.equal(later.spec.renewTime, first.spec.renewTime);
    assert.ok(await client.resource(RESOURCES.nodes).get(undefined, 'halt-0'));
  });

  describe('pods', () => {
    let sim: SimulatedNodes;
    before(async () => {
      sim = await simulate({ namePrefix: 'run-', count: 3, pods: 3 });
    });
    after(async () => {
      await sim.stop({ deleteNodes: true });
    });

    it('a bound pod goes Running with the status a kubelet reports', async () => {
      const name = await bindAndRun('run-2', {
        containers: [
          { name: 'web', image: 'nginx:1.27', volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/cfg', readOnly: true }] },
          { name: 'agent', image: 'busybox' },
        ],
        volumes: [
          { name: 'data', emptyDir: {} },
          { name: 'cfg', emptyDir: {} },
        ],
      });
      const pod = await waitForPhase(name, 'Running');
      const status = pod.status;
      assert.equal(status.hostIP, '10.42.2.1');
      assert.deepEqual(status.hostIPs, [{ ip: '10.42.2.1' }]);
      assert.match(status.podIP, /^10\.42\.2\.(\d+)$/);
      assert.deepEqual(status.podIPs, [{ ip: status.podIP }]);
      assert.ok(status.startTime);
      assert.equal(status.qosClass, 'BestEffort', 'fields the kubelet does not own are kept');
      assert.deepEqual(
        status.conditions.map((c: Any) => [c.type, c.status]),
        [
          ['PodReadyToStartContainers', 'True'],
          ['Initialized', 'True'],
          ['Ready', 'True'],
          ['ContainersReady', 'True'],
          ['PodScheduled', 'True'],
        ],
      );
      for (const c of status.conditions) assert.ok(c.lastTransitionTime, `${c.type} has a lastTransitionTime`);
      assert.deepEqual(
        status.containerStatuses.map((c: Any) => c.name),
        ['agent', 'web'],
        'sorted by name, as the kubelet does',
      );
      const web = status.containerStatuses[1];
      assert.match(web.containerID, /^pilote-sim:\/\/[0-9a-f]{64}$/);
      assert.equal(web.image, 'docker.io/library/nginx:1.27');
      assert.match(web.imageID, /^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
      assert.equal(web.ready, true);
      assert.equal(web.started, true);
      assert.equal(web.restartCount, 0);
      assert.deepEqual(web.lastState, {});
      assert.ok(web.state.running.startedAt);
      assert.deepEqual(web.volumeMounts.filter((m: Any) => !m.name.startsWith('kube-api-access-')), [
        { name: 'data', mountPath: '/data' },
        { name: 'cfg', mountPath: '/etc/cfg', readOnly: true, recursiveReadOnly: 'Disabled' },
      ]);

      const events = await waitFor(
        async () => {
          const list = await client.resource(RESOURCES.events).list('default', { fieldSelector: `involvedObject.name=${name}` });
          return list.items.length >= 6 ? list.items : undefined;
        },
        'the kubelet events',
      );
      const reasons = events.map((e: Any) => `${e.reason}: ${e.message}`).sort();
      assert.deepEqual(reasons, [
        'Created: Created container: agent',
        'Created: Created container: web',
        'Pulled: Container image "busybox" already present on machine',
        'Pulled: Container image "nginx:1.27" already present on machine',
        'Started: Started container agent',
        'Started: Started container web',
      ]);
      for (const e of events as Any[]) {
        assert.deepEqual(e.source, { component: 'kubelet', host: 'run-2' });
        assert.equal(e.involvedObject.kind, 'Pod');
        assert.equal(e.involvedObject.uid, pod.metadata.uid);
      }
    });

    it('a Never pod succeeds after its run time', async () => {
      const name = await bindAndRun('run-0', { restartPolicy: 'Never' });
      const running = await waitForPhase(name, 'Running');
      const done = await waitForPhase(name, 'Succeeded');
      const started = Date.parse(running.status.containerStatuses[0].state.running.startedAt);
      const main = done.status.containerStatuses[0];
      assert.equal(main.state.terminated.exitCode, 0);
      assert.equal(main.state.terminated.reason, 'Completed');
      assert.equal(main.state.terminated.containerID, main.containerID);
      assert.ok(Date.parse(main.state.terminated.finishedAt) >= started);
      assert.equal(main.ready, false);
      assert.equal(main.started, false);
      assert.deepEqual(
        done.status.conditions.map((c: Any) => [c.type, c.status, c.reason]),
        [
          ['PodReadyToStartContainers', 'False', undefined],
          ['Initialized', 'True', 'PodCompleted'],
          ['Ready', 'False', 'PodCompleted'],
          ['ContainersReady', 'False', 'PodCompleted'],
          ['PodScheduled', 'True', undefined],
        ],
      );
    });

    it('the annotations set the run time and the exit code: the pod fails with it', async () => {
      const name = await bindAndRun('run-0', { restartPolicy: 'Never' }, { 'pilote.dev/simulated-run-seconds': '0.2', 'pilote.dev/simulated-exit-code': '3' });
      const failed = await waitForPhase(name, 'Failed', 5000);
      const main = failed.status.containerStatuses[0];
      assert.equal(main.state.terminated.exitCode, 3);
      assert.equal(main.state.terminated.reason, 'Error');
      assert.deepEqual(
        [condition(failed, 'Ready').reason, condition(failed, 'ContainersReady').reason, condition(failed, 'Initialized').status],
        ['PodFailed', 'PodFailed', 'True'],
      );
    });

    it('an OnFailure pod that fails is restarted with back-off', async () => {
      const name = await bindAndRun('run-1', { restartPolicy: 'OnFailure' }, { 'pilote.dev/simulated-run-seconds': '0.2', 'pilote.dev/simulated-exit-code': '1' });
      const restarted = await waitFor(
        async () => {
          const pod: Any = await podNamed('default', name);
          const main = pod.status?.containerStatuses?.[0];
          return main?.restartCount >= 2 ? pod : undefined;
        },
        'two restarts',
        10_000,
      );
      const main = restarted.status.containerStatuses[0];
      assert.equal(restarted.status.phase, 'Running');
      assert.equal(main.lastState.terminated.exitCode, 1);
      assert.equal(main.lastState.terminated.reason, 'Error');
      assert.ok(main.state.running || main.state.waiting?.reason === 'CrashLoopBackOff');
      const events = await client.resource(RESOURCES.events).list('default', { fieldSelector: `involvedObject.name=${name},reason=BackOff` });
      assert.equal(events.items[0]?.type, 'Warning');
      assert.match(String(events.items[0]?.message), /^Back-off restarting failed container main in pod sim-pod-\d+_default\(/);
      await pods().delete('default', name, { gracePeriodSeconds: 0 });
    });

    it('init containers run in order before the containers', async () => {
      const name = await bindAndRun('run-1', {
        initContainers: [
          { name: 'first', image: 'busybox' },
          { name: 'second', image: 'busybox' },
        ],
      });
      const initializing = await waitFor(
        async () => {
          const pod: Any = await podNamed('default', name);
          return pod.status?.initContainerStatuses?.[1]?.state?.running ? pod : undefined;
        },
        'the second init container to run',
      );
      assert.equal(initializing.status.phase, 'Pending');
      assert.equal(initializing.status.initContainerStatuses[0].state.terminated.reason, 'Completed');
      assert.equal(initializing.status.initContainerStatuses[0].ready, true);
      assert.equal(initializing.status.containerStatuses[0].state.waiting.reason, 'PodInitializing');
      assert.deepEqual([condition(initializing, 'Initialized').status, condition(initializing, 'Initialized').message], ['False', 'containers with incomplete status: [second]']);
      assert.ok(initializing.status.podIP, 'the sandbox (and its IP) comes before the init containers');
      const running = await waitForPhase(name, 'Running');
      const [first, second] = running.status.initContainerStatuses;
      assert.ok(first.state.terminated.finishedAt <= second.state.terminated.startedAt);
      assert.equal(condition(running, 'Initialized').status, 'True');
      assert.equal(running.status.containerStatuses[0].ready, true);
    });

    it('sidecars start and stay up; a hostNetwork pod has the node address', async () => {
      const name = await bindAndRun('run-1', {
        hostNetwork: true,
        restartPolicy: 'Never',
        initContainers: [
          { name: 'proxy', image: 'envoy', restartPolicy: 'Always' },
          { name: 'setup', image: 'busybox' },
        ],
      });
      const running = await waitForPhase(name, 'Running');
      const [proxy, setup] = running.status.initContainerStatuses;
      assert.deepEqual([proxy.name, !!proxy.state.running, proxy.ready, proxy.started], ['proxy', true, true, true]);
      assert.deepEqual([setup.name, setup.state.terminated?.reason], ['setup', 'Completed']);
      assert.equal(running.status.podIP, '10.42.1.1');
      const done = await waitForPhase(name, 'Succeeded');
      assert.equal(done.status.initContainerStatuses[0].state.terminated.exitCode, 0, 'the sidecar is stopped with the pod');
    });

    it('readiness gates hold Ready until their condition is True', async () => {
      const name = await bindAndRun('run-2', { readinessGates: [{ conditionType: 'example.com/lb' }] });
      const running = await waitForPhase(name, 'Running');
      assert.equal(condition(running, 'ContainersReady').status, 'True');
      assert.deepEqual(
        [condition(running, 'Ready').status, condition(running, 'Ready').reason, condition(running, 'Ready').message],
        ['False', 'ReadinessGatesNotReady', 'corresponding condition of pod readiness gate "example.com/lb" does not exist.'],
      );
      await pods().patch('default', name, 'strategic', { status: { conditions: [{ type: 'example.com/lb', status: 'True' }] } }, 'status');
      const ready = await waitFor(
        async () => {
          const pod: Any = await podNamed('default', name);
          return condition(pod, 'Ready')?.status === 'True' ? pod : undefined;
        },
        'Ready after the gate opened',
      );
      assert.equal(ready.status.conditions[0].type, 'example.com/lb', 'conditions owned by others come first and stay');
      await pods().delete('default', name, { gracePeriodSeconds: 0 });
    });

    it('a pod another component ended stays ended', async () => {
      const name = await bindAndRun('run-2');
      await waitForPhase(name, 'Running');
      await pods().patch('default', name, 'merge', { status: { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource' } }, 'status');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pod: Any = await podNamed('default', name);
      assert.deepEqual([pod.status.phase, pod.status.reason], ['Failed', 'Evicted']);
      await pods().delete('default', name);
    });

    it('deleting a running pod completes', async () => {
      const name = await bindAndRun('run-2');
      const running = await waitForPhase(name, 'Running');
      await pods().delete('default', name);
      await waitFor(
        async () => {
          try {
            await podNamed('default', name);
            return false;
          } catch (error) {
            return error instanceof StatusError && error.code === 404;
          }
        },
        'the pod to be gone',
      );
      const events = await waitFor(async () => {
        const list = await client.resource(RESOURCES.events).list('default', { fieldSelector: `involvedObject.uid=${running.metadata.uid},reason=Killing` });
        return list.items.length ? list.items : undefined;
      }, 'the Killing event');
      assert.equal(events[0].message, 'Stopping container main');
    });

    it('a node full of pods rejects more (OutOfpods)', async () => {
      // run-0 accepts 3 pods; the earlier tests left it none running.
      const names = [];
      for (let i = 0; i < 3; i++) names.push(await bindAndRun('run-0'));
      for (const name of names) await waitForPhase(name, 'Running');
      const extra = await bindAndRun('run-0');
      const rejected = await waitForPhase(extra, 'Failed');
      assert.equal(rejected.status.reason, 'OutOfpods');
      assert.equal(rejected.status.message, "Pod was rejected: Node didn't have enough resource: pods, requested: 1, used: 3, capacity: 3");
      for (const name of names) await pods().delete('default', name, { gracePeriodSeconds: 0 });
    });

    it('one pod watch serves every node: pods on other nodes are left alone', async () => {
      await client.resource(RESOURCES.nodes).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'real-node' } });
      const name = await bindAndRun('real-node');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const pod: Any = await podNamed('default', name);
      assert.equal(pod.status.phase, 'Pending');
      assert.equal(pod.status.containerStatuses, undefined);
      await pods().delete('default', name, { gracePeriodSeconds: 0 });
      await client.resource(RESOURCES.nodes).delete(undefined, 'real-node');
    });
  });

  it('a restarted simulation adopts its running pods without rewriting them, and re-asserts readiness', async () => {
    const first = await simulate({ namePrefix: 'again-', count: 1 });
    const name = await bindAndRun('again-0');
    const running = await waitForPhase(name, 'Running');
    await first.stop();
    // Meanwhile the node lifecycle controller marks the pod not ready.
    await pods().patch('default', name, 'strategic', { status: { conditions: [{ type: 'Ready', status: 'False', reason: 'NodeNotReady' }] } }, 'status');
    const second = await simulate({ namePrefix: 'again-', count: 1 });
    try {
      const ready = await waitFor(
        async () => {
          const pod: Any = await podNamed('default', name);
          return condition(pod, 'Ready')?.status === 'True' ? pod : undefined;
        },
        'the pod to be ready again',
      );
      assert.equal(ready.status.containerStatuses[0].containerID, running.status.containerStatuses[0].containerID, 'the same container, not a new one');
      assert.equal(ready.status.podIP, running.status.podIP);
      assert.equal(ready.status.startTime, running.status.startTime);
      const versionNow = ready.metadata.resourceVersion;
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(((await podNamed('default', name)) as Any).metadata.resourceVersion, versionNow, 'no further writes');
      // A pod added after the restart gets a fresh address, not the adopted one.
      const other = await bindAndRun('again-0');
      const otherPod = await waitForPhase(other, 'Running');
      assert.notEqual(otherPod.status.podIP, running.status.podIP);
    } finally {
      await second.stop({ deleteNodes: true });
    }
  });

  it('refuses to take over a node that is not simulated', async () => {
    await client.resource(RESOURCES.nodes).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'taken-0' } });
    await assert.rejects(simulate({ namePrefix: 'taken-', count: 1 }), /node taken-0 exists and is not a simulated node/);
    await client.resource(RESOURCES.nodes).delete(undefined, 'taken-0');
  });
});
