/**
 * What every namespace gets: the `default` ServiceAccount and the
 * `kube-root-ca.crt` ConfigMap, recreated or restored when someone removes
 * or edits them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import { waitFor } from '../../../test/helpers/cluster.js';
import { loadOrCreatePki } from '../../apiserver/pki.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { serviceAccountController } from './serviceaccounts-controller.js';
import { rootCACertPublisher } from './root-ca-cert-publisher.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let caPem: string;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  caPem = (await loadOrCreatePki(cluster.dataDir)).caCert;
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [serviceAccountController(), rootCACertPublisher(caPem)],
  );
  await manager.start();
});

after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

async function maybe(get: () => Promise<KubeObject>): Promise<KubeObject | undefined> {
  try {
    return await get();
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

const serviceAccounts = () => client.resource(RESOURCES.serviceAccounts);
const configMaps = () => client.resource(RESOURCES.configMaps);

describe('service account controller and root CA publisher', () => {
  it('a new namespace gets the default ServiceAccount and kube-root-ca.crt', async () => {
    await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'fresh' } });
    const sa = await waitFor(() => maybe(() => serviceAccounts().get('fresh', 'default')), 'default service account');
    assert.deepEqual(Object.keys(sa).sort(), ['apiVersion', 'kind', 'metadata']);
    const cm = await waitFor(() => maybe(() => configMaps().get('fresh', 'kube-root-ca.crt')), 'kube-root-ca.crt');
    assert.deepEqual(cm.data, { 'ca.crt': caPem });
    assert.match(cm.metadata.annotations!['kubernetes.io/description']!, /^Contains a CA bundle that can be used to verify the kube-apiserver/);
  });

  it('the system namespaces have them too', async () => {
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      await waitFor(() => maybe(() => serviceAccounts().get(ns, 'default')), `default service account in ${ns}`);
      await waitFor(() => maybe(() => configMaps().get(ns, 'kube-root-ca.crt')), `kube-root-ca.crt in ${ns}`);
    }
  });

  it('a deleted default ServiceAccount is recreated', async () => {
    await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'again' } });
    const first = await waitFor(() => maybe(() => serviceAccounts().get('again', 'default')), 'default service account');
    await serviceAccounts().delete('again', 'default');
    const second = await waitFor(async () => {
      const sa = await maybe(() => serviceAccounts().get('again', 'default'));
      return sa && sa.metadata.uid !== first.metadata.uid ? sa : undefined;
    }, 'default service account recreated');
    assert.ok(second);
  });

  it('kube-root-ca.crt is restored when edited and recreated when deleted', async () => {
    await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: 'tamper' } });
    const cm = await waitFor(() => maybe(() => configMaps().get('tamper', 'kube-root-ca.crt')), 'kube-root-ca.crt');
    await configMaps().update('tamper', { ...cm, data: { 'ca.crt': 'garbage' } });
    await waitFor(async () => (await configMaps().get('tamper', 'kube-root-ca.crt')).data?.['ca.crt' as never] === caPem, 'data restored');
    await configMaps().delete('tamper', 'kube-root-ca.crt');
    await waitFor(async () => {
      const again = await maybe(() => configMaps().get('tamper', 'kube-root-ca.crt'));
      return again && again.metadata.uid !== cm.metadata.uid;
    }, 'config map recreated');
  });

  it('nothing is created in a terminating namespace', async () => {
    const namespaces = client.resource(RESOURCES.namespaces);
    // A finalizer no one removes keeps the namespace Terminating (no namespace controller runs here).
    await namespaces.create(undefined, { metadata: { name: 'ending' } });
    await waitFor(() => maybe(() => serviceAccounts().get('ending', 'default')), 'default service account');
    await namespaces.delete(undefined, 'ending');
    await serviceAccounts().delete('ending', 'default');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await maybe(() => serviceAccounts().get('ending', 'default')), undefined);
  });
});
