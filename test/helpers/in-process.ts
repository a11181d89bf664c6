/**
 * An API server in this process on a temporary SQLite store, with an
 * in-process client: for controller and scheduler tests that need the real
 * API semantics but not HTTPS or kubectl.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStorage } from '../../src/storage/sqlite/sqlite-storage.js';
import { ApiServer } from '../../src/apiserver/api-server.js';
import { bootstrapCluster } from '../../src/apiserver/bootstrap.js';
import { loadOrCreatePki } from '../../src/apiserver/pki.js';
import { LocalClient } from '../../src/client/local-client.js';
import type { ApiClient } from '../../src/client/types.js';

export interface InProcessCluster {
  api: ApiServer;
  client: ApiClient;
  dataDir: string;
  /** HTTPS port of the API server on 127.0.0.1. */
  port: number;
  stop(): Promise<void>;
}

/** Starts an API server (HTTPS on a free loopback port) with a fresh store and the system namespaces. */
export async function startInProcessCluster(): Promise<InProcessCluster> {
  const dataDir = mkdtempSync(join(tmpdir(), 'pilote-inproc-'));
  const pki = await loadOrCreatePki(dataDir);
  const storage = SqliteStorage.open(join(dataDir, 'state.db'));
  const api = new ApiServer({ storage, tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert }, tokens: new Map(), port: 0, host: '127.0.0.1', caKey: pki.caKey });
  const port = await api.start();
  await bootstrapCluster(api, port);
  return {
    api,
    client: new LocalClient(api),
    dataDir,
    port,
    async stop() {
      await api.stop();
      await storage.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
