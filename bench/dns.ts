/**
 * Cluster DNS benchmark: UDP queries/s and p99 latency for a cluster name
 * (`<svc>.<ns>.svc.cluster.local` A) answered by startClusterDns from its
 * informer caches, next to the floor measured in the same run: a bare
 * dns-packet UDP server answering one fixed record (decode + encode, no
 * lookup). The load generator runs in a worker thread with a fixed window of
 * outstanding queries, so it does not share the servers' event loop.
 * Run with `node dist/bench/dns.js [queries] [concurrency]`.
 */
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as dnsPacket from 'dns-packet';
import { backgroundLoad, machineLine, markdownTable, percentile, type BenchRow } from './report.js';

interface LoadSpec {
  port: number;
  name: string;
  queries: number;
  concurrency: number;
}

interface LoadResult {
  seconds: number;
  answered: number;
  lost: number;
  latenciesMs: number[];
}

/** Worker side: sends `queries` A queries keeping `concurrency` outstanding; lost packets time out after 1 s. */
async function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const sentAt = new Map<number, number>();
  const latenciesMs: number[] = [];
  let nextId = 0;
  let sent = 0;
  let lost = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const finishIfDone = () => {
      if (latenciesMs.length + lost < spec.queries) return;
      clearInterval(sweeper);
      socket.close();
      resolve({ seconds: (performance.now() - started) / 1000, answered: latenciesMs.length, lost, latenciesMs });
    };
    const send = () => {
      if (sent >= spec.queries) return;
      sent++;
      const id = nextId++ & 0xffff;
      sentAt.set(id, performance.now());
      socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: spec.name }] }), spec.port, '127.0.0.1');
    };
    socket.on('message', (message) => {
      const id = message.readUInt16BE(0);
      const at = sentAt.get(id);
      if (at === undefined) return;
      sentAt.delete(id);
      latenciesMs.push(performance.now() - at);
      send();
      finishIfDone();
    });
    const sweeper = setInterval(() => {
      const now = performance.now();
      for (const [id, at] of sentAt) {
        if (now - at < 1000) continue;
        sentAt.delete(id);
        lost++;
        send();
      }
      finishIfDone();
    }, 200);
    for (let i = 0; i < spec.concurrency; i++) send();
  });
}

function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** The floor: a UDP server that decodes each query and answers one fixed A record. */
async function startEchoServer(): Promise<{ port: number; stop(): void }> {
  const socket = createSocket('udp4');
  socket.on('message', (message, rinfo) => {
    const query = dnsPacket.decode(message);
    const answer = dnsPacket.encode({
      type: 'response',
      id: query.id,
      flags: dnsPacket.AUTHORITATIVE_ANSWER,
      questions: query.questions,
      answers: [{ type: 'A', name: query.questions![0].name, ttl: 5, data: '10.43.0.99' }],
    });
    socket.send(answer, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, stop: () => socket.close() };
}

/** Figures of one DNS benchmark run. */
export interface DnsBenchResult {
  cluster: LoadResult;
  floor: LoadResult;
  queries: number;
  concurrency: number;
}

/** Runs the benchmark: an in-process API server with one Service, cluster DNS, the echo floor. */
export async function runDnsBench(queries = 50_000, concurrency = 32): Promise<DnsBenchResult> {
  const { startInProcessCluster } = await import('../test/helpers/in-process.js');
  const { defaultAgentConfig } = await import('../src/agent/config.js');
  const { RESOURCES } = await import('../src/client/types.js');
  const { startClusterDns } = await import('../src/proxy/dns/index.js');
  const cluster = await startInProcessCluster();
  const echo = await startEchoServer();
  try {
    await cluster.client.resource(RESOURCES.services).create('default', { metadata: { name: 'bench' }, spec: { ports: [{ name: 'http', port: 80 }] } });
    const config = defaultAgentConfig(tmpdir(), '', { nodeIp: '127.0.0.1' });
    const dns = await startClusterDns({ client: cluster.client, config, port: 0, bindAddress: '127.0.0.1', upstreams: [] });
    try {
      const name = `bench.default.svc.${config.clusterDomain}`;
      // Warm-up of both (JIT), then the measured runs, floor first.
      await runLoad({ port: echo.port, name, queries: 2000, concurrency });
      await runLoad({ port: dns.port, name, queries: 2000, concurrency });
      const floor = await runLoad({ port: echo.port, name, queries, concurrency });
      const clusterResult = await runLoad({ port: dns.port, name, queries, concurrency });
      return { cluster: clusterResult, floor, queries, concurrency };
    } finally {
      await dns.stop();
    }
  } finally {
    echo.stop();
    await cluster.stop();
  }
}

/** The DNS figures as report rows. */
export function dnsRows(result: DnsBenchResult): BenchRow[] {
  const qps = (r: LoadResult) => r.answered / r.seconds;
  const floorName = 'bare dns-packet UDP server, fixed record';
  return [
    { metric: `cluster DNS A queries/s (UDP, ${result.concurrency} outstanding)`, value: qps(result.cluster), unit: '/s', floor: qps(result.floor), floorName },
    { metric: 'cluster DNS query latency p50', value: percentile(result.cluster.latenciesMs, 50), unit: 'ms', floor: percentile(result.floor.latenciesMs, 50), floorName },
    { metric: 'cluster DNS query latency p99', value: percentile(result.cluster.latenciesMs, 99), unit: 'ms', floor: percentile(result.floor.latenciesMs, 99), floorName },
    { metric: `lost queries (of ${result.queries})`, value: result.cluster.lost, unit: '', floor: result.floor.lost, floorName },
  ];
}

async function main(): Promise<void> {
  const queries = Number(process.argv[2] ?? 50_000);
  const concurrency = Number(process.argv[3] ?? 32);
  console.log(`DNS benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`background: ${await backgroundLoad()}`);
  const result = await runDnsBench(queries, concurrency);
  console.log(markdownTable(dnsRows(result)));
}

if (!isMainThread) parentPort!.postMessage(await generateLoad(workerData as LoadSpec));
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
