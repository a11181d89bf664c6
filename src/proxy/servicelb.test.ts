import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from 'kubernetes-types/core/v1.js';
import { desiredIngress, handledByServiceLB, SERVICELB_CLASS } from './servicelb.js';

const svc = (spec: Service['spec']): Service => ({ metadata: { name: 's', namespace: 'default' }, spec });

describe('ServiceLB', () => {
  it('gives a LoadBalancer of no class or ours the node IP as a VIP', () => {
    assert.deepEqual(desiredIngress(svc({ type: 'LoadBalancer' }), '192.0.2.2'), [{ ip: '192.0.2.2', ipMode: 'VIP' }]);
    assert.deepEqual(desiredIngress(svc({ type: 'LoadBalancer', loadBalancerClass: SERVICELB_CLASS }), '192.0.2.2'), [{ ip: '192.0.2.2', ipMode: 'VIP' }]);
  });

  it('leaves Services of another class alone and clears the address of other types', () => {
    assert.equal(handledByServiceLB(svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' })), false);
    assert.equal(desiredIngress(svc({ type: 'LoadBalancer', loadBalancerClass: 'example.com/lb' }), '192.0.2.2'), undefined);
    assert.deepEqual(desiredIngress(svc({ type: 'ClusterIP' }), '192.0.2.2'), []);
  });
});
