import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { atomForKind, deducedAtom } from './schema.js';
import { FieldSet, PathElement, fieldSetOf } from './fieldpath.js';
import { compare, dropAppliedNulls, listItemElement, merge, removeItems, toFieldSet, validate, withNamedFields } from './typed.js';

const DEPLOYMENT = atomForKind('apps', 'v1', 'Deployment');
const POD = atomForKind('', 'v1', 'Pod');
const SERVICE = atomForKind('', 'v1', 'Service');

describe('schema', () => {
  it('knows list-map keys, sets and atomic types of the built-in kinds', () => {
    const podSpec = POD.map!.fields!.get('spec')!.type.map!;
    const containers = podSpec.fields!.get('containers')!.type.list!;
    assert.deepEqual(containers.keys, ['name']);
    const ports = containers.elementType.map!.fields!.get('ports')!.type.list!;
    assert.deepEqual(ports.keys, ['containerPort', 'protocol']);
    const finalizers = POD.map!.fields!.get('metadata')!.type.map!.fields!.get('finalizers')!.type.list!;
    assert.ok(finalizers.associative && !finalizers.keys);
    const args = containers.elementType.map!.fields!.get('args')!.type.list!;
    assert.ok(!args.associative);
    const selector = DEPLOYMENT.map!.fields!.get('spec')!.type.map!.fields!.get('selector')!.type.map!;
    assert.ok(selector.atomic);
    assert.ok(deducedAtom().map && deducedAtom().list && deducedAtom().scalar);
    assert.equal(atomForKind('example.com', 'v1', 'Widget'), deducedAtom());
  });

  it('uses key defaults for missing list-map keys (protocol TCP)', () => {
    const ports = SERVICE.map!.fields!.get('spec')!.type.map!.fields!.get('ports')!.type.list!;
    assert.equal(listItemElement(ports, { port: 80 }).id, 'k:{"port":80,"protocol":"TCP"}');
    assert.throws(() => listItemElement(ports, null), /may not have a null element/);
  });
});

describe('validate', () => {
  it('reports undeclared fields, wrong types, missing keys and duplicates as structured-merge-diff', () => {
    assert.deepEqual(validate({ spec: { foo: 1 } }, DEPLOYMENT), [{ path: '.spec.foo', message: 'field not declared in schema' }]);
    assert.deepEqual(validate({ spec: { replicas: '3' } }, DEPLOYMENT), [{ path: '.spec.replicas', message: 'expected numeric (int or float), got string' }]);
    assert.deepEqual(validate({ spec: { paused: 1 } }, DEPLOYMENT), [{ path: '.spec.paused', message: 'expected boolean, got &{1}' }]);
    assert.deepEqual(validate({ metadata: { name: 5 } }, DEPLOYMENT), [{ path: '.metadata.name', message: 'expected string, got &value.valueUnstructured{Value:5}' }]);
    assert.deepEqual(validate({ spec: { selector: 'x' } }, DEPLOYMENT), [{ path: '.spec.selector', message: 'expected map, got &{x}' }]);
    // Nearly every list-map key has a schema default; ServiceAccount secrets' name has none.
    assert.deepEqual(validate({ secrets: [{ namespace: 'x' }] }, atomForKind('', 'v1', 'ServiceAccount')), [
      { path: '.secrets', message: 'element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)' },
    ]);
    const twice = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'a' }] } } } };
    assert.deepEqual(validate(twice, DEPLOYMENT), [{ path: '.spec.template.spec.containers', message: 'duplicate entries for key [name="a"]' }]);
    assert.deepEqual(validate(twice, DEPLOYMENT, { allowDuplicates: true }), []);
  });
});

describe('toFieldSet', () => {
  it('lists what an applied configuration sets', () => {
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', labels: { app: 'x' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'x' } },
        template: { spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }], args: ['a'] }] } },
      },
    };
    assert.deepEqual(toFieldSet(config, DEPLOYMENT).toStrings(), [
      '.apiVersion',
      '.kind',
      '.metadata.labels.app',
      '.metadata.name',
      '.spec.replicas',
      '.spec.selector',
      '.spec.template.spec.containers[name="c"]',
      '.spec.template.spec.containers[name="c"].args',
      '.spec.template.spec.containers[name="c"].image',
      '.spec.template.spec.containers[name="c"].name',
      '.spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"]',
      '.spec.template.spec.containers[name="c"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
  });

  it('marks empty and null maps, set items, and skips excluded paths', () => {
    const set = toFieldSet({ metadata: { finalizers: ['a'], annotations: {} }, status: { phase: 'x' }, spec: { securityContext: null } }, POD, fieldSetOf('.status'));
    assert.deepEqual(set.toStrings(), ['.metadata.annotations', '.metadata.finalizers[="a"]', '.spec.securityContext']);
  });
});

describe('compare', () => {
  it('finds added, modified and removed paths, items by key and set values', () => {
    const c = compare(
      { metadata: { finalizers: ['a', 'b'] }, spec: { containers: [{ name: 'a', image: '1', resources: {} }] } },
      { metadata: { finalizers: ['b', 'c'] }, spec: { containers: [{ name: 'a', image: '2', resources: {} }, { name: 'b' }] } },
      POD,
    );
    assert.deepEqual(c.added.toStrings(), ['.metadata.finalizers[="c"]', '.spec.containers[name="b"]', '.spec.containers[name="b"].name', '.spec.containers[name="b"].resources']);
    assert.deepEqual(c.modified.toStrings(), ['.spec.containers[name="a"].image']);
    assert.deepEqual(c.removed.toStrings(), ['.metadata.finalizers[="a"]']);
  });

  it('compares as typed objects: value structs and required fields are always there', () => {
    // Creating from the empty object: spec and template exist in a Go zero Deployment, rollingUpdate does not.
    const c = compare({}, { spec: { strategy: { rollingUpdate: { maxSurge: 1 } }, template: { spec: { containers: [{ name: 'a' }] } } } }, DEPLOYMENT);
    assert.deepEqual(c.added.toStrings(), [
      '.spec.strategy.rollingUpdate',
      '.spec.strategy.rollingUpdate.maxSurge',
      '.spec.template.spec.containers[name="a"]',
      '.spec.template.spec.containers[name="a"].name',
      '.spec.template.spec.containers[name="a"].resources',
    ]);
    assert.deepEqual(c.modified.toStrings(), []);
    // A typed object carries `resources: {}` whether or not the JSON had it.
    assert.ok(compare({ spec: { containers: [{ name: 'a' }] } }, { spec: { containers: [{ name: 'a', resources: {} }] } }, POD).added.isEmpty());
  });

  it('skips excluded paths', () => {
    const c = compare({ status: { phase: 'a' }, spec: { nodeName: 'x' } }, { status: { phase: 'b' }, spec: { nodeName: 'y' } }, POD, fieldSetOf('.status'));
    assert.deepEqual(c.modified.toStrings(), ['.spec.nodeName']);
  });
});

describe('merge', () => {
  it('replaces scalars and atomic values, merges maps and list items by key', () => {
    const live = {
      metadata: { labels: { a: '1', b: '2' } },
      spec: { selector: { matchLabels: { x: '1' } }, template: { spec: { containers: [{ name: 'a', image: '1', args: ['x', 'y'] }, { name: 'b', image: 'b' }] } } },
    };
    const config = { metadata: { labels: { a: '9' } }, spec: { selector: { matchLabels: { y: '2' } }, template: { spec: { containers: [{ name: 'a', args: ['z'] }] } } } };
    assert.deepEqual(merge(live, config, DEPLOYMENT), {
      metadata: { labels: { a: '9', b: '2' } },
      spec: { selector: { matchLabels: { y: '2' } }, template: { spec: { containers: [{ name: 'a', image: '1', args: ['z'] }, { name: 'b', image: 'b' }] } } },
    });
  });

  it('keeps live items in place and orders applied items as applied', () => {
    const live = { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } };
    const config = { spec: { containers: [{ name: 'c', image: 'c2' }, { name: 'a', image: 'a2' }] } };
    assert.deepEqual(merge(live, config, POD), { spec: { containers: [{ name: 'b' }, { name: 'c', image: 'c2' }, { name: 'a', image: 'a2' }] } });
  });

  it('merges sets of scalars', () => {
    assert.deepEqual(merge({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['c', 'a'] } }, POD), { metadata: { finalizers: ['c', 'a', 'b'] } });
  });

  it('merges anything into objects of unknown kinds (maps granular, lists atomic)', () => {
    assert.deepEqual(merge({ spec: { a: 1, list: [1, 2] } }, { spec: { b: 2, list: [3] } }, deducedAtom()), { spec: { a: 1, b: 2, list: [3] } });
  });

  it('drops the nulls a configuration applied, except where Go keeps null', () => {
    const config = { spec: { replicas: null, template: { metadata: { creationTimestamp: null } } } };
    const merged = merge({ spec: { replicas: 3 } }, config, DEPLOYMENT) as Record<string, Record<string, unknown>>;
    dropAppliedNulls(merged, config, DEPLOYMENT);
    assert.deepEqual(merged, { spec: { template: { metadata: { creationTimestamp: null } } } });
  });
});

describe('removeItems', () => {
  it('removes fields and list items, and maps left empty', () => {
    const value = { metadata: { labels: { a: '1' }, annotations: { x: 'y' } }, spec: { containers: [{ name: 'a', image: '1' }, { name: 'b' }] } };
    const remove = fieldSetOf('.metadata.labels.a').insert([PathElement.field('spec'), PathElement.field('containers'), PathElement.key([['name', 'b']])]);
    assert.deepEqual(removeItems(value, remove, POD), { metadata: { annotations: { x: 'y' } }, spec: { containers: [{ name: 'a', image: '1' }] } });
    assert.deepEqual(value.spec.containers.length, 2, 'input untouched');
  });

  it('removes a named field once withNamedFields made it a member', () => {
    const applied = toFieldSet({ spec: { strategy: { type: 'Recreate' } } }, DEPLOYMENT);
    assert.deepEqual(withNamedFields(applied, DEPLOYMENT).toStrings(), ['.spec', '.spec.strategy', '.spec.strategy.type']);
    assert.deepEqual(removeItems({ spec: { strategy: { type: 'Recreate' }, replicas: 1 } }, withNamedFields(applied, DEPLOYMENT), DEPLOYMENT), undefined);
    assert.ok(new FieldSet().isEmpty());
  });
});
