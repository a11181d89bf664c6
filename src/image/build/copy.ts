/**
 * COPY and ADD into a rootfs, with Docker's rules: a directory source copies
 * its contents, several sources (or a destination ending in `/`, or an
 * existing directory) make the destination a directory, missing parents are
 * created, modes and mtimes are kept, owners are root (or `--chown`) for
 * context files and kept for `--from` files. ADD extracts local tar archives
 * (plain, gzip, bzip2, xz — by content, as Docker decides) into the
 * destination directory.
 */
import { chmodSync, closeSync, copyFileSync, lchownSync, lstatSync, lutimesSync, mkdirSync, openSync, readSync, readdirSync, readlinkSync, rmSync, symlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import { extractTar, runTool } from './rootfs.js';
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
        copyEntry(join(source.hostPath, child), join(base, child), options);
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

/** Whether a file is a tar archive, plain or compressed with gzip, bzip2 or xz (by content). */
export async function isTarArchive(path: string): Promise<boolean> {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 512, 0);
  } finally {
    closeSync(fd);
  }
  const compressed =
    (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) ||
    (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') ||
    (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])));
  if (!compressed) return n === 512 && head.subarray(257, 262).toString('latin1') === 'ustar';
  try {
    await runTool('tar', ['-tf', path]); // decompresses with gzip/bzip2/xz as needed and checks the tar headers
    return true;
  } catch {
    return false; // compressed but not a tar: copied as is, as Docker does
  }
}
