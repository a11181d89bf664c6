/**
 * Upgrade-aware proxying, as kube-apiserver's UpgradeAwareHandler: the
 * client's upgrade request is re-sent to the backend (another path, other
 * credentials) and, once the backend answers 101, both connections are piped
 * byte for byte. Any other answer is passed back to the client as is.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { StatusError } from '../../apimachinery/errors.js';

/** Request headers that describe the upgrade and must reach the backend. */
const FORWARDED_HEADERS = ['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions', 'x-stream-protocol-version', 'user-agent', 'origin'];

/** The subset of a client's headers to forward to the backend of an upgrade. */
export function upgradeHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Serializes a request head. */
export function requestHead(method: string, path: string, host: string, headers: Record<string, string | string[]>): string {
  const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of Object.entries(headers)) {
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  return lines.join('\r\n') + '\r\n\r\n';
}

/** A parsed response head and the bytes that followed it. */
export interface ResponseHead {
  statusCode: number;
  /** The head exactly as received (status line + headers + blank line). */
  raw: Buffer;
  headers: Record<string, string>;
  rest: Buffer;
}

/** Reads a response head from a socket (up to 64 KiB). */
export function readResponseHead(socket: Duplex): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.off('close', onEnd);
    };
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffer.length > 64 * 1024) {
          cleanup();
          reject(new Error('backend response head larger than 64 KiB'));
        }
        return;
      }
      cleanup();
      socket.pause();
      const raw = buffer.subarray(0, end + 4);
      const lines = raw.toString('latin1').split('\r\n');
      const statusCode = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0])?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ statusCode, raw, headers, rest: buffer.subarray(end + 4) });
    };
    const onEnd = () => {
      cleanup();
      reject(new Error('backend closed the connection before answering'));
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
  });
}

/**
 * Pipes two sockets both ways. One side ending ends the other after what is
 * still buffered has been written (destroying it at once would cut the last
 * bytes of an exec's output); an error tears both down. Resolves once both are closed.
 */
export function pipeBoth(a: Duplex, b: Duplex): Promise<void> {
  return new Promise((resolve) => {
    let closed = 0;
    const onClose = (other: Duplex) => () => {
      if (!other.destroyed && !other.writableEnded) other.end();
      // A peer that never closes its side is not waited for forever.
      setTimeout(() => other.destroy(), 30_000).unref();
      if (++closed === 2) resolve();
    };
    const onError = () => {
      a.destroy();
      b.destroy();
    };
    a.pipe(b);
    b.pipe(a);
    a.once('close', onClose(b));
    b.once('close', onClose(a));
    a.on('error', onError);
    b.on('error', onError);
    a.resume();
    b.resume();
  });
}

/**
 * Sends an upgrade request to an already-connected backend and bridges it
 * with the client: 101 → raw pipe; anything else → that response, then close.
 */
export async function proxyUpgrade(options: {
  client: Duplex;
  /** Bytes the client sent after its request head. */
  head: Buffer;
  backend: Duplex;
  method: string;
  path: string;
  host: string;
  headers: Record<string, string | string[]>;
}): Promise<void> {
  const { client, backend } = options;
  backend.write(requestHead(options.method, options.path, options.host, options.headers));
  if (options.head.length > 0) backend.write(options.head);
  let response: ResponseHead;
  try {
    response = await readResponseHead(backend);
  } catch (error) {
    backend.destroy();
    throw error;
  }
  client.write(response.raw);
  if (response.rest.length > 0) client.write(response.rest);
  if (response.statusCode === 101) {
    await pipeBoth(client, backend);
    return;
  }
  // An error answer: pass its body along, then close both sides.
  const length = Number(response.headers['content-length'] ?? NaN);
  let remaining = Number.isFinite(length) ? length - response.rest.length : Infinity;
  if (remaining <= 0) {
    backend.destroy();
    client.end();
    return;
  }
  await new Promise<void>((resolve) => {
    backend.on('data', (chunk: Buffer) => {
      client.write(chunk);
      remaining -= chunk.length;
      if (remaining <= 0) backend.destroy();
    });
    backend.on('close', () => resolve());
    backend.on('error', () => resolve());
    backend.resume();
  });
  client.end();
}

const REASON_PHRASES: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 502: 'Bad Gateway' };

/** Answers an upgrade request that failed before the switch, as a plain HTTP error with a Status body. */
export function writeRawError(socket: Duplex, status: StatusError): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(status.toStatus());
  socket.end(
    `HTTP/1.1 ${status.code} ${REASON_PHRASES[status.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
