/**
 * Pod volumes on the node (the kubelet's volume manager and plugins, minus
 * attach/detach): emptyDir (also tmpfs), hostPath with its type checks,
 * ConfigMap, Secret, downwardAPI and projected volumes (with service-account
 * tokens from the TokenRequest API, renewed at 80 % of their lifetime) written
 * by the atomic writer so they update in place. Then the container side:
 * volumeMounts → CRI mounts (subPath, propagation), the kubelet-managed
 * /etc/hosts and the termination-message file.
 *
 * This file is the manager; the parts live in ./volumes/ (atomic writer,
 * payloads, hostPath checks, tmpfs mounts, container mounts, termination
 * messages) and are re-exported here.
 *
 * Layout (docs/node.md): <dataDir>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>,
 * <dataDir>/pods/<uid>/etc-hosts, <dataDir>/pods/<uid>/containers/<name>/…
 * Secret and projected volumes are tmpfs mounts, as on Kubernetes nodes.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Pod, ServiceAccountTokenProjection, Volume } from 'kubernetes-types/core/v1.js';
import { parseQuantity, quantityToNumber } from '../api/quantity.js';
import type { AgentConfig } from '../agent/config.js';
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../client/types.js';
import { logger } from '../util/log.js';
import { ConfigSourceCache, machineAllocatable, type NodeAllocatable } from './env.js';
import { setVolumeOwnership, writeAtomically } from './volumes/atomic-writer.js';
import { checkHostPathType, statOrUndefined } from './volumes/host-path.js';
import { TMPFS_API_DATA_BYTES, ensureTmpfs, removePodDirectory } from './volumes/mounts.js';
import { readsMutableMetadata, volumePayload, type PayloadContext } from './volumes/payloads.js';
import { PLUGIN_DIRS, VolumeSetupError, kindOf, podDirectory, type MountedVolume, type MountedVolumes, type VolumeKind } from './volumes/types.js';

export { writeAtomically, setVolumeOwnership, type FileProjection } from './volumes/atomic-writer.js';
export { checkHostPathType } from './volumes/host-path.js';
export { containerMounts, hostsFileContent, podHostnameAndDomain, terminationMessageFile, type ContainerMountsInput } from './volumes/container-mounts.js';
export { lastLogLines, readTerminationMessage, MAX_TERMINATION_MESSAGE_BYTES } from './volumes/termination-message.js';
export { DEFAULT_VOLUME_FILE_MODE, VolumeSetupError, podDirectory, type MountedVolume, type MountedVolumes, type VolumeKind } from './volumes/types.js';

const log = logger('volumes');

/** A service-account token the manager holds, to renew before it expires. */
interface HeldToken {
  token: string;
  issuedMs: number;
  expiresMs: number;
}

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
