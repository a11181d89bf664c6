/**
 * The terminated state's message of a container: its termination-message file,
 * or with FallbackToLogsOnError the end of its log, as the kubelet reads them.
 */
import { promises as fs } from 'node:fs';
import type { Container } from 'kubernetes-types/core/v1.js';

/** Longest termination message the kubelet reads (bytes). */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** FallbackToLogsOnError: at most this many bytes… */
const MAX_TERMINATION_LOG_BYTES = 2048;
/** …of at most this many last log lines. */
const MAX_TERMINATION_LOG_LINES = 80;

/** Reads at most `max` bytes from the end of a file ('' when missing). */
async function tail(path: string, max: number): Promise<Buffer> {
  let handle;
  try {
    handle = await fs.open(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, max);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return buffer;
  } finally {
    await handle.close();
  }
}

/**
 * The terminated state's message of a container instance: its termination
 * message file (found among the runtime's mounts by `terminationMessagePath`,
 * at most 4096 bytes), or with FallbackToLogsOnError and a failure, the end of
 * its log (80 lines, 2048 bytes), as the kubelet reports it.
 */
export async function readTerminationMessage(args: {
  container: Container;
  /** The runtime's mounts of the instance (CRI ContainerStatus.mounts). */
  mounts: readonly { containerPath: string; hostPath: string }[];
  exitCode: number;
  /** The instance's CRI log file, for FallbackToLogsOnError. */
  logPath?: string;
}): Promise<string> {
  const { container } = args;
  const path = container.terminationMessagePath ?? '/dev/termination-log';
  const mount = args.mounts.find((m) => m.containerPath === path);
  let message = '';
  if (mount) {
    const head = await fs.open(mount.hostPath, 'r').catch(() => undefined);
    if (head) {
      try {
        const buffer = Buffer.alloc(MAX_TERMINATION_MESSAGE_BYTES);
        const { bytesRead } = await head.read(buffer, 0, buffer.length, 0);
        message = buffer.subarray(0, bytesRead).toString('utf8');
      } finally {
        await head.close();
      }
    }
  }
  if (message === '' && args.exitCode !== 0 && container.terminationMessagePolicy === 'FallbackToLogsOnError' && args.logPath) {
    message = await lastLogLines(args.logPath);
  }
  return message;
}

/** The end of a CRI log file as plain text: last 80 lines, at most 2048 bytes. */
export async function lastLogLines(logPath: string): Promise<string> {
  const raw = (await tail(logPath, 64 * 1024)).toString('utf8');
  const lines: string[] = [];
  let partial = '';
  for (const line of raw.split('\n')) {
    // CRI format: <RFC3339Nano> <stdout|stderr> <P|F> <content>
    const match = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!match) continue;
    partial += match[2];
    if (match[1] === 'F') {
      lines.push(partial);
      partial = '';
    }
  }
  const text = lines.slice(-MAX_TERMINATION_LOG_LINES).map((l) => l + '\n').join('');
  const bytes = Buffer.from(text);
  return bytes.length > MAX_TERMINATION_LOG_BYTES ? bytes.subarray(bytes.length - MAX_TERMINATION_LOG_BYTES).toString('utf8') : text;
}
