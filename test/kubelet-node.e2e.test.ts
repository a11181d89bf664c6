/**
 * The node's foundation on a REAL containerd: a private containerd started
 * from a temp data dir (own socket, root, CNI bridge and pod /24), the CRI
 * client, CNI addresses, an image from Pilote's image store run as a
 * container, the Node registered in an in-process API server, and restart
 * safety (stopping containerd leaves containers running; a new containerd
 * re-adopts them).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultAgentConfig, parseCidr, type AgentConfig } from '../src/agent/config.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { RESOURCES } from '../src/client/types.js';
import type { EventRecorder, EventType } from '../src/controllers/runtime/events.js';
import { ImageStore } from '../src/image/store.js';
import { writeCniConfig } from '../src/kubelet/cni.js';
import { startContainerd, type ContainerdHandle } from '../src/kubelet/containerd.js';
import { CriClient, isNotFound, type PodSandboxConfig } from '../src/kubelet/cri/client.js';
import { cleanupNodeNetwork, ensureLocalRoutes, linkExists } from '../src/kubelet/host-network.js';
import { ImageManager, ImagePullError } from '../src/kubelet/image-manager.js';
import { startNodeStatus } from '../src/kubelet/node-status.js';
import { PAUSE_IMAGE, writeBusyboxLayerTar } from '../src/kubelet/pause-image.js';
import { startInProcessCluster, type InProcessCluster } from './helpers/in-process.js';
import { eventually } from './helpers/poll.js';

function freeSubnet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 200; attempt++) {
    const subnet = randomInt(100, 250);
    if (!routes.includes(`10.42.${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.42.X.0/24 for the test bridge');
}

function inCidr(ip: string, cidr: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const value = ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return ((value & mask) >>> 0) === base;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Collects events in memory (what the kubelet would record on the pod). */
class MemoryRecorder implements EventRecorder {
  readonly events: { type: EventType; reason: string; message: string }[] = [];
  event(_object: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
}

describe('kubelet node foundation on a real containerd', () => {
  let cluster: InProcessCluster;
  let root: string;
  let config: AgentConfig;
  let containerd: ContainerdHandle | undefined;
  let cri: CriClient;
  let store: ImageStore;
  const sandboxes: string[] = [];
  let stopNodeStatus: (() => void) | undefined;

  before(async () => {
    cluster = await startInProcessCluster();
    root = mkdtempSync(join(tmpdir(), 'pilote-node-'));
    const subnet = freeSubnet();
    const suffix = randomBytes(3).toString('hex');
    config = defaultAgentConfig(root, '', {
      nodeName: `node-${suffix}`,
      dataDir: join(root, 'agent'),
      nodeIp: '127.0.0.1',
      podCidr: `10.42.${subnet}.0/24`,
      serviceCidr: `10.43.${subnet}.0/24`,
      bridgeName: `pn${suffix}`,
      nftTable: `pn${suffix}`,
    });
    ensureLocalRoutes({ clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16' });
    ensureLocalRoutes(config);
    // Inside the shared 10.42.0.0/16 blackhole and 10.43.0.0/16 sink: no per-test route is added.
    assert.equal(execFileSync('ip', ['-4', 'route', 'show', 'exact', config.serviceCidr], { encoding: 'utf8' }).trim(), '');
    assert.match(execFileSync('ip', ['-4', 'route', 'show', 'exact', '10.43.0.0/16'], { encoding: 'utf8' }), /dev pilote-svc/);
    assert.match(execFileSync('ip', ['-4', 'route', 'show', 'exact', '10.42.0.0/16'], { encoding: 'utf8' }), /blackhole/);
    writeCniConfig(config);
    containerd = await startContainerd(config);
    cri = new CriClient(containerd.socket);

    // An image in Pilote's own store: busybox that prints, then waits.
    store = ImageStore.open(config.imageStoreDir);
    const layerTar = join(root, 'layer.tar');
    await writeBusyboxLayerTar(layerTar, { 'etc/motd': 'from the image store\n' });
    const layer = await store.addLayerFromTar(layerTar);
    await store.writeImage(
      {
        architecture: 'amd64',
        os: 'linux',
        config: { Env: ['PATH=/bin'], Cmd: ['sh', '-c', 'cat /etc/motd; echo "hello $WHO"; trap "exit 0" TERM; while true; do sleep 1; done'], User: '0' },
        rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      },
      [layer],
      ['docker.io/library/nodetest:e2e'],
    );
  });

  after(async () => {
    stopNodeStatus?.();
    try {
      if (cri) {
        for (const id of sandboxes) {
          await cri.stopPodSandbox(id).catch(() => undefined);
          await cri.removePodSandbox(id).catch(() => undefined);
        }
        cri.close();
      }
    } finally {
      await containerd?.stop({ cleanup: true });
      if (config) cleanupNodeNetwork(config);
      await cluster?.stop();
      if (root) rmSync(root, { recursive: true, force: true });
    }
    if (config) assert.equal(linkExists(config.bridgeName), false, 'the bridge is removed');
  });

  it('answers CRI Version and Status with the runtime and network ready', async () => {
    const version = await cri.version();
    assert.equal(version.runtimeName, 'containerd');
    assert.match(version.runtimeVersion, /^1\.\d+\.\d+/);
    assert.equal(version.runtimeApiVersion, 'v1');
    assert.equal(containerd!.version, version.runtimeVersion);
    const status = await eventually('NetworkReady', async () => {
      const s = await cri.status();
      return s.status?.conditions.every((c) => c.status) ? s : undefined;
    }, 15_000);
    assert.deepEqual(status.status?.conditions.map((c) => c.type).sort(), ['NetworkReady', 'RuntimeReady']);
    const pause = await cri.imageStatus(PAUSE_IMAGE);
    assert.ok(pause.image, 'the pause image was imported at start');
    await assert.rejects(cri.containerStatus('does-not-exist'), (error) => isNotFound(error));
  });

  let sandboxId = '';
  let sandboxConfig: PodSandboxConfig;
  let containerId = '';
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default', uid: `uid-${randomBytes(4).toString('hex')}` }, spec: { containers: [] } };

  it('gives a pod sandbox an address of the node pod CIDR through the CNI bridge', async () => {
    const logDirectory = join(config.dataDir, 'logs', `default_p1_${pod.metadata!.uid}`);
    mkdirSync(logDirectory, { recursive: true });
    sandboxConfig = {
      metadata: { name: 'p1', namespace: 'default', uid: pod.metadata!.uid, attempt: 0 },
      hostname: 'p1',
      logDirectory,
      labels: { 'io.kubernetes.pod.name': 'p1', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': pod.metadata!.uid! },
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    sandboxId = await cri.runPodSandbox(sandboxConfig);
    sandboxes.push(sandboxId);
    const status = await cri.podSandboxStatus(sandboxId, true);
    assert.equal(status.status?.state, 'SANDBOX_READY');
    const ip = status.status?.network?.ip ?? '';
    assert.ok(inCidr(ip, config.podCidr), `${ip} is in ${config.podCidr}`);
    assert.ok(linkExists(config.bridgeName), 'the CNI bridge exists');
    const listed = await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': pod.metadata!.uid! } });
    assert.deepEqual(listed.map((s) => s.id), [sandboxId]);
  });

  it('imports an image from the image store and runs it; its output lands in the CRI log file', async () => {
    const recorder = new MemoryRecorder();
    const images = new ImageManager({ cri, config, recorder, store });
    const container = { name: 'c1', image: 'nodetest:e2e' };
    const ensured = await images.ensureImage(pod, container);
    assert.match(ensured.imageRef, /^sha256:[a-f0-9]{64}$/);
    assert.equal(ensured.user, '0');
    assert.deepEqual(recorder.events.map((e) => e.reason), ['Pulling', 'Pulled']);
    assert.equal(recorder.events[0]!.message, 'Pulling image "nodetest:e2e"');
    assert.match(recorder.events[1]!.message, /^Successfully pulled image "nodetest:e2e" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\.$/);
    // Second time: already there, same digest as the store's.
    await images.ensureImage(pod, { ...container, imagePullPolicy: 'IfNotPresent' });
    assert.equal(recorder.events.at(-1)!.message, 'Container image "nodetest:e2e" already present on machine');
    // Always: a "pull" (events as the kubelet's) that finds the store's digest already in containerd.
    const before = recorder.events.length;
    assert.equal((await images.ensureImage(pod, { ...container, imagePullPolicy: 'Always' })).imageRef, ensured.imageRef);
    assert.deepEqual(recorder.events.slice(before).map((e) => e.reason), ['Pulling', 'Pulled']);
    // Never: an image built into Pilote's store is on this machine, so it is imported, not refused.
    await store.tag('docker.io/library/nodetest:e2e', 'docker.io/library/nodetest:never');
    assert.equal((await images.ensureImage(pod, { name: 'c3', image: 'nodetest:never', imagePullPolicy: 'Never' })).imageRef, ensured.imageRef);
    assert.equal(recorder.events.at(-1)!.message, 'Container image "nodetest:never" already present on machine');
    assert.ok((await cri.imageStatus('docker.io/library/nodetest:never')).image);
    // Never, for an image that is nowhere: the kubelet's error and event.
    await assert.rejects(images.ensureImage(pod, { name: 'c2', image: 'nowhere:1', imagePullPolicy: 'Never' }), (error) => error instanceof ImagePullError && error.reason === 'ErrImageNeverPull' && error.message === 'Container image "nowhere:1" is not present with pull policy of Never');

    containerId = await cri.createContainer(
      sandboxId,
      { metadata: { name: 'c1', attempt: 0 }, image: { image: ensured.imageRef }, envs: [{ key: 'WHO', value: 'node' }], logPath: 'c1/0.log', labels: { 'io.kubernetes.container.name': 'c1' } },
      sandboxConfig,
    );
    await cri.startContainer(containerId);
    const logPath = join(sandboxConfig.logDirectory!, 'c1', '0.log');
    const log = await eventually('the container log', () => {
      const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
      return text.includes('hello node') ? text : undefined;
    }, 15_000);
    assert.match(log, /^\S+ stdout F from the image store\n\S+ stdout F hello node\n/);
    const status = await cri.containerStatus(containerId);
    assert.equal(status.status?.state, 'CONTAINER_RUNNING');
    assert.equal(status.status?.logPath, logPath);
  });

  it('registers the Node with capacity, node info, Ready and a Lease', async () => {
    const running = await startNodeStatus({ client: cluster.client, config, cri, kubeletPort: 12345, runtimeVersion: containerd!.version, controlPlane: true, leaseRenewMs: 200, statusUpdateMs: 200 });
    stopNodeStatus = () => running.stop();
    const nodes = cluster.client.resource(RESOURCES.nodes);
    const node = (await nodes.get(undefined, config.nodeName)) as unknown as { metadata: KubeObject['metadata']; spec: Record<string, unknown>; status: Record<string, any> };
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], config.nodeName);
    assert.equal(node.metadata.labels?.['kubernetes.io/os'], 'linux');
    assert.equal(node.metadata.labels?.['node-role.kubernetes.io/control-plane'], 'true');
    assert.equal(node.spec.podCIDR, config.podCidr);
    assert.equal(node.status.capacity.pods, '110');
    assert.ok(Number(node.status.capacity.cpu) >= 1);
    assert.match(node.status.capacity.memory, /^\d+Ki$/);
    assert.match(node.status.allocatable.memory, /^\d+Ki$/);
    assert.ok(parseInt(node.status.allocatable.memory) < parseInt(node.status.capacity.memory));
    assert.match(node.status.capacity['ephemeral-storage'], /^\d+Ki$/);
    assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, 12345);
    assert.deepEqual(node.status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: config.nodeName }]);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^containerd:\/\/1\.\d+\.\d+$/);
    assert.match(node.status.nodeInfo.kubeletVersion, /^v1\.32\./);
    assert.equal(node.status.nodeInfo.operatingSystem, 'linux');
    assert.ok(node.status.nodeInfo.kernelVersion);
    assert.ok(node.status.nodeInfo.osImage);
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.deepEqual([ready.status, ready.reason, ready.message], ['True', 'KubeletReady', 'kubelet is posting ready status']);
    for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) {
      assert.equal(node.status.conditions.find((c: { type: string }) => c.type === type)?.status, 'False', type);
    }
    const imageNames = node.status.images.flatMap((i: { names: string[] }) => i.names);
    assert.ok(imageNames.includes('docker.io/library/nodetest:e2e'), imageNames.join(', '));
    const leases = cluster.client.resource(RESOURCES.leases);
    const first = (await leases.get('kube-node-lease', config.nodeName)) as unknown as { spec: { renewTime: string; holderIdentity: string } };
    assert.equal(first.spec.holderIdentity, config.nodeName);
    await eventually('a lease renewal', async () => {
      const now = (await leases.get('kube-node-lease', config.nodeName)) as unknown as { spec: { renewTime: string } };
      return now.spec.renewTime > first.spec.renewTime ? true : undefined;
    }, 15_000);
  });

  it('leaves containers running when containerd stops, and a new containerd re-adopts them', async () => {
    stopNodeStatus?.();
    const verbose = await cri.containerStatus(containerId, true);
    const pid = Number((JSON.parse(verbose.info.info ?? '{}') as { pid?: number }).pid);
    assert.ok(pid > 0, 'containerd reports the container pid');
    cri.close();
    await containerd!.stop();
    assert.ok(alive(pid), 'the container process survives containerd stopping');
    containerd = await startContainerd(config);
    cri = new CriClient(containerd.socket);
    const containers = await cri.listContainers({ podSandboxId: sandboxId });
    assert.deepEqual(containers.map((c) => [c.id, c.state]), [[containerId, 'CONTAINER_RUNNING']]);
    const exec = await cri.execSync(containerId, ['sh', '-c', 'echo $WHO; exit 3'], 10);
    assert.equal(exec.stdout.toString(), 'node\n');
    assert.equal(exec.exitCode, 3);
    const sandbox = await cri.podSandboxStatus(sandboxId);
    assert.ok(inCidr(sandbox.status?.network?.ip ?? '', config.podCidr));
    // Image GC spares what a container (even re-adopted) uses.
    const inUse = containers[0]!.imageRef;
    const removed = await new ImageManager({ cri, config, recorder: new MemoryRecorder(), store }).garbageCollect({ force: true });
    assert.ok(!removed.includes(inUse), 'the image of a running container is kept');
    assert.ok((await cri.imageStatus(inUse)).image);
  });
});
