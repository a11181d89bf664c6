import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FieldSet, PathElement, fieldSetOf, goJson, pathString } from './fieldpath.js';

const f = (name: string) => PathElement.field(name);

describe('PathElement', () => {
  it('has the FieldsV1 form as identity and prints as structured-merge-diff', () => {
    const port = PathElement.key([
      ['protocol', 'TCP'],
      ['containerPort', 80],
    ]);
    assert.equal(port.id, 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(port.toString(), '[containerPort=80,protocol="TCP"]');
    assert.equal(PathElement.value('a').id, 'v:"a"');
    assert.equal(PathElement.value('a').toString(), '[="a"]');
    assert.equal(PathElement.index(3).id, 'i:3');
    assert.equal(f('spec').toString(), '.spec');
    assert.equal(pathString([f('spec'), f('containers'), PathElement.key([['name', 'nginx']]), f('image')]), '.spec.containers[name="nginx"].image');
  });

  it('parses FieldsV1 keys back, whatever their key order', () => {
    assert.equal(PathElement.parse('k:{"protocol":"TCP","containerPort":80}')!.id, 'k:{"containerPort":80,"protocol":"TCP"}');
    assert.equal(PathElement.parse('f:metadata')!.name, 'metadata');
    assert.equal(PathElement.parse('v:5')!.value, 5);
    assert.equal(PathElement.parse('i:2')!.index, 2);
    assert.equal(PathElement.parse('x:whatever'), undefined);
    assert.throws(() => PathElement.parse('fmetadata'), /missing colon/);
  });

  it('orders fields before keys, values and indexes', () => {
    const sorted = [PathElement.index(0), PathElement.value('b'), PathElement.key([['name', 'a']]), f('z'), f('a'), PathElement.value(1)].sort((a, b) => a.compare(b));
    assert.deepEqual(
      sorted.map((pe) => pe.id),
      ['f:a', 'f:z', 'k:{"name":"a"}', 'v:1', 'v:"b"', 'i:0'],
    );
  });

  it('escapes HTML characters as Go does', () => {
    assert.equal(goJson('a<b>&c'), '"a\\u003cb\\u003e\\u0026c"');
    assert.equal(goJson({ a: 1 }), '{"a":1}');
  });
});

describe('FieldSet', () => {
  it('inserts, finds and lists paths in order', () => {
    const set = fieldSetOf('.spec.replicas', '.metadata.labels.app', '.spec');
    assert.ok(set.has([f('spec'), f('replicas')]));
    assert.ok(set.has([f('spec')]));
    assert.ok(!set.has([f('metadata')]));
    assert.deepEqual(set.toStrings(), ['.metadata.labels.app', '.spec', '.spec.replicas']);
    assert.equal(set.size(), 3);
  });

  it('does set algebra the structured-merge-diff way', () => {
    const a = fieldSetOf('.a.b', '.a.c', '.d');
    const b = fieldSetOf('.a.c', '.e');
    assert.deepEqual(a.union(b).toStrings(), ['.a.b', '.a.c', '.d', '.e']);
    assert.deepEqual(a.intersection(b).toStrings(), ['.a.c']);
    assert.deepEqual(a.difference(b).toStrings(), ['.a.b', '.d']);
    // A member of the other set removes the whole subtree only in a recursive difference.
    const withParent = fieldSetOf('.a', '.a.b');
    assert.deepEqual(withParent.difference(fieldSetOf('.a')).toStrings(), ['.a.b']);
    assert.deepEqual(withParent.recursiveDifference(fieldSetOf('.a')).toStrings(), []);
    assert.ok(a.equals(fieldSetOf('.d', '.a.c', '.a.b')));
    assert.ok(!a.equals(b));
  });

  it('serializes to FieldsV1 with "." for members that have children', () => {
    const set = new FieldSet()
      .insert([f('metadata'), f('labels')])
      .insert([f('metadata'), f('labels'), f('app')])
      .insert([f('spec'), f('containers'), PathElement.key([['name', 'x']])])
      .insert([f('spec'), f('containers'), PathElement.key([['name', 'x']]), f('image')])
      .insert([f('spec'), f('replicas')]);
    const fields = set.toFieldsV1();
    assert.equal(
      JSON.stringify(fields),
      '{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"x\\"}":{".":{},"f:image":{}}},"f:replicas":{}}}',
    );
    const back = FieldSet.fromFieldsV1(JSON.parse(JSON.stringify(fields)));
    assert.ok(back.equals(set));
  });

  it('reads FieldsV1 leniently: {} is a member, unknown element kinds are skipped', () => {
    const set = FieldSet.fromFieldsV1({ 'f:a': {}, 'f:b': { 'f:c': {} }, 'x:y': {} });
    assert.deepEqual(set.toStrings(), ['.a', '.b.c']);
    assert.throws(() => FieldSet.fromFieldsV1({ 'k:notjson': {} }));
  });
});
