/**
 * The resolver on a hand-built cluster view: record shapes, NXDOMAIN versus
 * NODATA, wildcards, IPv6, reverse names, and index updates.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../../apimachinery/types.js';
import { ClusterView } from './cluster-view.js';
import { ClusterResolver, RCODE, reverseNameToIp, type Resolution } from './resolver.js';

const ZONE = 'cluster.local';

function service(namespace: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { metadata: { namespace, name, resourceVersion: '1' }, spec };
}
function slice(namespace: string, name: string, serviceName: string, endpoints: unknown[], ports: unknown[] = []): KubeObject {
  return { metadata: { namespace, name, labels: { 'kubernetes.io/service-name': serviceName } }, addressType: 'IPv4', endpoints, ports };
}

function setup(): { view: ClusterView; resolver: ClusterResolver } {
  const view = new ClusterView(ZONE);
  for (const ns of ['default', 'apps']) view.upsertNamespace({ metadata: { name: ns } });
  view.upsertService(service('apps', 'web', { clusterIP: '10.43.1.1', clusterIPs: ['10.43.1.1'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }] }));
  view.upsertService(service('apps', 'dual', { clusterIP: '10.43.1.2', clusterIPs: ['10.43.1.2', 'fd00::2'], ports: [{ name: 'http', port: 80 }] }));
  view.upsertService(service('apps', 'db', { clusterIP: 'None', ports: [] }));
  view.upsertSlice(slice('apps', 'db-a', 'db', [{ addresses: ['10.42.0.7'], hostname: 'db-0' }, { addresses: ['10.42.0.8'], conditions: { ready: false } }]));
  view.upsertSlice(slice('apps', 'db-b', 'db', [{ addresses: ['10.42.0.9'] }, { addresses: ['10.42.0.7'], hostname: 'db-0' }]));
  return { view, resolver: new ClusterResolver(view, ZONE, '10.43.0.10') };
}

function answered(resolution: Resolution): Extract<Resolution, { kind: 'answer' }> {
  assert.equal(resolution.kind, 'answer');
  return resolution as Extract<Resolution, { kind: 'answer' }>;
}
const values = (answers: Answer[], type: string) => answers.filter((a) => a.type === type).map((a) => (a as { data: unknown }).data);

describe('cluster DNS resolver', () => {
  it('gives headless services one record per ready address, without duplicates across slices', () => {
    const { resolver } = setup();
    const r = answered(resolver.resolve(`db.apps.svc.${ZONE}`, 'A'));
    assert.deepEqual(values(r.answers, 'A').sort(), ['10.42.0.7', '10.42.0.9']);
  });

  it('answers AAAA from IPv6 ClusterIPs and A from IPv4 ones', () => {
    const { resolver } = setup();
    assert.deepEqual(values(answered(resolver.resolve(`dual.apps.svc.${ZONE}`, 'AAAA')).answers, 'AAAA'), ['fd00::2']);
    assert.deepEqual(values(answered(resolver.resolve(`dual.apps.svc.${ZONE}`, 'A')).answers, 'A'), ['10.43.1.2']);
  });

  it('tells NODATA from NXDOMAIN', () => {
    const { resolver } = setup();
    const rcode = (name: string, type: 'A' | 'TXT' | 'MX' = 'A') => answered(resolver.resolve(name, type)).rcode;
    assert.equal(rcode(`web.apps.svc.${ZONE}`, 'TXT'), RCODE.NOERROR);
    assert.equal(rcode(`web.apps.svc.${ZONE}`, 'MX'), RCODE.NOERROR);
    assert.equal(rcode(`svc.${ZONE}`), RCODE.NOERROR);
    assert.equal(rcode(`apps.svc.${ZONE}`), RCODE.NOERROR);
    assert.equal(rcode(`nope.svc.${ZONE}`), RCODE.NXDOMAIN);
    assert.equal(rcode(`a.b.c.web.apps.svc.${ZONE}`), RCODE.NXDOMAIN);
    assert.equal(rcode(`web.apps.foo.${ZONE}`), RCODE.NXDOMAIN);
    assert.equal(rcode(`_http._udp.web.apps.svc.${ZONE}`), RCODE.NXDOMAIN);
  });

  it('answers SRV for every port without a port label, and for the unnamed one by wildcard', () => {
    const { resolver } = setup();
    const all = answered(resolver.resolve(`web.apps.svc.${ZONE}`, 'SRV'));
    assert.deepEqual((values(all.answers, 'SRV') as { port: number }[]).map((s) => s.port).sort(), [53, 80]);
    const udp = answered(resolver.resolve(`_*._udp.web.apps.svc.${ZONE}`, 'SRV'));
    assert.deepEqual((values(udp.answers, 'SRV') as { port: number }[]).map((s) => s.port), [53]);
  });

  it('supports wildcard service names in a namespace', () => {
    const { resolver } = setup();
    const r = answered(resolver.resolve(`*.apps.svc.${ZONE}`, 'A'));
    assert.ok(values(r.answers, 'A').includes('10.43.1.1'));
    assert.equal(answered(resolver.resolve(`any.default.svc.${ZONE}`, 'A')).rcode, RCODE.NOERROR, 'an empty wildcard is NODATA');
  });

  it('serves zone records: SOA, NS, ns.dns, dns-version', () => {
    const { resolver } = setup();
    assert.equal(answered(resolver.resolve(ZONE, 'SOA')).answers[0].type, 'SOA');
    const ns = answered(resolver.resolve(ZONE, 'NS'));
    assert.deepEqual(values(ns.answers, 'NS'), [`ns.dns.${ZONE}`]);
    assert.deepEqual(values(ns.additionals, 'A'), ['10.43.0.10']);
    assert.deepEqual(values(answered(resolver.resolve(`dns-version.${ZONE}`, 'TXT')).answers, 'TXT'), ['1.1.0']);
  });

  it('answers pod names including IPv6 ones', () => {
    const { resolver } = setup();
    assert.deepEqual(values(answered(resolver.resolve(`fd00--1.apps.pod.${ZONE}`, 'AAAA')).answers, 'AAAA'), ['fd00::1']);
    assert.equal(answered(resolver.resolve(`10-42-0-1.apps.pod.${ZONE}`, 'AAAA')).rcode, RCODE.NOERROR);
  });

  it('forwards names outside the zone and unknown reverse names, SERVFAILs before sync', () => {
    const { view } = setup();
    const resolver = new ClusterResolver(view, ZONE, '10.43.0.10', () => false);
    assert.equal(resolver.resolve('example.com', 'A').kind, 'forward');
    assert.equal(resolver.resolve('4.3.2.1.in-addr.arpa', 'PTR').kind, 'forward');
    assert.equal(answered(resolver.resolve(`web.apps.svc.${ZONE}`, 'A')).rcode, RCODE.SERVFAIL);
  });

  it('keeps reverse names in step with updates and deletes', () => {
    const { view, resolver } = setup();
    assert.deepEqual(view.reverseNames('10.42.0.7'), [`db-0.db.apps.svc.${ZONE}`]);
    view.deleteSlice(slice('apps', 'db-a', 'db', []));
    assert.deepEqual(view.reverseNames('10.42.0.7'), [`db-0.db.apps.svc.${ZONE}`], 'still listed in db-b');
    view.deleteSlice(slice('apps', 'db-b', 'db', []));
    assert.deepEqual(view.reverseNames('10.42.0.7'), []);
    view.upsertService(service('apps', 'web', { clusterIP: '10.43.1.5', clusterIPs: ['10.43.1.5'], ports: [{ name: 'http', port: 80 }] }));
    assert.deepEqual(view.reverseNames('10.43.1.1'), []);
    assert.deepEqual(values(answered(resolver.resolve('5.1.43.10.in-addr.arpa', 'PTR')).answers, 'PTR'), [`web.apps.svc.${ZONE}`]);
    view.deleteService(service('apps', 'web', {}));
    assert.equal(resolver.resolve('5.1.43.10.in-addr.arpa', 'PTR').kind, 'forward');
  });

  it('parses reverse names', () => {
    assert.equal(reverseNameToIp('4.3.2.1.in-addr.arpa'), '1.2.3.4');
    assert.equal(reverseNameToIp('3.2.1.in-addr.arpa'), undefined);
    const nibbles = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
    assert.equal(reverseNameToIp(nibbles), 'fd00::2');
  });
});
