import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, goDuration } from './backoff.js';
import { deadContainersToRemove, sandboxesToRemove } from './container-gc.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';

describe('crash-loop back-off', () => {
  it('restarts at once, then waits 10 s doubling to 5 min, and starts over after 10 min of calm', () => {
    let now = 0;
    const backoff = new Backoff({ now: () => now });
    assert.equal(backoff.remaining('c', 0), 0, 'the first restart is immediate');
    backoff.next('c', 0);
    assert.equal(backoff.delay('c'), 10_000);
    now = 1_000;
    assert.equal(backoff.remaining('c', 1_000), 10_000, 'a crash right after waits the whole delay');
    now = 11_000;
    assert.equal(backoff.remaining('c', 1_000), 0);
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      backoff.next('c', now);
      delays.push(backoff.delay('c'));
    }
    assert.deepEqual(delays, [20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
    now += 600_001;
    backoff.next('c', now);
    assert.equal(backoff.delay('c'), 10_000, 'reset after twice the maximum without a crash');
  });

  it('prints delays as Go durations', () => {
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(80_000), '1m20s');
    assert.equal(goDuration(300_000), '5m0s');
  });
});

function c(name: string, state: RuntimeContainer['state'], createdAt: number, sandboxId = 's1'): RuntimeContainer {
  return { id: `${name}-${createdAt}`, sandboxId, name, state, createdAt, startedAt: 0, finishedAt: 0, exitCode: 0, reason: '', message: '', image: '', imageRef: '', restartCount: 0, hash: '', logPath: '', annotations: {} };
}

describe('container garbage collection', () => {
  it('keeps the newest dead instance of each container and removes older ones', () => {
    const pod: RuntimePod = {
      uid: 'u',
      name: 'p',
      namespace: 'default',
      sandboxes: [{ id: 's1', attempt: 0, ready: true, createdAt: 1, ip: '10.42.0.2', additionalIps: [] }],
      containers: [c('a', 'running', 9), c('a', 'exited', 8), c('a', 'exited', 7), c('a', 'exited', 6), c('b', 'exited', 5)],
    };
    assert.deepEqual(deadContainersToRemove(pod), ['a-7', 'a-6']);
  });

  it('removes old sandboxes that are stopped and emptied, never the newest', () => {
    const pod: RuntimePod = {
      uid: 'u',
      name: 'p',
      namespace: 'default',
      sandboxes: [
        { id: 's3', attempt: 2, ready: false, createdAt: 3, ip: '', additionalIps: [] },
        { id: 's2', attempt: 1, ready: false, createdAt: 2, ip: '', additionalIps: [] },
        { id: 's1', attempt: 0, ready: false, createdAt: 1, ip: '', additionalIps: [] },
      ],
      containers: [c('a', 'exited', 9, 's2'), c('a', 'exited', 8, 's1')],
    };
    const removing = new Set(deadContainersToRemove(pod));
    assert.deepEqual([...removing], ['a-8']);
    assert.deepEqual(sandboxesToRemove(pod, removing), ['s1']);
  });
});
