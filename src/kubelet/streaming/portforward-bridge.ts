/**
 * Port-forward for WebSocket channel clients (client libraries such as
 * @kubernetes/client-node; kubectl tunnels SPDY instead): `?ports=80,8080`,
 * channel 2i carries port i's data and 2i+1 its errors, and the first
 * message on each channel is the port number (2 bytes, little-endian), as
 * the kubelet's WebSocket port-forward does. Each port becomes an error +
 * data stream pair on a SPDY connection to the runtime's port-forward server.
 */
import type { WebSocket } from 'ws';
import type { SpdySession, SpdyStream } from './spdy.js';

/** WebSocket subprotocols of channel port-forward (the kubelet's "" and v4 binary ones). */
export const PORT_FORWARD_CHANNEL_PROTOCOLS = ['v4.channel.k8s.io', 'channel.k8s.io'];

/** Ports of the `ports` query parameter (comma-separated and/or repeated). */
export function portsFrom(params: URLSearchParams): number[] {
  const ports = params
    .getAll('ports')
    .flatMap((value) => value.split(','))
    .map((value) => value.trim())
    .filter(Boolean)
    .map(Number);
  for (const port of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${JSON.stringify(String(port))}: must be 1-65535`);
  }
  return ports;
}

/** Bridges an accepted channel WebSocket to a SPDY session connected to the runtime's port-forward URL. */
export function bridgePortForwardWebSocket(ws: WebSocket, session: SpdySession, ports: number[]): void {
  session.on('error', () => undefined);
  const dataStreams: SpdyStream[] = [];
  const send = (channel: number, payload: Buffer) => {
    if (ws.readyState === ws.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), payload]));
  };
  ports.forEach((port, index) => {
    const headers = (type: string) => ({ streamtype: [type], port: [String(port)], requestid: [String(index)] });
    const errorStream = session.openStream(headers('error'));
    // Nothing is ever written on the error stream from this side.
    errorStream.end();
    const dataStream = session.openStream(headers('data'));
    dataStreams.push(dataStream);
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port);
    send(index * 2, portBytes);
    send(index * 2 + 1, portBytes);
    dataStream.on('data', (chunk: Buffer) => send(index * 2, chunk));
    errorStream.on('data', (chunk: Buffer) => send(index * 2 + 1, chunk));
    // The pod side closed the connection: so does the client's.
    dataStream.on('end', () => ws.close(1000));
  });
  ws.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => {
    const message = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
    if (message.length === 0 || message[0] % 2 !== 0) return;
    const stream = dataStreams[message[0] / 2];
    if (stream && message.length > 1 && !stream.write(message.subarray(1))) {
      ws.pause();
      stream.once('drain', () => ws.resume());
    }
  });
  ws.on('close', () => session.close());
  session.on('close', () => ws.close(1000));
}
