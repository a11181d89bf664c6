/**
 * The built-in ingress controller (k3s ships Traefik; Pilote has this): an
 * HTTP and an HTTPS listener routing by Ingress rules to Service endpoints.
 * Watches Ingresses, IngressClasses, Services, EndpointSlices and Secrets;
 * rebuilds its routing table when Ingresses change (endpoint changes need no
 * rebuild: endpoints are read per request), and writes the node address into
 * the status of the Ingresses it serves (`kubectl get ingress` ADDRESS).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server as NetServer } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { AgentConfig } from '../../agent/config.js';
import { Informer } from '../../client/informer.js';
import { RESOURCES, objectKey, type ApiClient } from '../../client/types.js';
import { logger } from '../../util/log.js';
import { BackendResolver } from './backends.js';
import { backendAgent, proxyRequest, proxyUpgrade, sendError, type ProxyOptions } from './http-proxy.js';
import { ClassFilter, INGRESS_RESOURCES, ensureIngressClass } from './ingress-class.js';
import { RouteTable, type RouteMatch } from './routing.js';
import { selfSignedCertificate } from './self-signed.js';
import { TlsStore } from './tls-store.js';
import { tlsDispatcher } from './tls-dispatch.js';

const log = logger('ingress');
const SYNC_WAIT_MS = 10_000;

export interface IngressControllerOptions {
  client: ApiClient;
  config: AgentConfig;
  /** 0 picks a free port. Production: 80. */
  httpPort: number;
  /** 0 picks a free port. Production: 443. */
  httpsPort: number;
  /** Default: every address (0.0.0.0). */
  bindAddress?: string;
  /** Per-endpoint connect timeout (default 5 s). */
  connectTimeoutMs?: number;
  /** Backend inactivity limit (default 60 s, nginx' proxy_read_timeout). */
  readTimeoutMs?: number;
}

/** A running ingress controller. */
export interface IngressController {
  httpPort: number;
  httpsPort: number;
  stop(): Promise<void>;
}

/** Starts the controller: ensures the `pilote` IngressClass, loads caches, then listens. */
export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  const { client, config } = opts;
  await ensureIngressClass(client);
  const informers = {
    ingresses: new Informer(client.resource(INGRESS_RESOURCES.ingresses)),
    classes: new Informer(client.resource(INGRESS_RESOURCES.ingressClasses)),
    services: new Informer(client.resource(RESOURCES.services)),
    slices: new Informer(client.resource(RESOURCES.endpointSlices)),
    secrets: new Informer(client.resource(RESOURCES.secrets)),
  };
  const backends = new BackendResolver(informers.services, config.clusterDomain);
  informers.slices.addHandlers({ onAdd: (o) => backends.upsertSlice(o), onUpdate: (_, o) => backends.upsertSlice(o), onDelete: (o) => backends.deleteSlice(o) });
  const invalidate = () => backends.invalidate();
  informers.services.addHandlers({ onAdd: invalidate, onUpdate: invalidate, onDelete: invalidate });

  const classFilter = new ClassFilter();
  // Served to names without a Secret and to clients without SNI (RSA: every client takes it).
  const fallback = await selfSignedCertificate(['ingress.local'], 'Pilote Ingress Default Certificate', { keyType: 'rsa' });
  // The default of the HTTPS server for ECDSA Secrets, replaced by theirs on every handshake (see tls-dispatch.ts).
  const fallbackEc = await selfSignedCertificate(['ingress.local'], 'Pilote Ingress Default Certificate');
  const tls = new TlsStore(informers.secrets, fallback);
  const status = new StatusWriter(client, config.nodeIp, () => {
    // A failed status write is tried again on a later rebuild.
    const retry = setTimeout(scheduleRebuild, 2000);
    retry.unref();
  });
  let table = new RouteTable([]);
  let rebuildQueued = false;
  let stopped = false;

  const rebuild = () => {
    rebuildQueued = false;
    if (stopped) return;
    classFilter.update(informers.classes.list());
    const all = informers.ingresses.list();
    const served = all.filter((i) => classFilter.serves(i));
    table = new RouteTable(served);
    tls.update(served);
    const servedKeys = new Set(served.map(objectKey));
    for (const ingress of all) status.sync(ingress, servedKeys.has(objectKey(ingress)));
  };
  // Bursts of events (a relist, kubectl apply of many objects) collapse into one rebuild.
  const scheduleRebuild = () => {
    if (rebuildQueued) return;
    rebuildQueued = true;
    queueMicrotask(rebuild);
  };
  for (const informer of [informers.ingresses, informers.classes]) {
    informer.addHandlers({ onAdd: scheduleRebuild, onUpdate: scheduleRebuild, onDelete: scheduleRebuild });
  }
  for (const informer of Object.values(informers)) informer.start();
  let timer: NodeJS.Timeout | undefined;
  const synced = await Promise.race([
    Promise.all(Object.values(informers).map((i) => i.hasSynced())).then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SYNC_WAIT_MS))),
  ]);
  clearTimeout(timer);
  if (!synced) log.warn('serving before the API caches are loaded: routes appear as they load');
  rebuild();

  const agent = backendAgent();
  const proxyOptions = (proto: 'http' | 'https'): ProxyOptions => ({ proto, connectTimeoutMs: opts.connectTimeoutMs ?? 5000, readTimeoutMs: opts.readTimeoutMs ?? 60_000 });
  const route = (req: IncomingMessage): { match: RouteMatch; targets: ReturnType<BackendResolver['rotation']> } | undefined => {
    const match = table.match(req.headers.host, req.url ?? '/');
    if (!match) return undefined;
    return { match, targets: match.backend ? backends.rotation(match.backend) : 'no-service' };
  };
  const onRequest = (proto: 'http' | 'https') => {
    const options = proxyOptions(proto);
    return (req: IncomingMessage, res: ServerResponse) => {
      const routed = route(req);
      if (!routed) return sendError(res, 404, '404 page not found\n');
      if (typeof routed.targets === 'string') {
        log.debug('no endpoint for request', { ingress: routed.match.ingress, reason: routed.targets, host: req.headers.host, url: req.url });
        return sendError(res, 503, '503 Service Unavailable\n');
      }
      proxyRequest(req, res, routed.targets, agent, options);
    };
  };
  const onUpgrade = (proto: 'http' | 'https') => {
    const options = proxyOptions(proto);
    return (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const routed = route(req);
      if (!routed || typeof routed.targets === 'string') {
        const status = routed ? '503 Service Unavailable' : '404 Not Found';
        socket.end(`HTTP/1.1 ${status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
        return;
      }
      proxyUpgrade(req, socket, head, routed.targets, options);
    };
  };

  const bindAddress = opts.bindAddress ?? '0.0.0.0';
  const http = createHttpServer(onRequest('http'));
  http.on('upgrade', onUpgrade('http'));
  // One HTTPS server per key type of default certificate; the dispatcher listening on the HTTPS port
  // hands each connection to the one matching the certificate its SNI name gets (see tls-dispatch.ts).
  const httpsServer = (pair: { cert: string; key: string }) => {
    const server = createHttpsServer({ cert: pair.cert, key: pair.key, SNICallback: tls.sniCallback, ALPNProtocols: ['http/1.1'] }, onRequest('https'));
    server.on('upgrade', onUpgrade('https'));
    return server;
  };
  const httpsRsa = httpsServer(fallback);
  const httpsEc = httpsServer(fallbackEc);
  const https = tlsDispatcher((serverName) => (tls.keyTypeFor(serverName) === 'ec' ? httpsEc : httpsRsa));
  for (const server of [http, httpsRsa, httpsEc]) server.on('clientError', (_error, socket) => socket.destroy());
  const httpPort = await listen(http, opts.httpPort, bindAddress);
  const httpsPort = await listen(https.server, opts.httpsPort, bindAddress).catch(async (error) => {
    await close(http);
    throw error;
  });
  log.info('ingress controller listening', { address: bindAddress, httpPort, httpsPort });

  return {
    httpPort,
    httpsPort,
    async stop() {
      stopped = true;
      for (const informer of Object.values(informers)) informer.stop();
      await Promise.all([close(http), https.close(), close(httpsRsa), close(httpsEc)]);
      agent.destroy();
    },
  };
}

function listen(server: NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Keeps `status.loadBalancer.ingress` of the Ingresses in step: the node IP on ours. */
class StatusWriter {
  /** ingress key → the status JSON last written (or being written). */
  private readonly written = new Map<string, string>();

  constructor(
    private readonly client: ApiClient,
    private readonly nodeIp: string,
    private readonly onFailure: () => void,
  ) {}

  sync(ingress: KubeObject, served: boolean): void {
    const key = objectKey(ingress);
    const current = ((ingress.status as { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } } | undefined)?.loadBalancer?.ingress) ?? [];
    const ours = [{ ip: this.nodeIp }];
    let wanted: { ip: string }[];
    if (served) wanted = ours;
    // No longer ours (class changed): take our address back, leave other controllers' alone.
    else if (current.length === 1 && current[0].ip === this.nodeIp && this.written.has(key)) wanted = [];
    else {
      this.written.delete(key);
      return;
    }
    const wantedJson = JSON.stringify(wanted);
    if (JSON.stringify(current.map((c) => ({ ...c }))) === wantedJson) {
      this.written.set(key, wantedJson);
      return;
    }
    if (this.written.get(key) === wantedJson + '|pending') return;
    this.written.set(key, wantedJson + '|pending');
    this.client
      .resource(INGRESS_RESOURCES.ingresses)
      .patch(ingress.metadata.namespace, ingress.metadata.name!, 'merge', { status: { loadBalancer: { ingress: wanted } } }, 'status')
      .then(() => this.written.set(key, wantedJson))
      .catch((error) => {
        this.written.delete(key);
        if (error instanceof StatusError && error.code === 404) return;
        log.warn('could not update Ingress status; will retry', { ingress: key, error });
        this.onFailure();
      });
  }
}
