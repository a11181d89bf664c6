/**
 * Endpoints and EndpointSlices follow the pods a Service selects, with pod
 * status set by hand (IP, Ready condition) as a kubelet would.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import { waitFor } from '../../../test/helpers/cluster.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { garbageCollectorController } from '../garbagecollector/garbage-collector.js';
import { endpointsController } from './endpoints-controller.js';
import { endpointSliceController } from './endpointslice-controller.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let counter = 0;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  await client.resource(RESOURCES.nodes).create(undefined, { metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'zone-1' } } });
  await client.resource(RESOURCES.nodes).create(undefined, { metadata: { name: 'node-b' } });
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [endpointsController(), endpointSliceController(), garbageCollectorController()],
  );
  await manager.start();
});

after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

async function newNamespace(): Promise<string> {
  const name = `ep-${++counter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name } });
  return name;
}

async function createService(ns: string, name: string, spec: Record<string, unknown>, labels?: Record<string, string>): Promise<KubeObject> {
  return client.resource(RESOURCES.services).create(ns, { metadata: { name, ...(labels ? { labels } : {}) }, spec });
}

/** A pod on a node, with a container port named http (8080), then the status a kubelet would report. */
async function runPod(
  ns: string,
  name: string,
  options: { ip?: string; ready?: boolean; node?: string; labels?: Record<string, string>; hostname?: string; subdomain?: string; finalizers?: string[] } = {},
): Promise<KubeObject> {
  const pods = client.resource(RESOURCES.pods);
  await pods.create(ns, {
    metadata: { name, labels: options.labels ?? { app: 'web' }, ...(options.finalizers ? { finalizers: options.finalizers } : {}) },
    spec: {
      nodeName: options.node ?? 'node-a',
      ...(options.hostname ? { hostname: options.hostname } : {}),
      ...(options.subdomain ? { subdomain: options.subdomain } : {}),
      containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  });
  return setPodStatus(ns, name, options.ip, options.ready ?? true);
}

async function setPodStatus(ns: string, name: string, ip: string | undefined, ready: boolean): Promise<KubeObject> {
  const pods = client.resource(RESOURCES.pods);
  const pod = await pods.get(ns, name);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return pods.updateStatus(ns, {
    ...pod,
    status: {
      phase: 'Running',
      ...(ip ? { podIP: ip, podIPs: [{ ip }] } : {}),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now, lastProbeTime: null }],
    },
  });
}

async function maybe(get: () => Promise<KubeObject>): Promise<KubeObject | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

const endpoints = () => client.resource(RESOURCES.endpoints);
const slicesOf = async (ns: string, service: string) => (await client.resource(RESOURCES.endpointSlices).list(ns, { labelSelector: `kubernetes.io/service-name=${service}` })).items;

describe('endpoints controller', () => {
  it('lists ready pods in addresses and the others in notReadyAddresses, with named ports resolved', async () => {
    const ns = await newNamespace();
    await createService(ns, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 81, targetPort: 9000 }] }, { team: 'a' });
    const a = await runPod(ns, 'web-a', { ip: '10.1.0.2', ready: true });
    const b = await runPod(ns, 'web-b', { ip: '10.1.0.3', ready: false, node: 'node-b' });
    await runPod(ns, 'no-ip', { ready: false });
    await runPod(ns, 'other', { ip: '10.1.0.9', labels: { app: 'other' } });
    const ep = await waitFor(async () => {
      const e = await maybe(() => endpoints().get(ns, 'web'));
      const subsets = e?.subsets as { addresses?: unknown[]; notReadyAddresses?: unknown[] }[] | undefined;
      return subsets?.[0]?.addresses && subsets[0].notReadyAddresses ? e : undefined;
    }, 'endpoints with both addresses');
    assert.deepEqual(ep.subsets, [
      {
        addresses: [{ ip: '10.1.0.2', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: ns, name: 'web-a', uid: a.metadata.uid } }],
        notReadyAddresses: [{ ip: '10.1.0.3', nodeName: 'node-b', targetRef: { kind: 'Pod', namespace: ns, name: 'web-b', uid: b.metadata.uid } }],
        ports: [
          { name: 'admin', port: 9000, protocol: 'TCP' },
          { name: 'http', port: 8080, protocol: 'TCP' },
        ],
      },
    ]);
    assert.deepEqual(ep.metadata.labels, { team: 'a' });
    assert.match(ep.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time']!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

    // web-b becomes ready, web-a goes away.
    await setPodStatus(ns, 'web-b', '10.1.0.3', true);
    await client.resource(RESOURCES.pods).delete(ns, 'web-a', { gracePeriodSeconds: 0 });
    await waitFor(async () => {
      const subsets = (await endpoints().get(ns, 'web')).subsets as { addresses?: { ip: string }[]; notReadyAddresses?: unknown[] }[];
      return subsets.length === 1 && subsets[0]!.addresses?.map((x) => x.ip).join() === '10.1.0.3' && !subsets[0]!.notReadyAddresses;
    }, 'endpoints follow readiness and deletion');
  });

  it('a headless service without ports lists addresses, with hostnames for its subdomain', async () => {
    const ns = await newNamespace();
    await createService(ns, 'db', { clusterIP: 'None', selector: { app: 'db' } });
    await runPod(ns, 'db-0', { ip: '10.1.1.2', labels: { app: 'db' }, hostname: 'db-0', subdomain: 'db' });
    const ep = await waitFor(async () => {
      const e = await maybe(() => endpoints().get(ns, 'db'));
      return e?.subsets ? e : undefined;
    }, 'headless endpoints');
    const subsets = ep.subsets as { addresses: { ip: string; hostname?: string }[]; ports?: unknown }[];
    assert.equal(subsets[0]!.addresses[0]!.hostname, 'db-0');
    assert.equal(subsets[0]!.ports, undefined);
    assert.deepEqual(ep.metadata.labels, { 'service.kubernetes.io/headless': '' });
  });

  it('leaves services without a selector alone, the kubernetes service included', async () => {
    const ns = await newNamespace();
    await createService(ns, 'external', { ports: [{ port: 5432 }] });
    const mine = await endpoints().create(ns, { metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '192.0.2.10' }], ports: [{ port: 5432 }] }] });
    const kubernetes = await endpoints().get('default', 'kubernetes');
    // Give the controller time to (wrongly) act.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await endpoints().get(ns, 'external')).metadata.resourceVersion, mine.metadata.resourceVersion);
    assert.equal((await endpoints().get('default', 'kubernetes')).metadata.resourceVersion, kubernetes.metadata.resourceVersion);
  });

  it('removes the Endpoints of a deleted service', async () => {
    const ns = await newNamespace();
    await createService(ns, 'gone', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    await waitFor(() => maybe(() => endpoints().get(ns, 'gone')), 'endpoints created (empty)');
    await client.resource(RESOURCES.services).delete(ns, 'gone');
    await waitFor(async () => !(await maybe(() => endpoints().get(ns, 'gone'))), 'endpoints deleted');
  });
});

describe('endpointslice controller', () => {
  it('keeps a placeholder slice for a service without endpoints', async () => {
    const ns = await newNamespace();
    const svc = await createService(ns, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] });
    const [slice] = await waitFor(async () => ((await slicesOf(ns, 'web')).length === 1 ? slicesOf(ns, 'web') : undefined), 'placeholder slice');
    assert.match(slice!.metadata.name!, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    assert.equal(slice!.metadata.generateName, 'web-');
    assert.equal(slice!.addressType, 'IPv4');
    assert.equal(slice!.endpoints, null);
    assert.equal(slice!.ports, null);
    assert.deepEqual(slice!.metadata.labels, { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.deepEqual(slice!.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  });

  it('lists pods with an IP, with their conditions, node, zone and target', async () => {
    const ns = await newNamespace();
    await createService(ns, 'web', { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] }, { team: 'a' });
    const a = await runPod(ns, 'web-a', { ip: '10.2.0.2', ready: true });
    const b = await runPod(ns, 'web-b', { ip: '10.2.0.3', ready: false, node: 'node-b' });
    await runPod(ns, 'no-ip', { ready: false });
    const slice = await waitFor(async () => {
      const slices = await slicesOf(ns, 'web');
      return slices.length === 1 && (slices[0]!.endpoints as unknown[] | null)?.length === 2 ? slices[0] : undefined;
    }, 'slice with two endpoints');
    const eps = [...(slice.endpoints as { targetRef: { name: string } }[])].sort((x, y) => (x.targetRef.name < y.targetRef.name ? -1 : 1));
    assert.deepEqual(eps, [
      {
        addresses: ['10.2.0.2'],
        conditions: { ready: true, serving: true, terminating: false },
        targetRef: { kind: 'Pod', namespace: ns, name: 'web-a', uid: a.metadata.uid },
        nodeName: 'node-a',
        zone: 'zone-1',
      },
      {
        addresses: ['10.2.0.3'],
        conditions: { ready: false, serving: false, terminating: false },
        targetRef: { kind: 'Pod', namespace: ns, name: 'web-b', uid: b.metadata.uid },
        nodeName: 'node-b',
      },
    ]);
    assert.deepEqual(slice.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
    assert.deepEqual(slice.metadata.labels, { team: 'a', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
    assert.ok(slice.metadata.annotations!['endpoints.kubernetes.io/last-change-trigger-time']);
  });

  it('shows a terminating pod as serving but not ready', async () => {
    const ns = await newNamespace();
    await createService(ns, 'web', { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] });
    await runPod(ns, 'web-a', { ip: '10.3.0.2', ready: true, finalizers: ['example.com/hold'] });
    await waitFor(async () => (await slicesOf(ns, 'web')).some((s) => (s.endpoints as unknown[] | null)?.length === 1), 'slice with the pod');
    await client.resource(RESOURCES.pods).delete(ns, 'web-a', { gracePeriodSeconds: 0 });
    const ep = await waitFor(async () => {
      const slices = await slicesOf(ns, 'web');
      const found = slices.flatMap((s) => (s.endpoints ?? []) as { conditions: { terminating: boolean } }[]).find((e) => e.conditions.terminating);
      return found;
    }, 'terminating endpoint');
    assert.deepEqual(ep.conditions, { ready: false, serving: true, terminating: true });
    assert.deepEqual((await slicesOf(ns, 'web'))[0]!.ports, [{ name: '', protocol: 'TCP', port: 8080 }]);
    // The Endpoints object no longer lists it at all.
    await waitFor(async () => !(await endpoints().get(ns, 'web')).subsets, 'endpoints without the terminating pod');
    await client.resource(RESOURCES.pods).patch(ns, 'web-a', 'merge', { metadata: { finalizers: null } });
    await waitFor(async () => {
      const slices = await slicesOf(ns, 'web');
      return slices.length === 1 && slices[0]!.endpoints === null;
    }, 'back to a placeholder');
  });

  it('slices go with their service (garbage collector)', async () => {
    const ns = await newNamespace();
    await createService(ns, 'web', { selector: { app: 'web' }, ports: [{ port: 80 }] });
    await runPod(ns, 'web-a', { ip: '10.4.0.2' });
    await waitFor(async () => (await slicesOf(ns, 'web')).some((s) => s.endpoints), 'slice');
    await client.resource(RESOURCES.services).delete(ns, 'web');
    await waitFor(async () => (await slicesOf(ns, 'web')).length === 0, 'slices collected');
  });

  it('splits endpoints into slices of at most 100', async () => {
    const ns = await newNamespace();
    await createService(ns, 'many', { selector: { app: 'many' }, ports: [{ port: 80 }] });
    for (let i = 0; i < 105; i++) {
      await runPod(ns, `many-${i}`, { ip: `10.5.${Math.floor(i / 200)}.${(i % 200) + 2}`, labels: { app: 'many' } });
    }
    const slices = await waitFor(async () => {
      const all = await slicesOf(ns, 'many');
      const total = all.reduce((n, s) => n + ((s.endpoints as unknown[] | null)?.length ?? 0), 0);
      return total === 105 ? all : undefined;
    }, '105 endpoints in slices', 20_000);
    assert.deepEqual(slices.map((s) => (s.endpoints as unknown[]).length).sort((x, y) => x - y), [5, 100]);
  });
});
