/**
 * The pod status a simulated kubelet reports, computed from what the
 * simulation knows (which containers "run", since when, how they exited) in
 * the shapes and words of the real kubelet: ../api/pod-conditions.ts for
 * the conditions, kubelet_pods.go for container statuses (sorted by name,
 * init containers in spec order, volumeMounts with recursiveReadOnly).
 * Pure functions: the kubelet (./kubelet.ts) decides when to write them.
 */
import { createHash } from 'node:crypto';
import { foreignConditions, generatePodConditions, stampCondition, type ConditionContainerStatus } from '../api/pod-conditions.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';

/** Container fields the simulation needs. */
export interface ContainerSpec {
  name: string;
  image: string;
  /** Init containers only: "Always" makes it a sidecar (restartable init container). */
  restartPolicy?: string;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}

/** The parts of a Pod the simulated kubelet reads (kept instead of whole pods, to stay small at 30,000 pods). */
export interface PodView {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  nodeName: string;
  resourceVersion: number;
  deleting: boolean;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  hostNetwork: boolean;
  containers: ContainerSpec[];
  initContainers: ContainerSpec[];
  readinessGates: string[];
  /** pilote.dev/simulated-run-seconds */
  runSeconds?: number;
  /** pilote.dev/simulated-exit-code */
  exitCode?: number;
  /** The status last seen on the server. */
  status: Record<string, unknown>;
}

/** Annotation: how long the pod's containers run before they exit. */
export const RUN_SECONDS_ANNOTATION = 'pilote.dev/simulated-run-seconds';
/** Annotation: the exit code they exit with. */
export const EXIT_CODE_ANNOTATION = 'pilote.dev/simulated-exit-code';

const asString = (value: unknown): string => (typeof value === 'string' ? value : '');

function containerSpecs(list: unknown): ContainerSpec[] {
  if (!Array.isArray(list)) return [];
  return list.filter(isObject).map((c) => ({
    name: asString(c.name),
    image: asString(c.image),
    restartPolicy: typeof c.restartPolicy === 'string' ? c.restartPolicy : undefined,
    volumeMounts: Array.isArray(c.volumeMounts)
      ? c.volumeMounts.filter(isObject).map((m) => ({ name: asString(m.name), mountPath: asString(m.mountPath), ...(m.readOnly === true ? { readOnly: true } : {}) }))
      : [],
  }));
}

function annotationNumber(annotations: Record<string, string> | undefined, name: string): number | undefined {
  const raw = annotations?.[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Extracts a PodView from a Pod. */
export function podView(pod: KubeObject): PodView {
  const spec = isObject(pod.spec) ? pod.spec : {};
  const meta = pod.metadata;
  const policy = asString(spec.restartPolicy);
  const exitCode = annotationNumber(meta.annotations, EXIT_CODE_ANNOTATION);
  return {
    key: `${meta.namespace ?? ''}/${meta.name ?? ''}`,
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    uid: meta.uid ?? '',
    nodeName: asString(spec.nodeName),
    resourceVersion: Number(meta.resourceVersion ?? 0) || 0,
    deleting: Boolean(meta.deletionTimestamp),
    restartPolicy: policy === 'Never' || policy === 'OnFailure' ? policy : 'Always',
    hostNetwork: spec.hostNetwork === true,
    containers: containerSpecs(spec.containers),
    initContainers: containerSpecs(spec.initContainers),
    readinessGates: Array.isArray(spec.readinessGates) ? spec.readinessGates.filter(isObject).map((g) => asString(g.conditionType)) : [],
    runSeconds: annotationNumber(meta.annotations, RUN_SECONDS_ANNOTATION),
    exitCode: exitCode === undefined ? undefined : Math.trunc(exitCode),
    status: isObject(pod.status) ? pod.status : {},
  };
}

/** What a container is doing in the simulation. */
export interface Terminated {
  exitCode: number;
  reason: string;
  startedAt: string;
  finishedAt: string;
  containerID: string;
}

export interface ContainerState {
  /** pilote-sim://<64 hex> of the current (or last) instance; '' before the first start. */
  id: string;
  state: 'waiting' | 'running' | 'terminated';
  waitingReason?: string;
  waitingMessage?: string;
  startedAt?: string;
  terminated?: Terminated;
  lastTerminated?: Terminated;
  restartCount: number;
}

/** The pod-level stage of the simulation. */
export type PodStage = 'creating' | 'init' | 'running' | 'backoff' | 'succeeded' | 'failed' | 'rejected';

/** Everything the status is computed from. */
export interface SimulatedPodState {
  stage: PodStage;
  hostIP: string;
  podIP?: string;
  startTime: string;
  init: ContainerState[];
  main: ContainerState[];
  /** For 'rejected': the reason and message of the kubelet's admission failure. */
  rejection?: { reason: string; message: string };
}

/** A fresh container id, as a runtime would hand out. */
export function newContainerID(): string {
  return `pilote-sim://${createHash('sha256').update(`${process.hrtime.bigint()}-${Math.random()}`).digest('hex')}`;
}

/**
 * The image reference a runtime reports for an image name: "nginx" →
 * "docker.io/library/nginx:latest" (containerd's normalization).
 */
export function normalizeImage(image: string): string {
  if (!image) return image;
  let name = image;
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) name = slash < 0 ? `docker.io/library/${name}` : `docker.io/${name}`;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  if (!lastSegment.includes(':') && !name.includes('@')) name += ':latest';
  return name;
}

/** The image ID a runtime reports: the repository with a (here fake, but stable) digest. */
export function imageID(image: string): string {
  const normalized = normalizeImage(image);
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized;
  const repository = normalized.replace(/:[^:/]+$/, '');
  return `${repository}@sha256:${createHash('sha256').update(normalized).digest('hex')}`;
}

const isSidecar = (c: ContainerSpec): boolean => c.restartPolicy === 'Always';

function terminatedJson(t: Terminated): Terminated {
  return { exitCode: t.exitCode, reason: t.reason, startedAt: t.startedAt, finishedAt: t.finishedAt, containerID: t.containerID };
}

/** One v1.ContainerStatus. */
function containerStatus(spec: ContainerSpec, state: ContainerState, ready: boolean): ConditionContainerStatus & Record<string, unknown> {
  let current: { running?: { startedAt?: string }; terminated?: Terminated; waiting?: { reason: string; message?: string } };
  if (state.state === 'running') current = { running: { startedAt: state.startedAt } };
  else if (state.state === 'terminated' && state.terminated) current = { terminated: terminatedJson(state.terminated) };
  else current = { waiting: { reason: state.waitingReason ?? 'ContainerCreating', ...(state.waitingMessage ? { message: state.waitingMessage } : {}) } };
  const started = state.id !== '';
  const status: ConditionContainerStatus & Record<string, unknown> = {
    name: spec.name,
    state: current,
    lastState: state.lastTerminated ? { terminated: terminatedJson(state.lastTerminated) } : {},
    ready,
    restartCount: state.restartCount,
    image: started ? normalizeImage(spec.image) : spec.image,
    imageID: started ? imageID(spec.image) : '',
  };
  if (state.id) status.containerID = state.id;
  status.started = state.state === 'running';
  if (spec.volumeMounts.length > 0) {
    status.volumeMounts = spec.volumeMounts.map((m) => ({
      name: m.name,
      mountPath: m.mountPath,
      ...(m.readOnly ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}),
    }));
  }
  return status;
}

/** The ready flag of a container status: running main containers and sidecars are ready (no probes); completed init containers too. */
function initReady(spec: ContainerSpec, state: ContainerState): boolean {
  if (isSidecar(spec)) return state.state === 'running';
  return state.state === 'terminated' && state.terminated?.exitCode === 0;
}

/**
 * The status fields the kubelet owns for this pod, each written over the
 * server's (the other fields, e.g. qosClass, stay). Conditions keep their lastTransitionTime when their
 * status did not change (as the status manager does) and come after the
 * conditions other components own, which are kept.
 */
export function renderPodStatus(view: PodView, sim: SimulatedPodState, now: string): Record<string, unknown> {
  const observed = Array.isArray(view.status.conditions) ? view.status.conditions.filter(isObject) : [];
  if (sim.stage === 'rejected' && sim.rejection) {
    return { phase: 'Failed', reason: sim.rejection.reason, message: sim.rejection.message, conditions: [...foreignConditions(observed), stampCondition({ type: 'PodScheduled', status: 'True' }, observed, now)], startTime: sim.startTime };
  }

  const terminal = sim.stage === 'succeeded' || sim.stage === 'failed';
  const phase = sim.stage === 'creating' || sim.stage === 'init' ? 'Pending' : sim.stage === 'running' || sim.stage === 'backoff' ? 'Running' : sim.stage === 'succeeded' ? 'Succeeded' : 'Failed';

  const initStatuses = view.initContainers.map((spec, i) => containerStatus(spec, sim.init[i], initReady(spec, sim.init[i])));
  const mainStatuses = view.containers
    .map((spec, i) => containerStatus(spec, sim.main[i], sim.main[i].state === 'running'))
    .sort((a, b) => (String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0));

  // PodReadyToStartContainers: the sandbox exists (it is torn down once the pod is terminal).
  const conditions = generatePodConditions({
    phase,
    initContainers: view.initContainers,
    initContainerStatuses: initStatuses,
    containers: view.containers,
    containerStatuses: mainStatuses,
    readinessGates: view.readinessGates,
    sandboxReady: sim.stage !== 'creating' && !terminal,
    anyContainerStarted: sim.main.some((c) => c.id !== ''),
    observed,
    now,
  });

  const status: Record<string, unknown> = {
    phase,
    conditions,
    hostIP: sim.hostIP,
    hostIPs: [{ ip: sim.hostIP }],
  };
  if (sim.podIP) {
    status.podIP = sim.podIP;
    status.podIPs = [{ ip: sim.podIP }];
  }
  status.startTime = sim.startTime;
  if (initStatuses.length) status.initContainerStatuses = initStatuses;
  status.containerStatuses = mainStatuses;
  return status;
}

/**
 * JSON with sorted keys and without null members: equal values give equal
 * strings whatever the key order, and a server that drops `lastProbeTime: null`
 * does not make a status look different.
 */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .filter((k) => value[k] !== undefined && value[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** A fingerprint of `status` restricted to the given keys (what the kubelet owns). */
export function ownedFingerprint(status: Record<string, unknown>, keys: string[]): string {
  const picked: Record<string, unknown> = {};
  for (const key of keys) picked[key] = status[key] ?? null;
  return stableStringify(picked);
}
