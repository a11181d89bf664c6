/**
 * The HTTPS transport of the client interface (./types.ts): the same
 * ResourceClient semantics as the in-process client, over the Kubernetes REST
 * API of any server a kubeconfig points at (Pilote or a real cluster). Requests
 * share a keep-alive connection pool; watches get connections of their own so
 * a thousand open watches never starve ordinary requests. Failures come back
 * as the project's StatusError with the server's code, reason, message and
 * details, so callers handle a remote 409 or 410 exactly like a local one.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { StatusError, type StatusDetails, type StatusReason } from '../apimachinery/errors.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';
import type {
  ApiClient,
  ClientDeleteOptions,
  ClientList,
  ClientListOptions,
  ClientWatch,
  ClientWatchEvent,
  PatchType,
  ResourceClient,
  ResourceRef,
} from './types.js';

/** Where a server is and how to authenticate to it: what a kubeconfig context resolves to. */
export interface ServerCredentials {
  /** e.g. https://127.0.0.1:6443 (a path prefix is kept). */
  server: string;
  /** PEM of the CA that signed the server's certificate; the system CAs when absent. */
  ca?: Buffer;
  /** Client certificate and key (PEM). */
  cert?: Buffer;
  key?: Buffer;
  /** Bearer token. */
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** Server name for TLS verification (kubeconfig `tls-server-name`). */
  tlsServerName?: string;
}

export interface HttpClientOptions {
  /** Sent as User-Agent; the server derives the default field manager from its first segment. */
  userAgent?: string;
  /** Connections kept for ordinary requests (default 64). */
  maxSockets?: number;
  /** Per-request timeout of non-watch requests in ms (default 60 000). */
  requestTimeoutMs?: number;
}

/** The content types of the three patch kinds. */
export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
};

/**
 * Cluster-scoped resources of the built-in API groups. The interface lets
 * callers pass a namespace for them (it is ignored), as the in-process client
 * does; every other resource is namespaced when a namespace is given.
 */
const CLUSTER_SCOPED = new Set([
  '/namespaces',
  '/nodes',
  '/persistentvolumes',
  '/componentstatuses',
  'rbac.authorization.k8s.io/clusterroles',
  'rbac.authorization.k8s.io/clusterrolebindings',
  'storage.k8s.io/storageclasses',
  'storage.k8s.io/csidrivers',
  'storage.k8s.io/csinodes',
  'storage.k8s.io/volumeattachments',
  'networking.k8s.io/ingressclasses',
  'scheduling.k8s.io/priorityclasses',
  'node.k8s.io/runtimeclasses',
  'apiextensions.k8s.io/customresourcedefinitions',
  'apiregistration.k8s.io/apiservices',
  'admissionregistration.k8s.io/validatingwebhookconfigurations',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations',
  'certificates.k8s.io/certificatesigningrequests',
  'authorization.k8s.io/selfsubjectaccessreviews',
  'authorization.k8s.io/subjectaccessreviews',
  'authentication.k8s.io/tokenreviews',
  'flowcontrol.apiserver.k8s.io/flowschemas',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations',
]);

/** Reads a kubeconfig file and resolves its current (or the named) context. */
export function loadKubeconfig(path: string, contextName?: string): ServerCredentials {
  const text = readFileSync(path, 'utf8');
  const config = parseYaml(text) as unknown;
  if (!isObject(config)) throw new Error(`${path}: not a kubeconfig`);
  const named = (list: unknown, name: string, what: string): Record<string, unknown> => {
    const entry = Array.isArray(list) ? list.find((item) => isObject(item) && item.name === name) : undefined;
    if (!isObject(entry)) throw new Error(`${path}: ${what} "${name}" not found`);
    const body = entry[what];
    return isObject(body) ? body : {};
  };
  const wanted = contextName ?? (typeof config['current-context'] === 'string' ? config['current-context'] : '');
  if (!wanted) throw new Error(`${path}: no current-context`);
  const context = named(config.contexts, wanted, 'context');
  const cluster = named(config.clusters, String(context.cluster ?? ''), 'cluster');
  const user = context.user ? named(config.users, String(context.user), 'user') : {};
  const base = dirname(resolvePath(path));
  // Either inline base64 data or a file path relative to the kubeconfig, as client-go resolves them.
  const material = (data: unknown, file: unknown): Buffer | undefined => {
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64');
    if (typeof file === 'string' && file) return readFileSync(resolvePath(base, file));
    return undefined;
  };
  if (typeof cluster.server !== 'string' || !cluster.server) throw new Error(`${path}: cluster "${String(context.cluster)}" has no server`);
  let token = typeof user.token === 'string' && user.token ? user.token : undefined;
  if (!token && typeof user.tokenFile === 'string' && user.tokenFile) token = readFileSync(resolvePath(base, user.tokenFile), 'utf8').trim();
  return {
    server: cluster.server,
    ca: material(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: material(user['client-certificate-data'], user['client-certificate']),
    key: material(user['client-key-data'], user['client-key']),
    token,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster['tls-server-name'] === 'string' ? cluster['tls-server-name'] : undefined,
  };
}

/** The reason Kubernetes clients give a non-Status error answer of this code (errors.NewGenericServerResponse). */
function reasonForCode(code: number): StatusReason {
  switch (code) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 405:
      return 'MethodNotAllowed';
    case 406:
      return 'NotAcceptable';
    case 409:
      return 'Conflict';
    case 410:
      return 'Gone';
    case 413:
      return 'RequestEntityTooLarge';
    case 415:
      return 'UnsupportedMediaType';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    case 500:
      return 'InternalError';
    case 503:
      return 'ServiceUnavailable';
    case 504:
      return 'Timeout';
    default:
      return '';
  }
}

/** A StatusError from a `metav1.Status` object (an error answer or a watch ERROR event). */
export function statusErrorFromStatus(status: unknown, httpCode = 500, fallbackText = ''): StatusError {
  if (isObject(status) && status.kind === 'Status') {
    const code = typeof status.code === 'number' && status.code > 0 ? status.code : httpCode;
    const reason = (typeof status.reason === 'string' ? status.reason : reasonForCode(code)) as StatusReason;
    const message = typeof status.message === 'string' ? status.message : '';
    const details = isObject(status.details) ? (status.details as StatusDetails) : undefined;
    return new StatusError(code, reason, message, details);
  }
  const text = fallbackText.trim();
  return new StatusError(httpCode, reasonForCode(httpCode), text || `the server responded with the status code ${httpCode} but did not return more information`);
}

/** Thrown into onError when the server ends a watch without an error (its timeout): resume from the last resourceVersion. */
export class WatchClosedError extends Error {
  constructor() {
    super('watch closed by the server');
    this.name = 'WatchClosedError';
  }
}

interface RawResponse {
  code: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** An ApiClient over HTTPS (or plain HTTP) to one server. */
export class HttpApiClient implements ApiClient {
  private readonly base: URL;
  private readonly agent: HttpsAgent | HttpAgent;
  private readonly watchAgent: HttpsAgent | HttpAgent;
  private readonly secure: boolean;
  private readonly userAgent: string;
  private readonly requestTimeoutMs: number;
  private readonly clients = new Map<string, HttpResourceClient>();
  private readonly openWatches = new Set<ClientRequest>();
  private closed = false;

  constructor(
    private readonly credentials: ServerCredentials,
    options: HttpClientOptions = {},
  ) {
    this.base = new URL(credentials.server);
    this.secure = this.base.protocol === 'https:';
    const tls = {
      ca: credentials.ca,
      cert: credentials.cert,
      key: credentials.key,
      rejectUnauthorized: !credentials.insecureSkipTlsVerify,
      servername: credentials.tlsServerName,
    };
    const maxSockets = options.maxSockets ?? 64;
    this.agent = this.secure ? new HttpsAgent({ ...tls, keepAlive: true, maxSockets, maxFreeSockets: maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
    // Watches hold their connection for minutes: a pool of their own, unbounded, not kept idle.
    this.watchAgent = this.secure ? new HttpsAgent({ ...tls, keepAlive: false }) : new HttpAgent({ keepAlive: false });
    this.userAgent = options.userAgent ?? `pilote/v1.32.0 (${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch})`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 60_000;
  }

  /** A client for the server and credentials of a kubeconfig (its current context unless named). */
  static fromKubeconfig(path: string, options: HttpClientOptions & { context?: string } = {}): HttpApiClient {
    return new HttpApiClient(loadKubeconfig(path, options.context), options);
  }

  /** The server URL this client talks to. */
  get server(): string {
    return this.credentials.server;
  }

  resource(ref: ResourceRef): ResourceClient {
    const key = `${ref.group}/${ref.version}/${ref.resource}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new HttpResourceClient(this, ref, CLUSTER_SCOPED.has(`${ref.group}/${ref.resource}`));
      this.clients.set(key, client);
    }
    return client;
  }

  /** Ends open watches and closes pooled connections; later requests fail. */
  close(): void {
    this.closed = true;
    for (const req of this.openWatches) req.destroy();
    this.openWatches.clear();
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent, ...extra };
    if (this.credentials.token) headers.Authorization = `Bearer ${this.credentials.token}`;
    return headers;
  }

  /** The request path under the server URL's own path prefix (if any). */
  private pathFor(path: string): string {
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return prefix + path;
  }

  private send(method: string, path: string, body: string | undefined, contentType: string | undefined, agent: HttpsAgent | HttpAgent) {
    const headers = this.headers(body === undefined ? {} : { 'Content-Type': contentType ?? 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
    const options = { protocol: this.base.protocol, hostname: this.base.hostname.replace(/^\[|\]$/g, ''), port: this.base.port || (this.secure ? 443 : 80), method, path: this.pathFor(path), headers, agent };
    return this.secure ? httpsRequest(options) : httpRequest(options);
  }

  /** One request, read to the end. Retries once on a pooled connection the server had closed, and on 429 / Retry-After. */
  async request(method: string, path: string, body?: unknown, contentType?: string): Promise<RawResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Error('client closed');
      let response: RawResponse;
      try {
        response = await this.once(method, path, payload, contentType);
      } catch (error) {
        // A keep-alive socket the server closed while idle: nothing reached the server, so try again.
        if ((error as { reusedSocket?: boolean }).reusedSocket && attempt < 2) continue;
        throw error;
      }
      const retryAfter = Number(response.headers['retry-after'] ?? 0);
      if ((response.code === 429 || (response.code >= 500 && retryAfter > 0)) && attempt < 4) {
        await new Promise((r) => setTimeout(r, Math.min(Math.max(retryAfter, 1), 10) * 1000));
        continue;
      }
      return response;
    }
  }

  private once(method: string, path: string, payload: string | undefined, contentType: string | undefined): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = this.send(method, path, payload, contentType, this.agent);
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${this.requestTimeoutMs} ms`)));
      req.on('response', (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ code: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      });
      req.on('error', (error) => {
        if (req.reusedSocket && (error as NodeJS.ErrnoException).code === 'ECONNRESET') Object.assign(error, { reusedSocket: true });
        reject(error);
      });
      req.end(payload);
    });
  }

  /** A request whose 2xx answer is parsed as JSON; anything else throws a StatusError. */
  async json(method: string, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    const response = await this.request(method, path, body, contentType);
    const parsed = parseJson(response.body);
    if (response.code < 200 || response.code > 299) throw statusErrorFromStatus(parsed, response.code, response.body);
    return parsed;
  }

  /** Opens a watch stream and feeds its lines to the callbacks. */
  watch(path: string, onEvent: (event: ClientWatchEvent) => void, onError: (error: Error) => void): ClientWatch {
    let stopped = false;
    let finished = false;
    const fail = (error: Error) => {
      if (stopped || finished) return;
      finished = true;
      this.openWatches.delete(req);
      onError(error);
    };
    const req = this.send('GET', path, undefined, undefined, this.watchAgent);
    this.openWatches.add(req);
    // A quiet watch is normal; TCP keep-alive notices a server that vanished without closing the connection.
    req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    req.on('response', (res) => {
      res.setEncoding('utf8');
      const code = res.statusCode ?? 0;
      if (code < 200 || code > 299) {
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => fail(statusErrorFromStatus(parseJson(text), code, text)));
        res.on('error', fail);
        return;
      }
      let partial = '';
      res.on('data', (chunk: string) => {
        if (stopped || finished) return;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          if (stopped || finished) return;
          if (!line.trim()) continue;
          let event: unknown;
          try {
            event = JSON.parse(line);
          } catch {
            req.destroy();
            fail(new Error(`watch: undecodable event: ${line.slice(0, 200)}`));
            return;
          }
          if (!isObject(event) || typeof event.type !== 'string' || !isObject(event.object)) continue;
          if (event.type === 'ERROR') {
            req.destroy();
            fail(statusErrorFromStatus(event.object, 500));
            return;
          }
          onEvent({ type: event.type as ClientWatchEvent['type'], object: event.object as KubeObject });
        }
      });
      res.on('end', () => fail(new WatchClosedError()));
      res.on('close', () => fail(new WatchClosedError()));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
    return {
      stop: () => {
        if (stopped) return;
        stopped = true;
        this.openWatches.delete(req);
        req.destroy();
      },
    };
  }
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Query string of list and watch options (unset values left out). */
function query(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

class HttpResourceClient implements ResourceClient {
  private readonly prefix: string;

  constructor(
    private readonly http: HttpApiClient,
    private readonly ref: ResourceRef,
    private readonly clusterScoped: boolean,
  ) {
    this.prefix = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  }

  /** /api/v1/namespaces/ns/pods[/name[/sub]] */
  private path(namespace: string | undefined, name?: string, subresource?: string): string {
    let path = this.prefix;
    if (namespace && !this.clusterScoped) path += `/namespaces/${encodeURIComponent(namespace)}`;
    path += `/${this.ref.resource}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    return (await this.http.json('GET', this.path(namespace, name))) as KubeObject;
  }

  async list(namespace: string | undefined, options: ClientListOptions = {}): Promise<ClientList> {
    const body = (await this.http.json(
      'GET',
      this.path(namespace) +
        query({ labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, limit: options.limit, continue: options.continue, resourceVersion: options.resourceVersion }),
    )) as { items?: KubeObject[]; metadata?: { resourceVersion?: string; continue?: string } };
    return { items: body.items ?? [], resourceVersion: body.metadata?.resourceVersion ?? '', continue: body.metadata?.continue || undefined };
  }

  watch(
    namespace: string | undefined,
    options: ClientListOptions & { allowWatchBookmarks?: boolean },
    onEvent: (event: ClientWatchEvent) => void,
    onError: (error: Error) => void,
  ): ClientWatch {
    // As client-go's reflector: the server ends the watch after 5–10 minutes and the caller resumes from its resourceVersion.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    const path =
      this.path(namespace) +
      query({
        watch: 'true',
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
        timeoutSeconds,
      });
    return this.http.watch(path, onEvent, onError);
  }

  async create(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    return (await this.http.json('POST', this.path(namespace ?? object.metadata.namespace), object)) as KubeObject;
  }

  async update(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    return (await this.http.json('PUT', this.path(namespace ?? object.metadata.namespace, object.metadata.name!), object)) as KubeObject;
  }

  async updateStatus(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    return (await this.http.json('PUT', this.path(namespace ?? object.metadata.namespace, object.metadata.name!, 'status'), object)) as KubeObject;
  }

  async patch(namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status' | 'scale'): Promise<KubeObject> {
    return (await this.http.json('PATCH', this.path(namespace, name, subresource), patch, PATCH_CONTENT_TYPES[type])) as KubeObject;
  }

  async delete(namespace: string | undefined, name: string, options: ClientDeleteOptions = {}): Promise<void> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.preconditions) body.preconditions = options.preconditions;
    await this.http.json('DELETE', this.path(namespace, name), body);
  }

  async createSubresource(namespace: string | undefined, name: string, subresource: string, body: KubeObject): Promise<unknown> {
    return this.http.json('POST', this.path(namespace, name, subresource), body);
  }
}
