/**
 * securityContext → CRI: the pod's and the container's settings merged as
 * Kubernetes does (DetermineEffectiveSecurityContext), the runAsNonRoot check
 * against the image's user (verifyRunAsNonRoot), namespace options, and the
 * sandbox's security context. Messages are the kubelet's, word for word.
 */
import type { Container, Pod, SecurityContext, SeccompProfile } from 'kubernetes-types/core/v1.js';
import type { LinuxContainerSecurityContext, LinuxSandboxSecurityContext, NamespaceOption, SecurityProfile } from './cri/types.js';

/**
 * A container cannot be configured (the container status shows
 * CreateContainerConfigError with this message; the kubelet retries on the next sync).
 */
export class CreateContainerConfigError extends Error {
  override readonly name = 'CreateContainerConfigError';
}

/** `name_namespace(uid)`, the kubelet's format.Pod. */
export function formatPodRef(pod: Pod): string {
  return `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? ''}(${pod.metadata?.uid ?? ''})`;
}

/** The user an image runs as: a numeric uid, or a name that cannot be checked. */
export interface ImageUser {
  uid?: number;
  username: string;
}

/**
 * Reads an image config's `User` the way containerd reports it: "" → root
 * (uid 0, as the kubelet assumes), "1000" or "1000:50" → uid 1000,
 * "nginx" or "nginx:nginx" → the name only.
 */
export function parseImageUser(user: string | undefined): ImageUser {
  const first = (user ?? '').split(':')[0];
  if (first === '') return { uid: 0, username: '' };
  if (/^\d+$/.test(first)) return { uid: Number(first), username: '' };
  return { username: first };
}

/** Pod-level settings overridden by the container's where it has them. */
export function effectiveSecurityContext(pod: Pod, container: Container): SecurityContext {
  const podSc = pod.spec?.securityContext ?? {};
  const sc: SecurityContext = { ...(container.securityContext ?? {}) };
  const merged = sc as Record<string, unknown>;
  for (const field of ['seLinuxOptions', 'windowsOptions', 'runAsUser', 'runAsGroup', 'runAsNonRoot', 'seccompProfile', 'appArmorProfile'] as const) {
    if (merged[field] === undefined && podSc[field] !== undefined) merged[field] = podSc[field];
  }
  return sc;
}

/**
 * Throws CreateContainerConfigError when runAsNonRoot is asked for and the
 * container would (or could) run as root.
 */
export function verifyRunAsNonRoot(pod: Pod, container: Container, image: ImageUser): void {
  const sc = effectiveSecurityContext(pod, container);
  if (!sc.runAsNonRoot) return;
  const ref = `(pod: "${formatPodRef(pod)}", container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new CreateContainerConfigError(`container's runAsUser breaks non-root policy ${ref}`);
    return;
  }
  if (image.uid === 0) throw new CreateContainerConfigError(`container has runAsNonRoot and image will run as root ${ref}`);
  if (image.uid === undefined && image.username) {
    throw new CreateContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${image.username}), cannot verify user is non-root ${ref}`);
  }
}

/** Network/PID/IPC namespaces of the pod (NamespacesForPod). */
export function namespaceOptions(pod: Pod): NamespaceOption {
  const spec = pod.spec;
  return {
    network: spec?.hostNetwork ? 'NODE' : 'POD',
    pid: spec?.hostPID ? 'NODE' : spec?.shareProcessNamespace ? 'POD' : 'CONTAINER',
    ipc: spec?.hostIPC ? 'NODE' : 'POD',
  };
}

/** Paths /proc masks for containers with the Default procMount (securitycontext defaults). */
export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
/** Paths mounted read-only for the Default procMount. */
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function seccompProfile(profile: SeccompProfile | undefined, fallback: SecurityProfile['profileType']): SecurityProfile {
  switch (profile?.type) {
    case 'RuntimeDefault':
      return { profileType: 'RuntimeDefault' };
    case 'Localhost':
      return { profileType: 'Localhost', localhostRef: profile.localhostProfile ?? '' };
    case 'Unconfined':
      return { profileType: 'Unconfined' };
    default:
      return { profileType: fallback };
  }
}

/** Groups every container of the pod joins: fsGroup first, then supplementalGroups. */
export function podSupplementalGroups(pod: Pod): number[] {
  const sc = pod.spec?.securityContext;
  const groups: number[] = [];
  if (sc?.fsGroup !== undefined) groups.push(sc.fsGroup);
  for (const g of sc?.supplementalGroups ?? []) if (!groups.includes(g)) groups.push(g);
  return groups;
}

/**
 * The container's CRI security context (determineEffectiveSecurityContext):
 * user from the spec, else the image's uid or name; capabilities as written
 * in the spec (CRI takes names without CAP_, containerd adds it); seccomp
 * Unconfined unless asked (the kubelet's default without SeccompDefault).
 */
export function linuxContainerSecurityContext(pod: Pod, container: Container, image: ImageUser): LinuxContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  const out: LinuxContainerSecurityContext = {
    namespaceOptions: namespaceOptions(pod),
    privileged: sc.privileged ?? false,
    readonlyRootfs: sc.readOnlyRootFilesystem ?? false,
    noNewPrivs: sc.allowPrivilegeEscalation === undefined ? false : !sc.allowPrivilegeEscalation,
    supplementalGroups: podSupplementalGroups(pod),
    seccomp: seccompProfile(sc.seccompProfile, 'Unconfined'),
  };
  if (sc.capabilities) {
    out.capabilities = { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] };
  }
  if (sc.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  else if (image.uid !== undefined) out.runAsUser = { value: image.uid };
  else if (image.username) out.runAsUsername = image.username;
  if (sc.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  if (sc.seLinuxOptions) out.selinuxOptions = { ...sc.seLinuxOptions };
  if (sc.appArmorProfile?.type === 'Unconfined') out.apparmor = { profileType: 'Unconfined' };
  else if (sc.appArmorProfile?.type === 'Localhost') out.apparmor = { profileType: 'Localhost', localhostRef: sc.appArmorProfile.localhostProfile ?? '' };
  else if (sc.appArmorProfile?.type === 'RuntimeDefault') out.apparmor = { profileType: 'RuntimeDefault' };
  if (sc.procMount === 'Unmasked') {
    out.maskedPaths = [];
    out.readonlyPaths = [];
  } else {
    out.maskedPaths = [...DEFAULT_MASKED_PATHS];
    out.readonlyPaths = [...DEFAULT_READONLY_PATHS];
  }
  return out;
}

/** The sandbox's security context (generatePodSandboxLinuxConfig). */
export function linuxSandboxSecurityContext(pod: Pod): LinuxSandboxSecurityContext {
  const sc = pod.spec?.securityContext;
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const out: LinuxSandboxSecurityContext = {
    namespaceOptions: namespaceOptions(pod),
    privileged: all.some((c) => c.securityContext?.privileged === true),
    // As the kubelet: the sandbox itself always runs with the runtime's default profile.
    seccomp: { profileType: 'RuntimeDefault' },
    supplementalGroups: podSupplementalGroups(pod),
  };
  if (sc?.runAsUser !== undefined) out.runAsUser = { value: sc.runAsUser };
  if (sc?.runAsGroup !== undefined) out.runAsGroup = { value: sc.runAsGroup };
  if (sc?.seLinuxOptions) out.selinuxOptions = { ...sc.seLinuxOptions };
  return out;
}

/** Sysctls of the pod, as the CRI map. */
export function podSysctls(pod: Pod): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of pod.spec?.securityContext?.sysctls ?? []) out[s.name] = s.value;
  return out;
}
