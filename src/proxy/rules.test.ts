import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KubeObject } from '../apimachinery/types.js';
import { computeServiceRules, slicesFromEndpoints, usableEndpoints, RuleState, type ServiceRules } from './rules.js';
import { deleteTable, listTable, runNftScript } from './nftables.js';

const ctx = { clusterCidr: '10.42.0.0/16' };

function service(name: string, spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject {
  return {
    metadata: { namespace: 'default', name },
    spec: { type: 'ClusterIP', clusterIP: '10.43.0.20', clusterIPs: ['10.43.0.20'], ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
    status,
  };
}

type Ep = { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean };
function slice(name: string, svc: string, endpoints: Ep[], port = 8080, portName = 'http'): KubeObject {
  return {
    metadata: { namespace: 'default', name, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    ports: [{ name: portName, port, protocol: 'TCP' }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready, serving: e.serving, terminating: e.terminating } })),
  };
}

const chainNames = (rules: ServiceRules, prefix: string) => [...rules.chains.keys()].filter((c) => c.startsWith(prefix));

describe('usableEndpoints', () => {
  it('takes ready endpoints (unset conditions mean ready), once each, sorted', () => {
    const slices = [slice('a', 'web', [{ ip: '10.1.0.9' }, { ip: '10.1.0.10', ready: false }]), slice('b', 'web', [{ ip: '10.1.0.9' }, { ip: '10.1.0.2', ready: true }])];
    assert.deepEqual(usableEndpoints(slices, 'http', 'TCP'), [{ ip: '10.1.0.2', port: 8080 }, { ip: '10.1.0.9', port: 8080 }]);
  });

  it('falls back to serving and terminating endpoints only when none is ready', () => {
    const slices = [slice('a', 'web', [{ ip: '10.1.0.1', ready: false, serving: true, terminating: true }, { ip: '10.1.0.2', ready: false, serving: false, terminating: true }, { ip: '10.1.0.3', ready: false, serving: true }])];
    assert.deepEqual(usableEndpoints(slices, 'http', 'TCP'), [{ ip: '10.1.0.1', port: 8080 }]);
    slices.push(slice('b', 'web', [{ ip: '10.1.0.4', ready: true }]));
    assert.deepEqual(usableEndpoints(slices, 'http', 'TCP'), [{ ip: '10.1.0.4', port: 8080 }]);
  });

  it('matches the service port by name and protocol and ignores other address types', () => {
    const other = slice('a', 'web', [{ ip: '10.1.0.1' }], 9090, 'metrics');
    const v6 = { ...slice('b', 'web', [{ ip: 'fd00::1' }]), addressType: 'IPv6' };
    assert.deepEqual(usableEndpoints([other, v6], 'http', 'TCP'), []);
    assert.deepEqual(usableEndpoints([other], 'metrics', 'TCP'), [{ ip: '10.1.0.1', port: 9090 }]);
    assert.deepEqual(usableEndpoints([other], 'metrics', 'UDP'), []);
  });
});

describe('slicesFromEndpoints', () => {
  it('reads an Endpoints object as slices: addresses ready, notReadyAddresses not', () => {
    const endpoints = {
      metadata: { namespace: 'default', name: 'db' },
      subsets: [{ addresses: [{ ip: '192.0.2.7' }], notReadyAddresses: [{ ip: '192.0.2.8' }], ports: [{ name: 'pg', port: 5432 }] }],
    };
    const slices = slicesFromEndpoints(endpoints);
    assert.deepEqual(usableEndpoints(slices, 'pg', 'TCP'), [{ ip: '192.0.2.7', port: 5432 }]);
  });
});

describe('computeServiceRules', () => {
  it('gives headless and ExternalName services no rules', () => {
    for (const spec of [{ clusterIP: 'None', clusterIPs: ['None'] }, { type: 'ExternalName', externalName: 'db.example.com', clusterIP: undefined, clusterIPs: undefined }]) {
      const rules = computeServiceRules(service('x', spec), [slice('s', 'x', [{ ip: '10.1.0.1' }])], ctx);
      assert.equal(rules.chains.size + rules.elements.length, 0);
    }
  });

  it('balances a ClusterIP over its endpoints with numgen, one DNAT chain per endpoint', () => {
    const rules = computeServiceRules(service('web'), [slice('s', 'web', [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }])], ctx);
    const [svc] = chainNames(rules, 'svc-');
    assert.match(svc, /^svc-[0-9A-F]{10}-default\/web\/tcp\/http$/);
    const seps = chainNames(rules, 'sep-');
    assert.equal(seps.length, 2);
    const svcRules = rules.chains.get(svc)!;
    assert.equal(svcRules[0], 'ip daddr 10.43.0.20 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade');
    assert.equal(svcRules.at(-1), `numgen random mod 2 vmap { 0 : goto ${seps[0]}, 1 : goto ${seps[1]} }`);
    assert.deepEqual(rules.chains.get(seps[0]), ['ip saddr 10.1.0.1 jump mark-for-masquerade', 'meta l4proto tcp dnat to 10.1.0.1:8080']);
    assert.deepEqual(rules.elements, [
      { map: 'cluster-ips', key: '10.43.0.20', value: '' },
      { map: 'services', key: '10.43.0.20 . tcp . 80', value: `goto ${svc}` },
    ]);
  });

  it('sends NodePorts, external IPs and VIP load-balancer IPs (and localhost for a LoadBalancer) through a masquerading ext chain', () => {
    const svc = service(
      'lb',
      { type: 'LoadBalancer', externalIPs: ['192.0.2.50'], ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] },
      { loadBalancer: { ingress: [{ ip: '192.0.2.10', ipMode: 'VIP' }, { ip: '192.0.2.11', ipMode: 'Proxy' }, { hostname: 'lb.example.com' }] } },
    );
    const rules = computeServiceRules(svc, [slice('s', 'lb', [{ ip: '10.1.0.1' }])], ctx);
    const [ext] = chainNames(rules, 'ext-');
    const [svcChain] = chainNames(rules, 'svc-');
    assert.deepEqual(rules.chains.get(ext), ['jump mark-for-masquerade', `goto ${svcChain}`]);
    assert.equal(rules.chains.get(svcChain)!.at(-1), `goto ${chainNames(rules, 'sep-')[0]}`, 'one endpoint: no numgen');
    const keys = rules.elements.map((e) => `${e.map} ${e.key} ${e.value.split(' ')[1]?.slice(0, 3) ?? ''}`);
    assert.deepEqual(keys, [
      'cluster-ips 10.43.0.20 ',
      'services 10.43.0.20 . tcp . 80 svc',
      'services 192.0.2.50 . tcp . 80 ext',
      'services 192.0.2.10 . tcp . 80 ext',
      'services 127.0.0.1 . tcp . 80 ext',
      'nodeports tcp . 30080 ext',
    ]);
  });

  it('rejects through the no-endpoint maps when no endpoint is usable', () => {
    const svc = service('empty', { type: 'NodePort', ports: [{ port: 53, protocol: 'UDP', nodePort: 30053 }] });
    const rules = computeServiceRules(svc, [slice('s', 'empty', [{ ip: '10.1.0.1', ready: false }], 53, '')], ctx);
    assert.equal(rules.chains.size, 0);
    assert.deepEqual(rules.elements.slice(1), [
      { map: 'no-endpoint-services', key: '10.43.0.20 . udp . 53', value: 'goto reject-chain' },
      { map: 'no-endpoint-nodeports', key: 'udp . 30053', value: 'goto reject-chain' },
    ]);
    assert.deepEqual(rules.udp, [{ serviceIps: ['10.43.0.20'], port: 53, nodePort: 30053, endpointIps: [] }]);
  });

  it('keeps ClientIP affinity in one timed set per endpoint', () => {
    const svc = service('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
    const rules = computeServiceRules(svc, [slice('s', 'sticky', [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }])], ctx);
    assert.equal(rules.sets.size, 2);
    for (const body of rules.sets.values()) assert.equal(body, 'type ipv4_addr; flags dynamic,timeout; timeout 60s;');
    const [set] = rules.sets.keys();
    const [svcChain] = chainNames(rules, 'svc-');
    const [sep] = chainNames(rules, 'sep-');
    assert.ok(rules.chains.get(svcChain)!.includes(`ip saddr @${set} goto ${sep}`));
    assert.ok(rules.chains.get(sep)!.includes(`update @${set} { ip saddr }`));
    const defaulted = computeServiceRules(service('s2', { sessionAffinity: 'ClientIP' }), [slice('s', 's2', [{ ip: '10.1.0.1' }])], ctx);
    assert.match([...defaulted.sets.values()][0], /timeout 10800s/);
  });
});

describe('traffic policies', () => {
  const local = { clusterCidr: '10.42.0.0/16', nodeName: 'here' };
  const onNodes = (name: string) => {
    const s = slice('s', name, [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }]);
    (s.endpoints as { nodeName?: string }[])[0].nodeName = 'here';
    (s.endpoints as { nodeName?: string }[])[1].nodeName = 'there';
    return s;
  };

  it('internalTrafficPolicy Local sends ClusterIP traffic to this node\'s endpoints only, else drops it', () => {
    const rules = computeServiceRules(service('web', { internalTrafficPolicy: 'Local' }), [onNodes('web')], local);
    const [svl] = chainNames(rules, 'svl-');
    assert.equal(rules.chains.get(svl)!.at(-1), `goto ${chainNames(rules, 'sep-').find((c) => c.includes('10.1.0.1'))}`);
    assert.deepEqual(rules.elements.find((e) => e.map === 'services'), { map: 'services', key: '10.43.0.20 . tcp . 80', value: `goto ${svl}` });
    const elsewhere = computeServiceRules(service('web', { internalTrafficPolicy: 'Local' }), [onNodes('web')], { ...local, nodeName: 'third' });
    assert.deepEqual(elsewhere.elements.find((e) => e.map === 'no-endpoint-services'), { map: 'no-endpoint-services', key: '10.43.0.20 . tcp . 80', value: 'drop' });
  });

  it('externalTrafficPolicy Local keeps outside clients on local endpoints, unmasqueraded', () => {
    const spec = { type: 'NodePort', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] };
    const rules = computeServiceRules(service('web', spec), [onNodes('web')], local);
    const [ext] = chainNames(rules, 'ext-');
    const [svc] = chainNames(rules, 'svc-');
    const [svl] = chainNames(rules, 'svl-');
    assert.deepEqual(rules.chains.get(ext), [`ip saddr 10.42.0.0/16 goto ${svc}`, 'fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${svc}`, `goto ${svl}`]);
    assert.match(rules.chains.get(svc)!.at(-1)!, /numgen random mod 2/, 'ClusterIP traffic still uses every endpoint');
    const none = computeServiceRules(service('web', spec), [onNodes('web')], { ...local, nodeName: 'third' });
    assert.equal(none.chains.get(chainNames(none, 'ext-')[0])!.at(-1), 'drop');
  });
});

describe('RuleState', () => {
  const web = (endpoints: Ep[]) => computeServiceRules(service('web'), [slice('s', 'web', endpoints)], ctx);

  it('rewrites the whole table from scratch at start', () => {
    const plan = new RuleState('t', '10.43.0.0/16').planFull(new Map([['default/web', web([{ ip: '10.1.0.1' }])]]));
    assert.match(plan.script, /^add table ip t\ndelete table ip t\ntable ip t \{/);
    assert.equal(plan.summary.full, true);
    assert.equal(plan.summary.chainsAdded, 2);
  });

  it('touches only the chains and elements that changed', () => {
    const state = new RuleState('t', '10.43.0.0/16');
    state.planFull(new Map([['default/web', web([{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }])], ['default/other', computeServiceRules(service('other', { clusterIP: '10.43.0.21', clusterIPs: ['10.43.0.21'] }), [slice('o', 'other', [{ ip: '10.1.0.3' }])], ctx)]])).commit();
    const plan = state.planChanges(new Map([['default/web', web([{ ip: '10.1.0.1' }])]]));
    assert.deepEqual({ ...plan.summary, bytes: 0 }, { full: false, services: 1, chainsAdded: 0, chainsFlushed: 1, chainsDeleted: 1, rules: 2, setsAdded: 0, setsDeleted: 0, elementsAdded: 0, elementsDeleted: 0, bytes: 0 });
    assert.doesNotMatch(plan.script, /other/);
    // The service chain stops jumping to the endpoint chain before that one is deleted.
    assert.ok(plan.script.indexOf('flush chain ip t svc-') < plan.script.indexOf('delete chain ip t sep-'));
    plan.commit();
    const nothing = state.planChanges(new Map([['default/web', web([{ ip: '10.1.0.1' }])]]));
    assert.equal(nothing.script.trim(), '');
    const gone = state.planChanges(new Map([['default/web', undefined]]));
    assert.deepEqual([gone.summary.chainsDeleted, gone.summary.elementsDeleted], [2, 2]);
    assert.ok(gone.script.indexOf('delete element') < gone.script.indexOf('delete chain'), 'map elements go before the chains they name');
  });

  it('gives an element claimed by two services to one of them, and to the other when it leaves', () => {
    const state = new RuleState('t', '10.43.0.0/16');
    const withExternal = (name: string, ip: string) =>
      computeServiceRules(service(name, { clusterIP: ip, clusterIPs: [ip], externalIPs: ['192.0.2.9'] }), [slice(`${name}-s`, name, [{ ip: '10.1.0.1' }])], ctx);
    const a = withExternal('a', '10.43.0.30');
    const b = withExternal('b', '10.43.0.31');
    state.planFull(new Map([['default/a', a], ['default/b', b]])).commit();
    const plan = state.planChanges(new Map([['default/a', undefined]]));
    const [extB] = [...b.chains.keys()].filter((c) => c.startsWith('ext-'));
    assert.ok(plan.script.includes(`delete element ip t services { 192.0.2.9 . tcp . 80 }`));
    assert.ok(plan.script.includes(`add element ip t services { 192.0.2.9 . tcp . 80 : goto ${extB} }`));
  });

  it('produces transactions the real nft accepts', { skip: process.getuid?.() !== 0 && 'needs root' }, async (t) => {
    const table = `ut${randomBytes(4).toString('hex')}`;
    t.after(() => deleteTable(table).catch(() => {}));
    const state = new RuleState(table, '10.43.0.0/16');
    const sticky = (eps: Ep[]) => computeServiceRules(service('web', { type: 'NodePort', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30080 }] }), [slice('s', 'web', eps)], ctx);
    const localSlice = slice('l', 'local', [{ ip: '10.1.0.5' }, { ip: '10.1.0.6' }]);
    (localSlice.endpoints as { nodeName?: string }[])[0].nodeName = 'here';
    const localPolicies = (nodeName: string) =>
      computeServiceRules(
        service('local', { type: 'NodePort', clusterIP: '10.43.0.40', clusterIPs: ['10.43.0.40'], internalTrafficPolicy: 'Local', externalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80, protocol: 'TCP', nodePort: 30081 }] }),
        [localSlice],
        { ...ctx, nodeName },
      );
    for (const plan of [
      () => state.planFull(new Map([['default/web', sticky([{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }])], ['default/local', localPolicies('here')]])),
      () => state.planChanges(new Map([['default/local', localPolicies('elsewhere')]])),
      () => state.planChanges(new Map([['default/local', undefined]])),
      () => state.planChanges(new Map([['default/web', sticky([{ ip: '10.1.0.2' }, { ip: '10.1.0.3' }])]])),
      () => state.planChanges(new Map([['default/web', sticky([])]])),
      () => state.planChanges(new Map([['default/web', undefined]])),
    ]) {
      const p = plan();
      await runNftScript(p.script);
      p.commit();
    }
    const listed = await listTable(table);
    assert.deepEqual(listed.chains.filter((c) => /^(svc|sep|ext)-/.test(c)), []);
    assert.ok([...listed.elements.values()].every((e) => e.length === 0), 'every map is empty again');
  });
});
