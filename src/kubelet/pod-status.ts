/**
 * The API status of a pod computed from what the runtime holds, in the words of
 * the real kubelet (pkg/kubelet/kubelet_pods.go: convertToAPIContainerStatuses,
 * getPhase; the conditions come from ../api/pod-conditions.ts). Pure functions:
 * the pod worker decides when to write them.
 */
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { podQOSClass } from '../api/defaults.js';
import { generatePodConditions } from '../api/pod-conditions.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { RuntimeContainer, RuntimePod } from './runtime-state.js';

/** Why a container is waiting, kept between syncs (the kubelet's reasonCache). */
export interface WaitingReason {
  reason: string;
  message: string;
}

/** Probe results of running containers, by container id (undefined: no result yet). */
export interface ProbeResults {
  ready(containerId: string): boolean | undefined;
  started(containerId: string): boolean | undefined;
}

/** Everything besides the pod and the runtime that the status depends on. */
export interface StatusInputs {
  hostIP: string;
  /** Last failure to start each container (ErrImagePull, CrashLoopBackOff, CreateContainerConfigError…). */
  reasons: ReadonlyMap<string, WaitingReason>;
  probes: ProbeResults;
  /** The pod worker has finished with the pod: its containers will not start again. */
  podIsTerminal: boolean;
  /** The kubelet failed the pod itself (activeDeadlineSeconds): phase Failed with this reason and message. */
  failure?: { reason: string; message: string };
  now: string;
}

/** A sidecar: an init container with restartPolicy Always. */
export const isSidecar = (c: Container): boolean => c.restartPolicy === 'Always';

/** RFC 3339 seconds, as metav1.Time marshals. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** "name_namespace(uid)": format.Pod, how the kubelet names a pod in messages. */
export function formatPod(pod: KubeObject): string {
  return `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;
}

/** Whether the kubelet would start this container again (kubecontainer.ShouldContainerBeRestarted). */
export function shouldRestart(container: Container, pod: Pod, latest: RuntimeContainer | undefined): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!latest) return true;
  if (latest.state === 'running') return false;
  if (latest.state === 'unknown' || latest.state === 'created') return true;
  // A sidecar always restarts, whatever the pod's policy.
  if (isSidecar(container)) return true;
  const policy = pod.spec?.restartPolicy ?? 'Always';
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' && latest.exitCode === 0) return false;
  return true;
}

function terminatedState(c: RuntimeContainer): Record<string, unknown> {
  return {
    terminated: {
      exitCode: c.exitCode,
      reason: c.reason || (c.exitCode === 0 ? 'Completed' : 'Error'),
      ...(c.message ? { message: c.message } : {}),
      startedAt: c.startedAt ? rfc3339(c.startedAt) : null,
      finishedAt: c.finishedAt ? rfc3339(c.finishedAt) : null,
      containerID: `containerd://${c.id}`,
    },
  };
}

function stateOf(c: RuntimeContainer): Record<string, unknown> {
  if (c.state === 'running') return { running: { startedAt: rfc3339(c.startedAt || c.createdAt) } };
  if (c.state === 'exited') return terminatedState(c);
  return { waiting: {} };
}

type Status = ContainerStatus & Record<string, unknown>;

/** The container statuses of one list of containers (init or regular), as convertToAPIContainerStatuses. */
function containerStatuses(pod: Pod, runtime: RuntimePod | undefined, specs: Container[], isInit: boolean, inputs: StatusInputs): Status[] {
  const hasInit = (pod.spec?.initContainers?.length ?? 0) > 0;
  const old = new Map((isInit ? pod.status?.initContainerStatuses : pod.status?.containerStatuses)?.map((s) => [s.name, s]) ?? []);
  const statuses = new Map<string, Status>();
  for (const spec of specs) {
    const status: Status = { name: spec.name, image: spec.image ?? '', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: hasInit ? 'PodInitializing' : 'ContainerCreating' } }, lastState: {} };
    const before = old.get(spec.name);
    if (before) {
      if (before.state?.terminated) Object.assign(status, structuredClone(before));
      else {
        status.restartCount = before.restartCount ?? 0;
        status.lastState = before.lastState ?? {};
      }
    }
    statuses.set(spec.name, status);
  }

  // The newest instance gives the state, the one before it the last state.
  const seen = new Map<string, number>();
  for (const c of runtime?.containers ?? []) {
    const status = statuses.get(c.name);
    if (!status) continue;
    const count = seen.get(c.name) ?? 0;
    if (count >= 2) continue;
    seen.set(c.name, count + 1);
    if (count === 0) {
      status.state = stateOf(c) as ContainerStatus['state'];
      status.containerID = `containerd://${c.id}`;
      status.image = c.image || status.image;
      status.imageID = c.imageRef;
      status.restartCount = c.restartCount;
      status.lastState = {};
    } else {
      status.lastState = stateOf(c) as ContainerStatus['lastState'];
    }
  }

  // Containers that will be started again wait, with the reason of their last failure.
  for (const spec of specs) {
    const latest = runtime?.containers.find((c) => c.name === spec.name);
    if (isInit && latest?.state === 'exited' && latest.exitCode === 0) continue;
    if (!shouldRestart(spec, pod, latest)) continue;
    const reason = inputs.reasons.get(spec.name);
    if (!reason) continue;
    const status = statuses.get(spec.name)!;
    if (status.state?.terminated) status.lastState = status.state;
    status.state = { waiting: { reason: reason.reason, ...(reason.message ? { message: reason.message } : {}) } };
  }

  // Readiness and startup (prober manager's UpdatePodStatus).
  for (const spec of specs) {
    const status = statuses.get(spec.name)!;
    const running = status.state?.running !== undefined;
    const id = status.containerID?.replace(/^containerd:\/\//, '') ?? '';
    if (isInit && !isSidecar(spec)) {
      status.ready = status.state?.terminated !== undefined && status.state.terminated.exitCode === 0;
      status.started = running;
      continue;
    }
    if (!running) {
      status.ready = false;
      status.started = false;
      continue;
    }
    const started = spec.startupProbe ? (inputs.probes.started(id) ?? false) : true;
    status.started = started;
    status.ready = started && (spec.readinessProbe ? (inputs.probes.ready(id) ?? false) : true);
  }

  // The mounts as the spec asks for them (RecursiveReadOnlyMounts: read-only ones say "Disabled").
  for (const spec of specs) {
    if (!spec.volumeMounts?.length) continue;
    statuses.get(spec.name)!.volumeMounts = spec.volumeMounts.map((m) => ({ name: m.name, mountPath: m.mountPath, ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}) }));
  }

  const list = specs.map((s) => statuses.get(s.name)!);
  if (!isInit) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return list;
}

/** The pod phase (getPhase in kubelet_pods.go, without the ContainerRestartRules gate). */
export function podPhase(pod: Pod, init: Status[], regular: Status[], podIsTerminal: boolean, podHasInitialized: boolean): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  const spec = pod.spec!;
  const byName = new Map([...init, ...regular].map((s) => [s.name, s]));
  let pendingInit = 0;
  let pendingSidecars = 0;
  let failedInit = 0;
  for (const c of spec.initContainers ?? []) {
    if (isSidecar(c)) continue;
    const s = byName.get(c.name);
    if (!s || s.state?.running) pendingInit++;
    else if (s.state?.terminated) {
      if (s.state.terminated.exitCode !== 0) failedInit++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated && s.lastState.terminated.exitCode !== 0) failedInit++;
      else if (!s.lastState?.terminated) pendingInit++;
    } else pendingInit++;
  }
  let unknown = 0;
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const c of spec.initContainers ?? []) {
    if (!isSidecar(c)) continue;
    const s = byName.get(c.name);
    if (!s) unknown++;
    else if (s.state?.running) {
      if (!s.started) pendingSidecars++;
      running++;
    } else if (s.state?.waiting && !s.lastState?.terminated) {
      pendingSidecars++;
      waiting++;
    } else if (!s.state?.terminated && !s.state?.waiting) {
      pendingSidecars++;
      unknown++;
    }
  }
  for (const c of spec.containers) {
    const s = byName.get(c.name);
    if (!s) unknown++;
    else if (s.state?.running) running++;
    else if (s.state?.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.state?.waiting) {
      if (s.lastState?.terminated) stopped++;
      else waiting++;
    } else unknown++;
  }
  const policy = spec.restartPolicy ?? 'Always';
  if (failedInit > 0 && policy === 'Never') return 'Failed';
  if (pendingInit > 0 || (pendingSidecars > 0 && !podHasInitialized) || waiting > 0) return 'Pending';
  if (running > 0 && unknown === 0) return 'Running';
  if (running === 0 && stopped > 0 && unknown === 0) {
    if (podIsTerminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/**
 * The status the kubelet writes for a pod: every field it owns, computed over
 * the status the API holds (conditions owned by others and qosClass are kept;
 * a condition's lastTransitionTime only moves when its status changes).
 */
export function generatePodStatus(pod: Pod, runtime: RuntimePod | undefined, inputs: StatusInputs): PodStatus & Record<string, unknown> {
  const spec = pod.spec!;
  const old = pod.status ?? {};
  const init = containerStatuses(pod, runtime, spec.initContainers ?? [], true, inputs);
  const regular = containerStatuses(pod, runtime, spec.containers, false, inputs);
  const regularNames = new Set(spec.containers.map((c) => c.name));
  const anyRegularStarted = (runtime?.containers ?? []).some((c) => regularNames.has(c.name) && c.state !== 'unknown');
  let phase: string = podPhase(pod, init, regular, inputs.podIsTerminal, anyRegularStarted);
  if (inputs.failure) phase = 'Failed';
  // A terminal phase is never left.
  if (old.phase === 'Succeeded' || old.phase === 'Failed') phase = old.phase;

  const sandbox = runtime?.sandboxes[0];
  const conditions = generatePodConditions({
    phase,
    initContainers: spec.initContainers ?? [],
    initContainerStatuses: init,
    containers: spec.containers,
    containerStatuses: regular,
    readinessGates: (spec.readinessGates ?? []).map((g) => g.conditionType),
    sandboxReady: !!sandbox?.ready && (!!sandbox.ip || spec.hostNetwork === true),
    anyContainerStarted: anyRegularStarted,
    observed: old.conditions ?? [],
    now: inputs.now,
  });

  const status: PodStatus & Record<string, unknown> = {
    phase,
    conditions: conditions as PodCondition[],
    hostIP: inputs.hostIP,
    hostIPs: [{ ip: inputs.hostIP }],
  };
  if (inputs.failure) {
    status.reason = inputs.failure.reason;
    status.message = inputs.failure.message;
  } else if (old.phase === phase) {
    if (old.reason) status.reason = old.reason;
    if (old.message) status.message = old.message;
  }
  if (spec.hostNetwork) {
    status.podIP = inputs.hostIP;
    status.podIPs = [{ ip: inputs.hostIP }];
  } else if (sandbox?.ready && sandbox.ip) {
    status.podIP = sandbox.ip;
    status.podIPs = [{ ip: sandbox.ip }, ...sandbox.additionalIps.map((ip) => ({ ip }))];
  } else if (old.podIP) {
    // A stopped sandbox no longer reports its address; the pod keeps the one it had.
    status.podIP = old.podIP;
    status.podIPs = old.podIPs ?? [{ ip: old.podIP }];
  }
  status.startTime = old.startTime ?? inputs.now;
  status.qosClass = old.qosClass ?? podQOSClass(pod as unknown as KubeObject);
  if (init.length) status.initContainerStatuses = init;
  status.containerStatuses = regular;
  return status;
}

/**
 * JSON with sorted keys and without null members: equal values give equal
 * strings whatever the key order.
 */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .filter((k) => obj[k] !== undefined && obj[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Whether two statuses differ in a way worth a write. */
export function statusChanged(before: unknown, after: unknown): boolean {
  return stableStringify(before ?? {}) !== stableStringify(after ?? {});
}
