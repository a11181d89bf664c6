/**
 * Server-side printing: the columns and cells of the meta.k8s.io/v1 Table that
 * `kubectl get` asks for and prints verbatim. Each printer reproduces what
 * kube-apiserver v1.32 produces (pkg/printers/internalversion/printers.go):
 * same column names, types, priorities and descriptions, same cell values and
 * cell JSON types (integers where Kubernetes puts int64, strings elsewhere).
 *
 * Like kube-apiserver, rows always carry every cell, `-o wide` ones included;
 * kubectl hides priority-1 columns itself.
 *
 * Kubernetes prints objects after defaulting; where a default matters to a
 * cell (replicas 1, phase Pending, type ClusterIP, protocol TCP…) the printer
 * applies it to an absent field, so a stored object that skipped defaulting
 * still prints like the real server would show it.
 */
import type { TableColumn, TablePrinter } from '../apiserver/registry/strategy.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import type {
  ConfigMap,
  Container,
  ContainerStatus,
  Endpoints,
  Event as CoreEvent,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodCondition,
  PodTemplate,
  ReplicationController,
  ResourceQuota,
  Secret,
  Service,
  ServiceAccount,
} from 'kubernetes-types/core/v1.js';
import type { ControllerRevision, DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { CronJob, Job, JobCondition } from 'kubernetes-types/batch/v1.js';
import type { HorizontalPodAutoscaler, MetricSpec, MetricStatus } from 'kubernetes-types/autoscaling/v2.js';
import type { Ingress, IngressClass, NetworkPolicy } from 'kubernetes-types/networking/v1.js';
import type { ClusterRoleBinding, RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { StorageClass } from 'kubernetes-types/storage/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import type { PriorityClass } from 'kubernetes-types/scheduling/v1.js';
import type { RuntimeClass } from 'kubernetes-types/node/v1.js';
import type { CertificateSigningRequest } from 'kubernetes-types/certificates/v1.js';
import type { MutatingWebhookConfiguration, ValidatingWebhookConfiguration } from 'kubernetes-types/admissionregistration/v1.js';
import { humanDuration, timestampMillis, translateTimestampSince } from './duration.js';

// ---------------------------------------------------------------------------
// Column descriptions. kube-apiserver fills most of them from the Go types'
// swagger docs (k8s.io/api and k8s.io/apimachinery v0.32), sometimes from an
// older API version's type than the one served; the strings below are those.
// A key the Go type does not have yields "" there, and so it does here.

const docs = {
  ObjectMeta: {
    name: 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
    creationTimestamp: 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  },
  PodStatus: {
    podIP: 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.',
    nominatedNodeName: 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.',
  },
  PodSpec: {
    nodeName: 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename',
    readinessGates: 'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    nodeSelector: "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
  },
  ServiceSpec: {
    type: 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types',
    clusterIP: 'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    externalIPs: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.',
    ports: 'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies',
    selector: 'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/',
  },
  Endpoints: {
    subsets: 'The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.',
  },
  NodeSystemInfo: {
    kubeletVersion: 'Kubelet Version reported by the node.',
    osImage: 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
    kernelVersion: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    containerRuntimeVersion: 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
  },
  NodeStatus: {
    addresses: "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
  },
  Event: {
    lastTimestamp: 'The time at which the most recent occurrence of this event was recorded.',
    type: 'Type of this event (Normal, Warning), new types could be added in the future',
    reason: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    involvedObject: 'The object that this event is about.',
    source: 'The component reporting this event. Should be a short machine understandable string.',
    message: 'A human-readable description of the status of this operation.',
    firstTimestamp: 'The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)',
    count: 'The number of times this event has occurred.',
  },
  ObjectReference: {
    fieldPath: 'If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: "spec.containers{name}" (where "name" refers to the name of the container that triggered the event) or if no container name is specified "spec.containers[2]" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.',
  },
  Secret: {
    type: 'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
    data: "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
  },
  ServiceAccount: {
    secrets: 'Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a "kubernetes.io/enforce-mountable-secrets" annotation set to "true". The "kubernetes.io/enforce-mountable-secrets" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret',
  },
  PersistentVolumeSpec: {
    capacity: "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
    accessModes: 'accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes',
    persistentVolumeReclaimPolicy: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming',
    claimRef: 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim. Expected to be non-nil when bound. claim.VolumeName is the authoritative bind between PV and PVC. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#binding',
    volumeMode: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.',
  },
  PersistentVolumeStatus: {
    phase: 'phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase',
    reason: 'reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.',
  },
  PersistentVolumeClaimStatus: {
    phase: 'phase represents the current phase of PersistentVolumeClaim.',
    capacity: 'capacity represents the actual resources of the underlying volume.',
    accessModes: 'accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1',
  },
  PersistentVolumeClaimSpec: {
    volumeName: 'volumeName is the binding reference to the PersistentVolume backing this claim.',
    volumeMode: 'volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.',
  },
  ConfigMap: {
    data: "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
  },
  ReplicationControllerSpec: {
    replicas: 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
    selector: 'Selector is a label query over pods that should match the Replicas count. If Selector is empty, it is defaulted to the labels present on the Pod template. Label keys and values that must match in order to be controlled by this replication controller, if empty defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  },
  ReplicationControllerStatus: {
    replicas: 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller#what-is-a-replicationcontroller',
    readyReplicas: 'The number of ready replicas for this replication controller.',
  },
  // extensions/v1beta1 types, as printers.go references them.
  ReplicaSetSpec: {
    replicas: 'Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    selector: 'Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  },
  ReplicaSetStatus: {
    replicas: 'Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller',
    readyReplicas: 'The number of ready replicas for this replica set.',
  },
  DaemonSetStatus: {
    desiredNumberScheduled: 'The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    currentNumberScheduled: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/',
    numberReady: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.',
    updatedNumberScheduled: 'The total number of nodes that are running updated daemon pod',
    numberAvailable: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)',
  },
  DaemonSetSpec: {
    selector: 'A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  },
  DeploymentStatus: {
    updatedReplicas: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.',
    availableReplicas: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.',
  },
  DeploymentSpec: {
    selector: 'Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.',
  },
  NetworkPolicySpec: {
    podSelector: 'Selects the pods to which this NetworkPolicy object applies.  The array of ingress rules is applied to any pods selected by this field. Multiple network policies can select the same set of pods.  In this case, the ingress rules for each are combined additively. This field is NOT optional and follows standard label selector semantics. An empty podSelector matches all pods in this namespace.',
  },
  ControllerRevision: {
    revision: 'revision indicates the revision of the state represented by Data.',
  },
  JobStatus: {
    succeeded: 'The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.',
  },
  JobSpec: {
    selector: 'A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors',
  },
  // batch/v1beta1 types, as printers.go references them.
  CronJobSpec: {
    schedule: 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.',
    timeZone: 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones',
    suspend: 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.',
  },
  CronJobStatus: {
    active: 'A list of pointers to currently running jobs.',
    lastScheduleTime: 'Information when was the last time the job was successfully scheduled.',
  },
  // autoscaling/v2beta1 types, as printers.go references them.
  HorizontalPodAutoscalerSpec: {
    scaleTargetRef: 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.',
    metrics: 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.',
    minReplicas: 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.',
    maxReplicas: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.',
  },
  HorizontalPodAutoscalerStatus: {
    currentReplicas: 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.',
  },
  // rbac/v1beta1 types, as printers.go references them.
  RoleBinding: {
    roleRef: 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  },
  ClusterRoleBinding: {
    roleRef: 'RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.',
  },
  LeaseSpec: {
    holderIdentity: 'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
  },
  StorageClass: {
    provisioner: 'provisioner indicates the type of the provisioner.',
    reclaimPolicy: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.',
    volumeBindingMode: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.',
    allowVolumeExpansion: 'allowVolumeExpansion shows whether the storage class allow volume expand.',
  },
  // discovery/v1beta1 type, as printers.go references it.
  EndpointSlice: {
    addressType: 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.',
    ports: 'ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates "all ports". Each slice may include a maximum of 100 ports.',
    endpoints: 'endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.',
  },
  PriorityClass: {
    value: 'value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec.',
    globalDefault: 'globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority.',
    preemptionPolicy: 'preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.',
  },
  // certificates/v1beta1 types, as printers.go references them.
  CertificateSigningRequestSpec: {
    signerName: 'Requested signer for the request. It is a qualified name in the form: `scope-hostname.io/name`. If empty, it will be defaulted:\n 1. If it\'s a kubelet client certificate, it is assigned\n    "kubernetes.io/kube-apiserver-client-kubelet".\n 2. If it\'s a kubelet serving certificate, it is assigned\n    "kubernetes.io/kubelet-serving".\n 3. Otherwise, it is assigned "kubernetes.io/legacy-unknown".\nDistribution of trust for signers happens out of band. You can select on this field using `spec.signerName`.',
    request: 'Base64-encoded PKCS#10 CSR data',
    expirationSeconds: 'expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.',
  },
  CertificateSigningRequestStatus: {
    conditions: 'Conditions applied to the request, such as approval or denial.',
  },
} as const;

// ---------------------------------------------------------------------------
// Columns

/**
 * One column definition. `format` is always present (Go serializes "" for
 * an unset format), and keys are in Go's field order so the JSON matches.
 */
function column(
  name: string,
  type: TableColumn['type'],
  description: string,
  options: { priority?: number; format?: string } = {},
): TableColumn {
  return { name, type, format: options.format ?? '', description, priority: options.priority ?? 0 };
}

/** A priority-1 column: shown only by `kubectl get -o wide`. */
const WIDE = { priority: 1 } as const;

const nameColumn = column('Name', 'string', docs.ObjectMeta.name, { format: 'name' });
const ageColumn = column('Age', 'string', docs.ObjectMeta.creationTimestamp);
const containersColumn = column('Containers', 'string', 'Names of each container in the template.', WIDE);
const imagesColumn = column('Images', 'string', 'Images referenced by each container in the template.', WIDE);

// ---------------------------------------------------------------------------
// Shared cell formatting

/** True unless absent: JSON may carry null where Go would have a nil pointer. */
function isSet<T>(value: T | null | undefined): value is T {
  return value !== undefined && value !== null;
}

/** The array itself, or an empty one for an absent (or malformed) field. */
function list<T>(value: readonly T[] | null | undefined): readonly T[] {
  return Array.isArray(value) ? value : [];
}

/** Number of keys of a JSON map (0 when absent). */
function keyCount(value: object | null | undefined): number {
  return value && typeof value === 'object' ? Object.keys(value).length : 0;
}

/** Go's byte-wise string order (sort.Strings), not locale order. */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The AGE cell of an object. */
function age(obj: { metadata?: { creationTimestamp?: string } }, now: Date): string {
  return translateTimestampSince(obj.metadata?.creationTimestamp, now);
}

/** "True"/"False", or "<unset>" for an absent boolean (printBoolPtr). */
function boolPtr(value: boolean | undefined): string {
  if (!isSet(value)) return '<unset>';
  return value ? 'True' : 'False';
}

/** Quantity.String() of a possibly absent quantity pointer. */
function quantity(value: string | number | undefined | null): string {
  return isSet(value) ? String(value) : '<nil>';
}

/** Container names and images, each comma-joined (layoutContainerCells). */
function containerCells(containers: readonly Container[] | undefined): [string, string] {
  const all = list(containers);
  return [all.map((c) => c.name ?? '').join(','), all.map((c) => c.image ?? '').join(',')];
}

/** A label map as "k=v,…" sorted by key, or "<none>" (labels.FormatLabels). */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  const keys = Object.keys(labels ?? {}).sort(byteOrder);
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

/**
 * Canonical string form of a metav1.LabelSelector, as labels.Selector.String()
 * prints it: requirements sorted by key, "k=v", "k in (a,b)", "k notin (a)",
 * "k", "!k". An absent or empty selector is "". Undefined for a selector
 * Kubernetes cannot convert (unknown operator, wrong number of values).
 */
export function labelSelectorString(selector: LabelSelector | null | undefined): string | undefined {
  if (!selector) return '';
  const requirements: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    requirements.push({ key, text: `${key}=${value}` });
  }
  for (const expression of list(selector.matchExpressions)) {
    const key = expression.key;
    const values = list(expression.values);
    switch (expression.operator) {
      case 'In':
      case 'NotIn': {
        if (values.length === 0) return undefined;
        const op = expression.operator === 'In' ? 'in' : 'notin';
        requirements.push({ key, text: `${key} ${op} (${[...values].sort(byteOrder).join(',')})` });
        break;
      }
      case 'Exists':
        if (values.length > 0) return undefined;
        requirements.push({ key, text: key });
        break;
      case 'DoesNotExist':
        if (values.length > 0) return undefined;
        requirements.push({ key, text: `!${key}` });
        break;
      default:
        return undefined;
    }
  }
  requirements.sort((a, b) => byteOrder(a.key, b.key));
  return requirements.map((r) => r.text).join(',');
}

/** A label selector cell: "<none>" when empty, "<error>" when invalid (metav1.FormatLabelSelector). */
export function formatLabelSelector(selector: LabelSelector | null | undefined): string {
  const text = labelSelectorString(selector);
  if (text === undefined) return '<error>';
  return text === '' ? '<none>' : text;
}

/** "ip:port" with brackets around IPv6 addresses (net.JoinHostPort). */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** "a,b,c" or "a,b,c + 2 more..." or "<unset>" (listWithMoreString). */
function listWithMore(items: string[], total: number, max: number): string {
  const shown = items.slice(0, max).join(',');
  if (total > max) return `${shown} + ${total - max} more...`;
  return shown === '' ? '<unset>' : shown;
}

/** Sorted, de-duplicated IPs (or hostnames) of load-balancer ingress points. */
function loadBalancerAddresses(status: { ingress?: readonly { ip?: string; hostname?: string }[] } | undefined): string {
  const addresses = new Set<string>();
  for (const ingress of list(status?.ingress)) {
    if (ingress.ip) addresses.add(ingress.ip);
    else if (ingress.hostname) addresses.add(ingress.hostname);
  }
  // The server prints wide cells, so the 16-character clipping never applies.
  return [...addresses].sort(byteOrder).join(',');
}

/** RFC 3339 in UTC with whole seconds, as Go's time.RFC3339 format prints it. */
function rfc3339(timestamp: string | undefined): string {
  const ms = timestampMillis(timestamp);
  if (ms === undefined) return '0001-01-01T00:00:00Z';
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Wraps a row function written against a typed view of the object. The
 * stored object is plain JSON; the view only narrows field access.
 */
function printer<T>(columns: TableColumn[], row: (obj: T, now: Date) => unknown[]): TablePrinter {
  return { columns, row: (obj: KubeObject, now: Date) => row(obj as unknown as T, now) };
}

// ---------------------------------------------------------------------------
// Pods

/** Kubernetes' node-unreachable pod reason (pkg/util/node.NodeUnreachablePodReason). */
const NODE_UNREACHABLE_POD_REASON = 'NodeLost';

/** A sidecar: an init container that keeps running (restartPolicy Always). */
function isRestartableInitContainer(container: Container | undefined): boolean {
  return container?.restartPolicy === 'Always';
}

function hasCondition(conditions: readonly PodCondition[] | undefined, type: string): boolean {
  return list(conditions).some((c) => c.type === type && c.status === 'True');
}

/** The first Initialized condition decides, as in Kubernetes. */
function isPodInitialized(conditions: readonly PodCondition[] | undefined): boolean {
  const initialized = list(conditions).find((c) => c.type === 'Initialized');
  return initialized?.status === 'True';
}

/** Later of two instants (undefined = Go's zero time, earlier than all). */
function later(current: number | undefined, candidate: string | undefined): number | undefined {
  const ms = timestampMillis(candidate);
  if (ms === undefined) return current;
  return current === undefined || current < ms ? ms : current;
}

/** Why a terminated container stopped: its reason, else "Signal:N" / "ExitCode:N". */
function terminationReason(terminated: { reason?: string; signal?: number; exitCode?: number }): string {
  if (terminated.reason) return terminated.reason;
  if (terminated.signal) return `Signal:${terminated.signal}`;
  return `ExitCode:${terminated.exitCode ?? 0}`;
}

/** The computed READY, STATUS and RESTARTS cells of a pod. */
export interface PodSummary {
  ready: string;
  status: string;
  restarts: string;
}

/** READY, STATUS and RESTARTS of a pod: the printPod rules of Kubernetes v1.32. */
export function summarizePod(pod: Pod, now: Date): PodSummary {
  const spec = pod.spec;
  const status = pod.status ?? {};
  const initSpecs = list(spec?.initContainers);
  const initByName = new Map(initSpecs.map((c) => [c.name, c]));

  let totalContainers = list(spec?.containers).length + initSpecs.filter(isRestartableInitContainer).length;
  let readyContainers = 0;
  let restarts = 0;
  let lastRestart: number | undefined;
  let sidecarRestarts = 0;
  let lastSidecarRestart: number | undefined;

  const phase = status.phase ?? 'Pending';
  let reason = status.reason || phase;
  if (list(status.conditions).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) {
    reason = 'SchedulingGated';
  }

  // Init containers run in order: the first one not done decides the status.
  let initializing = false;
  const initStatuses = list(status.initContainerStatuses);
  for (let i = 0; i < initStatuses.length; i++) {
    const cs: ContainerStatus = initStatuses[i];
    const sidecar = isRestartableInitContainer(initByName.get(cs.name));
    restarts += cs.restartCount ?? 0;
    lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
    if (sidecar) {
      sidecarRestarts += cs.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, cs.lastState?.terminated?.finishedAt);
    }
    const terminated = cs.state?.terminated;
    const waiting = cs.state?.waiting;
    if (terminated && (terminated.exitCode ?? 0) === 0) continue;
    if (sidecar && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (terminated) reason = `Init:${terminationReason(terminated)}`;
    else if (waiting?.reason && waiting.reason !== 'PodInitializing') reason = `Init:${waiting.reason}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }

  if (!initializing || isPodInitialized(status.conditions)) {
    // Once initialized, only sidecar restarts count alongside the app containers'.
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = list(status.containerStatuses);
    // Walked backwards, so the first container's state has the last word.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      restarts += cs.restartCount ?? 0;
      lastRestart = later(lastRestart, cs.lastState?.terminated?.finishedAt);
      const waiting = cs.state?.waiting;
      const terminated = cs.state?.terminated;
      if (waiting?.reason) reason = waiting.reason;
      else if (terminated) reason = terminationReason(terminated);
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // Some containers completed but another still runs: the pod is not done.
    if (reason === 'Completed' && hasRunning) {
      reason = hasCondition(status.conditions, 'Ready') ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp) {
    if (status.reason === NODE_UNREACHABLE_POD_REASON) reason = 'Unknown';
    else if (phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';
  }

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined) {
    restartsCell = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;
  }
  return { ready: `${readyContainers}/${totalContainers}`, status: reason, restarts: restartsCell };
}

const podPrinter = printer<Pod>(
  [
    nameColumn,
    column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
    column('Status', 'string', 'The aggregate status of the containers in this pod.'),
    column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageColumn,
    column('IP', 'string', docs.PodStatus.podIP, WIDE),
    column('Node', 'string', docs.PodSpec.nodeName, WIDE),
    column('Nominated Node', 'string', docs.PodStatus.nominatedNodeName, WIDE),
    column('Readiness Gates', 'string', docs.PodSpec.readinessGates, WIDE),
  ],
  (pod, now) => {
    const summary = summarizePod(pod, now);
    const status = pod.status ?? {};
    // Internally podIPs is authoritative; a lone podIP converts into podIPs[0].
    const podIPs = list(status.podIPs);
    const podIP = (podIPs.length > 0 ? podIPs[0].ip : status.podIP) || '<none>';
    const gates = list(pod.spec?.readinessGates);
    let readinessGates = '<none>';
    if (gates.length > 0) {
      const conditions = list(status.conditions);
      const trueGates = gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === 'True');
      readinessGates = `${trueGates.length}/${gates.length}`;
    }
    return [
      pod.metadata?.name ?? '',
      summary.ready,
      summary.status,
      summary.restarts,
      age(pod, now),
      podIP,
      pod.spec?.nodeName || '<none>',
      status.nominatedNodeName || '<none>',
      readinessGates,
    ];
  },
);

const podTemplatePrinter = printer<PodTemplate>(
  [
    nameColumn,
    column('Containers', 'string', 'Names of each container in the template.'),
    column('Images', 'string', 'Images referenced by each container in the template.'),
    column('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  (obj) => {
    const [names, images] = containerCells(obj.template?.spec?.containers);
    return [obj.metadata?.name ?? '', names, images, formatLabels(obj.template?.metadata?.labels)];
  },
);

// ---------------------------------------------------------------------------
// Nodes, namespaces and other core kinds

const nodePrinter = printer<Node>(
  [
    nameColumn,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn,
    column('Version', 'string', docs.NodeSystemInfo.kubeletVersion),
    column('Internal-IP', 'string', docs.NodeStatus.addresses, WIDE),
    column('External-IP', 'string', docs.NodeStatus.addresses, WIDE),
    column('OS-Image', 'string', docs.NodeSystemInfo.osImage, WIDE),
    column('Kernel-Version', 'string', docs.NodeSystemInfo.kernelVersion, WIDE),
    column('Container-Runtime', 'string', docs.NodeSystemInfo.containerRuntimeVersion, WIDE),
  ],
  (node, now) => {
    const status: string[] = [];
    // Only the Ready condition is summarized; the last one of that type wins.
    const ready = list(node.status?.conditions).filter((c) => c.type === 'Ready').at(-1);
    if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
    if (status.length === 0) status.push('Unknown');
    if (node.spec?.unschedulable) status.push('SchedulingDisabled');

    const roles = new Set<string>();
    for (const [key, value] of Object.entries(node.metadata?.labels ?? {})) {
      if (key.startsWith('node-role.kubernetes.io/')) {
        const role = key.slice('node-role.kubernetes.io/'.length);
        if (role) roles.add(role);
      } else if (key === 'kubernetes.io/role' && value) {
        roles.add(value);
      }
    }
    const addresses = list(node.status?.addresses);
    const address = (type: string) => addresses.find((a) => a.type === type)?.address ?? '<none>';
    const info = node.status?.nodeInfo;
    return [
      node.metadata?.name ?? '',
      status.join(','),
      [...roles].sort(byteOrder).join(',') || '<none>',
      age(node, now),
      info?.kubeletVersion ?? '',
      address('InternalIP'),
      address('ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
);

const namespacePrinter = printer<Namespace>(
  [nameColumn, column('Status', 'string', 'The status of the namespace'), ageColumn],
  (ns, now) => [ns.metadata?.name ?? '', ns.status?.phase ?? 'Active', age(ns, now)],
);

const configMapPrinter = printer<ConfigMap>(
  [nameColumn, column('Data', 'string', docs.ConfigMap.data), ageColumn],
  (cm, now) => [cm.metadata?.name ?? '', keyCount(cm.data) + keyCount(cm.binaryData), age(cm, now)],
);

const secretPrinter = printer<Secret>(
  [nameColumn, column('Type', 'string', docs.Secret.type), column('Data', 'string', docs.Secret.data), ageColumn],
  // stringData is merged into data on write, so data alone is counted.
  (secret, now) => [secret.metadata?.name ?? '', secret.type ?? 'Opaque', keyCount(secret.data), age(secret, now)],
);

const serviceAccountPrinter = printer<ServiceAccount>(
  [nameColumn, column('Secrets', 'string', docs.ServiceAccount.secrets), ageColumn],
  (sa, now) => [sa.metadata?.name ?? '', list(sa.secrets).length, age(sa, now)],
);

/** EXTERNAL-IP of a service, by type (getServiceExternalIP). */
function serviceExternalIP(svc: Service): string {
  const externalIPs = list(svc.spec?.externalIPs);
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

const servicePrinter = printer<Service>(
  [
    nameColumn,
    column('Type', 'string', docs.ServiceSpec.type),
    column('Cluster-IP', 'string', docs.ServiceSpec.clusterIP),
    column('External-IP', 'string', docs.ServiceSpec.externalIPs),
    column('Port(s)', 'string', docs.ServiceSpec.ports),
    ageColumn,
    column('Selector', 'string', docs.ServiceSpec.selector, WIDE),
  ],
  (svc, now) => {
    const spec = svc.spec ?? {};
    // clusterIPs mirrors clusterIP once stored; fall back for objects that skipped that step.
    const clusterIPs = list(spec.clusterIPs);
    const clusterIP = clusterIPs.length > 0 ? clusterIPs[0] : spec.clusterIP || '<none>';
    const ports = list(spec.ports)
      .map((p) => {
        const protocol = p.protocol ?? 'TCP';
        return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
      })
      .join(',');
    return [
      svc.metadata?.name ?? '',
      spec.type ?? 'ClusterIP',
      clusterIP,
      serviceExternalIP(svc),
      ports || '<none>',
      age(svc, now),
      formatLabels(spec.selector),
    ];
  },
);

/** ENDPOINTS of an Endpoints object: up to three "ip:port", then "+ N more..." (formatEndpoints). */
function formatEndpoints(endpoints: Endpoints): string {
  const subsets = list(endpoints.subsets);
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const shown: string[] = [];
  let total = 0;
  for (const subset of subsets) {
    const addresses = list(subset.addresses);
    const ports = list(subset.ports);
    if (ports.length === 0) {
      // Headless services may have addresses without ports.
      total += addresses.length;
      for (const a of addresses) if (shown.length < max) shown.push(a.ip);
      continue;
    }
    for (const port of ports) {
      total += addresses.length;
      for (const a of addresses) if (shown.length < max) shown.push(joinHostPort(a.ip, port.port));
    }
  }
  const text = shown.join(',');
  return total > max ? `${text} + ${total - max} more...` : text;
}

const endpointsPrinter = printer<Endpoints>(
  [nameColumn, column('Endpoints', 'string', docs.Endpoints.subsets), ageColumn],
  (ep, now) => [ep.metadata?.name ?? '', formatEndpoints(ep), age(ep, now)],
);

/** Access modes in Kubernetes' fixed order and short names (GetAccessModesAsString). */
function accessModes(modes: readonly string[] | undefined): string {
  const present = new Set(list(modes));
  const short: [string, string][] = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return short.filter(([mode]) => present.has(mode)).map(([, abbreviation]) => abbreviation).join(',');
}

/** The beta storage-class annotation still takes precedence over the field. */
const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

const persistentVolumePrinter = printer<PersistentVolume>(
  [
    nameColumn,
    column('Capacity', 'string', docs.PersistentVolumeSpec.capacity),
    column('Access Modes', 'string', docs.PersistentVolumeSpec.accessModes),
    column('Reclaim Policy', 'string', docs.PersistentVolumeSpec.persistentVolumeReclaimPolicy),
    column('Status', 'string', docs.PersistentVolumeStatus.phase),
    column('Claim', 'string', docs.PersistentVolumeSpec.claimRef),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', docs.PersistentVolumeStatus.reason),
    ageColumn,
    column('VolumeMode', 'string', docs.PersistentVolumeSpec.volumeMode, WIDE),
  ],
  (pv, now) => {
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const storageClass = pv.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? '';
    return [
      pv.metadata?.name ?? '',
      spec.capacity?.storage ?? '0',
      accessModes(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? 'Retain',
      pv.metadata?.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? 'Pending'),
      claim,
      storageClass,
      spec.volumeAttributesClassName ?? '<unset>',
      pv.status?.reason ?? '',
      age(pv, now),
      spec.volumeMode ?? 'Filesystem',
    ];
  },
);

const persistentVolumeClaimPrinter = printer<PersistentVolumeClaim>(
  [
    nameColumn,
    column('Status', 'string', docs.PersistentVolumeClaimStatus.phase),
    column('Volume', 'string', docs.PersistentVolumeClaimSpec.volumeName),
    column('Capacity', 'string', docs.PersistentVolumeClaimStatus.capacity),
    column('Access Modes', 'string', docs.PersistentVolumeClaimStatus.accessModes),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn,
    column('VolumeMode', 'string', docs.PersistentVolumeClaimSpec.volumeMode, WIDE),
  ],
  (pvc, now) => {
    const spec = pvc.spec ?? {};
    const bound = Boolean(spec.volumeName);
    // Capacity and access modes are only shown once the claim names a volume.
    const capacity = bound ? (pvc.status?.capacity?.storage ?? '0') : '';
    const storageClass = pvc.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? spec.storageClassName ?? '';
    return [
      pvc.metadata?.name ?? '',
      pvc.metadata?.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? 'Pending'),
      spec.volumeName ?? '',
      capacity,
      bound ? accessModes(pvc.status?.accessModes) : '',
      storageClass,
      spec.volumeAttributesClassName ?? '<unset>',
      age(pvc, now),
      spec.volumeMode ?? 'Filesystem',
    ];
  },
);

const resourceQuotaPrinter = printer<ResourceQuota>(
  [
    nameColumn,
    // v1.32 order; v1.33 moved Age last.
    ageColumn,
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column('Limit', 'string', 'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.'),
  ],
  (quota, now) => {
    const hard = quota.status?.hard ?? {};
    const used = quota.status?.used ?? {};
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort(byteOrder)) {
      const entry = `${resource}: ${used[resource] ?? '0'}/${hard[resource]}`;
      (resource.split('.')[0] === 'limits' && resource.includes('.') ? limits : requests).push(entry);
    }
    return [quota.metadata?.name ?? '', age(quota, now), requests.join(', '), limits.join(', ')];
  },
);

const replicationControllerPrinter = printer<ReplicationController>(
  [
    nameColumn,
    column('Desired', 'integer', docs.ReplicationControllerSpec.replicas),
    column('Current', 'integer', docs.ReplicationControllerStatus.replicas),
    column('Ready', 'integer', docs.ReplicationControllerStatus.readyReplicas),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.ReplicationControllerSpec.selector, WIDE),
  ],
  (rc, now) => {
    const [names, images] = containerCells(rc.spec?.template?.spec?.containers);
    return [
      rc.metadata?.name ?? '',
      rc.spec?.replicas ?? 1,
      rc.status?.replicas ?? 0,
      rc.status?.readyReplicas ?? 0,
      age(rc, now),
      names,
      images,
      formatLabels(rc.spec?.selector),
    ];
  },
);

// ---------------------------------------------------------------------------
// Events (core/v1 and events.k8s.io/v1 share one printer, as in Kubernetes)

/** The fields the event printer reads, in core/v1 terms. */
interface EventView {
  name: string;
  type?: string;
  reason?: string;
  message?: string;
  involvedObject?: { kind?: string; name?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
  reportingController?: string;
  reportingInstance?: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
  series?: { count?: number; lastObservedTime?: string };
}

const eventColumns = [
  column('Last Seen', 'string', docs.Event.lastTimestamp),
  column('Type', 'string', docs.Event.type),
  column('Reason', 'string', docs.Event.reason),
  column('Object', 'string', docs.Event.involvedObject),
  column('Subobject', 'string', docs.ObjectReference.fieldPath, WIDE),
  column('Source', 'string', docs.Event.source, WIDE),
  column('Message', 'string', docs.Event.message),
  column('First Seen', 'string', docs.Event.firstTimestamp, WIDE),
  column('Count', 'string', docs.Event.count, WIDE),
  column('Name', 'string', docs.ObjectMeta.name, { priority: 1, format: 'name' }),
];

function eventRow(event: EventView, now: Date): unknown[] {
  // Events from the new API carry eventTime/series instead of first/last timestamps and count.
  const firstSeen =
    timestampMillis(event.firstTimestamp) !== undefined
      ? translateTimestampSince(event.firstTimestamp, now)
      : translateTimestampSince(event.eventTime, now);
  let lastSeen = timestampMillis(event.lastTimestamp) === undefined ? firstSeen : translateTimestampSince(event.lastTimestamp, now);
  let count = event.count ?? 0;
  if (event.series) {
    lastSeen = translateTimestampSince(event.series.lastObservedTime, now);
    count = event.series.count ?? 0;
  } else if (count === 0) {
    count = 1;
  }
  const kind = (event.involvedObject?.kind ?? '').toLowerCase();
  const target = event.involvedObject?.name ? `${kind}/${event.involvedObject.name}` : kind;
  const component = event.source?.component || event.reportingController || '';
  const instance = event.source?.host || event.reportingInstance || '';
  return [
    lastSeen,
    event.type ?? '',
    event.reason ?? '',
    target,
    event.involvedObject?.fieldPath ?? '',
    instance ? `${component}, ${instance}` : component,
    (event.message ?? '').trim(),
    firstSeen,
    count,
    event.name,
  ];
}

const coreEventPrinter = printer<CoreEvent>(eventColumns, (e, now) =>
  eventRow(
    {
      name: e.metadata?.name ?? '',
      type: e.type,
      reason: e.reason,
      message: e.message,
      involvedObject: e.involvedObject,
      source: e.source,
      reportingController: e.reportingComponent,
      reportingInstance: e.reportingInstance,
      firstTimestamp: e.firstTimestamp,
      lastTimestamp: e.lastTimestamp,
      eventTime: e.eventTime,
      count: e.count,
      series: e.series,
    },
    now,
  ),
);

const eventsV1EventPrinter = printer<EventsV1Event>(eventColumns, (e, now) =>
  eventRow(
    {
      name: e.metadata?.name ?? '',
      type: e.type,
      reason: e.reason,
      message: e.note,
      involvedObject: e.regarding,
      source: e.deprecatedSource,
      reportingController: e.reportingController,
      reportingInstance: e.reportingInstance,
      firstTimestamp: e.deprecatedFirstTimestamp,
      lastTimestamp: e.deprecatedLastTimestamp,
      eventTime: e.eventTime,
      count: e.deprecatedCount,
      series: e.series,
    },
    now,
  ),
);

// ---------------------------------------------------------------------------
// Workloads

const deploymentPrinter = printer<Deployment>(
  [
    nameColumn,
    column('Ready', 'string', 'Number of the pod with ready state'),
    column('Up-to-date', 'string', docs.DeploymentStatus.updatedReplicas),
    column('Available', 'string', docs.DeploymentStatus.availableReplicas),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.DeploymentSpec.selector, WIDE),
  ],
  (d, now) => {
    const [names, images] = containerCells(d.spec?.template?.spec?.containers);
    // Deployments print the bare selector: "" when empty, "<invalid>" when unconvertible.
    const selector = labelSelectorString(d.spec?.selector) ?? '<invalid>';
    return [
      d.metadata?.name ?? '',
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d, now),
      names,
      images,
      selector,
    ];
  },
);

const replicaSetPrinter = printer<ReplicaSet>(
  [
    nameColumn,
    column('Desired', 'integer', docs.ReplicaSetSpec.replicas),
    column('Current', 'integer', docs.ReplicaSetStatus.replicas),
    column('Ready', 'integer', docs.ReplicaSetStatus.readyReplicas),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.ReplicaSetSpec.selector, WIDE),
  ],
  (rs, now) => {
    const [names, images] = containerCells(rs.spec?.template?.spec?.containers);
    return [
      rs.metadata?.name ?? '',
      rs.spec?.replicas ?? 1,
      rs.status?.replicas ?? 0,
      rs.status?.readyReplicas ?? 0,
      age(rs, now),
      names,
      images,
      formatLabelSelector(rs.spec?.selector),
    ];
  },
);

const statefulSetPrinter = printer<StatefulSet>(
  [nameColumn, column('Ready', 'string', 'Number of the pod with ready state'), ageColumn, containersColumn, imagesColumn],
  (sts, now) => {
    const [names, images] = containerCells(sts.spec?.template?.spec?.containers);
    return [sts.metadata?.name ?? '', `${sts.status?.readyReplicas ?? 0}/${sts.spec?.replicas ?? 1}`, age(sts, now), names, images];
  },
);

const daemonSetPrinter = printer<DaemonSet>(
  [
    nameColumn,
    column('Desired', 'integer', docs.DaemonSetStatus.desiredNumberScheduled),
    column('Current', 'integer', docs.DaemonSetStatus.currentNumberScheduled),
    column('Ready', 'integer', docs.DaemonSetStatus.numberReady),
    column('Up-to-date', 'integer', docs.DaemonSetStatus.updatedNumberScheduled),
    column('Available', 'integer', docs.DaemonSetStatus.numberAvailable),
    column('Node Selector', 'string', docs.PodSpec.nodeSelector),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.DaemonSetSpec.selector, WIDE),
  ],
  (ds, now) => {
    const status = ds.status;
    const [names, images] = containerCells(ds.spec?.template?.spec?.containers);
    return [
      ds.metadata?.name ?? '',
      status?.desiredNumberScheduled ?? 0,
      status?.currentNumberScheduled ?? 0,
      status?.numberReady ?? 0,
      status?.updatedNumberScheduled ?? 0,
      status?.numberAvailable ?? 0,
      formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now),
      names,
      images,
      formatLabelSelector(ds.spec?.selector),
    ];
  },
);

const controllerRevisionPrinter = printer<ControllerRevision>(
  [
    nameColumn,
    column('Controller', 'string', 'Controller of the object'),
    column('Revision', 'string', docs.ControllerRevision.revision),
    ageColumn,
  ],
  (cr, now) => {
    let controller = '<none>';
    const owner = list(cr.metadata?.ownerReferences).find((ref) => ref.controller === true);
    if (owner) {
      // "kind.group/name" lower-cased, e.g. "daemonset.apps/fluentd".
      const slash = owner.apiVersion.indexOf('/');
      const group = slash >= 0 ? owner.apiVersion.slice(0, slash) : '';
      const groupKind = group ? `${owner.kind}.${group}` : owner.kind;
      controller = groupKind ? `${groupKind.toLowerCase()}/${owner.name}` : owner.name;
    }
    return [cr.metadata?.name ?? '', controller, cr.revision ?? 0, age(cr, now)];
  },
);

/** True when the job has a condition of this type; the first such condition decides. */
function hasJobCondition(conditions: readonly JobCondition[] | undefined, type: string): boolean {
  return list(conditions).find((c) => c.type === type)?.status === 'True';
}

/** STATUS of a job (v1.30+ printJob). */
function jobStatus(job: Job): string {
  const conditions = job.status?.conditions;
  if (hasJobCondition(conditions, 'Complete')) return 'Complete';
  if (hasJobCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasJobCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasJobCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

const jobPrinter = printer<Job>(
  [
    nameColumn,
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', docs.JobStatus.succeeded),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.JobSpec.selector, WIDE),
  ],
  (job, now) => {
    const spec = job.spec;
    const succeeded = job.status?.succeeded ?? 0;
    // Defaulting sets completions (and parallelism) to 1 when both are absent.
    const completions = spec?.completions ?? (spec?.parallelism === undefined ? 1 : undefined);
    const parallelism = spec?.parallelism ?? 1;
    let completionsCell: string;
    if (isSet(completions)) completionsCell = `${succeeded}/${completions}`;
    else if (parallelism > 1) completionsCell = `${succeeded}/1 of ${parallelism}`;
    else completionsCell = `${succeeded}/1`;

    const start = timestampMillis(job.status?.startTime);
    const end = timestampMillis(job.status?.completionTime);
    let duration = '';
    if (start !== undefined) duration = humanDuration((end ?? now.getTime()) - start);

    const [names, images] = containerCells(spec?.template?.spec?.containers);
    return [
      job.metadata?.name ?? '',
      jobStatus(job),
      completionsCell,
      duration,
      age(job, now),
      names,
      images,
      formatLabelSelector(spec?.selector),
    ];
  },
);

const cronJobPrinter = printer<CronJob>(
  [
    nameColumn,
    column('Schedule', 'string', docs.CronJobSpec.schedule),
    column('Timezone', 'string', docs.CronJobSpec.timeZone),
    column('Suspend', 'boolean', docs.CronJobSpec.suspend),
    column('Active', 'integer', docs.CronJobStatus.active),
    column('Last Schedule', 'string', docs.CronJobStatus.lastScheduleTime),
    ageColumn,
    containersColumn,
    imagesColumn,
    column('Selector', 'string', docs.JobSpec.selector, WIDE),
  ],
  (cj, now) => {
    const spec = cj.spec;
    const jobSpec = spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const lastSchedule = cj.status?.lastScheduleTime;
    return [
      cj.metadata?.name ?? '',
      spec?.schedule ?? '',
      spec?.timeZone ?? '<none>',
      // Suspend defaults to false; the cell is a string even though the column says boolean.
      boolPtr(spec?.suspend ?? false),
      list(cj.status?.active).length,
      lastSchedule ? translateTimestampSince(lastSchedule, now) : '<none>',
      age(cj, now),
      names,
      images,
      formatLabelSelector(jobSpec?.selector),
    ];
  },
);

const podDisruptionBudgetPrinter = printer<PodDisruptionBudget>(
  [
    nameColumn,
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn,
  ],
  (pdb, now) => {
    const intOrString = (v: number | string | undefined) => (isSet(v) ? String(v) : 'N/A');
    return [
      pdb.metadata?.name ?? '',
      intOrString(pdb.spec?.minAvailable),
      intOrString(pdb.spec?.maxUnavailable),
      pdb.status?.disruptionsAllowed ?? 0,
      age(pdb, now),
    ];
  },
);

/** TARGETS of an autoscaler: "cpu: 20%/50%, memory: <unknown>/1Gi + 1 more..." (formatHPAMetrics). */
function formatHPAMetrics(specs: readonly MetricSpec[], statuses: readonly MetricStatus[]): string {
  if (specs.length === 0) return '<none>';
  const max = 2;
  const items = specs.map((spec, i) => {
    const status: MetricStatus | undefined = statuses[i];
    switch (spec.type) {
      case 'External': {
        const target = spec.external?.target;
        const current = status?.external?.current;
        if (isSet(target?.averageValue)) {
          const value = isSet(current?.averageValue) ? quantity(current.averageValue) : '<unknown>';
          return `${value}/${quantity(target.averageValue)} (avg)`;
        }
        return `${status?.external ? quantity(current?.value) : '<unknown>'}/${quantity(target?.value)}`;
      }
      case 'Pods': {
        const current = status?.pods ? quantity(status.pods.current?.averageValue) : '<unknown>';
        return `${current}/${quantity(spec.pods?.target?.averageValue)}`;
      }
      case 'Object': {
        const target = spec.object?.target;
        const current = status?.object?.current;
        if (isSet(target?.averageValue)) {
          const value = isSet(current?.averageValue) ? quantity(current.averageValue) : '<unknown>';
          return `${value}/${quantity(target.averageValue)} (avg)`;
        }
        return `${status?.object ? quantity(current?.value) : '<unknown>'}/${quantity(target?.value)}`;
      }
      case 'Resource':
      case 'ContainerResource': {
        const source = spec.type === 'Resource' ? spec.resource : spec.containerResource;
        const sourceStatus = spec.type === 'Resource' ? status?.resource : status?.containerResource;
        const name = source?.name ?? '';
        const target = source?.target;
        if (isSet(target?.averageValue)) {
          const current = sourceStatus ? quantity(sourceStatus.current?.averageValue) : '<unknown>';
          return `${name}: ${current}/${quantity(target.averageValue)}`;
        }
        const utilization = sourceStatus?.current?.averageUtilization;
        const current = isSet(utilization) ? `${utilization}%` : '<unknown>';
        const goal = isSet(target?.averageUtilization) ? `${target.averageUtilization}%` : '<auto>';
        return `${name}: ${current}/${goal}`;
      }
      default:
        return '<unknown type>';
    }
  });
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} + ${items.length - max} more...` : shown;
}

/** The autoscaling/v1 fields, converted the way Kubernetes converts them to the internal (v2) form. */
interface HPAV1Fields {
  spec?: { targetCPUUtilizationPercentage?: number };
  status?: { currentCPUUtilizationPercentage?: number };
}

function hpaMetrics(hpa: HorizontalPodAutoscaler & HPAV1Fields): [MetricSpec[], MetricStatus[]] {
  if (Array.isArray(hpa.spec?.metrics)) return [hpa.spec.metrics, list(hpa.status?.currentMetrics).slice()];
  const target = hpa.spec?.targetCPUUtilizationPercentage;
  if (!isSet(target)) return [[], []];
  const specs: MetricSpec[] = [
    { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } },
  ];
  const current = hpa.status?.currentCPUUtilizationPercentage;
  const statuses: MetricStatus[] =
    !isSet(current)
      ? []
      : [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }];
  return [specs, statuses];
}

const horizontalPodAutoscalerPrinter = printer<HorizontalPodAutoscaler & HPAV1Fields>(
  [
    nameColumn,
    column('Reference', 'string', docs.HorizontalPodAutoscalerSpec.scaleTargetRef),
    column('Targets', 'string', docs.HorizontalPodAutoscalerSpec.metrics),
    column('MinPods', 'string', docs.HorizontalPodAutoscalerSpec.minReplicas),
    column('MaxPods', 'string', docs.HorizontalPodAutoscalerSpec.maxReplicas),
    column('Replicas', 'string', docs.HorizontalPodAutoscalerStatus.currentReplicas),
    ageColumn,
  ],
  (hpa, now) => {
    const [specs, statuses] = hpaMetrics(hpa);
    const ref = hpa.spec?.scaleTargetRef;
    const minReplicas = hpa.spec?.minReplicas ?? 1;
    return [
      hpa.metadata?.name ?? '',
      `${ref?.kind ?? ''}/${ref?.name ?? ''}`,
      formatHPAMetrics(specs, statuses),
      String(minReplicas),
      hpa.spec?.maxReplicas ?? 0,
      hpa.status?.currentReplicas ?? 0,
      age(hpa, now),
    ];
  },
);

// ---------------------------------------------------------------------------
// Networking

/** HOSTS of an ingress: up to three, "*" when none (formatHosts). */
function formatIngressHosts(rules: readonly { host?: string }[]): string {
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (hosts.length === max) more = true;
    if (!more && rule.host) hosts.push(rule.host);
  }
  if (hosts.length === 0) return '*';
  const text = hosts.join(',');
  // The count Kubernetes reports includes rules without a host.
  return more ? `${text} + ${rules.length - max} more...` : text;
}

const ingressPrinter = printer<Ingress>(
  [
    nameColumn,
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn,
  ],
  (ing, now) => [
    ing.metadata?.name ?? '',
    ing.spec?.ingressClassName ?? '<none>',
    formatIngressHosts(list(ing.spec?.rules)),
    loadBalancerAddresses(ing.status?.loadBalancer),
    list(ing.spec?.tls).length > 0 ? '80, 443' : '80',
    age(ing, now),
  ],
);

const ingressClassPrinter = printer<IngressClass>(
  [
    nameColumn,
    column('Controller', 'string', 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn,
  ],
  (ic, now) => {
    const params = ic.spec?.parameters;
    let parameters = '<none>';
    if (params) parameters = `${params.kind}${isSet(params.apiGroup) ? `.${params.apiGroup}` : ''}/${params.name}`;
    return [ic.metadata?.name ?? '', ic.spec?.controller ?? '', parameters, age(ic, now)];
  },
);

const networkPolicyPrinter = printer<NetworkPolicy>(
  [nameColumn, column('Pod-Selector', 'string', docs.NetworkPolicySpec.podSelector), ageColumn],
  (np, now) => [np.metadata?.name ?? '', formatLabelSelector(np.spec?.podSelector ?? {}), age(np, now)],
);

const endpointSlicePrinter = printer<EndpointSlice>(
  [
    nameColumn,
    column('AddressType', 'string', docs.EndpointSlice.addressType),
    column('Ports', 'string', docs.EndpointSlice.ports),
    column('Endpoints', 'string', docs.EndpointSlice.endpoints),
    ageColumn,
  ],
  (slice, now) => {
    const ports = list(slice.ports);
    const portTexts = ports.map((p) => (isSet(p.port) ? String(p.port) : (p.name ?? '*')));
    const addresses = list(slice.endpoints).flatMap((e) => list(e.addresses));
    return [
      slice.metadata?.name ?? '',
      slice.addressType ?? '',
      listWithMore(portTexts, ports.length, 3),
      listWithMore(addresses.slice(0, 3), addresses.length, 3),
      age(slice, now),
    ];
  },
);

// ---------------------------------------------------------------------------
// RBAC, coordination, storage, scheduling, certificates, admission

/** Users, groups and "namespace/name" service accounts of a binding (rbac.SubjectsStrings). */
function subjectCells(subjects: readonly Subject[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of list(subjects)) {
    if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
    else if (s.kind === 'ServiceAccount') serviceAccounts.push(`${s.namespace ?? ''}/${s.name}`);
  }
  return [users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
}

function bindingPrinter(kind: 'roleBinding' | 'clusterRoleBinding'): TablePrinter {
  const roleRefDoc = kind === 'roleBinding' ? docs.RoleBinding.roleRef : docs.ClusterRoleBinding.roleRef;
  return printer<RoleBinding | ClusterRoleBinding>(
    [
      nameColumn,
      column('Role', 'string', roleRefDoc),
      ageColumn,
      column('Users', 'string', `Users in the ${kind}`, WIDE),
      column('Groups', 'string', `Groups in the ${kind}`, WIDE),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, WIDE),
    ],
    (binding, now) => [
      binding.metadata?.name ?? '',
      `${binding.roleRef?.kind ?? ''}/${binding.roleRef?.name ?? ''}`,
      age(binding, now),
      ...subjectCells(binding.subjects),
    ],
  );
}

const leasePrinter = printer<Lease>(
  [nameColumn, column('Holder', 'string', docs.LeaseSpec.holderIdentity), ageColumn],
  (lease, now) => [lease.metadata?.name ?? '', lease.spec?.holderIdentity ?? '', age(lease, now)],
);

const storageClassPrinter = printer<StorageClass>(
  [
    nameColumn,
    column('Provisioner', 'string', docs.StorageClass.provisioner),
    column('ReclaimPolicy', 'string', docs.StorageClass.reclaimPolicy),
    column('VolumeBindingMode', 'string', docs.StorageClass.volumeBindingMode),
    column('AllowVolumeExpansion', 'string', docs.StorageClass.allowVolumeExpansion),
    ageColumn,
  ],
  (sc, now) => {
    const annotations = sc.metadata?.annotations ?? {};
    const isDefault =
      annotations['storageclass.kubernetes.io/is-default-class'] === 'true' ||
      annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true';
    return [
      `${sc.metadata?.name ?? ''}${isDefault ? ' (default)' : ''}`,
      sc.provisioner ?? '',
      sc.reclaimPolicy ?? 'Delete',
      sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion ?? false,
      age(sc, now),
    ];
  },
);

const priorityClassPrinter = printer<PriorityClass>(
  [
    nameColumn,
    column('Value', 'integer', docs.PriorityClass.value),
    column('Global-Default', 'boolean', docs.PriorityClass.globalDefault),
    ageColumn,
    column('PreemptionPolicy', 'string', docs.PriorityClass.preemptionPolicy),
  ],
  (pc, now) => [
    pc.metadata?.name ?? '',
    pc.value ?? 0,
    pc.globalDefault ?? false,
    age(pc, now),
    pc.preemptionPolicy ?? 'PreemptLowerPriority',
  ],
);

const runtimeClassPrinter = printer<RuntimeClass>(
  // Kubernetes looks this description up on ObjectMeta, which has no "handler": it is empty.
  [nameColumn, column('Handler', 'string', ''), ageColumn],
  (rc, now) => [rc.metadata?.name ?? '', rc.handler ?? '', age(rc, now)],
);

/** CONDITION of a CSR: Denied/Approved/Pending, then ",Failed" and ",Issued". */
function csrCondition(csr: CertificateSigningRequest): string {
  const types = new Set(list(csr.status?.conditions).map((c) => c.type));
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

const certificateSigningRequestPrinter = printer<CertificateSigningRequest>(
  [
    nameColumn,
    ageColumn,
    column('SignerName', 'string', docs.CertificateSigningRequestSpec.signerName),
    column('Requestor', 'string', docs.CertificateSigningRequestSpec.request),
    column('RequestedDuration', 'string', docs.CertificateSigningRequestSpec.expirationSeconds),
    column('Condition', 'string', docs.CertificateSigningRequestStatus.conditions),
  ],
  (csr, now) => {
    const seconds = csr.spec?.expirationSeconds;
    return [
      csr.metadata?.name ?? '',
      age(csr, now),
      csr.spec?.signerName || '<none>',
      csr.spec?.username ?? '',
      isSet(seconds) ? humanDuration(seconds * 1000) : '<none>',
      csrCondition(csr),
    ];
  },
);

const webhookConfigurationPrinter = printer<MutatingWebhookConfiguration | ValidatingWebhookConfiguration>(
  [nameColumn, column('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'), ageColumn],
  (config, now) => [config.metadata?.name ?? '', list<unknown>(config.webhooks).length, age(config, now)],
);

// ---------------------------------------------------------------------------
// Registry

/**
 * What kube-apiserver shows for kinds without a printer (Role, ClusterRole,
 * LimitRange, custom resources without printer columns…): NAME and CREATED
 * AT, a date column holding the creation time in RFC 3339, UTC.
 */
export const defaultTablePrinter: TablePrinter = {
  columns: [nameColumn, column('Created At', 'date', docs.ObjectMeta.creationTimestamp)],
  row: (obj) => [obj.metadata?.name ?? '', rfc3339(obj.metadata?.creationTimestamp)],
};

/**
 * Server-side table printers keyed by "<group>/<Kind>" ("" for the core
 * group: "/Pod", "apps/Deployment"). The same printer serves every version of
 * a kind, as in Kubernetes where printers work on the internal version.
 */
export const tablePrinters: Record<string, TablePrinter> = {
  '/Pod': podPrinter,
  '/PodTemplate': podTemplatePrinter,
  '/Node': nodePrinter,
  '/Namespace': namespacePrinter,
  '/Service': servicePrinter,
  '/Endpoints': endpointsPrinter,
  '/ConfigMap': configMapPrinter,
  '/Secret': secretPrinter,
  '/ServiceAccount': serviceAccountPrinter,
  '/Event': coreEventPrinter,
  '/PersistentVolume': persistentVolumePrinter,
  '/PersistentVolumeClaim': persistentVolumeClaimPrinter,
  '/ResourceQuota': resourceQuotaPrinter,
  '/ReplicationController': replicationControllerPrinter,
  '/LimitRange': defaultTablePrinter,
  'events.k8s.io/Event': eventsV1EventPrinter,
  'apps/Deployment': deploymentPrinter,
  'apps/ReplicaSet': replicaSetPrinter,
  'apps/StatefulSet': statefulSetPrinter,
  'apps/DaemonSet': daemonSetPrinter,
  'apps/ControllerRevision': controllerRevisionPrinter,
  'batch/Job': jobPrinter,
  'batch/CronJob': cronJobPrinter,
  'autoscaling/HorizontalPodAutoscaler': horizontalPodAutoscalerPrinter,
  'policy/PodDisruptionBudget': podDisruptionBudgetPrinter,
  'networking.k8s.io/Ingress': ingressPrinter,
  'networking.k8s.io/IngressClass': ingressClassPrinter,
  'networking.k8s.io/NetworkPolicy': networkPolicyPrinter,
  'discovery.k8s.io/EndpointSlice': endpointSlicePrinter,
  'rbac.authorization.k8s.io/Role': defaultTablePrinter,
  'rbac.authorization.k8s.io/ClusterRole': defaultTablePrinter,
  'rbac.authorization.k8s.io/RoleBinding': bindingPrinter('roleBinding'),
  'rbac.authorization.k8s.io/ClusterRoleBinding': bindingPrinter('clusterRoleBinding'),
  'coordination.k8s.io/Lease': leasePrinter,
  'storage.k8s.io/StorageClass': storageClassPrinter,
  'scheduling.k8s.io/PriorityClass': priorityClassPrinter,
  'node.k8s.io/RuntimeClass': runtimeClassPrinter,
  'certificates.k8s.io/CertificateSigningRequest': certificateSigningRequestPrinter,
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': webhookConfigurationPrinter,
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': webhookConfigurationPrinter,
};

/** The printer for a group and kind, or the default NAME / CREATED AT printer. */
export function tablePrinterFor(group: string, kind: string): TablePrinter {
  return tablePrinters[`${group}/${kind}`] ?? defaultTablePrinter;
}
