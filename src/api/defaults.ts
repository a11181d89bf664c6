/**
 * Defaulting, as Kubernetes' SetDefaults_* functions (pkg/apis/<group>/v1/defaults.go
 * plus the declarative `+default` markers) apply it when the API server
 * decodes an object. Each defaulter mutates the object in place.
 *
 * Because Pilote stores JSON rather than Go structs, a few things Go does
 * implicitly are made explicit here so objects read back exactly as from a
 * real 1.32 cluster: non-pointer structs that always serialize
 * (`resources: {}` on containers, `creationTimestamp: null` in templates) and
 * the v1 conversion quirks (`serviceAccount` mirrors `serviceAccountName`,
 * Secret `stringData` is folded into `data`, quantities are canonical).
 */
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { addQuantities, canonicalQuantity, compareQuantities, quantitySign, tryParseQuantity, type Quantity } from './quantity.js';

type Obj = Record<string, unknown>;

/** A defaulter mutates one object of its kind in place. */
export type Defaulter = (obj: KubeObject) => void;

// ---------------------------------------------------------------------------
// Small JSON helpers
// ---------------------------------------------------------------------------

/** The child object at `key`, created when absent. */
function child(parent: Obj, key: string): Obj {
  const value = parent[key];
  if (isObject(value)) return value;
  const created: Obj = {};
  parent[key] = created;
  return created;
}

/** The child object at `key` if there is one. */
function maybe(parent: Obj | undefined, key: string): Obj | undefined {
  const value = parent?.[key];
  return isObject(value) ? value : undefined;
}

/** The object elements of an array field (non-objects are left for validation to report). */
function items(value: unknown): Obj[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** Sets `key` when it is absent (undefined or null), as Go defaulters do for nil/zero fields. */
function def(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null || o[key] === '') o[key] = value;
}

/** Sets `key` only when undefined/null (for fields where "" or 0 is meaningful). */
function defNil(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

// ---------------------------------------------------------------------------
// Quantities and resource lists
// ---------------------------------------------------------------------------

/** SetDefaults_ResourceList: every quantity rounded up to milli and written canonically. */
function defaultResourceList(list: unknown): void {
  if (!isObject(list)) return;
  for (const [name, value] of Object.entries(list)) {
    if (typeof value === 'string' || typeof value === 'number') list[name] = canonicalQuantity(value, true);
  }
}

/** A single quantity field written back canonically (no milli rounding). */
function defaultQuantityField(o: Obj | undefined, key: string): void {
  const value = o?.[key];
  if (o && (typeof value === 'string' || typeof value === 'number')) o[key] = canonicalQuantity(value);
}

function defaultResourceRequirements(resources: unknown): void {
  if (!isObject(resources)) return;
  defaultResourceList(resources.limits);
  defaultResourceList(resources.requests);
}

// ---------------------------------------------------------------------------
// Pod spec pieces (shared by Pod and every workload's pod template)
// ---------------------------------------------------------------------------

/** The tag of an image reference, as Kubernetes' ParseImageName reports it ("" for digests or unparseable refs). */
export function imageTag(image: string): string {
  // Kubernetes parses with the docker reference grammar; an invalid reference yields no tag.
  const ref = /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?)\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$/.exec(
    image,
  );
  if (!ref) return '';
  const [, tag, digest] = ref;
  if (tag) return tag;
  return digest ? '' : 'latest';
}

/** imagePullPolicy default: Always for `:latest` (or no tag), else IfNotPresent. */
function defaultPullPolicy(image: unknown): string {
  return imageTag(typeof image === 'string' ? image : '') === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultHTTPGet(action: unknown): void {
  if (!isObject(action)) return;
  def(action, 'path', '/');
  def(action, 'scheme', 'HTTP');
}

function defaultProbe(probe: unknown): void {
  if (!isObject(probe)) return;
  // Zero means "unset" for these int32 fields, as in SetDefaults_Probe.
  if (!probe.timeoutSeconds) probe.timeoutSeconds = 1;
  if (!probe.periodSeconds) probe.periodSeconds = 10;
  if (!probe.successThreshold) probe.successThreshold = 1;
  if (!probe.failureThreshold) probe.failureThreshold = 3;
  defaultHTTPGet(probe.httpGet);
  const grpc = maybe(probe, 'grpc');
  if (grpc) defNil(grpc, 'service', '');
}

function defaultLifecycle(lifecycle: unknown): void {
  if (!isObject(lifecycle)) return;
  defaultHTTPGet(maybe(lifecycle, 'postStart')?.httpGet);
  defaultHTTPGet(maybe(lifecycle, 'preStop')?.httpGet);
}

/** ObjectFieldSelector: apiVersion defaults to v1. */
function defaultFieldRef(fieldRef: unknown): void {
  if (isObject(fieldRef)) def(fieldRef, 'apiVersion', 'v1');
}

/** SetDefaults_Container plus the per-field defaults of its nested structs. */
function defaultContainer(c: Obj): void {
  def(c, 'imagePullPolicy', defaultPullPolicy(c.image));
  def(c, 'terminationMessagePath', '/dev/termination-log');
  def(c, 'terminationMessagePolicy', 'File');
  // ResourceRequirements is a non-pointer struct: Kubernetes always prints it.
  if (!isObject(c.resources)) c.resources = {};
  defaultResourceRequirements(c.resources);
  for (const port of items(c.ports)) def(port, 'protocol', 'TCP');
  for (const env of items(c.env)) defaultFieldRef(maybe(env, 'valueFrom')?.fieldRef);
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
  defaultLifecycle(c.lifecycle);
}

/** Every volume source field name; a volume with none of them becomes an emptyDir. */
const VOLUME_SOURCES = [
  'hostPath', 'emptyDir', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'secret', 'nfs', 'iscsi',
  'glusterfs', 'persistentVolumeClaim', 'rbd', 'flexVolume', 'cinder', 'cephfs', 'flocker', 'downwardAPI', 'fc',
  'azureFile', 'configMap', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'projected',
  'portworxVolume', 'scaleIO', 'storageos', 'csi', 'ephemeral', 'image',
];

/** File mode 0644 — the default for secret, configMap, downwardAPI and projected volumes. */
const DEFAULT_MODE = 420;

function defaultDownwardAPIItems(source: Obj): void {
  for (const item of items(source.items)) defaultFieldRef(item.fieldRef);
}

/** SetDefaults_PersistentVolumeClaimSpec: volumeMode Filesystem, requests canonical. */
function defaultPVCSpec(spec: Obj): void {
  def(spec, 'volumeMode', 'Filesystem');
  // VolumeResourceRequirements is a non-pointer struct.
  if (!isObject(spec.resources)) spec.resources = {};
  defaultResourceRequirements(spec.resources);
}

/** A volume's defaults (SetDefaults_Volume and its sources'). */
function defaultVolume(v: Obj): void {
  if (!VOLUME_SOURCES.some((k) => v[k] !== undefined && v[k] !== null)) v.emptyDir = {};
  const emptyDir = maybe(v, 'emptyDir');
  if (emptyDir) defaultQuantityField(emptyDir, 'sizeLimit');
  const hostPath = maybe(v, 'hostPath');
  if (hostPath) defNil(hostPath, 'type', '');
  for (const key of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const source = maybe(v, key);
    if (source) defNil(source, 'defaultMode', DEFAULT_MODE);
  }
  const downwardAPI = maybe(v, 'downwardAPI');
  if (downwardAPI) defaultDownwardAPIItems(downwardAPI);
  for (const source of items(maybe(v, 'projected')?.sources)) {
    const downward = maybe(source, 'downwardAPI');
    if (downward) defaultDownwardAPIItems(downward);
    const token = maybe(source, 'serviceAccountToken');
    if (token) defNil(token, 'expirationSeconds', 3600);
  }
  const claimTemplate = maybe(maybe(v, 'ephemeral'), 'volumeClaimTemplate');
  if (claimTemplate) {
    defaultTemplateMetadata(claimTemplate);
    defaultPVCSpec(child(claimTemplate, 'spec'));
  }
  const image = maybe(v, 'image');
  if (image) def(image, 'pullPolicy', defaultPullPolicy(image.reference));
}

/**
 * SetDefaults_PodSpec and the defaults of everything a PodSpec contains. Used
 * for pods and for every pod template (Deployment, Job, …).
 */
export function defaultPodSpec(spec: Obj): void {
  def(spec, 'dnsPolicy', 'ClusterFirst');
  def(spec, 'restartPolicy', 'Always');
  if (!isObject(spec.securityContext)) spec.securityContext = {};
  defNil(spec, 'terminationGracePeriodSeconds', 30);
  def(spec, 'schedulerName', 'default-scheduler');
  // v1 conversion: the deprecated serviceAccount is an alias of serviceAccountName and always mirrors it.
  if (!spec.serviceAccountName && typeof spec.serviceAccount === 'string' && spec.serviceAccount) {
    spec.serviceAccountName = spec.serviceAccount;
  }
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) spec.serviceAccount = spec.serviceAccountName;
  else delete spec.serviceAccount;
  for (const volume of items(spec.volumes)) defaultVolume(volume);
  for (const c of items(spec.initContainers)) defaultContainer(c);
  for (const c of items(spec.containers)) defaultContainer(c);
  for (const c of items(spec.ephemeralContainers)) defaultContainer(c);
  defaultResourceList(spec.overhead);
  defaultResourceRequirements(spec.resources);
}

/** Template metadata always serializes, with `creationTimestamp: null` (Kubernetes ≤ 1.33 behaviour). */
function defaultTemplateMetadata(template: Obj): void {
  const metadata = child(template, 'metadata');
  if (!('creationTimestamp' in metadata)) metadata.creationTimestamp = null;
}

/** A PodTemplateSpec (spec.template of workloads). */
export function defaultPodTemplateSpec(template: Obj): void {
  defaultTemplateMetadata(template);
  defaultPodSpec(child(template, 'spec'));
}

/** SetDefaults_Pod: what only real pods get — requests from limits, service links, host ports. */
function defaultPodOnly(spec: Obj): void {
  for (const c of [...items(spec.containers), ...items(spec.initContainers)]) {
    const resources = maybe(c, 'resources');
    const limits = maybe(resources, 'limits');
    if (!resources || !limits || Object.keys(limits).length === 0) continue;
    const requests = child(resources, 'requests');
    for (const [name, value] of Object.entries(limits)) if (!(name in requests)) requests[name] = value;
  }
  defNil(spec, 'enableServiceLinks', true);
  if (spec.hostNetwork === true) {
    for (const c of [...items(spec.containers), ...items(spec.initContainers)]) {
      for (const port of items(c.ports)) if (!port.hostPort) port.hostPort = port.containerPort;
    }
  }
}

// ---------------------------------------------------------------------------
// One defaulter per kind
// ---------------------------------------------------------------------------

function specOf(obj: KubeObject): Obj {
  return child(obj as Obj, 'spec');
}

function defaultPod(obj: KubeObject): void {
  const spec = specOf(obj);
  defaultPodOnly(spec);
  defaultPodSpec(spec);
}

function defaultPodTemplate(obj: KubeObject): void {
  defaultPodTemplateSpec(child(obj as Obj, 'template'));
}

function defaultReplicationController(obj: KubeObject): void {
  const spec = specOf(obj);
  const template = maybe(spec, 'template');
  const labels = maybe(maybe(template, 'metadata'), 'labels');
  if (labels) {
    if (!isObject(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = { ...(labels as Record<string, string>) };
  }
  defNil(spec, 'replicas', 1);
  if (template) defaultPodTemplateSpec(template);
}

/** Service IP families as the allocator fills them on a single-stack IPv4 cluster. */
function defaultServiceIPFamilies(spec: Obj): void {
  if (spec.type === 'ExternalName') return;
  const clusterIPs = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.map(String) : spec.clusterIP ? [String(spec.clusterIP)] : [];
  const headless = clusterIPs[0] === 'None';
  const hasSelector = isObject(spec.selector) && Object.keys(spec.selector).length > 0;
  const families = Array.isArray(spec.ipFamilies) ? spec.ipFamilies.map(String) : [];
  if (headless && !hasSelector) {
    // Headless without selector: endpoints may be of any family, so both are allowed.
    def(spec, 'ipFamilyPolicy', 'RequireDualStack');
    if (families.length === 0) families.push('IPv4');
    if (families.length < 2 && spec.ipFamilyPolicy !== 'SingleStack') families.push(families[0] === 'IPv4' ? 'IPv6' : 'IPv4');
    spec.ipFamilies = families;
    return;
  }
  def(spec, 'ipFamilyPolicy', 'SingleStack');
  if (families.length === 0) {
    for (const ip of clusterIPs) {
      if (ip === 'None' || ip === '') continue;
      families.push(ip.includes(':') ? 'IPv6' : 'IPv4');
    }
    if (families.length === 0) families.push('IPv4');
    spec.ipFamilies = families;
  }
}

function defaultService(obj: KubeObject): void {
  const spec = specOf(obj);
  def(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  if (spec.sessionAffinity === 'ClientIP') {
    const timeout = maybe(maybe(spec, 'sessionAffinityConfig'), 'clientIP')?.timeoutSeconds;
    if (timeout === undefined || timeout === null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  def(spec, 'type', 'ClusterIP');
  for (const port of items(spec.ports)) {
    def(port, 'protocol', 'TCP');
    if (port.targetPort === undefined || port.targetPort === null || port.targetPort === 0 || port.targetPort === '') {
      port.targetPort = port.port;
    }
  }
  const externallyAccessible =
    spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.type === 'ClusterIP' && Array.isArray(spec.externalIPs) && spec.externalIPs.length > 0);
  if (externallyAccessible) def(spec, 'externalTrafficPolicy', 'Cluster');
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || spec.type === 'ClusterIP') {
    defNil(spec, 'internalTrafficPolicy', 'Cluster');
  }
  if (spec.type === 'LoadBalancer') defNil(spec, 'allocateLoadBalancerNodePorts', true);
  defaultServiceIPFamilies(spec);
  // ServiceStatus and its LoadBalancerStatus are non-pointer structs.
  child(child(obj as Obj, 'status'), 'loadBalancer');
}

function defaultNamespace(obj: KubeObject): void {
  const name = obj.metadata.name;
  // Nameless (generateName) namespaces cannot be labelled yet.
  if (name) obj.metadata.labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': name };
  def(child(obj as Obj, 'status'), 'phase', 'Active');
}

function defaultSecret(obj: KubeObject): void {
  const o = obj as Obj;
  def(o, 'type', 'Opaque');
  // v1 conversion: stringData is write-only and merged into data (base64) before storage.
  const stringData = maybe(o, 'stringData');
  if (stringData) {
    const data = child(o, 'data');
    for (const [k, v] of Object.entries(stringData)) data[k] = Buffer.from(String(v), 'utf8').toString('base64');
    delete o.stringData;
  }
}

function defaultNode(obj: KubeObject): void {
  const status = maybe(obj as Obj, 'status');
  if (!status) return;
  defaultResourceList(status.capacity);
  defaultResourceList(status.allocatable);
  if (!isObject(status.allocatable) && isObject(status.capacity)) status.allocatable = { ...status.capacity };
}

function defaultPersistentVolume(obj: KubeObject): void {
  const spec = specOf(obj);
  def(child(obj as Obj, 'status'), 'phase', 'Pending');
  def(spec, 'persistentVolumeReclaimPolicy', 'Retain');
  def(spec, 'volumeMode', 'Filesystem');
  defaultResourceList(spec.capacity);
  const hostPath = maybe(spec, 'hostPath');
  if (hostPath) defNil(hostPath, 'type', '');
}

function defaultPersistentVolumeClaim(obj: KubeObject): void {
  def(child(obj as Obj, 'status'), 'phase', 'Pending');
  defaultPVCSpec(specOf(obj));
}

function defaultEndpoints(obj: KubeObject): void {
  for (const subset of items((obj as Obj).subsets)) {
    for (const port of items(subset.ports)) def(port, 'protocol', 'TCP');
  }
}

function defaultLimitRange(obj: KubeObject): void {
  for (const item of items(specOf(obj).limits)) {
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) defaultResourceList(item[key]);
    if (item.type !== 'Container') continue;
    // Container limits: default ← max, defaultRequest ← default ← min.
    const defaults = child(item, 'default');
    const defaultRequest = child(item, 'defaultRequest');
    for (const [k, v] of Object.entries(maybe(item, 'max') ?? {})) if (!(k in defaults)) defaults[k] = v;
    for (const [k, v] of Object.entries(defaults)) if (!(k in defaultRequest)) defaultRequest[k] = v;
    for (const [k, v] of Object.entries(maybe(item, 'min') ?? {})) if (!(k in defaultRequest)) defaultRequest[k] = v;
  }
}

function defaultResourceQuota(obj: KubeObject): void {
  defaultResourceList(maybe(obj as Obj, 'spec')?.hard);
  const status = maybe(obj as Obj, 'status');
  defaultResourceList(status?.hard);
  defaultResourceList(status?.used);
}

function defaultDeployment(obj: KubeObject): void {
  const spec = specOf(obj);
  defNil(spec, 'replicas', 1);
  const strategy = child(spec, 'strategy');
  def(strategy, 'type', 'RollingUpdate');
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = child(strategy, 'rollingUpdate');
    defNil(rollingUpdate, 'maxUnavailable', '25%');
    defNil(rollingUpdate, 'maxSurge', '25%');
  }
  defNil(spec, 'revisionHistoryLimit', 10);
  defNil(spec, 'progressDeadlineSeconds', 600);
  defaultPodTemplateSpec(child(spec, 'template'));
}

function defaultReplicaSet(obj: KubeObject): void {
  const spec = specOf(obj);
  defNil(spec, 'replicas', 1);
  defaultPodTemplateSpec(child(spec, 'template'));
}

function defaultStatefulSet(obj: KubeObject): void {
  const spec = specOf(obj);
  def(spec, 'podManagementPolicy', 'OrderedReady');
  const updateStrategy = child(spec, 'updateStrategy');
  if (!updateStrategy.type) {
    updateStrategy.type = 'RollingUpdate';
    if (!isObject(updateStrategy.rollingUpdate)) updateStrategy.rollingUpdate = {};
  }
  const rollingUpdate = maybe(updateStrategy, 'rollingUpdate');
  if (updateStrategy.type === 'RollingUpdate' && rollingUpdate) defNil(rollingUpdate, 'partition', 0);
  const retention = child(spec, 'persistentVolumeClaimRetentionPolicy');
  def(retention, 'whenDeleted', 'Retain');
  def(retention, 'whenScaled', 'Retain');
  defNil(spec, 'replicas', 1);
  defNil(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(child(spec, 'template'));
  for (const claim of items(spec.volumeClaimTemplates)) {
    // Embedded PVCs are printed as full objects, with their own defaults.
    def(claim, 'apiVersion', 'v1');
    def(claim, 'kind', 'PersistentVolumeClaim');
    defaultTemplateMetadata(claim);
    defaultPVCSpec(child(claim, 'spec'));
    def(child(claim, 'status'), 'phase', 'Pending');
  }
}

function defaultDaemonSet(obj: KubeObject): void {
  const spec = specOf(obj);
  const updateStrategy = child(spec, 'updateStrategy');
  def(updateStrategy, 'type', 'RollingUpdate');
  if (updateStrategy.type === 'RollingUpdate') {
    const rollingUpdate = child(updateStrategy, 'rollingUpdate');
    defNil(rollingUpdate, 'maxUnavailable', 1);
    defNil(rollingUpdate, 'maxSurge', 0);
  }
  defNil(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplateSpec(child(spec, 'template'));
}

/** SetDefaults_Job (batch/v1, Kubernetes 1.32). */
function defaultJob(obj: KubeObject): void {
  const spec = specOf(obj);
  if ((spec.completions === undefined || spec.completions === null) && (spec.parallelism === undefined || spec.parallelism === null)) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  defNil(spec, 'parallelism', 1);
  if (spec.backoffLimit === undefined || spec.backoffLimit === null) {
    spec.backoffLimit = spec.backoffLimitPerIndex !== undefined && spec.backoffLimitPerIndex !== null ? 2147483647 : 6;
  }
  const template = child(spec, 'template');
  const templateLabels = maybe(maybe(template, 'metadata'), 'labels');
  if (templateLabels && (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0)) {
    obj.metadata.labels = { ...(templateLabels as Record<string, string>) };
  }
  defNil(spec, 'completionMode', 'NonIndexed');
  defNil(spec, 'suspend', false);
  defNil(spec, 'podReplacementPolicy', isObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed');
  defNil(spec, 'manualSelector', false);
  for (const rule of items(maybe(spec, 'podFailurePolicy')?.rules)) {
    for (const pattern of items(rule.onPodConditions)) def(pattern, 'status', 'True');
  }
  defaultPodTemplateSpec(template);
}

function defaultCronJob(obj: KubeObject): void {
  const spec = specOf(obj);
  def(spec, 'concurrencyPolicy', 'Allow');
  defNil(spec, 'suspend', false);
  defNil(spec, 'successfulJobsHistoryLimit', 3);
  defNil(spec, 'failedJobsHistoryLimit', 1);
  // The job template gets pod-template defaults only; SetDefaults_Job runs when the Job is created.
  const jobTemplate = child(spec, 'jobTemplate');
  defaultTemplateMetadata(jobTemplate);
  defaultPodTemplateSpec(child(child(jobTemplate, 'spec'), 'template'));
}

function defaultNetworkPolicy(obj: KubeObject): void {
  const spec = specOf(obj);
  for (const rule of [...items(spec.ingress), ...items(spec.egress)]) {
    for (const port of items(rule.ports)) defNil(port, 'protocol', 'TCP');
  }
  if (!Array.isArray(spec.policyTypes) || spec.policyTypes.length === 0) {
    spec.policyTypes = Array.isArray(spec.egress) && spec.egress.length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

function defaultIngressClass(obj: KubeObject): void {
  const parameters = maybe(maybe(obj as Obj, 'spec'), 'parameters');
  if (parameters) defNil(parameters, 'scope', 'Cluster');
}

function defaultEndpointSlice(obj: KubeObject): void {
  for (const port of items((obj as Obj).ports)) {
    defNil(port, 'name', '');
    defNil(port, 'protocol', 'TCP');
  }
}

/** Default scale-up rules of an HPA behavior (autoscaling/v2). */
function defaultScaleUpRules(): Obj {
  return {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

/** Default scale-down rules; the stabilization window stays unset (it comes from the controller's flag). */
function defaultScaleDownRules(): Obj {
  return { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
}

function fillScalingRules(rules: unknown, defaults: Obj): Obj {
  if (!isObject(rules)) return defaults;
  for (const key of ['selectPolicy', 'stabilizationWindowSeconds', 'policies']) {
    if (rules[key] !== undefined && rules[key] !== null) defaults[key] = rules[key];
  }
  return defaults;
}

function defaultHorizontalPodAutoscaler(obj: KubeObject): void {
  const spec = specOf(obj);
  defNil(spec, 'minReplicas', 1);
  // autoscaling/v1 carries targetCPUUtilizationPercentage instead of metrics.
  if (obj.apiVersion === 'autoscaling/v1') return;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
  }
  for (const metric of items(spec.metrics)) {
    for (const key of ['resource', 'containerResource', 'pods', 'object', 'external']) {
      const target = maybe(maybe(metric, key), 'target');
      defaultQuantityField(target, 'value');
      defaultQuantityField(target, 'averageValue');
    }
  }
  const behavior = maybe(spec, 'behavior');
  if (behavior) {
    behavior.scaleUp = fillScalingRules(behavior.scaleUp, defaultScaleUpRules());
    behavior.scaleDown = fillScalingRules(behavior.scaleDown, defaultScaleDownRules());
  }
}

function defaultStorageClass(obj: KubeObject): void {
  const o = obj as Obj;
  def(o, 'reclaimPolicy', 'Delete');
  def(o, 'volumeBindingMode', 'Immediate');
}

function defaultRoleBinding(obj: KubeObject): void {
  const o = obj as Obj;
  def(child(o, 'roleRef'), 'apiGroup', 'rbac.authorization.k8s.io');
  for (const subject of items(o.subjects)) {
    if (subject.apiGroup) continue;
    if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = 'rbac.authorization.k8s.io';
  }
}

function defaultPriorityClass(obj: KubeObject): void {
  def(obj as Obj, 'preemptionPolicy', 'PreemptLowerPriority');
}

/** Kinds whose only defaults are none at all still get an entry, so every served kind is covered. */
function noDefaults(): void {}

/**
 * Defaulters keyed `"<group>/<Kind>"` ("" group for core: "/Pod"). Each
 * mutates the object in place, as Kubernetes does on decode.
 */
export const defaulters: Record<string, Defaulter> = {
  '/Pod': defaultPod,
  '/PodTemplate': defaultPodTemplate,
  '/ReplicationController': defaultReplicationController,
  '/Service': defaultService,
  '/Namespace': defaultNamespace,
  '/Secret': defaultSecret,
  '/ConfigMap': noDefaults,
  '/ServiceAccount': noDefaults,
  '/Node': defaultNode,
  '/PersistentVolume': defaultPersistentVolume,
  '/PersistentVolumeClaim': defaultPersistentVolumeClaim,
  '/Endpoints': defaultEndpoints,
  '/Event': noDefaults,
  '/LimitRange': defaultLimitRange,
  '/ResourceQuota': defaultResourceQuota,
  'apps/Deployment': defaultDeployment,
  'apps/ReplicaSet': defaultReplicaSet,
  'apps/StatefulSet': defaultStatefulSet,
  'apps/DaemonSet': defaultDaemonSet,
  'apps/ControllerRevision': noDefaults,
  'batch/Job': defaultJob,
  'batch/CronJob': defaultCronJob,
  'networking.k8s.io/Ingress': noDefaults,
  'networking.k8s.io/IngressClass': defaultIngressClass,
  'networking.k8s.io/NetworkPolicy': defaultNetworkPolicy,
  'discovery.k8s.io/EndpointSlice': defaultEndpointSlice,
  'autoscaling/HorizontalPodAutoscaler': defaultHorizontalPodAutoscaler,
  'coordination.k8s.io/Lease': noDefaults,
  'events.k8s.io/Event': noDefaults,
  'storage.k8s.io/StorageClass': defaultStorageClass,
  'scheduling.k8s.io/PriorityClass': defaultPriorityClass,
  'policy/PodDisruptionBudget': noDefaults,
  'rbac.authorization.k8s.io/Role': noDefaults,
  'rbac.authorization.k8s.io/ClusterRole': noDefaults,
  'rbac.authorization.k8s.io/RoleBinding': defaultRoleBinding,
  'rbac.authorization.k8s.io/ClusterRoleBinding': defaultRoleBinding,
};

// ---------------------------------------------------------------------------
// Create-time preparation that needs the server-assigned identity
// ---------------------------------------------------------------------------

/** Label keys the Job controller selects its pods by. */
export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
} as const;

/**
 * The Job strategy's PrepareForCreate: unless `manualSelector` is true,
 * generate the pod template labels (job name and uid, prefixed and legacy)
 * and the selector on `batch.kubernetes.io/controller-uid`. Needs
 * metadata.uid and metadata.name, so the store calls it after assigning them.
 *
 * Kubernetes shares one label map between the Job and its template when the
 * Job had no labels of its own, so the Job ends up carrying the generated
 * labels too; we reproduce that when the Job's labels equal the template's.
 */
export function prepareJobForCreate(job: KubeObject): void {
  const spec = specOf(job);
  // JobStatus is a non-pointer struct: a new Job reads back with `status: {}`.
  (job as Obj).status = {};
  if (spec.manualSelector === true) return;
  const uid = job.metadata.uid ?? '';
  const name = job.metadata.name ?? '';
  const templateMeta = child(child(spec, 'template'), 'metadata');
  const labels = child(templateMeta, 'labels') as Record<string, string>;
  const jobLabels = job.metadata.labels;
  const sharedLabels = !jobLabels || Object.keys(jobLabels).length === 0 || sameStringMap(jobLabels, labels);
  for (const key of [JOB_LABELS.legacyJobName, JOB_LABELS.jobName]) if (!(key in labels)) labels[key] = name;
  for (const key of [JOB_LABELS.legacyControllerUid, JOB_LABELS.controllerUid]) if (!(key in labels)) labels[key] = uid;
  const selector = child(spec, 'selector');
  const matchLabels = child(selector, 'matchLabels');
  if (!(JOB_LABELS.controllerUid in matchLabels)) matchLabels[JOB_LABELS.controllerUid] = uid;
  if (sharedLabels) job.metadata.labels = { ...labels };
}

function sameStringMap(a: Record<string, string>, b: Record<string, string>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

/**
 * The Namespace strategy's PrepareForCreate: status Active and the
 * `kubernetes` finalizer (not a default, since it may later be removed).
 */
export function prepareNamespaceForCreate(ns: KubeObject): void {
  const o = ns as Obj;
  o.status = { phase: 'Active' };
  const spec = child(o, 'spec');
  const finalizers = Array.isArray(spec.finalizers) ? spec.finalizers.map(String) : [];
  if (!finalizers.includes('kubernetes')) finalizers.push('kubernetes');
  spec.finalizers = finalizers;
}

/** Pod QoS class from container requests and limits (qos.ComputePodQOS). */
export function podQOSClass(pod: KubeObject): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const spec = maybe(pod as Obj, 'spec') ?? {};
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const add = (map: Map<string, Quantity>, name: string, q: Quantity) => {
    const prev = map.get(name);
    map.set(name, prev ? addQuantities(prev, q) : q);
  };
  for (const c of [...items(spec.initContainers), ...items(spec.containers)]) {
    const resources = maybe(c, 'resources');
    for (const [name, value] of Object.entries(maybe(resources, 'requests') ?? {})) {
      const q = tryParseQuantity(value);
      if ((name === 'cpu' || name === 'memory') && q && quantitySign(q) > 0) add(requests, name, q);
    }
    const found = new Set<string>();
    for (const [name, value] of Object.entries(maybe(resources, 'limits') ?? {})) {
      const q = tryParseQuantity(value);
      if ((name === 'cpu' || name === 'memory') && q && quantitySign(q) > 0) {
        found.add(name);
        add(limits, name, q);
      }
    }
    if (!found.has('cpu') || !found.has('memory')) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (!lim || compareQuantities(lim, req) !== 0) guaranteed = false;
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}

/**
 * The Pod strategy's PrepareForCreate: status reset to `Pending` with its QoS
 * class, and the PodScheduled=False condition for pods held by scheduling gates.
 */
export function preparePodForCreate(pod: KubeObject): void {
  const status: Obj = { phase: 'Pending', qosClass: podQOSClass(pod) };
  const gates = maybe(pod as Obj, 'spec')?.schedulingGates;
  if (Array.isArray(gates) && gates.length > 0) {
    status.conditions = [
      {
        type: 'PodScheduled',
        status: 'False',
        lastProbeTime: null,
        lastTransitionTime: null,
        reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      },
    ];
  }
  (pod as Obj).status = status;
}
