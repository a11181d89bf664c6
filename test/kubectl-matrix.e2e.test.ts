/**
 * End-to-end across kubectl minors: the core tutorial commands with every real kubectl
 * from 1.27 to 1.33, one fresh `pilote server` per minor, two minors at a time.
 *
 * The minors differ in what they ask of the server (1.27/1.28 negotiate aggregated
 * discovery v2beta1 and load the protobuf /openapi/v2 before apply/edit/explain and
 * compute apply patches from it; later ones use /openapi/v3) and in a few client-side
 * messages, which the assertions name where they differ.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KUBECTL_MINORS, TestCluster, waitFor } from './helpers/cluster.js';
import { expectedExplain } from './helpers/explain.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'tutorial');

describe('kubectl 1.27 … 1.33, one server each', { concurrency: 2 }, () => {
  for (const minorText of KUBECTL_MINORS) {
    const minor = Number(minorText);

    // Steps of one minor build on each other: one at a time (subtests would inherit the 2 above).
    describe(`kubectl 1.${minor}`, { concurrency: 1 }, () => {
      let cluster: TestCluster;
      let editorDir: string;
      const run = (args: string[], options: Parameters<TestCluster['kubectl']>[1] = {}) => cluster.kubectl(args, { ...options, minor: minorText });
      const ok = (args: string[], options: Parameters<TestCluster['kubectl']>[1] = {}) => cluster.kubectlOk(args, { ...options, minor: minorText });

      before(async () => {
        cluster = await TestCluster.start();
        editorDir = mkdtempSync(join(tmpdir(), 'pilote-editor-'));
      });

      after(async () => {
        await cluster?.stop();
        if (editorDir) rmSync(editorDir, { recursive: true, force: true });
      });

      it('version and api-resources', async () => {
        const version = await run(['version']);
        assert.equal(version.code, 0, version.stderr);
        // Until 1.28 (where --short became the default) kubectl printed the whole version.Info.
        if (minor >= 28) {
          assert.match(version.stdout, new RegExp(`^Client Version: v1\\.${minor}\\.\\d+$`, 'm'));
          assert.match(version.stdout, /^Server Version: v1\.32\.\d+/m);
        } else {
          assert.match(version.stdout, new RegExp(`^Client Version: version\\.Info\\{Major:"1", Minor:"${minor}"`, 'm'));
          assert.match(version.stdout, /^Server Version: version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.\d+/m);
        }
        const resources = await ok(['api-resources']);
        assert.match(resources, /^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/m);
        assert.match(resources, /^pods\s+po\s+v1\s+true\s+Pod$/m);
        assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
      });

      it('run, then get -o wide, -l and -o jsonpath', async () => {
        assert.equal((await ok(['run', 'web', '--image=nginx', '--labels=app=web,tier=front'])).trim(), 'pod/web created');
        await ok(['run', 'other', '--image=busybox']);
        const wide = await ok(['get', 'pods', '-o', 'wide']);
        assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
        assert.match(wide, /^web\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
        assert.equal((await ok(['get', 'pods', '-l', 'app=web', '-o', 'name'])).trim(), 'pod/web');
        assert.equal(await ok(['get', 'pod', 'web', '-o', 'jsonpath={.spec.containers[0].image} {.metadata.labels.tier}']), 'nginx front');
      });

      it('apply -f: created, unchanged, configured', async () => {
        const file = join(examples, 'redis-deploy.yaml');
        assert.equal((await ok(['apply', '-f', file])).trim(), 'deployment.apps/redis created');
        assert.equal((await ok(['apply', '-f', file])).trim(), 'deployment.apps/redis unchanged');
        const configured = await run(['apply', '-f', join(examples, 'redis-deploy-v2.yaml')]);
        assert.equal(configured.code, 0, configured.stderr);
        assert.equal(configured.stdout.trim(), 'deployment.apps/redis configured');
        // No "error calculating patch from openapi spec" or validation warnings.
        assert.doesNotMatch(configured.stderr, /warning|error/i);
        const deploy = JSON.parse(await ok(['get', 'deploy', 'redis', '-o', 'json']));
        assert.equal(deploy.spec.replicas, 4);
        assert.deepEqual(deploy.spec.strategy.rollingUpdate, { maxSurge: 2, maxUnavailable: 1 });
        assert.equal(deploy.spec.template.spec.containers.length, 1);
        assert.equal(deploy.spec.template.spec.containers[0].image, 'redis:5.0.12-alpine');
        assert.equal(deploy.spec.template.spec.containers[0].ports[0].containerPort, 6379);
        assert.equal(deploy.metadata.generation, 2);
      });

      it('get -w sees a change made meanwhile', async () => {
        const watcher = cluster.kubectlSpawn(['get', 'pods', '-w'], minorText);
        let output = '';
        watcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
        try {
          await waitFor(() => /^web\s/m.test(output), 'the initial list');
          await ok(['label', 'pod', 'other', 'seen=yes']);
          await waitFor(() => output.split('\n').filter((line) => line.startsWith('other ')).length >= 2, 'the modified pod in the watch output');
          await ok(['run', 'watched', '--image=busybox']);
          await waitFor(() => /^watched\s+0\/1\s+Pending/m.test(output), 'the new pod in the watch output');
        } finally {
          watcher.kill();
        }
      });

      it('describe, label, scale and set image', async () => {
        const pod = await ok(['describe', 'pod', 'web']);
        assert.match(pod, /^Name:\s+web$/m);
        assert.match(pod, /^Labels:\s+app=web$/m);
        assert.match(pod, /^Status:\s+Pending$/m);
        const deploy = await ok(['describe', 'deploy', 'redis']);
        assert.match(deploy, /^Replicas:\s+4 desired/m);
        assert.match(deploy, /^RollingUpdateStrategy:\s+1 max unavailable, 2 max surge$/m);
        assert.equal((await ok(['label', 'pod', 'web', 'env=dev'])).trim(), 'pod/web labeled');
        const refused = await run(['label', 'pod', 'web', 'env=prod']);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /already has a value \(dev\)/);
        assert.equal((await ok(['scale', 'deploy', 'redis', '--replicas=3'])).trim(), 'deployment.apps/redis scaled');
        assert.equal((await ok(['set', 'image', 'deployment/redis', 'redis=redis:6-alpine'])).trim(), 'deployment.apps/redis image updated');
        assert.equal(await ok(['get', 'deploy', 'redis', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']), '3 redis:6-alpine');
      });

      it('edit with a scripted EDITOR', async () => {
        const editor = join(editorDir, 'editor.sh');
        writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 2/" "$1"\n', { mode: 0o755 });
        const edited = await run(['edit', 'deploy', 'redis'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
        assert.equal(edited.stdout.trim(), 'deployment.apps/redis edited', edited.stderr);
        assert.equal(await ok(['get', 'deploy', 'redis', '-o', 'jsonpath={.spec.replicas}']), '2');
      });

      it('create ns and auth can-i (protobuf bodies)', async () => {
        assert.equal((await ok(['create', 'ns', 'matrix'])).trim(), 'namespace/matrix created');
        await ok(['-n', 'matrix', 'run', 'inns', '--image=nginx']);
        assert.match(await ok(['get', 'pods', '-A']), /^matrix\s+inns\s+0\/1\s+Pending/m);
        assert.equal((await ok(['auth', 'can-i', 'create', 'deployments', '-n', 'matrix'])).trim(), 'yes');
      });

      it('explain pods', async () => {
        assert.equal(await ok(['explain', 'pods']), expectedExplain('pods', minor));
      });

      it('delete returns once the objects are gone', async () => {
        assert.equal((await ok(['delete', 'pod', 'web'])).trim(), 'pod "web" deleted');
        assert.match((await run(['get', 'pod', 'web'])).stderr, /Error from server \(NotFound\): pods "web" not found/);
        assert.equal((await ok(['delete', 'deploy', 'redis'])).trim(), 'deployment.apps "redis" deleted');
        assert.equal((await ok(['delete', 'ns', 'matrix'], { timeoutMs: 60_000 })).trim(), 'namespace "matrix" deleted');
        assert.match((await run(['get', 'ns', 'matrix'])).stderr, /NotFound/);
      });
    });
  }
});
