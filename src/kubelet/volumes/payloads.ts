/**
 * The files of ConfigMap, Secret, downwardAPI and projected volumes
 * (MakePayload and the projected plugin's collectData), with the kubelet's
 * messages for missing sources and keys.
 */
import type {
  ConfigMap,
  ConfigMapProjection,
  ConfigMapVolumeSource,
  DownwardAPIVolumeFile,
  KeyToPath,
  Pod,
  Secret,
  SecretProjection,
  SecretVolumeSource,
  ServiceAccountTokenProjection,
  Volume,
} from 'kubernetes-types/core/v1.js';
import { podFieldValue, resourceFieldValue, secretData, type ConfigSourceCache, type NodeAllocatable } from '../env.js';
import type { FileProjection } from './atomic-writer.js';
import { DEFAULT_VOLUME_FILE_MODE } from './types.js';

/** Relative path → file of an API-data volume. */
export type Payload = Map<string, FileProjection>;

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

/** True when a volume shows labels or annotations, the pod fields that change after creation. */
export function readsMutableMetadata(volume: Volume): boolean {
  const items = [...(volume.downwardAPI?.items ?? []), ...(volume.projected?.sources ?? []).flatMap((s) => s.downwardAPI?.items ?? [])];
  return items.some((item) => /^metadata\.(labels|annotations)/.test(item.fieldRef?.fieldPath ?? ''));
}

/** Everything a payload is computed from. */
export interface PayloadContext {
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
export async function volumePayload(volume: Volume, ctx: PayloadContext): Promise<Payload> {
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
