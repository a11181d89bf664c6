/**
 * What the scheduler needs to know about a pod, parsed once when the pod is
 * seen (framework.PodInfo): requests, host ports, tolerations, node
 * selection, inter-pod (anti-)affinity terms with compiled selectors, spread
 * constraints and images. Filters and scores read only these fields.
 */
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { labelSelectorFromSpec, NOTHING_LABEL_SELECTOR, type LabelSelector, type LabelSelectorSpec } from '../apimachinery/selectors.js';
import { podRequests, type Resources } from './resources.js';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | string;

export interface Taint {
  key: string;
  value: string;
  effect: TaintEffect;
}

export interface Toleration {
  key: string;
  operator: string;
  value: string;
  effect: string;
}

/** v1.Toleration.ToleratesTaint. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect !== '' && t.effect !== taint.effect) return false;
  if (t.key !== '' && t.key !== taint.key) return false;
  switch (t.operator) {
    case '':
    case 'Equal':
      return t.value === taint.value;
    case 'Exists':
      return true;
    default:
      return false;
  }
}

/** v1helper.TolerationsTolerateTaint. */
export function tolerationsTolerate(tolerations: readonly Toleration[], taint: Taint): boolean {
  for (const t of tolerations) if (toleratesTaint(t, taint)) return true;
  return false;
}

/** A host port a container asks for; ip "0.0.0.0" and protocol "TCP" when unset. */
export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

/** One term of inter-pod (anti-)affinity, with its namespaces resolved as Kubernetes does. */
export interface AffinityTerm {
  namespaces: Set<string>;
  /** Nothing when the term has no namespaceSelector. */
  namespaceSelector: LabelSelector;
  selector: LabelSelector;
  topologyKey: string;
}

export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** AffinityTerm.Matches: the pod is in one of the term's namespaces (or a namespace the selector picks) and has matching labels. */
export function affinityTermMatches(term: AffinityTerm, pod: PodInfo, namespaceLabels: Readonly<Record<string, string>> | undefined): boolean {
  if (term.namespaces.has(pod.namespace) || term.namespaceSelector.matches(namespaceLabels ?? {})) return term.selector.matches(pod.labels);
  return false;
}

/** One requirement of a NodeSelectorTerm (In, NotIn, Exists, DoesNotExist, Gt, Lt). */
interface NodeRequirement {
  key: string;
  operator: string;
  values: string[];
}

/** A compiled NodeSelectorTerm; `invalid` terms match no node (as a term that fails to parse). */
export interface NodeSelectorTerm {
  expressions: NodeRequirement[];
  fields: NodeRequirement[];
  invalid: boolean;
}

export interface PreferredNodeTerm {
  weight: number;
  term: NodeSelectorTerm;
}

/** A topologySpreadConstraint with its selector compiled (matchLabelKeys merged in). */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  selector: LabelSelector;
  minDomains: number;
  /** Honor (default) or Ignore. */
  nodeAffinityPolicy: string;
  /** Ignore (default) or Honor. */
  nodeTaintsPolicy: string;
}

/** The parsed pod. */
export interface PodInfo {
  uid: string;
  namespace: string;
  name: string;
  /** "namespace/name". */
  key: string;
  pod: KubeObject;
  labels: Readonly<Record<string, string>>;
  nodeName: string;
  schedulerName: string;
  priority: number;
  preemptionPolicy: string;
  deleting: boolean;
  /** Succeeded or Failed: holds no resources any more. */
  terminal: boolean;
  gated: boolean;
  requests: Resources;
  /** Requests with the scoring defaults for containers that request no cpu/memory. */
  nonZeroMilliCpu: number;
  nonZeroMemory: number;
  hostPorts: HostPort[];
  tolerations: Toleration[];
  nodeSelector?: Readonly<Record<string, string>>;
  /** null: no required node affinity. */
  requiredNodeTerms: NodeSelectorTerm[] | null;
  preferredNodeTerms: PreferredNodeTerm[];
  /** Has pod affinity or anti-affinity of any kind (NodeInfo.PodsWithAffinity). */
  hasPodAffinity: boolean;
  requiredAffinityTerms: AffinityTerm[];
  requiredAntiAffinityTerms: AffinityTerm[];
  preferredAffinityTerms: WeightedAffinityTerm[];
  preferredAntiAffinityTerms: WeightedAffinityTerm[];
  spreadConstraints: SpreadConstraint[];
  /** Normalized image names of init and app containers (for ImageLocality). */
  images: string[];
  containerCount: number;
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function arr(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value.filter(isObject) as Record<string, unknown>[]) : [];
}

/** Selector compilation that never throws: an invalid selector selects nothing. */
function compileSelector(spec: unknown): LabelSelector {
  if (!isObject(spec)) return NOTHING_LABEL_SELECTOR;
  try {
    return labelSelectorFromSpec(spec as LabelSelectorSpec);
  } catch {
    return NOTHING_LABEL_SELECTOR;
  }
}

function affinityTerm(podNamespace: string, raw: Record<string, unknown>): AffinityTerm {
  const namespaces = Array.isArray(raw.namespaces) ? raw.namespaces.filter((n): n is string => typeof n === 'string') : [];
  const hasNamespaceSelector = raw.namespaceSelector !== undefined && raw.namespaceSelector !== null;
  return {
    namespaces: new Set(namespaces.length === 0 && !hasNamespaceSelector ? [podNamespace] : namespaces),
    namespaceSelector: hasNamespaceSelector ? compileSelector(raw.namespaceSelector) : NOTHING_LABEL_SELECTOR,
    selector: compileSelector(raw.labelSelector),
    topologyKey: str(raw.topologyKey),
  };
}

function weightedTerms(podNamespace: string, raw: unknown): WeightedAffinityTerm[] {
  return arr(raw).map((w) => ({ ...affinityTerm(podNamespace, isObject(w.podAffinityTerm) ? w.podAffinityTerm : {}), weight: Number(w.weight) || 0 }));
}

const NODE_OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']);
const INTEGER = /^[+-]?[0-9]+$/;

function requirementValid(r: NodeRequirement, field: boolean): boolean {
  if (!NODE_OPERATORS.has(r.operator)) return false;
  if (field) return r.key === 'metadata.name' && (r.operator === 'In' || r.operator === 'NotIn') && r.values.length === 1;
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      return r.values.length > 0;
    case 'Exists':
    case 'DoesNotExist':
      return r.values.length === 0;
    default:
      return r.values.length === 1 && INTEGER.test(r.values[0]!);
  }
}

/** Compiles a NodeSelectorTerm; an empty term selects nothing. */
export function compileNodeSelectorTerm(raw: Record<string, unknown>): NodeSelectorTerm {
  const req = (r: Record<string, unknown>): NodeRequirement => ({
    key: str(r.key),
    operator: str(r.operator),
    values: Array.isArray(r.values) ? r.values.map(String) : [],
  });
  const expressions = arr(raw.matchExpressions).map(req);
  const fields = arr(raw.matchFields).map(req);
  if (expressions.length === 0 && fields.length === 0) return { expressions, fields, invalid: true };
  const invalid = expressions.some((r) => !requirementValid(r, false)) || fields.some((r) => !requirementValid(r, true));
  return { expressions, fields, invalid };
}

function requirementMatches(r: NodeRequirement, value: string | undefined): boolean {
  switch (r.operator) {
    case 'In':
      return value !== undefined && r.values.includes(value);
    case 'NotIn':
      return value === undefined || !r.values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !INTEGER.test(value)) return false;
      const have = BigInt(value);
      const want = BigInt(r.values[0]!);
      return r.operator === 'Gt' ? have > want : have < want;
    }
    default:
      return false;
  }
}

/** Whether a node (labels + name) matches one compiled term: every expression and field requirement. */
export function nodeSelectorTermMatches(term: NodeSelectorTerm, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  if (term.invalid) return false;
  for (const r of term.expressions) {
    const value = Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined;
    if (!requirementMatches(r, value)) return false;
  }
  for (const r of term.fields) if (!requirementMatches(r, nodeName)) return false;
  return true;
}

/** GetRequiredNodeAffinity(pod).Match(node): nodeSelector labels and (if any) one of the required terms. */
export function matchesRequiredNodeAffinity(pod: PodInfo, labels: Readonly<Record<string, string>>, nodeName: string): boolean {
  if (pod.nodeSelector) {
    for (const key in pod.nodeSelector) {
      if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== pod.nodeSelector[key]) return false;
    }
  }
  if (pod.requiredNodeTerms === null) return true;
  for (const term of pod.requiredNodeTerms) if (nodeSelectorTermMatches(term, labels, nodeName)) return true;
  return false;
}

/** Docker's implicit ":latest" (imagelocality.normalizedImageName). */
export function normalizedImageName(name: string): string {
  return name.lastIndexOf(':') <= name.lastIndexOf('/') ? `${name}:latest` : name;
}

function spreadConstraints(raw: unknown, podLabels: Readonly<Record<string, string>>): SpreadConstraint[] {
  return arr(raw).map((c) => {
    let selectorSpec = isObject(c.labelSelector) ? (c.labelSelector as LabelSelectorSpec) : undefined;
    // matchLabelKeys: the pod's own values of these keys are ANDed into the selector.
    const keys = Array.isArray(c.matchLabelKeys) ? c.matchLabelKeys.filter((k): k is string => typeof k === 'string') : [];
    if (selectorSpec && keys.length > 0) {
      const extra = keys.filter((k) => podLabels[k] !== undefined).map((k) => ({ key: k, operator: 'In', values: [podLabels[k]!] }));
      selectorSpec = { ...selectorSpec, matchExpressions: [...(selectorSpec.matchExpressions ?? []), ...extra] };
    }
    return {
      maxSkew: Number(c.maxSkew) || 0,
      topologyKey: str(c.topologyKey),
      whenUnsatisfiable: str(c.whenUnsatisfiable),
      selector: compileSelector(selectorSpec),
      minDomains: typeof c.minDomains === 'number' ? c.minDomains : 1,
      nodeAffinityPolicy: str(c.nodeAffinityPolicy) || 'Honor',
      nodeTaintsPolicy: str(c.nodeTaintsPolicy) || 'Ignore',
    };
  });
}

/** Parses a pod (as the API returns it) into a PodInfo. */
export function parsePod(pod: KubeObject): PodInfo {
  const meta = pod.metadata;
  const spec = (isObject(pod.spec) ? pod.spec : {}) as Record<string, unknown>;
  const status = isObject(pod.status) ? pod.status : {};
  const namespace = meta.namespace ?? '';
  const labels = (meta.labels ?? {}) as Record<string, string>;
  const containers = arr(spec.containers);
  const initContainers = arr(spec.initContainers);

  const hostPorts: HostPort[] = [];
  for (const c of containers) {
    for (const p of arr(c.ports)) {
      const port = Number(p.hostPort) || 0;
      if (port <= 0) continue;
      hostPorts.push({ ip: str(p.hostIP) || '0.0.0.0', protocol: str(p.protocol) || 'TCP', port });
    }
  }

  const tolerations: Toleration[] = arr(spec.tolerations).map((t) => ({ key: str(t.key), operator: str(t.operator), value: str(t.value), effect: str(t.effect) }));

  const affinity = isObject(spec.affinity) ? spec.affinity : {};
  const nodeAffinity = isObject(affinity.nodeAffinity) ? affinity.nodeAffinity : undefined;
  let requiredNodeTerms: NodeSelectorTerm[] | null = null;
  const requiredNode = nodeAffinity && isObject(nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution) ? nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution : undefined;
  if (requiredNode) {
    requiredNodeTerms = [];
    for (const raw of arr(requiredNode.nodeSelectorTerms)) requiredNodeTerms.push(compileNodeSelectorTerm(raw));
  }
  const preferredNodeTerms: PreferredNodeTerm[] = [];
  for (const p of arr(nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution)) {
    const weight = Number(p.weight) || 0;
    const term = compileNodeSelectorTerm(isObject(p.preference) ? p.preference : {});
    if (weight !== 0 && !term.invalid) preferredNodeTerms.push({ weight, term });
  }

  const podAffinity = isObject(affinity.podAffinity) ? affinity.podAffinity : undefined;
  const podAntiAffinity = isObject(affinity.podAntiAffinity) ? affinity.podAntiAffinity : undefined;

  const images: string[] = [];
  for (const c of [...initContainers, ...containers]) if (typeof c.image === 'string' && c.image) images.push(normalizedImageName(c.image));

  const requests = podRequests(spec);
  const nonZero = podRequests(spec, true);
  const phase = str(status.phase);

  return {
    uid: meta.uid ?? `${namespace}/${meta.name}`,
    namespace,
    name: meta.name ?? '',
    key: `${namespace}/${meta.name}`,
    pod,
    labels,
    nodeName: str(spec.nodeName),
    schedulerName: str(spec.schedulerName) || 'default-scheduler',
    priority: typeof spec.priority === 'number' ? spec.priority : 0,
    preemptionPolicy: str(spec.preemptionPolicy) || 'PreemptLowerPriority',
    deleting: Boolean(meta.deletionTimestamp),
    terminal: phase === 'Succeeded' || phase === 'Failed',
    gated: Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0,
    requests,
    nonZeroMilliCpu: nonZero.milliCpu,
    nonZeroMemory: nonZero.memory,
    hostPorts,
    tolerations,
    nodeSelector: isObject(spec.nodeSelector) ? (spec.nodeSelector as Record<string, string>) : undefined,
    requiredNodeTerms,
    preferredNodeTerms,
    hasPodAffinity: podAffinity !== undefined || podAntiAffinity !== undefined,
    requiredAffinityTerms: arr(podAffinity?.requiredDuringSchedulingIgnoredDuringExecution).map((t) => affinityTerm(namespace, t)),
    requiredAntiAffinityTerms: arr(podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution).map((t) => affinityTerm(namespace, t)),
    preferredAffinityTerms: weightedTerms(namespace, podAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    preferredAntiAffinityTerms: weightedTerms(namespace, podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution),
    spreadConstraints: spreadConstraints(spec.topologySpreadConstraints, labels),
    images,
    containerCount: containers.length + initContainers.length,
  };
}
