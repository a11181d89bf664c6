import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { FieldManager, LAST_APPLIED_ANNOTATION, MAX_UPDATE_MANAGERS, buildLastApplied, statusSubresourceResetFields } from './manager.js';
import { FieldSet } from './fieldpath.js';
import { decodeManagedFields, managerIdentifier, type ManagedFieldsEntry } from './managed.js';
import { keepTimestampsIfUnchanged } from './hooks.js';

const deployments = () => new FieldManager({ group: 'apps', version: 'v1', kind: 'Deployment', ...statusSubresourceResetFields() });

type Obj = Record<string, unknown>;

/** A Deployment as the store keeps it (no apiVersion/kind), defaults applied. */
function storedDeployment(): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'web' } },
        spec: {
          containers: [{ name: 'nginx', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], resources: {}, imagePullPolicy: 'IfNotPresent' }],
          restartPolicy: 'Always',
        },
      },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    },
  };
}

/** An applied configuration of the Deployment. */
function config(spec: Obj = {}, metadata: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', ...metadata },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } },
      ...spec,
    },
  };
}

/** What the store does after an apply: strips TypeMeta, sets identity, keeps the result as the live object. */
function persist(obj: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, ...rest } = structuredClone(obj);
  rest.metadata.uid ??= '6f1f0d0e-0000-4000-8000-000000000000';
  return rest as KubeObject;
}

function withTypeMeta(obj: KubeObject): KubeObject {
  return { apiVersion: 'apps/v1', kind: 'Deployment', ...structuredClone(obj) };
}

function entries(obj: KubeObject): ManagedFieldsEntry[] {
  return (obj.metadata.managedFields ?? []) as ManagedFieldsEntry[];
}

function managersOf(obj: KubeObject): string[] {
  return entries(obj).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
}

function fieldsOf(obj: KubeObject, manager: string, operation = 'Update'): string[] {
  const entry = entries(obj).find((e) => e.manager === manager && e.operation === operation);
  assert.ok(entry, `no ${manager} ${operation} entry in ${managersOf(obj).join(', ')}`);
  return FieldSet.fromFieldsV1(entry.fieldsV1).toStrings();
}

function statusError(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StatusError, String(error));
    return error;
  }
  assert.fail('expected an error');
}

describe('FieldManager updates', () => {
  it('records a create as an Update owning every field set, with "." where Kubernetes puts it', () => {
    const obj = storedDeployment();
    deployments().update(undefined, obj, 'kubectl-create');
    const [entry] = entries(obj);
    assert.equal(entries(obj).length, 1);
    assert.equal(entry!.manager, 'kubectl-create');
    assert.equal(entry!.operation, 'Update');
    assert.equal(entry!.apiVersion, 'apps/v1');
    assert.equal(entry!.fieldsType, 'FieldsV1');
    assert.match(entry!.time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(Object.keys(entry!), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1']);
    assert.deepEqual(entry!.fieldsV1, {
      'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
        'f:template': {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:name': {},
                'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                'f:resources': {},
              },
            },
            'f:restartPolicy': {},
          },
        },
      },
    });
  });

  it('moves changed fields to the updater, merges repeated updates and drops removed fields', () => {
    const fm = deployments();
    const live = storedDeployment();
    fm.update(undefined, live, 'kubectl-create');
    live.metadata.uid = 'u';
    const edited = structuredClone(live);
    (edited.spec as { replicas: number }).replicas = 5;
    delete edited.metadata.labels;
    fm.update(live, edited, 'kubectl-edit');
    assert.deepEqual(managersOf(edited), ['kubectl-create/Update', 'kubectl-edit/Update']);
    assert.deepEqual(fieldsOf(edited, 'kubectl-edit'), ['.spec.replicas']);
    assert.ok(!fieldsOf(edited, 'kubectl-create').includes('.spec.replicas'));
    assert.ok(!fieldsOf(edited, 'kubectl-create').some((p) => p.startsWith('.metadata.labels')));
    const again = structuredClone(edited);
    (again.spec as { paused: boolean }).paused = true;
    fm.update(edited, again, 'kubectl-edit');
    assert.deepEqual(fieldsOf(again, 'kubectl-edit'), ['.spec.paused', '.spec.replicas']);
  });

  it('records status writes with subresource "status", and main writes do not own status', () => {
    const fm = deployments();
    const live = storedDeployment();
    fm.update(undefined, live, 'kubectl-create');
    live.metadata.uid = 'u';
    const next = structuredClone(live);
    next.status = { replicas: 2, conditions: [{ type: 'Available', status: 'True' }] };
    fm.update(live, next, 'kube-controller-manager', 'status');
    // Same second: by manager name ("kube-" sorts before "kubec").
    assert.deepEqual(managersOf(next), ['kube-controller-manager/Update/status', 'kubectl-create/Update']);
    assert.deepEqual(fieldsOf(next, 'kube-controller-manager'), ['.status.conditions', '.status.conditions[type="Available"]', '.status.conditions[type="Available"].status', '.status.conditions[type="Available"].type', '.status.replicas']);
    const viaMain = structuredClone(next);
    viaMain.status = { replicas: 3 };
    fm.update(next, viaMain, 'someone');
    assert.deepEqual(managersOf(viaMain), ['kube-controller-manager/Update/status', 'kubectl-create/Update']);
  });

  it('honours managedFields sent by the client, resets them on [] and ignores them on subresources', () => {
    const fm = deployments();
    const live = storedDeployment();
    fm.update(undefined, live, 'a');
    live.metadata.uid = 'u';
    const reset = structuredClone(live);
    reset.metadata.managedFields = [];
    fm.update(live, reset, 'b');
    assert.equal(reset.metadata.managedFields, undefined);
    const moved = structuredClone(live);
    (moved.metadata.managedFields![0] as ManagedFieldsEntry).manager = 'renamed';
    fm.update(live, moved, 'b');
    assert.deepEqual(managersOf(moved), ['renamed/Update']);
    const status = structuredClone(live);
    (status.metadata.managedFields![0] as ManagedFieldsEntry).manager = 'renamed';
    fm.update(live, status, 'b', 'status');
    assert.deepEqual(managersOf(status), ['a/Update']);
  });

  it('does not start tracking objects that have no managed fields until they are applied', () => {
    const fm = deployments();
    const live = storedDeployment();
    live.metadata.uid = 'u';
    const next = structuredClone(live);
    (next.spec as { replicas: number }).replicas = 9;
    fm.update(live, next, 'x');
    assert.equal(next.metadata.managedFields, undefined);
    // The fields already there belong to "before-first-apply"; changing them conflicts.
    const error = statusError(() => fm.apply(withTypeMeta(live), config({ replicas: 3 }), 'kubectl', false));
    assert.equal(error.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
    const applied = fm.apply(withTypeMeta(live), config({ replicas: 3 }), 'kubectl', true);
    assert.deepEqual(managersOf(applied), ['kubectl/Apply', 'before-first-apply/Update']);
    assert.ok(!fieldsOf(applied, 'before-first-apply').includes('.spec.replicas'), 'the applier took replicas');
  });

  it('folds update managers beyond 10 into "ancient-changes"', () => {
    const fm = deployments();
    let live = storedDeployment();
    fm.update(undefined, live, 'creator');
    live.metadata.uid = 'u';
    for (let i = 0; i < MAX_UPDATE_MANAGERS + 2; i++) {
      const next = structuredClone(live);
      next.metadata.annotations = { ...next.metadata.annotations, [`k${i}`]: 'v' };
      fm.update(live, next, `writer-${String(i).padStart(2, '0')}`);
      live = next;
    }
    assert.equal(entries(live).length, MAX_UPDATE_MANAGERS);
    assert.ok(managersOf(live).includes('ancient-changes/Update'));
  });
});

describe('FieldManager applies', () => {
  it('creates with an Apply entry that owns exactly the applied fields', () => {
    const obj = deployments().apply(undefined, config(), 'kubectl', false);
    assert.deepEqual(managersOf(obj), ['kubectl/Apply']);
    const [entry] = entries(obj);
    assert.equal(entry!.apiVersion, 'apps/v1');
    assert.deepEqual(entry!.fieldsV1, {
      'f:spec': {
        'f:replicas': {},
        'f:selector': {},
        'f:template': {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { '.': {}, 'f:image': {}, 'f:name': {} } } },
        },
      },
    });
  });

  it('re-applying the same configuration changes nothing, not even the time', () => {
    const fm = deployments();
    const live = persist(fm.apply(undefined, config(), 'kubectl', false));
    const again = fm.apply(withTypeMeta(live), config(), 'kubectl', false);
    assert.deepEqual(again.metadata.managedFields, live.metadata.managedFields);
  });

  it('conflicts with another applier, with kube-apiserver message and causes', () => {
    const fm = deployments();
    const live = persist(fm.apply(undefined, config(), 'kubectl', false));
    const error = statusError(() => fm.apply(withTypeMeta(live), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 3 } }, 'other', false));
    assert.equal(error.code, 409);
    assert.equal(error.reason, 'Conflict');
    assert.equal(error.message, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    assert.deepEqual(error.details, { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }] });
  });

  it('names update managers with their API version, and lists several conflicts per manager', () => {
    const fm = deployments();
    const live = storedDeployment();
    fm.update(undefined, live, 'kubectl-client-side-apply');
    live.metadata.uid = 'u';
    const error = statusError(() =>
      fm.apply(withTypeMeta(live), config({ replicas: 3, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } }), 'other', false),
    );
    assert.equal(
      error.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    assert.equal(error.details!.causes![0]!.message, 'conflict with "kubectl-client-side-apply" using apps/v1');
  });

  it('shares fields applied with the same value, and takes them with force', () => {
    const fm = deployments();
    const live = persist(fm.apply(undefined, config(), 'kubectl', false));
    const shared = persist(fm.apply(withTypeMeta(live), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } }, 'other', false));
    assert.deepEqual(fieldsOf(shared, 'other', 'Apply'), ['.spec.replicas']);
    assert.ok(fieldsOf(shared, 'kubectl', 'Apply').includes('.spec.replicas'));
    // Co-owned: kubectl dropping replicas from its configuration leaves the value alone.
    const dropped = persist(fm.apply(withTypeMeta(shared), config({ replicas: undefined }), 'kubectl', false));
    assert.equal((dropped.spec as Obj).replicas, 2);
    const forced = persist(fm.apply(withTypeMeta(live), { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 5 } }, 'other', true));
    assert.equal((forced.spec as Obj).replicas, 5);
    assert.ok(!fieldsOf(forced, 'kubectl', 'Apply').includes('.spec.replicas'));
    assert.deepEqual(fieldsOf(forced, 'other', 'Apply'), ['.spec.replicas']);
  });

  it('removes fields the applier no longer applies', () => {
    const fm = deployments();
    const live = persist(fm.apply(undefined, config({}, { labels: { app: 'web', tier: 'front' } }), 'kubectl', false));
    const next = fm.apply(withTypeMeta(live), config({ replicas: undefined }, { labels: { app: 'web' } }), 'kubectl', false);
    assert.deepEqual(next.metadata.labels, { app: 'web' });
    assert.equal((next.spec as Obj).replicas, undefined);
    assert.ok(!fieldsOf(next, 'kubectl', 'Apply').includes('.spec.replicas'));
  });

  it('does not own status through the main resource', () => {
    const obj = deployments().apply(undefined, { ...config(), status: { replicas: 7 } }, 'kubectl', false);
    assert.ok(!fieldsOf(obj, 'kubectl', 'Apply').some((p) => p.startsWith('.status')));
  });

  it('checks the configuration: kind, managedFields, schema', () => {
    const fm = deployments();
    let error = statusError(() => fm.apply(undefined, { ...config(), apiVersion: 'v1' }, 'kubectl', false));
    assert.equal(error.code, 400);
    assert.equal(error.message, 'invalid object type: /v1, Kind=Deployment');
    error = statusError(() => fm.apply(undefined, { ...config(), kind: undefined }, 'kubectl', false));
    assert.equal(error.message, 'invalid object type: apps/v1, Kind=');
    error = statusError(() => fm.apply(undefined, config({}, { managedFields: [] }), 'kubectl', false));
    assert.equal(error.message, 'metadata.managedFields must be nil');
    error = statusError(() => fm.apply(undefined, config({ foo: 'bar' }), 'kubectl', false));
    assert.equal(error.code, 500);
    assert.equal(error.reason, '');
    assert.equal(error.message, 'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.foo: field not declared in schema');
  });

  it('lets kubectl take over fields it applied client-side, and keeps the annotation in sync', () => {
    const fm = deployments();
    const lastApplied = config();
    const live = storedDeployment();
    live.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: buildLastApplied(lastApplied) };
    fm.update(undefined, live, 'kubectl-client-side-apply');
    live.metadata.uid = 'u';
    // Another manager cannot change replicas…
    assert.equal(statusError(() => fm.apply(withTypeMeta(live), config({ replicas: 4 }), 'other', false)).code, 409);
    // …but kubectl can: the last-applied configuration says it set replicas to the live value.
    const applied = fm.apply(withTypeMeta(live), config({ replicas: 4 }), 'kubectl', false);
    assert.equal((applied.spec as Obj).replicas, 4);
    const annotation = JSON.parse(applied.metadata.annotations![LAST_APPLIED_ANNOTATION]!) as Obj;
    assert.equal((annotation.spec as Obj).replicas, 4);
    assert.ok(applied.metadata.annotations![LAST_APPLIED_ANNOTATION]!.endsWith('}\n'));
    // Fields whose live value differs from the last-applied one still conflict.
    const drifted = structuredClone(live);
    (drifted.spec as Obj).replicas = 9;
    assert.equal(statusError(() => fm.apply(withTypeMeta(drifted), config({ replicas: 4 }), 'kubectl', false)).code, 409);
  });
});

describe('managed fields encoding', () => {
  it('keys managers by name, operation, subresource and (for updates) API version', () => {
    assert.equal(managerIdentifier({ manager: 'kubectl', operation: 'Apply', apiVersion: 'apps/v1' }), '{"manager":"kubectl","operation":"Apply"}');
    assert.equal(managerIdentifier({ manager: 'k', operation: 'Update', apiVersion: 'v1', subresource: 'status' }), '{"manager":"k","operation":"Update","apiVersion":"v1","subresource":"status"}');
  });

  it('refuses malformed entries', () => {
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Patch', apiVersion: 'v1', fieldsType: 'FieldsV1' }]), /operation must be `Apply` or `Update`/);
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', fieldsType: 'FieldsV1' }]), /apiVersion must not be empty/);
    assert.throws(() => decodeManagedFields([{ manager: 'x', operation: 'Update', apiVersion: 'v1' }]), /missing fieldsType in managed fields entry 0/);
  });

  it('sorts Apply entries first, then by time and manager', () => {
    const fm = deployments();
    const live = storedDeployment();
    fm.update(undefined, live, 'zeta');
    live.metadata.uid = 'u';
    (live.metadata.managedFields![0] as ManagedFieldsEntry).time = '2020-01-01T00:00:00Z';
    const applied = persist(fm.apply(withTypeMeta(live), config({ paused: true }), 'kubectl', false));
    const next = structuredClone(applied);
    (next.spec as Obj).minReadySeconds = 3;
    fm.update(applied, next, 'alpha');
    assert.deepEqual(managersOf(next), ['kubectl/Apply', 'zeta/Update', 'alpha/Update']);
  });

  it('keeps old timestamps when nothing but the times changed', () => {
    const old = storedDeployment();
    deployments().update(undefined, old, 'x');
    const next = structuredClone(old);
    (next.metadata.managedFields![0] as ManagedFieldsEntry).time = '2999-01-01T00:00:00Z';
    keepTimestampsIfUnchanged(old, next);
    assert.equal(next.metadata.managedFields, old.metadata.managedFields);
    const changed = structuredClone(old);
    (changed.metadata.managedFields![0] as ManagedFieldsEntry).time = '2999-01-01T00:00:00Z';
    (changed.spec as Obj).replicas = 1;
    keepTimestampsIfUnchanged(old, changed);
    assert.equal((changed.metadata.managedFields![0] as ManagedFieldsEntry).time, '2999-01-01T00:00:00Z');
  });
});
