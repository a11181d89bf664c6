/**
 * SPDY/3.1 framing as Kubernetes streaming uses it (moby/spdystream on the
 * other end): frame codec, header blocks compressed with zlib primed with the
 * SPDY dictionary (one context per direction), and a session that multiplexes
 * streams over one byte stream (a raw upgraded socket, or WebSocket messages
 * unwrapped into bytes).
 */
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import { constants as zlibConstants, createInflate, type Inflate } from 'node:zlib';
import { SPDY_DICTIONARY } from './spdy-dictionary.js';

/** Control frame types (SPDY/3 section 2.6). */
export const SpdyType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

/** FLAG_FIN: the sender's last frame on this stream. */
export const FLAG_FIN = 0x01;
/** RST_STREAM status codes used here. */
export const RST_PROTOCOL_ERROR = 1;
export const RST_CANCEL = 5;
export const RST_INTERNAL_ERROR = 6;

const SPDY_VERSION = 3;

/** One decoded frame; header blocks stay compressed (see HeaderDecompressor). */
export type SpdyFrame =
  | { type: 'data'; streamId: number; flags: number; data: Buffer }
  | { type: 'syn_stream'; streamId: number; associatedId: number; priority: number; flags: number; headerBlock: Buffer }
  | { type: 'syn_reply'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'headers'; streamId: number; flags: number; headerBlock: Buffer }
  | { type: 'rst_stream'; streamId: number; status: number }
  | { type: 'settings'; flags: number; entries: { flags: number; id: number; value: number }[] }
  | { type: 'ping'; id: number }
  | { type: 'goaway'; lastGoodStreamId: number; status: number }
  | { type: 'window_update'; streamId: number; delta: number }
  | { type: 'unknown'; frameType: number; flags: number; payload: Buffer };

function control(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16BE(0x8000 | SPDY_VERSION, 0);
  head.writeUInt16BE(type, 2);
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4);
  return Buffer.concat([head, payload]);
}

function u32s(...values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => buf.writeUInt32BE(v >>> 0, i * 4));
  return buf;
}

/** Encodes one frame to its wire bytes. */
export function encodeFrame(frame: SpdyFrame): Buffer {
  switch (frame.type) {
    case 'data': {
      const head = Buffer.alloc(8);
      head.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      head.writeUInt32BE(((frame.flags & 0xff) << 24) | frame.data.length, 4);
      return Buffer.concat([head, frame.data]);
    }
    case 'syn_stream': {
      const fixed = Buffer.alloc(10);
      fixed.writeUInt32BE(frame.streamId & 0x7fffffff, 0);
      fixed.writeUInt32BE(frame.associatedId & 0x7fffffff, 4);
      fixed[8] = (frame.priority & 0x7) << 5;
      return control(SpdyType.SYN_STREAM, frame.flags, Buffer.concat([fixed, frame.headerBlock]));
    }
    case 'syn_reply':
      return control(SpdyType.SYN_REPLY, frame.flags, Buffer.concat([u32s(frame.streamId & 0x7fffffff), frame.headerBlock]));
    case 'headers':
      return control(SpdyType.HEADERS, frame.flags, Buffer.concat([u32s(frame.streamId & 0x7fffffff), frame.headerBlock]));
    case 'rst_stream':
      return control(SpdyType.RST_STREAM, 0, u32s(frame.streamId & 0x7fffffff, frame.status));
    case 'settings': {
      const body = Buffer.alloc(4 + frame.entries.length * 8);
      body.writeUInt32BE(frame.entries.length, 0);
      frame.entries.forEach((e, i) => {
        body.writeUInt32BE(((e.flags & 0xff) << 24) | (e.id & 0xffffff), 4 + i * 8);
        body.writeUInt32BE(e.value >>> 0, 8 + i * 8);
      });
      return control(SpdyType.SETTINGS, frame.flags, body);
    }
    case 'ping':
      return control(SpdyType.PING, 0, u32s(frame.id));
    case 'goaway':
      return control(SpdyType.GOAWAY, 0, u32s(frame.lastGoodStreamId & 0x7fffffff, frame.status));
    case 'window_update':
      return control(SpdyType.WINDOW_UPDATE, 0, u32s(frame.streamId & 0x7fffffff, frame.delta & 0x7fffffff));
    case 'unknown':
      return control(frame.frameType, frame.flags, frame.payload);
  }
}

/** Splits a byte stream into frames, whatever the chunk boundaries. */
export class SpdyFrameReader {
  private buffer: Buffer = Buffer.alloc(0);

  /** Appends bytes; returns every frame now complete. */
  push(chunk: Buffer): SpdyFrame[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const frames: SpdyFrame[] = [];
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff;
      if (this.buffer.length < 8 + length) break;
      frames.push(decodeFrame(this.buffer.subarray(0, 8 + length)));
      this.buffer = this.buffer.subarray(8 + length);
    }
    return frames;
  }
}

/** Decodes one complete frame. */
export function decodeFrame(bytes: Buffer): SpdyFrame {
  const first = bytes.readUInt32BE(0);
  const flags = bytes[4];
  const payload = bytes.subarray(8);
  if ((first & 0x80000000) === 0) return { type: 'data', streamId: first & 0x7fffffff, flags, data: payload };
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new Error(`unsupported SPDY version ${version} (expected 3)`);
  const type = first & 0xffff;
  const u32 = (offset: number) => payload.readUInt32BE(offset);
  switch (type) {
    case SpdyType.SYN_STREAM:
      return { type: 'syn_stream', streamId: u32(0) & 0x7fffffff, associatedId: u32(4) & 0x7fffffff, priority: payload[8] >> 5, flags, headerBlock: payload.subarray(10) };
    case SpdyType.SYN_REPLY:
      return { type: 'syn_reply', streamId: u32(0) & 0x7fffffff, flags, headerBlock: payload.subarray(4) };
    case SpdyType.HEADERS:
      return { type: 'headers', streamId: u32(0) & 0x7fffffff, flags, headerBlock: payload.subarray(4) };
    case SpdyType.RST_STREAM:
      return { type: 'rst_stream', streamId: u32(0) & 0x7fffffff, status: u32(4) };
    case SpdyType.SETTINGS: {
      const count = u32(0);
      const entries = [];
      for (let i = 0; i < count && 4 + i * 8 + 8 <= payload.length; i++) {
        const idWord = u32(4 + i * 8);
        entries.push({ flags: idWord >>> 24, id: idWord & 0xffffff, value: u32(8 + i * 8) });
      }
      return { type: 'settings', flags, entries };
    }
    case SpdyType.PING:
      return { type: 'ping', id: u32(0) };
    case SpdyType.GOAWAY:
      return { type: 'goaway', lastGoodStreamId: u32(0) & 0x7fffffff, status: payload.length >= 8 ? u32(4) : 0 };
    case SpdyType.WINDOW_UPDATE:
      return { type: 'window_update', streamId: u32(0) & 0x7fffffff, delta: u32(4) & 0x7fffffff };
    default:
      return { type: 'unknown', frameType: type, flags, payload };
  }
}

/** Header name/value pairs; names are lowercase on the wire, several values are NUL-joined. */
export type SpdyHeaders = Record<string, string[]>;

/** The uncompressed name/value block of SPDY/3 (32-bit lengths). */
export function encodeHeaderBlock(headers: SpdyHeaders): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32s(entries.length)];
  for (const [name, values] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from(values.join('\0'), 'utf8');
    parts.push(u32s(n.length), n, u32s(v.length), v);
  }
  return Buffer.concat(parts);
}

/** Parses an uncompressed name/value block. */
export function decodeHeaderBlock(raw: Buffer): SpdyHeaders {
  const headers: SpdyHeaders = {};
  let offset = 0;
  const read = () => {
    const length = raw.readUInt32BE(offset);
    const value = raw.subarray(offset + 4, offset + 4 + length).toString('utf8');
    offset += 4 + length;
    return value;
  };
  const count = raw.readUInt32BE(0);
  offset = 4;
  for (let i = 0; i < count; i++) {
    const name = read().toLowerCase();
    const values = read().split('\0');
    (headers[name] ??= []).push(...values);
  }
  return headers;
}

/**
 * The sending side's zlib context. Header blocks are written as stored
 * (uncompressed) deflate blocks, each followed by the empty stored block of a
 * sync flush: a valid zlib stream for any inflater, produced synchronously and
 * in order.
 */
export class HeaderCompressor {
  private started = false;

  /** Compresses one header block, continuing the connection's zlib stream. */
  compress(headers: SpdyHeaders): Buffer {
    const raw = encodeHeaderBlock(headers);
    const parts: Buffer[] = [];
    if (!this.started) {
      parts.push(Buffer.from([0x78, 0x01])); // deflate, 32K window, no preset dictionary needed for stored blocks
      this.started = true;
    }
    for (let offset = 0; offset < raw.length || offset === 0; offset += 0xffff) {
      const piece = raw.subarray(offset, Math.min(raw.length, offset + 0xffff));
      const head = Buffer.alloc(5);
      head[0] = 0; // BFINAL=0, BTYPE=00 (stored), byte-aligned
      head.writeUInt16LE(piece.length, 1);
      head.writeUInt16LE(~piece.length & 0xffff, 3);
      parts.push(head, piece);
      if (raw.length === 0) break;
    }
    // An empty stored block ends each header block, as a sync flush does: readers such as Go's
    // flate only hand out a stored block's bytes once they see the next block header.
    parts.push(Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff]));
    return Buffer.concat(parts);
  }
}

/** The receiving side's zlib context (inflate primed with the SPDY dictionary). */
export class HeaderDecompressor {
  private readonly inflate: Inflate = createInflate({ dictionary: SPDY_DICTIONARY });
  private queue: Promise<unknown> = Promise.resolve();
  private failure?: Error;

  constructor() {
    this.inflate.on('error', (error) => (this.failure = error));
  }

  /** Inflates one header block; calls are served in order. */
  decompress(block: Buffer): Promise<SpdyHeaders> {
    const run = () =>
      new Promise<SpdyHeaders>((resolve, reject) => {
        if (this.failure) return reject(this.failure);
        const chunks: Buffer[] = [];
        const onData = (chunk: Buffer) => chunks.push(chunk);
        const onError = (error: Error) => finish(error);
        const finish = (error?: Error) => {
          this.inflate.off('data', onData);
          this.inflate.off('error', onError);
          if (error) return reject(error);
          try {
            resolve(decodeHeaderBlock(Buffer.concat(chunks)));
          } catch (cause) {
            reject(new Error(`malformed SPDY header block: ${(cause as Error).message}`));
          }
        };
        this.inflate.on('data', onData);
        this.inflate.once('error', onError);
        this.inflate.write(block);
        this.inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => setImmediate(() => finish()));
      });
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Releases the zlib context. */
  close(): void {
    this.inflate.destroy();
  }
}

/** One SPDY stream: a Duplex whose writes become DATA frames and whose end sends FIN. */
export class SpdyStream extends Duplex {
  /** Headers of the SYN_STREAM that opened it. */
  headers: SpdyHeaders;
  /** Resolves with the peer's SYN_REPLY headers (streams we opened). */
  readonly replied: Promise<SpdyHeaders>;
  private resolveReply!: (headers: SpdyHeaders) => void;
  private rejectReply!: (error: Error) => void;
  /** Bytes received on this stream. */
  received = 0;
  remoteClosed = false;
  localClosed = false;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    headers: SpdyHeaders,
  ) {
    super({ allowHalfOpen: true });
    this.headers = headers;
    this.replied = new Promise((resolve, reject) => {
      this.resolveReply = resolve;
      this.rejectReply = reject;
    });
    this.replied.catch(() => undefined);
  }

  /** First value of a header of the opening SYN_STREAM. */
  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Answers a peer-opened stream with SYN_REPLY. */
  reply(headers: SpdyHeaders = {}, fin = false): void {
    this.session.send({ type: 'syn_reply', streamId: this.id, flags: fin ? FLAG_FIN : 0, headerBlock: this.session.compressor.compress(headers) });
    if (fin) this.localClosed = true;
  }

  /** Aborts the stream with RST_STREAM. */
  reset(status = RST_CANCEL): void {
    if (!this.session.closed) this.session.send({ type: 'rst_stream', streamId: this.id, status });
    this.localClosed = this.remoteClosed = true;
    this.session.forget(this.id);
    this.destroy();
  }

  /** @internal */
  onReply(headers: SpdyHeaders): void {
    this.resolveReply(headers);
  }

  /** @internal */
  onData(data: Buffer, fin: boolean): void {
    if (data.length > 0) {
      this.push(data);
      // SPDY/3.1 flow control would give the window back here with WINDOW_UPDATE, but the peers
      // of Kubernetes streaming (moby/spdystream) neither wait for it nor accept it: a containerd
      // exec stream receiving one is cut short. So data is never throttled by windows either way.
      this.received += data.length;
    }
    if (fin) this.onRemoteClose();
  }

  /** @internal */
  onRemoteClose(): void {
    if (this.remoteClosed) return;
    this.remoteClosed = true;
    this.push(null);
    if (this.localClosed) this.session.forget(this.id);
  }

  /** @internal Peer reset or connection gone: reading ends after what was received; writes are dropped. */
  onReset(status: number): void {
    this.localClosed = true;
    this.rejectReply(new Error(`stream ${this.id} reset by peer (status ${status})`));
    if (!this.remoteClosed) {
      this.remoteClosed = true;
      this.push(null);
    }
  }

  override _read(): void {
    // Data is pushed as frames arrive.
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.localClosed || this.session.closed) return callback();
    for (let offset = 0; offset < chunk.length; offset += 0xffff) {
      this.session.send({ type: 'data', streamId: this.id, flags: 0, data: chunk.subarray(offset, offset + 0xffff) });
    }
    this.session.whenWritable(callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.localClosed && !this.session.closed) this.session.send({ type: 'data', streamId: this.id, flags: FLAG_FIN, data: Buffer.alloc(0) });
    this.localClosed = true;
    if (this.remoteClosed) this.session.forget(this.id);
    callback();
  }
}

/**
 * A SPDY/3.1 connection over a byte stream. Emits 'stream' (stream) for
 * peer-opened streams and 'close' when the transport ends.
 */
export class SpdySession extends EventEmitter {
  readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly reader = new SpdyFrameReader();
  private readonly streams = new Map<number, SpdyStream>();
  private nextStreamId: number;
  /** Frames are handled one at a time: header inflation is asynchronous and must stay in order. */
  private pending: Promise<void> = Promise.resolve();
  closed = false;
  private finished = false;

  constructor(
    private readonly transport: Duplex,
    readonly role: 'client' | 'server',
  ) {
    super();
    this.nextStreamId = role === 'client' ? 1 : 2;
    transport.on('data', (chunk: Buffer) => {
      let frames: SpdyFrame[];
      try {
        frames = this.reader.push(chunk);
      } catch (error) {
        this.emit('error', error);
        this.close();
        return;
      }
      for (const frame of frames) this.pending = this.pending.then(() => this.handle(frame)).catch((error) => this.fail(error));
    });
    // Frames still queued behind a header inflation are handled before the streams end.
    const gone = () => void this.pending.then(() => this.shutdown());
    transport.on('close', gone);
    transport.on('end', gone);
    transport.on('error', gone);
  }

  /** Opens a stream with SYN_STREAM. */
  openStream(headers: SpdyHeaders, fin = false): SpdyStream {
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new SpdyStream(this, id, headers);
    this.streams.set(id, stream);
    this.send({ type: 'syn_stream', streamId: id, associatedId: 0, priority: 0, flags: fin ? FLAG_FIN : 0, headerBlock: this.compressor.compress(headers) });
    if (fin) stream.localClosed = true;
    return stream;
  }

  /** Writes one frame to the transport. */
  send(frame: SpdyFrame): void {
    if (this.closed) return;
    this.transport.write(encodeFrame(frame));
  }

  /** Calls back once the transport has room (back-pressure for stream writes). */
  whenWritable(callback: () => void): void {
    if (this.closed || !this.transport.writableNeedDrain) return callback();
    const done = () => {
      this.transport.off('drain', done);
      this.transport.off('close', done);
      callback();
    };
    this.transport.on('drain', done);
    this.transport.on('close', done);
  }

  /** Stops reading the transport (back-pressure for every stream of the session). */
  pauseReading(): void {
    this.transport.pause();
  }

  /** Reads the transport again after pauseReading. */
  resumeReading(): void {
    this.transport.resume();
  }

  /** @internal */
  forget(id: number): void {
    this.streams.delete(id);
  }

  /** Sends GOAWAY and ends the transport. */
  close(): void {
    if (this.closed) return;
    this.send({ type: 'goaway', lastGoodStreamId: 0, status: 0 });
    this.transport.end();
    this.shutdown();
  }

  private fail(error: unknown): void {
    this.emit('error', error);
    this.close();
  }

  private shutdown(): void {
    if (this.finished) return;
    this.finished = true;
    this.closed = true;
    for (const stream of this.streams.values()) stream.onReset(RST_CANCEL);
    this.streams.clear();
    this.decompressor.close();
    this.emit('close');
  }

  private async handle(frame: SpdyFrame): Promise<void> {
    switch (frame.type) {
      case 'syn_stream': {
        const headers = await this.decompressor.decompress(frame.headerBlock);
        const stream = new SpdyStream(this, frame.streamId, headers);
        this.streams.set(frame.streamId, stream);
        if (frame.flags & FLAG_FIN) stream.onRemoteClose();
        this.emit('stream', stream);
        return;
      }
      case 'syn_reply': {
        const headers = await this.decompressor.decompress(frame.headerBlock);
        const stream = this.streams.get(frame.streamId);
        stream?.onReply(headers);
        if (frame.flags & FLAG_FIN) stream?.onRemoteClose();
        return;
      }
      case 'headers': {
        await this.decompressor.decompress(frame.headerBlock);
        if (frame.flags & FLAG_FIN) this.streams.get(frame.streamId)?.onRemoteClose();
        return;
      }
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.onData(frame.data, (frame.flags & FLAG_FIN) !== 0);
        return;
      }
      case 'rst_stream': {
        const stream = this.streams.get(frame.streamId);
        this.streams.delete(frame.streamId);
        stream?.onReset(frame.status);
        return;
      }
      case 'ping':
        // Pings from the peer carry the peer's parity; answer them (ours are never sent).
        this.send({ type: 'ping', id: frame.id });
        return;
      case 'goaway':
        this.emit('goaway', frame.lastGoodStreamId);
        return;
      case 'settings':
      case 'window_update':
      case 'unknown':
        // No flow control with spdystream peers (see SpdyStream.onData).
        return;
    }
  }
}
