/**
 * Service proxy benchmark, on the real kernel (needs root, nft, busybox):
 *
 * (a) rules: 1,000 Services × 2 endpoints through an in-process API server;
 *     the first full sync, one Service changed and all 1,000 changed (API
 *     write → rules in the kernel), next to the floor: `nft -f` of the same
 *     full ruleset text, generated once.
 * (b) traffic: requests/s and p99 latency through a ClusterIP to a busybox
 *     httpd in a network namespace, next to the same backend by its own IP
 *     (the floor). Each request is a new TCP connection, so each goes through
 *     the NAT rules; bounded (2,000 requests, concurrency 8).
 *
 * Run with `node dist/bench/service-proxy.js [services] [requests]`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { ApiServer } from '../src/apiserver/api-server.js';
import { bootstrapCluster } from '../src/apiserver/bootstrap.js';
import { loadOrCreatePki } from '../src/apiserver/pki.js';
import { LocalClient } from '../src/client/local-client.js';
import { objectKey, RESOURCES, type ApiClient } from '../src/client/types.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { defaultAgentConfig, type AgentConfig } from '../src/agent/config.js';
import { startServiceProxy, type ServiceProxy } from '../src/proxy/service-proxy.js';
import { computeServiceRules, RuleState, type ServiceRules } from '../src/proxy/rules.js';
import { deleteTable, runNftScript } from '../src/proxy/nftables.js';
import { createTestHost, enableIpForwarding, freeSubnet, httpGet, routeToSink, run, startHttpBackend, uniqueName } from '../test/helpers/netns.js';
import { backgroundLoad, machineLine, markdownTable, median, percentile, type BenchRow } from './report.js';

/** Figures of one run. */
export interface ServiceProxyBenchResult {
  services: number;
  fullSyncMs: number;
  fullSyncBytes: number;
  floorFullNftMs: number;
  floorOneNftMs: number;
  oneChangeMs: number;
  oneChangeSyncMs: number;
  oneChangeBytes: number;
  allChangeMs: number;
  allChangeWritesMs: number;
  allChangeTransactions: number;
  clusterIp: LoadFigures;
  direct: LoadFigures;
  requests: number;
}

/** Throughput and latency of a bounded load. */
export interface LoadFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function slice(service: string, ips: string[], generation: number): KubeObject {
  return {
    metadata: { name: `${service}-eps`, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080 + (generation % 2), protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  } as KubeObject;
}

async function timeNft(script: string, runs = 3): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await runNftScript(script);
    times.push(performance.now() - started);
  }
  return median(times);
}

/** Waits until the proxy has applied everything and `done()` holds. */
async function settled(proxy: ServiceProxy, done: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await proxy.flush();
    if (done()) return;
    if (Date.now() > deadline) throw new Error('the proxy did not apply the changes in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

interface LoadRun {
  latencies: number[];
  seconds: number;
}

function combine(runs: LoadRun[]): LoadFigures {
  const latencies = runs.flatMap((r) => r.latencies);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { perSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

async function load(url: string, requests: number, concurrency: number): Promise<LoadRun> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const t = performance.now();
        await httpGet(url, 5000);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000 };
}

/** Runs both parts; everything created (table, namespaces, links, routes, data dir) is removed afterwards. */
export async function runServiceProxyBench(count = 1000, requests = 2000): Promise<ServiceProxyBenchResult> {
  enableIpForwarding();
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  try {
    // A /21 of the service range holds 1,000 ClusterIPs; routed to a sink so nothing can leave the machine.
    const block = 8 * (20 + Math.floor(Math.random() * 10));
    const serviceCidr = `10.43.${block}.0/21`;
    const sink = await routeToSink(serviceCidr);
    cleanups.push(() => sink.destroy());
    const dataDir = mkdtempSync(join(tmpdir(), 'pilote-bench-proxy-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const pki = await loadOrCreatePki(dataDir);
    const storage = SqliteStorage.open(join(dataDir, 'state.db'));
    cleanups.push(() => storage.close());
    const api = new ApiServer({ storage, tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert }, tokens: new Map(), port: 0, host: '127.0.0.1', serviceRanges: { serviceCidr, nodePortRange: { min: 30000, max: 32767 } } });
    await bootstrapCluster(api, await api.start());
    cleanups.push(() => api.stop());
    const client: ApiClient = new LocalClient(api);

    const subnet = await freeSubnet();
    const backend = await createTestHost(uniqueName('bpx'), subnet);
    cleanups.push(() => backend.destroy());
    await startHttpBackend(backend, { port: 8080, body: 'ok' });

    const config: AgentConfig = defaultAgentConfig(dataDir, pki.caCert, {
      nodeName: 'bench',
      nftTable: uniqueName('bp', 12),
      serviceCidr,
      clusterCidr: '10.42.250.0/24',
      nodeIp: backend.hostIp,
    });
    cleanups.push(() => deleteTable(config.nftTable).catch(() => {}));

    // (a) 1,000 services × 2 endpoints (the endpoints are addresses nothing is sent to), then the proxy's first sync.
    const services = client.resource(RESOURCES.services);
    const slices = client.resource(RESOURCES.endpointSlices);
    const endpointIps = (i: number) => [`10.201.${i >> 8}.${i & 255}`, `10.202.${i >> 8}.${i & 255}`];
    for (let i = 0; i < count; i++) {
      await services.create('default', { metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
      await slices.create('default', slice(`svc-${i}`, endpointIps(i), 0));
    }
    const proxy = await startServiceProxy({ client, config });
    cleanups.push(() => proxy.stop({ cleanup: true }));
    const full = proxy.stats().last!;

    // The floor: the same full ruleset as text, generated once, applied by nft alone (to a twin table).
    const twin = uniqueName('bq', 12);
    cleanups.push(() => deleteTable(twin).catch(() => {}));
    const rules = new Map<string, ServiceRules>();
    const allSlices = (await slices.list('default')).items;
    for (const svc of (await services.list(undefined)).items) {
      rules.set(objectKey(svc), computeServiceRules(svc, allSlices.filter((s) => s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name && s.metadata.namespace === svc.metadata.namespace), { clusterCidr: config.clusterCidr }));
    }
    const twinState = new RuleState(twin, serviceCidr);
    const twinFull = twinState.planFull(rules);
    const floorFullNftMs = await timeNft(twinFull.script);
    twinFull.commit();
    // The floor of one change: nft -f of the same one-service transaction text, on the twin table.
    const svc7 = await services.get('default', 'svc-7');
    const oneFloor: number[] = [];
    for (let round = 1; round <= 5; round++) {
      const plan = twinState.planChanges(new Map([['default/svc-7', computeServiceRules(svc7, [slice('svc-7', endpointIps(7), round)], { clusterCidr: config.clusterCidr })]]));
      oneFloor.push(await timeNft(plan.script, 1));
      plan.commit();
    }
    const floorOneNftMs = median(oneFloor);

    // One service changed: API write → rules in the kernel.
    const oneTimes: number[] = [];
    const oneSync: number[] = [];
    let oneBytes = 0;
    for (let round = 1; round <= 5; round++) {
      const before = proxy.stats().syncs;
      const started = performance.now();
      const current = await slices.get('default', 'svc-7-eps');
      await slices.update('default', { ...slice('svc-7', endpointIps(7), round), metadata: { ...current.metadata } });
      await settled(proxy, () => proxy.stats().syncs > before);
      oneTimes.push(performance.now() - started);
      oneSync.push(proxy.stats().last!.totalMs);
      oneBytes = proxy.stats().last!.bytes;
    }

    // All services changed, as fast as the API takes the writes; the proxy coalesces them into a few transactions.
    const syncsBefore = proxy.stats().syncs;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const current = await slices.get('default', `svc-${i}-eps`);
      await slices.update('default', { ...slice(`svc-${i}`, endpointIps(i), 9), metadata: { ...current.metadata } });
    }
    const allChangeWritesMs = performance.now() - started;
    // Done when the last Service's new endpoint chain (port 8081) is in the kernel.
    const lastRules = computeServiceRules(await services.get('default', `svc-${count - 1}`), [slice(`svc-${count - 1}`, endpointIps(count - 1), 9)], { clusterCidr: config.clusterCidr });
    const lastChain = [...lastRules.chains.keys()].find((c) => c.startsWith('sep-'))!;
    await waitForChain(proxy, config.nftTable, lastChain);
    const allChangeMs = performance.now() - started;
    const allChangeTransactions = proxy.stats().syncs - syncsBefore;

    // (b) traffic through a ClusterIP vs the backend directly.
    const svc = await services.create('default', { metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] } });
    await slices.create('default', slice('web', [backend.ip], 0));
    const clusterUrl = `http://${(svc.spec as { clusterIP: string }).clusterIP}/`;
    const deadline = Date.now() + 10_000;
    for (;;) {
      await proxy.flush();
      try {
        if ((await httpGet(clusterUrl, 500)).trim() === 'ok') break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
    await load(clusterUrl, 200, 8); // warm-up
    // Interleaved rounds, so background load on a shared machine weighs on both alike.
    const directRounds: LoadRun[] = [];
    const clusterRounds: LoadRun[] = [];
    for (let round = 0; round < 4; round++) {
      directRounds.push(await load(`http://${backend.ip}:8080/`, requests / 4, 8));
      clusterRounds.push(await load(clusterUrl, requests / 4, 8));
    }
    const direct = combine(directRounds);
    const clusterIp = combine(clusterRounds);

    return {
      services: count,
      fullSyncMs: full.totalMs,
      fullSyncBytes: full.bytes,
      floorFullNftMs,
      floorOneNftMs,
      oneChangeMs: median(oneTimes),
      oneChangeSyncMs: median(oneSync),
      oneChangeBytes: oneBytes,
      allChangeMs,
      allChangeWritesMs,
      allChangeTransactions,
      clusterIp,
      direct,
      requests,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch {
        // best effort: the next cleanup still runs
      }
    }
  }
}

/** Waits until chain `name` exists in the table (the informer may not have seen the last write when flush() is first called). */
async function waitForChain(proxy: ServiceProxy, table: string, name: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await proxy.flush();
    if ((await run('nft', ['list', 'chain', 'ip', table, name])).code === 0) return;
    if (Date.now() > deadline) throw new Error(`chain ${name} never appeared in table ip ${table}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** The figures as report rows. */
export function serviceProxyRows(r: ServiceProxyBenchResult): BenchRow[] {
  const full = 'nft -f of the full ruleset text';
  return [
    { metric: `first full sync, ${r.services} Services × 2 endpoints (${(r.fullSyncBytes / 1024).toFixed(0)} KiB of nft)`, value: r.fullSyncMs, unit: 'ms', floor: r.floorFullNftMs, floorName: full },
    { metric: `one Service changed: API write → rules in kernel (${r.oneChangeBytes} B transaction)`, value: r.oneChangeMs, unit: 'ms', floor: r.floorFullNftMs, floorName: full },
    { metric: 'one Service changed: the sync alone', value: r.oneChangeSyncMs, unit: 'ms', floor: r.floorOneNftMs, floorName: 'nft -f of the same transaction text' },
    { metric: `all ${r.services} Services changed: first write → all in kernel (${r.allChangeTransactions} transactions)`, value: r.allChangeMs, unit: 'ms', floor: r.allChangeWritesMs, floorName: 'the API writes alone' },
    { metric: `requests/s through a ClusterIP (${r.requests} requests, concurrency 8, new connection each)`, value: r.clusterIp.perSecond, unit: '/s', floor: r.direct.perSecond, floorName: 'same backend by its IP' },
    { metric: 'p50 latency through a ClusterIP', value: r.clusterIp.p50Ms, unit: 'ms', floor: r.direct.p50Ms, floorName: 'same backend by its IP' },
    { metric: 'p99 latency through a ClusterIP', value: r.clusterIp.p99Ms, unit: 'ms', floor: r.direct.p99Ms, floorName: 'same backend by its IP' },
  ];
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 1000);
  const requests = Number(process.argv[3] ?? 2000);
  console.log(`service proxy benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`before the run: ${await backgroundLoad()}`);
  console.log(markdownTable(serviceProxyRows(await runServiceProxyBench(count, requests))));
  console.log(`after the run: ${await backgroundLoad()}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
