/**
 * End-to-end: `pilote simulate` joins a running `pilote server` over HTTPS
 * (its kubeconfig) and the real kubectl sees the simulated nodes as a real
 * cluster shows nodes — Ready, ROLES <none>, the kubelet VERSION, the -o wide
 * columns, the Lease in describe — and the pods bound to them run, complete
 * and delete. SIGTERM stops it cleanly; --delete-nodes-on-exit removes the nodes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { PILOTE_BIN, TestCluster, waitFor } from './helpers/cluster.js';

let cluster: TestCluster;

/** Starts `pilote simulate` and waits for its ready line. */
async function startSimulate(args: string[]): Promise<{ child: ChildProcess; line: string; stderr: () => string }> {
  const child = spawn(process.execPath, [PILOTE_BIN, 'simulate', '--kubeconfig', cluster.kubeconfig, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PILOTE_LOG_LEVEL: process.env.PILOTE_LOG_LEVEL ?? 'warn' },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pilote simulate did not start within 20 s:\n${stderr}`)), 20_000);
    createInterface({ input: child.stdout! }).on('line', (text) => {
      if (text.startsWith('simulating ')) {
        clearTimeout(timer);
        resolve(text);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`pilote simulate exited with ${code}:\n${stderr}`));
    });
  });
  return { child, line, stderr: () => stderr };
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

/** Splits kubectl's table output into rows of cells (columns are separated by 3+ spaces or a column boundary). */
function table(output: string): string[][] {
  const lines = output.trimEnd().split('\n');
  const header = lines[0];
  const starts: number[] = [];
  for (const match of header.matchAll(/\S+/g)) starts.push(match.index!);
  return lines.map((line) => starts.map((start, i) => line.slice(start, i + 1 < starts.length ? starts[i + 1] : undefined).trim()));
}

describe('pilote simulate', () => {
  let sim: Awaited<ReturnType<typeof startSimulate>>;

  before(async () => {
    cluster = await TestCluster.start();
    sim = await startSimulate(['--nodes', '3', '--pod-run-seconds', '1', '--lease-renew-seconds', '2']);
  });

  let dataDir: string | undefined;

  after(async () => {
    if (sim) await stop(sim.child);
    await cluster?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('prints what it simulates', () => {
    assert.equal(sim.line, `simulating 3 nodes on https://127.0.0.1:${cluster.port}: pilote-sim-0, pilote-sim-1, pilote-sim-2`);
  });

  it('kubectl get nodes shows them Ready with ROLES <none> and the kubelet version', async () => {
    const rows = table(await cluster.kubectlOk(['get', 'nodes']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION']);
    const simulated = rows.slice(1).filter((r) => r[0].startsWith('pilote-sim-'));
    assert.deepEqual(
      simulated.map((r) => [r[0], r[1], r[2], r[4]]),
      [0, 1, 2].map((i) => [`pilote-sim-${i}`, 'Ready', '<none>', 'v1.32.0-pilote-sim']),
    );
    for (const row of simulated) assert.match(row[3], /^\d+s$/);
  });

  it('kubectl get nodes -o wide shows their addresses, OS image, kernel and runtime', async () => {
    const rows = table(await cluster.kubectlOk(['get', 'nodes', '-o', 'wide', '-l', 'pilote.dev/simulated=true']));
    assert.deepEqual(rows[0], ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
    assert.equal(rows.length, 4);
    rows.slice(1).forEach((row, i) => {
      assert.equal(row[0], `pilote-sim-${i}`);
      assert.equal(row[5], `10.42.${i}.1`);
      assert.equal(row[6], '<none>');
      assert.equal(row[7], 'Pilote simulated node');
      assert.ok(row[8].length > 0);
      assert.equal(row[9], 'pilote-sim://0.1.0');
    });
  });

  it('kubectl describe node shows the conditions and the renewed Lease', async () => {
    const text = await cluster.kubectlOk(['describe', 'node', 'pilote-sim-0']);
    assert.match(text, /^Roles:\s+<none>$/m);
    assert.match(text, /^Lease:\n\s+HolderIdentity:\s+pilote-sim-0\n\s+AcquireTime:\s+<unset>\n\s+RenewTime:\s+\S/m);
    assert.match(text, /^\s+Ready\s+True\s+.*KubeletReady\s+kubelet is posting ready status$/m);
    assert.match(text, /^\s+MemoryPressure\s+False\s+.*KubeletHasSufficientMemory/m);
    assert.match(text, /^\s+InternalIP:\s+10\.42\.0\.1$/m);
    assert.match(text, /^\s+Container Runtime Version:\s+pilote-sim:\/\/0\.1\.0$/m);
    assert.match(text, /^\s+Kubelet Version:\s+v1\.32\.0-pilote-sim$/m);
  });

  it('runs a pod placed on a simulated node, and kubectl delete returns', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { nodeName: 'pilote-sim-1', containers: [{ name: 'nginx', image: 'nginx' }] },
    });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest });
    await waitFor(async () => (await cluster.kubectlOk(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}'])) === 'Running', 'the pod to run');
    const rows = table(await cluster.kubectlOk(['get', 'pod', 'web', '-o', 'wide']));
    assert.deepEqual(rows[0].slice(0, 7), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE']);
    assert.deepEqual([rows[1][1], rows[1][2], rows[1][3]], ['1/1', 'Running', '0']);
    assert.match(rows[1][5], /^10\.42\.1\.\d+$/);
    assert.equal(rows[1][6], 'pilote-sim-1');
    const described = await cluster.kubectlOk(['describe', 'pod', 'web']);
    assert.match(described, /Started\s+\S+\s+kubelet\s+Started container nginx/);

    const started = Date.now();
    const deleted = await cluster.kubectlOk(['delete', 'pod', 'web'], { timeoutMs: 20_000 });
    assert.equal(deleted.trim(), 'pod "web" deleted');
    assert.ok(Date.now() - started < 10_000, 'the simulated kubelet confirmed the deletion');
  });

  it('a Never pod completes after the run time', async () => {
    await cluster.kubectlOk(['run', 'once', '--image=busybox', '--restart=Never', '--overrides', JSON.stringify({ spec: { nodeName: 'pilote-sim-2' } })]);
    await waitFor(
      async () => {
        const rows = table(await cluster.kubectlOk(['get', 'pod', 'once']));
        return rows[1][2] === 'Completed' ? rows : undefined;
      },
      'the pod to complete',
      15_000,
    );
    assert.equal(await cluster.kubectlOk(['get', 'pod', 'once', '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].state.terminated.reason}']), 'Succeeded Completed');
  });

  it('rides out a restart of the API server: leases and pods carry on', async () => {
    dataDir = cluster.dataDir;
    const port = cluster.port;
    await cluster.stop({ keepData: true });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    cluster = await TestCluster.start({ dataDir, port });
    const renewed = (await cluster.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', 'pilote-sim-0', '-o', 'jsonpath={.spec.renewTime}'])).trim();
    await waitFor(
      async () => (await cluster.kubectlOk(['get', 'lease', '-n', 'kube-node-lease', 'pilote-sim-0', '-o', 'jsonpath={.spec.renewTime}'])).trim() > renewed,
      'a lease renewal after the restart',
      15_000,
    );
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-restart' }, spec: { nodeName: 'pilote-sim-0', containers: [{ name: 'c', image: 'nginx' }] } });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manifest });
    await waitFor(async () => (await cluster.kubectlOk(['get', 'pod', 'after-restart', '-o', 'jsonpath={.status.phase}'])) === 'Running', 'a new pod to run', 15_000);
    // Failures while the server was away are summarised, not logged per node and per attempt.
    const warnings = sim.stderr().split('\n').filter((line) => line.includes('"level":"warn"'));
    assert.ok(warnings.length < 10, warnings.join('\n'));
    assert.equal(sim.child.exitCode, null, 'still running');
  });

  it('stops on SIGTERM; --delete-nodes-on-exit removes its nodes', async () => {
    const other = await startSimulate(['--nodes', '2', '--name-prefix', 'gone-', '--delete-nodes-on-exit', '--pod-cidr-base', '10.60.0.0']);
    assert.match(other.line, /: gone-0, gone-1$/);
    assert.match(await cluster.kubectlOk(['get', 'node', 'gone-1', '-o', 'jsonpath={.status.addresses[0].address}']), /^10\.60\.1\.1$/);
    assert.equal(await stop(other.child), 0, other.stderr());
    const names = await cluster.kubectlOk(['get', 'nodes', '-o', 'name']);
    assert.doesNotMatch(names, /gone-/);
    assert.match(names, /node\/pilote-sim-0/);
  });
});
