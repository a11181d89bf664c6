/**
 * The pod-template-hash against values real clusters produced: the tutorial's
 * Redis Deployments on Kubernetes 1.19 (redis-68d544cd59, redis-5f7d7d959f,
 * redis-d8c6dcd54), the Kubernetes docs' nginx-deployment-66b6c48dd5 and
 * -559d658b74 (1.19-era), and nginx-deployment-647677fc66, what current
 * clusters (1.2x–1.3x) name the docs' nginx:1.14.2 Deployment.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPodTemplateSpec } from '../../api/defaults.js';
import { computePodTemplateHash, quantityStruct, safeEncodeString, spewPodTemplate } from './hash.js';
import { GO_TYPES_V0_19 } from './go-types/v0_19.js';

/** A template as the API server stores it (defaults applied). */
function stored(template: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(template);
  defaultPodTemplateSpec(copy);
  return copy;
}

const redis = (image: string) =>
  stored({
    metadata: { labels: { app: 'redis' } },
    spec: { containers: [{ name: 'redis', image, resources: { limits: { memory: '128Mi', cpu: '500m' } }, ports: [{ containerPort: 6379 }] }] },
  });

const nginx = (image: string) =>
  stored({ metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] } });

describe('pod-template-hash', () => {
  it('matches Kubernetes 1.19 (the tutorial and the docs) with 1.19 Go types', () => {
    assert.equal(computePodTemplateHash(redis('redis:5.0.12-alpine'), undefined, GO_TYPES_V0_19), '68d544cd59');
    assert.equal(computePodTemplateHash(redis('redis:6-alpine'), undefined, GO_TYPES_V0_19), '5f7d7d959f');
    assert.equal(computePodTemplateHash(redis('redis:alpine'), undefined, GO_TYPES_V0_19), 'd8c6dcd54');
    assert.equal(computePodTemplateHash(nginx('nginx:1.14.2'), undefined, GO_TYPES_V0_19), '66b6c48dd5');
    assert.equal(computePodTemplateHash(nginx('nginx:1.16.1'), undefined, GO_TYPES_V0_19), '559d658b74');
  });

  it('matches current clusters with the 1.32 Go types (the default)', () => {
    assert.equal(computePodTemplateHash(nginx('nginx:1.14.2')), '647677fc66');
  });

  it('changes with collisionCount, and is deterministic', () => {
    const t = nginx('nginx:1.14.2');
    assert.equal(computePodTemplateHash(t), computePodTemplateHash(structuredClone(t)));
    assert.notEqual(computePodTemplateHash(t, 0), computePodTemplateHash(t));
    assert.notEqual(computePodTemplateHash(t, 1), computePodTemplateHash(t, 0));
    assert.match(computePodTemplateHash(t, 7), /^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  it('prints Go structs as go-spew does (types, zero fields, nil, sorted maps)', () => {
    const text = spewPodTemplate(redis('redis:6-alpine'), GO_TYPES_V0_19);
    assert.ok(text.startsWith('(v1.PodTemplateSpec){ObjectMeta:(v1.ObjectMeta){Name:(string) GenerateName:(string) '));
    assert.ok(text.includes('CreationTimestamp:(v1.Time){Time:(time.Time){wall:(uint64)0 ext:(int64)0 loc:(*time.Location)<nil>}}'));
    assert.ok(text.includes('Labels:(map[string]string)map[app:redis] Annotations:(map[string]string)<nil>'));
    assert.ok(text.includes('Limits:(v1.ResourceList)map[cpu:{i:(resource.int64Amount){value:(int64)500 scale:(resource.Scale)-3} d:(resource.infDecAmount){Dec:(*inf.Dec)<nil>} s:(string)500m Format:(resource.Format)DecimalSI} memory:{'));
    assert.ok(text.includes('TerminationGracePeriodSeconds:(*int64)30 '));
    assert.ok(text.includes('SecurityContext:(*v1.PodSecurityContext){SELinuxOptions:(*v1.SELinuxOptions)<nil> '));
  });

  it('parses quantities as resource.ParseQuantity (cached string only when canonical)', () => {
    assert.deepEqual(quantityStruct('500m'), { i: { value: 500n, scale: -3 }, d: { Dec: null }, s: '500m', Format: 'DecimalSI' });
    assert.deepEqual(quantityStruct('128Mi'), { i: { value: 134217728n, scale: 0 }, d: { Dec: null }, s: '', Format: 'BinarySI' });
    assert.deepEqual(quantityStruct('100Mi'), { i: { value: 104857600n, scale: 0 }, d: { Dec: null }, s: '100Mi', Format: 'BinarySI' });
    assert.deepEqual(quantityStruct('1'), { i: { value: 1n, scale: 0 }, d: { Dec: null }, s: '1', Format: 'DecimalSI' });
    assert.deepEqual(quantityStruct('1000'), { i: { value: 1000n, scale: 0 }, d: { Dec: null }, s: '', Format: 'DecimalSI' });
    assert.deepEqual(quantityStruct('0'), { i: { value: 0n, scale: 0 }, d: { Dec: null }, s: '0', Format: 'DecimalSI' });
    assert.equal(quantityStruct('1.5Gi').d.Dec?.scale, 9);
  });

  it('encodes like rand.SafeEncodeString', () => {
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
  });
});
