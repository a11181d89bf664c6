/**
 * CRI v1 client (RuntimeService + ImageService over gRPC on a unix socket).
 *
 * How to use:
 *   const cri = new CriClient(socketPath);            // e.g. the socket from startContainerd()
 *   await cri.version();                               // { runtimeName: 'containerd', runtimeVersion: '1.6.20…' }
 *   const id = await cri.runPodSandbox(sandboxConfig); // then createContainer(id, config, sandboxConfig), startContainer(cid)
 *   …
 *   cri.close();
 * Messages are the CRI proto messages in camelCase (types in ./types.ts). Responses are
 * decoded with defaults, so every scalar/list/map is present and unset sub-messages are null.
 * Failures reject with a CriError carrying the gRPC code (`err.code === GrpcStatus.NOT_FOUND`,
 * `err.codeName === 'NotFound'`) and the runtime's details; `isNotFound(err)` is a shortcut.
 * Calls have a deadline (2 min, PullImage 30 min); pass `{ timeoutMs }` to change it.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type {
  AuthConfig,
  Container,
  ContainerConfig,
  ContainerFilter,
  ContainerStats,
  ContainerStatusResponse,
  ExecSyncResponse,
  Image,
  ImageFsInfoResponse,
  ImageSpec,
  ImageStatusResponse,
  LinuxContainerResources,
  PodSandbox,
  PodSandboxConfig,
  PodSandboxFilter,
  PodSandboxStatusResponse,
  StatusResponse,
  VersionResponse,
} from './types.js';

export * from './types.js';

export const GrpcStatus = grpc.status;

/** A failed CRI call: the gRPC status code and the runtime's message. */
export class CriError extends Error {
  constructor(
    readonly method: string,
    /** Numeric gRPC status code (grpc.status). */
    readonly code: number,
    /** gRPC code name: 'NotFound', 'Unknown', 'DeadlineExceeded', … */
    readonly codeName: string,
    /** The runtime's error text. */
    readonly details: string,
  ) {
    super(`CRI ${method} failed: ${codeName}: ${details}`);
    this.name = 'CriError';
  }
}

/** True when a CRI call failed because the sandbox/container/image does not exist. */
export function isNotFound(error: unknown): boolean {
  return error instanceof CriError && error.code === grpc.status.NOT_FOUND;
}

const codeNames: Record<number, string> = Object.fromEntries(
  Object.entries(grpc.status)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => [v as number, k.toLowerCase().replace(/(^|_)([a-z])/g, (_m, _u, c: string) => c.toUpperCase())]),
);

/**
 * The .proto ships in src/ (tsc does not copy it to dist/): look next to this
 * file first (running from src with a TS loader), then in the package's src/.
 */
function protoPath(): string {
  const candidates = [
    new URL('./api.proto', import.meta.url),
    new URL('../../../../src/kubelet/cri/api.proto', import.meta.url),
  ].map((u) => fileURLToPath(u));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`CRI api.proto not found (looked in ${candidates.join(', ')}); is the src/ folder shipped with dist/?`);
  return found;
}

type ServiceCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => grpc.Client;
let services: { runtime: ServiceCtor; image: ServiceCtor } | undefined;

function loadServices(): { runtime: ServiceCtor; image: ServiceCtor } {
  if (services) return services;
  const definition = protoLoader.loadSync(protoPath(), {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    runtime: { v1: { RuntimeService: ServiceCtor; ImageService: ServiceCtor } };
  };
  services = { runtime: pkg.runtime.v1.RuntimeService, image: pkg.runtime.v1.ImageService };
  return services;
}

/** Per-call options. */
export interface CallOptions {
  /** Deadline in milliseconds (default 2 minutes; PullImage 30 minutes). */
  timeoutMs?: number;
}

type Unary = (request: object, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (error: grpc.ServiceError | null, response: unknown) => void) => void;

/** Typed CRI v1 client over a unix socket. See the note at the top of this file. */
export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;

  constructor(readonly socketPath: string) {
    const { runtime, image } = loadServices();
    const address = `unix://${socketPath}`;
    const options: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      'grpc.max_send_message_length': 16 * 1024 * 1024,
    };
    this.runtime = new runtime(address, grpc.credentials.createInsecure(), options);
    // Share the channel: one connection to containerd for both services.
    this.image = new image(address, grpc.credentials.createInsecure(), { ...options, channelOverride: this.runtime.getChannel() });
  }

  /** Closes the connection; pending calls fail. */
  close(): void {
    this.image.close();
    this.runtime.close();
  }

  private call<T>(client: grpc.Client, method: string, request: object, options: CallOptions = {}, defaultTimeoutMs = 120_000): Promise<T> {
    const fn = (client as unknown as Record<string, Unary>)[method];
    const deadline = new Date(Date.now() + (options.timeoutMs ?? defaultTimeoutMs));
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, new grpc.Metadata(), { deadline }, (error, response) => {
        if (error) reject(new CriError(method, error.code, codeNames[error.code] ?? String(error.code), error.details || error.message));
        else resolve(response as T);
      });
    });
  }

  private rt<T>(method: string, request: object, options?: CallOptions): Promise<T> {
    return this.call<T>(this.runtime, method, request, options);
  }

  // ---- RuntimeService ----

  /** Runtime name and version (`containerd`, `1.6.20…`) and the CRI API version. */
  version(options?: CallOptions): Promise<VersionResponse> {
    return this.rt('Version', { version: 'v1' }, options);
  }

  /** RuntimeReady / NetworkReady conditions; with verbose, containerd's config in `info`. */
  status(verbose = false, options?: CallOptions): Promise<StatusResponse> {
    return this.rt('Status', { verbose }, options);
  }

  /** Creates and starts a pod sandbox (its network namespace gets an IP from CNI); returns its id. */
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', options?: CallOptions): Promise<string> {
    const response = await this.rt<{ podSandboxId: string }>('RunPodSandbox', { config, runtimeHandler }, options);
    return response.podSandboxId;
  }

  /** Stops the sandbox's containers and tears down its network. Idempotent. */
  async stopPodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.rt('StopPodSandbox', { podSandboxId }, options);
  }

  /** Removes a sandbox and its containers. Idempotent. */
  async removePodSandbox(podSandboxId: string, options?: CallOptions): Promise<void> {
    await this.rt('RemovePodSandbox', { podSandboxId }, options);
  }

  /** Sandbox state and IP; verbose adds runtime details (JSON) in `info.info`. */
  podSandboxStatus(podSandboxId: string, verbose = false, options?: CallOptions): Promise<PodSandboxStatusResponse> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose }, options);
  }

  /** Lists sandboxes, optionally filtered by id, state or labels. */
  async listPodSandbox(filter?: PodSandboxFilter, options?: CallOptions): Promise<PodSandbox[]> {
    const response = await this.rt<{ items: PodSandbox[] }>('ListPodSandbox', filter ? { filter } : {}, options);
    return response.items;
  }

  /** Creates a container in a sandbox (not started); returns its id. Env values are sent as UTF-8 bytes. */
  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, options?: CallOptions): Promise<string> {
    const wire = { ...config, envs: (config.envs ?? []).map((e) => ({ key: e.key, value: Buffer.from(e.value, 'utf8') })) };
    const response = await this.rt<{ containerId: string }>('CreateContainer', { podSandboxId, config: wire, sandboxConfig }, options);
    return response.containerId;
  }

  /** Starts a created container. */
  async startContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.rt('StartContainer', { containerId }, options);
  }

  /** Stops a container: its stop signal, then SIGKILL after `timeoutSeconds`. Idempotent. */
  async stopContainer(containerId: string, timeoutSeconds: number, options?: CallOptions): Promise<void> {
    const timeoutMs = options?.timeoutMs ?? Math.max(120_000, (timeoutSeconds + 60) * 1000);
    await this.rt('StopContainer', { containerId, timeout: timeoutSeconds }, { timeoutMs });
  }

  /** Removes a container (stopping it first if needed). Idempotent. */
  async removeContainer(containerId: string, options?: CallOptions): Promise<void> {
    await this.rt('RemoveContainer', { containerId }, options);
  }

  /** Lists containers, optionally filtered by id, state, sandbox or labels. */
  async listContainers(filter?: ContainerFilter, options?: CallOptions): Promise<Container[]> {
    const response = await this.rt<{ containers: Container[] }>('ListContainers', filter ? { filter } : {}, options);
    return response.containers;
  }

  /** Container state, exit code, reason, log path; verbose adds runtime details (JSON) in `info.info`. */
  containerStatus(containerId: string, verbose = false, options?: CallOptions): Promise<ContainerStatusResponse> {
    return this.rt('ContainerStatus', { containerId, verbose }, options);
  }

  /** Changes a running container's cgroup limits. */
  async updateContainerResources(containerId: string, linux: LinuxContainerResources, annotations: Record<string, string> = {}, options?: CallOptions): Promise<void> {
    await this.rt('UpdateContainerResources', { containerId, linux, annotations }, options);
  }

  /** Asks the runtime to reopen the container's log file (after rotation). */
  async reopenContainerLog(containerId: string, options?: CallOptions): Promise<void> {
    await this.rt('ReopenContainerLog', { containerId }, options);
  }

  /** Runs a command in a container and waits for it (`timeoutSeconds` 0 = no limit). */
  execSync(containerId: string, cmd: string[], timeoutSeconds = 0, options?: CallOptions): Promise<ExecSyncResponse> {
    const timeoutMs = options?.timeoutMs ?? (timeoutSeconds > 0 ? timeoutSeconds * 1000 + 10_000 : 24 * 3600_000);
    return this.rt('ExecSync', { containerId, cmd, timeout: timeoutSeconds }, { timeoutMs });
  }

  /** Prepares a streaming exec; returns the runtime's streaming-server URL (SPDY/WebSocket). */
  async exec(request: { containerId: string; cmd: string[]; tty?: boolean; stdin?: boolean; stdout?: boolean; stderr?: boolean }, options?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Exec', request, options)).url;
  }

  /** Prepares a streaming attach; returns the streaming-server URL. */
  async attach(request: { containerId: string; stdin?: boolean; tty?: boolean; stdout?: boolean; stderr?: boolean }, options?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('Attach', request, options)).url;
  }

  /** Prepares a port-forward into the sandbox's network namespace; returns the streaming-server URL. */
  async portForward(podSandboxId: string, ports: number[] = [], options?: CallOptions): Promise<string> {
    return (await this.rt<{ url: string }>('PortForward', { podSandboxId, port: ports }, options)).url;
  }

  /** CPU, memory and writable-layer usage of one container. */
  async containerStats(containerId: string, options?: CallOptions): Promise<ContainerStats | null> {
    return (await this.rt<{ stats: ContainerStats | null }>('ContainerStats', { containerId }, options)).stats;
  }

  /** Usage of every container matching the filter. */
  async listContainerStats(filter: { id?: string; podSandboxId?: string; labelSelector?: Record<string, string> } = {}, options?: CallOptions): Promise<ContainerStats[]> {
    return (await this.rt<{ stats: ContainerStats[] }>('ListContainerStats', { filter }, options)).stats;
  }

  // ---- ImageService ----

  /** Images known to the runtime (k8s.io namespace in containerd). */
  async listImages(filter?: ImageSpec, options?: CallOptions): Promise<Image[]> {
    const response = await this.call<{ images: Image[] }>(this.image, 'ListImages', filter ? { filter: { image: filter } } : {}, options);
    return response.images;
  }

  /** An image's status (null `image` when absent); verbose adds its config as JSON in `info.info`. */
  imageStatus(image: string | ImageSpec, verbose = false, options?: CallOptions): Promise<ImageStatusResponse> {
    const spec = typeof image === 'string' ? { image } : image;
    return this.call(this.image, 'ImageStatus', { image: spec, verbose }, options);
  }

  /** Pulls an image through the runtime (its registry mirrors apply); returns the image reference (id). */
  async pullImage(image: string | ImageSpec, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, options?: CallOptions): Promise<string> {
    const spec = typeof image === 'string' ? { image } : image;
    const request: Record<string, unknown> = { image: spec };
    if (auth) request.auth = auth;
    if (sandboxConfig) request.sandboxConfig = sandboxConfig;
    const response = await this.call<{ imageRef: string }>(this.image, 'PullImage', request, options, 30 * 60_000);
    return response.imageRef;
  }

  /** Removes an image (all its tags). Idempotent. */
  async removeImage(image: string | ImageSpec, options?: CallOptions): Promise<void> {
    const spec = typeof image === 'string' ? { image } : image;
    await this.call(this.image, 'RemoveImage', { image: spec }, options);
  }

  /** Space used by the image filesystem (containerd's snapshotter root). */
  imageFsInfo(options?: CallOptions): Promise<ImageFsInfoResponse> {
    return this.call(this.image, 'ImageFsInfo', {}, options);
  }
}
