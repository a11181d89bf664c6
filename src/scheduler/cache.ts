/**
 * The scheduler's incremental view of the cluster (Kubernetes'
 * internal/cache + NodeInfo): per node its allocatable resources, labels,
 * taints, images and the sum of what its pods request, kept up to date from
 * pod and node events and from the scheduler's own assumptions (a pod is
 * counted on its node as soon as it is chosen, before its binding is
 * written). No decision ever re-scans all pods.
 *
 * A scheduling cycle runs synchronously on this cache, so the cache itself is
 * the consistent snapshot Kubernetes copies out at the start of each cycle.
 */
import type { KubeObject } from '../apimachinery/types.js';
import { isObject } from '../apimachinery/types.js';
import { emptyResources, nodeAllocatable, type Resources } from './resources.js';
import type { HostPort, PodInfo, Taint } from './pod-info.js';

const ZONE_LABEL = 'topology.kubernetes.io/zone';
const REGION_LABEL = 'topology.kubernetes.io/region';
const BETA_ZONE_LABEL = 'failure-domain.beta.kubernetes.io/zone';
const BETA_REGION_LABEL = 'failure-domain.beta.kubernetes.io/region';

/** One node and the pods on it (assumed ones included). */
export class NodeInfo {
  /** The Node object; undefined while only pods reference the name (deleted or not yet seen). */
  node: KubeObject | undefined;
  labels: Readonly<Record<string, string>> = {};
  taints: Taint[] = [];
  unschedulable = false;
  hasPreferNoScheduleTaint = false;
  allocatable: Resources = emptyResources();
  allowedPodNumber = 0;
  readonly requested: Resources = emptyResources();
  nonZeroMilliCpu = 0;
  nonZeroMemory = 0;
  /** uid → pod. */
  readonly pods = new Map<string, PodInfo>();
  readonly podsWithAffinity = new Map<string, PodInfo>();
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>();
  /** "TCP/80" → host IP → number of pods using it. */
  private readonly ports = new Map<string, Map<string, number>>();
  /** Normalized image name → size in bytes. */
  images = new Map<string, number>();
  /** Bumped on every change (lets callers notice a node changed). */
  generation = 0;

  constructor(readonly name: string) {}

  setNode(node: KubeObject): void {
    this.node = node;
    this.labels = (node.metadata.labels ?? {}) as Record<string, string>;
    const spec = isObject(node.spec) ? node.spec : {};
    this.unschedulable = spec.unschedulable === true;
    this.taints = (Array.isArray(spec.taints) ? spec.taints.filter(isObject) : []).map((t) => ({
      key: typeof t.key === 'string' ? t.key : '',
      value: typeof t.value === 'string' ? t.value : '',
      effect: typeof t.effect === 'string' ? t.effect : '',
    }));
    this.hasPreferNoScheduleTaint = this.taints.some((t) => t.effect === 'PreferNoSchedule');
    const { resources, pods } = nodeAllocatable(node);
    this.allocatable = resources;
    this.allowedPodNumber = pods;
    const images = new Map<string, number>();
    const status = isObject(node.status) ? node.status : {};
    for (const image of Array.isArray(status.images) ? status.images.filter(isObject) : []) {
      const size = Number(image.sizeBytes) || 0;
      for (const name of Array.isArray(image.names) ? image.names : []) if (typeof name === 'string') images.set(name, size);
    }
    this.images = images;
    this.generation++;
  }

  addPod(pod: PodInfo): void {
    this.pods.set(pod.uid, pod);
    this.account(pod, 1);
    if (pod.hasPodAffinity) this.podsWithAffinity.set(pod.uid, pod);
    if (pod.requiredAntiAffinityTerms.length > 0) this.podsWithRequiredAntiAffinity.set(pod.uid, pod);
    for (const p of pod.hostPorts) this.usePort(p, 1);
    this.generation++;
  }

  /** Removes a pod (by the PodInfo it was added with); false when it was not here. */
  removePod(uid: string): boolean {
    const pod = this.pods.get(uid);
    if (!pod) return false;
    this.pods.delete(uid);
    this.account(pod, -1);
    this.podsWithAffinity.delete(uid);
    this.podsWithRequiredAntiAffinity.delete(uid);
    for (const p of pod.hostPorts) this.usePort(p, -1);
    this.generation++;
    return true;
  }

  private account(pod: PodInfo, sign: 1 | -1): void {
    const r = this.requested;
    r.milliCpu += sign * pod.requests.milliCpu;
    r.memory += sign * pod.requests.memory;
    r.ephemeralStorage += sign * pod.requests.ephemeralStorage;
    if (pod.requests.scalar) {
      r.scalar ??= new Map();
      for (const [name, amount] of pod.requests.scalar) r.scalar.set(name, (r.scalar.get(name) ?? 0) + sign * amount);
    }
    this.nonZeroMilliCpu += sign * pod.nonZeroMilliCpu;
    this.nonZeroMemory += sign * pod.nonZeroMemory;
  }

  private usePort(p: HostPort, delta: number): void {
    const key = `${p.protocol}/${p.port}`;
    let byIp = this.ports.get(key);
    if (!byIp) {
      if (delta < 0) return;
      byIp = new Map();
      this.ports.set(key, byIp);
    }
    const count = (byIp.get(p.ip) ?? 0) + delta;
    if (count > 0) byIp.set(p.ip, count);
    else byIp.delete(p.ip);
    if (byIp.size === 0) this.ports.delete(key);
  }

  /** HostPortInfo.CheckConflict: 0.0.0.0 conflicts with any IP on the same protocol/port, and any IP with 0.0.0.0. */
  portConflicts(p: HostPort): boolean {
    const byIp = this.ports.get(`${p.protocol}/${p.port}`);
    if (!byIp) return false;
    if (p.ip === '0.0.0.0') return byIp.size > 0;
    return byIp.has('0.0.0.0') || byIp.has(p.ip);
  }

  /** A copy with the same node but only the given pods (for preemption's "what if these pods were gone"). */
  withPods(pods: Iterable<PodInfo>): NodeInfo {
    const copy = new NodeInfo(this.name);
    if (this.node) copy.setNode(this.node);
    for (const pod of pods) copy.addPod(pod);
    return copy;
  }
}

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

/** The nodes and the pods placed on them. */
export class SchedulerCache {
  private readonly nodeInfos = new Map<string, NodeInfo>();
  private readonly podStates = new Map<string, PodState>();
  /** Nodes (with a Node object) grouped by zone, in the order zones appeared (Kubernetes' nodeTree). */
  private readonly zones = new Map<string, string[]>();
  private readonly zoneOf = new Map<string, string>();
  private list: NodeInfo[] = [];
  private listDirty = false;
  /** Normalized image name → number of nodes that have it. */
  private readonly imageNodeCounts = new Map<string, number>();
  readonly nodesWithAffinityPods = new Set<NodeInfo>();
  readonly nodesWithRequiredAntiAffinityPods = new Set<NodeInfo>();
  /** Namespace name → labels (for namespaceSelector in affinity terms). */
  readonly namespaceLabels = new Map<string, Readonly<Record<string, string>>>();

  /** Every node that exists, interleaved across zones. */
  nodes(): readonly NodeInfo[] {
    if (this.listDirty) this.rebuildList();
    return this.list;
  }

  get(name: string): NodeInfo | undefined {
    const info = this.nodeInfos.get(name);
    return info?.node ? info : undefined;
  }

  /** Number of nodes that have the image (ImageStateSummary.NumNodes). */
  imageNodeCount(name: string): number {
    return this.imageNodeCounts.get(name) ?? 0;
  }

  hasAnyImage(names: readonly string[]): boolean {
    for (const name of names) if (this.imageNodeCounts.has(name)) return true;
    return false;
  }

  private infoFor(name: string): NodeInfo {
    let info = this.nodeInfos.get(name);
    if (!info) {
      info = new NodeInfo(name);
      this.nodeInfos.set(name, info);
    }
    return info;
  }

  // ---------------------------------------------------------------- nodes

  /** Adds or updates a node. */
  setNode(node: KubeObject): NodeInfo {
    const name = node.metadata.name!;
    const info = this.infoFor(name);
    const hadNode = info.node !== undefined;
    this.countImages(info, -1);
    info.setNode(node);
    this.countImages(info, 1);
    const zone = zoneKey(info.labels);
    const previousZone = this.zoneOf.get(name);
    if (!hadNode || previousZone !== zone) {
      if (previousZone !== undefined) this.removeFromZone(name, previousZone);
      this.zoneOf.set(name, zone);
      let members = this.zones.get(zone);
      if (!members) {
        members = [];
        this.zones.set(zone, members);
      }
      members.push(name);
      this.listDirty = true;
    }
    return info;
  }

  removeNode(name: string): void {
    const info = this.nodeInfos.get(name);
    if (!info?.node) return;
    this.countImages(info, -1);
    info.node = undefined;
    const zone = this.zoneOf.get(name);
    if (zone !== undefined) this.removeFromZone(name, zone);
    this.zoneOf.delete(name);
    this.listDirty = true;
    // The pods stay accounted until their own deletion arrives (as Kubernetes keeps a node-less NodeInfo).
    if (info.pods.size === 0) this.nodeInfos.delete(name);
  }

  private removeFromZone(name: string, zone: string): void {
    const members = this.zones.get(zone);
    if (!members) return;
    const i = members.indexOf(name);
    if (i >= 0) members.splice(i, 1);
    if (members.length === 0) this.zones.delete(zone);
  }

  private countImages(info: NodeInfo, sign: 1 | -1): void {
    if (!info.node) return;
    for (const name of info.images.keys()) {
      const n = (this.imageNodeCounts.get(name) ?? 0) + sign;
      if (n > 0) this.imageNodeCounts.set(name, n);
      else this.imageNodeCounts.delete(name);
    }
  }

  /** Round-robin over zones, so that sampling a prefix of the list visits every zone. */
  private rebuildList(): void {
    const zones = [...this.zones.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; ; i++) {
      let any = false;
      for (const members of zones) {
        if (i < members.length) {
          any = true;
          out.push(this.nodeInfos.get(members[i]!)!);
        }
      }
      if (!any) break;
    }
    this.list = out;
    this.listDirty = false;
  }

  // ---------------------------------------------------------------- pods

  /** A pod the API says is on a node (bound, not terminal). Confirms an assumption if there was one. */
  setPod(info: PodInfo): void {
    const existing = this.podStates.get(info.uid);
    if (existing) this.detach(existing);
    this.attach({ info, nodeName: info.nodeName, assumed: false });
  }

  /** The pod is gone (deleted or terminal). */
  removePod(uid: string): void {
    const existing = this.podStates.get(uid);
    if (!existing) return;
    this.detach(existing);
    this.podStates.delete(uid);
  }

  /** Counts a pod on a node before its binding is written. */
  assumePod(info: PodInfo, nodeName: string): void {
    const existing = this.podStates.get(info.uid);
    if (existing) this.detach(existing);
    this.attach({ info, nodeName, assumed: true });
  }

  /**
   * Confirms an assumed pod from the bound object the API sent back, when
   * nothing but the binding changed since the object it was scheduled from
   * (the next resourceVersion after it, on the assumed node): the parsed pod
   * is kept, so nothing is parsed or re-accounted. False when the object
   * must go through setPod instead.
   */
  confirmBinding(previousResourceVersion: string | undefined, pod: KubeObject, nodeName: string): boolean {
    const state = this.podStates.get(pod.metadata.uid ?? '');
    if (!state?.assumed || state.nodeName !== nodeName) return false;
    if (previousResourceVersion === undefined || state.info.pod.metadata.resourceVersion !== previousResourceVersion) return false;
    state.info.pod = pod;
    state.info.nodeName = nodeName;
    state.assumed = false;
    return true;
  }

  /** Undoes an assumption whose binding failed (a pod confirmed meanwhile stays). */
  forgetPod(uid: string): void {
    const existing = this.podStates.get(uid);
    if (existing?.assumed) {
      this.detach(existing);
      this.podStates.delete(uid);
    }
  }

  isAssumed(uid: string): boolean {
    return this.podStates.get(uid)?.assumed === true;
  }

  /** The node a pod is counted on (assumed or confirmed). */
  nodeOfPod(uid: string): string | undefined {
    return this.podStates.get(uid)?.nodeName;
  }

  get podCount(): number {
    return this.podStates.size;
  }

  private attach(state: PodState): void {
    this.podStates.set(state.info.uid, state);
    const node = this.infoFor(state.nodeName);
    node.addPod(state.info);
    this.trackAffinity(node);
  }

  private detach(state: PodState): void {
    const node = this.nodeInfos.get(state.nodeName);
    if (!node) return;
    node.removePod(state.info.uid);
    this.trackAffinity(node);
    if (!node.node && node.pods.size === 0) this.nodeInfos.delete(node.name);
  }

  private trackAffinity(node: NodeInfo): void {
    if (node.podsWithAffinity.size > 0) this.nodesWithAffinityPods.add(node);
    else this.nodesWithAffinityPods.delete(node);
    if (node.podsWithRequiredAntiAffinity.size > 0) this.nodesWithRequiredAntiAffinityPods.add(node);
    else this.nodesWithRequiredAntiAffinityPods.delete(node);
  }
}

/** The zone a node belongs to for spreading the node list (utilnode.GetZoneKey). */
function zoneKey(labels: Readonly<Record<string, string>>): string {
  const zone = labels[ZONE_LABEL] ?? labels[BETA_ZONE_LABEL] ?? '';
  const region = labels[REGION_LABEL] ?? labels[BETA_REGION_LABEL] ?? '';
  return zone === '' && region === '' ? '' : `${region}:\x00:${zone}`;
}
