/**
 * Namespace deletion with the controllers that keep writing into namespaces
 * running alongside (service accounts, root CA, endpoints, endpoint slices,
 * garbage collector): none of them may keep a terminating namespace alive.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import { waitFor } from '../../../test/helpers/cluster.js';
import { loadOrCreatePki } from '../../apiserver/pki.js';
import { StatusError } from '../../apimachinery/errors.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { garbageCollectorController } from '../garbagecollector/garbage-collector.js';
import { serviceAccountController } from '../serviceaccount/serviceaccounts-controller.js';
import { rootCACertPublisher } from '../serviceaccount/root-ca-cert-publisher.js';
import { endpointsController } from '../endpoints/endpoints-controller.js';
import { endpointSliceController } from '../endpoints/endpointslice-controller.js';
import { namespaceController } from './namespace-controller.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  const { caCert } = await loadOrCreatePki(cluster.dataDir);
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [
      namespaceController({ maxRecheckMs: 100 }),
      garbageCollectorController(),
      serviceAccountController(),
      rootCACertPublisher(caCert),
      endpointsController(),
      endpointSliceController(),
    ],
  );
  await manager.start();
});

after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

describe('namespace deletion with the other controllers running', () => {
  it('a namespace with services, pods and owned objects goes away', async () => {
    const namespaces = client.resource(RESOURCES.namespaces);
    await namespaces.create(undefined, { metadata: { name: 'busy' } });
    await client.resource(RESOURCES.nodes).create(undefined, { metadata: { name: 'node-1' } });
    await client.resource(RESOURCES.services).create('busy', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    const rs = await client.resource(RESOURCES.replicaSets).create('busy', {
      metadata: { name: 'web' },
      spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    const pods = client.resource(RESOURCES.pods);
    await pods.create('busy', {
      metadata: { name: 'web-1', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
      spec: { containers: [{ name: 'c', image: 'nginx' }] },
    });
    await waitFor(async () => (await client.resource(RESOURCES.endpointSlices).list('busy')).items.length > 0, 'slice');
    await waitFor(async () => (await client.resource(RESOURCES.serviceAccounts).list('busy')).items.length > 0, 'service account');

    await namespaces.delete(undefined, 'busy');
    await waitFor(async () => {
      try {
        await namespaces.get(undefined, 'busy');
        return false;
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return true;
        throw error;
      }
    }, 'namespace gone', 15_000);
    for (const ref of [RESOURCES.pods, RESOURCES.services, RESOURCES.endpoints, RESOURCES.endpointSlices, RESOURCES.serviceAccounts, RESOURCES.configMaps, RESOURCES.replicaSets]) {
      assert.equal((await client.resource(ref).list('busy')).items.length, 0, ref.resource);
    }
  });
});
