/**
 * Pod volumes on the node (the kubelet's volume manager and plugins, minus
 * attach/detach): emptyDir (also tmpfs), hostPath with its type checks,
 * ConfigMap, Secret, downwardAPI and projected volumes (with service-account
 * tokens from the TokenRequest API, renewed at 80 % of their lifetime) written
 * by the atomic writer so they update in place. Then the container side:
 * volumeMounts → CRI mounts (subPath, propagation), the kubelet-managed
 * /etc/hosts and the termination-message file.
 *
 * Layout (docs/node.md): <dataDir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>,
 * <dataDir>/pods/<uid>/etc-hosts, <dataDir>/pods/<uid>/containers/<name>/…
 */
import { execFile } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import { join, posix, sep } from 'node:path';
import { promisify } from 'node:util';
import type {
  ConfigMap,
  ConfigMapProjection,
  ConfigMapVolumeSource,
  Container,
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  Secret,
  SecretProjection,
  SecretVolumeSource,
  ServiceAccountTokenProjection,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityToNumber } from '../api/quantity.js';
import type { AgentConfig } from '../agent/config.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { logger } from '../util/log.js';
import type { Mount, MountPropagation } from './cri/types.js';
import { ConfigSourceCache, expandEnvReferences, machineAllocatable, podFieldValue, resourceFieldValue, secretData, type EnvVar, type NodeAllocatable } from './env.js';
import { CreateContainerConfigError } from './security.js';
import { setVolumeOwnership, writeAtomically, type FileProjection } from './volumes/atomic-writer.js';

export { writeAtomically, setVolumeOwnership, type FileProjection } from './volumes/atomic-writer.js';

const log = logger('volumes');
const run = promisify(execFile);

/** Default file mode of ConfigMap, Secret, downwardAPI and projected volumes (0644). */
export const DEFAULT_VOLUME_FILE_MODE = 0o644;
/** Longest termination message the kubelet reads (bytes). */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** FallbackToLogsOnError: at most this many bytes… */
const MAX_TERMINATION_LOG_BYTES = 2048;
/** …of at most this many last log lines. */
const MAX_TERMINATION_LOG_LINES = 80;

export type VolumeKind = 'emptyDir' | 'hostPath' | 'configMap' | 'secret' | 'downwardAPI' | 'projected';

/** One set-up volume of a pod. */
export interface MountedVolume {
  name: string;
  kind: VolumeKind;
  /** What gets mounted into containers. */
  hostPath: string;
  /** API-data volumes are always mounted read-only (ReadOnlyAPIDataVolumes). */
  readOnly: boolean;
}

/** The volumes of one pod, ready to be mounted. */
export interface MountedVolumes {
  podUid: string;
  podDir: string;
  volumes: Record<string, MountedVolume>;
}

/**
 * One or more volumes could not be set up. `message` is the first failure in
 * the kubelet's FailedMount wording (`MountVolume.SetUp failed for volume "x" : …`).
 */
export class VolumeSetupError extends Error {
  override readonly name = 'VolumeSetupError';
  constructor(readonly messages: string[]) {
    super(messages[0]);
  }
}

const PLUGIN_DIRS: Record<VolumeKind, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  hostPath: 'kubernetes.io~host-path',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

/** `<dataDir>/pods/<uid>`. */
export function podDirectory(config: AgentConfig, podUid: string): string {
  return join(config.dataDir, 'pods', podUid);
}

function kindOf(volume: Volume): VolumeKind | string {
  for (const kind of Object.keys(PLUGIN_DIRS) as VolumeKind[]) if ((volume as unknown as Record<string, unknown>)[kind]) return kind;
  const other = Object.keys(volume).find((k) => k !== 'name');
  return other ?? 'unknown';
}

// ---------------------------------------------------------------------------
// Payloads of API-data volumes
// ---------------------------------------------------------------------------

type Payload = Map<string, FileProjection>;

/** Items of a ConfigMap/Secret (MakePayload): every key, or the listed ones with their paths and modes. */
function keyedPayload(
  data: Record<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  defaultMode: number,
  optional: boolean,
  missingKey: (key: string) => string,
  into: Payload,
): void {
  if (!items || items.length === 0) {
    for (const [key, value] of Object.entries(data)) into.set(key, { data: value, mode: defaultMode });
    return;
  }
  for (const item of items) {
    const value = data[item.key];
    if (value === undefined) {
      if (optional) continue;
      throw new Error(missingKey(item.key));
    }
    into.set(item.path, { data: value, mode: item.mode ?? defaultMode });
  }
}

function configMapData(cm: ConfigMap): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(cm.data ?? {})) out[k] = Buffer.from(v);
  for (const [k, v] of Object.entries(cm.binaryData ?? {})) out[k] = Buffer.from(v, 'base64');
  return out;
}

/** A service-account token the manager holds, to renew before it expires. */
interface HeldToken {
  token: string;
  issuedMs: number;
  expiresMs: number;
}

/** True when a volume shows labels or annotations, the pod fields that change after creation. */
function readsMutableMetadata(volume: Volume): boolean {
  const items = [...(volume.downwardAPI?.items ?? []), ...(volume.projected?.sources ?? []).flatMap((s) => s.downwardAPI?.items ?? [])];
  return items.some((item) => /^metadata\.(labels|annotations)/.test(item.fieldRef?.fieldPath ?? ''));
}

/** Everything a payload is computed from. */
interface PayloadContext {
  pod: Pod;
  sources: ConfigSourceCache;
  allocatable: NodeAllocatable;
  addresses: { podIPs: string[]; hostIPs: string[] };
  token(volume: string, projection: ServiceAccountTokenProjection): Promise<string>;
}

async function configMapPayload(source: ConfigMapVolumeSource | ConfigMapProjection, defaultMode: number, ctx: PayloadContext, into: Payload): Promise<void> {
  const name = source.name ?? '';
  const cm = await ctx.sources.configMap(name);
  if (!cm) {
    if (source.optional) return;
    throw new Error(`configmap "${name}" not found`);
  }
  keyedPayload(configMapData(cm), source.items, defaultMode, source.optional ?? false, (k) => `configmap references non-existent config key: ${k}`, into);
}

async function secretPayload(source: SecretVolumeSource | SecretProjection, defaultMode: number, ctx: PayloadContext, into: Payload): Promise<void> {
  const name = ('secretName' in source ? source.secretName : (source as SecretProjection).name) ?? '';
  const secret: Secret | undefined = await ctx.sources.secret(name);
  if (!secret) {
    if (source.optional) return;
    throw new Error(`secret "${name}" not found`);
  }
  keyedPayload(secretData(secret), source.items, defaultMode, source.optional ?? false, (k) => `references non-existent secret key: ${k}`, into);
}

function downwardPayload(items: readonly DownwardAPIVolumeFile[] | undefined, defaultMode: number, ctx: PayloadContext, into: Payload): void {
  for (const item of items ?? []) {
    let value: string;
    if (item.fieldRef) value = podFieldValue(ctx.pod, item.fieldRef, ctx.addresses);
    else if (item.resourceFieldRef) value = resourceFieldValue(ctx.pod, undefined, item.resourceFieldRef, ctx.allocatable);
    else continue;
    into.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
  }
}

/** The files of an API-data volume. */
async function volumePayload(volume: Volume, ctx: PayloadContext): Promise<Payload> {
  const payload: Payload = new Map();
  if (volume.configMap) {
    await configMapPayload(volume.configMap, volume.configMap.defaultMode ?? DEFAULT_VOLUME_FILE_MODE, ctx, payload);
  } else if (volume.secret) {
    await secretPayload(volume.secret, volume.secret.defaultMode ?? DEFAULT_VOLUME_FILE_MODE, ctx, payload);
  } else if (volume.downwardAPI) {
    downwardPayload(volume.downwardAPI.items, volume.downwardAPI.defaultMode ?? DEFAULT_VOLUME_FILE_MODE, ctx, payload);
  } else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_VOLUME_FILE_MODE;
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) await configMapPayload(source.configMap, mode, ctx, payload);
      else if (source.secret) await secretPayload(source.secret, mode, ctx, payload);
      else if (source.downwardAPI) downwardPayload(source.downwardAPI.items, mode, ctx, payload);
      else if (source.serviceAccountToken) {
        const token = await ctx.token(volume.name, source.serviceAccountToken);
        payload.set(source.serviceAccountToken.path, { data: Buffer.from(token), mode });
      } else if (source.clusterTrustBundle) {
        throw new Error('clusterTrustBundle projections are not supported by this node');
      }
    }
  }
  return payload;
}

// ---------------------------------------------------------------------------
// hostPath checks
// ---------------------------------------------------------------------------

async function statOrUndefined(path: string) {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}

/** Checks (and for …OrCreate makes) a hostPath as its `type` asks (host_path.go checkType). */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (!type) return;
  const stat = await statOrUndefined(path);
  const fail = (what: string) => new Error(`hostPath type check failed: ${path} is not a ${what}`);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!stat) {
        await fs.mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!stat.isDirectory()) throw fail('directory');
      return;
    case 'Directory':
      if (!stat?.isDirectory()) throw fail('directory');
      return;
    case 'FileOrCreate':
      if (!stat) {
        const handle = await fs.open(path, fsConstants.O_CREAT | fsConstants.O_RDONLY, 0o644);
        await handle.close();
        return;
      }
      if (!stat.isFile()) throw fail('file');
      return;
    case 'File':
      if (!stat?.isFile()) throw fail('file');
      return;
    case 'Socket':
      if (!stat?.isSocket()) throw fail('socket file');
      return;
    case 'CharDevice':
      if (!stat?.isCharacterDevice()) throw fail('character device');
      return;
    case 'BlockDevice':
      if (!stat?.isBlockDevice()) throw fail('block device');
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}

// ---------------------------------------------------------------------------
// tmpfs (emptyDir medium Memory)
// ---------------------------------------------------------------------------

/** Mount points under `dir` (deepest first), from /proc/self/mountinfo. */
async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    // mountinfo escapes spaces and friends as octal.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Size of the tmpfs holding a Secret or projected volume (API objects are at most ~1.5 MiB). */
const TMPFS_API_DATA_BYTES = 16 * 1024 * 1024;

/** Mounts a tmpfs of `sizeBytes` on `dir` unless one is there already (a restarted kubelet). True when mounted now. */
async function ensureTmpfs(dir: string, sizeBytes: number): Promise<boolean> {
  if ((await mountsUnder(dir)).includes(dir)) return false;
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  return true;
}

// ---------------------------------------------------------------------------
// The manager
// ---------------------------------------------------------------------------

interface PodEntry {
  pod: Pod;
  mounted: MountedVolumes;
  tokens: Map<string, HeldToken>;
  /** Serializes set-up, refresh and tear-down of one pod. */
  lock: Promise<unknown>;
}

export interface VolumeManagerOptions {
  client: ApiClient;
  config: AgentConfig;
  /** Resource defaults for downward-API limits (defaults to this machine). */
  allocatable?: NodeAllocatable;
  now?: () => number;
}

/**
 * Sets up and tears down the volumes of the pods of this node, and keeps
 * API-data volumes current (`refresh`, run every `start(intervalMs)`).
 */
export class VolumeManager {
  private readonly pods = new Map<string, PodEntry>();
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: VolumeManagerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** The volumes of a pod set up earlier, if any. */
  mounted(podUid: string): MountedVolumes | undefined {
    return this.pods.get(podUid)?.mounted;
  }

  private withLock<T>(entry: PodEntry, work: () => Promise<T>): Promise<T> {
    const next = entry.lock.then(work, work);
    entry.lock = next.catch(() => undefined);
    return next;
  }

  /**
   * Sets up every volume of the pod (idempotent: call it again with a newer
   * pod object; existing content stays). Throws VolumeSetupError listing the
   * volumes that failed, in the kubelet's FailedMount wording.
   */
  async setUp(pod: Pod): Promise<MountedVolumes> {
    const uid = pod.metadata?.uid ?? '';
    if (!uid) throw new Error('pod has no uid');
    let entry = this.pods.get(uid);
    if (!entry) {
      entry = { pod, mounted: { podUid: uid, podDir: podDirectory(this.opts.config, uid), volumes: {} }, tokens: new Map(), lock: Promise.resolve() };
      this.pods.set(uid, entry);
    }
    entry.pod = pod;
    const current = entry;
    return this.withLock(current, async () => {
      const sources = new ConfigSourceCache(this.opts.client, pod.metadata?.namespace ?? 'default');
      // Volumes are independent: set them up at once.
      const results = await Promise.all(
        (pod.spec?.volumes ?? []).map(async (volume) => {
          try {
            current.mounted.volumes[volume.name] = await this.setUpVolume(current, volume, sources);
            return undefined;
          } catch (error) {
            return `MountVolume.SetUp failed for volume "${volume.name}" : ${(error as Error).message}`;
          }
        }),
      );
      const errors = results.filter((r): r is string => r !== undefined);
      if (errors.length) throw new VolumeSetupError(errors);
      return current.mounted;
    });
  }

  private volumeDir(entry: PodEntry, kind: VolumeKind, name: string): string {
    return join(entry.mounted.podDir, 'volumes', PLUGIN_DIRS[kind], name);
  }

  private payloadContext(entry: PodEntry, sources: ConfigSourceCache): PayloadContext {
    const pod = entry.pod;
    const podIPs = (pod.status?.podIPs ?? []).map((a) => a.ip ?? '').filter(Boolean);
    if (podIPs.length === 0 && pod.status?.podIP) podIPs.push(pod.status.podIP);
    return {
      pod,
      sources,
      allocatable: this.opts.allocatable ?? machineAllocatable(),
      addresses: { podIPs, hostIPs: [this.opts.config.nodeIp] },
      token: (volume, projection) => this.serviceAccountToken(entry, volume, projection),
    };
  }

  private async setUpVolume(entry: PodEntry, volume: Volume, sources: ConfigSourceCache): Promise<MountedVolume> {
    const kind = kindOf(volume);
    const fsGroup = entry.pod.spec?.securityContext?.fsGroup;
    switch (kind) {
      case 'emptyDir': {
        const dir = this.volumeDir(entry, 'emptyDir', volume.name);
        const medium = volume.emptyDir?.medium ?? '';
        if (medium !== '' && medium !== 'Memory') throw new Error(`unknown storage medium "${medium}"`);
        const existed = (await statOrUndefined(dir)) !== undefined;
        await fs.mkdir(dir, { recursive: true });
        let fresh = !existed;
        if (medium === 'Memory') {
          const limit = volume.emptyDir?.sizeLimit !== undefined ? Math.ceil(quantityToNumber(parseQuantity(volume.emptyDir.sizeLimit))) : (this.opts.allocatable ?? machineAllocatable()).memoryBytes;
          if (await ensureTmpfs(dir, limit)) fresh = true;
        }
        // Set up once (a later setUp of the same pod keeps what containers did to it).
        if (fresh) {
          // Everyone may write an emptyDir, whatever user the containers run as.
          await fs.chmod(dir, 0o777);
          if (fsGroup !== undefined) await setVolumeOwnership(dir, fsGroup, false);
        }
        return { name: volume.name, kind: 'emptyDir', hostPath: dir, readOnly: false };
      }
      case 'hostPath': {
        const path = volume.hostPath!.path;
        await checkHostPathType(path, volume.hostPath!.type);
        return { name: volume.name, kind: 'hostPath', hostPath: path, readOnly: false };
      }
      case 'configMap':
      case 'secret':
      case 'downwardAPI':
      case 'projected': {
        const dir = this.volumeDir(entry, kind, volume.name);
        const payload = await volumePayload(volume, this.payloadContext(entry, sources));
        // As Kubernetes: Secret and projected (token) contents live in memory, never on the node's disk.
        if (kind === 'secret' || kind === 'projected') {
          await fs.mkdir(dir, { recursive: true });
          await ensureTmpfs(dir, TMPFS_API_DATA_BYTES);
        }
        await writeAtomically(dir, payload, { fsGroup });
        return { name: volume.name, kind, hostPath: dir, readOnly: true };
      }
      case 'persistentVolumeClaim':
        throw new Error(
          `persistentVolumeClaim volumes are not supported by this node yet (claim "${volume.persistentVolumeClaim?.claimName ?? ''}"); use an emptyDir or hostPath volume`,
        );
      default:
        throw new Error(`${kind} volumes are not supported by this node; supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected`);
    }
  }

  /** A token for a projected serviceAccountToken source: the held one, or a new one past 80 % of its life. */
  private async serviceAccountToken(entry: PodEntry, volume: string, projection: ServiceAccountTokenProjection): Promise<string> {
    const key = `${volume}/${projection.path}`;
    const held = entry.tokens.get(key);
    const now = this.now();
    if (held) {
      const lifetime = held.expiresMs - held.issuedMs;
      const renewAt = Math.min(held.issuedMs + lifetime * 0.8, held.issuedMs + 24 * 3600_000);
      if (now < renewAt) return held.token;
    }
    const pod = entry.pod;
    const namespace = pod.metadata?.namespace ?? 'default';
    const serviceAccount = pod.spec?.serviceAccountName || 'default';
    const request: KubeObject = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: { name: serviceAccount, namespace },
      spec: {
        audiences: projection.audience ? [projection.audience] : [],
        expirationSeconds: projection.expirationSeconds ?? 3600,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata?.name, uid: pod.metadata?.uid },
      },
    };
    let answer: { status?: { token?: string; expirationTimestamp?: string } };
    try {
      answer = (await this.opts.client.resource(RESOURCES.serviceAccounts).createSubresource(namespace, serviceAccount, 'token', request)) as typeof answer;
    } catch (error) {
      if (error instanceof StatusError) throw new Error(`failed to fetch token: ${error.message}`);
      throw error;
    }
    const token = answer.status?.token;
    if (!token) throw new Error('failed to fetch token: the TokenRequest answer holds no token');
    const expiresMs = Date.parse(answer.status?.expirationTimestamp ?? '') || now + (projection.expirationSeconds ?? 3600) * 1000;
    entry.tokens.set(key, { token, issuedMs: now, expiresMs });
    return token;
  }

  /**
   * Rewrites the API-data volumes of every pod whose sources changed
   * (ConfigMap/Secret edits, label changes, token renewal). The pod object
   * is re-read so downward-API files follow label and annotation edits.
   */
  async refresh(): Promise<void> {
    await Promise.all(
      [...this.pods.values()].map(async (entry) => {
        const dataVolumes = (entry.pod.spec?.volumes ?? []).filter((v) => v.configMap || v.secret || v.downwardAPI || v.projected);
        if (dataVolumes.length === 0) return;
        try {
          const namespace = entry.pod.metadata?.namespace ?? 'default';
          if (dataVolumes.some(readsMutableMetadata)) {
            const fresh = (await this.opts.client.resource(RESOURCES.pods).get(namespace, entry.pod.metadata?.name ?? '')) as unknown as Pod;
            if (fresh.metadata?.uid === entry.pod.metadata?.uid) entry.pod = fresh;
          }
          await this.withLock(entry, async () => {
            if (!this.pods.has(entry.mounted.podUid)) return;
            const sources = new ConfigSourceCache(this.opts.client, namespace);
            const ctx = this.payloadContext(entry, sources);
            for (const volume of dataVolumes) {
              const kind = kindOf(volume) as VolumeKind;
              try {
                const changed = await writeAtomically(this.volumeDir(entry, kind, volume.name), await volumePayload(volume, ctx), {
                  fsGroup: entry.pod.spec?.securityContext?.fsGroup,
                });
                if (changed) log.debug('volume updated', { pod: entry.pod.metadata?.name, volume: volume.name });
              } catch (error) {
                // Keep the last good content, as the kubelet does; the next refresh retries.
                log.debug('volume refresh failed', { pod: entry.pod.metadata?.name, volume: volume.name, error: (error as Error).message });
              }
            }
          });
        } catch (error) {
          log.debug('volume refresh skipped', { pod: entry.pod.metadata?.name, error: (error as Error).message });
        }
      }),
    );
  }

  /** Refreshes every `intervalMs` until stop(). */
  start(intervalMs = 10_000): void {
    this.stop();
    let running = false;
    this.timer = setInterval(() => {
      if (running) return;
      running = true;
      this.refresh().finally(() => (running = false));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Unmounts what the pod mounted (tmpfs) and removes its directory. */
  async tearDown(podUid: string): Promise<void> {
    const entry = this.pods.get(podUid);
    const work = async () => {
      this.pods.delete(podUid);
      await removePodDirectory(podDirectory(this.opts.config, podUid));
    };
    if (entry) await this.withLock(entry, work);
    else await work();
  }

  /** Removes the directories of pods not in `keep` (after a restart: pods deleted meanwhile). */
  async tearDownOrphans(keep: ReadonlySet<string>): Promise<void> {
    let uids: string[];
    try {
      uids = await fs.readdir(join(this.opts.config.dataDir, 'pods'));
    } catch {
      return;
    }
    for (const uid of uids) if (!keep.has(uid)) await this.tearDown(uid);
  }
}

async function removePodDirectory(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    try {
      await run('umount', [point]);
    } catch {
      await run('umount', ['-l', point]);
    }
  }
  // Never descend into something still mounted (a host directory would be wiped).
  const left = await mountsUnder(dir);
  if (left.length) throw new Error(`cannot remove ${dir}: still mounted: ${left.join(', ')}`);
  await fs.rm(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------
// Container mounts
// ---------------------------------------------------------------------------

const PROPAGATION: Record<string, MountPropagation> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

/** The pod's hostname and DNS domain (GeneratePodHostNameAndDomain). */
export function podHostnameAndDomain(pod: Pod, clusterDomain: string): { hostname: string; domain: string } {
  const raw = pod.spec?.hostname || pod.metadata?.name || '';
  // At most 63 characters, not ending in '-' or '.' (truncatePodHostnameIfNeeded).
  const hostname = raw.length > 63 ? raw.slice(0, 63).replace(/[-.]+$/, '') : raw;
  const subdomain = pod.spec?.subdomain;
  const domain = subdomain ? `${subdomain}.${pod.metadata?.namespace ?? 'default'}.svc.${clusterDomain}` : '';
  return { hostname, domain };
}

/** The kubelet-managed /etc/hosts (managedHostsFileContent); host network pods get the node's file. */
export async function hostsFileContent(pod: Pod, podIPs: string[], clusterDomain: string): Promise<string> {
  let text: string;
  if (pod.spec?.hostNetwork) {
    text = await fs.readFile('/etc/hosts', 'utf8').catch(() => '');
  } else {
    const { hostname, domain } = podHostnameAndDomain(pod, clusterDomain);
    text =
      '# Kubernetes-managed hosts file.\n' +
      '127.0.0.1\tlocalhost\n' +
      '::1\tlocalhost ip6-localhost ip6-loopback\n' +
      'fe00::0\tip6-localnet\n' +
      'fe00::0\tip6-mcastprefix\n' +
      'fe00::1\tip6-allnodes\n' +
      'fe00::2\tip6-allrouters\n';
    for (const ip of podIPs) text += domain ? `${ip}\t${hostname}.${domain}\t${hostname}\n` : `${ip}\t${hostname}\n`;
  }
  const aliases = pod.spec?.hostAliases ?? [];
  if (aliases.length) {
    text += '\n# Entries added by HostAliases.\n';
    for (const alias of aliases) text += `${alias.ip}\t${(alias.hostnames ?? []).join('\t')}\n`;
  }
  return text;
}

/** True when `child` is `parent` or inside it (both absolute). */
function isWithin(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep);
}

/** Inputs of containerMounts. */
export interface ContainerMountsInput {
  pod: Pod;
  container: Container;
  volumes: MountedVolumes;
  podIPs: string[];
  clusterDomain: string;
  /** The container's environment, for subPathExpr. */
  env: EnvVar[];
  restartCount: number;
}

/** Host path of a container instance's termination-message file. */
export function terminationMessageFile(podDir: string, containerName: string, restartCount: number): string {
  return join(podDir, 'containers', containerName, `termination-log-${restartCount}`);
}

/**
 * volumeMounts → CRI mounts (makeMounts): subPath created inside the volume
 * and checked not to escape it, propagation, read-only for API-data volumes;
 * then /etc/hosts and the termination-message file unless the container
 * mounts something there itself. Throws CreateContainerConfigError.
 */
export async function containerMounts(input: ContainerMountsInput): Promise<Mount[]> {
  const { pod, container, volumes } = input;
  const mounts: Mount[] = [];
  let mountHosts = input.podIPs.length > 0;
  for (const vm of container.volumeMounts ?? []) {
    if (vm.mountPath === '/etc/hosts') mountHosts = false;
    const volume = volumes.volumes[vm.name];
    if (!volume) throw new CreateContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    let hostPath = volume.hostPath;
    let subPath = vm.subPath ?? '';
    if (vm.subPathExpr) {
      const env = new Map(input.env.map((e) => [e.key, e.value]));
      subPath = expandEnvReferences(vm.subPathExpr, (name) => env.get(name));
    }
    if (subPath) {
      if (posix.isAbsolute(subPath)) throw new CreateContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
      if (subPath.split('/').includes('..')) throw new CreateContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
      const base = await fs.realpath(volume.hostPath);
      hostPath = join(volume.hostPath, subPath);
      if (!(await statOrUndefined(hostPath)) && volume.kind !== 'configMap' && volume.kind !== 'secret' && volume.kind !== 'downwardAPI' && volume.kind !== 'projected') {
        try {
          const mode = (await fs.stat(volume.hostPath)).mode & 0o7777;
          await fs.mkdir(hostPath, { recursive: true, mode });
        } catch {
          throw new CreateContainerConfigError(`failed to create subPath directory for volumeMount "${vm.name}" of container "${container.name}"`);
        }
      }
      let real: string;
      try {
        real = await fs.realpath(hostPath);
      } catch {
        throw new CreateContainerConfigError(`failed to prepare subPath for volumeMount "${vm.name}" of container "${container.name}"`);
      }
      // A symlink inside the volume must not lead the container out of it.
      if (!isWithin(base, real)) throw new CreateContainerConfigError(`subpath "${subPath}" not within volume path "${volume.hostPath}"`);
      hostPath = real;
    }
    mounts.push({
      containerPath: vm.mountPath,
      hostPath,
      readonly: (vm.readOnly ?? false) || volume.readOnly,
      propagation: PROPAGATION[vm.mountPropagation ?? 'None'] ?? 'PROPAGATION_PRIVATE',
    });
  }
  if (mountHosts) {
    const hostsFile = join(volumes.podDir, 'etc-hosts');
    const content = await hostsFileContent(pod, input.podIPs, input.clusterDomain);
    await fs.mkdir(volumes.podDir, { recursive: true });
    const existing = await fs.readFile(hostsFile, 'utf8').catch(() => undefined);
    if (existing !== content) {
      await fs.writeFile(hostsFile + '.tmp', content, { mode: 0o644 });
      await fs.rename(hostsFile + '.tmp', hostsFile);
    }
    mounts.push({ containerPath: '/etc/hosts', hostPath: hostsFile, readonly: false, propagation: 'PROPAGATION_PRIVATE' });
  }
  const messagePath = container.terminationMessagePath ?? '/dev/termination-log';
  if (messagePath && !mounts.some((m) => m.containerPath === messagePath)) {
    const file = terminationMessageFile(volumes.podDir, container.name, input.restartCount);
    await fs.mkdir(join(volumes.podDir, 'containers', container.name), { recursive: true });
    await fs.writeFile(file, '');
    // Writable by whatever user the container runs as.
    await fs.chmod(file, 0o666);
    mounts.push({ containerPath: messagePath, hostPath: file, readonly: false, propagation: 'PROPAGATION_PRIVATE' });
  }
  return mounts;
}

/** Reads at most `max` bytes from the end of a file ('' when missing). */
async function tail(path: string, max: number): Promise<Buffer> {
  let handle;
  try {
    handle = await fs.open(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await handle.close();
  }
}

/**
 * The terminated state's message of a container instance: its termination
 * message file (found among the runtime's mounts by `terminationMessagePath`,
 * at most 4096 bytes), or with FallbackToLogsOnError and a failure, the end of
 * its log (80 lines, 2048 bytes), as the kubelet reports it.
 */
export async function readTerminationMessage(args: {
  container: Container;
  /** The runtime's mounts of the instance (CRI ContainerStatus.mounts). */
  mounts: readonly { containerPath: string; hostPath: string }[];
  exitCode: number;
  /** The instance's CRI log file, for FallbackToLogsOnError. */
  logPath?: string;
}): Promise<string> {
  const { container } = args;
  const path = container.terminationMessagePath ?? '/dev/termination-log';
  const mount = args.mounts.find((m) => m.containerPath === path);
  let message = '';
  if (mount) {
    const head = await fs.open(mount.hostPath, 'r').catch(() => undefined);
    if (head) {
      try {
        const buffer = Buffer.alloc(MAX_TERMINATION_MESSAGE_BYTES);
        const { bytesRead } = await head.read(buffer, 0, buffer.length, 0);
        message = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await head.close();
      }
    }
  }
  if (message === '' && args.exitCode !== 0 && container.terminationMessagePolicy === 'FallbackToLogsOnError' && args.logPath) {
    message = await lastLogLines(args.logPath);
  }
  return message;
}

/** The end of a CRI log file as plain text: last 80 lines, at most 2048 bytes. */
export async function lastLogLines(logPath: string): Promise<string> {
  const raw = (await tail(logPath, 64 * 1024)).toString('utf8');
  const lines: string[] = [];
  let partial = '';
  for (const line of raw.split('\n')) {
    // CRI format: <RFC3339Nano> <stdout|stderr> <P|F> <content>
    const match = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!match) continue;
    partial += match[2];
    if (match[1] === 'F') {
      lines.push(partial);
      partial = '';
    }
  }
  const text = lines.slice(-MAX_TERMINATION_LOG_LINES).map((l) => l + '\n').join('');
  const bytes = Buffer.from(text);
  return bytes.length > MAX_TERMINATION_LOG_BYTES ? bytes.subarray(bytes.length - MAX_TERMINATION_LOG_BYTES).toString('utf8') : text;
}

