/**
 * Namespace deletion against a real API server: the namespace turns
 * Terminating, its content is deleted, its conditions say what remains and
 * why, and it goes once empty.
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
import { namespaceController } from './namespace-controller.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [namespaceController({ maxRecheckMs: 100 })],
  );
  await manager.start();
});

after(async () => {
  await manager?.stop();
  await cluster?.stop();
});

const namespaces = () => client.resource(RESOURCES.namespaces);

async function gone(get: () => Promise<KubeObject>): Promise<boolean> {
  try {
    await get();
    return false;
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return true;
    throw error;
  }
}

type Condition = { type: string; status: string; reason: string; message: string; lastTransitionTime: string };
const conditionsOf = (ns: KubeObject) => ((ns.status as { conditions?: Condition[] }).conditions ?? []);

describe('namespace controller', () => {
  it('deletes everything in a deleted namespace, then the namespace', async () => {
    await namespaces().create(undefined, { metadata: { name: 'doomed' } });
    await client.resource(RESOURCES.configMaps).create('doomed', { metadata: { name: 'a' }, data: { k: 'v' } });
    await client.resource(RESOURCES.secrets).create('doomed', { metadata: { name: 's' }, stringData: { k: 'v' } });
    await client.resource(RESOURCES.pods).create('doomed', { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    await client.resource(RESOURCES.serviceAccounts).create('doomed', { metadata: { name: 'robot' } });
    await namespaces().delete(undefined, 'doomed');
    await waitFor(() => gone(() => namespaces().get(undefined, 'doomed')), 'namespace gone');
    for (const ref of [RESOURCES.configMaps, RESOURCES.secrets, RESOURCES.pods, RESOURCES.serviceAccounts]) {
      assert.equal((await client.resource(ref).list('doomed')).items.length, 0, ref.resource);
    }
  });

  it('stays Terminating with conditions while content waits on a finalizer', async () => {
    await namespaces().create(undefined, { metadata: { name: 'held' } });
    const configMaps = client.resource(RESOURCES.configMaps);
    await configMaps.create('held', { metadata: { name: 'keep', finalizers: ['example.com/hold'] } });
    await configMaps.create('held', { metadata: { name: 'free' } });
    await namespaces().delete(undefined, 'held');

    const ns = await waitFor(async () => {
      const current = await namespaces().get(undefined, 'held');
      return conditionsOf(current).length === 5 ? current : undefined;
    }, 'namespace conditions');
    assert.equal((ns.status as { phase: string }).phase, 'Terminating');
    assert.deepEqual((ns.spec as { finalizers: string[] }).finalizers, ['kubernetes']);
    const byType = new Map(conditionsOf(ns).map((c) => [c.type, c]));
    assert.deepEqual(
      conditionsOf(ns).map((c) => c.type),
      ['NamespaceDeletionDiscoveryFailure', 'NamespaceDeletionGroupVersionParsingFailure', 'NamespaceDeletionContentFailure', 'NamespaceContentRemaining', 'NamespaceFinalizersRemaining'],
    );
    assert.deepEqual(
      { status: byType.get('NamespaceDeletionContentFailure')!.status, reason: byType.get('NamespaceDeletionContentFailure')!.reason, message: byType.get('NamespaceDeletionContentFailure')!.message },
      { status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    );
    assert.deepEqual(
      { status: byType.get('NamespaceContentRemaining')!.status, reason: byType.get('NamespaceContentRemaining')!.reason, message: byType.get('NamespaceContentRemaining')!.message },
      { status: 'True', reason: 'SomeResourcesRemain', message: 'Some resources are remaining: configmaps. has 1 resource instances' },
    );
    assert.deepEqual(
      { status: byType.get('NamespaceFinalizersRemaining')!.status, reason: byType.get('NamespaceFinalizersRemaining')!.reason, message: byType.get('NamespaceFinalizersRemaining')!.message },
      { status: 'True', reason: 'SomeFinalizersRemain', message: 'Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances' },
    );
    assert.equal(byType.get('NamespaceDeletionDiscoveryFailure')!.reason, 'ResourcesDiscovered');
    // The free config map went; the held one is marked for deletion.
    assert.ok(await gone(() => configMaps.get('held', 'free')));
    assert.ok((await configMaps.get('held', 'keep')).metadata.deletionTimestamp);
    // New content is refused while the namespace terminates.
    await assert.rejects(configMaps.create('held', { metadata: { name: 'late' } }), (error: StatusError) => error.code === 403);

    await configMaps.patch('held', 'keep', 'merge', { metadata: { finalizers: null } });
    await waitFor(() => gone(() => namespaces().get(undefined, 'held')), 'namespace gone once its content is');
  });

  it('leaves other spec.finalizers to their owners', async () => {
    await namespaces().create(undefined, { metadata: { name: 'shared' }, spec: { finalizers: ['example.com/other'] } });
    await namespaces().delete(undefined, 'shared');
    const ns = await waitFor(async () => {
      const current = await namespaces().get(undefined, 'shared');
      return (current.spec as { finalizers: string[] }).finalizers.includes('kubernetes') ? undefined : current;
    }, 'kubernetes finalizer removed');
    assert.deepEqual((ns.spec as { finalizers: string[] }).finalizers, ['example.com/other']);
    await namespaces().update(undefined, { ...ns, spec: { finalizers: [] } });
    await waitFor(() => gone(() => namespaces().get(undefined, 'shared')), 'namespace gone');
  });
});
