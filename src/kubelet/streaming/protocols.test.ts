/**
 * The streaming protocols without containers: SPDY frames and header blocks
 * (with real zlib and the SPDY dictionary on the other side), a SPDY session
 * over a socket pair, WebSocket framing, and CRI log parsing and streaming
 * (tail, since, partial lines, timestamps, limitBytes, follow with rotation).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { constants as zlibConstants, createDeflate, createInflate } from 'node:zlib';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPDY_DICTIONARY } from './spdy-dictionary.js';
import { FLAG_FIN, HeaderCompressor, HeaderDecompressor, SpdyFrameReader, SpdySession, decodeHeaderBlock, encodeFrame, encodeHeaderBlock, type SpdyFrame, type SpdyStream } from './spdy.js';
import { Opcode, WebSocketByteStream, WsFrameReader, acceptKey, encodeWsFrame, offeredProtocols } from './websocket.js';
import { LogFormatter, formatTimestamp, parseCriLogLine, streamCriLog, tailOffset, type LogReadOptions } from './cri-logs.js';
import { logOptionsFrom, newestFirst, parseTarget } from './server.js';
import { chooseContainer, checkLogStatus } from '../../apiserver/kubelet-proxy.js';
import { streamOptionsFrom } from './exec-bridge.js';

/** Two connected in-memory duplex streams. */
function socketPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = Duplex.from({ readable: bToA, writable: aToB });
  const b = Duplex.from({ readable: aToB, writable: bToA });
  return [a, b];
}

describe('SPDY/3.1 codec', () => {
  it('round-trips every frame type, across arbitrary chunk boundaries', () => {
    const frames: SpdyFrame[] = [
      { type: 'syn_stream', streamId: 1, associatedId: 0, priority: 3, flags: 0, headerBlock: Buffer.from('abc') },
      { type: 'syn_reply', streamId: 1, flags: FLAG_FIN, headerBlock: Buffer.from('xy') },
      { type: 'data', streamId: 1, flags: 0, data: Buffer.from('hello') },
      { type: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.alloc(0) },
      { type: 'rst_stream', streamId: 5, status: 5 },
      { type: 'settings', flags: 0, entries: [{ flags: 0, id: 7, value: 65536 }] },
      { type: 'ping', id: 2 },
      { type: 'goaway', lastGoodStreamId: 7, status: 0 },
      { type: 'window_update', streamId: 1, delta: 32768 },
    ];
    const wire = Buffer.concat(frames.map(encodeFrame));
    const reader = new SpdyFrameReader();
    const decoded: SpdyFrame[] = [];
    for (let i = 0; i < wire.length; i += 3) decoded.push(...reader.push(wire.subarray(i, i + 3)));
    assert.deepEqual(decoded, frames);
  });

  it('header blocks: name/value encoding, NUL-joined values, lowercase names', () => {
    const raw = encodeHeaderBlock({ StreamType: ['data'], port: ['80', '81'] });
    assert.deepEqual(decodeHeaderBlock(raw), { streamtype: ['data'], port: ['80', '81'] });
  });

  it('the dictionary is the SPDY/3 one (zlib checks its Adler-32 in every stream header)', async () => {
    // kubectl's first header block starts 78 bb + DICTID; containerd's reply carried e3c6a7c2.
    const compressed = await deflateWithDictionary([{ a: ['b'] }]);
    assert.equal(compressed[0].subarray(2, 6).toString('hex'), 'e3c6a7c2');
    assert.equal(SPDY_DICTIONARY.length, 1423);
  });

  it('inflates blocks compressed by a real zlib with the dictionary, one context per direction', async () => {
    const headers: Record<string, string[]>[] = [{ streamtype: ['error'] }, { streamtype: ['data'], port: ['8080'], requestid: ['0'] }, { streamtype: ['data'], port: ['8080'], requestid: ['1'] }];
    const blocks = await deflateWithDictionary(headers);
    const decompressor = new HeaderDecompressor();
    for (let i = 0; i < blocks.length; i++) assert.deepEqual(await decompressor.decompress(blocks[i]), headers[i]);
    decompressor.close();
  });

  it('our compressed blocks are read by a real zlib inflater, block by block', async () => {
    const compressor = new HeaderCompressor();
    const inflate = createInflate({ dictionary: SPDY_DICTIONARY });
    const read = (block: Buffer) =>
      new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer) => chunks.push(c);
        inflate.on('data', onData);
        inflate.write(block);
        inflate.flush(zlibConstants.Z_SYNC_FLUSH, () =>
          setImmediate(() => {
            inflate.off('data', onData);
            resolve(Buffer.concat(chunks));
          }),
        );
      });
    const all: Record<string, string[]>[] = [{ streamtype: ['stdin'] }, { streamtype: ['stdout'] }, { big: ['x'.repeat(70_000)] }];
    for (const headers of all) {
      const block = compressor.compress(headers);
      // Each block ends with a sync-flush marker (an empty stored block).
      assert.equal(block.subarray(-4).toString('hex'), '0000ffff');
      assert.deepEqual(decodeHeaderBlock(await read(block)), headers);
    }
    inflate.destroy();
  });

  it('a client and a server session exchange streams, data, FIN and resets', async () => {
    const [a, b] = socketPair();
    const client = new SpdySession(a, 'client');
    const server = new SpdySession(b, 'server');
    const accepted = new Promise<SpdyStream>((resolve) => server.once('stream', resolve));
    const stream = client.openStream({ streamtype: ['data'], port: ['80'] });
    const peer = await accepted;
    assert.equal(peer.header('port'), '80');
    peer.reply({});
    assert.deepEqual(await stream.replied, {});
    const received: Buffer[] = [];
    const peerEnded = new Promise<void>((resolve) => peer.on('end', resolve));
    peer.on('data', (c: Buffer) => received.push(c));
    stream.write('ping ');
    stream.end(Buffer.alloc(100_000, 0x61));
    await peerEnded;
    assert.equal(Buffer.concat(received).length, 5 + 100_000);
    const back: Buffer[] = [];
    const clientEnded = new Promise<void>((resolve) => stream.on('end', resolve));
    stream.on('data', (c: Buffer) => back.push(c));
    peer.end('pong');
    await clientEnded;
    assert.equal(Buffer.concat(back).toString(), 'pong');
    const second = client.openStream({ streamtype: ['error'] });
    const secondPeer = await new Promise<SpdyStream>((resolve) => server.once('stream', resolve));
    const reset = second.replied.then(
      () => 'replied',
      (error: Error) => error.message,
    );
    secondPeer.reset();
    assert.match(await reset, /reset by peer/);
    client.close();
    server.close();
  });
});

describe('WebSocket framing', () => {
  it('computes Sec-WebSocket-Accept (RFC 6455 example)', () => {
    assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('parses masked frames of every length class, fragments and control frames in between', () => {
    const reader = new WsFrameReader();
    const small = Buffer.from('hi');
    const medium = Buffer.alloc(300, 1);
    const large = Buffer.alloc(70_000, 2);
    const first = encodeWsFrame(Opcode.BINARY, Buffer.from('frag-'), true);
    first[0] &= 0x7f; // FIN off: a fragment
    const wire = Buffer.concat([
      encodeWsFrame(Opcode.BINARY, small, true),
      encodeWsFrame(Opcode.BINARY, medium, true),
      encodeWsFrame(Opcode.BINARY, large, true),
      first,
      encodeWsFrame(Opcode.PING, Buffer.from('p'), true),
      encodeWsFrame(Opcode.CONTINUATION, Buffer.from('ment'), true),
    ]);
    const messages = [];
    for (let i = 0; i < wire.length; i += 1000) messages.push(...reader.push(wire.subarray(i, i + 1000)));
    assert.deepEqual(
      messages.map((m) => [m.opcode, m.payload.length]),
      [
        [Opcode.BINARY, 2],
        [Opcode.BINARY, 300],
        [Opcode.BINARY, 70_000],
        [Opcode.PING, 1],
        [Opcode.BINARY, 9],
      ],
    );
    assert.equal(messages[4].payload.toString(), 'frag-ment');
    assert.ok(messages[2].payload.equals(large));
  });

  it('a byte stream over WebSocket answers pings, carries binary data and echoes close', async () => {
    const [server, client] = socketPair();
    const stream = new WebSocketByteStream(server);
    const fromClient: Buffer[] = [];
    stream.on('data', (c: Buffer) => fromClient.push(c));
    const reader = new WsFrameReader();
    const toClient: { opcode: number; payload: Buffer }[] = [];
    client.on('data', (c: Buffer) => toClient.push(...reader.push(c)));
    client.write(encodeWsFrame(Opcode.BINARY, Buffer.from('abc'), true));
    client.write(encodeWsFrame(Opcode.PING, Buffer.from('x'), true));
    stream.write(Buffer.from('reply'));
    client.write(encodeWsFrame(Opcode.CLOSE, Buffer.from([0x03, 0xe8]), true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(Buffer.concat(fromClient).toString(), 'abc');
    // The pong and our data may come in either order; the close comes last.
    const seen = toClient.map((m) => `${m.opcode}:${m.payload.toString()}`);
    assert.deepEqual(seen.slice(0, 2).sort(), [`${Opcode.PONG}:x`, `${Opcode.BINARY}:reply`].sort());
    assert.deepEqual([toClient[2].opcode, toClient[2].payload.toString('hex')], [Opcode.CLOSE, '03e8']);
  });

  it('reads offered subprotocols from one or several headers', () => {
    assert.deepEqual(offeredProtocols(['SPDY/3.1+portforward.k8s.io, portforward.k8s.io']), ['SPDY/3.1+portforward.k8s.io', 'portforward.k8s.io']);
    assert.deepEqual(offeredProtocols(undefined), []);
  });
});

describe('CRI logs', () => {
  it('parses full, partial and tagless lines; rejects garbage', () => {
    const full = parseCriLogLine(Buffer.from('2024-01-01T00:00:00.123456789Z stdout F hello world'))!;
    assert.equal(full.stream, 'stdout');
    assert.equal(full.partial, false);
    assert.equal(full.content.toString(), 'hello world');
    assert.equal(full.time, Date.parse('2024-01-01T00:00:00.123Z'));
    assert.equal(parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stderr P part'))!.partial, true);
    assert.equal(parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stdout F '))!.content.length, 0);
    assert.equal(parseCriLogLine(Buffer.from('not a log line')), undefined);
    assert.equal(parseCriLogLine(Buffer.from('2024-01-01T00:00:00Z stdin F x')), undefined);
  });

  it('formats timestamps as Go RFC3339Nano (trailing zeros dropped)', () => {
    assert.equal(formatTimestamp('2024-01-01T00:00:00.123400000Z'), '2024-01-01T00:00:00.1234Z');
    assert.equal(formatTimestamp('2024-01-01T00:00:00.000000000Z'), '2024-01-01T00:00:00Z');
    assert.equal(formatTimestamp('2024-01-01T00:00:00.5+02:00'), '2024-01-01T00:00:00.5+02:00');
  });

  it('joins partial lines, prefixes timestamps once per line, filters by since, stops at limitBytes', () => {
    const lines = ['2024-01-01T00:00:01Z stdout P abc', '2024-01-01T00:00:02Z stdout F def', '2024-01-01T00:00:03Z stderr F ghi'].map((l) => parseCriLogLine(Buffer.from(l))!);
    const render = (options: LogReadOptions) => {
      const formatter = new LogFormatter(options);
      return Buffer.concat(lines.map((l) => formatter.format(l))).toString();
    };
    assert.equal(render({}), 'abcdef\nghi\n');
    assert.equal(render({ timestamps: true }), '2024-01-01T00:00:01Z abcdef\n2024-01-01T00:00:03Z ghi\n');
    assert.equal(render({ sinceMs: Date.parse('2024-01-01T00:00:03Z') }), 'ghi\n');
    assert.equal(render({ limitBytes: 5 }), 'abcde');
  });

  it('finds the offset of the last N lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-logs-'));
    try {
      const path = join(dir, 'log');
      writeFileSync(path, 'a\nbb\nccc\n');
      const file = await open(path, 'r');
      try {
        assert.equal(await tailOffset(file, 9, 1), 5);
        assert.equal(await tailOffset(file, 9, 2), 2);
        assert.equal(await tailOffset(file, 9, 10), 0);
        assert.equal(await tailOffset(file, 9, 0), 9);
      } finally {
        await file.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams a log with tail, then follows it across a rotation until the container stops', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilote-logs-'));
    try {
      const path = join(dir, '0.log');
      const line = (n: number) => `2024-01-01T00:00:0${n % 10}Z stdout F line-${n}\n`;
      writeFileSync(path, line(1) + line(2) + line(3));
      let running = true;
      const out: string[] = [];
      const sink = { closed: false, write: async (chunk: Buffer) => void out.push(chunk.toString()) };
      const done = streamCriLog(path, { tailLines: 2, follow: true }, sink, async () => running);
      const until = async (text: string) => {
        const deadline = Date.now() + 5000;
        while (!out.join('').includes(text)) {
          if (Date.now() > deadline) throw new Error(`no "${text}" in ${JSON.stringify(out.join(''))}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };
      await until('line-3');
      appendFileSync(path, line(4));
      await until('line-4');
      // Rotation as the kubelet does it: rename, then the runtime reopens a new file at the path.
      renameSync(path, `${path}.1`);
      writeFileSync(path, line(5));
      await until('line-5');
      appendFileSync(path, line(6));
      running = false;
      await done;
      assert.equal(out.join(''), 'line-2\nline-3\nline-4\nline-5\nline-6\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kubelet and API server request handling', () => {
  it('parses kubelet paths', () => {
    assert.deepEqual(parseTarget('/containerLogs/ns/pod/c'), { kind: 'containerLogs', namespace: 'ns', pod: 'pod', container: 'c' });
    assert.deepEqual(parseTarget('/exec/ns/pod/uid-1/c'), { kind: 'exec', namespace: 'ns', pod: 'pod', container: 'c' });
    assert.deepEqual(parseTarget('/portForward/ns/pod'), { kind: 'portForward', namespace: 'ns', pod: 'pod' });
    assert.equal(parseTarget('/pods'), undefined);
  });

  it('reads log and stream options as the kubelet does', () => {
    const options = logOptionsFrom(new URLSearchParams('follow=true&tailLines=5&timestamps=true&limitBytes=10&sinceSeconds=60'));
    assert.equal(options.follow, true);
    assert.equal(options.tailLines, 5);
    assert.equal(options.limitBytes, 10);
    assert.ok(Math.abs(options.sinceMs! - (Date.now() - 60_000)) < 1000);
    assert.throws(() => logOptionsFrom(new URLSearchParams('tailLines=x')), /invalid tailLines/);
    assert.deepEqual(streamOptionsFrom(new URLSearchParams('stdin=true&stdout=true&stderr=true&tty=true')), { stdin: true, stdout: true, stderr: false, tty: true });
  });

  it('orders containers newest attempt first', () => {
    const c = (id: string, attempt: number, createdAt: number) => ({ id, metadata: { name: 'm', attempt }, createdAt }) as never;
    assert.deepEqual(newestFirst([c('a', 0, 1), c('b', 2, 3), c('c', 1, 2)]).map((x: { id: string }) => x.id), ['b', 'c', 'a']);
  });

  it('chooses the container as kube-apiserver does', () => {
    const pod = (containers: string[], annotations?: Record<string, string>, init: string[] = []) => ({
      metadata: { name: 'p', annotations },
      spec: { containers: containers.map((name) => ({ name })), initContainers: init.map((name) => ({ name })) },
    });
    assert.equal(chooseContainer(pod(['a']), null), 'a');
    assert.equal(chooseContainer(pod(['a', 'b'], { 'kubectl.kubernetes.io/default-container': 'b' }), null), 'b');
    assert.throws(() => chooseContainer(pod(['a', 'b'], undefined, ['i']), null), /a container name must be specified for pod p, choose one of: \[a b\] or one of the init containers: \[i\]/);
    assert.throws(() => chooseContainer(pod(['a']), 'z'), /container z is not valid for pod p/);
  });

  it('explains waiting containers and missing previous ones as the kubelet does', () => {
    const pod = (state: object, lastState: object = {}) => ({ metadata: { name: 'p' }, status: { containerStatuses: [{ name: 'c', state, lastState }] } });
    assert.throws(() => checkLogStatus(pod({ waiting: { reason: 'ContainerCreating' } }), 'c', false), /container "c" in pod "p" is waiting to start: ContainerCreating/);
    assert.throws(() => checkLogStatus(pod({ waiting: { reason: 'ImagePullBackOff' } }), 'c', false), /trying and failing to pull image/);
    assert.throws(() => checkLogStatus(pod({ running: {} }), 'c', true), /previous terminated container "c" in pod "p" not found/);
    assert.doesNotThrow(() => checkLogStatus(pod({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { containerID: 'containerd://x' } }), 'c', true));
  });
});

/** Compresses header blocks with Node's zlib and the dictionary, a sync flush each: what Go's spdystream sends. */
async function deflateWithDictionary(blocks: Record<string, string[]>[]): Promise<Buffer[]> {
  const deflate = createDeflate({ dictionary: SPDY_DICTIONARY });
  const out: Buffer[] = [];
  for (const headers of blocks) {
    out.push(
      await new Promise<Buffer>((resolve) => {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer) => chunks.push(c);
        deflate.on('data', onData);
        deflate.write(encodeHeaderBlock(headers));
        deflate.flush(zlibConstants.Z_SYNC_FLUSH, () =>
          setImmediate(() => {
            deflate.off('data', onData);
            resolve(Buffer.concat(chunks));
          }),
        );
      }),
    );
  }
  deflate.destroy();
  return out;
}
