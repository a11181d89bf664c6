/**
 * The sandbox and container configs this node builds, run for real: a
 * private containerd with a CNI bridge runs a busybox pod made only from
 * buildSandboxConfig + VolumeManager + buildContainerConfig, and the
 * container reports what it sees (user, env, /etc/hosts, resolv.conf,
 * volumes, read-only root, termination message).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import type { AgentConfig } from '../agent/config.js';
import { RESOURCES } from '../client/types.js';
import type { ContainerdHandle } from './containerd.js';
import { buildContainerConfig } from './container-config.js';
import type { CriClient } from './cri/client.js';
import { buildSandboxConfig } from './sandbox-config.js';
import { startTestContainerd } from './kubelet-harness.test-helper.js';
import { VolumeManager, lastLogLines, readTerminationMessage } from './volumes.js';

/** Polls until `get` returns something (no sleeps in assertions). */
async function until<T>(get: () => Promise<T | undefined>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('configs on a real containerd', () => {
  let dir: string;
  let api: InProcessCluster;
  let config: AgentConfig;
  let containerd: ContainerdHandle | undefined;
  let cri: CriClient | undefined;
  let volumes: VolumeManager;

  before(async () => {
    api = await startInProcessCluster();
    dir = mkdtempSync(join(tmpdir(), 'pilote-h5-cri-'));
    ({ config, containerd, cri } = await startTestContainerd(dir, { linkPrefix: 'ph', config: { clusterDns: '10.43.0.10' } }));
    volumes = new VolumeManager({ client: api.client, config });
    const c = api.client;
    await c.resource(RESOURCES.serviceAccounts).create('default', { metadata: { name: 'default' } }).catch(() => undefined);
    await c.resource(RESOURCES.configMaps).create('default', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA' } }).catch(() => undefined);
    await c.resource(RESOURCES.configMaps).create('default', { metadata: { name: 'app' }, data: { 'app.conf': 'color=blue' } });
  });

  after(async () => {
    try {
      cri?.close();
      await containerd?.stop({ cleanup: true });
    } finally {
      try {
        execFileSync('ip', ['link', 'delete', config.bridgeName], { stdio: 'ignore' });
      } catch {
        /* never created */
      }
      await volumes?.tearDownOrphans(new Set()).catch(() => undefined);
      await api?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a pod built from these configs', async () => {
    const script = [
      'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"',
      'echo "env=$GREETING/$POD_IP"',
      'cat /etc/hosts',
      'cat /etc/resolv.conf',
      'cat /config/app.conf; echo',
      'cat /var/run/secrets/kubernetes.io/serviceaccount/namespace; echo',
      'touch /rootfs-probe 2>/dev/null && echo rootfs=writable || echo rootfs=readonly',
      'echo data > /data/file && echo data=ok',
      'echo -n "bye from $(hostname)" > /dev/termination-log',
      'exit 3',
    ].join('; ');
    const created = (await api.client.resource(RESOURCES.pods).create('default', {
      metadata: { name: 'probe-pod' },
      spec: {
        nodeName: config.nodeName,
        securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000 },
        containers: [
          {
            name: 'main',
            image: 'docker.io/library/busybox:latest',
            command: ['sh', '-c', script],
            env: [
              { name: 'GREETING', value: 'hi' },
              { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            ],
            resources: { limits: { memory: '32Mi', cpu: '200m' }, requests: { memory: '32Mi', cpu: '200m' } },
            securityContext: { readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            volumeMounts: [
              { name: 'cfg', mountPath: '/config' },
              { name: 'data', mountPath: '/data' },
            ],
          },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'app' } },
          { name: 'data', emptyDir: {} },
        ],
      },
    })) as unknown as Pod;
    const runtime = cri!;
    const mounted = await volumes.setUp(created);
    const sandboxConfig = buildSandboxConfig(created, config, 0);
    const sandboxId = await runtime.runPodSandbox(sandboxConfig);
    try {
      const podIP = (await runtime.podSandboxStatus(sandboxId)).status?.network?.ip ?? '';
      assert.match(podIP, /^10\.42\.\d+\.\d+$/);
      const image = (await runtime.imageStatus('docker.io/library/busybox:latest')).image!;
      const containerConfig = await buildContainerConfig({
        pod: created,
        container: created.spec!.containers[0],
        kind: 'regular',
        restartCount: 0,
        image: { imageRef: image.id, user: image.uid ? String(image.uid.value) : image.username },
        podIP,
        config,
        client: api.client,
        volumes: mounted,
        sandboxConfig,
      });
      const id = await runtime.createContainer(sandboxId, containerConfig, sandboxConfig);
      await runtime.startContainer(id);
      const status = await until(async () => {
        const s = (await runtime.containerStatus(id)).status;
        return s?.state === 'CONTAINER_EXITED' ? s : undefined;
      }, 'container exit');
      const log = readFileSync(status.logPath, 'utf8');
      const output = await lastLogLines(status.logPath);
      assert.equal(status.exitCode, 3, log);
      assert.match(output, /uid=1000 gid=1000 groups=1000 2000/);
      assert.match(output, new RegExp(`env=hi/${podIP.replace(/\./g, '\\.')}`));
      assert.match(output, /# Kubernetes-managed hosts file\./);
      assert.match(output, new RegExp(`${podIP.replace(/\./g, '\\.')}\\tprobe-pod`));
      assert.match(output, /nameserver 10\.43\.0\.10/);
      assert.match(output, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
      assert.match(output, /options ndots:5/);
      assert.match(output, /color=blue/);
      assert.match(output, /\ndefault\n/);
      assert.match(output, /rootfs=readonly/);
      assert.match(output, /data=ok/);
      const message = await readTerminationMessage({ container: created.spec!.containers[0], mounts: status.mounts, exitCode: status.exitCode, logPath: status.logPath });
      assert.equal(message, 'bye from probe-pod');
      await runtime.removeContainer(id);
    } finally {
      await runtime.stopPodSandbox(sandboxId);
      await runtime.removePodSandbox(sandboxId);
      await volumes.tearDown(created.metadata!.uid!);
    }
  });
});
