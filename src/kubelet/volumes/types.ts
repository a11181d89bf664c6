/**
 * Shapes shared by the volume manager and the container side: what a set-up
 * volume is, where it lives, and the FailedMount error.
 */
import { join } from 'node:path';
import type { Volume } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../../agent/config.js';

/** Default file mode of ConfigMap, Secret, downwardAPI and projected volumes (0644). */
export const DEFAULT_VOLUME_FILE_MODE = 0o644;

/** The volume sources this node sets up. */
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

/** Directory of each volume kind under the pod's volumes/ (the kubelet's plugin names). */
export const PLUGIN_DIRS: Record<VolumeKind, string> = {
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

/** The kind of a volume (the name of its source field). */
export function kindOf(volume: Volume): VolumeKind | string {
  for (const kind of Object.keys(PLUGIN_DIRS) as VolumeKind[]) if ((volume as unknown as Record<string, unknown>)[kind]) return kind;
  const other = Object.keys(volume).find((k) => k !== 'name');
  return other ?? 'unknown';
}
