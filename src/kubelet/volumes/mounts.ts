/**
 * Host mounts of pod volumes: tmpfs for memory-backed volumes, found again
 * through /proc/self/mountinfo after a restart, and unmounted before a pod's
 * directory is removed.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { sep } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mount points under `dir` (deepest first), from /proc/self/mountinfo. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await fs.readFile('/proc/self/mountinfo', 'utf8');
  const prefix = dir.endsWith(sep) ? dir : dir + sep;
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((p): p is string => !!p)
    // mountinfo escapes spaces and friends as octal.
    .map((p) => p.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(prefix));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Size of the tmpfs holding a Secret or projected volume (API objects are at most ~1.5 MiB). */
export const TMPFS_API_DATA_BYTES = 16 * 1024 * 1024;

/** Mounts a tmpfs of `sizeBytes` on `dir` unless one is there already (a restarted kubelet). True when mounted now. */
export async function ensureTmpfs(dir: string, sizeBytes: number): Promise<boolean> {
  if ((await mountsUnder(dir)).includes(dir)) return false;
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0755`, 'tmpfs', dir]);
  return true;
}

/** Unmounts every mount under a pod's directory, then removes it (never while something is still mounted). */
export async function removePodDirectory(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) {
    try {
      await run('umount', [point]);
    } catch {
      await run('umount', ['-l', point]);
    }
  }
  // Never descend into something still mounted (a host directory would be wiped).
  const left = await mountsUnder(dir);
  if (left.length) throw new Error(`cannot remove ${dir}: still mounted: ${left.join(', ')}`);
  await fs.rm(dir, { recursive: true, force: true });
}
