/**
 * Pod volumes on a real filesystem with a real API server: the atomic writer
 * updating in place, every supported volume kind (tmpfs for medium Memory is
 * a real mount), the kube-api-access projected volume with a TokenRequest
 * token and its renewal, container mounts (subPath, /etc/hosts, the
 * termination-message file) and tear-down.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import { RESOURCES } from '../client/types.js';
import { defaultAgentConfig, type AgentConfig } from '../agent/config.js';
import { CreateContainerConfigError } from './security.js';
import { VolumeManager, VolumeSetupError, containerMounts, lastLogLines, readTerminationMessage, writeAtomically, type FileProjection } from './volumes.js';

const files = (entries: Record<string, string>, mode = 0o644) => new Map<string, FileProjection>(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));
const mountPoints = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]);

let scratch: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pilote-volumes-'));
});
after(() => rmSync(scratch, { recursive: true, force: true }));

describe('atomic writer', () => {
  it('writes through ..data and updates in place', async () => {
    const dir = join(scratch, 'atomic');
    assert.equal(await writeAtomically(dir, files({ a: 'one', 'conf/b.txt': 'two' }, 0o600)), true);
    assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
    assert.equal(readlinkSync(join(dir, 'conf')), '..data/conf');
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'one');
    assert.equal(readFileSync(join(dir, 'conf/b.txt'), 'utf8'), 'two');
    assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o600);
    const first = readlinkSync(join(dir, '..data'));
    assert.match(first, /^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d{9}$/);

    // Same payload: nothing rewritten.
    assert.equal(await writeAtomically(dir, files({ a: 'one', 'conf/b.txt': 'two' }, 0o600)), false);
    assert.equal(readlinkSync(join(dir, '..data')), first);

    // New content, a key gone, a key added: one swap, the old directory removed.
    assert.equal(await writeAtomically(dir, files({ a: 'uno', c: 'tres' })), true);
    const second = readlinkSync(join(dir, '..data'));
    assert.notEqual(second, first);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'uno');
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'tres');
    assert.ok(!existsSync(join(dir, 'conf')));
    assert.ok(!existsSync(join(dir, first)));
    assert.deepEqual(readdirSync(dir).sort(), ['..data', second, 'a', 'c'].sort());
  });

  it('refuses paths that leave the volume', async () => {
    await assert.rejects(writeAtomically(join(scratch, 'bad'), files({ '../evil': 'x' })), /must not contain '\.\.'/);
    await assert.rejects(writeAtomically(join(scratch, 'bad'), files({ '/etc/passwd': 'x' })), /must be relative path/);
  });
});

describe('VolumeManager', () => {
  let cluster: InProcessCluster;
  let config: AgentConfig;
  let now = Date.now();
  let manager: VolumeManager;
  let pod: Pod;
  const hostDir = () => join(scratch, 'host');

  before(async () => {
    cluster = await startInProcessCluster();
    config = defaultAgentConfig(join(scratch, 'server'), '', { nodeName: 'n1', nodeIp: '192.0.2.10' });
    manager = new VolumeManager({ client: cluster.client, config, now: () => now, allocatable: { cpuMilli: 1000, memoryBytes: 256 * 1024 ** 2 } });
    const c = cluster.client;
    await c.resource(RESOURCES.serviceAccounts).create('default', { metadata: { name: 'default' } }).catch(() => undefined);
    await c.resource(RESOURCES.configMaps).create('default', { metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA PEM' } }).catch(() => undefined);
    await c.resource(RESOURCES.configMaps).create('default', { metadata: { name: 'site' }, data: { 'index.html': '<h1>v1</h1>', 'other.txt': 'x' } });
    await c.resource(RESOURCES.secrets).create('default', { metadata: { name: 'tls' }, data: { 'tls.key': Buffer.from('KEY').toString('base64') } });
    mkdirSync(hostDir(), { recursive: true });
    pod = (await c.resource(RESOURCES.pods).create('default', {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        securityContext: { fsGroup: 4321 },
        containers: [
          {
            name: 'nginx',
            image: 'nginx',
            terminationMessagePath: '/dev/termination-log',
            volumeMounts: [
              { name: 'html', mountPath: '/usr/share/nginx/html' },
              { name: 'scratch', mountPath: '/scratch', subPath: 'logs/nginx' },
              { name: 'secret', mountPath: '/etc/tls', readOnly: true },
            ],
          },
        ],
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'fast', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
          { name: 'host', hostPath: { path: join(hostDir(), 'made'), type: 'DirectoryOrCreate' } },
          { name: 'html', configMap: { name: 'site', items: [{ key: 'index.html', path: 'index.html', mode: 0o640 }], defaultMode: 0o600 } },
          { name: 'secret', secret: { secretName: 'tls' } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'mem', resourceFieldRef: { containerName: 'nginx', resource: 'limits.memory', divisor: '1Mi' } }] } },
        ],
      },
    })) as unknown as Pod;
  });

  after(async () => {
    manager?.stop();
    if (pod?.metadata?.uid) await manager?.tearDown(pod.metadata.uid).catch(() => undefined);
    await cluster?.stop();
  });

  it('sets up every kind, including the kube-api-access volume admission adds', async () => {
    const tokenVolume = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'));
    assert.ok(tokenVolume, 'admission adds the projected token volume');
    const mounted = await manager.setUp(pod);
    const v = mounted.volumes;
    const base = join(config.dataDir, 'pods', pod.metadata!.uid!, 'volumes');
    assert.equal(v.scratch.hostPath, join(base, 'kubernetes.io~empty-dir', 'scratch'));
    assert.equal(statSync(v.scratch.hostPath).gid, 4321, 'fsGroup owns emptyDir');
    assert.ok(mountPoints().includes(v.fast.hostPath), 'medium Memory is a tmpfs mount');
    assert.ok(statSync(v.host.hostPath).isDirectory(), 'DirectoryOrCreate made the directory');
    assert.equal(readFileSync(join(v.html.hostPath, 'index.html'), 'utf8'), '<h1>v1</h1>');
    assert.ok(!existsSync(join(v.html.hostPath, 'other.txt')), 'only the listed items');
    assert.equal(statSync(join(v.html.hostPath, 'index.html')).mode & 0o777, 0o640 | 0o040 /* fsGroup read */);
    assert.equal(v.html.readOnly, true);
    assert.equal(readFileSync(join(v.secret.hostPath, 'tls.key'), 'utf8'), 'KEY');
    assert.equal(readFileSync(join(v.info.hostPath, 'labels'), 'utf8'), 'app="web"');
    assert.equal(readFileSync(join(v.info.hostPath, 'mem'), 'utf8'), '256', 'no limit: the node allocatable');

    const access = v[tokenVolume!.name].hostPath;
    const token = readFileSync(join(access, 'token'), 'utf8');
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:default:default');
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'web', uid: pod.metadata!.uid });
    assert.equal(readFileSync(join(access, 'ca.crt'), 'utf8'), 'CA PEM');
    assert.equal(readFileSync(join(access, 'namespace'), 'utf8'), 'default');
    // Secrets and tokens stay in memory, as on Kubernetes nodes; ConfigMaps are plain directories.
    assert.ok(mountPoints().includes(v.secret.hostPath), 'secret volume on tmpfs');
    assert.ok(mountPoints().includes(access), 'projected volume on tmpfs');
    assert.ok(!mountPoints().includes(v.html.hostPath));
    // A second setUp (a restarted kubelet) mounts nothing twice.
    const ofPod = () => mountPoints().filter((p) => p?.startsWith(mounted.podDir)).length;
    const before = ofPod();
    assert.equal(before, 3, 'tmpfs for the Memory emptyDir, the Secret and the projected volume');
    await manager.setUp(pod);
    assert.equal(ofPod(), before);
  });

  it('updates ConfigMap contents and labels in place, and renews tokens at 80 % of their life', async () => {
    const mounted = manager.mounted(pod.metadata!.uid!)!;
    const tokenVolume = pod.spec!.volumes!.find((v) => v.name.startsWith('kube-api-access-'))!.name;
    const tokenBefore = readFileSync(join(mounted.volumes[tokenVolume].hostPath, 'token'), 'utf8');
    const cms = cluster.client.resource(RESOURCES.configMaps);
    const cm = await cms.get('default', 'site');
    await cms.update('default', { ...cm, data: { 'index.html': '<h1>v2</h1>' } });
    await cluster.client.resource(RESOURCES.pods).patch('default', 'web', 'merge', { metadata: { labels: { app: 'web', release: 'b' } } });
    await manager.refresh();
    assert.equal(readFileSync(join(mounted.volumes.html.hostPath, 'index.html'), 'utf8'), '<h1>v2</h1>');
    assert.equal(readFileSync(join(mounted.volumes.info.hostPath, 'labels'), 'utf8'), 'app="web"\nrelease="b"');
    assert.equal(readFileSync(join(mounted.volumes[tokenVolume].hostPath, 'token'), 'utf8'), tokenBefore, 'a young token is kept');

    now += 3607 * 1000 * 0.81;
    await manager.refresh();
    const tokenAfter = readFileSync(join(mounted.volumes[tokenVolume].hostPath, 'token'), 'utf8');
    assert.notEqual(tokenAfter, tokenBefore, 'renewed past 80 % of its lifetime');
  });

  it('reports volumes it cannot set up in the FailedMount wording', async () => {
    const broken: Pod = {
      metadata: { name: 'broken', namespace: 'default', uid: 'broken-uid' },
      spec: {
        containers: [{ name: 'c' }],
        volumes: [
          { name: 'cfg', configMap: { name: 'absent' } },
          { name: 'opt', configMap: { name: 'absent', optional: true } },
          { name: 'key', configMap: { name: 'site', items: [{ key: 'nope', path: 'x' }] } },
          { name: 'file', hostPath: { path: join(hostDir(), 'missing-file'), type: 'File' } },
          { name: 'claim', persistentVolumeClaim: { claimName: 'data' } },
        ],
      },
    };
    await assert.rejects(manager.setUp(broken), (error: Error) => {
      assert.ok(error instanceof VolumeSetupError);
      assert.deepEqual(error.messages.slice(0, 3), [
        'MountVolume.SetUp failed for volume "cfg" : configmap "absent" not found',
        'MountVolume.SetUp failed for volume "key" : configmap references non-existent config key: nope',
        `MountVolume.SetUp failed for volume "file" : hostPath type check failed: ${join(hostDir(), 'missing-file')} is not a file`,
      ]);
      assert.match(error.messages[3], /^MountVolume.SetUp failed for volume "claim" : persistentVolumeClaim volumes are not supported/);
      return true;
    });
    await manager.tearDown('broken-uid');
  });

  it('mounts volumes into a container with subPath, /etc/hosts and the termination-message file', async () => {
    const volumes = manager.mounted(pod.metadata!.uid!)!;
    const container = pod.spec!.containers[0];
    const mounts = await containerMounts({ pod: { ...pod, spec: { ...pod.spec!, subdomain: 'web-svc' } }, container, volumes, podIPs: ['10.42.0.9'], clusterDomain: 'cluster.local', env: [], restartCount: 2 });
    const byPath = Object.fromEntries(mounts.map((m) => [m.containerPath, m]));
    assert.equal(byPath['/usr/share/nginx/html'].hostPath, volumes.volumes.html.hostPath);
    assert.equal(byPath['/usr/share/nginx/html'].readonly, true, 'ConfigMap volumes are read-only');
    assert.equal(byPath['/etc/tls'].readonly, true);
    assert.equal(byPath['/scratch'].hostPath, join(volumes.volumes.scratch.hostPath, 'logs/nginx'));
    assert.ok(statSync(byPath['/scratch'].hostPath).isDirectory(), 'the subPath is created');
    assert.equal(byPath['/scratch'].propagation, 'PROPAGATION_PRIVATE');
    const hosts = readFileSync(byPath['/etc/hosts'].hostPath, 'utf8');
    assert.match(hosts, /^# Kubernetes-managed hosts file\.\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(hosts, /\n10\.42\.0\.9\tweb\.web-svc\.default\.svc\.cluster\.local\tweb\n$/);
    const termination = byPath['/dev/termination-log'];
    assert.equal(statSync(termination.hostPath).mode & 0o777, 0o666);
    writeFileSync(termination.hostPath, 'goodbye');
    const runtimeMounts = mounts.map((m) => ({ containerPath: m.containerPath!, hostPath: m.hostPath! }));
    assert.equal(await readTerminationMessage({ container, mounts: runtimeMounts, exitCode: 1 }), 'goodbye');
  });

  it('refuses a subPath that escapes its volume through a symlink', async () => {
    const volumes = manager.mounted(pod.metadata!.uid!)!;
    symlinkSync('/etc', join(volumes.volumes.scratch.hostPath, 'escape'));
    const container = { name: 'evil', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: 'escape' }] };
    await assert.rejects(
      containerMounts({ pod, container, volumes, podIPs: [], clusterDomain: 'cluster.local', env: [], restartCount: 0 }),
      (error: Error) => error instanceof CreateContainerConfigError && /not within volume path/.test(error.message),
    );
    await assert.rejects(
      containerMounts({ pod, container: { name: 'c', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }, volumes, podIPs: [], clusterDomain: 'cluster.local', env: [], restartCount: 0 }),
      /cannot find volume "nope" to mount into container "c"/,
    );
  });

  it('falls back to the log for FallbackToLogsOnError', async () => {
    const log = join(scratch, '0.log');
    writeFileSync(log, '2026-11-26T18:00:00.000000000Z stdout F first\n2026-11-26T18:00:00.100000000Z stderr P part\n2026-11-26T18:00:00.200000000Z stderr F ial\n');
    assert.equal(await lastLogLines(log), 'first\npartial\n');
    const container = { name: 'c', terminationMessagePolicy: 'FallbackToLogsOnError' };
    assert.equal(await readTerminationMessage({ container, mounts: [], exitCode: 2, logPath: log }), 'first\npartial\n');
    assert.equal(await readTerminationMessage({ container, mounts: [], exitCode: 0, logPath: log }), '');
  });

  it('tears down: unmounts tmpfs and removes the pod directory', async () => {
    const mounted = manager.mounted(pod.metadata!.uid!)!;
    const tmpfs = mounted.volumes.fast.hostPath;
    await manager.tearDown(pod.metadata!.uid!);
    assert.ok(!mountPoints().includes(tmpfs));
    assert.ok(!mountPoints().some((p) => p?.startsWith(mounted.podDir)), 'every tmpfs of the pod unmounted');
    assert.ok(!existsSync(mounted.podDir));
    assert.ok(lstatSync(join(hostDir(), 'made')).isDirectory(), 'hostPath content stays');
  });
});
