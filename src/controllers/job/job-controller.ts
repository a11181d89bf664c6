/**
 * The Job controller (pkg/controller/job in Kubernetes 1.32, rewritten):
 * runs pods until `completions` succeed (or, without completions, until one
 * succeeds and the others finished), never more than `parallelism` at once,
 * replaces failed pods after an exponential back-off, and fails the Job past
 * backoffLimit, activeDeadlineSeconds or a FailJob podFailurePolicy rule.
 *
 * Pods carry the batch.kubernetes.io/job-tracking finalizer: a finished pod
 * is first recorded in status.uncountedTerminatedPods, then its finalizer is
 * removed, then it moves to the succeeded/failed counters — so no pod is
 * counted twice or lost, even when pods are deleted right after finishing.
 * A finishing Job first gets the interim SuccessCriteriaMet / FailureTarget
 * condition, and Complete / Failed once no pod is terminating any more.
 *
 * Also: Indexed completion (`<job>-<index>-<random>` pods, completedIndexes,
 * successPolicy), suspend/resume, podReplacementPolicy, adoption of orphan
 * pods, finalizer clean-up of orphans, and ttlSecondsAfterFinished (the
 * ttl-after-finished controller's job, folded in here).
 */
import type { JobCondition, JobStatus } from 'kubernetes-types/batch/v1.js';
import type { Container, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../../apimachinery/errors.js';
import { labelSelectorFromSpec } from '../../apimachinery/selectors.js';
import { deepCopy, type KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { RESOURCES, objectKey, type ClientDeleteOptions } from '../../client/types.js';
import { controllerOf, type Controller, type ControllerContext, type ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder, EventType } from '../runtime/events.js';
import { BackoffStore, remainingBackoff, type BackoffRecord } from './backoff.js';
import { Expectations, FinalizerExpectations } from './expectations.js';
import { firstPendingIndexes, formatIntervals, has, matchSucceededIndexesRule, parseIntervals, total, withIndexes, type Interval } from './indexes.js';
import {
  COMPLETION_INDEX_ENV,
  CONDITION,
  JOB_COMPLETION_INDEX,
  JOB_TRACKING_FINALIZER,
  REASON,
  compareActivePodsForDeletion,
  completionIndex,
  ensureCondition,
  findCondition,
  hasTrackingFinalizer,
  isIndexedJob,
  isJobFinished,
  isPodActive,
  isPodReady,
  isPodTerminating,
  isSuspended,
  managedElsewhere,
  newCondition,
  parseTime,
  podPhase,
  type Job,
  type Pod,
} from './job-util.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

/** Tunables; the defaults are Kubernetes'. Tests shorten the delays. */
export interface JobControllerOptions {
  /** First delay before failed pods are replaced; doubles with each failure since the last success. Kubernetes: 10 s. */
  podFailureBackoffMs?: number;
  /** Cap of that delay. Kubernetes: 6 min. */
  maxPodFailureBackoffMs?: number;
  /** Shortest delay of a delayed re-sync (Kubernetes' syncJobBatchPeriod): 1 s. */
  syncBatchPeriodMs?: number;
  /** Propagation of the delete when ttlSecondsAfterFinished expires. Kubernetes' ttl-after-finished controller: Foreground. */
  ttlPropagationPolicy?: ClientDeleteOptions['propagationPolicy'];
  /** Parallel reconciles. */
  workers?: number;
}

/** At most this many pods are created or deleted per sync, and counted per status write. */
const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
const MAX_UNCOUNTED_PODS = 500;
/** Pod creations start with one, doubling while they succeed (controller.SlowStartInitialBatchSize). */
const SLOW_START_INITIAL_BATCH_SIZE = 1;
const ORPHAN_PREFIX = 'orphan-pod:';

const JOB_TYPE = { apiVersion: 'batch/v1', kind: 'Job' } as const;

/** Everything one sync works out before writing the status. */
interface SyncContext {
  key: string;
  job: Job;
  status: JobStatus;
  pods: Pod[];
  activePods: Pod[];
  succeeded: number;
  failed: number;
  ready: number;
  terminating: number;
  finishedCondition?: JobCondition;
  prevSucceededIndexes: Interval[];
  succeededIndexes: Interval[];
  newBackoffRecord: BackoffRecord;
  expectedRmFinalizers: ReadonlySet<string>;
  uncountedSucceeded: Set<string>;
  uncountedFailed: Set<string>;
}

/** A Job controller; `jobController` is the one with Kubernetes' defaults. */
export function createJobController(options: JobControllerOptions = {}): Controller {
  return new JobController(options);
}

class JobController implements Controller {
  readonly name = 'job-controller';
  readonly workers: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly batchPeriodMs: number;
  private readonly ttlPropagation: ClientDeleteOptions['propagationPolicy'];
  private jobs!: Informer;
  private pods!: Informer;
  private events!: EventRecorder;
  private enqueue!: (key: string) => void;
  private readonly expectations = new Expectations();
  private readonly finalizerExpectations = new FinalizerExpectations();
  private readonly backoff = new BackoffStore();
  /** The resourceVersion of each Job's last status write by this controller. */
  private readonly writtenVersions = new Map<string, { uid: string; version: number }>();

  constructor(options: JobControllerOptions) {
    this.workers = options.workers ?? 5;
    this.backoffBaseMs = options.podFailureBackoffMs ?? 10_000;
    this.backoffMaxMs = options.maxPodFailureBackoffMs ?? 360_000;
    this.batchPeriodMs = options.syncBatchPeriodMs ?? 1000;
    this.ttlPropagation = options.ttlPropagationPolicy ?? 'Foreground';
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.enqueue = enqueue;
    const recorder = context.events as EventRecorder & { forComponent?(component: string): EventRecorder };
    this.events = recorder.forComponent ? recorder.forComponent('job-controller') : recorder;
    this.jobs = context.informers.informer(RESOURCES.jobs);
    this.pods = context.informers.informer(RESOURCES.pods);
    this.jobs.addHandlers({
      onAdd: (job) => enqueue(objectKey(job)),
      onUpdate: (_old, job) => {
        enqueue(objectKey(job));
        // The Job must not finish with finalizers left; this is the safety net.
        if (isJobFinished(job as Job)) this.cleanupPodFinalizers(job as Job);
      },
      onDelete: (job) => {
        enqueue(objectKey(job));
        this.cleanupPodFinalizers(job as Job);
      },
    });
    this.pods.addHandlers({
      onAdd: (pod) => this.addPod(pod as Pod),
      onUpdate: (old, pod) => this.updatePod(old as Pod, pod as Pod),
      onDelete: (pod) => this.deletePod(pod as Pod, true),
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    if (key.startsWith(ORPHAN_PREFIX)) return this.syncOrphanPod(key.slice(ORPHAN_PREFIX.length), context);
    try {
      return await this.syncJob(key, context);
    } catch (error) {
      // Deleted meanwhile: its delete event brings the key back for the clean-up.
      if (error instanceof StatusError && error.code === 404 && error.details?.kind === 'jobs') return;
      throw error;
    }
  }

  // ---- informer handlers ----

  /** The Job a pod's controllerRef points to, when it is in the cache with that UID. */
  private resolveJob(pod: Pod, ref = controllerOf(pod)): Job | undefined {
    if (!ref || ref.kind !== 'Job') return undefined;
    const job = this.jobs.get(`${pod.metadata.namespace}/${ref.name}`) as Job | undefined;
    return job && job.metadata.uid === ref.uid ? job : undefined;
  }

  private jobsSelecting(pod: Pod): Job[] {
    return (this.jobs.list(pod.metadata.namespace) as Job[]).filter((job) => {
      const selector = job.spec.selector;
      if (!selector) return false;
      const parsed = labelSelectorFromSpec(selector);
      return !parsed.empty && parsed.matches(pod.metadata.labels ?? {});
    });
  }

  private enqueueOrphan(pod: Pod): void {
    this.enqueue(ORPHAN_PREFIX + objectKey(pod));
  }

  private addPod(pod: Pod): void {
    if (pod.metadata.deletionTimestamp) {
      this.deletePod(pod, false);
      return;
    }
    const ref = controllerOf(pod);
    if (ref) {
      const job = this.resolveJob(pod, ref);
      if (!job) return;
      const key = objectKey(job);
      this.expectations.creationObserved(key);
      this.enqueue(key);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.enqueueOrphan(pod);
    for (const job of this.jobsSelecting(pod)) this.enqueue(objectKey(job));
  }

  private updatePod(old: Pod, pod: Pod): void {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    if (pod.metadata.deletionTimestamp) {
      this.deletePod(pod, false);
      return;
    }
    const finalizerRemoved = !hasTrackingFinalizer(pod);
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = ref?.uid !== oldRef?.uid || ref?.name !== oldRef?.name;
    if (refChanged && oldRef) {
      const job = this.resolveJob(old, oldRef);
      if (job) {
        if (finalizerRemoved) this.finalizerExpectations.removalObserved(objectKey(job), pod.metadata.uid ?? '');
        this.enqueue(objectKey(job));
      }
    }
    if (ref) {
      const job = this.resolveJob(pod, ref);
      if (!job) return;
      if (finalizerRemoved) this.finalizerExpectations.removalObserved(objectKey(job), pod.metadata.uid ?? '');
      this.enqueue(objectKey(job));
      return;
    }
    if (hasTrackingFinalizer(pod)) this.enqueueOrphan(pod);
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.jobsSelecting(pod)) this.enqueue(objectKey(job));
  }

  private deletePod(pod: Pod, final: boolean): void {
    const ref = controllerOf(pod);
    const finalizer = hasTrackingFinalizer(pod);
    if (!ref) {
      if (finalizer) this.enqueueOrphan(pod);
      return;
    }
    const job = this.resolveJob(pod, ref);
    if (!job || isJobFinished(job)) {
      if (finalizer) this.enqueueOrphan(pod);
      return;
    }
    const key = objectKey(job);
    this.expectations.deletionObserved(key);
    if (final || !finalizer) this.finalizerExpectations.removalObserved(key, pod.metadata.uid ?? '');
    this.enqueue(key);
  }

  /** Queues the finalizer removal of every pod of a finished or deleted Job. */
  private cleanupPodFinalizers(job: Job): void {
    for (const pod of this.pods.list(job.metadata.namespace) as Pod[]) {
      if (controllerOf(pod)?.uid === job.metadata.uid && hasTrackingFinalizer(pod)) this.enqueueOrphan(pod);
    }
  }

  // ---- orphan pods ----

  /** Removes the tracking finalizer of a pod no running Job counts any more. */
  private async syncOrphanPod(podKey: string, context: ControllerContext): Promise<ReconcileResult> {
    const pod = this.pods.get(podKey) as Pod | undefined;
    if (!pod) return;
    const ref = controllerOf(pod);
    if (ref) {
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      const job = this.resolveJob(pod, ref);
      if (job && managedElsewhere(job)) return;
      if (job && !isJobFinished(job)) return; // adopted meanwhile
    }
    if (!hasTrackingFinalizer(pod)) return;
    try {
      await removeTrackingFinalizer(context, pod);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }

  // ---- the sync ----

  private async syncJob(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const cached = this.jobs.get(key) as Job | undefined;
    if (!cached) {
      this.writtenVersions.delete(key);
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoff.remove(key);
      return;
    }
    if (managedElsewhere(cached)) return;
    // Our own last status write is not in the cache yet: counting from the older status could
    // miss pods whose finalizer is already gone. The write's watch event brings the key back.
    const written = this.writtenVersions.get(key);
    if (written !== undefined && cached.metadata.uid === written.uid && Number(cached.metadata.resourceVersion) < written.version) return;
    const job: Job = { ...deepCopy(cached), ...JOB_TYPE };
    if (isJobFinished(job)) {
      this.backoff.remove(key);
      this.writtenVersions.delete(key);
      return this.processTTL(job, context);
    }
    const mode = job.spec.completionMode;
    if (mode !== undefined && mode !== null && mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.event(job, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }

    const status: JobStatus = (job.status ??= {});
    status.uncountedTerminatedPods ??= {};
    const now = context.now();
    let requeueAfterMs: number | undefined;
    const requeue = (ms: number) => {
      const delay = Math.max(0, ms);
      requeueAfterMs = requeueAfterMs === undefined ? delay : Math.min(requeueAfterMs, delay);
    };

    // Checked before the pods are read: a pod created meanwhile cannot sneak past the expectations.
    const satisfied = this.expectations.satisfied(key);
    const pods = await this.getPodsForJob(job, context);
    const activePods = pods.filter(isPodActive);
    const ctx: SyncContext = {
      key,
      job,
      status,
      pods,
      activePods,
      succeeded: 0,
      failed: 0,
      ready: activePods.filter(isPodReady).length,
      terminating: pods.filter(isPodTerminating).length,
      prevSucceededIndexes: [],
      succeededIndexes: [],
      newBackoffRecord: { key, failuresAfterLastSuccess: 0 },
      expectedRmFinalizers: this.finalizerExpectations.expected(key),
      uncountedSucceeded: new Set(status.uncountedTerminatedPods.succeeded ?? []),
      uncountedFailed: new Set(status.uncountedTerminatedPods.failed ?? []),
    };
    let active = activePods.length;
    const newSucceeded = validPods(ctx, ctx.uncountedSucceeded, (p) => podPhase(p) === 'Succeeded');
    const newFailed = validPods(ctx, ctx.uncountedFailed, (p) => isPodFailed(p, job));
    ctx.succeeded = (status.succeeded ?? 0) + newSucceeded.length + ctx.uncountedSucceeded.size;
    ctx.failed = (status.failed ?? 0) + newFailed.filter((p) => matchPodFailurePolicy(job.spec.podFailurePolicy, p).countFailed).length + ctx.uncountedFailed.size;

    // First start: only when not suspended.
    let startTimeSet = false;
    if (!status.startTime && !isSuspended(job)) {
      status.startTime = rfc(now);
      startTimeSet = true;
    }
    ctx.newBackoffRecord = this.backoff.newRecord(key, newSucceeded, newFailed);

    const backoffLimit = job.spec.backoffLimit ?? 6;
    ctx.finishedCondition = trueCondition(status, CONDITION.successCriteriaMet);
    // Once the success criteria are met, the pod failure policy is not looked at any more.
    if (!ctx.finishedCondition) {
      const target = trueCondition(status, CONDITION.failureTarget);
      if (target) ctx.finishedCondition = newCondition(CONDITION.failed, 'True', target.reason ?? '', target.message ?? '', now);
      else {
        const message = failJobMessage(job, pods);
        // The interim FailureTarget records the message before the finalizers go (and the pods with them).
        if (message !== undefined) ctx.finishedCondition = newCondition(CONDITION.failureTarget, 'True', REASON.podFailurePolicy, message, now);
      }
    }
    if (!ctx.finishedCondition) {
      if (ctx.failed > backoffLimit || pastBackoffLimitOnFailure(job, pods)) {
        ctx.finishedCondition = newCondition(CONDITION.failureTarget, 'True', REASON.backoffLimitExceeded, 'Job has reached the specified backoff limit', now);
      } else if (pastActiveDeadline(job, now)) {
        ctx.finishedCondition = newCondition(CONDITION.failureTarget, 'True', REASON.deadlineExceeded, 'Job was active longer than specified deadline', now);
      } else if (job.spec.activeDeadlineSeconds !== undefined && job.spec.activeDeadlineSeconds !== null && !isSuspended(job)) {
        const started = parseTime(status.startTime) ?? now.getTime();
        requeue(job.spec.activeDeadlineSeconds * 1000 - (now.getTime() - started));
      }
    }

    if (isIndexedJob(job)) {
      const completions = job.spec.completions ?? 0;
      ctx.prevSucceededIndexes = parseIntervals(status.completedIndexes, completions);
      const fresh = new Set<number>();
      for (const p of pods) {
        const ix = completionIndex(p);
        if (podPhase(p) === 'Succeeded' && ix >= 0 && ix < completions && hasTrackingFinalizer(p)) fresh.add(ix);
      }
      ctx.succeededIndexes = withIndexes(
        ctx.prevSucceededIndexes,
        [...fresh].sort((a, b) => a - b),
      );
      ctx.succeeded = total(ctx.succeededIndexes);
      if (!ctx.finishedCondition) {
        const matched = matchSuccessPolicy(job, completions, ctx.succeededIndexes);
        if (matched !== undefined) ctx.finishedCondition = newCondition(CONDITION.successCriteriaMet, 'True', REASON.successPolicy, matched, now);
      }
    }

    let suspendConditionChanged = false;
    let manageError: unknown;
    if (ctx.finishedCondition) {
      const { deleted, deletedReady, error } = await this.deleteActivePods(context, job, activePods);
      // Not finished yet while pods may remain, or while the cache may miss some.
      if (deleted !== active || !satisfied) ctx.finishedCondition = undefined;
      active -= deleted;
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      manageError = error;
    } else {
      let manageCalled = false;
      if (satisfied && !job.metadata.deletionTimestamp) {
        const result = await this.manageJob(context, ctx);
        active = result.active;
        manageError = result.error;
        if (result.requeueAfterMs !== undefined) requeue(result.requeueAfterMs);
        manageCalled = true;
      }
      const completions = job.spec.completions;
      // Without completions, the first success means done once every other pod finished.
      const complete = completions === undefined || completions === null ? ctx.succeeded > 0 && active === 0 : ctx.succeeded >= completions && active === 0;
      if (complete) {
        ctx.finishedCondition = newCondition(CONDITION.successCriteriaMet, 'True', REASON.completionsReached, 'Reached expected number of succeeded pods', now);
      } else if (manageCalled) {
        if (isSuspended(job)) {
          if (ensureCondition(status, CONDITION.suspended, 'True', 'JobSuspended', 'Job suspended', now)) {
            suspendConditionChanged = true;
            this.event(job, 'Normal', 'Suspended', 'Job suspended');
          }
        } else if (ensureCondition(status, CONDITION.suspended, 'False', 'JobResumed', 'Job resumed', now)) {
          suspendConditionChanged = true;
          this.event(job, 'Normal', 'Resumed', 'Job resumed');
          // activeDeadlineSeconds counts continuous activity: a resumed Job starts again.
          status.startTime = rfc(now);
        }
      }
    }

    const needsStatusUpdate =
      suspendConditionChanged || startTimeSet || active !== (status.active ?? 0) || ctx.ready !== status.ready || ctx.terminating !== status.terminating;
    status.active = active;
    status.ready = ctx.ready;
    status.terminating = ctx.terminating;
    await this.trackStatusAndRemoveFinalizers(context, ctx, needsStatusUpdate);
    if (manageError) throw manageError;
    return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
  }

  /** The Job's pods: those it controls, plus orphans matching its selector, which it adopts. */
  private async getPodsForJob(job: Job, context: ControllerContext): Promise<Pod[]> {
    const uid = job.metadata.uid;
    const selector = job.spec.selector ? labelSelectorFromSpec(job.spec.selector) : undefined;
    const owned: Pod[] = [];
    const orphans: Pod[] = [];
    for (const pod of this.pods.list(job.metadata.namespace) as Pod[]) {
      const ref = controllerOf(pod);
      if (ref) {
        if (ref.uid === uid) owned.push(pod);
      } else if (selector && !selector.empty && selector.matches(pod.metadata.labels ?? {}) && !pod.metadata.deletionTimestamp) {
        orphans.push(pod);
      }
    }
    if (orphans.length === 0 || job.metadata.deletionTimestamp) return owned;
    // Adopt only if the Job (re-read, not from the cache) is not being deleted.
    const jobs = context.client.resource(RESOURCES.jobs);
    const fresh = (await jobs.get(job.metadata.namespace, job.metadata.name!)) as Job;
    if (fresh.metadata.uid !== uid || fresh.metadata.deletionTimestamp) return owned;
    const podsClient = context.client.resource(RESOURCES.pods);
    for (const pod of orphans) {
      const finalizers = [...(pod.metadata.finalizers ?? [])];
      if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
      try {
        const adopted = (await podsClient.patch(pod.metadata.namespace, pod.metadata.name!, 'strategic', {
          metadata: { ownerReferences: [controllerRef(job)], uid: pod.metadata.uid, finalizers },
        })) as Pod;
        owned.push(adopted);
      } catch (error) {
        if (!(error instanceof StatusError && (error.code === 404 || error.code === 409 || error.code === 422))) throw error;
      }
    }
    return owned;
  }

  /** manageJob: creates or deletes pods towards the wanted number of active ones. */
  private async manageJob(context: ControllerContext, ctx: SyncContext): Promise<{ active: number; error?: unknown; requeueAfterMs?: number }> {
    const { job, key } = ctx;
    let active = ctx.activePods.length;
    const parallelism = job.spec.parallelism ?? 1;

    if (isSuspended(job)) {
      const podsToDelete = activePodsForRemoval(job, ctx.activePods, active);
      this.expectations.expectDeletions(key, podsToDelete.length);
      const { deleted, deletedReady, error } = await this.deleteJobPods(context, job, key, podsToDelete);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return { active: active - deleted, error };
    }

    let wantActive: number;
    const completions = job.spec.completions;
    if (completions === undefined || completions === null) {
      // After one success, whatever runs is left to finish; nothing new starts.
      wantActive = ctx.succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(completions - ctx.succeeded, parallelism));
    }

    const rmAtLeast = Math.max(0, active - wantActive);
    let podsToDelete = activePodsForRemoval(job, ctx.activePods, rmAtLeast);
    if (podsToDelete.length > MAX_POD_CREATE_DELETE_PER_SYNC) podsToDelete = podsToDelete.slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (podsToDelete.length > 0) {
      // Deleting takes precedence over creating within one sync.
      this.expectations.expectDeletions(key, podsToDelete.length);
      const { deleted, deletedReady, error } = await this.deleteJobPods(context, job, key, podsToDelete);
      ctx.terminating += deleted;
      ctx.ready -= deletedReady;
      return { active: active - deleted, error };
    }

    const terminating = onlyReplaceFailedPods(job) ? ctx.terminating : 0;
    let diff = wantActive - terminating - active;
    if (diff <= 0) return { active };

    const remaining = remainingBackoff(ctx.newBackoffRecord, context.now().getTime(), this.backoffBaseMs, this.backoffMaxMs);
    if (remaining > 0) {
      // As Kubernetes does, the sync that waits out the back-off reports no active pods.
      return { active: 0, requeueAfterMs: Math.max(remaining, this.batchPeriodMs) };
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (isIndexedJob(job)) {
      const completionsN = job.spec.completions ?? 0;
      let taken: Interval[] = withIndexes(ctx.succeededIndexes, sortedIndexes(ctx.activePods));
      if (onlyReplaceFailedPods(job)) taken = withIndexes(taken, sortedIndexes(ctx.pods.filter(isPodTerminating)));
      indexes = firstPendingIndexes(taken, diff, completionsN);
      diff = indexes.length;
      if (diff === 0) return { active };
    }

    this.expectations.expectCreations(key, diff);
    active += diff;
    const template = deepCopy(job.spec.template) as PodTemplateSpec;
    if (isIndexedJob(job)) addCompletionIndexEnv(template);
    template.metadata ??= {};
    const finalizers = [...(template.metadata.finalizers ?? [])];
    if (!finalizers.includes(JOB_TRACKING_FINALIZER)) finalizers.push(JOB_TRACKING_FINALIZER);
    template.metadata.finalizers = finalizers;

    let firstError: unknown;
    let remainingToCreate = diff;
    for (let batch = Math.min(remainingToCreate, SLOW_START_INITIAL_BATCH_SIZE); remainingToCreate > 0; batch = Math.min(2 * batch, remainingToCreate)) {
      const batchIndexes = indexes.splice(0, batch);
      const results = await Promise.all(
        Array.from({ length: batch }, (_, i) => this.createPod(context, job, template, isIndexedJob(job) ? batchIndexes[i] : -1)),
      );
      let failedInBatch = 0;
      for (const error of results) {
        if (error === undefined) continue;
        failedInBatch++;
        this.expectations.creationObserved(key);
        active--;
        firstError ??= error;
      }
      const skipped = remainingToCreate - batch;
      if (failedInBatch > 0 && skipped > 0) {
        // Slow start: stop after a failing batch; the next sync retries.
        active -= skipped;
        for (let i = 0; i < skipped; i++) this.expectations.creationObserved(key);
        break;
      }
      remainingToCreate -= batch;
    }
    return { active, error: firstError };
  }

  /** Creates one pod from the template; returns the error, if any (already reported as an event). */
  private async createPod(context: ControllerContext, job: Job, template: PodTemplateSpec, index: number): Promise<unknown> {
    const name = job.metadata.name!;
    const meta = deepCopy(template.metadata ?? {});
    const spec = deepCopy(template.spec!);
    let generateName = `${name}-`;
    if (index >= 0) {
      meta.annotations = { ...(meta.annotations ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
      meta.labels = { ...(meta.labels ?? {}), [JOB_COMPLETION_INDEX]: String(index) };
      spec.hostname = `${name}-${index}`;
      generateName = podGenerateNameWithIndex(name, index);
    }
    if (!meta.labels || Object.keys(meta.labels).length === 0) {
      const error = new Error('unable to create pods, no labels');
      this.event(job, 'Warning', 'FailedCreate', `Error creating: ${error.message}`);
      return error;
    }
    const pod: KubeObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName,
        namespace: job.metadata.namespace,
        labels: meta.labels,
        ...(meta.annotations && Object.keys(meta.annotations).length > 0 ? { annotations: meta.annotations } : {}),
        finalizers: meta.finalizers,
        ownerReferences: [controllerRef(job)],
      },
      spec,
    };
    try {
      const created = await context.client.resource(RESOURCES.pods).create(job.metadata.namespace, pod);
      this.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      return undefined;
    } catch (error) {
      // A namespace being torn down: every later creation fails too; nothing to report.
      if (isNamespaceTerminating(error)) return undefined;
      this.event(job, 'Warning', 'FailedCreate', `Error creating: ${(error as Error).message}`);
      return error;
    }
  }

  /** Deletes active pods of a finishing Job, keeping their finalizers (their status is counted first). */
  private async deleteActivePods(context: ControllerContext, job: Job, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = pods.length;
    let deletedReady = 0;
    let error: unknown;
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.deletePodWithEvent(context, job, pod);
        } catch (err) {
          if (!(err instanceof StatusError && err.code === 404)) {
            deleted--;
            error ??= err;
          }
        }
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  /** Deletes pods the Job no longer wants (suspend, too many): finalizer first, then the pod. */
  private async deleteJobPods(context: ControllerContext, job: Job, key: string, pods: readonly Pod[]): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    let deleted = pods.length;
    let deletedReady = 0;
    let error: unknown;
    const fail = (err: unknown) => {
      // The informer will not see this deletion.
      this.expectations.deletionObserved(key);
      if (!(err instanceof StatusError && err.code === 404)) {
        deleted--;
        error ??= err;
      }
    };
    await Promise.all(
      pods.map(async (pod) => {
        if (hasTrackingFinalizer(pod)) {
          try {
            await removeTrackingFinalizer(context, pod);
          } catch (err) {
            fail(err);
            return;
          }
        }
        try {
          await this.deletePodWithEvent(context, job, pod);
        } catch (err) {
          fail(err);
        }
        if (isPodReady(pod)) deletedReady++;
      }),
    );
    return { deleted, deletedReady, error };
  }

  private async deletePodWithEvent(context: ControllerContext, job: Job, pod: Pod): Promise<void> {
    try {
      await context.client.resource(RESOURCES.pods).delete(pod.metadata.namespace, pod.metadata.name!);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) this.event(job, 'Warning', 'FailedDelete', `Error deleting: ${(error as Error).message}`);
      throw error;
    }
    this.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  }

  /**
   * trackJobStatusAndRemoveFinalizers: records finished pods in
   * uncountedTerminatedPods, removes their finalizers, moves them to the
   * counters, and sets the final condition once nothing is left uncounted.
   */
  private async trackStatusAndRemoveFinalizers(context: ControllerContext, ctx: SyncContext, needsFlushIn: boolean): Promise<void> {
    const { job, status } = ctx;
    let needsFlush = needsFlushIn;
    const indexed = isIndexedJob(job);
    const completions = job.spec.completions ?? 0;
    const pods = indexed ? [...ctx.pods].sort((a, b) => completionIndex(a) - completionIndex(b)) : ctx.pods;
    const uncounted = (status.uncountedTerminatedPods ??= {});
    const withFinalizer = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata.uid ?? '';
      if (hasTrackingFinalizer(p) && !ctx.expectedRmFinalizers.has(uid)) withFinalizer.add(uid);
    }
    if (cleanUncountedWithoutFinalizers(status, withFinalizer)) needsFlush = true;

    const toRemove: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMax = false;
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      if (!hasTrackingFinalizer(pod) || ctx.expectedRmFinalizers.has(uid)) continue; // counted in an earlier sync
      const failed = isPodFailed(pod, job);
      if (!canRemoveFinalizer(ctx, pod, failed)) continue;
      toRemove.push(pod);
      if (podPhase(pod) === 'Succeeded' && !ctx.uncountedFailed.has(uid)) {
        if (indexed) {
          // The index is enough to never count a success twice.
          const ix = completionIndex(pod);
          if (ix >= 0 && ix < completions && !has(ctx.prevSucceededIndexes, ix)) {
            newSucceededIndexes.push(ix);
            needsFlush = true;
          }
        } else if (!ctx.uncountedSucceeded.has(uid)) {
          needsFlush = true;
          (uncounted.succeeded ??= []).push(uid);
        }
      } else if (failed || (ctx.finishedCondition && !isSuccessCriteriaMet(ctx.finishedCondition))) {
        // Once the Job is finishing, every pod that did not succeed counts as failed.
        const ix = completionIndex(pod);
        if (!ctx.uncountedFailed.has(uid) && (!indexed || (ix >= 0 && ix < completions))) {
          if (matchPodFailurePolicy(job.spec.podFailurePolicy, pod).countFailed) {
            needsFlush = true;
            (uncounted.failed ??= []).push(uid);
          }
        }
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= MAX_UNCOUNTED_PODS) {
        reachedMax = true;
        break;
      }
    }
    if (indexed) {
      ctx.succeededIndexes = withIndexes(
        ctx.succeededIndexes,
        [...newSucceededIndexes].sort((a, b) => a - b),
      );
      const text = formatIntervals(ctx.succeededIndexes);
      if (text !== (status.completedIndexes ?? '')) needsFlush = true;
      status.succeeded = total(ctx.succeededIndexes);
      status.completedIndexes = text;
    }
    if (ctx.finishedCondition?.type === CONDITION.failureTarget) {
      // The interim FailureTarget goes in before the finalizers are removed; Failed follows.
      status.conditions = [...(status.conditions ?? []), ctx.finishedCondition];
      needsFlush = true;
      ctx.finishedCondition = newCondition(CONDITION.failed, 'True', ctx.finishedCondition.reason ?? '', ctx.finishedCondition.message ?? '', context.now());
    }
    if (isSuccessCriteriaMet(ctx.finishedCondition)) {
      if (!trueCondition(status, CONDITION.successCriteriaMet)) {
        status.conditions = [...(status.conditions ?? []), ctx.finishedCondition!];
        needsFlush = true;
      }
      ctx.finishedCondition = newCondition(CONDITION.complete, 'True', ctx.finishedCondition!.reason ?? '', ctx.finishedCondition!.message ?? '', context.now());
    }

    // 1. Flush the uncounted pods (and interim condition). 2. Remove finalizers. 3. Count them.
    if (needsFlush) {
      await this.writeStatus(context, ctx);
      this.backoff.update(ctx.newBackoffRecord);
      needsFlush = false;
    }
    let removeError: unknown;
    if (toRemove.length > 0) {
      const uids = toRemove.map((p) => p.metadata.uid ?? '');
      this.finalizerExpectations.expectRemoved(ctx.key, uids);
      await Promise.all(
        toRemove.map(async (pod) => {
          const uid = pod.metadata.uid ?? '';
          try {
            await removeTrackingFinalizer(context, pod);
            withFinalizer.delete(uid);
          } catch (error) {
            this.finalizerExpectations.removalObserved(ctx.key, uid);
            if (error instanceof StatusError && error.code === 404) withFinalizer.delete(uid);
            else removeError ??= error;
          }
        }),
      );
    }
    if (cleanUncountedWithoutFinalizers(status, withFinalizer)) needsFlush = true;
    if (removeError) {
      if (needsFlush) await this.writeStatus(context, ctx);
      throw removeError;
    }
    const finished = !reachedMax && this.enactJobFinished(ctx, context.now());
    if (finished) needsFlush = true;
    if (needsFlush) {
      await this.writeStatus(context, ctx);
      if (finished) this.recordJobFinished(ctx);
    }
  }

  /** Adds the Complete/Failed condition when nothing is uncounted or terminating any more. */
  private enactJobFinished(ctx: SyncContext, now: Date): boolean {
    const condition = ctx.finishedCondition;
    if (!condition) return false;
    const uncounted = ctx.status.uncountedTerminatedPods;
    if ((uncounted?.succeeded?.length ?? 0) + (uncounted?.failed?.length ?? 0) > 0) return false;
    if (ctx.terminating > 0) return false;
    ensureCondition(ctx.status, condition.type, 'True', condition.reason ?? '', condition.message ?? '', now);
    if (condition.type === CONDITION.complete) ctx.status.completionTime = findCondition(ctx.status.conditions, CONDITION.complete)?.lastTransitionTime;
    return true;
  }

  private recordJobFinished(ctx: SyncContext): void {
    const { job, status } = ctx;
    const condition = ctx.finishedCondition!;
    if (condition.type === CONDITION.complete) {
      const completions = job.spec.completions;
      if (completions !== undefined && completions !== null && (status.succeeded ?? 0) > completions) {
        this.event(job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.event(job, 'Normal', 'Completed', 'Job completed');
    } else {
      this.event(job, 'Warning', condition.reason ?? '', condition.message ?? '');
    }
  }

  /** PUT /status with the sync's status; keeps the returned resourceVersion for the next write. */
  private async writeStatus(context: ControllerContext, ctx: SyncContext): Promise<void> {
    const body: KubeObject = { ...ctx.job, status: serializeJobStatus(ctx.status) };
    const updated = await context.client.resource(RESOURCES.jobs).updateStatus(ctx.job.metadata.namespace, body);
    ctx.job.metadata.resourceVersion = updated.metadata.resourceVersion;
    this.writtenVersions.set(ctx.key, { uid: ctx.job.metadata.uid ?? '', version: Number(updated.metadata.resourceVersion) });
  }

  // ---- ttlSecondsAfterFinished ----

  /** Deletes a finished Job whose TTL expired; otherwise asks to come back when it will. */
  private async processTTL(job: Job, context: ControllerContext): Promise<ReconcileResult> {
    const left = ttlLeftMs(job, context.now());
    if (left === undefined) return;
    if (left > 0) return { requeueAfterMs: left };
    // The cached TTL may be stale: check the Job as stored before deleting it.
    const jobs = context.client.resource(RESOURCES.jobs);
    let fresh: Job;
    try {
      fresh = (await jobs.get(job.metadata.namespace, job.metadata.name!)) as Job;
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return;
      throw error;
    }
    const freshLeft = ttlLeftMs(fresh, context.now());
    if (freshLeft === undefined) return;
    if (freshLeft > 0) return { requeueAfterMs: freshLeft };
    try {
      await jobs.delete(fresh.metadata.namespace, fresh.metadata.name!, { propagationPolicy: this.ttlPropagation, preconditions: { uid: fresh.metadata.uid } });
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) throw error;
    }
  }

  private event(job: Job, type: EventType, reason: string, message: string): void {
    this.events.event({ ...job, ...JOB_TYPE }, type, reason, message);
  }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

const rfc = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

function trueCondition(status: JobStatus, type: string): JobCondition | undefined {
  const c = findCondition(status.conditions, type);
  return c && c.status === 'True' ? c : undefined;
}

function isSuccessCriteriaMet(condition: JobCondition | undefined): boolean {
  return condition?.type === CONDITION.successCriteriaMet && condition.status === 'True';
}

/** podReplacementPolicy Failed (the default with a podFailurePolicy): terminating pods are not replaced yet. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec.podReplacementPolicy === 'Failed' || Boolean(job.spec.podFailurePolicy);
}

/** A pod counts as failed when Failed, or — unless only failed pods are replaced — when deleted before succeeding. */
function isPodFailed(pod: Pod, job: Job): boolean {
  if (podPhase(pod) === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return Boolean(pod.metadata.deletionTimestamp) && podPhase(pod) !== 'Succeeded';
}

/** Pods not counted yet: they still carry the finalizer, are not in `uncounted`, and (Indexed) have a valid index. */
function validPods(ctx: SyncContext, uncounted: ReadonlySet<string>, filter: (p: Pod) => boolean): Pod[] {
  const indexed = isIndexedJob(ctx.job);
  const completions = ctx.job.spec.completions ?? 0;
  return ctx.pods.filter((p) => {
    const uid = p.metadata.uid ?? '';
    if (!hasTrackingFinalizer(p) || uncounted.has(uid) || ctx.expectedRmFinalizers.has(uid)) return false;
    if (indexed) {
      const ix = completionIndex(p);
      if (ix < 0 || ix >= completions) return false;
    }
    return filter(p);
  });
}

/** The finalizer may go when the Job is finishing or being deleted, or the pod is finished. */
function canRemoveFinalizer(ctx: SyncContext, pod: Pod, considerFailed: boolean): boolean {
  if (ctx.job.metadata.deletionTimestamp || ctx.finishedCondition || podPhase(pod) === 'Succeeded') return true;
  return considerFailed;
}

/** Moves uncounted UIDs whose finalizer is gone into the counters. Returns whether anything changed. */
function cleanUncountedWithoutFinalizers(status: JobStatus, withFinalizer: ReadonlySet<string>): boolean {
  const uncounted = (status.uncountedTerminatedPods ??= {});
  let changed = false;
  const succeeded = (uncounted.succeeded ?? []).filter((uid) => withFinalizer.has(uid));
  if (succeeded.length !== (uncounted.succeeded?.length ?? 0)) {
    changed = true;
    status.succeeded = (status.succeeded ?? 0) + (uncounted.succeeded!.length - succeeded.length);
    uncounted.succeeded = succeeded;
  }
  const failed = (uncounted.failed ?? []).filter((uid) => withFinalizer.has(uid));
  if (failed.length !== (uncounted.failed?.length ?? 0)) {
    changed = true;
    status.failed = (status.failed ?? 0) + (uncounted.failed!.length - failed.length);
    uncounted.failed = failed;
  }
  return changed;
}

/** The message of the first FailJob rule a failed pod matches. */
function failJobMessage(job: Job, pods: readonly Pod[]): string | undefined {
  if (!job.spec.podFailurePolicy) return undefined;
  for (const pod of pods) {
    if (!isPodFailed(pod, job)) continue;
    const message = matchPodFailurePolicy(job.spec.podFailurePolicy, pod).failJobMessage;
    if (message !== undefined) return message;
  }
  return undefined;
}

/** restartPolicy OnFailure: container restarts of running pods count against backoffLimit. */
function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec.template.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    const phase = podPhase(pod);
    if (phase !== 'Running' && phase !== 'Pending') continue;
    for (const cs of pod.status?.initContainerStatuses ?? []) restarts += cs.restartCount ?? 0;
    for (const cs of pod.status?.containerStatuses ?? []) restarts += cs.restartCount ?? 0;
  }
  const limit = job.spec.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

function pastActiveDeadline(job: Job, now: Date): boolean {
  const ads = job.spec.activeDeadlineSeconds;
  const started = parseTime(job.status?.startTime);
  if (ads === undefined || ads === null || started === undefined || isSuspended(job)) return false;
  return now.getTime() - started >= ads * 1000;
}

/** successPolicy: the message of the first rule the succeeded indexes satisfy. */
function matchSuccessPolicy(job: Job, completions: number, succeeded: readonly Interval[]): string | undefined {
  const policy = job.spec.successPolicy;
  if (!policy || succeeded.length === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined && rule.succeededIndexes !== null) {
      const required = parseIntervals(rule.succeededIndexes, completions);
      if (required.length === 0) continue;
      if (matchSucceededIndexesRule(required, succeeded, rule.succeededCount ?? undefined)) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && rule.succeededCount !== null && total(succeeded) >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

function sortedIndexes(pods: readonly Pod[]): number[] {
  const set = new Set<number>();
  for (const p of pods) {
    const ix = completionIndex(p);
    if (ix >= 0) set.add(ix);
  }
  return [...set].sort((a, b) => a - b);
}

/**
 * Active pods to delete: for Indexed Jobs first the pods without a valid
 * index and the duplicates of an index; then, up to rmAtLeast, the pods in
 * the earliest stages.
 */
function activePodsForRemoval(job: Job, pods: readonly Pod[], rmAtLeast: number): Pod[] {
  const rm: Pod[] = [];
  let left: Pod[] = [];
  if (isIndexedJob(job)) {
    const completions = job.spec.completions ?? 0;
    const byIndex = [...pods].sort((a, b) => completionIndex(a) - completionIndex(b));
    let group: Pod[] = [];
    let groupIndex = -1;
    const flush = () => {
      if (group.length === 0) return;
      if (groupIndex < 0) rm.push(...group);
      else {
        const ordered = [...group].sort(compareActivePodsForDeletion);
        rm.push(...ordered.slice(0, -1));
        left.push(ordered[ordered.length - 1]);
      }
    };
    for (let i = 0; i < byIndex.length; i++) {
      const ix = completionIndex(byIndex[i]);
      if (ix >= completions) {
        flush();
        group = [];
        rm.push(...byIndex.slice(i));
        break;
      }
      if (ix !== groupIndex) {
        flush();
        group = [];
        groupIndex = ix;
      }
      group.push(byIndex[i]);
      if (i === byIndex.length - 1) {
        flush();
        group = [];
      }
    }
  } else {
    left = [...pods];
  }
  if (rm.length < rmAtLeast) {
    left.sort(compareActivePodsForDeletion);
    rm.push(...left.slice(0, rmAtLeast - rm.length));
  }
  return rm;
}

/** `<job>-<index>-`, the job name cut so the generated name stays within 63 characters. */
function podGenerateNameWithIndex(jobName: string, index: number): string {
  const suffix = `-${index}-`;
  const prefix = jobName + suffix;
  const maxGeneratedNameLength = 58;
  return prefix.length > maxGeneratedNameLength ? jobName.slice(0, maxGeneratedNameLength - suffix.length) + suffix : prefix;
}

/** JOB_COMPLETION_INDEX from the pod's completion-index label, in every container. */
function addCompletionIndexEnv(template: PodTemplateSpec): void {
  const add = (container: Container) => {
    if (container.env?.some((e) => e.name === COMPLETION_INDEX_ENV)) return;
    container.env = [...(container.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${JOB_COMPLETION_INDEX}']` } } }];
  };
  for (const c of template.spec?.initContainers ?? []) add(c);
  for (const c of template.spec?.containers ?? []) add(c);
}

function controllerRef(job: Job): NonNullable<KubeObject['metadata']['ownerReferences']>[number] {
  return { apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name!, uid: job.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

async function removeTrackingFinalizer(context: ControllerContext, pod: Pod): Promise<void> {
  await context.client
    .resource(RESOURCES.pods)
    .patch(pod.metadata.namespace, pod.metadata.name!, 'strategic', { metadata: { [`$deleteFromPrimitiveList/finalizers`]: [JOB_TRACKING_FINALIZER] } });
}

function isNamespaceTerminating(error: unknown): boolean {
  return error instanceof StatusError && (error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

/** Milliseconds until a finished Job's TTL expires (≤ 0: expired); undefined when it has no TTL, is not finished or is being deleted. */
export function ttlLeftMs(job: Job, now: Date): number | undefined {
  const ttl = job.spec.ttlSecondsAfterFinished;
  if (ttl === undefined || ttl === null || job.metadata.deletionTimestamp || !isJobFinished(job)) return undefined;
  const finished = (job.status?.conditions ?? []).find((c) => (c.type === CONDITION.complete || c.type === CONDITION.failed) && c.status === 'True');
  const finishAt = parseTime(finished?.lastTransitionTime);
  if (finishAt === undefined) return undefined;
  return finishAt + ttl * 1000 - now.getTime();
}

/** JobStatus in Go's field order, without the fields Go omits when empty. */
export function serializeJobStatus(status: JobStatus): JobStatus {
  const out: JobStatus = {};
  if (status.conditions && status.conditions.length > 0) out.conditions = status.conditions.map(orderCondition);
  if (status.startTime) out.startTime = status.startTime;
  if (status.completionTime) out.completionTime = status.completionTime;
  if (status.active) out.active = status.active;
  if (status.succeeded) out.succeeded = status.succeeded;
  if (status.failed) out.failed = status.failed;
  if (status.terminating !== undefined && status.terminating !== null) out.terminating = status.terminating;
  if (status.completedIndexes) out.completedIndexes = status.completedIndexes;
  if (status.failedIndexes !== undefined && status.failedIndexes !== null) out.failedIndexes = status.failedIndexes;
  if (status.uncountedTerminatedPods) {
    const u = status.uncountedTerminatedPods;
    out.uncountedTerminatedPods = {};
    if (u.succeeded && u.succeeded.length > 0) out.uncountedTerminatedPods.succeeded = [...u.succeeded];
    if (u.failed && u.failed.length > 0) out.uncountedTerminatedPods.failed = [...u.failed];
  }
  if (status.ready !== undefined && status.ready !== null) out.ready = status.ready;
  return out;
}

function orderCondition(c: JobCondition): JobCondition {
  const out: JobCondition = { type: c.type, status: c.status };
  if (c.lastProbeTime) out.lastProbeTime = c.lastProbeTime;
  if (c.lastTransitionTime) out.lastTransitionTime = c.lastTransitionTime;
  if (c.reason) out.reason = c.reason;
  if (c.message) out.message = c.message;
  return out;
}

/** The Job controller with Kubernetes' timings. */
export const jobController: Controller = createJobController();
