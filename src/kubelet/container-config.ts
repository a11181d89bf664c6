/**
 * The CRI ContainerConfig of one container instance (kuberuntime
 * generateContainerConfig): the runAsNonRoot check against the image's user,
 * the environment, command and args with `$(VAR)` expanded, mounts, log path,
 * resources and security context. Errors are CreateContainerConfigError with
 * the kubelet's messages; the pod worker shows them as the waiting reason.
 */
import { totalmem } from 'node:os';
import { join } from 'node:path';
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../agent/config.js';
import type { ApiClient } from '../client/types.js';
import type { ContainerConfig, PodSandboxConfig } from './cri/types.js';
import { buildEnvironment, expandEnvReferences, type NodeAllocatable } from './env.js';
import { linuxContainerResources } from './resources.js';
import { ANNOTATIONS, LABELS } from './runtime-state.js';
import { linuxContainerSecurityContext, parseImageUser, verifyRunAsNonRoot } from './security.js';
import { containerMounts, type MountedVolumes } from './volumes.js';

export { CreateContainerConfigError } from './security.js';

/** What buildContainerConfig needs. */
export interface ContainerConfigInput {
  pod: Pod;
  container: Container;
  /** init, sidecar (init with restartPolicy Always) or regular. */
  kind: 'init' | 'sidecar' | 'regular';
  /** The instance's restart count: its attempt number and log file name. */
  restartCount: number;
  /** The image to run: its digested reference and the `User` of its config (string as written, or a uid). */
  image: { imageRef: string; user?: string | number };
  /** The sandbox's IP ('' for none yet): /etc/hosts and status.podIP of the downward API. */
  podIP: string;
  /** All the sandbox's IPs when it has more than one. */
  podIPs?: string[];
  config: AgentConfig;
  client: ApiClient;
  volumes: MountedVolumes;
  sandboxConfig: PodSandboxConfig;
  /** Services for the link variables; listed through the client when omitted. */
  services?: Service[];
  /** The node's allocatable, the default of limits in resourceFieldRef (this machine when omitted). */
  allocatable?: NodeAllocatable;
}

/** Command or args with `$(VAR)` references expanded from the container environment (ExpandContainerCommandAndArgs). */
function expandAll(items: readonly string[] | undefined, lookup: (name: string) => string | undefined): string[] | undefined {
  return items?.map((item) => expandEnvReferences(item, lookup));
}

/**
 * Builds the ContainerConfig for CRI CreateContainer. Throws
 * CreateContainerConfigError (e.g. `container has runAsNonRoot and image will
 * run as root (pod: "nginxsecure_default(<uid>)", container: nginx)`,
 * `configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`).
 * The pod worker adds the restart-count and hash annotations.
 */
export async function buildContainerConfig(input: ContainerConfigInput): Promise<ContainerConfig> {
  const { pod, container, config } = input;
  const imageUser = typeof input.image.user === 'number' ? { uid: input.image.user, username: '' } : parseImageUser(input.image.user);
  verifyRunAsNonRoot(pod, container, imageUser);

  // A host-network pod has the node's addresses (the runtime reports none for its sandbox).
  const podIP = input.podIP || (pod.spec?.hostNetwork ? config.nodeIp : '');
  const podIPs = input.podIPs?.length ? input.podIPs : podIP ? [podIP] : [];
  const env = await buildEnvironment({
    pod,
    container,
    client: input.client,
    addresses: { podIPs, hostIPs: [config.nodeIp] },
    services: input.services,
    allocatable: input.allocatable,
  });
  const envMap = new Map(env.map((e) => [e.key, e.value]));
  const lookup = (name: string) => envMap.get(name);
  const mounts = await containerMounts({
    pod,
    container,
    volumes: input.volumes,
    podIPs,
    clusterDomain: config.clusterDomain,
    env,
    restartCount: input.restartCount,
  });
  const meta = pod.metadata ?? {};
  const annotations: Record<string, string> = {
    [ANNOTATIONS.terminationMessagePath]: container.terminationMessagePath ?? '/dev/termination-log',
    'io.kubernetes.container.terminationMessagePolicy': container.terminationMessagePolicy ?? 'File',
  };
  if (container.ports?.length) annotations['io.kubernetes.container.ports'] = JSON.stringify(container.ports);
  return {
    metadata: { name: container.name, attempt: input.restartCount },
    image: { image: input.image.imageRef, userSpecifiedImage: container.image ?? '' },
    command: expandAll(container.command, lookup),
    args: expandAll(container.args, lookup),
    workingDir: container.workingDir ?? '',
    envs: env,
    mounts,
    labels: {
      [LABELS.podName]: meta.name ?? '',
      [LABELS.podNamespace]: meta.namespace ?? '',
      [LABELS.podUid]: meta.uid ?? '',
      [LABELS.containerName]: container.name,
    },
    annotations,
    logPath: join(container.name, `${input.restartCount}.log`),
    stdin: container.stdin ?? false,
    stdinOnce: container.stdinOnce ?? false,
    tty: container.tty ?? false,
    linux: {
      resources: linuxContainerResources(container, pod, input.allocatable?.memoryBytes ?? totalmem()),
      securityContext: linuxContainerSecurityContext(pod, container, imageUser),
    },
  };
}
