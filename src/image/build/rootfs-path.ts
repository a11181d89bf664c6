/**
 * Paths inside a container root filesystem on the host: symlinks are
 * followed as the container would see them (absolute targets start at the
 * rootfs, `..` stops at its top), so nothing a layer contains can make the
 * builder read or write outside the rootfs.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';

/**
 * The host path of `containerPath` inside `root`, with symlinks in the
 * directory part (and in the last part when `followLast`) resolved within
 * the root. Missing components are kept as written.
 */
export function resolveInRoot(root: string, containerPath: string, followLast = true): string {
  const pending = posix.normalize('/' + containerPath).split('/').filter(Boolean);
  const resolved: string[] = [];
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = join(root, ...resolved, part);
    const isLast = pending.length === 0;
    let link: string | undefined;
    if (!isLast || followLast) {
      try {
        if (lstatSync(candidate).isSymbolicLink()) link = readlinkSync(candidate);
      } catch {
        link = undefined; // missing: keep the name as written
      }
    }
    if (link === undefined) {
      resolved.push(part);
      continue;
    }
    if (++hops > 40) throw new Error(`too many levels of symbolic links resolving ${containerPath}`);
    if (link.startsWith('/')) resolved.length = 0;
    pending.unshift(...link.split('/').filter(Boolean));
  }
  return join(root, ...resolved);
}

/** The container path of a host path under `root` (`/` for the root itself). */
export function containerPathOf(root: string, hostPath: string): string {
  const rel = hostPath.slice(root.length).replace(/^\/+/, '');
  return '/' + rel;
}
