/**
 * Ingress benchmark: HTTP requests/s and p99 latency through the built-in
 * ingress controller to one backend, next to the same backend hit directly
 * (the floor) in the same run. The backend and the load generator each run
 * in their own worker thread (keep-alive clients, fixed concurrency), the
 * ingress on the main thread with an in-process API server. The backend
 * listens on the node address (EndpointSlices may not hold loopback addresses).
 * Run with `node dist/bench/ingress.js [requests] [concurrency]`.
 */
import { Agent, createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { backgroundLoad, machineLine, markdownTable, percentile, type BenchRow } from './report.js';

interface LoadSpec {
  role: 'load';
  host: string;
  port: number;
  hostHeader: string;
  requests: number;
  concurrency: number;
}

interface BackendSpec {
  role: 'backend';
  host: string;
}

interface LoadResult {
  seconds: number;
  ok: number;
  failed: number;
  latenciesMs: number[];
}

async function generateLoad(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.concurrency });
  const latenciesMs: number[] = [];
  let started = 0;
  let failed = 0;
  const one = () =>
    new Promise<boolean>((resolve) => {
      const req = request({ host: spec.host, port: spec.port, path: '/bench', headers: { host: spec.hostHeader }, agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  const begin = performance.now();
  const worker = async () => {
    while (started < spec.requests) {
      started++;
      const t0 = performance.now();
      if (await one()) latenciesMs.push(performance.now() - t0);
      else failed++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - begin) / 1000;
  agent.destroy();
  return { seconds, ok: latenciesMs.length, failed, latenciesMs };
}

async function serveBackend(spec: BackendSpec): Promise<void> {
  const body = Buffer.from('{"hello":"from the backend"}\n');
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, spec.host, resolve));
  parentPort!.postMessage((server.address() as { port: number }).port);
  parentPort!.once('message', () => server.close(() => process.exit(0)));
}

function runLoad(spec: Omit<LoadSpec, 'role'>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: { role: 'load', ...spec } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

/** Figures of one ingress benchmark run. */
export interface IngressBenchResult {
  ingress: LoadResult;
  direct: LoadResult;
  requests: number;
  concurrency: number;
}

/** Runs the benchmark with an in-process API server, a backend worker and the ingress controller. */
export async function runIngressBench(requests = 5000, concurrency = 16): Promise<IngressBenchResult> {
  const { startInProcessCluster } = await import('../test/helpers/in-process.js');
  const { defaultAgentConfig, defaultNodeIp } = await import('../src/agent/config.js');
  const { RESOURCES } = await import('../src/client/types.js');
  const { startIngressController } = await import('../src/proxy/ingress/index.js');
  const nodeIp = defaultNodeIp();
  if (nodeIp.startsWith('127.')) throw new Error('the ingress benchmark needs a non-loopback node address for its endpoint');
  const backend = new Worker(new URL(import.meta.url), { workerData: { role: 'backend', host: nodeIp } satisfies BackendSpec });
  const backendPort = await new Promise<number>((resolve, reject) => {
    backend.once('message', resolve);
    backend.once('error', reject);
  });
  const cluster = await startInProcessCluster();
  try {
    const client = cluster.client;
    await client.resource(RESOURCES.services).create('default', { metadata: { name: 'bench' }, spec: { ports: [{ name: 'http', port: 80 }] } });
    await client.resource(RESOURCES.endpointSlices).create('default', {
      metadata: { name: 'bench-1', labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [nodeIp], conditions: { ready: true } }],
      ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }],
    });
    await client.resource({ group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' }).create('default', {
      metadata: { name: 'bench' },
      spec: { rules: [{ host: 'bench.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench', port: { number: 80 } } } }] } }] },
    });
    const config = defaultAgentConfig(tmpdir(), '', { nodeIp });
    const ingress = await startIngressController({ client, config, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' });
    try {
      const through = { host: '127.0.0.1', port: ingress.httpPort, hostHeader: 'bench.test', concurrency };
      const direct = { host: nodeIp, port: backendPort, hostHeader: 'bench.test', concurrency };
      // Wait for the route (informer events are asynchronous), warm both paths up, then measure.
      for (let i = 0; i < 100; i++) {
        const probe = await runLoad({ ...through, requests: 1, concurrency: 1 });
        if (probe.ok === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await runLoad({ ...direct, requests: 1000 });
      await runLoad({ ...through, requests: 1000 });
      const directResult = await runLoad({ ...direct, requests });
      const ingressResult = await runLoad({ ...through, requests });
      return { ingress: ingressResult, direct: directResult, requests, concurrency };
    } finally {
      await ingress.stop();
    }
  } finally {
    backend.postMessage('stop');
    await cluster.stop();
  }
}

/** The ingress figures as report rows. */
export function ingressRows(result: IngressBenchResult): BenchRow[] {
  const rps = (r: LoadResult) => r.ok / r.seconds;
  const floorName = 'the backend hit directly';
  return [
    { metric: `ingress requests/s (${result.requests} requests, ${result.concurrency} keep-alive clients)`, value: rps(result.ingress), unit: '/s', floor: rps(result.direct), floorName },
    { metric: 'ingress latency p50', value: percentile(result.ingress.latenciesMs, 50), unit: 'ms', floor: percentile(result.direct.latenciesMs, 50), floorName },
    { metric: 'ingress latency p99', value: percentile(result.ingress.latenciesMs, 99), unit: 'ms', floor: percentile(result.direct.latenciesMs, 99), floorName },
    { metric: 'failed requests', value: result.ingress.failed, unit: '', floor: result.direct.failed, floorName },
  ];
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 5000);
  const concurrency = Number(process.argv[3] ?? 16);
  console.log(`ingress benchmark — ${new Date().toISOString()} — ${machineLine()}`);
  console.log(`background: ${await backgroundLoad()}`);
  const result = await runIngressBench(requests, concurrency);
  console.log(markdownTable(ingressRows(result)));
}

if (!isMainThread) {
  const spec = workerData as LoadSpec | BackendSpec;
  if (spec.role === 'load') parentPort!.postMessage(await generateLoad(spec));
  else await serveBackend(spec);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
