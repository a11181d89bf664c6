import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError, alreadyExists, notFound } from '../errors.js';
import type { KubeObject } from '../types.js';
import { checkPatchOptions, decodeApplyConfiguration, managerFromUserAgent, requestFieldManager, serveApply, type ApplyStore, type ApplyWriteOptions } from './apply-request.js';

/** An in-memory stand-in for the generic store: just enough to serve applies. */
class FakeStore implements ApplyStore {
  readonly group = '';
  readonly kind = 'ConfigMap';
  readonly resource = 'configmaps';
  readonly strategy = { info: { version: 'v1' } };
  readonly objects = new Map<string, KubeObject>();
  readonly writes: ApplyWriteOptions[] = [];
  /** Makes the next create fail as if someone created the object first. */
  raceOnCreate?: KubeObject;

  withTypeMeta(obj: KubeObject): KubeObject {
    return { apiVersion: 'v1', kind: 'ConfigMap', ...obj };
  }

  async create(_namespace: string | undefined, body: KubeObject, options: ApplyWriteOptions): Promise<KubeObject> {
    this.writes.push(options);
    const name = body.metadata.name!;
    if (this.raceOnCreate) {
      this.objects.set(name, this.raceOnCreate);
      this.raceOnCreate = undefined;
      throw alreadyExists('', 'configmaps', name);
    }
    const { apiVersion: _a, kind: _k, ...stored } = structuredClone(body);
    stored.metadata.uid = 'uid-1';
    if (!options.dryRun) this.objects.set(name, stored as KubeObject);
    return this.withTypeMeta(stored as KubeObject);
  }

  async update(_namespace: string | undefined, name: string, build: (current: KubeObject) => KubeObject, options: ApplyWriteOptions): Promise<KubeObject> {
    this.writes.push(options);
    const current = this.objects.get(name);
    if (!current) throw notFound('', 'configmaps', name);
    const { apiVersion: _a, kind: _k, ...next } = build(structuredClone(current));
    if (!options.dryRun) this.objects.set(name, next as KubeObject);
    return this.withTypeMeta(next as KubeObject);
  }
}

const params = (query: string) => new URLSearchParams(query);
const yaml = (data: Record<string, string>, name = 'cm') =>
  Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: default\ndata:\n${Object.entries(data).map(([k, v]) => `  ${k}: "${v}"`).join('\n')}\n`);

async function rejects(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StatusError, String(error));
    return error;
  }
  assert.fail('expected a StatusError');
}

describe('serveApply', () => {
  it('creates when absent (created: true), then merges and prunes', async () => {
    const store = new FakeStore();
    const request = { namespace: 'default', name: 'cm', subresource: '' as const, params: params('fieldManager=me'), dryRun: false };
    const first = await serveApply(store, { ...request, body: yaml({ a: '1', b: '2' }) });
    assert.equal(first.created, true);
    assert.deepEqual(first.object.data, { a: '1', b: '2' });
    assert.equal(store.writes[store.writes.length - 1]!.managedFieldsApplied, true);
    const second = await serveApply(store, { ...request, body: yaml({ a: '3' }) });
    assert.equal(second.created, false);
    assert.deepEqual(second.object.data, { a: '3' });
    assert.equal(second.object.metadata.managedFields?.[0]?.manager, 'me');
  });

  it('applies to the object someone created meanwhile', async () => {
    const store = new FakeStore();
    store.raceOnCreate = { metadata: { name: 'cm', namespace: 'default', uid: 'theirs' }, data: { x: 'y' } };
    const result = await serveApply(store, { namespace: 'default', name: 'cm', subresource: '', params: params('fieldManager=me'), dryRun: false, body: yaml({ a: '1' }) });
    assert.equal(result.created, false);
    assert.deepEqual(result.object.data, { x: 'y', a: '1' });
  });

  it('checks the options and the names as the patch handler does', async () => {
    const store = new FakeStore();
    const base = { namespace: 'default', name: 'cm', subresource: '' as const, dryRun: false, body: yaml({ a: '1' }) };
    let error = await rejects(serveApply(store, { ...base, params: params('') }));
    assert.equal(error.code, 422);
    assert.equal(error.message, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
    error = await rejects(serveApply(store, { ...base, params: params('fieldManager=me&force=maybe') }));
    assert.equal(error.message, 'strconv.ParseBool: parsing "maybe": invalid syntax');
    error = await rejects(serveApply(store, { ...base, name: 'other', params: params('fieldManager=me') }));
    assert.equal(error.message, 'the name of the object (cm) does not match the name on the URL (other)');
    error = await rejects(serveApply(store, { ...base, namespace: 'prod', params: params('fieldManager=me') }));
    assert.equal(error.message, 'the namespace of the object (default) does not match the namespace on the request (prod)');
    error = await rejects(serveApply(store, { ...base, body: Buffer.from('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, uid: abc}\n'), params: params('fieldManager=me') }));
    assert.equal(error.code, 409);
    assert.equal(error.message, 'Operation cannot be fulfilled on configmaps "cm": uid mismatch: the provided object specified uid abc, and no existing object was found');
  });

  it('does not create through a subresource', async () => {
    const store = new FakeStore();
    const error = await rejects(serveApply(store, { namespace: 'default', name: 'cm', subresource: 'status', params: params('fieldManager=me'), dryRun: false, body: yaml({}) }));
    assert.equal(error.code, 404);
  });
});

describe('apply request helpers', () => {
  it('takes the manager from the fieldManager parameter, else from the user agent', () => {
    assert.equal(requestFieldManager(params('fieldManager=kubectl-edit'), 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc', 'UpdateOptions'), 'kubectl-edit');
    assert.equal(requestFieldManager(params(''), 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc', 'UpdateOptions'), 'kubectl');
    assert.equal(requestFieldManager(params(''), undefined, 'CreateOptions'), '');
    assert.equal(managerFromUserAgent('kube-controller-manager/v1.32.0 (linux/amd64) kubernetes/abc/system:serviceaccount:x'), 'kube-controller-manager');
    assert.equal(managerFromUserAgent('a\u0007b/1'), 'ab');
    assert.equal(managerFromUserAgent('x'.repeat(200)).length, 128);
  });

  it('refuses field managers that are too long or not printable', () => {
    assert.throws(() => requestFieldManager(params(`fieldManager=${'x'.repeat(129)}`), undefined, 'CreateOptions'), /CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes/);
    assert.throws(() => requestFieldManager(params('fieldManager=a%01'), undefined, 'UpdateOptions'), /invalid character U\+0001 \(at position 1\)/);
  });

  it('forbids force on patches that are not applies', () => {
    assert.doesNotThrow(() => checkPatchOptions(params('fieldManager=x')));
    assert.throws(() => checkPatchOptions(params('force=false')), /PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch/);
  });

  it('decodes YAML and JSON configurations into maps', () => {
    assert.deepEqual(decodeApplyConfiguration(Buffer.from('{"kind":"ConfigMap"}')), { kind: 'ConfigMap' });
    assert.deepEqual(decodeApplyConfiguration(Buffer.from('kind: ConfigMap\nspec:\n  enabled: yes\n')), { kind: 'ConfigMap', spec: { enabled: true } });
    assert.deepEqual(decodeApplyConfiguration(Buffer.from('')), {});
    assert.throws(() => decodeApplyConfiguration(Buffer.from('- a\n- b\n')), /error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map\[string\]interface \{\}/);
    assert.throws(() => decodeApplyConfiguration(Buffer.from('a: [\n')), /^StatusError: error decoding YAML: error converting YAML to JSON: yaml: line \d+: /);
  });
});
