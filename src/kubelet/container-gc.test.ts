import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { deadContainersToRemove, sandboxesToRemove } from './container-gc.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';

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
