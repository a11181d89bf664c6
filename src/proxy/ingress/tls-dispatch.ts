/**
 * Routing TLS connections to the HTTPS server whose default certificate has
 * the key type of the certificate the SNI name will get.
 *
 * Why: Node's SNICallback only *adds* the chosen certificate to the connection
 * (SSL_use_certificate), into the slot of its key type; the default context's
 * certificate stays in its own slot, and OpenSSL then picks by the client's
 * signature algorithms — TLS 1.3 clients prefer ECDSA, TLS 1.2 ones often RSA.
 * So an RSA Secret behind an ECDSA default (or the reverse) serves the default
 * certificate instead (nodejs/node#54235). With one server per key type, the
 * Secret's certificate always replaces the default one.
 *
 * The SNI name is read from the ClientHello's first record, which is then put
 * back on the socket untouched for the TLS server to read.
 */
import { createServer, type Server, type Socket } from 'node:net';

/** A TLS record header (5 bytes) plus the largest record payload (2^14 + 2048, RFC 8446 §5.2). */
const MAX_CLIENT_HELLO = 5 + 16384 + 2048;
const HELLO_TIMEOUT_MS = 10_000;

/**
 * The server name (SNI, lower case) of a ClientHello at the start of `data`:
 * `undefined` when there is none (or the bytes are not a ClientHello), `null`
 * when more bytes are needed to know.
 */
export function clientHelloServerName(data: Buffer): string | undefined | null {
  if (data.length < 5) return null;
  if (data[0] !== 0x16) return undefined; // not a handshake record
  const end = 5 + data.readUInt16BE(3);
  if (end > MAX_CLIENT_HELLO) return undefined;
  if (data.length < end) return null;
  try {
    let p = 5;
    if (data[p] !== 0x01) return undefined; // not a ClientHello
    p += 4 + 2 + 32; // handshake header, legacy_version, random
    p += 1 + data[p]; // legacy_session_id
    p += 2 + data.readUInt16BE(p); // cipher_suites
    p += 1 + data[p]; // legacy_compression_methods
    if (p + 2 > end) return undefined; // no extensions
    const extensionsEnd = Math.min(end, p + 2 + data.readUInt16BE(p));
    p += 2;
    while (p + 4 <= extensionsEnd) {
      const type = data.readUInt16BE(p);
      const length = data.readUInt16BE(p + 2);
      p += 4;
      if (type === 0x0000) {
        // server_name: a list of (name_type, length, name); host_name is type 0.
        const listEnd = Math.min(p + length, p + 2 + data.readUInt16BE(p));
        for (let q = p + 2; q + 3 <= listEnd; ) {
          const nameLength = data.readUInt16BE(q + 1);
          if (data[q] === 0 && q + 3 + nameLength <= listEnd) return data.toString('ascii', q + 3, q + 3 + nameLength).toLowerCase();
          q += 3 + nameLength;
        }
        return undefined;
      }
      p += length;
    }
    return undefined;
  } catch {
    return undefined; // truncated or malformed: let the TLS server answer it
  }
}

/** The TCP listener in front of the TLS servers. */
export interface TlsDispatcher {
  /** Listen with it (`server.listen(port, host)`). */
  server: Server;
  /** Stops listening and ends every connection it accepted, handed over or not. */
  close(): Promise<void>;
}

/**
 * A plain TCP server that reads each connection's ClientHello, asks `pick`
 * which TLS server gets it (by SNI name, undefined without one), and hands the
 * untouched connection to that server.
 */
export function tlsDispatcher(pick: (serverName: string | undefined) => Server): TlsDispatcher {
  const sockets = new Set<Socket>();
  const server = createServer((socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), HELLO_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const name = clientHelloServerName(buffered);
      if (name === null && buffered.length < MAX_CLIENT_HELLO) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.pause();
      socket.unshift(buffered);
      pick(name ?? undefined).emit('connection', socket);
    };
    const onError = () => {
      clearTimeout(timer);
      socket.destroy();
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', () => clearTimeout(timer));
  });
  return {
    server,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
