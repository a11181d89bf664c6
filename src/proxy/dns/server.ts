/**
 * Cluster DNS: a DNS server on UDP and TCP (RFC 1035 length-prefixed
 * messages) answering the cluster domain from informer caches of Services,
 * EndpointSlices and Namespaces (./resolver.ts), and forwarding every other
 * name to upstream resolvers (./forwarder.ts). It plays the part of CoreDNS
 * in a k3s cluster; pods reach it through the `kube-system/kube-dns` Service
 * (./dns-service.ts).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIP, type Server, type Socket } from 'node:net';
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket, Packet, RecordType } from 'dns-packet';
import type { AgentConfig } from '../../agent/config.js';
import { Informer } from '../../client/informer.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { logger } from '../../util/log.js';
import { ResponseCache } from './cache.js';
import { ClusterView } from './cluster-view.js';
import { Forwarder, parseUpstream, resolvConfNameservers } from './forwarder.js';
import { ClusterResolver, RCODE } from './resolver.js';

const log = logger('dns');

const FLAG_AA = 1 << 10;
const FLAG_TC = 1 << 9;
const FLAG_RD = 1 << 8;
const FLAG_RA = 1 << 7;
/** Largest UDP answer for a client that sent no EDNS option (RFC 1035). */
const CLASSIC_UDP_SIZE = 512;
/** Our EDNS buffer size (the DNS flag day 2020 value). */
const EDNS_UDP_SIZE = 1232;
/** How long start waits for the informers before serving anyway (SERVFAIL until synced), as CoreDNS. */
const SYNC_WAIT_MS = 5000;
const TCP_IDLE_MS = 10_000;

export interface ClusterDnsOptions {
  client: ApiClient;
  config: AgentConfig;
  /** UDP and TCP port; 0 picks a free one (the same for both). Production: 53. */
  port: number;
  /** Address to listen on; default the node IP (where the kube-dns Service's endpoint points). */
  bindAddress?: string;
  /** Resolvers for names outside the cluster domain ("ip" or "ip:port"); default the host's /etc/resolv.conf. */
  upstreams?: string[];
  /** Per-upstream timeout (default 2 s). */
  upstreamTimeoutMs?: number;
  /** Cache forwarded answers up to their TTL, at most 30 s (default true, as k3s' `cache 30`). */
  cache?: boolean;
}

/** A running cluster DNS server. */
export interface ClusterDns {
  port: number;
  stop(): Promise<void>;
}

/** Starts cluster DNS; resolves once it listens (and its caches are loaded, or after 5 s). */
export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const { client, config } = opts;
  const bindAddress = opts.bindAddress ?? config.nodeIp;
  const view = new ClusterView(config.clusterDomain.toLowerCase());
  const informers = {
    services: new Informer(client.resource(RESOURCES.services)),
    slices: new Informer(client.resource(RESOURCES.endpointSlices)),
    namespaces: new Informer(client.resource(RESOURCES.namespaces)),
  };
  informers.services.addHandlers({ onAdd: (o) => view.upsertService(o), onUpdate: (_, o) => view.upsertService(o), onDelete: (o) => view.deleteService(o) });
  informers.slices.addHandlers({ onAdd: (o) => view.upsertSlice(o), onUpdate: (_, o) => view.upsertSlice(o), onDelete: (o) => view.deleteSlice(o) });
  informers.namespaces.addHandlers({ onAdd: (o) => view.upsertNamespace(o), onUpdate: (_, o) => view.upsertNamespace(o), onDelete: (o) => view.deleteNamespace(o) });
  let synced = false;
  const allSynced = Promise.all(Object.values(informers).map((i) => i.hasSynced())).then(() => {
    synced = true;
  });
  for (const informer of Object.values(informers)) informer.start();

  const resolver = new ClusterResolver(view, config.clusterDomain, config.clusterDns, () => synced);
  const upstreamSpecs = opts.upstreams ?? resolvConfNameservers();
  const forwarder = new Forwarder(
    upstreamSpecs.map(parseUpstream).filter((u) => !(u.host === config.clusterDns && u.port === 53)),
    opts.upstreamTimeoutMs,
  );
  const handler = new QueryHandler(resolver, forwarder, opts.cache === false ? undefined : new ResponseCache());

  let stopTimer: NodeJS.Timeout | undefined;
  await Promise.race([allSynced, new Promise<void>((resolve) => (stopTimer = setTimeout(resolve, SYNC_WAIT_MS)))]);
  clearTimeout(stopTimer);
  if (!synced) log.warn('serving before the API caches are loaded: cluster names answer SERVFAIL until then');

  const { udp, tcp, port } = await listen(bindAddress, opts.port, handler);
  log.info('cluster DNS listening', { address: bindAddress, port, zone: resolver.zone, upstreams: forwarder.upstreams });
  return {
    port,
    async stop() {
      for (const informer of Object.values(informers)) informer.stop();
      forwarder.close();
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      await new Promise<void>((resolve) => {
        tcp.close(() => resolve());
        for (const socket of handler.tcpSockets) socket.destroy();
      });
    },
  };
}

async function listen(address: string, port: number, handler: QueryHandler): Promise<{ udp: UdpSocket; tcp: Server; port: number }> {
  // With port 0 the UDP port is chosen first and TCP takes the same number; retry if TCP finds it taken.
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const chosen = udp.address().port;
    const tcp = createServer((socket) => handler.serveTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(chosen, address, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      udp.close();
      if (port === 0 && attempt < 10 && (error as NodeJS.ErrnoException).code === 'EADDRINUSE') continue;
      throw error;
    }
    udp.on('message', (message, rinfo) => {
      void handler.handle(message, false).then((response) => {
        if (!response) return;
        try {
          udp.send(response, rinfo.port, rinfo.address);
        } catch {
          // The socket closed while the answer was being prepared (stop): nothing to do.
        }
      });
    });
    udp.on('error', (error) => log.warn('UDP socket error', { error }));
    return { udp, tcp, port: chosen };
  }
}

/** Turns one wire-format query into one wire-format response. */
class QueryHandler {
  readonly tcpSockets = new Set<Socket>();

  constructor(
    private readonly resolver: ClusterResolver,
    private readonly forwarder: Forwarder,
    private readonly cache: ResponseCache | undefined,
  ) {}

  /** Serves length-prefixed queries on a TCP connection until the client closes it or idles. */
  serveTcp(socket: Socket): void {
    this.tcpSockets.add(socket);
    socket.on('close', () => this.tcpSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const message = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + message.length);
        void this.handle(Buffer.from(message), true).then((response) => {
          if (!response || socket.destroyed) return;
          const length = Buffer.alloc(2);
          length.writeUInt16BE(response.length);
          socket.write(Buffer.concat([length, response]));
        });
      }
    });
  }

  /** The response to a query, or undefined when the message deserves none (not a query, garbage). */
  async handle(message: Buffer, tcp: boolean): Promise<Buffer | undefined> {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(message);
    } catch {
      return message.length >= 12 && !(message[2] & 0x80) ? errorResponse(message, RCODE.FORMERR) : undefined;
    }
    if (query.flag_qr) return undefined;
    const opcode = (message.readUInt16BE(2) >> 11) & 0xf;
    if (opcode !== 0) return errorResponse(message, RCODE.NOTIMP);
    const question = query.questions?.[0];
    if (!question || query.questions!.length !== 1) return errorResponse(message, RCODE.FORMERR);
    const opt = query.additionals?.find((a) => a.type === 'OPT') as { udpPayloadSize?: number } | undefined;
    const maxUdp = opt ? Math.max(CLASSIC_UDP_SIZE, Math.min(opt.udpPayloadSize ?? CLASSIC_UDP_SIZE, 65535)) : CLASSIC_UDP_SIZE;

    try {
      const resolution = this.resolver.resolve(question.name, question.type);
      if (resolution.kind === 'forward') return await this.forward(message, query.id ?? 0, ResponseCache.key(question.name, question.type, question.class), tcp, maxUdp);
      const answers = [...resolution.answers];
      if (resolution.chase) answers.push(...(await this.chase(resolution.chase.name, resolution.chase.type)));
      const response: Packet = {
        type: 'response',
        id: query.id,
        flags: FLAG_AA | (query.flag_rd ? FLAG_RD : 0) | FLAG_RA | resolution.rcode,
        questions: [question],
        answers,
        authorities: resolution.authorities,
        additionals: opt ? [...resolution.additionals, ednsOption()] : resolution.additionals,
      };
      let encoded = dnsPacket.encode(response);
      if (!tcp && encoded.length > maxUdp) {
        // Too big for the client's buffer: an empty truncated answer tells it to ask over TCP.
        encoded = dnsPacket.encode({ ...response, flags: response.flags! | FLAG_TC, answers: [], authorities: [], additionals: opt ? [ednsOption()] : [] });
      }
      return encoded;
    } catch (error) {
      log.debug('query failed', { name: question.name, type: question.type, error });
      return errorResponse(message, RCODE.SERVFAIL);
    }
  }

  private async forward(message: Buffer, id: number, cacheKey: string, tcp: boolean, maxUdp: number): Promise<Buffer> {
    try {
      let response = this.cache?.get(cacheKey, id);
      if (!response) {
        response = await this.forwarder.forward(message, tcp);
        this.cache?.put(cacheKey, response);
      }
      if (tcp || response.length <= maxUdp) return response;
      // The upstream's answer (fetched over TCP) does not fit the client's UDP buffer: send it truncated.
      const decoded = dnsPacket.decode(response);
      const opt = (decoded.additionals ?? []).filter((a) => a.type === 'OPT');
      return dnsPacket.encode({ ...decoded, flags: decoded.flags! | FLAG_TC, answers: [], authorities: [], additionals: opt });
    } catch (error) {
      log.debug('forwarding failed', { error });
      return errorResponse(message, RCODE.SERVFAIL);
    }
  }

  /** Addresses of an ExternalName target outside the cluster, from the upstreams (none when they fail). */
  private async chase(name: string, type: RecordType): Promise<Answer[]> {
    const query = dnsPacket.encode({ type: 'query', id: 0, flags: FLAG_RD, questions: [{ name, type, class: 'IN' }] });
    try {
      const response = dnsPacket.decode(await this.forwarder.forward(query, false));
      return (response.answers ?? []).filter((a) => a.type === 'CNAME' || a.type === type);
    } catch {
      return [];
    }
  }
}

function ednsOption(): Answer {
  return { type: 'OPT', name: '.', udpPayloadSize: EDNS_UDP_SIZE, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
}

/** A response carrying only the query's header (and question when it parses) with an error code. */
function errorResponse(message: Buffer, rcode: number): Buffer {
  const flags = message.readUInt16BE(2);
  try {
    const query = dnsPacket.decode(message);
    return dnsPacket.encode({ type: 'response', id: query.id, flags: (flags & (FLAG_RD | (0xf << 11))) | FLAG_RA | rcode, questions: query.questions ?? [] });
  } catch {
    const header = Buffer.alloc(12);
    header.writeUInt16BE(message.readUInt16BE(0), 0);
    header.writeUInt16BE(0x8000 | (flags & (FLAG_RD | (0xf << 11))) | FLAG_RA | rcode, 2);
    return header;
  }
}
