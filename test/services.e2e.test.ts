/**
 * End-to-end, issue 7: reaching applications on a real node — `pilote server`
 * with containerd, the CNI bridge, the kubelet, the nftables service proxy,
 * ServiceLB, cluster DNS and the ingress controller, driven by the real
 * kubectl as a user would:
 *
 *  1. the tutorial's redis Deployment behind `kubectl expose` (ClusterIP): a
 *     busybox pod gets +PONG from `redis:6379` by DNS name; scaling to 3
 *     spreads connections over the new pods;
 *  2. the same through a NodePort from the host (127.0.0.1 and the node IP);
 *  3. and through a LoadBalancer's EXTERNAL-IP;
 *  4. an ExternalName Service resolves as a CNAME and leads to redis;
 *  5. Services without selector (EndpointSlice, Endpoints) reach a server the
 *     test runs in its own network namespace;
 *  6. Ingress: hosts a.test/b.test, path prefixes, an ExternalName alias, TLS
 *     from RSA and ECDSA Secrets (TLS 1.3 and 1.2), the status ADDRESS, and a
 *     backend pod deleted under a bounded load of 2,000 requests without
 *     losing one (readiness probe + preStop, as users write them);
 *  7. a pod failing its readiness probe leaves the ClusterIP and the Ingress
 *     until it is ready again;
 *  8. `--cleanup` on stop removes the pods, the nft table and the bridge.
 *
 * Images come from the shared test image store (scripts/build-example-images.sh).
 * Traffic only goes to loopback, the node's own address, pods and a test netns.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Agent, request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { X509Certificate, randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TLSSocket } from 'node:tls';
import { TestCluster, waitFor } from './helpers/cluster.js';
import { createTestHost, enableIpForwarding, freeSubnet, run, startHttpBackend, uniqueName, type TestHost } from './helpers/netns.js';
import { selfSignedCertificate } from '../src/proxy/ingress/self-signed.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const canRun = process.getuid?.() === 0;

/** The ports the node picked (the agent logs them at info level once it is ready). */
interface NodePorts {
  dnsPort: number;
  ingressPorts: { http: number; https: number };
}

function nodeReadyLog(stderr: string): NodePorts {
  for (const line of stderr.split('\n')) {
    if (!line.includes('"node ready"')) continue;
    const entry = JSON.parse(line) as Partial<NodePorts>;
    if (entry.ingressPorts && entry.dnsPort) return entry as NodePorts;
  }
  throw new Error('the server did not log "node ready" with its DNS and ingress ports (is PILOTE_LOG_LEVEL=info?)');
}

/** Sends one redis command on a fresh TCP connection from this machine and returns the first reply line. */
function redisCommand(host: string, port: number, command = 'PING', timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no redis reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk: string) => {
      data += chunk;
      const end = data.indexOf('\r\n');
      if (end >= 0) {
        clearTimeout(timer);
        socket.end('QUIT\r\n');
        resolve(data.slice(0, end));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** The run_id of the redis server answering a fresh connection to host:port (INFO server). */
function redisRunId(host: string, port: number, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let data = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no INFO reply from ${host}:${port} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: string) => {
      data += chunk;
      const match = /run_id:([0-9a-f]+)\r\n/.exec(data);
      if (match) {
        clearTimeout(timer);
        socket.end('QUIT\r\n');
        resolve(match[1]);
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** An HTTP reply. */
interface Reply {
  status: number;
  body: string;
}

/** GET through the ingress' HTTP port with a Host header. */
function ingressGet(port: number, host: string, path: string, agent?: Agent, timeoutMs = 5000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** GET through the ingress' HTTPS port with SNI `host`, trusting only `ca`; also returns the served certificate. */
function ingressGetTls(port: number, host: string, path: string, ca: string, maxVersion: 'TLSv1.2' | 'TLSv1.3' = 'TLSv1.3'): Promise<Reply & { certificate: X509Certificate }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, servername: host, headers: { host }, ca, maxVersion, agent: false }, (res) => {
      const certificate = new X509Certificate((res.socket as TLSSocket).getPeerCertificate().raw);
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, certificate }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A Deployment of busybox httpd pods answering "<name> <pod name>" on / and
 * "<name> api <pod name>" on /api/, written as users write production web
 * apps: a readiness probe, and a preStop sleep so endpoints are removed before
 * the server stops. The shell traps SIGTERM (PID 1 would ignore it otherwise).
 */
function webDeployment(name: string, replicas: number): object {
  const script = [
    'mkdir -p /www/api',
    `echo "${name} $(hostname)" > /www/index.html`,
    `echo "${name} api $(hostname)" > /www/api/index.html`,
    'trap "exit 0" TERM',
    'httpd -f -p 8080 -h /www & wait',
  ].join('; ');
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 15,
          containers: [
            {
              name: 'web',
              image: 'busybox',
              command: ['sh', '-c', script],
              ports: [{ name: 'http', containerPort: 8080 }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              lifecycle: { preStop: { exec: { command: ['sleep', '3'] } } },
            },
          ],
        },
      },
    },
  };
}

describe('services, cluster DNS and ingress on a real node', { skip: canRun ? false : 'needs root (containerd, nftables, netns)' }, () => {
  let cluster: TestCluster;
  let ports: NodePorts;
  let nodeIp: string;
  let redisClusterIp: string;
  /** run_id → pod name of the 3 redis pods. */
  let redisRunIds = new Map<string, string>();
  let testHost: TestHost | undefined;
  /** What the server outside the cluster (in testHost) answers. */
  let outsideBody = '';
  const tmp = mkdtempSync(join(tmpdir(), 'pilote-services-'));

  /** `kubectl exec POD -- sh -c SCRIPT`, failing the test on a non-zero exit. */
  const shIn = (pod: string, script: string) => cluster.kubectlOk(['exec', pod, '--', 'sh', '-c', script]);

  /** Waits until the Deployment has `replicas` available pods and returns their names. */
  async function available(deployment: string, replicas: number, timeoutMs = 90_000): Promise<string[]> {
    return waitFor(async () => {
      const out = await cluster.kubectl(['get', 'deploy', deployment, '-o', 'jsonpath={.status.availableReplicas}/{.status.updatedReplicas}/{.status.replicas}']);
      if (out.stdout !== `${replicas}/${replicas}/${replicas}`) return undefined;
      const pods = JSON.parse(await cluster.kubectlOk(['get', 'pods', '-l', `app=${deployment}`, '-o', 'json'])).items as { metadata: { name: string; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } }[];
      const ready = pods.filter((p) => !p.metadata.deletionTimestamp && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      return ready.length === replicas ? ready.map((p) => p.metadata.name) : undefined;
    }, `${replicas} available pods of deployment ${deployment}`, timeoutMs);
  }

  /** Waits until the Service's EndpointSlices list exactly `count` ready endpoints. */
  async function readyEndpoints(service: string, count: number): Promise<string[]> {
    return waitFor(async () => {
      const slices = JSON.parse(await cluster.kubectlOk(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${service}`, '-o', 'json'])).items as { endpoints?: { addresses: string[]; conditions?: { ready?: boolean } }[] }[];
      const ips = slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.addresses[0]));
      return ips.length === count ? ips : undefined;
    }, `${count} ready endpoints of service ${service}`, 30_000);
  }

  before(async () => {
    enableIpForwarding();
    cluster = await TestCluster.start({ node: true, env: { PILOTE_LOG_LEVEL: 'info' } });
    ports = nodeReadyLog(cluster.stderr);
    await waitFor(async () => {
      const out = await cluster.kubectl(['get', 'nodes', '--no-headers']);
      return out.code === 0 && /\sReady\s/.test(out.stdout);
    }, 'the node to be Ready', 60_000);
    nodeIp = (await cluster.kubectlOk(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'])).trim();
    assert.match(nodeIp, /^\d+\.\d+\.\d+\.\d+$/);
  });

  after(async () => {
    await testHost?.destroy();
    await cluster?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('a client pod reaches the tutorial redis by DNS name through a ClusterIP Service', { timeout: 150_000 }, async () => {
    await cluster.kubectlOk(['apply', '-f', join(root, 'examples', 'tutorial', 'redis-deploy.yaml')]);
    assert.match(await cluster.kubectlOk(['expose', 'deployment', 'redis', '--port=6379']), /service\/redis exposed/);
    await cluster.kubectlOk(['run', 'client', '--image=busybox', '--', 'sleep', '3600']);
    await available('redis', 1);
    await cluster.kubectlOk(['wait', '--for=condition=Ready', 'pod/client', '--timeout=90s'], { timeoutMs: 95_000 });
    redisClusterIp = (await cluster.kubectlOk(['get', 'svc', 'redis', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    const serviceCidr = cluster.args.find((a) => a.startsWith('--service-cidr='))!.split('=')[1];
    assert.equal(redisClusterIp.split('.').slice(0, 3).join('.'), serviceCidr.split('.').slice(0, 3).join('.'), 'the ClusterIP comes from the service range');

    // The Service's rules and DNS record may trail its creation by a moment: poll the first connection.
    const pong = await waitFor(async () => {
      const out = await cluster.kubectl(['exec', 'client', '--', 'sh', '-c', 'printf "PING\\r\\nQUIT\\r\\n" | nc redis 6379']);
      return out.code === 0 && out.stdout.includes('+PONG') ? out.stdout : undefined;
    }, '+PONG from redis:6379', 20_000);
    assert.match(pong, /^\+PONG\r?\n/);
    // From the host too (what a developer on the machine tries).
    assert.equal(await redisCommand(redisClusterIp, 6379), '+PONG');
    assert.match(await shIn('client', 'printf "PING\\r\\nQUIT\\r\\n" | nc redis.default.svc.cluster.local 6379'), /^\+PONG\r?\n/);

    // The pod's resolv.conf points at the cluster DNS with the namespace's search path.
    const resolvConf = await cluster.kubectlOk(['exec', 'client', '--', 'cat', '/etc/resolv.conf']);
    assert.match(resolvConf, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);
    assert.match(resolvConf, /^options ndots:5$/m);
    const dnsIp = /^nameserver (\S+)$/m.exec(resolvConf)![1];
    assert.equal((await cluster.kubectlOk(['get', 'svc', '-n', 'kube-system', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP}'])).trim(), dnsIp);
    // kube-dns has no selector: its EndpointSlice leads to the DNS server on the node.
    const dnsSlice = await cluster.kubectlOk(['get', 'endpointslices', '-n', 'kube-system', '-l', 'kubernetes.io/service-name=kube-dns', '-o', 'jsonpath={.items[*].endpoints[*].addresses[0]} {.items[*].ports[*].port}']);
    assert.deepEqual([...new Set(dnsSlice.trim().split(/\s+/))].sort(), [nodeIp, String(ports.dnsPort)].sort());
    const kubernetesIp = (await cluster.kubectlOk(['get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // busybox nslookup (≥ 1.28) only applies the search path to names without a dot, as on any cluster.
    const lookup = await cluster.kubectlOk(['exec', 'client', '--', 'nslookup', 'kubernetes.default.svc.cluster.local']);
    assert.match(lookup, new RegExp(`Name:\\s+kubernetes\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${kubernetesIp.replace(/\./g, '\\.')}\\b`));
    // `kubernetes.default` through a libc resolver (glibc in the redis image): search path + ndots:5.
    const getent = await cluster.kubectlOk(['exec', 'deploy/redis', '--', 'getent', 'hosts', 'kubernetes.default']);
    assert.equal(getent.trim().split(/\s+/)[0], kubernetesIp);
    assert.equal((await cluster.kubectlOk(['exec', 'deploy/redis', '--', 'getent', 'hosts', 'redis'])).trim().split(/\s+/)[0], redisClusterIp);
    // Hairpin: the only redis pod reaches itself through its own Service.
    assert.equal((await cluster.kubectlOk(['exec', 'deploy/redis', '--', 'redis-cli', '-h', 'redis', 'ping'])).trim(), 'PONG');
  });

  it('scaling the redis Deployment to 3 spreads new connections over the new pods', { timeout: 150_000 }, async () => {
    await cluster.kubectlOk(['scale', 'deployment', 'redis', '--replicas=3']);
    const pods = await available('redis', 3);
    await readyEndpoints('redis', 3);
    // Each redis server has its own run_id: map them to pods.
    const runIds = new Map<string, string>();
    for (const pod of pods) {
      const info = await cluster.kubectlOk(['exec', pod, '--', 'redis-cli', 'info', 'server']);
      runIds.set(/run_id:([0-9a-f]+)/.exec(info)![1], pod);
    }
    assert.equal(runIds.size, 3);
    const connections = 30;
    const out = await shIn('client', `for i in $(seq ${connections}); do printf "INFO server\\r\\nQUIT\\r\\n" | nc redis 6379 | grep run_id; done`);
    const seen = new Map<string, number>();
    for (const match of out.matchAll(/run_id:([0-9a-f]+)/g)) {
      const pod = runIds.get(match[1]);
      assert.ok(pod, `run_id ${match[1]} belongs to none of the redis pods`);
      seen.set(pod, (seen.get(pod) ?? 0) + 1);
    }
    assert.equal([...seen.values()].reduce((a, b) => a + b, 0), connections, `every connection answered:\n${out}`);
    // Random choice over 3 endpoints: missing one in 30 connections has probability 3·(2/3)^30 ≈ 2e-5.
    assert.equal(seen.size, 3, `connections per pod: ${JSON.stringify(Object.fromEntries(seen))}`);
    redisRunIds = runIds;
  });

  it('a NodePort Service answers on 127.0.0.1 and on the node IP', { timeout: 60_000 }, async () => {
    assert.match(await cluster.kubectlOk(['expose', 'deployment', 'redis', '--type=NodePort', '--name=redis-nodeport', '--port=6379']), /service\/redis-nodeport exposed/);
    const nodePort = Number(await cluster.kubectlOk(['get', 'svc', 'redis-nodeport', '-o', 'jsonpath={.spec.ports[0].nodePort}']));
    assert.ok(nodePort >= 30000 && nodePort <= 32767, `nodePort ${nodePort} in 30000-32767`);
    const row = await cluster.kubectlOk(['get', 'svc', 'redis-nodeport', '--no-headers']);
    assert.match(row, new RegExp(`\\sNodePort\\s.*\\s6379:${nodePort}/TCP\\s`));
    assert.equal(await waitFor(async () => redisCommand('127.0.0.1', nodePort).catch(() => undefined), `PING via 127.0.0.1:${nodePort}`), '+PONG');
    assert.equal(await redisCommand(nodeIp, nodePort), '+PONG');
    // Connections from the host spread over the 3 pods too.
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(redisRunIds.get(await redisRunId('127.0.0.1', nodePort)) ?? 'unknown run_id');
    assert.deepEqual([...seen].sort(), [...redisRunIds.values()].sort());
  });

  it('a LoadBalancer Service gets the node IP as EXTERNAL-IP and answers there and on localhost', { timeout: 60_000 }, async () => {
    // A port of our own: other clusters on this machine share the node IP.
    const port = randomInt(20_000, 29_000);
    await cluster.kubectlOk(['expose', 'deployment', 'redis', '--type=LoadBalancer', '--name=redis-lb', `--port=${port}`, '--target-port=6379']);
    const row = await waitFor(async () => {
      const out = await cluster.kubectl(['get', 'svc', 'redis-lb', '--no-headers']);
      const columns = out.stdout.trim().split(/\s+/);
      return columns[3] === nodeIp ? columns : undefined;
    }, 'EXTERNAL-IP of redis-lb', 20_000);
    assert.equal(row[1], 'LoadBalancer');
    assert.match(row[4], new RegExp(`^${port}:\\d+/TCP$`));
    assert.equal(await waitFor(async () => redisCommand(nodeIp, port).catch(() => undefined), `PING via ${nodeIp}:${port}`), '+PONG');
    // And on localhost, as with k3s' ServiceLB.
    assert.equal(await waitFor(async () => redisCommand('127.0.0.1', port).catch(() => undefined), `PING via 127.0.0.1:${port}`), '+PONG');
  });

  it('an ExternalName Service resolves as a CNAME and leads to redis', { timeout: 60_000 }, async () => {
    await cluster.kubectlOk(['create', 'service', 'externalname', 'redis-alias', '--external-name', 'redis.default.svc.cluster.local']);
    const lookup = await waitFor(async () => {
      const out = await cluster.kubectl(['exec', 'client', '--', 'nslookup', 'redis-alias.default.svc.cluster.local']);
      return out.code === 0 && out.stdout.includes('canonical name') ? out.stdout : undefined;
    }, 'the CNAME of redis-alias', 20_000);
    assert.match(lookup, /redis-alias\.default\.svc\.cluster\.local\s+canonical name = redis\.default\.svc\.cluster\.local/);
    assert.match(lookup, new RegExp(`Name:\\s+redis\\.default\\.svc\\.cluster\\.local\\s+Address:\\s+${redisClusterIp.replace(/\./g, '\\.')}\\b`));
    assert.match(await shIn('client', 'printf "PING\\r\\nQUIT\\r\\n" | nc redis-alias 6379'), /^\+PONG\r?\n/);
  });

  it('Services without selector lead to a server outside the cluster (EndpointSlice and Endpoints)', { timeout: 60_000 }, async () => {
    testHost = await createTestHost(uniqueName('svo'), await freeSubnet());
    const body = (outsideBody = `outside ${uniqueName('db', 16)}`);
    await startHttpBackend(testHost, { port: 8080, body });
    const manifests = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside-db' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'outside-db-1', labels: { 'kubernetes.io/service-name': 'outside-db' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: [testHost.ip] }],
      },
      // The older way the tutorial's readers meet first: a Service and an Endpoints of the same name.
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside-legacy' }, spec: { ports: [{ port: 8081, targetPort: 8080 }] } },
      { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'outside-legacy' }, subsets: [{ addresses: [{ ip: testHost.ip }], ports: [{ port: 8080 }] }] },
    ];
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: manifests }) });
    for (const url of ['http://outside-db/', 'http://outside-legacy.default.svc.cluster.local:8081/']) {
      const got = await waitFor(async () => {
        const out = await cluster.kubectl(['exec', 'client', '--', 'wget', '-q', '-O', '-', url]);
        return out.code === 0 ? out.stdout : undefined;
      }, `${url} from the client pod`, 20_000);
      assert.equal(got.trim(), body, url);
    }
  });

  it('Ingress routes a.test and b.test by host and path prefix, over HTTP and TLS, and shows its ADDRESS', { timeout: 150_000 }, async () => {
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [webDeployment('app-a', 2), webDeployment('app-b', 1)] }) });
    await cluster.kubectlOk(['expose', 'deployment', 'app-a', '--port=80', '--target-port=http']);
    await cluster.kubectlOk(['expose', 'deployment', 'app-b', '--port=80', '--target-port=http']);
    // a.test: RSA (what openssl, mkcert and cert-manager make by default); b.test: ECDSA.
    const certs = { 'a.test': await selfSignedCertificate(['a.test'], 'a.test', { keyType: 'rsa' }), 'b.test': await selfSignedCertificate(['b.test'], 'b.test') };
    for (const [host, { cert, key }] of Object.entries(certs)) {
      writeFileSync(join(tmp, `${host}.crt`), cert);
      writeFileSync(join(tmp, `${host}.key`), key);
      await cluster.kubectlOk(['create', 'secret', 'tls', `${host.replace('.', '-')}-tls`, `--cert=${join(tmp, `${host}.crt`)}`, `--key=${join(tmp, `${host}.key`)}`]);
    }
    const backend = (service: string) => ({ service: { name: service, port: { number: 80 } } });
    const ingress = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: {
        tls: [
          { hosts: ['a.test'], secretName: 'a-test-tls' },
          { hosts: ['b.test'], secretName: 'b-test-tls' },
        ],
        rules: [
          { host: 'a.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('app-a') }] } },
          {
            host: 'b.test',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: backend('app-b') },
                { path: '/api', pathType: 'Prefix', backend: backend('app-a') },
              ],
            },
          },
          // An ExternalName alias of a Service of the cluster (the selectorless one above).
          { host: 'db.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('outside-alias') }] } },
        ],
      },
    };
    const alias = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'outside-alias' }, spec: { type: 'ExternalName', externalName: 'outside-db.default.svc.cluster.local', ports: [{ port: 80 }] } };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [alias, ingress] }) });
    const podsA = await available('app-a', 2);
    const [podB] = await available('app-b', 1);
    await readyEndpoints('app-a', 2);
    await readyEndpoints('app-b', 1);

    const http = ports.ingressPorts.http;
    const first = await waitFor(async () => {
      const reply = await ingressGet(http, 'a.test', '/').catch(() => undefined);
      return reply?.status === 200 ? reply : undefined;
    }, 'a.test through the ingress', 20_000);
    assert.match(first.body, /^app-a app-a-/);
    // Round robin over both app-a pods.
    const servedBy = new Set<string>();
    for (let i = 0; i < 6; i++) servedBy.add((await ingressGet(http, 'a.test', '/')).body.trim().split(' ')[1]);
    assert.deepEqual([...servedBy].sort(), [...podsA].sort());
    assert.deepEqual(await ingressGet(http, 'b.test', '/'), { status: 200, body: `app-b ${podB}\n` });
    assert.match((await ingressGet(http, 'b.test', '/api/')).body, /^app-a api app-a-/);
    assert.match((await ingressGet(http, 'b.test', '/api/index.html')).body, /^app-a api app-a-/);
    // Prefix matches whole path elements: /apiv2 is not under /api, so app-b answers it (its own 404 page).
    const notApi = await ingressGet(http, 'b.test', '/apiv2');
    assert.equal(notApi.status, 404);
    assert.notEqual(notApi.body, '404 page not found\n', 'app-b, not the ingress, answered /apiv2');
    assert.deepEqual(await ingressGet(http, 'c.test', '/'), { status: 404, body: '404 page not found\n' });
    assert.deepEqual(await ingressGet(http, 'db.test', '/'), { status: 200, body: outsideBody });

    // TLS with each Secret's certificate, chosen by SNI, whatever its key type and the TLS version.
    for (const [host, { cert }] of Object.entries(certs)) {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        const reply = await waitFor(async () => ingressGetTls(ports.ingressPorts.https, host, '/', cert, version).catch(() => undefined), `https://${host} (${version}) through the ingress`, 20_000);
        assert.equal(reply.status, 200);
        assert.match(reply.body, host === 'a.test' ? /^app-a / : /^app-b /);
        assert.equal(reply.certificate.fingerprint256, new X509Certificate(cert).fingerprint256, `${host} over ${version}`);
      }
    }

    // kubectl get ingress: NAME CLASS HOSTS ADDRESS PORTS AGE — the default class `pilote` set on create, the
    // node IP as ADDRESS once the controller wrote the status.
    const row = await waitFor(async () => {
      const out = (await cluster.kubectl(['get', 'ingress', 'web', '--no-headers'])).stdout.trim();
      return out.split(/\s+/)[3] === nodeIp ? out : undefined;
    }, 'the ADDRESS of ingress web', 20_000);
    assert.match(row, new RegExp(`^web\\s+pilote\\s+a\\.test,b\\.test,db\\.test\\s+${nodeIp.replace(/\./g, '\\.')}\\s+80, 443\\s`));
  });

  it('deleting a backend pod during 2,000 requests through the ingress loses none', { timeout: 120_000 }, async (t) => {
    const http = ports.ingressPorts.http;
    const before = await available('app-a', 2);
    const victim = before[0];
    const total = 2000;
    // Paced at 4 ms per request (~8 s): long enough that the pod's removal, its
    // preStop, its end and its replacement all happen while requests flow; the
    // last 500 also wait for the pod to be gone, so a slow machine cannot end
    // the load before the pod does.
    const spacingMs = 4;
    const tail = 500;
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const results: { at: number; pod?: string; error?: string }[] = [];
    let deletedAt = 0;
    let goneAt = 0;
    const start = Date.now();
    const deletion = (async () => {
      while (results.length < 100) await new Promise((resolve) => setTimeout(resolve, 10));
      deletedAt = Date.now();
      await cluster.kubectlOk(['delete', 'pod', victim, '--wait=false']);
      await cluster.kubectlOk(['wait', '--for=delete', `pod/${victim}`, '--timeout=60s'], { timeoutMs: 65_000 });
      goneAt = Date.now();
    })();
    const released = deletion.then(
      () => Date.now(),
      () => Date.now(),
    );
    const one = async (index: number) => {
      let due = start + index * spacingMs;
      if (index >= total - tail) due = Math.max(due, (await released) + (index - (total - tail)) * spacingMs);
      if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
      const at = Date.now();
      try {
        const reply = await ingressGet(http, 'a.test', '/', agent);
        results.push(reply.status === 200 ? { at, pod: reply.body.trim().split(' ')[1] } : { at, error: `HTTP ${reply.status}: ${reply.body.trim()}` });
      } catch (error) {
        results.push({ at, error: (error as Error).message });
      }
    };
    await Promise.all(Array.from({ length: total }, (_, i) => one(i)));
    const loadEnd = Date.now();
    agent.destroy();
    await deletion;

    const failures = results.filter((r) => r.error);
    const perPod = new Map<string, number>();
    for (const r of results) if (r.pod) perPod.set(r.pod, (perPod.get(r.pod) ?? 0) + 1);
    t.diagnostic(`deleted after ${deletedAt - start} ms, gone after ${goneAt - start} ms, load ended after ${loadEnd - start} ms; per pod ${JSON.stringify(Object.fromEntries(perPod))}`);
    assert.equal(results.length, total);
    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${total} requests failed`);
    assert.ok(goneAt > 0 && goneAt < loadEnd, `the deleted pod was gone before the load ended (gone after ${goneAt - start} ms, load ended after ${loadEnd - start} ms)`);
    assert.ok(results.some((r) => r.pod === victim && r.at < deletedAt), 'the victim served requests before its deletion');
    // Terminating endpoints get no new requests: none reached the victim well before its preStop (3 s) ended.
    const late = results.filter((r) => r.pod === victim && r.at > deletedAt + 1500);
    assert.equal(late.length, 0, `${late.length} requests reached the deleted pod more than 1.5 s after its deletion`);
    // The Deployment replaced the pod, and the replacement receives requests once ready.
    const after = await available('app-a', 2);
    const replacement = after.find((p) => !before.includes(p));
    assert.ok(replacement, `a replacement pod among ${after.join(', ')}`);
    await waitFor(async () => {
      const reply = await ingressGet(http, 'a.test', '/').catch(() => undefined);
      return reply?.body.trim().split(' ')[1] === replacement;
    }, `a request served by the replacement ${replacement}`, 20_000);
  });

  it('a pod failing its readiness probe gets no new requests (ClusterIP and Ingress) until it is ready again', { timeout: 90_000 }, async () => {
    const [sick, healthy] = await available('app-a', 2);
    const servedBy = async () => {
      const out = await shIn('client', 'for i in $(seq 20); do wget -q -O - http://app-a/; done');
      const pods = new Set(out.trim().split('\n').map((line) => line.split(' ')[1]));
      for (let i = 0; i < 10; i++) pods.add((await ingressGet(ports.ingressPorts.http, 'a.test', '/')).body.trim().split(' ')[1]);
      return [...pods].sort();
    };
    // busybox httpd answers 404 without its index: the readiness probe (GET /) fails.
    await shIn(sick, 'mv /www/index.html /www/index.off');
    await waitFor(async () => (await cluster.kubectl(['get', 'pod', sick, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout === 'False', `${sick} not Ready`, 20_000);
    await readyEndpoints('app-a', 1);
    await waitFor(async () => (await servedBy()).join() === healthy, `only ${healthy} serving`, 10_000);
    await shIn(sick, 'mv /www/index.off /www/index.html');
    await readyEndpoints('app-a', 2);
    await waitFor(async () => (await servedBy()).join() === [sick, healthy].sort().join(), `${sick} serving again`, 10_000);
  });

  it('stopping the server with --cleanup removes its pods, rules and bridge', { timeout: 90_000 }, async () => {
    const flag = (name: string) => cluster.args.find((a) => a.startsWith(`--${name}=`))!.split('=')[1];
    const [bridge, table, podCidr] = [flag('bridge-name'), flag('nft-table'), flag('pod-cidr')];
    assert.equal((await run('nft', ['list', 'table', 'ip', table])).code, 0, `nft table ${table} exists while the node runs`);
    assert.equal((await run('ip', ['link', 'show', bridge])).code, 0, `bridge ${bridge} exists while the node runs`);
    const dataDir = cluster.dataDir;
    assert.equal(await cluster.stop(), 0, 'the server exits 0 on SIGTERM');
    assert.notEqual((await run('nft', ['list', 'table', 'ip', table])).code, 0, `nft table ${table} removed`);
    assert.notEqual((await run('ip', ['link', 'show', bridge])).code, 0, `bridge ${bridge} removed`);
    assert.ok(!(await run('ip', ['-4', 'route', 'show'])).stdout.includes(podCidr), `no route left for ${podCidr}`);
    // containerd and its shims (and so the pods) are gone: no process mentions the data directory any more.
    const leftovers = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => {
        try {
          return `${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`;
        } catch {
          return '';
        }
      })
      .filter((line) => line.includes(dataDir));
    assert.deepEqual(leftovers, []);
  });
});
