/**
 * The resources Pilote serves, as the controllers that work on "every kind"
 * (garbage collector, namespace deleter) need them: a small RESTMapper from
 * apiVersion + kind to a resource reference and its scope. Kubernetes gets
 * this from discovery; in one process we read the API server's own resource
 * table, which is what discovery serves.
 */
import { builtinResources } from '../../apiserver/registry/resources.js';
import type { ResourceRef } from '../../client/types.js';

/** A served resource with what the controllers need to address its objects. */
export interface ServedResource extends ResourceRef {
  kind: string;
  namespaced: boolean;
  verbs: readonly string[];
}

/** A stable identifier of a resource: "group/resource" ("/pods" for core). */
export function resourceId(ref: ResourceRef): string {
  return `${ref.group}/${ref.resource}`;
}

/** Splits an apiVersion into group and version ("v1" → core). */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Maps kinds to resources over a fixed set of served resources. */
export class ResourceMapper {
  private readonly byKind = new Map<string, ServedResource>();

  constructor(readonly resources: readonly ServedResource[]) {
    for (const r of resources) {
      const key = `${r.group}/${r.kind}`;
      // The first registration of a kind wins (core events before events.k8s.io is irrelevant: groups differ).
      if (!this.byKind.has(key)) this.byKind.set(key, r);
    }
  }

  /** The resource of an apiVersion + kind (the version is not checked: one version per group is served). */
  forKind(apiVersion: string, kind: string): ServedResource | undefined {
    return this.byKind.get(`${parseApiVersion(apiVersion).group}/${kind}`);
  }

  /** Resources that support all these verbs. */
  withVerbs(...verbs: string[]): ServedResource[] {
    return this.resources.filter((r) => verbs.every((v) => r.verbs.includes(v)));
  }
}

let served: ServedResource[] | undefined;

/** Every resource the API server serves (computed once). */
export function servedResources(): ServedResource[] {
  served ??= builtinResources().map(({ info }) => ({
    group: info.group,
    version: info.version,
    resource: info.resource,
    kind: info.kind,
    namespaced: info.namespaced,
    verbs: info.verbs ?? [],
  }));
  return served;
}

/** A mapper over every served resource. */
export function defaultResourceMapper(): ResourceMapper {
  return new ResourceMapper(servedResources());
}
