/**
 * Strategic-merge-patch metadata for the built-in kinds: which lists merge
 * (and by which key) instead of being replaced. It mirrors the
 * `patchStrategy` / `patchMergeKey` struct tags of Kubernetes' Go types
 * (staging/src/k8s.io/api/<group>/<version>/types.go and ObjectMeta in
 * apimachinery), as a tree of named struct descriptors reused across kinds.
 *
 * Only the paths that lead to a tagged field are described: a field missing
 * from a descriptor has no strategy (lists are replaced, maps merge key by key).
 */

/** How one field of a struct takes part in a strategic merge patch. */
export interface PatchField {
  /**
   * The `patchStrategy` tag without `retainKeys`: `merge` merges a list (items
   * by `mergeKey`, or as a set when the items are primitives); `replace`
   * replaces a map wholesale. Absent: lists are replaced, maps merged.
   */
  readonly strategy?: 'merge' | 'replace';
  /**
   * The tag also says `retainKeys`. Only clients computing a patch use it (to
   * emit `$retainKeys`); the server honours `$retainKeys` wherever it appears.
   */
  readonly retainKeys?: boolean;
  /** `patchMergeKey`: the item field identifying list items (e.g. `name`). */
  readonly mergeKey?: string;
  /** Schema of the field's value; for a list, of each item. */
  readonly schema?: PatchSchema;
}

/** A struct type: its fields that carry (or lead to) patch metadata. */
export interface PatchSchema {
  /** Go type name, for messages and debugging. */
  readonly name: string;
  readonly fields: Readonly<Record<string, PatchField>>;
}

/** A schema with no strategies at all: SMP then acts as a JSON merge patch plus directives. */
export const EMPTY_PATCH_SCHEMA: PatchSchema = Object.freeze({ name: 'struct', fields: Object.freeze({}) });

const NO_FIELD: PatchField = Object.freeze({});

/** The patch metadata of `key` in `schema`; unknown fields have none. */
export function lookupPatchField(schema: PatchSchema, key: string): PatchField {
  return Object.prototype.hasOwnProperty.call(schema.fields, key) ? schema.fields[key]! : NO_FIELD;
}

// ---- small builders so the tree below reads like the Go types ----

function struct(name: string, fields: Record<string, PatchField>): PatchSchema {
  return Object.freeze({ name, fields: Object.freeze(fields) });
}

/** A nested struct (no strategy of its own). */
function nested(schema: PatchSchema): PatchField {
  return { schema };
}

/** `patchStrategy:"merge" patchMergeKey:"<key>"` on a list of structs. */
function mergeBy(mergeKey: string, schema?: PatchSchema): PatchField {
  return schema ? { strategy: 'merge', mergeKey, schema } : { strategy: 'merge', mergeKey };
}

/** `patchStrategy:"merge,retainKeys" patchMergeKey:"<key>"`. */
function mergeRetainingBy(mergeKey: string): PatchField {
  return { strategy: 'merge', retainKeys: true, mergeKey };
}

/** `patchStrategy:"merge"` on a list of primitives: merged as a set. */
const MERGE_SET: PatchField = { strategy: 'merge' };

/** `patchMergeKey:"type"` lists: conditions, node addresses. */
const BY_TYPE = mergeBy('type');

// ---- shared struct descriptors ----

const OBJECT_META = struct('ObjectMeta', {
  finalizers: MERGE_SET,
  ownerReferences: mergeBy('uid'),
});

const CONTAINER = struct('Container', {
  ports: mergeBy('containerPort'),
  env: mergeBy('name'),
  volumeMounts: mergeBy('mountPath'),
  volumeDevices: mergeBy('devicePath'),
});

/** EphemeralContainer inlines EphemeralContainerCommon, whose tags match Container's. */
const EPHEMERAL_CONTAINER = struct('EphemeralContainer', CONTAINER.fields as Record<string, PatchField>);

const POD_SPEC = struct('PodSpec', {
  volumes: mergeRetainingBy('name'),
  initContainers: mergeBy('name', CONTAINER),
  containers: mergeBy('name', CONTAINER),
  ephemeralContainers: mergeBy('name', EPHEMERAL_CONTAINER),
  imagePullSecrets: mergeBy('name'),
  hostAliases: mergeBy('ip'),
  topologySpreadConstraints: mergeBy('topologyKey'),
  schedulingGates: mergeBy('name'),
  resourceClaims: mergeRetainingBy('name'),
});

const POD_STATUS = struct('PodStatus', {
  conditions: BY_TYPE,
  hostIPs: mergeBy('ip'),
  podIPs: mergeBy('ip'),
  resourceClaimStatuses: mergeRetainingBy('name'),
});

const POD_TEMPLATE_SPEC = struct('PodTemplateSpec', {
  metadata: nested(OBJECT_META),
  spec: nested(POD_SPEC),
});

/** A status struct whose only tagged field is `conditions` (merge by type). */
function conditionsStatus(name: string): PatchSchema {
  return struct(name, { conditions: BY_TYPE });
}

/** A spec struct whose only tagged path is its pod `template`. */
function templateSpec(name: string, extra: Record<string, PatchField> = {}): PatchSchema {
  return struct(name, { template: nested(POD_TEMPLATE_SPEC), ...extra });
}

/** A top-level kind: ObjectMeta plus its own fields. */
function kind(name: string, fields: Record<string, PatchField> = {}): PatchSchema {
  return struct(name, { metadata: nested(OBJECT_META), ...fields });
}

const MATCH_CONDITIONS = mergeBy('name');
const WEBHOOK = struct('Webhook', { matchConditions: MATCH_CONDITIONS });

// ---- the kinds, keyed by "group/Kind" (core group is "") ----

const KINDS: ReadonlyMap<string, PatchSchema> = new Map<string, PatchSchema>([
  // core/v1
  ['/Pod', kind('Pod', { spec: nested(POD_SPEC), status: nested(POD_STATUS) })],
  ['/PodTemplate', kind('PodTemplate', { template: nested(POD_TEMPLATE_SPEC) })],
  [
    '/ReplicationController',
    kind('ReplicationController', {
      spec: nested(templateSpec('ReplicationControllerSpec')),
      status: nested(conditionsStatus('ReplicationControllerStatus')),
    }),
  ],
  [
    '/Node',
    kind('Node', {
      spec: nested(struct('NodeSpec', { podCIDRs: MERGE_SET })),
      status: nested(struct('NodeStatus', { conditions: BY_TYPE, addresses: BY_TYPE })),
    }),
  ],
  [
    '/Service',
    kind('Service', {
      spec: nested(struct('ServiceSpec', { ports: mergeBy('port') })),
      status: nested(conditionsStatus('ServiceStatus')),
    }),
  ],
  ['/Endpoints', kind('Endpoints')],
  ['/ConfigMap', kind('ConfigMap')],
  ['/Secret', kind('Secret')],
  ['/Namespace', kind('Namespace', { status: nested(conditionsStatus('NamespaceStatus')) })],
  ['/Event', kind('Event')],
  ['/ServiceAccount', kind('ServiceAccount', { secrets: mergeBy('name') })],
  ['/PersistentVolume', kind('PersistentVolume')],
  [
    '/PersistentVolumeClaim',
    kind('PersistentVolumeClaim', { status: nested(conditionsStatus('PersistentVolumeClaimStatus')) }),
  ],
  ['/LimitRange', kind('LimitRange')],
  ['/ResourceQuota', kind('ResourceQuota')],
  ['/ComponentStatus', kind('ComponentStatus', { conditions: BY_TYPE })],
  // apps/v1
  [
    'apps/Deployment',
    kind('Deployment', {
      spec: nested(templateSpec('DeploymentSpec', { strategy: { retainKeys: true } })),
      status: nested(conditionsStatus('DeploymentStatus')),
    }),
  ],
  [
    'apps/ReplicaSet',
    kind('ReplicaSet', {
      spec: nested(templateSpec('ReplicaSetSpec')),
      status: nested(conditionsStatus('ReplicaSetStatus')),
    }),
  ],
  [
    'apps/StatefulSet',
    kind('StatefulSet', {
      spec: nested(templateSpec('StatefulSetSpec')),
      status: nested(conditionsStatus('StatefulSetStatus')),
    }),
  ],
  [
    'apps/DaemonSet',
    kind('DaemonSet', {
      spec: nested(templateSpec('DaemonSetSpec')),
      status: nested(conditionsStatus('DaemonSetStatus')),
    }),
  ],
  ['apps/ControllerRevision', kind('ControllerRevision')],
  // batch/v1
  [
    'batch/Job',
    kind('Job', { spec: nested(templateSpec('JobSpec')), status: nested(conditionsStatus('JobStatus')) }),
  ],
  [
    'batch/CronJob',
    kind('CronJob', {
      spec: nested(
        struct('CronJobSpec', {
          jobTemplate: nested(struct('JobTemplateSpec', { metadata: nested(OBJECT_META), spec: nested(templateSpec('JobSpec')) })),
        }),
      ),
    }),
  ],
  // networking.k8s.io/v1
  ['networking.k8s.io/Ingress', kind('Ingress')],
  ['networking.k8s.io/IngressClass', kind('IngressClass')],
  ['networking.k8s.io/NetworkPolicy', kind('NetworkPolicy')],
  // rbac.authorization.k8s.io/v1
  ['rbac.authorization.k8s.io/Role', kind('Role')],
  ['rbac.authorization.k8s.io/ClusterRole', kind('ClusterRole')],
  ['rbac.authorization.k8s.io/RoleBinding', kind('RoleBinding')],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', kind('ClusterRoleBinding')],
  // others
  ['coordination.k8s.io/Lease', kind('Lease')],
  ['discovery.k8s.io/EndpointSlice', kind('EndpointSlice')],
  ['events.k8s.io/Event', kind('Event')],
  ['storage.k8s.io/StorageClass', kind('StorageClass')],
  ['storage.k8s.io/CSINode', kind('CSINode', { spec: nested(struct('CSINodeSpec', { drivers: mergeBy('name') })) })],
  [
    'autoscaling/HorizontalPodAutoscaler',
    kind('HorizontalPodAutoscaler', { status: nested(conditionsStatus('HorizontalPodAutoscalerStatus')) }),
  ],
  ['autoscaling/Scale', kind('Scale')],
  [
    'policy/PodDisruptionBudget',
    kind('PodDisruptionBudget', {
      spec: nested(struct('PodDisruptionBudgetSpec', { selector: { strategy: 'replace' } })),
      status: nested(conditionsStatus('PodDisruptionBudgetStatus')),
    }),
  ],
  [
    'admissionregistration.k8s.io/ValidatingWebhookConfiguration',
    kind('ValidatingWebhookConfiguration', { webhooks: mergeBy('name', WEBHOOK) }),
  ],
  [
    'admissionregistration.k8s.io/MutatingWebhookConfiguration',
    kind('MutatingWebhookConfiguration', { webhooks: mergeBy('name', WEBHOOK) }),
  ],
]);

/**
 * The strategic-merge-patch schema of a built-in kind (`group` is "" for
 * core). Unknown kinds get {@link EMPTY_PATCH_SCHEMA}: no list has a strategy.
 */
export function patchSchemaFor(group: string, kind: string): PatchSchema {
  return KINDS.get(`${group}/${kind}`) ?? EMPTY_PATCH_SCHEMA;
}

/** True when {@link patchSchemaFor} knows this kind (i.e. strategic merge patch is meaningful for it). */
export function hasPatchSchema(group: string, kind: string): boolean {
  return KINDS.has(`${group}/${kind}`);
}
