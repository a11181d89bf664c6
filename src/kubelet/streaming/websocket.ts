/**
 * Minimal server-side WebSocket (RFC 6455) for port-forward tunnelling:
 * kubectl offers the subprotocol `SPDY/3.1+portforward.k8s.io`, which the `ws`
 * package rejects (`/` is not a token character), so the handshake and the
 * framing are done here. Binary and continuation frames are reassembled,
 * pings answered, close echoed.
 */
import { createHash } from 'node:crypto';
import { Duplex } from 'node:stream';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const Opcode = { CONTINUATION: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** The 101 answer completing a WebSocket handshake. */
export function handshakeResponse(key: string, protocol?: string): string {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`];
  if (protocol) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
  return lines.join('\r\n') + '\r\n\r\n';
}

/** Subprotocols a client offered (comma-separated, possibly in several headers). */
export function offeredProtocols(header: string | string[] | undefined): string[] {
  const values = Array.isArray(header) ? header : header ? [header] : [];
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

/** Encodes one frame (FIN set). Servers send unmasked frames; `mask` is for tests acting as a client. */
export function encodeWsFrame(opcode: number, payload: Buffer, mask = false): Buffer {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + lengthBytes + (mask ? 4 : 0));
  head[0] = 0x80 | opcode;
  head[1] = (mask ? 0x80 : 0) | (length < 126 ? length : length < 65536 ? 126 : 127);
  if (lengthBytes === 2) head.writeUInt16BE(length, 2);
  if (lengthBytes === 8) head.writeBigUInt64BE(BigInt(length), 2);
  if (!mask) return Buffer.concat([head, payload]);
  const key = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  key.copy(head, 2 + lengthBytes);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([head, masked]);
}

/** One complete message (fragments joined) or control frame. */
export interface WsMessage {
  opcode: number;
  payload: Buffer;
}

/** Parses frames from a byte stream (masked or not), joining fragmented messages. */
export class WsFrameReader {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;

  /** Maximum size of one message; larger ones are a protocol error. */
  constructor(private readonly maxMessage = 64 * 1024 * 1024) {}

  /** Appends bytes; returns every message now complete. */
  push(chunk: Buffer): WsMessage[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const messages: WsMessage[] = [];
    for (;;) {
      if (this.buffer.length < 2) break;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      const masked = (this.buffer[1] & 0x80) !== 0;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) break;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) break;
        const big = this.buffer.readBigUInt64BE(2);
        if (big > BigInt(this.maxMessage)) throw new Error('WebSocket frame too large');
        length = Number(big);
        offset = 10;
      }
      if (length > this.maxMessage) throw new Error('WebSocket frame too large');
      const maskOffset = offset;
      if (masked) offset += 4;
      if (this.buffer.length < offset + length) break;
      let payload = this.buffer.subarray(offset, offset + length);
      if (masked) {
        const key = this.buffer.subarray(maskOffset, maskOffset + 4);
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode >= 8) {
        messages.push({ opcode, payload });
        continue;
      }
      if (opcode !== Opcode.CONTINUATION) this.fragmentOpcode = opcode;
      this.fragments.push(payload);
      if (fin) {
        messages.push({ opcode: this.fragmentOpcode, payload: this.fragments.length === 1 ? this.fragments[0] : Buffer.concat(this.fragments) });
        this.fragments = [];
      }
    }
    return messages;
  }
}

/**
 * The payload bytes of a server-side WebSocket as one Duplex byte stream:
 * binary messages in, binary messages out. Used to carry SPDY frames, which
 * kubectl splits across messages at will.
 */
export class WebSocketByteStream extends Duplex {
  private readonly reader = new WsFrameReader();
  private closeSent = false;

  constructor(private readonly socket: Duplex) {
    super({ allowHalfOpen: false });
    socket.on('data', (chunk: Buffer) => {
      let messages: WsMessage[];
      try {
        messages = this.reader.push(chunk);
      } catch {
        this.sendClose(1002);
        socket.destroy();
        return;
      }
      for (const message of messages) this.onMessage(message);
    });
    socket.on('end', () => this.push(null));
    socket.on('close', () => {
      this.push(null);
      this.destroy();
    });
    socket.on('error', () => this.destroy());
  }

  private onMessage(message: WsMessage): void {
    switch (message.opcode) {
      case Opcode.BINARY:
      case Opcode.TEXT:
        if (message.payload.length > 0) this.push(message.payload);
        return;
      case Opcode.PING:
        if (!this.closeSent) this.socket.write(encodeWsFrame(Opcode.PONG, message.payload));
        return;
      case Opcode.CLOSE:
        this.sendClose(message.payload.length >= 2 ? message.payload.readUInt16BE(0) : 1000);
        this.socket.end();
        this.push(null);
        return;
      default:
        return;
    }
  }

  /** Sends a close frame (once). */
  sendClose(code = 1000): void {
    if (this.closeSent || this.socket.destroyed) return;
    this.closeSent = true;
    const payload = Buffer.alloc(2);
    payload.writeUInt16BE(code);
    this.socket.write(encodeWsFrame(Opcode.CLOSE, payload));
  }

  override _read(): void {
    // Messages are pushed as they arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.closeSent || this.socket.destroyed) return callback();
    if (this.socket.write(encodeWsFrame(Opcode.BINARY, chunk))) callback();
    else this.socket.once('drain', () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.sendClose(1000);
    this.socket.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.socket.destroyed) this.socket.destroy();
    callback(error);
  }
}
