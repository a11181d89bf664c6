import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { summarizePod } from '../api/printers.js';
import { generatePodStatus, statusChanged, type StatusInputs, type WaitingReason } from './pod-status.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';

const NOW = '2026-01-01T00:00:10Z';
let nextId = 1;

function pod(spec: Partial<NonNullable<Pod['spec']>>, status: Pod['status'] = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'uid-1', resourceVersion: '5' },
    spec: { containers: [{ name: 'main', image: 'busybox' }], ...spec },
    status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }], ...status },
  };
}

function container(name: string, state: RuntimeContainer['state'], extra: Partial<RuntimeContainer> = {}): RuntimeContainer {
  const id = String(nextId++).padStart(64, '0');
  return {
    id,
    sandboxId: 's1',
    name,
    state,
    createdAt: 1_000 + nextId,
    startedAt: 2_000,
    finishedAt: state === 'exited' ? 3_000 : 0,
    exitCode: 0,
    reason: state === 'exited' ? 'Completed' : '',
    message: '',
    image: 'docker.io/library/busybox:latest',
    imageRef: 'docker.io/library/busybox@sha256:abc',
    restartCount: 0,
    hash: '',
    logPath: '',
    annotations: {},
    ...extra,
  };
}

function runtime(...containers: RuntimeContainer[]): RuntimePod {
  // Newest first, as the reader sorts them.
  return { uid: 'uid-1', name: 'p', namespace: 'default', sandboxes: [{ id: 's1', attempt: 0, ready: true, createdAt: 500, ip: '10.42.1.5', additionalIps: [] }], containers: [...containers].sort((a, b) => b.createdAt - a.createdAt) };
}

function inputs(reasons: Record<string, WaitingReason> = {}, podIsTerminal = false): StatusInputs {
  return { hostIP: '192.0.2.1', reasons: new Map(Object.entries(reasons)), probes: { ready: () => undefined, started: () => undefined }, podIsTerminal, now: NOW };
}

/** The STATUS column kubectl shows for a pod with this status. */
const column = (p: Pod, status: Pod['status']): string => summarizePod({ ...p, status }, new Date(NOW)).status;

describe('pod status', () => {
  it('before any container: Pending, ContainerCreating, conditions with reasons', () => {
    const p = pod({});
    const s = generatePodStatus(p, undefined, inputs());
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(column(p, s), 'ContainerCreating');
    const ready = s.conditions!.find((c) => c.type === 'Ready')!;
    assert.equal(ready.reason, 'ContainersNotReady');
    assert.equal(ready.message, 'containers with unready status: [main]');
    assert.equal(s.conditions!.find((c) => c.type === 'PodScheduled')!.lastTransitionTime, '2026-01-01T00:00:00Z');
    assert.equal(s.startTime, NOW);
  });

  it('a running container: Running, ready, IP from the sandbox, containerd:// id', () => {
    const p = pod({});
    const c = container('main', 'running');
    const s = generatePodStatus(p, runtime(c), inputs());
    assert.equal(s.phase, 'Running');
    assert.equal(s.podIP, '10.42.1.5');
    const cs = s.containerStatuses![0];
    assert.equal(cs.containerID, `containerd://${c.id}`);
    assert.equal(cs.ready, true);
    assert.equal(cs.started, true);
    assert.equal(cs.imageID, 'docker.io/library/busybox@sha256:abc');
    assert.deepEqual(cs.state, { running: { startedAt: '1970-01-01T00:00:02Z' } });
    assert.equal(column(p, s), 'Running');
  });

  it('init containers: Init:0/1 while the first runs, PodInitializing for the rest', () => {
    const p = pod({ initContainers: [{ name: 'init', image: 'busybox' }] });
    const s = generatePodStatus(p, runtime(container('init', 'running')), inputs());
    assert.equal(s.phase, 'Pending');
    assert.equal(s.containerStatuses![0].state!.waiting!.reason, 'PodInitializing');
    assert.equal(column(p, s), 'Init:0/1');
    const initialized = s.conditions!.find((c) => c.type === 'Initialized')!;
    assert.equal(initialized.status, 'False');
    assert.equal(initialized.message, 'containers with incomplete status: [init]');
    const done = generatePodStatus(p, runtime(container('init', 'exited'), container('main', 'running')), inputs());
    assert.equal(done.phase, 'Running');
    assert.equal(done.initContainerStatuses![0].ready, true);
    assert.equal(column(p, done), 'Running');
  });

  it('a failed init container under Never fails the pod: Init:Error', () => {
    const p = pod({ restartPolicy: 'Never', initContainers: [{ name: 'init', image: 'busybox' }] });
    const s = generatePodStatus(p, runtime(container('init', 'exited', { exitCode: 1, reason: 'Error' })), inputs({}, true));
    assert.equal(s.phase, 'Failed');
    assert.equal(column(p, s), 'Init:Error');
  });

  it('exit codes under Never: Completed → Succeeded, Error → Failed, OOMKilled', () => {
    const p = pod({ restartPolicy: 'Never' });
    const ok = generatePodStatus(p, runtime(container('main', 'exited')), inputs({}, true));
    assert.equal(ok.phase, 'Succeeded');
    assert.equal(column(p, ok), 'Completed');
    assert.equal(ok.conditions!.find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
    const bad = generatePodStatus(p, runtime(container('main', 'exited', { exitCode: 3, reason: 'Error' })), inputs({}, true));
    assert.equal(bad.phase, 'Failed');
    assert.equal(bad.containerStatuses![0].state!.terminated!.exitCode, 3);
    assert.equal(column(p, bad), 'Error');
    const oom = generatePodStatus(p, runtime(container('main', 'exited', { exitCode: 137, reason: 'OOMKilled' })), inputs({}, true));
    assert.equal(column(p, oom), 'OOMKilled');
  });

  it('a container in back-off waits with CrashLoopBackOff; the exit is its last state', () => {
    const p = pod({});
    const dead = container('main', 'exited', { exitCode: 1, reason: 'Error', restartCount: 2 });
    const s = generatePodStatus(p, runtime(container('main', 'exited', { exitCode: 1, reason: 'Error', restartCount: 1, createdAt: 10 }), dead), inputs({ main: { reason: 'CrashLoopBackOff', message: 'back-off 20s restarting failed container=main pod=p_default(uid-1)' } }));
    assert.equal(s.phase, 'Running');
    const cs = s.containerStatuses![0];
    assert.equal(cs.restartCount, 2);
    assert.equal(cs.state!.waiting!.reason, 'CrashLoopBackOff');
    assert.equal(cs.lastState!.terminated!.exitCode, 1);
    assert.equal(column(p, s), 'CrashLoopBackOff');
  });

  it('a running restart keeps the previous instance as last state', () => {
    const p = pod({});
    const old = container('main', 'exited', { exitCode: 1, reason: 'Error', createdAt: 10 });
    const s = generatePodStatus(p, runtime(old, container('main', 'running', { restartCount: 1 })), inputs());
    assert.equal(s.containerStatuses![0].lastState!.terminated!.containerID, `containerd://${old.id}`);
    assert.equal(s.containerStatuses![0].restartCount, 1);
  });

  it('CreateContainerConfigError shows as the waiting reason and the STATUS', () => {
    const p = pod({});
    const message = 'container has runAsNonRoot and image will run as root (pod: "p_default(uid-1)", container: main)';
    const s = generatePodStatus(p, runtime(), inputs({ main: { reason: 'CreateContainerConfigError', message } }));
    assert.deepEqual(s.containerStatuses![0].state, { waiting: { reason: 'CreateContainerConfigError', message } });
    assert.equal(column(p, s), 'CreateContainerConfigError');
  });

  it('readiness probes decide ready; a terminal phase is never left; lastTransitionTime holds', () => {
    const p = pod({ containers: [{ name: 'main', image: 'busybox', readinessProbe: { exec: { command: ['true'] } } }] });
    const c = container('main', 'running');
    const unready = generatePodStatus(p, runtime(c), inputs());
    assert.equal(unready.containerStatuses![0].ready, false);
    const probed = { ...inputs(), probes: { ready: (id: string) => id === c.id, started: () => undefined } };
    const ready = generatePodStatus({ ...p, status: unready }, runtime(c), { ...probed, now: '2026-01-01T00:01:00Z' });
    assert.equal(ready.containerStatuses![0].ready, true);
    const cond = ready.conditions!.find((x) => x.type === 'Ready')!;
    assert.equal(cond.status, 'True');
    assert.equal(cond.lastTransitionTime, '2026-01-01T00:01:00Z');
    const again = generatePodStatus({ ...p, status: ready }, runtime(c), { ...probed, now: '2026-01-01T00:02:00Z' });
    assert.equal(again.conditions!.find((x) => x.type === 'Ready')!.lastTransitionTime, '2026-01-01T00:01:00Z');
    assert.equal(statusChanged(ready, again), false);
    const terminal = generatePodStatus(pod({}, { phase: 'Failed' }), runtime(c), inputs());
    assert.equal(terminal.phase, 'Failed');
  });
});
