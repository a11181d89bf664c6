/**
 * The routing table of the ingress controller, built from the Ingresses it
 * handles, with the matching rules of the Ingress API (networking.k8s.io/v1):
 * - host: exact match, or `*.example.com` matching exactly one more label
 *   (`a.example.com`, not `example.com` nor `b.a.example.com`); exact hosts
 *   win over wildcards, and rules without a host apply to every host after them;
 * - path: `Exact` compares the whole path (case-sensitive); `Prefix` compares
 *   `/`-separated elements (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not
 *   `/foobar`); `ImplementationSpecific` is Prefix here; the longest path
 *   wins, Exact before Prefix on a tie, then the oldest Ingress;
 * - no rule matches: the oldest Ingress' `defaultBackend`, else 404.
 */
import type { KubeObject } from '../../apimachinery/types.js';

/** Where matching requests go: a Service port in the Ingress' namespace. */
export interface ServiceBackendRef {
  namespace: string;
  service: string;
  /** The Service port, by number or by name. */
  port: { number?: number; name?: string };
}

/** One path rule of one host. */
interface Route {
  exact: boolean;
  /** For Exact: the path; for Prefix: the path without trailing slash ('' for `/`). */
  path: string;
  /** Prefix only: the path's non-empty elements. */
  segments: string[];
  backend: ServiceBackendRef | undefined;
  /** Sort key of the owning Ingress (creation time, then namespace/name): the oldest wins ties. */
  order: string;
  ingress: string;
}

/** The result of a match. */
export interface RouteMatch {
  /** Undefined when the rule's backend is not a Service (a `resource` backend): answered 503. */
  backend: ServiceBackendRef | undefined;
  /** namespace/name of the Ingress that supplied it. */
  ingress: string;
}

interface IngressBackendShape {
  service?: { name?: string; port?: { number?: number; name?: string } };
  resource?: unknown;
}

interface IngressSpecShape {
  defaultBackend?: IngressBackendShape;
  rules?: { host?: string; http?: { paths?: { path?: string; pathType?: string; backend?: IngressBackendShape }[] } }[];
  tls?: { hosts?: string[]; secretName?: string }[];
}

function backendRef(namespace: string, backend: IngressBackendShape | undefined): ServiceBackendRef | undefined {
  if (!backend?.service?.name) return undefined;
  return { namespace, service: backend.service.name, port: { number: backend.service.port?.number, name: backend.service.port?.name } };
}

/** Sort key making older Ingresses come first (RFC 3339 timestamps sort as strings). */
export function ingressOrder(ingress: KubeObject): string {
  return `${ingress.metadata.creationTimestamp ?? ''}|${ingress.metadata.namespace}/${ingress.metadata.name}`;
}

function compareRoutes(a: Route, b: Route): number {
  // Longest path first (Prefix paths without their trailing slash), then Exact, then the oldest Ingress.
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  if (a.exact !== b.exact) return a.exact ? -1 : 1;
  return a.order < b.order ? -1 : a.order > b.order ? 1 : 0;
}

/** Splits a request or rule path into its non-empty `/`-separated elements. */
function elements(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function routeMatches(route: Route, path: string, pathElements: string[]): boolean {
  if (route.exact) return route.path === path;
  if (route.segments.length > pathElements.length) return false;
  for (let i = 0; i < route.segments.length; i++) if (route.segments[i] !== pathElements[i]) return false;
  return true;
}

/** An immutable routing table; rebuild it when Ingresses change. */
export class RouteTable {
  private readonly exactHosts = new Map<string, Route[]>();
  /** Key: the wildcard's suffix including the dot (".example.com"). */
  private readonly wildcardHosts = new Map<string, Route[]>();
  private readonly anyHost: Route[] = [];
  private defaultBackend?: RouteMatch;

  /** Builds the table from the Ingresses to serve. */
  constructor(ingresses: KubeObject[]) {
    const sorted = [...ingresses].sort((a, b) => (ingressOrder(a) < ingressOrder(b) ? -1 : 1));
    for (const ingress of sorted) {
      const namespace = ingress.metadata.namespace ?? 'default';
      const key = `${namespace}/${ingress.metadata.name}`;
      const order = ingressOrder(ingress);
      const spec = (ingress.spec ?? {}) as IngressSpecShape;
      if (spec.defaultBackend && !this.defaultBackend) this.defaultBackend = { backend: backendRef(namespace, spec.defaultBackend), ingress: key };
      for (const rule of spec.rules ?? []) {
        const host = (rule.host ?? '').toLowerCase();
        let routes: Route[];
        if (host === '') routes = this.anyHost;
        else {
          const map = host.startsWith('*.') ? this.wildcardHosts : this.exactHosts;
          const mapKey = host.startsWith('*.') ? host.slice(1) : host;
          routes = map.get(mapKey) ?? [];
          map.set(mapKey, routes);
        }
        for (const p of rule.http?.paths ?? []) {
          const exact = p.pathType === 'Exact';
          const raw = p.path || '/';
          const path = exact ? raw : raw.replace(/\/+$/, '');
          routes.push({ exact, path, segments: exact ? [] : elements(path), backend: backendRef(namespace, p.backend), order, ingress: key });
        }
      }
    }
    for (const routes of [...this.exactHosts.values(), ...this.wildcardHosts.values(), this.anyHost]) routes.sort(compareRoutes);
  }

  /** The backend for a request's Host header value (port allowed) and path (query string allowed). */
  match(hostHeader: string | undefined, url: string): RouteMatch | undefined {
    const host = normalizeHost(hostHeader);
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    const pathElements = elements(path);
    const tiers: (Route[] | undefined)[] = [this.exactHosts.get(host)];
    const dot = host.indexOf('.');
    if (dot > 0) tiers.push(this.wildcardHosts.get(host.slice(dot)));
    tiers.push(this.anyHost);
    for (const routes of tiers) {
      if (!routes) continue;
      // Sorted by precedence: the first match is the best one.
      for (const route of routes) if (routeMatches(route, path, pathElements)) return { backend: route.backend, ingress: route.ingress };
    }
    return this.defaultBackend;
  }
}

/** Lower-cased host name without port (IPv6 literals keep their brackets). */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end < 0 ? host : host.slice(0, end + 1);
  }
  const colon = host.indexOf(':');
  return (colon < 0 ? host : host.slice(0, colon)).replace(/\.$/, '');
}

/** TLS entries of an Ingress: each host (or, without hosts, each rule host) → namespace/secretName. */
export function tlsHosts(ingress: KubeObject): { host: string; secret: string }[] {
  const spec = (ingress.spec ?? {}) as IngressSpecShape;
  const namespace = ingress.metadata.namespace ?? 'default';
  const out: { host: string; secret: string }[] = [];
  for (const tls of spec.tls ?? []) {
    if (!tls.secretName) continue;
    const hosts = tls.hosts?.length ? tls.hosts : (spec.rules ?? []).map((r) => r.host ?? '').filter((h) => h !== '');
    for (const host of hosts) out.push({ host: host.toLowerCase(), secret: `${namespace}/${tls.secretName}` });
  }
  return out;
}

/** The Services an Ingress routes to (namespace/name), to know which Service changes matter. */
export function referencedServices(ingress: KubeObject): string[] {
  const spec = (ingress.spec ?? {}) as IngressSpecShape;
  const namespace = ingress.metadata.namespace ?? 'default';
  const names = new Set<string>();
  if (spec.defaultBackend?.service?.name) names.add(`${namespace}/${spec.defaultBackend.service.name}`);
  for (const rule of spec.rules ?? []) for (const p of rule.http?.paths ?? []) if (p.backend?.service?.name) names.add(`${namespace}/${p.backend.service.name}`);
  return [...names];
}
