/** Requests and limits → CRI resources, and QoS classes as Kubernetes computes them. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { linuxContainerResources, milliCpuToQuota, milliCpuToShares, oomScoreAdjust, podQosClass, podSandboxResources } from './resources.js';

const pod = (containers: Container['resources'][], init: Container['resources'][] = []): Pod => ({
  metadata: { name: 'p' },
  spec: {
    containers: containers.map((resources, i) => ({ name: `c${i}`, resources })),
    initContainers: init.map((resources, i) => ({ name: `i${i}`, resources })),
  },
});

describe('QoS class', () => {
  it('is BestEffort without requests or limits', () => {
    assert.equal(podQosClass(pod([undefined, {}])), 'BestEffort');
    assert.equal(podQosClass(pod([{ requests: { cpu: '0' } }])), 'BestEffort');
  });
  it('is Guaranteed when every container has equal cpu and memory requests and limits', () => {
    const exact = { requests: { cpu: '500m', memory: '128Mi' }, limits: { cpu: '0.5', memory: '128Mi' } };
    assert.equal(podQosClass(pod([exact, exact])), 'Guaranteed');
    // Limits only (requests not defaulted from them yet): Burstable, as GetPodQOS says.
    assert.equal(podQosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }])), 'Burstable');
  });
  it('is Burstable otherwise', () => {
    assert.equal(podQosClass(pod([{ requests: { memory: '64Mi' } }])), 'Burstable');
    assert.equal(podQosClass(pod([{ requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '64Mi' } }])), 'Burstable');
    assert.equal(podQosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }, {}])), 'Burstable');
    assert.equal(podQosClass(pod([{ limits: { cpu: '1', memory: '1Gi' } }], [{ requests: { cpu: '100m' } }])), 'Burstable');
  });
});

describe('CRI resources', () => {
  it('converts millicores to shares and quota as the kubelet', () => {
    assert.equal(milliCpuToShares(0), 2);
    assert.equal(milliCpuToShares(1), 2);
    assert.equal(milliCpuToShares(250), 256);
    assert.equal(milliCpuToShares(1000), 1024);
    assert.equal(milliCpuToQuota(0), 0);
    assert.equal(milliCpuToQuota(5), 1000);
    assert.equal(milliCpuToQuota(500), 50_000);
  });
  it('applies the redis Deployment limits (memory 128Mi, cpu 500m)', () => {
    // As the API server stores it: requests defaulted from the limits.
    const p = pod([{ limits: { memory: '128Mi', cpu: '500m' }, requests: { memory: '128Mi', cpu: '500m' } }]);
    const r = linuxContainerResources(p.spec!.containers[0], p, 8 * 1024 ** 3);
    assert.equal(r.memoryLimitInBytes, 128 * 1024 * 1024);
    assert.equal(r.cpuQuota, 50_000);
    assert.equal(r.cpuPeriod, 100_000);
    assert.equal(r.cpuShares, 512);
    assert.equal(r.oomScoreAdj, 0, 'Guaranteed would be -997; this machine cannot go below 0');
  });
  it('scores OOM by QoS', () => {
    const best = pod([{}]);
    assert.equal(oomScoreAdjust(best, best.spec!.containers[0], 1000), 1000);
    const burst = pod([{ requests: { memory: '250' } }]);
    assert.equal(oomScoreAdjust(burst, burst.spec!.containers[0], 1000), 750);
    const huge = pod([{ requests: { memory: '999' } }]);
    assert.equal(oomScoreAdjust(huge, huge.spec!.containers[0], 1000), 3);
    const r = linuxContainerResources(burst.spec!.containers[0], burst, 1000);
    assert.equal(r.oomScoreAdj, 750);
    assert.equal(r.memoryLimitInBytes, undefined);
  });
});

describe('sandbox resources', () => {
  it('adds up containers, lets a bigger init container win, and stays unlimited when one container is', () => {
    const limited = pod(
      [{ requests: { cpu: '100m' }, limits: { cpu: '200m', memory: '64Mi' } }, { requests: { cpu: '300m' }, limits: { cpu: '300m', memory: '64Mi' } }],
      [{ requests: { cpu: '1' }, limits: { cpu: '1', memory: '32Mi' } }],
    );
    assert.deepEqual(podSandboxResources(limited), { cpuShares: 1024, cpuPeriod: 100_000, cpuQuota: 100_000, memoryLimitInBytes: 128 * 1024 * 1024 });
    const open = pod([{ limits: { cpu: '200m', memory: '64Mi' } }, {}]);
    assert.deepEqual(podSandboxResources(open), { cpuShares: 204, cpuPeriod: 100_000, cpuQuota: 0 });
  });
});
