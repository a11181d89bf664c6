import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apimachinery/types.js';
import { humanDuration, shortHumanDuration, translateTimestampSince } from './duration.js';
import {
  defaultTablePrinter,
  formatLabelSelector,
  formatLabels,
  labelSelectorString,
  tablePrinterFor,
  tablePrinters,
} from './printers.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** An RFC 3339 timestamp `ms` before NOW. */
function ago(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Cells of `obj` printed by the printer registered for `key`. */
function cells(key: string, obj: Record<string, unknown>): unknown[] {
  const printer = tablePrinters[key];
  assert.ok(printer, `no printer for ${key}`);
  return printer.row(obj as KubeObject, NOW);
}

function columnNames(key: string): string[] {
  return tablePrinters[key].columns.map((c) => c.name);
}

describe('humanDuration', () => {
  const cases: [number, string][] = [
    [0, '0s'],
    [-1500, '0s'], // up to 2s of clock skew reads as now
    [-2500, '<invalid>'],
    [59 * SECOND, '59s'],
    [119 * SECOND, '119s'],
    [2 * MINUTE, '2m'],
    [2 * MINUTE + 3 * SECOND, '2m3s'],
    [9 * MINUTE + 59 * SECOND, '9m59s'],
    [10 * MINUTE + 30 * SECOND, '10m'],
    [179 * MINUTE, '179m'],
    [3 * HOUR, '3h'],
    [3 * HOUR + 5 * MINUTE, '3h5m'],
    [8 * HOUR + 5 * MINUTE, '8h'],
    [47 * HOUR, '47h'],
    [2 * DAY, '2d'],
    [2 * DAY + 5 * HOUR, '2d5h'],
    [8 * DAY + 5 * HOUR, '8d'],
    [10 * DAY, '10d'],
    [729 * DAY, '729d'],
    [730 * DAY, '2y'],
    [760 * DAY, '2y30d'],
    [8 * 365 * DAY, '8y'],
  ];
  for (const [ms, expected] of cases) {
    it(`${ms}ms → ${expected}`, () => assert.equal(humanDuration(ms), expected));
  }

  it('shortHumanDuration keeps one unit', () => {
    assert.equal(shortHumanDuration(45 * SECOND), '45s');
    assert.equal(shortHumanDuration(3 * MINUTE + 20 * SECOND), '3m');
    assert.equal(shortHumanDuration(5 * HOUR + 59 * MINUTE), '5h');
    assert.equal(shortHumanDuration(12 * DAY), '12d');
    assert.equal(shortHumanDuration(800 * DAY), '2y');
  });

  it('translateTimestampSince reads "<unknown>" for an absent time', () => {
    assert.equal(translateTimestampSince(undefined, NOW), '<unknown>');
    assert.equal(translateTimestampSince('0001-01-01T00:00:00Z', NOW), '<unknown>');
    assert.equal(translateTimestampSince(ago(5 * MINUTE), NOW), '5m');
    assert.equal(translateTimestampSince('2024-06-01T11:59:30.123456Z', NOW), '29s');
  });
});

describe('label selectors', () => {
  it('formats label maps sorted by key, "<none>" when empty', () => {
    assert.equal(formatLabels({ tier: 'web', app: 'redis' }), 'app=redis,tier=web');
    assert.equal(formatLabels({}), '<none>');
    assert.equal(formatLabels(undefined), '<none>');
  });

  it('prints matchLabels and matchExpressions in canonical form', () => {
    const selector = {
      matchLabels: { 'pod-template-hash': 'abc', app: 'redis' },
      matchExpressions: [
        { key: 'tier', operator: 'Exists' },
        { key: 'env', operator: 'In', values: ['staging', 'prod'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'zone', operator: 'NotIn', values: ['b'] },
      ],
    };
    assert.equal(labelSelectorString(selector), 'app=redis,env in (prod,staging),!legacy,pod-template-hash=abc,tier,zone notin (b)');
  });

  it('empty and absent selectors print "<none>", invalid ones "<error>"', () => {
    assert.equal(formatLabelSelector(undefined), '<none>');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<error>');
    assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }), '<error>');
  });
});

function pod(overrides: { spec?: Record<string, unknown>; status?: Record<string, unknown>; metadata?: Record<string, unknown> }) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(5 * MINUTE), ...overrides.metadata },
    spec: { containers: [{ name: 'web', image: 'nginx' }], ...overrides.spec },
    status: overrides.status ?? { phase: 'Pending' },
  };
}

const running = { running: { startedAt: ago(4 * MINUTE) } };

describe('pod printer', () => {
  it('has the v1.32 columns', () => {
    assert.deepEqual(columnNames('/Pod'), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
    const columns = tablePrinters['/Pod'].columns;
    assert.deepEqual(
      columns.map((c) => c.priority),
      [0, 0, 0, 0, 0, 1, 1, 1, 1],
    );
    assert.equal(columns[3].type, 'string');
    assert.deepEqual(Object.keys(columns[0]), ['name', 'type', 'format', 'description', 'priority']);
    assert.equal(columns[0].format, 'name');
    assert.match(columns[0].description, /^Name must be unique within a namespace\./);
    assert.match(columns[4].description, /^CreationTimestamp is a timestamp/);
  });

  it('Pending, not yet scheduled', () => {
    assert.deepEqual(cells('/Pod', pod({})), ['web', '0/1', 'Pending', '0', '5m', '<none>', '<none>', '<none>', '<none>']);
  });

  it('ContainerCreating', () => {
    const p = pod({
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Pending',
        containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }],
      },
    });
    assert.deepEqual(cells('/Pod', p), ['web', '0/1', 'ContainerCreating', '0', '5m', '<none>', 'node-1', '<none>', '<none>']);
  });

  it('Running and ready', () => {
    const p = pod({
      spec: { nodeName: 'node-1' },
      status: {
        phase: 'Running',
        podIP: '10.42.0.7',
        podIPs: [{ ip: '10.42.0.7' }],
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ name: 'web', ready: true, started: true, restartCount: 0, state: running }],
      },
    });
    assert.deepEqual(cells('/Pod', p), ['web', '1/1', 'Running', '0', '5m', '10.42.0.7', 'node-1', '<none>', '<none>']);
  });

  it('CrashLoopBackOff with restarts and when the last one was', () => {
    const p = pod({
      metadata: { creationTimestamp: ago(2 * HOUR) },
      status: {
        phase: 'Running',
        podIPs: [{ ip: '10.42.0.8' }],
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 3,
            state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
            lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(5 * MINUTE + 10 * SECOND) } },
          },
        ],
      },
    });
    assert.deepEqual(cells('/Pod', p).slice(0, 5), ['web', '0/1', 'CrashLoopBackOff', '3 (5m10s ago)', '120m']);
  });

  it('restarts without a recorded termination time print the count alone', () => {
    const p = pod({
      status: { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 2, state: running }] },
    });
    assert.equal(cells('/Pod', p)[3], '2');
  });

  describe('init containers', () => {
    const spec = { initContainers: [{ name: 'init', image: 'busybox' }] };
    const status = (init: Record<string, unknown>, main: Record<string, unknown> = { waiting: { reason: 'PodInitializing' } }) => ({
      phase: 'Pending',
      initContainerStatuses: [{ name: 'init', ready: false, restartCount: 0, state: init }],
      containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: main }],
    });

    it('Init:0/1 while the first init container runs', () => {
      assert.equal(cells('/Pod', pod({ spec, status: status(running) }))[2], 'Init:0/1');
    });
    it('Init:Error when it failed', () => {
      assert.equal(cells('/Pod', pod({ spec, status: status({ terminated: { exitCode: 1, reason: 'Error' } }) }))[2], 'Init:Error');
    });
    it('Init:ExitCode:N / Init:Signal:N without a reason', () => {
      assert.equal(cells('/Pod', pod({ spec, status: status({ terminated: { exitCode: 2 } }) }))[2], 'Init:ExitCode:2');
      assert.equal(cells('/Pod', pod({ spec, status: status({ terminated: { exitCode: 137, signal: 9 } }) }))[2], 'Init:Signal:9');
    });
    it('Init:CrashLoopBackOff', () => {
      assert.equal(cells('/Pod', pod({ spec, status: status({ waiting: { reason: 'CrashLoopBackOff' } }) }))[2], 'Init:CrashLoopBackOff');
    });
    it('PodInitializing once init containers are done', () => {
      const done = { terminated: { exitCode: 0, reason: 'Completed' } };
      assert.equal(cells('/Pod', pod({ spec, status: status(done) }))[2], 'PodInitializing');
    });
    it('counts init restarts while initializing', () => {
      const s = status({ waiting: { reason: 'CrashLoopBackOff' } });
      (s.initContainerStatuses[0] as Record<string, unknown>).restartCount = 4;
      assert.equal(cells('/Pod', pod({ spec, status: s }))[3], '4');
    });
  });

  it('sidecars count as containers and their restarts stay counted', () => {
    const p = pod({
      spec: { initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] },
      status: {
        phase: 'Running',
        conditions: [
          { type: 'Initialized', status: 'True' },
          { type: 'Ready', status: 'True' },
        ],
        initContainerStatuses: [
          {
            name: 'proxy',
            ready: true,
            started: true,
            restartCount: 1,
            state: running,
            lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * MINUTE) } },
          },
        ],
        containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: running }],
      },
    });
    assert.deepEqual(cells('/Pod', p).slice(1, 4), ['2/2', 'Running', '1 (3m ago)']);
  });

  it('Completed', () => {
    const p = pod({
      status: {
        phase: 'Succeeded',
        containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
      },
    });
    assert.deepEqual(cells('/Pod', p).slice(1, 4), ['0/1', 'Completed', '0']);
  });

  it('Error and ExitCode for failed containers', () => {
    const failed = (terminated: Record<string, unknown>) =>
      pod({ status: { phase: 'Failed', containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated } }] } });
    assert.equal(cells('/Pod', failed({ exitCode: 1, reason: 'Error' }))[2], 'Error');
    assert.equal(cells('/Pod', failed({ exitCode: 3 }))[2], 'ExitCode:3');
  });

  it('NotReady or Running when one container completed and another runs', () => {
    const status = (ready: boolean) => ({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [
        { name: 'web', ready: true, restartCount: 0, state: running },
        { name: 'job', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    });
    const spec = { containers: [{ name: 'web' }, { name: 'job' }] };
    assert.deepEqual(cells('/Pod', pod({ spec, status: status(false) })).slice(1, 3), ['1/2', 'NotReady']);
    assert.deepEqual(cells('/Pod', pod({ spec, status: status(true) })).slice(1, 3), ['1/2', 'Running']);
  });

  it('Terminating when being deleted, but a finished pod keeps its status', () => {
    const runningPod = { phase: 'Running', containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: running }] };
    const deleting = { deletionTimestamp: ago(10 * SECOND) };
    assert.equal(cells('/Pod', pod({ metadata: deleting, status: runningPod }))[2], 'Terminating');
    assert.equal(cells('/Pod', pod({ metadata: deleting, status: { ...runningPod, reason: 'NodeLost' } }))[2], 'Unknown');
    const succeeded = {
      phase: 'Succeeded',
      containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    };
    assert.equal(cells('/Pod', pod({ metadata: deleting, status: succeeded }))[2], 'Completed');
  });

  it('pod-level reasons: Evicted, SchedulingGated', () => {
    assert.equal(cells('/Pod', pod({ status: { phase: 'Failed', reason: 'Evicted' } }))[2], 'Evicted');
    const gated = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] };
    assert.equal(cells('/Pod', pod({ status: gated }))[2], 'SchedulingGated');
  });

  it('readiness gates and nominated node', () => {
    const p = pod({
      spec: { readinessGates: [{ conditionType: 'a' }, { conditionType: 'b' }] },
      status: {
        phase: 'Pending',
        nominatedNodeName: 'node-2',
        conditions: [
          { type: 'a', status: 'True' },
          { type: 'b', status: 'False' },
        ],
      },
    });
    assert.deepEqual(cells('/Pod', p).slice(7), ['node-2', '1/2']);
  });
});

describe('workload printers', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }, { name: 'log', image: 'busybox' }] } };

  it('Deployment', () => {
    assert.deepEqual(columnNames('apps/Deployment'), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    const d = {
      metadata: { name: 'web', creationTimestamp: ago(10 * MINUTE) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template },
      status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
    };
    assert.deepEqual(cells('apps/Deployment', d), ['web', '2/3', 3, 2, '10m', 'nginx,log', 'nginx:1.25,busybox', 'app=web']);
    const fresh = { metadata: { name: 'new', creationTimestamp: ago(3 * SECOND) }, spec: { replicas: 1, selector: { matchLabels: { app: 'new' } }, template } };
    assert.deepEqual(cells('apps/Deployment', fresh).slice(0, 5), ['new', '0/1', 0, 0, '3s']);
  });

  it('ReplicaSet', () => {
    const rs = {
      metadata: { name: 'web-7d9f8b6c5', creationTimestamp: ago(10 * MINUTE) },
      spec: { replicas: 3, selector: { matchLabels: { app: 'web', 'pod-template-hash': '7d9f8b6c5' } }, template },
      status: { replicas: 3, readyReplicas: 3 },
    };
    assert.deepEqual(cells('apps/ReplicaSet', rs), ['web-7d9f8b6c5', 3, 3, 3, '10m', 'nginx,log', 'nginx:1.25,busybox', 'app=web,pod-template-hash=7d9f8b6c5']);
  });

  it('StatefulSet and DaemonSet', () => {
    const sts = { metadata: { name: 'db', creationTimestamp: ago(DAY) }, spec: { replicas: 2, template }, status: { readyReplicas: 1 } };
    assert.deepEqual(cells('apps/StatefulSet', sts), ['db', '1/2', '24h', 'nginx,log', 'nginx:1.25,busybox']);
    const ds = {
      metadata: { name: 'agent', creationTimestamp: ago(DAY) },
      spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } },
      status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 },
    };
    assert.deepEqual(cells('apps/DaemonSet', ds), ['agent', 1, 1, 1, 1, 1, 'kubernetes.io/os=linux', '24h', 'nginx,log', 'nginx:1.25,busybox', 'app=agent']);
  });

  it('Job: Complete, Running, parallel without completions', () => {
    assert.deepEqual(columnNames('batch/Job'), ['Name', 'Status', 'Completions', 'Duration', 'Age', 'Containers', 'Images', 'Selector']);
    const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } };
    const done = {
      metadata: { name: 'pi', creationTimestamp: ago(2 * MINUTE) },
      spec: { completions: 1, parallelism: 1, selector, template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34' }] } } },
      status: {
        succeeded: 1,
        startTime: ago(2 * MINUTE),
        completionTime: ago(2 * MINUTE - 12 * SECOND),
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True' },
          { type: 'Complete', status: 'True' },
        ],
      },
    };
    assert.deepEqual(cells('batch/Job', done), ['pi', 'Complete', '1/1', '12s', '2m', 'pi', 'perl:5.34', 'batch.kubernetes.io/controller-uid=u1']);

    const runningJob = { metadata: { name: 'work', creationTimestamp: ago(40 * SECOND) }, spec: { completions: 5 }, status: { succeeded: 2, startTime: ago(40 * SECOND) } };
    assert.deepEqual(cells('batch/Job', runningJob).slice(0, 5), ['work', 'Running', '2/5', '40s', '40s']);

    const parallel = { metadata: { name: 'q', creationTimestamp: ago(MINUTE) }, spec: { parallelism: 2 }, status: {} };
    assert.deepEqual(cells('batch/Job', parallel).slice(1, 4), ['Running', '0/1 of 2', '']);

    const failed = { metadata: { name: 'f' }, spec: { completions: 1 }, status: { failed: 6, conditions: [{ type: 'Failed', status: 'True' }] } };
    assert.deepEqual(cells('batch/Job', failed).slice(1, 3), ['Failed', '0/1']);
    const suspended = { metadata: { name: 's' }, spec: { completions: 1 }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } };
    assert.equal(cells('batch/Job', suspended)[1], 'Suspended');
  });

  it('CronJob', () => {
    assert.deepEqual(columnNames('batch/CronJob'), [
      'Name', 'Schedule', 'Timezone', 'Suspend', 'Active', 'Last Schedule', 'Age', 'Containers', 'Images', 'Selector',
    ]);
    const cj = {
      metadata: { name: 'hello', creationTimestamp: ago(3 * MINUTE) },
      spec: {
        schedule: '*/1 * * * *',
        suspend: false,
        jobTemplate: { spec: { template: { spec: { containers: [{ name: 'hello', image: 'busybox:1.28' }] } } } },
      },
      status: { active: [{ name: 'hello-28623'}], lastScheduleTime: ago(45 * SECOND) },
    };
    assert.deepEqual(cells('batch/CronJob', cj), ['hello', '*/1 * * * *', '<none>', 'False', 1, '45s', '3m', 'hello', 'busybox:1.28', '<none>']);
    const never = { ...cj, spec: { ...cj.spec, timeZone: 'Europe/Paris', suspend: true }, status: {} };
    assert.deepEqual(cells('batch/CronJob', never).slice(2, 6), ['Europe/Paris', 'True', 0, '<none>']);
  });

  it('HorizontalPodAutoscaler, v2 and v1 shapes', () => {
    const v2 = {
      metadata: { name: 'web', creationTimestamp: ago(MINUTE) },
      spec: {
        scaleTargetRef: { kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      },
      status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 20 } } }] },
    };
    assert.deepEqual(cells('autoscaling/HorizontalPodAutoscaler', v2), ['web', 'Deployment/web', 'cpu: 20%/50%', '1', 10, 2, '60s']);
    const v1 = {
      metadata: { name: 'web', creationTimestamp: ago(MINUTE) },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 80 },
      status: { currentReplicas: 0 },
    };
    assert.deepEqual(cells('autoscaling/HorizontalPodAutoscaler', v1).slice(2, 6), ['cpu: <unknown>/80%', '1', 5, 0]);
  });
});

describe('core printers', () => {
  it('Service: ClusterIP, NodePort, LoadBalancer, ExternalName', () => {
    assert.deepEqual(columnNames('/Service'), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector']);
    const kubernetes = {
      metadata: { name: 'kubernetes', creationTimestamp: ago(2 * DAY + 5 * HOUR) },
      spec: { type: 'ClusterIP', clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }] },
    };
    assert.deepEqual(cells('/Service', kubernetes), ['kubernetes', 'ClusterIP', '10.96.0.1', '<none>', '443/TCP', '2d5h', '<none>']);

    const nodePort = {
      metadata: { name: 'web', creationTimestamp: ago(30 * SECOND) },
      spec: {
        type: 'NodePort',
        clusterIP: '10.96.12.34',
        clusterIPs: ['10.96.12.34'],
        selector: { app: 'web' },
        ports: [
          { port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30080 },
          { port: 53, protocol: 'UDP', nodePort: 30053 },
        ],
      },
    };
    assert.deepEqual(cells('/Service', nodePort), ['web', 'NodePort', '10.96.12.34', '<none>', '80:30080/TCP,53:30053/UDP', '30s', 'app=web']);

    const lb = { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', clusterIPs: ['10.96.0.9'], ports: [{ port: 80, protocol: 'TCP', nodePort: 31000 }] } };
    assert.equal(cells('/Service', lb)[3], '<pending>');
    const lbReady = { ...lb, status: { loadBalancer: { ingress: [{ ip: '192.0.2.20' }, { ip: '192.0.2.10' }] } } };
    assert.equal(cells('/Service', lbReady)[3], '192.0.2.10,192.0.2.20');

    const external = { metadata: { name: 'db' }, spec: { type: 'ExternalName', externalName: 'db.example.com' } };
    assert.deepEqual(cells('/Service', external).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
    const headless = { metadata: { name: 'h' }, spec: { clusterIP: 'None', clusterIPs: ['None'], ports: [{ port: 5432 }] } };
    assert.deepEqual(cells('/Service', headless).slice(1, 5), ['ClusterIP', 'None', '<none>', '5432/TCP']);
  });

  it('Node', () => {
    const node = {
      metadata: { name: 'node-1', creationTimestamp: ago(3 * DAY), labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/hostname': 'node-1' } },
      spec: {},
      status: {
        conditions: [
          { type: 'MemoryPressure', status: 'False' },
          { type: 'Ready', status: 'True' },
        ],
        addresses: [
          { type: 'InternalIP', address: '10.0.0.5' },
          { type: 'Hostname', address: 'node-1' },
        ],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0-18-amd64', containerRuntimeVersion: 'containerd://1.7.24' },
      },
    };
    assert.deepEqual(cells('/Node', node), [
      'node-1', 'Ready', 'control-plane', '3d', 'v1.32.0', '10.0.0.5', '<none>', 'Debian GNU/Linux 12 (bookworm)', '6.1.0-18-amd64', 'containerd://1.7.24',
    ]);
    const cordoned = { metadata: { name: 'n2' }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } };
    assert.deepEqual(cells('/Node', cordoned).slice(1, 3), ['NotReady,SchedulingDisabled', '<none>']);
    assert.equal(cells('/Node', { metadata: { name: 'n3' } })[1], 'Unknown');
  });

  it('Namespace, ConfigMap, Secret, ServiceAccount', () => {
    assert.deepEqual(cells('/Namespace', { metadata: { name: 'default', creationTimestamp: ago(10 * DAY) }, status: { phase: 'Active' } }), ['default', 'Active', '10d']);
    assert.deepEqual(cells('/ConfigMap', { metadata: { name: 'cfg', creationTimestamp: ago(HOUR) }, data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), ['cfg', 3, '60m']);
    assert.deepEqual(cells('/ConfigMap', { metadata: { name: 'kube-root-ca.crt', creationTimestamp: ago(HOUR) }, data: { 'ca.crt': 'x' } }), ['kube-root-ca.crt', 1, '60m']);
    assert.deepEqual(cells('/Secret', { metadata: { name: 's', creationTimestamp: ago(HOUR) }, type: 'Opaque', data: { u: 'YQ==', p: 'Yg==' } }), ['s', 'Opaque', 2, '60m']);
    assert.deepEqual(cells('/ServiceAccount', { metadata: { name: 'default', creationTimestamp: ago(HOUR) } }), ['default', 0, '60m']);
  });

  it('Endpoints', () => {
    const ep = {
      metadata: { name: 'web', creationTimestamp: ago(MINUTE) },
      subsets: [{ addresses: [{ ip: '10.42.0.1' }, { ip: '10.42.0.2' }, { ip: '10.42.0.3' }, { ip: '10.42.0.4' }], ports: [{ port: 80 }] }],
    };
    assert.deepEqual(cells('/Endpoints', ep), ['web', '10.42.0.1:80,10.42.0.2:80,10.42.0.3:80 + 1 more...', '60s']);
    assert.equal(cells('/Endpoints', { metadata: { name: 'none' } })[1], '<none>');
  });

  it('Event (core/v1 and events.k8s.io/v1)', () => {
    assert.deepEqual(columnNames('/Event'), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject', 'Source', 'Message', 'First Seen', 'Count', 'Name']);
    const event = {
      metadata: { name: 'web.17d', namespace: 'default' },
      involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{web}' },
      reason: 'Pulled',
      message: 'Container image "nginx" already present on machine\n',
      source: { component: 'kubelet', host: 'node-1' },
      firstTimestamp: ago(5 * MINUTE),
      lastTimestamp: ago(2 * MINUTE),
      count: 3,
      type: 'Normal',
    };
    assert.deepEqual(cells('/Event', event), [
      '2m', 'Normal', 'Pulled', 'pod/web', 'spec.containers{web}', 'kubelet, node-1', 'Container image "nginx" already present on machine', '5m', 3, 'web.17d',
    ]);
    const modern = {
      metadata: { name: 'web.18a' },
      regarding: { kind: 'Pod', name: 'web' },
      reason: 'Scheduled',
      note: 'Successfully assigned default/web to node-1',
      reportingController: 'default-scheduler',
      eventTime: '2024-06-01T11:58:59.500000Z', // microseconds, as MicroTime carries them
      type: 'Normal',
    };
    assert.deepEqual(cells('events.k8s.io/Event', modern), [
      '60s', 'Normal', 'Scheduled', 'pod/web', '', 'default-scheduler', 'Successfully assigned default/web to node-1', '60s', 1, 'web.18a',
    ]);
    const series = { ...modern, series: { count: 7, lastObservedTime: ago(10 * SECOND) } };
    const seriesRow = cells('events.k8s.io/Event', series);
    assert.deepEqual([seriesRow[0], seriesRow[8]], ['10s', 7]);
  });

  it('PersistentVolume and PersistentVolumeClaim', () => {
    const pv = {
      metadata: { name: 'pv1', creationTimestamp: ago(HOUR) },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteMany', 'ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'manual',
        claimRef: { namespace: 'default', name: 'data' },
        volumeMode: 'Filesystem',
      },
      status: { phase: 'Bound' },
    };
    assert.deepEqual(cells('/PersistentVolume', pv), ['pv1', '1Gi', 'RWO,RWX', 'Retain', 'Bound', 'default/data', 'manual', '<unset>', '', '60m', 'Filesystem']);
    const pvc = {
      metadata: { name: 'data', creationTimestamp: ago(HOUR) },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'manual', volumeName: 'pv1', volumeMode: 'Filesystem' },
      status: { phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } },
    };
    assert.deepEqual(cells('/PersistentVolumeClaim', pvc), ['data', 'Bound', 'pv1', '1Gi', 'RWO', 'manual', '<unset>', '60m', 'Filesystem']);
    const pending = { metadata: { name: 'p' }, spec: { accessModes: ['ReadWriteOnce'] }, status: { phase: 'Pending' } };
    assert.deepEqual(cells('/PersistentVolumeClaim', pending).slice(1, 6), ['Pending', '', '', '', '']);
  });

  it('ResourceQuota splits requests and limits', () => {
    const quota = {
      metadata: { name: 'q', creationTimestamp: ago(MINUTE) },
      status: { hard: { 'limits.cpu': '2', pods: '10', 'requests.cpu': '1' }, used: { pods: '3', 'requests.cpu': '500m' } },
    };
    assert.deepEqual(cells('/ResourceQuota', quota), ['q', '60s', 'pods: 3/10, requests.cpu: 500m/1', 'limits.cpu: 0/2']);
  });
});

describe('networking, RBAC and other printers', () => {
  it('Ingress', () => {
    assert.deepEqual(columnNames('networking.k8s.io/Ingress'), ['Name', 'Class', 'Hosts', 'Address', 'Ports', 'Age']);
    const ing = {
      metadata: { name: 'web', creationTimestamp: ago(MINUTE) },
      spec: { ingressClassName: 'traefik', rules: [{ host: 'a.example.com' }, {}], tls: [{ hosts: ['a.example.com'] }] },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
    };
    assert.deepEqual(cells('networking.k8s.io/Ingress', ing), ['web', 'traefik', 'a.example.com', '192.0.2.1', '80, 443', '60s']);
    const many = { metadata: { name: 'm' }, spec: { rules: [{ host: 'a' }, { host: 'b' }, { host: 'c' }, { host: 'd' }, {}] } };
    assert.deepEqual(cells('networking.k8s.io/Ingress', many).slice(1, 5), ['<none>', 'a,b,c + 2 more...', '', '80']);
  });

  it('RoleBinding, ClusterRoleBinding, Role', () => {
    const rb = {
      metadata: { name: 'rb', creationTimestamp: ago(MINUTE) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'admin' },
      subjects: [
        { kind: 'User', name: 'alice' },
        { kind: 'User', name: 'bob' },
        { kind: 'Group', name: 'devs' },
        { kind: 'ServiceAccount', name: 'sa1', namespace: 'default' },
      ],
    };
    assert.deepEqual(cells('rbac.authorization.k8s.io/RoleBinding', rb), ['rb', 'Role/admin', '60s', 'alice, bob', 'devs', 'default/sa1']);
    assert.equal(tablePrinters['rbac.authorization.k8s.io/ClusterRoleBinding'].columns[3].description, 'Users in the clusterRoleBinding');
    assert.deepEqual(columnNames('rbac.authorization.k8s.io/Role'), ['Name', 'Created At']);
  });

  it('Lease, EndpointSlice, StorageClass, NetworkPolicy', () => {
    assert.deepEqual(cells('coordination.k8s.io/Lease', { metadata: { name: 'node-1', creationTimestamp: ago(MINUTE) }, spec: { holderIdentity: 'node-1' } }), ['node-1', 'node-1', '60s']);
    const slice = {
      metadata: { name: 'web-abc', creationTimestamp: ago(MINUTE) },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
      endpoints: [{ addresses: ['10.42.0.1'] }, { addresses: ['10.42.0.2'] }],
    };
    assert.deepEqual(cells('discovery.k8s.io/EndpointSlice', slice), ['web-abc', 'IPv4', '80', '10.42.0.1,10.42.0.2', '60s']);
    assert.deepEqual(cells('discovery.k8s.io/EndpointSlice', { metadata: { name: 'e' }, addressType: 'IPv4' }).slice(2, 4), ['<unset>', '<unset>']);
    const sc = {
      metadata: { name: 'local-path', creationTimestamp: ago(DAY), annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'rancher.io/local-path',
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    };
    assert.deepEqual(cells('storage.k8s.io/StorageClass', sc), ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false, '24h']);
    const np = { metadata: { name: 'deny', creationTimestamp: ago(MINUTE) }, spec: { podSelector: {} } };
    assert.deepEqual(cells('networking.k8s.io/NetworkPolicy', np), ['deny', '<none>', '60s']);
  });
});

describe('defaults and robustness', () => {
  it('kinds without a printer show NAME and CREATED AT (a date)', () => {
    assert.deepEqual(
      defaultTablePrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
      [
        ['Name', 'string', 'name', 0],
        ['Created At', 'date', '', 0],
      ],
    );
    const obj = { metadata: { name: 'admin', creationTimestamp: '2024-06-01T11:55:00Z' } } as KubeObject;
    assert.deepEqual(defaultTablePrinter.row(obj, NOW), ['admin', '2024-06-01T11:55:00Z']);
    assert.equal(tablePrinterFor('example.com', 'Widget'), defaultTablePrinter);
    assert.equal(tablePrinterFor('', 'Pod'), tablePrinters['/Pod']);
  });

  it('every printer fills every column, even for a bare object', () => {
    for (const [key, printer] of Object.entries(tablePrinters)) {
      const row = printer.row({ metadata: { name: 'x' } } as KubeObject, NOW);
      assert.equal(row.length, printer.columns.length, key);
      assert.ok(row.every((cell) => cell !== undefined && cell !== null), `${key}: ${JSON.stringify(row)}`);
      assert.equal(row[printer.columns.findIndex((c) => c.name === 'Name')] ?? 'x', 'x', key);
    }
  });
});
