/**
 * The kubelet's pod lifecycle against a real containerd (in-process API
 * server, private containerd and CNI bridge): pods reach Running with an IP,
 * init containers run in order, exits and restarts are reported as Kubernetes
 * reports them, deletion stops and removes containers, and a restarted
 * kubelet re-adopts running containers.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { summarizePod } from '../api/printers.js';
import { RESOURCES } from '../client/types.js';
import { startTestNode, type TestNode } from './kubelet-harness.test-helper.js';

async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const statusColumn = (pod: Pod): string => summarizePod(pod, new Date()).status;

describe('kubelet on containerd', { timeout: 240_000 }, () => {
  let node: TestNode;
  before(async () => {
    node = await startTestNode();
  });
  after(async () => {
    await node?.stop();
  });

  it('runs a busybox pod: Running, pod IP in the node range, container status', async () => {
    await node.createPod({ metadata: { name: 'sleeper' }, spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }], terminationGracePeriodSeconds: 1 } });
    const pod = await waitFor(async () => {
      const p = await node.getPod('sleeper');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    }, 'sleeper Running');
    const prefix = node.config.podCidr.replace(/0\/24$/, '');
    assert.ok(pod.status!.podIP!.startsWith(prefix), `pod IP ${pod.status!.podIP} in ${node.config.podCidr}`);
    assert.equal(pod.status!.hostIP, node.config.nodeIp);
    const cs = pod.status!.containerStatuses![0];
    assert.match(cs.containerID!, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs.imageID, /sha256:[0-9a-f]{64}/);
    assert.equal(cs.restartCount, 0);
    assert.equal(cs.started, true);
    assert.ok(cs.state?.running?.startedAt);
    const conditions = Object.fromEntries(pod.status!.conditions!.map((c) => [c.type, c.status]));
    assert.deepEqual(conditions, { PodReadyToStartContainers: 'True', Initialized: 'True', Ready: 'True', ContainersReady: 'True', PodScheduled: 'True' });
    assert.equal(statusColumn(pod), 'Running');
    const reasons = (await node.events('sleeper')).map((e) => e.reason);
    assert.ok(reasons.includes('Created') && reasons.includes('Started'), reasons.join(','));
  });

  it('runs a host-network pod with the node address as its IP', async () => {
    await node.createPod({ metadata: { name: 'hostnet' }, spec: { hostNetwork: true, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    const pod = await waitFor(async () => {
      const p = await node.getPod('hostnet');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'hostnet Running');
    assert.equal(pod.status!.podIP, node.config.nodeIp);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'PodReadyToStartContainers')!.status, 'True');
  });

  it('runs init containers in order: Init:0/1, then Running', async () => {
    await node.createPod({
      metadata: { name: 'with-init' },
      spec: {
        terminationGracePeriodSeconds: 1,
        initContainers: [{ name: 'wait', image: 'busybox', command: ['sleep', '2'] }],
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
      },
    });
    const seen = new Set<string>();
    await waitFor(async () => {
      const p = await node.getPod('with-init');
      seen.add(statusColumn(p));
      return statusColumn(p) === 'Running';
    }, 'with-init Running');
    assert.ok(seen.has('Init:0/1'), `statuses seen: ${[...seen].join(', ')}`);
    const p = await node.getPod('with-init');
    assert.equal(p.status!.initContainerStatuses![0].state?.terminated?.reason, 'Completed');
  });

  it('reports a failed container under restartPolicy Never: Error, Failed, exit code 3', async () => {
    await node.createPod({ metadata: { name: 'fails' }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 3'] }] } });
    const pod = await waitFor(async () => {
      const p = await node.getPod('fails');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'fails Failed');
    const terminated = pod.status!.containerStatuses![0].state!.terminated!;
    assert.equal(terminated.exitCode, 3);
    assert.equal(terminated.reason, 'Error');
    assert.equal(statusColumn(pod), 'Error');
  });

  it('backs off a crashing container: CrashLoopBackOff and a growing restart count', async () => {
    await node.createPod({ metadata: { name: 'crasher' }, spec: { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] } });
    const pod = await waitFor(async () => {
      const p = await node.getPod('crasher');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.waiting?.reason === 'CrashLoopBackOff' && cs.restartCount >= 1 ? p : undefined;
    }, 'crasher CrashLoopBackOff', 30_000);
    assert.equal(statusColumn(pod), 'CrashLoopBackOff');
    assert.equal(pod.status!.containerStatuses![0].lastState?.terminated?.exitCode, 1);
    assert.match(pod.status!.containerStatuses![0].state!.waiting!.message!, /^back-off \d+s restarting failed container=main pod=crasher_default\(/);
    await waitFor(async () => ((await node.getPod('crasher')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 'a second restart', 30_000);
    const events = await node.events('crasher');
    assert.ok(events.some((e) => e.reason === 'BackOff' && /^Back-off restarting failed container main in pod crasher_default\(/.test(e.message)));
  });

  it('deletes a pod: containers stop, the sandbox goes, the object goes', async () => {
    const created = await node.createPod({ metadata: { name: 'deleted' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    await waitFor(async () => (await node.getPod('deleted')).status?.phase === 'Running', 'deleted Running');
    await node.client.resource(RESOURCES.pods).delete('default', 'deleted');
    await waitFor(async () => {
      try {
        await node.getPod('deleted');
        return false;
      } catch {
        return true;
      }
    }, 'pod object gone');
    const left = await node.cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': created.metadata!.uid! } });
    assert.equal(left.length, 0);
    assert.ok((await node.events('deleted')).some((e) => e.reason === 'Killing' && e.message === 'Stopping container main'));
  });

  it('cleans up the containers of a pod force-deleted from the API', async () => {
    const created = await node.createPod({ metadata: { name: 'forced' }, spec: { containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    await waitFor(async () => (await node.getPod('forced')).status?.phase === 'Running', 'forced Running');
    await node.client.resource(RESOURCES.pods).delete('default', 'forced', { gracePeriodSeconds: 0 });
    const selector = { labelSelector: { 'io.kubernetes.pod.uid': created.metadata!.uid! } };
    await waitFor(async () => (await node.cri.listContainers(selector)).length === 0 && (await node.cri.listPodSandbox(selector)).length === 0, 'containers and sandbox removed');
  });

  it('reports OOMKilled for a container above its memory limit', async () => {
    await node.createPod({
      metadata: { name: 'oom' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'head -c 100m /dev/zero | tail'], resources: { limits: { memory: '32Mi' } } }] },
    });
    const pod = await waitFor(async () => {
      const p = await node.getPod('oom');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'oom Failed', 30_000);
    assert.equal(pod.status!.containerStatuses![0].state!.terminated!.reason, 'OOMKilled');
    assert.equal(statusColumn(pod), 'OOMKilled');
  });

  it('restarts a container whose image changed (kubectl set image)', async () => {
    await node.createPod({ metadata: { name: 'retag' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    const before = await waitFor(async () => {
      const p = await node.getPod('retag');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'retag Running');
    await node.client.resource(RESOURCES.pods).patch('default', 'retag', 'strategic', { spec: { containers: [{ name: 'main', image: 'busybox:other' }] } });
    const after = await waitFor(async () => {
      const p = await node.getPod('retag');
      const cs = p.status?.containerStatuses?.[0];
      return cs?.state?.running && cs.containerID !== before.status!.containerStatuses![0].containerID ? p : undefined;
    }, 'retag restarted', 30_000);
    assert.equal(after.status!.containerStatuses![0].restartCount, 1);
    assert.ok((await node.events('retag')).some((e) => e.reason === 'Killing' && e.message === 'Container main definition changed, will be restarted'));
  });

  it('restarts a container failing its liveness probe', async () => {
    await node.createPod({
      metadata: { name: 'unlive' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1 } }],
      },
    });
    await waitFor(async () => ((await node.getPod('unlive')).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 1, 'a liveness restart', 30_000);
    const events = await node.events('unlive');
    assert.ok(events.some((e) => e.reason === 'Unhealthy'));
    assert.ok(events.some((e) => e.reason === 'Killing' && e.message === 'Container main failed liveness probe, will be restarted'), JSON.stringify(events));
  });

  it('starts a sidecar before the regular containers and keeps it running', async () => {
    await node.createPod({
      metadata: { name: 'sidecar' },
      spec: {
        terminationGracePeriodSeconds: 1,
        initContainers: [
          { name: 'proxy', image: 'busybox', command: ['sleep', '3600'], restartPolicy: 'Always' },
          { name: 'setup', image: 'busybox', command: ['true'] },
        ],
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }],
      },
    });
    const pod = await waitFor(async () => {
      const p = await node.getPod('sidecar');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    }, 'sidecar pod Running');
    const [proxy, setup] = pod.status!.initContainerStatuses!;
    assert.ok(proxy.state?.running, 'the sidecar runs');
    assert.equal(proxy.ready, true);
    assert.equal(setup.state?.terminated?.reason, 'Completed');
    assert.equal(summarizePod(pod, new Date()).ready, '2/2');
  });

  it('reports failed lifecycle hooks: postStart restarts the container, preStop is tried on delete', async () => {
    await node.createPod({
      metadata: { name: 'hooks' },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], lifecycle: { postStart: { exec: { command: ['sh', '-c', 'exit 7'] } } } }],
      },
    });
    await waitFor(async () => (await node.events('hooks')).some((e) => e.reason === 'FailedPostStartHook'), 'FailedPostStartHook');
    const event = (await node.events('hooks')).find((e) => e.reason === 'FailedPostStartHook')!;
    assert.match(event.message, /^Exec lifecycle hook \(\[sh -c exit 7\]\) for Container "main" in Pod "hooks_default\(/);
    await node.createPod({
      metadata: { name: 'prestop' },
      spec: {
        terminationGracePeriodSeconds: 5,
        containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'], lifecycle: { preStop: { exec: { command: ['sh', '-c', 'exit 5'] } } } }],
      },
    });
    await waitFor(async () => (await node.getPod('prestop')).status?.phase === 'Running', 'prestop Running');
    await node.client.resource(RESOURCES.pods).delete('default', 'prestop', { gracePeriodSeconds: 2 });
    await waitFor(async () => (await node.events('prestop')).some((e) => e.reason === 'FailedPreStopHook'), 'FailedPreStopHook');
  });

  it('fails a pod past its activeDeadlineSeconds: DeadlineExceeded', async () => {
    await node.createPod({ metadata: { name: 'deadline' }, spec: { activeDeadlineSeconds: 2, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    const pod = await waitFor(async () => {
      const p = await node.getPod('deadline');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'deadline Failed', 30_000);
    assert.equal(pod.status!.reason, 'DeadlineExceeded');
    assert.equal(pod.status!.message, 'Pod was active on the node longer than the specified deadline');
    assert.ok(pod.status!.containerStatuses![0].state?.terminated, 'the container was stopped');
  });

  it('re-adopts running containers after a kubelet and containerd restart', async () => {
    const before = await node.getPod('sleeper');
    const id = before.status!.containerStatuses![0].containerID;
    await node.restart({ containerd: true });
    // Once the new kubelet runs a new pod, it has synced the old ones: the same container still runs, nothing restarted.
    await node.createPod({ metadata: { name: 'after-restart' }, spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', command: ['sleep', '3600'] }] } });
    await waitFor(async () => (await node.getPod('after-restart')).status?.phase === 'Running', 'after-restart Running');
    const after = await node.getPod('sleeper');
    const cs = after.status!.containerStatuses![0];
    assert.equal(cs.containerID, id);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state?.running);
    const running = await node.cri.listContainers({ id: id!.replace('containerd://', '') });
    assert.equal(running[0]?.state, 'CONTAINER_RUNNING');
  });
});
