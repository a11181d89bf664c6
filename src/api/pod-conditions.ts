/**
 * The pod conditions a kubelet owns, in the words of the real one
 * (pkg/kubelet/status/generate.go: GeneratePodReadyToStartContainersCondition,
 * GeneratePodInitializedCondition, GenerateContainersReadyCondition,
 * GeneratePodReadyCondition). Shared by the containerd kubelet and the
 * simulated nodes, which compute container statuses differently but report
 * conditions the same way. Pure and dependency-free, so either may import it.
 */

/** Condition types the kubelet owns (kubetypes.PodConditionByKubelet). */
export const KUBELET_POD_CONDITIONS: ReadonlySet<string> = new Set(['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);

/** A condition as the API already holds it (only the fields read here). */
export interface ObservedCondition {
  type?: unknown;
  status?: unknown;
  lastTransitionTime?: unknown;
}

/** A condition before it is stamped with its times. */
export interface ConditionValue {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** A condition as the kubelet writes it. */
export interface StampedCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

/** The container spec fields the conditions read (a v1.Container fits). */
export interface ConditionContainer {
  name: string;
  /** Init containers only: "Always" makes it a sidecar. */
  restartPolicy?: string;
}

/** The container status fields the conditions read (a v1.ContainerStatus fits). */
export interface ConditionContainerStatus {
  name: string;
  ready?: boolean;
  started?: boolean;
  state?: { terminated?: { exitCode?: number } };
}

/** Everything the kubelet-owned conditions of a pod depend on. */
export interface PodConditionInputs {
  phase: string;
  initContainers: readonly ConditionContainer[];
  initContainerStatuses: readonly ConditionContainerStatus[];
  containers: readonly ConditionContainer[];
  containerStatuses: readonly ConditionContainerStatus[];
  /** spec.readinessGates[].conditionType */
  readinessGates: readonly string[];
  /** The sandbox exists and has its network (PodReadyToStartContainers). */
  sandboxReady: boolean;
  /** A regular container has been started: the pod is initialized whatever its init containers say now. */
  anyContainerStarted: boolean;
  /** The conditions the API holds now (lastTransitionTime kept when a status does not change; others' conditions kept). */
  observed: readonly ObservedCondition[];
  /** RFC 3339 time of this computation. */
  now: string;
}

/** Go's %s of a []string: "[a b]". */
const goList = (names: string[]): string => `[${names.join(' ')}]`;

const isSidecar = (c: ConditionContainer): boolean => c.restartPolicy === 'Always';

const condition = (type: string, status: 'True' | 'False', reason?: string, message?: string): ConditionValue => ({ type, status, ...(reason ? { reason } : {}), ...(message ? { message } : {}) });

/** Stamps a condition with its times: lastTransitionTime only moves when the status changes (as the status manager does). */
export function stampCondition(c: ConditionValue, observed: readonly ObservedCondition[], now: string): StampedCondition {
  const before = observed.find((o) => o.type === c.type);
  const kept = before && before.status === c.status && typeof before.lastTransitionTime === 'string' && before.lastTransitionTime ? before.lastTransitionTime : undefined;
  return { ...c, lastProbeTime: null, lastTransitionTime: kept ?? now };
}

/** The observed conditions other components own (kept, ahead of the kubelet's). */
export function foreignConditions<T extends ObservedCondition>(observed: readonly T[]): T[] {
  return observed.filter((c) => !(typeof c.type === 'string' && KUBELET_POD_CONDITIONS.has(c.type)));
}

function initializedCondition(inputs: PodConditionInputs): ConditionValue {
  if (inputs.phase === 'Succeeded') return condition('Initialized', 'True', 'PodCompleted');
  if (inputs.initContainers.length === 0 || inputs.anyContainerStarted) return condition('Initialized', 'True');
  const incomplete = inputs.initContainers
    .filter((c) => {
      const s = inputs.initContainerStatuses.find((x) => x.name === c.name);
      return isSidecar(c) ? !s?.started : !(s?.state?.terminated && s.state.terminated.exitCode === 0);
    })
    .map((c) => c.name);
  return incomplete.length ? condition('Initialized', 'False', 'ContainersNotInitialized', `containers with incomplete status: ${goList(incomplete)}`) : condition('Initialized', 'True');
}

function containersReadyCondition(inputs: PodConditionInputs): ConditionValue {
  if (inputs.phase === 'Succeeded') return condition('ContainersReady', 'False', 'PodCompleted');
  if (inputs.phase === 'Failed') return condition('ContainersReady', 'False', 'PodFailed');
  const unready = [
    ...inputs.initContainers.filter((c) => isSidecar(c) && !inputs.initContainerStatuses.find((s) => s.name === c.name)?.ready).map((c) => c.name),
    ...inputs.containers.filter((c) => !inputs.containerStatuses.find((s) => s.name === c.name)?.ready).map((c) => c.name),
  ];
  return unready.length ? condition('ContainersReady', 'False', 'ContainersNotReady', `containers with unready status: ${goList(unready)}`) : condition('ContainersReady', 'True');
}

function readyCondition(containersReady: ConditionValue, inputs: PodConditionInputs): ConditionValue {
  if (containersReady.status !== 'True') return { ...containersReady, type: 'Ready' };
  const unmet: string[] = [];
  for (const gate of inputs.readinessGates) {
    const c = inputs.observed.find((o) => o.type === gate);
    if (!c) unmet.push(`corresponding condition of pod readiness gate "${gate}" does not exist.`);
    else if (c.status !== 'True') unmet.push(`the status of pod readiness gate "${gate}" is not "True", but ${String(c.status)}`);
  }
  return unmet.length ? condition('Ready', 'False', 'ReadinessGatesNotReady', unmet.join(', ')) : { ...containersReady, type: 'Ready' };
}

/**
 * The pod's conditions as the kubelet writes them: the conditions others own
 * (kept as observed), then PodReadyToStartContainers, Initialized, Ready,
 * ContainersReady and PodScheduled, each stamped with its times.
 */
export function generatePodConditions<T extends ObservedCondition>(inputs: PodConditionInputs & { observed: readonly T[] }): (T | StampedCondition)[] {
  const stamp = (c: ConditionValue) => stampCondition(c, inputs.observed, inputs.now);
  const containersReady = containersReadyCondition(inputs);
  return [
    ...foreignConditions(inputs.observed),
    stamp(condition('PodReadyToStartContainers', inputs.sandboxReady ? 'True' : 'False')),
    stamp(initializedCondition(inputs)),
    stamp(readyCondition(containersReady, inputs)),
    stamp(containersReady),
    stamp(condition('PodScheduled', 'True')),
  ];
}
