import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import {
  SERVICE_ACCOUNT_MOUNT_PATH,
  admitIngressCreate,
  admitNodeCreate,
  admitPersistentVolumeClaimCreate,
  admitPersistentVolumeCreate,
  admitPodCreate,
  randomNameSuffix,
} from './admission.js';
import { defaulters } from './defaults.js';

type Obj = Record<string, unknown>;

/** A defaulted pod with the given spec fields. */
function pod(spec: Obj = {}, metadata: Obj = {}): KubeObject {
  const p = {
    metadata: { name: 'web', namespace: 'default', ...metadata },
    spec: { containers: [{ name: 'web', image: 'nginx' }], ...spec },
  } as KubeObject;
  defaulters['/Pod'](p);
  return p;
}

const fixed = { randomSuffix: () => 'abcde' };
const specOf = (obj: KubeObject) => obj.spec as Obj & { containers: Obj[]; volumes?: Obj[]; tolerations?: Obj[] };

/** The StatusError `fn` throws. */
function thrown(fn: () => void): StatusError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StatusError);
    return error;
  }
  assert.fail('expected a StatusError');
}

describe('ServiceAccount admission', () => {
  it('mounts the token of the default service account', () => {
    const p = pod();
    admitPodCreate(p, fixed);
    const spec = specOf(p);
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.serviceAccount, 'default');
    assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'kube-api-access-abcde', readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    assert.equal(spec.volumes?.[0].name, 'kube-api-access-abcde');
  });

  it('rejects pods whose service account does not exist', () => {
    const error = thrown(() => admitPodCreate(pod({ serviceAccountName: 'builder' }), { ...fixed, serviceAccount: null }));
    assert.equal(error.code, 403);
    assert.equal(error.message, 'pods "web" is forbidden: error looking up service account default/builder: serviceaccount "builder" not found');
  });

  it('honours automountServiceAccountToken on the pod, then on the service account', () => {
    const optedOut = pod({ automountServiceAccountToken: false });
    admitPodCreate(optedOut, fixed);
    assert.equal(specOf(optedOut).volumes, undefined);
    const saOptedOut = pod();
    admitPodCreate(saOptedOut, { ...fixed, serviceAccount: { metadata: { name: 'default' }, automountServiceAccountToken: false } });
    assert.equal(specOf(saOptedOut).volumes, undefined);
    const podWins = pod({ automountServiceAccountToken: true });
    admitPodCreate(podWins, { ...fixed, serviceAccount: { metadata: { name: 'default' }, automountServiceAccountToken: false } });
    assert.equal(specOf(podWins).volumes?.length, 1);
  });

  it('leaves containers that already mount the token path alone', () => {
    const p = pod({
      volumes: [{ name: 'own', emptyDir: {} }],
      containers: [{ name: 'web', image: 'nginx', volumeMounts: [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }],
    });
    admitPodCreate(p, fixed);
    assert.deepEqual(specOf(p).containers[0].volumeMounts, [{ name: 'own', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    assert.deepEqual(specOf(p).volumes?.map((v) => v.name), ['own']);
  });

  it('copies the service account image pull secrets', () => {
    const p = pod();
    admitPodCreate(p, { ...fixed, serviceAccount: { metadata: { name: 'default' }, imagePullSecrets: [{ name: 'registry' }] } });
    assert.deepEqual(specOf(p).imagePullSecrets, [{ name: 'registry' }]);
  });

  it('skips mirror pods', () => {
    const p = pod({ nodeName: 'node-1' }, { annotations: { 'kubernetes.io/config.mirror': 'hash' } });
    admitPodCreate(p, fixed);
    assert.equal(specOf(p).serviceAccountName, undefined);
    assert.equal(specOf(p).volumes, undefined);
  });

  it('generates five-character suffixes from the Kubernetes alphabet', () => {
    assert.match(randomNameSuffix(), /^[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});

describe('Priority admission', () => {
  it('resolves system and user priority classes', () => {
    const critical = pod({ priorityClassName: 'system-node-critical' });
    admitPodCreate(critical, fixed);
    assert.equal(specOf(critical).priority, 2000001000);
    const user = pod({ priorityClassName: 'high' });
    admitPodCreate(user, { ...fixed, priorityClasses: [{ metadata: { name: 'high' }, value: 1000, preemptionPolicy: 'Never' }] });
    assert.equal(specOf(user).priority, 1000);
    assert.equal(specOf(user).preemptionPolicy, 'Never');
  });

  it('applies the global default class', () => {
    const p = pod();
    admitPodCreate(p, { ...fixed, priorityClasses: [{ metadata: { name: 'base' }, value: 10, globalDefault: true }] });
    assert.equal(specOf(p).priorityClassName, 'base');
    assert.equal(specOf(p).priority, 10);
  });

  it('rejects unknown classes and conflicting priorities', () => {
    assert.equal(
      thrown(() => admitPodCreate(pod({ priorityClassName: 'missing' }), fixed)).message,
      'pods "web" is forbidden: no PriorityClass with name missing was found',
    );
    assert.equal(
      thrown(() => admitPodCreate(pod({ priority: 5 }), fixed)).message,
      'pods "web" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name',
    );
  });
});

describe('DefaultTolerationSeconds admission', () => {
  it('adds only the tolerations the pod does not have', () => {
    const p = pod({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] });
    admitPodCreate(p, fixed);
    assert.deepEqual(specOf(p).tolerations, [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ]);
  });

  it('adds nothing when the pod tolerates everything', () => {
    const p = pod({ tolerations: [{ operator: 'Exists' }] });
    admitPodCreate(p, fixed);
    assert.deepEqual(specOf(p).tolerations, [{ operator: 'Exists' }]);
  });
});

describe('LimitRanger admission', () => {
  it('fills in container defaults and records them in an annotation', () => {
    const limitRange = {
      metadata: { name: 'limits' },
      spec: { limits: [{ type: 'Container', default: { cpu: '500m' }, defaultRequest: { cpu: '100m', memory: '64Mi' } }] },
    };
    const p = pod();
    admitPodCreate(p, { ...fixed, limitRanges: [limitRange] });
    assert.deepEqual(specOf(p).containers[0].resources, { limits: { cpu: '500m' }, requests: { cpu: '100m', memory: '64Mi' } });
    assert.equal(p.metadata.annotations?.['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container web; cpu limit for container web');
  });
});

describe('admission for other kinds', () => {
  it('taints new nodes not-ready', () => {
    const node = { metadata: { name: 'n' } } as KubeObject;
    admitNodeCreate(node);
    assert.deepEqual(node.spec, { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }] });
  });

  it('gives claims the default storage class and protects claims and volumes', () => {
    const classes = [
      { metadata: { name: 'slow', annotations: { 'storageclass.kubernetes.io/is-default-class': 'false' } } },
      { metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } },
    ] as KubeObject[];
    const claim = { metadata: { name: 'c' }, spec: {} } as KubeObject;
    admitPersistentVolumeClaimCreate(claim, classes);
    assert.equal((claim.spec as Obj).storageClassName, 'local-path');
    assert.deepEqual(claim.metadata.finalizers, ['kubernetes.io/pvc-protection']);
    const explicit = { metadata: { name: 'c' }, spec: { storageClassName: '' } } as KubeObject;
    admitPersistentVolumeClaimCreate(explicit, classes);
    assert.equal((explicit.spec as Obj).storageClassName, '');
    const volume = { metadata: { name: 'pv' } } as KubeObject;
    admitPersistentVolumeCreate(volume);
    assert.deepEqual(volume.metadata.finalizers, ['kubernetes.io/pv-protection']);
  });

  it('gives ingresses the default class unless they chose one', () => {
    const classes = [{ metadata: { name: 'traefik', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } }] as KubeObject[];
    const ingress = { metadata: { name: 'i' }, spec: {} } as KubeObject;
    admitIngressCreate(ingress, classes);
    assert.equal((ingress.spec as Obj).ingressClassName, 'traefik');
    const annotated = { metadata: { name: 'i', annotations: { 'kubernetes.io/ingress.class': 'nginx' } }, spec: {} } as KubeObject;
    admitIngressCreate(annotated, classes);
    assert.equal((annotated.spec as Obj).ingressClassName, undefined);
  });
});
