/**
 * The client interface every component (controllers, scheduler, kubelet,
 * simulated nodes) uses to talk to the API: list + watch + writes, with the
 * semantics of the HTTP API. In one process it is served in-process
 * (./local-client.ts); another process will use HTTPS with the same interface.
 */
import type { KubeObject } from '../apimachinery/types.js';

/** A resource addressed like a REST path: group ("" = core), version, plural. */
export interface ResourceRef {
  group: string;
  version: string;
  resource: string;
}

export interface ClientListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
}

export interface ClientList {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
}

export type ClientWatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ClientWatchEvent {
  type: ClientWatchEventType;
  object: KubeObject;
}

/** A running watch. */
export interface ClientWatch {
  stop(): void;
}

export type PatchType = 'merge' | 'strategic' | 'json';

export interface ClientDeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

/** Operations on one resource; `namespace` is ignored for cluster-scoped resources. */
export interface ResourceClient {
  get(namespace: string | undefined, name: string): Promise<KubeObject>;
  list(namespace: string | undefined, options?: ClientListOptions): Promise<ClientList>;
  /** Events after `options.resourceVersion`; `onError` ends the watch (410 → relist). */
  watch(
    namespace: string | undefined,
    options: ClientListOptions & { allowWatchBookmarks?: boolean },
    onEvent: (event: ClientWatchEvent) => void,
    onError: (error: Error) => void,
  ): ClientWatch;
  create(namespace: string | undefined, object: KubeObject): Promise<KubeObject>;
  /** PUT; fails with 409 Conflict when object.metadata.resourceVersion is stale. */
  update(namespace: string | undefined, object: KubeObject): Promise<KubeObject>;
  /** PUT on /status. */
  updateStatus(namespace: string | undefined, object: KubeObject): Promise<KubeObject>;
  patch(namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status' | 'scale'): Promise<KubeObject>;
  delete(namespace: string | undefined, name: string, options?: ClientDeleteOptions): Promise<void>;
  /** POST on a subresource (e.g. pods/binding). */
  createSubresource(namespace: string | undefined, name: string, subresource: string, body: KubeObject): Promise<unknown>;
}

/** Entry point: one ResourceClient per resource. */
export interface ApiClient {
  resource(ref: ResourceRef): ResourceClient;
}

/** The references of the resources components use most. */
export const RESOURCES = {
  pods: { group: '', version: 'v1', resource: 'pods' },
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  namespaces: { group: '', version: 'v1', resource: 'namespaces' },
  services: { group: '', version: 'v1', resource: 'services' },
  endpoints: { group: '', version: 'v1', resource: 'endpoints' },
  events: { group: '', version: 'v1', resource: 'events' },
  serviceAccounts: { group: '', version: 'v1', resource: 'serviceaccounts' },
  configMaps: { group: '', version: 'v1', resource: 'configmaps' },
  secrets: { group: '', version: 'v1', resource: 'secrets' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicaSets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  statefulSets: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  daemonSets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
  cronJobs: { group: 'batch', version: 'v1', resource: 'cronjobs' },
  leases: { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' },
  endpointSlices: { group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices' },
} as const satisfies Record<string, ResourceRef>;

/** "namespace/name" (or "name" for cluster-scoped objects): the key of work queues and caches. */
export function objectKey(object: KubeObject): string {
  const ns = object.metadata.namespace;
  return ns ? `${ns}/${object.metadata.name}` : object.metadata.name!;
}

/** Splits a key made by objectKey. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
