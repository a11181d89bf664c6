/**
 * A container's environment, as the kubelet builds it
 * (makeEnvironmentVariables): envFrom first, then env in order with `$(VAR)`
 * expansion and valueFrom sources (ConfigMap/Secret keys, pod fields,
 * resources), then the service link variables of the pod's namespace. Also
 * the downward-API value functions shared with downwardAPI volumes.
 */
import { cpus, totalmem } from 'node:os';
import type { ConfigMap, Container, ObjectFieldSelector, Pod, ResourceFieldSelector, Secret, Service } from 'kubernetes-types/core/v1.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { parseQuantity, quantityMilliValue, quantityToNumber } from '../api/quantity.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { CreateContainerConfigError } from './security.js';

/** An environment variable for the runtime. */
export interface EnvVar {
  key: string;
  value: string;
}

// ---------------------------------------------------------------------------
// $(VAR) expansion (third_party/forked/golang/expansion)
// ---------------------------------------------------------------------------

/**
 * Expands `$(NAME)` references with `lookup`; `$$` is a literal `$`; a
 * reference that cannot be resolved and a `$` that starts nothing stay as
 * written, as in Kubernetes.
 */
export function expandEnvReferences(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === '$') {
      out += '$';
    } else if (rest[0] === '(') {
      const close = rest.indexOf(')', 1);
      if (close < 0) {
        out += '$(';
      } else {
        const name = rest.slice(1, close);
        out += lookup(name) ?? `$(${name})`;
        advance = close + 1;
      }
    } else {
      out += '$' + rest[0];
    }
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

// ---------------------------------------------------------------------------
// Downward API values
// ---------------------------------------------------------------------------

/** Go's `%q` of a string (close enough for label and annotation values: JSON escapes). */
function goQuote(value: string): string {
  return JSON.stringify(value);
}

/** `k="v"` lines sorted by key (fieldpath.FormatMap). */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(map![k])}`)
    .join('\n');
}

/** Addresses the downward API reports that the pod object may not hold yet. */
export interface PodAddresses {
  podIPs: string[];
  hostIPs: string[];
}

/**
 * The value of a fieldRef (podFieldSelectorRuntimeValue + ExtractFieldPathAsString).
 * Throws with Kubernetes' message for an unsupported path.
 */
export function podFieldValue(pod: Pod, ref: ObjectFieldSelector, addresses: PodAddresses): string {
  const path = ref.fieldPath;
  const meta = pod.metadata ?? {};
  const subscript = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path) ?? /^metadata\.(labels|annotations)\["(.*)"\]$/.exec(path);
  if (subscript) {
    const map = (subscript[1] === 'labels' ? meta.labels : meta.annotations) ?? {};
    return map[subscript[2]] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP':
      return addresses.hostIPs[0] ?? pod.status?.hostIP ?? '';
    case 'status.hostIPs':
      return (addresses.hostIPs.length ? addresses.hostIPs : (pod.status?.hostIPs ?? []).map((a) => a.ip ?? '')).join(',');
    case 'status.podIP':
      return addresses.podIPs[0] ?? pod.status?.podIP ?? '';
    case 'status.podIPs':
      return (addresses.podIPs.length ? addresses.podIPs : (pod.status?.podIPs ?? []).map((a) => a.ip ?? '')).join(',');
    default:
      throw new CreateContainerConfigError(`unsupported fieldPath: ${path}`);
  }
}

/** What a node offers, used for resourceFieldRef limits a container does not set. */
export interface NodeAllocatable {
  cpuMilli: number;
  memoryBytes: number;
}

let machine: NodeAllocatable | undefined;

/** This machine's CPU and memory, the default of limits in the downward API (read once: os.cpus() parses /proc). */
export function machineAllocatable(): NodeAllocatable {
  machine ??= { cpuMilli: cpus().length * 1000, memoryBytes: totalmem() };
  return machine;
}

/**
 * The value of a resourceFieldRef (ExtractContainerResourceValue): cpu in
 * units of the divisor rounded up, memory in bytes / divisor rounded up;
 * limits a container does not set are the node's allocatable.
 */
export function resourceFieldValue(pod: Pod, container: Container | undefined, ref: ResourceFieldSelector, allocatable: NodeAllocatable): string {
  const target = ref.containerName
    ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === ref.containerName)
    : container;
  if (!target) throw new CreateContainerConfigError(`unable to find container ${ref.containerName ?? ''} in pod ${pod.metadata?.name ?? ''}`);
  const divisorText = ref.divisor === undefined || ref.divisor === null || String(ref.divisor) === '0' ? '1' : String(ref.divisor);
  const divisor = parseQuantity(divisorText);
  const [kind, resource] = ref.resource.split('.', 2) as ['limits' | 'requests', string];
  const list = ((kind === 'limits' ? target.resources?.limits : kind === 'requests' ? target.resources?.requests : undefined) ?? {}) as Record<string, string | number>;
  const raw = list[resource];
  if (resource === 'cpu' && (kind === 'limits' || kind === 'requests')) {
    const milli = raw !== undefined ? Number(quantityMilliValue(parseQuantity(raw))) : kind === 'limits' ? allocatable.cpuMilli : 0;
    return String(Math.ceil(milli / Number(quantityMilliValue(divisor))));
  }
  if (resource === 'memory' && (kind === 'limits' || kind === 'requests')) {
    const bytes = raw !== undefined ? Math.ceil(quantityToNumber(parseQuantity(raw))) : kind === 'limits' ? allocatable.memoryBytes : 0;
    return String(Math.ceil(bytes / quantityToNumber(divisor)));
  }
  if ((resource === 'ephemeral-storage' || resource.startsWith('hugepages-')) && (kind === 'limits' || kind === 'requests')) {
    const bytes = raw !== undefined ? Math.ceil(quantityToNumber(parseQuantity(raw))) : 0;
    return String(Math.ceil(bytes / quantityToNumber(divisor)));
  }
  throw new CreateContainerConfigError(`unsupported container resource : ${ref.resource}`);
}

// ---------------------------------------------------------------------------
// Service link variables (pkg/kubelet/envvars)
// ---------------------------------------------------------------------------

const envName = (name: string) => name.replace(/-/g, '_').toUpperCase();

/** `<SVC>_SERVICE_HOST`, `_SERVICE_PORT[_<NAME>]` and the docker-link `_PORT…` variables of services. */
export function serviceLinkVariables(services: Service[]): EnvVar[] {
  const out: EnvVar[] = [];
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    const ports = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || ports.length === 0) continue;
    const prefix = envName(svc.metadata?.name ?? '');
    out.push({ key: `${prefix}_SERVICE_HOST`, value: ip });
    out.push({ key: `${prefix}_SERVICE_PORT`, value: String(ports[0].port) });
    for (const p of ports) if (p.name) out.push({ key: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
    ports.forEach((p, i) => {
      const protocol = (p.protocol ?? 'TCP').toLowerCase();
      const hostPort = ip.includes(':') ? `[${ip}]:${p.port}` : `${ip}:${p.port}`;
      if (i === 0) out.push({ key: `${prefix}_PORT`, value: `${protocol}://${hostPort}` });
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push({ key: portPrefix, value: `${protocol}://${hostPort}` });
      out.push({ key: `${portPrefix}_PROTO`, value: protocol });
      out.push({ key: `${portPrefix}_PORT`, value: String(p.port) });
      out.push({ key: `${portPrefix}_ADDR`, value: ip });
    });
  }
  return out;
}

/**
 * The services whose variables a pod sees (getServiceEnvVarMap): the
 * `kubernetes` service of `default` always, the pod namespace's services
 * when enableServiceLinks (default true); a same-named service of the pod's
 * namespace wins.
 */
export async function servicesForPod(client: ApiClient, pod: Pod): Promise<Service[]> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const links = pod.spec?.enableServiceLinks ?? true;
  const byName = new Map<string, Service>();
  const services = client.resource(RESOURCES.services);
  if (links) {
    for (const svc of (await services.list(namespace)).items as unknown as Service[]) byName.set(svc.metadata?.name ?? '', svc);
  }
  if (!byName.has('kubernetes')) {
    try {
      byName.set('kubernetes', (await services.get('default', 'kubernetes')) as unknown as Service);
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) throw error;
    }
  }
  return [...byName.values()];
}

// ---------------------------------------------------------------------------
// The whole environment
// ---------------------------------------------------------------------------

/** Reads ConfigMaps and Secrets once per container build, with the kubelet's not-found wording. */
export class ConfigSourceCache {
  private readonly configMaps = new Map<string, Promise<ConfigMap | undefined>>();
  private readonly secrets = new Map<string, Promise<Secret | undefined>>();

  constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
  ) {}

  private static async fetch<T>(get: () => Promise<KubeObject>): Promise<T | undefined> {
    try {
      return (await get()) as unknown as T;
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined;
      throw error;
    }
  }

  /** The ConfigMap, or undefined when it does not exist. */
  configMap(name: string): Promise<ConfigMap | undefined> {
    let p = this.configMaps.get(name);
    if (!p) {
      p = ConfigSourceCache.fetch<ConfigMap>(() => this.client.resource(RESOURCES.configMaps).get(this.namespace, name));
      this.configMaps.set(name, p);
    }
    return p;
  }

  /** The Secret, or undefined when it does not exist. */
  secret(name: string): Promise<Secret | undefined> {
    let p = this.secrets.get(name);
    if (!p) {
      p = ConfigSourceCache.fetch<Secret>(() => this.client.resource(RESOURCES.secrets).get(this.namespace, name));
      this.secrets.set(name, p);
    }
    return p;
  }
}

/** Decodes a Secret's base64 `data` (stringData is merged by the API server). */
export function secretData(secret: Secret): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries((secret as { stringData?: Record<string, string> }).stringData ?? {})) out[k] = Buffer.from(v);
  return out;
}

export interface EnvironmentInputs {
  pod: Pod;
  container: Container;
  client: ApiClient;
  addresses: PodAddresses;
  allocatable?: NodeAllocatable;
  /** Services for the link variables; listed through the client when omitted. */
  services?: Service[];
  sources?: ConfigSourceCache;
}

/**
 * The container's environment in the kubelet's order: envFrom, env
 * (declared order, with expansion and valueFrom), then service variables the
 * container did not set. Throws CreateContainerConfigError for a missing
 * ConfigMap/Secret or key that is not optional.
 */
export async function buildEnvironment(inputs: EnvironmentInputs): Promise<EnvVar[]> {
  const { pod, container } = inputs;
  const namespace = pod.metadata?.namespace ?? 'default';
  const sources = inputs.sources ?? new ConfigSourceCache(inputs.client, namespace);
  const allocatable = inputs.allocatable ?? machineAllocatable();
  const serviceEnv = new Map<string, string>();
  for (const v of serviceLinkVariables(inputs.services ?? (await servicesForPod(inputs.client, pod)))) serviceEnv.set(v.key, v.value);
  const env = new Map<string, string>();

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await sources.configMap(from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new CreateContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env.set(prefix + k, v);
    } else if (from.secretRef) {
      const secret = await sources.secret(from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new CreateContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(secretData(secret))) env.set(prefix + k, v.toString('utf8'));
    }
  }

  const lookup = (name: string) => env.get(name) ?? serviceEnv.get(name);
  for (const variable of container.env ?? []) {
    let value = variable.value ?? '';
    if (value !== '') {
      value = expandEnvReferences(value, lookup);
    } else if (variable.valueFrom) {
      const from = variable.valueFrom;
      if (from.fieldRef) {
        value = podFieldValue(pod, from.fieldRef, inputs.addresses);
      } else if (from.resourceFieldRef) {
        value = resourceFieldValue(pod, container, from.resourceFieldRef, allocatable);
      } else if (from.configMapKeyRef) {
        const { name = '', key, optional } = from.configMapKeyRef;
        const cm = await sources.configMap(name);
        if (!cm) {
          if (optional) continue;
          throw new CreateContainerConfigError(`configmap "${name}" not found`);
        }
        const found = cm.data?.[key];
        if (found === undefined) {
          if (optional) continue;
          throw new CreateContainerConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
        }
        value = found;
      } else if (from.secretKeyRef) {
        const { name = '', key, optional } = from.secretKeyRef;
        const secret = await sources.secret(name);
        if (!secret) {
          if (optional) continue;
          throw new CreateContainerConfigError(`secret "${name}" not found`);
        }
        const found = secretData(secret)[key];
        if (found === undefined) {
          if (optional) continue;
          throw new CreateContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
        }
        value = found.toString('utf8');
      }
    }
    env.set(variable.name, value);
  }

  const out: EnvVar[] = [...env].map(([key, value]) => ({ key, value }));
  for (const [key, value] of serviceEnv) if (!env.has(key)) out.push({ key, value });
  return out;
}
