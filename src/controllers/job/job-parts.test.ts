/**
 * The Job controller's pure parts: completion index intervals, the failure
 * back-off, the pod failure policy and the status' wire shape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BackoffStore, remainingBackoff, remainingForFailures } from './backoff.js';
import { firstPendingIndexes, formatIntervals, has, matchSucceededIndexesRule, parseIntervals, total, withIndexes } from './indexes.js';
import { serializeJobStatus, ttlLeftMs } from './job-controller.js';
import { compareActivePodsForDeletion, ensureCondition, podFinishedTime, type Job, type Pod } from './job-util.js';
import { matchPodFailurePolicy } from './pod-failure-policy.js';

describe('completion indexes', () => {
  it('formats runs of three or more as ranges, pairs as lists', () => {
    assert.equal(formatIntervals(withIndexes([], [1, 3, 4, 5, 7])), '1,3-5,7');
    assert.equal(formatIntervals(withIndexes([], [0, 1])), '0,1');
    assert.equal(formatIntervals(withIndexes([], [])), '');
    assert.equal(formatIntervals(withIndexes(parseIntervals('0-2,6', 10), [3, 5])), '0-3,5,6');
  });

  it('parses, ignoring corrupt parts and indexes past completions', () => {
    assert.deepEqual(parseIntervals('1,3-5,7', 10), [
      { first: 1, last: 1 },
      { first: 3, last: 5 },
      { first: 7, last: 7 },
    ]);
    assert.deepEqual(parseIntervals('0-8', 5), [{ first: 0, last: 4 }]);
    assert.deepEqual(parseIntervals('x,2', 5), [{ first: 2, last: 2 }]);
    assert.deepEqual(parseIntervals('0,1,2', 5), [{ first: 0, last: 2 }], 'adjacent parts merge');
    assert.deepEqual(parseIntervals('', 5), []);
  });

  it('counts, looks up, and finds the first pending indexes', () => {
    const iv = parseIntervals('1,3-5', 10);
    assert.equal(total(iv), 4);
    assert.ok(has(iv, 4) && !has(iv, 2) && !has(iv, 6));
    assert.deepEqual(firstPendingIndexes(iv, 3, 10), [0, 2, 6]);
    assert.deepEqual(firstPendingIndexes(iv, 10, 7), [0, 2, 6]);
    assert.deepEqual(firstPendingIndexes([], 2, 5), [0, 1]);
  });

  it('matches successPolicy rules', () => {
    const succeeded = parseIntervals('0-2,5', 10);
    assert.ok(matchSucceededIndexesRule(parseIntervals('0,1', 10), succeeded, undefined));
    assert.ok(!matchSucceededIndexesRule(parseIntervals('0-5', 10), succeeded, undefined));
    assert.ok(matchSucceededIndexesRule(parseIntervals('0-5', 10), succeeded, 4));
  });
});

const at = (s: string) => Date.parse(s);
function finishedPod(name: string, phase: 'Succeeded' | 'Failed', finishedAt: string, exitCode = phase === 'Succeeded' ? 0 : 1): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: name, creationTimestamp: '2024-01-01T00:00:00Z' },
    spec: { containers: [{ name: 'main' }] },
    status: { phase, containerStatuses: [{ name: 'main', image: '', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, finishedAt } } }] },
  };
}

describe('failure back-off', () => {
  it('doubles from the base up to the cap, counted from the last failure', () => {
    const now = at('2024-01-01T00:01:00Z');
    const last = at('2024-01-01T00:00:55Z');
    assert.equal(remainingForFailures(0, undefined, now, 10_000, 360_000), 0);
    assert.equal(remainingForFailures(1, last, now, 10_000, 360_000), 5_000);
    assert.equal(remainingForFailures(3, last, now, 10_000, 360_000), 35_000);
    assert.equal(remainingForFailures(20, last, now, 10_000, 360_000), 355_000, 'capped at 6 minutes');
    assert.equal(remainingForFailures(1, at('2024-01-01T00:00:30Z'), now, 10_000, 360_000), 0, 'already waited');
  });

  it('records failures since the last success', () => {
    const store = new BackoffStore();
    const r1 = store.newRecord('ns/j', [], [finishedPod('a', 'Failed', '2024-01-01T00:00:10Z'), finishedPod('b', 'Failed', '2024-01-01T00:00:05Z')]);
    assert.equal(r1.failuresAfterLastSuccess, 2);
    assert.equal(r1.lastFailureTime, at('2024-01-01T00:00:10Z'));
    store.update(r1);
    const r2 = store.newRecord('ns/j', [finishedPod('c', 'Succeeded', '2024-01-01T00:00:20Z')], [finishedPod('d', 'Failed', '2024-01-01T00:00:30Z'), finishedPod('e', 'Failed', '2024-01-01T00:00:15Z')]);
    assert.equal(r2.failuresAfterLastSuccess, 1, 'only failures after the success count');
    assert.equal(r2.lastFailureTime, at('2024-01-01T00:00:30Z'));
    assert.equal(remainingBackoff(r2, at('2024-01-01T00:00:35Z'), 10_000, 360_000), 5_000);
  });

  it('takes a pod finish time from containers, then Ready=False, then deletion', () => {
    assert.equal(podFinishedTime(finishedPod('a', 'Failed', '2024-01-01T00:00:10Z')), at('2024-01-01T00:00:10Z'));
    const noContainers: Pod = { metadata: { creationTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2024-01-01T00:00:07Z' }] } };
    assert.equal(podFinishedTime(noContainers), at('2024-01-01T00:00:07Z'));
    const deleted: Pod = { metadata: { creationTimestamp: '2024-01-01T00:00:00Z', deletionTimestamp: '2024-01-01T00:00:40Z', deletionGracePeriodSeconds: 30 } };
    assert.equal(podFinishedTime(deleted), at('2024-01-01T00:00:10Z'));
  });
});

describe('pod failure policy', () => {
  const policy = {
    rules: [
      { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget', status: 'True' }] },
      { action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } },
      { action: 'Count', onExitCodes: { operator: 'NotIn', values: [0, 42] } },
    ],
  };

  it('applies the first matching rule', () => {
    const fail42 = finishedPod('p', 'Failed', '2024-01-01T00:00:10Z', 42);
    assert.deepEqual(matchPodFailurePolicy(policy, fail42), {
      countFailed: true,
      action: 'FailJob',
      failJobMessage: 'Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 1',
    });
    assert.deepEqual(matchPodFailurePolicy(policy, finishedPod('p', 'Failed', '2024-01-01T00:00:10Z', 3)), { countFailed: true, action: 'Count' });
    const disrupted = finishedPod('p', 'Failed', '2024-01-01T00:00:10Z', 42);
    disrupted.status!.conditions = [{ type: 'DisruptionTarget', status: 'True' }];
    assert.deepEqual(matchPodFailurePolicy(policy, disrupted), { countFailed: false, action: 'Ignore' });
    assert.deepEqual(matchPodFailurePolicy(undefined, fail42), { countFailed: true });
  });

  it('FailJob on a pod condition', () => {
    const p = finishedPod('p', 'Failed', '2024-01-01T00:00:10Z');
    p.status!.conditions = [{ type: 'ConfigIssue', status: 'True' }];
    const match = matchPodFailurePolicy({ rules: [{ action: 'FailJob', onPodConditions: [{ type: 'ConfigIssue', status: 'True' }] }] }, p);
    assert.equal(match.failJobMessage, 'Pod ns/p has condition ConfigIssue matching FailJob rule at index 0');
  });
});

describe('Job status', () => {
  it('is written in Go field order, omitting zero counters but keeping ready/terminating', () => {
    const status = serializeJobStatus({ ready: 0, uncountedTerminatedPods: { succeeded: [], failed: [] }, terminating: 0, active: 0, succeeded: 2, startTime: '2024-01-01T00:00:00Z' });
    assert.deepEqual(Object.keys(status), ['startTime', 'succeeded', 'terminating', 'uncountedTerminatedPods', 'ready']);
    assert.deepEqual(status.uncountedTerminatedPods, {});
  });

  it('sets conditions like ensureJobConditionStatus', () => {
    const status = {};
    const now = new Date('2024-01-01T00:00:00Z');
    assert.equal(ensureCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now), false, 'no False condition from nothing');
    assert.equal(ensureCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now), true);
    assert.equal(ensureCondition(status, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now), false);
    assert.equal(ensureCondition(status, 'Suspended', 'False', 'JobResumed', 'Job resumed', now), true);
  });

  it('TTL counts from the finish condition', () => {
    const job: Job = {
      metadata: { name: 'j' },
      spec: { template: {}, ttlSecondsAfterFinished: 30 },
      status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z' }] },
    };
    assert.equal(ttlLeftMs(job, new Date('2024-01-01T00:00:10Z')), 20_000);
    assert.equal(ttlLeftMs({ ...job, spec: { template: {} } }, new Date()), undefined);
  });

  it('deletes pods in the earliest stages first', () => {
    const pending: Pod = { metadata: { name: 'pending' }, status: { phase: 'Pending' } };
    const running: Pod = { metadata: { name: 'running' }, spec: { containers: [], nodeName: 'n' }, status: { phase: 'Running' } };
    const unscheduled: Pod = { metadata: { name: 'unscheduled' }, status: { phase: 'Running' } };
    assert.deepEqual(
      [running, pending, unscheduled].sort(compareActivePodsForDeletion).map((p) => p.metadata.name),
      ['pending', 'unscheduled', 'running'],
    );
  });
});
