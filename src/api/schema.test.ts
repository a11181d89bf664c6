import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../apimachinery/errors.js';
import { decodeBody, parseFieldValidation, strictPatchCheck, warningHeaderValue } from './decode.js';
import type { ExpectedKind, FieldValidation } from './decode.js';
import {
  definitionFor,
  findUnknownAndDuplicateFields,
  parseJsonTree,
  quantitySyntaxError,
  schemaDefinitions,
} from './schema.js';
import type { Definition } from './schema.js';

const POD: ExpectedKind = { group: '', version: 'v1', kind: 'Pod' };
const DEPLOYMENT: ExpectedKind = { group: 'apps', version: 'v1', kind: 'Deployment' };

function definition(group: string, version: string, kind: string): Definition {
  const found = definitionFor(group, version, kind);
  assert.ok(found, `${group}/${version} ${kind} has a definition`);
  return found;
}

/** The paths reported, as `unknown spec.foo` / `duplicate metadata.name`. */
function fieldsOf(def: Definition, text: string): string[] {
  return findUnknownAndDuplicateFields(def, JSON.parse(text), text).map((e) => `${e.kind} ${e.path}`);
}

function decode(body: string, fieldValidation: FieldValidation = 'Strict', expected = POD, contentType = 'application/json') {
  return decodeBody(Buffer.from(body), contentType, fieldValidation, expected);
}

/** The StatusError a call throws. */
function statusErrorOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('generated schema', () => {
  it('has the built-in kinds with their real descriptions', () => {
    const pod = definition('', 'v1', 'Pod');
    assert.equal(pod.name, 'io.k8s.api.core.v1.Pod');
    assert.equal(
      pod.schema.description,
      'Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.',
    );
    assert.deepEqual(pod.schema['x-kubernetes-group-version-kind'], [{ group: '', kind: 'Pod', version: 'v1' }]);
    assert.equal(definition('apps', 'v1', 'Deployment').name, 'io.k8s.api.apps.v1.Deployment');
    assert.equal(definition('rbac.authorization.k8s.io', 'v1', 'ClusterRole').name, 'io.k8s.api.rbac.v1.ClusterRole');
    assert.equal(definitionFor('', 'v1', 'NoSuchKind'), undefined);
  });

  it('names apimachinery types as Kubernetes does and marks required fields', () => {
    const defs = schemaDefinitions();
    assert.ok(defs['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
    assert.ok(defs['io.k8s.apimachinery.pkg.api.resource.Quantity']);
    assert.ok(defs['io.k8s.apimachinery.pkg.runtime.RawExtension']);
    assert.deepEqual(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.oneOf, [{ type: 'integer' }, { type: 'string' }]);
    assert.deepEqual(defs['io.k8s.api.core.v1.Container']?.required, ['name']);
    assert.deepEqual(defs['io.k8s.api.apps.v1.DeploymentSpec']?.required, ['selector', 'template']);
    const ports = defs['io.k8s.api.core.v1.ServicePort']?.properties?.targetPort;
    assert.equal(ports?.$ref, 'io.k8s.apimachinery.pkg.util.intstr.IntOrString');
    const limits = defs['io.k8s.api.core.v1.ResourceRequirements']?.properties?.limits;
    assert.deepEqual(limits?.additionalProperties, { $ref: 'io.k8s.apimachinery.pkg.api.resource.Quantity' });
  });
});

describe('findUnknownAndDuplicateFields', () => {
  const pod = () => definition('', 'v1', 'Pod');
  const deployment = () => definition('apps', 'v1', 'Deployment');

  it('finds unknown fields in nested objects and arrays of a Pod', () => {
    const text = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', labels: { app: 'x' }, bogus: 1 },
      spec: { foo: 1, containers: [{ name: 'a', image: 'nginx' }, { name: 'b', imagee: 'nginx', ports: [{ containerPort: 80, hostt: 1 }] }] },
      status: { phase: 'Running', nope: true },
    });
    assert.deepEqual(fieldsOf(pod(), text), [
      'unknown metadata.bogus',
      'unknown spec.foo',
      'unknown spec.containers[1].imagee',
      'unknown spec.containers[1].ports[0].hostt',
      'unknown status.nope',
    ]);
  });

  it('finds unknown fields deep in a Deployment template', () => {
    const text = JSON.stringify({
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'x' } },
        template: { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', env: [{ name: 'A', valu: '1' }] }], restartPolcy: 'Always' } },
        strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
      },
    });
    assert.deepEqual(fieldsOf(deployment(), text), [
      'unknown spec.template.spec.containers[0].env[0].valu',
      'unknown spec.template.spec.restartPolcy',
    ]);
  });

  it('finds duplicate fields in structs, maps and array items, in document order', () => {
    const text =
      '{"metadata":{"name":"a","name":"b","labels":{"x":"1","x":"2"}},' +
      '"spec":{"containers":[{"name":"c","image":"i","image":"j"}],"foo":1,"foo":2}}';
    assert.deepEqual(fieldsOf(pod(), text), [
      'duplicate metadata.name',
      'duplicate metadata.labels.x',
      'duplicate spec.containers[0].image',
      'unknown spec.foo',
    ]);
  });

  it('needs the raw text for duplicates', () => {
    const value = { metadata: { name: 'a' }, spec: { foo: 1 } };
    assert.deepEqual(
      findUnknownAndDuplicateFields(pod(), value).map((e) => e.path),
      ['spec.foo'],
    );
  });

  it('accepts int or string for IntOrString and string or number for Quantity', () => {
    const text = JSON.stringify({
      spec: {
        containers: [{ name: 'c', resources: { limits: { cpu: 1, memory: '128Mi' }, requests: { cpu: '0.5' } }, ports: [{ containerPort: 80 }] }],
      },
    });
    assert.deepEqual(fieldsOf(pod(), text), []);
    const svc = definition('', 'v1', 'Service');
    assert.deepEqual(fieldsOf(svc, '{"spec":{"ports":[{"port":80,"targetPort":"http"},{"port":81,"targetPort":8081}]}}'), []);
  });

  it('accepts anything inside RawExtension and managedFields fieldsV1', () => {
    const revision = definition('apps', 'v1', 'ControllerRevision');
    assert.deepEqual(fieldsOf(revision, '{"revision":1,"data":{"whatever":{"a":1,"a":2},"x":[1]}}'), []);
    const text = '{"metadata":{"managedFields":[{"manager":"m","fieldsV1":{"f:spec":{"f:x":{}}}}]}}';
    assert.deepEqual(fieldsOf(pod(), text), []);
  });

  it('rejects every field of an empty struct', () => {
    const crd = definition('apiextensions.k8s.io', 'v1', 'CustomResourceDefinition');
    const text = JSON.stringify({ spec: { versions: [{ name: 'v1', served: true, storage: true, subresources: { status: { x: 1 } } }] } });
    assert.deepEqual(fieldsOf(crd, text), ['unknown spec.versions[0].subresources.status.x']);
  });
});

describe('parseJsonTree', () => {
  it("reports syntax errors with Go's encoding/json messages", () => {
    const message = (text: string) => {
      try {
        parseJsonTree(text);
      } catch (err) {
        return (err as Error).message;
      }
      return 'ok';
    };
    assert.equal(message(''), 'unexpected end of JSON input');
    assert.equal(message('{"a":1'), 'unexpected end of JSON input');
    assert.equal(message('{"a" 1}'), "invalid character '1' after object key");
    assert.equal(message('{"a":1 "b":2}'), `invalid character '"' after object key:value pair`);
    assert.equal(message('[1 2]'), "invalid character '2' after array element");
    assert.equal(message('{"a":1,}'), "invalid character '}' looking for beginning of object key string");
    assert.equal(message('{"a":}'), "invalid character '}' looking for beginning of value");
    assert.equal(message('{} x'), "invalid character 'x' after top-level value");
    assert.equal(message('tru'), "invalid character ' ' in literal true (expecting 'e')");
    assert.equal(message('"\\x"'), "invalid character 'x' in string escape code");
    assert.equal(message('"a\nb"'), "invalid character '\\n' in string literal");
    assert.equal(message("'a'"), "invalid character '\\'' looking for beginning of value");
    assert.equal(message('[1,2]'), 'ok');
  });
});

describe('quantitySyntaxError', () => {
  it('accepts quantities resource.ParseQuantity accepts', () => {
    for (const q of ['1', '0.5', '100m', '128Mi', '1Gi', '1e3', '1E-3', '+5', '-1k', '.5']) assert.equal(quantitySyntaxError(q), undefined, q);
  });
  it('rejects the rest with its messages', () => {
    assert.match(quantitySyntaxError('1x') ?? '', /^quantities must match the regular expression/);
    assert.match(quantitySyntaxError('') ?? '', /^quantities must match/);
    assert.equal(quantitySyntaxError('1.2.3'), 'unable to parse numeric part of quantity');
    assert.equal(quantitySyntaxError('1Mk'), "unable to parse quantity's suffix");
  });
});

describe('decodeBody', () => {
  const body = JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { foo: 1, containers: [{ name: 'a', image: 'nginx', imagee: 'x' }] },
  });

  it('Strict: 400 worded as kube-apiserver create', () => {
    const err = statusErrorOf(() => decode(body));
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(
      err.message,
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo", unknown field "spec.containers[0].imagee"',
    );
  });

  it('Strict: duplicates and unknown fields together, in document order', () => {
    const text = '{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"a","name":"b"},"spec":{"foo":1}}';
    const err = statusErrorOf(() => decode(text, 'Strict', DEPLOYMENT));
    assert.equal(
      err.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "metadata.name", unknown field "spec.foo"',
    );
  });

  it('Warn: warnings, unknown fields dropped, last duplicate kept', () => {
    const text = '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","name":"b"},"spec":{"foo":1,"containers":[{"name":"c","imagee":"x"}]}}';
    const { object, warnings } = decode(text, 'Warn');
    assert.deepEqual(warnings, ['duplicate field "metadata.name"', 'unknown field "spec.foo"', 'unknown field "spec.containers[0].imagee"']);
    assert.deepEqual(object, { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'b' }, spec: { containers: [{ name: 'c' }] } });
  });

  it('Ignore: no warnings, unknown fields still dropped', () => {
    const { object, warnings } = decode(body, 'Ignore');
    assert.deepEqual(warnings, []);
    assert.deepEqual(object.spec, { containers: [{ name: 'a', image: 'nginx' }] });
  });

  it('defaults apiVersion and kind from the endpoint', () => {
    const { object } = decode('{"metadata":{"name":"d"},"spec":{"replicas":1}}', 'Strict', DEPLOYMENT);
    assert.equal(object.apiVersion, 'apps/v1');
    assert.equal(object.kind, 'Deployment');
  });

  it('malformed JSON: the object provided is unrecognized', () => {
    assert.equal(
      statusErrorOf(() => decode('{"apiVersion":"v1",')).message,
      `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: unexpected end of JSON input ({"apiVersion":"v1",)`,
    );
    assert.equal(
      statusErrorOf(() => decode('')).message,
      `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: unexpected end of JSON input (<empty>)`,
    );
    assert.equal(
      statusErrorOf(() => decode('{"apiVersion":5}')).message,
      `the object provided is unrecognized (must be of type Pod): couldn't get version/kind; json parse error: json: cannot unmarshal number into Go struct field .apiVersion of type string ({"apiVersion":5})`,
    );
  });

  it('type mismatches fail with Go decoder messages', () => {
    assert.equal(
      statusErrorOf(() => decode('{"spec":{"replicas":"3"}}', 'Ignore', DEPLOYMENT)).message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    assert.equal(
      statusErrorOf(() => decode('{"spec":{"template":{"spec":{"containers":{}}}}}', 'Strict', DEPLOYMENT)).message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal object into Go struct field PodSpec.spec.template.spec.containers of type []v1.Container',
    );
    assert.equal(
      statusErrorOf(() => decode('{"spec":{"containers":[{"name":"c","resources":{"limits":{"cpu":"1x"}}}]}}')).message,
      `Pod in version "v1" cannot be handled as a Pod: quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
    );
    assert.equal(
      statusErrorOf(() => decode('{"spec":{"strategy":{"rollingUpdate":{"maxSurge":true}}}}', 'Strict', DEPLOYMENT)).message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal bool into Go struct field RollingUpdateDeployment.spec.strategy.rollingUpdate.maxSurge of type int32',
    );
  });

  it('rejects another kind or group-version', () => {
    assert.equal(
      statusErrorOf(() => decode('{"apiVersion":"v1","kind":"Service"}')).message,
      'Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion',
    );
    assert.equal(
      statusErrorOf(() => decode('{"apiVersion":"v1","kind":"Pood"}')).message,
      'Pood in version "v1" cannot be handled as a Pod: no kind "Pood" is registered for version "v1" in scheme "pkg/api/legacyscheme/scheme.go:30"',
    );
    const hpa = { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler' };
    assert.equal(
      statusErrorOf(() => decode('{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler"}', 'Strict', hpa)).message,
      'the API version in the data (autoscaling/v2) does not match the expected API version (autoscaling/v1)',
    );
  });

  it('YAML: duplicate keys as go-yaml reports them, unknown fields in sorted key order', () => {
    const yaml = ['apiVersion: v1', 'kind: Pod', 'metadata:', '  name: a', '  name: b', 'spec:', '  zzz: 1', '  containers:', '  - name: c', '    imagee: x', ''].join('\n');
    const err = statusErrorOf(() => decode(yaml, 'Strict', POD, 'application/yaml'));
    assert.equal(
      err.message,
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: yaml: unmarshal errors:\n  line 5: key "name" already set in map, unknown field "spec.containers[0].imagee", unknown field "spec.zzz"',
    );
    const { object, warnings } = decode(yaml, 'Warn', POD, 'application/yaml');
    assert.deepEqual(warnings, ['line 5: key "name" already set in map', 'unknown field "spec.containers[0].imagee"', 'unknown field "spec.zzz"']);
    assert.deepEqual(object.metadata, { name: 'b' });
  });

  it('YAML: syntax errors are unrecognized objects', () => {
    const err = statusErrorOf(() => decode('kind: Pod\nmetadata: name: a\n', 'Strict', POD, 'application/yaml'));
    assert.match(err.message, /^the object provided is unrecognized \(must be of type Pod\): yaml: line 2: /);
  });

  it('415 for other media types', () => {
    assert.equal(statusErrorOf(() => decode('{}', 'Strict', POD, 'text/plain')).code, 415);
  });

  it('parses the fieldValidation parameter', () => {
    assert.equal(parseFieldValidation(undefined, 'CreateOptions'), 'Warn');
    assert.equal(parseFieldValidation('Strict', 'PatchOptions'), 'Strict');
    const err = statusErrorOf(() => parseFieldValidation('strict', 'CreateOptions'));
    assert.equal(err.code, 422);
    assert.equal(err.message, 'CreateOptions.meta.k8s.io "" is invalid: fieldValidation: Unsupported value: "strict": supported values: "", "Ignore", "Strict", "Warn"');
  });

  it('formats Warning header values', () => {
    assert.equal(warningHeaderValue('unknown field "spec.foo"'), '299 - "unknown field \\"spec.foo\\""');
  });
});

describe('strictPatchCheck', () => {
  const patched = () => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'd' },
    spec: { foo: 1, template: { spec: { containers: [{ name: 'c', imagee: 'x' }] } } },
  });

  it('Warn: duplicates of the patch and unknown fields of the result; the result is pruned', () => {
    const object = patched();
    const warnings = strictPatchCheck(definition('apps', 'v1', 'Deployment'), object, {
      fieldValidation: 'Warn',
      patchType: 'application/merge-patch+json',
      patch: '{"spec":{"foo":1,"foo":1}}',
    });
    assert.deepEqual(warnings, ['duplicate field "spec.foo"', 'unknown field "spec.foo"', 'unknown field "spec.template.spec.containers[0].imagee"']);
    assert.deepEqual(object.spec, { template: { spec: { containers: [{ name: 'c' }] } } });
  });

  it('Strict: 422 on the patch, as patch.go words it', () => {
    const err = statusErrorOf(() =>
      strictPatchCheck(definition('apps', 'v1', 'Deployment'), patched(), {
        fieldValidation: 'Strict',
        patchType: 'application/strategic-merge-patch+json',
        patch: '{"spec":{"foo":1}}',
      }),
    );
    assert.equal(err.code, 422);
    assert.equal(
      err.message,
      ' "" is invalid: patch: Invalid value: "map[spec:map[foo:1]]": strict decoding error: unknown field "spec.foo", unknown field "spec.template.spec.containers[0].imagee"',
    );
    assert.deepEqual(err.toStatus().details?.causes?.[0]?.field, 'patch');
  });

  it('JSON patch: unknown operation fields', () => {
    const warnings = strictPatchCheck(definition('apps', 'v1', 'Deployment'), { metadata: { name: 'd' } }, {
      fieldValidation: 'Warn',
      patchType: 'application/json-patch+json',
      patch: '[{"op":"add","path":"/metadata/labels","value":{"a":"b"},"vaule":1}]',
    });
    assert.deepEqual(warnings, ['json patch unknown field "[0].vaule"']);
  });

  it('Ignore: no warnings, still pruned', () => {
    const object = patched();
    assert.deepEqual(strictPatchCheck(definition('apps', 'v1', 'Deployment'), object, { fieldValidation: 'Ignore', patchType: 'application/merge-patch+json', patch: '{}' }), []);
    assert.equal((object.spec as Record<string, unknown>).foo, undefined);
  });

  it('apply patches: duplicate YAML keys', () => {
    const def = definition('', 'v1', 'ConfigMap');
    const options = { patchType: 'application/apply-patch+yaml', patch: 'data:\n  a: "1"\n  a: "2"\n' } as const;
    assert.deepEqual(strictPatchCheck(def, {}, { ...options, fieldValidation: 'Warn' }), ['line 3: key "a" already set in map']);
    const err = statusErrorOf(() => strictPatchCheck(def, {}, { ...options, fieldValidation: 'Strict' }));
    assert.equal(err.message, 'error strict decoding YAML: error converting YAML to JSON: yaml: unmarshal errors:\n  line 3: key "a" already set in map');
  });
});
