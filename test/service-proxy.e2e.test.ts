/**
 * The service proxy on the real kernel: an API server in this process, the
 * real nft, and backends (busybox httpd) in network namespaces. Requests from
 * this machine (and from inside the namespaces) to ClusterIPs, NodePorts and
 * LoadBalancer IPs must reach the right backends; rules must change
 * incrementally and survive a restart without duplicates.
 *
 * Needs root, nft and busybox; skipped otherwise.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { randomInt } from 'node:crypto';
import { RESOURCES, type ApiClient } from '../src/client/types.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { StatusError } from '../src/apimachinery/errors.js';
import { defaultAgentConfig, type AgentConfig } from '../src/agent/config.js';
import { startServiceProxy, type ServiceProxy } from '../src/proxy/service-proxy.js';
import { startServiceLB, type ServiceLB } from '../src/proxy/servicelb.js';
import { findConntrack, listTable, tableExists } from '../src/proxy/nftables.js';
import { createSocket } from 'node:dgram';
import { createTestHost, enableIpForwarding, freeSubnet, httpGet, routeToSink, run, startHttpBackend, uniqueName, type TestHost } from './helpers/netns.js';
import { eventually as waitFor } from './helpers/poll.js';
import { startInProcessCluster, type InProcessCluster } from './helpers/in-process.js';

const canRun = process.getuid?.() === 0 && (await run('nft', ['--version'])).code === 0 && (await run('busybox', ['true'])).code === 0;

/** Body counts of n sequential requests, each on a new connection. */
async function countResponses(url: string, n: number): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const body = (await httpGet(url)).trim();
    counts.set(body, (counts.get(body) ?? 0) + 1);
  }
  return counts;
}

/** How a TCP connect ends within timeoutMs: 'connected', an error code (ECONNREFUSED…) or 'timeout'. */
function tryConnect(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('timeout');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(error.code ?? error.message);
    });
  });
}

describe('service proxy on nftables', { skip: !canRun && 'needs root, nft and busybox' }, () => {
  let cluster: InProcessCluster | undefined;
  let client: ApiClient;
  let config: AgentConfig;
  let proxy: ServiceProxy | undefined;
  let serviceLB: ServiceLB | undefined;
  let hostA: TestHost;
  let hostB: TestHost;
  let sink: { destroy(): Promise<void> } | undefined;
  const BACKEND_PORT = 8080;

  const services = () => client.resource(RESOURCES.services);
  const slices = () => client.resource(RESOURCES.endpointSlices);

  /** A Service without selector; its endpoints come from sliceFor. */
  async function createService(name: string, spec: Record<string, unknown>): Promise<KubeObject> {
    return services().create('default', { metadata: { name }, spec: { ports: [{ name: 'http', port: 80, targetPort: BACKEND_PORT, protocol: 'TCP' }], ...spec } });
  }

  function sliceFor(service: string, endpoints: { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean }[], ports = [{ name: 'http', port: BACKEND_PORT, protocol: 'TCP' }]): KubeObject {
    return {
      metadata: { name: `${service}-manual`, labels: { 'kubernetes.io/service-name': service } },
      addressType: 'IPv4',
      ports,
      endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true, serving: e.serving ?? e.ready ?? true, terminating: e.terminating ?? false } })),
    } as KubeObject;
  }

  async function setEndpoints(service: string, endpoints: Parameters<typeof sliceFor>[1], ports?: Parameters<typeof sliceFor>[2]): Promise<void> {
    const wanted = sliceFor(service, endpoints, ports);
    const current = await slices()
      .get('default', wanted.metadata.name!)
      .catch((error: unknown) => {
        if (error instanceof StatusError && error.code === 404) return undefined;
        throw error;
      });
    if (!current) await slices().create('default', wanted);
    else await slices().update('default', { ...wanted, metadata: { ...wanted.metadata, resourceVersion: current.metadata.resourceVersion } });
  }

  /** Waits until the proxy's table routes (or rejects) ip:port — so the first request never races the rules. */
  async function programmed(ip: string, port = 80, proto = 'tcp'): Promise<void> {
    await waitFor(`rules for ${ip}:${port}`, async () => {
      await proxy!.flush();
      const { stdout } = await run('nft', ['list', 'table', 'ip', config.nftTable]);
      return stdout.includes(`${ip} . ${proto} . ${port} :`) || undefined;
    });
  }

  before(async () => {
    enableIpForwarding();
    const [subnetA, subnetB] = [await freeSubnet(), await freeSubnet()];
    assert.notEqual(subnetA.cidr, subnetB.cidr);
    hostA = await createTestHost(uniqueName('spa'), subnetA);
    hostB = await createTestHost(uniqueName('spb'), subnetB);
    await startHttpBackend(hostA, { port: BACKEND_PORT, body: 'A' });
    await startHttpBackend(hostB, { port: BACKEND_PORT, body: 'B' });

    // A service /24 of our own, routed to a sink (never out of the machine), and a cluster /24 that no test host is in.
    const octet = randomInt(100, 250);
    const serviceCidr = `10.43.${octet}.0/24`;
    sink = await routeToSink(serviceCidr);
    cluster = await startInProcessCluster({ tmpPrefix: 'pilote-proxy-', apiServer: () => ({ serviceRanges: { serviceCidr, nodePortRange: { min: 30000, max: 32767 } } }) });
    client = cluster.client;
    config = defaultAgentConfig(cluster.dataDir, cluster.caCert, {
      nodeName: 'proxy-test',
      nftTable: uniqueName('pt', 12),
      serviceCidr,
      clusterCidr: `10.42.${octet}.0/24`,
      podCidr: `10.42.${octet}.0/24`,
      // The node's address: this machine's side of host A's link (a local address only this test uses).
      nodeIp: hostA.hostIp,
    });
    proxy = await startServiceProxy({ client, config, coalesceMs: 10 });
  });

  after(async () => {
    await serviceLB?.stop().catch(() => {});
    await proxy?.stop({ cleanup: true }).catch(() => {});
    await run('nft', ['delete', 'table', 'ip', config?.nftTable ?? 'none']);
    await cluster?.stop().catch(() => {});
    await hostA?.destroy();
    await hostB?.destroy();
    await sink?.destroy();
  });

  let webIp: string;

  it('load-balances a ClusterIP over the ready endpoints of a manual EndpointSlice', async () => {
    const svc = await createService('web', {});
    webIp = (svc.spec as { clusterIP: string }).clusterIP;
    assert.ok(webIp.startsWith(config.serviceCidr.split('.').slice(0, 3).join('.') + '.'), `ClusterIP ${webIp} from ${config.serviceCidr}`);
    await setEndpoints('web', [{ ip: hostA.ip }, { ip: hostB.ip }]);
    const url = `http://${webIp}/`;
    await programmed(webIp);
    const counts = await countResponses(url, 200);
    assert.deepEqual([...counts.keys()].sort(), ['A', 'B'], `responses ${JSON.stringify([...counts])}`);
    // Random over 2: 100 ± 7 each; 50 is 7 standard deviations away.
    for (const [backend, n] of counts) assert.ok(n > 50, `backend ${backend} got ${n}/200`);
  });

  it('stops sending new connections to an endpoint that is no longer ready, in one small transaction', async () => {
    // Other services, so that a full rewrite would be visible in the transaction's size.
    for (let i = 0; i < 20; i++) await createService(`filler-${i}`, {});
    for (let i = 0; i < 20; i++) await setEndpoints(`filler-${i}`, [{ ip: hostA.ip }, { ip: hostB.ip }]);
    await waitFor('the fillers to be applied', async () => {
      await proxy!.flush();
      const table = await listTable(config.nftTable);
      return table.chains.filter((c) => c.startsWith('svc-') && c.includes('/filler-')).length === 20 || undefined;
    });
    const before = proxy!.stats().syncs;
    await setEndpoints('web', [{ ip: hostA.ip }, { ip: hostB.ip, ready: false }]);
    await waitFor('the change to be applied', async () => {
      await proxy!.flush();
      return proxy!.stats().syncs > before || undefined;
    });
    const last = proxy!.stats().last!;
    assert.equal(last.full, false);
    assert.equal(last.services, 1, 'only the changed service is recomputed');
    assert.equal(last.chainsFlushed, 1, 'its service chain is refilled');
    assert.equal(last.chainsDeleted, 1, "the endpoint's chain is deleted");
    assert.equal(last.chainsAdded, 0);
    assert.equal(last.elementsAdded + last.elementsDeleted, 0, 'no map element changes');
    const counts = await countResponses(`http://${webIp}/`, 100);
    assert.deepEqual([...counts], [['A', 100]]);
  });

  it('routes a selectorless Service backed by an Endpoints object the user wrote', async () => {
    const svc = await createService('external-db', {});
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    await client.resource(RESOURCES.endpoints).create('default', {
      metadata: { name: 'external-db' },
      subsets: [{ addresses: [{ ip: hostB.ip }], ports: [{ name: 'http', port: BACKEND_PORT, protocol: 'TCP' }] }],
    } as KubeObject);
    await programmed(ip);
    assert.deepEqual([...(await countResponses(`http://${ip}/`, 10))], [['B', 10]]);
  });

  it('falls back to serving+terminating endpoints when none is ready', async () => {
    await setEndpoints('web', [{ ip: hostA.ip, ready: false, serving: false, terminating: true }, { ip: hostB.ip, ready: false, serving: true, terminating: true }]);
    await waitFor('only B to answer', async () => ((await countResponses(`http://${webIp}/`, 10)).get('B') === 10 ? true : undefined));
    await setEndpoints('web', [{ ip: hostA.ip }, { ip: hostB.ip }]);
    await waitFor('both to answer again', async () => ((await countResponses(`http://${webIp}/`, 40)).size === 2 ? true : undefined));
  });

  it('answers a NodePort on 127.0.0.1 and on the node IP', async () => {
    const svc = await createService('np', { type: 'NodePort' });
    const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0].nodePort;
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    await setEndpoints('np', [{ ip: hostA.ip }, { ip: hostB.ip }]);
    for (const address of ['127.0.0.1', config.nodeIp]) {
      const url = `http://${address}:${nodePort}/`;
      await waitFor(`NodePort on ${address}`, () => httpGet(url, 500));
      const counts = await countResponses(url, 40);
      assert.deepEqual([...counts.keys()].sort(), ['A', 'B'], `${url}: ${JSON.stringify([...counts])}`);
    }
  });

  it('gives a LoadBalancer the node IP (ServiceLB) and routes it; removes it when the type changes', async () => {
    serviceLB = await startServiceLB({ client, config });
    await createService('lb', { type: 'LoadBalancer', ports: [{ name: 'http', port: 8081, targetPort: BACKEND_PORT, protocol: 'TCP' }] });
    await setEndpoints('lb', [{ ip: hostB.ip }]);
    const ingress = await waitFor('status.loadBalancer.ingress', async () => {
      const svc = await services().get('default', 'lb');
      return (svc.status as { loadBalancer?: { ingress?: { ip: string; ipMode?: string }[] } }).loadBalancer?.ingress;
    });
    assert.deepEqual(ingress, [{ ip: config.nodeIp, ipMode: 'VIP' }]);
    await waitFor('the LoadBalancer IP to answer', async () => ((await httpGet(`http://${config.nodeIp}:8081/`, 500)).trim() === 'B' ? true : undefined));

    // Another class is not ours.
    await createService('lb-other', { type: 'LoadBalancer', loadBalancerClass: 'example.com/other' });
    // Back to ClusterIP: the address goes away.
    const current = await services().get('default', 'lb');
    const spec = current.spec as { type: string; ports: { nodePort?: number }[]; externalTrafficPolicy?: string; allocateLoadBalancerNodePorts?: boolean };
    spec.type = 'ClusterIP';
    for (const port of spec.ports) delete port.nodePort;
    delete spec.externalTrafficPolicy;
    delete spec.allocateLoadBalancerNodePorts;
    await services().update('default', current);
    await waitFor('the ingress to be removed', async () => {
      const svc = await services().get('default', 'lb');
      return ((svc.status as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress?.length ?? 0) === 0 || undefined;
    });
    await waitFor('the node IP port to stop answering', async () => ((await tryConnect(config.nodeIp, 8081, 500)) !== 'connected' ? true : undefined));
    const other = await services().get('default', 'lb-other');
    assert.equal((other.status as { loadBalancer?: { ingress?: unknown[] } })?.loadBalancer?.ingress, undefined, 'a Service of another class is left alone');
  });

  it('keeps a client on one endpoint with sessionAffinity ClientIP', async () => {
    const svc = await createService('sticky', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } } });
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    await setEndpoints('sticky', [{ ip: hostA.ip }, { ip: hostB.ip }]);
    await programmed(ip);
    const counts = await countResponses(`http://${ip}/`, 60);
    assert.equal(counts.size, 1, `one backend for one client: ${JSON.stringify([...counts])}`);
    const table = await listTable(config.nftTable);
    const affinity = [...table.elements].filter(([name, elements]) => name.startsWith('aff-') && elements.length > 0);
    assert.equal(affinity.length, 1, 'one affinity set holds the client');
  });

  it('refuses connections at once to a service without endpoints and to an unknown port; drops the rest of the range', async () => {
    const svc = await createService('empty', {});
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    await setEndpoints('empty', [{ ip: hostA.ip, ready: false }]);
    await programmed(ip);
    const started = Date.now();
    assert.equal(await tryConnect(ip, 80, 1000), 'ECONNREFUSED');
    assert.ok(Date.now() - started < 500, `refused in ${Date.now() - started} ms`);
    assert.equal(await tryConnect(webIp, 81, 1000), 'ECONNREFUSED', 'a port the ClusterIP does not serve');
    const used = new Set((await services().list('default')).items.map((svc) => (svc.spec as { clusterIP?: string }).clusterIP));
    const prefix = config.serviceCidr.replace(/\.0\/24$/, '.');
    const unused = [...Array(250).keys()].map((i) => `${prefix}${i + 2}`).find((candidate) => !used.has(candidate))!;
    assert.equal(await tryConnect(unused, 80, 300), 'timeout', 'an address of the range without a service is dropped');
  });

  it('lets a backend reach itself through its service (hairpin) and another host reach it', async () => {
    const svc = await createService('hairpin', {});
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    await setEndpoints('hairpin', [{ ip: hostA.ip }]);
    await programmed(ip);
    const fromA = await hostA.exec(['busybox', 'wget', '-q', '-O', '-', `http://${ip}/`], 5000);
    assert.equal(fromA.code, 0, fromA.stderr);
    assert.equal(fromA.stdout.trim(), 'A');
    const fromB = await hostB.exec(['busybox', 'wget', '-q', '-O', '-', `http://${ip}/`], 5000);
    assert.equal(fromB.stdout.trim(), 'A', fromB.stderr);
  });

  it('moves a UDP client to another endpoint when its endpoint goes away (stale conntrack entries cleared)', { skip: !findConntrack() && 'the conntrack tool is not installed' }, async (t) => {
    const UDP_PORT = 5353;
    const serve = (host: TestHost, name: string) =>
      host.spawn([process.execPath, '-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('${name}',r.port,r.address));s.bind(${UDP_PORT})`]);
    serve(hostA, 'A');
    serve(hostB, 'B');
    const socket = createSocket('udp4');
    t.after(() => socket.close());
    await new Promise<void>((resolve) => socket.bind(0, '0.0.0.0', resolve));
    /** One datagram from the same source port each time (so it is one conntrack flow); the answer's text. */
    const ask = (ip: string) =>
      new Promise<string | undefined>((resolve) => {
        const timer = setTimeout(() => {
          socket.off('message', onMessage);
          resolve(undefined);
        }, 300);
        const onMessage = (message: Buffer) => {
          clearTimeout(timer);
          socket.off('message', onMessage);
          resolve(message.toString());
        };
        socket.on('message', onMessage);
        socket.send('ping', UDP_PORT, ip);
      });
    const svc = await createService('udp', { ports: [{ name: 'dns', port: UDP_PORT, targetPort: UDP_PORT, protocol: 'UDP' }] });
    const ip = (svc.spec as { clusterIP: string }).clusterIP;
    const ports = [{ name: 'dns', port: UDP_PORT, protocol: 'UDP' }];
    await setEndpoints('udp', [{ ip: hostA.ip }, { ip: hostB.ip }], ports);
    await programmed(ip, UDP_PORT, 'udp');
    const first = await waitFor('a UDP answer through the ClusterIP', () => ask(ip));
    for (let i = 0; i < 5; i++) assert.equal(await ask(ip), first, 'one flow stays on one endpoint');
    const [gone, other] = first === 'A' ? [hostA, 'B'] : [hostB, 'A'];
    await setEndpoints('udp', [{ ip: gone.ip, ready: false }, { ip: (gone === hostA ? hostB : hostA).ip }], ports);
    await waitFor('the flow to move to the other endpoint', async () => ((await ask(ip)) === other ? true : undefined));
  });

  it('restarts without duplicating rules; stop without cleanup keeps traffic flowing', async () => {
    await proxy!.flush();
    const before = await listTable(config.nftTable);
    await proxy!.stop();
    proxy = undefined;
    assert.equal(await tableExists(config.nftTable), true, 'rules stay after stop()');
    assert.equal((await httpGet(`http://${webIp}/`)).trim().length, 1, 'traffic still flows with the proxy stopped');
    proxy = await startServiceProxy({ client, config, coalesceMs: 10 });
    const afterRestart = await listTable(config.nftTable);
    assert.equal(afterRestart.rules, before.rules);
    assert.deepEqual([...afterRestart.chains].sort(), [...before.chains].sort());
    assert.equal(proxy.stats().fullSyncs, 1);
    const counts = await countResponses(`http://${webIp}/`, 40);
    assert.deepEqual([...counts.keys()].sort(), ['A', 'B']);
  });

  it('removes a deleted service and, with cleanup, the whole table', async () => {
    await services().delete('default', 'hairpin');
    await waitFor('the hairpin chains to go', async () => {
      await proxy!.flush();
      const table = await listTable(config.nftTable);
      return table.chains.some((c) => c.includes('/hairpin/')) ? undefined : true;
    });
    await proxy!.stop({ cleanup: true });
    proxy = undefined;
    assert.equal(await tableExists(config.nftTable), false);
  });
});
