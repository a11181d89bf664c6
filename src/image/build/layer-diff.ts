/**
 * A layer is the difference between a rootfs before and after a step. The
 * builder snapshots the tree (lstat of every path) before RUN/COPY/ADD and
 * walks it again afterwards: a path is new or changed when its inode or its
 * ctime differs (ctime moves on every content, mode, owner or link-count
 * change and cannot be set back by the container; directories compare by
 * mode, owner and mtime), and a path gone from a
 * directory that still exists becomes an OCI whiteout (`.wh.<name>`). The
 * result is written as an uncompressed tar with owners, modes, symlinks,
 * hardlinks and device numbers (tar-stream).
 */
import { createReadStream, createWriteStream, lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import tar, { type Header } from 'tar-stream';

type TarHeader = Partial<Header> & { name: string };

/** The metadata of every path of a tree, keyed by path relative to the root (`etc/passwd`). */
export type Snapshot = Map<string, BigIntStats>;

/** Walks `root` (not following symlinks, not crossing into `skip`ped paths' contents). */
export function snapshot(root: string, skipContentsOf: (relPath: string) => boolean = () => false): Snapshot {
  const result: Snapshot = new Map();
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(rel ? join(root, rel) : root);
    } catch {
      return;
    }
    names.sort();
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, child), { bigint: true });
      result.set(child, st);
      if (st.isDirectory() && !skipContentsOf(child)) walk(child);
    }
  };
  walk('');
  return result;
}

/** What a diff found. */
export interface DiffSummary {
  changed: number;
  deleted: number;
  /** Bytes of file content written to the tar. */
  bytes: number;
}

/**
 * Writes the tar of everything in `root` that differs from `before`
 * (`before` empty → the whole tree) to `tarPath`; returns what it found and
 * the new snapshot (the "before" of the next step).
 */
export async function writeDiffTar(
  root: string,
  before: Snapshot,
  tarPath: string,
  skipContentsOf: (relPath: string) => boolean = () => false,
): Promise<{ summary: DiffSummary; after: Snapshot }> {
  const after = snapshot(root, skipContentsOf);
  const changed: string[] = [];
  for (const [path, st] of after) {
    const old = before.get(path);
    if (!old || old.ino !== st.ino || old.mode !== st.mode || old.uid !== st.uid || old.gid !== st.gid) changed.push(path);
    // Directories by mtime (a child added or removed), not ctime: the builder restores the mtime
    // of directories it touched itself (runc's mount points), which it cannot do for ctime.
    else if (st.isDirectory() ? old.mtimeNs !== st.mtimeNs : old.ctimeNs !== st.ctimeNs) changed.push(path);
  }
  const whiteouts: string[] = [];
  for (const path of before.keys()) {
    if (after.has(path)) continue;
    const parent = posix.dirname(path);
    // A vanished parent is itself whited out; a parent that is now a file replaced the whole tree.
    if (parent === '.' || after.get(parent)?.isDirectory()) {
      whiteouts.push(parent === '.' ? `.wh.${path}` : `${parent}/.wh.${posix.basename(path)}`);
    }
  }

  const summary = await writeLayerTar(tarPath, root, changed.map((path) => ({ path, stat: after.get(path) as BigIntStats })), whiteouts);
  return { summary, after };
}

/** A path to put in a layer tar, with its metadata. */
export interface LayerEntry {
  /** Relative to `root`, `/`-separated. */
  path: string;
  stat: BigIntStats;
}

/**
 * Writes a layer tar: `entries` (parents before children) read from under
 * `root`, then a `.wh.` whiteout file for each path of `whiteouts`.
 */
export async function writeLayerTar(tarPath: string, root: string, entries: LayerEntry[], whiteouts: string[]): Promise<DiffSummary> {
  const pack = tar.pack();
  const done = pipeline(pack, createWriteStream(tarPath));
  const summary: DiffSummary = { changed: entries.length, deleted: whiteouts.length, bytes: 0 };
  const firstLinkOf = new Map<string, string>();
  try {
    for (const { path, stat: st } of entries) {
      const host = join(root, path);
      const header: TarHeader = {
        name: path,
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: new Date(Number(st.mtimeMs)),
      };
      if (st.isDirectory()) {
        await addEntry(pack, { ...header, name: path + '/', type: 'directory' });
      } else if (st.isSymbolicLink()) {
        await addEntry(pack, { ...header, type: 'symlink', linkname: readlinkSync(host) });
      } else if (st.isFile()) {
        const inode = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1n ? firstLinkOf.get(inode) : undefined;
        if (first !== undefined) {
          await addEntry(pack, { ...header, type: 'link', linkname: first, size: 0 });
          continue;
        }
        if (st.nlink > 1n) firstLinkOf.set(inode, path);
        const size = Number(st.size);
        summary.bytes += size;
        await addFile(pack, { ...header, type: 'file', size }, host);
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const { major, minor } = splitDevice(st.rdev);
        await addEntry(pack, { ...header, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: major, devminor: minor });
      } else if (st.isFIFO()) {
        await addEntry(pack, { ...header, type: 'fifo' });
      }
      // sockets are not part of images (Docker skips them too)
    }
    for (const name of whiteouts) {
      await addEntry(pack, { name, type: 'file', size: 0, mode: 0o644, uid: 0, gid: 0, mtime: new Date(0) });
    }
  } finally {
    pack.finalize();
    await done;
  }
  return summary;
}

function addEntry(pack: tar.Pack, header: TarHeader): Promise<void> {
  return new Promise((resolve, reject) => {
    // An empty body is given explicitly: a bodiless `file` entry would wait for one forever.
    pack.entry(header, Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
  });
}

async function addFile(pack: tar.Pack, header: TarHeader, hostPath: string): Promise<void> {
  let sink!: ReturnType<tar.Pack['entry']>;
  const finished = new Promise<void>((resolve, reject) => {
    sink = pack.entry(header, (error) => (error ? reject(error) : resolve()));
  });
  for await (const chunk of createReadStream(hostPath)) {
    if (!sink.write(chunk as Buffer)) await new Promise<void>((resolve) => sink.once('drain', () => resolve()));
  }
  (sink as unknown as { end(): void }).end();
  await finished;
}

/** Linux's encoding of a device number (glibc's gnu_dev_major/minor). */
function splitDevice(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return { major: Number(major), minor: Number(minor) };
}
