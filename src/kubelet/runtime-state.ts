/**
 * What the container runtime holds for each pod, rebuilt from CRI alone: the
 * sandboxes and containers carry the kubelet's labels (pod uid, name,
 * namespace, container name) and annotations (restart count, spec hash), so a
 * kubelet that restarts knows every pod it ran without any state of its own —
 * as kubelet's kuberuntime GetPodStatus does. docs/node.md lists the keys.
 */
import type { CriClient } from './cri/client.js';
import type { ContainerState as CriContainerState, ContainerStatus as CriContainerStatus, PodSandbox } from './cri/types.js';
import { isNotFound } from './cri/client.js';

/** CRI label and annotation keys the kubelet writes (pkg/kubelet/types/labels.go, kuberuntime/labels.go). */
export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  containerType: 'io.kubernetes.container.type',
} as const;

export const ANNOTATIONS = {
  containerHash: 'io.kubernetes.container.hash',
  restartCount: 'io.kubernetes.container.restartCount',
  terminationGracePeriod: 'io.kubernetes.pod.terminationGracePeriod',
  terminationMessagePath: 'io.kubernetes.container.terminationMessagePath',
  /** Pilote: "init", "sidecar" or "regular", to tell the kinds apart without the spec (the pod may be gone). */
  containerKind: 'pilote.dev/container-kind',
  /** Pilote: the image's repo digest (name@sha256:…) as the image manager resolved it, shown as the status imageID. */
  imageId: 'pilote.dev/image-id',
} as const;

/** Container state in the kubelet's words (kubecontainer.State). */
export type RuntimeContainerStateName = 'created' | 'running' | 'exited' | 'unknown';

/** One container instance as the runtime reports it. */
export interface RuntimeContainer {
  id: string;
  sandboxId: string;
  name: string;
  state: RuntimeContainerStateName;
  /** Milliseconds since the epoch (0 when not reached). */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  /** Runtime's reason for an exit: Completed, Error, OOMKilled… */
  reason: string;
  message: string;
  /** Image name the runtime reports (e.g. docker.io/library/busybox:latest). */
  image: string;
  /** Digested reference: docker.io/library/busybox@sha256:… */
  imageRef: string;
  restartCount: number;
  hash: string;
  logPath: string;
  annotations: Record<string, string>;
}

/** One sandbox instance. */
export interface RuntimeSandbox {
  id: string;
  attempt: number;
  ready: boolean;
  createdAt: number;
  ip: string;
  additionalIps: string[];
}

/** A pod as the runtime knows it: newest sandbox and container first. */
export interface RuntimePod {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: RuntimeSandbox[];
  containers: RuntimeContainer[];
}

const STATE_NAMES: Record<CriContainerState, RuntimeContainerStateName> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

const nsToMs = (ns: number): number => (ns > 0 ? Math.floor(ns / 1e6) : 0);

/** The newest instance of a named container, if any. */
export function latestContainer(pod: RuntimePod | undefined, name: string): RuntimeContainer | undefined {
  return pod?.containers.find((c) => c.name === name);
}

/**
 * The imageID to show: `<repository>@sha256:…`. containerd names the digest
 * of an imported (not pulled) image after the import ("docker.io/library/
 * import-2026-01-01@sha256:…"); the image's own repository is put back.
 */
export function repoDigest(imageName: string, imageRef: string): string {
  const at = imageRef.indexOf('@');
  if (at < 0 || !imageName || imageName.startsWith('sha256:')) return imageRef;
  const withoutDigest = imageName.split('@')[0];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  const repository = colon > lastSlash ? withoutDigest.slice(0, colon) : withoutDigest;
  return `${repository}${imageRef.slice(at)}`;
}

/** Converts a CRI ContainerStatus. */
export function fromCriStatus(status: CriContainerStatus, sandboxId: string): RuntimeContainer {
  const restartCount = Number(status.annotations[ANNOTATIONS.restartCount] ?? 0);
  return {
    id: status.id,
    sandboxId,
    name: status.labels[LABELS.containerName] ?? status.metadata?.name ?? '',
    state: STATE_NAMES[status.state] ?? 'unknown',
    createdAt: nsToMs(status.createdAt),
    startedAt: nsToMs(status.startedAt),
    finishedAt: nsToMs(status.finishedAt),
    exitCode: status.exitCode,
    reason: status.reason,
    message: status.message,
    image: status.image?.image ?? '',
    imageRef: repoDigest(status.image?.image ?? '', status.annotations[ANNOTATIONS.imageId] || status.imageRef),
    restartCount: Number.isFinite(restartCount) ? restartCount : 0,
    hash: status.annotations[ANNOTATIONS.containerHash] ?? '',
    logPath: status.logPath,
    annotations: status.annotations,
  };
}

/**
 * Reads pods from the runtime. Statuses of exited containers never change, so
 * they are cached by id; sandbox IPs too (they are fixed for a sandbox's life).
 */
export class RuntimeReader {
  private readonly exited = new Map<string, RuntimeContainer>();
  private readonly sandboxIps = new Map<string, { ip: string; additionalIps: string[] }>();

  /**
   * `terminationMessage` gives the message of an exited container (its
   * termination-message file or log tail), appended to the runtime's as the kubelet does.
   */
  constructor(
    private readonly cri: CriClient,
    private readonly terminationMessage?: (container: RuntimeContainer, status: CriContainerStatus) => Promise<string>,
  ) {}

  /** Everything of one pod (by uid). */
  async readPod(uid: string): Promise<RuntimePod | undefined> {
    const selector = { [LABELS.podUid]: uid };
    const [sandboxes, containers] = await Promise.all([
      this.cri.listPodSandbox({ labelSelector: selector }),
      this.cri.listContainers({ labelSelector: selector }),
    ]);
    if (sandboxes.length === 0 && containers.length === 0) return undefined;
    return this.assemble(uid, sandboxes, containers);
  }

  /** Every pod the runtime holds, by uid (for adoption and garbage collection). */
  async readAll(): Promise<Map<string, RuntimePod>> {
    const [sandboxes, containers] = await Promise.all([this.cri.listPodSandbox(), this.cri.listContainers()]);
    const uids = new Set<string>();
    for (const s of sandboxes) if (s.labels[LABELS.podUid]) uids.add(s.labels[LABELS.podUid]);
    for (const c of containers) if (c.labels[LABELS.podUid]) uids.add(c.labels[LABELS.podUid]);
    const pods = new Map<string, RuntimePod>();
    await Promise.all(
      [...uids].map(async (uid) => {
        const pod = await this.assemble(
          uid,
          sandboxes.filter((s) => s.labels[LABELS.podUid] === uid),
          containers.filter((c) => c.labels[LABELS.podUid] === uid),
        );
        pods.set(uid, pod);
      }),
    );
    return pods;
  }

  /** Forgets cached data of removed containers and sandboxes. */
  forget(ids: Iterable<string>): void {
    for (const id of ids) {
      this.exited.delete(id);
      this.sandboxIps.delete(id);
    }
  }

  private async assemble(uid: string, sandboxList: PodSandbox[], containerList: { id: string; podSandboxId: string; labels: Record<string, string> }[]): Promise<RuntimePod> {
    const first = sandboxList[0]?.labels ?? containerList[0]?.labels ?? {};
    const sandboxes = await Promise.all(sandboxList.map((s) => this.sandbox(s)));
    sandboxes.sort((a, b) => b.createdAt - a.createdAt);
    const containers = (await Promise.all(containerList.map((c) => this.container(c.id, c.podSandboxId)))).filter((c): c is RuntimeContainer => c !== undefined);
    containers.sort((a, b) => b.createdAt - a.createdAt);
    return { uid, name: first[LABELS.podName] ?? '', namespace: first[LABELS.podNamespace] ?? '', sandboxes, containers };
  }

  private async sandbox(s: PodSandbox): Promise<RuntimeSandbox> {
    let ips = this.sandboxIps.get(s.id);
    if (!ips && s.state === 'SANDBOX_READY') {
      try {
        const status = (await this.cri.podSandboxStatus(s.id)).status;
        ips = { ip: status?.network?.ip ?? '', additionalIps: status?.network?.additionalIps.map((a) => a.ip) ?? [] };
        if (ips.ip) this.sandboxIps.set(s.id, ips);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    return {
      id: s.id,
      attempt: s.metadata?.attempt ?? 0,
      ready: s.state === 'SANDBOX_READY',
      createdAt: nsToMs(s.createdAt),
      ip: ips?.ip ?? '',
      additionalIps: ips?.additionalIps ?? [],
    };
  }

  private async container(id: string, sandboxId: string): Promise<RuntimeContainer | undefined> {
    const cached = this.exited.get(id);
    if (cached) return cached;
    try {
      const status = (await this.cri.containerStatus(id)).status;
      if (!status) return undefined;
      const container = fromCriStatus(status, sandboxId);
      if (container.state === 'exited') {
        const extra = await this.terminationMessage?.(container, status).catch(() => '');
        if (extra) container.message = container.message ? `${container.message}: ${extra}` : extra;
        this.exited.set(id, container);
      }
      return container;
    } catch (error) {
      if (isNotFound(error)) return undefined; // removed meanwhile
      throw error;
    }
  }
}
