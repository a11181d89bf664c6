import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from './errors.js';
import {
  applyJsonPatch,
  applyMergePatch,
  applyStrategicMergePatch,
  EMPTY_PATCH_SCHEMA,
  patchSchemaFor,
  type PatchSchema,
} from './patch.js';
import { hasPatchSchema } from './patch-schema.js';

/** Asserts `fn` throws a StatusError with this code (and message, when given). */
function assertStatus(fn: () => unknown, code: number, message?: string | RegExp): StatusError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StatusError, `expected a StatusError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  if (typeof message === 'string') assert.equal(caught.message, message);
  else if (message) assert.match(caught.message, message);
  return caught;
}

const DEPLOYMENT = patchSchemaFor('apps', 'Deployment');
const POD = patchSchemaFor('', 'Pod');

function deployment(): Record<string, unknown> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'redis',
      namespace: 'default',
      labels: { app: 'redis' },
      annotations: { 'deployment.kubernetes.io/revision': '1' },
      finalizers: ['a.example.com/f'],
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'redis' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      template: {
        metadata: { labels: { app: 'redis' } },
        spec: {
          containers: [
            {
              name: 'redis',
              image: 'redis:5',
              ports: [{ containerPort: 6379, protocol: 'TCP' }],
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
            { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
          ],
          volumes: [{ name: 'data', emptyDir: {} }],
          tolerations: [{ key: 'x', operator: 'Exists' }],
        },
      },
    },
    status: {
      conditions: [
        { type: 'Available', status: 'True' },
        { type: 'Progressing', status: 'True' },
      ],
    },
  };
}

type Json = Record<string, any>; // test-only convenience for digging into results

function smp(doc: unknown, patch: unknown, schema: PatchSchema = DEPLOYMENT): Json {
  return applyStrategicMergePatch(doc, patch, schema) as Json;
}

function containers(result: Json): Json[] {
  return result.spec.template.spec.containers;
}

describe('applyStrategicMergePatch: what kubectl sends', () => {
  it('kubectl apply of a changed image, with $setElementOrder', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'redis' }, { name: 'sidecar' }],
            containers: [{ image: 'redis:6', name: 'redis' }],
          },
        },
      },
    };
    const result = smp(deployment(), patch);
    assert.deepEqual(containers(result).map((c) => [c.name, c.image]), [
      ['redis', 'redis:6'],
      ['sidecar', 'busybox'],
    ]);
    // The rest of the container is kept, and no directive leaks into the object.
    assert.deepEqual(containers(result)[0].ports, [{ containerPort: 6379, protocol: 'TCP' }]);
    assert.ok(!JSON.stringify(result).includes('$setElementOrder'));
  });

  it('kubectl apply with the exact single-container body from the wire', () => {
    const doc = deployment();
    (doc.spec as Json).template.spec.containers = [{ name: 'redis', image: 'redis:5' }];
    const result = smp(doc, JSON.parse('{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"redis"}],"containers":[{"image":"redis:6","name":"redis"}]}}}}'));
    assert.deepEqual(containers(result), [{ name: 'redis', image: 'redis:6' }]);
  });

  it('kubectl set image touches one container and keeps the order', () => {
    const result = smp(deployment(), { spec: { template: { spec: { containers: [{ image: 'busybox:1.36', name: 'sidecar' }] } } } });
    assert.deepEqual(containers(result).map((c) => [c.name, c.image]), [
      ['redis', 'redis:5'],
      ['sidecar', 'busybox:1.36'],
    ]);
  });

  it('kubectl rollout restart adds a template annotation', () => {
    const result = smp(deployment(), {
      spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-06-01T12:00:00Z' } } } },
    });
    assert.deepEqual(result.spec.template.metadata, {
      labels: { app: 'redis' },
      annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-06-01T12:00:00Z' },
    });
  });

  it('kubectl edit: switching the strategy to Recreate with $retainKeys drops rollingUpdate', () => {
    const result = smp(deployment(), JSON.parse('{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}'));
    assert.deepEqual(result.spec.strategy, { type: 'Recreate' });
  });

  it('kubectl edit: a volume changing source uses $retainKeys inside the list item', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/volumes': [{ name: 'data' }],
            volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }],
          },
        },
      },
    };
    const result = smp(deployment(), patch);
    assert.deepEqual(result.spec.template.spec.volumes, [{ name: 'data', configMap: { name: 'cfg' } }]);
  });

  it('kubectl edit: removing an env var sends $patch: delete with $setElementOrder', () => {
    const patch = JSON.parse(
      '{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"redis"},{"name":"sidecar"}],' +
        '"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],"name":"redis"}]}}}}',
    );
    const result = smp(deployment(), patch);
    assert.deepEqual(containers(result)[0].env, [{ name: 'A', value: '1' }]);
    assert.equal(containers(result).length, 2);
  });

  it('kubelet-style status patch merges conditions by type', () => {
    const result = smp(deployment(), {
      status: {
        '$setElementOrder/conditions': [{ type: 'Available' }, { type: 'Progressing' }],
        conditions: [{ type: 'Progressing', status: 'False', reason: 'Stuck' }],
      },
    });
    assert.deepEqual(result.status.conditions, [
      { type: 'Available', status: 'True' },
      { type: 'Progressing', status: 'False', reason: 'Stuck' },
    ]);
  });

  it('does not mutate its inputs', () => {
    const doc = deployment();
    const patch = { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } };
    const before = JSON.stringify([doc, patch]);
    smp(doc, patch);
    assert.equal(JSON.stringify([doc, patch]), before);
  });
});

describe('applyStrategicMergePatch: merge lists', () => {
  it('merges env by name: existing items first, new ones after', () => {
    const result = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'redis', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }] } } },
    });
    assert.deepEqual(containers(result)[0].env, [
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
      { name: 'C', value: '4' },
    ]);
  });

  it('merges ports by containerPort', () => {
    const result = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'redis', ports: [{ containerPort: 6379, name: 'redis' }, { containerPort: 9121 }] }] } } },
    });
    assert.deepEqual(containers(result)[0].ports, [
      { containerPort: 6379, protocol: 'TCP', name: 'redis' },
      { containerPort: 9121 },
    ]);
  });

  it('a new item in a merge list goes before the server-only items (as Kubernetes does)', () => {
    const result = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'new', image: 'x' }] } } } });
    assert.deepEqual(containers(result).map((c) => c.name), ['new', 'redis', 'sidecar']);
  });

  it('$patch: delete removes list items by merge key (all duplicates)', () => {
    const doc = { mergingList: [{ name: 1 }, { name: 1 }, { name: 2, value: 'a' }, { name: 3 }, { name: 3 }] };
    const schema: PatchSchema = { name: 't', fields: { mergingList: { strategy: 'merge', mergeKey: 'name' } } };
    const result = smp(doc, { mergingList: [{ name: 1, $patch: 'delete' }, { name: 3, $patch: 'delete' }] }, schema);
    assert.deepEqual(result, { mergingList: [{ name: 2, value: 'a' }] });
  });

  it('$patch: delete of a container', () => {
    const result = smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'sidecar', $patch: 'delete' }] } } } });
    assert.deepEqual(containers(result).map((c) => c.name), ['redis']);
  });

  it('$patch: replace in a list replaces the whole list', () => {
    const result = smp(deployment(), {
      spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } },
    });
    assert.deepEqual(containers(result), [{ name: 'only', image: 'x' }]);
    const emptied = smp(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }] } } } });
    assert.deepEqual(containers(emptied), []);
  });

  it('$patch: merge in a list is refused, as in Kubernetes', () => {
    assertStatus(
      () => smp(deployment(), { spec: { template: { spec: { containers: [{ name: 'redis', $patch: 'merge' }] } } } }),
      400,
      'merging lists cannot yet be specified in the patch',
    );
  });

  it('an item without the merge key is a 400 with the Go message', () => {
    assertStatus(
      () => smp(deployment(), { spec: { template: { spec: { containers: [{ image: 'nginx' }] } } } }),
      400,
      'map: map[image:nginx] does not contain declared merge key: name',
    );
  });

  it('primitive merge lists (finalizers) merge as sets; new values go first', () => {
    const cm = patchSchemaFor('', 'ConfigMap');
    const doc = { metadata: { name: 'x', finalizers: ['a', 'b'] } };
    assert.deepEqual(smp(doc, { metadata: { finalizers: ['b', 'c'] } }, cm).metadata.finalizers, ['a', 'b', 'c']);
    assert.deepEqual(smp(doc, { metadata: { finalizers: ['c'] } }, cm).metadata.finalizers, ['c', 'a', 'b']);
  });

  it('unique scalars and patch order, as in the Go test cases', () => {
    const schema: PatchSchema = { name: 't', fields: { mergingIntList: { strategy: 'merge' } } };
    assert.deepEqual(smp({ mergingIntList: [1, 2] }, { mergingIntList: [2, 3] }, schema).mergingIntList, [1, 2, 3]);
    assert.deepEqual(smp({ mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1, 2] }, schema).mergingIntList, [3, 1, 2]);
    assert.deepEqual(smp({ mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1] }, schema).mergingIntList, [2, 3, 1]);
  });

  it('keeps the patch order in a merging list of maps (Go test cases)', () => {
    const schema: PatchSchema = { name: 't', fields: { mergingList: { strategy: 'merge', mergeKey: 'name' } } };
    const original = { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] };
    assert.deepEqual(
      smp(original, { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }, { name: 2, other: 'x' }] }, schema).mergingList,
      [{ name: 3, value: 'c' }, { name: 1, value: 'a' }, { name: 2, value: 'b', other: 'x' }],
    );
    assert.deepEqual(smp(structuredClone(original), { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }] }, schema).mergingList, [
      { name: 2, value: 'b' },
      { name: 3, value: 'c' },
      { name: 1, value: 'a' },
    ]);
  });

  it('lists without a strategy are replaced', () => {
    const result = smp(deployment(), {
      spec: { template: { spec: { tolerations: [{ key: 'y', operator: 'Exists' }], containers: [{ name: 'sidecar', args: ['sh'] }] } } },
    });
    assert.deepEqual(result.spec.template.spec.tolerations, [{ key: 'y', operator: 'Exists' }]);
    assert.deepEqual(containers(result)[1].args, ['sh']);
  });

  it('merges ownerReferences by uid, Service ports by port, Node addresses by type', () => {
    const pod = { metadata: { ownerReferences: [{ uid: 'u1', name: 'a' }] } };
    assert.deepEqual(smp(pod, { metadata: { ownerReferences: [{ uid: 'u2', name: 'b' }] } }, POD).metadata.ownerReferences, [
      { uid: 'u2', name: 'b' },
      { uid: 'u1', name: 'a' },
    ]);
    const svc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    assert.deepEqual(smp(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, patchSchemaFor('', 'Service')).spec.ports, [
      { port: 80, targetPort: 9090 },
      { port: 443 },
    ]);
    const node = { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n1' }] } };
    assert.deepEqual(
      smp(node, { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } }, patchSchemaFor('', 'Node')).status.addresses,
      [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n1' }],
    );
  });

  it('reaches the pod template of a CronJob', () => {
    const cronJob = {
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'y' }] } } } } },
    };
    const result = smp(cronJob, { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'b', image: 'z' }] } } } } } }, patchSchemaFor('batch', 'CronJob'));
    assert.deepEqual(result.spec.jobTemplate.spec.template.spec.containers, [
      { name: 'a', image: 'x' },
      { name: 'b', image: 'z' },
    ]);
  });

  it('lists of lists are a 422', () => {
    const schema: PatchSchema = { name: 't', fields: { l: { strategy: 'merge' } } };
    assertStatus(() => smp({ l: [[1]] }, { l: [[2]] }, schema), 422, 'the server rejected our request due to an error in our request');
  });
});

describe('applyStrategicMergePatch: directives', () => {
  it('null deletes a key; nulls inside a new map are dropped', () => {
    const result = smp(deployment(), { metadata: { labels: { app: null }, annotations: null }, spec: { paused: { a: null, b: 1 } } });
    assert.deepEqual(result.metadata.labels, {});
    assert.ok(!('annotations' in result.metadata));
    assert.deepEqual(result.spec.paused, { b: 1 });
  });

  it('$patch: replace on a map keeps only the patch', () => {
    const result = smp(deployment(), { metadata: { labels: { $patch: 'replace', tier: 'cache' } } });
    assert.deepEqual(result.metadata.labels, { tier: 'cache' });
  });

  it('$patch: delete on a map empties it', () => {
    const result = smp(deployment(), { spec: { template: { metadata: { labels: { $patch: 'delete' } } } } });
    assert.deepEqual(result.spec.template.metadata.labels, {});
  });

  it('a $patch map for a key the original lacks is dropped', () => {
    const result = smp(deployment(), { spec: { template: { metadata: { annotations: { $patch: 'delete' } } } } });
    assert.ok(!('annotations' in result.spec.template.metadata));
  });

  it('an unknown $patch value is a 400', () => {
    assertStatus(() => smp(deployment(), { metadata: { $patch: 'foo' } }), 400, 'unknown patch type: foo in map: map[$patch:foo]');
  });

  it('$retainKeys must list every key of the patch, and be a list', () => {
    assertStatus(
      () => smp(deployment(), { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: {} } } }),
      400,
      'invalid patch format of retainKeys',
    );
    assertStatus(() => smp(deployment(), { spec: { strategy: { $retainKeys: 'type' } } }), 400, 'invalid patch format of retainKeys');
  });

  it('$deleteFromPrimitiveList removes values (merge list or not) and never adds', () => {
    const cm = patchSchemaFor('', 'ConfigMap');
    const doc = { metadata: { finalizers: ['a', 'b', 'c'] }, args: ['1', '2', '3'] };
    const result = smp(doc, { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] }, '$deleteFromPrimitiveList/args': ['2', '9'] }, cm);
    assert.deepEqual(result.metadata.finalizers, ['a', 'c']);
    assert.deepEqual(result.args, ['1', '3']);
    const untouched = smp({ foo: ['bar'] }, { '$deleteFromPrimitiveList/other': ['x'] }, cm);
    assert.deepEqual(untouched, { foo: ['bar'] });
  });

  it('a directive prefix without "/" is a 400', () => {
    assertStatus(() => smp({ a: [1] }, { $deleteFromPrimitiveList: [1] }), 400, 'invalid patch format of primitive list');
    assertStatus(() => smp({ a: [1] }, { $setElementOrder: [1] }), 400, 'invalid patch format of setElementOrder list');
  });

  it('$setElementOrder alone reorders the live list', () => {
    const result = smp(deployment(), { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'redis' }] } } } });
    assert.deepEqual(containers(result).map((c) => c.name), ['sidecar', 'redis']);
  });

  it('$setElementOrder may name items absent from the list (Go test cases)', () => {
    const schema: PatchSchema = {
      name: 't',
      fields: { mergingList: { strategy: 'merge', mergeKey: 'name' }, mergingIntList: { strategy: 'merge' } },
    };
    assert.deepEqual(
      smp(
        { mergingList: [{ name: 1 }, { name: 3 }] },
        { '$setElementOrder/mergingList': [{ name: 3 }, { name: 2 }, { name: 1 }], mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] },
        schema,
      ),
      { mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] },
    );
    assert.deepEqual(smp({ mergingIntList: [1, 3] }, { '$setElementOrder/mergingIntList': [3, 2, 1] }, schema), { mergingIntList: [3, 1] });
  });

  it('a server-only item goes before the first ordered item that followed it on the server', () => {
    const doc = deployment();
    (doc.spec as Json).template.spec.containers = [{ name: 'a' }, { name: 'injected' }, { name: 'b' }];
    const result = smp(doc, { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } } } });
    // Go: "injected" stood before "b" on the server, so it stays before it.
    assert.deepEqual(containers(result).map((c) => c.name), ['injected', 'b', 'a']);
  });

  it('a patch list out of $setElementOrder order is a 400', () => {
    const schema: PatchSchema = { name: 't', fields: { mergingList: { strategy: 'merge', mergeKey: 'name' } } };
    assertStatus(
      () =>
        smp(
          { mergingList: [{ name: 1 }, { name: 3 }, { name: 2 }] },
          { '$setElementOrder/mergingList': [{ name: 1 }, { name: 2 }, { name: 3 }], mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] },
          schema,
        ),
      400,
      /doesn't match \$setElementOrder list/,
    );
  });

  it('$setElementOrder for a list the original lacks adds it in order', () => {
    const doc = deployment();
    delete (doc.spec as Json).template.spec.volumes;
    const result = smp(doc, {
      spec: { template: { spec: { '$setElementOrder/volumes': [{ name: 'b' }, { name: 'a' }], volumes: [{ name: 'b', emptyDir: {} }, { name: 'a', emptyDir: {} }] } } },
    });
    assert.deepEqual(result.spec.template.spec.volumes.map((v: Json) => v.name), ['b', 'a']);
  });

  it('$patch: replace for a field with strategy replace (PodDisruptionBudget selector)', () => {
    const pdb = { spec: { selector: { matchLabels: { a: '1' } } } };
    const result = smp(pdb, { spec: { selector: { matchLabels: { b: '2' } } } }, patchSchemaFor('policy', 'PodDisruptionBudget'));
    assert.deepEqual(result.spec.selector, { matchLabels: { b: '2' } });
  });
});

describe('applyStrategicMergePatch: edges', () => {
  it('a non-object patch is a 400 like encoding/json', () => {
    assertStatus(() => smp(deployment(), []), 400, 'json: cannot unmarshal array into Go value of type map[string]interface {}');
    assertStatus(() => smp(deployment(), 'x'), 400, 'json: cannot unmarshal string into Go value of type map[string]interface {}');
  });

  it('a null patch changes nothing', () => {
    assert.deepEqual(smp(deployment(), null), deployment());
  });

  it('unknown kinds: no strategies, lists replaced, directives still honoured', () => {
    assert.equal(patchSchemaFor('example.com', 'Widget'), EMPTY_PATCH_SCHEMA);
    assert.equal(hasPatchSchema('example.com', 'Widget'), false);
    assert.equal(hasPatchSchema('apps', 'Deployment'), true);
    const doc = { spec: { items: [{ name: 'a' }], labels: { x: '1' } } };
    const result = smp(doc, { spec: { items: [{ name: 'b' }], labels: { y: '2' } } }, EMPTY_PATCH_SCHEMA);
    assert.deepEqual(result, { spec: { items: [{ name: 'b' }], labels: { x: '1', y: '2' } } });
  });

  it('a type change replaces the value', () => {
    assert.deepEqual(smp({ a: { b: 1 } }, { a: 'x' }, EMPTY_PATCH_SCHEMA), { a: 'x' });
    assert.deepEqual(smp({ a: 'x' }, { a: { b: 1, c: null } }, EMPTY_PATCH_SCHEMA), { a: { b: 1 } });
  });
});

describe('applyMergePatch (RFC 7386)', () => {
  const cases: Array<[unknown, unknown, unknown]> = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [doc, patch, expected] of cases) {
    it(`${JSON.stringify(doc)} + ${JSON.stringify(patch)}`, () => {
      assert.deepEqual(applyMergePatch(doc, patch), expected);
    });
  }

  it('a null or scalar patch is a 400 "Invalid JSON Patch", as kube-apiserver answers', () => {
    assertStatus(() => applyMergePatch({ a: 1 }, null), 400, 'Invalid JSON Patch');
    assertStatus(() => applyMergePatch({ a: 1 }, 'bar'), 400, 'Invalid JSON Patch');
  });

  it('kubectl label / annotate / scale bodies', () => {
    const doc = { metadata: { name: 'x', labels: { a: '1', b: '2' } }, spec: { replicas: 1 } };
    assert.deepEqual(applyMergePatch(doc, { metadata: { labels: { c: '3', a: null } } }), {
      metadata: { name: 'x', labels: { b: '2', c: '3' } },
      spec: { replicas: 1 },
    });
    assert.deepEqual(applyMergePatch(doc, { spec: { replicas: 3 } }), { metadata: doc.metadata, spec: { replicas: 3 } });
    assert.deepEqual(doc.spec, { replicas: 1 }, 'input untouched');
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const doc = { metadata: { name: 'x', annotations: { a: '1' } }, spec: { list: [1, 2] } };

  it('add, replace, remove, test, move, copy', () => {
    const result = applyJsonPatch(doc, [
      { op: 'test', path: '/metadata/name', value: 'x' },
      { op: 'add', path: '/metadata/labels', value: { app: 'web' } },
      { op: 'add', path: '/spec/list/-', value: 3 },
      { op: 'add', path: '/spec/list/0', value: 0 },
      { op: 'replace', path: '/metadata/annotations/a', value: '2' },
      { op: 'copy', from: '/metadata/labels', path: '/spec/selector' },
      { op: 'move', from: '/metadata/annotations/a', path: '/metadata/annotations/b' },
      { op: 'remove', path: '/spec/list/1' },
    ]);
    assert.deepEqual(result, {
      metadata: { name: 'x', annotations: { b: '2' }, labels: { app: 'web' } },
      spec: { list: [0, 2, 3], selector: { app: 'web' } },
    });
    assert.deepEqual(doc.spec.list, [1, 2], 'input untouched');
  });

  it('kubectl rollout undo: replace /spec/template and /metadata/annotations', () => {
    const result = applyJsonPatch({ metadata: { annotations: { x: 'y' } }, spec: { template: { a: 1 } } }, [
      { op: 'replace', path: '/spec/template', value: { b: 2 } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '1' } },
    ]);
    assert.deepEqual(result, { metadata: { annotations: { 'deployment.kubernetes.io/revision': '1' } }, spec: { template: { b: 2 } } });
  });

  it('a failed test is 422 Invalid with kube-apiserver message and empty details', () => {
    const err = assertStatus(
      () => applyJsonPatch(doc, [{ op: 'test', path: '/metadata/name', value: 'y' }]),
      422,
      'the server rejected our request due to an error in our request',
    );
    assert.deepEqual(err.toStatus(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'the server rejected our request due to an error in our request',
      reason: 'Invalid',
      details: {},
      code: 422,
    });
  });

  it('bad paths and unknown ops are 422', () => {
    assertStatus(() => applyJsonPatch(doc, [{ op: 'remove', path: '/metadata/nope' }]), 422);
    assertStatus(() => applyJsonPatch(doc, [{ op: 'replace', path: '/nope/deeper', value: 1 }]), 422);
    assertStatus(() => applyJsonPatch(doc, [{ op: 'add', path: '/a/b/c', value: 1 }]), 422);
    assertStatus(() => applyJsonPatch(doc, [{ op: 'frobnicate', path: '/a' }]), 422);
  });

  it('a body that is not a list of operations is a 400', () => {
    assertStatus(() => applyJsonPatch(doc, { op: 'add' }), 400, 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    assertStatus(() => applyJsonPatch(doc, ['x']), 400, 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });

  it('more than 10000 operations is a 413', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/metadata/name', value: 'x' }));
    assertStatus(() => applyJsonPatch(doc, ops), 413, 'The allowed maximum operations in a JSON patch is 10000, got 10001');
  });

  it('a null body changes nothing', () => {
    assert.deepEqual(applyJsonPatch(doc, null), doc);
  });
});
