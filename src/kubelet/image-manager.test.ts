/**
 * The image manager against a real containerd: pull policies, the kubelet's
 * events, pull failures with their back-off, and pulls through a registry
 * mirror from registries.yaml (a real docker-registry on loopback).
 */
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { defaultAgentConfig, type AgentConfig } from '../agent/config.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder, EventType } from '../controllers/runtime/events.js';
import { containerdPaths, freePort, startContainerd, type ContainerdHandle } from './containerd.js';
import { CriClient } from './cri/client.js';
import { defaultPullPolicy, goDurationMs, ImageManager, ImagePullError, writeHostsTomls } from './image-manager.js';
import { PAUSE_IMAGE, writeBusyboxImageArchive } from './pause-image.js';

class MemoryRecorder implements EventRecorder {
  readonly events: { type: EventType; reason: string; message: string }[] = [];
  event(_object: KubeObject, type: EventType, reason: string, message: string): void {
    this.events.push({ type, reason, message });
  }
}

async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.status < 500) return;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('image manager helpers', () => {
  it('defaults the pull policy as Kubernetes does', () => {
    assert.equal(defaultPullPolicy('nginx'), 'Always');
    assert.equal(defaultPullPolicy('nginx:latest'), 'Always');
    assert.equal(defaultPullPolicy('nginx:1.25'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('localhost:5000/nginx'), 'Always');
    assert.equal(defaultPullPolicy('localhost:5000/nginx:2'), 'IfNotPresent');
    assert.equal(defaultPullPolicy(`nginx@sha256:${'a'.repeat(64)}`), 'IfNotPresent');
  });

  it("formats durations as Go's time.Duration", () => {
    assert.equal(goDurationMs(523), '523ms');
    assert.equal(goDurationMs(1200), '1.2s');
    assert.equal(goDurationMs(2000), '2s');
    assert.equal(goDurationMs(62_345), '1m2.345s');
  });

  it('writes hosts.toml per mirrored registry, the first mirror as server, and removes stale ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-certs-'));
    try {
      writeHostsTomls(dir, { mirrors: { stale: { endpoint: ['http://127.0.0.1:1'] } } });
      writeHostsTomls(dir, {
        mirrors: { 'docker.io': { endpoint: ['http://127.0.0.1:5000/', 'https://mirror.example:443'] } },
        configs: { 'mirror.example:443': { tls: { insecure_skip_verify: true }, auth: { username: 'u', password: 'p' } } },
      });
      const text = readFileSync(join(dir, 'docker.io', 'hosts.toml'), 'utf8');
      assert.match(text, /^server = "http:\/\/127\.0\.0\.1:5000"$/m);
      assert.match(text, /\[host\."http:\/\/127\.0\.0\.1:5000"\]\n {2}capabilities = \["pull", "resolve"\]\n\n/);
      assert.match(text, /\[host\."https:\/\/mirror\.example:443"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}skip_verify = true/);
      assert.match(text, /\[host\."https:\/\/mirror\.example:443"\.header\]\n {4}Authorization = "Basic dTpw"/);
      assert.throws(() => readFileSync(join(dir, 'stale', 'hosts.toml')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('image manager on a real containerd', () => {
  let root: string;
  let config: AgentConfig;
  let containerd: ContainerdHandle;
  let cri: CriClient;
  let registry: ChildProcess | undefined;
  let registryPort = 0;
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: randomBytes(6).toString('hex') }, spec: { containers: [] } };

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'pilote-images-'));
    config = defaultAgentConfig(root, '', { nodeName: 'img-node', bridgeName: `pi${randomBytes(3).toString('hex')}` });
    containerd = await startContainerd(config);
    cri = new CriClient(containerd.socket);

    // A real registry on loopback holding docker.io/library/mirrored:1 under library/mirrored:1.
    registryPort = await freePort();
    const registryConfig = join(root, 'registry.yml');
    writeFileSync(registryConfig, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(root, 'registry')}\nhttp:\n  addr: 127.0.0.1:${registryPort}\n`);
    registry = spawn('docker-registry', ['serve', registryConfig], { stdio: 'ignore' });
    await waitForHttp(`http://127.0.0.1:${registryPort}/v2/`);
    const archive = join(root, 'mirrored.tar');
    await writeBusyboxImageArchive(archive, { name: 'docker.io/library/mirrored:1', cmd: ['sh'], user: '1000:1000' });
    execFileSync('skopeo', ['copy', '--quiet', `oci-archive:${archive}`, `docker://127.0.0.1:${registryPort}/library/mirrored:1`, '--dest-tls-verify=false']);
  });

  after(async () => {
    cri?.close();
    registry?.kill('SIGTERM');
    await containerd?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('pulls through the registries.yaml mirror with Pulling/Pulled events, then finds it present', async () => {
    writeFileSync(config.registriesFile, `mirrors:\n  docker.io:\n    endpoint:\n      - "http://127.0.0.1:${registryPort}"\n`);
    const recorder = new MemoryRecorder();
    const images = new ImageManager({ cri, config, recorder });
    assert.match(readFileSync(join(containerdPaths(config.dataDir).certsDir, 'docker.io', 'hosts.toml'), 'utf8'), new RegExp(`server = "http://127.0.0.1:${registryPort}"`));
    const ensured = await images.ensureImage(pod, { name: 'c', image: 'mirrored:1' });
    assert.match(ensured.imageRef, /^sha256:/);
    assert.equal(ensured.user, '1000');
    assert.deepEqual(recorder.events.map((e) => `${e.type} ${e.reason}`), ['Normal Pulling', 'Normal Pulled']);
    assert.match(recorder.events[1]!.message, /^Successfully pulled image "mirrored:1" in \S+ \(\S+ including waiting\)\. Image size: \d+ bytes\.$/);
    const again = await images.ensureImage(pod, { name: 'c', image: 'mirrored:1' });
    assert.equal(again.imageRef, ensured.imageRef);
    assert.deepEqual(recorder.events.at(-1), { type: 'Normal', reason: 'Pulled', message: 'Container image "mirrored:1" already present on machine' });
  });

  it('reports ErrImagePull, then ImagePullBackOff until the back-off passes, and the back-off doubles', async () => {
    const closedPort = await freePort();
    const recorder = new MemoryRecorder();
    const images = new ImageManager({ cri, config, recorder, backoff: { initialMs: 300, maxMs: 5_000 } });
    const container = { name: 'c', image: `127.0.0.1:${closedPort}/missing:1` };
    await assert.rejects(images.ensureImage(pod, container), (error) => error instanceof ImagePullError && error.reason === 'ErrImagePull' && /^rpc error: code = \w+ desc = /.test(error.message));
    const failed = recorder.events.at(-1)!;
    assert.equal(failed.type, 'Warning');
    assert.equal(failed.reason, 'Failed');
    assert.ok(failed.message.startsWith(`Failed to pull image "${container.image}": rpc error:`), failed.message);

    await assert.rejects(images.ensureImage(pod, container), (error) => error instanceof ImagePullError && error.reason === 'ImagePullBackOff' && error.message === `Back-off pulling image "${container.image}"`);
    assert.deepEqual(recorder.events.at(-1), { type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${container.image}"` });
    const remaining = images.pullBackOffRemaining(pod, container);
    assert.ok(remaining > 0 && remaining <= 300, `remaining ${remaining}`);

    // After the back-off, a real retry (Pulling again) that fails again: the delay doubles.
    while (images.pullBackOffRemaining(pod, container) > 0) await new Promise((r) => setTimeout(r, images.pullBackOffRemaining(pod, container) + 5));
    const pullingBefore = recorder.events.filter((e) => e.reason === 'Pulling').length;
    await assert.rejects(images.ensureImage(pod, container), (error) => error instanceof ImagePullError && error.reason === 'ErrImagePull');
    assert.equal(recorder.events.filter((e) => e.reason === 'Pulling').length, pullingBefore + 1);
    assert.ok(images.pullBackOffRemaining(pod, container) > 300, 'the second back-off is longer than the first');
  });

  it('garbage-collects unused images but never the pause image', async () => {
    const images = new ImageManager({ cri, config, recorder: new MemoryRecorder() });
    const mirrored = (await cri.imageStatus('docker.io/library/mirrored:1')).image;
    assert.ok(mirrored, 'pulled by the first test');
    const removed = await images.garbageCollect({ force: true });
    assert.ok(removed.includes(mirrored.id), 'the unused image is removed');
    assert.equal((await cri.imageStatus('docker.io/library/mirrored:1')).image, null);
    assert.ok((await cri.imageStatus(PAUSE_IMAGE)).image, 'the pause image stays');
  });
});
