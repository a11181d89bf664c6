/**
 * containerd as a child process: its config, the socket path limit, and a
 * second start on the same data dir replacing a containerd left running.
 * The CNI conflist and host-network helpers are checked here too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { defaultAgentConfig } from '../agent/config.js';
import { cniConflist, cniPaths, writeCniConfig } from './cni.js';
import { containerdConfigToml, containerdPaths, startContainerd } from './containerd.js';
import { CriClient } from './cri/client.js';
import { containerRuntimeVersion, nodeResources, pressureConditions, type MachineSample } from './node-status.js';
import { PAUSE_IMAGE } from './pause-image.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('containerd config', () => {
  it('keeps everything under the data dir and sets what these machines need', () => {
    const config = defaultAgentConfig('/tmp/x', '', { nodeName: 'n' });
    const toml = containerdConfigToml(config, 4242);
    assert.match(toml, /^version = 2$/m);
    assert.match(toml, /^root = "\/tmp\/x\/agent\/containerd\/root"$/m);
    assert.match(toml, /^state = "\/tmp\/x\/agent\/containerd\/state"$/m);
    assert.match(toml, /address = "\/tmp\/x\/agent\/containerd\/containerd\.sock"/);
    assert.match(toml, /address = "\/tmp\/x\/agent\/containerd\/containerd\.sock\.ttrpc"/);
    assert.match(toml, /restrict_oom_score_adj = true/);
    assert.match(toml, new RegExp(`sandbox_image = "${PAUSE_IMAGE.replace(/\./g, '\\.')}"`));
    assert.match(toml, /stream_server_address = "127\.0\.0\.1"\n {2}stream_server_port = "4242"/);
    assert.match(toml, /runtime_type = "io\.containerd\.runc\.v2"/);
    assert.match(toml, /SystemdCgroup = false/);
    assert.match(toml, /bin_dir = "\/usr\/lib\/cni"\n {4}conf_dir = "\/tmp\/x\/agent\/cni\/net\.d"/);
    assert.match(toml, /config_path = "\/tmp\/x\/agent\/containerd\/certs\.d"/);
  });

  it('moves the socket to a short path when the data dir is too deep for a unix socket', () => {
    const deep = '/tmp/' + 'd'.repeat(120);
    const socket = containerdPaths(deep).socket;
    assert.ok(socket.length + '.ttrpc'.length < 108, socket);
    assert.match(socket, /^\/run\/pilote\/containerd-[a-f0-9]{16}\.sock$/);
    assert.equal(containerdPaths('/tmp/a').socket, '/tmp/a/containerd/containerd.sock');
  });
});

describe('CNI conflist', () => {
  it('is a bridge with host-local IPAM on the node pod CIDR, plus portmap', () => {
    const config = { bridgeName: 'pilote7', podCidr: '10.42.7.0/24', dataDir: '/tmp/agent' };
    const list = cniConflist(config) as { name: string; cniVersion: string; plugins: Record<string, any>[] };
    assert.equal(list.name, 'pilote-pilote7');
    assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
    const bridge = list.plugins[0]!;
    assert.deepEqual([bridge.bridge, bridge.isGateway, bridge.ipMasq, bridge.hairpinMode], ['pilote7', true, true, true]);
    assert.deepEqual(bridge.ipam, { type: 'host-local', ranges: [[{ subnet: '10.42.7.0/24', gateway: '10.42.7.1' }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: '/tmp/agent/cni/ipam' });
    assert.deepEqual(list.plugins[1]!.capabilities, { portMappings: true });
    assert.throws(() => cniConflist({ ...config, bridgeName: 'a-very-long-bridge' }), /15 characters/);
  });

  it('is written into the agent conf dir', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pilote-cni-'));
    try {
      const path = writeCniConfig({ bridgeName: 'pb0', podCidr: '10.42.9.0/24', dataDir });
      assert.equal(path, cniPaths(dataDir).conflist);
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).name, 'pilote-pb0');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('node status helpers', () => {
  const healthy: MachineSample = { cpuCount: 2, memoryTotalBytes: 8 * 2 ** 30, memoryAvailableBytes: 6 * 2 ** 30, fsTotalBytes: 100 * 2 ** 30, fsAvailableBytes: 50 * 2 ** 30, inodesTotal: 1000, inodesFree: 900, pidMax: 32768, pidsInUse: 300 };

  it('reserves the hard-eviction thresholds from allocatable', () => {
    const { capacity, allocatable } = nodeResources(healthy);
    assert.equal(capacity.memory, `${8 * 1024 * 1024}Ki`);
    assert.equal(allocatable.memory, `${8 * 1024 * 1024 - 100 * 1024}Ki`);
    assert.equal(capacity.pods, '110');
    assert.equal(allocatable['ephemeral-storage'], String(Math.floor(100 * 2 ** 30 * 0.9)));
  });

  it('reports pressure past the thresholds with the kubelet reasons', () => {
    assert.deepEqual(pressureConditions(healthy).map((c) => c.status), ['False', 'False', 'False']);
    const starved = pressureConditions({ ...healthy, memoryAvailableBytes: 50 * 2 ** 20, fsAvailableBytes: 2 ** 30, pidsInUse: 32000 });
    assert.deepEqual(starved.map((c) => [c.type, c.status, c.reason]), [
      ['MemoryPressure', 'True', 'KubeletHasInsufficientMemory'],
      ['DiskPressure', 'True', 'KubeletHasDiskPressure'],
      ['PIDPressure', 'True', 'KubeletHasInsufficientPID'],
    ]);
  });

  it('formats the runtime version as upstream does', () => {
    assert.equal(containerRuntimeVersion('1.6.20~ds1'), 'containerd://1.6.20');
    assert.equal(containerRuntimeVersion('1.7.2'), 'containerd://1.7.2');
  });
});

describe('containerd process', () => {
  it('replaces a containerd left running by a previous run of the same data dir', async () => {
    const root = mkdtempSync(join(tmpdir(), 'pilote-cd-'));
    const config = defaultAgentConfig(root, '', { nodeName: 'n', bridgeName: `pc${randomBytes(3).toString('hex')}` });
    let unexpected: { code: number | null; signal: string | null } | undefined;
    const first = await startContainerd(config, { onUnexpectedExit: (exit) => (unexpected = exit) });
    let second: Awaited<ReturnType<typeof startContainerd>> | undefined;
    try {
      // As if the agent had been killed: the first containerd still runs.
      second = await startContainerd(config);
      assert.notEqual(second.pid, first.pid);
      assert.equal(alive(first.pid), false, 'the previous containerd was stopped');
      assert.ok(unexpected, 'the first handle saw its containerd exit without stop()');
      assert.equal(readFileSync(containerdPaths(config.dataDir).pidFile, 'utf8').trim(), String(second.pid));
      const cri = new CriClient(second.socket);
      try {
        assert.ok((await cri.imageStatus(PAUSE_IMAGE)).image, 'images survive the restart');
      } finally {
        cri.close();
      }
    } finally {
      await second?.stop();
      await first.stop();
      rmSync(root, { recursive: true, force: true });
    }
    assert.equal(alive(second!.pid), false);
  });
});
