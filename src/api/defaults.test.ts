import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apimachinery/types.js';
import { admitPodCreate } from './admission.js';
import { defaulters, imageTag, podQOSClass, prepareJobForCreate, prepareNamespaceForCreate, preparePodForCreate } from './defaults.js';
import { validators } from './validation.js';

type Obj = Record<string, unknown>;

/** A copy of `obj` with the defaulter of `kindKey` applied, as the API server decodes it. */
function defaulted(kindKey: string, obj: Obj): KubeObject {
  const copy = structuredClone(obj) as KubeObject;
  defaulters[kindKey](copy);
  return copy;
}

/** The token volume a 1.32 API server adds (the suffix is random there; fixed here). */
const TOKEN_VOLUME = {
  name: 'kube-api-access-xxxxx',
  projected: {
    defaultMode: 420,
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
  },
};

/** The pod template spec defaults every workload reads back with. */
const TEMPLATE_SPEC_DEFAULTS = {
  dnsPolicy: 'ClusterFirst',
  restartPolicy: 'Always',
  schedulerName: 'default-scheduler',
  securityContext: {},
  terminationGracePeriodSeconds: 30,
};

describe('Pod defaults and admission', () => {
  // Exactly what `kubectl run mynginx --image=nginx` (v1.32) sends.
  const kubectlRun = {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: 'mynginx', namespace: 'default', creationTimestamp: null, labels: { run: 'mynginx' } },
    spec: { containers: [{ name: 'mynginx', image: 'nginx', resources: {} }], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' },
    status: {},
  };

  it('reads back `kubectl run mynginx --image=nginx` like a 1.32 cluster', () => {
    const pod = defaulted('/Pod', kubectlRun);
    preparePodForCreate(pod);
    admitPodCreate(pod, { randomSuffix: () => 'xxxxx' });
    assert.deepEqual(pod.spec, {
      containers: [
        {
          image: 'nginx',
          imagePullPolicy: 'Always',
          name: 'mynginx',
          resources: {},
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          volumeMounts: [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: 'kube-api-access-xxxxx', readOnly: true }],
        },
      ],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      priority: 0,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      serviceAccount: 'default',
      serviceAccountName: 'default',
      terminationGracePeriodSeconds: 30,
      tolerations: [
        { effect: 'NoExecute', key: 'node.kubernetes.io/not-ready', operator: 'Exists', tolerationSeconds: 300 },
        { effect: 'NoExecute', key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 300 },
      ],
      volumes: [TOKEN_VOLUME],
    });
    assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'BestEffort' });
    assert.deepEqual(validators['/Pod'].validate(pod), []);
  });

  it('pulls IfNotPresent for tagged images and copies limits into requests', () => {
    const pod = defaulted('/Pod', {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27', resources: { limits: { cpu: '0.5', memory: '128Mi' } } }] },
    });
    const container = (pod.spec as { containers: Obj[] }).containers[0];
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(container.resources, { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '500m', memory: '128Mi' } });
    assert.equal(podQOSClass(pod), 'Guaranteed');
  });

  it('reads image tags like Kubernetes', () => {
    assert.equal(imageTag('nginx'), 'latest');
    assert.equal(imageTag('nginx:1.27'), '1.27');
    assert.equal(imageTag('localhost:5000/app'), 'latest');
    assert.equal(imageTag('nginx@sha256:' + 'a'.repeat(64)), '');
  });
});

describe('Deployment defaults', () => {
  it('reads back the tutorial redis Deployment like a 1.32 cluster', () => {
    const deployment = defaulted('apps/Deployment', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'redis', namespace: 'default' },
      spec: {
        selector: { matchLabels: { app: 'redis' } },
        template: {
          metadata: { labels: { app: 'redis' } },
          spec: {
            containers: [{ name: 'redis', image: 'redis:alpine', resources: { limits: { memory: '128Mi', cpu: '500m' } }, ports: [{ containerPort: 6379 }] }],
          },
        },
      },
    });
    assert.deepEqual(deployment.spec, {
      progressDeadlineSeconds: 600,
      replicas: 1,
      revisionHistoryLimit: 10,
      selector: { matchLabels: { app: 'redis' } },
      strategy: { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' }, type: 'RollingUpdate' },
      template: {
        metadata: { creationTimestamp: null, labels: { app: 'redis' } },
        spec: {
          containers: [
            {
              image: 'redis:alpine',
              imagePullPolicy: 'IfNotPresent',
              name: 'redis',
              ports: [{ containerPort: 6379, protocol: 'TCP' }],
              // Templates keep limits only; requests are copied when pods are created.
              resources: { limits: { cpu: '500m', memory: '128Mi' } },
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          ...TEMPLATE_SPEC_DEFAULTS,
        },
      },
    });
    assert.deepEqual(validators['apps/Deployment'].validate(deployment), []);
  });

  it('keeps an explicit strategy', () => {
    const deployment = defaulted('apps/Deployment', { metadata: { name: 'd' }, spec: { replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } } } });
    const spec = deployment.spec as Obj;
    assert.equal(spec.replicas, 4);
    assert.deepEqual(spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 2, maxUnavailable: 1 } });
    const recreate = defaulted('apps/Deployment', { metadata: { name: 'd' }, spec: { strategy: { type: 'Recreate' } } });
    assert.deepEqual((recreate.spec as Obj).strategy, { type: 'Recreate' });
  });
});

describe('Service defaults', () => {
  it('reads back a selector service like a 1.32 cluster (before IP allocation)', () => {
    const service = defaulted('/Service', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'redis', namespace: 'default' }, spec: { selector: { app: 'redis' }, ports: [{ port: 6379 }] } });
    assert.deepEqual(service.spec, {
      internalTrafficPolicy: 'Cluster',
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ port: 6379, protocol: 'TCP', targetPort: 6379 }],
      selector: { app: 'redis' },
      sessionAffinity: 'None',
      type: 'ClusterIP',
    });
    assert.deepEqual(service.status, { loadBalancer: {} });
    assert.deepEqual(validators['/Service'].validate(service), []);
  });

  it('adds the external traffic policy to NodePort services', () => {
    const service = defaulted('/Service', { metadata: { name: 'web' }, spec: { type: 'NodePort', ports: [{ port: 80, targetPort: 'http' }] } });
    const spec = service.spec as Obj;
    assert.equal(spec.externalTrafficPolicy, 'Cluster');
    assert.deepEqual(spec.ports, [{ port: 80, protocol: 'TCP', targetPort: 'http' }]);
  });
});

describe('Job defaults', () => {
  it('reads back a Job like a 1.32 cluster', () => {
    const uid = '0b6d1ea4-6a2c-4c43-9d3f-6b1f7e0e2a10';
    const job = defaulted('batch/Job', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'pi', namespace: 'default' },
      spec: {
        backoffLimit: 4,
        template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }], restartPolicy: 'Never' } },
      },
    });
    job.metadata.uid = uid;
    prepareJobForCreate(job);
    const labels = {
      'batch.kubernetes.io/controller-uid': uid,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': uid,
      'job-name': 'pi',
    };
    assert.deepEqual(job.metadata.labels, labels);
    assert.deepEqual(job.spec, {
      backoffLimit: 4,
      completionMode: 'NonIndexed',
      completions: 1,
      manualSelector: false,
      parallelism: 1,
      podReplacementPolicy: 'TerminatingOrFailed',
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      suspend: false,
      template: {
        metadata: { creationTimestamp: null, labels },
        spec: {
          containers: [
            {
              command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'],
              image: 'perl:5.34.0',
              imagePullPolicy: 'IfNotPresent',
              name: 'pi',
              resources: {},
              terminationMessagePath: '/dev/termination-log',
              terminationMessagePolicy: 'File',
            },
          ],
          ...TEMPLATE_SPEC_DEFAULTS,
          restartPolicy: 'Never',
        },
      },
    });
    assert.deepEqual(job.status, {});
    assert.deepEqual(validators['batch/Job'].validate(job), []);
  });

  it('defaults parallelism alone when completions is set', () => {
    const job = defaulted('batch/Job', { metadata: { name: 'j' }, spec: { completions: 5, template: { spec: { containers: [] } } } });
    const spec = job.spec as Obj;
    assert.equal(spec.completions, 5);
    assert.equal(spec.parallelism, 1);
    assert.equal(spec.backoffLimit, 6);
  });
});

describe('other defaults', () => {
  it('Namespace: status Active, name label, kubernetes finalizer on create', () => {
    const ns = defaulted('/Namespace', { metadata: { name: 'dev' } });
    prepareNamespaceForCreate(ns);
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'dev' });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(ns.status, { phase: 'Active' });
  });

  it('Secret: stringData folded into base64 data, type Opaque', () => {
    const secret = defaulted('/Secret', { metadata: { name: 's' }, stringData: { password: 'hunter2' } });
    assert.deepEqual(secret.data, { password: Buffer.from('hunter2').toString('base64') });
    assert.equal(secret.type, 'Opaque');
    assert.equal(secret.stringData, undefined);
  });

  it('CronJob: policy and history limits', () => {
    const cronJob = defaulted('batch/CronJob', { metadata: { name: 'c' }, spec: { schedule: '@hourly', jobTemplate: { spec: { template: { spec: { containers: [] } } } } } });
    const spec = cronJob.spec as Obj;
    assert.equal(spec.concurrencyPolicy, 'Allow');
    assert.equal(spec.suspend, false);
    assert.equal(spec.successfulJobsHistoryLimit, 3);
    assert.equal(spec.failedJobsHistoryLimit, 1);
  });

  it('RoleBinding: API group of roleRef and User subjects', () => {
    const binding = defaulted('rbac.authorization.k8s.io/RoleBinding', { metadata: { name: 'b' }, roleRef: { kind: 'Role', name: 'r' }, subjects: [{ kind: 'User', name: 'jane' }] });
    assert.deepEqual(binding.roleRef, { kind: 'Role', name: 'r', apiGroup: 'rbac.authorization.k8s.io' });
    assert.deepEqual(binding.subjects, [{ kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }]);
  });
});
