/**
 * Forwarding of names outside the cluster domain to upstream resolvers (the
 * host's, from /etc/resolv.conf, by default), like CoreDNS' `forward` plugin:
 * the client's query bytes go out unchanged except for a fresh message id;
 * UDP first, again over TCP when the UDP answer is truncated; an upstream
 * that times out or fails is skipped for the next one.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { logger } from '../../util/log.js';

const log = logger('dns-forward');

/** An upstream resolver address. */
export interface Upstream {
  host: string;
  port: number;
}

/** Parses "1.2.3.4", "1.2.3.4:5353", "::1" or "[::1]:5353". */
export function parseUpstream(spec: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) return { host: bracketed[1], port: Number(bracketed[2] ?? 53) };
  if (isIP(spec)) return { host: spec, port: 53 };
  const withPort = /^([^:]+):(\d+)$/.exec(spec);
  if (withPort && isIP(withPort[1])) return { host: withPort[1], port: Number(withPort[2]) };
  throw new Error(`not a DNS upstream address: "${spec}" (expected an IP, IP:port or [IPv6]:port)`);
}

/** The `nameserver` lines of a resolv.conf file (missing file: none). */
export function resolvConfNameservers(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const servers: string[] = [];
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    // Link-local IPv6 with a zone index (fe80::1%eth0) is a valid socket address too.
    if (match && isIP(match[1])) servers.push(match[1]);
  }
  return servers;
}

interface Pending {
  resolve(response: Buffer): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  upstream: Upstream;
}

/** Sends queries to upstreams and returns their raw responses. */
export class Forwarder {
  private readonly sockets = new Map<4 | 6, UdpSocket>();
  private readonly pending = new Map<number, Pending>();
  /** Index of the upstream tried first: moves past upstreams that fail. */
  private preferred = 0;
  private closed = false;

  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs = 2000,
  ) {}

  /**
   * Resolves `query` (a wire-format DNS message) upstream and returns the
   * response with the client's id. Over UDP unless `tcp` or the answer is
   * truncated. Throws when every upstream failed.
   */
  async forward(query: Buffer, tcp: boolean): Promise<Buffer> {
    if (this.upstreams.length === 0) throw new Error('no upstream DNS servers configured');
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < this.upstreams.length; attempt++) {
      const index = (this.preferred + attempt) % this.upstreams.length;
      const upstream = this.upstreams[index];
      try {
        let response = tcp ? await this.exchangeTcp(upstream, query) : await this.exchangeUdp(upstream, query);
        if (!tcp && isTruncated(response)) {
          try {
            response = await this.exchangeTcp(upstream, query);
          } catch (error) {
            // Keep the truncated answer: the client will retry over TCP itself.
            log.debug('tcp retry after truncation failed', { upstream, error });
          }
        }
        this.preferred = index;
        return withId(response, query.readUInt16BE(0));
      } catch (error) {
        lastError = error as Error;
        log.debug('upstream failed', { upstream, error });
      }
    }
    throw lastError ?? new Error('no upstream answered');
  }

  /** Closes the forwarding sockets; pending queries fail. */
  close(): void {
    this.closed = true;
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('forwarder closed'));
      this.pending.delete(id);
    }
  }

  private socketFor(family: 4 | 6): UdpSocket {
    let socket = this.sockets.get(family);
    if (socket) return socket;
    socket = createSocket(family === 4 ? 'udp4' : 'udp6');
    socket.on('message', (message, rinfo) => {
      if (message.length < 12) return;
      const id = message.readUInt16BE(0);
      const pending = this.pending.get(id);
      // Only the upstream we asked may answer this id (a spoofed reply from elsewhere is dropped).
      if (!pending || pending.upstream.port !== rinfo.port || pending.upstream.host !== rinfo.address) return;
      this.pending.delete(id);
      clearTimeout(pending.timer);
      pending.resolve(message);
    });
    socket.on('error', (error) => log.warn('forwarding socket error', { error }));
    socket.unref();
    this.sockets.set(family, socket);
    return socket;
  }

  private freeId(): number {
    for (;;) {
      const id = randomInt(65536);
      if (!this.pending.has(id)) return id;
    }
  }

  private exchangeUdp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    if (this.closed) return Promise.reject(new Error('forwarder closed'));
    const family = isIP(upstream.host) === 6 ? 6 : 4;
    const socket = this.socketFor(family);
    const id = this.freeId();
    const message = withId(query, id);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`upstream ${upstream.host}:${upstream.port} did not answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer, upstream });
      socket.send(message, upstream.port, upstream.host, (error) => {
        if (!error) return;
        this.pending.delete(id);
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  private exchangeTcp(upstream: Upstream, query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: upstream.host, port: upstream.port });
      let received = Buffer.alloc(0);
      const fail = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.setTimeout(this.timeoutMs, () => fail(new Error(`upstream ${upstream.host}:${upstream.port} (TCP) timed out`)));
      socket.on('error', fail);
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.length);
        socket.write(Buffer.concat([length, query]));
      });
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
          socket.end();
          resolve(received.subarray(2, 2 + received.readUInt16BE(0)));
        }
      });
      socket.on('end', () => reject(new Error(`upstream ${upstream.host}:${upstream.port} (TCP) closed before answering`)));
    });
  }
}

/** True when the TC bit of a wire-format message is set. */
export function isTruncated(message: Buffer): boolean {
  return message.length >= 3 && (message[2] & 0x02) !== 0;
}

/** A copy of a wire-format message with another id. */
function withId(message: Buffer, id: number): Buffer {
  const copy = Buffer.from(message);
  copy.writeUInt16BE(id, 0);
  return copy;
}
