/**
 * The Endpoints controller (pkg/controller/endpoint in Kubernetes): for every
 * Service with a selector, an Endpoints object of the same name listing the
 * selected pods that have an IP — ready ones in `addresses`, the others in
 * `notReadyAddresses` — with the ports the service targets on them (named
 * target ports resolved against each pod's container ports), grouped into
 * subsets of addresses that share the same ports.
 *
 * Services without a selector are left alone: their Endpoints belong to the
 * user (and the `kubernetes` service's to the API server). Endpoints without a
 * Service are deleted when the service goes, and once at start-up.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { RESOURCES, splitKey } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { isNamespaceTerminating } from '../serviceaccount/serviceaccounts-controller.js';
import {
  TriggerTimeTracker,
  findPort,
  isHeadless,
  isIPv6,
  isPodReady,
  isServiceIPSet,
  podIPs,
  podServiceKeys,
  publishNotReadyAddresses,
  rfc3339Nano,
  selectorMatches,
  serviceSelector,
  servicePorts,
  servicesToUpdateOnPodChange,
  shouldPodBeInEndpoints,
  shouldSetHostname,
} from './pod-util.js';
import { recorderFor } from '../runtime/events.js';

export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';
const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const LEADER_ELECTION_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
/** Addresses an Endpoints object holds at most; beyond, it is truncated and annotated. */
const MAX_CAPACITY = 1000;

export interface EndpointAddress {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
  appProtocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

/** podToEndpointAddressForService: the pod's IP of the service's family, with its identity. */
function endpointAddress(service: KubeObject, pod: KubeObject): EndpointAddress | undefined {
  const families = (service.spec as { ipFamilies?: string[] } | undefined)?.ipFamilies ?? [];
  const ips = podIPs(pod);
  let wantIPv6: boolean;
  if (families.length > 0) wantIPv6 = families[0] === 'IPv6';
  else if (isServiceIPSet(service)) wantIPv6 = isIPv6(String((service.spec as { clusterIP?: string }).clusterIP));
  else wantIPv6 = isIPv6(ips[0] ?? '');
  const ip = ips.find((candidate) => isIPv6(candidate) === wantIPv6);
  if (!ip) return undefined;
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  return {
    ip,
    ...(shouldSetHostname(pod, service) ? { hostname: (pod.spec as { hostname: string }).hostname } : {}),
    ...(nodeName ? { nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
  };
}

const addressKey = (a: EndpointAddress) => `${a.ip}|${a.targetRef?.uid ?? ''}`;
const portKey = (p: EndpointPort) => JSON.stringify([p.name ?? '', p.port, p.protocol ?? '', p.appProtocol ?? '']);
const compareAddresses = (a: EndpointAddress, b: EndpointAddress) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : addressKey(a) < addressKey(b) ? -1 : addressKey(a) > addressKey(b) ? 1 : 0);
const comparePorts = (a: EndpointPort, b: EndpointPort) => (portKey(a) < portKey(b) ? -1 : portKey(a) > portKey(b) ? 1 : 0);

/**
 * RepackSubsets: one subset per distinct set of addresses sharing the same
 * ports; an address not ready on some port is not ready on it. Sorted so equal
 * content always serializes the same.
 */
export function repackSubsets(entries: { address: EndpointAddress; ready: boolean; port?: EndpointPort }[]): EndpointSubset[] {
  const addresses = new Map<string, EndpointAddress>();
  // port key → address key → ready
  const byPort = new Map<string, { port?: EndpointPort; ready: Map<string, boolean> }>();
  for (const { address, ready, port } of entries) {
    const ak = addressKey(address);
    if (!addresses.has(ak)) addresses.set(ak, address);
    const pk = port ? portKey(port) : 'none';
    let slot = byPort.get(pk);
    if (!slot) byPort.set(pk, (slot = { port, ready: new Map() }));
    const was = slot.ready.get(ak);
    // Not ready always wins.
    if (was === undefined || was) slot.ready.set(ak, ready);
  }
  // Group ports by their exact address set.
  const groups = new Map<string, { ready: Map<string, boolean>; ports: EndpointPort[] }>();
  for (const { port, ready } of byPort.values()) {
    const signature = JSON.stringify([...ready].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    let group = groups.get(signature);
    if (!group) groups.set(signature, (group = { ready, ports: [] }));
    if (port) group.ports.push(port);
  }
  const subsets: EndpointSubset[] = [];
  for (const { ready, ports } of groups.values()) {
    const readyAddresses: EndpointAddress[] = [];
    const notReady: EndpointAddress[] = [];
    for (const [ak, isReady] of ready) (isReady ? readyAddresses : notReady).push(addresses.get(ak)!);
    const subset: EndpointSubset = {};
    if (readyAddresses.length > 0) subset.addresses = readyAddresses.sort(compareAddresses);
    if (notReady.length > 0) subset.notReadyAddresses = notReady.sort(compareAddresses);
    if (ports.length > 0) subset.ports = ports.sort(comparePorts);
    subsets.push(subset);
  }
  const first = (s: EndpointSubset) => (s.addresses ?? s.notReadyAddresses ?? [])[0]?.ip ?? '';
  return subsets.sort((a, b) => (first(a) < first(b) ? -1 : first(a) > first(b) ? 1 : JSON.stringify(a.ports ?? []) < JSON.stringify(b.ports ?? []) ? -1 : 1));
}

/** truncateEndpoints: keep at most MAX_CAPACITY addresses, ready ones first, spread over subsets in proportion. */
function truncate(subsets: EndpointSubset[]): boolean {
  let totalReady = 0;
  let totalNotReady = 0;
  for (const s of subsets) {
    totalReady += s.addresses?.length ?? 0;
    totalNotReady += s.notReadyAddresses?.length ?? 0;
  }
  if (totalReady + totalNotReady <= MAX_CAPACITY) return false;
  const truncateReady = totalReady > MAX_CAPACITY;
  const max = truncateReady ? MAX_CAPACITY : MAX_CAPACITY - totalReady;
  const total = truncateReady ? totalReady : totalNotReady;
  let canBeAdded = max;
  for (const s of subsets) {
    const inSubset = (truncateReady ? s.addresses : s.notReadyAddresses)?.length ?? 0;
    const toBeAdded = Math.min(Math.ceil((inSubset / total) * max), canBeAdded);
    if (truncateReady) {
      s.addresses = s.addresses?.slice(0, toBeAdded);
      delete s.notReadyAddresses;
      canBeAdded -= s.addresses?.length ?? 0;
    } else {
      s.notReadyAddresses = s.notReadyAddresses?.slice(0, toBeAdded);
      canBeAdded -= s.notReadyAddresses?.length ?? 0;
    }
  }
  return true;
}

class EndpointsController implements Controller {
  readonly name = 'endpoint-controller';
  readonly workers = 4;
  private services?: Informer;
  private pods?: Informer;
  private endpoints?: Informer;
  private recorder?: EventRecorder;
  private readonly triggerTimes = new TriggerTimeTracker();

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.recorder = recorderFor(context, 'endpoint-controller');
    this.services = context.informers.informer(RESOURCES.services);
    this.pods = context.informers.informer(RESOURCES.pods);
    this.endpoints = context.informers.informer(RESOURCES.endpoints);
    const services = this.services;
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    services.addHandlers({ onAdd: (s) => enqueue(key(s)), onUpdate: (_old, s) => enqueue(key(s)), onDelete: (s) => enqueue(key(s)) });
    this.pods.addHandlers({
      onAdd: (pod) => podServiceKeys(services, pod).forEach(enqueue),
      onUpdate: (old, pod) => servicesToUpdateOnPodChange(services, old, pod).forEach(enqueue),
      onDelete: (pod) => podServiceKeys(services, pod).forEach(enqueue),
    });
    // Endpoints left over from services deleted while we were not running are found once, at start-up
    // (checkLeftoverEndpoints); later, a deleted Endpoints object is recreated if its service wants one.
    let starting = true;
    void this.endpoints.hasSynced().then(() => (starting = false));
    this.endpoints.addHandlers({
      onAdd: (ep) => {
        if (starting && !ep.metadata.annotations?.[LEADER_ELECTION_ANNOTATION]) enqueue(key(ep));
      },
      onDelete: (ep) => enqueue(key(ep)),
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const client = context.client.resource(RESOURCES.endpoints);
    const service = this.services!.get(key);
    if (!service) {
      // The service is gone: so is its Endpoints object.
      try {
        await client.delete(namespace, name);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
      this.triggerTimes.forget(namespace!, name);
      return;
    }
    if ((service.spec as { type?: string } | undefined)?.type === 'ExternalName') return;
    const selector = serviceSelector(service);
    if (!selector) return;

    const pods = this.pods!.list(namespace).filter((pod) => selectorMatches(selector, pod.metadata.labels));
    const triggerTime = this.triggerTimes.compute(service, pods);
    const tolerateUnready = publishNotReadyAddresses(service);
    const ports = servicePorts(service);
    const entries: { address: EndpointAddress; ready: boolean; port?: EndpointPort }[] = [];
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, tolerateUnready)) continue;
      const address = endpointAddress(service, pod);
      if (!address) continue;
      const ready = tolerateUnready || isPodReady(pod);
      if (ports.length === 0) {
        // A headless service may have no ports: its addresses still count.
        if (isHeadless(service)) entries.push({ address, ready });
        continue;
      }
      for (const servicePort of ports) {
        const port = findPort(pod, servicePort);
        if (port === undefined) continue;
        entries.push({
          address,
          ready,
          port: { ...(servicePort.name ? { name: servicePort.name } : {}), port, protocol: servicePort.protocol ?? 'TCP', ...(servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {}) },
        });
      }
    }
    const subsets = repackSubsets(entries);

    const current = this.endpoints!.get(key);
    const serviceLabels = service.metadata.labels ?? {};
    if (current) {
      const { [HEADLESS_LABEL]: _headless, ...compareLabels } = current.metadata.labels ?? {};
      const overCapacity = subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0) > MAX_CAPACITY;
      const capacityOk = !overCapacity && current.metadata.annotations?.[OVER_CAPACITY] === undefined;
      if (jsonEqual(stripResourceVersions(current.subsets), subsets) && jsonEqual(compareLabels, serviceLabels) && capacityOk) return;
    }

    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
    else delete annotations[LAST_CHANGE_TRIGGER_TIME];
    if (truncate(subsets)) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];
    const labels: Record<string, string> = { ...serviceLabels };
    if (!isServiceIPSet(service)) labels[HEADLESS_LABEL] = '';
    const metadata: KubeObject['metadata'] = { ...(current?.metadata ?? { name }) };
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    else delete metadata.labels;
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
    const next: KubeObject = { ...(current ?? {}), metadata, ...(subsets.length > 0 ? { subsets } : {}) };
    if (subsets.length === 0) delete next.subsets;

    try {
      if (current) await client.update(namespace, next);
      else await client.create(namespace, next);
    } catch (error) {
      // Creating in a terminating namespace will never work: drop the key.
      if (!current && isNamespaceTerminating(error)) return;
      if (error instanceof StatusError && error.code === 409) throw error;
      const event: KubeObject = { ...next, kind: 'Endpoints', apiVersion: 'v1', metadata: { ...next.metadata, namespace } };
      if (current) this.recorder?.event(event, 'Warning', 'FailedToUpdateEndpoint', `Failed to update endpoint ${namespace}/${name}: ${(error as Error).message}`);
      else this.recorder?.event(event, 'Warning', 'FailedToCreateEndpoint', `Failed to create endpoint for service ${namespace}/${name}: ${(error as Error).message}`);
      throw error;
    }
    return;
  }
}

/** Subsets as stored, with targetRef resourceVersions dropped (they do not count as a change). */
function stripResourceVersions(subsets: unknown): unknown {
  if (!Array.isArray(subsets)) return [];
  return subsets.map((subset: EndpointSubset) => {
    const strip = (list?: EndpointAddress[]) => list?.map((a) => ({ ...a, targetRef: a.targetRef && (({ resourceVersion: _rv, ...ref }) => ref)(a.targetRef as EndpointAddress['targetRef'] & { resourceVersion?: string }) }));
    const out: EndpointSubset = { ...subset };
    if (subset.addresses) out.addresses = strip(subset.addresses);
    if (subset.notReadyAddresses) out.notReadyAddresses = strip(subset.notReadyAddresses);
    return out;
  });
}

/**
 * The Endpoints controller. Keys are "namespace/name" of Services.
 * (The Endpoints mirroring controller — Endpoints → EndpointSlices for
 * services without a selector — is not part of Pilote.)
 */
export function endpointsController(): Controller {
  return new EndpointsController();
}
