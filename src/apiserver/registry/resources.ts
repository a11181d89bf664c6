/**
 * Every resource Pilote serves, in discovery order. Each entry is its
 * discovery facts plus what is special about it; the generic store does the rest.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';
import { prepareJobForCreate, prepareNamespaceForCreate, preparePodForCreate } from '../../api/defaults.js';
import { ALL_VERBS, defineResource } from './kinds.js';
import type { ResourceStrategy } from './strategy.js';

const str = (value: unknown): string => (value === undefined || value === null ? '' : String(value));
const field = (obj: KubeObject, path: string): unknown =>
  path.split('.').reduce<unknown>((node, part) => (isObject(node) ? node[part] : undefined), obj);

/** Pods are deleted gracefully once bound to a node and not finished (the kubelet confirms). */
function podGracePeriod(pod: KubeObject, requested: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = str(field(pod, 'status.phase'));
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  if (pod.metadata.deletionTimestamp && pod.metadata.deletionGracePeriodSeconds === 0) return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  // kubectl turns --grace-period=0 into 1 unless --force, so a 0 here means "now".
  return grace;
}

const core = (info: Omit<Parameters<typeof defineResource>[0], 'group' | 'version'>, extra?: Omit<ResourceStrategy, 'info'>) =>
  defineResource({ group: '', version: 'v1', ...info }, extra);
const apps = (info: Omit<Parameters<typeof defineResource>[0], 'group' | 'version'>, extra?: Omit<ResourceStrategy, 'info'>) =>
  defineResource({ group: 'apps', version: 'v1', ...info }, extra);

const workloadScale = { specReplicasPath: 'spec.replicas', statusReplicasPath: 'status.replicas', labelSelectorPath: 'spec.selector' };

/** The built-in resources, in the order discovery lists them. */
export function builtinResources(): ResourceStrategy[] {
  return [
    // core/v1
    core({ kind: 'ConfigMap', resource: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'] }),
    core({ kind: 'Endpoints', resource: 'endpoints', singular: 'endpoints', namespaced: true, shortNames: ['ep'] }),
    core(
      { kind: 'Event', resource: 'events', singular: 'event', namespaced: true, shortNames: ['ev'] },
      {
        selectableFields: (ev) => ({
          'involvedObject.kind': str(field(ev, 'involvedObject.kind')),
          'involvedObject.namespace': str(field(ev, 'involvedObject.namespace')),
          'involvedObject.name': str(field(ev, 'involvedObject.name')),
          'involvedObject.uid': str(field(ev, 'involvedObject.uid')),
          'involvedObject.apiVersion': str(field(ev, 'involvedObject.apiVersion')),
          'involvedObject.resourceVersion': str(field(ev, 'involvedObject.resourceVersion')),
          'involvedObject.fieldPath': str(field(ev, 'involvedObject.fieldPath')),
          reason: str(field(ev, 'reason')),
          reportingComponent: str(field(ev, 'reportingComponent')),
          source: str(field(ev, 'source.component')),
          type: str(field(ev, 'type')),
        }),
      },
    ),
    core({ kind: 'LimitRange', resource: 'limitranges', singular: 'limitrange', namespaced: true, shortNames: ['limits'] }),
    core(
      { kind: 'Namespace', resource: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
      {
        statusSubresource: true,
        nameValidation: 'dns1123Label',
        prepareForCreate: prepareNamespaceForCreate,
        selectableFields: (ns) => ({ 'status.phase': str(field(ns, 'status.phase')) }),
        finalizeOnDelete: (ns) => ((field(ns, 'spec.finalizers') as unknown[] | undefined)?.length ?? 0) > 0,
        prepareForDelete: (ns) => {
          ns.status = { ...(isObject(ns.status) ? ns.status : {}), phase: 'Terminating' };
        },
      },
    ),
    core(
      { kind: 'Node', resource: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'] },
      { statusSubresource: true, clearStatusOnCreate: false, selectableFields: (node) => ({ 'spec.unschedulable': str(field(node, 'spec.unschedulable') ?? false) }) },
    ),
    core({ kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', namespaced: true, shortNames: ['pvc'] }, { statusSubresource: true }),
    core({ kind: 'PersistentVolume', resource: 'persistentvolumes', singular: 'persistentvolume', namespaced: false, shortNames: ['pv'] }, { statusSubresource: true }),
    core(
      { kind: 'Pod', resource: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], categories: ['all'] },
      {
        statusSubresource: true,
        prepareForCreate: preparePodForCreate,
        gracefulDeletion: podGracePeriod,
        selectableFields: (pod) => ({
          'spec.nodeName': str(field(pod, 'spec.nodeName')),
          'spec.restartPolicy': str(field(pod, 'spec.restartPolicy')),
          'spec.schedulerName': str(field(pod, 'spec.schedulerName')),
          'spec.serviceAccountName': str(field(pod, 'spec.serviceAccountName')),
          'spec.hostNetwork': str(field(pod, 'spec.hostNetwork') ?? false),
          'status.phase': str(field(pod, 'status.phase')),
          'status.podIP': str(field(pod, 'status.podIP')),
          'status.nominatedNodeName': str(field(pod, 'status.nominatedNodeName')),
        }),
      },
    ),
    core({ kind: 'ResourceQuota', resource: 'resourcequotas', singular: 'resourcequota', namespaced: true, shortNames: ['quota'] }, { statusSubresource: true }),
    core(
      { kind: 'Secret', resource: 'secrets', singular: 'secret', namespaced: true },
      { selectableFields: (secret) => ({ type: str(secret.type) }) },
    ),
    core({ kind: 'ServiceAccount', resource: 'serviceaccounts', singular: 'serviceaccount', namespaced: true, shortNames: ['sa'] }),
    core(
      { kind: 'Service', resource: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], categories: ['all'] },
      { statusSubresource: true, selectableFields: (svc) => ({ 'spec.clusterIP': str(field(svc, 'spec.clusterIP')), 'spec.type': str(field(svc, 'spec.type')) }) },
    ),
    // apps/v1
    apps({ kind: 'DaemonSet', resource: 'daemonsets', singular: 'daemonset', namespaced: true, shortNames: ['ds'], categories: ['all'] }, { statusSubresource: true, tracksGeneration: true }),
    apps({ kind: 'Deployment', resource: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], categories: ['all'] }, { statusSubresource: true, tracksGeneration: true, scale: workloadScale }),
    apps(
      { kind: 'ReplicaSet', resource: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], categories: ['all'] },
      { statusSubresource: true, tracksGeneration: true, scale: workloadScale, selectableFields: (rs) => ({ 'status.replicas': str(field(rs, 'status.replicas') ?? 0) }) },
    ),
    apps({ kind: 'StatefulSet', resource: 'statefulsets', singular: 'statefulset', namespaced: true, shortNames: ['sts'], categories: ['all'] }, { statusSubresource: true, tracksGeneration: true, scale: workloadScale }),
    // events.k8s.io/v1
    defineResource({ group: 'events.k8s.io', version: 'v1', kind: 'Event', resource: 'events', singular: 'event', namespaced: true, shortNames: ['ev'] }),
    // authorization.k8s.io/v1 — served by a dedicated handler (no storage)
    // autoscaling/v2
    defineResource(
      { group: 'autoscaling', version: 'v2', kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'] },
      { statusSubresource: true },
    ),
    // batch/v1
    defineResource({ group: 'batch', version: 'v1', kind: 'CronJob', resource: 'cronjobs', singular: 'cronjob', namespaced: true, shortNames: ['cj'], categories: ['all'] }, { statusSubresource: true, tracksGeneration: true }),
    defineResource(
      { group: 'batch', version: 'v1', kind: 'Job', resource: 'jobs', singular: 'job', namespaced: true, categories: ['all'] },
      {
        statusSubresource: true,
        tracksGeneration: true,
        prepareForCreate: (job) => prepareJobForCreate(job),
        selectableFields: (job) => ({ 'status.successful': str(field(job, 'status.successful') ?? 0) }),
      },
    ),
    // networking.k8s.io/v1
    defineResource({ group: 'networking.k8s.io', version: 'v1', kind: 'IngressClass', resource: 'ingressclasses', singular: 'ingressclass', namespaced: false }),
    defineResource({ group: 'networking.k8s.io', version: 'v1', kind: 'Ingress', resource: 'ingresses', singular: 'ingress', namespaced: true, shortNames: ['ing'] }, { statusSubresource: true }),
    defineResource({ group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', resource: 'networkpolicies', singular: 'networkpolicy', namespaced: true, shortNames: ['netpol'] }, { tracksGeneration: true }),
    // rbac.authorization.k8s.io/v1
    defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', singular: 'clusterrolebinding', namespaced: false }, { nameValidation: 'pathSegment' }),
    defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'ClusterRole', resource: 'clusterroles', singular: 'clusterrole', namespaced: false }, { nameValidation: 'pathSegment' }),
    defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'RoleBinding', resource: 'rolebindings', singular: 'rolebinding', namespaced: true }, { nameValidation: 'pathSegment' }),
    defineResource({ group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role', resource: 'roles', singular: 'role', namespaced: true }, { nameValidation: 'pathSegment' }),
    // storage.k8s.io/v1
    defineResource({ group: 'storage.k8s.io', version: 'v1', kind: 'StorageClass', resource: 'storageclasses', singular: 'storageclass', namespaced: false, shortNames: ['sc'] }),
    // coordination.k8s.io/v1
    defineResource({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', resource: 'leases', singular: 'lease', namespaced: true }),
    // discovery.k8s.io/v1
    defineResource({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', resource: 'endpointslices', singular: 'endpointslice', namespaced: true }),
  ].map((strategy) => ({ ...strategy, info: { verbs: ALL_VERBS, ...strategy.info } }));
}

/** The order of API groups in discovery, as kube-apiserver lists them. */
export const GROUP_ORDER = [
  '',
  'apps',
  'events.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
];

