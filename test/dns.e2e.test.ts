/**
 * Cluster DNS against a real API server (in process): Services and
 * EndpointSlices written through the API, queries from a real DNS client over
 * UDP and TCP to the server on a free loopback port, and forwarding to an
 * upstream DNS server the test runs on 127.0.0.1 (never the host's resolvers).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import * as dnsPacket from 'dns-packet';
import type { Answer, Packet } from 'dns-packet';
import { startInProcessCluster, type InProcessCluster } from './helpers/in-process.js';
import { waitFor } from './helpers/cluster.js';
import { defaultAgentConfig, nthAddress, type AgentConfig } from '../src/agent/config.js';
import { RESOURCES, type ApiClient } from '../src/client/types.js';
import { startClusterDns, ensureDnsService, type ClusterDns } from '../src/proxy/dns/index.js';
import { queryTcp, queryUdp, type DnsResponse } from '../src/proxy/dns/dns-client.js';
import type { KubeObject } from '../src/apimachinery/types.js';

const NS = 'dns-test';
const ZONE = 'cluster.local';

/** An upstream resolver on 127.0.0.1 (UDP and TCP on one port) answering from a fixed table. */
async function startUpstream(): Promise<{ port: number; queries: string[]; stop(): Promise<void> }> {
  const queries: string[] = [];
  const answerFor = (packet: Packet, tcp: boolean): Buffer => {
    const q = packet.questions![0];
    queries.push(`${tcp ? 'tcp' : 'udp'} ${q.name} ${q.type}`);
    const base: Packet = { type: 'response', id: packet.id, flags: dnsPacket.RECURSION_AVAILABLE | dnsPacket.RECURSION_DESIRED, questions: [q] };
    if (q.name === 'example.test' && q.type === 'A') return dnsPacket.encode({ ...base, answers: [{ type: 'A', name: q.name, ttl: 60, data: '192.0.2.1' }] });
    if (q.name === 'big.test' && q.type === 'A') {
      if (!tcp) return dnsPacket.encode({ ...base, flags: base.flags! | dnsPacket.TRUNCATED_RESPONSE });
      const answers: Answer[] = Array.from({ length: 60 }, (_, i) => ({ type: 'A', name: q.name, ttl: 60, data: `192.0.2.${i + 1}` }));
      return dnsPacket.encode({ ...base, answers });
    }
    return dnsPacket.encode({ ...base, flags: base.flags! | 3 }); // NXDOMAIN
  };
  const udp: UdpSocket = createSocket('udp4');
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const port = udp.address().port;
  udp.on('message', (message, rinfo) => udp.send(answerFor(dnsPacket.decode(message), false), rinfo.port, rinfo.address));
  const tcp: Server = createServer((socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const response = answerFor(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))), true);
        buffered = Buffer.alloc(0);
        const length = Buffer.alloc(2);
        length.writeUInt16BE(response.length);
        socket.write(Buffer.concat([length, response]));
      }
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    queries,
    stop: async () => {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

let cluster: InProcessCluster;
let client: ApiClient;
let config: AgentConfig;
let dns: ClusterDns;
let upstream: Awaited<ReturnType<typeof startUpstream>>;
let webIp: string;

const udp = (name: string, type: dnsPacket.RecordType, ednsUdpSize?: number) => queryUdp(name, type, { host: '127.0.0.1', port: dns.port, ednsUdpSize });
const tcp = (name: string, type: dnsPacket.RecordType) => queryTcp(name, type, { host: '127.0.0.1', port: dns.port });
const data = (response: DnsResponse, type: string) => (response.answers ?? []).filter((a) => a.type === type).map((a) => (a as { data: unknown }).data);

function slice(name: string, service: string, endpoints: unknown[], ports: unknown[]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}

before(async () => {
  cluster = await startInProcessCluster();
  client = cluster.client;
  const serviceCidr = cluster.api.serviceRanges.serviceCidr;
  config = defaultAgentConfig(tmpdir(), '', { nodeIp: '127.0.0.1', clusterDomain: ZONE, serviceCidr, clusterDns: nthAddress(serviceCidr, 10) });
  upstream = await startUpstream();
  await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: NS } });
  const services = client.resource(RESOURCES.services);
  const web = await services.create(NS, {
    metadata: { name: 'web' },
    spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', port: 9090, protocol: 'TCP' }] },
  });
  webIp = (web.spec as { clusterIP: string }).clusterIP;
  await services.create(NS, { metadata: { name: 'db' }, spec: { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } });
  await services.create(NS, { metadata: { name: 'alias' }, spec: { type: 'ExternalName', externalName: `web.${NS}.svc.${ZONE}` } });
  await services.create(NS, { metadata: { name: 'outside' }, spec: { type: 'ExternalName', externalName: 'example.test' } });
  const slices = client.resource(RESOURCES.endpointSlices);
  await slices.create(NS, slice('db-1', 'db', [
    { addresses: ['10.42.7.11'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.42.7.12'], conditions: { ready: true } },
    { addresses: ['10.42.7.13'], conditions: { ready: false } },
  ], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  await slices.create(NS, slice('web-1', 'web', [{ addresses: ['10.42.7.21'], conditions: { ready: true } }], [{ name: 'http', port: 8080, protocol: 'TCP' }]));
  dns = await startClusterDns({ client, config, port: 0, bindAddress: '127.0.0.1', upstreams: [`127.0.0.1:${upstream.port}`] });
});

after(async () => {
  await dns?.stop();
  await upstream?.stop();
  await cluster?.stop();
});

describe('cluster DNS', () => {
  it('answers a ClusterIP service with its ClusterIP, authoritatively, TTL 5, over UDP and TCP', async () => {
    for (const query of [udp, tcp]) {
      const response = await query(`web.${NS}.svc.${ZONE}`, 'A');
      assert.equal(response.rcode, 'NOERROR');
      assert.equal(response.flag_aa, true);
      assert.deepEqual(data(response, 'A'), [webIp]);
      assert.equal(response.answers![0].name, `web.${NS}.svc.${ZONE}`);
      assert.equal((response.answers![0] as { ttl: number }).ttl, 5);
    }
  });

  it('answers AAAA for an IPv4-only service with NOERROR, no answer and the SOA', async () => {
    const response = await udp(`web.${NS}.svc.${ZONE}`, 'AAAA');
    assert.equal(response.rcode, 'NOERROR');
    assert.equal(response.answers!.length, 0);
    assert.equal(response.authorities![0].type, 'SOA');
  });

  it('answers a headless service with one A per ready endpoint', async () => {
    const response = await udp(`db.${NS}.svc.${ZONE}`, 'A');
    assert.deepEqual(data(response, 'A').sort(), ['10.42.7.11', '10.42.7.12']);
  });

  it('answers SRV for named ports, per endpoint for headless services', async () => {
    const clusterIp = await tcp(`_http._tcp.web.${NS}.svc.${ZONE}`, 'SRV');
    assert.deepEqual(data(clusterIp, 'SRV'), [{ priority: 0, weight: 100, port: 80, target: `web.${NS}.svc.${ZONE}` }]);
    assert.deepEqual(data(clusterIp, 'A'), []);
    assert.deepEqual(clusterIp.additionals!.filter((a) => a.type === 'A').map((a) => (a as { data: string }).data), [webIp]);

    const headless = await udp(`_pg._tcp.db.${NS}.svc.${ZONE}`, 'SRV');
    const targets = data(headless, 'SRV') as { port: number; target: string; weight: number }[];
    assert.deepEqual(targets.map((t) => t.target).sort(), [`10-42-7-12.db.${NS}.svc.${ZONE}`, `db-0.db.${NS}.svc.${ZONE}`]);
    assert.ok(targets.every((t) => t.port === 5432 && t.weight === 50));
    const unknownPort = await udp(`_nope._tcp.db.${NS}.svc.${ZONE}`, 'SRV');
    assert.equal(unknownPort.rcode, 'NXDOMAIN');
  });

  it('answers endpoint names (hostname or dashed IP) of a service', async () => {
    assert.deepEqual(data(await udp(`db-0.db.${NS}.svc.${ZONE}`, 'A'), 'A'), ['10.42.7.11']);
    assert.deepEqual(data(await udp(`10-42-7-12.db.${NS}.svc.${ZONE}`, 'A'), 'A'), ['10.42.7.12']);
    assert.equal((await udp(`10-42-7-13.db.${NS}.svc.${ZONE}`, 'A')).rcode, 'NXDOMAIN', 'unready endpoints have no record');
  });

  it('answers ExternalName with a CNAME, chasing in-cluster targets here and others upstream', async () => {
    const inCluster = await udp(`alias.${NS}.svc.${ZONE}`, 'A');
    assert.deepEqual(data(inCluster, 'CNAME'), [`web.${NS}.svc.${ZONE}`]);
    assert.deepEqual(data(inCluster, 'A'), [webIp]);
    const outside = await tcp(`outside.${NS}.svc.${ZONE}`, 'A');
    assert.deepEqual(data(outside, 'CNAME'), ['example.test']);
    assert.deepEqual(data(outside, 'A'), ['192.0.2.1']);
    assert.deepEqual(data(await udp(`outside.${NS}.svc.${ZONE}`, 'CNAME'), 'CNAME'), ['example.test']);
  });

  it('answers PTR for ClusterIPs and endpoint IPs', async () => {
    const reverse = (ip: string) => `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
    assert.deepEqual(data(await udp(reverse(webIp), 'PTR'), 'PTR'), [`web.${NS}.svc.${ZONE}`]);
    assert.deepEqual(data(await udp(reverse('10.42.7.11'), 'PTR'), 'PTR'), [`db-0.db.${NS}.svc.${ZONE}`]);
    assert.deepEqual(data(await udp(reverse('10.42.7.21'), 'PTR'), 'PTR'), [`10-42-7-21.web.${NS}.svc.${ZONE}`]);
  });

  it('answers pod A records from the name, only in existing namespaces', async () => {
    assert.deepEqual(data(await udp(`10-42-0-5.${NS}.pod.${ZONE}`, 'A'), 'A'), ['10.42.0.5']);
    assert.equal((await udp(`10-42-0-5.no-such-ns.pod.${ZONE}`, 'A')).rcode, 'NXDOMAIN');
    assert.equal((await udp(`not-an-ip.${NS}.pod.${ZONE}`, 'A')).rcode, 'NXDOMAIN');
  });

  it('answers NXDOMAIN with the SOA for unknown names in the cluster domain', async () => {
    for (const name of [`nothing.${NS}.svc.${ZONE}`, `web.no-such-ns.svc.${ZONE}`, `web.${NS}.nope.${ZONE}`]) {
      const response = await udp(name, 'A');
      assert.equal(response.rcode, 'NXDOMAIN', name);
      const soa = response.authorities![0] as { type: string; name: string; data: { mname: string; minimum: number } };
      assert.equal(soa.type, 'SOA');
      assert.equal(soa.name, ZONE);
      assert.equal(soa.data.mname, `ns.dns.${ZONE}`);
      assert.equal(soa.data.minimum, 5);
    }
    // A namespace name alone exists (NODATA), the zone apex has an SOA.
    assert.equal((await udp(`${NS}.svc.${ZONE}`, 'A')).rcode, 'NOERROR');
    assert.equal(data(await udp(ZONE, 'SOA'), 'SOA').length, 1);
  });

  it('resolves kubernetes.default through the search path to the API server service', async () => {
    const kubernetes = await client.resource(RESOURCES.services).get('default', 'kubernetes');
    // A pod in namespace dns-test with ndots:5 tries <name>.<ns>.svc.<zone>, then <name>.svc.<zone>.
    assert.equal((await udp(`kubernetes.default.${NS}.svc.${ZONE}`, 'A')).rcode, 'NXDOMAIN');
    const response = await udp(`kubernetes.default.svc.${ZONE}`, 'A');
    assert.deepEqual(data(response, 'A'), [(kubernetes.spec as { clusterIP: string }).clusterIP]);
  });

  it('is case-insensitive and keeps the asked case in the answer', async () => {
    const response = await udp(`Web.${NS.toUpperCase()}.svc.Cluster.Local`, 'A');
    assert.deepEqual(data(response, 'A'), [webIp]);
    assert.equal(response.answers![0].name, `Web.${NS.toUpperCase()}.svc.Cluster.Local`);
  });

  it('forwards other names to the upstream, over UDP and TCP, retrying truncated answers over TCP', async () => {
    const asked = () => upstream.queries.filter((q) => q.endsWith(' example.test A')).length;
    const before = asked();
    assert.deepEqual(data(await udp('example.test', 'A'), 'A'), ['192.0.2.1']);
    assert.deepEqual(data(await tcp('example.test', 'A'), 'A'), ['192.0.2.1']);
    assert.equal(asked(), before + 1, 'the second answer came from the cache');
    assert.equal((await udp('missing.test', 'A')).rcode, 'NXDOMAIN');
    const big = await udp('big.test', 'A', 4096);
    assert.equal(big.flag_tc, false);
    assert.equal(data(big, 'A').length, 60);
    assert.ok(upstream.queries.includes('udp big.test A') && upstream.queries.includes('tcp big.test A'));
    // Without EDNS the client's buffer is 512 bytes: it gets the truncated answer and asks again over TCP.
    const small = await udp('big.test', 'A');
    assert.equal(small.flag_tc, true);
    assert.equal(data(await tcp('big.test', 'A'), 'A').length, 60);
  });

  it('follows endpoint changes', async () => {
    const slices = client.resource(RESOURCES.endpointSlices);
    const current = await slices.get(NS, 'db-1');
    const endpoints = (current.endpoints as { conditions: { ready: boolean } }[]).map((e) => ({ ...e, conditions: { ready: true } }));
    await slices.update(NS, { ...current, endpoints });
    await waitFor(async () => data(await udp(`db.${NS}.svc.${ZONE}`, 'A'), 'A').length === 3 || undefined, 'the third endpoint in DNS');
    await client.resource(RESOURCES.services).delete(NS, 'db');
    await waitFor(async () => (await udp(`db.${NS}.svc.${ZONE}`, 'A')).rcode === 'NXDOMAIN' || undefined, 'the deleted service gone from DNS');
  });

  it('publishes the kube-dns Service with endpoints at the DNS server', async () => {
    // Endpoint addresses may not be loopback (API validation); no traffic goes to this one.
    const nodeIp = '192.168.77.10';
    await ensureDnsService(client, config, dns.port, nodeIp);
    await ensureDnsService(client, config, dns.port, nodeIp); // idempotent
    const service = await client.resource(RESOURCES.services).get('kube-system', 'kube-dns');
    const spec = service.spec as { clusterIP: string; selector?: unknown; ports: { name: string; port: number; protocol: string }[] };
    assert.equal(spec.clusterIP, config.clusterDns);
    assert.equal(spec.selector, undefined);
    assert.deepEqual(spec.ports.map((p) => `${p.name}/${p.port}/${p.protocol}`), ['dns/53/UDP', 'dns-tcp/53/TCP', 'metrics/9153/TCP']);
    assert.equal(service.metadata.labels?.['k8s-app'], 'kube-dns');
    const slices = await client.resource(RESOURCES.endpointSlices).list('kube-system', { labelSelector: 'kubernetes.io/service-name=kube-dns' });
    assert.equal(slices.items.length, 1);
    assert.deepEqual((slices.items[0].endpoints as { addresses: string[] }[])[0].addresses, [nodeIp]);
    assert.ok((slices.items[0].ports as { port: number }[]).every((p) => p.port === dns.port));
    const endpoints = await client.resource(RESOURCES.endpoints).get('kube-system', 'kube-dns');
    assert.equal((endpoints.subsets as { addresses: { ip: string }[] }[])[0].addresses[0].ip, nodeIp);
    // And cluster DNS answers its own name.
    await waitFor(async () => data(await udp(`kube-dns.kube-system.svc.${ZONE}`, 'A'), 'A')[0] === config.clusterDns || undefined, 'kube-dns in DNS');
  });
});
