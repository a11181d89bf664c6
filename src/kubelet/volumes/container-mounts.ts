/**
 * The container side of volumes (makeMounts): volumeMounts → CRI mounts with
 * subPath and propagation, the kubelet-managed /etc/hosts, and the file behind
 * terminationMessagePath.
 */
import { promises as fs } from 'node:fs';
import { join, posix, sep } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import type { Mount, MountPropagation } from '../cri/types.js';
import { expandEnvReferences, type EnvVar } from '../env.js';
import { CreateContainerConfigError } from '../security.js';
import { statOrUndefined } from './host-path.js';
import type { MountedVolumes } from './types.js';

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
