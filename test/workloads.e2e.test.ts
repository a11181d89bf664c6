/**
 * End-to-end, issue 4: workloads with the real kubectl (1.32 by default) on
 * `pilote server --simulated-nodes 3` — the tutorial's Deployment walkthrough
 * (../shared/seed/, "Deployments": rolling update bounds checked from a pod
 * watch, history, undo, pause/resume, restart, scale), its three kinds of
 * Jobs and the back-off limit, CronJobs in kubectl, cascading deletes and
 * namespaces, Services' Endpoints and EndpointSlices — and the loss of nodes:
 * a `pilote simulate` process killed with SIGKILL, its nodes going NotReady,
 * tainted, their pods evicted and recreated on the node left.
 *
 * The two clusters (3 in-server simulated nodes; simulate processes) run side
 * by side; the tests of each run in order, as a user's session would.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { PILOTE_BIN, TestCluster, waitFor } from './helpers/cluster.js';
import type { ApiClient, WatchEventLine, WatchStream } from './helpers/api-client.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'tutorial');
const example = (name: string) => join(examples, name);

/** Rows of a kubectl table as objects keyed by header (headers may hold single spaces, e.g. LAST SCHEDULE). */
function table(output: string): Record<string, string>[] {
  const lines = output.trimEnd().split('\n');
  if (lines.length === 0 || !lines[0].trim()) return [];
  const headers = [...lines[0].matchAll(/\S+(?: \S+)*/g)].map((m) => ({ name: m[0], start: m.index! }));
  return lines.slice(1).map((line) => {
    const row: Record<string, string> = {};
    headers.forEach((h, i) => (row[h.name] = line.slice(h.start, i + 1 < headers.length ? headers[i + 1].start : undefined).trim()));
    return row;
  });
}

/** The revisions listed by `kubectl rollout history`, with their CHANGE-CAUSE. */
function revisions(output: string): string[][] {
  const lines = output.trimEnd().split('\n');
  const header = lines.findIndex((l) => /^REVISION\s+CHANGE-CAUSE$/.test(l));
  assert.ok(header >= 0, `no REVISION header in:\n${output}`);
  return lines.slice(header + 1).map((l) => l.trim().split(/\s{2,}/));
}

type Pod = any;
const isTerminating = (pod: Pod): boolean => Boolean(pod.metadata.deletionTimestamp);
const isTerminal = (pod: Pod): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const isReady = (pod: Pod): boolean => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
const imageOf = (pod: Pod): string => pod.spec.containers[0].image;

/**
 * The pods of one label selector as a watch shows them, revision by revision:
 * a list, then a watch from its resourceVersion. Events queue up in the stream
 * while a test runs kubectl; `until` applies them in order, so every state the
 * store went through is seen by the observers, however late they are applied.
 */
class PodTracker {
  readonly pods = new Map<string, Pod>();
  private readonly observers: ((pods: Pod[], event: WatchEventLine) => void)[] = [];
  /** Every pod name ever seen. */
  readonly seen = new Set<string>();

  private constructor(private readonly stream: WatchStream) {}

  static async open(client: ApiClient, namespace: string, selector: string): Promise<PodTracker> {
    const path = `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(selector)}`;
    const list = await client.get(path);
    assert.equal(list.status, 200, list.text);
    const stream = await client.watch(`${path}&watch=true&resourceVersion=${list.json.metadata.resourceVersion}`);
    assert.equal(stream.status, 200);
    const tracker = new PodTracker(stream);
    for (const pod of list.json.items) {
      tracker.pods.set(pod.metadata.name, pod);
      tracker.seen.add(pod.metadata.name);
    }
    return tracker;
  }

  observe(observer: (pods: Pod[], event: WatchEventLine) => void): void {
    this.observers.push(observer);
  }

  list(): Pod[] {
    return [...this.pods.values()];
  }

  /** Applies watch events until `done(pods)` holds, failing at the deadline. */
  async until(done: (pods: Pod[]) => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.list())) {
      const remaining = deadline - Date.now();
      const event = remaining > 0 ? await this.stream.next(remaining) : undefined;
      if (!event) {
        const state = this.list().map((p) => `${p.metadata.name} ${p.status?.phase}${isReady(p) ? ' ready' : ''}${isTerminating(p) ? ' terminating' : ''} ${imageOf(p)}`);
        throw new Error(`${this.stream.endedAt ? 'watch ended' : 'timed out'} waiting for ${what}; pods:\n${state.join('\n')}`);
      }
      if (event.type === 'ERROR') throw new Error(`watch error: ${JSON.stringify(event.object)}`);
      if (event.type === 'BOOKMARK') continue;
      const name = event.object.metadata.name;
      if (event.type === 'DELETED') this.pods.delete(name);
      else this.pods.set(name, event.object);
      this.seen.add(name);
      for (const observer of this.observers) observer(this.list(), event);
    }
  }

  close(): void {
    this.stream.close();
  }
}

/** `pilote simulate` as a child process, once it printed its ready line. */
async function startSimulate(cluster: TestCluster, args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [PILOTE_BIN, 'simulate', '--kubeconfig', cluster.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PILOTE_LOG_LEVEL: process.env.PILOTE_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pilote simulate did not start within 20 s:\n${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      if (text.startsWith('simulating ')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pilote simulate exited with ${code}:\n${stderr}`));
    });
  });
  return child;
}

function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

/** Whether this build of `pilote server` has the flag the node-loss suite needs. */
const hasGracePeriodFlag = execFileSync(process.execPath, [PILOTE_BIN, 'server', '--help'], { encoding: 'utf8' }).includes('--node-monitor-grace-period');

describe('workloads end to end', { concurrency: true }, () => {
  describe('on pilote server --simulated-nodes 3', { concurrency: false }, () => {
    let cluster: TestCluster;
    let client: ApiClient;
    /** When the back-off Job was created: it fails in ~30 s (10 s then 20 s of back-off), while the other tests run. */
    let backoffJobCreated = 0;

    const kubectl = (args: string[], options?: Parameters<TestCluster['kubectl']>[1]) => cluster.kubectlOk(args, options);
    const rows = async (args: string[]) => table(await kubectl(args));
    const rolloutStatus = async (name: string, namespace = 'default') => {
      const out = await kubectl(['-n', namespace, 'rollout', 'status', `deployment/${name}`, '--timeout=60s'], { timeoutMs: 70_000 });
      assert.match(out, new RegExp(`^deployment "${name}" successfully rolled out$`, 'm'));
    };
    const podRows = (selector: string) => rows(['get', 'pods', '-l', selector]);
    const deploymentJson = async (name: string) => JSON.parse(await kubectl(['get', 'deployment', name, '-o', 'json']));
    /** image → ReplicaSet, for the ReplicaSets of app=redis. */
    const replicaSetsByImage = async (): Promise<Map<string, any>> => {
      const list = JSON.parse(await kubectl(['get', 'replicasets.apps', '-l', 'app=redis', '-o', 'json']));
      return new Map(list.items.map((rs: any) => [rs.spec.template.spec.containers[0].image, rs]));
    };
    /** Waits for exactly `count` pods of the selector, all Running and 1/1, none terminating. */
    const runningPods = (selector: string, count: number, timeoutMs = 30_000) =>
      waitFor(
        async () => {
          const pods = await podRows(selector);
          return pods.length === count && pods.every((p) => p.READY === '1/1' && p.STATUS === 'Running') ? pods : undefined;
        },
        `${count} Running pods with ${selector}`,
        timeoutMs,
      );

    before(async () => {
      cluster = await TestCluster.start({ controllers: true, args: ['--simulated-nodes', '3', '--simulated-pod-run-seconds', '1'] });
      client = cluster.client();
      await kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=30s'], { timeoutMs: 40_000 });
      // Started first: Kubernetes' back-off (10 s, then 20 s) makes this Job the slowest thing here.
      await kubectl(['create', 'namespace', 'backoff']);
      const failing = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'fail', namespace: 'backoff' },
        spec: {
          backoffLimit: 2,
          template: {
            metadata: { annotations: { 'pilote.dev/simulated-run-seconds': '0', 'pilote.dev/simulated-exit-code': '1' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'fail', image: 'busybox', command: ['sh', '-c', 'exit 1'] }] },
          },
        },
      };
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(failing) });
      backoffJobCreated = Date.now();
    });

    after(async () => {
      client?.close();
      await cluster?.stop();
    });

    // ─── Deployments: the tutorial's walkthrough ───

    it('kubectl apply -f redis-deploy.yaml: the pod runs (1/1 Running)', { timeout: 60_000 }, async () => {
      assert.equal((await kubectl(['apply', '-f', example('redis-deploy.yaml')])).trim(), 'deployment.apps/redis created');
      const [pod] = await runningPods('app=redis', 1);
      assert.match(pod.NAME, /^redis-[a-z0-9]{6,10}-[a-z0-9]{5}$/);
      assert.equal(pod.RESTARTS, '0');
    });

    it('kubectl delete po: the Deployment replaces the pod', { timeout: 60_000 }, async () => {
      const [before] = await podRows('app=redis');
      assert.equal((await kubectl(['delete', 'po', before.NAME])).trim(), `pod "${before.NAME}" deleted`);
      const [after] = await runningPods('app=redis', 1);
      assert.notEqual(after.NAME, before.NAME);
      assert.equal(after.NAME.split('-')[1], before.NAME.split('-')[1], 'same ReplicaSet (pod-template-hash)');
    });

    it('kubectl apply -f redis-deploy-v2.yaml: 4 pods Running redis:5.0.12-alpine', { timeout: 60_000 }, async () => {
      assert.equal((await kubectl(['apply', '-f', example('redis-deploy-v2.yaml')])).trim(), 'deployment.apps/redis configured');
      await rolloutStatus('redis');
      await runningPods('app=redis', 4);
      const images = await kubectl(['get', 'pods', '-l', 'app=redis', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
      assert.deepEqual(images.split(' '), Array(4).fill('redis:5.0.12-alpine'));
      const d = await deploymentJson('redis');
      assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } });
    });

    it('kubectl set image: the rolling update never has more than 6 pods nor fewer than 3 ready', { timeout: 90_000 }, async () => {
      const tracker = await PodTracker.open(client, 'default', 'app=redis');
      try {
        const live = (pods: Pod[]) => pods.filter((p) => !isTerminating(p) && !isTerminal(p));
        assert.equal(live(tracker.list()).length, 4);
        assert.equal(live(tracker.list()).filter(isReady).length, 4);
        let maxLive = 4;
        let minReady = 4;
        const violations: string[] = [];
        tracker.observe((pods, event) => {
          const alive = live(pods);
          const ready = alive.filter(isReady).length;
          maxLive = Math.max(maxLive, alive.length);
          minReady = Math.min(minReady, ready);
          if (alive.length > 6 || ready < 3) {
            violations.push(`after ${event.type} ${event.object.metadata.name} (rv ${event.object.metadata.resourceVersion}): ${alive.length} pods, ${ready} ready`);
          }
        });

        const out = await kubectl(['set', 'image', 'deployment.apps/redis', 'redis=redis:6-alpine']);
        assert.equal(out.trim(), 'deployment.apps/redis image updated');
        assert.equal(await kubectl(['get', 'deployment.apps/redis', '-o=jsonpath={$.spec.template.spec.containers[:1].image}']), 'redis:6-alpine');
        await rolloutStatus('redis');
        // Until every old pod is gone from the store (its deletion confirmed by the kubelet).
        await tracker.until(
          (pods) => pods.length === 4 && pods.every((p) => imageOf(p) === 'redis:6-alpine' && isReady(p) && !isTerminating(p)),
          '4 ready redis:6-alpine pods and no others',
        );
        assert.deepEqual(violations, [], 'maxSurge 2 / maxUnavailable 1 over 4 replicas: at most 6 pods, at least 3 ready');
        assert.ok(maxLive <= 6 && minReady >= 3, `max ${maxLive} pods, min ${minReady} ready`);
        assert.ok(maxLive > 4, `the rollout surged (max ${maxLive} pods at once)`);
        assert.ok(tracker.seen.size >= 8, `4 old and at least 4 new pods seen, got ${[...tracker.seen].join(' ')}`);
      } finally {
        tracker.close();
      }
    });

    it('kubectl rollout history: revisions 1, 2, 3 with CHANGE-CAUSE <none>; --revision=N shows its template', { timeout: 60_000 }, async () => {
      const history = await kubectl(['rollout', 'history', 'deployment', 'redis']);
      assert.match(history, /^deployment\.apps\/redis\s*$/m);
      assert.deepEqual(revisions(history), [
        ['1', '<none>'],
        ['2', '<none>'],
        ['3', '<none>'],
      ]);
      const byImage = await replicaSetsByImage();
      for (const [revision, image] of [
        ['1', 'redis:alpine'],
        ['2', 'redis:5.0.12-alpine'],
        ['3', 'redis:6-alpine'],
      ]) {
        const rs = byImage.get(image);
        assert.ok(rs, `a ReplicaSet for ${image}`);
        assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], revision);
        const text = await kubectl(['rollout', 'history', 'deployment', 'redis', `--revision=${revision}`]);
        assert.match(text, new RegExp(`^deployment\\.apps/redis with revision #${revision}$`, 'm'));
        assert.match(text, /^Pod Template:$/m);
        assert.match(text, new RegExp(`^  Labels:\\s+app=redis\\n\\s+pod-template-hash=${rs.metadata.labels['pod-template-hash']}$`, 'm'));
        assert.match(text, new RegExp(`^    Image:\\s+${image.replace(/\./g, '\\.')}$`, 'm'));
        assert.match(text, /^    Port:\s+6379\/TCP$/m);
        assert.match(text, /^      cpu:\s+500m$/m);
        assert.match(text, /^      memory:\s+128Mi$/m);
      }
    });

    it('kubectl get replicasets.apps -l app=redis: the new one at 4/4/4, the old ones at 0', { timeout: 60_000 }, async () => {
      const byImage = await replicaSetsByImage();
      const current = byImage.get('redis:6-alpine').metadata.name;
      const found = await waitFor(
        async () => {
          const rss = await rows(['get', 'replicasets.apps', '-l', 'app=redis']);
          const expected = (r: Record<string, string>) => (r.NAME === current ? ['4', '4', '4'] : ['0', '0', '0']);
          return rss.length === 3 && rss.every((r) => [r.DESIRED, r.CURRENT, r.READY].join() === expected(r).join()) ? rss : undefined;
        },
        'the ReplicaSets to settle',
      );
      assert.deepEqual(found.map((r) => r.NAME).sort(), [...byImage.values()].map((rs) => rs.metadata.name).sort());
      for (const r of found) assert.match(r.AGE, /^\d+s$/);
    });

    it('kubectl rollout undo --to-revision=2 brings redis:5.0.12-alpine back (as revision 4)', { timeout: 90_000 }, async () => {
      assert.equal((await kubectl(['rollout', 'undo', 'deployment', 'redis', '--to-revision=2'])).trim(), 'deployment.apps/redis rolled back');
      await rolloutStatus('redis');
      assert.equal(await kubectl(['get', 'deployment.apps/redis', '-o=jsonpath={.spec.template.spec.containers[0].image}']), 'redis:5.0.12-alpine');
      await runningPods('app=redis', 4);
      const images = await kubectl(['get', 'pods', '-l', 'app=redis', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
      assert.deepEqual(images.split(' '), Array(4).fill('redis:5.0.12-alpine'));
      // As in Kubernetes: the ReplicaSet of revision 2 is reused and becomes revision 4; 2 is in its revision-history.
      assert.deepEqual(revisions(await kubectl(['rollout', 'history', 'deployment', 'redis'])), [
        ['1', '<none>'],
        ['3', '<none>'],
        ['4', '<none>'],
      ]);
      const rs = (await replicaSetsByImage()).get('redis:5.0.12-alpine');
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '4');
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision-history'], '2');
      assert.equal((await deploymentJson('redis')).metadata.annotations['deployment.kubernetes.io/revision'], '4');
    });

    it('kubectl describe deploy redis: ScalingReplicaSet events from the deployment-controller', { timeout: 60_000 }, async () => {
      const text = await kubectl(['describe', 'deploy', 'redis']);
      assert.match(text, /^Replicas:\s+4 desired \| 4 updated \| 4 total \| 4 available \| 0 unavailable$/m);
      assert.match(text, /^RollingUpdateStrategy:\s+1 max unavailable, 2 max surge$/m);
      assert.match(text, /^NewReplicaSet:\s+redis-\S+ \(4\/4 replicas created\)$/m);
      const events = text.split('\n').filter((l) => /^\s+Normal\s+ScalingReplicaSet\s/.test(l));
      assert.ok(events.some((l) => /deployment-controller\s+Scaled up replica set redis-\S+ from \d+ to \d+$/.test(l)), text);
      assert.ok(events.some((l) => /deployment-controller\s+Scaled down replica set redis-\S+ from \d+ to \d+$/.test(l)), text);
    });

    it('kubectl rollout pause holds a template change back; rollout resume rolls it out', { timeout: 90_000 }, async () => {
      assert.equal((await kubectl(['rollout', 'pause', 'deployment', 'redis'])).trim(), 'deployment.apps/redis paused');
      await kubectl(['set', 'image', 'deployment/redis', 'redis=redis:7-alpine']);
      // The controller saw the change (observedGeneration) and reports the pause instead of rolling out.
      const paused = await waitFor(
        async () => {
          const d = await deploymentJson('redis');
          const progressing = d.status.conditions?.find((c: any) => c.type === 'Progressing');
          return d.status.observedGeneration === d.metadata.generation && progressing?.reason === 'DeploymentPaused' ? d : undefined;
        },
        'the controller to observe the paused Deployment',
      );
      assert.equal(paused.spec.paused, true);
      assert.equal((await replicaSetsByImage()).has('redis:7-alpine'), false, 'no ReplicaSet for the new template while paused');
      const images = await kubectl(['get', 'pods', '-l', 'app=redis', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
      assert.deepEqual(images.split(' '), Array(4).fill('redis:5.0.12-alpine'));
      assert.equal(revisions(await kubectl(['rollout', 'history', 'deployment', 'redis'])).length, 3);

      assert.equal((await kubectl(['rollout', 'resume', 'deployment', 'redis'])).trim(), 'deployment.apps/redis resumed');
      await rolloutStatus('redis');
      await runningPods('app=redis', 4);
      const after = await kubectl(['get', 'pods', '-l', 'app=redis', '-o', 'jsonpath={.items[*].spec.containers[0].image}']);
      assert.deepEqual(after.split(' '), Array(4).fill('redis:7-alpine'));
      assert.deepEqual(revisions(await kubectl(['rollout', 'history', 'deployment', 'redis'])).map((r) => r[0]), ['1', '3', '4', '5']);
    });

    it('kubectl rollout restart replaces every pod', { timeout: 90_000 }, async () => {
      const before = (await podRows('app=redis')).map((p) => p.NAME);
      assert.equal((await kubectl(['rollout', 'restart', 'deployment', 'redis'])).trim(), 'deployment.apps/redis restarted');
      await rolloutStatus('redis');
      const pods = await waitFor(
        async () => {
          const list = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=redis', '-o', 'json'])).items;
          return list.length === 4 && list.every((p: Pod) => !before.includes(p.metadata.name) && isReady(p)) ? list : undefined;
        },
        '4 new pods',
      );
      for (const pod of pods) assert.ok(pod.metadata.annotations?.['kubectl.kubernetes.io/restartedAt'], 'pods carry the restartedAt annotation');
      assert.deepEqual(revisions(await kubectl(['rollout', 'history', 'deployment', 'redis'])).map((r) => r[0]), ['1', '3', '4', '5', '6']);
    });

    it('kubectl scale deploy redis --replicas=2 converges to 2 pods', { timeout: 60_000 }, async () => {
      assert.equal((await kubectl(['scale', 'deploy', 'redis', '--replicas=2'])).trim(), 'deployment.apps/redis scaled');
      await runningPods('app=redis', 2);
      const deploy = await waitFor(async () => {
        const [row] = await rows(['get', 'deploy', 'redis']);
        return row.READY === '2/2' && row['UP-TO-DATE'] === '2' && row.AVAILABLE === '2' ? row : undefined;
      }, 'kubectl get deploy redis to show 2/2');
      assert.equal(deploy.NAME, 'redis');
    });

    // ─── Jobs ───

    it('a Job with completions 5 and parallelism 2 completes 5/5, never more than 2 pods at once', { timeout: 60_000 }, async () => {
      const tracker = await PodTracker.open(client, 'default', 'job-name=five');
      try {
        let maxActive = 0;
        tracker.observe((pods) => {
          maxActive = Math.max(maxActive, pods.filter((p) => !isTerminal(p) && !isTerminating(p)).length);
        });
        const job = {
          apiVersion: 'batch/v1',
          kind: 'Job',
          metadata: { name: 'five' },
          spec: {
            completions: 5,
            parallelism: 2,
            template: {
              metadata: { annotations: { 'pilote.dev/simulated-run-seconds': '1' } },
              spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['sleep', '1'] }] },
            },
          },
        };
        assert.equal((await kubectl(['apply', '-f', '-'], { input: JSON.stringify(job) })).trim(), 'job.batch/five created');
        const waited = await kubectl(['wait', '--for=condition=complete', 'job/five', '--timeout=60s'], { timeoutMs: 70_000 });
        assert.equal(waited.trim(), 'job.batch/five condition met');
        await tracker.until((pods) => pods.length === 5 && pods.every((p) => p.status?.phase === 'Succeeded'), '5 succeeded pods');
        assert.equal(maxActive, 2, 'parallelism 2: two pods at a time, never more');
        assert.equal(tracker.seen.size, 5, `one pod per completion: ${[...tracker.seen].join(' ')}`);
        const [row] = await rows(['get', 'job', 'five']);
        assert.equal(row.STATUS, 'Complete');
        assert.equal(row.COMPLETIONS, '5/5');
        assert.match(row.DURATION, /^\d+s$/);
        const pods = await podRows('job-name=five');
        assert.equal(pods.length, 5);
        for (const pod of pods) assert.deepEqual([pod.READY, pod.STATUS], ['0/1', 'Completed']);
      } finally {
        tracker.close();
      }
    });

    it('non-parallel Job (kubectl create job): one pod, 1/1', { timeout: 60_000 }, async () => {
      assert.equal((await kubectl(['create', 'job', 'once', '--image=busybox', '--', 'echo', 'bonjour'])).trim(), 'job.batch/once created');
      const waited = await kubectl(['wait', '--for=condition=complete', 'job/once', '--timeout=60s'], { timeoutMs: 70_000 });
      assert.equal(waited.trim(), 'job.batch/once condition met');
      const job = JSON.parse(await kubectl(['get', 'job', 'once', '-o', 'json']));
      assert.deepEqual([job.spec.completions, job.spec.parallelism, job.status.succeeded], [1, 1, 1]);
      const [row] = await rows(['get', 'job', 'once']);
      assert.deepEqual([row.STATUS, row.COMPLETIONS], ['Complete', '1/1']);
      assert.equal((await podRows('job-name=once')).length, 1);
    });

    it('work-queue Job (parallelism 3, no completions): completes once a pod succeeded and none is left running', { timeout: 60_000 }, async () => {
      const job = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'queue' },
        spec: {
          parallelism: 3,
          template: {
            metadata: { annotations: { 'pilote.dev/simulated-run-seconds': '1' } },
            spec: { restartPolicy: 'Never', containers: [{ name: 'worker', image: 'busybox', command: ['sh', '-c', 'work-until-queue-empty'] }] },
          },
        },
      };
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(job) });
      const waited = await kubectl(['wait', '--for=condition=complete', 'job/queue', '--timeout=60s'], { timeoutMs: 70_000 });
      assert.equal(waited.trim(), 'job.batch/queue condition met');
      const done = JSON.parse(await kubectl(['get', 'job', 'queue', '-o', 'json']));
      assert.equal(done.spec.completions, undefined);
      assert.equal(done.spec.parallelism, 3);
      assert.ok(done.status.succeeded >= 1 && done.status.succeeded <= 3, `succeeded ${done.status.succeeded}`);
      assert.equal(done.status.active ?? 0, 0);
      const [row] = await rows(['get', 'job', 'queue']);
      assert.deepEqual([row.STATUS, row.COMPLETIONS], ['Complete', `${done.status.succeeded}/1 of 3`]);
      assert.equal((await podRows('job-name=queue')).length, 3, 'three workers started at once, no more afterwards');
    });

    it('kubectl wait --for=condition=complete times out on a Job that cannot complete', { timeout: 30_000 }, async () => {
      // The failing Job of before(): "complete" never comes, and kubectl says so.
      const result = await cluster.kubectl(['-n', 'backoff', 'wait', '--for=condition=complete', 'job/fail', '--timeout=1s']);
      assert.notEqual(result.code, 0);
      assert.match(result.stderr, /timed out waiting for the condition on jobs\/fail/);
    });

    // ─── CronJobs ───

    it('kubectl create cronjob: kubectl get cronjobs shows SCHEDULE, SUSPEND and ACTIVE', { timeout: 30_000 }, async () => {
      // A schedule that does not come up while the test runs (the schedule itself is tested in-process).
      const created = await kubectl(['create', 'cronjob', 'hello', '--image=busybox', '--schedule=0 0 1 1 *', '--', 'echo', 'bonjour']);
      assert.equal(created.trim(), 'cronjob.batch/hello created');
      const [row] = await rows(['get', 'cronjobs']);
      assert.deepEqual(
        { NAME: row.NAME, SCHEDULE: row.SCHEDULE, TIMEZONE: row.TIMEZONE, SUSPEND: row.SUSPEND, ACTIVE: row.ACTIVE, 'LAST SCHEDULE': row['LAST SCHEDULE'] },
        { NAME: 'hello', SCHEDULE: '0 0 1 1 *', TIMEZONE: '<none>', SUSPEND: 'False', ACTIVE: '0', 'LAST SCHEDULE': '<none>' },
      );
      assert.match(row.AGE, /^\d+s$/);
      await kubectl(['patch', 'cronjob', 'hello', '-p', '{"spec":{"suspend":true}}']);
      const [suspended] = await rows(['get', 'cj', 'hello']);
      assert.equal(suspended.SUSPEND, 'True');
      const [wide] = await rows(['get', 'cronjobs', 'hello', '-o', 'wide']);
      assert.deepEqual([wide.CONTAINERS, wide.IMAGES, wide.SELECTOR], ['hello', 'busybox', '<none>']);
      assert.equal((await kubectl(['delete', 'cronjob', 'hello'])).trim(), 'cronjob.batch "hello" deleted');
    });

    // ─── Cascading deletion and namespaces ───

    it('kubectl delete deploy redis removes its ReplicaSets and pods (background cascade)', { timeout: 60_000 }, async () => {
      assert.ok((await rows(['get', 'rs', '-l', 'app=redis'])).length >= 4);
      assert.equal((await kubectl(['delete', 'deploy', 'redis'])).trim(), 'deployment.apps "redis" deleted');
      await waitFor(async () => (await kubectl(['get', 'rs,pods', '-l', 'app=redis', '-o', 'name'])).trim() === '', 'the ReplicaSets and pods to go', 30_000);
    });

    it('kubectl delete rs --cascade=orphan leaves its pods running, without ownerReferences', { timeout: 60_000 }, async () => {
      const rs = {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'orphan' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'orphan' } },
          template: { metadata: { labels: { app: 'orphan' } }, spec: { containers: [{ name: 'nginx', image: 'nginx' }] } },
        },
      };
      await kubectl(['apply', '-f', '-'], { input: JSON.stringify(rs) });
      const before = (await runningPods('app=orphan', 2)).map((p) => p.NAME).sort();
      assert.equal((await kubectl(['delete', 'rs', 'orphan', '--cascade=orphan'])).trim(), 'replicaset.apps "orphan" deleted');
      // kubectl waited for the ReplicaSet to go, which the orphan finalizer holds until the pods are released.
      const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=orphan', '-o', 'json'])).items;
      assert.deepEqual(pods.map((p: Pod) => p.metadata.name).sort(), before);
      for (const pod of pods) {
        assert.equal(pod.metadata.ownerReferences, undefined, `${pod.metadata.name} still has ownerReferences`);
        assert.equal(pod.metadata.deletionTimestamp, undefined);
      }
      assert.equal((await cluster.kubectl(['get', 'rs', 'orphan'])).code, 1);
      await kubectl(['delete', 'pods', '-l', 'app=orphan']);
    });

    it('kubectl delete ns tmp returns once its Deployment and pods are gone', { timeout: 60_000 }, async () => {
      assert.equal((await kubectl(['create', 'ns', 'tmp'])).trim(), 'namespace/tmp created');
      assert.equal((await kubectl(['-n', 'tmp', 'create', 'deployment', 'd', '--image=nginx', '--replicas=3'])).trim(), 'deployment.apps/d created');
      await rolloutStatus('d', 'tmp');
      assert.equal((await rows(['-n', 'tmp', 'get', 'pods'])).length, 3);
      assert.equal((await kubectl(['delete', 'ns', 'tmp'], { timeoutMs: 50_000 })).trim(), 'namespace "tmp" deleted');
      const gone = await cluster.kubectl(['get', 'ns', 'tmp']);
      assert.equal(gone.code, 1);
      assert.match(gone.stderr, /namespaces "tmp" not found/);
      const pods = await cluster.kubectl(['get', 'pods', '-n', 'tmp']);
      assert.equal(pods.stdout, '');
      assert.match(pods.stderr, /^No resources found in tmp namespace\.$/m);
      const anywhere = JSON.parse(await kubectl(['get', 'pods,replicasets,deployments', '-A', '-o', 'json'])).items;
      assert.deepEqual(anywhere.filter((o: any) => o.metadata.namespace === 'tmp'), []);
    });

    it('a new namespace gets the default ServiceAccount and the kube-root-ca.crt ConfigMap', { timeout: 30_000 }, async () => {
      await kubectl(['create', 'ns', 'fresh']);
      const sa = await waitFor(async () => {
        const r = await cluster.kubectl(['-n', 'fresh', 'get', 'serviceaccount', 'default', '-o', 'json']);
        return r.code === 0 ? JSON.parse(r.stdout) : undefined;
      }, 'the default ServiceAccount');
      assert.equal(sa.metadata.name, 'default');
      const cm = await waitFor(async () => {
        const r = await cluster.kubectl(['-n', 'fresh', 'get', 'configmap', 'kube-root-ca.crt', '-o', 'json']);
        return r.code === 0 ? JSON.parse(r.stdout) : undefined;
      }, 'the kube-root-ca.crt ConfigMap');
      assert.equal(cm.data['ca.crt'].trim(), readFileSync(join(cluster.dataDir, 'tls', 'ca.crt'), 'utf8').trim());
      assert.equal(cm.metadata.annotations?.['kubernetes.io/description']?.startsWith('Contains a CA bundle'), true);
    });

    // ─── Services ───

    it('kubectl expose deployment web: Endpoints and EndpointSlices list the ready pods', { timeout: 60_000 }, async () => {
      await kubectl(['create', 'deployment', 'web', '--image=nginx', '--replicas=3', '--port=80']);
      await rolloutStatus('web');
      const podIPs = async () => {
        const pods = JSON.parse(await kubectl(['get', 'pods', '-l', 'app=web', '-o', 'json'])).items.filter((p: Pod) => !isTerminating(p));
        return pods.map((p: Pod) => p.status.podIP as string).sort();
      };
      const ips = await waitFor(async () => {
        const list = await podIPs();
        return list.length === 3 && list.every(Boolean) ? list : undefined;
      }, 'the pods of web to have IPs');
      assert.equal((await kubectl(['expose', 'deployment', 'web', '--port=80'])).trim(), 'service/web exposed');
      const sorted = (cell: string) => cell.split(',').sort().join(',');
      await waitFor(async () => {
        const [row] = await rows(['get', 'endpoints', 'web']);
        return row && sorted(row.ENDPOINTS) === ips.map((ip: string) => `${ip}:80`).join(',') ? row : undefined;
      }, `kubectl get endpoints web to list ${ips.join(', ')}`);
      const slice = await waitFor(async () => {
        const [row] = await rows(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
        return row && sorted(row.ENDPOINTS) === ips.join(',') ? row : undefined;
      }, 'the EndpointSlice of web to list the pods');
      assert.match(slice.NAME, /^web-[a-z0-9]{5}$/);
      assert.deepEqual([slice.ADDRESSTYPE, slice.PORTS], ['IPv4', '80']);

      // Scaled down: the endpoints follow.
      await kubectl(['scale', 'deployment', 'web', '--replicas=1']);
      const [left] = await waitFor(async () => {
        const list = await podIPs();
        return list.length === 1 ? list : undefined;
      }, 'web to scale down');
      await waitFor(async () => (await rows(['get', 'endpoints', 'web']))[0]?.ENDPOINTS === `${left}:80`, 'the Endpoints to follow');
      await waitFor(async () => (await rows(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']))[0]?.ENDPOINTS === left, 'the EndpointSlice to follow');
    });

    // ─── Back-off (last: it had the whole run to fail) ───

    it('a Job whose pods exit 1 with backoffLimit 2 ends Failed with reason BackoffLimitExceeded', { timeout: 70_000 }, async () => {
      const left = Math.max(5, Math.ceil((backoffJobCreated + 60_000 - Date.now()) / 1000));
      const waited = await kubectl(['-n', 'backoff', 'wait', '--for=condition=failed', 'job/fail', `--timeout=${left}s`], { timeoutMs: (left + 10) * 1000 });
      assert.equal(waited.trim(), 'job.batch/fail condition met');
      const job = JSON.parse(await kubectl(['-n', 'backoff', 'get', 'job', 'fail', '-o', 'json']));
      const failed = job.status.conditions.find((c: any) => c.type === 'Failed');
      assert.deepEqual([failed.status, failed.reason, failed.message], ['True', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
      assert.equal(job.status.failed, 3, 'backoffLimit 2: the third failure fails the Job');
      assert.equal(job.status.active ?? 0, 0);
      const [row] = await rows(['-n', 'backoff', 'get', 'job', 'fail']);
      assert.deepEqual([row.STATUS, row.COMPLETIONS], ['Failed', '0/1']);
      const pods = await rows(['-n', 'backoff', 'get', 'pods']);
      assert.deepEqual(
        pods.map((p) => [p.READY, p.STATUS]),
        Array(3).fill(['0/1', 'Error']),
      );
      const events = await kubectl(['-n', 'backoff', 'get', 'events', '--field-selector', 'involvedObject.kind=Job,reason=BackoffLimitExceeded', '-o', 'json']);
      assert.equal(JSON.parse(events).items[0]?.type, 'Warning');
    });
  });

  describe(
    'node loss: a pilote simulate process killed',
    {
      concurrency: false,
      skip: hasGracePeriodFlag ? false : 'pilote server has no --node-monitor-grace-period flag (the 50 s default is too slow for a test)',
    },
    () => {
      let cluster: TestCluster;
      let lost: ChildProcess | undefined;
      let other: ChildProcess | undefined;
      let killedAt = 0;
      const kubectl = (args: string[], options?: Parameters<TestCluster['kubectl']>[1]) => cluster.kubectlOk(args, options);
      const nodes = async () => JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])).items as any[];
      const readyOf = (node: any) => node.status.conditions.find((c: any) => c.type === 'Ready');
      const pods = async () => JSON.parse(await kubectl(['get', 'pods', '-l', 'app=survivor', '-o', 'json'])).items as Pod[];
      let originals: string[] = [];

      before(async () => {
        cluster = await TestCluster.start({ controllers: true, args: ['--simulated-nodes', '0', '--node-monitor-grace-period', '3s'] });
        // Leases renewed every second: a healthy node never comes near the 3 s grace period.
        lost = await startSimulate(cluster, ['--nodes', '2', '--name-prefix', 'lost-', '--lease-renew-seconds', '1']);
        await kubectl(['wait', '--for=condition=Ready', 'node/lost-0', 'node/lost-1', '--timeout=30s'], { timeoutMs: 40_000 });
      });

      after(async () => {
        await stopChild(lost, 'SIGKILL');
        await stopChild(other);
        await cluster?.stop();
      });

      it('a Deployment of 4 replicas runs on the 2 nodes of the first simulate process', { timeout: 60_000 }, async () => {
        const deployment = {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'survivor' },
          spec: {
            replicas: 4,
            selector: { matchLabels: { app: 'survivor' } },
            template: {
              metadata: { labels: { app: 'survivor' } },
              spec: {
                // Instead of the 300 s the DefaultTolerationSeconds admission would add.
                tolerations: [
                  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
                  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
                ],
                containers: [{ name: 'nginx', image: 'nginx' }],
              },
            },
          },
        };
        await kubectl(['apply', '-f', '-'], { input: JSON.stringify(deployment) });
        await kubectl(['rollout', 'status', 'deployment/survivor', '--timeout=60s'], { timeoutMs: 70_000 });
        const running = (await pods()).filter((p) => !isTerminating(p));
        assert.equal(running.length, 4);
        for (const pod of running) assert.match(pod.spec.nodeName, /^lost-[01]$/);
        originals = running.map((p) => p.metadata.name).sort();
      });

      it('a second simulate process adds a node', { timeout: 60_000 }, async () => {
        other = await startSimulate(cluster, ['--nodes', '1', '--name-prefix', 'other-', '--pod-cidr-base', '10.42.100.0', '--lease-renew-seconds', '1']);
        await kubectl(['wait', '--for=condition=Ready', 'node/other-0', '--timeout=30s'], { timeoutMs: 40_000 });
        const rows = table(await kubectl(['get', 'nodes']));
        assert.deepEqual(
          rows.map((r) => [r.NAME, r.STATUS]),
          [
            ['lost-0', 'Ready'],
            ['lost-1', 'Ready'],
            ['other-0', 'Ready'],
          ],
        );
      });

      it('SIGKILL: its nodes turn NotReady (Unknown) after the grace period and get the unreachable taints', { timeout: 60_000 }, async () => {
        await stopChild(lost, 'SIGKILL');
        killedAt = Date.now();
        await waitFor(
          async () => {
            const rows = table(await kubectl(['get', 'nodes']));
            return rows.map((r) => `${r.NAME} ${r.STATUS}`).join() === 'lost-0 NotReady,lost-1 NotReady,other-0 Ready';
          },
          'lost-0 and lost-1 to be NotReady',
          30_000,
        );
        // Not before the grace period (3 s) has passed since the last renewal (at most 1 s before the kill).
        assert.ok(Date.now() - killedAt >= 2000, `NotReady ${Date.now() - killedAt} ms after the kill`);
        for (const node of (await nodes()).filter((n) => n.metadata.name.startsWith('lost-'))) {
          const ready = readyOf(node);
          assert.deepEqual([ready.status, ready.reason, ready.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
        }
        const tainted = await waitFor(
          async () => {
            const lostNodes = (await nodes()).filter((n) => n.metadata.name.startsWith('lost-'));
            const has = (n: any, effect: string) => (n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === effect);
            return lostNodes.length === 2 && lostNodes.every((n) => has(n, 'NoExecute') && has(n, 'NoSchedule')) ? lostNodes : undefined;
          },
          'the unreachable NoSchedule and NoExecute taints on both lost nodes',
          40_000,
        );
        assert.equal(tainted.length, 2);
        const healthy = (await nodes()).find((n) => n.metadata.name === 'other-0');
        assert.equal(readyOf(healthy).status, 'True');
        assert.deepEqual(healthy.spec.taints ?? [], []);
        const described = await kubectl(['describe', 'node', 'lost-0']);
        assert.match(described, /^Taints:\s+node\.kubernetes\.io\/unreachable:NoExecute$/m);
        assert.match(described, /^\s+node\.kubernetes\.io\/unreachable:NoSchedule$/m);
      });

      it('their pods are evicted after tolerationSeconds and the Deployment recreates them on the remaining node', { timeout: 60_000 }, async () => {
        const settled = await waitFor(
          async () => {
            const all = await pods();
            const replacements = all.filter((p) => !isTerminating(p));
            const evicted = all.filter((p) => originals.includes(p.metadata.name));
            const done =
              replacements.length === 4 &&
              replacements.every((p) => p.spec.nodeName === 'other-0' && p.status.phase === 'Running' && isReady(p)) &&
              evicted.length === 4 &&
              evicted.every(isTerminating);
            return done ? { replacements, evicted } : undefined;
          },
          '4 pods Running on other-0 and the 4 originals evicted',
          50_000,
        );
        // Evicted, not force-deleted: the unreachable kubelet never confirms, so they stay Terminating (as in Kubernetes).
        const rows = table(await kubectl(['get', 'pods', '-l', 'app=survivor', '-o', 'wide']));
        for (const name of originals) assert.equal(rows.find((r) => r.NAME === name)?.STATUS, 'Terminating');
        // tolerationSeconds was honoured: each eviction came ≥ 2 s after its node's NoExecute taint (timestamps are whole seconds).
        const taintTimes = new Map(
          (await nodes()).map((n) => [n.metadata.name, Date.parse((n.spec.taints ?? []).find((t: any) => t.effect === 'NoExecute')?.timeAdded ?? '')]),
        );
        const events = JSON.parse(await kubectl(['get', 'events', '--field-selector', 'reason=TaintManagerEviction', '-o', 'json'])).items;
        for (const pod of settled.evicted) {
          const event = events.find((e: any) => e.involvedObject.name === pod.metadata.name);
          assert.ok(event, `a TaintManagerEviction event for ${pod.metadata.name}`);
          assert.match(event.message, new RegExp(`^Marking for deletion Pod default/${pod.metadata.name}$`));
          const evictedAt = Date.parse(pod.metadata.deletionTimestamp) - 1000 * (pod.metadata.deletionGracePeriodSeconds ?? 30);
          const after = evictedAt - taintTimes.get(pod.spec.nodeName)!;
          assert.ok(after >= 1000, `${pod.metadata.name} evicted ${after} ms after the taint (tolerationSeconds 2)`);
        }
        const [deploy] = table(await kubectl(['get', 'deployment', 'survivor']));
        assert.equal(deploy.READY, '4/4');
      });
    },
  );
});
