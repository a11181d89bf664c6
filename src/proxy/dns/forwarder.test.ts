/**
 * Forwarding: upstream addresses and resolv.conf parsing, the client's id
 * kept, failover past a silent upstream, and an error when none answers.
 * Upstreams are UDP sockets of this test on 127.0.0.1.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dnsPacket from 'dns-packet';
import { Forwarder, parseUpstream, resolvConfNameservers } from './forwarder.js';
import { encodeQuery } from './dns-client.js';

async function udpServer(answer: boolean): Promise<{ socket: Socket; port: number; received: number[] }> {
  const socket = createSocket('udp4');
  const received: number[] = [];
  socket.on('message', (message, rinfo) => {
    const query = dnsPacket.decode(message);
    received.push(query.id!);
    if (!answer) return;
    socket.send(dnsPacket.encode({ type: 'response', id: query.id, questions: query.questions, answers: [{ type: 'A', name: query.questions![0].name, data: '192.0.2.7' }] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, port: socket.address().port, received };
}

describe('DNS forwarder', () => {
  it('parses upstream addresses and resolv.conf nameservers', () => {
    assert.deepEqual(parseUpstream('10.0.0.2'), { host: '10.0.0.2', port: 53 });
    assert.deepEqual(parseUpstream('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
    assert.deepEqual(parseUpstream('[::1]:54'), { host: '::1', port: 54 });
    assert.deepEqual(parseUpstream('fd00::1'), { host: 'fd00::1', port: 53 });
    assert.throws(() => parseUpstream('dns.example'), /not a DNS upstream address/);
    const dir = mkdtempSync(join(tmpdir(), 'pilote-resolv-'));
    try {
      writeFileSync(join(dir, 'resolv.conf'), '# comment\nsearch example\nnameserver 10.0.0.2\nnameserver fe80::1%eth0\n nameserver ::1\noptions ndots:2\n');
      assert.deepEqual(resolvConfNameservers(join(dir, 'resolv.conf')), ['10.0.0.2', 'fe80::1%eth0', '::1']);
      assert.deepEqual(resolvConfNameservers(join(dir, 'missing')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails over past a silent upstream and keeps the client id', async () => {
    const silent = await udpServer(false);
    const good = await udpServer(true);
    const forwarder = new Forwarder([{ host: '127.0.0.1', port: silent.port }, { host: '127.0.0.1', port: good.port }], 200);
    try {
      const response = dnsPacket.decode(await forwarder.forward(encodeQuery('example.test', 'A', 4242), false));
      assert.equal(response.id, 4242);
      assert.deepEqual(response.answers!.map((a) => (a as { data: string }).data), ['192.0.2.7']);
      assert.equal(silent.received.length, 1);
      assert.notEqual(good.received[0], 4242, 'upstreams see a fresh id');
      // The answering upstream is now tried first.
      await forwarder.forward(encodeQuery('example.test', 'A', 1), false);
      assert.equal(silent.received.length, 1);
    } finally {
      forwarder.close();
      silent.socket.close();
      good.socket.close();
    }
  });

  it('rejects when no upstream answers, or none is configured', async () => {
    const silent = await udpServer(false);
    const forwarder = new Forwarder([{ host: '127.0.0.1', port: silent.port }], 100);
    try {
      await assert.rejects(forwarder.forward(encodeQuery('example.test', 'A'), false), /did not answer within 100 ms/);
      await assert.rejects(new Forwarder([]).forward(encodeQuery('example.test', 'A'), false), /no upstream DNS servers/);
    } finally {
      forwarder.close();
      silent.socket.close();
    }
  });
});
