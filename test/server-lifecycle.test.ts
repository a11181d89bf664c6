/**
 * The server's life: first start writes certificates and a kubeconfig and
 * prints the KUBECONFIG line; SIGTERM and SIGINT shut it down cleanly (exit 0);
 * a restart on the same data directory keeps every object and reuses the CA.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestCluster } from './helpers/cluster.js';

describe('server lifecycle', () => {
  it('generates its PKI and kubeconfig, stops cleanly on SIGTERM and SIGINT, and keeps data across restarts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'pilote-lifecycle-'));
    try {
      const first = await TestCluster.start({ dataDir });
      for (const file of ['ca.crt', 'ca.key', 'server.crt', 'server.key', 'admin.crt', 'admin.key', 'admin.token']) {
        assert.ok(existsSync(join(dataDir, 'tls', file)), `missing tls/${file}`);
      }
      assert.equal(first.kubeconfig, join(dataDir, 'kubeconfig.yaml'));
      const ca = readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8');
      await first.kubectlOk(['apply', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\ndata:\n  answer: "42"\n' });
      assert.equal(await first.stop({ keepData: true, signal: 'SIGTERM' }), 0);

      const second = await TestCluster.start({ dataDir });
      assert.equal(readFileSync(join(dataDir, 'tls', 'ca.crt'), 'utf8'), ca, 'the CA must be reused, not regenerated');
      assert.equal(await second.kubectlOk(['get', 'configmap', 'kept', '-o', 'jsonpath={.data.answer}']), '42');
      // The system objects are not duplicated by a second bootstrap.
      const services = await second.kubectlOk(['get', 'svc', '-A', '-o', 'name']);
      assert.equal(services.trim(), 'service/kubernetes');
      assert.equal(await second.stop({ keepData: true, signal: 'SIGINT' }), 0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('logs JSON lines with time, level and component', async () => {
    const cluster = await TestCluster.start({ env: { PILOTE_LOG_LEVEL: 'info' } });
    try {
      await cluster.kubectlOk(['get', 'ns']);
    } finally {
      await cluster.stop();
    }
    const lines = cluster.stderr.trim().split('\n').filter(Boolean);
    assert.ok(lines.length >= 2, `expected a ready and a shutdown log line, got: ${cluster.stderr}`);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      assert.equal(typeof entry.time, 'string');
      assert.ok(['debug', 'info', 'warn', 'error'].includes(entry.level as string));
      assert.equal(typeof entry.component, 'string');
    }
    assert.ok(lines.some((l) => JSON.parse(l).msg === 'ready'));
    assert.ok(lines.some((l) => JSON.parse(l).msg === 'shutting down'));
  });
});
