/**
 * Crash safety of the SQLite store: a writer process killed with SIGKILL at
 * an arbitrary moment must reopen to a consistent store that holds every
 * write it acknowledged. Three kill cycles on the same database.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteStorage } from '../src/storage/sqlite/sqlite-storage.js';
import { StorageError } from '../src/storage/interface.js';

const WRITER = fileURLToPath(new URL('./fixtures/storage-crash-writer.js', import.meta.url));
const CYCLES = 3;

interface Ack {
  key: string;
  revision: number;
  hash: string;
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

/**
 * Runs the writer until it has acknowledged `killAfter` writes, kills it
 * with SIGKILL, and returns the acknowledgements it printed (complete lines only).
 */
function runAndKill(path: string, cycle: number, killAfter: number): Promise<Ack[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, path, String(cycle)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks: Ack[] = [];
    let partial = '';
    let stderr = '';
    let killed = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer produced ${acks.length} acks in 30 s; stderr: ${stderr}`));
    }, 30_000);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const [key, revision, h] = line.split(' ');
        acks.push({ key: key!, revision: Number(revision), hash: h! });
      }
      if (!killed && acks.length >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && killed) resolve(acks);
      else reject(new Error(`writer exited early (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
  });
}

describe('SqliteStorage crash safety', () => {
  it(`keeps every acknowledged write across ${CYCLES} SIGKILLs`, { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-crash-'));
    const path = join(dir, 'state.db');
    const acked: Ack[] = [];
    try {
      for (let cycle = 0; cycle < CYCLES; cycle++) {
        // Vary the moment of the kill between cycles.
        const acks = await runAndKill(path, cycle, 300 + Math.floor(Math.random() * 2000));
        assert.ok(acks.length >= 300, `cycle ${cycle}: ${acks.length} acks`);
        acked.push(...acks);

        const s = SqliteStorage.open(path);
        try {
          const current = await s.currentRevision();
          const compacted = await s.compactedRevision();
          assert.ok(compacted <= current);
          assert.equal(new Set(acked.map((a) => a.revision)).size, acked.length, 'acknowledged revisions are distinct');
          assert.ok(current >= Math.max(...acked.map((a) => a.revision)), 'no acknowledged revision is lost');

          for (const ack of acked) {
            const latest = await s.get(ack.key);
            assert.ok(latest, `${ack.key} (acked at ${ack.revision}) is missing`);
            assert.ok(latest.modRevision >= ack.revision, `${ack.key}: at ${latest.modRevision}, acked ${ack.revision}`);
            if (ack.revision >= compacted) {
              const then = await s.get(ack.key, ack.revision);
              assert.equal(then?.modRevision, ack.revision, `${ack.key} as of ${ack.revision}`);
              assert.equal(hash(then.value), ack.hash, `${ack.key} value as of ${ack.revision}`);
            } else if (latest.modRevision === ack.revision) {
              assert.equal(hash(latest.value), ack.hash, `${ack.key} value`);
            }
          }

          // The reopened state is self-consistent: list, count and get agree.
          const listed = await s.list({ prefix: '/crash/' });
          assert.equal(listed.revision, current);
          assert.equal(await s.count('/crash/'), listed.items.length);
          for (const kv of listed.items) {
            assert.deepEqual(await s.get(kv.key), kv);
            assert.ok(kv.modRevision <= current && kv.createRevision <= kv.modRevision);
          }
          // And it takes new writes, continuing the revision sequence.
          const created = await s.create(`/crash/after/${cycle}`, 'after');
          assert.equal(created.modRevision, current + 1);
          const updated = await s.update(created.key, 'after-2', created.modRevision);
          assert.equal(updated.modRevision, current + 2);
          await assert.rejects(s.create(created.key, 'again'), (e: unknown) => e instanceof StorageError && e.code === 'KeyExists');
          // Read back from the log on disk (a past revision now): same state as memory had.
          const atCurrent = await s.list({ prefix: '/crash/', revision: current });
          assert.deepEqual(atCurrent.items, listed.items);
        } finally {
          await s.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
