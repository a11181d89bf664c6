/**
 * The node's registration, status and heartbeat, as the kubelet's
 * kubelet_node_status.go and nodestatus setters do it: the Node object with
 * this machine's capacity, allocatable, addresses, node info and images; the
 * four conditions from real checks (memory, disk, PIDs, runtime readiness);
 * a Lease in kube-node-lease renewed every 10 s; the status re-sent when it
 * changes or every 5 minutes (nodeStatusReportFrequency).
 */
import { readFileSync, statfsSync, readdirSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import type { AgentConfig } from '../agent/config.js';
import { StatusError } from '../apimachinery/errors.js';
import { timestamp } from '../apimachinery/meta.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';
import { SERVER_VERSION } from '../apiserver/api-server.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { ClientEventRecorder } from '../controllers/runtime/events.js';
import { goArch, leaseObject, microTime, NODE_ANNOTATIONS, NODE_LEASE_NAMESPACE } from '../simulated/node-template.js';
import { logger } from '../util/log.js';
import type { CriClient } from './cri/client.js';

const log = logger('node-status');

/** The kubelet's default maxPods. */
export const MAX_PODS = 110;
/** The kubelet's nodeStatusMaxImages. */
const MAX_IMAGES = 50;
/** Hard eviction defaults of the kubelet: memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%. */
export const EVICTION = { memoryAvailableBytes: 100 * 1024 * 1024, nodefsAvailableRatio: 0.1, inodesFreeRatio: 0.05, pidAvailableRatio: 0.1 };

export interface NodeStatusOptions {
  client: ApiClient;
  config: AgentConfig;
  cri: CriClient;
  /** Port of the kubelet's HTTPS server (status.daemonEndpoints.kubeletEndpoint.Port). */
  kubeletPort: number;
  /** containerd's version as CRI reports it ("1.6.20~ds1"). */
  runtimeVersion: string;
  /** Label the node node-role.kubernetes.io/control-plane (the server's own node). */
  controlPlane?: boolean;
  /** Lease renewal period (default 10 s). */
  leaseRenewMs?: number;
  /** How often the status is computed and sent if changed (default 10 s, nodeStatusUpdateFrequency). */
  statusUpdateMs?: number;
  /** Status re-sent unchanged after this long (default 5 min, nodeStatusReportFrequency). */
  statusReportMs?: number;
}

/** A running node status loop. */
export interface RunningNodeStatus {
  /** Recomputes and sends the status now (e.g. after the runtime changed). */
  refresh(): Promise<void>;
  stop(): void;
}

/** What the machine measures right now. */
export interface MachineSample {
  cpuCount: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
  fsTotalBytes: number;
  fsAvailableBytes: number;
  inodesTotal: number;
  inodesFree: number;
  pidMax: number;
  pidsInUse: number;
}

function meminfo(): { total: number; available: number } {
  try {
    const text = readFileSync('/proc/meminfo', 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) * 1024;
    return { total: field('MemTotal'), available: field('MemAvailable') };
  } catch {
    return { total: totalmem(), available: totalmem() };
  }
}

/** Measures CPUs, memory, the data dir's filesystem and PIDs. */
export function sampleMachine(dataDir: string): MachineSample {
  const memory = meminfo();
  const fs = statfsSync(dataDir);
  let pidMax = 32768;
  try {
    pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim()) || pidMax;
  } catch {
    /* default */
  }
  let pidsInUse = 0;
  try {
    pidsInUse = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).length;
  } catch {
    /* unknown */
  }
  return {
    cpuCount: cpus().length,
    memoryTotalBytes: memory.total,
    memoryAvailableBytes: memory.available,
    fsTotalBytes: fs.blocks * fs.bsize,
    fsAvailableBytes: fs.bavail * fs.bsize,
    inodesTotal: fs.files,
    inodesFree: fs.ffree,
    pidMax,
    pidsInUse,
  };
}

/** Capacity and allocatable (allocatable = capacity minus the hard-eviction reserves). */
export function nodeResources(sample: MachineSample): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const memoryKi = Math.floor(sample.memoryTotalBytes / 1024);
  const cpu = String(sample.cpuCount);
  const pods = String(MAX_PODS);
  return {
    capacity: {
      cpu,
      'ephemeral-storage': `${Math.floor(sample.fsTotalBytes / 1024)}Ki`,
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: `${memoryKi}Ki`,
      pods,
    },
    allocatable: {
      cpu,
      'ephemeral-storage': String(Math.floor(sample.fsTotalBytes * (1 - EVICTION.nodefsAvailableRatio))),
      'hugepages-1Gi': '0',
      'hugepages-2Mi': '0',
      memory: `${Math.max(0, memoryKi - EVICTION.memoryAvailableBytes / 1024)}Ki`,
      pods,
    },
  };
}

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
}

/** The pressure conditions from a machine sample, with the kubelet's reasons and messages. */
export function pressureConditions(sample: MachineSample): Condition[] {
  const memoryPressure = sample.memoryAvailableBytes < EVICTION.memoryAvailableBytes;
  const diskPressure =
    sample.fsAvailableBytes < sample.fsTotalBytes * EVICTION.nodefsAvailableRatio ||
    (sample.inodesTotal > 0 && sample.inodesFree < sample.inodesTotal * EVICTION.inodesFreeRatio);
  // The kubelet has no default PID threshold; 10 % of pid_max left is a conservative one.
  const pidPressure = sample.pidMax - sample.pidsInUse < sample.pidMax * EVICTION.pidAvailableRatio;
  return [
    memoryPressure
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    diskPressure
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    pidPressure
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  ];
}

/** The Ready condition from CRI's runtime conditions (the kubelet's runtime and network checks). */
export async function readyCondition(cri: CriClient): Promise<Condition> {
  const problems: string[] = [];
  try {
    const status = await cri.status(false, { timeoutMs: 5_000 });
    const conditions = status.status?.conditions ?? [];
    const runtime = conditions.find((c) => c.type === 'RuntimeReady');
    const network = conditions.find((c) => c.type === 'NetworkReady');
    if (!runtime?.status) problems.push(`container runtime is down: RuntimeReady=false reason:${runtime?.reason ?? ''} message:${runtime?.message ?? ''}`);
    if (!network?.status) problems.push(`container runtime network not ready: NetworkReady=false reason:${network?.reason ?? ''} message:${network?.message ?? ''}`);
  } catch (error) {
    problems.push(`container runtime status check may not have completed yet: ${(error as Error).message}`);
  }
  if (problems.length) return { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: problems.join(', ') };
  return { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/** PRETTY_NAME of /etc/os-release, as the kubelet's osImage. */
export function osImage(): string {
  const text = readOr('/etc/os-release', '');
  const match = /^PRETTY_NAME=(.*)$/m.exec(text);
  return match ? match[1]!.replace(/^["']|["']$/g, '') : 'Linux';
}

/** "1.6.20~ds1" → "containerd://1.6.20" (distribution suffixes dropped, as upstream builds report it). */
export function containerRuntimeVersion(runtimeVersion: string, runtimeName = 'containerd'): string {
  return `${runtimeName}://${runtimeVersion.replace(/[~+].*$/, '')}`;
}

/** The kubelet version this node reports: the API server's minor version, as a same-release kubelet. */
export const KUBELET_VERSION = SERVER_VERSION.gitVersion;

/** Node labels a kubelet sets. */
export function nodeLabels(config: AgentConfig, controlPlane: boolean): Record<string, string> {
  const arch = goArch();
  return {
    'beta.kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'kubernetes.io/hostname': config.nodeName,
    'kubernetes.io/os': 'linux',
    ...(controlPlane ? { 'node-role.kubernetes.io/control-plane': 'true' } : {}),
  };
}

/** The node's image list: the 50 largest, names = repo digests then tags (the kubelet's order). */
async function imageList(cri: CriClient): Promise<{ names: string[]; sizeBytes: number }[]> {
  const images = await cri.listImages();
  return images
    .map((image) => ({ names: [...image.repoDigests, ...image.repoTags], sizeBytes: image.size }))
    .filter((image) => image.names.length > 0)
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, MAX_IMAGES);
}

const isCode = (error: unknown, code: number): boolean => error instanceof StatusError && error.code === code;

/** Status minus heartbeat times: what decides whether something changed. */
function fingerprint(status: Record<string, unknown>): string {
  const conditions = (status.conditions as Condition[]).map(({ lastHeartbeatTime: _h, lastTransitionTime: _t, ...rest }) => rest);
  return JSON.stringify({ ...status, conditions });
}

/**
 * Registers (or updates) this machine's Node, then keeps its Lease and status
 * fresh until stop(). Resolves once the Node and Lease exist.
 */
export async function startNodeStatus(opts: NodeStatusOptions): Promise<RunningNodeStatus> {
  const { client, config, cri } = opts;
  const nodes = client.resource(RESOURCES.nodes);
  const leases = client.resource(RESOURCES.leases);
  const recorder = new ClientEventRecorder(client, 'kubelet', config.nodeName);
  const nodeRef: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: config.nodeName, uid: config.nodeName } };
  const leaseRenewMs = opts.leaseRenewMs ?? 10_000;
  const statusUpdateMs = opts.statusUpdateMs ?? 10_000;
  const statusReportMs = opts.statusReportMs ?? 300_000;
  const controlPlane = opts.controlPlane ?? false;
  const bootID = readOr('/proc/sys/kernel/random/boot_id', '');
  const machineID = readOr('/etc/machine-id', '');
  const systemUUID = readOr('/sys/class/dmi/id/product_uuid', machineID.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12}).*$/, '$1-$2-$3-$4-$5'));

  let lastSent = '';
  let lastSentAt = 0;
  let nodeUid: string | undefined;

  /** The status to send, keeping transition times of conditions whose status did not change. */
  async function computeStatus(existing: KubeObject | undefined): Promise<Record<string, unknown>> {
    const now = timestamp();
    const sample = sampleMachine(config.dataDir);
    const previous = new Map<string, Condition>();
    const existingConditions = existing && isObject(existing.status) && Array.isArray(existing.status.conditions) ? existing.status.conditions : [];
    for (const c of existingConditions as Condition[]) previous.set(c.type, c);
    const conditions = [...pressureConditions(sample), await readyCondition(cri)].map((c) => {
      const before = previous.get(c.type);
      const since = before && before.status === c.status && before.lastTransitionTime ? before.lastTransitionTime : now;
      return { ...c, lastHeartbeatTime: now, lastTransitionTime: since };
    });
    let images: { names: string[]; sizeBytes: number }[] = [];
    try {
      images = await imageList(cri);
    } catch (error) {
      log.warn('could not list images', { error: (error as Error).message });
    }
    return {
      ...nodeResources(sample),
      conditions,
      addresses: [
        { type: 'InternalIP', address: config.nodeIp },
        { type: 'Hostname', address: config.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: opts.kubeletPort } },
      nodeInfo: {
        machineID,
        systemUUID,
        bootID,
        kernelVersion: release(),
        osImage: osImage(),
        containerRuntimeVersion: containerRuntimeVersion(opts.runtimeVersion),
        kubeletVersion: KUBELET_VERSION,
        // 1.32 still reports it (DisableNodeKubeProxyVersion is off by default).
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: goArch(),
      },
      images,
    };
  }

  /** Emits NodeHas…/NodeReady/NodeNotReady events for conditions that changed, as the kubelet does. */
  function conditionEvents(before: KubeObject | undefined, status: Record<string, unknown>): void {
    const old = new Map<string, string>();
    if (before && isObject(before.status) && Array.isArray(before.status.conditions)) for (const c of before.status.conditions as Condition[]) old.set(c.type, c.reason);
    for (const c of status.conditions as Condition[]) {
      if (old.get(c.type) === c.reason) continue;
      const event = c.type === 'Ready' ? (c.status === 'True' ? 'NodeReady' : 'NodeNotReady') : c.reason.replace(/^Kubelet/, 'Node');
      recorder.event(nodeRef, 'Normal', event, `Node ${config.nodeName} status is now: ${event}`);
    }
  }

  async function register(): Promise<void> {
    let existing: KubeObject | undefined;
    try {
      existing = await nodes.get(undefined, config.nodeName);
    } catch (error) {
      if (!isCode(error, 404)) throw error;
    }
    const status = await computeStatus(existing);
    const labels = nodeLabels(config, controlPlane);
    if (!existing) {
      try {
        const created = await nodes.create(undefined, {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: { name: config.nodeName, labels, annotations: { ...NODE_ANNOTATIONS } },
          spec: { podCIDR: config.podCidr, podCIDRs: [config.podCidr] },
          status,
        });
        nodeUid = created.metadata.uid;
        // Some API servers drop status on create: make sure it is there.
        await nodes.patch(undefined, config.nodeName, 'strategic', { status }, 'status');
        recorder.event(nodeRef, 'Normal', 'Starting', 'Starting kubelet.');
        recorder.event(nodeRef, 'Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
        conditionEvents(undefined, status);
        lastSent = fingerprint(status);
        lastSentAt = Date.now();
        return;
      } catch (error) {
        if (!isCode(error, 409)) throw error;
        existing = await nodes.get(undefined, config.nodeName);
      }
    }
    // Registered before (a restart): reconcile what a kubelet owns, keep the rest (taints, other labels).
    nodeUid = existing.metadata.uid;
    const metaPatch: Record<string, unknown> = {};
    if (Object.entries(labels).some(([k, v]) => existing!.metadata.labels?.[k] !== v)) metaPatch.labels = labels;
    if (Object.entries(NODE_ANNOTATIONS).some(([k, v]) => existing!.metadata.annotations?.[k] !== v)) metaPatch.annotations = NODE_ANNOTATIONS;
    const spec = (existing as { spec?: { podCIDR?: string } }).spec;
    const patch: Record<string, unknown> = {};
    if (Object.keys(metaPatch).length) patch.metadata = metaPatch;
    if (!spec?.podCIDR) patch.spec = { podCIDR: config.podCidr, podCIDRs: [config.podCidr] };
    else if (spec.podCIDR !== config.podCidr) log.warn('node already has another podCIDR; pods get addresses from the configured one', { node: config.nodeName, podCIDR: spec.podCIDR, configured: config.podCidr });
    if (Object.keys(patch).length) await nodes.patch(undefined, config.nodeName, 'merge', patch);
    await nodes.patch(undefined, config.nodeName, 'strategic', { status }, 'status');
    recorder.event(nodeRef, 'Normal', 'Starting', 'Starting kubelet.');
    conditionEvents(existing, status);
    lastSent = fingerprint(status);
    lastSentAt = Date.now();
  }

  async function renewLease(): Promise<void> {
    try {
      await leases.patch(NODE_LEASE_NAMESPACE, config.nodeName, 'merge', { spec: { holderIdentity: config.nodeName, leaseDurationSeconds: 40, renewTime: microTime() } });
    } catch (error) {
      if (!isCode(error, 404)) throw error;
      await leases.create(NODE_LEASE_NAMESPACE, leaseObject(config.nodeName, nodeUid));
    }
  }

  async function updateStatus(): Promise<void> {
    let existing: KubeObject | undefined;
    try {
      existing = await nodes.get(undefined, config.nodeName);
    } catch (error) {
      if (!isCode(error, 404)) throw error;
      // Deleted under us: register again, as the kubelet does.
      await register();
      return;
    }
    const status = await computeStatus(existing);
    const print = fingerprint(status);
    // Compare with what the API holds too: the node lifecycle controller may have set Ready=Unknown.
    const current = existing.status ? fingerprint({ ...status, conditions: (existing.status as { conditions?: Condition[] }).conditions ?? [] }) : '';
    if (print === lastSent && print === current && Date.now() - lastSentAt < statusReportMs) return;
    await nodes.patch(undefined, config.nodeName, 'strategic', { status }, 'status');
    conditionEvents(existing, status);
    lastSent = print;
    lastSentAt = Date.now();
  }

  await register();
  await renewLease();

  let stopped = false;
  let statusBusy: Promise<void> | undefined;
  const runStatus = (): Promise<void> => {
    statusBusy ??= updateStatus()
      .catch((error: Error) => log.warn('node status update failed', { node: config.nodeName, error: error.message }))
      .finally(() => {
        statusBusy = undefined;
      });
    return statusBusy;
  };
  let leaseBusy = false;
  const leaseTimer = setInterval(() => {
    if (stopped || leaseBusy) return;
    leaseBusy = true;
    renewLease()
      .catch((error: Error) => log.warn('lease renewal failed', { node: config.nodeName, error: error.message }))
      .finally(() => {
        leaseBusy = false;
      });
  }, leaseRenewMs);
  const statusTimer = setInterval(() => {
    if (!stopped) void runStatus();
  }, statusUpdateMs);
  leaseTimer.unref();
  statusTimer.unref();
  log.info('node registered', { node: config.nodeName, podCIDR: config.podCidr });

  return {
    refresh: () => runStatus(),
    stop() {
      stopped = true;
      clearInterval(leaseTimer);
      clearInterval(statusTimer);
    },
  };
}
