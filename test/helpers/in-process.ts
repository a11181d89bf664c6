/**
 * An API server in this process on a temporary SQLite store, with an
 * in-process client: for controller and scheduler tests that need the real
 * API semantics but not HTTPS or kubectl.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { ApiServer, type ApiServerOptions } from '../../src/apiserver/api-server.js';
import { bootstrapCluster } from '../../src/apiserver/bootstrap.js';
import { loadOrCreatePki } from '../../src/apiserver/pki.js';
import { LocalClient } from '../../src/client/local-client.js';
import type { ApiClient } from '../../src/client/types.js';

export interface InProcessCluster {
  api: ApiServer;
  client: ApiClient;
  dataDir: string;
  /** PEM of the cluster CA (what a node trusts). */
  caCert: string;
  /** HTTPS port of the API server on 127.0.0.1. */
  port: number;
  stop(): Promise<void>;
}

/** What a test may change about the cluster. */
export interface InProcessClusterOptions {
  /** Prefix of the temporary data dir (names the test in leftovers). */
  tmpPrefix?: string;
  /** More API server options, given the data dir (its certificates are under dataDir/tls). */
  apiServer?: (dataDir: string) => Partial<Omit<ApiServerOptions, 'storage' | 'tls' | 'port' | 'host'>>;
}

/** Starts an API server (HTTPS on a free loopback port) with a fresh store and the system namespaces. */
export async function startInProcessCluster(options: InProcessClusterOptions = {}): Promise<InProcessCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), options.tmpPrefix ?? 'pilote-inproc-'));
  const pki = await loadOrCreatePki(dataDir);
  const storage = SqliteStorage.open(join(dataDir, 'state.db'));
  const api = new ApiServer({
    tokens: new Map(),
    caKey: pki.caKey,
    ...options.apiServer?.(dataDir),
    storage,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert },
    port: 0,
    host: '127.0.0.1',
  });
  const port = await api.start();
  await bootstrapCluster(api, port);
  return {
    api,
    client: new LocalClient(api),
    dataDir,
    caCert: pki.caCert,
    port,
    async stop() {
      await api.stop();
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
