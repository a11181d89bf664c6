/**
 * A minimal DNS stub client (one question, UDP or TCP): what tests and the
 * DNS benchmark use to query a server on a given address and port.
 */
import { createSocket } from 'node:dgram';
import { connect, isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import * as dnsPacket from 'dns-packet';
import type { DecodedPacket, RecordType } from 'dns-packet';

/** A decoded response with its rcode name (NOERROR, NXDOMAIN, …) spelled out. */
export type DnsResponse = DecodedPacket & { rcode: string };

export interface DnsQueryOptions {
  host: string;
  port: number;
  /** Default 2 s. */
  timeoutMs?: number;
  /** Adds an EDNS OPT record with this UDP payload size. */
  ednsUdpSize?: number;
}

/** Encodes a standard recursive query for one name and type. */
export function encodeQuery(name: string, type: RecordType, id = randomInt(65536), ednsUdpSize?: number): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type, class: 'IN' }],
    additionals: ednsUdpSize ? [{ type: 'OPT', name: '.', udpPayloadSize: ednsUdpSize, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [],
  });
}

/** Sends one query over UDP and decodes the answer. */
export function queryUdp(name: string, type: RecordType, options: DnsQueryOptions): Promise<DnsResponse> {
  const id = randomInt(65536);
  const message = encodeQuery(name, type, id, options.ednsUdpSize);
  const socket = createSocket(isIP(options.host) === 6 ? 'udp6' : 'udp4');
  return new Promise<DnsResponse>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no DNS answer from ${options.host}:${options.port} for ${name} ${type} (UDP)`));
    }, options.timeoutMs ?? 2000);
    socket.on('message', (response) => {
      if (response.readUInt16BE(0) !== id) return;
      clearTimeout(timer);
      socket.close();
      resolve(dnsPacket.decode(response) as DnsResponse);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.send(message, options.port, options.host);
  });
}

/** Sends one query over TCP (length-prefixed) and decodes the answer. */
export function queryTcp(name: string, type: RecordType, options: DnsQueryOptions): Promise<DnsResponse> {
  const message = encodeQuery(name, type, undefined, options.ednsUdpSize);
  return new Promise<DnsResponse>((resolve, reject) => {
    const socket = connect({ host: options.host, port: options.port });
    let received = Buffer.alloc(0);
    socket.setTimeout(options.timeoutMs ?? 2000, () => {
      socket.destroy();
      reject(new Error(`no DNS answer from ${options.host}:${options.port} for ${name} ${type} (TCP)`));
    });
    socket.on('error', reject);
    socket.on('connect', () => {
      const length = Buffer.alloc(2);
      length.writeUInt16BE(message.length);
      socket.write(Buffer.concat([length, message]));
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
        socket.end();
        resolve(dnsPacket.decode(received.subarray(2, 2 + received.readUInt16BE(0))) as DnsResponse);
      }
    });
  });
}
