/**
 * The Deployment and ReplicaSet controllers together against a real API
 * server (in process), with a fake kubelet marking pods ready: the first
 * rollout, a rolling update that keeps within maxSurge/maxUnavailable (checked
 * on every watch event), revisions and `kubectl rollout undo`, Recreate,
 * pause/resume with proportional scaling, rollout restart, history cleanup,
 * the progress deadline, and the events `kubectl describe` shows.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient, type ClientWatch } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { newReplicaSetController } from '../replicaset/controller.js';
import { eventually, startFakeKubelet, type FakeKubelet } from '../replicaset/testing.js';
import { newDeploymentController } from './controller.js';
import { computePodTemplateHash } from './hash.js';
import { defaultPodTemplateSpec } from '../../api/defaults.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let counter = 0;
const kubelets: FakeKubelet[] = [];

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [newReplicaSetController(), newDeploymentController()],
  );
  await manager.start();
});

after(async () => {
  kubelets.forEach((k) => k.stop());
  await manager?.stop();
  await cluster?.stop();
});

const deployments = () => client.resource(RESOURCES.deployments);
const replicaSets = () => client.resource(RESOURCES.replicaSets);
const pods = () => client.resource(RESOURCES.pods);

async function newNamespace(options: { kubelet?: boolean; readyDelayMs?: number } = {}): Promise<[string, FakeKubelet | undefined]> {
  const name = `deploy-${++counter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name } });
  if (options.kubelet === false) return [name, undefined];
  const kubelet = await startFakeKubelet(client, name, { delayMs: options.readyDelayMs });
  kubelets.push(kubelet);
  return [name, kubelet];
}

function deployment(name: string, image: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { name },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image, ports: [{ containerPort: 6379 }] }] } },
      ...spec,
    },
  };
}

interface Status {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string }[];
}
const statusOf = (o: KubeObject) => (o.status ?? {}) as Status;
const specOf = (o: KubeObject) => o.spec as { replicas: number; template: { metadata: { labels: Record<string, string> } }; selector: { matchLabels: Record<string, string> } };
const annotation = (o: KubeObject, key: string) => o.metadata.annotations?.[key];
const REVISION = 'deployment.kubernetes.io/revision';

/** What `kubectl rollout status` waits for: generation observed, every replica updated and available, no old ones. */
async function rolledOut(ns: string, name: string): Promise<KubeObject> {
  return eventually(async () => {
    const d = await deployments().get(ns, name);
    const s = statusOf(d);
    const replicas = specOf(d).replicas;
    return (
      (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0) &&
      (s.updatedReplicas ?? 0) === replicas &&
      (s.replicas ?? 0) === replicas &&
      (s.availableReplicas ?? 0) === replicas &&
      d
    );
  }, `deployment ${name} rolled out`);
}

async function ownedReplicaSets(ns: string, d: KubeObject): Promise<KubeObject[]> {
  const list = await replicaSets().list(ns);
  return list.items.filter((rs) => rs.metadata.ownerReferences?.some((r) => r.uid === d.metadata.uid && r.controller));
}

async function activePods(ns: string): Promise<KubeObject[]> {
  return (await pods().list(ns)).items.filter((p) => !p.metadata.deletionTimestamp);
}

async function eventMessages(ns: string, name: string, reason: string): Promise<string[]> {
  const list = await client.resource(RESOURCES.events).list(ns);
  return list.items.filter((e) => e.reason === reason && (e.involvedObject as { name: string }).name === name).map((e) => String(e.message));
}

/** `kubectl set image`: a strategic merge patch of the container image. */
async function setImage(ns: string, name: string, container: string, image: string): Promise<void> {
  await deployments().patch(ns, name, 'strategic', { spec: { template: { spec: { containers: [{ name: container, image }] } } } });
}

/** `kubectl rollout undo --to-revision=N`, as kubectl 1.32 does it: a JSON patch of the template and annotations. */
async function rolloutUndo(ns: string, name: string, toRevision: number): Promise<void> {
  const d = await deployments().get(ns, name);
  const rs = (await ownedReplicaSets(ns, d)).find((r) => annotation(r, REVISION) === String(toRevision));
  assert.ok(rs, `revision ${toRevision} exists`);
  const template = structuredClone((rs.spec as { template: { metadata: { labels: Record<string, string> } } }).template);
  delete template.metadata.labels['pod-template-hash'];
  const skip = ['kubectl.kubernetes.io/last-applied-configuration', REVISION, 'deployment.kubernetes.io/revision-history', 'deployment.kubernetes.io/desired-replicas', 'deployment.kubernetes.io/max-replicas', 'deprecated.deployment.rollback.to'];
  const annotations: Record<string, string> = {};
  for (const key of skip) if (d.metadata.annotations?.[key] !== undefined) annotations[key] = d.metadata.annotations[key]!;
  for (const [k, v] of Object.entries(rs.metadata.annotations ?? {})) if (!skip.includes(k)) annotations[k] = v;
  await deployments().patch(ns, name, 'json', [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ]);
}

/** Watches a namespace's pods and tracks how many exist and how many are ready, at every event. */
function watchPods(ns: string, initial: { items: KubeObject[]; resourceVersion: string }): { stop(): void; maxTotal: number; minReady: number; events: number } {
  const resourceVersion = initial.resourceVersion;
  const live = new Map<string, KubeObject>(initial.items.filter((p) => !p.metadata.deletionTimestamp).map((p) => [p.metadata.name!, p]));
  const stats = { maxTotal: 0, minReady: Number.POSITIVE_INFINITY, events: 0, stop: () => watch.stop() };
  const ready = (p: KubeObject) => ((p.status as { conditions?: { type: string; status: string }[] })?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const watch: ClientWatch = pods().watch(
    ns,
    { resourceVersion },
    (event) => {
      const name = event.object.metadata.name!;
      if (event.type === 'DELETED' || event.object.metadata.deletionTimestamp) live.delete(name);
      else live.set(name, event.object);
      stats.events++;
      stats.maxTotal = Math.max(stats.maxTotal, live.size);
      stats.minReady = Math.min(stats.minReady, [...live.values()].filter(ready).length);
    },
    () => undefined,
  );
  return stats;
}

describe('deployment controller', () => {
  it('creates a ReplicaSet <name>-<pod-template-hash> with revision 1 and rolls out', async () => {
    const [ns] = await newNamespace();
    const created = await deployments().create(ns, deployment('redis', 'redis:5.0.12-alpine'));
    const d = await rolledOut(ns, 'redis');
    const [rs, ...others] = await ownedReplicaSets(ns, d);
    assert.equal(others.length, 0);
    const hash = computePodTemplateHash(specOf(created).template);
    assert.equal(rs!.metadata.name, `redis-${hash}`);
    assert.deepEqual(rs!.metadata.labels, { app: 'redis', 'pod-template-hash': hash });
    assert.deepEqual(specOf(rs!).selector, { matchLabels: { app: 'redis', 'pod-template-hash': hash } });
    assert.deepEqual(specOf(rs!).template.metadata.labels, { app: 'redis', 'pod-template-hash': hash });
    assert.deepEqual(rs!.metadata.annotations, {
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
      [REVISION]: '1',
    });
    assert.deepEqual(rs!.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'redis', uid: d.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.equal(annotation(d, REVISION), '1');
    const pods4 = await activePods(ns);
    assert.equal(pods4.length, 4);
    for (const pod of pods4) assert.match(pod.metadata.name!, new RegExp(`^redis-${hash}-[a-z0-9]{5}$`));

    const s = statusOf(d);
    assert.deepEqual(
      { replicas: s.replicas, updated: s.updatedReplicas, ready: s.readyReplicas, available: s.availableReplicas, unavailable: s.unavailableReplicas, observed: s.observedGeneration },
      { replicas: 4, updated: 4, ready: 4, available: 4, unavailable: undefined, observed: 1 },
    );
    const available = s.conditions?.find((c) => c.type === 'Available');
    assert.deepEqual([available?.status, available?.reason, available?.message], ['True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.']);
    const progressing = await eventually(async () => {
      const c = statusOf(await deployments().get(ns, 'redis')).conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'NewReplicaSetAvailable' && c;
    }, 'Progressing NewReplicaSetAvailable');
    assert.equal(progressing.status, 'True');
    assert.equal(progressing.message, `ReplicaSet "redis-${hash}" has successfully progressed.`);
    assert.deepEqual(await eventMessages(ns, 'redis', 'ScalingReplicaSet'), [`Scaled up replica set redis-${hash} from 0 to 4`]);
  });

  it('rolls out a new image within maxSurge 2 / maxUnavailable 1, with revisions 1 and 2, then undoes to revision 1', async () => {
    // Pods take a moment to become ready, so old ones go while new ones are still starting.
    const [ns] = await newNamespace({ readyDelayMs: 40 });
    await deployments().create(ns, deployment('redis', 'redis:5.0.12-alpine', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } } }));
    const first = await rolledOut(ns, 'redis');
    const [rs1] = await ownedReplicaSets(ns, first);
    assert.equal(annotation(rs1!, 'deployment.kubernetes.io/max-replicas'), '6');

    const stats = watchPods(ns, await pods().list(ns));
    try {
      await setImage(ns, 'redis', 'redis', 'redis:6-alpine');
      const second = await rolledOut(ns, 'redis');
      await eventually(async () => (await activePods(ns)).length === 4, 'old pods gone');
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(stats.events > 8, `saw the rollout (${stats.events} events)`);
      assert.equal(stats.maxTotal, 6, `up to maxSurge and never beyond: 4 + 2 pods (saw ${stats.maxTotal})`);
      assert.ok(stats.minReady >= 3, `never fewer than 3 ready (saw ${stats.minReady})`);

      const rss = await ownedReplicaSets(ns, second);
      assert.equal(rss.length, 2);
      const rs2 = rss.find((r) => r.metadata.uid !== rs1!.metadata.uid)!;
      const old = rss.find((r) => r.metadata.uid === rs1!.metadata.uid)!;
      assert.equal(annotation(old, REVISION), '1');
      assert.equal(annotation(rs2, REVISION), '2');
      assert.equal(specOf(old).replicas, 0);
      assert.equal(specOf(rs2).replicas, 4);
      assert.equal(annotation(second, REVISION), '2');
      assert.equal(rs2.metadata.name, `redis-${computePodTemplateHash(specOf(second).template)}`);
      const scaling = await eventMessages(ns, 'redis', 'ScalingReplicaSet');
      assert.ok(scaling.includes(`Scaled up replica set ${rs2.metadata.name} from 0 to 2`), scaling.join('\n'));
      assert.ok(scaling.some((m) => m.startsWith(`Scaled down replica set ${old.metadata.name} from 4 to `)), scaling.join('\n'));
      assert.ok(scaling.includes(`Scaled down replica set ${old.metadata.name} from 1 to 0`) || scaling.some((m) => new RegExp(`^Scaled down replica set ${old.metadata.name} from \\d to 0$`).test(m)), scaling.join('\n'));

      // kubectl rollout undo --to-revision=1: the first ReplicaSet comes back as revision 3.
      await rolloutUndo(ns, 'redis', 1);
      const third = await rolledOut(ns, 'redis');
      const after = await ownedReplicaSets(ns, third);
      assert.equal(after.length, 2, 'no new ReplicaSet');
      const back = after.find((r) => r.metadata.uid === rs1!.metadata.uid)!;
      assert.equal(annotation(back, REVISION), '3');
      assert.equal(annotation(back, 'deployment.kubernetes.io/revision-history'), '1');
      assert.equal(specOf(back).replicas, 4);
      assert.equal(annotation(third, REVISION), '3');
      assert.equal((third.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image, 'redis:5.0.12-alpine');
      assert.ok(stats.maxTotal <= 6, `never more than 6 pods (saw ${stats.maxTotal})`);
      assert.ok(stats.minReady >= 3, `never fewer than 3 ready (saw ${stats.minReady})`);
    } finally {
      stats.stop();
    }
  });

  it('Recreate: scales the old ReplicaSet to zero and waits for its pods before creating the new one', async () => {
    const [ns] = await newNamespace();
    await deployments().create(ns, deployment('web', 'nginx:1.26', { replicas: 3, strategy: { type: 'Recreate' } }));
    const first = await rolledOut(ns, 'web');
    const [rs1] = await ownedReplicaSets(ns, first);
    const timeline: string[] = [];
    const { resourceVersion: podsRV } = await pods().list(ns);
    let oldPods = 3;
    const podWatch = pods().watch(ns, { resourceVersion: podsRV }, (event) => {
      const owner = event.object.metadata.ownerReferences?.[0]?.uid;
      if (event.type === 'DELETED' && owner === rs1!.metadata.uid) {
        oldPods--;
        timeline.push(`old pod deleted (${oldPods} left)`);
      }
      if (event.type === 'ADDED' && owner !== rs1!.metadata.uid) timeline.push(`new pod (${oldPods} old left)`);
    }, () => undefined);
    const { resourceVersion: rsRV } = await replicaSets().list(ns);
    const rsWatch = replicaSets().watch(ns, { resourceVersion: rsRV }, (event) => {
      if (event.type === 'ADDED') timeline.push(`new replicaset (${oldPods} old left)`);
    }, () => undefined);
    try {
      await setImage(ns, 'web', 'web', 'nginx:1.27');
      await rolledOut(ns, 'web');
      await eventually(() => timeline.filter((t) => t.startsWith('new pod')).length === 3 && timeline, 'three new pods');
    } finally {
      podWatch.stop();
      rsWatch.stop();
    }
    const firstNew = timeline.findIndex((t) => t.startsWith('new'));
    assert.ok(firstNew >= 3, timeline.join('\n'));
    assert.ok(timeline.slice(firstNew).every((t) => t.endsWith('(0 old left)')), timeline.join('\n'));
    const scaling = await eventMessages(ns, 'web', 'ScalingReplicaSet');
    assert.ok(scaling.includes(`Scaled down replica set ${rs1!.metadata.name} from 3 to 0`), scaling.join('\n'));
  });

  it('paused: no rollout, but scaling still happens proportionally; resume rolls out', async () => {
    const [ns, kubelet] = await newNamespace();
    await deployments().create(ns, deployment('app', 'app:v1', { replicas: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 3, maxUnavailable: 2 } } }));
    const first = await rolledOut(ns, 'app');
    const [v1] = await ownedReplicaSets(ns, first);
    // New pods never become ready from now on: the rollout stops at 8 old + 5 new.
    kubelet!.stop();
    await setImage(ns, 'app', 'app', 'app:v2');
    await eventually(async () => {
      const s = statusOf(await deployments().get(ns, 'app'));
      return s.updatedReplicas === 5 && s.replicas === 13 && s;
    }, 'rollout stuck at 8 old + 5 new');
    await deployments().patch(ns, 'app', 'merge', { spec: { paused: true } });
    const paused = await eventually(async () => {
      const d = await deployments().get(ns, 'app');
      const c = statusOf(d).conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'DeploymentPaused' && d;
    }, 'Progressing DeploymentPaused');
    const pausedCondition = statusOf(paused).conditions!.find((x) => x.type === 'Progressing')!;
    assert.deepEqual([pausedCondition.status, pausedCondition.message], ['Unknown', 'Deployment is paused']);

    // A template change while paused starts nothing.
    await setImage(ns, 'app', 'app', 'app:v3');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await ownedReplicaSets(ns, paused)).length, 2);

    // Scaling 10 → 20 while paused spreads the 10 more allowed (20 + maxSurge 3 - 13) by size: 8 → 14, 5 → 9.
    await deployments().patch(ns, 'app', 'merge', { spec: { replicas: 20 } });
    const scaled = await eventually(async () => {
      const rss = await ownedReplicaSets(ns, paused);
      return rss.reduce((n, r) => n + specOf(r).replicas, 0) === 23 && rss;
    }, 'proportional scale-up to 23');
    const sizeOf = (uid: string | undefined) => specOf(scaled.find((r) => r.metadata.uid === uid)!).replicas;
    assert.equal(sizeOf(v1!.metadata.uid), 14);
    assert.equal(sizeOf(scaled.find((r) => r.metadata.uid !== v1!.metadata.uid)!.metadata.uid), 9);
    for (const r of scaled) {
      assert.equal(annotation(r, 'deployment.kubernetes.io/desired-replicas'), '20');
      assert.equal(annotation(r, 'deployment.kubernetes.io/max-replicas'), '23');
    }
    const scaling = await eventMessages(ns, 'app', 'ScalingReplicaSet');
    assert.ok(scaling.includes(`Scaled up replica set ${v1!.metadata.name} from 8 to 14`), scaling.join('\n'));

    // Resume: the v3 template rolls out through a third ReplicaSet.
    kubelets.push(await startFakeKubelet(client, ns));
    await deployments().patch(ns, 'app', 'merge', { spec: { paused: false } });
    const done = await rolledOut(ns, 'app');
    const finalRSs = await ownedReplicaSets(ns, done);
    assert.equal(finalRSs.length, 3);
    const current = finalRSs.find((r) => specOf(r).replicas === 20)!;
    assert.equal(annotation(current, REVISION), '3');
    assert.equal((current.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image, 'app:v3');
    assert.ok(finalRSs.filter((r) => r !== current).every((r) => specOf(r).replicas === 0));
  });

  it('rollout restart: a template annotation change makes a new ReplicaSet', async () => {
    const [ns] = await newNamespace();
    await deployments().create(ns, deployment('api', 'api:1', { replicas: 2 }));
    const first = await rolledOut(ns, 'api');
    await deployments().patch(ns, 'api', 'strategic', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2025-01-01T00:00:00Z' } } } } });
    const second = await eventually(async () => {
      const d = await rolledOut(ns, 'api');
      return annotation(d, REVISION) === '2' && d;
    }, 'revision 2');
    const rss = await ownedReplicaSets(ns, second);
    assert.equal(rss.length, 2);
    assert.notEqual(annotation(first, REVISION), annotation(second, REVISION));
  });

  it('copies kubernetes.io/change-cause to the ReplicaSet and keeps only revisionHistoryLimit old ones', async () => {
    const [ns] = await newNamespace();
    await deployments().create(ns, { ...deployment('hist', 'h:1', { replicas: 1, revisionHistoryLimit: 1 }), metadata: { name: 'hist', annotations: { 'kubernetes.io/change-cause': 'first' } } });
    await rolledOut(ns, 'hist');
    for (const [i, image] of ['h:2', 'h:3', 'h:4'].entries()) {
      await deployments().patch(ns, 'hist', 'merge', { metadata: { annotations: { 'kubernetes.io/change-cause': `image ${image}` } } });
      await setImage(ns, 'hist', 'hist', image);
      await eventually(async () => {
        const d = await rolledOut(ns, 'hist');
        return annotation(d, REVISION) === String(i + 2) && d;
      }, `revision ${i + 2}`);
    }
    const d = await deployments().get(ns, 'hist');
    const rss = await eventually(async () => {
      const list = await ownedReplicaSets(ns, d);
      return list.length === 2 && list;
    }, 'two ReplicaSets left');
    const revisions = rss.map((r) => annotation(r, REVISION)).sort();
    assert.deepEqual(revisions, ['3', '4']);
    const current = rss.find((r) => annotation(r, REVISION) === '4')!;
    assert.equal(annotation(current, 'kubernetes.io/change-cause'), 'image h:4');
  });

  it('reports ProgressDeadlineExceeded when a rollout makes no progress in time', async () => {
    const [ns] = await newNamespace({ kubelet: false });
    await deployments().create(ns, deployment('stuck', 'never:ready', { replicas: 2, progressDeadlineSeconds: 1 }));
    const d = await eventually(async () => {
      const current = await deployments().get(ns, 'stuck');
      const c = statusOf(current).conditions?.find((x) => x.type === 'Progressing');
      return c?.reason === 'ProgressDeadlineExceeded' && current;
    }, 'ProgressDeadlineExceeded', 10_000);
    const [rs] = await ownedReplicaSets(ns, d);
    const progressing = statusOf(d).conditions!.find((x) => x.type === 'Progressing')!;
    assert.equal(progressing.status, 'False');
    assert.equal(progressing.message, `ReplicaSet "${rs!.metadata.name}" has timed out progressing.`);
    const available = statusOf(d).conditions!.find((x) => x.type === 'Available')!;
    assert.deepEqual([available.status, available.reason], ['False', 'MinimumReplicasUnavailable']);
    assert.equal(statusOf(d).unavailableReplicas, 2);
  });

  it('adopts an orphan ReplicaSet with its template and gives it revision 1', async () => {
    const [ns] = await newNamespace();
    const d0 = deployment('adopt', 'a:1', { replicas: 2 });
    const template = (d0.spec as { template: Record<string, unknown> }).template;
    const orphan = await replicaSets().create(ns, {
      metadata: { name: 'adopt-by-hand', labels: { app: 'adopt' } },
      spec: { replicas: 1, selector: { matchLabels: { app: 'adopt' } }, template },
    });
    const d = await deployments().create(ns, d0);
    await eventually(async () => (await replicaSets().get(ns, 'adopt-by-hand')).metadata.ownerReferences?.[0]?.uid === d.metadata.uid, 'ReplicaSet adopted');
    const done = await rolledOut(ns, 'adopt');
    const rss = await ownedReplicaSets(ns, done);
    assert.deepEqual(rss.map((r) => r.metadata.uid), [orphan.metadata.uid]);
    assert.equal(annotation(rss[0]!, REVISION), '1');
    assert.equal(specOf(rss[0]!).replicas, 2);
    const progressing = statusOf(done).conditions?.find((c) => c.type === 'Progressing');
    assert.ok(progressing && ['FoundNewReplicaSet', 'NewReplicaSetAvailable', 'ReplicaSetUpdated'].includes(progressing.reason!));
  });

  it('scales with kubectl scale: the one ReplicaSet follows, with its annotations', async () => {
    const [ns] = await newNamespace();
    await deployments().create(ns, deployment('sc', 's:1', { replicas: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '50%', maxUnavailable: '25%' } } }));
    const first = await rolledOut(ns, 'sc');
    const [rs] = await ownedReplicaSets(ns, first);
    assert.equal(annotation(rs!, 'deployment.kubernetes.io/max-replicas'), '3');
    await deployments().patch(ns, 'sc', 'merge', { spec: { replicas: 5 } }, 'scale');
    const done = await rolledOut(ns, 'sc');
    const [scaled] = await ownedReplicaSets(ns, done);
    assert.equal(scaled!.metadata.uid, rs!.metadata.uid);
    assert.equal(specOf(scaled!).replicas, 5);
    // 50% of 5 rounds up to 3 surge; 25% of 5 rounds down to 1 unavailable.
    assert.equal(annotation(scaled!, 'deployment.kubernetes.io/max-replicas'), '8');
    assert.equal(annotation(scaled!, 'deployment.kubernetes.io/desired-replicas'), '5');
    assert.equal((await activePods(ns)).length, 5);
    assert.ok((await eventMessages(ns, 'sc', 'ScalingReplicaSet')).includes(`Scaled up replica set ${rs!.metadata.name} from 2 to 5`));
  });

  it('resolves a pod-template-hash collision by bumping collisionCount', async () => {
    const [ns] = await newNamespace();
    const d0 = deployment('col', 'c:1', { replicas: 1 });
    // The template as the API server will store it (defaults applied), and the name the controller will want.
    const stored = { template: structuredClone((d0.spec as { template: Record<string, unknown> }).template) };
    defaultPodTemplateSpec(stored.template);
    const wanted = `col-${computePodTemplateHash(stored.template)}`;
    // Someone else's ReplicaSet already has that name (labels that the Deployment does not select).
    await replicaSets().create(ns, {
      metadata: { name: wanted, labels: { squatter: 'yes' } },
      spec: { replicas: 0, selector: { matchLabels: { squatter: 'yes' } }, template: { metadata: { labels: { squatter: 'yes' } }, spec: { containers: [{ name: 'x', image: 'x' }] } } },
    });
    await deployments().create(ns, d0);
    const done = await rolledOut(ns, 'col');
    assert.equal(statusOf(done).collisionCount, 1);
    const [rs, ...others] = await ownedReplicaSets(ns, done);
    assert.equal(others.length, 0);
    assert.equal(rs!.metadata.name, `col-${computePodTemplateHash(stored.template, 1)}`);
    assert.notEqual(rs!.metadata.name, wanted);
  });
});
