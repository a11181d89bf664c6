/**
 * COPY and ADD into a rootfs, with Docker's rules: a directory source copies
 * its contents, several sources (or a destination ending in `/`, or an
 * existing directory) make the destination a directory, missing parents are
 * created, modes and mtimes are kept, owners are root (or `--chown`) for
 * context files and kept for `--from` files. ADD extracts local tar archives
 * (plain, gzip, bzip2, xz — by content, as Docker decides) into the
 * destination directory.
 */
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { chmodSync, closeSync, createReadStream, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, rmSync, symlinkSync, type Stats } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { extractTar } from './rootfs.js';
import { resolveInRoot } from './rootfs-path.js';

/** One thing to copy: a host path and how to enumerate a directory's children. */
export interface CopySource {
  hostPath: string;
  stat: Stats;
  /** For directories: the children to copy (relative to hostPath, parents first); all when undefined. */
  children?: string[];
}

/** How to copy. */
export interface CopyOptions {
  /** Absolute container path, as written after WORKDIR resolution (a trailing `/` is significant). */
  dest: string;
  /** Owner for everything copied; undefined keeps `keepOwner ? source owner : root`. */
  owner?: { uid: number; gid: number };
  keepOwner: boolean;
  /** `--chmod` (octal) for copied files and directories. */
  chmod?: number;
  /** ADD: extract recognised tar archives instead of copying them. */
  extractArchives: boolean;
}

/** Thrown for a destination that cannot be used (several sources into a file). */
export class CopyError extends Error {}

/** Copies sources into the rootfs. */
export async function copyInto(rootfs: string, sources: CopySource[], options: CopyOptions): Promise<void> {
  const destIsDirSyntax = options.dest.endsWith('/') || options.dest.endsWith('/.');
  const destHost = resolveInRoot(rootfs, options.dest);
  const destExistsAsDir = isDirectory(destHost);
  if (sources.length > 1 && !destIsDirSyntax && !destExistsAsDir) {
    throw new CopyError(`When using COPY with more than one source file, the destination must be a directory and end with a /`);
  }
  const destIsDir = destIsDirSyntax || destExistsAsDir || sources.length > 1;
  for (const source of sources) {
    if (options.extractArchives && source.stat.isFile() && (await isTarArchive(source.hostPath))) {
      ensureDir(rootfs, options.dest, options.owner);
      await extractTar(resolveInRoot(rootfs, options.dest), source.hostPath, []);
      continue;
    }
    if (source.stat.isDirectory()) {
      ensureDir(rootfs, options.dest, options.owner);
      const children = source.children ?? listTree(source.hostPath);
      const base = resolveInRoot(rootfs, options.dest);
      for (const child of children) {
        const target = join(base, child);
        // A child re-included by a .dockerignore `!pattern` may come without its (ignored) parent.
        if (child.includes('/')) mkdirSync(dirname(target), { recursive: true, mode: 0o755 });
        copyEntry(join(source.hostPath, child), target, options);
      }
      // The directory itself: its mode and owner apply to the destination only when we created it.
      continue;
    }
    const targetPath = destIsDir ? posix.join(options.dest, posix.basename(source.hostPath)) : options.dest;
    ensureDir(rootfs, posix.dirname(targetPath), undefined);
    copyEntry(source.hostPath, resolveInRoot(rootfs, targetPath, false), options);
  }
}

/** Creates a container directory (and missing parents, root-owned 0755). */
function ensureDir(rootfs: string, containerPath: string, owner: { uid: number; gid: number } | undefined): void {
  const parts = posix.normalize('/' + containerPath).split('/').filter(Boolean);
  for (let i = 1; i <= parts.length; i++) {
    const host = resolveInRoot(rootfs, '/' + parts.slice(0, i).join('/'));
    if (isDirectory(host)) continue;
    rmSync(host, { force: true });
    mkdirSync(host, { mode: 0o755 });
    chmodSync(host, 0o755);
    const who = i === parts.length && owner ? owner : { uid: 0, gid: 0 };
    lchownSync(host, who.uid, who.gid);
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Every path under `dir`, parents before children. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(rel ? join(dir, rel) : dir).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      out.push(child);
      if (lstatSync(join(dir, child)).isDirectory()) walk(child);
    }
  };
  walk('');
  return out;
}

function copyEntry(from: string, to: string, options: CopyOptions): void {
  const st = lstatSync(from);
  const owner = options.owner ?? (options.keepOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
  const mode = options.chmod ?? st.mode & 0o7777;
  let existing: Stats | undefined;
  try {
    existing = lstatSync(to);
  } catch {
    existing = undefined;
  }
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) rmSync(to, { force: true });
    if (!existing || !existing.isDirectory()) mkdirSync(to);
  } else {
    if (existing) rmSync(to, { recursive: true, force: true });
    if (st.isSymbolicLink()) symlinkSync(readlinkSync(from), to);
    else if (st.isFile()) copyFileSync(from, to);
    else return; // devices, sockets, fifos are not copied from a context
  }
  lchownSync(to, owner.uid, owner.gid);
  if (!st.isSymbolicLink()) chmodSync(to, mode);
  lutimesSync(to, st.atime, st.mtime);
}

type Compression = 'gzip' | 'bzip2' | 'xz';

function compressionOf(head: Buffer, n: number): Compression | undefined {
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  return undefined;
}

function isTarHeader(block: Buffer): boolean {
  return block.length >= 512 && block.subarray(257, 262).toString('latin1') === 'ustar';
}

/** The first 512 decompressed bytes (gzip in-process, bzip2/xz by their tools, stopped early). */
function decompressedHead(path: string, compression: Compression): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let done = false;
    const finish = (stop: () => void) => {
      if (done) return;
      done = true;
      stop();
      resolve(Buffer.concat(chunks).subarray(0, 512));
    };
    if (compression === 'gzip') {
      const input = createReadStream(path);
      const gunzip = createGunzip();
      const stop = () => {
        input.destroy();
        gunzip.destroy();
      };
      gunzip.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        length += chunk.length;
        if (length >= 512) finish(stop);
      });
      gunzip.on('end', () => finish(stop));
      gunzip.on('error', () => finish(stop));
      input.on('error', () => finish(stop));
      input.pipe(gunzip);
      return;
    }
    const child = spawn(compression, ['-dc', path], { stdio: ['ignore', 'pipe', 'ignore'] });
    const stop = () => child.kill();
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= 512) finish(stop);
    });
    child.on('close', () => finish(() => undefined));
    child.on('error', () => finish(() => undefined));
  });
}

/**
 * Whether ADD extracts this file: a tar, plain or compressed with gzip,
 * bzip2 or xz, decided by content as Docker does (a compressed file that is
 * not a tar is copied as is).
 */
export async function isTarArchive(path: string): Promise<boolean> {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const compression = compressionOf(head, n);
  if (!compression) return n === 512 && isTarHeader(head);
  return isTarHeader(await decompressedHead(path, compression));
}
