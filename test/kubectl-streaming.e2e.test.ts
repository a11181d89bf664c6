/**
 * Streaming with the real kubectl: logs (-c, -f, --previous, --tail, --since,
 * --timestamps), exec (stdout, exit codes, stdin, -t), port-forward and cp,
 * through the API server to the kubelet's HTTPS server and containerd.
 *
 * The node is the kubelet's test harness (in-process API server, a private
 * containerd with a busybox image, the pod workers); this file adds the
 * kubelet server and publishes its endpoint on the Node, as node-status does.
 * kubectl 1.32 speaks WebSocket (exec v5, port-forward tunnelled SPDY);
 * kubectl 1.27 speaks SPDY — both are run, and 1.28–1.33 briefly. A last
 * part runs the tutorial's nginx pod on `pilote server` with its own node.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createHash } from 'node:crypto';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startTestNode, type TestNode } from '../src/kubelet/kubelet-harness.test-helper.js';
import { startKubeletServer, type KubeletServer } from '../src/kubelet/streaming/server.js';
import { loadOrCreatePki, writeKubeconfig } from '../src/apiserver/pki.js';
import { RESOURCES } from '../src/client/types.js';
import type { KubeObject } from '../src/apimachinery/types.js';
import { TestCluster, kubectlBinary, waitFor } from './helpers/cluster.js';

interface Result {
  stdout: string;
  stderr: string;
  code: number;
}

function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubectl logs, exec, port-forward and cp against a real node', { timeout: 300_000 }, () => {
  let node: TestNode;
  let kubelet: KubeletServer;
  let work: string;
  let kubeconfig: string;
  const children = new Set<ChildProcess>();

  const kubectl = (args: string[], options: { input?: string; minor?: string; timeoutMs?: number } = {}): Promise<Result> =>
    new Promise((resolve) => {
      const child = execFile(
        kubectlBinary(options.minor ?? '32'),
        args,
        { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: work }, timeout: options.timeoutMs ?? 30_000 },
        (error, stdout, stderr) => resolve({ stdout: String(stdout), stderr: String(stderr), code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 }),
      );
      if (options.input !== undefined) child.stdin!.end(options.input);
      else child.stdin!.end();
    });

  /** Starts a long-running kubectl and returns it with a line reader on stdout. */
  const kubectlStream = (args: string[], minor = '32') => {
    const child = spawn(kubectlBinary(minor), args, { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: work }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    child.on('exit', () => children.delete(child));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const lines: string[] = [];
    const waiters: (() => void)[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      for (const w of waiters.splice(0)) w();
    });
    const waitLines = async (count: number, timeoutMs = 20_000) => {
      const deadline = Date.now() + timeoutMs;
      while (lines.length < count) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`expected ${count} lines from kubectl ${args.join(' ')}, got ${JSON.stringify(lines)}; stderr: ${stderr}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return lines;
    };
    return { child, lines, waitLines, stderr: () => stderr };
  };

  const createPod = (name: string, spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) =>
    node.createPod({ metadata: { name, ...metadata }, spec: { terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, ...spec } });

  const waitRunning = (name: string) =>
    waitFor(async () => {
      const pod = await node.getPod(name);
      return pod.status?.phase === 'Running' && pod.status.containerStatuses?.every((c) => c.state?.running) ? pod : undefined;
    }, `pod ${name} Running`, 30_000);

  before(async () => {
    node = await startTestNode();
    work = mkdtempSync(join(tmpdir(), 'pilote-streaming-'));
    const pki = await loadOrCreatePki(node.api.dataDir);
    kubelet = await startKubeletServer({ config: { ...node.config, kubeletPort: 0 }, cri: node.cri, caCertPem: pki.caCert, caKeyPem: pki.caKey, host: '127.0.0.1' });
    kubeconfig = writeKubeconfig(work, pki, `https://127.0.0.1:${node.api.port}`);
    // What node-status publishes: the InternalIP and the kubelet port.
    const nodes = node.client.resource(RESOURCES.nodes);
    let object: KubeObject;
    try {
      object = await nodes.get(undefined, node.config.nodeName);
    } catch {
      object = await nodes.create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: node.config.nodeName } } as KubeObject);
    }
    object.status = { ...(object.status as object), addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: node.config.nodeName }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } };
    await nodes.updateStatus(undefined, object);

    await createPod('talker', { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo one; echo two; echo three; sleep 0.3; echo oops >&2; sleep 3600'] }] });
    await createPod('web', { containers: [{ name: 'web', image: 'busybox', command: ['sh', '-c', 'echo hello-from-pod > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'] }] });
    await createPod(
      'duo',
      {
        containers: [
          { name: 'first', image: 'busybox', command: ['sh', '-c', 'echo from-first; sleep 3600'] },
          { name: 'second', image: 'busybox', command: ['sh', '-c', 'echo from-second; sleep 3600'] },
        ],
      },
      { annotations: { 'kubectl.kubernetes.io/default-container': 'second' } },
    );
    await createPod('crasher', { restartPolicy: 'Always', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo attempt-$(date +%s)-$RANDOM; sleep 1; exit 1'] }] });
    await Promise.all(['talker', 'web', 'duo'].map(waitRunning));
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await kubelet?.stop();
    await node?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('kubectl logs: whole log, -c, --tail, --timestamps, --since, --limit-bytes', async () => {
    const all = await waitFor(async () => {
      const r = await kubectl(['logs', 'talker']);
      return r.code === 0 && r.stdout.includes('three') && r.stdout.includes('oops') ? r : undefined;
    }, 'talker logs', 15_000);
    assert.deepEqual(all.stdout.split('\n').filter((l) => l !== 'oops'), ['one', 'two', 'three', '']);
    assert.ok(all.stdout.includes('oops\n'), 'stderr lines are in the log');
    assert.equal((await kubectl(['logs', 'talker', '-c', 'main'])).stdout, all.stdout);
    const tail = await kubectl(['logs', 'talker', '--tail=2']);
    assert.equal(tail.stdout.split('\n').length, 3, tail.stdout);
    assert.equal(tail.stdout, all.stdout.split('\n').slice(-3).join('\n'));
    const stamped = await kubectl(['logs', 'talker', '--timestamps']);
    const lines = stamped.stdout.trim().split('\n');
    assert.equal(lines.length, 4);
    for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d) (one|two|three|oops)$/);
    assert.equal((await kubectl(['logs', 'talker', '--since=1h'])).stdout, all.stdout);
    // The lines are older than a second by the time the future-only window is asked for.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    assert.equal((await kubectl(['logs', 'talker', '--since=1s'])).stdout, '');
    assert.equal((await kubectl(['logs', 'talker', '--limit-bytes=6'])).stdout, 'one\ntw');
  });

  it('kubectl logs picks the default container and explains a wrong one', async () => {
    await waitFor(async () => (await kubectl(['logs', 'duo'])).stdout.includes('from-second'), 'duo logs');
    assert.equal((await kubectl(['logs', 'duo', '-c', 'first'])).stdout, 'from-first\n');
    const wrong = await kubectl(['logs', 'duo', '-c', 'third']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /container third is not valid for pod duo/);
    const previous = await kubectl(['logs', 'talker', '--previous']);
    assert.notEqual(previous.code, 0);
    assert.match(previous.stderr, /previous terminated container "main" in pod "talker" not found/);
  });

  it('kubectl logs -f streams new lines as they are written', async () => {
    await createPod('ticker', { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done'] }] });
    await waitRunning('ticker');
    const follow = kubectlStream(['logs', '-f', 'ticker']);
    const lines = await follow.waitLines(5);
    assert.deepEqual(lines.slice(0, 5), ['tick-1', 'tick-2', 'tick-3', 'tick-4', 'tick-5']);
    follow.child.kill('SIGINT');
  });

  it('kubectl logs -f ends once the container has exited', async () => {
    await createPod('brief', { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo first; sleep 2; echo last'] }] });
    await waitRunning('brief');
    const started = Date.now();
    const follow = await kubectl(['logs', '-f', 'brief'], { timeoutMs: 20_000 });
    assert.equal(follow.code, 0, follow.stderr);
    assert.equal(follow.stdout, 'first\nlast\n');
    assert.ok(Date.now() - started < 15_000);
  });

  it('kubectl logs --previous shows the last terminated attempt', async () => {
    const pod = await waitFor(async () => {
      const p = await node.getPod('crasher');
      return p.status?.containerStatuses?.[0]?.lastState?.terminated ? p : undefined;
    }, 'crasher restarted', 40_000);
    assert.ok(pod.status!.containerStatuses![0].restartCount >= 1);
    const previous = await kubectl(['logs', 'crasher', '--previous']);
    assert.equal(previous.code, 0, previous.stderr);
    assert.match(previous.stdout, /^attempt-\d+-\d+\n$/);
  });

  for (const minor of ['32', '27']) {
    it(`kubectl ${minor === '32' ? '1.32 (WebSocket v5)' : '1.27 (SPDY)'} exec: output, exit code, stdin, tty`, async () => {
      const ls = await kubectl(['exec', 'talker', '--', 'ls', '/'], { minor });
      assert.equal(ls.code, 0, ls.stderr);
      assert.ok(ls.stdout.split('\n').includes('bin'), ls.stdout);
      const failing = await kubectl(['exec', 'talker', '--', 'sh', '-c', 'echo to-stderr >&2; exit 3'], { minor });
      assert.equal(failing.code, 3, failing.stderr);
      assert.match(failing.stderr, /to-stderr/);
      const cat = await kubectl(['exec', '-i', 'talker', '--', 'cat'], { minor, input: 'hello\nworld\n' });
      assert.equal(cat.code, 0, cat.stderr);
      assert.equal(cat.stdout, 'hello\nworld\n');
      const tty = await kubectl(['exec', '-t', 'talker', '--', 'sh', '-c', 'echo in-tty'], { minor });
      assert.equal(tty.code, 0, tty.stderr);
      assert.match(tty.stdout, /in-tty/);
      const big = await kubectl(['exec', 'talker', '--', 'sh', '-c', 'seq 1 50000'], { minor });
      assert.equal(big.stdout.split('\n').length, 50001);
      const missing = await kubectl(['exec', 'talker', '-c', 'nope', '--', 'true'], { minor });
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /container nope is not valid for pod talker|container nope not found/);
    });

    it(`kubectl ${minor} exec -ti in a terminal: the remote TTY gets the local window size`, async () => {
      // `script` gives kubectl a pseudo-terminal of 45 rows × 123 columns; the resize is asynchronous, as in Kubernetes.
      const command = `stty cols 123 rows 45; ${kubectlBinary(minor)} exec -ti talker -- sh -c 'sleep 0.5; busybox stty size'`;
      const result = await new Promise<Result>((resolve) => {
        const child = execFile('script', ['-qec', command, '/dev/null'], { env: { ...process.env, KUBECONFIG: kubeconfig, HOME: work }, timeout: 30_000 }, (error, stdout, stderr) =>
          resolve({ stdout: String(stdout), stderr: String(stderr), code: error ? (typeof error.code === 'number' ? error.code : 1) : 0 }),
        );
        child.stdin!.end();
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stdout, /45 123/);
    });

    it(`kubectl ${minor} port-forward reaches the pod's port`, async () => {
      const forward = kubectlStream(['port-forward', 'pod/web', ':8080'], minor);
      const [first] = await forward.waitLines(1);
      const port = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(first)?.[1]);
      assert.ok(port > 0, first);
      // Several connections through one port-forward session.
      for (let i = 0; i < 3; i++) assert.equal(await httpGet(port, '/index.html'), 'hello-from-pod\n');
      forward.child.kill('SIGINT');
    });
  }

  for (const minor of ['33', '31', '30', '29', '28']) {
    it(`kubectl 1.${minor}: exec with stdin and exit code, port-forward`, async () => {
      const cat = await kubectl(['exec', '-i', 'talker', '--', 'sh', '-c', 'cat; exit 4'], { minor, input: `via-${minor}\n` });
      assert.equal(cat.code, 4, cat.stderr);
      assert.equal(cat.stdout, `via-${minor}\n`);
      const forward = kubectlStream(['port-forward', 'pod/web', ':8080'], minor);
      const [first] = await forward.waitLines(1);
      const port = Number(/127\.0\.0\.1:(\d+) -> 8080/.exec(first)?.[1]);
      assert.equal(await httpGet(port, '/index.html'), 'hello-from-pod\n');
      forward.child.kill('SIGINT');
    });
  }

  it('kubectl attach streams the output of the running process', async () => {
    await createPod('chatty', { containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo chat-$i; sleep 0.2; done'] }] });
    await waitRunning('chatty');
    const attach = kubectlStream(['attach', 'chatty']);
    const lines = await attach.waitLines(3);
    for (const line of lines.slice(0, 3)) assert.match(line, /^chat-\d+$/);
    attach.child.kill('SIGINT');
  });

  it('@kubernetes/client-node: exec (WebSocket channels) and port-forward (channel protocol)', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(kubeconfig);
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (c: Buffer) => (text += c.toString()));
    const status = await new Promise<k8s.V1Status>((resolve, reject) => {
      new k8s.Exec(kc).exec('default', 'talker', 'main', ['sh', '-c', 'echo from-client-node; exit 5'], stdout, null, null, false, resolve).catch(reject);
    });
    assert.equal(status.status, 'Failure');
    assert.equal(status.reason, 'NonZeroExitCode');
    assert.equal(status.details?.causes?.[0]?.message, '5');
    assert.equal(text, 'from-client-node\n');

    const output = new PassThrough();
    let response = '';
    output.on('data', (c: Buffer) => (response += c.toString()));
    const input = new PassThrough();
    const ws = await new k8s.PortForward(kc).portForward('default', 'web', [8080], output, null, input);
    input.write('GET /index.html HTTP/1.0\r\n\r\n');
    await waitFor(() => response.includes('hello-from-pod'), 'the page through client-node port-forward');
    assert.match(response, /^HTTP\/1\.[01] 200/);
    (ws as unknown as { close(): void }).close();
  });

  it('kubectl cp copies a file into the pod and back', async () => {
    const source = join(work, 'payload.txt');
    const content = Array.from({ length: 2000 }, (_, i) => `line ${i}`).join('\n') + '\n';
    writeFileSync(source, content);
    const put = await kubectl(['cp', source, 'default/talker:/tmp/payload.txt']);
    assert.equal(put.code, 0, put.stderr);
    const inside = await kubectl(['exec', 'talker', '--', 'wc', '-c', '/tmp/payload.txt']);
    assert.match(inside.stdout, new RegExp(`^${Buffer.byteLength(content)} `));
    const back = join(work, 'back.txt');
    const get = await kubectl(['cp', 'default/talker:/tmp/payload.txt', back]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(readFileSync(back, 'utf8'), content);
    // 16 MiB of random bytes out of the pod: many WebSocket messages and SPDY frames, byte-exact.
    const made = await kubectl(['exec', 'talker', '--', 'sh', '-c', 'dd if=/dev/urandom of=/tmp/big bs=1048576 count=16 2>/dev/null && busybox sha256sum /tmp/big']);
    assert.equal(made.code, 0, made.stderr);
    const bigBack = join(work, 'big');
    const started = Date.now();
    const out = await kubectl(['cp', 'default/talker:/tmp/big', bigBack], { timeoutMs: 60_000 });
    assert.equal(out.code, 0, out.stderr);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(createHash('sha256').update(readFileSync(bigBack)).digest('hex'), made.stdout.split(' ')[0]);
    const back16 = await kubectl(['cp', bigBack, 'default/talker:/tmp/big2'], { timeoutMs: 60_000 });
    assert.equal(back16.code, 0, back16.stderr);
    const sum2 = await kubectl(['exec', 'talker', '--', 'busybox', 'sha256sum', '/tmp/big2']);
    assert.equal(sum2.stdout.split(' ')[0], made.stdout.split(' ')[0]);
    process.stderr.write(`kubectl cp of 16 MiB out of the pod: ${seconds.toFixed(2)} s\n`);
  });

  it('answers unknown pods, unscheduled pods and simulated nodes as Kubernetes does', async () => {
    const missing = await kubectl(['logs', 'no-such-pod']);
    assert.match(missing.stderr, /pods "no-such-pod" not found/);
    const pods = node.client.resource(RESOURCES.pods);
    await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nowhere' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
    const unscheduled = await kubectl(['exec', 'nowhere', '--', 'true']);
    assert.notEqual(unscheduled.code, 0);
    assert.match(unscheduled.stderr, /pod nowhere does not have a host assigned/);
    assert.equal((await kubectl(['logs', 'nowhere'])).stdout, '');
    // A simulated node has made-up addresses: nothing is dialled, the answer says why.
    await node.client.resource(RESOURCES.nodes).create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'sim-1', labels: { 'pilote.dev/simulated': 'true' } } } as KubeObject);
    await pods.create('default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'simulated' }, spec: { nodeName: 'sim-1', containers: [{ name: 'c', image: 'busybox' }] } } as KubeObject);
    const simulated = await kubectl(['logs', 'simulated']);
    assert.notEqual(simulated.code, 0);
    assert.match(simulated.stderr, /BadRequest.*runs on simulated node "sim-1", which runs no containers/);
  });
});

describe('the tutorial through pilote server with its own node', { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  const children = new Set<ChildProcess>();

  before(async () => {
    cluster = await TestCluster.start({ node: true });
  });

  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await cluster?.stop();
  });

  it('kubectl run mynginx, then port-forward, exec and logs reach the container', async () => {
    const run = await cluster.kubectl(['run', 'mynginx', '--image=nginx']);
    assert.equal(run.code, 0, run.stderr);
    await waitFor(async () => (await cluster.kubectl(['get', 'pod', 'mynginx', '-o', 'jsonpath={.status.phase}'])).stdout === 'Running', 'mynginx Running', 60_000);
    const ls = await cluster.kubectl(['exec', 'mynginx', '--', 'ls', '/usr/share/nginx/html']);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /index\.html/);
    const forward = spawn(kubectlBinary(), ['port-forward', 'pod/mynginx', ':80'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig, HOME: cluster.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(forward);
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('port-forward printed no port')), 20_000);
      createInterface({ input: forward.stdout! }).on('line', (line) => {
        const match = /127\.0\.0\.1:(\d+) -> 80/.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    const page = await httpGet(port, '/');
    assert.match(page, /<html/i);
    forward.kill('SIGINT');
    const logs = await cluster.kubectl(['logs', 'mynginx']);
    assert.equal(logs.code, 0, logs.stderr);
  });
});
