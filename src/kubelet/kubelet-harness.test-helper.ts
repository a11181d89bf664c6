/**
 * A real node for the kubelet's own tests, in this process: an in-process API
 * server, a private containerd (its own root, socket and CNI bridge with a
 * free pod /24) and the kubelet's pod workers, with a busybox image imported
 * as docker.io/library/busybox:latest. Everything is removed by stop().
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { defaultAgentConfig, type AgentConfig } from '../agent/config.js';
import type { KubeObject } from '../apimachinery/types.js';
import { ClientEventRecorder } from '../controllers/runtime/events.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import { Backoff } from './backoff.js';
import { startContainerd, containerdPaths, type ContainerdHandle } from './containerd.js';
import { CriClient } from './cri/client.js';
import { startKubelet, type KubeletOptions, type RunningKubelet } from './kubelet.js';
import { importImageArchive, writeBusyboxImageArchive } from './pause-image.js';
import type { EnsuredImage } from './pod-worker.js';

/** A node under test. */
export interface TestNode {
  api: InProcessCluster;
  client: ApiClient;
  config: AgentConfig;
  containerd: ContainerdHandle;
  cri: CriClient;
  kubelet: RunningKubelet;
  /** Restarts the kubelet (and, with `containerd`, containerd too) without touching containers. */
  restart(options?: { containerd?: boolean }): Promise<void>;
  createPod(pod: Record<string, unknown>): Promise<Pod>;
  getPod(name: string): Promise<Pod>;
  events(name: string): Promise<{ reason: string; message: string; type: string }[]>;
  stop(): Promise<void>;
}

/** Resolves images that containerd already has (the tests import them): no pulls. */
export function localImages(cri: CriClient): { ensureImage(pod: Pod, container: Container): Promise<EnsuredImage> } {
  return {
    async ensureImage(_pod, container) {
      const status = await cri.imageStatus(container.image ?? '');
      if (!status.image) throw Object.assign(new Error(`image ${container.image} is not on the node`), { reason: 'ErrImageNeverPull' });
      return { imageRef: status.image.id, imageId: status.image.id };
    },
  };
}

function freeSubnet(): number {
  const routes = execFileSync('ip', ['-4', 'route', 'show'], { encoding: 'utf8' });
  for (let attempt = 0; attempt < 100; attempt++) {
    const subnet = randomInt(1, 255);
    if (!routes.includes(`10.42.${subnet}.`)) return subnet;
  }
  throw new Error('no free 10.42.X.0/24 for the test bridge');
}

/** A private containerd for tests, with what it was started from. */
export interface TestContainerd {
  config: AgentConfig;
  containerd: ContainerdHandle;
  cri: CriClient;
}

/**
 * Starts a private containerd under `dir` (own root and socket) with a CNI
 * bridge `<linkPrefix><id>` on a free 10.42.X.0/24, and imports busybox as
 * docker.io/library/busybox:latest. `hostPorts` adds hairpin mode and the
 * portmap plugin. The caller stops containerd and deletes the bridge.
 */
export async function startTestContainerd(dir: string, options: { linkPrefix: string; hostPorts?: boolean; config?: Partial<AgentConfig> }): Promise<TestContainerd> {
  const id = randomBytes(3).toString('hex');
  const subnet = freeSubnet();
  const config = defaultAgentConfig(dir, '', {
    nodeName: `node-${id}`,
    dataDir: join(dir, 'agent'),
    nodeIp: '127.0.0.1',
    podCidr: `10.42.${subnet}.0/24`,
    bridgeName: `${options.linkPrefix}${id}`,
    nftTable: `${options.linkPrefix}_${id}`,
    ...options.config,
  });
  const paths = containerdPaths(config.dataDir);
  mkdirSync(paths.cniConfDir, { recursive: true });
  // Bridge + host-local + loopback, no masquerade: these tests never leave the machine.
  writeFileSync(
    join(paths.cniConfDir, '10-pilote.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `pilote-${id}`,
      plugins: [
        {
          type: 'bridge',
          bridge: config.bridgeName,
          isGateway: true,
          ipMasq: false,
          ...(options.hostPorts ? { hairpinMode: true } : {}),
          ipam: { type: 'host-local', ranges: [[{ subnet: config.podCidr }]], dataDir: join(config.dataDir, 'cni', 'ipam') },
        },
        ...(options.hostPorts ? [{ type: 'portmap', capabilities: { portMappings: true } }] : []),
      ],
    }),
  );
  const containerd = await startContainerd(config);
  const archive = join(dir, 'busybox.tar');
  await writeBusyboxImageArchive(archive, { name: 'docker.io/library/busybox:latest', cmd: ['sh'] });
  await importImageArchive(containerd.socket, archive);
  return { config, containerd, cri: new CriClient(containerd.socket) };
}

/** Starts a test node; `kubelet` options override the defaults (e.g. a short back-off). */
export async function startTestNode(kubeletOptions: Partial<KubeletOptions> = {}): Promise<TestNode> {
  const api = await startInProcessCluster();
  const dir = mkdtempSync(join(tmpdir(), 'pilote-kubelet-'));
  let runtime: TestContainerd;
  try {
    runtime = await startTestContainerd(dir, { linkPrefix: 'pk', hostPorts: true });
  } catch (error) {
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const { config } = runtime;
  let { containerd, cri } = runtime;
  const archive = join(dir, 'busybox.tar');
  // A second tag with other content, for spec changes (kubectl set image).
  await writeBusyboxImageArchive(archive, { name: 'docker.io/library/busybox:other', cmd: ['sh'], files: { 'etc/other': 'other\n' } });
  await importImageArchive(containerd.socket, archive);
  const recorder = new ClientEventRecorder(api.client, 'kubelet', config.nodeName);
  const options = (): KubeletOptions => ({ client: api.client, config, cri, images: localImages(cri), recorder, backoff: new Backoff({ initialMs: 2000, maxMs: 8000 }), ...kubeletOptions });
  // What the service account controller would create: pods mount its token.
  await api.client.resource(RESOURCES.serviceAccounts).create('default', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } });
  // What the root CA publisher would create: the projected token volume includes it.
  await api.client.resource(RESOURCES.configMaps).create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'default' }, data: { 'ca.crt': 'test CA' } });
  let kubelet = await startKubelet(options());
  const pods = api.client.resource(RESOURCES.pods);
  const node: TestNode = {
    api,
    client: api.client,
    config,
    get containerd() {
      return containerd;
    },
    get cri() {
      return cri;
    },
    get kubelet() {
      return kubelet;
    },
    async restart(restartOptions = {}) {
      await kubelet.stop();
      if (restartOptions.containerd) {
        cri.close();
        await containerd.stop();
        containerd = await startContainerd(config);
        cri = new CriClient(containerd.socket);
      }
      kubelet = await startKubelet(options());
    },
    async createPod(pod) {
      const spec = { ...(pod.spec as Record<string, unknown>), nodeName: config.nodeName };
      return (await pods.create('default', { apiVersion: 'v1', kind: 'Pod', ...pod, spec } as unknown as KubeObject)) as unknown as Pod;
    },
    async getPod(name) {
      return (await pods.get('default', name)) as unknown as Pod;
    },
    async events(name) {
      const list = await api.client.resource(RESOURCES.events).list('default');
      return list.items
        .filter((e) => (e.involvedObject as { name?: string }).name === name)
        .map((e) => ({ reason: String(e.reason), message: String(e.message), type: String(e.type) }));
    },
    async stop() {
      // Every step runs even if one before it failed: nothing may be left on the machine.
      const steps: [string, () => Promise<unknown> | unknown][] = [
        ['kubelet', () => kubelet.stop({ cleanup: true })],
        ['cri', () => cri.close()],
        ['containerd', () => containerd.stop({ cleanup: true })],
        ['bridge', () => execFileSync('ip', ['link', 'delete', config.bridgeName], { stdio: 'ignore' })],
        ['api', () => api.stop()],
        ['files', () => rmSync(dir, { recursive: true, force: true })],
      ];
      const failures: string[] = [];
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (error) {
          if (name !== 'bridge') failures.push(`${name}: ${(error as Error).message}`);
        }
      }
      if (failures.length) throw new Error(`test node cleanup failed: ${failures.join('; ')}`);
    },
  };
  return node;
}
