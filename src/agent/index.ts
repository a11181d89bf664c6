/**
 * The node agent: everything that makes this machine a Kubernetes node —
 * containerd with its CNI bridge, the node's status and Lease, the kubelet's
 * pod workers, the kubelet's HTTPS server (logs, exec, port-forward), the
 * service proxy and, on the server's node, cluster DNS and the ingress
 * controller. `pilote server` runs it in-process; `pilote agent` runs it
 * against a remote API server. Each part only talks to the API.
 */
import type { ApiClient } from '../client/types.js';
import type { AgentComponent, AgentConfig } from './config.js';
import { ClientEventRecorder } from '../controllers/runtime/events.js';
import { startContainerd } from '../kubelet/containerd.js';
import { CriClient } from '../kubelet/cri/client.js';
import { writeCniConfig } from '../kubelet/cni.js';
import { ensureLocalRoutes, cleanupNodeNetwork } from '../kubelet/host-network.js';
import { ImageManager } from '../kubelet/image-manager.js';
import { startNodeStatus } from '../kubelet/node-status.js';
import { startKubelet } from '../kubelet/kubelet.js';
import { startKubeletServer } from '../kubelet/streaming/server.js';
import { startServiceProxy } from '../proxy/service-proxy.js';
import { startServiceLB } from '../proxy/servicelb.js';
import { startClusterDns, ensureDnsService } from '../proxy/dns/index.js';
import { startIngressController } from '../proxy/ingress/index.js';
import { logger } from '../util/log.js';

const log = logger('agent');

export interface AgentOptions {
  client: ApiClient;
  config: AgentConfig;
  /** The CA key, when this process has it (the server): the kubelet's serving certificate is then signed by the cluster CA. */
  caKeyPem?: string;
  /** On the server's node: also run cluster DNS and the ingress controller. */
  controlPlane: boolean;
  disable: AgentComponent[];
  dnsPort: number;
  ingressHttpPort: number;
  ingressHttpsPort: number;
}

/** A running agent. */
export interface RunningAgent {
  config: AgentConfig;
  kubeletPort: number;
  dnsPort?: number;
  ingressPorts?: { http: number; https: number };
  /** Stops every part; with cleanup, pods are stopped and the node's rules and bridge removed. */
  stop(options?: { cleanup?: boolean }): Promise<void>;
}

/** Starts the node's parts in dependency order; if one fails, the ones started are stopped. */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const { client, config } = options;
  const disabled = new Set(options.disable);
  const stops: ((cleanup: boolean) => Promise<void> | void)[] = [];
  const stopAll = async (cleanup: boolean) => {
    for (const stop of stops.reverse()) {
      try {
        await stop(cleanup);
      } catch (error) {
        log.warn('stop failed', { error });
      }
    }
    stops.length = 0;
  };
  try {
    const started = Date.now();
    ensureLocalRoutes(config);
    writeCniConfig(config);
    const containerd = await startContainerd(config);
    const cri = new CriClient(containerd.socket);
    stops.push(async (cleanup) => {
      cri.close();
      await containerd.stop({ cleanup });
      if (cleanup) cleanupNodeNetwork(config);
    });
    const recorder = new ClientEventRecorder(client, 'kubelet', config.nodeName);
    const server = await startKubeletServer({ config, cri, caCertPem: config.caPem, caKeyPem: options.caKeyPem });
    stops.push(() => server.stop());
    const nodeStatus = await startNodeStatus({ client, config, cri, kubeletPort: server.port, runtimeVersion: containerd.version, controlPlane: options.controlPlane });
    stops.push(() => nodeStatus.stop());
    const images = new ImageManager({ cri, config, recorder });
    const kubelet = await startKubelet({ client, config, cri, images, recorder });
    stops.push((cleanup) => kubelet.stop({ cleanup }));
    // Unused images go when the image disk fills up, checked as often as the kubelet does.
    const imageGc = setInterval(() => void images.garbageCollect().catch((error: Error) => log.warn('image garbage collection failed', { error: error.message })), 5 * 60_000);
    imageGc.unref();
    stops.push(() => clearInterval(imageGc));
    if (!disabled.has('proxy')) {
      const proxy = await startServiceProxy({ client, config });
      stops.push((cleanup) => proxy.stop({ cleanup }));
    }
    let dnsPort: number | undefined;
    let ingressPorts: RunningAgent['ingressPorts'];
    if (options.controlPlane) {
      if (!disabled.has('servicelb')) {
        const serviceLB = await startServiceLB({ client, config });
        stops.push(() => serviceLB.stop());
      }
      if (!disabled.has('dns')) {
        const dns = await startClusterDns({ client, config, port: options.dnsPort });
        stops.push(() => dns.stop());
        dnsPort = dns.port;
        await ensureDnsService(client, config, dns.port, config.nodeIp);
      }
      if (!disabled.has('ingress')) {
        const ingress = await startIngressController({ client, config, httpPort: options.ingressHttpPort, httpsPort: options.ingressHttpsPort });
        stops.push(() => ingress.stop());
        ingressPorts = { http: ingress.httpPort, https: ingress.httpsPort };
      }
    }
    log.info('node ready', { node: config.nodeName, podCidr: config.podCidr, kubeletPort: server.port, dnsPort, ingressPorts, startupMs: Date.now() - started });
    return {
      config,
      kubeletPort: server.port,
      dnsPort,
      ingressPorts,
      stop: (stopOptions = {}) => stopAll(stopOptions.cleanup ?? false),
    };
  } catch (error) {
    await stopAll(false);
    throw error;
  }
}
