/**
 * API discovery, in the three forms clients negotiate: aggregated v2 and
 * v2beta1 (APIGroupDiscoveryList, what kubectl ≥ 1.26 asks for first) and the
 * legacy APIVersions / APIGroupList / APIResourceList documents. All are
 * computed once from the resource registry and served as cached JSON.
 */
import { createHash } from 'node:crypto';
import type { ResourceInfo } from './registry/strategy.js';

/** A subresource as discovery advertises it. */
export interface SubresourceInfo {
  name: string;
  verbs: string[];
  responseKind: { group: string; version: string; kind: string };
}

/** What discovery needs to know of one resource. */
export interface DiscoveredResource {
  info: ResourceInfo;
  subresources: SubresourceInfo[];
}

/** A group-version and its resources, in discovery order. */
export interface DiscoveredGroupVersion {
  group: string;
  version: string;
  resources: DiscoveredResource[];
}

export const DISCOVERY_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const DISCOVERY_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** Precomputed discovery documents. */
export class Discovery {
  private readonly cache = new Map<string, string>();

  constructor(private readonly groupVersions: DiscoveredGroupVersion[]) {}

  private memo(key: string, build: () => unknown): string {
    let text = this.cache.get(key);
    if (text === undefined) {
      text = JSON.stringify(build());
      this.cache.set(key, text);
    }
    return text;
  }

  /** Picks the aggregated discovery version the Accept header asks for, if any. */
  static negotiate(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
    if (!accept) return undefined;
    for (const part of accept.split(',')) {
      const params = part.split(';').map((s) => s.trim());
      if (!params.includes('g=apidiscovery.k8s.io') || !params.includes('as=APIGroupDiscoveryList')) continue;
      if (params.includes('v=v2')) return 'v2';
      if (params.includes('v=v2beta1')) return 'v2beta1';
    }
    return undefined;
  }

  /** Aggregated discovery for /api (legacy core group) or /apis (named groups). */
  aggregated(root: 'api' | 'apis', version: 'v2' | 'v2beta1'): string {
    return this.memo(`agg:${root}:${version}`, () => {
      const byGroup = new Map<string, DiscoveredGroupVersion[]>();
      for (const gv of this.groupVersions) {
        if ((gv.group === '') !== (root === 'api')) continue;
        const list = byGroup.get(gv.group) ?? [];
        list.push(gv);
        byGroup.set(gv.group, list);
      }
      return {
        kind: 'APIGroupDiscoveryList',
        apiVersion: `apidiscovery.k8s.io/${version}`,
        metadata: {},
        items: [...byGroup.entries()].map(([group, versions]) => ({
          metadata: group === '' ? { creationTimestamp: null } : { name: group, creationTimestamp: null },
          versions: versions.map((gv) => ({
            version: gv.version,
            resources: gv.resources.map((r) => aggregatedResource(r)),
            freshness: 'Current',
          })),
        })),
      };
    });
  }

  /** Legacy /api: the core versions. */
  apiVersions(serverAddress: string): string {
    return this.memo(`api:${serverAddress}`, () => ({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    }));
  }

  /** Legacy /apis: every named group. */
  apiGroupList(): string {
    return this.memo('apis', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.namedGroups().map((group) => this.apiGroupObject(group)),
    }));
  }

  /** Legacy /apis/<group>, or undefined for an unknown group. */
  apiGroup(group: string): string | undefined {
    if (!this.namedGroups().includes(group)) return undefined;
    return this.memo(`group:${group}`, () => ({ kind: 'APIGroup', apiVersion: 'v1', ...this.apiGroupObject(group) }));
  }

  /** Legacy /api/v1 or /apis/<group>/<version>: the APIResourceList. */
  resourceList(group: string, version: string): string | undefined {
    const gv = this.groupVersions.find((g) => g.group === group && g.version === version);
    if (!gv) return undefined;
    return this.memo(`resources:${group}/${version}`, () => ({
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: group ? `${group}/${version}` : version,
      resources: gv.resources.flatMap((r) => legacyResources(r)),
    }));
  }

  /**
   * GET / (and /index.html): metav1.RootPaths, the sorted list of API and
   * non-resource paths, indented as kube-apiserver's IndexLister writes it.
   */
  rootPaths(nonResourcePaths: string[]): string {
    const text = this.cache.get('root');
    if (text !== undefined) return text;
    const paths = new Set(['/api', '/apis', '/apis/', ...nonResourcePaths]);
    for (const gv of this.groupVersions) {
      if (gv.group === '') paths.add(`/api/${gv.version}`);
      else paths.add(`/apis/${gv.group}`).add(`/apis/${gv.group}/${gv.version}`);
    }
    const body = JSON.stringify({ paths: [...paths].sort() }, null, 2);
    this.cache.set('root', body);
    return body;
  }

  private namedGroups(): string[] {
    const seen: string[] = [];
    for (const gv of this.groupVersions) if (gv.group !== '' && !seen.includes(gv.group)) seen.push(gv.group);
    return seen;
  }

  private apiGroupObject(group: string) {
    const versions = this.groupVersions
      .filter((gv) => gv.group === group)
      .map((gv) => ({ groupVersion: `${group}/${gv.version}`, version: gv.version }));
    return { name: group, versions, preferredVersion: versions[0] };
  }
}

function aggregatedResource(r: DiscoveredResource) {
  const { info } = r;
  const out: Record<string, unknown> = {
    resource: info.resource,
    responseKind: { group: info.group, version: info.version, kind: info.kind },
    scope: info.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: info.singular,
    verbs: info.verbs,
  };
  if (info.shortNames?.length) out.shortNames = info.shortNames;
  if (info.categories?.length) out.categories = info.categories;
  if (r.subresources.length) {
    out.subresources = r.subresources.map((s) => ({ subresource: s.name, responseKind: s.responseKind, verbs: s.verbs }));
  }
  return out;
}

function legacyResources(r: DiscoveredResource) {
  const { info } = r;
  const main: Record<string, unknown> = {
    name: info.resource,
    singularName: info.singular,
    namespaced: info.namespaced,
    kind: info.kind,
    verbs: info.verbs,
  };
  if (info.shortNames?.length) main.shortNames = info.shortNames;
  if (info.categories?.length) main.categories = info.categories;
  main.storageVersionHash = createHash('sha256').update(`${info.group}/${info.version}/${info.kind}`).digest('base64').slice(0, 11);
  const subs = r.subresources.map((s) => {
    const sub: Record<string, unknown> = { name: `${info.resource}/${s.name}`, singularName: '', namespaced: info.namespaced, kind: s.responseKind.kind, verbs: s.verbs };
    if (s.responseKind.group !== info.group) sub.group = s.responseKind.group;
    if (s.responseKind.version !== info.version) sub.version = s.responseKind.version;
    return sub;
  });
  return [main, ...subs];
}
