/**
 * Which Ingresses the controller serves (class name, legacy annotation,
 * default class), which certificate an SNI name gets, and where a backend
 * leads (named ports, readiness, several slices, round robin).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { ClassFilter, INGRESS_CONTROLLER_NAME } from './ingress-class.js';
import { TlsStore } from './tls-store.js';
import { BackendResolver } from './backends.js';
import { selfSignedCertificate } from './self-signed.js';

/** An informer stand-in holding fixed objects (only get/list are used by these classes). */
function fixedInformer(objects: KubeObject[]): Informer {
  const byKey = new Map(objects.map((o) => [`${o.metadata.namespace}/${o.metadata.name}`, o]));
  return { get: (key: string) => byKey.get(key), list: () => objects } as unknown as Informer;
}

const ingressClass = (name: string, controller: string, isDefault = false): KubeObject => ({
  metadata: { name, annotations: isDefault ? { 'ingressclass.kubernetes.io/is-default-class': 'true' } : {} },
  spec: { controller },
});
const ingress = (spec: Record<string, unknown>, annotations: Record<string, string> = {}): KubeObject => ({ metadata: { name: 'i', namespace: 'ns', annotations }, spec });

describe('ingress class selection', () => {
  it('serves its classes, and class-less Ingresses only while one of its classes is the default', () => {
    const filter = new ClassFilter();
    filter.update([ingressClass('pilote', INGRESS_CONTROLLER_NAME, true), ingressClass('nginx', 'k8s.io/ingress-nginx')]);
    assert.equal(filter.serves(ingress({ ingressClassName: 'pilote' })), true);
    assert.equal(filter.serves(ingress({ ingressClassName: 'nginx' })), false);
    assert.equal(filter.serves(ingress({}, { 'kubernetes.io/ingress.class': 'nginx' })), false);
    assert.equal(filter.serves(ingress({}, { 'kubernetes.io/ingress.class': 'pilote' })), true);
    assert.equal(filter.serves(ingress({})), true);
    filter.update([ingressClass('pilote', INGRESS_CONTROLLER_NAME), ingressClass('nginx', 'k8s.io/ingress-nginx', true)]);
    assert.equal(filter.serves(ingress({})), false);
    assert.equal(filter.serves(ingress({ ingressClassName: 'missing' })), false);
  });
});

describe('TLS certificate selection', () => {
  it('maps exact and wildcard hosts to Secrets, oldest Ingress first', async () => {
    const fallback = await selfSignedCertificate(['fallback.test']);
    const store = new TlsStore(fixedInformer([]), fallback);
    const tls = (name: string, created: string, hosts: string[], secretName: string): KubeObject => ({
      metadata: { name, namespace: 'ns', creationTimestamp: created },
      spec: { tls: [{ hosts, secretName }] },
    });
    store.update([tls('young', '2026-02-01T00:00:00Z', ['a.test'], 'young'), tls('old', '2026-01-01T00:00:00Z', ['a.test', '*.w.test'], 'old')]);
    assert.equal(store.secretFor('A.test'), 'ns/old');
    assert.equal(store.secretFor('x.w.test'), 'ns/old');
    assert.equal(store.secretFor('w.test'), undefined);
    assert.equal(store.secretFor('y.x.w.test'), undefined);
    // A named Secret that does not exist: the fallback certificate.
    assert.equal(store.contextFor('a.test'), store.fallback);
  });
});

describe('backend targets', () => {
  it('resolves the Service port by name or number to the slice port of the same name, ready endpoints only, in rotation', () => {
    const service: KubeObject = { metadata: { namespace: 'ns', name: 'web' }, spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'admin', port: 81, protocol: 'TCP' }] } };
    const resolver = new BackendResolver(fixedInformer([service]));
    const slice = (name: string, addresses: [string, boolean][], ports: { name: string; port: number }[]): KubeObject => ({
      metadata: { namespace: 'ns', name, labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: addresses.map(([ip, ready]) => ({ addresses: [ip], conditions: { ready } })),
      ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
    });
    resolver.upsertSlice(slice('web-1', [['10.42.0.1', true], ['10.42.0.2', false]], [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }]));
    resolver.upsertSlice(slice('web-2', [['10.42.0.3', true]], [{ name: 'http', port: 8081 }]));
    const ref = (port: { number?: number; name?: string }) => ({ namespace: 'ns', service: 'web', port });
    assert.deepEqual(resolver.targets(ref({ name: 'http' })), [{ host: '10.42.0.1', port: 8080 }, { host: '10.42.0.3', port: 8081 }]);
    assert.deepEqual(resolver.targets(ref({ number: 81 })), [{ host: '10.42.0.1', port: 9090 }]);
    assert.equal(resolver.targets(ref({ number: 82 })), 'no-port');
    assert.equal(resolver.targets({ namespace: 'ns', service: 'nope', port: { number: 80 } }), 'no-service');
    const first = resolver.rotation(ref({ number: 80 })) as { host: string }[];
    const second = resolver.rotation(ref({ number: 80 })) as { host: string }[];
    assert.notEqual(first[0].host, second[0].host);
    resolver.deleteSlice(slice('web-1', [], []));
    resolver.deleteSlice(slice('web-2', [], []));
    assert.equal(resolver.rotation(ref({ number: 80 })), 'no-endpoints');
  });

  it('follows an ExternalName Service naming a Service of the cluster to its endpoints; other names are connected to by name', () => {
    const services: KubeObject[] = [
      { metadata: { namespace: 'backend', name: 'db' }, spec: { ports: [{ name: 'sql', port: 5432, protocol: 'TCP' }] } },
      { metadata: { namespace: 'ns', name: 'alias' }, spec: { type: 'ExternalName', externalName: 'db.backend.svc.cluster.local.', ports: [{ port: 5432 }] } },
      { metadata: { namespace: 'ns', name: 'outside' }, spec: { type: 'ExternalName', externalName: 'db.example.com', ports: [{ port: 443 }] } },
      { metadata: { namespace: 'ns', name: 'loop' }, spec: { type: 'ExternalName', externalName: 'loop.ns.svc.cluster.local' } },
    ];
    const resolver = new BackendResolver(fixedInformer(services), 'cluster.local');
    resolver.upsertSlice({
      metadata: { namespace: 'backend', name: 'db-1', labels: { 'kubernetes.io/service-name': 'db' } },
      endpoints: [{ addresses: ['10.42.0.7'], conditions: { ready: true } }],
      ports: [{ name: 'sql', port: 15432, protocol: 'TCP' }],
    } as KubeObject);
    assert.deepEqual(resolver.targets({ namespace: 'ns', service: 'alias', port: { number: 5432 } }), [{ host: '10.42.0.7', port: 15432 }]);
    assert.deepEqual(resolver.targets({ namespace: 'ns', service: 'outside', port: { number: 443 } }), [{ host: 'db.example.com', port: 443 }]);
    assert.equal(resolver.targets({ namespace: 'ns', service: 'loop', port: { number: 80 } }), 'no-service');
  });
});
