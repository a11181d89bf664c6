/**
 * The CRI configs of a pod, built against a real API server: sandbox DNS by
 * dnsPolicy, labels and security context; container env, command expansion,
 * mounts, resources, and the tutorial's nginxsecure CreateContainerConfigError.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import { RESOURCES } from '../client/types.js';
import { defaultAgentConfig, type AgentConfig } from '../agent/config.js';
import { CreateContainerConfigError, buildContainerConfig } from './container-config.js';
import { buildSandboxConfig, parseResolvConf, podDnsConfig } from './sandbox-config.js';
import { VolumeManager } from './volumes.js';

let scratch: string;
let config: AgentConfig;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pilote-ccfg-'));
  config = defaultAgentConfig(scratch, '', { nodeName: 'n1', nodeIp: '192.0.2.10', clusterDns: '10.43.0.10', clusterDomain: 'cluster.local' });
});
after(() => rmSync(scratch, { recursive: true, force: true }));

const basePod = (spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'n' } },
  spec: { containers: [{ name: 'c', image: 'busybox', ports: [{ containerPort: 80, hostPort: 8080 }] }], ...spec },
});

describe('sandbox config', () => {
  const host = parseResolvConf('# host\nnameserver 192.0.2.53\nnameserver 192.0.2.54\nsearch corp.example\noptions timeout:2\n');

  it('uses cluster DNS for ClusterFirst, the host resolver for Default and host-network pods', () => {
    assert.deepEqual(podDnsConfig(basePod(), config, host), {
      servers: ['10.43.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
      options: ['ndots:5'],
    });
    assert.deepEqual(podDnsConfig(basePod({ dnsPolicy: 'Default' }), config, host), { servers: ['192.0.2.53', '192.0.2.54'], searches: ['corp.example'], options: ['timeout:2'] });
    assert.deepEqual(podDnsConfig(basePod({ hostNetwork: true }), config, host).servers, ['192.0.2.53', '192.0.2.54']);
    assert.deepEqual(podDnsConfig(basePod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), config, host).servers, ['10.43.0.10']);
  });

  it('takes only spec.dnsConfig with None, and merges it otherwise', () => {
    const dnsConfig = { nameservers: ['1.2.3.4'], searches: ['my.dns'], options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }] };
    assert.deepEqual(podDnsConfig(basePod({ dnsPolicy: 'None', dnsConfig }), config, host), { servers: ['1.2.3.4'], searches: ['my.dns'], options: ['ndots:2', 'edns0'] });
    const merged = podDnsConfig(basePod({ dnsConfig }), config, host);
    assert.deepEqual(merged.servers, ['10.43.0.10', '1.2.3.4']);
    assert.deepEqual(merged.options, ['ndots:2', 'edns0']);
    assert.equal(merged.searches!.at(-1), 'my.dns');
  });

  it('names, labels and places the sandbox', () => {
    const sandbox = buildSandboxConfig(basePod({ hostname: 'front', securityContext: { runAsUser: 1000, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } }), config, 2);
    assert.deepEqual(sandbox.metadata, { name: 'web', uid: 'uid-1', namespace: 'shop', attempt: 2 });
    assert.equal(sandbox.hostname, 'front');
    assert.equal(sandbox.logDirectory, join(config.dataDir, 'logs', 'shop_web_uid-1'));
    assert.deepEqual(sandbox.labels, { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'shop', 'io.kubernetes.pod.uid': 'uid-1' });
    assert.deepEqual(sandbox.annotations, { note: 'n' });
    assert.deepEqual(sandbox.portMappings, [{ protocol: 'TCP', containerPort: 80, hostPort: 8080, hostIp: '' }]);
    assert.deepEqual(sandbox.linux?.securityContext?.runAsUser, { value: 1000 });
    assert.deepEqual(sandbox.linux?.sysctls, { 'net.core.somaxconn': '1024' });
    assert.equal(buildSandboxConfig(basePod({ hostNetwork: true }), config, 0).hostname, '');
  });
});

describe('container config', () => {
  let cluster: InProcessCluster;
  let volumes: VolumeManager;
  before(async () => {
    cluster = await startInProcessCluster();
    volumes = new VolumeManager({ client: cluster.client, config });
    await cluster.client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'shop' } });
  });
  after(async () => {
    await volumes?.tearDown('uid-1').catch(() => undefined);
    await volumes?.tearDown('uid-2').catch(() => undefined);
    await cluster?.stop();
  });

  it('builds env, command, mounts, log path, resources and security', async () => {
    const pod: Pod = {
      metadata: { name: 'web', namespace: 'shop', uid: 'uid-1' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox',
            command: ['sh', '-c'],
            args: ['echo $(GREETING) from $(POD_NAME); $$(date)'],
            workingDir: '/work',
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
            ],
            resources: { limits: { memory: '64Mi', cpu: '250m' }, requests: { memory: '64Mi', cpu: '250m' } },
            securityContext: { capabilities: { drop: ['ALL'] }, readOnlyRootFilesystem: true },
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
            tty: true,
          },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
      },
    };
    const mounted = await volumes.setUp(pod);
    const sandboxConfig = buildSandboxConfig(pod, config, 0);
    const cfg = await buildContainerConfig({
      pod,
      container: pod.spec!.containers[0],
      kind: 'regular',
      restartCount: 3,
      image: { imageRef: 'docker.io/library/busybox@sha256:abc', user: '' },
      podIP: '10.42.0.5',
      config,
      client: cluster.client,
      volumes: mounted,
      sandboxConfig,
      services: [],
    });
    assert.deepEqual(cfg.metadata, { name: 'app', attempt: 3 });
    assert.deepEqual(cfg.image, { image: 'docker.io/library/busybox@sha256:abc', userSpecifiedImage: 'busybox' });
    assert.deepEqual(cfg.command, ['sh', '-c']);
    assert.deepEqual(cfg.args, ['echo hello from web; $(date)']);
    assert.equal(cfg.workingDir, '/work');
    assert.deepEqual(cfg.envs, [
      { key: 'GREETING', value: 'hello' },
      { key: 'POD_NAME', value: 'web' },
    ]);
    assert.equal(cfg.logPath, join('app', '3.log'));
    assert.equal(cfg.tty, true);
    assert.deepEqual(
      cfg.mounts!.map((m) => m.containerPath),
      ['/data', '/etc/hosts', '/dev/termination-log'],
    );
    assert.equal(cfg.labels!['io.kubernetes.container.name'], 'app');
    assert.equal(cfg.annotations!['io.kubernetes.container.terminationMessagePath'], '/dev/termination-log');
    assert.equal(cfg.linux!.resources!.memoryLimitInBytes, 64 * 1024 * 1024);
    assert.equal(cfg.linux!.resources!.cpuQuota, 25_000);
    assert.equal(cfg.linux!.securityContext!.readonlyRootfs, true);
    assert.deepEqual(cfg.linux!.securityContext!.capabilities, { addCapabilities: [], dropCapabilities: ['ALL'] });
    assert.deepEqual(cfg.linux!.securityContext!.runAsUser, { value: 0 });
  });

  it('gives host-network pods the node address and the node hosts file', async () => {
    const pod: Pod = {
      metadata: { name: 'hostnet', namespace: 'default', uid: 'uid-3' },
      spec: { hostNetwork: true, hostAliases: [{ ip: '10.1.2.3', hostnames: ['db', 'db.local'] }], containers: [{ name: 'c', image: 'busybox', env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] },
    };
    const mounted = await volumes.setUp(pod);
    const cfg = await buildContainerConfig({
      pod,
      container: pod.spec!.containers[0],
      kind: 'regular',
      restartCount: 0,
      image: { imageRef: 'busybox@sha256:1' },
      podIP: '',
      config,
      client: cluster.client,
      volumes: mounted,
      sandboxConfig: buildSandboxConfig(pod, config, 0),
      services: [],
    });
    assert.deepEqual(cfg.envs, [{ key: 'IP', value: '192.0.2.10' }]);
    const hosts = cfg.mounts!.find((m) => m.containerPath === '/etc/hosts');
    assert.ok(hosts);
    const text = readFileSync(hosts.hostPath!, 'utf8');
    assert.ok(text.startsWith(readFileSync('/etc/hosts', 'utf8')), 'the node hosts file');
    assert.match(text, /# Entries added by HostAliases\.\n10\.1\.2\.3\tdb\tdb\.local\n$/);
    assert.deepEqual(cfg.linux!.securityContext!.namespaceOptions, { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' });
    await volumes.tearDown('uid-3');
  });

  it('refuses the tutorial nginxsecure pod with the kubelet message', async () => {
    const pod: Pod = {
      metadata: { name: 'nginxsecure', namespace: 'default', uid: 'uid-2' },
      spec: { containers: [{ name: 'nginx', image: 'nginx', securityContext: { runAsNonRoot: true } }] },
    };
    const mounted = await volumes.setUp(pod);
    await assert.rejects(
      buildContainerConfig({
        pod,
        container: pod.spec!.containers[0],
        kind: 'regular',
        restartCount: 0,
        image: { imageRef: 'nginx@sha256:def' },
        podIP: '10.42.0.6',
        config,
        client: cluster.client,
        volumes: mounted,
        sandboxConfig: buildSandboxConfig(pod, config, 0),
      }),
      (error: Error) => {
        assert.ok(error instanceof CreateContainerConfigError);
        assert.equal(error.message, 'container has runAsNonRoot and image will run as root (pod: "nginxsecure_default(uid-2)", container: nginx)');
        return true;
      },
    );
  });
});
