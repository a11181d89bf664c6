import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generatePodConditions, type PodConditionInputs } from './pod-conditions.js';

const base = (over: Partial<PodConditionInputs> = {}): PodConditionInputs => ({
  phase: 'Running',
  initContainers: [],
  initContainerStatuses: [],
  containers: [{ name: 'app' }],
  containerStatuses: [{ name: 'app', ready: true }],
  readinessGates: [],
  sandboxReady: true,
  anyContainerStarted: true,
  observed: [],
  now: '2026-01-01T00:00:00Z',
  ...over,
});

const byType = (list: { type?: unknown }[]) => new Map(list.map((c) => [c.type, c]));

describe('generatePodConditions', () => {
  it('keeps foreign conditions first and the kubelet order after them', () => {
    const list = generatePodConditions(base({ observed: [{ type: 'example.com/gate', status: 'True' }] }));
    assert.deepEqual(list.map((c) => c.type), ['example.com/gate', 'PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  });

  it('keeps lastTransitionTime while a status holds and moves it when it changes', () => {
    const observed = [
      { type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z' },
      { type: 'ContainersReady', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z' },
    ];
    const c = byType(generatePodConditions(base({ observed })));
    assert.equal((c.get('Ready') as { lastTransitionTime: string }).lastTransitionTime, '2025-01-01T00:00:00Z');
    assert.equal((c.get('ContainersReady') as { lastTransitionTime: string }).lastTransitionTime, '2026-01-01T00:00:00Z');
  });

  it('names incomplete init containers and unready containers as the kubelet does', () => {
    const c = byType(
      generatePodConditions(
        base({
          phase: 'Pending',
          anyContainerStarted: false,
          initContainers: [{ name: 'setup' }, { name: 'side', restartPolicy: 'Always' }],
          initContainerStatuses: [{ name: 'setup', state: { terminated: { exitCode: 1 } } }, { name: 'side', started: false }],
          containerStatuses: [{ name: 'app', ready: false }],
        }),
      ),
    );
    assert.deepEqual(c.get('Initialized'), { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [setup side]', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:00Z' });
    assert.equal((c.get('ContainersReady') as { message: string }).message, 'containers with unready status: [side app]');
  });

  it('holds Ready back on an unmet readiness gate', () => {
    const c = byType(generatePodConditions(base({ readinessGates: ['example.com/a', 'example.com/b'], observed: [{ type: 'example.com/b', status: 'False' }] })));
    assert.equal((c.get('ContainersReady') as { status: string }).status, 'True');
    assert.deepEqual(
      { status: (c.get('Ready') as { status: string }).status, message: (c.get('Ready') as { message: string }).message },
      { status: 'False', message: 'corresponding condition of pod readiness gate "example.com/a" does not exist., the status of pod readiness gate "example.com/b" is not "True", but False' },
    );
  });
});
