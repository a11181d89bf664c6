/**
 * Container logs as the kubelet serves them: CRI log files
 * (`<RFC3339Nano> <stdout|stderr> <P|F> <text>` per line, P = partial line
 * continued by the next entry) read with tail, since, timestamps, limitBytes,
 * and followed as the file grows (and across rotation) until the container
 * exits and everything written is sent.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { watch, type FSWatcher } from 'node:fs';

/** One entry of a CRI log file. */
export interface CriLogEntry {
  /** Timestamp as written (RFC3339Nano). */
  timestamp: string;
  /** Milliseconds since the epoch (for `since`). */
  time: number;
  stream: 'stdout' | 'stderr';
  /** True for a fragment of a longer line (tag P): no newline follows its content. */
  partial: boolean;
  content: Buffer;
}

/** Parses one CRI log line (without its trailing newline); undefined if malformed. */
export function parseCriLogLine(line: Buffer): CriLogEntry | undefined {
  const firstSpace = line.indexOf(0x20);
  if (firstSpace <= 0) return undefined;
  const secondSpace = line.indexOf(0x20, firstSpace + 1);
  if (secondSpace < 0) return undefined;
  const stream = line.subarray(firstSpace + 1, secondSpace).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const timestamp = line.subarray(0, firstSpace).toString('latin1');
  const time = Date.parse(timestamp);
  if (Number.isNaN(time)) return undefined;
  // The tag field ("P", "F", or several ':'-separated tags) appeared in CRI 1.10; older lines have none.
  let partial = false;
  let contentStart = secondSpace + 1;
  const thirdSpace = line.indexOf(0x20, secondSpace + 1);
  const tagEnd = thirdSpace < 0 ? line.length : thirdSpace;
  const tags = line.subarray(secondSpace + 1, tagEnd).toString('latin1');
  if (/^[PF](:[A-Za-z]+)*$/.test(tags)) {
    partial = tags.split(':')[0] === 'P';
    contentStart = thirdSpace < 0 ? line.length : thirdSpace + 1;
  }
  return { timestamp, time, stream, partial, content: line.subarray(contentStart) };
}

/** Go's RFC3339Nano drops trailing zeros of the fraction; the kubelet's output does too. */
export function formatTimestamp(timestamp: string): string {
  return timestamp.replace(/\.(\d*?)0+(?=Z|[+-]\d\d:\d\d$)/, (_m, digits: string) => (digits ? `.${digits}` : ''));
}

/** What to read: the kubelet's container log options. */
export interface LogReadOptions {
  /** Only the last N lines of the file (before `since` filtering). */
  tailLines?: number;
  /** Only entries at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Prefix each line with its RFC3339Nano timestamp. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Keep reading as the file grows. */
  follow?: boolean;
}

/** Where lines go; `write` resolves once the receiver can take more. */
export interface LogSink {
  write(chunk: Buffer): Promise<void>;
  /** True once the client went away. */
  readonly closed: boolean;
}

/** Turns parsed entries into output bytes: partial lines joined, timestamps, byte limit. */
export class LogFormatter {
  private atLineStart = true;
  private written = 0;

  constructor(private readonly options: LogReadOptions) {}

  /** True once limitBytes is reached. */
  get exhausted(): boolean {
    return this.options.limitBytes !== undefined && this.written >= this.options.limitBytes;
  }

  /** Output for one entry (empty when filtered out or past the limit). */
  format(entry: CriLogEntry): Buffer {
    if (this.options.sinceMs !== undefined && entry.time < this.options.sinceMs) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    if (this.options.timestamps && this.atLineStart) parts.push(Buffer.from(formatTimestamp(entry.timestamp) + ' '));
    parts.push(entry.content);
    if (!entry.partial) parts.push(Buffer.from('\n'));
    this.atLineStart = !entry.partial;
    let out = Buffer.concat(parts);
    if (this.options.limitBytes !== undefined) {
      const room = Math.max(0, this.options.limitBytes - this.written);
      if (out.length > room) out = out.subarray(0, room);
    }
    this.written += out.length;
    return out;
  }
}

/** Byte offset where the last `lines` lines of a file start. */
export async function tailOffset(file: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  const chunkSize = 64 * 1024;
  let position = size;
  let newlines = 0;
  // A final newline ends the last line; it does not start another one.
  let skipTrailing = true;
  while (position > 0) {
    const start = Math.max(0, position - chunkSize);
    const buf = Buffer.alloc(position - start);
    await file.read(buf, 0, buf.length, start);
    for (let i = buf.length - 1; i >= 0; i--) {
      if (buf[i] !== 0x0a) {
        skipTrailing = false;
        continue;
      }
      if (skipTrailing) {
        skipTrailing = false;
        continue;
      }
      newlines++;
      if (newlines === lines) return start + i + 1;
    }
    position = start;
  }
  return 0;
}

/** Splits bytes into complete lines, keeping an unfinished tail for the next chunk. */
class LineSplitter {
  private rest: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    const data = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    const lines: Buffer[] = [];
    let start = 0;
    for (let i = data.indexOf(0x0a); i >= 0; i = data.indexOf(0x0a, start)) {
      lines.push(data.subarray(start, i));
      start = i + 1;
    }
    this.rest = Buffer.from(data.subarray(start));
    return lines;
  }

  /** Whatever is left without a newline (a line still being written). */
  flush(): Buffer | undefined {
    if (this.rest.length === 0) return undefined;
    const rest = this.rest;
    this.rest = Buffer.alloc(0);
    return rest;
  }
}

/**
 * Writes a container's log to `sink`. With `follow`, waits for more data until
 * `isRunning()` is false and the file is drained, or the sink closes.
 */
export async function streamCriLog(path: string, options: LogReadOptions, sink: LogSink, isRunning: () => Promise<boolean>): Promise<void> {
  const formatter = new LogFormatter(options);
  let file = await open(path, 'r');
  let inode = (await file.stat()).ino;
  let position = 0;
  try {
    const size = (await file.stat()).size;
    if (options.tailLines !== undefined) position = await tailOffset(file, size, options.tailLines);
    const splitter = new LineSplitter();

    /** Reads from `position` to the current end; false once the output is done. */
    const drain = async (): Promise<boolean> => {
      const buf = Buffer.alloc(256 * 1024);
      for (;;) {
        const { bytesRead } = await file.read(buf, 0, buf.length, position);
        if (bytesRead === 0) return true;
        position += bytesRead;
        for (const line of splitter.push(buf.subarray(0, bytesRead))) {
          const entry = parseCriLogLine(line);
          if (!entry) continue;
          const out = formatter.format(entry);
          if (out.length > 0) await sink.write(out);
          if (formatter.exhausted || sink.closed) return false;
        }
      }
    };

    if (!(await drain()) || !options.follow) return;
    const waiter = new ChangeWaiter(path);
    try {
      for (;;) {
        if (sink.closed) return;
        const running = await isRunning();
        await waiter.wait(running ? 1000 : 0);
        if (!(await drain())) return;
        // Rotation: the path now names another file. Finish the old one, then start the new one.
        const current = await stat(path).catch(() => undefined);
        if (current && current.ino !== inode) {
          if (!(await drain())) return;
          await file.close();
          file = await open(path, 'r');
          inode = current.ino;
          position = 0;
          splitter.flush();
          if (!(await drain())) return;
        } else if (current && current.size < position) {
          position = 0; // truncated in place
        }
        if (!running) return;
      }
    } finally {
      waiter.close();
    }
  } finally {
    await file.close().catch(() => undefined);
  }
}

/** Resolves on a change of the file (fs.watch), or after a poll interval as a fallback. */
class ChangeWaiter {
  private watcher?: FSWatcher;
  private wake?: () => void;
  private changed = false;

  constructor(path: string) {
    try {
      this.watcher = watch(path, { persistent: false }, () => {
        this.changed = true;
        this.wake?.();
      });
      this.watcher.on('error', () => undefined);
    } catch {
      // Some filesystems cannot be watched: polling alone then.
    }
  }

  wait(maxMs: number): Promise<void> {
    if (this.changed || maxMs === 0) {
      this.changed = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.min(maxMs, 250));
      function done(this: void) {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        this.changed = false;
        done();
      };
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
