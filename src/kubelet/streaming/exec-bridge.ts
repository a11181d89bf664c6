/**
 * exec/attach for WebSocket clients (kubectl ≥ 1.30 speaks `v5.channel.k8s.io`):
 * the client's channels are bridged to containerd's streaming server over
 * SPDY with `v4.channel.k8s.io`, where closing the stdin stream is a real
 * EOF (the WebSocket v4 protocol has no way to say it). This is the
 * translation kube-apiserver's StreamTranslator does.
 *
 * Channels: 0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 resize, 255 close (v5).
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { SpdySession, type SpdyStream } from './spdy.js';

/** WebSocket subprotocols accepted for exec/attach, most preferred first. */
export const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4, CLOSE: 255 } as const;

/** Bytes queued towards the client above which the runtime's output is no longer read, and below which it is again. */
const HIGH_WATER = 4 * 1024 * 1024;
const LOW_WATER = 1024 * 1024;

/** Which standard streams the client asked for. */
export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** Reads exec/attach stream options from the query, as the kubelet does (`stdin=1`, `stdout=true`, …). */
export function streamOptionsFrom(params: URLSearchParams): StreamOptions {
  const flag = (name: string) => {
    const value = params.get(name);
    return value !== null && value !== '0' && value !== 'false';
  };
  const tty = flag('tty');
  return { stdin: flag('stdin'), stdout: flag('stdout'), stderr: flag('stderr') && !tty, tty };
}

/** Opens a SPDY connection to a runtime streaming URL (http://127.0.0.1:port/exec/token). */
export function connectSpdy(url: string, protocols: string[]): Promise<{ session: SpdySession; protocol: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocols },
    });
    req.on('upgrade', (res, socket: Socket, head: Buffer) => {
      if (head.length > 0) socket.unshift(head);
      socket.setNoDelay(true);
      resolve({ session: new SpdySession(socket, 'client'), protocol: String(res.headers['x-stream-protocol-version'] ?? '') });
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => reject(new Error(`runtime streaming server answered ${res.statusCode}: ${Buffer.concat(chunks).toString().trim()}`)));
    });
    req.on('error', reject);
    req.end();
  });
}

function ended(stream: SpdyStream | undefined): Promise<void> {
  if (!stream) return Promise.resolve();
  return new Promise((resolve) => {
    if (stream.readableEnded || stream.destroyed) return resolve();
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
  });
}

/**
 * Bridges an accepted WebSocket (subprotocol `protocol`) to a SPDY session
 * already connected to the runtime (see connectSpdy). Listeners are attached
 * before anything is awaited, so early stdin is not lost. Resolves when the
 * command ended and the status was sent.
 */
export async function bridgeExecWebSocket(ws: WebSocket, protocol: string, session: SpdySession, options: StreamOptions): Promise<void> {
  const version = protocol === 'channel.k8s.io' ? 1 : Number(/^v(\d+)\./.exec(protocol)?.[1] ?? 1);
  session.on('error', () => undefined);
  const open = (type: string) => session.openStream({ streamtype: [type] });
  const errorStream = open('error');
  const stdin = options.stdin ? open('stdin') : undefined;
  const stdout = options.stdout ? open('stdout') : undefined;
  const stderr = options.stderr ? open('stderr') : undefined;
  const resize = options.tty ? open('resize') : undefined;
  // The client never writes on the error stream.
  errorStream.end();

  const errorChunks: Buffer[] = [];
  errorStream.on('data', (chunk: Buffer) => errorChunks.push(chunk));
  // Back-pressure towards the runtime: stop reading its connection while the client lags behind.
  let throttled = false;
  const forward = (stream: SpdyStream | undefined, channel: number) => {
    stream?.on('data', (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(Buffer.concat([Buffer.from([channel]), chunk]), () => {
        if (throttled && ws.bufferedAmount < LOW_WATER) {
          throttled = false;
          session.resumeReading();
        }
      });
      if (!throttled && ws.bufferedAmount > HIGH_WATER) {
        throttled = true;
        session.pauseReading();
      }
    });
  };
  forward(stdout, Channel.STDOUT);
  forward(stderr, Channel.STDERR);

  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const message = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (message.length === 0) return;
    // Text frames (base64 protocols) are not offered; treat any frame as binary.
    void isBinary;
    const channel = message[0];
    const payload = message.subarray(1);
    if (channel === Channel.STDIN) {
      // Back-pressure towards the client: stop reading the WebSocket while the runtime lags behind.
      if (payload.length > 0 && stdin && !stdin.write(payload)) {
        ws.pause();
        stdin.once('drain', () => ws.resume());
      }
    } else if (channel === Channel.RESIZE) {
      resize?.write(payload);
    } else if (channel === Channel.CLOSE && version >= 5) {
      if (payload[0] === Channel.STDIN) stdin?.end();
    }
  });
  const clientGone = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  void clientGone.then(() => session.close());

  await Promise.race([Promise.all([ended(errorStream), ended(stdout), ended(stderr)]), clientGone]);
  if (ws.readyState === ws.OPEN) {
    const raw = Buffer.concat(errorChunks);
    if (version >= 4) {
      const status = raw.length > 0 ? raw : Buffer.from(JSON.stringify({ metadata: {}, status: 'Success' }));
      ws.send(Buffer.concat([Buffer.from([Channel.ERROR]), status]));
    } else if (raw.length > 0) {
      // v1–v3 carry a plain message on the error channel.
      let message = raw.toString();
      try {
        const parsed = JSON.parse(message) as { status?: string; message?: string };
        message = parsed.status === 'Success' ? '' : (parsed.message ?? message);
      } catch {
        // already plain text
      }
      if (message) ws.send(Buffer.concat([Buffer.from([Channel.ERROR]), Buffer.from(message)]));
    }
    ws.close(1000);
  }
  session.close();
}

/** Sends a Status on the error channel (v4+) or its message (older). */
export function sendStatus(ws: WebSocket, version: number, status: { status: 'Success' | 'Failure'; message?: string; reason?: string; code?: number; details?: unknown }): void {
  if (ws.readyState !== ws.OPEN) return;
  const payload = version >= 4 ? JSON.stringify({ metadata: {}, ...status }) : (status.message ?? '');
  ws.send(Buffer.concat([Buffer.from([Channel.ERROR]), Buffer.from(payload)]));
}
