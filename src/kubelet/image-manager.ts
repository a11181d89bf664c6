/**
 * The kubelet's image manager (pkg/kubelet/images/image_manager.go): makes a
 * container's image present in containerd according to its imagePullPolicy,
 * with the kubelet's events (Pulling, Pulled, Failed, BackOff,
 * ErrImageNeverPull) and its per-pod pull back-off (10 s doubling to 5 min).
 *
 * Pilote's own image store (config.imageStoreDir, written by `pilote build`)
 * comes first: an image found there is imported into containerd when
 * containerd lacks it or holds another version. Otherwise CRI PullImage pulls
 * from the registry, through the mirrors of config.registriesFile.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, statfsSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import YAML from 'yaml';
import type { AgentConfig } from '../agent/config.js';
import type { KubeObject } from '../apimachinery/types.js';
import type { EventRecorder } from '../controllers/runtime/events.js';
import { parseReference, formatReference } from '../image/reference.js';
import { ImageStore, imageId as storeImageId } from '../image/store.js';
import type { StoredImage } from '../image/types.js';
import { logger } from '../util/log.js';
import { containerdPaths } from './containerd.js';
import { CriError, type AuthConfig, type CriClient, type Image } from './cri/client.js';
import { PAUSE_IMAGE } from './pause-image.js';

const log = logger('image-manager');

/** Reasons the pod worker shows as the container's waiting reason. */
export type ImageErrorReason = 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';

/** Why an image could not be made present; `reason` is the container's waiting reason. */
export class ImagePullError extends Error {
  constructor(
    readonly reason: ImageErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'ImagePullError';
  }
}

/** An image ready to run. */
export interface EnsuredImage {
  /** The image reference to give CRI CreateContainer (containerd's image id, sha256:…). */
  imageRef: string;
  /** What containerStatuses[].imageID shows: the repo digest (name@sha256:…) when known, else the image id. */
  imageId: string;
  /** The image config's User ("", "1000", "1000:1000", "nginx"), for runAsNonRoot checks. */
  user?: string;
}

/** Options of the image manager. */
export interface ImageManagerOptions {
  cri: CriClient;
  config: AgentConfig;
  recorder: EventRecorder;
  /** Pilote's image store (default: opened from config.imageStoreDir when that directory exists). */
  store?: ImageStore;
  /** Pull back-off (tests shorten it). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** containerd socket for `ctr images import` (default: the agent's containerd socket). */
  containerdSocket?: string;
}

/** What registries.yaml (k3s' format) may say. */
interface RegistriesFile {
  mirrors?: Record<string, { endpoint?: string[] }>;
  configs?: Record<string, {
    auth?: { username?: string; password?: string; auth?: string; identity_token?: string };
    tls?: { insecure_skip_verify?: boolean; ca_file?: string; cert_file?: string; key_file?: string };
  }>;
}

/** The kubelet's default pull policy: Always for `:latest` or no tag, else IfNotPresent. */
export function defaultPullPolicy(image: string): 'Always' | 'IfNotPresent' {
  const lastPart = image.slice(image.lastIndexOf('/') + 1);
  if (image.includes('@')) return 'IfNotPresent';
  const colon = lastPart.lastIndexOf(':');
  if (colon < 0) return 'Always';
  return lastPart.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Go's time.Duration String() of a millisecond-truncated duration: 523ms, 1.2s, 1m2.345s. */
export function goDurationMs(ms: number): string {
  const whole = Math.max(0, Math.floor(ms));
  if (whole === 0) return '0s';
  if (whole < 1000) return `${whole}ms`;
  const trimmed = (value: number) => value.toFixed(3).replace(/\.?0+$/, '');
  const minutes = Math.floor(whole / 60_000);
  const seconds = (whole % 60_000) / 1000;
  if (minutes === 0) return `${trimmed(seconds)}s`;
  const hours = Math.floor(minutes / 60);
  return hours > 0 ? `${hours}h${minutes % 60}m${trimmed(seconds)}s` : `${minutes}m${trimmed(seconds)}s`;
}

/** Registry host of a normalised name (`docker.io/library/nginx:latest` → `docker.io`). */
function registryOf(fullName: string): string {
  return fullName.slice(0, fullName.indexOf('/'));
}

/** One back-off record (the kubelet's flowcontrol.Backoff, IsInBackOffSinceUpdate semantics). */
interface BackoffEntry {
  delayMs: number;
  lastUpdateMs: number;
}

/** Ensures container images are present in containerd. */
export class ImageManager {
  private readonly cri: CriClient;
  private readonly config: AgentConfig;
  private readonly recorder: EventRecorder;
  private readonly storeOverride?: ImageStore;
  private storeCache?: ImageStore;
  private readonly socket: string;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly backoff = new Map<string, BackoffEntry>();
  /** One pull/import per image at a time; concurrent callers share it. */
  private readonly inflight = new Map<string, Promise<Image>>();
  private registriesStamp = '';
  /** Image id → when a container last asked for it (or when GC first saw it): the LRU order of image GC. */
  private readonly lastUsed = new Map<string, number>();
  private auths = new Map<string, AuthConfig>();

  constructor(options: ImageManagerOptions) {
    this.cri = options.cri;
    this.config = options.config;
    this.recorder = options.recorder;
    this.storeOverride = options.store;
    this.socket = options.containerdSocket ?? containerdPaths(options.config.dataDir).socket;
    this.initialMs = options.backoff?.initialMs ?? 10_000;
    this.maxMs = options.backoff?.maxMs ?? 300_000;
    this.syncRegistries();
  }

  /** Pilote's image store, when there is one. */
  private store(): ImageStore | undefined {
    if (this.storeOverride) return this.storeOverride;
    if (!this.storeCache && existsSync(join(this.config.imageStoreDir, 'index.json'))) this.storeCache = ImageStore.open(this.config.imageStoreDir);
    return this.storeCache;
  }

  /**
   * Time left (ms) before the image of this pod's container may be pulled again
   * after a failure; 0 when it may be pulled now.
   */
  pullBackOffRemaining(pod: Pod, container: Container): number {
    const entry = this.backoff.get(this.backoffKey(pod, container));
    if (!entry) return 0;
    return Math.max(0, entry.lastUpdateMs + entry.delayMs - Date.now());
  }

  /** Forgets the back-off of a pod that is gone. */
  forgetPod(podUid: string): void {
    for (const key of [...this.backoff.keys()]) if (key.startsWith(`${podUid}_`)) this.backoff.delete(key);
  }

  private backoffKey(pod: Pod, container: Container): string {
    return `${pod.metadata?.uid ?? ''}_${container.image ?? ''}`;
  }

  /**
   * Makes the container's image present as the pull policy asks, recording the
   * kubelet's events on the pod. Throws ImagePullError (reason ErrImagePull,
   * ImagePullBackOff, ErrImageNeverPull or InvalidImageName) when it cannot.
   */
  async ensureImage(pod: Pod, container: Container): Promise<EnsuredImage> {
    const object = pod as unknown as KubeObject;
    const image = container.image ?? '';
    let fullName: string;
    try {
      fullName = formatReference(parseReference(image));
    } catch (error) {
      const message = `Failed to apply default image tag "${image}": ${(error as Error).message}`;
      this.recorder.event(object, 'Warning', 'InspectFailed', message);
      throw new ImagePullError('InvalidImageName', message);
    }
    const policy = container.imagePullPolicy ?? defaultPullPolicy(image);

    const stored = await this.storedImage(fullName);
    const present = await this.presentImage(fullName);
    const upToDate = present !== undefined && (!stored || present.id === storeImageId(stored));
    const alreadyPresent = (found: Image): EnsuredImage => {
      this.recorder.event(object, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
      return this.ensured(found, stored);
    };
    if (policy === 'Never') {
      // Pilote's store is on this machine: an image built here is "present" even before containerd has it.
      if (present && !stored) return alreadyPresent(present);
      if (stored) return alreadyPresent(upToDate ? present! : await this.shared(fullName, () => this.importFromStore(fullName)));
      const message = `Container image "${image}" is not present with pull policy of Never`;
      this.recorder.event(object, 'Warning', 'ErrImageNeverPull', message);
      throw new ImagePullError('ErrImageNeverPull', message);
    }
    if (policy !== 'Always' && upToDate) return alreadyPresent(present!);

    const key = this.backoffKey(pod, container);
    const entry = this.backoff.get(key);
    if (entry && Date.now() - entry.lastUpdateMs < entry.delayMs) {
      const message = `Back-off pulling image "${image}"`;
      this.recorder.event(object, 'Normal', 'BackOff', message);
      throw new ImagePullError('ImagePullBackOff', message);
    }

    this.recorder.event(object, 'Normal', 'Pulling', `Pulling image "${image}"`);
    const started = Date.now();
    let pulled: Image;
    let pullMs: number;
    try {
      // Always with the store's image already in containerd: the "pull" is the digest check.
      const work = upToDate && stored ? Promise.resolve(present!) : this.shared(fullName, () => (stored ? this.importFromStore(fullName) : this.pullFromRegistry(fullName, pod)));
      const workStarted = Date.now();
      pulled = await work;
      pullMs = Date.now() - workStarted;
    } catch (error) {
      const text = error instanceof CriError ? `rpc error: code = ${error.codeName} desc = ${error.details}` : (error as Error).message;
      this.recorder.event(object, 'Warning', 'Failed', `Failed to pull image "${image}": ${text}`);
      const previous = this.backoff.get(key);
      const expired = previous && Date.now() - previous.lastUpdateMs > 2 * this.maxMs;
      this.backoff.set(key, {
        delayMs: previous && !expired ? Math.min(previous.delayMs * 2, this.maxMs) : this.initialMs,
        lastUpdateMs: Date.now(),
      });
      throw new ImagePullError('ErrImagePull', text);
    }
    this.backoff.delete(key);
    const total = Date.now() - started;
    this.recorder.event(
      object,
      'Normal',
      'Pulled',
      `Successfully pulled image "${image}" in ${goDurationMs(pullMs)} (${goDurationMs(total)} including waiting). Image size: ${pulled.size} bytes.`,
    );
    return this.ensured(pulled, stored);
  }

  /** Runs one import/pull per image at a time; concurrent callers share it. */
  private shared(fullName: string, start: () => Promise<Image>): Promise<Image> {
    const running = this.inflight.get(fullName);
    if (running) return running;
    const work = start().finally(() => this.inflight.delete(fullName));
    this.inflight.set(fullName, work);
    return work;
  }

  private ensured(image: Image, stored: StoredImage | undefined): EnsuredImage {
    this.lastUsed.set(image.id, Date.now());
    let user: string | undefined;
    if (stored) user = stored.config.config?.User ?? '';
    else if (image.uid) user = String(image.uid.value);
    else user = image.username;
    return { imageRef: image.id, imageId: image.repoDigests[0] ?? image.id, user };
  }

  /**
   * Image garbage collection, as the kubelet's ImageGCManager: when the image
   * filesystem is at least `highPercent` full (default 85), removes images no
   * container uses (least recently used first, none younger than `minAgeMs`,
   * never the pause image or pinned ones) until it is below `lowPercent`
   * (default 80). With `force`, removes every unused image regardless of usage.
   * Returns the ids of the images removed.
   */
  async garbageCollect(options: { highPercent?: number; lowPercent?: number; minAgeMs?: number; force?: boolean } = {}): Promise<string[]> {
    const high = options.highPercent ?? 85;
    const low = options.lowPercent ?? 80;
    const minAgeMs = options.minAgeMs ?? 120_000;
    const usage = await this.imageFsUsage();
    if (!options.force && (!usage || usage.usedPercent < high)) return [];
    const [images, containers] = await Promise.all([this.cri.listImages(), this.cri.listContainers()]);
    const inUse = new Set<string>();
    for (const c of containers) {
      inUse.add(c.imageRef);
      if (c.imageId) inUse.add(c.imageId);
      if (c.image?.image) inUse.add(c.image.image);
    }
    const now = Date.now();
    for (const image of images) if (!this.lastUsed.has(image.id)) this.lastUsed.set(image.id, now);
    const candidates = images
      .filter((i) => !i.pinned && !i.repoTags.includes(PAUSE_IMAGE) && !inUse.has(i.id) && !i.repoTags.some((t) => inUse.has(t)))
      .filter((i) => options.force || now - (this.lastUsed.get(i.id) ?? now) >= minAgeMs)
      .sort((a, b) => (this.lastUsed.get(a.id) ?? 0) - (this.lastUsed.get(b.id) ?? 0));
    let toFree = usage && !options.force ? ((usage.usedPercent - low) / 100) * usage.capacityBytes : Infinity;
    const removed: string[] = [];
    for (const image of candidates) {
      if (toFree <= 0) break;
      try {
        await this.cri.removeImage({ image: image.id });
        removed.push(image.id);
        this.lastUsed.delete(image.id);
        toFree -= image.size;
      } catch (error) {
        log.warn('image garbage collection could not remove an image', { image: image.repoTags[0] ?? image.id, error: (error as Error).message });
      }
    }
    if (removed.length) log.info('image garbage collection', { removed: removed.length, usedPercent: usage?.usedPercent });
    return removed;
  }

  /** How full the image filesystem is (CRI ImageFsInfo mountpoint, statfs for the capacity). */
  private async imageFsUsage(): Promise<{ usedPercent: number; capacityBytes: number } | undefined> {
    try {
      const info = await this.cri.imageFsInfo();
      const mountpoint = info.imageFilesystems[0]?.fsId?.mountpoint;
      if (!mountpoint) return undefined;
      const fs = statfsSync(mountpoint);
      const capacityBytes = fs.blocks * fs.bsize;
      const used = capacityBytes - fs.bavail * fs.bsize;
      return { usedPercent: capacityBytes > 0 ? (used / capacityBytes) * 100 : 0, capacityBytes };
    } catch (error) {
      log.warn('could not measure the image filesystem', { error: (error as Error).message });
      return undefined;
    }
  }

  private async storedImage(fullName: string): Promise<StoredImage | undefined> {
    const store = this.store();
    if (!store) return undefined;
    try {
      return await store.resolve(fullName);
    } catch (error) {
      log.warn('image store lookup failed', { image: fullName, error: (error as Error).message });
      return undefined;
    }
  }

  private async presentImage(fullName: string): Promise<Image | undefined> {
    const status = await this.cri.imageStatus(fullName);
    return status.image ?? undefined;
  }

  /** Streams an OCI archive of the stored image into `ctr images import -`. */
  private async importFromStore(fullName: string): Promise<Image> {
    const store = this.store();
    if (!store) throw new Error(`image store ${this.config.imageStoreDir} disappeared`);
    const child = spawn('ctr', ['-a', this.socket, '-n', 'k8s.io', 'images', 'import', '--digests', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', (error) => reject(new Error(`could not run ctr (install containerd): ${error.message}`)));
      child.once('exit', (code) => resolve(code ?? 1));
    });
    child.stdin.on('error', () => undefined); // ctr exiting early: its stderr says why
    try {
      await store.exportOciArchive([fullName], child.stdin);
    } finally {
      child.stdin.end();
    }
    const code = await exited;
    if (code !== 0) throw new Error(`importing "${fullName}" from the image store into containerd failed: ${stderr.trim() || `ctr exited with ${code}`}`);
    const image = await this.presentImage(fullName);
    if (!image) throw new Error(`"${fullName}" was imported into containerd but CRI does not list it`);
    return image;
  }

  private async pullFromRegistry(fullName: string, pod: Pod): Promise<Image> {
    this.syncRegistries();
    const auth = this.auths.get(registryOf(fullName));
    const sandbox = { metadata: { name: pod.metadata?.name ?? '', namespace: pod.metadata?.namespace ?? '', uid: pod.metadata?.uid ?? '', attempt: 0 } };
    await this.cri.pullImage(fullName, auth, sandbox);
    const image = await this.presentImage(fullName);
    if (!image) throw new Error(`"${fullName}" was pulled but CRI does not list it`);
    return image;
  }

  /**
   * Turns registries.yaml into containerd's certs.d/<host>/hosts.toml (mirrors
   * and TLS) and the auths passed to PullImage. Re-read when the file changes.
   */
  private syncRegistries(): void {
    const file = this.config.registriesFile;
    let stamp = '';
    try {
      const s = statSync(file);
      stamp = `${s.mtimeMs}:${s.size}`;
    } catch {
      stamp = 'absent';
    }
    if (stamp === this.registriesStamp) return;
    this.registriesStamp = stamp;
    let parsed: RegistriesFile = {};
    if (stamp !== 'absent') {
      try {
        parsed = (YAML.parse(readFileSync(file, 'utf8')) ?? {}) as RegistriesFile;
      } catch (error) {
        log.error('ignoring unreadable registries file', { file, error: (error as Error).message });
      }
    }
    writeHostsTomls(containerdPaths(this.config.dataDir).certsDir, parsed);
    this.auths = new Map();
    for (const [host, entry] of Object.entries(parsed.configs ?? {})) {
      const a = entry.auth;
      if (!a) continue;
      this.auths.set(host, { username: a.username, password: a.password, auth: a.auth, identityToken: a.identity_token, serverAddress: host });
    }
  }
}

/** Writes one hosts.toml per mirrored or configured registry and removes stale ones. */
export function writeHostsTomls(certsDir: string, registries: RegistriesFile): void {
  mkdirSync(certsDir, { recursive: true });
  const hosts = new Set([...Object.keys(registries.mirrors ?? {}), ...Object.keys(registries.configs ?? {})]);
  for (const name of readdirSync(certsDir)) if (!hosts.has(name)) rmSync(join(certsDir, name), { recursive: true, force: true });
  for (const host of hosts) {
    const endpoints = (registries.mirrors?.[host]?.endpoint ?? []).map((e) => e.replace(/\/+$/, '').replace(/\/v2$/, ''));
    const configFor = (endpoint: string) => registries.configs?.[endpoint.replace(/^\w+:\/\//, '').replace(/\/.*$/, '')];
    const tlsFor = (endpoint: string) => configFor(endpoint)?.tls ?? registries.configs?.[host]?.tls;
    // CRI passes one credential, for the image's own registry: a mirror's credentials go in its header.
    const authHeaderFor = (endpoint: string): string | undefined => {
      const auth = configFor(endpoint)?.auth;
      if (!auth) return undefined;
      if (auth.auth) return `Basic ${auth.auth}`;
      if (auth.username !== undefined) return `Basic ${Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64')}`;
      return auth.identity_token ? `Bearer ${auth.identity_token}` : undefined;
    };
    // The first mirror is also the server: no fallback to the upstream registry behind the user's back.
    const server = endpoints[0] ?? (host === 'docker.io' ? 'https://registry-1.docker.io' : `https://${host}`);
    const lines = [`# Written by Pilote from ${'registries.yaml'}; edits are overwritten.`, `server = ${JSON.stringify(server)}`, ''];
    for (const endpoint of endpoints.length ? endpoints : [server]) {
      const tls = tlsFor(endpoint);
      lines.push(`[host.${JSON.stringify(endpoint)}]`, '  capabilities = ["pull", "resolve"]');
      if (tls?.insecure_skip_verify) lines.push('  skip_verify = true');
      if (tls?.ca_file) lines.push(`  ca = ${JSON.stringify(tls.ca_file)}`);
      if (tls?.cert_file && tls.key_file) lines.push(`  client = [[${JSON.stringify(tls.cert_file)}, ${JSON.stringify(tls.key_file)}]]`);
      const authorization = endpoints.length ? authHeaderFor(endpoint) : undefined;
      if (authorization) lines.push(`  [host.${JSON.stringify(endpoint)}.header]`, `    Authorization = ${JSON.stringify(authorization)}`);
      lines.push('');
    }
    mkdirSync(join(certsDir, host), { recursive: true });
    const path = join(certsDir, host, 'hosts.toml');
    const text = lines.join('\n');
    // 0600: it may hold registry credentials.
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) writeFileSync(path, text, { mode: 0o600 });
  }
}
