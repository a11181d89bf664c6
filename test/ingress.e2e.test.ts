/**
 * The built-in ingress controller against a real API server (in process),
 * with real sockets: backends are plain HTTP servers the test starts, reached
 * through Services without selector and EndpointSlices written by the test.
 * Endpoint addresses may not be loopback (API validation), so backends listen
 * on this machine's own node address: traffic to it never leaves the machine.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { startInProcessCluster, type InProcessCluster } from './helpers/in-process.js';
import { createTestHost, freeSubnet, startHttpBackend, uniqueName } from './helpers/netns.js';
import { waitFor } from './helpers/cluster.js';
import { defaultAgentConfig, defaultNodeIp, type AgentConfig } from '../src/agent/config.js';
import { RESOURCES, type ApiClient } from '../src/client/types.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { startIngressController, selfSignedCertificate, INGRESS_CLASS_NAME, INGRESS_CONTROLLER_NAME, type IngressController } from '../src/proxy/ingress/index.js';

const NS = 'ing-test';
const ingressRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' };
const classRef = { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' };
const nodeIp = defaultNodeIp();
const skip = nodeIp.startsWith('127.') ? 'needs a non-loopback node address for endpoints' : false;

interface Backend {
  name: string;
  port: number;
  server: Server;
  hits: number;
}

/** A backend answering JSON {backend, path, headers}; WebSocket-style upgrades echo bytes back. */
async function startBackend(name: string): Promise<Backend> {
  const backend: Backend = { name, port: 0, server: createServer(), hits: 0 };
  backend.server.on('request', (req, res) => {
    backend.hits++;
    const body = JSON.stringify({ backend: name, path: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  backend.server.on('upgrade', (req, socket) => {
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nupgrade: ${req.headers.upgrade}\r\nconnection: Upgrade\r\nx-backend: ${name}\r\n\r\n`);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => backend.server.listen(0, nodeIp, resolve));
  backend.port = (backend.server.address() as { port: number }).port;
  return backend;
}

let cluster: InProcessCluster;
let client: ApiClient;
let config: AgentConfig;
let ingress: IngressController;
const backends: Record<string, Backend> = {};

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  json?: { backend: string; path: string; headers: Record<string, string> };
}

function get(host: string, path: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ingress.httpPort, path, headers: { host }, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => {
        let json;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function createService(name: string, ports: { name?: string; port: number; targetPort?: number | string }[]): Promise<void> {
  await client.resource(RESOURCES.services).create(NS, { metadata: { name }, spec: { ports: ports.map((p) => ({ protocol: 'TCP', ...p })) } });
}

function slice(name: string, service: string, port: number, portName: string, ready = true): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [nodeIp], conditions: { ready } }],
    ports: [{ name: portName, port, protocol: 'TCP' }],
  };
}

const rule = (host: string | undefined, paths: { path: string; pathType: string; service: string; port: { number?: number; name?: string } }[]) => ({
  ...(host ? { host } : {}),
  http: { paths: paths.map((p) => ({ path: p.path, pathType: p.pathType, backend: { service: { name: p.service, port: p.port } } })) },
});

async function createIngress(name: string, spec: unknown, extra: Partial<KubeObject['metadata']> = {}): Promise<void> {
  await client.resource(ingressRef).create(NS, { metadata: { name, ...extra }, spec });
}

describe('ingress controller', { skip }, () => {
  before(async () => {
    cluster = await startInProcessCluster();
    client = cluster.client;
    config = defaultAgentConfig(tmpdir(), '', { nodeIp });
    await client.resource(RESOURCES.namespaces).create(undefined, { metadata: { name: NS } });
    for (const name of ['a', 'b', 'c', 'ws']) backends[name] = await startBackend(name);
    // svc-a: named service port, named target port (the slice carries the resolved number).
    await createService('svc-a', [{ name: 'http', port: 80, targetPort: 'web' }]);
    await createService('svc-b', [{ port: 8080 }]);
    await createService('svc-empty', [{ name: 'http', port: 80 }]);
    await createService('svc-ws', [{ name: 'http', port: 80 }]);
    const slices = client.resource(RESOURCES.endpointSlices);
    await slices.create(NS, slice('svc-a-1', 'svc-a', backends.a.port, 'http'));
    await slices.create(NS, slice('svc-b-1', 'svc-b', backends.b.port, ''));
    await slices.create(NS, slice('svc-empty-1', 'svc-empty', backends.c.port, 'http', false));
    await slices.create(NS, slice('svc-ws-1', 'svc-ws', backends.ws.port, 'http'));
    ingress = await startIngressController({ client, config, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1' });
  });

  after(async () => {
    await ingress?.stop();
    for (const backend of Object.values(backends)) backend.server.closeAllConnections(), backend.server.close();
    await cluster?.stop();
  });

  it('creates the default IngressClass "pilote"', async () => {
    const ingressClass = await client.resource(classRef).get(undefined, INGRESS_CLASS_NAME);
    assert.equal((ingressClass.spec as { controller: string }).controller, INGRESS_CONTROLLER_NAME);
    assert.equal(ingressClass.metadata.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  it('routes hosts a.test and b.test to two services, with X-Forwarded headers', async () => {
    await createIngress('hosts', {
      rules: [rule('a.test', [{ path: '/', pathType: 'Prefix', service: 'svc-a', port: { name: 'http' } }]), rule('b.test', [{ path: '/', pathType: 'Prefix', service: 'svc-b', port: { number: 8080 } }])],
    });
    const a = await waitFor(async () => {
      const reply = await get('a.test', '/hello?x=1');
      return reply.status === 200 && reply;
    }, 'a.test routed');
    assert.equal(a.json?.backend, 'a');
    assert.equal(a.json?.path, '/hello?x=1');
    assert.equal(a.json?.headers['x-forwarded-proto'], 'http');
    assert.equal(a.json?.headers['x-forwarded-host'], 'a.test');
    assert.equal(a.json?.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(a.json?.headers.host, 'a.test');
    assert.equal((await get('b.test:8080', '/')).json?.backend, 'b');
    const unknown = await get('c.test', '/');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body, '404 page not found\n');
  });

  it('sets the node address in the status of the Ingresses it serves (class-less ones too: pilote is the default class)', async () => {
    const served = await waitFor(async () => {
      const object = await client.resource(ingressRef).get(NS, 'hosts');
      return (object.status as { loadBalancer?: { ingress?: { ip: string }[] } } | undefined)?.loadBalancer?.ingress?.length ? object : undefined;
    }, 'status address');
    assert.deepEqual((served.status as { loadBalancer: unknown }).loadBalancer, { ingress: [{ ip: nodeIp }] });
  });

  it('matches Prefix element-wise and prefers Exact on equal paths', async () => {
    await createIngress('paths', {
      rules: [
        rule('p.test', [
          { path: '/api', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } },
          { path: '/api/exact', pathType: 'Exact', service: 'svc-b', port: { number: 8080 } },
          { path: '/api/exact', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } },
        ]),
      ],
    });
    await waitFor(async () => (await get('p.test', '/api')).status === 200, 'p.test routed');
    assert.equal((await get('p.test', '/api/x')).json?.backend, 'a');
    assert.equal((await get('p.test', '/api/exact')).json?.backend, 'b');
    assert.equal((await get('p.test', '/api/exact/more')).json?.backend, 'a');
    assert.equal((await get('p.test', '/apix')).status, 404);
  });

  it('answers 503 when the service has no ready endpoint, and follows endpoints becoming ready', async () => {
    await createIngress('empty', { rules: [rule('empty.test', [{ path: '/', pathType: 'Prefix', service: 'svc-empty', port: { name: 'http' } }])] });
    await waitFor(async () => (await get('empty.test', '/')).status === 503, 'empty.test answers 503');
    const slices = client.resource(RESOURCES.endpointSlices);
    const current = await slices.get(NS, 'svc-empty-1');
    await slices.update(NS, { ...current, endpoints: [{ addresses: [nodeIp], conditions: { ready: true } }] });
    await waitFor(async () => (await get('empty.test', '/')).json?.backend === 'c', 'empty.test served once ready');
  });

  it('ignores Ingresses of another class', async () => {
    await client.resource(classRef).create(undefined, { metadata: { name: 'other' }, spec: { controller: 'example.com/other' } });
    await createIngress('other-class', { ingressClassName: 'other', rules: [rule('other.test', [{ path: '/', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } }])] });
    await createIngress('legacy-annotation', { rules: [rule('legacy.test', [{ path: '/', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } }])] }, { annotations: { 'kubernetes.io/ingress.class': 'other' } });
    await createIngress('mine', { ingressClassName: INGRESS_CLASS_NAME, rules: [rule('mine.test', [{ path: '/', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } }])] });
    await waitFor(async () => (await get('mine.test', '/')).status === 200, 'mine.test routed');
    assert.equal((await get('other.test', '/')).status, 404);
    assert.equal((await get('legacy.test', '/')).status, 404);
    const other = await client.resource(ingressRef).get(NS, 'other-class');
    assert.equal((other.status as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress, undefined);
  });

  it('terminates TLS with the Secret chosen by SNI, and the fallback certificate otherwise', async () => {
    const pair = await selfSignedCertificate(['secure.test']);
    await client.resource(RESOURCES.secrets).create(NS, {
      metadata: { name: 'secure-tls' },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': Buffer.from(pair.cert).toString('base64'), 'tls.key': Buffer.from(pair.key).toString('base64') },
    });
    await createIngress('secure', { tls: [{ hosts: ['secure.test'], secretName: 'secure-tls' }], rules: [rule('secure.test', [{ path: '/', pathType: 'Prefix', service: 'svc-a', port: { number: 80 } }])] });
    const subjectFor = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = tlsConnect({ host: '127.0.0.1', port: ingress.httpsPort, servername, rejectUnauthorized: false }, () => {
          const cert = socket.getPeerCertificate();
          socket.end();
          resolve(cert.subject.CN as string);
        });
        socket.on('error', reject);
      });
    await waitFor(async () => (await subjectFor('secure.test')) === 'secure.test', 'the Secret certificate served for secure.test');
    assert.equal(await subjectFor('unknown.test'), 'Pilote Ingress Default Certificate');
    // A verified HTTPS request with the Secret's certificate as the only trusted CA.
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: ingress.httpsPort, path: '/tls', servername: 'secure.test', headers: { host: 'secure.test' }, ca: pair.cert }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(reply.status, 200);
    const json = JSON.parse(reply.body) as { backend: string; headers: Record<string, string> };
    assert.equal(json.backend, 'a');
    assert.equal(json.headers['x-forwarded-proto'], 'https');
  });

  it('passes upgraded connections (WebSocket) through both ways', async () => {
    await createIngress('ws', { rules: [rule('ws.test', [{ path: '/', pathType: 'Prefix', service: 'svc-ws', port: { number: 80 } }])] });
    await waitFor(async () => (await get('ws.test', '/')).status === 200, 'ws.test routed');
    const echoed = await new Promise<string>((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port: ingress.httpPort }, () => {
        socket.write('GET /chat HTTP/1.1\r\nhost: ws.test\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n');
      });
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString();
        if (received.includes('\r\n\r\n') && !received.includes('ping-pong')) socket.write('ping-pong');
        if (received.endsWith('ping-pong')) {
          socket.destroy();
          resolve(received);
        }
      });
      socket.on('error', reject);
    });
    assert.match(echoed, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(echoed, /x-backend: ws/);
  });

  it('reaches a backend in its own network namespace (a pod-like address)', async () => {
    const host = await createTestHost(uniqueName('ing'), await freeSubnet());
    try {
      const backend = await startHttpBackend(host, { port: 8080, body: 'from-netns' });
      assert.ok(backend.url.includes(host.ip));
      await createService('svc-netns', [{ name: 'http', port: 80, targetPort: 8080 }]);
      await client.resource(RESOURCES.endpointSlices).create(NS, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'svc-netns-1', namespace: NS, labels: { 'kubernetes.io/service-name': 'svc-netns' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [host.ip], conditions: { ready: true } }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      });
      await createIngress('netns', { rules: [rule('netns.test', [{ path: '/', pathType: 'Prefix', service: 'svc-netns', port: { name: 'http' } }])] });
      const reply = await waitFor(async () => {
        const r = await get('netns.test', '/');
        return r.status === 200 && r;
      }, 'netns.test routed');
      assert.equal(reply.body.trim(), 'from-netns');
    } finally {
      await host.destroy();
    }
  });

  it('loses no request of 2,000 when one of two backends goes away under load', async () => {
    const spare = await startBackend('spare');
    backends.spare = spare;
    await createService('svc-lb', [{ name: 'http', port: 80 }]);
    const slices = client.resource(RESOURCES.endpointSlices);
    await slices.create(NS, slice('svc-lb-1', 'svc-lb', backends.a.port, 'http'));
    await slices.create(NS, slice('svc-lb-2', 'svc-lb', spare.port, 'http'));
    await createIngress('lb', { rules: [rule('lb.test', [{ path: '/', pathType: 'Prefix', service: 'svc-lb', port: { number: 80 } }])] });
    await waitFor(async () => (await get('lb.test', '/')).status === 200, 'lb.test routed');

    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const total = 2000;
    let sent = 0;
    let removed = false;
    const failures: string[] = [];
    const served: Record<string, number> = {};
    const removal = async () => {
      // The pod goes unready (endpoint condition), then its server dies with connections still open.
      const current = await slices.get(NS, 'svc-lb-2');
      await slices.update(NS, { ...current, endpoints: [{ addresses: [nodeIp], conditions: { ready: false } }] });
      spare.server.closeAllConnections();
      spare.server.close();
    };
    let removalDone: Promise<void> | undefined;
    const worker = async () => {
      while (sent < total) {
        sent++;
        if (sent === total / 4 && !removed) {
          removed = true;
          removalDone = removal();
        }
        try {
          const reply = await get('lb.test', '/load', agent);
          if (reply.status !== 200) failures.push(`status ${reply.status}: ${reply.body}`);
          else served[reply.json!.backend] = (served[reply.json!.backend] ?? 0) + 1;
        } catch (error) {
          failures.push(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    await removalDone;
    agent.destroy();
    console.log('ingress load: requests per backend', served);
    assert.deepEqual(failures, []);
    assert.equal((served.a ?? 0) + (served.spare ?? 0), total);
    assert.ok((served.spare ?? 0) > 0 && (served.a ?? 0) > total / 2, `both backends served, then only the remaining one: ${JSON.stringify(served)}`);
  });
});
