// Captures the protobuf request bodies the real kubectl sends, for the codec's tests:
// starts a throwaway HTTP server that serves just enough discovery for kubectl to proceed,
// runs `kubectl create …` / `kubectl auth can-i …` against it, records every request body and
// writes them (base64) to src/api/protobuf/fixtures/kubectl-bodies.json.
//
// Usage: npx tsc -p tsconfig.json && node scripts/gen-protobuf-fixtures.mjs [--kubectl=PATH] [--verbose]
//   The server answers each POST with the JSON our own codec decodes from the body (so kubectl
//   prints its usual "namespace/foo created"), which makes this also a smoke test of the codec.
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outFile = join(root, 'src', 'api', 'protobuf', 'fixtures', 'kubectl-bodies.json');
const args = process.argv.slice(2);
const kubectl = args.find((a) => a.startsWith('--kubectl='))?.slice('--kubectl='.length) ?? 'kubectl';
const verbose = args.includes('--verbose');

const { decodeProtobufObject } = await import(join(root, 'dist', 'src', 'api', 'protobuf', 'codec.js'));

// ---- discovery: the resources the captured commands touch -------------------------------------
const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const GROUPS = [
  ['', 'v1', [
    ['namespaces', 'Namespace', false, ['ns']],
    ['configmaps', 'ConfigMap', true, ['cm']],
    ['secrets', 'Secret', true, []],
    ['services', 'Service', true, ['svc']],
    ['serviceaccounts', 'ServiceAccount', true, ['sa'], [['token', 'authentication.k8s.io', 'v1', 'TokenRequest', ['create']]]],
    ['resourcequotas', 'ResourceQuota', true, ['quota']],
    ['pods', 'Pod', true, ['po']],
    ['nodes', 'Node', false, ['no']],
  ]],
  ['apps', 'v1', [['deployments', 'Deployment', true, ['deploy']]]],
  ['batch', 'v1', [['jobs', 'Job', true, []], ['cronjobs', 'CronJob', true, ['cj']]]],
  ['rbac.authorization.k8s.io', 'v1', [
    ['roles', 'Role', true, []],
    ['rolebindings', 'RoleBinding', true, []],
    ['clusterroles', 'ClusterRole', false, []],
    ['clusterrolebindings', 'ClusterRoleBinding', false, []],
  ]],
  ['networking.k8s.io', 'v1', [['ingresses', 'Ingress', true, ['ing']]]],
  ['scheduling.k8s.io', 'v1', [['priorityclasses', 'PriorityClass', false, ['pc']]]],
  ['policy', 'v1', [['poddisruptionbudgets', 'PodDisruptionBudget', true, ['pdb']]]],
  ['authorization.k8s.io', 'v1', [['selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, [], [], ['create']]]],
  ['authentication.k8s.io', 'v1', [['tokenreviews', 'TokenReview', false, [], [], ['create']]]],
];

function singular(kind) {
  return kind.toLowerCase();
}

function aggregated(groups) {
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: 'apidiscovery.k8s.io/v2',
    metadata: {},
    items: groups.map(([group, version, resources]) => ({
      metadata: { name: group },
      versions: [{
        version,
        freshness: 'Current',
        resources: resources.map(([resource, kind, namespaced, shortNames, subresources = [], verbs = ALL_VERBS]) => ({
          resource,
          responseKind: { group, version, kind },
          scope: namespaced ? 'Namespaced' : 'Cluster',
          singularResource: singular(kind),
          verbs,
          shortNames,
          subresources: subresources.map(([sub, g, v, k, subVerbs]) => ({ subresource: sub, responseKind: { group: g, version: v, kind: k }, verbs: subVerbs })),
        })),
      }],
    })),
  };
}

function resourceList(group, version, resources) {
  const list = [];
  for (const [resource, kind, namespaced, shortNames, subresources = [], verbs = ALL_VERBS] of resources) {
    list.push({ name: resource, singularName: singular(kind), namespaced, kind, verbs, shortNames });
    for (const [sub, g, v, k, subVerbs] of subresources) list.push({ name: `${resource}/${sub}`, singularName: '', namespaced, group: g, version: v, kind: k, verbs: subVerbs });
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources: list };
}

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

// ---- the server ---------------------------------------------------------------------------------
const captured = [];
let current = '';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const url = new URL(req.url, 'http://x');
    if (verbose) console.error(`${req.method} ${req.url} ${req.headers['content-type'] ?? ''} ${body.length}B accept=${req.headers.accept ?? ''}`);
    const json = (status, obj, type = 'application/json') => {
      res.writeHead(status, { 'Content-Type': type });
      res.end(JSON.stringify(obj));
    };
    const wantsAggregated = (req.headers.accept ?? '').includes('as=APIGroupDiscoveryList');
    if (req.method === 'GET') {
      if (url.pathname === '/version') return json(200, { major: '1', minor: '32', gitVersion: 'v1.32.4', platform: 'linux/amd64' });
      if (url.pathname === '/api') {
        if (wantsAggregated) return json(200, aggregated(GROUPS.filter(([g]) => g === '')), AGGREGATED_V2);
        return json(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      }
      if (url.pathname === '/apis') {
        const groups = GROUPS.filter(([g]) => g !== '');
        if (wantsAggregated) return json(200, aggregated(groups), AGGREGATED_V2);
        return json(200, { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(([g, v]) => ({ name: g, versions: [{ groupVersion: `${g}/${v}`, version: v }], preferredVersion: { groupVersion: `${g}/${v}`, version: v } })) });
      }
      for (const [group, version, resources] of GROUPS) {
        if (url.pathname === (group ? `/apis/${group}/${version}` : `/api/${version}`)) return json(200, resourceList(group, version, resources));
      }
      return json(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'not found', reason: 'NotFound', code: 404 });
    }
    captured.push({
      command: current,
      method: req.method,
      path: url.pathname,
      query: url.search,
      contentType: req.headers['content-type'] ?? '',
      body: body.toString('base64'),
    });
    let answer;
    try {
      answer = decodeProtobufObject(body).object;
    } catch (err) {
      console.error(`  (codec could not decode this body: ${err.message})`);
      try {
        answer = JSON.parse(body.toString('utf8'));
      } catch {
        answer = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
      }
    }
    answer.metadata = { ...(answer.metadata ?? {}), uid: '00000000-0000-0000-0000-000000000001', resourceVersion: '1', creationTimestamp: '2025-01-01T00:00:00Z' };
    if (answer.kind === 'SelfSubjectAccessReview') answer.status = { allowed: true };
    if (answer.kind === 'TokenRequest') answer.status = { token: 'captured-token', expirationTimestamp: '2030-01-01T00:00:00Z' };
    return json(201, answer);
  });
});

await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = server.address().port;
const home = mkdtempSync(join(tmpdir(), 'pilote-pb-fixtures-'));
const kubeconfig = join(home, 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${port}"}}]
users: [{name: u, user: {token: fixture}}]
contexts: [{name: x, context: {cluster: c, user: u, namespace: default}}]
current-context: x
`,
);
const binFile = join(home, 'blob.bin');
writeFileSync(binFile, Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01, 0x7f]));

/** The commands whose bodies are captured: one per `kubectl create` generator, plus can-i. */
const COMMANDS = [
  ['create', 'namespace', 'foo'],
  ['create', 'configmap', 'cm', '--from-literal=a=b', `--from-file=blob=${binFile}`],
  ['create', 'secret', 'generic', 's', '--from-literal=password=s3cr3t', '--type=Opaque'],
  ['create', 'deployment', 'd', '--image=nginx', '--replicas=2', '--port=80'],
  ['create', 'service', 'clusterip', 'svc', '--tcp=80:8080'],
  ['create', 'service', 'nodeport', 'np', '--tcp=443:8443', '--node-port=30443'],
  ['create', 'job', 'j', '--image=busybox', '--', 'echo', 'hi'],
  ['create', 'cronjob', 'cj', '--image=busybox', '--schedule=*/5 * * * *', '--restart=OnFailure', '--', 'date'],
  ['create', 'serviceaccount', 'sa'],
  ['create', 'role', 'r', '--verb=get,list', '--resource=pods,deployments.apps', '--resource-name=web'],
  ['create', 'rolebinding', 'rb', '--role=r', '--user=alice', '--serviceaccount=default:sa'],
  ['create', 'clusterrole', 'cr', '--verb=get', '--resource=nodes', '--non-resource-url=/healthz'],
  ['create', 'clusterrolebinding', 'crb', '--clusterrole=cr', '--group=devs'],
  ['create', 'quota', 'q', '--hard=cpu=1,memory=1Gi,pods=10', '--scopes=NotTerminating'],
  ['create', 'ingress', 'ing', '--class=nginx', '--rule=foo.com/bar*=svc1:8080,tls=my-cert', '--annotation=a=b'],
  ['create', 'priorityclass', 'pc', '--value=1000', '--description=high priority', '--preemption-policy=Never'],
  ['create', 'poddisruptionbudget', 'pdb', '--selector=app=web', '--min-available=50%'],
  ['create', 'token', 'sa', '--duration=1h', '--audience=api'],
  ['auth', 'can-i', 'get', 'pods'],
  ['auth', 'can-i', 'create', 'deployments.apps', '--subresource=scale', '-n', 'kube-system'],
];

let failures = 0;
const kubectlEnv = { ...process.env, HOME: home, KUBECONFIG: kubeconfig };
const cacheFlag = `--cache-dir=${join(home, 'cache')}`;
for (const command of COMMANDS) {
  current = `kubectl ${command.map((a) => (/[\s*]/.test(a) ? `'${a}'` : a)).join(' ')}`.replace(binFile, 'blob.bin');
  const before = captured.length;
  try {
    // Global flags go first: whatever follows `--` is the container's command.
    const { stdout } = await run(kubectl, [cacheFlag, ...command], { env: kubectlEnv, timeout: 60_000 });
    console.log(`${current} → ${stdout.trim()}`);
  } catch (err) {
    failures++;
    console.error(`${current} failed: ${err.stderr?.trim() || err.message}`);
  }
  if (captured.length === before) console.error(`  (no body captured for ${current})`);
  // The same object as kubectl's own JSON (`--dry-run=client -o json` marshals the very struct it
  // would send): the independent expectation the decoded protobuf must equal.
  if (captured.length === before + 1 && command[0] === 'create' && command[1] !== 'token') {
    const [verb, ...rest] = command;
    const dashes = rest.indexOf('--');
    const flags = ['--dry-run=client', '-o', 'json'];
    const dryRun = dashes < 0 ? [verb, ...rest, ...flags] : [verb, ...rest.slice(0, dashes), ...flags, ...rest.slice(dashes)];
    try {
      const { stdout } = await run(kubectl, [cacheFlag, ...dryRun], { env: kubectlEnv, timeout: 60_000 });
      captured[before].kubectlJSON = JSON.parse(stdout);
    } catch (err) {
      console.error(`  (dry-run JSON failed: ${err.stderr?.trim() || err.message})`);
    }
  }
}
server.close();
rmSync(home, { recursive: true, force: true });

const { stdout: version } = await run(kubectl, ['version', '--client', '-o', 'json']).catch(() => ({ stdout: '{}' }));
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(
  outFile,
  JSON.stringify(
    {
      comment: 'Request bodies captured from the real kubectl by scripts/gen-protobuf-fixtures.mjs (body: base64; kubectlJSON: the same command with --dry-run=client -o json).',
      kubectl: JSON.parse(version).clientVersion?.gitVersion ?? 'unknown',
      requests: captured,
    },
    null,
    2,
  ) + '\n',
);
console.log(`wrote ${outFile}: ${captured.length} requests${failures ? `, ${failures} commands failed` : ''}`);
process.exit(failures ? 1 : 0);
