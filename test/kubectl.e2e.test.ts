/**
 * End-to-end: the real kubectl against a freshly started `pilote server`,
 * running the tutorial's commands (../shared/seed/) and checking what a user
 * would see. PILOTE_KUBECTL_MINOR picks the kubectl minor (default 32).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TestCluster, kubectlMinor, waitFor } from './helpers/cluster.js';
import { expectedExplain } from './helpers/explain.js';

const examples = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'examples', 'tutorial');
const example = (name: string) => join(examples, name);
/** The kubectl minor under test: a few client-side messages differ between minors. */
const minor = kubectlMinor();

describe('kubectl end to end (tutorial commands)', () => {
  let cluster: TestCluster;

  before(async () => {
    cluster = await TestCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('kubectl version reports the server version', async () => {
    const { stdout, stderr, code } = await cluster.kubectl(['version']);
    assert.equal(code, 0, stderr);
    if (minor >= 28) {
      assert.match(stdout, /^Server Version: v1\.32\.\d+/m);
    } else {
      // Until 1.28 (where --short became the default) kubectl printed the whole version.Info.
      assert.match(stdout, /^Server Version: version\.Info\{Major:"1", Minor:"32", GitVersion:"v1\.32\.\d+[^"]*", GitCommit:"[0-9a-f]{40}"/m);
      assert.match(stderr, /^WARNING: This version information is deprecated/m);
    }
  });

  it('kubectl api-versions and api-resources list the built-in groups and kinds', async () => {
    const versions = (await cluster.kubectlOk(['api-versions'])).trim().split('\n');
    for (const gv of ['v1', 'apps/v1', 'batch/v1', 'networking.k8s.io/v1', 'rbac.authorization.k8s.io/v1', 'coordination.k8s.io/v1']) {
      assert.ok(versions.includes(gv), `api-versions lacks ${gv}: ${versions.join(' ')}`);
    }
    const resources = await cluster.kubectlOk(['api-resources']);
    assert.match(resources, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(resources, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(resources, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
  });

  it('has the default namespaces and the kubernetes service', async () => {
    const ns = await cluster.kubectlOk(['get', 'ns', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.deepEqual(ns.split(' ').sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const svc = await cluster.kubectlOk(['get', 'svc', 'kubernetes']);
    assert.match(svc, /^kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443\/TCP\s+\d+s$/m);
  });

  it('kubectl run creates a pod that reads back with the defaults of a real cluster', async () => {
    assert.equal((await cluster.kubectlOk(['run', 'mynginx', '--image=nginx'])).trim(), 'pod/mynginx created');
    const pod = JSON.parse(await cluster.kubectlOk(['get', 'pod', 'mynginx', '-o', 'json']));
    assert.equal(pod.metadata.labels.run, 'mynginx');
    assert.match(pod.metadata.uid, /^[0-9a-f-]{36}$/);
    const container = pod.spec.containers[0];
    assert.equal(container.imagePullPolicy, 'Always');
    assert.equal(container.terminationMessagePath, '/dev/termination-log');
    assert.equal(pod.spec.restartPolicy, 'Always');
    assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(pod.spec.schedulerName, 'default-scheduler');
    assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
    assert.equal(pod.spec.serviceAccountName, 'default');
    assert.equal(pod.status.phase, 'Pending');
    assert.equal(pod.status.qosClass, 'BestEffort');
    const table = await cluster.kubectlOk(['get', 'pods']);
    assert.match(table, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(table, /^mynginx\s+0\/1\s+Pending\s+0\s+\d+s$/m);
  });

  it('kubectl apply -f creates, then configures on change (tutorial redis deployment)', async () => {
    assert.equal((await cluster.kubectlOk(['apply', '-f', example('redis-deploy.yaml')])).trim(), 'deployment.apps/redis created');
    const first = JSON.parse(await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'json']));
    assert.equal(first.spec.replicas, 1);
    assert.equal(first.spec.strategy.rollingUpdate.maxSurge, '25%');
    assert.equal(first.metadata.generation, 1);
    assert.ok(first.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    // Applying the same file again changes nothing.
    assert.equal((await cluster.kubectlOk(['apply', '-f', example('redis-deploy.yaml')])).trim(), 'deployment.apps/redis unchanged');
    assert.equal((await cluster.kubectlOk(['apply', '-f', example('redis-deploy-v2.yaml')])).trim(), 'deployment.apps/redis configured');
    const second = JSON.parse(await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'json']));
    assert.equal(second.spec.replicas, 4);
    assert.deepEqual(second.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } });
    assert.equal(second.spec.template.spec.containers[0].image, 'redis:5.0.12-alpine');
    assert.equal(second.metadata.generation, 2);
  });

  it('kubectl get with -l, -o wide, -o yaml, -o jsonpath and -A', async () => {
    await cluster.kubectlOk(['run', 'other', '--image=busybox', '--labels=app=other']);
    const byLabel = await cluster.kubectlOk(['get', 'pods', '-l', 'run=mynginx', '-o', 'name']);
    assert.equal(byLabel.trim(), 'pod/mynginx');
    const wide = await cluster.kubectlOk(['get', 'pods', '-o', 'wide']);
    assert.match(wide, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/m);
    assert.match(wide, /^mynginx\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
    const yaml = await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'yaml']);
    assert.match(yaml, /^kind: Deployment$/m);
    assert.match(yaml, /^\s+- containerPort: 6379$/m);
    const image = await cluster.kubectlOk(['get', 'deployment.apps/redis', '-o=jsonpath={$.spec.template.spec.containers[:1].image}']);
    assert.equal(image, 'redis:5.0.12-alpine');
    const all = await cluster.kubectlOk(['get', 'pods', '-A']);
    assert.match(all, /^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/m);
    assert.match(all, /^default\s+mynginx\s+/m);
    const deployWide = await cluster.kubectlOk(['get', 'deploy', '-o', 'wide']);
    assert.match(deployWide, /^redis\s+0\/4\s+0\s+0\s+\d+s\s+redis\s+redis:5\.0\.12-alpine\s+app=redis$/m);
  });

  it('kubectl get all lists pods, services and deployments', async () => {
    const out = await cluster.kubectlOk(['get', 'all']);
    assert.match(out, /^pod\/mynginx\s+0\/1\s+Pending/m);
    assert.match(out, /^service\/kubernetes\s+ClusterIP\s+10\.43\.0\.1/m);
    assert.match(out, /^deployment\.apps\/redis\s+0\/4/m);
  });

  it('kubectl get pods -w sees a change made meanwhile', async () => {
    const watcher = cluster.kubectlSpawn(['get', 'pods', '-w']);
    let output = '';
    watcher.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(() => output.includes('mynginx'), 'the initial list');
      await cluster.kubectlOk(['run', 'watched', '--image=busybox']);
      await waitFor(() => /^watched\s+0\/1\s+Pending/m.test(output), 'the new pod in the watch output');
      await cluster.kubectlOk(['delete', 'pod', 'watched']);
      await waitFor(() => output.split('\n').filter((l) => l.startsWith('watched')).length >= 2, 'the deletion in the watch output');
    } finally {
      watcher.kill();
    }
  });

  it('kubectl describe shows the pod and the deployment', async () => {
    const pod = await cluster.kubectlOk(['describe', 'pod', 'mynginx']);
    assert.match(pod, /^Name:\s+mynginx$/m);
    assert.match(pod, /^Namespace:\s+default$/m);
    assert.match(pod, /^Status:\s+Pending$/m);
    assert.match(pod, /^QoS Class:\s+BestEffort$/m);
    const deploy = await cluster.kubectlOk(['describe', 'deploy', 'redis']);
    assert.match(deploy, /^Replicas:\s+4 desired/m);
    assert.match(deploy, /^RollingUpdateStrategy:\s+1 max unavailable, 2 max surge$/m);
  });

  it('kubectl label and annotate', async () => {
    assert.equal((await cluster.kubectlOk(['label', 'pod', 'mynginx', 'env=dev'])).trim(), 'pod/mynginx labeled');
    // kubectl 1.27 says "annotate" (its printer was named after the verb; fixed in 1.28).
    assert.equal((await cluster.kubectlOk(['annotate', 'pod', 'mynginx', 'owner=team-a'])).trim(), `pod/mynginx ${minor >= 28 ? 'annotated' : 'annotate'}`);
    const pod = JSON.parse(await cluster.kubectlOk(['get', 'pod', 'mynginx', '-o', 'json']));
    assert.equal(pod.metadata.labels.env, 'dev');
    assert.equal(pod.metadata.annotations.owner, 'team-a');
    const shown = await cluster.kubectlOk(['get', 'pods', '-l', 'env=dev', '--show-labels']);
    assert.match(shown, /^mynginx\s+.*env=dev,run=mynginx$/m);
    // Overwriting needs --overwrite, as on a real cluster.
    const refused = await cluster.kubectl(['label', 'pod', 'mynginx', 'env=prod']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /already has a value \(dev\)/);
  });

  it('kubectl scale and set image change the deployment', async () => {
    assert.equal((await cluster.kubectlOk(['scale', 'deploy', 'redis', '--replicas=3'])).trim(), 'deployment.apps/redis scaled');
    assert.equal(await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'jsonpath={.spec.replicas}']), '3');
    assert.equal(
      (await cluster.kubectlOk(['set', 'image', 'deployment.apps/redis', 'redis=redis:6-alpine'])).trim(),
      'deployment.apps/redis image updated',
    );
    const image = await cluster.kubectlOk(['get', 'deployment.apps/redis', '-o=jsonpath={$.spec.template.spec.containers[:1].image}']);
    assert.equal(image, 'redis:6-alpine');
    const deploy = JSON.parse(await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'json']));
    assert.equal(deploy.spec.template.spec.containers.length, 1);
    assert.equal(deploy.spec.template.spec.containers[0].ports[0].containerPort, 6379);
  });

  it('kubectl edit with a scripted editor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-editor-'));
    const editor = join(dir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/replicas: 3/replicas: 2/" "$1"\n', { mode: 0o755 });
    const out = await cluster.kubectlOk(['edit', 'deploy', 'redis'], { env: { EDITOR: editor, KUBE_EDITOR: editor } });
    assert.equal(out.trim(), 'deployment.apps/redis edited');
    assert.equal(await cluster.kubectlOk(['get', 'deploy', 'redis', '-o', 'jsonpath={.spec.replicas}']), '2');
    assert.ok(readFileSync(editor, 'utf8').includes('sed'));
  });

  it('kubectl apply of the tutorial pods (init container, securityContext)', async () => {
    assert.equal((await cluster.kubectlOk(['apply', '-f', example('initcontainer-pod.yaml')])).trim(), 'pod/initcontainer-example created');
    assert.equal((await cluster.kubectlOk(['apply', '-f', example('nginxsecure-pod.yaml')])).trim(), 'pod/nginxsecure created');
    const init = JSON.parse(await cluster.kubectlOk(['get', 'pod', 'initcontainer-example', '-o', 'json']));
    assert.deepEqual(init.spec.initContainers[0].command, ['sleep', '20']);
    assert.equal(init.spec.initContainers[0].imagePullPolicy, 'Always');
    const secure = JSON.parse(await cluster.kubectlOk(['get', 'pod', 'nginxsecure', '-o', 'json']));
    assert.equal(secure.spec.securityContext.runAsNonRoot, true);
  });

  it('kubectl delete returns once the object is gone', async () => {
    assert.equal((await cluster.kubectlOk(['delete', 'pod', 'mynginx'])).trim(), 'pod "mynginx" deleted');
    const gone = await cluster.kubectl(['get', 'pod', 'mynginx']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /Error from server \(NotFound\): pods "mynginx" not found/);
    assert.equal((await cluster.kubectlOk(['delete', 'deploy', 'redis'])).trim(), 'deployment.apps "redis" deleted');
    assert.match((await cluster.kubectl(['get', 'deploy', 'redis'])).stderr, /NotFound/);
  });

  it('namespaces: kubectl create ns (a protobuf body), use with -n, delete', async () => {
    assert.equal((await cluster.kubectlOk(['create', 'ns', 'ci-env'])).trim(), 'namespace/ci-env created');
    assert.match(await cluster.kubectlOk(['get', 'ns', 'ci-env']), /^ci-env\s+Active/m);
    await cluster.kubectlOk(['-n', 'ci-env', 'run', 'inns', '--image=nginx']);
    assert.match(await cluster.kubectlOk(['-n', 'ci-env', 'get', 'pods']), /^inns\s+0\/1\s+Pending/m);
    assert.match(await cluster.kubectlOk(['get', 'pods', '--all-namespaces']), /^ci-env\s+inns\s+/m);
    assert.equal((await cluster.kubectlOk(['delete', 'ns', 'ci-env'], { timeoutMs: 60_000 })).trim(), 'namespace "ci-env" deleted');
    assert.match((await cluster.kubectl(['get', 'ns', 'ci-env'])).stderr, /NotFound/);
  });

  it('kubectl create generators (protobuf bodies) and auth can-i', async () => {
    assert.equal((await cluster.kubectlOk(['create', 'configmap', 'settings', '--from-literal=mode=dev'])).trim(), 'configmap/settings created');
    assert.equal(await cluster.kubectlOk(['get', 'cm', 'settings', '-o', 'jsonpath={.data.mode}']), 'dev');
    assert.equal((await cluster.kubectlOk(['create', 'deployment', 'web', '--image=nginx', '--replicas=2'])).trim(), 'deployment.apps/web created');
    const web = JSON.parse(await cluster.kubectlOk(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(web.spec.replicas, 2);
    assert.deepEqual(web.spec.selector, { matchLabels: { app: 'web' } });
    assert.equal(web.spec.template.spec.containers[0].image, 'nginx');
    assert.equal((await cluster.kubectlOk(['create', 'secret', 'generic', 'creds', '--from-literal=password=s3cret'])).trim(), 'secret/creds created');
    assert.equal(Buffer.from(await cluster.kubectlOk(['get', 'secret', 'creds', '-o', 'jsonpath={.data.password}']), 'base64').toString(), 's3cret');
    // Until permissions arrive the admin (and whoever it impersonates) may do everything.
    assert.equal((await cluster.kubectlOk(['auth', 'can-i', 'get', 'pods'])).trim(), 'yes');
    assert.equal((await cluster.kubectlOk(['auth', 'can-i', 'get', 'pods', '--as', 'toto@test.com'])).trim(), 'yes');
    await cluster.kubectlOk(['delete', 'deploy', 'web']);
  });

  it('kubectl explain prints what it prints on a real 1.32 cluster', async () => {
    const commands = ['pods', 'pods.spec', 'deployment.spec.strategy.rollingUpdate --recursive', 'deployment.spec.strategy --output plaintext-openapiv2'];
    for (const args of commands) {
      assert.equal(await cluster.kubectlOk(['explain', ...args.split(' ')]), expectedExplain(args, minor), `kubectl explain ${args}`);
    }
    // The field types, enums and required marks come from the schema.
    const ports = await cluster.kubectlOk(['explain', 'pods.spec.containers.ports']);
    assert.match(ports, /^FIELD: ports <\[\]ContainerPort>$/m);
    assert.match(ports, /^  containerPort\t<integer> -required-$/m);
    if (minor >= 30) assert.match(ports, /^  enum: SCTP, TCP, UDP$/m);
    const missing = await cluster.kubectl(['explain', 'pods.spec.nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /field "nope" does not exist/);
  });

  it('errors come back as kubectl prints them from a real cluster', async () => {
    const missing = await cluster.kubectl(['get', 'pod', 'nope']);
    assert.equal(missing.stderr.trim(), 'Error from server (NotFound): pods "nope" not found');
    const badNs = await cluster.kubectl(['-n', 'nowhere', 'run', 'x', '--image=nginx']);
    assert.match(badNs.stderr, /Error from server \(NotFound\): namespaces "nowhere" not found/);
    const invalid = await cluster.kubectl(['run', 'Bad_Name', '--image=nginx']);
    // kubectl run names the container after the pod, so both names are reported, as on a real cluster.
    assert.match(invalid.stderr, /The Pod "Bad_Name" is invalid: \n\* metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/);
    assert.match(invalid.stderr, /^\* spec\.containers\[0\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/m);
    const exists = await cluster.kubectl(['run', 'other', '--image=busybox']);
    assert.match(exists.stderr, /Error from server \(AlreadyExists\): pods "other" already exists/);
  });
});
