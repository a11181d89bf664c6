/**
 * The kubelet end to end: a real `pilote server` with its own node
 * (containerd, CNI bridge, kubelet) and the real kubectl. Pods run as real
 * containers; their statuses, STATUS column, exit codes, restarts, deletion
 * and a kill -9 of the whole server are checked as a user would see them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { TestCluster, waitFor } from './helpers/cluster.js';
import { CriClient } from '../src/kubelet/cri/client.js';
import { containerdPaths } from '../src/kubelet/containerd.js';

const EXAMPLES = join(fileURLToPath(import.meta.url), '..', '..', '..', 'examples', 'tutorial');

describe('kubelet end to end (real server, containerd, kubectl)', { timeout: 300_000 }, () => {
  let cluster: TestCluster;
  let cri: CriClient;
  /** A data dir the harness will not remove (the restarted server was given it). */
  let restartedDir: string | undefined;

  const getPod = async (name: string): Promise<Pod> => JSON.parse(await cluster.kubectlOk(['get', 'pod', name, '-o', 'json'])) as Pod;
  /** The STATUS column of `kubectl get pod` (computed by the server's Table printer). */
  const statusColumn = async (name: string): Promise<string> => {
    const out = await cluster.kubectlOk(['get', 'pod', name, '--no-headers']);
    return out.trim().split(/\s+/)[2];
  };
  const flag = (name: string): string => cluster.args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1];

  before(async () => {
    cluster = await TestCluster.start({ node: true });
    cri = new CriClient(containerdPaths(join(cluster.dataDir, 'agent')).socket);
  });
  after(async () => {
    cri?.close();
    await cluster?.stop();
    if (restartedDir) rmSync(restartedDir, { recursive: true, force: true });
  });

  it('runs a busybox pod: Running, pod IP in the node range, container status', async () => {
    await cluster.kubectlOk(['run', 'bb', '--image=busybox', '--restart=Never', '--', 'sleep', '3600']);
    const pod = await waitFor(async () => {
      const p = await getPod('bb');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'bb Running', 30_000);
    const prefix = flag('pod-cidr').replace(/0\/24$/, '');
    assert.ok(pod.status!.podIP!.startsWith(prefix), `pod IP ${pod.status!.podIP} not in ${flag('pod-cidr')}`);
    assert.deepEqual(pod.status!.podIPs, [{ ip: pod.status!.podIP }]);
    assert.ok(pod.status!.hostIP);
    assert.ok(pod.status!.startTime);
    assert.equal(pod.status!.qosClass, 'BestEffort');
    const cs = pod.status!.containerStatuses![0];
    assert.equal(cs.name, 'bb');
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.restartCount, 0);
    assert.match(cs.containerID!, /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(cs.imageID, /^docker\.io\/library\/busybox@sha256:[0-9a-f]{64}$/);
    assert.ok(cs.state?.running?.startedAt);
    assert.equal(await statusColumn('bb'), 'Running');
    const describe = await cluster.kubectlOk(['describe', 'pod', 'bb']);
    assert.match(describe, /Created container bb/);
    assert.match(describe, /Started container bb/);
  });

  it('shows Init:0/1 then Running for the tutorial initcontainer example', async () => {
    const manifest = readFileSync(join(EXAMPLES, 'initcontainer-pod.yaml'), 'utf8').replace("['sleep', '20']", "['sleep', '3']");
    assert.match(manifest, /'sleep', '3'/);
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest });
    const seen: string[] = [];
    await waitFor(async () => {
      const status = await statusColumn('initcontainer-example');
      if (seen.at(-1) !== status) seen.push(status);
      return status === 'Running';
    }, 'initcontainer-example Running', 60_000);
    assert.ok(seen.includes('Init:0/1'), `STATUS went ${seen.join(' → ')}`);
    const pod = await getPod('initcontainer-example');
    assert.equal(pod.status!.initContainerStatuses![0].state!.terminated!.reason, 'Completed');
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'Initialized')!.status, 'True');
  });

  it('reports Error / Failed with exit code 3 under restartPolicy Never', async () => {
    await cluster.kubectlOk(['run', 'exit3', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'exit 3']);
    const pod = await waitFor(async () => {
      const p = await getPod('exit3');
      return p.status?.phase === 'Failed' ? p : undefined;
    }, 'exit3 Failed', 30_000);
    const terminated = pod.status!.containerStatuses![0].state!.terminated!;
    assert.equal(terminated.exitCode, 3);
    assert.equal(terminated.reason, 'Error');
    assert.ok(terminated.finishedAt && terminated.startedAt);
    assert.equal(await statusColumn('exit3'), 'Error');
  });

  it('backs off a crashing container: CrashLoopBackOff, restartCount grows', async () => {
    await cluster.kubectlOk(['run', 'crash', '--image=busybox', '--', 'sh', '-c', 'exit 1']);
    await waitFor(async () => (await statusColumn('crash')) === 'CrashLoopBackOff', 'crash CrashLoopBackOff', 30_000);
    const first = (await getPod('crash')).status!.containerStatuses![0];
    assert.equal(first.lastState?.terminated?.exitCode, 1);
    assert.match(first.state!.waiting!.message!, /^back-off 10s restarting failed container=crash pod=crash_default\(/);
    // The next restart only comes after the 10 s back-off, then the delay doubles.
    await waitFor(async () => ((await getPod('crash')).status!.containerStatuses![0].restartCount) > first.restartCount, 'another restart', 40_000);
    const events = await cluster.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=crash', '-o', 'json']);
    assert.ok(
      (JSON.parse(events).items as { reason: string; message: string }[]).some((e) => e.reason === 'BackOff' && /^Back-off restarting failed container crash in pod crash_default\(/.test(e.message)),
      'BackOff event',
    );
  });

  it('kubectl delete pod returns and the container is gone', async () => {
    await cluster.kubectlOk(['run', 'gone', '--image=busybox', '--', 'sleep', '3600']);
    const pod = await waitFor(async () => {
      const p = await getPod('gone');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'gone Running', 30_000);
    const started = Date.now();
    // busybox sleep as PID 1 ignores SIGTERM: it is killed when the grace period ends.
    await cluster.kubectlOk(['delete', 'pod', 'gone', '--grace-period=2'], { timeoutMs: 30_000 });
    assert.ok(Date.now() - started < 15_000, `delete took ${Date.now() - started} ms`);
    const left = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': pod.metadata!.uid! } });
    assert.deepEqual(left, []);
    assert.deepEqual(await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': pod.metadata!.uid! } }), []);
    const events = JSON.parse(await cluster.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=gone', '-o', 'json'])).items as { reason: string; message: string }[];
    assert.ok(events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container gone'));
  });

  it('reports OOMKilled for a container above its memory limit', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'oom' },
      spec: { restartPolicy: 'Never', containers: [{ name: 'hog', image: 'busybox', command: ['sh', '-c', 'head -c 100m /dev/zero | tail'], resources: { limits: { memory: '32Mi' } } }] },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(manifest) });
    await waitFor(async () => (await getPod('oom')).status?.phase === 'Failed', 'oom Failed', 30_000);
    const terminated = (await getPod('oom')).status!.containerStatuses![0].state!.terminated!;
    assert.equal(terminated.reason, 'OOMKilled');
    assert.equal(terminated.exitCode, 137);
    assert.equal(await statusColumn('oom'), 'OOMKilled');
  });

  it('shows CreateContainerConfigError for the tutorial nginxsecure pod', async () => {
    await cluster.kubectlOk(['apply', '-f', join(EXAMPLES, 'nginxsecure-pod.yaml')]);
    await waitFor(async () => (await statusColumn('nginxsecure')) === 'CreateContainerConfigError', 'nginxsecure CreateContainerConfigError', 60_000);
    const pod = await getPod('nginxsecure');
    assert.match(pod.status!.containerStatuses![0].state!.waiting!.message!, /^container has runAsNonRoot and image will run as root \(pod: "nginxsecure_default\([0-9a-f-]+\)", container: nginx\)$/);
    assert.equal(pod.status!.phase, 'Pending');
  });

  it('shows ErrImageNeverPull for an absent image that must not be pulled', async () => {
    await cluster.kubectlOk(['run', 'noimage', '--image=pilote.invalid/absent:1', '--image-pull-policy=Never']);
    await waitFor(async () => (await statusColumn('noimage')) === 'ErrImageNeverPull', 'noimage ErrImageNeverPull', 30_000);
    const waiting = (await getPod('noimage')).status!.containerStatuses![0].state!.waiting!;
    assert.equal(waiting.message, 'Container image "pilote.invalid/absent:1" is not present with pull policy of Never');
  });

  it('kill -9 of the server: containers keep running and are re-adopted', async () => {
    const before = (await getPod('bb')).status!.containerStatuses![0];
    const { dataDir, port, args } = cluster;
    await cluster.stop({ signal: 'SIGKILL', keepData: true });
    cri.close();
    cluster = await TestCluster.start({ dataDir, port, args, controllers: true });
    restartedDir = dataDir;
    cri = new CriClient(containerdPaths(join(cluster.dataDir, 'agent')).socket);
    // A new pod running proves the new kubelet has synced the old ones.
    await cluster.kubectlOk(['run', 'after', '--image=busybox', '--', 'sleep', '3600']);
    await waitFor(async () => (await getPod('after')).status?.phase === 'Running', 'after Running', 30_000);
    const now = (await getPod('bb')).status!.containerStatuses![0];
    assert.equal(now.containerID, before.containerID);
    assert.equal(now.restartCount, before.restartCount);
    assert.equal(now.state?.running?.startedAt, before.state?.running?.startedAt);
    const [container] = await cri.listContainers({ id: before.containerID!.replace('containerd://', '') });
    assert.equal(container?.state, 'CONTAINER_RUNNING');
  });
});
