/**
 * Probes against real local servers (HTTP, TCP) and a scripted ExecSync:
 * thresholds, initial delay, startup gating, timeouts and the kubelet's
 * Unhealthy event texts. Periods are fractions of a second here so the
 * timing rules can be checked quickly (the API only allows whole seconds).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder, EventType } from '../controllers/runtime/events.js';
import type { ExecSyncResponse } from './cri/types.js';
import * as grpc from '@grpc/grpc-js';
import { ProbeManager, probeGrpc, probeHttp, probeTcp, resolveProbePort, type ExecRunner, type ProbeKind } from './probes.js';

class Events implements EventRecorder {
  readonly list: { type: EventType; reason: string; message: string }[] = [];
  event(_object: KubeObject, type: EventType, reason: string, message: string): void {
    this.list.push({ type, reason, message });
  }
  messages(prefix: string): string[] {
    return this.list.filter((e) => e.message.startsWith(prefix)).map((e) => e.message);
  }
}

/** Polls until `check` holds (no sleeps in assertions). */
async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pod: Pod = { metadata: { name: 'p', namespace: 'default', uid: 'pod-uid' }, spec: { containers: [] } };
const noExec: ExecRunner = { execSync: () => Promise.reject(new Error('no exec here')) };

let server: Server;
let httpPort: number;
let status = 500;
let lastHeaders: IncomingHttpHeaders = {};
let hang = false;

before(async () => {
  server = createServer((req, res) => {
    lastHeaders = req.headers;
    if (hang) return; // never answer
    if (req.url === '/moved') {
      res.writeHead(302, { Location: '/healthz' });
      res.end();
      return;
    }
    if (req.url === '/away') {
      res.writeHead(302, { Location: 'http://elsewhere.invalid/' });
      res.end();
      return;
    }
    res.writeHead(req.url === '/healthz' ? status : 404);
    res.end('body');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  httpPort = (server.address() as AddressInfo).port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('ProbeManager', () => {
  it('readiness over HTTP: false until successThreshold passes, events on failures', async () => {
    status = 500;
    const events = new Events();
    const results: { kind: ProbeKind; success: boolean }[] = [];
    const manager = new ProbeManager({ cri: noExec, recorder: events, onResult: (e) => results.push({ kind: e.kind, success: e.success }) });
    const container: Container = {
      name: 'web',
      ports: [{ name: 'http', containerPort: httpPort }],
      readinessProbe: {
        httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Check', value: 'yes' }] },
        periodSeconds: 0.03,
        successThreshold: 2,
        failureThreshold: 1,
      },
    };
    try {
      manager.add(pod, container, 'c1', '127.0.0.1');
      assert.equal(manager.isReady('c1'), false, 'not ready before the first success');
      await until(() => events.messages('Readiness probe failed').length >= 2, 'two failures');
      assert.equal(events.list[0].reason, 'Unhealthy');
      assert.equal(events.list[0].type, 'Warning');
      assert.equal(events.list[0].message, 'Readiness probe failed: HTTP probe failed with statuscode: 500');
      assert.equal(lastHeaders['user-agent'], 'kube-probe/1.32');
      assert.equal(lastHeaders['x-check'], 'yes');
      assert.equal(manager.isReady('c1'), false);
      status = 200;
      await until(() => manager.isReady('c1') === true, 'ready');
      assert.deepEqual(results, [{ kind: 'readiness', success: true }]);
      status = 503;
      await until(() => manager.isReady('c1') === false, 'unready again');
      assert.deepEqual(results.at(-1), { kind: 'readiness', success: false });
      assert.equal(manager.failure('c1'), undefined, 'readiness never restarts a container');
    } finally {
      manager.stop();
    }
  });

  it('liveness over TCP: restart after exactly failureThreshold failures, then probing stops', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const events = new Events();
    const manager = new ProbeManager({ cri: noExec, recorder: events });
    const container: Container = { name: 'redis', livenessProbe: { tcpSocket: { port }, periodSeconds: 0.02, failureThreshold: 3 } };
    try {
      manager.add(pod, container, 'c2', '127.0.0.1');
      assert.equal(manager.failure('c2'), undefined);
      await until(() => manager.failure('c2') !== undefined, 'liveness failure');
      assert.equal(manager.failure('c2'), 'Container redis failed liveness probe');
      const failures = events.messages('Liveness probe failed');
      assert.equal(failures.length, 3);
      assert.equal(failures[0], `Liveness probe failed: dial tcp 127.0.0.1:${port}: connect: connection refused`);
      // On hold: no further probing of this instance.
      const seen = events.list.length;
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(events.list.length, seen);
    } finally {
      manager.stop();
    }
    assert.deepEqual(await probeTcp('127.0.0.1', httpPort, 1000), { success: true, output: '' });
  });

  it('startup probe gates liveness; exec runs through ExecSync with the timeout', async () => {
    const calls: { cmd: string[]; timeout?: number }[] = [];
    let startupAnswers = [1, 1, 0];
    const runner: ExecRunner = {
      async execSync(_id: string, cmd: string[], timeout?: number): Promise<ExecSyncResponse> {
        calls.push({ cmd, timeout });
        if (cmd[0] === 'startup') {
          const code = startupAnswers.shift() ?? 0;
          return { exitCode: code, stdout: Buffer.from(code ? 'not yet' : ''), stderr: Buffer.alloc(0) };
        }
        return { exitCode: 0, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) };
      },
    };
    const events = new Events();
    const manager = new ProbeManager({ cri: runner, recorder: events });
    const container: Container = {
      name: 'slow',
      startupProbe: { exec: { command: ['startup'] }, periodSeconds: 0.02, failureThreshold: 10, timeoutSeconds: 7 },
      livenessProbe: { exec: { command: ['alive'] }, periodSeconds: 0.02 },
    };
    try {
      manager.add(pod, container, 'c3', '127.0.0.1');
      assert.equal(manager.isStarted('c3'), false);
      await until(() => manager.isStarted('c3') === true, 'started');
      const firstLiveness = calls.findIndex((c) => c.cmd[0] === 'alive');
      const lastStartup = calls.map((c) => c.cmd[0]).lastIndexOf('startup');
      await until(() => calls.some((c) => c.cmd[0] === 'alive'), 'liveness runs after startup');
      assert.ok(firstLiveness === -1 || firstLiveness > lastStartup, 'no liveness probe before startup succeeded');
      assert.equal(calls[0].timeout, 7);
      assert.deepEqual(events.messages('Startup probe failed'), ['Startup probe failed: not yet', 'Startup probe failed: not yet']);
      assert.equal(manager.failure('c3'), undefined);
      startupAnswers = [];
    } finally {
      manager.stop();
    }
  });

  it('waits initialDelaySeconds after the container started, and times out slow servers', async () => {
    hang = true;
    const events = new Events();
    const manager = new ProbeManager({ cri: noExec, recorder: events });
    const started = Date.now();
    const container: Container = {
      name: 'web',
      livenessProbe: { httpGet: { path: '/healthz', port: httpPort }, initialDelaySeconds: 0.3, periodSeconds: 0.05, timeoutSeconds: 0.1, failureThreshold: 1 },
    };
    try {
      manager.add(pod, container, 'c4', '127.0.0.1', started);
      await until(() => events.list.length > 0, 'first failure');
      assert.ok(Date.now() - started >= 300 + 100, 'first probe after the delay, failing after its timeout');
      assert.equal(events.list[0].message, `Liveness probe failed: Get "http://127.0.0.1:${httpPort}/healthz": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
      assert.equal(manager.failure('c4'), 'Container web failed liveness probe');
    } finally {
      manager.stop();
      hang = false;
      server.closeAllConnections();
    }
  });

  it('checks gRPC health (grpc.health.v1) as the kubelet grpc probe', async () => {
    let serving = 1; // SERVING
    const grpcServer = new grpc.Server();
    grpcServer.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: (v: Buffer) => v,
          requestDeserialize: (b: Buffer) => b,
          responseSerialize: (status: number) => Buffer.from([0x08, status]),
          responseDeserialize: (b: Buffer) => b[1],
        },
      },
      { Check: (_call: unknown, callback: (error: null, status: number) => void) => callback(null, serving) },
    );
    const port = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
    );
    try {
      assert.deepEqual(await probeGrpc('127.0.0.1', port, '', 2000), { success: true, output: '' });
      serving = 2; // NOT_SERVING
      assert.deepEqual(await probeGrpc('127.0.0.1', port, '', 2000), { success: false, output: 'service unhealthy (responded with "NOT_SERVING")' });
    } finally {
      grpcServer.forceShutdown();
    }
  });

  it('follows same-host redirects and lets the final answer decide', async () => {
    const url = (path: string) => new URL(`http://127.0.0.1:${httpPort}${path}`);
    status = 500;
    assert.deepEqual(await probeHttp(url('/moved'), {}, 1000), { success: false, output: 'HTTP probe failed with statuscode: 500' });
    status = 200;
    assert.deepEqual(await probeHttp(url('/moved'), {}, 1000), { success: true, output: 'body' });
    assert.equal((await probeHttp(url('/away'), {}, 1000)).success, true, 'another host ends the probe as a success');
    assert.deepEqual(await probeHttp(url('/nothing'), {}, 1000), { success: false, output: 'HTTP probe failed with statuscode: 404' });
  });

  it('resolves named ports and reports unknown ones', () => {
    const container: Container = { name: 'c', ports: [{ name: 'http', containerPort: 8080 }] };
    assert.equal(resolveProbePort('http', container), 8080);
    assert.equal(resolveProbePort(81, container), 81);
    assert.equal(resolveProbePort('82', container), 82);
    assert.throws(() => resolveProbePort('grpc', container), /couldn't find port: grpc/);
  });
});
