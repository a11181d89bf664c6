/**
 * End-to-end, issue 6: the tutorial's pods on a real node — `pilote server`
 * with containerd, the CNI bridge and the kubelet, driven by the real kubectl
 * exactly as the tutorial (../shared/seed/) does: `kubectl run mynginx`,
 * port-forward + curl, logs, exec, the init container example, the
 * nginxsecure pod, the redis Deployment with its limits, and a container over
 * its memory limit. Images come from the shared test image store, built from
 * Debian by scripts/build-example-images.sh (no registry, no internet).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { TestCluster, waitFor } from './helpers/cluster.js';
import { freePort } from './helpers/ports.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const example = (name: string) => join(root, 'examples', 'tutorial', name);

/** `kubectl get pod NAME` as JSON. */
async function getPod(cluster: TestCluster, name: string): Promise<any> {
  const result = await cluster.kubectl(['get', 'pod', name, '-o', 'json']);
  return result.code === 0 ? JSON.parse(result.stdout) : undefined;
}

/** The STATUS column kubectl prints for a pod. */
async function podStatusColumn(cluster: TestCluster, name: string): Promise<string> {
  const out = await cluster.kubectl(['get', 'pod', name, '--no-headers']);
  return out.stdout.trim().split(/\s+/)[2] ?? '';
}

/** GET http://127.0.0.1:port/path → { status, body }. */
function httpGet(port: number, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

describe('the tutorial on a real node (containerd)', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start({ node: true });
    await waitFor(async () => {
      const out = await cluster.kubectl(['get', 'nodes', '--no-headers']);
      return out.code === 0 && /\sReady\s/.test(out.stdout);
    }, 'the node to be Ready', 60_000);
  });

  after(async () => {
    await cluster?.stop();
  });

  it('kubectl run mynginx --image=nginx reaches Running with a pod IP from the node range', async () => {
    assert.match(await cluster.kubectlOk(['run', 'mynginx', '--image=nginx']), /pod\/mynginx created/);
    const pod = await waitFor(async () => {
      const current = await getPod(cluster, 'mynginx');
      return current?.status?.phase === 'Running' && current.status.containerStatuses?.[0]?.ready ? current : undefined;
    }, 'mynginx Running and ready', 120_000);
    const podCidr = cluster.args.find((a) => a.startsWith('--pod-cidr='))!.split('=')[1];
    assert.equal(pod.status.podIP.split('.').slice(0, 3).join('.'), podCidr.split('.').slice(0, 3).join('.'));
    assert.match(pod.status.containerStatuses[0].containerID, /^containerd:\/\//);
    assert.match(pod.status.containerStatuses[0].imageID, /sha256:[0-9a-f]{64}$/);
    assert.equal(await podStatusColumn(cluster, 'mynginx'), 'Running');
    const events = await cluster.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=mynginx', '-o', 'jsonpath={.items[*].reason}']);
    for (const reason of ['Scheduled', 'Created', 'Started']) assert.ok(events.split(' ').includes(reason), `event ${reason} in ${events}`);
  });

  it('kubectl port-forward pod/mynginx then curl returns the tutorial page', async () => {
    const port = await freePort();
    const forward: ChildProcess = cluster.kubectlSpawn(['port-forward', 'pod/mynginx', `${port}:80`]);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('port-forward did not start')), 20_000);
        createInterface({ input: forward.stdout! }).on('line', (line) => {
          if (line.startsWith(`Forwarding from 127.0.0.1:${port} -> 80`)) {
            clearTimeout(timer);
            resolve();
          }
        });
        forward.once('exit', (code) => reject(new Error(`port-forward exited ${code}`)));
      });
      const page = await httpGet(port);
      assert.equal(page.status, 200);
      assert.equal(page.body, readFileSync(join(root, 'examples', 'images', 'nginx', 'index.html'), 'utf8'));
    } finally {
      forward.kill();
    }
  });

  it('kubectl logs shows the request; kubectl exec lists the page', async () => {
    const logs = await waitFor(async () => {
      const out = await cluster.kubectl(['logs', 'mynginx']);
      return out.code === 0 && out.stdout.includes('GET / HTTP/1.1') ? out.stdout : undefined;
    }, 'the access log line', 15_000);
    assert.match(logs, /"GET \/ HTTP\/1\.1" 200/);
    // As in the official image: the page and nginx's own error page.
    assert.deepEqual((await cluster.kubectlOk(['exec', 'mynginx', '--', 'ls', '/usr/share/nginx/html'])).trim().split('\n'), ['50x.html', 'index.html']);
    const failed = await cluster.kubectl(['exec', 'mynginx', '--', 'sh', '-c', 'exit 3']);
    assert.equal(failed.code, 3);
  });

  it('the init container example shows Init:0/1, then Running', async () => {
    const manifest = readFileSync(example('initcontainer-pod.yaml'), 'utf8').replace("['sleep', '20']", "['sleep', '4']");
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest });
    await waitFor(async () => (await podStatusColumn(cluster, 'initcontainer-example')) === 'Init:0/1', 'Init:0/1', 60_000);
    await waitFor(async () => (await podStatusColumn(cluster, 'initcontainer-example')) === 'Running', 'Running after the init container', 60_000);
    const pod = await getPod(cluster, 'initcontainer-example');
    assert.equal(pod.status.initContainerStatuses[0].state.terminated.reason, 'Completed');
  });

  it('the nginxsecure pod fails with CreateContainerConfigError', async () => {
    await cluster.kubectlOk(['apply', '-f', example('nginxsecure-pod.yaml')]);
    const pod = await waitFor(async () => {
      const current = await getPod(cluster, 'nginxsecure');
      return current?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' ? current : undefined;
    }, 'CreateContainerConfigError', 60_000);
    assert.match(pod.status.containerStatuses[0].state.waiting.message, /^container has runAsNonRoot and image will run as root/);
    assert.equal(await podStatusColumn(cluster, 'nginxsecure'), 'CreateContainerConfigError');
  });

  it('the redis Deployment with its limits runs; a container over its memory limit is OOMKilled', async () => {
    await cluster.kubectlOk(['apply', '-f', example('redis-deploy.yaml')]);
    await waitFor(async () => {
      const out = await cluster.kubectl(['get', 'deploy', 'redis', '-o', 'jsonpath={.status.availableReplicas}']);
      return out.stdout === '1';
    }, 'redis available', 120_000);
    const pods = JSON.parse(await cluster.kubectlOk(['get', 'pods', '-l', 'app=redis', '-o', 'json'])).items;
    // Limits alone: the requests default to them, so the pod is Guaranteed.
    assert.equal(pods[0].status.qosClass, 'Guaranteed');
    const ping = await cluster.kubectlOk(['exec', pods[0].metadata.name, '--', 'redis-cli', 'ping']);
    assert.equal(ping.trim(), 'PONG');

    const hog = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'memory-hog' },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'hog', image: 'busybox', command: ['sh', '-c', 'head -c 200m /dev/zero | tail'], resources: { limits: { memory: '32Mi' } } }],
      },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(hog) });
    const killed = await waitFor(async () => {
      const current = await getPod(cluster, 'memory-hog');
      return current?.status?.containerStatuses?.[0]?.state?.terminated ? current : undefined;
    }, 'the memory hog to be killed', 60_000);
    assert.equal(killed.status.containerStatuses[0].state.terminated.reason, 'OOMKilled');
    assert.equal(killed.status.containerStatuses[0].state.terminated.exitCode, 137);
    assert.equal(await podStatusColumn(cluster, 'memory-hog'), 'OOMKilled');
  });

  it("a pod's IP answers another pod; a readiness probe flips the pod's Ready condition", async () => {
    const web = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: {
        containers: [
          {
            name: 'httpd',
            image: 'busybox',
            command: ['sh', '-c', 'echo hello-from-web > /tmp/index.html; touch /tmp/ready; exec httpd -f -p 8080 -h /tmp'],
            readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      },
    };
    await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(web) });
    await cluster.kubectlOk(['run', 'client', '--image=busybox', '--', 'sleep', '3600']);
    const isReady = (pod: any) => pod?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    const ready = await waitFor(async () => {
      const pod = await getPod(cluster, 'web');
      return isReady(pod) ? pod : undefined;
    }, 'web ready', 60_000);
    await waitFor(async () => (await getPod(cluster, 'client'))?.status?.phase === 'Running', 'client Running', 60_000);
    const page = await cluster.kubectlOk(['exec', 'client', '--', 'wget', '-qO-', `http://${ready.status.podIP}:8080/`]);
    assert.equal(page.trim(), 'hello-from-web');
    // The probe fails once its file is gone: the pod stays Running but turns unready (READY 0/1), then ready again.
    await cluster.kubectlOk(['exec', 'web', '--', 'rm', '/tmp/ready']);
    await waitFor(async () => !isReady(await getPod(cluster, 'web')), 'web unready', 30_000);
    assert.match((await cluster.kubectlOk(['get', 'pod', 'web', '--no-headers'])).trim(), /^web\s+0\/1\s+Running\s+0\s/);
    const events = await cluster.kubectlOk(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=Unhealthy', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /Readiness probe failed: HTTP probe failed with statuscode: 404/);
    await cluster.kubectlOk(['exec', 'web', '--', 'touch', '/tmp/ready']);
    await waitFor(async () => isReady(await getPod(cluster, 'web')), 'web ready again', 30_000);
  });

  it('kubectl delete pod returns once the containers are gone', async () => {
    const result = await cluster.kubectl(['delete', 'pod', 'mynginx'], { timeoutMs: 60_000 });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(await getPod(cluster, 'mynginx'), undefined);
  });
});
