/**
 * The CronJob controller with the Job controller and a fake kubelet, against
 * a real API server in this process, on a clock the tests move forward: no
 * test waits for a real minute. After moving the clock, a test calls
 * resyncAll() — what the controller's wake-up timer does at that time.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CronJobSpec } from 'kubernetes-types/batch/v1.js';
import { startInProcessCluster, type InProcessCluster } from '../../../test/helpers/in-process.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { logger } from '../../util/log.js';
import { ControllerManager, type ControllerContext } from '../runtime/controller.js';
import { ClientEventRecorder } from '../runtime/events.js';
import { startFakeKubelet, type FakeKubelet, type PodBehaviour } from '../job/fake-kubelet.js';
import { createJobController } from '../job/job-controller.js';
import type { Job } from '../job/job-util.js';
import { createCronJobController, type CronJob } from './cronjob-controller.js';

/** A clock that only moves when told to. */
class TestClock {
  constructor(private ms: number) {}
  now = (): Date => new Date(this.ms);
  set(ms: number): void {
    this.ms = ms;
  }
}

let cluster: InProcessCluster;
let client: ApiClient;
let manager: ControllerManager;
let context: ControllerContext;
const clock = new TestClock(Date.now());
const cron = createCronJobController({ defaultTimeZone: 'UTC' });
const kubelets: FakeKubelet[] = [];

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  const informers = new InformerFactory(client);
  const events = new ClientEventRecorder(client, 'test');
  context = { client, informers, events, now: clock.now, log: logger('test') };
  manager = new ControllerManager({ client, informers, events, now: clock.now }, [
    createJobController({ podFailureBackoffMs: 10, maxPodFailureBackoffMs: 50, syncBatchPeriodMs: 10 }),
    cron,
  ]);
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
const MINUTE = 60_000;

let nsCounter = 0;
async function namespace(behaviour: PodBehaviour): Promise<string> {
  const name = `cronjob-test-${++nsCounter}`;
  await client.resource(RESOURCES.namespaces).create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  kubelets.push(startFakeKubelet(client, behaviour, name));
  return name;
}

function cronJobManifest(name: string, spec: Partial<CronJobSpec>, jobSpec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: {
      schedule: '*/1 * * * *',
      jobTemplate: {
        metadata: { labels: { app: name } },
        spec: { template: { spec: { containers: [{ name: 'main', image: 'busybox' }], restartPolicy: 'Never' } }, ...jobSpec },
      },
      ...spec,
    },
  };
}

const cronJobs = () => client.resource(RESOURCES.cronJobs);
const jobsClient = () => client.resource(RESOURCES.jobs);
const getCronJob = async (ns: string, name: string) => (await cronJobs().get(ns, name)) as CronJob;
const listJobs = async (ns: string) => ((await jobsClient().list(ns)).items as Job[]).filter((j) => !j.metadata.deletionTimestamp);
const jobNames = async (ns: string) => (await listJobs(ns)).map((j) => j.metadata.name!).sort();
const finished = (job: Job) => job.status?.conditions?.some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

/** Creates a CronJob and returns it with its first schedule time after creation (every-minute schedules). */
async function createCronJob(ns: string, manifest: KubeObject): Promise<{ cj: CronJob; firstMinute: number }> {
  // Earlier tests moved the clock ahead: start from the real time again.
  clock.set(Date.now());
  const cj = (await cronJobs().create(ns, manifest)) as CronJob;
  const created = Date.parse(cj.metadata.creationTimestamp!);
  return { cj, firstMinute: (Math.floor(created / MINUTE) + 1) * MINUTE };
}

/** Moves the clock and wakes the controller, as its timer would. */
function tick(ms: number): void {
  clock.set(ms);
  cron.resyncAll();
}

async function eventsOf(ns: string, name: string): Promise<{ reason: string; message: string; type: string; count?: number }[]> {
  const list = await client.resource(RESOURCES.events).list(ns);
  return list.items.filter((e) => (e.involvedObject as { name?: string }).name === name) as never;
}

async function waitJobFinished(ns: string, name: string): Promise<Job> {
  return waitFor(async () => {
    const job = (await listJobs(ns)).find((j) => j.metadata.name === name);
    return job && finished(job) ? job : undefined;
  }, `job ${name} to finish`).catch(async (error) => {
    const job = (await listJobs(ns)).find((j) => j.metadata.name === name);
    const pods = (await client.resource(RESOURCES.pods).list(ns)).items.map((p) => `${p.metadata.name} ${(p.status as { phase?: string })?.phase} ${p.metadata.finalizers}`);
    throw new Error(`${(error as Error).message}: ${JSON.stringify(job?.status)} ${JSON.stringify(job?.metadata.labels)} ${pods.join('; ')}`);
  });
}

describe('CronJob controller', () => {
  it('runs "*/1 * * * *" at each minute of the clock', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    const { cj, firstMinute } = await createCronJob(ns, cronJobManifest('every-minute', {}));
    // Before the first minute: nothing.
    tick(firstMinute - 1000);
    await sleep(100);
    assert.deepEqual(await listJobs(ns), []);

    tick(firstMinute + 1000);
    const jobName = `every-minute-${firstMinute / MINUTE}`;
    const job = await waitFor(async () => (await listJobs(ns)).find((j) => j.metadata.name === jobName), jobName);
    assert.equal(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], new Date(firstMinute).toISOString().replace('.000Z', 'Z'));
    assert.equal(job.metadata.labels!.app, 'every-minute');
    assert.deepEqual(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'every-minute', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);

    const active = await waitFor(async () => {
      const c = await getCronJob(ns, 'every-minute');
      return c.status?.active?.length === 1 ? c : undefined;
    }, 'status.active');
    const ref = active.status!.active![0];
    assert.deepEqual(Object.keys(ref), ['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion']);
    assert.deepEqual([ref.kind, ref.namespace, ref.name, ref.uid, ref.apiVersion], ['Job', ns, jobName, job.metadata.uid, 'batch/v1']);
    assert.equal(active.status!.lastScheduleTime, new Date(firstMinute).toISOString().replace('.000Z', 'Z'));

    // The controller asks to be woken 100 ms after the next minute.
    const key = `${ns}/every-minute`;
    const result = await waitFor(async () => {
      const r = await cron.reconcile(key, context);
      return r && r.requeueAfterMs === MINUTE - 1000 + 100 ? r : undefined;
    }, 'requeue at the next minute');
    assert.equal(result.requeueAfterMs, 59_100);

    // The Job completes: it leaves status.active and sets lastSuccessfulTime.
    const done = await waitJobFinished(ns, jobName);
    const status = await waitFor(async () => {
      const c = await getCronJob(ns, 'every-minute');
      return !c.status?.active && c.status?.lastSuccessfulTime ? c.status : undefined;
    }, 'lastSuccessfulTime');
    assert.equal(status.lastSuccessfulTime, done.status!.completionTime);

    // The next minute makes the next Job.
    tick(firstMinute + MINUTE + 1000);
    await waitFor(async () => (await jobNames(ns)).includes(`every-minute-${firstMinute / MINUTE + 1}`), 'second job');
    const reasons = (await eventsOf(ns, 'every-minute')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(reasons.includes(`SuccessfulCreate: Created job ${jobName}`), reasons.join('\n'));
    assert.ok(reasons.includes(`SawCompletedJob: Saw completed job: ${jobName}, status: Complete`), reasons.join('\n'));
  });

  it('Forbid skips a run while the previous Job is active', async () => {
    const ns = await namespace(() => 'hang');
    const { firstMinute } = await createCronJob(ns, cronJobManifest('forbid', { concurrencyPolicy: 'Forbid' }));
    tick(firstMinute + 1000);
    await waitFor(async () => (await getCronJob(ns, 'forbid')).status?.active?.length === 1, 'first job active');
    tick(firstMinute + MINUTE + 1000);
    await waitFor(async () => (await eventsOf(ns, 'forbid')).some((e) => e.reason === 'JobAlreadyActive'), 'JobAlreadyActive event');
    const event = (await eventsOf(ns, 'forbid')).find((e) => e.reason === 'JobAlreadyActive')!;
    assert.equal(event.message, 'Not starting job because prior execution is running and concurrency policy is Forbid');
    assert.deepEqual(await jobNames(ns), [`forbid-${firstMinute / MINUTE}`]);
    const cj = await getCronJob(ns, 'forbid');
    assert.equal(cj.status!.active!.length, 1);
    assert.equal(cj.status!.lastScheduleTime, new Date(firstMinute).toISOString().replace('.000Z', 'Z'), 'the skipped run is not recorded');
  });

  it('Replace deletes the running Job and starts the new one', async () => {
    const ns = await namespace(() => 'hang');
    const { firstMinute } = await createCronJob(ns, cronJobManifest('replace', { concurrencyPolicy: 'Replace' }));
    const first = `replace-${firstMinute / MINUTE}`;
    const second = `replace-${firstMinute / MINUTE + 1}`;
    tick(firstMinute + 1000);
    await waitFor(async () => (await getCronJob(ns, 'replace')).status?.active?.length === 1, 'first job active');
    tick(firstMinute + MINUTE + 1000);
    await waitFor(async () => {
      const names = await jobNames(ns);
      return names.length === 1 && names[0] === second;
    }, 'only the second job left');
    const cj = await waitFor(async () => {
      const c = await getCronJob(ns, 'replace');
      return c.status?.active?.length === 1 && c.status.active[0].name === second ? c : undefined;
    }, 'active = second job');
    assert.equal(cj.status!.active![0].name, second);
    const reasons = (await eventsOf(ns, 'replace')).map((e) => `${e.reason}: ${e.message}`);
    assert.ok(reasons.includes(`SuccessfulDelete: Deleted job ${first}`), reasons.join('\n'));
  });

  it('Allow runs Jobs side by side', async () => {
    const ns = await namespace(() => 'hang');
    const { firstMinute } = await createCronJob(ns, cronJobManifest('allow', {}));
    tick(firstMinute + 1000);
    await waitFor(async () => (await getCronJob(ns, 'allow')).status?.active?.length === 1, 'one active');
    tick(firstMinute + MINUTE + 1000);
    await waitFor(async () => (await getCronJob(ns, 'allow')).status?.active?.length === 2, 'two active');
  });

  it('keeps successfulJobsHistoryLimit and failedJobsHistoryLimit finished Jobs', async () => {
    const ns = await namespace((pod) => ({ exitCode: pod.metadata.labels?.['job-name']?.startsWith('fails-') ? 1 : 0 }));
    const ok = await createCronJob(ns, cronJobManifest('works', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }));
    const ko = await createCronJob(ns, cronJobManifest('fails', { successfulJobsHistoryLimit: 2, failedJobsHistoryLimit: 1 }, { backoffLimit: 0 }));
    const start = Math.max(ok.firstMinute, ko.firstMinute);
    for (let i = 0; i < 4; i++) {
      const minute = start + i * MINUTE;
      tick(minute + 1000);
      await waitJobFinished(ns, `works-${minute / MINUTE}`);
      await waitJobFinished(ns, `fails-${minute / MINUTE}`);
    }
    const last = start / MINUTE + 3;
    await waitFor(async () => {
      const names = await jobNames(ns);
      return names.join() === [`fails-${last}`, `works-${last - 1}`, `works-${last}`].join() ? names : undefined;
    }, 'the two latest successes and the latest failure', 15_000).catch(async (error) => {
      throw new Error(`${(error as Error).message}: ${(await jobNames(ns)).join(', ')}`);
    });
    const deleted = (await eventsOf(ns, 'works')).filter((e) => e.reason === 'SuccessfulDelete').map((e) => e.message);
    assert.ok(deleted.includes(`Deleted job works-${last - 3}`), deleted.join('\n'));
  });

  it('spec.timeZone: schedules in that zone and stamps the Job in it', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    clock.set(Date.now());
    const cj = (await cronJobs().create(ns, cronJobManifest('tokyo', { schedule: '0 9 * * *', timeZone: 'Asia/Tokyo' }))) as CronJob;
    // 09:00 in Tokyo is 00:00 UTC: the first UTC midnight after creation.
    const created = Date.parse(cj.metadata.creationTimestamp!);
    const day = 24 * 3_600_000;
    const nineInTokyo = (Math.floor(created / day) + 1) * day;
    const result = await waitFor(() => cron.reconcile(`${ns}/tokyo`, { ...context, now: () => new Date(created + 1000) }), 'a requeue');
    assert.equal(result && result.requeueAfterMs, nineInTokyo - created - 1000 + 100);
    tick(nineInTokyo + 5000);
    const job = await waitFor(async () => (await listJobs(ns)).find((j) => j.metadata.name === `tokyo-${nineInTokyo / MINUTE}`), 'the 9:00 JST job');
    const date = new Date(nineInTokyo).toISOString().slice(0, 10);
    assert.equal(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], `${date}T09:00:00+09:00`);
  });

  it('startingDeadlineSeconds: a start later than the deadline is skipped', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    const { firstMinute } = await createCronJob(ns, cronJobManifest('deadline', { startingDeadlineSeconds: 10 }));
    tick(firstMinute + 30_000);
    await sleep(150);
    assert.deepEqual(await listJobs(ns), [], '30 s late with a 10 s deadline');
    tick(firstMinute + MINUTE + 5000);
    await waitFor(async () => (await jobNames(ns)).includes(`deadline-${firstMinute / MINUTE + 1}`), 'the next run, on time');
  });

  it('more than 100 missed start times: warning, and the most recent one runs', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    const { firstMinute } = await createCronJob(ns, cronJobManifest('late', { schedule: '* * * * *' }));
    const now = firstMinute + 200 * MINUTE + 10_000;
    tick(now);
    const latest = firstMinute + 200 * MINUTE;
    await waitFor(async () => (await jobNames(ns)).includes(`late-${latest / MINUTE}`), 'the most recent run');
    const warning = await waitFor(async () => (await eventsOf(ns, 'late')).find((e) => e.reason === 'TooManyMissedTimes'), 'TooManyMissedTimes');
    assert.equal(warning.type, 'Warning');
    assert.equal(warning.message, 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
    assert.equal((await listJobs(ns)).length, 1, 'only the most recent missed time runs');
  });

  it('suspend: no Job while suspended', async () => {
    const ns = await namespace(() => ({ exitCode: 0 }));
    const { firstMinute } = await createCronJob(ns, cronJobManifest('paused', { suspend: true }));
    tick(firstMinute + 1000);
    await sleep(150);
    assert.deepEqual(await listJobs(ns), []);
    await cronJobs().patch(ns, 'paused', 'merge', { spec: { suspend: false } });
    await waitFor(async () => (await jobNames(ns)).includes(`paused-${firstMinute / MINUTE}`), 'the run once resumed');
  });
});
