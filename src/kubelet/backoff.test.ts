import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff, goDuration } from './backoff.js';

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
