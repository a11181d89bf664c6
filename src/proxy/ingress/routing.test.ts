/**
 * Ingress matching rules (host exact/wildcard, Exact/Prefix paths,
 * precedence, default backend), with the examples of the Ingress API docs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apimachinery/types.js';
import { RouteTable, normalizeHost, tlsHosts } from './routing.js';

let counter = 0;
function ingress(spec: unknown, name = `ing-${++counter}`, created = `2026-01-01T00:00:${String(counter).padStart(2, '0')}Z`): KubeObject {
  return { metadata: { name, namespace: 'ns', creationTimestamp: created }, spec };
}
const path = (p: string, pathType: string, service: string) => ({ path: p, pathType, backend: { service: { name: service, port: { number: 80 } } } });
const serviceOf = (table: RouteTable, host: string | undefined, url: string) => table.match(host, url)?.backend?.service;

describe('ingress routing', () => {
  it('matches Prefix paths element by element, ignoring a trailing slash', () => {
    const table = new RouteTable([ingress({ rules: [{ host: 'a.test', http: { paths: [path('/foo', 'Prefix', 'foo'), path('/aaa/bbb/', 'Prefix', 'ab')] } }] })]);
    assert.equal(serviceOf(table, 'a.test', '/foo'), 'foo');
    assert.equal(serviceOf(table, 'a.test', '/foo/'), 'foo');
    assert.equal(serviceOf(table, 'a.test', '/foo/bar?x=1'), 'foo');
    assert.equal(serviceOf(table, 'a.test', '/foobar'), undefined);
    assert.equal(serviceOf(table, 'a.test', '/aaa/bbb'), 'ab');
    assert.equal(serviceOf(table, 'a.test', '/aaa/bbbxyz'), undefined);
    assert.equal(serviceOf(table, 'a.test', '/aaa/bbb/ccc'), 'ab');
  });

  it('matches Exact paths exactly and case-sensitively', () => {
    const table = new RouteTable([ingress({ rules: [{ host: 'a.test', http: { paths: [path('/foo', 'Exact', 'exact')] } }] })]);
    assert.equal(serviceOf(table, 'a.test', '/foo'), 'exact');
    assert.equal(serviceOf(table, 'a.test', '/foo/'), undefined);
    assert.equal(serviceOf(table, 'a.test', '/FOO'), undefined);
  });

  it('prefers the longest path, then Exact over Prefix, then the oldest Ingress', () => {
    const table = new RouteTable([
      ingress({ rules: [{ host: 'a.test', http: { paths: [path('/', 'Prefix', 'root'), path('/foo', 'Prefix', 'prefix'), path('/foo/bar', 'ImplementationSpecific', 'deep')] } }] }),
      ingress({ rules: [{ host: 'a.test', http: { paths: [path('/foo', 'Exact', 'exact'), path('/foo/bar', 'Prefix', 'younger')] } }] }),
    ]);
    assert.equal(serviceOf(table, 'a.test', '/foo'), 'exact');
    assert.equal(serviceOf(table, 'a.test', '/foo/x'), 'prefix');
    assert.equal(serviceOf(table, 'a.test', '/foo/bar/baz'), 'deep');
    assert.equal(serviceOf(table, 'a.test', '/other'), 'root');
  });

  it('matches hosts exactly (port and case ignored), wildcards one label deep, host-less rules last', () => {
    const table = new RouteTable([
      ingress({
        rules: [
          { host: 'foo.bar.com', http: { paths: [path('/', 'Prefix', 'exact-host')] } },
          { host: '*.bar.com', http: { paths: [path('/', 'Prefix', 'wildcard')] } },
          { http: { paths: [path('/any', 'Prefix', 'any-host')] } },
        ],
      }),
    ]);
    assert.equal(serviceOf(table, 'FOO.bar.com:8080', '/'), 'exact-host');
    assert.equal(serviceOf(table, 'baz.bar.com', '/'), 'wildcard');
    assert.equal(serviceOf(table, 'bar.com', '/'), undefined);
    assert.equal(serviceOf(table, 'x.baz.bar.com', '/'), undefined);
    assert.equal(serviceOf(table, 'x.baz.bar.com', '/any/thing'), 'any-host');
    assert.equal(serviceOf(table, undefined, '/any'), 'any-host');
  });

  it('sends unmatched requests to the oldest defaultBackend, else nowhere', () => {
    const older = ingress({ defaultBackend: { service: { name: 'fallback', port: { name: 'http' } } }, rules: [{ host: 'a.test', http: { paths: [path('/a', 'Prefix', 'a')] } }] });
    const younger = ingress({ defaultBackend: { service: { name: 'other', port: { number: 80 } } } });
    const table = new RouteTable([younger, older]);
    assert.equal(serviceOf(table, 'a.test', '/a'), 'a');
    assert.deepEqual(table.match('a.test', '/b')?.backend, { namespace: 'ns', service: 'fallback', port: { number: undefined, name: 'http' } });
    assert.equal(new RouteTable([]).match('a.test', '/'), undefined);
  });

  it('normalizes Host headers and lists TLS hosts', () => {
    assert.equal(normalizeHost('Example.COM:443'), 'example.com');
    assert.equal(normalizeHost('[::1]:80'), '[::1]');
    assert.equal(normalizeHost('a.test.'), 'a.test');
    const withTls = ingress({ tls: [{ hosts: ['a.test', '*.b.test'], secretName: 's1' }, { secretName: 's2' }], rules: [{ host: 'c.test' }] });
    assert.deepEqual(tlsHosts(withTls), [
      { host: 'a.test', secret: 'ns/s1' },
      { host: '*.b.test', secret: 'ns/s1' },
      { host: 'c.test', secret: 'ns/s2' },
    ]);
  });
});
