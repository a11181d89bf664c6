import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { invalid } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { admitPodCreate } from './admission.js';
import { defaulters, prepareJobForCreate } from './defaults.js';
import { cronScheduleError, validators } from './validation.js';

type Obj = Record<string, unknown>;

/** The object as the store validates it: decoded, then defaulted. */
function defaulted(kindKey: string, obj: Obj): KubeObject {
  const copy = structuredClone(obj) as KubeObject;
  copy.metadata ??= {};
  defaulters[kindKey]?.(copy);
  return copy;
}

/** Messages of validating `obj` (defaulted first) as a new object of `kindKey`. */
function createErrors(kindKey: string, obj: Obj): string[] {
  const validator = validators[kindKey];
  assert.ok(validator, `no validator for ${kindKey}`);
  return validator.validate(defaulted(kindKey, obj)).map((e) => e.message);
}

/** Messages of updating `old` (taken as stored) to `next` (defaulted first). */
function updateErrors(kindKey: string, next: Obj, old: KubeObject): string[] {
  const validator = validators[kindKey];
  assert.ok(validator?.validateUpdate, `no update validator for ${kindKey}`);
  return validator.validateUpdate(defaulted(kindKey, next), old).map((e) => e.message);
}

const meta = (name: string, namespace = 'default') => ({ name, namespace });

/** What `kubectl run web --image=nginx` sends. */
function pod(overrides: Obj = {}, containers: Obj[] = [{ name: 'web', image: 'nginx' }]): Obj {
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta('web'), spec: { containers, ...overrides } };
}

/** A pod as stored: defaulted and admitted. */
function storedPod(obj: Obj = pod()): KubeObject {
  const p = defaulted('/Pod', obj);
  admitPodCreate(p, { randomSuffix: () => 'abcde' });
  return p;
}

function deployment(spec: Obj = {}): Obj {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('redis'),
    spec: {
      selector: { matchLabels: { app: 'redis' } },
      template: { metadata: { labels: { app: 'redis' } }, spec: { containers: [{ name: 'redis', image: 'redis:alpine' }] } },
      ...spec,
    },
  };
}

describe('validators registry', () => {
  it('has a validator for every kind that has a defaulter', () => {
    for (const kindKey of Object.keys(defaulters)) assert.ok(validators[kindKey], `missing validator for ${kindKey}`);
  });
});

describe('Pod', () => {
  it('accepts what kubectl run sends once defaulted and admitted', () => {
    const p = storedPod();
    assert.deepEqual(validators['/Pod'].validate(p), []);
  });

  it('requires containers', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [])), ['spec.containers: Required value']);
    assert.deepEqual(createErrors('/Pod', { metadata: meta('web') }), ['spec.containers: Required value']);
  });

  it('checks container names and images', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'My_App', image: 'nginx' }])), [
      `spec.containers[0].name: Invalid value: "My_App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    ]);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ image: 'nginx' }])), ['spec.containers[0].name: Required value']);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web' }])), ['spec.containers[0].image: Required value']);
    assert.deepEqual(
      createErrors('/Pod', pod({}, [
        { name: 'web', image: 'nginx' },
        { name: 'web', image: 'busybox' },
      ])),
      ['spec.containers[1].name: Duplicate value: "web"'],
    );
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: ' nginx' }])), [
      'spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace',
    ]);
  });

  it('checks ports', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', ports: [{ containerPort: 70000 }] }])), [
      'spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, protocol: 'HTTP' }] }])), [
      'spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', ports: [{}] }])), [
      'spec.containers[0].ports[0].containerPort: Required value',
    ]);
    assert.deepEqual(
      createErrors('/Pod', pod({}, [
        { name: 'a', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] },
        { name: 'b', image: 'nginx', ports: [{ containerPort: 81, hostPort: 8080 }] },
      ])),
      ['spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//8080"'],
    );
  });

  it('checks enums: restartPolicy, dnsPolicy, imagePullPolicy', () => {
    assert.deepEqual(createErrors('/Pod', pod({ restartPolicy: 'Sometimes' })), [
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({ dnsPolicy: 'Google' })), [
      'spec.dnsPolicy: Unsupported value: "Google": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', imagePullPolicy: 'Sometimes' }])), [
      'spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never"',
    ]);
  });

  it('checks resources: names, quantities and requests <= limits', () => {
    const resources = (r: Obj) => pod({}, [{ name: 'web', image: 'nginx', resources: r }]);
    assert.deepEqual(createErrors('/Pod', resources({ requests: { cpu: '1' }, limits: { cpu: '500m' } })), [
      'spec.containers[0].resources.requests: Invalid value: "1": must be less than or equal to cpu limit of 500m',
    ]);
    assert.deepEqual(createErrors('/Pod', resources({ limits: { cpu: '-1' } })), [
      'spec.containers[0].resources.limits[cpu]: Invalid value: "-1": must be greater than or equal to 0',
      // Pod defaulting copies limits into requests.
      'spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0',
    ]);
    assert.deepEqual(createErrors('/Pod', resources({ limits: { cpus: '1' } })), [
      'spec.containers[0].resources.limits[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.limits[cpus]: Invalid value: "cpus": must be a standard resource for containers',
      'spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource type or fully qualified',
      'spec.containers[0].resources.requests[cpus]: Invalid value: "cpus": must be a standard resource for containers',
    ]);
    assert.deepEqual(createErrors('/Pod', resources({ requests: { 'example.com/gpu': '1' } })), [
      'spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources',
    ]);
    assert.match(createErrors('/Pod', resources({ requests: { memory: '12XB' } }))[0], /^spec\.containers\[0\]\.resources\.requests\[memory\]: Invalid value: "12XB": /);
  });

  it('checks volumes and volume mounts', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/data' }] }])), [
      'spec.containers[0].volumeMounts[0].name: Not found: "data"',
    ]);
    assert.deepEqual(
      createErrors('/Pod', pod({ volumes: [{ name: 'data', emptyDir: {} }, { name: 'data', emptyDir: {} }] })),
      ['spec.volumes[1].name: Duplicate value: "data"'],
    );
    assert.deepEqual(createErrors('/Pod', pod({ volumes: [{ name: 'cfg', configMap: {} }] })), ['spec.volumes[0].configMap.name: Required value']);
    assert.deepEqual(createErrors('/Pod', pod({ volumes: [{ name: 'both', emptyDir: {}, hostPath: { path: '/tmp' } }] })), [
      'spec.volumes[0].hostPath: Forbidden: may not specify more than 1 volume type',
    ]);
    assert.deepEqual(
      createErrors('/Pod', pod({ volumes: [{ name: 'data', emptyDir: {} }] }, [
        { name: 'web', image: 'nginx', volumeMounts: [{ name: 'data', mountPath: '/d' }, { name: 'data', mountPath: '/d' }] },
      ])),
      ['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/d": must be unique'],
    );
  });

  it('checks env', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', env: [{ name: 'A=B', value: 'x' }] }])), [
      `spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`,
    ]);
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', env: [{ value: 'x' }] }])), ['spec.containers[0].env[0].name: Required value']);
    assert.deepEqual(
      createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeNam' } } }] }])),
      ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Invalid value: "spec.nodeNam": error converting fieldPath: field label not supported: spec.nodeNam'],
    );
  });

  it('checks probes and tolerations', () => {
    assert.deepEqual(createErrors('/Pod', pod({}, [{ name: 'web', image: 'nginx', livenessProbe: { periodSeconds: 5 } }])), [
      'spec.containers[0].livenessProbe: Required value: must specify a handler type',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({ tolerations: [{ key: 'a', operator: 'Exists', value: 'x' }] })), [
      "spec.tolerations[0].operator: Invalid value: \"x\": value must be empty when `operator` is 'Exists'",
    ]);
    assert.deepEqual(createErrors('/Pod', pod({ tolerations: [{ key: 'a', effect: 'NoExec' }] })), [
      'spec.tolerations[0].effect: Unsupported value: "NoExec": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
    ]);
  });

  it('forbids ephemeral containers and gated pods with a node on create', () => {
    assert.deepEqual(createErrors('/Pod', pod({ ephemeralContainers: [{ name: 'debug', image: 'busybox' }] })), [
      'spec.ephemeralContainers: Forbidden: cannot be set on create',
    ]);
    assert.deepEqual(createErrors('/Pod', pod({ nodeName: 'node-1', schedulingGates: [{ name: 'example.com/gate' }] })), [
      'spec.nodeName: Forbidden: cannot be set until all schedulingGates have been cleared',
    ]);
  });

  const PREFIX =
    'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)\n';

  it('allows image, deadline, toleration additions and binding on update', () => {
    const old = storedPod();
    const next = structuredClone(old) as Obj;
    const spec = next.spec as Obj & { containers: Obj[]; tolerations: Obj[] };
    spec.containers[0].image = 'nginx:1.27';
    spec.activeDeadlineSeconds = 60;
    spec.tolerations.push({ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' });
    spec.nodeName = 'node-1';
    assert.deepEqual(validators['/Pod'].validateUpdate!(next as KubeObject, old), []);
  });

  it('forbids other pod spec changes with Kubernetes message', () => {
    const old = storedPod();
    const next = structuredClone(old) as Obj;
    ((next.spec as Obj).containers as Obj[])[0].ports = [{ containerPort: 80, protocol: 'TCP' }];
    const errors = validators['/Pod'].validateUpdate!(next as KubeObject, old);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].field, 'spec');
    assert.ok(errors[0].message.startsWith(PREFIX), errors[0].message);
    assert.match(errors[0].message, /\+ \tcontainers\[0\]\.ports: \[\{"containerPort":80,"protocol":"TCP"\}\],/);
  });

  it('forbids adding containers and changing tolerations on update', () => {
    const old = storedPod();
    const added = structuredClone(old) as Obj;
    ((added.spec as Obj).containers as Obj[]).push({ name: 'sidecar', image: 'busybox', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' });
    assert.deepEqual(validators['/Pod'].validateUpdate!(added as KubeObject, old).map((e) => e.message), [
      'spec.containers: Forbidden: pod updates may not add or remove containers',
    ]);
    const changed = structuredClone(old) as Obj;
    ((changed.spec as Obj).tolerations as Obj[])[0].key = 'other';
    assert.deepEqual(validators['/Pod'].validateUpdate!(changed as KubeObject, old).map((e) => e.message), [
      'spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds',
    ]);
  });

  it('renders a complete Status message the way kubectl prints it', () => {
    const obj = defaulted('/Pod', pod({}, []));
    const error = invalid('', 'Pod', 'web', validators['/Pod'].validate(obj));
    assert.equal(error.message, 'Pod "web" is invalid: spec.containers: Required value');
    assert.deepEqual(error.toStatus().details?.causes, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.containers' }]);
  });
});

describe('Deployment', () => {
  it('accepts the tutorial redis Deployment', () => {
    assert.deepEqual(
      createErrors('apps/Deployment', deployment({ template: { metadata: { labels: { app: 'redis' } }, spec: { containers: [{ name: 'redis', image: 'redis:alpine', resources: { limits: { memory: '128Mi', cpu: '500m' } }, ports: [{ containerPort: 6379 }] }] } } })),
      [],
    );
  });

  it('requires a selector that matches the template', () => {
    assert.deepEqual(createErrors('apps/Deployment', deployment({ selector: undefined })), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"redis"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(createErrors('apps/Deployment', deployment({ selector: { matchLabels: { app: 'x' } } })), [
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"redis"}: `selector` does not match template `labels`',
    ]);
    assert.deepEqual(createErrors('apps/Deployment', deployment({ selector: {} })), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment',
    ]);
  });

  it('checks replicas, strategy and the template restart policy', () => {
    assert.deepEqual(createErrors('apps/Deployment', deployment({ replicas: -1 })), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
    assert.deepEqual(createErrors('apps/Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } })), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]);
    assert.deepEqual(createErrors('apps/Deployment', deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '0%', maxUnavailable: '0%' } } })), [
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"0%"}: may not be 0 when `maxSurge` is 0',
    ]);
    assert.deepEqual(createErrors('apps/Deployment', deployment({ strategy: { type: 'Recreate', rollingUpdate: { maxSurge: 1 } } })), [
      "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'",
    ]);
    const never = deployment();
    ((never.spec as Obj).template as { spec: Obj }).spec.restartPolicy = 'Never';
    assert.deepEqual(createErrors('apps/Deployment', never), ['spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it('validates the pod template with the pod rules at spec.template.spec', () => {
    const bad = deployment();
    ((bad.spec as Obj).template as { spec: Obj }).spec.containers = [{ name: 'redis' }];
    assert.deepEqual(createErrors('apps/Deployment', bad), ['spec.template.spec.containers[0].image: Required value']);
    const badLabel = deployment({ selector: { matchLabels: { app: 'redis' } } });
    ((badLabel.spec as Obj).template as { metadata: Obj }).metadata.labels = { app: 'redis', 'bad key!': 'x' };
    assert.match(createErrors('apps/Deployment', badLabel)[0], /^spec\.template\.labels: Invalid value: "bad key!": name part must consist of/);
  });

  it('keeps the selector immutable', () => {
    const old = defaulted('apps/Deployment', deployment());
    const next = deployment({
      selector: { matchLabels: { app: 'cache' } },
      template: { metadata: { labels: { app: 'cache' } }, spec: { containers: [{ name: 'redis', image: 'redis:alpine' }] } },
    });
    assert.deepEqual(updateErrors('apps/Deployment', next, old), [
      'spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"cache"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    ]);
    assert.deepEqual(updateErrors('apps/Deployment', deployment({ replicas: 3 }), old), []);
  });

  it('gives the full Status message kubectl prints', () => {
    const obj = defaulted('apps/Deployment', deployment({ selector: undefined }));
    assert.equal(
      invalid('apps', 'Deployment', 'redis', validators['apps/Deployment'].validate(obj)).message,
      'Deployment.apps "redis" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: map[string]string{"app":"redis"}: `selector` does not match template `labels`]',
    );
  });
});

describe('ReplicaSet, DaemonSet, StatefulSet', () => {
  const template = { metadata: { labels: { app: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } };

  it('ReplicaSet: selector required and immutable', () => {
    const rs = { metadata: meta('x'), spec: { template } };
    assert.deepEqual(createErrors('apps/ReplicaSet', rs), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    const ok = { metadata: meta('x'), spec: { selector: { matchLabels: { app: 'x' } }, template } };
    assert.deepEqual(createErrors('apps/ReplicaSet', ok), []);
  });

  it('DaemonSet: rolling update needs maxUnavailable or maxSurge', () => {
    const ds = { metadata: meta('x'), spec: { selector: { matchLabels: { app: 'x' } }, template, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } } } };
    assert.deepEqual(createErrors('apps/DaemonSet', ds), ['spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0']);
    const ok = { metadata: meta('x'), spec: { selector: { matchLabels: { app: 'x' } }, template } };
    assert.deepEqual(createErrors('apps/DaemonSet', ok), []);
  });

  it('StatefulSet: selector, restart policy, and which spec fields may change', () => {
    const sts = { metadata: meta('db'), spec: { serviceName: 'db', selector: { matchLabels: { app: 'x' } }, template } };
    assert.deepEqual(createErrors('apps/StatefulSet', sts), []);
    assert.deepEqual(createErrors('apps/StatefulSet', { ...sts, spec: { ...sts.spec, selector: undefined } }), [
      'spec.selector: Required value',
      'spec.template.metadata.labels: Invalid value: map[string]string{"app":"x"}: `selector` does not match template `labels`',
    ]);
    const old = defaulted('apps/StatefulSet', sts);
    assert.deepEqual(updateErrors('apps/StatefulSet', { ...sts, spec: { ...sts.spec, replicas: 5 } }, old), []);
    assert.deepEqual(updateErrors('apps/StatefulSet', { ...sts, spec: { ...sts.spec, serviceName: 'other' } }, old), [
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ]);
  });
});

describe('Job', () => {
  function job(spec: Obj = {}): Obj {
    return {
      metadata: { name: 'pi', namespace: 'default', uid: '11111111-2222-3333-4444-555555555555' },
      spec: { template: { spec: { containers: [{ name: 'pi', image: 'perl' }], restartPolicy: 'Never' } }, ...spec },
    };
  }
  /** A Job as the store validates it on create (defaults, then PrepareForCreate). */
  function prepared(obj: Obj): KubeObject {
    const j = defaulted('batch/Job', obj);
    prepareJobForCreate(j);
    return j;
  }

  it('accepts a Job with generated selector and labels', () => {
    assert.deepEqual(validators['batch/Job'].validate(prepared(job())), []);
  });

  it('needs a restartPolicy of OnFailure or Never', () => {
    const always = job();
    delete ((always.spec as Obj).template as { spec: Obj }).spec.restartPolicy;
    assert.deepEqual(validators['batch/Job'].validate(prepared(always)).map((e) => e.message), [
      'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"',
    ]);
  });

  it('checks counts', () => {
    assert.deepEqual(validators['batch/Job'].validate(prepared(job({ parallelism: -1, backoffLimit: -2 }))).map((e) => e.message), [
      'spec.parallelism: Invalid value: -1: must be greater than or equal to 0',
      'spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0',
    ]);
  });

  it('keeps the template and selector immutable', () => {
    const old = prepared(job());
    const next = structuredClone(old) as Obj;
    ((next.spec as Obj).template as { spec: { containers: Obj[] } }).spec.containers[0].image = 'perl:5';
    const messages = validators['batch/Job'].validateUpdate!(next as KubeObject, old).map((e) => e.message);
    assert.equal(messages.length, 1);
    assert.match(messages[0], /^spec\.template: Invalid value: core\.PodTemplateSpec\{.*\}: field is immutable$/);
    const parallel = structuredClone(old) as Obj;
    (parallel.spec as Obj).parallelism = 3;
    assert.deepEqual(validators['batch/Job'].validateUpdate!(parallel as KubeObject, old), []);
  });
});

describe('CronJob', () => {
  function cronJob(schedule: string, extra: Obj = {}): Obj {
    return {
      metadata: meta('hello'),
      spec: {
        schedule,
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox' }], restartPolicy: 'OnFailure' } } } },
        ...extra,
      },
    };
  }

  it('accepts standard schedules and descriptors', () => {
    for (const schedule of ['*/5 * * * *', '0 0 * * MON-FRI', '30 6 1 jan,jul *', '@hourly', '@daily', '@every 1h30m', '0 12 * * 0']) {
      assert.deepEqual(createErrors('batch/CronJob', cronJob(schedule)), [], schedule);
    }
  });

  it('reports robfig/cron parse errors', () => {
    assert.deepEqual(createErrors('batch/CronJob', cronJob('* * *')), ['spec.schedule: Invalid value: "* * *": expected exactly 5 fields, found 3: [* * *]']);
    assert.equal(cronScheduleError('61 * * * *'), 'end of range (61) above maximum (59): 61');
    assert.equal(cronScheduleError('* * * * 7'), 'end of range (7) above maximum (6): 7');
    assert.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
    assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
    assert.equal(cronScheduleError('@weekly2'), 'unrecognized descriptor: @weekly2');
    assert.equal(cronScheduleError('@every 1x'), 'failed to parse duration @every 1x: time: unknown unit "x" in duration "1x"');
    assert.equal(cronScheduleError(''), 'empty spec string');
  });

  it('checks time zones and TZ prefixes', () => {
    assert.deepEqual(createErrors('batch/CronJob', cronJob('0 * * * *', { timeZone: 'Europe/Paris' })), []);
    assert.deepEqual(createErrors('batch/CronJob', cronJob('0 * * * *', { timeZone: 'Mars/Olympus' })), [
      'spec.timeZone: Invalid value: "Mars/Olympus": unknown time zone Mars/Olympus',
    ]);
    assert.deepEqual(createErrors('batch/CronJob', cronJob('TZ=UTC 0 * * * *')), [
      'spec.schedule: Invalid value: "TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use timeZone field instead',
    ]);
  });

  it('validates the job template and forbids a selector', () => {
    const always = cronJob('0 * * * *');
    (((always.spec as Obj).jobTemplate as { spec: { template: { spec: Obj } } }).spec.template.spec).restartPolicy = 'Always';
    assert.deepEqual(createErrors('batch/CronJob', always), ['spec.jobTemplate.spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"']);
    assert.deepEqual(createErrors('batch/CronJob', { ...cronJob('0 * * * *'), metadata: meta('x'.repeat(53)) }), [
      `metadata.name: Invalid value: "${'x'.repeat(53)}": must be no more than 52 characters`,
    ]);
  });
});

describe('Service', () => {
  function service(spec: Obj): Obj {
    return { metadata: meta('web'), spec };
  }
  /** As stored: defaulted and allocated. */
  function stored(spec: Obj): KubeObject {
    const svc = defaulted('/Service', service(spec));
    const s = svc.spec as Obj;
    s.clusterIP = '10.43.0.20';
    s.clusterIPs = ['10.43.0.20'];
    return svc;
  }

  it('accepts a simple service', () => {
    assert.deepEqual(createErrors('/Service', service({ selector: { app: 'web' }, ports: [{ port: 80 }] })), []);
  });

  it('requires ports unless headless or ExternalName', () => {
    assert.deepEqual(createErrors('/Service', service({ selector: { app: 'web' } })), ['spec.ports: Required value']);
    assert.deepEqual(createErrors('/Service', service({ clusterIP: 'None' })), []);
    assert.deepEqual(createErrors('/Service', service({ type: 'ExternalName', externalName: 'example.com' })), []);
    assert.deepEqual(createErrors('/Service', service({ type: 'ExternalName' })), ['spec.externalName: Required value']);
  });

  it('checks ports, names, types and node ports', () => {
    assert.deepEqual(createErrors('/Service', service({ ports: [{ port: 80 }, { port: 443 }] })), [
      'spec.ports[0].name: Required value',
      'spec.ports[1].name: Required value',
    ]);
    assert.deepEqual(createErrors('/Service', service({ ports: [{ port: 0, targetPort: 8080 }] })), ['spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive']);
    assert.deepEqual(createErrors('/Service', service({ type: 'Ingress', ports: [{ port: 80 }] })), [
      'spec.type: Unsupported value: "Ingress": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
    ]);
    assert.deepEqual(createErrors('/Service', service({ ports: [{ port: 80, nodePort: 30080 }] })), [
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    ]);
    assert.deepEqual(createErrors('/Service', service({ type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] })), [
      'spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The range of valid ports is 30000-32767',
    ]);
    assert.deepEqual(createErrors('/Service', service({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] })), [
      'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", AppProtocol:(*string)(nil), Port:80, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
    ]);
  });

  it('keeps clusterIP once set', () => {
    const old = stored({ ports: [{ port: 80 }] });
    assert.deepEqual(updateErrors('/Service', { ...service({ ports: [{ port: 80 }], clusterIP: '10.43.0.21', clusterIPs: ['10.43.0.21'] }) }, old), [
      'spec.clusterIPs[0]: Invalid value: []string{"10.43.0.21"}: may not change once set',
    ]);
    // Leaving clusterIP out keeps the allocated one, as Kubernetes' REST layer does.
    assert.deepEqual(updateErrors('/Service', service({ ports: [{ port: 8080 }] }), old), []);
    assert.deepEqual(updateErrors('/Service', service({ type: 'ExternalName', externalName: 'db.example.com' }), old), []);
    // kubectl apply keeps the allocated IP fields when switching to ExternalName; Kubernetes drops them.
    const applied = { ...old, spec: { ...(old.spec as Obj), type: 'ExternalName', externalName: 'db.example.com' } };
    assert.deepEqual(updateErrors('/Service', applied, old), []);
    assert.deepEqual(createErrors('/Service', service({ type: 'ExternalName', externalName: 'db.example.com', clusterIP: '10.43.0.5' })), [
      'spec.clusterIPs: Forbidden: may not be set for ExternalName services',
    ]);
  });
});

describe('ConfigMap and Secret', () => {
  it('checks data keys and size', () => {
    assert.deepEqual(createErrors('/ConfigMap', { metadata: meta('c'), data: { 'bad key': 'x' } }), [
      `data[bad key]: Invalid value: "bad key": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    ]);
    assert.deepEqual(createErrors('/ConfigMap', { metadata: meta('c'), data: { big: 'x'.repeat(1024 * 1024 + 1) } }), [
      '[]: Too long: may not be more than 1048576 bytes',
    ]);
  });

  it('freezes immutable data', () => {
    const old = defaulted('/ConfigMap', { metadata: meta('c'), data: { a: '1' }, immutable: true });
    assert.deepEqual(updateErrors('/ConfigMap', { metadata: meta('c'), data: { a: '2' }, immutable: true }, old), [
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
    assert.deepEqual(updateErrors('/ConfigMap', { metadata: meta('c'), data: { a: '1' } }, old), ['immutable: Forbidden: field is immutable when `immutable` is set']);
    const secret = defaulted('/Secret', { metadata: meta('s'), stringData: { a: '1' }, immutable: true });
    assert.deepEqual(updateErrors('/Secret', { metadata: meta('s'), stringData: { a: '2' }, immutable: true }, secret), [
      'data: Forbidden: field is immutable when `immutable` is set',
    ]);
  });

  it('checks secret types', () => {
    assert.deepEqual(createErrors('/Secret', { metadata: meta('s'), type: 'kubernetes.io/tls', data: {} }), ['data[tls.crt]: Required value', 'data[tls.key]: Required value']);
    const old = defaulted('/Secret', { metadata: meta('s'), data: {} });
    assert.deepEqual(updateErrors('/Secret', { metadata: meta('s'), type: 'kubernetes.io/tls', data: { 'tls.crt': '', 'tls.key': '' } }, old), [
      'type: Invalid value: "kubernetes.io/tls": field is immutable',
    ]);
    const docker = Buffer.from('{not json').toString('base64');
    assert.deepEqual(createErrors('/Secret', { metadata: meta('s'), type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': docker } }), [
      'data[.dockerconfigjson]: Invalid value: "<secret contents redacted>": unexpected end of JSON input',
    ]);
  });
});

describe('RBAC', () => {
  const binding = (roleName: string) => ({
    metadata: meta('b'),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: 'default' }],
  });

  it('checks rules and subjects', () => {
    assert.deepEqual(createErrors('rbac.authorization.k8s.io/Role', { metadata: meta('r'), rules: [{ apiGroups: [''], resources: ['pods'] }] }), [
      'rules[0].verbs: Required value: verbs must contain at least one value',
    ]);
    assert.deepEqual(createErrors('rbac.authorization.k8s.io/ClusterRole', { metadata: { name: 'r' }, rules: [{ verbs: ['get'] }] }), [
      'rules[0].apiGroups: Required value: resource rules must supply at least one api group',
      'rules[0].resources: Required value: resource rules must supply at least one resource',
    ]);
    assert.deepEqual(createErrors('rbac.authorization.k8s.io/RoleBinding', { ...binding('a'), subjects: [{ kind: 'Robot', name: 'x' }] }), [
      'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
    ]);
    assert.deepEqual(createErrors('rbac.authorization.k8s.io/ClusterRoleBinding', { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'a' } }), [
      'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
    ]);
  });

  it('never changes roleRef', () => {
    const old = defaulted('rbac.authorization.k8s.io/RoleBinding', binding('a'));
    assert.deepEqual(updateErrors('rbac.authorization.k8s.io/RoleBinding', binding('b'), old), [
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"b"}: cannot change roleRef',
    ]);
  });
});

describe('networking', () => {
  const ingress = (path: Obj) => ({ metadata: meta('i'), spec: { rules: [{ host: 'example.com', http: { paths: [path] } }] } });
  const backend = { service: { name: 'web', port: { number: 80 } } };

  it('Ingress: pathType, absolute paths, backends', () => {
    assert.deepEqual(createErrors('networking.k8s.io/Ingress', ingress({ path: '/', pathType: 'Prefix', backend })), []);
    assert.deepEqual(createErrors('networking.k8s.io/Ingress', ingress({ path: '/', backend })), [
      'spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified',
    ]);
    assert.deepEqual(createErrors('networking.k8s.io/Ingress', ingress({ path: 'api', pathType: 'Exact', backend })), [
      'spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path',
    ]);
    assert.deepEqual(createErrors('networking.k8s.io/Ingress', ingress({ path: '/', pathType: 'Regex', backend })), [
      'spec.rules[0].http.paths[0].pathType: Unsupported value: "Regex": supported values: "Exact", "ImplementationSpecific", "Prefix"',
    ]);
    assert.deepEqual(createErrors('networking.k8s.io/Ingress', ingress({ path: '/', pathType: 'Prefix', backend: { service: { name: 'web' } } })), [
      'spec.rules[0].http.paths[0].backend: Required value: port name or number is required',
    ]);
  });

  it('NetworkPolicy: ipBlock except must be inside cidr', () => {
    const np = { metadata: meta('n'), spec: { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.1.0.0/24'] } }] }] } };
    assert.deepEqual(createErrors('networking.k8s.io/NetworkPolicy', np), [
      'spec.ingress[0].from[0].ipBlock.except[0]: Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`',
    ]);
  });

  it('EndpointSlice: address type and addresses', () => {
    assert.deepEqual(createErrors('discovery.k8s.io/EndpointSlice', { metadata: meta('e'), addressType: 'IPv5', endpoints: [] }), [
      'addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"',
    ]);
    assert.deepEqual(createErrors('discovery.k8s.io/EndpointSlice', { metadata: meta('e'), addressType: 'IPv4', endpoints: [{ addresses: ['127.0.0.1'] }] }), [
      'endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ]);
  });

  it('Endpoints: addresses are required', () => {
    assert.deepEqual(createErrors('/Endpoints', { metadata: meta('e'), subsets: [{ ports: [{ port: 80 }] }] }), [
      'subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`',
    ]);
  });
});

describe('other kinds', () => {
  it('HorizontalPodAutoscaler: replicas bounds and target', () => {
    const hpa = { metadata: meta('h'), spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 3, maxReplicas: 2 } };
    assert.deepEqual(createErrors('autoscaling/HorizontalPodAutoscaler', hpa), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
    assert.deepEqual(createErrors('autoscaling/HorizontalPodAutoscaler', { metadata: meta('h'), spec: { maxReplicas: 0 } }), [
      'spec.maxReplicas: Invalid value: 0: must be greater than 0',
      'spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`',
      'spec.scaleTargetRef.kind: Required value',
      'spec.scaleTargetRef.name: Required value',
    ]);
  });

  it('Node: taint effects and pod CIDRs', () => {
    assert.deepEqual(createErrors('/Node', { metadata: { name: 'n' }, spec: { taints: [{ key: 'a', effect: 'NoRun' }], podCIDR: '10.0.0.0/33' } }), [
      'metadata.taints[0].effect: Unsupported value: "NoRun": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"',
      'spec.podCIDRs[0]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    ]);
    const old = defaulted('/Node', { metadata: { name: 'n' }, spec: { podCIDR: '10.42.0.0/24', podCIDRs: ['10.42.0.0/24'] } });
    assert.deepEqual(updateErrors('/Node', { metadata: { name: 'n' }, spec: { podCIDR: '10.42.1.0/24', podCIDRs: ['10.42.1.0/24'] } }, old), [
      'spec.podCIDRs: Forbidden: node updates may not change podCIDR except from "" to valid',
    ]);
  });

  it('Namespace: finalizer names', () => {
    assert.deepEqual(createErrors('/Namespace', { metadata: { name: 'n' }, spec: { finalizers: ['custom'] } }), [
      'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully qualified',
    ]);
    assert.deepEqual(createErrors('/Namespace', { metadata: { name: 'n' }, spec: { finalizers: ['kubernetes', 'example.com/x'] } }), []);
  });

  it('StorageClass: provisioner required, parameters fixed', () => {
    assert.deepEqual(createErrors('storage.k8s.io/StorageClass', { metadata: { name: 's' } }), ['provisioner: Required value']);
    const old = defaulted('storage.k8s.io/StorageClass', { metadata: { name: 's' }, provisioner: 'rancher.io/local-path', parameters: { a: '1' } });
    assert.deepEqual(updateErrors('storage.k8s.io/StorageClass', { metadata: { name: 's' }, provisioner: 'rancher.io/local-path', parameters: { a: '2' } }, old), [
      'parameters: Forbidden: updates to parameters are forbidden.',
    ]);
  });

  it('PersistentVolumeClaim: access modes and storage request', () => {
    assert.deepEqual(createErrors('/PersistentVolumeClaim', { metadata: meta('c'), spec: {} }), [
      'spec.accessModes: Required value: at least 1 access mode is required',
      'spec.resources[storage]: Required value',
    ]);
    const claim = { metadata: meta('c'), spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    assert.deepEqual(createErrors('/PersistentVolumeClaim', claim), []);
    const old = defaulted('/PersistentVolumeClaim', claim);
    const messages = updateErrors('/PersistentVolumeClaim', { ...claim, spec: { ...claim.spec, accessModes: ['ReadWriteMany'] } }, old);
    assert.equal(messages.length, 1);
    assert.ok(messages[0].startsWith('spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n'));
  });

  it('PersistentVolume: capacity, access modes and a source', () => {
    assert.deepEqual(
      createErrors('/PersistentVolume', { metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/data' } } }),
      [],
    );
    assert.deepEqual(createErrors('/PersistentVolume', { metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }), [
      'spec: Required value: must specify a volume type',
    ]);
  });

  it('LimitRange and ResourceQuota: bounds and resource names', () => {
    assert.deepEqual(createErrors('/LimitRange', { metadata: meta('l'), spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } }), [
      'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
      'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
      'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
    ]);
    assert.deepEqual(createErrors('/ResourceQuota', { metadata: meta('q'), spec: { hard: { pods: '1.5' } } }), ['spec.hard[pods]: Invalid value: "1500m": must be an integer']);
  });

  it('Lease, Event, PriorityClass, PodDisruptionBudget', () => {
    assert.deepEqual(createErrors('coordination.k8s.io/Lease', { metadata: meta('l'), spec: { leaseDurationSeconds: 0 } }), [
      'spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0',
    ]);
    assert.deepEqual(createErrors('/Event', { metadata: meta('e'), involvedObject: { kind: 'Pod', name: 'p', namespace: 'other' } }), [
      'involvedObject.namespace: Invalid value: "other": does not match event.namespace',
    ]);
    assert.deepEqual(createErrors('scheduling.k8s.io/PriorityClass', { metadata: { name: 'high' }, value: 2000000000 }), [
      'value: Forbidden: maximum allowed value of a user defined priority is 1000000000',
    ]);
    assert.deepEqual(createErrors('policy/PodDisruptionBudget', { metadata: meta('p'), spec: { minAvailable: '150%' } }), [
      'spec.minAvailable: Invalid value: intstr.IntOrString{Type:1, IntVal:0, StrVal:"150%"}: must not be greater than 100%',
    ]);
  });
});
