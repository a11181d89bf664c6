/**
 * The mutating admission plugins a real API server runs by default, as far as
 * they change what a created object reads back as: ServiceAccount (default
 * account + projected token volume), Priority, DefaultTolerationSeconds and
 * LimitRanger for pods; TaintNodesByCondition for nodes; DefaultStorageClass
 * and StorageObjectInUseProtection for volumes; DefaultIngressClass.
 *
 * Each function mutates the object in place and throws a `StatusError`
 * (403 Forbidden, Kubernetes' message) when the plugin would reject it.
 * Lookups (service accounts, priority classes, …) are passed in by the caller,
 * so these functions stay synchronous and easy to test.
 */
import { forbidden } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';

type Obj = Record<string, unknown>;

function child(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isObject(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

function items(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Characters Kubernetes' random name suffixes use (no vowels, no look-alikes). */
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** Five random characters, as utilrand.String(5) makes for generated names. */
export function randomNameSuffix(length = 5): string {
  let out = '';
  for (let i = 0; i < length; i++) out += NAME_SUFFIX_ALPHABET[Math.floor(Math.random() * NAME_SUFFIX_ALPHABET.length)];
  return out;
}

/** Where the service account token volume is mounted in every container. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** Prefix of the generated projected token volume's name. */
export const SERVICE_ACCOUNT_VOLUME_PREFIX = 'kube-api-access-';
/** Token lifetime the ServiceAccount plugin requests (an hour plus 7 s, so stale tokens are noticed). */
export const SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS = 3607;

/** Lookups and knobs for pod admission. */
export interface PodAdmissionOptions {
  /**
   * The pod's ServiceAccount as found by the caller: `undefined` = not looked
   * up (treated as existing with no settings), `null` = does not exist (rejected).
   */
  serviceAccount?: KubeObject | null;
  /** PriorityClass objects of the cluster; the two system classes are always known. */
  priorityClasses?: KubeObject[];
  /** LimitRange objects of the pod's namespace, for default requests and limits. */
  limitRanges?: KubeObject[];
  /** Suffix generator for the token volume name (tests pass a fixed one). */
  randomSuffix?: () => string;
}

function podName(pod: KubeObject): string {
  return pod.metadata.name ?? '';
}

function rejectPod(pod: KubeObject, message: string): never {
  throw forbidden('', 'pods', podName(pod), message);
}

// ---------------------------------------------------------------------------
// LimitRanger
// ---------------------------------------------------------------------------

/** LimitRanger: container defaults from LimitRanges, recorded in the kubernetes.io/limit-ranger annotation. */
function applyLimitRanges(pod: KubeObject, limitRanges: KubeObject[]): void {
  const defaultLimits: Obj = {};
  const defaultRequests: Obj = {};
  for (const lr of limitRanges) {
    for (const item of items(isObject(lr.spec) ? lr.spec.limits : undefined)) {
      if (item.type !== 'Container') continue;
      Object.assign(defaultRequests, isObject(item.defaultRequest) ? item.defaultRequest : {});
      Object.assign(defaultLimits, isObject(item.default) ? item.default : {});
    }
  }
  if (Object.keys(defaultLimits).length === 0 && Object.keys(defaultRequests).length === 0) return;
  const spec = child(pod as Obj, 'spec');
  const notes: string[] = [];
  const merge = (c: Obj, prefix: string) => {
    const resources = child(c, 'resources');
    const setLimits: string[] = [];
    const setRequests: string[] = [];
    for (const [k, v] of Object.entries(defaultLimits)) {
      const limits = child(resources, 'limits');
      if (!(k in limits)) {
        limits[k] = v;
        setLimits.push(k);
      }
    }
    for (const [k, v] of Object.entries(defaultRequests)) {
      const requests = child(resources, 'requests');
      if (!(k in requests)) {
        requests[k] = v;
        setRequests.push(k);
      }
    }
    if (setRequests.length > 0) notes.push(`${setRequests.sort().join(', ')} request for ${prefix} ${String(c.name)}`);
    if (setLimits.length > 0) notes.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${String(c.name)}`);
  };
  for (const c of items(spec.containers)) merge(c, 'container');
  for (const c of items(spec.initContainers)) merge(c, 'init container');
  if (notes.length > 0) {
    pod.metadata.annotations = {
      ...(pod.metadata.annotations ?? {}),
      'kubernetes.io/limit-ranger': `LimitRanger plugin set: ${notes.join('; ')}`,
    };
  }
}

// ---------------------------------------------------------------------------
// ServiceAccount
// ---------------------------------------------------------------------------

/** The projected volume the ServiceAccount plugin adds (token, cluster CA, namespace). */
export function serviceAccountTokenVolume(name: string): Obj {
  return {
    name,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: SERVICE_ACCOUNT_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

function shouldAutomount(spec: Obj, serviceAccount: KubeObject | undefined): boolean {
  // The pod's preference wins over the service account's; the default is to mount.
  if (typeof spec.automountServiceAccountToken === 'boolean') return spec.automountServiceAccountToken;
  if (serviceAccount && typeof serviceAccount.automountServiceAccountToken === 'boolean') {
    return serviceAccount.automountServiceAccountToken;
  }
  return true;
}

function mountServiceAccountToken(spec: Obj, randomSuffix: () => string): void {
  const volumes = items(spec.volumes);
  const existing = volumes.find((v) => typeof v.name === 'string' && v.name.startsWith(SERVICE_ACCOUNT_VOLUME_PREFIX));
  const volumeName = existing ? String(existing.name) : SERVICE_ACCOUNT_VOLUME_PREFIX + randomSuffix();
  let needsVolume = false;
  // Init containers first, then regular ones; a container that already mounts something at the path is left alone.
  for (const c of [...items(spec.initContainers), ...items(spec.containers)]) {
    const mounts = items(c.volumeMounts);
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    c.volumeMounts = [...(Array.isArray(c.volumeMounts) ? c.volumeMounts : []), { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needsVolume = true;
  }
  if (!existing && needsVolume) {
    spec.volumes = [...(Array.isArray(spec.volumes) ? spec.volumes : []), serviceAccountTokenVolume(volumeName)];
  }
}

function admitServiceAccount(pod: KubeObject, options: PodAdmissionOptions): void {
  // Mirror (static) pods are the kubelet's; their spec must not change.
  if (pod.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
  const spec = child(pod as Obj, 'spec');
  if (!spec.serviceAccountName) spec.serviceAccountName = 'default';
  const saName = String(spec.serviceAccountName);
  // The deprecated alias always mirrors the real field on the v1 wire.
  spec.serviceAccount = saName;
  if (options.serviceAccount === null) {
    const ns = pod.metadata.namespace ?? '';
    rejectPod(pod, `error looking up service account ${ns}/${saName}: serviceaccount "${saName}" not found`);
  }
  const sa = options.serviceAccount ?? undefined;
  if (shouldAutomount(spec, sa)) mountServiceAccountToken(spec, options.randomSuffix ?? randomNameSuffix);
  const pullSecrets = Array.isArray(spec.imagePullSecrets) ? spec.imagePullSecrets : [];
  const saPullSecrets = items(sa?.imagePullSecrets);
  if (pullSecrets.length === 0 && saPullSecrets.length > 0) {
    spec.imagePullSecrets = saPullSecrets.map((s) => ({ name: s.name }));
  }
}

// ---------------------------------------------------------------------------
// Priority
// ---------------------------------------------------------------------------

/** The PriorityClasses every cluster has. */
export const SYSTEM_PRIORITY_CLASSES: ReadonlyArray<{ name: string; value: number }> = [
  { name: 'system-node-critical', value: 2000001000 },
  { name: 'system-cluster-critical', value: 2000000000 },
];

interface ResolvedPriority {
  className?: string;
  value: number;
  preemptionPolicy: string;
}

function resolvePriority(pod: KubeObject, spec: Obj, classes: KubeObject[]): ResolvedPriority {
  const asClass = (pc: KubeObject): ResolvedPriority => ({
    className: pc.metadata.name,
    value: typeof pc.value === 'number' ? pc.value : 0,
    preemptionPolicy: typeof pc.preemptionPolicy === 'string' ? pc.preemptionPolicy : 'PreemptLowerPriority',
  });
  const name = typeof spec.priorityClassName === 'string' ? spec.priorityClassName : '';
  if (!name) {
    // The global default with the lowest value wins; without one, priority 0.
    const defaults = classes.filter((pc) => pc.globalDefault === true).map(asClass);
    defaults.sort((a, b) => a.value - b.value);
    return defaults[0] ?? { value: 0, preemptionPolicy: 'PreemptLowerPriority' };
  }
  const found = classes.find((pc) => pc.metadata.name === name);
  if (found) return asClass(found);
  const system = SYSTEM_PRIORITY_CLASSES.find((pc) => pc.name === name);
  if (system) return { className: name, value: system.value, preemptionPolicy: 'PreemptLowerPriority' };
  return rejectPod(pod, `no PriorityClass with name ${name} was found`);
}

function admitPriority(pod: KubeObject, options: PodAdmissionOptions): void {
  const spec = child(pod as Obj, 'spec');
  const resolved = resolvePriority(pod, spec, options.priorityClasses ?? []);
  if (!spec.priorityClassName && resolved.className) spec.priorityClassName = resolved.className;
  if (typeof spec.priority === 'number' && spec.priority !== resolved.value) {
    rejectPod(
      pod,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${resolved.value} from the given PriorityClass name`,
    );
  }
  spec.priority = resolved.value;
  if (typeof spec.preemptionPolicy === 'string' && spec.preemptionPolicy !== resolved.preemptionPolicy) {
    rejectPod(
      pod,
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${resolved.preemptionPolicy} from the given PriorityClass name`,
    );
  }
  spec.preemptionPolicy = resolved.preemptionPolicy;
}

// ---------------------------------------------------------------------------
// DefaultTolerationSeconds
// ---------------------------------------------------------------------------

/** How long pods stay bound to a not-ready or unreachable node before eviction. */
export const DEFAULT_TOLERATION_SECONDS = 300;

function admitDefaultTolerations(pod: KubeObject): void {
  const spec = child(pod as Obj, 'spec');
  const tolerations = Array.isArray(spec.tolerations) ? [...spec.tolerations] : [];
  // An empty key or effect tolerates everything of that kind.
  const tolerates = (key: string) =>
    items(tolerations).some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
  const added: Obj[] = [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerates(key)) {
      added.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS });
    }
  }
  if (added.length > 0) spec.tolerations = [...tolerations, ...added];
}

/**
 * What the default admission chain does to a pod on create, in Kubernetes'
 * plugin order: LimitRanger, ServiceAccount, Priority, DefaultTolerationSeconds.
 * Run after defaulting. Throws a Forbidden StatusError when the service
 * account or priority class does not exist, or a given priority conflicts.
 */
export function admitPodCreate(pod: KubeObject, options: PodAdmissionOptions = {}): void {
  if (options.limitRanges) applyLimitRanges(pod, options.limitRanges);
  admitServiceAccount(pod, options);
  admitPriority(pod, options);
  admitDefaultTolerations(pod);
}

// ---------------------------------------------------------------------------
// Other kinds
// ---------------------------------------------------------------------------

/** TaintNodesByCondition: a new node starts tainted not-ready until the kubelet reports Ready. */
export function admitNodeCreate(node: KubeObject): void {
  const spec = child(node as Obj, 'spec');
  const taints = Array.isArray(spec.taints) ? spec.taints : [];
  const hasNotReady = items(taints).some((t) => t.key === 'node.kubernetes.io/not-ready' && t.effect === 'NoSchedule');
  if (!hasNotReady) spec.taints = [...taints, { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }];
}

/** Picks the default among classes marked with `annotation=true`: the newest, then by name. */
function pickDefault(classes: KubeObject[], annotations: string[]): KubeObject | undefined {
  const marked = classes.filter((c) => annotations.some((a) => c.metadata.annotations?.[a] === 'true'));
  marked.sort((a, b) => {
    const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
    const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
    return tb - ta || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
  });
  return marked[0];
}

function addFinalizer(obj: KubeObject, finalizer: string): void {
  const finalizers = obj.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) obj.metadata.finalizers = [...finalizers, finalizer];
}

/**
 * DefaultStorageClass (a claim with no class gets the default StorageClass)
 * and StorageObjectInUseProtection (the kubernetes.io/pvc-protection finalizer).
 */
export function admitPersistentVolumeClaimCreate(pvc: KubeObject, storageClasses: KubeObject[] = []): void {
  const spec = child(pvc as Obj, 'spec');
  const hasClass =
    spec.storageClassName !== undefined && spec.storageClassName !== null
      ? true
      : pvc.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined;
  if (!hasClass) {
    const def = pickDefault(storageClasses, [
      'storageclass.kubernetes.io/is-default-class',
      'storageclass.beta.kubernetes.io/is-default-class',
    ]);
    if (def?.metadata.name) spec.storageClassName = def.metadata.name;
  }
  addFinalizer(pvc, 'kubernetes.io/pvc-protection');
}

/** StorageObjectInUseProtection for volumes: the kubernetes.io/pv-protection finalizer. */
export function admitPersistentVolumeCreate(pv: KubeObject): void {
  addFinalizer(pv, 'kubernetes.io/pv-protection');
}

/** DefaultIngressClass: an Ingress without a class gets the default IngressClass. */
export function admitIngressCreate(ingress: KubeObject, ingressClasses: KubeObject[] = []): void {
  const spec = child(ingress as Obj, 'spec');
  if (spec.ingressClassName !== undefined && spec.ingressClassName !== null) return;
  if (ingress.metadata.annotations?.['kubernetes.io/ingress.class'] !== undefined) return;
  const def = pickDefault(ingressClasses, ['ingressclass.kubernetes.io/is-default-class']);
  if (def?.metadata.name) spec.ingressClassName = def.metadata.name;
}
