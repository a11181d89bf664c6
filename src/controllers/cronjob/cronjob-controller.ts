/**
 * The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go in
 * Kubernetes 1.32, rewritten): at each schedule time creates the Job
 * `<cronjob>-<scheduled time in minutes since the epoch>` from the job
 * template, keeps status.active / lastScheduleTime / lastSuccessfulTime,
 * applies concurrencyPolicy (Allow, Forbid, Replace), startingDeadlineSeconds
 * and suspend, deletes finished Jobs beyond the history limits, and asks to
 * be woken up just after the next schedule time.
 *
 * Time is read only through context.now(); the wake-up is a requeue after
 * (next schedule − now + 100 ms), as Kubernetes' nextScheduleTimeDuration.
 */
import type { CronJobSpec, CronJobStatus, JobTemplateSpec } from 'kubernetes-types/batch/v1.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../../apimachinery/errors.js';
import { deepCopy, type KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { RESOURCES, objectKey } from '../../client/types.js';
import { controllerOf, enqueueFor, type Controller, type ControllerContext, type ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder, EventType } from '../runtime/events.js';
import { finishedConditionType, type Job } from '../job/job-util.js';
import { CronParseError, parseCronSchedule, type CronSchedule } from './cron.js';
import { mostRecentScheduleTime, nextScheduleDelay, type CronJobTimes } from './schedule.js';
import { formatRFC1123ZUtc, formatRFC3339InZone, isKnownTimeZone, localTimeZone, normalizeZone } from './zoned-time.js';

/** A batch/v1 CronJob as the controller reads it. */
export type CronJob = KubeObject & { spec: CronJobSpec; status?: CronJobStatus };

/** Annotation on created Jobs: their scheduled time, RFC 3339 in the CronJob's time zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerOptions {
  /** Zone of schedules without spec.timeZone: Kubernetes uses the controller manager's local zone. Default: this process's zone. */
  defaultTimeZone?: string;
  workers?: number;
}

/** The controller, plus a way to make it look at every CronJob now (tests that move their clock). */
export interface CronJobController extends Controller {
  /** Enqueues every CronJob, as the wake-up timers would when the clock reaches their schedule. */
  resyncAll(): void;
}

const CRONJOB_TYPE = { apiVersion: 'batch/v1', kind: 'CronJob' } as const;

/** What one sync decided: when to look again, whether the status changed, and a failure to retry. */
interface SyncResult {
  requeueAfterMs?: number;
  updateStatus: boolean;
  error?: unknown;
  /** The CronJob object the sync ended with (a fresher copy may have replaced the cached one). */
  cronJob: CronJob;
}

/** A CronJob controller; `cronJobController` is the one with Kubernetes' defaults. */
export function createCronJobController(options: CronJobControllerOptions = {}): CronJobController {
  return new CronJobControllerImpl(options);
}

class CronJobControllerImpl implements CronJobController {
  readonly name = 'cronjob-controller';
  readonly workers: number;
  private readonly defaultZone: string;
  private cronJobs!: Informer;
  private jobs!: Informer;
  private events!: EventRecorder;
  private enqueue: (key: string) => void = () => undefined;
  /** The resourceVersion of each CronJob's last status write by this controller. */
  private readonly writtenVersions = new Map<string, { uid: string; version: number }>();

  constructor(options: CronJobControllerOptions) {
    this.workers = options.workers ?? 5;
    this.defaultZone = normalizeZone(options.defaultTimeZone ?? localTimeZone());
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.enqueue = enqueue;
    const recorder = context.events as EventRecorder & { forComponent?(component: string): EventRecorder };
    this.events = recorder.forComponent ? recorder.forComponent('cronjob-controller') : recorder;
    this.cronJobs = context.informers.informer(RESOURCES.cronJobs);
    this.jobs = context.informers.informer(RESOURCES.jobs);
    // A schedule change is picked up by the sync itself (it computes the next time afresh).
    enqueueFor.self(this.cronJobs, enqueue);
    enqueueFor.owner(this.jobs, 'CronJob', enqueue);
  }

  resyncAll(): void {
    for (const cj of this.cronJobs?.list() ?? []) this.enqueue(objectKey(cj));
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const cached = this.cronJobs.get(key) as CronJob | undefined;
    if (!cached) {
      this.writtenVersions.delete(key);
      return;
    }
    // Our last status write is not in the cache yet; its watch event brings the key back.
    const written = this.writtenVersions.get(key);
    if (written && written.uid === cached.metadata.uid && Number(cached.metadata.resourceVersion) < written.version) return;
    // Jobs with a controllerRef to this name (their labels may no longer match the template).
    const jobs = (this.jobs.list(cached.metadata.namespace) as Job[]).filter((j) => controllerOf(j)?.name === cached.metadata.name);
    const cronJob: CronJob = { ...deepCopy(cached), ...CRONJOB_TYPE };
    const cleanedUp = await this.cleanupFinishedJobs(context, cronJob, jobs);
    const result = await this.syncCronJob(context, cronJob, jobs);
    if (cleanedUp || result.updateStatus) {
      const body: KubeObject = { ...result.cronJob, status: serializeCronJobStatus(result.cronJob.status ?? {}) };
      const updated = await context.client.resource(RESOURCES.cronJobs).updateStatus(cached.metadata.namespace, body);
      this.writtenVersions.set(key, { uid: cached.metadata.uid ?? '', version: Number(updated.metadata.resourceVersion) });
    }
    if (result.requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(0, result.requeueAfterMs) };
    if (result.error) throw result.error;
    return undefined;
  }

  /** syncCronJob: reconciles the active list with the Jobs, then starts the Job due now, if any. */
  private async syncCronJob(context: ControllerContext, cronJobIn: CronJob, jobs: readonly Job[]): Promise<SyncResult> {
    let cronJob = cronJobIn;
    const now = context.now().getTime();
    let updateStatus = false;
    const status = () => (cronJob.status ??= {});
    const done = (extra: Partial<SyncResult> = {}): SyncResult => ({ updateStatus, cronJob, ...extra });

    const children = new Set<string>();
    for (const job of jobs) {
      const uid = job.metadata.uid ?? '';
      children.add(uid);
      const found = inActiveList(cronJob, uid);
      const finished = finishedConditionType(job);
      if (!found && !finished) {
        // Maybe our cache is behind our own status write: check the stored CronJob.
        let fresh: CronJob;
        try {
          fresh = (await context.client.resource(RESOURCES.cronJobs).get(cronJob.metadata.namespace, cronJob.metadata.name!)) as CronJob;
        } catch (error) {
          return done({ error });
        }
        if (inActiveList(fresh, uid)) {
          cronJob = { ...fresh, ...CRONJOB_TYPE };
          continue;
        }
        this.event(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
      } else if (found && finished) {
        deleteFromActiveList(cronJob, uid);
        this.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, status: ${finished}`);
        updateStatus = true;
      } else if (finished === 'Complete') {
        // Finished Jobs need not be in the active list to count as the last success.
        const completion = job.status?.completionTime;
        const last = status().lastSuccessfulTime;
        if (!last && completion) {
          status().lastSuccessfulTime = completion;
          updateStatus = true;
        } else if (completion && last && Date.parse(completion) > Date.parse(last)) {
          status().lastSuccessfulTime = completion;
          updateStatus = true;
        }
      }
    }

    // Active Jobs that no longer exist (checked against the API, not a possibly slow cache).
    for (const ref of [...(cronJob.status?.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await context.client.resource(RESOURCES.jobs).get(ref.namespace, ref.name!);
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) {
          this.event(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
          deleteFromActiveList(cronJob, ref.uid ?? '');
          updateStatus = true;
        } else return done({ error });
      }
    }

    if (cronJob.metadata.deletionTimestamp) return done();

    const timeZone = cronJob.spec.timeZone;
    if (timeZone !== undefined && timeZone !== null && !isKnownTimeZone(timeZone)) {
      this.event(cronJob, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${goQuote(timeZone)}: unknown time zone ${timeZone}`);
      return done();
    }
    if (cronJob.spec.suspend === true) return done();

    let schedule: CronSchedule;
    try {
      schedule = parseCronSchedule(this.formatSchedule(cronJob), this.defaultZone);
    } catch (error) {
      if (!(error instanceof CronParseError)) throw error;
      this.event(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${goQuote(cronJob.spec.schedule)} : ${error.message}`);
      return done();
    }

    const times = (): CronJobTimes => cronJobTimes(cronJob);
    const state = mostRecentScheduleTime(times(), now, schedule, true);
    if (state.mostRecent !== undefined && state.mostRecent <= now && state.missed === 'many') {
      this.event(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
      context.log.info('too many missed times', { cronjob: objectKey(cronJob) });
    }
    if (state.mostRecent === undefined && state.error !== undefined) {
      this.event(cronJob, 'Warning', 'InvalidSchedule', `invalid schedule: ${cronJob.spec.schedule} : ${state.error}`);
      return done();
    }
    const scheduled = state.mostRecent;
    if (scheduled === undefined) {
      // Nothing due: the usual case after a restart, or an early wake-up.
      return done({ requeueAfterMs: nextScheduleDelay(times(), now, schedule) });
    }

    const deadline = cronJob.spec.startingDeadlineSeconds;
    if (deadline !== undefined && deadline !== null && scheduled + deadline * 1000 < now) {
      this.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRFC1123ZUtc(scheduled)}`);
      return done({ requeueAfterMs: nextScheduleDelay(times(), now, schedule) });
    }
    const jobName = jobNameFor(cronJob, scheduled);
    const lastSchedule = cronJob.status?.lastScheduleTime ? Date.parse(cronJob.status.lastScheduleTime) : undefined;
    if ((cronJob.status?.active ?? []).some((ref) => ref.name === jobName && ref.namespace === cronJob.metadata.namespace) || lastSchedule === scheduled) {
      // This schedule time was already handled.
      return done({ requeueAfterMs: nextScheduleDelay(times(), now, schedule) });
    }
    const policy = cronJob.spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (cronJob.status?.active?.length ?? 0) > 0) {
      this.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return done({ requeueAfterMs: nextScheduleDelay(times(), now, schedule) });
    }
    if (policy === 'Replace') {
      for (const ref of [...(cronJob.status?.active ?? [])]) {
        let job: Job;
        try {
          job = (await context.client.resource(RESOURCES.jobs).get(ref.namespace, ref.name!)) as Job;
        } catch (error) {
          this.event(cronJob, 'Warning', 'FailedGet', `Get job: ${(error as Error).message}`);
          return done({ error });
        }
        if (!(await this.deleteJob(context, cronJob, job))) {
          return done({ error: new Error(`could not replace job ${job.metadata.namespace}/${job.metadata.name}`) });
        }
        updateStatus = true;
      }
    }

    const request = jobFromTemplate(cronJob, scheduled, this.zoneOf(cronJob));
    let created: Job;
    let alreadyExisted = false;
    try {
      created = (await context.client.resource(RESOURCES.jobs).create(cronJob.metadata.namespace, request)) as Job;
    } catch (error) {
      if (isNamespaceTerminating(error)) return done({ error });
      if (error instanceof StatusError && error.code === 409 && error.reason === 'AlreadyExists') {
        // Created by an earlier sync whose status write failed — or by someone else.
        alreadyExisted = true;
        try {
          created = (await context.client.resource(RESOURCES.jobs).get(cronJob.metadata.namespace, jobName)) as Job;
        } catch (getError) {
          return done({ error: getError });
        }
        const ref = controllerOf(created);
        if (!ref || ref.uid !== cronJob.metadata.uid) return done();
        if (inActiveList(cronJob, created.metadata.uid ?? '')) return done();
      } else {
        this.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${(error as Error).message}`);
        return done({ error });
      }
    }
    if (alreadyExisted) context.log.info('Job already exists', { cronjob: objectKey(cronJob), job: jobName });
    else this.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);

    // The Job name is derived from the schedule time, so a crash before this write cannot start it twice.
    status().active = [...(cronJob.status?.active ?? []), jobReference(created)];
    status().lastScheduleTime = rfc3339(scheduled);
    updateStatus = true;
    return done({ requeueAfterMs: nextScheduleDelay(times(), now, schedule) });
  }

  /** Deletes finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest first. */
  private async cleanupFinishedJobs(context: ControllerContext, cronJob: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const successfulLimit = cronJob.spec.successfulJobsHistoryLimit;
    const failedLimit = cronJob.spec.failedJobsHistoryLimit;
    if ((successfulLimit === undefined || successfulLimit === null) && (failedLimit === undefined || failedLimit === null)) return false;
    const successful = jobs.filter((j) => finishedConditionType(j) === 'Complete');
    const failed = jobs.filter((j) => finishedConditionType(j) === 'Failed');
    let updated = false;
    if (successfulLimit !== undefined && successfulLimit !== null && (await this.removeOldestJobs(context, cronJob, successful, successfulLimit))) updated = true;
    if (failedLimit !== undefined && failedLimit !== null && (await this.removeOldestJobs(context, cronJob, failed, failedLimit))) updated = true;
    return updated;
  }

  private async removeOldestJobs(context: ControllerContext, cronJob: CronJob, jobs: readonly Job[], keep: number): Promise<boolean> {
    const toDelete = jobs.length - keep;
    if (toDelete <= 0) return false;
    const ordered = [...jobs].sort(byJobStartTime);
    let updated = false;
    for (let i = 0; i < toDelete; i++) {
      if (await this.deleteJob(context, cronJob, ordered[i])) updated = true;
    }
    return updated;
  }

  /** Deletes a Job (its pods in the background) and drops it from the active list. */
  private async deleteJob(context: ControllerContext, cronJob: CronJob, job: Job): Promise<boolean> {
    try {
      await context.client.resource(RESOURCES.jobs).delete(job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Background' });
    } catch (error) {
      // Already gone (our cache lags behind an earlier delete): nothing to report.
      if (error instanceof StatusError && error.code === 404) {
        deleteFromActiveList(cronJob, job.metadata.uid ?? '');
        return true;
      }
      this.event(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${(error as Error).message}`);
      context.log.warn('Error deleting job from cronjob', { job: objectKey(job), cronjob: objectKey(cronJob), error: (error as Error).message });
      return false;
    }
    deleteFromActiveList(cronJob, job.metadata.uid ?? '');
    this.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
    return true;
  }

  /** formatSchedule: spec.timeZone becomes a TZ= prefix; a TZ= written in the schedule is tolerated with a warning. */
  private formatSchedule(cronJob: CronJob): string {
    const schedule = cronJob.spec.schedule;
    if (schedule.includes('TZ')) {
      this.event(
        cronJob,
        'Warning',
        'UnsupportedSchedule',
        `CRON_TZ or TZ used in schedule ${goQuote(schedule)} is not officially supported, see https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details`,
      );
      return schedule;
    }
    const zone = cronJob.spec.timeZone;
    if (zone !== undefined && zone !== null) return isKnownTimeZone(zone) ? `TZ=${zone} ${schedule}` : schedule;
    return schedule;
  }

  /** The zone the scheduled-timestamp annotation is written in (time.LoadLocation(timeZone or "") — UTC without one). */
  private zoneOf(cronJob: CronJob): string {
    return normalizeZone(cronJob.spec.timeZone ?? '');
  }

  private event(cronJob: CronJob, type: EventType, reason: string, message: string): void {
    this.events.event({ ...cronJob, ...CRONJOB_TYPE }, type, reason, message);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function cronJobTimes(cronJob: CronJob): CronJobTimes {
  const deadline = cronJob.spec.startingDeadlineSeconds;
  return {
    creationMs: Date.parse(cronJob.metadata.creationTimestamp ?? '') || 0,
    lastScheduleMs: cronJob.status?.lastScheduleTime ? Date.parse(cronJob.status.lastScheduleTime) : undefined,
    startingDeadlineSeconds: deadline === undefined || deadline === null ? undefined : deadline,
  };
}

function inActiveList(cronJob: CronJob, uid: string): boolean {
  return (cronJob.status?.active ?? []).some((ref) => ref.uid === uid);
}

function deleteFromActiveList(cronJob: CronJob, uid: string): void {
  if (!cronJob.status?.active) return;
  cronJob.status.active = cronJob.status.active.filter((ref) => ref.uid !== uid);
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`: one name per schedule time. */
export function jobNameFor(cronJob: CronJob, scheduledMs: number): string {
  return `${cronJob.metadata.name}-${Math.floor(scheduledMs / 60_000)}`;
}

/** getJobFromTemplate2: the Job for one schedule time. */
export function jobFromTemplate(cronJob: CronJob, scheduledMs: number, zone: string): KubeObject {
  const template: JobTemplateSpec = cronJob.spec.jobTemplate;
  const labels = { ...(template.metadata?.labels ?? {}) };
  const annotations = { ...(template.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP]: formatRFC3339InZone(scheduledMs, zone) };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob, scheduledMs),
      namespace: cronJob.metadata.namespace,
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      annotations,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: cronJob.metadata.name!, uid: cronJob.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    spec: deepCopy(template.spec ?? {}),
  };
}

/** An ObjectReference to a Job, as status.active lists them. */
function jobReference(job: Job): ObjectReference {
  return {
    kind: 'Job',
    namespace: job.metadata.namespace,
    name: job.metadata.name,
    uid: job.metadata.uid,
    apiVersion: 'batch/v1',
    resourceVersion: job.metadata.resourceVersion,
  };
}

/** Oldest start first; Jobs that never started last; names break ties. */
function byJobStartTime(a: Job, b: Job): number {
  const sa = a.status?.startTime ? Date.parse(a.status.startTime) : undefined;
  const sb = b.status?.startTime ? Date.parse(b.status.startTime) : undefined;
  if (sa === undefined && sb !== undefined) return 1;
  if (sa !== undefined && sb === undefined) return -1;
  if (sa === sb) return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : (a.metadata.name ?? '') > (b.metadata.name ?? '') ? 1 : 0;
  return sa! - sb!;
}

/** CronJobStatus in Go's field order, without empty fields. */
export function serializeCronJobStatus(status: CronJobStatus): CronJobStatus {
  const out: CronJobStatus = {};
  if (status.active && status.active.length > 0) out.active = status.active;
  if (status.lastScheduleTime) out.lastScheduleTime = status.lastScheduleTime;
  if (status.lastSuccessfulTime) out.lastSuccessfulTime = status.lastSuccessfulTime;
  return out;
}

function isNamespaceTerminating(error: unknown): boolean {
  return error instanceof StatusError && (error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/** Go's %q for the strings we quote (JSON's escaping agrees for printable text). */
function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** The CronJob controller with Kubernetes' defaults. */
export const cronJobController: CronJobController = createCronJobController();
