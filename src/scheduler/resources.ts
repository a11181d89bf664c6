/**
 * Resource arithmetic of the scheduler: quantities turned into plain numbers
 * once (cpu in millicores, everything else in whole units, rounded up as
 * Quantity.MilliValue() and Quantity.Value() do), a pod's effective requests
 * (containers summed, init containers by the max rule, sidecars alongside,
 * overhead added) and a node's allocatable resources.
 *
 * Numbers stay exact up to 2^53 (8 PiB of memory), far beyond any node.
 */
import { quantityMilliValue, roundUpQuantity, tryParseQuantity } from '../api/quantity.js';
import { isObject } from '../apimachinery/types.js';

/** Requests or capacities of one pod or node. */
export interface Resources {
  milliCpu: number;
  memory: number;
  ephemeralStorage: number;
  /** Extended resources, hugepages, attachable volumes: name → amount (absent when none). */
  scalar?: Map<string, number>;
}

/** What the scoring plugins count for a pod that requests nothing (schedutil.DefaultMilliCPURequest / DefaultMemoryRequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCpu: 0, memory: 0, ephemeralStorage: 0 };
}

// Pods of one workload share their quantity strings: parse each string once.
const milliCache = new Map<string, number>();
const valueCache = new Map<string, number>();
const CACHE_LIMIT = 4096;

function remember(cache: Map<string, number>, key: string, value: number): number {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, value);
  return value;
}

/** Quantity.MilliValue() of a quantity string or number; 0 when it does not parse. */
export function milliValue(input: unknown): number {
  const key = typeof input === 'number' ? String(input) : input;
  if (typeof key !== 'string') return 0;
  const hit = milliCache.get(key);
  if (hit !== undefined) return hit;
  const q = tryParseQuantity(key);
  return remember(milliCache, key, q ? Number(quantityMilliValue(q)) : 0);
}

/** Quantity.Value() (rounded up to a whole unit) of a quantity string or number; 0 when it does not parse. */
export function wholeValue(input: unknown): number {
  const key = typeof input === 'number' ? String(input) : input;
  if (typeof key !== 'string') return 0;
  const hit = valueCache.get(key);
  if (hit !== undefined) return hit;
  const q = tryParseQuantity(key);
  if (!q) return remember(valueCache, key, 0);
  const rounded = roundUpQuantity(q, 0);
  return remember(valueCache, key, Number(rounded.mantissa) * 10 ** rounded.exp10);
}

/**
 * Resources the scheduler accounts per name (schedutil.IsScalarResourceName):
 * extended resources (a domain outside kubernetes.io, not `requests.`),
 * hugepages-* and attachable-volumes-*.
 */
export function isScalarResourceName(name: string): boolean {
  if (name.startsWith('hugepages-') || name.startsWith('attachable-volumes-')) return true;
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const domain = name.slice(0, slash);
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io')) return false;
  return !name.startsWith('requests.');
}

/** Adds a ResourceList ({cpu: "100m", memory: "1Gi", …}) into `into`. */
export function addResourceList(into: Resources, list: unknown): void {
  if (!isObject(list)) return;
  for (const name in list) {
    const value = list[name];
    switch (name) {
      case 'cpu':
        into.milliCpu += milliValue(value);
        break;
      case 'memory':
        into.memory += wholeValue(value);
        break;
      case 'ephemeral-storage':
        into.ephemeralStorage += wholeValue(value);
        break;
      case 'pods':
        break;
      default:
        if (isScalarResourceName(name)) {
          into.scalar ??= new Map();
          into.scalar.set(name, (into.scalar.get(name) ?? 0) + wholeValue(value));
        }
    }
  }
}

function addResources(into: Resources, other: Resources): void {
  into.milliCpu += other.milliCpu;
  into.memory += other.memory;
  into.ephemeralStorage += other.ephemeralStorage;
  if (other.scalar) {
    into.scalar ??= new Map();
    for (const [name, amount] of other.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + amount);
  }
}

function maxResources(into: Resources, other: Resources): void {
  into.milliCpu = Math.max(into.milliCpu, other.milliCpu);
  into.memory = Math.max(into.memory, other.memory);
  into.ephemeralStorage = Math.max(into.ephemeralStorage, other.ephemeralStorage);
  if (other.scalar) {
    into.scalar ??= new Map();
    for (const [name, amount] of other.scalar) into.scalar.set(name, Math.max(into.scalar.get(name) ?? 0, amount));
  }
}

function cloneResources(r: Resources): Resources {
  return { milliCpu: r.milliCpu, memory: r.memory, ephemeralStorage: r.ephemeralStorage, scalar: r.scalar ? new Map(r.scalar) : undefined };
}

type Container = { resources?: { requests?: unknown }; restartPolicy?: string };

function containerRequests(container: Container, nonZero: boolean): Resources {
  const r = emptyResources();
  const requests = isObject(container.resources) ? container.resources.requests : undefined;
  addResourceList(r, requests);
  if (nonZero) {
    // Only a missing request gets the default; an explicit 0 stays 0.
    const has = (name: string) => isObject(requests) && requests[name] !== undefined;
    if (!has('cpu')) r.milliCpu = DEFAULT_MILLI_CPU_REQUEST;
    if (!has('memory')) r.memory = DEFAULT_MEMORY_REQUEST;
  }
  return r;
}

/**
 * A pod's effective requests (resourcehelper.PodRequests): containers run
 * together, so they add up; init containers run one after another, so only
 * the largest counts, except restartable ("sidecar") init containers, which
 * keep running beside the later ones and the app containers. Overhead is
 * added on top. `nonZero` gives containers without a cpu/memory request the
 * scoring defaults (100m, 200Mi), as the scoring plugins count them.
 */
export function podRequests(spec: Record<string, unknown>, nonZero = false): Resources {
  const total = emptyResources();
  const containers = Array.isArray(spec.containers) ? (spec.containers as Container[]) : [];
  for (const c of containers) addResources(total, containerRequests(c, nonZero));
  const initContainers = Array.isArray(spec.initContainers) ? (spec.initContainers as Container[]) : [];
  if (initContainers.length > 0) {
    const sidecars = emptyResources();
    const initMax = emptyResources();
    for (const c of initContainers) {
      let requests = containerRequests(c, nonZero);
      if (c.restartPolicy === 'Always') {
        addResources(total, requests);
        addResources(sidecars, requests);
        requests = cloneResources(sidecars);
      } else {
        addResources(requests, sidecars);
      }
      maxResources(initMax, requests);
    }
    maxResources(total, initMax);
  }
  if (isObject(spec.overhead)) addResourceList(total, spec.overhead);
  return total;
}

/** A node's allocatable resources (status.allocatable, else status.capacity) and its pod limit. */
export function nodeAllocatable(node: { [field: string]: unknown }): { resources: Resources; pods: number } {
  const status = isObject(node.status) ? node.status : {};
  const list = isObject(status.allocatable) ? status.allocatable : isObject(status.capacity) ? status.capacity : {};
  const resources = emptyResources();
  addResourceList(resources, list);
  return { resources, pods: list.pods === undefined ? 0 : wholeValue(list.pods) };
}
