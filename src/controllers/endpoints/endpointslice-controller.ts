/**
 * The EndpointSlice controller (pkg/controller/endpointslice and
 * k8s.io/endpointslice in Kubernetes): for every Service with a selector,
 * EndpointSlices named `<service>-<5 random>` holding the selected pods that
 * have an IP, with their readiness as conditions (ready, serving,
 * terminating), node, zone, hostname and target reference. Endpoints that
 * expose the same ports share slices of up to 100 endpoints; a service with
 * no endpoints keeps one empty placeholder slice. Slices carry an
 * ownerReference to their Service, so the garbage collector removes them
 * with it.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { RESOURCES, splitKey, type ResourceClient } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import { isNamespaceTerminating } from '../serviceaccount/serviceaccounts-controller.js';
import { HEADLESS_LABEL, LAST_CHANGE_TRIGGER_TIME } from './endpoints-controller.js';
import {
  TriggerTimeTracker,
  findPort,
  isHeadless,
  isIPv6,
  isPodReady,
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

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const TOPOLOGY_ZONE_LABEL = 'topology.kubernetes.io/zone';
/** Endpoints per slice (--max-endpoints-per-slice default). */
const MAX_ENDPOINTS_PER_SLICE = 100;

export interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
  nodeName?: string;
  zone?: string;
}

export interface SlicePort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

type AddressType = 'IPv4' | 'IPv6';

interface Slice extends KubeObject {
  addressType: AddressType;
  endpoints: SliceEndpoint[] | null;
  ports: SlicePort[] | null;
}

/** A slice about to be written: created (no name yet) or updated. */
interface Planned {
  slice: Slice;
  existing?: Slice;
}

const endpointKey = (ep: SliceEndpoint) => ep.targetRef?.uid ?? ep.addresses[0]!;
const portsKey = (ports: SlicePort[] | null) => JSON.stringify((ports ?? []).map((p) => [p.name, p.protocol, p.port, p.appProtocol ?? '']).sort());

export interface EndpointSliceControllerOptions {
  /** Endpoints per slice (default 100). */
  maxEndpointsPerSlice?: number;
}

class EndpointSliceController implements Controller {
  readonly name = 'endpointslice-controller';
  readonly workers = 4;
  private services?: Informer;
  private pods?: Informer;
  private nodes?: Informer;
  private slices?: Informer;
  private readonly triggerTimes = new TriggerTimeTracker();
  private readonly maxPerSlice: number;
  /**
   * What we wrote and the cache may not show yet, per service: slice name →
   * resourceVersion written, or null for deleted (the endpointSliceTracker):
   * acting on a stale cache would create duplicate slices.
   */
  private readonly written = new Map<string, Map<string, string | null>>();

  constructor(options: EndpointSliceControllerOptions) {
    this.maxPerSlice = options.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.services = context.informers.informer(RESOURCES.services);
    this.pods = context.informers.informer(RESOURCES.pods);
    this.nodes = context.informers.informer(RESOURCES.nodes);
    // Only the slices this controller manages.
    this.slices = context.informers.informer(RESOURCES.endpointSlices, { labelSelector: `${MANAGED_BY_LABEL}=${CONTROLLER_NAME}` });
    const services = this.services;
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    services.addHandlers({ onAdd: (s) => enqueue(key(s)), onUpdate: (_old, s) => enqueue(key(s)), onDelete: (s) => enqueue(key(s)) });
    this.pods.addHandlers({
      onAdd: (pod) => podServiceKeys(services, pod).forEach(enqueue),
      onUpdate: (old, pod) => servicesToUpdateOnPodChange(services, old, pod).forEach(enqueue),
      onDelete: (pod) => podServiceKeys(services, pod).forEach(enqueue),
    });
    // A slice changed or removed by someone else is put back.
    const sliceChanged = (slice: KubeObject) => {
      const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (service) enqueue(`${slice.metadata.namespace}/${service}`);
    };
    this.slices.addHandlers({ onAdd: sliceChanged, onUpdate: (_old, s) => sliceChanged(s), onDelete: sliceChanged });
    // Pods on a node that was not known yet (or changed zone) are reconsidered.
    const nodeChanged = (node: KubeObject) => {
      for (const pod of this.pods!.list()) {
        if ((pod.spec as { nodeName?: string } | undefined)?.nodeName === node.metadata.name) podServiceKeys(services, pod).forEach(enqueue);
      }
    };
    this.nodes.addHandlers({
      onAdd: nodeChanged,
      onUpdate: (old, node) => {
        if (old.metadata.labels?.[TOPOLOGY_ZONE_LABEL] !== node.metadata.labels?.[TOPOLOGY_ZONE_LABEL]) nodeChanged(node);
      },
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const service = this.services!.get(key);
    if (!service) {
      // Its slices go with it (ownerReferences → garbage collector).
      this.triggerTimes.forget(namespace!, name);
      this.written.delete(key);
      return;
    }
    if ((service.spec as { type?: string } | undefined)?.type === 'ExternalName') return;
    const selector = serviceSelector(service);
    if (!selector) return;
    if (this.cacheIsStale(key, namespace!)) return { requeueAfterMs: 20 };

    const pods = this.pods!.list(namespace).filter((pod) => selectorMatches(selector, pod.metadata.labels));
    const triggerTime = this.triggerTimes.compute(service, pods);
    const families = ((service.spec as { ipFamilies?: string[] } | undefined)?.ipFamilies ?? ['IPv4']).filter((f): f is AddressType => f === 'IPv4' || f === 'IPv6');
    const owned = this.slices!.list(namespace).filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === name) as Slice[];
    const missingNodes: string[] = [];
    for (const addressType of families) {
      await this.reconcileAddressType(service, pods, owned, addressType, triggerTime, missingNodes, context);
    }
    // Slices of a family the service no longer has.
    for (const slice of owned.filter((s) => !families.includes(s.addressType))) await this.deleteSlice(context, key, slice);
    if (missingNodes.length > 0) throw new Error(`skipping pods for service ${key}: nodes not found: ${[...new Set(missingNodes)].join(', ')}`);
    return;
  }

  /** Whether the cache lags behind our own writes for this service. */
  private cacheIsStale(key: string, namespace: string): boolean {
    const written = this.written.get(key);
    if (!written) return false;
    for (const [sliceName, rv] of written) {
      const cached = this.slices!.get(`${namespace}/${sliceName}`);
      const caughtUp = rv === null ? !cached : cached !== undefined && Number(cached.metadata.resourceVersion) >= Number(rv);
      if (caughtUp) written.delete(sliceName);
    }
    if (written.size === 0) this.written.delete(key);
    return written.size > 0;
  }

  private remember(key: string, sliceName: string, rv: string | null): void {
    let written = this.written.get(key);
    if (!written) this.written.set(key, (written = new Map()));
    written.set(sliceName, rv);
  }

  /** The reconciler of one address type: desired endpoints by port set, fitted into the existing slices. */
  private async reconcileAddressType(
    service: KubeObject,
    pods: KubeObject[],
    allOwned: Slice[],
    addressType: AddressType,
    triggerTime: Date | undefined,
    missingNodes: string[],
    context: ControllerContext,
  ): Promise<void> {
    const key = `${service.metadata.namespace}/${service.metadata.name}`;
    const desired = new Map<string, { ports: SlicePort[]; endpoints: Map<string, SliceEndpoint> }>();
    for (const pod of pods) {
      if (!shouldPodBeInEndpoints(pod, true)) continue;
      const ports = endpointPorts(service, pod);
      const pk = portsKey(ports);
      let group = desired.get(pk);
      if (!group) desired.set(pk, (group = { ports, endpoints: new Map() }));
      const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName ?? '';
      const node = nodeName ? this.nodes!.get(nodeName) : undefined;
      if (!node && !publishNotReadyAddresses(service)) {
        // A pod on an unknown node is left out for now (and the service retried).
        missingNodes.push(nodeName || `<none> (pod ${pod.metadata.name})`);
        continue;
      }
      const endpoint = podToEndpoint(pod, node, service, addressType);
      if (endpoint.addresses.length > 0) group.endpoints.set(endpointKey(endpoint), endpoint);
    }

    // The slices of this service and family, ours (owned by this very service object) or to be replaced.
    const existing = allOwned.filter((s) => s.addressType === addressType);
    const toDelete: Slice[] = [];
    const toUpdate: Planned[] = [];
    const unchanged: Slice[] = [];
    const wantedLabels = sliceLabels(service);
    for (const slice of existing) {
      const group = desired.get(portsKey(slice.ports));
      if (!group || !ownedBy(slice, service)) {
        toDelete.push(slice);
        continue;
      }
      let changed = false;
      const kept: SliceEndpoint[] = [];
      for (const ep of slice.endpoints ?? []) {
        const want = group.endpoints.get(endpointKey(ep));
        if (!want) {
          changed = true;
          continue;
        }
        if (!jsonEqual(want, ep)) changed = true;
        kept.push(want);
        group.endpoints.delete(endpointKey(ep));
      }
      if (kept.length === 0 && (slice.endpoints?.length ?? 0) > 0) {
        toDelete.push(slice);
        continue;
      }
      if (changed || !jsonEqual(slice.metadata.labels, wantedLabels)) toUpdate.push({ existing: slice, slice: { ...slice, endpoints: kept } });
      else unchanged.push(slice);
    }

    // Endpoints not placed yet: fill slices being updated, then untouched ones, then new slices.
    const toCreate: Planned[] = [];
    for (const [pk, group] of desired) {
      const remaining = [...group.endpoints.values()];
      for (const planned of toUpdate) {
        if (portsKey(planned.slice.ports) !== pk) continue;
        while (remaining.length > 0 && (planned.slice.endpoints ?? []).length < this.maxPerSlice) planned.slice.endpoints = [...(planned.slice.endpoints ?? []), remaining.shift()!];
      }
      for (const slice of [...unchanged]) {
        if (remaining.length === 0) break;
        if (portsKey(slice.ports) !== pk || (slice.endpoints?.length ?? 0) >= this.maxPerSlice) continue;
        const planned: Planned = { existing: slice, slice: { ...slice, endpoints: [...(slice.endpoints ?? [])] } };
        while (remaining.length > 0 && planned.slice.endpoints!.length < this.maxPerSlice) planned.slice.endpoints!.push(remaining.shift()!);
        unchanged.splice(unchanged.indexOf(slice), 1);
        toUpdate.push(planned);
      }
      while (remaining.length > 0) {
        toCreate.push({ slice: newSlice(service, addressType, group.ports, remaining.splice(0, this.maxPerSlice)) });
      }
    }

    // No endpoints at all: one empty placeholder slice stands for the service.
    if (existing.length === toDelete.length && toCreate.length === 0) {
      const placeholder = toDelete.find((s) => isPlaceholder(s) && ownedBy(s, service));
      if (placeholder) {
        toDelete.splice(toDelete.indexOf(placeholder), 1);
        if (!jsonEqual(placeholder.metadata.labels, wantedLabels)) toUpdate.push({ existing: placeholder, slice: { ...placeholder } });
      } else toCreate.push({ slice: newSlice(service, addressType, [], []) });
    }

    const client = context.client.resource(RESOURCES.endpointSlices);
    const annotate = (slice: Slice) => {
      const annotations = { ...(slice.metadata.annotations ?? {}) };
      if (triggerTime) annotations[LAST_CHANGE_TRIGGER_TIME] = rfc3339Nano(triggerTime);
      else delete annotations[LAST_CHANGE_TRIGGER_TIME];
      slice.metadata = { ...slice.metadata, labels: { ...wantedLabels }, annotations };
      if (Object.keys(annotations).length === 0) delete slice.metadata.annotations;
      if ((slice.endpoints ?? []).length === 0) slice.endpoints = null;
      if ((slice.ports ?? []).length === 0) slice.ports = null;
    };
    for (const { slice } of toCreate) {
      annotate(slice);
      try {
        const created = await client.create(service.metadata.namespace, slice);
        this.remember(key, created.metadata.name!, created.metadata.resourceVersion!);
      } catch (error) {
        if (isNamespaceTerminating(error)) return;
        throw error;
      }
    }
    for (const { slice } of toUpdate) {
      annotate(slice);
      const updated = await client.update(service.metadata.namespace, slice);
      this.remember(key, updated.metadata.name!, updated.metadata.resourceVersion!);
    }
    for (const slice of toDelete) await this.deleteSlice(context, key, slice, client);
  }

  private async deleteSlice(context: ControllerContext, key: string, slice: KubeObject, client?: ResourceClient): Promise<void> {
    try {
      await (client ?? context.client.resource(RESOURCES.endpointSlices)).delete(slice.metadata.namespace, slice.metadata.name!, { preconditions: { uid: slice.metadata.uid } });
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) throw error;
    }
    this.remember(key, slice.metadata.name!, null);
  }
}

/** getEndpointPorts: the service's ports as this pod serves them (ports it does not have are left out). */
function endpointPorts(service: KubeObject, pod: KubeObject): SlicePort[] {
  const ports = servicePorts(service);
  if (ports.length === 0 && isHeadless(service)) return [];
  const out: SlicePort[] = [];
  for (const servicePort of ports) {
    const port = findPort(pod, servicePort);
    if (port === undefined) continue;
    out.push({ name: servicePort.name ?? '', protocol: servicePort.protocol ?? 'TCP', port, ...(servicePort.appProtocol ? { appProtocol: servicePort.appProtocol } : {}) });
  }
  return out;
}

/** podToEndpoint. Ready is never true for a terminating pod unless the service publishes not-ready addresses. */
function podToEndpoint(pod: KubeObject, node: KubeObject | undefined, service: KubeObject, addressType: AddressType): SliceEndpoint {
  const serving = isPodReady(pod);
  const terminating = Boolean(pod.metadata.deletionTimestamp);
  const ready = publishNotReadyAddresses(service) || (serving && !terminating);
  const addresses = podIPs(pod)
    .filter((ip) => isIPv6(ip) === (addressType === 'IPv6'))
    .slice(0, 1);
  const nodeName = (pod.spec as { nodeName?: string } | undefined)?.nodeName;
  const zone = node?.metadata.labels?.[TOPOLOGY_ZONE_LABEL];
  return {
    addresses,
    conditions: { ready, serving, terminating },
    ...(shouldSetHostname(pod, service) ? { hostname: (pod.spec as { hostname: string }).hostname } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    ...(nodeName ? { nodeName } : {}),
    ...(zone ? { zone } : {}),
  };
}

/** setEndpointSliceLabels: the service's labels, plus the headless marker, the service name and our name. */
function sliceLabels(service: KubeObject): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(service.metadata.labels ?? {})) {
    if (k !== SERVICE_NAME_LABEL && k !== MANAGED_BY_LABEL) labels[k] = v;
  }
  if (isHeadless(service)) labels[HEADLESS_LABEL] = '';
  labels[SERVICE_NAME_LABEL] = service.metadata.name!;
  labels[MANAGED_BY_LABEL] = CONTROLLER_NAME;
  return labels;
}

function ownedBy(slice: KubeObject, service: KubeObject): boolean {
  return (slice.metadata.ownerReferences ?? []).some((ref) => ref.uid === service.metadata.uid && ref.kind === 'Service');
}

function isPlaceholder(slice: Slice): boolean {
  return (slice.endpoints ?? []).length === 0 && (slice.ports ?? []).length === 0;
}

/** newEndpointSlice: named `<service>-` + 5 random characters by the API server, owned by the service. */
function newSlice(service: KubeObject, addressType: AddressType, ports: SlicePort[], endpoints: SliceEndpoint[]): Slice {
  return {
    metadata: {
      generateName: `${service.metadata.name}-`,
      namespace: service.metadata.namespace,
      labels: sliceLabels(service),
      ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true }],
    },
    addressType,
    endpoints,
    ports,
  };
}

/**
 * The EndpointSlice controller. Keys are "namespace/name" of Services.
 * @param options the number of endpoints per slice (default 100).
 */
export function endpointSliceController(options: EndpointSliceControllerOptions = {}): Controller {
  return new EndpointSliceController(options);
}
