/**
 * The API server: HTTPS, authentication, routing of Kubernetes REST paths to
 * the generic store of each resource, content negotiation (JSON, Table,
 * aggregated discovery), watch streaming and the health/version/metrics
 * endpoints. Request bodies and patches are decoded here; everything about
 * objects themselves happens in the store.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Storage } from '../storage/interface.js';
import { instrumentStorage } from '../storage/instrumented.js';
import type { KubeObject } from '../apimachinery/types.js';
import { apiVersionOf, deepCopy, isObject } from '../apimachinery/types.js';
import {
  StatusError,
  badRequest,
  internalError,
  methodNotAllowed,
  notAcceptable,
  notFound,
  tooLarge,
  unauthorized,
  unsupportedMediaType,
  conflict,
  forbidden,
  invalid,
} from '../apimachinery/errors.js';
import { timestamp } from '../apimachinery/meta.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../apimachinery/patch.js';
import { patchSchemaFor } from '../apimachinery/patch-schema.js';
import { labelSelectorToString } from '../apimachinery/selectors.js';
import { decodeBody, parseFieldValidation, strictPatchCheck, warningHeaderValue, type PatchContentType } from '../api/decode.js';
import { definitionFor } from '../api/schema.js';
import { openapiV3DocumentJSON, openapiV3Index, type OpenAPIResource } from '../api/openapi.js';
import { serveOpenAPIV2 } from './openapi-v2-handler.js';
import { admitPodCreate } from '../api/admission.js';
import { logger } from '../util/log.js';
import { waitForDrain } from '../util/streams.js';
import { writeRawError } from '../kubelet/streaming/upgrade-proxy.js';
import { authenticate, impersonate, type TokenTable, type UserInfo } from './auth.js';
import { ServiceAccountTokenIssuer, authenticateServiceAccountToken, createTokenRequest, type TokenObjectLookups } from './token-request.js';
import { Discovery, DISCOVERY_V2, DISCOVERY_V2BETA1, type DiscoveredGroupVersion, type SubresourceInfo } from './discovery.js';
import { ApiMetrics } from './metrics.js';
import { ResourceStore, bookmarkObject, type DeleteOptions, type ListOptions, type WatchEvent } from './store.js';
import { WatchCache } from './watch-cache.js';
import { builtinResources } from './registry/resources.js';
import type { ResourceStrategy } from './registry/strategy.js';
import { TABLE_CONTENT_TYPE, buildTable, negotiateShape, partialMetadata, type IncludeObject } from './table.js';
import { KubeletProxy, STREAMING_SUBRESOURCES, type StreamingSubresource } from './kubelet-proxy.js';
import { ServiceAllocator, DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, type ServiceRanges } from './allocators.js';
import { APPLY_PATCH_CONTENT_TYPE, checkPatchOptions, requestFieldManager, serveApply } from '../apimachinery/managedfields/apply-request.js';

const log = logger('apiserver');

/** Largest request body accepted, as kube-apiserver (3 MiB). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** The version this server reports; kubectl's dispatcher picks its client from it. */
export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0+pilote',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-26T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export interface ApiServerOptions {
  storage: Storage;
  tls: { cert: string; key: string; ca: string };
  tokens: TokenTable;
  port: number;
  host?: string;
  /** PEM file of the service-account token signing key (created if missing); unset keeps a key in memory. */
  serviceAccountKeyFile?: string;
  /** ClusterIP range and NodePort range (defaults 10.43.0.0/16, 30000-32767). */
  serviceRanges?: ServiceRanges;
  /** The CA key: signs the client certificate the API server presents to kubelets (logs, exec, port-forward). */
  caKey?: string;
}

/** A parsed resource path: /api/v1/namespaces/ns/pods/name/status and friends. */
interface ResourceRequest {
  store: ResourceStore;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

const STANDARD_SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

/** Patch types of built-in resources, in the order kube-apiserver lists them in a 415. */
const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', APPLY_PATCH_CONTENT_TYPE];

/** Non-resource paths GET / lists beside the API groups. */
const ROOT_NON_RESOURCE_PATHS = ['/healthz', '/livez', '/metrics', '/openapi/v2', '/openapi/v3', '/openapi/v3/', '/readyz', '/version'];

/** Namespaces NamespaceLifecycle never lets go (kube-node-lease is not among them). */
const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

/** The API server of one Pilote cluster. */
export class ApiServer {
  readonly metrics = new ApiMetrics();
  readonly storage: Storage;
  private readonly stores = new Map<string, ResourceStore>();
  private readonly discovery: Discovery;
  private readonly openapiResources: OpenAPIResource[] = [];
  private server?: Server;
  private readonly openStreams = new Set<ServerResponse>();
  private ready = false;
  private stopping = false;
  private serverAddress = '127.0.0.1:6443';
  readonly serviceAllocator: ServiceAllocator;
  /** Forwards pods/log, exec, attach and portforward to kubelets (./kubelet-proxy.ts). */
  private readonly kubeletProxy: KubeletProxy;
  /** Signs TokenRequest tokens and authenticates them (./token-request.ts). */
  readonly tokenIssuer: ServiceAccountTokenIssuer;
  private readonly tokenLookups: TokenObjectLookups;
  /** Where ClusterIPs and NodePorts come from. */
  readonly serviceRanges: ServiceRanges;

  constructor(private readonly options: ApiServerOptions) {
    this.serviceRanges = options.serviceRanges ?? { serviceCidr: DEFAULT_SERVICE_CIDR, nodePortRange: DEFAULT_NODE_PORT_RANGE };
    this.storage = instrumentStorage(options.storage, this.metrics.storageDuration);
    this.tokenIssuer = new ServiceAccountTokenIssuer(options.serviceAccountKeyFile);
    const cached = (resource: string, namespace: string | undefined, name: string) => {
      const store = this.storeFor('', resource);
      return store.cache.get(store.key(namespace, name))?.object;
    };
    this.tokenLookups = {
      serviceAccount: (ns, name) => cached('serviceaccounts', ns, name),
      pod: (ns, name) => cached('pods', ns, name),
      secret: (ns, name) => cached('secrets', ns, name),
      node: (name) => cached('nodes', undefined, name),
    };
    this.kubeletProxy = new KubeletProxy({
      getPod: (namespace, name) => this.storeFor('', 'pods').get(namespace, name).object,
      getNode: (name) => cached('nodes', undefined, name),
      caCert: options.tls.ca,
      caKey: options.caKey,
    });
    const groupVersions: DiscoveredGroupVersion[] = [];
    const namespaceLookup = { namespacePhase: (name: string) => this.namespacePhase(name) };
    for (const strategy of builtinResources()) {
      const info = strategy.info;
      const cache = new WatchCache(this.storage, `/registry/${info.group || 'core'}/${info.resource}/`);
      const store = new ResourceStore(strategy, this.storage, cache, namespaceLookup);
      this.stores.set(`${info.group}/${info.version}/${info.resource}`, store);
      let gv = groupVersions.find((g) => g.group === info.group && g.version === info.version);
      if (!gv) {
        gv = { group: info.group, version: info.version, resources: [] };
        groupVersions.push(gv);
      }
      const subresources = subresourcesOf(strategy);
      gv.resources.push({ info, subresources });
      this.openapiResources.push({ group: info.group, version: info.version, kind: info.kind, resource: info.resource, namespaced: info.namespaced, subresources: subresources.map((s) => s.name) });
    }
    groupVersions.push({
      group: 'authorization.k8s.io',
      version: 'v1',
      resources: [
        {
          info: { group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create'] },
          subresources: [],
        },
      ],
    });
    groupVersions.sort((a, b) => groupRank(a.group) - groupRank(b.group));
    this.discovery = new Discovery(groupVersions);

    // NamespaceLifecycle admission: the system namespaces may not be deleted.
    this.storeFor('', 'namespaces').deleteHooks.push((ns) => {
      const name = ns.metadata.name ?? '';
      if (IMMORTAL_NAMESPACES.includes(name)) throw forbidden('', 'namespaces', name, 'this namespace may not be deleted');
    });
    const pods = this.storeFor('', 'pods');
    pods.createHooks.push((pod) => admitPodCreate(pod));
    const services = this.storeFor('', 'services');
    this.serviceAllocator = new ServiceAllocator(services, this.serviceRanges);
    services.createHooks.push((svc) => this.serviceAllocator.allocate(svc));
    services.releaseHooks.push((svc) => this.serviceAllocator.release(svc));
    // DefaultIngressClass admission: a class-less Ingress gets the default IngressClass.
    const ingressClasses = this.storeFor('networking.k8s.io', 'ingressclasses');
    this.storeFor('networking.k8s.io', 'ingresses').createHooks.push((ingress) => {
      const spec = (ingress.spec ??= {}) as { ingressClassName?: string };
      if (spec.ingressClassName || ingress.metadata.annotations?.['kubernetes.io/ingress.class']) return;
      const defaults = [...ingressClasses.cache.list(ingressClasses.prefix)]
        .map((cached) => cached.object)
        .filter((ic) => ic.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true');
      if (defaults.length === 1) spec.ingressClassName = defaults[0].metadata.name;
    });
  }

  /** Every resource store. */
  allStores(): ResourceStore[] {
    return [...this.stores.values()];
  }

  /** The store of a resource (group "" = core). */
  storeFor(group: string, resource: string): ResourceStore {
    for (const store of this.stores.values()) if (store.group === group && store.resource === resource) return store;
    throw new Error(`no store for ${resource}.${group}`);
  }

  private namespacePhase(name: string): 'Active' | 'Terminating' | undefined {
    const ns = this.storeFor('', 'namespaces').cache.get(`/registry/core/namespaces/${name}`);
    if (!ns) return undefined;
    return (ns.object.status as { phase?: string } | undefined)?.phase === 'Terminating' ? 'Terminating' : 'Active';
  }

  /** TokenRequest (serviceaccounts/{name}/token): a signed token for the ServiceAccount, see ./token-request.ts. */
  createServiceAccountToken(namespace: string, name: string, body: unknown): KubeObject {
    return createTokenRequest(this.tokenIssuer, this.tokenLookups, namespace, name, body);
  }

  /** Loads every watch cache and starts listening. Resolves with the bound port. */
  async start(): Promise<number> {
    await Promise.all([...this.stores.values()].map((store) => store.cache.start()));
    this.serviceAllocator.load();
    const { tls } = this.options;
    this.server = createServer(
      { cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 120_000 },
      (req, res) => void this.handle(req, res),
    );
    this.server.headersTimeout = 60_000;
    // exec/attach/portforward arrive as upgrades (WebSocket, SPDY) and are piped to the kubelet.
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void this.handleUpgrade(req, socket, head));
    this.server.requestTimeout = 0; // watches are long-running
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.options.port, this.options.host ?? '0.0.0.0', () => resolve());
    });
    const port = (this.server.address() as AddressInfo).port;
    this.serverAddress = `127.0.0.1:${port}`;
    this.ready = true;
    return port;
  }

  /** Stops accepting requests, ends open watches, waits for in-flight requests. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.ready = false;
    for (const res of this.openStreams) res.end();
    this.kubeletProxy.closeAll();
    for (const store of this.stores.values()) store.cache.stop();
    if (this.server) {
      const server = this.server;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 2000).unref();
      });
    }
  }

  // ---- request handling ----

  /** Pods' streaming subresources with an Upgrade header, authenticated as any request; other upgrades are refused. */
  private async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://pilote');
    try {
      const authenticated = authenticate(req, this.options.tokens, (token) => authenticateServiceAccountToken(this.tokenIssuer, this.tokenLookups, token));
      if (!authenticated) throw unauthorized();
      impersonate(req, authenticated);
      const route = this.route(url.pathname);
      const subresource = route?.subresource as StreamingSubresource | undefined;
      if (!route || route.store.resource !== 'pods' || !route.name || !route.namespace || !subresource || subresource === 'log' || !STREAMING_SUBRESOURCES.includes(subresource)) {
        throw badRequest(`the server does not support upgrading ${url.pathname}`);
      }
      await this.kubeletProxy.serveUpgrade(route.namespace, route.name, subresource, url.searchParams, req, socket, head);
    } catch (error) {
      writeRawError(socket, toStatusError(error));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'https://pilote');
    const labels = { verb: req.method ?? 'GET', group: '', resource: '', subresource: '' };
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.requests.inc({ ...labels, code: String(res.statusCode) });
      if (labels.verb !== 'WATCH') this.metrics.requestDuration.observe(labels, seconds);
    });
    try {
      if (this.handlePublic(url, req, res)) return;
      const authenticated = authenticate(req, this.options.tokens, (token) => authenticateServiceAccountToken(this.tokenIssuer, this.tokenLookups, token));
      if (!authenticated) throw unauthorized();
      const user = impersonate(req, authenticated);
      if (await this.handleNonResource(url, req, res, user)) return;
      const route = this.route(url.pathname);
      if (!route) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      labels.group = route.store.group;
      labels.resource = route.store.resource;
      labels.subresource = route.subresource ?? '';
      await this.handleResource(route, url, req, res, labels);
    } catch (error) {
      this.sendError(res, error);
    }
  }

  /** Endpoints open without credentials: health and version. */
  private handlePublic(url: URL, req: IncomingMessage, res: ServerResponse): boolean {
    const path = url.pathname;
    if (path === '/version' || path === '/version/') {
      sendJson(res, 200, SERVER_VERSION);
      return true;
    }
    const health = /^\/(healthz|livez|readyz)(\/.*)?$/.exec(path);
    if (health) {
      const ok = health[1] === 'readyz' ? this.ready && !this.stopping : !this.stopping;
      const checks = ['ping', 'log', 'etcd', 'poststarthook/start-apiextensions-informers'];
      let body = ok ? 'ok' : `[-]${health[1] === 'readyz' ? 'shutdown' : 'ping'} failed: reason withheld\n${health[1]} check failed`;
      if (ok && url.searchParams.has('verbose')) {
        body = checks.map((c) => `[+]${c} ok`).join('\n') + `\n${health[1]} check passed\n`;
      }
      res.writeHead(ok ? 200 : 500, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(body);
      void req;
      return true;
    }
    return false;
  }

  /** Discovery, OpenAPI, metrics and the authorization reviews. */
  private async handleNonResource(url: URL, req: IncomingMessage, res: ServerResponse, user: UserInfo): Promise<boolean> {
    const path = url.pathname.replace(/\/$/, '') || '/';
    const accept = req.headers.accept;
    if (path === '/' || path === '/index.html') {
      // `curl localhost:8001` through kubectl proxy lands here: the index of paths, as kube-apiserver.
      sendText(res, 200, 'application/json', this.discovery.rootPaths(ROOT_NON_RESOURCE_PATHS));
      return true;
    }
    if (path === '/api' || path === '/apis') {
      const aggregated = Discovery.negotiate(accept);
      if (aggregated) {
        const contentType = aggregated === 'v2' ? DISCOVERY_V2 : DISCOVERY_V2BETA1;
        sendText(res, 200, contentType, this.discovery.aggregated(path === '/api' ? 'api' : 'apis', aggregated), { Vary: 'Accept' });
      } else {
        const body = path === '/api' ? this.discovery.apiVersions(this.serverAddress) : this.discovery.apiGroupList();
        sendText(res, 200, 'application/json', body, { Vary: 'Accept' });
      }
      return true;
    }
    if (path === '/api/v1') {
      sendText(res, 200, 'application/json', this.discovery.resourceList('', 'v1')!);
      return true;
    }
    const groupMatch = /^\/apis\/([^/]+)(?:\/([^/]+))?$/.exec(path);
    if (groupMatch) {
      const [, group, version] = groupMatch;
      const body = version ? this.discovery.resourceList(group, version) : this.discovery.apiGroup(group);
      if (!body) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      sendText(res, 200, 'application/json', body);
      return true;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': this.metrics.registry.contentType });
      res.end(await this.metrics.registry.metrics());
      return true;
    }
    if (path === '/openapi/v3') {
      sendJson(res, 200, openapiV3Index(this.openapiResources));
      return true;
    }
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapiV3DocumentJSON(path.slice('/openapi/v3/'.length), this.openapiResources);
      if (doc === undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      const asked = url.searchParams.get('hash');
      if (asked && asked !== doc.hash) {
        // A stale hash: send the client to the current document, as kube-apiserver does.
        res.writeHead(301, { Location: `${path}?hash=${doc.hash}` });
        res.end();
        return true;
      }
      sendText(res, 200, 'application/json', doc.json, { ETag: `"${doc.hash}"`, 'Cache-Control': asked ? 'public, immutable' : 'no-cache, private' });
      return true;
    }
    if (path === '/openapi/v2') {
      serveOpenAPIV2(req, res, this.openapiResources);
      return true;
    }
    if (path === '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews') {
      if (req.method !== 'POST') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
      const body = await readBody(req);
      const { object } = decodeBody(body, req.headers['content-type'] ?? 'application/json', 'Ignore', {
        group: 'authorization.k8s.io',
        version: 'v1',
        kind: 'SelfSubjectAccessReview',
      });
      // Until permissions exist every authenticated user may do everything.
      const review = {
        kind: 'SelfSubjectAccessReview',
        apiVersion: 'authorization.k8s.io/v1',
        metadata: { creationTimestamp: null },
        spec: isObject(object.spec) ? object.spec : {},
        status: { allowed: true, reason: `${user.name} may do everything until permissions are enabled` },
      };
      sendJson(res, 201, review);
      return true;
    }
    return false;
  }

  /** Maps a path to a store and its namespace/name/subresource. */
  private route(pathname: string): ResourceRequest | undefined {
    const parts = pathname.split('/').filter(Boolean).map(decodePathSegment);
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else {
      return undefined;
    }
    let watchPath = false;
    if (rest[0] === 'watch') {
      watchPath = true;
      rest = rest.slice(1);
    }
    let namespace: string | undefined;
    // namespaces/{ns}/{resource}/… — but namespaces/{name}/status|finalize is the namespace itself.
    if (rest[0] === 'namespaces' && rest.length >= 3 && !(group === '' && rest.length === 3 && (rest[2] === 'status' || rest[2] === 'finalize'))) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const store = this.stores.get(`${group}/${version}/${rest[0]}`);
    if (!store || rest.length > 3) return undefined;
    if (namespace !== undefined && !store.namespaced) return undefined;
    return { store, namespace, name: rest[1], subresource: rest[2], watchPath };
  }

  private async handleResource(route: ResourceRequest, url: URL, req: IncomingMessage, res: ServerResponse, labels: { verb: string }): Promise<void> {
    const { store, namespace, name, subresource } = route;
    const params = url.searchParams;
    const method = req.method ?? 'GET';
    const isWatch = route.watchPath || params.get('watch') === 'true' || params.get('watch') === '1';

    if (subresource) {
      labels.verb = method === 'GET' ? 'GET' : method;
      await this.handleSubresource(route, url, req, res);
      return;
    }
    if (name === undefined) {
      switch (method) {
        case 'GET':
          if (isWatch) {
            labels.verb = 'WATCH';
            this.serveWatch(store, namespace, params, req, res);
          } else {
            labels.verb = 'LIST';
            await this.serveList(store, namespace, params, req, res);
          }
          return;
        case 'POST': {
          if (store.namespaced && namespace === undefined) throw methodNotAllowed('the server does not allow this method on the requested resource');
          const options = writeOptions(params, 'CreateOptions', req);
          const { object, warnings } = await this.decodeRequest(req, store, params);
          const created = await store.create(namespace, object as KubeObject, options);
          this.sendObject(req, res, store, params.has('dryRun') ? 201 : 201, created, warnings);
          return;
        }
        case 'DELETE': {
          labels.verb = 'DELETECOLLECTION';
          const deleteOptions = await this.deleteOptions(req, params);
          await store.deleteCollection(namespace, listOptions(params), deleteOptions);
          sendJson(res, 200, { kind: store.kind + 'List', apiVersion: store.apiVersion, metadata: {}, items: [] });
          return;
        }
        default:
          throw methodNotAllowed('the server does not allow this method on the requested resource');
      }
    }
    if (store.namespaced && namespace === undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    switch (method) {
      case 'GET': {
        if (isWatch) {
          labels.verb = 'WATCH';
          params.set('fieldSelector', [params.get('fieldSelector'), `metadata.name=${name}`].filter(Boolean).join(','));
          this.serveWatch(store, namespace, params, req, res);
          return;
        }
        const cached = store.get(namespace, name);
        this.sendObject(req, res, store, 200, store.withTypeMeta(cached.object));
        return;
      }
      case 'PUT': {
        const options = writeOptions(params, 'UpdateOptions', req);
        const { object, warnings } = await this.decodeRequest(req, store, params);
        const pinned = Boolean((object as KubeObject).metadata?.resourceVersion);
        const updated = await store.update(namespace, name, () => deepCopy(object as KubeObject), { ...options, pinnedResourceVersion: pinned });
        this.sendObject(req, res, store, 200, updated, warnings);
        return;
      }
      case 'PATCH': {
        const { updated, warnings, created } = await this.patch(store, namespace, name, req, params, '');
        this.sendObject(req, res, store, created ? 201 : 200, updated, warnings);
        return;
      }
      case 'DELETE': {
        const deleteOptions = await this.deleteOptions(req, params);
        const result = await store.delete(namespace, name, deleteOptions);
        if (result.deleted && !store.strategy.gracefulDeletion && store.resource !== 'services') {
          sendJson(res, 200, {
            kind: 'Status',
            apiVersion: 'v1',
            metadata: {},
            status: 'Success',
            details: { name, group: store.group || undefined, kind: store.resource, uid: result.object.metadata.uid },
          });
        } else {
          // 200 even when the object stays (finalizers, graceful deletion); 202 only when the
          // client asked orphanDependents=false and the object is not gone yet (handlers/delete.go).
          this.sendObject(req, res, store, !result.deleted && deleteOptions.orphanDependents === false ? 202 : 200, result.object);
        }
        return;
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  private async handleSubresource(route: ResourceRequest, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { store, namespace, name, subresource } = route;
    const params = url.searchParams;
    const method = req.method ?? 'GET';
    if (name === undefined) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    if (subresource === 'status' && store.strategy.statusSubresource) {
      if (method === 'GET') return this.sendObject(req, res, store, 200, store.withTypeMeta(store.get(namespace, name).object));
      if (method === 'PUT') {
        const options = writeOptions(params, 'UpdateOptions', req);
        const { object, warnings } = await this.decodeRequest(req, store, params);
        const pinned = Boolean((object as KubeObject).metadata?.resourceVersion);
        const updated = await store.update(namespace, name, () => deepCopy(object as KubeObject), { ...options, subresource: 'status', pinnedResourceVersion: pinned });
        return this.sendObject(req, res, store, 200, updated, warnings);
      }
      if (method === 'PATCH') {
        const { updated, warnings, created } = await this.patch(store, namespace, name, req, params, 'status');
        return this.sendObject(req, res, store, created ? 201 : 200, updated, warnings);
      }
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (subresource === 'scale' && store.strategy.scale) {
      if (method === 'GET') return sendJson(res, 200, toScale(store, store.get(namespace, name).object));
      if (method === 'PUT' || method === 'PATCH') {
        const options = writeOptions(params, method === 'PUT' ? 'UpdateOptions' : 'PatchOptions', req);
        const body = await readBody(req);
        const updated = await store.update(
          namespace,
          name,
          (current) => {
            const scale = toScale(store, current);
            const desired = method === 'PUT' ? parseJson(body) : this.applyPatch(scale, body, req.headers['content-type'] ?? '', 'autoscaling', 'Scale');
            const replicas = (isObject(desired) && isObject(desired.spec) ? desired.spec.replicas : undefined) ?? 0;
            if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
              throw new StatusError(422, 'Invalid', `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`);
            }
            const wantedVersion = isObject(desired) && isObject(desired.metadata) ? desired.metadata.resourceVersion : undefined;
            if (method === 'PUT' && wantedVersion && wantedVersion !== current.metadata.resourceVersion) {
              throw conflict(store.group, store.resource, name, 'the object has been modified; please apply your changes to the latest version and try again');
            }
            const next = deepCopy(current);
            next.spec = { ...(isObject(next.spec) ? next.spec : {}), replicas };
            return next;
          },
          { ...options, subresource: 'scale' },
        );
        return sendJson(res, 200, toScale(store, updated));
      }
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (store.resource === 'pods' && STREAMING_SUBRESOURCES.includes(subresource as StreamingSubresource)) {
      if (subresource === 'log' && method === 'GET') return this.kubeletProxy.serveLog(namespace ?? '', name, params, req, res);
      if (subresource !== 'log' && (method === 'GET' || method === 'POST')) throw badRequest('Upgrade request required');
      throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
    if (subresource === 'binding' && store.resource === 'pods' && method === 'POST') {
      const body = parseJson(await readBody(req));
      const target = isObject(body) && isObject(body.target) ? body.target : undefined;
      const nodeName = typeof target?.name === 'string' ? target.name : '';
      if (!nodeName) throw new StatusError(422, 'Invalid', `Binding "${name}" is invalid: target.name: Required value`);
      await bindPod(store, namespace, name, nodeName);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (subresource === 'token' && store.resource === 'serviceaccounts' && method === 'POST') {
      // kubectl sends the TokenRequest as protobuf.
      const { object } = decodeBody(await readBody(req), req.headers['content-type'] ?? 'application/json', 'Ignore', { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' });
      return sendJson(res, 201, this.createServiceAccountToken(namespace ?? '', name, object));
    }
    if (subresource === 'finalize' && store.resource === 'namespaces' && method === 'PUT') {
      const body = parseJson(await readBody(req));
      const finalizers = isObject(body) && isObject(body.spec) && Array.isArray(body.spec.finalizers) ? body.spec.finalizers : [];
      const updated = await store.update(undefined, name, (ns) => {
        ns.spec = { ...(isObject(ns.spec) ? ns.spec : {}), finalizers };
        return ns;
      });
      return this.sendObject(req, res, store, 200, updated);
    }
    throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
  }

  /** PATCH on the object or its status: applies the patch to the current object and writes it with compare-and-swap. */
  private async patch(store: ResourceStore, namespace: string | undefined, name: string, req: IncomingMessage, params: URLSearchParams, subresource: 'status' | '') {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    // As PatchResource: the patch type is checked before anything else, so a missing one is 415 even with no body.
    if (!PATCH_CONTENT_TYPES.includes(contentType)) {
      throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${PATCH_CONTENT_TYPES.join(', ')}`);
    }
    const body = await readBody(req);
    if (contentType === APPLY_PATCH_CONTENT_TYPE) {
      // Server-side apply (src/apimachinery/managedfields): may create the object (201).
      const dryRun = dryRunOf(params.getAll('dryRun'), 'PatchOptions');
      const applied = await serveApply(store, { namespace, name, subresource, body, params, dryRun });
      return { updated: applied.object, warnings: applied.warnings, created: applied.created };
    }
    checkPatchOptions(params);
    const fieldValidation = parseFieldValidation(params.get('fieldValidation'), 'PatchOptions');
    const options = writeOptions(params, 'PatchOptions', req);
    let warnings: string[] = [];
    let pinned = false;
    const updated = await store.update(
      namespace,
      name,
      (current) => {
        const withType = store.withTypeMeta(current);
        const patched = this.applyPatch(withType, body, contentType, store.group, store.kind) as KubeObject;
        if (!isObject(patched)) throw badRequest('the patch did not produce an object');
        const wanted = isObject(patched.metadata) ? patched.metadata.resourceVersion : undefined;
        pinned = wanted !== undefined && wanted !== current.metadata.resourceVersion;
        const definition = definitionFor(store.group, store.strategy.info.version, store.kind);
        warnings = strictPatchCheck(definition, patched, { fieldValidation, patchType: contentType as PatchContentType, patch: body });
        return patched;
      },
      { ...options, subresource, pinnedResourceVersion: pinned },
    );
    return { updated, warnings, created: false };
  }

  private applyPatch(current: unknown, body: Buffer, contentType: string, group: string, kind: string): unknown {
    const patch = parseJson(body);
    switch (contentType.split(';')[0].trim()) {
      case 'application/json-patch+json':
        return applyJsonPatch(current, patch);
      case 'application/merge-patch+json':
        return applyMergePatch(current, patch);
      case 'application/strategic-merge-patch+json':
        return applyStrategicMergePatch(current, patch, patchSchemaFor(group, kind));
      default:
        throw unsupportedMediaType(contentType);
    }
  }

  /** Decodes a create/update body (JSON or YAML) with the requested field validation. */
  private async decodeRequest(req: IncomingMessage, store: ResourceStore, params: URLSearchParams) {
    const body = await readBody(req);
    const contentType = req.headers['content-type'] ?? 'application/json';
    const { info } = store.strategy;
    const fieldValidation = parseFieldValidation(params.get('fieldValidation'), req.method === 'POST' ? 'CreateOptions' : 'UpdateOptions');
    return decodeBody(body, contentType, fieldValidation, { group: info.group, version: info.version, kind: info.kind });
  }

  private async deleteOptions(req: IncomingMessage, params: URLSearchParams): Promise<DeleteOptions> {
    const body = await readBody(req);
    const fromBody = body.length > 0 ? parseJson(body) : {};
    const opts = isObject(fromBody) ? fromBody : {};
    const dryRun = params.getAll('dryRun');
    if (Array.isArray(opts.dryRun)) dryRun.push(...opts.dryRun.map(String));
    const options: DeleteOptions = { dryRun: dryRunOf(dryRun, 'DeleteOptions') };
    const grace = params.get('gracePeriodSeconds') ?? opts.gracePeriodSeconds;
    if (grace !== undefined && grace !== null) options.gracePeriodSeconds = Number(grace);
    const propagation = params.get('propagationPolicy') ?? opts.propagationPolicy;
    if (typeof propagation === 'string') options.propagationPolicy = propagation as DeleteOptions['propagationPolicy'];
    const orphan = params.get('orphanDependents') ?? opts.orphanDependents;
    if (orphan !== undefined && orphan !== null) options.orphanDependents = orphan === true || orphan === 'true';
    if (isObject(opts.preconditions)) options.preconditions = opts.preconditions as DeleteOptions['preconditions'];
    return options;
  }

  private async serveList(store: ResourceStore, namespace: string | undefined, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const page = await store.list(namespace, listOptions(params));
    const listMeta: Record<string, unknown> = { resourceVersion: String(page.revision) };
    if (page.continue) listMeta.continue = page.continue;
    const shape = negotiateShape(req.headers.accept);
    if (shape === 'table') {
      const table = buildTable(store.strategy.table, page.items.map((i) => i.object), listMeta, {
        includeObject: includeObjectOf(params),
        typeMeta: (o) => store.withTypeMeta(o),
      });
      return sendText(res, 200, TABLE_CONTENT_TYPE, JSON.stringify(table));
    }
    if (shape === 'metadata') {
      const list = { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items: page.items.map((i) => partialMetadata(i.object)) };
      return sendText(res, 200, 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io', JSON.stringify(list));
    }
    checkAcceptsJson(req.headers.accept);
    // Items are pre-encoded once per revision and joined, so big lists cost a string concat.
    const head = `{"kind":"${store.kind}List","apiVersion":"${store.apiVersion}","metadata":${JSON.stringify(listMeta)},"items":[`;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const chunkSize = 500;
    res.write(head);
    for (let i = 0; i < page.items.length; i += chunkSize) {
      const slice = page.items.slice(i, i + chunkSize).map((item) => item.encoded());
      // Wait for the socket to drain so a big list is never held in memory twice (string + TLS buffers).
      if (!res.write((i > 0 ? ',' : '') + slice.join(','))) await waitForDrain(res);
      if (res.destroyed) return;
    }
    res.end(']}');
  }

  private serveWatch(store: ResourceStore, namespace: string | undefined, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): void {
    const shape = negotiateShape(req.headers.accept);
    if (shape === 'object') checkAcceptsJson(req.headers.accept);
    const includeObject = includeObjectOf(params);
    const contentType = shape === 'table' ? TABLE_CONTENT_TYPE : shape === 'metadata' ? 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io' : 'application/json';
    let columnsSent = false;
    const encode = (event: WatchEvent): string => {
      const object = event.object.object;
      if (event.type === 'BOOKMARK') {
        return `{"type":"BOOKMARK","object":${JSON.stringify({ kind: shape === 'object' ? store.kind : shape === 'table' ? 'Table' : 'PartialObjectMetadata', apiVersion: shape === 'object' ? store.apiVersion : 'meta.k8s.io/v1', metadata: object.metadata })}}\n`;
      }
      if (shape === 'table') {
        const table = buildTable(store.strategy.table, [object], { resourceVersion: object.metadata.resourceVersion }, { includeObject, typeMeta: (o) => store.withTypeMeta(o), withColumns: !columnsSent });
        columnsSent = true;
        return `{"type":"${event.type}","object":${JSON.stringify(table)}}\n`;
      }
      if (shape === 'metadata') return `{"type":"${event.type}","object":${JSON.stringify(partialMetadata(object))}}\n`;
      return `{"type":"${event.type}","object":{"kind":"${store.kind}","apiVersion":"${store.apiVersion}",${event.object.encoded().slice(1)}}\n`;
    };
    const options = { ...listOptions(params), allowWatchBookmarks: params.get('allowWatchBookmarks') === 'true', sendInitialEvents: params.get('sendInitialEvents') === 'true' };
    const gaugeLabels = { group: store.group, resource: store.resource };
    let closed = false;
    let watcher: { stop(): void; readonly revision: number } | undefined;
    const timers: NodeJS.Timeout[] = [];
    const close = () => {
      if (closed) return;
      closed = true;
      watcher?.stop();
      timers.forEach(clearTimeout);
      timers.forEach(clearInterval);
      this.openStreams.delete(res);
      this.metrics.watches.dec(gaugeLabels);
      if (!res.writableEnded) res.end();
    };
    const buffered: string[] = [];
    let headersSent = false;
    const send = (event: WatchEvent) => {
      if (closed) return;
      const line = encode(event);
      this.metrics.watchEvents.inc(gaugeLabels);
      if (!headersSent) {
        buffered.push(line);
        return;
      }
      res.write(line);
      // A watcher that cannot keep up is dropped (it relists), so it never holds the others back.
      if (res.writableLength > 32 * 1024 * 1024) {
        log.warn('closing slow watcher', { resource: store.resource });
        close();
      }
    };
    this.metrics.watches.inc(gaugeLabels);
    try {
      watcher = store.watch(namespace, options, send, (error) => {
        if (!closed) res.write(JSON.stringify({ type: 'ERROR', object: toStatusObject(error) }) + '\n');
        close();
      });
    } catch (error) {
      closed = true;
      this.metrics.watches.dec(gaugeLabels);
      if (error instanceof StatusError && error.code === 410) {
        // Kubernetes answers an expired watch with 200 and one ERROR event carrying the 410 Status.
        res.writeHead(200, { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked' });
        res.end(JSON.stringify({ type: 'ERROR', object: error.toStatus() }) + '\n');
        return;
      }
      throw error;
    }
    this.openStreams.add(res);
    res.writeHead(200, { 'Content-Type': contentType, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    headersSent = true;
    res.flushHeaders();
    if (buffered.length) res.write(buffered.join(''));
    const timeoutSeconds = Number(params.get('timeoutSeconds') ?? 0);
    const maxSeconds = timeoutSeconds > 0 ? timeoutSeconds : 1800 + Math.floor(Math.random() * 1800);
    timers.push(setTimeout(close, maxSeconds * 1000));
    if (options.allowWatchBookmarks) {
      timers.push(
        setInterval(() => {
          if (watcher) send({ type: 'BOOKMARK', object: bookmarkObject(store, Math.max(watcher.revision, store.cache.revision)) });
        }, 60_000),
      );
    }
    req.on('close', close);
    res.on('close', close);
  }

  private sendObject(req: IncomingMessage, res: ServerResponse, store: ResourceStore, code: number, object: KubeObject, warnings: string[] = []): void {
    const headers: Record<string, string | string[]> = {};
    if (warnings.length) headers.Warning = warnings.map(warningHeaderValue);
    const shape = negotiateShape(req.headers.accept);
    if (shape === 'table') {
      const table = buildTable(store.strategy.table, [object], { resourceVersion: object.metadata?.resourceVersion }, { includeObject: 'Metadata', typeMeta: (o) => store.withTypeMeta(o) });
      return sendText(res, code, TABLE_CONTENT_TYPE, JSON.stringify(table), headers);
    }
    if (shape === 'metadata') return sendText(res, code, 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io', JSON.stringify(partialMetadata(object)), headers);
    checkAcceptsJson(req.headers.accept);
    sendText(res, code, 'application/json', JSON.stringify(object), headers);
  }

  private sendError(res: ServerResponse, error: unknown): void {
    const status = toStatusError(error);
    if (status.code >= 500) log.error('request failed', { error });
    if (res.headersSent) {
      res.end();
      return;
    }
    // As responsewriters.ErrorNegotiated: a retry delay in the Status is also a Retry-After header.
    const retryAfter = status.details?.retryAfterSeconds;
    sendText(res, status.code, 'application/json', JSON.stringify(status.toStatus()), retryAfter ? { 'Retry-After': String(retryAfter) } : {});
  }
}

function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  return internalError(error instanceof Error ? error.message : String(error));
}

function toStatusObject(error: unknown) {
  return toStatusError(error).toStatus();
}

function subresourcesOf(strategy: ResourceStrategy): SubresourceInfo[] {
  const { info } = strategy;
  const self = { group: info.group, version: info.version, kind: info.kind };
  const subs: SubresourceInfo[] = [];
  if (info.resource === 'namespaces') subs.push({ name: 'finalize', verbs: ['update'], responseKind: self });
  if (info.resource === 'pods') subs.push({ name: 'binding', verbs: ['create'], responseKind: { group: '', version: 'v1', kind: 'Binding' } });
  if (info.resource === 'serviceaccounts') subs.push({ name: 'token', verbs: ['create'], responseKind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } });
  if (strategy.scale) subs.push({ name: 'scale', verbs: STANDARD_SUBRESOURCE_VERBS, responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } });
  if (strategy.statusSubresource) subs.push({ name: 'status', verbs: STANDARD_SUBRESOURCE_VERBS, responseKind: self });
  return subs;
}

const GROUP_RANK = ['', 'apps', 'events.k8s.io', 'authorization.k8s.io', 'autoscaling', 'batch', 'networking.k8s.io', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io'];
function groupRank(group: string): number {
  const index = GROUP_RANK.indexOf(group);
  return index === -1 ? GROUP_RANK.length : index;
}

/**
 * Assigns a pod to a node (pods/binding): spec.nodeName and the PodScheduled
 * condition in one write, as BindingREST.assignPod does. Conflicts when the pod
 * is bound already or being deleted.
 */
export async function bindPod(pods: ResourceStore, namespace: string | undefined, name: string, nodeName: string): Promise<KubeObject> {
  return pods.update(
    namespace,
    name,
    (pod) => {
      const spec = (isObject(pod.spec) ? pod.spec : {}) as Record<string, unknown>;
      // BindingREST.assignPod reports these as conflicts on pods/binding.
      if (pod.metadata.deletionTimestamp) throw conflict('', 'pods/binding', name, `pod ${name} is being deleted, cannot be assigned to a host`);
      if (spec.nodeName) throw conflict('', 'pods/binding', name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      spec.nodeName = nodeName;
      pod.spec = spec;
      const status = (isObject(pod.status) ? pod.status : {}) as { conditions?: Record<string, unknown>[] };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp() });
      pod.status = { ...status, conditions };
      return pod;
    },
    { subresource: 'binding' },
  );
}

/** The autoscaling/v1 Scale view of a workload. */
function toScale(store: ResourceStore, obj: KubeObject): Record<string, unknown> {
  const spec = (isObject(obj.spec) ? obj.spec : {}) as { replicas?: number; selector?: { matchLabels?: Record<string, string>; matchExpressions?: never[] } };
  const status = (isObject(obj.status) ? obj.status : {}) as { replicas?: number };
  const meta = obj.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: { name: meta.name, namespace: meta.namespace, uid: meta.uid, resourceVersion: meta.resourceVersion, creationTimestamp: meta.creationTimestamp },
    spec: { replicas: spec.replicas ?? 0 },
    status: { replicas: status.replicas ?? 0, selector: spec.selector ? labelSelectorToString(spec.selector) : '' },
  };
}

function writeOptions(params: URLSearchParams, optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions', req: IncomingMessage) {
  // The field manager is the fieldManager parameter, else the client's user agent (managedFields).
  return { dryRun: dryRunOf(params.getAll('dryRun'), optionsKind), fieldManager: requestFieldManager(params, req.headers['user-agent'], optionsKind) };
}

/**
 * `dryRun` may only hold "All" (ValidateDryRun): anything else is a 422 on the
 * request's options, never a silent real write.
 */
function dryRunOf(values: string[], optionsKind: 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions'): boolean {
  if (values.some((value) => value !== 'All')) {
    // Go prints the rejected []string with %#v.
    const shown = `[]string{${values.map((value) => JSON.stringify(value)).join(', ')}}`;
    throw invalid('meta.k8s.io', optionsKind, '', [
      { type: 'FieldValueNotSupported', field: 'dryRun', message: `dryRun: Unsupported value: ${shown}: supported values: "All"` },
    ]);
  }
  return values.length > 0;
}

function includeObjectOf(params: URLSearchParams): IncludeObject {
  const value = params.get('includeObject');
  return value === 'None' || value === 'Object' ? value : 'Metadata';
}

function listOptions(params: URLSearchParams): ListOptions {
  const limit = params.get('limit');
  return {
    labelSelector: params.get('labelSelector') ?? undefined,
    fieldSelector: params.get('fieldSelector') ?? undefined,
    limit: limit ? Number(limit) : undefined,
    continue: params.get('continue') ?? undefined,
    resourceVersion: params.get('resourceVersion') ?? undefined,
    resourceVersionMatch: params.get('resourceVersionMatch') ?? undefined,
  };
}

/** Rejects clients that accept neither JSON nor anything (protobuf-only clients get 406). */
function checkAcceptsJson(accept: string | undefined): void {
  if (!accept) return;
  const types = accept.split(',').map((t) => t.split(';')[0].trim());
  if (types.some((t) => t === 'application/json' || t === '*/*' || t === 'application/*' || t === '')) return;
  throw notAcceptable(`only the following media types are accepted: application/json`);
}

/** A percent-decoded path segment; a malformed escape (`%zz`) is the client's error: 400, as Go's server answers. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest(`invalid URL escape ${JSON.stringify(segment)}`);
  }
}

/** Reads a request body, refusing more than MAX_BODY_BYTES with 413. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(tooLarge());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw badRequest(`error decoding patch: ${(error as Error).message}`);
  }
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  sendText(res, code, 'application/json', JSON.stringify(body));
}

function sendText(res: ServerResponse, code: number, contentType: string, body: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

