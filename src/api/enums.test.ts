import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { describeEnum, fieldEnum, withEnums } from './enums.js';
import { openapiV3Document } from './openapi.js';

describe('enum fields', () => {
  it('knows the +enum fields of the built-in kinds', () => {
    assert.deepEqual(fieldEnum('io.k8s.api.core.v1.PodSpec', 'restartPolicy')?.values, ['Always', 'Never', 'OnFailure']);
    assert.deepEqual(fieldEnum('io.k8s.api.core.v1.Container', 'imagePullPolicy')?.values, ['Always', 'IfNotPresent', 'Never']);
    assert.deepEqual(fieldEnum('io.k8s.api.apps.v1.DeploymentStrategy', 'type')?.values, ['Recreate', 'RollingUpdate']);
    assert.deepEqual(fieldEnum('io.k8s.api.core.v1.ServiceSpec', 'type')?.values, ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort']);
    // A list of an enum type gets nothing, as in openapi-gen.
    assert.equal(fieldEnum('io.k8s.api.core.v1.PersistentVolumeClaimSpec', 'accessModes'), undefined);
    assert.equal(fieldEnum('io.k8s.api.core.v1.PodSpec', 'hostname'), undefined);
  });

  it('appends "Possible enum values" as openapi-gen does', () => {
    const preemption = fieldEnum('io.k8s.api.core.v1.PodSpec', 'preemptionPolicy')!;
    assert.equal(
      describeEnum('PreemptionPolicy is the Policy for preempting pods with lower priority.', preemption),
      'PreemptionPolicy is the Policy for preempting pods with lower priority.\n\nPossible enum values:\n' +
        ' - `"Never"` means that pod never preempts other pods with lower priority.\n' +
        ' - `"PreemptLowerPriority"` means that pod can preempt other pods with lower priority.',
    );
    // Values without a comment have no trailing space; no description leaves the paragraph alone.
    assert.equal(describeEnum(undefined, fieldEnum('io.k8s.api.core.v1.PodSpec', 'restartPolicy')!), 'Possible enum values:\n - `"Always"`\n - `"Never"`\n - `"OnFailure"`');
  });

  it('completes schemas and the OpenAPI documents', () => {
    const schema = { properties: { dnsPolicy: { description: 'DNS.', type: 'string' }, hostname: { type: 'string' } }, type: 'object' };
    const out = withEnums('io.k8s.api.core.v1.PodSpec', schema) as { properties: Record<string, Record<string, unknown>> };
    assert.deepEqual(out.properties.dnsPolicy!.enum, ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None']);
    assert.match(out.properties.dnsPolicy!.description as string, /^DNS\.\n\nPossible enum values:\n - `"ClusterFirst"` indicates/);
    assert.deepEqual(out.properties.hostname, { type: 'string' });
    assert.deepEqual(schema.properties.dnsPolicy, { description: 'DNS.', type: 'string' }, 'the input is not modified');
    const core = openapiV3Document('api/v1', [{ group: '', version: 'v1', kind: 'Pod', resource: 'pods', namespaced: true, subresources: [] }]) as {
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    };
    const ports = core.components.schemas['io.k8s.api.core.v1.ContainerPort']!.properties.protocol!;
    assert.deepEqual(ports.enum, ['SCTP', 'TCP', 'UDP']);
    assert.match(ports.description as string, /Defaults to "TCP"\.\n\nPossible enum values:\n - `"SCTP"` is the SCTP protocol\./);
  });
});
