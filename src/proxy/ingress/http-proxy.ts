/**
 * Forwarding one HTTP request (or one upgraded connection) to a backend
 * endpoint: keep-alive connections to endpoints, X-Forwarded-* headers,
 * hop-by-hop headers dropped, and — when the endpoint cannot be reached and
 * the request can safely be sent again — the next endpoint tried, so a pod
 * that goes away between an endpoint update and our next request costs no
 * failed request.
 */
import { Agent, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Target } from './backends.js';

/** Headers that describe one connection, never forwarded (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Errors that mean the request never reached an application (or a kept-alive socket was dead). */
const RETRYABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENOTFOUND']);
const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND']);
/** At most this many endpoints are tried for one request. */
const MAX_ATTEMPTS = 3;

export interface ProxyOptions {
  /** "http" or "https": the scheme the client used. */
  proto: 'http' | 'https';
  /** Connection setup limit per endpoint (ms). */
  connectTimeoutMs: number;
  /** Limit of inactivity while waiting for or reading the backend's response (ms). */
  readTimeoutMs: number;
}

/** Keep-alive connection pool to endpoints (LIFO: warm sockets first, idle ones time out). */
export function backendAgent(): Agent {
  return new Agent({ keepAlive: true, keepAliveMsecs: 1000, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo', timeout: 60_000 });
}

/** The request headers for the backend: end-to-end headers plus X-Forwarded-*. */
export function forwardedHeaders(req: IncomingMessage, proto: 'http' | 'https', keepUpgrade: boolean): OutgoingHttpHeaders {
  const connectionTokens = new Set(String(req.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim()).filter(Boolean));
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    if (!keepUpgrade && (HOP_BY_HOP.has(name) || connectionTokens.has(name))) continue;
    // Our server already answered `Expect: 100-continue`; the body follows regardless.
    if (name === 'expect') continue;
    headers[name] = value;
  }
  const client = req.socket.remoteAddress ?? '';
  const previous = req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = previous ? `${Array.isArray(previous) ? previous.join(', ') : previous}, ${client}` : client;
  headers['x-forwarded-proto'] = proto;
  headers['x-forwarded-host'] = req.headers.host ?? '';
  headers['x-forwarded-port'] = String(req.socket.localPort ?? '');
  headers['x-real-ip'] = client;
  return headers;
}

function responseHeaders(res: IncomingMessage): OutgoingHttpHeaders {
  const connectionTokens = new Set(String(res.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim()).filter(Boolean));
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || connectionTokens.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

/** Sends a plain-text error page, unless the response is already under way. */
export function sendError(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * Proxies `req` to the first target that answers, trying the next one after a
 * connection failure when the request has no body and is idempotent (or never
 * reached the endpoint). Answers 502/504 when none could.
 */
export function proxyRequest(req: IncomingMessage, res: ServerResponse, targets: Target[], agent: Agent, options: ProxyOptions): void {
  const headers = forwardedHeaders(req, options.proto, false);
  const retryable = !hasBody(req);
  const idempotent = IDEMPOTENT.has(req.method ?? 'GET');
  const attempts = Math.min(targets.length, MAX_ATTEMPTS);
  let finished = false;
  let current: ReturnType<typeof httpRequest> | undefined;
  res.on('close', () => {
    finished = true;
    // The client went away before the answer was complete: stop the backend request too.
    if (!res.writableFinished) current?.destroy();
  });

  const attempt = (index: number, staleRetried = false) => {
    const target = targets[index];
    let connected = false;
    const upstream = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers, agent: staleRetried ? false : agent });
    current = upstream;
    upstream.on('socket', (socket: Socket) => {
      if (!socket.connecting) {
        connected = true;
        return;
      }
      const timer = setTimeout(() => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), options.connectTimeoutMs);
      socket.once('connect', () => {
        connected = true;
        clearTimeout(timer);
      });
      socket.once('close', () => clearTimeout(timer));
    });
    upstream.setTimeout(options.readTimeoutMs, () => upstream.destroy(Object.assign(new Error('backend read timeout'), { code: 'ESOCKETTIMEDOUT' })));
    upstream.on('response', (upstreamRes) => {
      if (finished) {
        upstreamRes.resume();
        return;
      }
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, responseHeaders(upstreamRes));
      upstreamRes.pipe(res);
      upstreamRes.on('error', () => res.destroy());
      upstreamRes.on('aborted', () => res.destroy());
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      if (finished || res.headersSent) {
        res.destroy();
        return;
      }
      const code = error.code ?? '';
      const neverSent = !connected || CONNECT_ERRORS.has(code);
      const safe = retryable && RETRYABLE_CODES.has(code) && (idempotent || neverSent);
      if (safe && upstream.reusedSocket && !staleRetried) {
        // A kept-alive socket the endpoint had just closed: the same endpoint on a fresh connection.
        attempt(index, true);
        return;
      }
      if (safe && index + 1 < attempts) {
        attempt(index + 1);
        return;
      }
      if (code === 'ESOCKETTIMEDOUT' || code === 'ETIMEDOUT') sendError(res, 504, '504 Gateway Timeout\n');
      else sendError(res, 502, '502 Bad Gateway\n');
    });
    if (retryable) upstream.end();
    else req.pipe(upstream);
  };

  if (retryable) req.resume(); // nothing to read, but let 'end' fire
  attempt(0);
}

/**
 * Proxies an upgrade request (WebSocket, SPDY…): the request head is written
 * to the endpoint as received, then bytes flow both ways untouched.
 */
export function proxyUpgrade(req: IncomingMessage, clientSocket: Duplex, head: Buffer, targets: Target[], options: ProxyOptions): void {
  const headers = forwardedHeaders(req, options.proto, true);
  const lines = [`${req.method} ${req.url} HTTP/${req.httpVersion}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  const requestHead = lines.join('\r\n') + '\r\n\r\n';
  clientSocket.on('error', () => clientSocket.destroy());

  const attempt = (index: number) => {
    const target = targets[index];
    const backend = connect({ host: target.host, port: target.port });
    const timer = setTimeout(() => backend.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), options.connectTimeoutMs);
    let connected = false;
    backend.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      backend.setNoDelay(true);
      backend.write(requestHead);
      if (head.length) backend.write(head);
      backend.pipe(clientSocket);
      clientSocket.pipe(backend);
    });
    backend.on('error', () => {
      clearTimeout(timer);
      if (!connected && index + 1 < Math.min(targets.length, MAX_ATTEMPTS)) {
        attempt(index + 1);
        return;
      }
      if (!connected) clientSocket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      else clientSocket.destroy();
    });
    backend.on('close', () => {
      if (connected) clientSocket.destroy();
    });
    clientSocket.on('close', () => backend.destroy());
  };
  attempt(0);
}
