/**
 * The floor beneath the API server benchmarks: a bare Node HTTPS server with
 * the same TLS set-up as `pilote server` (its serving certificate, client
 * certificates requested and checked against the cluster CA), and nothing
 * else. bench/api.ts starts it as a child process, like pilote, and drives it
 * with the same client code.
 *
 * Usage: node dist/bench/floor-server.js --tls-dir DIR [--canned FILE]
 *          [--kubeconfig-template FILE --kubeconfig-out FILE] [--durable DB]
 *
 * Routes:
 *   GET  /blob/<n>        a pre-built JSON body of n bytes (built on first use)
 *   POST|PUT|PATCH /echo  answers the request body back (a trivial JSON answer)
 *   POST|PUT|PATCH /durable  one fsync'd SQLite insert of the body, then echoes it
 *                         (only with --durable: HTTPS + one durable write, nothing else)
 *   GET  <canned path>    a response recorded from pilote (for the kubectl start-up floor)
 * Prints `ready <port>` on stdout once listening (after writing the kubeconfig, if asked).
 */
import { createServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** A response recorded from pilote, replayed by path. */
export interface CannedResponse {
  contentType: string;
  body: string;
}

const { values } = parseArgs({
  options: {
    'tls-dir': { type: 'string' },
    canned: { type: 'string' },
    'kubeconfig-template': { type: 'string' },
    'kubeconfig-out': { type: 'string' },
    durable: { type: 'string' },
  },
  strict: true,
});
const tlsDir = values['tls-dir'];
if (!tlsDir) throw new Error('--tls-dir is required');

const canned = new Map<string, CannedResponse>(
  values.canned ? Object.entries(JSON.parse(readFileSync(values.canned, 'utf8')) as Record<string, CannedResponse>) : [],
);

type Insert = (key: string, value: string) => void;
let insert: Insert | undefined;
if (values.durable) {
  // Same settings as the raw durable insert floor in storage-floor.ts: WAL, synchronous=FULL, one transaction per row.
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(values.durable);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS kv (id INTEGER PRIMARY KEY, key TEXT NOT NULL, value TEXT NOT NULL)');
  const statement = db.prepare<[string, string]>('INSERT INTO kv (key, value) VALUES (?, ?)');
  insert = (key, value) => void statement.run(key, value);
}

const blobs = new Map<number, Buffer>();
/** A valid JSON document of exactly `size` bytes (size ≥ 16). */
function blob(size: number): Buffer {
  let body = blobs.get(size);
  if (!body) {
    const head = '{"blob":"';
    const tail = '"}';
    body = Buffer.from(head + 'x'.repeat(Math.max(0, size - head.length - tail.length)) + tail);
    blobs.set(size, body);
  }
  return body;
}

function send(res: ServerResponse, code: number, contentType: string, body: Buffer | string): void {
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

let written = 0;
function handle(req: IncomingMessage, res: ServerResponse): void {
  // The same authentication check pilote makes on every request: a verified client certificate.
  const socket = req.socket as TLSSocket;
  if (!socket.authorized) {
    send(res, 401, 'application/json', '{"kind":"Status","code":401}');
    req.resume();
    return;
  }
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET') {
    const size = /^\/blob\/(\d+)$/.exec(path);
    if (size) return send(res, 200, 'application/json', blob(Math.min(Number(size[1]), 256 * 1024 * 1024)));
    const recorded = canned.get(path);
    if (recorded) return send(res, 200, recorded.contentType, recorded.body);
    return send(res, 404, 'application/json', '{"kind":"Status","code":404}');
  }
  if (path === '/echo' || (path === '/durable' && insert)) {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (path === '/durable') insert!(`/floor/${written++}`, body.toString('utf8'));
      send(res, req.method === 'POST' ? 201 : 200, 'application/json', body);
    });
    return;
  }
  req.resume();
  send(res, 404, 'application/json', '{"kind":"Status","code":404}');
}

const server = createServer(
  {
    cert: readFileSync(join(tlsDir, 'server.crt')),
    key: readFileSync(join(tlsDir, 'server.key')),
    ca: readFileSync(join(tlsDir, 'ca.crt')),
    requestCert: true,
    rejectUnauthorized: false,
    keepAliveTimeout: 120_000,
  },
  handle,
);
server.listen(0, '127.0.0.1', () => {
  const port = (server.address() as AddressInfo).port;
  if (values['kubeconfig-template'] && values['kubeconfig-out']) {
    const template = readFileSync(values['kubeconfig-template'], 'utf8');
    writeFileSync(values['kubeconfig-out'], template.replace(/server: https:\/\/127\.0\.0\.1:\d+/, `server: https://127.0.0.1:${port}`), { mode: 0o600 });
  }
  process.stdout.write(`ready ${port}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
});
