import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import {
  PROTOBUF_MAGIC,
  ProtobufDecodeError,
  ProtobufEncodeError,
  decodeProtobufObject,
  encodeProtobufObject,
  hasProtobufForm,
  isProtobufContentType,
  protobufMessageName,
} from './codec.js';
import type { JsonObject } from './codec.js';
import { ProtoWriter, WireType } from './wire.js';

const SRC = new URL('../../../../src/api/protobuf/', import.meta.url);

interface CapturedRequest {
  command: string;
  method: string;
  path: string;
  query: string;
  contentType: string;
  body: string;
  kubectlJSON?: JsonObject;
}

const FIXTURES = JSON.parse(readFileSync(new URL('fixtures/kubectl-bodies.json', SRC), 'utf8')) as { kubectl: string; requests: CapturedRequest[] };

function captured(command: string): Buffer {
  const request = FIXTURES.requests.find((r) => r.command === command);
  assert.ok(request, `fixture for ${command}`);
  return Buffer.from(request.body, 'base64');
}

/** encode → decode; also checks that encoding the decoded form again gives the same bytes. */
function roundTrip(object: JsonObject): JsonObject {
  const apiVersion = object.apiVersion as string;
  const kind = object.kind as string;
  const body = encodeProtobufObject(object, apiVersion, kind);
  const decoded = decodeProtobufObject(body);
  assert.equal(decoded.apiVersion, apiVersion);
  assert.equal(decoded.kind, kind);
  assert.deepEqual(encodeProtobufObject(decoded.object, apiVersion, kind), body, 'stable re-encoding');
  return decoded.object;
}

/** A Go zero value as encoding/json writes it: null, "", 0, false, or a struct of zero values. */
function isGoZero(value: unknown): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(isGoZero);
}

/** Every value of `input` is in `output`, and whatever `output` adds is a Go zero value. */
function assertSameUpToGoZeros(output: unknown, input: unknown, path = ''): void {
  if (typeof input !== 'object' || input === null || typeof output !== 'object' || output === null) {
    assert.deepEqual(output, input, `at ${path || '.'}`);
    return;
  }
  if (Array.isArray(input)) {
    assert.ok(Array.isArray(output), `at ${path}: array expected`);
    assert.equal(output.length, input.length, `at ${path}: length`);
    input.forEach((item, i) => assertSameUpToGoZeros(output[i], item, `${path}[${i}]`));
    return;
  }
  const out = output as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (!(key in out) && isGoZero(value)) continue; // a non-pointer omitempty zero value, dropped as Go does
    assertSameUpToGoZeros(out[key], value, `${path}.${key}`);
  }
  for (const [key, value] of Object.entries(out)) {
    if (!(key in input)) assert.ok(isGoZero(value), `at ${path}.${key}: unexpected ${JSON.stringify(value)}`);
  }
}

/** Builds a protobuf message from [field, value] pairs: strings/bytes/nested arrays are length-delimited, numbers varints. */
type Part = [number, number | string | Uint8Array | Part[]];
function message(...parts: Part[]): Buffer {
  const w = new ProtoWriter();
  for (const [field, value] of parts) {
    if (typeof value === 'number') w.tag(field, WireType.Varint).signedVarint(value);
    else if (typeof value === 'string') w.tag(field, WireType.LengthDelimited).string(value);
    else if (value instanceof Uint8Array) w.tag(field, WireType.LengthDelimited).bytes(value);
    else w.tag(field, WireType.LengthDelimited).bytes(message(...value));
  }
  return Buffer.from(w.finish());
}

/** magic + runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, raw: Uint8Array): Buffer {
  return Buffer.concat([PROTOBUF_MAGIC, message([1, [[1, apiVersion], [2, kind]]], [2, raw], [3, ''], [4, ''])]);
}

function decodeErrorOf(body: Uint8Array): ProtobufDecodeError {
  try {
    decodeProtobufObject(body);
  } catch (err) {
    assert.ok(err instanceof ProtobufDecodeError, `expected a ProtobufDecodeError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ProtobufDecodeError');
}

describe('protobuf bodies captured from the real kubectl', () => {
  for (const request of FIXTURES.requests) {
    it(`${request.command}: decodes, and encodes back byte for byte`, () => {
      assert.equal(request.contentType, 'application/vnd.kubernetes.protobuf');
      const body = Buffer.from(request.body, 'base64');
      const { apiVersion, kind, object } = decodeProtobufObject(body);
      assert.deepEqual(encodeProtobufObject(object, apiVersion, kind), body);
      // kubectl's `--dry-run=client -o json` of the same command: the JSON form of the very same struct.
      if (request.kubectlJSON) assert.deepEqual(object, request.kubectlJSON);
    });
  }

  it('create namespace foo', () => {
    assert.deepEqual(decodeProtobufObject(captured('kubectl create namespace foo')), {
      apiVersion: 'v1',
      kind: 'Namespace',
      object: { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'foo', creationTimestamp: null }, spec: {}, status: {} },
    });
  });

  it('create configmap: data and binaryData (bytes → base64)', () => {
    const { object } = decodeProtobufObject(captured('kubectl create configmap cm --from-literal=a=b --from-file=blob=blob.bin'));
    assert.deepEqual(object.data, { a: 'b' });
    assert.deepEqual(object.binaryData, { blob: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x01, 0x7f]).toString('base64') });
  });

  it('create secret generic: data values are base64 strings', () => {
    const { object } = decodeProtobufObject(captured('kubectl create secret generic s --from-literal=password=s3cr3t --type=Opaque'));
    assert.deepEqual(object, {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's', creationTimestamp: null },
      data: { password: Buffer.from('s3cr3t').toString('base64') },
      type: 'Opaque',
    });
  });

  it('create deployment d --image=nginx --replicas=2', () => {
    const { object } = decodeProtobufObject(captured('kubectl create deployment d --image=nginx --replicas=2 --port=80'));
    assert.deepEqual(object, {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'd', creationTimestamp: null, labels: { app: 'd' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'd' } },
          spec: { containers: [{ name: 'nginx', image: 'nginx', ports: [{ containerPort: 80 }], resources: {} }] },
        },
        strategy: {},
      },
      status: {},
    });
  });

  it('create poddisruptionbudget --min-available=50%: IntOrString string', () => {
    const { object } = decodeProtobufObject(captured('kubectl create poddisruptionbudget pdb --selector=app=web --min-available=50%'));
    assert.equal((object.spec as JsonObject).minAvailable, '50%');
  });

  it('auth can-i get pods: SelfSubjectAccessReview', () => {
    assert.deepEqual(decodeProtobufObject(captured('kubectl auth can-i get pods')).object, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { resourceAttributes: { namespace: 'default', verb: 'get', resource: 'pods' } },
      status: { allowed: false },
    });
  });

  it('auth can-i with group, subresource and namespace', () => {
    const { object } = decodeProtobufObject(captured('kubectl auth can-i create deployments.apps --subresource=scale -n kube-system'));
    assert.deepEqual(object.spec, {
      resourceAttributes: { namespace: 'kube-system', verb: 'create', group: 'apps', resource: 'deployments', subresource: 'scale' },
    });
  });

  it('create token: TokenRequest (pointer fields, non-omitempty zero status)', () => {
    assert.deepEqual(decodeProtobufObject(captured('kubectl create token sa --duration=1h --audience=api')).object, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { audiences: ['api'], boundObjectRef: null, expirationSeconds: 3600 },
      status: { token: '', expirationTimestamp: null },
    });
  });
});

describe('round trips', () => {
  it('Namespace', () => {
    const ns = {
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: {
        name: 'team-a',
        uid: '6f1b7f7e-0000-4000-8000-000000000001',
        resourceVersion: '42',
        creationTimestamp: '2024-05-06T07:08:09Z',
        labels: { 'kubernetes.io/metadata.name': 'team-a', tier: 'gold' },
        annotations: { note: 'héllo ✓' },
        finalizers: ['example.com/keep'],
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    assert.deepEqual(roundTrip(ns), ns);
  });

  it('Pod: resources, IntOrString ports, env, inlined volume sources and probe handlers, times', () => {
    const pod = {
      kind: 'Pod',
      apiVersion: 'v1',
      metadata: {
        name: 'web-0',
        namespace: 'default',
        creationTimestamp: '2024-01-02T03:04:05Z',
        deletionTimestamp: '2024-01-02T04:00:00Z',
        deletionGracePeriodSeconds: 30,
        generation: 1,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-5d4f', uid: 'u-1', controller: true, blockOwnerDeletion: true }],
        managedFields: [
          {
            manager: 'kubectl',
            operation: 'Update',
            apiVersion: 'v1',
            time: '2024-01-02T03:04:05Z',
            fieldsType: 'FieldsV1',
            fieldsV1: { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } } },
          },
        ],
      },
      spec: {
        volumes: [
          { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
          { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a', path: 'a.txt', mode: 256 }], defaultMode: 420 } },
          { name: 'sec', secret: { secretName: 's', optional: false } },
          { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
        ],
        initContainers: [{ name: 'init', image: 'busybox', command: ['sh', '-c', 'true'], resources: {} }],
        containers: [
          {
            name: 'app',
            image: 'nginx:1.27',
            args: ['--port', '8080'],
            ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
            env: [
              { name: 'PLAIN', value: 'v' },
              { name: 'EMPTY', value: '' },
              { name: 'POD', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
              { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            ],
            resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m', memory: '64Mi' } },
            volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', readOnly: true, mountPath: '/etc/cfg' }],
            livenessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 10 },
            readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, initialDelaySeconds: 5, failureThreshold: 3 },
            lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
            imagePullPolicy: 'IfNotPresent',
            securityContext: { runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          },
        ],
        restartPolicy: 'Always',
        terminationGracePeriodSeconds: 30,
        dnsPolicy: 'ClusterFirst',
        nodeSelector: { 'kubernetes.io/os': 'linux' },
        serviceAccountName: 'default',
        automountServiceAccountToken: false,
        nodeName: 'node-1',
        securityContext: { fsGroup: 2000 },
        priority: -5,
        tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }],
        affinity: {
          podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
              { weight: 100, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] }, topologyKey: 'kubernetes.io/hostname' } },
            ],
          },
        },
      },
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-01-02T03:05:00Z' }],
        hostIP: '10.0.0.1',
        hostIPs: [{ ip: '10.0.0.1' }],
        podIP: '10.244.0.5',
        podIPs: [{ ip: '10.244.0.5' }, { ip: 'fd00::5' }],
        startTime: '2024-01-02T03:04:06Z',
        containerStatuses: [
          {
            name: 'app',
            state: { running: { startedAt: '2024-01-02T03:04:30Z' } },
            lastState: {},
            ready: true,
            restartCount: 0,
            image: 'nginx:1.27',
            imageID: 'docker.io/library/nginx@sha256:abc',
            containerID: 'containerd://123',
            started: true,
          },
        ],
        qosClass: 'Burstable',
      },
    };
    const out = roundTrip(pod);
    assertSameUpToGoZeros(out, pod);
    const spec = out.spec as JsonObject;
    const container = (spec.containers as JsonObject[])[0]!;
    // Inlined embedded structs (VolumeSource, ProbeHandler) are flat in JSON, as in Go.
    assert.deepEqual((spec.volumes as JsonObject[])[0], { name: 'data', emptyDir: { sizeLimit: '1Gi' } });
    assert.deepEqual((container.readinessProbe as JsonObject).httpGet, { path: '/healthz', port: 'http', scheme: 'HTTP' });
    assert.deepEqual((container.livenessProbe as JsonObject).tcpSocket, { port: 8080 });
    // Pointer fields keep zero values; non-pointer omitempty ones drop them.
    assert.equal(spec.automountServiceAccountToken, false);
    assert.equal(spec.priority, -5);
    assert.equal((out.status as JsonObject).containerStatuses && ((out.status as JsonObject).containerStatuses as JsonObject[])[0]!.restartCount, 0);
    assert.deepEqual((container.env as JsonObject[])[1], { name: 'EMPTY' }); // value "" is omitempty
  });

  it('Deployment: strategy with IntOrString maxSurge "25%" and maxUnavailable 1, replicas 0 kept', () => {
    const deployment = {
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'web', namespace: 'prod', creationTimestamp: null, labels: { app: 'web' }, annotations: { 'deployment.kubernetes.io/revision': '3' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', resources: {} }] } },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      },
      status: {
        observedGeneration: 4,
        replicas: 3,
        updatedReplicas: 3,
        readyReplicas: 3,
        availableReplicas: 3,
        conditions: [
          {
            type: 'Available',
            status: 'True',
            lastUpdateTime: '2024-03-01T10:00:00Z',
            lastTransitionTime: '2024-03-01T10:00:00Z',
            reason: 'MinimumReplicasAvailable',
            message: 'Deployment has minimum availability.',
          },
        ],
      },
    };
    assert.deepEqual(roundTrip(deployment), deployment);
  });

  it('ConfigMap: map data and binaryData bytes (base64 in JSON)', () => {
    const cm = {
      kind: 'ConfigMap',
      apiVersion: 'v1',
      metadata: { name: 'settings', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' },
      data: { 'app.properties': 'a=1\nb=2\n', empty: '' },
      binaryData: { 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]).toString('base64'), none: '' },
      immutable: false,
    };
    assert.deepEqual(roundTrip(cm), cm);
  });

  it('Secret: data bytes → base64 strings, stringData, type', () => {
    const secret = {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 'creds', namespace: 'default', creationTimestamp: null },
      data: { username: Buffer.from('admin').toString('base64'), key: Buffer.from([0, 1, 2, 253, 254, 255]).toString('base64') },
      stringData: { extra: 'plain' },
      type: 'kubernetes.io/basic-auth',
    };
    assert.deepEqual(roundTrip(secret), secret);
  });

  it('Service: ports with named and numeric targetPort, clusterIPs, externalIPs, status', () => {
    const svc = {
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'web', namespace: 'default', creationTimestamp: null },
      spec: {
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http', nodePort: 30080 },
          { name: 'metrics', protocol: 'TCP', port: 9090, targetPort: 9090 },
        ],
        selector: { app: 'web' },
        clusterIP: '10.96.0.10',
        clusterIPs: ['10.96.0.10', 'fd00::10'],
        type: 'LoadBalancer',
        externalIPs: ['192.0.2.1'],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: 31000,
        ipFamilies: ['IPv4', 'IPv6'],
        ipFamilyPolicy: 'PreferDualStack',
        allocateLoadBalancerNodePorts: true,
        internalTrafficPolicy: 'Cluster',
      },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.7', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] } },
    };
    assert.deepEqual(roundTrip(svc), svc);
  });

  it('SelfSubjectAccessReview with status', () => {
    const ssar = {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: { nonResourceAttributes: { path: '/healthz', verb: 'get' } },
      status: { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "system:public-info-viewer"' },
    };
    assert.deepEqual(roundTrip(ssar), ssar);
  });

  it('SubjectAccessReview: extra (map of named string slices), groups', () => {
    const sar = {
      kind: 'SubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: {
        resourceAttributes: { namespace: 'ns', verb: 'list', resource: 'pods' },
        user: 'alice',
        groups: ['devs', 'system:authenticated'],
        extra: { scopes: ['a', 'b'], empty: [] },
        uid: 'u-1',
      },
      status: { allowed: false, denied: true },
    };
    assert.deepEqual(roundTrip(sar), sar);
  });

  it('events.k8s.io Event: MicroTime keeps microseconds, metav1.Time whole seconds', () => {
    const event = {
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { name: 'e1', namespace: 'default', creationTimestamp: null },
      eventTime: '2024-01-02T03:04:05.123456Z',
      reportingController: 'pilote/scheduler',
      reportingInstance: 'pilote-1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Pod', namespace: 'default', name: 'web-0' },
      note: 'assigned',
      type: 'Normal',
      deprecatedSource: {},
      deprecatedFirstTimestamp: '2024-01-02T05:04:05+02:00',
      deprecatedLastTimestamp: '2024-01-02T03:04:05.999Z',
      deprecatedCount: 1,
    };
    const out = roundTrip(event);
    assert.equal(out.eventTime, '2024-01-02T03:04:05.123456Z');
    assert.equal(out.deprecatedFirstTimestamp, '2024-01-02T03:04:05Z'); // normalized to UTC
    assert.equal(out.deprecatedLastTimestamp, '2024-01-02T03:04:05Z'); // Time truncates to seconds, as Go does
  });

  it('Role without rules: a nil slice without omitempty is null, as kubectl sends it', () => {
    const out = roundTrip({ kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'r' } });
    assert.deepEqual(out, { kind: 'Role', apiVersion: 'rbac.authorization.k8s.io/v1', metadata: { name: 'r', creationTimestamp: null }, rules: null });
  });

  it('ResourceQuota: map<string, Quantity>', () => {
    const quota = {
      kind: 'ResourceQuota',
      apiVersion: 'v1',
      metadata: { name: 'q', creationTimestamp: null },
      spec: { hard: { cpu: '2', memory: '4Gi', 'requests.nvidia.com/gpu': '1' } },
      status: { hard: { cpu: '2' }, used: { cpu: '500m' } },
    };
    assert.deepEqual(roundTrip(quota), quota);
  });

  it('a Quantity written as a JSON number is encoded as its string', () => {
    const out = roundTrip({ kind: 'ResourceQuota', apiVersion: 'v1', metadata: { name: 'q' }, spec: { hard: { pods: 10 } } });
    assert.deepEqual((out.spec as JsonObject).hard, { pods: '10' });
  });

  it('lists: PodList with ListMeta (large int64 remainingItemCount)', () => {
    const list = {
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: '100', continue: 'token', remainingItemCount: 2 ** 40 },
      items: [{ metadata: { name: 'a', creationTimestamp: null }, spec: { containers: null }, status: {} }],
    };
    assert.deepEqual(roundTrip(list), list);
  });

  it('Status (v1) and DeleteOptions in any group version', () => {
    const status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'pods' },
      code: 404,
    };
    assert.deepEqual(roundTrip(status), status);
    const options = { kind: 'DeleteOptions', apiVersion: 'apps/v1', gracePeriodSeconds: 0, propagationPolicy: 'Foreground', dryRun: ['All'] };
    assert.deepEqual(roundTrip(options), options);
  });

  it('PriorityClass: negative int32 (10-byte varint, as Go writes it)', () => {
    const pc = { kind: 'PriorityClass', apiVersion: 'scheduling.k8s.io/v1', metadata: { name: 'low', creationTimestamp: null }, value: -100, preemptionPolicy: 'Never' };
    assert.deepEqual(roundTrip(pc), pc);
    const raw = encodeProtobufObject(pc, 'scheduling.k8s.io/v1', 'PriorityClass');
    assert.ok(raw.includes(Buffer.from([0x10, 0x9c, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])));
  });

  it('Job with podFailurePolicy (repeated int32) and Go zero values', () => {
    const job = {
      kind: 'Job',
      apiVersion: 'batch/v1',
      metadata: { name: 'j', creationTimestamp: null },
      spec: {
        backoffLimit: 0,
        template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'c', image: 'busybox', resources: {} }], restartPolicy: 'Never' } },
        podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { operator: 'In', values: [1, 2, 42] } }] },
      },
      status: {},
    };
    assert.deepEqual(roundTrip(job), job);
  });

  it('WatchEvent: a RawExtension holding JSON, or a nested protobuf object', () => {
    const pod = { kind: 'Pod', apiVersion: 'v1', metadata: { name: 'p', creationTimestamp: null }, spec: { containers: null }, status: {} };
    assert.deepEqual(roundTrip({ kind: 'WatchEvent', apiVersion: 'v1', type: 'ADDED', object: pod }), { kind: 'WatchEvent', apiVersion: 'v1', type: 'ADDED', object: pod });
    const nested = envelope('meta.k8s.io/v1', 'WatchEvent', message([1, 'MODIFIED'], [2, [[1, encodeProtobufObject(pod, 'v1', 'Pod')]]]));
    assert.deepEqual(decodeProtobufObject(nested).object, { kind: 'WatchEvent', apiVersion: 'meta.k8s.io/v1', type: 'MODIFIED', object: pod });
  });
});

describe('decoding details', () => {
  it('skips unknown fields of every wire type (newer clients)', () => {
    const w = new ProtoWriter();
    w.tag(1, WireType.LengthDelimited).bytes(message([1, 'x']));
    w.tag(90, WireType.Varint).varint(7);
    w.tag(91, WireType.Fixed64).fixed64(1);
    w.tag(92, WireType.Fixed32).fixed32(1);
    w.tag(93, WireType.LengthDelimited).string('future');
    const { object } = decodeProtobufObject(envelope('v1', 'Namespace', w.finish()));
    assert.deepEqual(object, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'x', creationTimestamp: null }, spec: {}, status: {} });
  });

  it('accepts packed repeated scalars', () => {
    const packed = new ProtoWriter();
    for (const v of [1, 2, 300]) packed.varint(v);
    const requirement = new ProtoWriter();
    requirement.tag(2, WireType.LengthDelimited).string('In');
    requirement.tag(3, WireType.LengthDelimited).bytes(packed.finish());
    const raw = message([2, [[11, [[1, [[1, 'FailJob'], [2, requirement.finish()]]]]]]]);
    const { object } = decodeProtobufObject(envelope('batch/v1', 'Job', raw));
    const rule = (((object.spec as JsonObject).podFailurePolicy as JsonObject).rules as JsonObject[])[0]!;
    assert.deepEqual(rule.onExitCodes, { operator: 'In', values: [1, 2, 300] });
  });

  it('an empty Time message (what kubectl sends for creationTimestamp) is null; the Go zero time too', () => {
    const empty = decodeProtobufObject(envelope('v1', 'Namespace', message([1, [[1, 'a'], [8, []]]])));
    assert.equal((empty.object.metadata as JsonObject).creationTimestamp, null);
    const zero = decodeProtobufObject(envelope('v1', 'Namespace', message([1, [[1, 'a'], [8, [[1, -62135596800]]]]])));
    assert.equal((zero.object.metadata as JsonObject).creationTimestamp, null);
    const epoch = decodeProtobufObject(envelope('v1', 'Namespace', message([1, [[1, 'a'], [8, [[2, 0]]]]])));
    assert.equal((epoch.object.metadata as JsonObject).creationTimestamp, '1970-01-01T00:00:00Z');
  });

  it('repeated occurrences of a message field merge, as protobuf specifies', () => {
    const raw = message([1, [[1, 'a']]], [1, [[3, 'ns']]]);
    assert.deepEqual(decodeProtobufObject(envelope('v1', 'ConfigMap', raw)).object.metadata, { name: 'a', namespace: 'ns', creationTimestamp: null });
  });

  it('non-omitempty fields absent from the wire get Go zero values', () => {
    const { object } = decodeProtobufObject(envelope('rbac.authorization.k8s.io/v1', 'RoleBinding', message([1, [[1, 'rb']]])));
    assert.deepEqual(object.roleRef, { apiGroup: '', kind: '', name: '' });
  });
});

describe('malformed input', () => {
  const namespace = captured('kubectl create namespace foo');

  it('bad magic, or too short for it', () => {
    assert.match(decodeErrorOf(Buffer.from('{"kind":"Namespace"}')).message, /expected prefix \[107 56 115 0\]/);
    decodeErrorOf(Buffer.alloc(0));
    decodeErrorOf(Buffer.from('k8s'));
  });

  it('a truncated varint', () => {
    assert.match(decodeErrorOf(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x0a, 0x80])])).message, /truncated varint/);
  });

  it('a length past the end', () => {
    assert.match(decodeErrorOf(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x12, 0x10, 0x01])])).message, /runs past the end/);
  });

  it('a varint longer than 10 bytes', () => {
    assert.match(decodeErrorOf(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x28, ...Array(10).fill(0xff), 0x01])])).message, /varint/);
  });

  it('wrong wire types, in the envelope and in the object', () => {
    assert.match(decodeErrorOf(Buffer.concat([PROTOBUF_MAGIC, Buffer.from([0x08, 0x01])])).message, /runtime.Unknown field 1: wire type 0/);
    const err = decodeErrorOf(envelope('v1', 'Namespace', Buffer.from([0x08, 0x01])));
    assert.match(err.message, /k8s\.io\.api\.core\.v1\.Namespace\.metadata: wrong wire type 0/);
    decodeErrorOf(envelope('v1', 'Namespace', message([1, [[7, 'not a varint']]])));
  });

  it('deprecated group wire types', () => {
    assert.match(decodeErrorOf(envelope('v1', 'Namespace', Buffer.from([0x7b]))).message, /unsupported wire type 3/);
  });

  it('an unknown or missing kind', () => {
    assert.equal(decodeErrorOf(envelope('v1', 'Frobnicator', Buffer.alloc(0))).message, 'no kind "Frobnicator" is registered for version "v1"');
    assert.match(decodeErrorOf(envelope('example.com/v1', 'Namespace', Buffer.alloc(0))).message, /no kind "Namespace" is registered for version "example.com\/v1"/);
    assert.match(decodeErrorOf(Buffer.concat([PROTOBUF_MAGIC, message([2, 'x'])])).message, /Kind/);
  });

  it('an impossible IntOrString type and an empty Quantity', () => {
    const pdb = (minAvailable: Part[]) => envelope('policy/v1', 'PodDisruptionBudget', message([2, [[1, minAvailable]]]));
    assert.match(decodeErrorOf(pdb([[1, 2]])).message, /IntOrString/);
    assert.deepEqual((decodeProtobufObject(pdb([[1, 1], [3, '10%']])).object.spec as JsonObject).minAvailable, '10%');
    const quota = envelope('v1', 'ResourceQuota', message([2, [[1, [[1, 'cpu'], [2, [[1, '']]]]]]]));
    assert.match(decodeErrorOf(quota).message, /quantities must match/);
  });

  it('embedded bytes that are neither JSON nor protobuf', () => {
    const event = envelope('meta.k8s.io/v1', 'WatchEvent', message([1, 'ADDED'], [2, [[1, 'not json']]]));
    assert.match(decodeErrorOf(event).message, /neither JSON nor a protobuf object/);
  });

  it('objects nested past the depth limit fail cleanly (no stack overflow)', () => {
    let body = encodeProtobufObject({ metadata: { name: 'p' } }, 'v1', 'Pod');
    for (let i = 0; i < 300; i++) body = envelope('meta.k8s.io/v1', 'WatchEvent', message([1, 'ADDED'], [2, [[1, body]]]));
    assert.match(decodeErrorOf(body).message, /deeper than/);
  });

  it('every truncation and byte corruption of a real body either decodes or throws ProtobufDecodeError', () => {
    const bodies = FIXTURES.requests.map((r) => Buffer.from(r.body, 'base64'));
    let seed = 42;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let failures = 0;
    const attempt = (body: Buffer): void => {
      try {
        decodeProtobufObject(body);
      } catch (err) {
        if (!(err instanceof ProtobufDecodeError)) throw err;
        failures++;
      }
    };
    for (const body of bodies) {
      for (let cut = 0; cut < body.length; cut++) attempt(body.subarray(0, cut));
      for (let i = 0; i < 200; i++) {
        const corrupt = Buffer.from(body);
        corrupt[4 + random(corrupt.length - 4)] = random(256);
        attempt(corrupt);
      }
    }
    assert.ok(failures > 0);
    assert.ok(decodeErrorOf(namespace.subarray(0, namespace.length - 3)));
  });
});

describe('encoding errors', () => {
  it('a kind without a message', () => {
    assert.throws(() => encodeProtobufObject({}, 'v1', 'Frobnicator'), ProtobufEncodeError);
    assert.throws(() => encodeProtobufObject({}, 'meta.k8s.io/v1', 'Table'), ProtobufEncodeError);
  });

  it('values of the wrong type name their path', () => {
    assert.throws(() => encodeProtobufObject({ metadata: { name: 5 } }, 'v1', 'Namespace'), /Namespace\.metadata\.name: expected string, got number/);
    assert.throws(() => encodeProtobufObject({ spec: { replicas: 1.5 } }, 'apps/v1', 'Deployment'), /Deployment\.spec\.replicas: expected integer/);
    assert.throws(() => encodeProtobufObject({ spec: { replicas: 2 ** 31 } }, 'apps/v1', 'Deployment'), /out of range for int32/);
    assert.throws(() => encodeProtobufObject({ metadata: { labels: ['a'] } }, 'v1', 'Pod'), /Pod\.metadata\.labels: expected object/);
    assert.throws(() => encodeProtobufObject({ metadata: { creationTimestamp: 'yesterday' } }, 'v1', 'Pod'), /not an RFC 3339 time/);
    assert.throws(() => encodeProtobufObject({ data: { k: 1 } }, 'v1', 'Secret'), /Secret\.data\[k\]: expected base64 string/);
  });
});

describe('the message table', () => {
  const SERVED: Array<[string, string]> = [
    ...['Namespace', 'Pod', 'Node', 'Service', 'Endpoints', 'ConfigMap', 'Secret', 'Event', 'ServiceAccount', 'PersistentVolume', 'PersistentVolumeClaim', 'LimitRange', 'ResourceQuota', 'Binding', 'PodList', 'Status'].map(
      (k): [string, string] => ['v1', k],
    ),
    ...['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'DeleteOptions'].map((k): [string, string] => ['apps/v1', k]),
    ['batch/v1', 'Job'],
    ['batch/v1', 'CronJob'],
    ['networking.k8s.io/v1', 'Ingress'],
    ['networking.k8s.io/v1', 'IngressClass'],
    ['networking.k8s.io/v1', 'NetworkPolicy'],
    ...['Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].map((k): [string, string] => ['rbac.authorization.k8s.io/v1', k]),
    ['coordination.k8s.io/v1', 'Lease'],
    ['discovery.k8s.io/v1', 'EndpointSlice'],
    ['events.k8s.io/v1', 'Event'],
    ['storage.k8s.io/v1', 'StorageClass'],
    ['autoscaling/v2', 'HorizontalPodAutoscaler'],
    ['autoscaling/v1', 'Scale'],
    ...['SelfSubjectAccessReview', 'SubjectAccessReview', 'SelfSubjectRulesReview', 'LocalSubjectAccessReview'].map((k): [string, string] => ['authorization.k8s.io/v1', k]),
    ['authentication.k8s.io/v1', 'TokenRequest'],
    ['policy/v1', 'PodDisruptionBudget'],
    ['policy/v1', 'Eviction'],
    ['scheduling.k8s.io/v1', 'PriorityClass'],
  ];

  it('has a message for every kind Pilote serves', () => {
    for (const [apiVersion, kind] of SERVED) assert.ok(hasProtobufForm(apiVersion, kind), `${apiVersion} ${kind}`);
    assert.equal(protobufMessageName('v1', 'Pod'), 'k8s.io.api.core.v1.Pod');
    assert.equal(protobufMessageName('batch/v1', 'DeleteOptions'), 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions');
    assert.equal(protobufMessageName('apps/v1', 'Status'), undefined);
  });

  it('recognizes the protobuf media type', () => {
    assert.ok(isProtobufContentType('application/vnd.kubernetes.protobuf'));
    assert.ok(isProtobufContentType('Application/Vnd.Kubernetes.Protobuf; charset=binary'));
    assert.ok(!isProtobufContentType('application/vnd.kubernetes.protobuf;stream=watch'.replace('protobuf', 'protobuff')));
    assert.ok(!isProtobufContentType('application/json'));
    assert.ok(!isProtobufContentType(undefined));
  });
});

// Kubernetes' own round-trip data (kubernetes/api testdata/HEAD/<group>.<version>.<Kind>.{pb,json}:
// every field set, encoded by Go). Not committed here; point PILOTE_K8S_API_REPO at a checkout
// or bare clone of kubernetes/api to run it.
describe('conformance with kubernetes/api testdata', () => {
  const repo = process.env.PILOTE_K8S_API_REPO;
  const table = JSON.parse(readFileSync(new URL('messages.json', SRC), 'utf8')) as { source: Record<string, string> };
  const ref = table.source['kubernetes/api']!.split(' ')[0]!;
  it('decodes every .pb to its .json and encodes every .json to its .pb', { skip: repo ? false : 'set PILOTE_K8S_API_REPO to run' }, () => {
    const git = (...args: string[]): Buffer => execFileSync('git', [`--git-dir=${repo}`, ...args], { maxBuffer: 1 << 28 });
    const files = git('ls-tree', '--name-only', `${ref}:testdata/HEAD/`).toString().split('\n').filter((f) => f.endsWith('.pb'));
    let checked = 0;
    for (const file of files) {
      const json = JSON.parse(git('show', `${ref}:testdata/HEAD/${file.replace(/\.pb$/, '.json')}`).toString()) as JsonObject;
      const apiVersion = json.apiVersion as string;
      const kind = json.kind as string;
      if (!hasProtobufForm(apiVersion, kind)) continue;
      const pb = git('show', `${ref}:testdata/HEAD/${file}`);
      assert.ok(isDeepStrictEqual(decodeProtobufObject(pb).object, json), `${file} decodes to its JSON`);
      assert.deepEqual(encodeProtobufObject(json, apiVersion, kind), pb, `${file} encodes to its protobuf`);
      checked++;
    }
    assert.ok(checked > 50, `checked ${checked} kinds`);
  });
});
