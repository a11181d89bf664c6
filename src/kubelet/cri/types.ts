/**
 * TypeScript shapes of the CRI v1 messages the kubelet uses (see api.proto next
 * to this file). Field names are the proto names in camelCase, as
 * @grpc/proto-loader produces them with keepCase:false.
 *
 * Requests: every field is optional (proto3 defaults apply on the wire).
 * Responses: decoded with defaults:true, so scalars, lists and maps are always
 * present; unset sub-messages are `null`. int64 values are JS numbers (nanosecond
 * timestamps lose sub-microsecond precision, which nothing here needs).
 */

export type StringMap = Record<string, string>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';
export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';
export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';
export type SecurityProfileType = 'RuntimeDefault' | 'Unconfined' | 'Localhost';
/** A stop signal: 'SIGNAL_RUNTIME_DEFAULT', 'SIGNAL_SIGTERM', 'SIGNAL_SIGKILL', … */
export type StopSignal = `SIGNAL_${string}`;

export interface Int64Value { value: number }
export interface UInt64Value { value: number }

export interface DNSConfig { servers?: string[]; searches?: string[]; options?: string[] }

export interface PortMapping { protocol?: Protocol; containerPort?: number; hostPort?: number; hostIp?: string }

export interface IDMapping { hostId?: number; containerId?: number; length?: number }

export interface ImageSpec {
  image?: string;
  annotations?: StringMap;
  userSpecifiedImage?: string;
  runtimeHandler?: string;
  imageRef?: string;
}

export interface Mount {
  containerPath?: string;
  hostPath?: string;
  readonly?: boolean;
  selinuxRelabel?: boolean;
  propagation?: MountPropagation;
  recursiveReadOnly?: boolean;
  image?: ImageSpec;
  imageSubPath?: string;
  mountOptions?: string[];
}

export interface NamespaceOption {
  network?: NamespaceMode;
  pid?: NamespaceMode;
  ipc?: NamespaceMode;
  targetId?: string;
}

export interface SELinuxOption { user?: string; role?: string; type?: string; level?: string }

export interface SecurityProfile { profileType?: SecurityProfileType; localhostRef?: string }

export interface LinuxSandboxSecurityContext {
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  privileged?: boolean;
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface HugepageLimit { pageSize?: string; limit?: number }

export interface LinuxContainerResources {
  cpuPeriod?: number;
  cpuQuota?: number;
  cpuShares?: number;
  memoryLimitInBytes?: number;
  oomScoreAdj?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  hugepageLimits?: HugepageLimit[];
  unified?: StringMap;
  memorySwapLimitInBytes?: number;
}

export interface LinuxPodSandboxConfig {
  cgroupParent?: string;
  securityContext?: LinuxSandboxSecurityContext;
  sysctls?: StringMap;
  overhead?: LinuxContainerResources;
  resources?: LinuxContainerResources;
}

export interface PodSandboxMetadata { name?: string; uid?: string; namespace?: string; attempt?: number }

export interface PodSandboxConfig {
  metadata?: PodSandboxMetadata;
  hostname?: string;
  /** Directory of the pod's container logs (container log paths are relative to it). */
  logDirectory?: string;
  dnsConfig?: DNSConfig;
  portMappings?: PortMapping[];
  labels?: StringMap;
  annotations?: StringMap;
  linux?: LinuxPodSandboxConfig;
}

export interface Capability { addCapabilities?: string[]; dropCapabilities?: string[]; addAmbientCapabilities?: string[] }

export interface LinuxContainerSecurityContext {
  capabilities?: Capability;
  privileged?: boolean;
  namespaceOptions?: NamespaceOption;
  selinuxOptions?: SELinuxOption;
  runAsUser?: Int64Value;
  runAsGroup?: Int64Value;
  runAsUsername?: string;
  readonlyRootfs?: boolean;
  supplementalGroups?: number[];
  noNewPrivs?: boolean;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SecurityProfile;
  apparmor?: SecurityProfile;
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources;
  securityContext?: LinuxContainerSecurityContext;
}

export interface ContainerMetadata { name?: string; attempt?: number }

export interface Device { containerPath?: string; hostPath?: string; permissions?: string }

/** An environment variable; `value` is bytes on the wire (a string is encoded as UTF-8). */
export interface KeyValue { key: string; value: string }

export interface ContainerConfig {
  metadata?: ContainerMetadata;
  image?: ImageSpec;
  command?: string[];
  args?: string[];
  workingDir?: string;
  envs?: KeyValue[];
  mounts?: Mount[];
  devices?: Device[];
  labels?: StringMap;
  annotations?: StringMap;
  /** Relative to the sandbox's logDirectory. */
  logPath?: string;
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
  linux?: LinuxContainerConfig;
  stopSignal?: StopSignal;
}

// ---- responses (all fields present) ----

export interface VersionResponse {
  version: string;
  runtimeName: string;
  runtimeVersion: string;
  runtimeApiVersion: string;
}

export interface RuntimeCondition { type: string; status: boolean; reason: string; message: string }

export interface StatusResponse {
  status: { conditions: RuntimeCondition[] } | null;
  info: StringMap;
}

export interface PodSandboxMetadataOut { name: string; uid: string; namespace: string; attempt: number }

export interface PodSandbox {
  id: string;
  metadata: PodSandboxMetadataOut | null;
  state: PodSandboxState;
  /** Nanoseconds since the epoch. */
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  runtimeHandler: string;
}

export interface PodSandboxStatus extends PodSandbox {
  network: { ip: string; additionalIps: { ip: string }[] } | null;
  linux: { namespaces: { options: { network: NamespaceMode; pid: NamespaceMode; ipc: NamespaceMode } | null } | null } | null;
}

export interface PodSandboxStatusResponse {
  status: PodSandboxStatus | null;
  /** With verbose: `info` is a JSON string (containerd: pid, netns path, config, …). */
  info: StringMap;
}

export interface PodSandboxFilter {
  id?: string;
  state?: { state: PodSandboxState };
  labelSelector?: StringMap;
}

export interface ContainerFilter {
  id?: string;
  state?: { state: ContainerState };
  podSandboxId?: string;
  labelSelector?: StringMap;
}

export interface ImageSpecOut { image: string; annotations: StringMap; userSpecifiedImage: string; runtimeHandler: string; imageRef: string }

export interface Container {
  id: string;
  podSandboxId: string;
  metadata: { name: string; attempt: number } | null;
  image: ImageSpecOut | null;
  imageRef: string;
  state: ContainerState;
  createdAt: number;
  labels: StringMap;
  annotations: StringMap;
  imageId: string;
}

export interface MountOut { containerPath: string; hostPath: string; readonly: boolean; propagation: MountPropagation }

export interface ContainerStatus {
  id: string;
  metadata: { name: string; attempt: number } | null;
  state: ContainerState;
  /** Nanoseconds since the epoch; 0 when not reached. */
  createdAt: number;
  startedAt: number;
  finishedAt: number;
  exitCode: number;
  image: ImageSpecOut | null;
  imageRef: string;
  /** e.g. "Completed", "Error", "OOMKilled" for exited containers. */
  reason: string;
  message: string;
  labels: StringMap;
  annotations: StringMap;
  mounts: MountOut[];
  /** Absolute path of the container's CRI log file. */
  logPath: string;
  imageId: string;
}

export interface ContainerStatusResponse {
  status: ContainerStatus | null;
  info: StringMap;
}

export interface ExecSyncResponse { stdout: Buffer; stderr: Buffer; exitCode: number }

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** Numeric user of the image config, when it is numeric. */
  uid: Int64Value | null;
  /** Non-numeric user of the image config. */
  username: string;
  spec: ImageSpecOut | null;
  pinned: boolean;
}

export interface ImageStatusResponse {
  /** null when the image is not present. */
  image: Image | null;
  /** With verbose: `info.info` is a JSON string holding the image config. */
  info: StringMap;
}

export interface AuthConfig {
  username?: string;
  password?: string;
  auth?: string;
  serverAddress?: string;
  identityToken?: string;
  registryToken?: string;
}

export interface FilesystemUsage {
  timestamp: number;
  fsId: { mountpoint: string } | null;
  usedBytes: UInt64Value | null;
  inodesUsed: UInt64Value | null;
}

export interface ImageFsInfoResponse {
  imageFilesystems: FilesystemUsage[];
  containerFilesystems: FilesystemUsage[];
}

export interface ContainerStats {
  attributes: { id: string; metadata: { name: string; attempt: number } | null; labels: StringMap; annotations: StringMap } | null;
  cpu: { timestamp: number; usageCoreNanoSeconds: UInt64Value | null; usageNanoCores: UInt64Value | null } | null;
  memory: {
    timestamp: number;
    workingSetBytes: UInt64Value | null;
    availableBytes: UInt64Value | null;
    usageBytes: UInt64Value | null;
    rssBytes: UInt64Value | null;
    pageFaults: UInt64Value | null;
    majorPageFaults: UInt64Value | null;
  } | null;
  writableLayer: FilesystemUsage | null;
}
