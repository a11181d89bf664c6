/**
 * End-to-end, issue 6: `pilote agent` joins a cluster from another host. The
 * second host is a network namespace of this machine (its own interfaces,
 * routes and nftables), joined to the server's by a veth pair; the agent
 * runs its own containerd and CNI bridge there. The server runs no node of
 * its own, so the scheduler can only place the pod on the agent.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, randomInt } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PILOTE_BIN, TEST_IMAGE_STORE, TestCluster, waitFor } from './helpers/cluster.js';

const ip = (...args: string[]) => execFileSync('ip', args, { encoding: 'utf8' });

describe('pilote agent on a second host', () => {
  const id = randomBytes(3).toString('hex');
  const netns = `pa${id}`;
  const hostLink = `va${id}`;
  const nsLink = `vb${id}`;
  const subnet = randomInt(1, 255);
  const hostIp = `10.201.${subnet}.1`;
  const agentIp = `10.201.${subnet}.2`;
  const podCidr = `10.42.${randomInt(1, 255)}.0/24`;
  const nodeName = `agent-${id}`;
  let cluster: TestCluster;
  let agent: ChildProcess | undefined;
  let agentDir: string;
  let agentLog = '';

  before(async () => {
    ip('netns', 'add', netns);
    ip('link', 'add', hostLink, 'type', 'veth', 'peer', 'name', nsLink);
    ip('link', 'set', nsLink, 'netns', netns);
    ip('addr', 'add', `${hostIp}/24`, 'dev', hostLink);
    ip('link', 'set', hostLink, 'up');
    ip('-n', netns, 'addr', 'add', `${agentIp}/24`, 'dev', nsLink);
    ip('-n', netns, 'link', 'set', nsLink, 'up');
    ip('-n', netns, 'link', 'set', 'lo', 'up');
    ip('-n', netns, 'route', 'add', 'default', 'via', hostIp);
    // The API server must be reachable from the other host: listen on every address.
    cluster = await TestCluster.start({ controllers: true, args: ['--bind-address=0.0.0.0', '--disable-agent'] });
    const token = readFileSync(join(cluster.dataDir, 'node-token'), 'utf8').trim();
    agentDir = mkdtempSync(join(tmpdir(), 'pilote-agent-'));
    agent = spawn(
      // nsenter, not `ip netns exec`: that one also remounts /sys, hiding the cgroup mounts runc needs.
      'nsenter',
      [`--net=/run/netns/${netns}`, process.execPath, PILOTE_BIN, 'agent', '--server', `https://${hostIp}:${cluster.port}`, '--token', token,
        '--data-dir', agentDir, '--node-name', nodeName, '--bridge-name', `pb${id}`, '--nft-table', `pilote_${id}`, '--pod-cidr', podCidr,
        '--kubelet-port', '0', '--image-store', TEST_IMAGE_STORE, '--cleanup'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PILOTE_LOG_LEVEL: 'info' } },
    );
    agent.stderr!.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
    agent.stdout!.on('data', (chunk: Buffer) => (agentLog += chunk.toString()));
  });

  after(async () => {
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent!.once('exit', resolve));
      agent.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    }
    await cluster?.stop();
    try {
      ip('link', 'del', hostLink);
    } catch {
      // Gone with the namespace.
    }
    try {
      ip('netns', 'del', netns);
    } catch {
      // Already gone.
    }
    if (agentDir) rmSync(agentDir, { recursive: true, force: true });
  });

  it('joins as a Ready node with its own pod range and runs a pod whose logs reach kubectl', async () => {
    const node = await waitFor(async () => {
      if (agent!.exitCode !== null) throw new Error(`the agent exited with ${agent!.exitCode}:\n${agentLog}`);
      const out = await cluster.kubectl(['get', 'node', nodeName, '-o', 'json']);
      if (out.code !== 0) return undefined;
      const object = JSON.parse(out.stdout);
      return object.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? object : undefined;
    }, `node ${nodeName} Ready`, 60_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${agentLog}`);
    });
    assert.equal(node.spec.podCIDR, podCidr);
    assert.ok(node.status.addresses.some((a: any) => a.type === 'InternalIP' && a.address === agentIp), JSON.stringify(node.status.addresses));

    await cluster.kubectlOk(['run', 'hello', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hello from $(hostname); sleep 3600']);
    const pod = await waitFor(async () => {
      const out = await cluster.kubectl(['get', 'pod', 'hello', '-o', 'json']);
      const object = out.code === 0 ? JSON.parse(out.stdout) : undefined;
      return object?.status?.phase === 'Running' ? object : undefined;
    }, 'the pod Running on the agent', 90_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${agentLog}`);
    });
    assert.equal(pod.spec.nodeName, nodeName);
    assert.equal(pod.status.hostIP, agentIp);
    assert.equal(pod.status.podIP.split('.').slice(0, 3).join('.'), podCidr.split('.').slice(0, 3).join('.'));
    const logs = await waitFor(async () => {
      const out = await cluster.kubectl(['logs', 'hello']);
      return out.code === 0 && out.stdout.includes('hello from') ? out.stdout : undefined;
    }, 'the pod log through the agent kubelet', 20_000);
    assert.equal(logs.trim(), 'hello from hello');
    await cluster.kubectlOk(['delete', 'pod', 'hello', '--grace-period=1'], { timeoutMs: 60_000 });
  });
});
