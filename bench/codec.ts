/**
 * Client-compatibility benchmarks: decoding a Deployment from protobuf and from
 * JSON (with strict field validation) in objects/s, beside the floor of the
 * runtime's own `JSON.parse` of the same object; and the p50 latency of an
 * OpenAPI v3 document served from memory, beside a raw HTTPS GET of a body of
 * the same size from the bare floor server.
 *
 * Usage: node dist/bench/codec.js
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeBody } from '../src/api/decode.js';
import { defaulters } from '../src/api/defaults.js';
import { decodeProtobufObject, encodeProtobufObject } from '../src/api/protobuf/codec.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { Endpoint, clientTls, kubeconfigPort, startFloor, startPilote, type ServerProcess } from './api.js';
import { markdownTable, percentile, type BenchRow } from './report.js';

/** The tutorial's redis Deployment, as stored (defaults applied). */
function sampleDeployment(): KubeObject {
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'redis', namespace: 'default', labels: { app: 'redis' }, annotations: { 'deployment.kubernetes.io/revision': '1' } },
    spec: {
      replicas: 4,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } },
      selector: { matchLabels: { app: 'redis' } },
      template: {
        metadata: { labels: { app: 'redis' } },
        spec: {
          containers: [
            {
              name: 'redis',
              image: 'redis:5.0.12-alpine',
              resources: { limits: { memory: '128Mi', cpu: '500m' } },
              ports: [{ containerPort: 6379 }],
              env: [{ name: 'MODE', value: 'cache' }],
            },
          ],
        },
      },
    },
  };
  defaulters['apps/Deployment']!(deployment);
  return deployment;
}

/** Runs `op` back to back for about `ms` milliseconds; returns operations per second. */
function rate(ms: number, op: () => void): number {
  // Warm up so the JIT has settled before timing.
  for (let i = 0; i < 2000; i++) op();
  let count = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 500; i++) op();
    count += 500;
    elapsed = performance.now() - start;
  }
  return (count / elapsed) * 1000;
}

/** Decode rates in objects/s. */
export function measureDecoding(ms = 1500): BenchRow[] {
  const deployment = sampleDeployment();
  const json = Buffer.from(JSON.stringify(deployment));
  const protobuf = encodeProtobufObject(deployment, 'apps/v1', 'Deployment');
  const expected = { group: 'apps', version: 'v1', kind: 'Deployment' };
  const floor = rate(ms, () => JSON.parse(json.toString('utf8')));
  const protobufRate = rate(ms, () => decodeProtobufObject(protobuf));
  const jsonRate = rate(ms, () => decodeBody(json, 'application/json', 'Strict', expected));
  const floorName = `JSON.parse of the same Deployment (${json.length} B JSON, ${protobuf.length} B protobuf)`;
  return [
    { metric: 'protobuf decode of a Deployment', value: protobufRate, unit: 'objects/s', floor, floorName },
    { metric: 'JSON decode of a Deployment (strict field validation)', value: jsonRate, unit: 'objects/s', floor, floorName },
  ];
}

/** p50 of GET /openapi/v3/apis/apps/v1 on a pilote server, and of the same-size raw GET on the floor server. */
export async function measureOpenApi(requests = 300): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'pilote-bench-codec-'));
  const servers: ServerProcess[] = [];
  const endpoints: Endpoint[] = [];
  try {
    const dataDir = join(root, 'pilote');
    const pilote = startPilote(dataDir);
    servers.push(pilote);
    await pilote.ready;
    const tls = clientTls(dataDir);
    const api = new Endpoint(kubeconfigPort(join(dataDir, 'kubeconfig.yaml')), tls, 1);
    endpoints.push(api);
    const index = JSON.parse((await api.ok('GET', '/openapi/v3')).body.toString()) as { paths: Record<string, { serverRelativeURL: string }> };
    const url = index.paths['apis/apps/v1']!.serverRelativeURL;
    const size = (await api.ok('GET', url)).body.length;

    const floorServer = startFloor({ tlsDir: join(dataDir, 'tls') });
    servers.push(floorServer);
    const floorPort = Number(/ready (\d+)/.exec((await floorServer.ready).line)![1]);
    const floor = new Endpoint(floorPort, tls, 1);
    endpoints.push(floor);

    const timeGets = async (endpoint: Endpoint, path: string) => {
      const latencies: number[] = [];
      for (let i = 0; i < 20; i++) await endpoint.ok('GET', path);
      for (let i = 0; i < requests; i++) {
        const start = performance.now();
        await endpoint.ok('GET', path);
        latencies.push(performance.now() - start);
      }
      return percentile(latencies, 50);
    };
    const value = await timeGets(api, url);
    const floorValue = await timeGets(floor, `/blob/${size}`);
    return [
      {
        metric: `GET /openapi/v3/apis/apps/v1 p50 (${(size / 1024).toFixed(0)} KiB, from memory)`,
        value,
        unit: 'ms',
        floor: floorValue,
        floorName: 'raw HTTPS GET of a body of the same size',
      },
    ];
  } finally {
    for (const endpoint of endpoints) endpoint.close();
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** All client-compatibility figures. */
export async function runCodecBench(): Promise<BenchRow[]> {
  return [...measureDecoding(), ...(await measureOpenApi())];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const rows = await runCodecBench();
  process.stdout.write(markdownTable(rows) + '\n');
}
