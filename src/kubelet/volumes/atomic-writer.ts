/**
 * The kubelet's AtomicWriter (pkg/volume/util/atomic_writer.go): ConfigMap,
 * Secret, downward-API and projected volumes are rewritten in place without
 * a reader ever seeing half of an update. Files live in a timestamped
 * directory; `..data` is a symlink to it, swapped with one rename; the names
 * users see are symlinks through `..data`:
 *
 *   key -> ..data/key      ..data -> ..2026_11_26_18_00_00.123456789      ..2026_…/key
 */
import { promises as fs } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { randomInt } from 'node:crypto';

/** One file of a payload: its bytes and permission bits. */
export interface FileProjection {
  data: Buffer;
  mode: number;
}

const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** Rejects absolute paths, `..` steps and the reserved `..` prefix, as validatePayload does. */
export function validatePayloadPath(path: string): void {
  if (path === '') throw new Error('invalid path: must not be empty');
  if (path.length > 4096) throw new Error(`invalid path: must be less than or equal to 4096 characters`);
  if (posix.isAbsolute(path)) throw new Error(`invalid path: must be relative path: ${path}`);
  if (path.split('/').includes('..')) throw new Error(`invalid path: must not contain '..': ${path}`);
  if (path.startsWith('..')) throw new Error(`invalid path: must not start with '..': ${path}`);
}

function timestampDirName(): string {
  const d = new Date();
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${d.getUTCFullYear()}_${p(d.getUTCMonth() + 1)}_${p(d.getUTCDate())}_${p(d.getUTCHours())}_${p(d.getUTCMinutes())}_${p(d.getUTCSeconds())}`;
  return `..${stamp}.${String(randomInt(0, 1_000_000_000)).padStart(9, '0')}`;
}

async function readLinkOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await fs.readlink(path);
  } catch {
    return undefined;
  }
}

/** Files under a directory (relative paths), following no symlinks. */
async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  let entries;
  try {
    entries = await fs.readdir(join(root, prefix), { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(root, rel)));
    else out.push(rel);
  }
  return out;
}

/** True when the directory holds exactly this payload (same paths, bytes and modes). */
async function samePayload(dir: string, payload: Map<string, FileProjection>): Promise<boolean> {
  const existing = await listFiles(dir);
  if (existing.length !== payload.size) return false;
  for (const path of existing) {
    const wanted = payload.get(path);
    if (!wanted) return false;
    const [stat, data] = await Promise.all([fs.stat(join(dir, path)), fs.readFile(join(dir, path))]);
    if ((stat.mode & 0o7777) !== wanted.mode || !data.equals(wanted.data)) return false;
  }
  return true;
}

/** Options of a write. */
export interface AtomicWriteOptions {
  /** Group owner given to every file and directory of the payload (pod fsGroup). */
  fsGroup?: number;
  /** Owner uid for the files (rarely needed: token files of pods with runAsUser). */
  ownerUid?: number;
}

/**
 * Makes `dir` hold exactly `payload` (relative path → file), atomically.
 * Returns false when the content was already there (nothing written).
 */
export async function writeAtomically(dir: string, payload: Map<string, FileProjection>, options: AtomicWriteOptions = {}): Promise<boolean> {
  for (const path of payload.keys()) validatePayloadPath(path);
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  const oldTarget = await readLinkOrUndefined(join(dir, DATA_DIR));
  const oldTsDir = oldTarget ? join(dir, oldTarget) : undefined;
  const oldPaths = oldTsDir ? new Set(await listFiles(oldTsDir)) : new Set<string>();

  let changed = true;
  if (oldTsDir && (await samePayload(oldTsDir, payload))) changed = false;
  if (changed) {
    const tsName = timestampDirName();
    const tsDir = join(dir, tsName);
    await fs.mkdir(tsDir, { mode: 0o755 });
    // Files are independent: write them at once (each create costs about a millisecond on VM disks).
    const subdirs = new Set([...payload.keys()].filter((p) => p.includes('/')).map((p) => dirname(join(tsDir, p))));
    for (const sub of subdirs) await fs.mkdir(sub, { recursive: true, mode: 0o755 });
    await Promise.all(
      [...payload].map(async ([path, file]) => {
        const target = join(tsDir, path);
        await fs.writeFile(target, file.data);
        // Explicit chmod: the umask must not change the mode the user asked for.
        await fs.chmod(target, file.mode);
      }),
    );
    if (options.fsGroup !== undefined || options.ownerUid !== undefined) await chownTree(tsDir, options.ownerUid ?? -1, options.fsGroup ?? -1);
    await fs.chmod(tsDir, 0o755);
    // The swap: a new symlink renamed over the old one is atomic for readers.
    await fs.rm(join(dir, DATA_TMP), { force: true });
    await fs.symlink(tsName, join(dir, DATA_TMP));
    await fs.rename(join(dir, DATA_TMP), join(dir, DATA_DIR));
  }

  // The user-visible names: one symlink per top-level entry of the payload.
  const topLevel = new Set([...payload.keys()].map((p) => p.split('/')[0]));
  await Promise.all(
    [...topLevel].map(async (name) => {
      const link = join(dir, name);
      const current = await readLinkOrUndefined(link);
      if (current === `${DATA_DIR}/${name}`) return;
      await fs.rm(link, { recursive: true, force: true });
      await fs.symlink(`${DATA_DIR}/${name}`, link);
    }),
  );
  // Names that left the payload.
  for (const old of new Set([...oldPaths].map((p) => p.split('/')[0]))) {
    if (!topLevel.has(old)) await fs.rm(join(dir, old), { recursive: true, force: true });
  }
  if (changed && oldTsDir) await fs.rm(oldTsDir, { recursive: true, force: true });
  return changed;
}

async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  await fs.lchown(root, uid, gid);
  for (const entry of await fs.readdir(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) await chownTree(path, uid, gid);
    else await fs.lchown(path, uid, gid);
  }
}

/**
 * Gives a volume to the pod's fsGroup (SetVolumeOwnership): group owner,
 * group read (and write unless read-only) on files, setgid + group
 * rwx on directories, so files created later inherit the group.
 */
export async function setVolumeOwnership(root: string, fsGroup: number, readOnly: boolean): Promise<void> {
  const mask = readOnly ? 0o440 : 0o660;
  const visit = async (path: string) => {
    const stat = await fs.lstat(path);
    await fs.lchown(path, -1, fsGroup);
    if (stat.isSymbolicLink()) return;
    if (stat.isDirectory()) {
      await fs.chmod(path, (stat.mode & 0o7777) | mask | 0o110 | 0o2000);
      for (const name of await fs.readdir(path)) await visit(join(path, name));
    } else {
      await fs.chmod(path, (stat.mode & 0o7777) | mask);
    }
  };
  await visit(root);
}
