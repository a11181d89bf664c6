/**
 * End-to-end: server-side apply and managedFields with the real kubectl
 * against a freshly started `pilote server`: `kubectl apply --server-side`,
 * conflicts and `--force-conflicts`, pruning of fields dropped from the
 * manifest, the move from client-side apply, and the managers other kubectl
 * verbs record (`--show-managed-fields`). Raw API checks cover the wire
 * details kubectl does not show (status codes, Status causes).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster } from './helpers/cluster.js';

const CONFLICT_ADVICE = `Please review the fields above--they currently have other managers. Here
are the ways you can resolve this warning:
* If you intend to manage all of these fields, please re-run the apply
  command with the \`--force-conflicts\` flag.
* If you do not intend to manage all of the fields, please edit your
  manifest to remove references to the fields that should keep their
  current managers.
* You may co-own fields by updating your manifest to match the existing
  value; in this case, you'll become the manager if the other manager(s)
  stop managing the field (remove it from their configuration).
See https://kubernetes.io/docs/reference/using-api/server-side-apply/#conflicts`;

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time?: string;
  fieldsType: string;
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

function deployment(name: string, options: { replicas?: number; labels?: Record<string, string>; image?: string } = {}): string {
  const labels = options.labels ?? { app: name };
  return [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    `  name: ${name}`,
    '  labels:',
    ...Object.entries(labels).map(([k, v]) => `    ${k}: ${v}`),
    'spec:',
    ...(options.replicas !== undefined ? [`  replicas: ${options.replicas}`] : []),
    '  selector:',
    '    matchLabels:',
    `      app: ${name}`,
    '  template:',
    '    metadata:',
    '      labels:',
    `        app: ${name}`,
    '    spec:',
    '      containers:',
    '      - name: nginx',
    `        image: ${options.image ?? 'nginx:1.25'}`,
    '        ports:',
    '        - containerPort: 80',
    '',
  ].join('\n');
}

describe('server-side apply with the real kubectl', () => {
  let cluster: TestCluster;
  let dir: string;
  let counter = 0;

  /** Writes a manifest to a fresh file and returns its path. */
  const manifest = (text: string) => {
    const path = join(dir, `m${counter++}.yaml`);
    writeFileSync(path, text);
    return path;
  };

  const getJson = async (name: string) => JSON.parse(await cluster.kubectlOk(['get', 'deployment', name, '-o', 'json', '--show-managed-fields']));
  const entries = async (name: string): Promise<Entry[]> => (await getJson(name)).metadata.managedFields ?? [];
  const managers = async (name: string) => (await entries(name)).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
  const owned = (entry: Entry | undefined, path: string[]): boolean => {
    let node: unknown = entry?.fieldsV1;
    for (const part of path) {
      if (!node || typeof node !== 'object') return false;
      node = (node as Record<string, unknown>)[part];
    }
    return node !== undefined;
  };

  before(async () => {
    cluster = await TestCluster.start();
    dir = mkdtempSync(join(tmpdir(), 'pilote-ssa-'));
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates with apply --server-side, owned by "kubectl" with operation Apply', async () => {
    const file = manifest(deployment('web', { replicas: 2, labels: { app: 'web', tier: 'front' } }));
    assert.equal((await cluster.kubectlOk(['apply', '--server-side', '-f', file])).trim(), 'deployment.apps/web serverside-applied');
    const [entry, ...others] = await entries('web');
    assert.equal(others.length, 0);
    assert.equal(entry!.manager, 'kubectl');
    assert.equal(entry!.operation, 'Apply');
    assert.equal(entry!.apiVersion, 'apps/v1');
    assert.equal(entry!.fieldsType, 'FieldsV1');
    assert.match(entry!.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(entry!.fieldsV1, {
      'f:metadata': { 'f:labels': { 'f:app': {}, 'f:tier': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:image': {},
                'f:name': {},
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
    // Defaults are set but belong to nobody; plain -o yaml hides managedFields as kubectl does.
    const plain = await cluster.kubectlOk(['get', 'deployment', 'web', '-o', 'yaml']);
    assert.doesNotMatch(plain, /managedFields/);
    assert.match(plain, /progressDeadlineSeconds: 600/);
    const yaml = await cluster.kubectlOk(['get', 'deployment', 'web', '-o', 'yaml', '--show-managed-fields']);
    assert.match(yaml, /  managedFields:\n  - apiVersion: apps\/v1\n    fieldsType: FieldsV1\n    fieldsV1:\n      f:metadata:\n        f:labels:\n          f:app: \{\}\n/);
    assert.match(yaml, /    manager: kubectl\n    operation: Apply\n    time: "/);
  });

  it('applying the same manifest again changes nothing', async () => {
    const before = await getJson('web');
    const file = manifest(deployment('web', { replicas: 2, labels: { app: 'web', tier: 'front' } }));
    assert.equal((await cluster.kubectlOk(['apply', '--server-side', '-f', file])).trim(), 'deployment.apps/web serverside-applied');
    const afterApply = await getJson('web');
    assert.equal(afterApply.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual(afterApply.metadata.managedFields, before.metadata.managedFields);
  });

  it('a second manager changing a field gets the conflict exactly as from a real cluster', async () => {
    const file = manifest(deployment('web', { replicas: 3, labels: { app: 'web', tier: 'front' } }));
    const result = await cluster.kubectl(['apply', '--server-side', '--field-manager=other', '-f', file]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(result.stderr, `error: Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas\n${CONFLICT_ADVICE}\n`);
    assert.equal((await getJson('web')).spec.replicas, 2);
  });

  it('a second manager applying the same values co-owns them', async () => {
    const file = manifest(deployment('web', { replicas: 2, labels: { app: 'web', tier: 'front' } }));
    await cluster.kubectlOk(['apply', '--server-side', '--field-manager=sharer', '-f', file]);
    const list = await entries('web');
    const sharer = list.find((e) => e.manager === 'sharer');
    assert.ok(owned(sharer, ['f:spec', 'f:replicas']));
    assert.ok(owned(list.find((e) => e.manager === 'kubectl'), ['f:spec', 'f:replicas']));
  });

  it('--force-conflicts takes the field over', async () => {
    const file = manifest(deployment('web', { replicas: 3, labels: { app: 'web', tier: 'front' } }));
    assert.equal((await cluster.kubectlOk(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', file])).trim(), 'deployment.apps/web serverside-applied');
    const obj = await getJson('web');
    assert.equal(obj.spec.replicas, 3);
    const list = obj.metadata.managedFields as Entry[];
    assert.ok(owned(list.find((e) => e.manager === 'other'), ['f:spec', 'f:replicas']));
    assert.ok(!owned(list.find((e) => e.manager === 'kubectl'), ['f:spec', 'f:replicas']));
    assert.ok(!owned(list.find((e) => e.manager === 'sharer'), ['f:spec', 'f:replicas']));
  });

  it('removing a field from the applied manifest removes it from the object (unless someone else owns it)', async () => {
    // "tier" is owned by kubectl, "other" and "sharer": dropping it from kubectl's manifest keeps it.
    await cluster.kubectlOk(['apply', '--server-side', '-f', manifest(deployment('web', { replicas: 3, labels: { app: 'web' } }))]);
    assert.equal((await getJson('web')).metadata.labels.tier, 'front');
    // A fresh deployment owned by kubectl alone loses what kubectl stops applying.
    await cluster.kubectlOk(['apply', '--server-side', '-f', manifest(deployment('solo', { replicas: 2, labels: { app: 'solo', tier: 'back' } }))]);
    await cluster.kubectlOk(['apply', '--server-side', '-f', manifest(deployment('solo', { labels: { app: 'solo' } }))]);
    const obj = await getJson('solo');
    assert.deepEqual(obj.metadata.labels, { app: 'solo' });
    // replicas was removed, then defaulted again as on a real cluster.
    assert.equal(obj.spec.replicas, 1);
    const [entry] = obj.metadata.managedFields as Entry[];
    assert.ok(!owned(entry, ['f:spec', 'f:replicas']));
    assert.ok(!owned(entry, ['f:metadata', 'f:labels', 'f:tier']));
  });

  it('moves an object from client-side apply to server-side apply', async () => {
    assert.equal((await cluster.kubectlOk(['apply', '-f', manifest(deployment('moved', { replicas: 2, labels: { app: 'moved', tier: 'front' } }))])).trim(), 'deployment.apps/moved created');
    assert.deepEqual(await managers('moved'), ['kubectl-client-side-apply/Update']);
    // Changing replicas does not conflict with kubectl-client-side-apply: kubectl applied it itself.
    const changed = manifest(deployment('moved', { replicas: 4, labels: { app: 'moved', tier: 'front' } }));
    assert.equal((await cluster.kubectlOk(['apply', '--server-side', '-f', changed])).trim(), 'deployment.apps/moved serverside-applied');
    let obj = await getJson('moved');
    assert.equal(obj.spec.replicas, 4);
    assert.deepEqual((obj.metadata.managedFields as Entry[]).map((e) => `${e.manager}/${e.operation}`).sort(), ['kubectl-last-applied/Apply', 'kubectl/Apply']);
    // The server keeps the last-applied annotation of kubectl's applies in sync.
    const lastApplied = JSON.parse(obj.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.equal(lastApplied.spec.replicas, 4);
    // kubectl now owns what client-side apply set, so dropping a label removes it.
    await cluster.kubectlOk(['apply', '--server-side', '-f', manifest(deployment('moved', { replicas: 4, labels: { app: 'moved' } }))]);
    obj = await getJson('moved');
    assert.deepEqual(obj.metadata.labels, { app: 'moved' });
  });

  it('records the managers of other kubectl verbs, as --show-managed-fields shows them', async () => {
    await cluster.kubectlOk(['create', 'deployment', 'verbs', '--image=nginx:1.25']);
    await cluster.kubectlOk(['label', 'deployment', 'verbs', 'team=a']);
    await cluster.kubectlOk(['annotate', 'deployment', 'verbs', 'note=x']);
    await cluster.kubectlOk(['set', 'image', 'deployment/verbs', 'nginx=nginx:1.26']);
    await cluster.kubectlOk(['scale', 'deployment', 'verbs', '--replicas=3']);
    await cluster.kubectlOk(['edit', 'deployment', 'verbs'], { env: { KUBE_EDITOR: `sed -i -e 's/minReadySeconds: .*//' -e 's/^spec:$/spec:\\n  minReadySeconds: 5/'` } });
    const list = await entries('verbs');
    const byName = (m: string) => list.find((e) => e.manager === m);
    assert.equal(byName('kubectl-create')?.operation, 'Update');
    assert.ok(owned(byName('kubectl-create'), ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:name']));
    assert.ok(owned(byName('kubectl-label'), ['f:metadata', 'f:labels', 'f:team']));
    assert.ok(owned(byName('kubectl-annotate'), ['f:metadata', 'f:annotations', 'f:note']));
    assert.ok(owned(byName('kubectl-set'), ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']));
    assert.ok(!owned(byName('kubectl-create'), ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"nginx"}', 'f:image']));
    assert.ok(owned(byName('kubectl-edit'), ['f:spec', 'f:minReadySeconds']));
    // kubectl scale sends no fieldManager: the manager is its user agent's name, on the scale subresource.
    const scale = list.find((e) => e.subresource === 'scale');
    assert.match(scale?.manager ?? '', /^kubectl/);
    assert.equal(scale?.operation, 'Update');
    assert.deepEqual(scale?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    // Applying a different replicas count now conflicts with the scaler, named as a real cluster names it.
    const result = await cluster.kubectl(['apply', '--server-side', '-f', manifest(deployment('verbs', { replicas: 2, image: 'nginx:1.26' }))]);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, `error: Apply failed with 1 conflict: conflict with "${scale!.manager}" with subresource "scale" using apps/v1: .spec.replicas\n${CONFLICT_ADVICE}\n`);
  });
});

describe('server-side apply on the wire', () => {
  let cluster: TestCluster;
  const path = '/apis/apps/v1/namespaces/default/deployments';
  const APPLY = 'application/apply-patch+yaml';
  const body = (name: string, replicas = 1) =>
    `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:\n      containers:\n      - {name: c, image: nginx}\n`;

  before(async () => {
    cluster = await TestCluster.start();
  });

  after(async () => {
    await cluster?.stop();
  });

  it('creates with 201 from a YAML body, then answers 200', async () => {
    const client = cluster.client();
    const created = await client.patch(`${path}/raw?fieldManager=tool`, body('raw'), APPLY);
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.metadata.managedFields[0].manager, 'tool');
    assert.equal(created.json.metadata.managedFields[0].operation, 'Apply');
    const again = await client.patch(`${path}/raw?fieldManager=tool`, body('raw'), APPLY);
    assert.equal(again.status, 200);
    assert.equal(again.json.metadata.resourceVersion, created.json.metadata.resourceVersion);
  });

  it('requires a fieldManager for apply, and force only for apply', async () => {
    const client = cluster.client();
    const missing = await client.patch(`${path}/raw`, body('raw'), APPLY);
    assert.equal(missing.status, 422);
    assert.equal(missing.json.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    const forced = await client.patch(`${path}/raw?force=true`, { metadata: { labels: { a: 'b' } } }, 'application/merge-patch+json');
    assert.equal(forced.status, 422);
    assert.equal(forced.json.message, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch');
  });

  it('answers a conflict with a 409 Status carrying FieldManagerConflict causes', async () => {
    const response = await cluster.client().patch(`${path}/raw?fieldManager=intruder`, body('raw', 4), APPLY);
    assert.equal(response.status, 409);
    assert.deepEqual(response.json, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Apply failed with 1 conflict: conflict with "tool": .spec.replicas',
      reason: 'Conflict',
      details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "tool"', field: '.spec.replicas' }] },
      code: 409,
    });
  });

  it('rejects configurations of another kind and fields outside the schema as kube-apiserver does', async () => {
    const client = cluster.client();
    const wrongKind = await client.patch(`${path}/raw?fieldManager=tool`, 'apiVersion: v1\nkind: Deployment\nmetadata:\n  name: raw\n', APPLY);
    assert.equal(wrongKind.status, 400);
    assert.equal(wrongKind.json.message, 'invalid object type: /v1, Kind=Deployment');
    const unknown = await client.patch(`${path}/raw?fieldManager=tool`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'raw', namespace: 'default' }, spec: { bogus: 1 } }, APPLY);
    assert.equal(unknown.status, 500);
    assert.equal(unknown.json.message, 'failed to create typed patch object (default/raw; apps/v1, Kind=Deployment): .spec.bogus: field not declared in schema');
    const renamed = await client.patch(`${path}/raw?fieldManager=tool`, body('other-name'), APPLY);
    assert.equal(renamed.status, 400);
    assert.equal(renamed.json.message, 'the name of the object (other-name) does not match the name on the URL (raw)');
  });

  it('tracks plain writes too: user agent as manager, status writes with subresource "status"', async () => {
    const client = cluster.client();
    const created = await client.post(`/api/v1/namespaces/default/configmaps`, { metadata: { name: 'cm' }, data: { a: '1' } }, { headers: { 'User-Agent': 'my-tool/1.0 (linux)' } });
    assert.equal(created.status, 201, created.text);
    assert.deepEqual(
      created.json.metadata.managedFields.map((e: Entry) => [e.manager, e.operation, e.fieldsV1]),
      [['my-tool', 'Update', { 'f:data': { '.': {}, 'f:a': {} } }]],
    );
    const status = await client.patch(`${path}/raw/status?fieldManager=controller`, { status: { replicas: 1 } }, 'application/merge-patch+json');
    assert.equal(status.status, 200, status.text);
    const entry = status.json.metadata.managedFields.find((e: Entry) => e.manager === 'controller');
    assert.equal(entry.subresource, 'status');
    assert.deepEqual(entry.fieldsV1, { 'f:status': { 'f:replicas': {} } });
  });

  it('does not persist a dry-run apply', async () => {
    const client = cluster.client();
    const response = await client.patch(`${path}/dry?fieldManager=tool&dryRun=All`, body('dry'), APPLY);
    assert.equal(response.status, 201, response.text);
    assert.equal((await client.get(`${path}/dry`)).status, 404);
  });
});
