/**
 * The kubelet's HTTPS server (port 10250 on a real node): container logs,
 * exec, attach and port-forward, reached by the API server. Containers and
 * sandboxes are found through CRI labels only, so it works whatever the pod
 * workers are doing (and right after a kubelet restart).
 *
 *   GET  /healthz
 *   GET  /containerLogs/{ns}/{pod}/{container}?follow&previous&tailLines&sinceSeconds&sinceTime&timestamps&limitBytes
 *   GET|POST /exec/{ns}/{pod}[/{uid}]/{container}?command=…&stdin&stdout&stderr&tty   (Upgrade)
 *   GET|POST /attach/{ns}/{pod}[/{uid}]/{container}?stdin&stdout&stderr&tty           (Upgrade)
 *   GET|POST /portForward/{ns}/{pod}[/{uid}][?ports=…]                               (Upgrade)
 *
 * Clients must present a certificate signed by the cluster CA (the API server does).
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect as netConnect, type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { hostname } from 'node:os';
import { WebSocketServer } from 'ws';
import type { AgentConfig } from '../../agent/config.js';
import type { CriClient } from '../cri/client.js';
import type { Container } from '../cri/types.js';
import { StatusError, badRequest, internalError } from '../../apimachinery/errors.js';
import { logger } from '../../util/log.js';
import { waitForDrain } from '../../util/streams.js';
import { issueCertificate, selfSignedCertificate, type KeyPair } from './certificates.js';
import { streamCriLog, type LogReadOptions } from './cri-logs.js';
import { CHANNEL_PROTOCOLS, bridgeExecWebSocket, connectSpdy, sendStatus, streamOptionsFrom } from './exec-bridge.js';
import { pipeBoth, proxyUpgrade, readResponseHead, requestHead, upgradeHeaders, writeRawError } from './upgrade-proxy.js';
import { WebSocketByteStream, handshakeResponse, offeredProtocols } from './websocket.js';
import { PORT_FORWARD_CHANNEL_PROTOCOLS, bridgePortForwardWebSocket, portsFrom } from './portforward-bridge.js';

const log = logger('kubelet-server');

/** The WebSocket subprotocol of port-forward tunnelled over WebSocket (kubectl ≥ 1.31). */
export const PORT_FORWARD_TUNNEL_PROTOCOL = 'SPDY/3.1+portforward.k8s.io';

const LABEL_NAMESPACE = 'io.kubernetes.pod.namespace';
const LABEL_POD = 'io.kubernetes.pod.name';
const LABEL_CONTAINER = 'io.kubernetes.container.name';

/** What the kubelet server needs. */
export interface KubeletServerOptions {
  config: AgentConfig;
  cri: CriClient;
  /** The cluster CA: client certificates must chain to it. */
  caCertPem: string;
  /** The CA key, when this process has it: the serving certificate is then signed by the cluster CA. */
  caKeyPem?: string;
  /** A serving certificate to use as is (else issued from the CA key, else self-signed). */
  tls?: KeyPair;
  /** Address to listen on (default 0.0.0.0). */
  host?: string;
}

/** A running kubelet server. */
export interface KubeletServer {
  port: number;
  /** The serving certificate (PEM), e.g. to pin it. */
  cert: string;
  stop(): Promise<void>;
}

/** Starts the kubelet's HTTPS server on config.kubeletPort (0 = a free port). */
export async function startKubeletServer(options: KubeletServerOptions): Promise<KubeletServer> {
  const { config } = options;
  const request = {
    subject: `CN=${config.nodeName}`,
    usage: 'server' as const,
    dnsNames: [...new Set([config.nodeName, hostname().toLowerCase(), 'localhost'])],
    ips: [...new Set([config.nodeIp, '127.0.0.1'])],
  };
  const tls = options.tls ?? (options.caKeyPem ? await issueCertificate(options.caCertPem, options.caKeyPem, request) : await selfSignedCertificate(request));
  const handler = new KubeletHandler(options.cri);
  const server: Server = createServer({ cert: tls.cert, key: tls.key, ca: options.caCertPem, requestCert: true, rejectUnauthorized: true }, (req, res) => void handler.handle(req, res));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => void handler.handleUpgrade(req, socket, head));
  server.on('tlsClientError', () => undefined);
  server.requestTimeout = 0; // log follows and streams are long-lived
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.kubeletPort, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info('kubelet server listening', { port });
  return {
    port,
    cert: tls.cert,
    async stop() {
      handler.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A parsed kubelet streaming path. */
interface Target {
  kind: 'containerLogs' | 'exec' | 'attach' | 'portForward';
  namespace: string;
  pod: string;
  container?: string;
}

/** Parses /{kind}/{ns}/{pod}[/{uid}]/{container}; undefined for other paths. */
export function parseTarget(pathname: string): Target | undefined {
  const parts = pathname.split('/').filter(Boolean).map((p) => decodeURIComponent(p));
  const kind = parts[0] as Target['kind'];
  if (kind === 'portForward') {
    if (parts.length !== 3 && parts.length !== 4) return undefined;
    return { kind, namespace: parts[1], pod: parts[2] };
  }
  if (kind === 'containerLogs' && parts.length === 4) return { kind, namespace: parts[1], pod: parts[2], container: parts[3] };
  if ((kind === 'exec' || kind === 'attach') && (parts.length === 4 || parts.length === 5)) {
    return { kind, namespace: parts[1], pod: parts[2], container: parts[parts.length - 1] };
  }
  return undefined;
}

/** Orders a pod's containers of one name newest first (attempt, then creation time). */
export function newestFirst(containers: Container[]): Container[] {
  return [...containers].sort((a, b) => (b.metadata?.attempt ?? 0) - (a.metadata?.attempt ?? 0) || b.createdAt - a.createdAt);
}

class KubeletHandler {
  private readonly wss = new WebSocketServer({
    noServer: true,
    // Pings every 5 s from kubectl; messages can be large (kubectl cp).
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered: Set<string>) => CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly portForwardWss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024 * 1024,
    // Clients offering none of these (an empty list is the kubelet's "" protocol) get no subprotocol.
    handleProtocols: (offered: Set<string>) => PORT_FORWARD_CHANNEL_PROTOCOLS.find((p) => offered.has(p)) ?? false,
  });
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly cri: CriClient) {}

  stop(): void {
    for (const socket of this.sockets) socket.destroy();
    this.wss.close();
    this.portForwardWss.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    try {
      if (url.pathname === '/healthz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      const target = parseTarget(url.pathname);
      if (!target) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      if (target.kind !== 'containerLogs') throw badRequest('Upgrade request required');
      if (req.method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      await this.serveLogs(target, url.searchParams, req, res);
    } catch (error) {
      const status = toStatusError(error);
      if (status.code >= 500) log.error('kubelet request failed', { path: url.pathname, error });
      if (res.headersSent) {
        res.end();
        return;
      }
      const body = JSON.stringify(status.toStatus());
      res.writeHead(status.code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }
  }

  async handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'https://kubelet');
    try {
      const target = parseTarget(url.pathname);
      if (!target || target.kind === 'containerLogs') throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
      if (target.kind === 'portForward') await this.portForward(target, url.searchParams, req, socket, head);
      else await this.execOrAttach(target, url.searchParams, req, socket, head);
    } catch (error) {
      const status = toStatusError(error);
      if (status.code >= 500) log.error('kubelet stream failed', { path: url.pathname, error });
      writeRawError(socket, status);
    }
  }

  // ---- lookups ----

  private async containersNamed(target: Target): Promise<Container[]> {
    const containers = await this.cri.listContainers({
      labelSelector: { [LABEL_NAMESPACE]: target.namespace, [LABEL_POD]: target.pod, [LABEL_CONTAINER]: target.container ?? '' },
    });
    return newestFirst(containers);
  }

  private async runningContainer(target: Target): Promise<Container> {
    const [current] = await this.containersNamed(target);
    if (!current) throw badRequest(`container not found ("${target.container}")`);
    if (current.state !== 'CONTAINER_RUNNING') {
      throw badRequest(`container ${target.container} is not running (state: ${current.state.replace('CONTAINER_', '').toLowerCase()})`);
    }
    return current;
  }

  // ---- logs ----

  private async serveLogs(target: Target, params: URLSearchParams, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const options = logOptionsFrom(params);
    const previous = booleanParam(params.get('previous'));
    const containers = await this.containersNamed(target);
    let chosen: Container | undefined;
    if (previous) {
      // The last terminated attempt: the one before the current if that one lives, else the newest dead one.
      chosen = containers[0]?.state === 'CONTAINER_EXITED' ? containers[0] : containers.find((c, i) => i > 0 && c.state === 'CONTAINER_EXITED');
      if (!chosen) throw badRequest(`previous terminated container "${target.container}" in pod "${target.pod}" not found`);
    } else {
      chosen = containers[0];
      if (!chosen) throw badRequest(`container "${target.container}" in pod "${target.pod}" is waiting to start: ContainerCreating`);
    }
    const status = (await this.cri.containerStatus(chosen.id)).status;
    const logPath = status?.logPath;
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    if (!logPath) {
      res.end();
      return;
    }
    let closed = false;
    // The response's close is the client going away (a request's own close only means its body was read).
    res.on('close', () => (closed = true));
    const sink = {
      get closed() {
        return closed || res.destroyed;
      },
      write: async (chunk: Buffer) => {
        if (res.destroyed || res.writableEnded) return;
        if (!res.write(chunk)) await waitForDrain(res);
      },
    };
    const isRunning = async () => {
      try {
        return (await this.cri.containerStatus(chosen.id)).status?.state === 'CONTAINER_RUNNING';
      } catch {
        return false;
      }
    };
    try {
      await streamCriLog(logPath, { ...options, follow: options.follow && !previous }, sink, isRunning);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // No log file yet (container created, never started): nothing to show.
    }
    res.end();
  }

  // ---- exec / attach ----

  private async execOrAttach(target: Target, params: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const streams = streamOptionsFrom(params);
    if (!streams.stdin && !streams.stdout && !streams.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
    const command = params.getAll('command');
    if (target.kind === 'exec' && command.length === 0) throw badRequest('you must specify at least one command for the container');
    const container = await this.runningContainer(target);
    const request = { containerId: container.id, tty: streams.tty, stdin: streams.stdin, stdout: streams.stdout, stderr: streams.stderr };
    const url = target.kind === 'exec' ? await this.cri.exec({ ...request, cmd: command }) : await this.cri.attach(request);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      // Connected before the switch: a runtime failure is still an HTTP error, and stdin has somewhere to go.
      const { session } = await connectSpdy(url, ['v4.channel.k8s.io']);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        const protocol = ws.protocol;
        if (!protocol) {
          sendStatus(ws, 1, { status: 'Failure', message: `none of the offered subprotocols is supported (want one of ${CHANNEL_PROTOCOLS.join(', ')})` });
          ws.close(1002);
          session.close();
          return;
        }
        ws.on('error', () => undefined);
        void bridgeExecWebSocket(ws, protocol, session, streams).catch((error) => log.warn('exec bridge failed', { error }));
      });
      return;
    }
    // SPDY (kubectl ≤ 1.29): the runtime's streaming server speaks it; pass the connection through.
    await this.proxyToRuntime(url, req, socket, head);
  }

  // ---- port-forward ----

  private async portForward(target: Target, params: URLSearchParams, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const sandboxes = await this.cri.listPodSandbox({ labelSelector: { [LABEL_NAMESPACE]: target.namespace, [LABEL_POD]: target.pod }, state: { state: 'SANDBOX_READY' } });
    const sandbox = sandboxes.sort((a, b) => b.createdAt - a.createdAt)[0];
    if (!sandbox) throw new StatusError(404, 'NotFound', `pod not found ("${target.pod}_${target.namespace}")`);
    const url = await this.cri.portForward(sandbox.id);
    const upgrade = String(req.headers.upgrade ?? '').toLowerCase();
    if (upgrade !== 'websocket') {
      await this.proxyToRuntime(url, req, socket, head);
      return;
    }
    const offered = offeredProtocols(req.headers['sec-websocket-protocol']);
    if (!offered.includes(PORT_FORWARD_TUNNEL_PROTOCOL)) {
      // Channel port-forward (client libraries): the ports come in the query.
      let ports: number[];
      try {
        ports = portsFrom(params);
      } catch (error) {
        throw badRequest((error as Error).message);
      }
      if (ports.length === 0) throw badRequest('query parameter "port" is required');
      const { session } = await connectSpdy(url, ['portforward.k8s.io']);
      this.portForwardWss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => undefined);
        bridgePortForwardWebSocket(ws, session, ports);
      });
      return;
    }
    // SPDY tunnelled in WebSocket messages (kubectl ≥ 1.31): unwrap to a byte stream and hand it to the runtime's SPDY server.
    const key = req.headers['sec-websocket-key'];
    if (typeof key !== 'string') throw badRequest('missing Sec-WebSocket-Key');
    const runtime = new URL(url);
    const backend = netConnect(Number(runtime.port), runtime.hostname);
    backend.on('error', () => undefined);
    backend.write(requestHead('POST', runtime.pathname + runtime.search, runtime.host, { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' }));
    const response = await readResponseHead(backend);
    if (response.statusCode !== 101) {
      backend.destroy();
      throw internalError(`the runtime refused the port-forward upgrade (${response.statusCode})`);
    }
    if (response.rest.length > 0) backend.unshift(response.rest);
    socket.write(handshakeResponse(key, PORT_FORWARD_TUNNEL_PROTOCOL));
    if (head.length > 0) socket.unshift(head);
    const tunnel = new WebSocketByteStream(socket);
    await pipeBoth(tunnel, backend);
  }

  private async proxyToRuntime(url: string, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const target = new URL(url);
    const backend = netConnect(Number(target.port), target.hostname);
    backend.on('error', () => undefined);
    await proxyUpgrade({ client: socket, head, backend, method: req.method ?? 'POST', path: target.pathname + target.search, host: target.host, headers: upgradeHeaders(req.headers) });
  }
}

function booleanParam(value: string | null): boolean {
  return value === 'true' || value === '1';
}

/** Log options from the kubelet query (the PodLogOptions field names). */
export function logOptionsFrom(params: URLSearchParams): LogReadOptions {
  const int = (name: string) => {
    const value = params.get(name);
    if (value === null || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n)) throw badRequest(`invalid ${name}: ${JSON.stringify(value)}`);
    return n;
  };
  const tailLines = int('tailLines');
  const sinceSeconds = int('sinceSeconds');
  const limitBytes = int('limitBytes');
  const sinceTime = params.get('sinceTime');
  let sinceMs: number | undefined;
  if (sinceSeconds !== undefined) sinceMs = Date.now() - sinceSeconds * 1000;
  else if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) throw badRequest(`invalid sinceTime: ${JSON.stringify(sinceTime)}`);
  }
  return {
    follow: booleanParam(params.get('follow')),
    timestamps: booleanParam(params.get('timestamps')),
    tailLines: tailLines !== undefined && tailLines >= 0 ? tailLines : undefined,
    sinceMs,
    limitBytes: limitBytes !== undefined && limitBytes > 0 ? limitBytes : undefined,
  };
}

function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  return internalError(error instanceof Error ? error.message : String(error));
}
