/**
 * Container environments as the kubelet builds them: `$(VAR)` expansion,
 * valueFrom sources read from a real API server, envFrom prefixes, the
 * downward API and service link variables.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../test/helpers/in-process.js';
import { RESOURCES } from '../client/types.js';
import { buildEnvironment, expandEnvReferences, formatMap, podFieldValue, resourceFieldValue, serviceLinkVariables } from './env.js';
import { CreateContainerConfigError } from './security.js';

const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
const lookup = (name: string) => vars[name];

describe('expandEnvReferences', () => {
  const cases: [string, string][] = [
    ['$(A)', 'alpha'],
    ['x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(A)', '$(A)'],
    ['$$$(A)', '$alpha'],
    ['$(A', '$(A'],
    ['cost: $5', 'cost: $5'],
    ['trailing $', 'trailing $'],
    ['$(EMPTY)x', 'x'],
    ['$()', '$()'],
    ['no refs', 'no refs'],
  ];
  for (const [input, want] of cases) it(`${JSON.stringify(input)} → ${JSON.stringify(want)}`, () => assert.equal(expandEnvReferences(input, lookup), want));
});

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'say "hi"' } },
  spec: {
    nodeName: 'node-a',
    serviceAccountName: 'robot',
    containers: [{ name: 'main', image: 'busybox', resources: { requests: { cpu: '250m', memory: '64Mi' }, limits: { memory: '128Mi' } } }],
  },
};

describe('downward API values', () => {
  const addresses = { podIPs: ['10.42.0.7'], hostIPs: ['192.168.1.2'] };
  it('reads metadata, spec and status fields', () => {
    const value = (fieldPath: string) => podFieldValue(pod, { fieldPath }, addresses);
    assert.equal(value('metadata.name'), 'web');
    assert.equal(value('metadata.namespace'), 'shop');
    assert.equal(value('metadata.uid'), 'u-1');
    assert.equal(value("metadata.labels['tier']"), 'front');
    assert.equal(value("metadata.annotations['note']"), 'say "hi"');
    assert.equal(value("metadata.labels['missing']"), '');
    assert.equal(value('metadata.labels'), 'app="web"\ntier="front"');
    assert.equal(value('spec.nodeName'), 'node-a');
    assert.equal(value('spec.serviceAccountName'), 'robot');
    assert.equal(value('status.podIP'), '10.42.0.7');
    assert.equal(value('status.podIPs'), '10.42.0.7');
    assert.equal(value('status.hostIP'), '192.168.1.2');
    assert.throws(() => value('spec.bogus'), /unsupported fieldPath: spec.bogus/);
    assert.equal(formatMap({ b: '2', a: 'x"y' }), 'a="x\\"y"\nb="2"');
  });

  it('reads resources with divisors, limits defaulting to the node', () => {
    const container = pod.spec!.containers[0];
    const node = { cpuMilli: 4000, memoryBytes: 8 * 1024 ** 3 };
    const value = (resource: string, divisor?: string) => resourceFieldValue(pod, container, { resource, divisor }, node);
    assert.equal(value('requests.cpu'), '1'); // 250m rounds up to 1 core
    assert.equal(value('requests.cpu', '1m'), '250');
    assert.equal(value('limits.cpu'), '4'); // no limit: the node's allocatable
    assert.equal(value('limits.memory'), String(128 * 1024 * 1024));
    assert.equal(value('limits.memory', '1Mi'), '128');
    assert.equal(value('requests.memory', '1M'), '68'); // 64Mi = 67.1 MB, rounded up
    assert.throws(() => value('limits.gpu'), /unsupported container resource : limits.gpu/);
  });
});

describe('service link variables', () => {
  it('names hosts, ports and docker links as the kubelet does', () => {
    const svc: Service = {
      metadata: { name: 'redis-master' },
      spec: { clusterIP: '10.43.0.20', ports: [{ port: 6379, protocol: 'TCP' }, { name: 'metrics', port: 9121, protocol: 'TCP' }] },
    };
    const headless: Service = { metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } };
    const env = Object.fromEntries(serviceLinkVariables([svc, headless]).map((v) => [v.key, v.value]));
    assert.deepEqual(env, {
      REDIS_MASTER_SERVICE_HOST: '10.43.0.20',
      REDIS_MASTER_SERVICE_PORT: '6379',
      REDIS_MASTER_SERVICE_PORT_METRICS: '9121',
      REDIS_MASTER_PORT: 'tcp://10.43.0.20:6379',
      REDIS_MASTER_PORT_6379_TCP: 'tcp://10.43.0.20:6379',
      REDIS_MASTER_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_6379_TCP_PORT: '6379',
      REDIS_MASTER_PORT_6379_TCP_ADDR: '10.43.0.20',
      REDIS_MASTER_PORT_9121_TCP: 'tcp://10.43.0.20:9121',
      REDIS_MASTER_PORT_9121_TCP_PROTO: 'tcp',
      REDIS_MASTER_PORT_9121_TCP_PORT: '9121',
      REDIS_MASTER_PORT_9121_TCP_ADDR: '10.43.0.20',
    });
  });
});

describe('buildEnvironment against the API', () => {
  let cluster: InProcessCluster;
  before(async () => {
    cluster = await startInProcessCluster();
    const c = cluster.client;
    await c.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'shop' } });
    await c.resource(RESOURCES.configMaps).create('shop', { metadata: { name: 'settings' }, data: { MODE: 'fast', COLOR: 'blue' } });
    await c.resource(RESOURCES.secrets).create('shop', { metadata: { name: 'creds' }, data: { PASSWORD: Buffer.from('s3cret').toString('base64') } });
    await c.resource(RESOURCES.services).create('shop', { metadata: { name: 'cache' }, spec: { ports: [{ port: 11211 }] } });
    await c.resource(RESOURCES.services).create('default', { metadata: { name: 'kubernetes' }, spec: { ports: [{ name: 'https', port: 443 }] } }).catch(() => undefined);
  });
  after(async () => cluster?.stop());

  const build = (container: Container, spec: Partial<Pod['spec']> = {}) =>
    buildEnvironment({
      pod: { ...pod, spec: { ...pod.spec!, ...spec, containers: [container] } },
      container,
      client: cluster.client,
      addresses: { podIPs: ['10.42.0.7'], hostIPs: ['192.168.1.2'] },
      allocatable: { cpuMilli: 2000, memoryBytes: 1024 ** 3 },
    });

  it('resolves every source in the kubelet order', async () => {
    const env = await build({
      name: 'main',
      image: 'busybox',
      envFrom: [{ configMapRef: { name: 'settings' }, prefix: 'CFG_' }, { secretRef: { name: 'creds' } }],
      env: [
        { name: 'GREETING', value: 'mode=$(CFG_MODE) pass=$(PASSWORD) later=$(LATER) svc=$(CACHE_SERVICE_HOST)' },
        { name: 'MODE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'MODE' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'settings', key: 'NOPE', optional: true } } },
        { name: 'OPT2', valueFrom: { secretKeyRef: { name: 'ghost', key: 'x', optional: true } } },
        { name: 'LATER', value: 'late' },
        { name: 'CACHE_SERVICE_HOST', value: 'overridden' },
      ],
    });
    const map = Object.fromEntries(env.map((e) => [e.key, e.value]));
    const cacheIp = ((await cluster.client.resource(RESOURCES.services).get('shop', 'cache')).spec as { clusterIP: string }).clusterIP;
    assert.equal(map.CFG_MODE, 'fast');
    assert.equal(map.CFG_COLOR, 'blue');
    assert.equal(map.PASSWORD, 's3cret');
    assert.equal(map.GREETING, `mode=fast pass=s3cret later=$(LATER) svc=${cacheIp}`);
    assert.equal(map.MODE, 'fast');
    assert.equal(map.PW, 's3cret');
    assert.equal(map.POD, 'web');
    assert.equal(map.IP, '10.42.0.7');
    assert.equal(map.MEM, '1024'); // no memory limit: the node's allocatable (1Gi)
    assert.ok(!('OPT' in map) && !('OPT2' in map));
    assert.equal(map.CACHE_SERVICE_HOST, 'overridden');
    assert.equal(map.CACHE_SERVICE_PORT, '11211');
    assert.ok(map.KUBERNETES_SERVICE_HOST, 'the kubernetes service of default is always there');
    assert.equal(map.KUBERNETES_SERVICE_PORT_HTTPS, '443');
    // Declared variables keep their order, service variables come last.
    const keys = env.map((e) => e.key);
    assert.ok(keys.indexOf('GREETING') < keys.indexOf('MODE'));
    assert.ok(keys.indexOf('LATER') < keys.indexOf('KUBERNETES_SERVICE_HOST'));
  });

  it('leaves out namespace services when enableServiceLinks is false', async () => {
    const env = await build({ name: 'main', image: 'busybox' }, { enableServiceLinks: false });
    const keys = env.map((e) => e.key);
    assert.ok(!keys.includes('CACHE_SERVICE_HOST'));
    assert.ok(keys.includes('KUBERNETES_SERVICE_HOST'));
  });

  it('fails with the kubelet messages for missing sources', async () => {
    const expectError = async (container: Container, message: string) => {
      await assert.rejects(build(container), (error: Error) => {
        assert.ok(error instanceof CreateContainerConfigError);
        assert.equal(error.message, message);
        return true;
      });
    };
    await expectError({ name: 'm', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'absent', key: 'k' } } }] }, 'configmap "absent" not found');
    await expectError({ name: 'm', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'settings', key: 'k' } } }] }, "couldn't find key k in ConfigMap shop/settings");
    await expectError({ name: 'm', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } }] }, "couldn't find key user in Secret shop/creds");
    await expectError({ name: 'm', envFrom: [{ secretRef: { name: 'vault' } }] }, 'secret "vault" not found');
  });
});
