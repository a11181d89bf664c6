/**
 * The API server's side of the streaming path: pods/{name}/log, exec, attach
 * and portforward are checked here (pod, container, node) and forwarded to the
 * kubelet of the pod's node over HTTPS, authenticated with a client
 * certificate signed by the cluster CA. Logs are streamed back chunk by
 * chunk; upgraded connections (WebSocket, SPDY) are piped raw once the kubelet
 * answers 101, as kube-apiserver's UpgradeAwareHandler does.
 */
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../apimachinery/types.js';
import { StatusError, badRequest, internalError, type StatusReason } from '../apimachinery/errors.js';
import { logger } from '../util/log.js';
import { issueCertificate, type KeyPair } from '../kubelet/streaming/certificates.js';
import { proxyUpgrade, upgradeHeaders } from '../kubelet/streaming/upgrade-proxy.js';
import { writeRawError } from '../kubelet/streaming/upgrade-proxy.js';

const log = logger('kubelet-proxy');

/** Subresources of pods served by the kubelet. */
export const STREAMING_SUBRESOURCES = ['log', 'exec', 'attach', 'portforward'] as const;
export type StreamingSubresource = (typeof STREAMING_SUBRESOURCES)[number];

/** Label of simulated nodes: they run no containers and their addresses are made up. */
const SIMULATED_LABEL = 'pilote.dev/simulated';
/** kubectl's annotation naming the container to use when none is given. */
const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';

/** Where the proxy finds objects and credentials. */
export interface KubeletProxyOptions {
  /** The pod, or a NotFound StatusError. */
  getPod(namespace: string, name: string): KubeObject;
  getNode(name: string): KubeObject | undefined;
  caCert: string;
  /** The CA key: the proxy signs its own kubelet client certificate with it. */
  caKey?: string;
  /** A client certificate to present to kubelets (else issued from caKey). */
  clientCert?: KeyPair;
}

interface ContainerSpec {
  name: string;
}
interface ContainerStatusView {
  name: string;
  state?: { waiting?: { reason?: string }; running?: object; terminated?: { containerID?: string } };
  lastState?: { terminated?: { containerID?: string } };
}
interface PodView {
  metadata: { name?: string; annotations?: Record<string, string> };
  spec?: { nodeName?: string; containers?: ContainerSpec[]; initContainers?: ContainerSpec[]; ephemeralContainers?: ContainerSpec[] };
  status?: { phase?: string; containerStatuses?: ContainerStatusView[]; initContainerStatuses?: ContainerStatusView[] };
}

/** A resolved kubelet request. */
interface KubeletTarget {
  host: string;
  port: number;
  path: string;
}

/** Forwards pods' streaming subresources to kubelets. */
export class KubeletProxy {
  private clientCert?: Promise<KeyPair>;
  /** Upgraded client connections: the HTTP server no longer tracks them. */
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly options: KubeletProxyOptions) {
    if (options.clientCert) this.clientCert = Promise.resolve(options.clientCert);
  }

  /** GET …/pods/{name}/log: streams the kubelet's answer. */
  async serveLog(namespace: string, name: string, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const pod = this.options.getPod(namespace, name) as unknown as PodView;
    const container = chooseContainer(pod, params.get('container'));
    const previous = params.get('previous') === 'true' || params.get('previous') === '1';
    if (!pod.spec?.nodeName) {
      // As LogLocation: an unscheduled pod has no logs, which is not an error.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end();
      return;
    }
    checkLogStatus(pod, container, previous);
    const query = new URLSearchParams();
    for (const key of ['follow', 'previous', 'timestamps', 'tailLines', 'sinceSeconds', 'sinceTime', 'limitBytes']) {
      const value = params.get(key);
      if (value !== null) query.set(key, value);
    }
    const target = this.kubeletTarget(pod, `/containerLogs/${enc(namespace)}/${enc(name)}/${enc(container)}`, query);
    const credentials = await this.credentials();
    await new Promise<void>((resolve, reject) => {
      const upstream = httpsRequest(
        { host: target.host, port: target.port, path: target.path, method: 'GET', ...kubeletTls(this.options.caCert, credentials), agent: false },
        (kubelet) => {
          if (kubelet.statusCode !== 200) {
            const chunks: Buffer[] = [];
            kubelet.on('data', (c: Buffer) => chunks.push(c));
            kubelet.on('end', () => reject(kubeletError(kubelet.statusCode ?? 500, Buffer.concat(chunks).toString())));
            kubelet.on('error', reject);
            return;
          }
          res.writeHead(200, { 'Content-Type': kubelet.headers['content-type'] ?? 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
          res.flushHeaders();
          kubelet.on('data', (chunk: Buffer) => {
            if (!res.write(chunk)) {
              kubelet.pause();
              res.once('drain', () => kubelet.resume());
            }
          });
          kubelet.on('end', () => {
            res.end();
            resolve();
          });
          kubelet.on('error', () => {
            res.end();
            resolve();
          });
        },
      );
      // The client went away (kubectl logs -f interrupted): stop the kubelet's stream too.
      res.on('close', () => upstream.destroy());
      upstream.on('error', (error) => (res.headersSent ? resolve() : reject(unreachable(target, error))));
      upstream.end();
    });
  }

  /**
   * exec/attach/portforward with an Upgrade header: validated here, then the
   * connection is handed to the kubelet. Errors before the switch are answered
   * on the raw socket as a Status.
   */
  async serveUpgrade(namespace: string, name: string, subresource: Exclude<StreamingSubresource, 'log'>, params: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    try {
      const pod = this.options.getPod(namespace, name) as unknown as PodView;
      let path: string;
      const query = new URLSearchParams(params);
      query.delete('container');
      if (subresource === 'portforward') {
        if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
        path = `/portForward/${enc(namespace)}/${enc(name)}`;
      } else {
        const container = chooseContainer(pod, params.get('container'));
        if (!pod.spec?.nodeName) throw badRequest(`pod ${name} does not have a host assigned`);
        const phase = pod.status?.phase;
        if (phase === 'Succeeded' || phase === 'Failed') {
          throw badRequest(`cannot exec into or attach to a container in a completed pod; current phase is ${phase}`);
        }
        path = `/${subresource}/${enc(namespace)}/${enc(name)}/${enc(container)}`;
      }
      const target = this.kubeletTarget(pod, path, query);
      const credentials = await this.credentials();
      const backend = await connectKubelet(target, this.options.caCert, credentials);
      await proxyUpgrade({ client: socket, head, backend, method: req.method ?? 'GET', path: target.path, host: `${target.host}:${target.port}`, headers: upgradeHeaders(req.headers) });
    } catch (error) {
      const status = error instanceof StatusError ? error : internalError((error as Error).message);
      if (status.code >= 500) log.warn('streaming to the kubelet failed', { namespace, name, subresource, error });
      writeRawError(socket, status);
    }
  }

  /** Ends every piped connection (the API server is stopping). */
  closeAll(): void {
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** The kubelet of the pod's node and the path to ask it for. */
  private kubeletTarget(pod: PodView, path: string, query: URLSearchParams): KubeletTarget {
    const nodeName = pod.spec!.nodeName!;
    const node = this.options.getNode(nodeName) as
      | (KubeObject & { status?: { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } } })
      | undefined;
    if (!node) throw new StatusError(404, 'NotFound', `nodes "${nodeName}" not found`);
    if (node.metadata.labels?.[SIMULATED_LABEL] !== undefined) {
      throw badRequest(`pod ${pod.metadata.name} runs on simulated node "${nodeName}", which runs no containers: logs, exec, attach and port-forward need a real node (pilote server without --disable-agent, or pilote agent)`);
    }
    const addresses = node.status?.addresses ?? [];
    const address = ['InternalIP', 'Hostname', 'ExternalIP'].map((type) => addresses.find((a) => a.type === type)?.address).find(Boolean);
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!address || !port) throw new StatusError(502, 'ServiceUnavailable', `node "${nodeName}" does not publish a kubelet endpoint (status.addresses and status.daemonEndpoints.kubeletEndpoint.Port): is its kubelet running?`);
    const search = query.toString();
    return { host: address, port, path: search ? `${path}?${search}` : path };
  }

  private credentials(): Promise<KeyPair> {
    if (!this.clientCert) {
      const { caCert, caKey } = this.options;
      if (!caKey) return Promise.reject(internalError('the API server has no client certificate for kubelets (start it with the CA key)'));
      this.clientCert = issueCertificate(caCert, caKey, { subject: 'CN=kube-apiserver-kubelet-client, O=system:masters', usage: 'client' });
      this.clientCert.catch(() => (this.clientCert = undefined));
    }
    return this.clientCert;
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

/** As validateContainer in kube-apiserver's pod strategy: the named container, else the default or only one. */
export function chooseContainer(pod: PodView, requested: string | null): string {
  const name = pod.metadata.name ?? '';
  const containers = pod.spec?.containers ?? [];
  const init = pod.spec?.initContainers ?? [];
  const ephemeral = pod.spec?.ephemeralContainers ?? [];
  if (requested) {
    if (![...containers, ...init, ...ephemeral].some((c) => c.name === requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated && containers.some((c) => c.name === annotated)) return annotated;
  if (containers.length === 1) return containers[0].name;
  if (containers.length === 0) throw badRequest(`pod ${name} does not have a container`);
  let message = `a container name must be specified for pod ${name}, choose one of: [${containers.map((c) => c.name).join(' ')}]`;
  if (init.length > 0) message += ` or one of the init containers: [${init.map((c) => c.name).join(' ')}]`;
  throw badRequest(message);
}

/** As the kubelet's validateContainerLogStatus, from the pod status the kubelet reported. */
export function checkLogStatus(pod: PodView, container: string, previous: boolean): void {
  const podName = pod.metadata.name ?? '';
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  if (!status) return; // not reported yet: let the kubelet answer
  const { waiting, running, terminated } = status.state ?? {};
  const lastTerminated = status.lastState?.terminated;
  if (previous) {
    if (!lastTerminated?.containerID) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return;
  }
  if (running || terminated || lastTerminated) return;
  if (waiting) {
    const reason = waiting.reason ?? '';
    if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
    if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
    throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
}

/**
 * TLS options towards kubelets: our client certificate (kubelets require one
 * signed by the cluster CA). Like kube-apiserver without
 * --kubelet-certificate-authority, the kubelet's serving certificate is not
 * required to chain to the CA: an agent joined with `pilote agent` has no CA
 * key and serves a self-signed one. Kubelets of `pilote server` serve a
 * CA-signed one.
 */
function kubeletTls(ca: string, credentials: KeyPair) {
  return { ca, cert: credentials.cert, key: credentials.key, rejectUnauthorized: false, checkServerIdentity: () => undefined };
}

/** Opens the TLS connection to a kubelet. */
function connectKubelet(target: KubeletTarget, ca: string, credentials: KeyPair): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: target.host, port: target.port, ...kubeletTls(ca, credentials), ALPNProtocols: ['http/1.1'] }, () => {
      socket.off('error', onError);
      socket.on('error', () => undefined);
      resolve(socket);
    });
    const onError = (error: Error) => reject(unreachable(target, error));
    socket.once('error', onError);
  });
}

function unreachable(target: KubeletTarget, error: Error): StatusError {
  return internalError(`error dialing the kubelet at ${target.host}:${target.port}: ${error.message}`);
}

const REASONS: Record<number, StatusReason> = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed', 503: 'ServiceUnavailable' };

/** A kubelet error answer as a Status error (the kubelet's Status when it sent one). */
function kubeletError(code: number, body: string): StatusError {
  try {
    const status = JSON.parse(body) as { kind?: string; message?: string; reason?: StatusReason; code?: number };
    if (status.kind === 'Status' && status.message) return new StatusError(status.code ?? code, status.reason ?? REASONS[code] ?? 'InternalError', status.message);
  } catch {
    // plain text
  }
  return new StatusError(code, REASONS[code] ?? 'InternalError', body.trim() || `the kubelet answered ${code}`);
}
