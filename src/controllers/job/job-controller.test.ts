/**
 * The Job controller against a real API server in this process, with a fake
 * kubelet that runs pods to the outcome each test chooses. Each test has its
 * own namespace; assertions read what `kubectl get job -o yaml` would show.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { JobSpec } from 'kubernetes-types/batch/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { ControllerManager } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { startFakeKubelet, type FakeKubelet, type PodBehaviour } from './fake-kubelet.js';
import { createJobController, serializeJobStatus } from './job-controller.js';
import type { Job, Pod } from './job-util.js';

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
const kubelets: FakeKubelet[] = [];

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  manager = new ControllerManager(
    { client, informers: new InformerFactory(client), events: new ClientEventRecorder(client, 'test'), now: () => new Date() },
    [createJobController({ podFailureBackoffMs: 20, maxPodFailureBackoffMs: 200, syncBatchPeriodMs: 10 })],
  );
  await manager.start();
});

after(async () => {
  for (const k of kubelets) k.stop();
  await manager?.stop();
  await cluster?.stop();
});

async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let nsCounter = 0;
/** A fresh namespace with a fake kubelet applying `behaviour` to its pods. */
async function namespace(behaviour: PodBehaviour): Promise<string> {
  const name = `job-test-${++nsCounter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  kubelets.push(startFakeKubelet(client, behaviour, name));
  return name;
}

function jobManifest(name: string, spec: Partial<JobSpec>): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' } }, ...spec },
  };
}

const jobs = () => client.resource(RESOURCES.jobs);
const podsClient = () => client.resource(RESOURCES.pods);
const getJob = async (ns: string, name: string) => (await jobs().get(ns, name)) as Job;
const listPods = async (ns: string) => (await podsClient().list(ns)).items as Pod[];
const conditionTypes = (job: Job) => (job.status?.conditions ?? []).map((c) => `${c.type}=${c.status}`);
const finished = (job: Job) => job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

async function waitFinished(ns: string, name: string, timeoutMs?: number): Promise<Job> {
  return waitFor(async () => {
    const job = await getJob(ns, name);
    return finished(job) ? job : undefined;
  }, `job ${ns}/${name} to finish`, timeoutMs);
}

async function eventsOf(ns: string, name: string): Promise<{ reason: string; message: string; type: string; source?: { component?: string } }[]> {
  const list = await client.resource(RESOURCES.events).list(ns);
  return list.items.filter((e) => (e.involvedObject as { name?: string }).name === name) as never;
}

/** Counts pods that are running (not finished, not deleted) as a watch sees them; keeps the maximum. */
function watchActive(ns: string): { max: () => number; stop: () => void } {
  const active = new Set<string>();
  let max = 0;
  const watch = podsClient().watch(
    ns,
    { resourceVersion: '0' },
    (event) => {
      const pod = event.object as Pod;
      const name = pod.metadata.name!;
      const phase = pod.status?.phase;
      if (event.type === 'DELETED' || pod.metadata.deletionTimestamp || phase === 'Succeeded' || phase === 'Failed') active.delete(name);
      else active.add(name);
      max = Math.max(max, active.size);
    },
    () => undefined,
  );
  return { max: () => max, stop: () => watch.stop() };
}

describe('Job controller', () => {
  it('runs completions=5 with parallelism=2: never more than 2 pods at once, then Complete', async () => {
    const ns = await namespace(async () => {
      await sleep(30);
      return { exitCode: 0 };
    });
    const watch = watchActive(ns);
    await jobs().create(ns, jobManifest('pi', { completions: 5, parallelism: 2 }));
    const job = await waitFinished(ns, 'pi');
    watch.stop();

    assert.equal(watch.max(), 2, 'two pods ran side by side, never more');
    assert.deepEqual(conditionTypes(job), ['SuccessCriteriaMet=True', 'Complete=True']);
    const complete = job.status!.conditions![1];
    assert.equal(complete.reason, 'CompletionsReached');
    assert.equal(complete.message, 'Reached expected number of succeeded pods');
    assert.equal(job.status!.completionTime, complete.lastTransitionTime);
    assert.equal(job.status!.succeeded, 5);
    assert.equal(job.status!.active, undefined, 'active: 0 is omitted');
    assert.equal(job.status!.failed, undefined);
    assert.equal(job.status!.ready, 0);
    assert.equal(job.status!.terminating, 0);
    assert.deepEqual(job.status!.uncountedTerminatedPods, {});
    assert.ok(job.status!.startTime);

    const pods = await listPods(ns);
    assert.equal(pods.length, 5);
    for (const pod of pods) {
      assert.match(pod.metadata.name!, /^pi-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      assert.equal(pod.metadata.labels!['batch.kubernetes.io/job-name'], 'pi');
      assert.equal(pod.metadata.labels!['job-name'], 'pi');
      assert.equal(pod.metadata.labels!['batch.kubernetes.io/controller-uid'], job.metadata.uid);
      assert.deepEqual(pod.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: job.metadata.uid, controller: true, blockOwnerDeletion: true }]);
      assert.ok(!pod.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking'), 'tracking finalizer removed once counted');
    }
    const events = await waitFor(async () => {
      const e = await eventsOf(ns, 'pi');
      return e.some((x) => x.reason === 'Completed') ? e : undefined;
    }, 'Completed event');
    assert.equal(events.filter((e) => e.reason === 'SuccessfulCreate').length, 5);
    const created = events.find((e) => e.reason === 'SuccessfulCreate')!;
    assert.match(created.message, /^Created pod: pi-[a-z0-9]{5}$/);
    assert.equal(created.source?.component, 'job-controller');
    assert.equal(events.find((e) => e.reason === 'Completed')!.message, 'Job completed');
  });

  it('keeps the tracking finalizer on pods until they are counted', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ns = await namespace(async () => {
      await gate;
      return { exitCode: 0 };
    });
    await jobs().create(ns, jobManifest('tracked', {}));
    const pod = await waitFor(async () => {
      const pods = await listPods(ns);
      return pods.length === 1 && pods[0].status?.phase === 'Running' ? pods[0] : undefined;
    }, 'a running pod');
    assert.deepEqual(pod.metadata.finalizers, ['batch.kubernetes.io/job-tracking']);
    const running = await waitFor(async () => {
      const job = await getJob(ns, 'tracked');
      return job.status?.ready === 1 ? job : undefined;
    }, 'ready 1');
    assert.deepEqual(serializeJobStatus(running.status!), running.status, 'status fields in Kubernetes order');
    assert.equal(running.status!.active, 1);
    release();
    const job = await waitFinished(ns, 'tracked');
    assert.equal(job.status!.succeeded, 1);
  });

  it('stops at backoffLimit with Failed/BackoffLimitExceeded', async () => {
    const ns = await namespace(() => ({ exitCode: 1 }));
    await jobs().create(ns, jobManifest('fails', { backoffLimit: 2 }));
    const job = await waitFinished(ns, 'fails');
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True', 'Failed=True']);
    for (const c of job.status!.conditions!) {
      assert.equal(c.reason, 'BackoffLimitExceeded');
      assert.equal(c.message, 'Job has reached the specified backoff limit');
    }
    assert.equal(job.status!.failed, 3, 'backoffLimit 2 means the third failure fails the Job');
    assert.equal(job.status!.succeeded, undefined);
    assert.equal(job.status!.completionTime, undefined);
    assert.equal((await listPods(ns)).length, 3);
    const events = await waitFor(async () => {
      const e = await eventsOf(ns, 'fails');
      return e.some((x) => x.reason === 'BackoffLimitExceeded') ? e : undefined;
    }, 'BackoffLimitExceeded event');
    assert.equal(events.find((e) => e.reason === 'BackoffLimitExceeded')!.type, 'Warning');
  });

  it('work queue (completions unset): done when one pod succeeded and the others finished', async () => {
    let first = true;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ns = await namespace(async () => {
      if (first) {
        first = false;
        return { exitCode: 0 };
      }
      await gate;
      return { exitCode: 0 };
    });
    await jobs().create(ns, jobManifest('queue', { parallelism: 3 }));
    const running = await waitFor(async () => {
      const job = await getJob(ns, 'queue');
      return job.status?.succeeded === 1 && job.status.active === 2 ? job : undefined;
    }, 'one success, two still running');
    assert.ok(!finished(running), 'not complete while pods still run');
    await sleep(100);
    assert.equal((await listPods(ns)).length, 3, 'no pod started after the first success');
    release();
    const job = await waitFinished(ns, 'queue');
    assert.deepEqual(conditionTypes(job), ['SuccessCriteriaMet=True', 'Complete=True']);
    assert.equal(job.status!.succeeded, 3);
    assert.equal((await listPods(ns)).length, 3);
  });

  it('Indexed completion: one pod per index, named <job>-<index>-<random>, completedIndexes', async () => {
    let index1Failures = 0;
    const ns = await namespace((pod) => {
      const ix = pod.metadata.annotations?.['batch.kubernetes.io/job-completion-index'];
      if (ix === '1' && index1Failures++ === 0) return { exitCode: 1 };
      return { exitCode: 0 };
    });
    await jobs().create(ns, jobManifest('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    const job = await waitFinished(ns, 'idx');
    assert.deepEqual(conditionTypes(job), ['SuccessCriteriaMet=True', 'Complete=True']);
    assert.equal(job.status!.completedIndexes, '0-2');
    assert.equal(job.status!.succeeded, 3);
    assert.equal(job.status!.failed, 1);
    const pods = await listPods(ns);
    assert.equal(pods.length, 4, 'index 1 ran twice');
    for (const pod of pods) {
      const ix = pod.metadata.annotations!['batch.kubernetes.io/job-completion-index'];
      assert.match(pod.metadata.name!, new RegExp(`^idx-${ix}-[a-z0-9]{5}$`));
      assert.equal(pod.metadata.labels!['batch.kubernetes.io/job-completion-index'], ix);
      assert.equal(pod.spec!.hostname, `idx-${ix}`);
      const env = pod.spec!.containers[0].env!.find((e) => e.name === 'JOB_COMPLETION_INDEX')!;
      assert.equal(env.valueFrom!.fieldRef!.fieldPath, "metadata.labels['batch.kubernetes.io/job-completion-index']");
    }
    assert.deepEqual(pods.map((p) => p.metadata.annotations!['batch.kubernetes.io/job-completion-index']).sort(), ['0', '1', '1', '2']);
  });

  it('activeDeadlineSeconds: Failed/DeadlineExceeded, running pods deleted', async () => {
    const ns = await namespace(() => 'hang');
    await jobs().create(ns, jobManifest('slow', { parallelism: 2, completions: 4, activeDeadlineSeconds: 1 }));
    await waitFor(async () => (await getJob(ns, 'slow')).status?.active === 2, 'two active pods');
    const job = await waitFinished(ns, 'slow', 10_000);
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True', 'Failed=True']);
    assert.equal(job.status!.conditions![1].reason, 'DeadlineExceeded');
    assert.equal(job.status!.conditions![1].message, 'Job was active longer than specified deadline');
    assert.equal(job.status!.active, undefined);
    assert.equal(job.status!.failed, 2);
    assert.equal(job.status!.terminating, 0);
    const started = Date.parse(job.status!.startTime!);
    assert.ok(Date.parse(job.status!.conditions![1].lastTransitionTime!) - started >= 1000);
    await waitFor(async () => (await listPods(ns)).length === 0, 'pods gone (finalizers removed after deletion)');
  });

  it('ttlSecondsAfterFinished deletes the finished Job', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    await jobs().create(ns, jobManifest('ttl0', { ttlSecondsAfterFinished: 0 }));
    await jobs().create(ns, jobManifest('ttl1', { ttlSecondsAfterFinished: 1 }));
    await jobs().create(ns, jobManifest('keep', {}));
    // Deleted with Foreground propagation (as the ttl-after-finished controller does): without a
    // garbage collector in this test the Job stays, marked for deletion with the foregroundDeletion finalizer.
    const gone = async (name: string) => {
      try {
        const job = await getJob(ns, name);
        return Boolean(job.metadata.deletionTimestamp) && (job.metadata.finalizers ?? []).includes('foregroundDeletion');
      } catch {
        return true;
      }
    };
    await waitFor(() => gone('ttl0'), 'ttl0 deleted');
    const ttl1 = await waitFinished(ns, 'ttl1');
    const finishedAt = Date.parse(ttl1.status!.completionTime!);
    await waitFor(() => gone('ttl1'), 'ttl1 deleted', 5000);
    assert.ok(Date.now() >= finishedAt + 1000, 'not before its TTL');
    await waitFinished(ns, 'keep');
    await sleep(200);
    assert.ok(!(await gone('keep')), 'a Job without TTL stays');
  });

  it('podFailurePolicy: Ignore does not count, FailJob fails the Job', async () => {
    let runs = 0;
    const ns = await namespace(() => ({ exitCode: runs++ === 0 ? 7 : 42 }));
    await jobs().create(
      ns,
      jobManifest('policy', {
        backoffLimit: 6,
        podFailurePolicy: {
          rules: [
            { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
            { action: 'Ignore', onExitCodes: { operator: 'In', values: [7] } },
          ],
        },
      }),
    );
    const job = await waitFinished(ns, 'policy');
    assert.deepEqual(conditionTypes(job), ['FailureTarget=True', 'Failed=True']);
    const failedPod = (await listPods(ns)).find((p) => p.status?.containerStatuses?.[0].state?.terminated?.exitCode === 42)!;
    assert.equal(job.status!.conditions![1].reason, 'PodFailurePolicy');
    assert.equal(job.status!.conditions![1].message, `Container main for pod ${ns}/${failedPod.metadata.name} failed with exit code 42 matching FailJob rule at index 0`);
    assert.equal(job.status!.failed, 1, 'the ignored failure is not counted');
    assert.equal((await listPods(ns)).length, 2);
  });

  it('suspend: no pods while suspended; resuming starts them and resets startTime', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    await jobs().create(ns, jobManifest('later', { suspend: true }));
    const suspended = await waitFor(async () => {
      const job = await getJob(ns, 'later');
      return job.status?.conditions?.some((c) => c.type === 'Suspended') ? job : undefined;
    }, 'Suspended condition');
    const c = suspended.status!.conditions![0];
    assert.deepEqual([c.type, c.status, c.reason, c.message], ['Suspended', 'True', 'JobSuspended', 'Job suspended']);
    assert.equal(suspended.status!.startTime, undefined);
    assert.equal((await listPods(ns)).length, 0);
    await jobs().patch(ns, 'later', 'merge', { spec: { suspend: false } });
    const job = await waitFinished(ns, 'later');
    const resumed = job.status!.conditions!.find((x) => x.type === 'Suspended')!;
    assert.deepEqual([resumed.status, resumed.reason, resumed.message], ['False', 'JobResumed', 'Job resumed']);
    assert.ok(job.status!.startTime);
    assert.equal(job.status!.succeeded, 1);
    const reasons = (await eventsOf(ns, 'later')).map((e) => e.reason);
    assert.ok(reasons.includes('Suspended') && reasons.includes('Resumed'));
  });

  it('suspending a running Job deletes its pods', async () => {
    const ns = await namespace(() => 'hang');
    await jobs().create(ns, jobManifest('pause', { parallelism: 2, completions: 2 }));
    await waitFor(async () => (await getJob(ns, 'pause')).status?.active === 2, 'two active pods');
    await jobs().patch(ns, 'pause', 'merge', { spec: { suspend: true } });
    const job = await waitFor(async () => {
      const j = await getJob(ns, 'pause');
      return !j.status?.active && (await listPods(ns)).length === 0 ? j : undefined;
    }, 'pods deleted');
    assert.ok(job.status!.conditions!.some((c) => c.type === 'Suspended' && c.status === 'True'));
    assert.ok(!finished(job));
  });

  it('removes the tracking finalizer of pods whose Job was deleted', async () => {
    const ns = await namespace(() => 'hang');
    await jobs().create(ns, jobManifest('orphaning', {}));
    const pod = await waitFor(async () => (await listPods(ns)).find((p) => p.status?.phase === 'Running'), 'a running pod');
    await jobs().delete(ns, 'orphaning', { propagationPolicy: 'Background' });
    await waitFor(async () => {
      const p = (await podsClient().get(ns, pod.metadata.name!)) as Pod;
      return !p.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking');
    }, 'finalizer removed');
  });
});
