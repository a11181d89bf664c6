/**
 * The scheduling queue: priority order, back-off (1 s doubling to 10 s),
 * parking of unschedulable pods until an event that may help them, and
 * scheduling gates.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SchedulingQueue, backoffDuration } from './queue.js';
import { parsePod, type PodInfo } from './pod-info.js';
import { podObject, type PodSpecOptions } from './testing.js';

let uid = 0;
function pod(name: string, options: PodSpecOptions = {}): PodInfo {
  const object = podObject(name, options);
  object.metadata.namespace = 'default';
  object.metadata.uid = `q-${++uid}`;
  return parsePod(object);
}

describe('scheduling queue', () => {
  it('backs off 1 s, 2 s, 4 s, 8 s, then 10 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 20].map(backoffDuration), [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000]);
  });

  it('pops higher priority first, then in arrival order', () => {
    const queue = new SchedulingQueue();
    const low = pod('low');
    const high = { ...pod('high'), priority: 1000 };
    const later = pod('later');
    queue.add(low);
    queue.add(high);
    queue.add(later);
    assert.deepEqual([queue.pop()?.info.name, queue.pop()?.info.name, queue.pop()?.info.name, queue.pop()], ['high', 'low', 'later', undefined]);
    queue.close();
  });

  it('parks an unschedulable pod until an event its rejecting plugins care about, then respects its back-off', () => {
    const queue = new SchedulingQueue(() => 0);
    const p = pod('p');
    queue.add(p);
    queue.pop();
    queue.requeue(p.uid, p, new Set(['NodeResourcesFit']), queue.cycle);
    assert.equal(queue.stats().unschedulable, 1);
    queue.moveOnEvent({ label: 'AssignedPodAdd', plugins: new Set(['InterPodAffinity']) });
    assert.equal(queue.stats().unschedulable, 1, 'an unrelated event leaves it parked');
    queue.moveOnEvent({ label: 'NodeAdd', plugins: new Set(['NodeResourcesFit']) });
    assert.equal(queue.stats().backoff, 1, 'still backing off (1 s after the first failure)');
    assert.equal(queue.pop(), undefined);
    queue.close();
  });

  it('moves a pod whose back-off is over straight to activeQ', () => {
    let now = 0;
    const queue = new SchedulingQueue(() => now);
    const p = pod('p');
    queue.add(p);
    queue.pop();
    queue.requeue(p.uid, p, new Set(['TaintToleration']), queue.cycle);
    now = 1500;
    queue.moveOnEvent({ label: 'NodeUpdate', plugins: new Set(['TaintToleration']) });
    assert.equal(queue.pop()?.info.name, 'p');
    queue.close();
  });

  it('sends a pod to back-off when an event arrived while it was being scheduled', () => {
    let now = 0;
    const queue = new SchedulingQueue(() => now);
    const p = pod('p');
    queue.add(p);
    queue.pop();
    const cycle = queue.cycle;
    queue.moveOnEvent({ label: 'NodeAdd', plugins: new Set(['NodeResourcesFit']) });
    queue.requeue(p.uid, p, new Set(['NodeResourcesFit']), cycle);
    assert.equal(queue.stats().backoff, 1);
    queue.close();
  });

  it('keeps gated pods aside until their gates are removed', () => {
    const queue = new SchedulingQueue();
    const gated = pod('g', { spec: { schedulingGates: [{ name: 'wait' }] } });
    queue.add(gated);
    assert.equal(queue.pop(), undefined);
    assert.equal(queue.stats().gated, 1);
    queue.update({ ...gated, gated: false });
    assert.equal(queue.pop()?.info.name, 'g');
    queue.close();
  });

  it('forgets deleted pods wherever they are', () => {
    const queue = new SchedulingQueue();
    const p = pod('p');
    queue.add(p);
    queue.delete(p.uid);
    assert.equal(queue.pop(), undefined);
    assert.equal(queue.size, 0);
    queue.close();
  });
});
