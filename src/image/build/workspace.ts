/**
 * The directory a stage's RUN/COPY/ADD steps change, and how each step's
 * layer is taken from it. Two kinds:
 *
 * - overlay (preferred): the parent layers are extracted once into a rootfs
 *   cache in the image store (`build-rootfs/<chain>`, reused by later
 *   builds), mounted read-only under an overlayfs whose upper directory
 *   receives the step's changes; the layer is that upper directory (plus
 *   whiteouts for what vanished), and the next step stacks it as a lower.
 *   No copy, no full walk: a COPY on top of a Debian image costs what it copies.
 * - plain (when overlayfs cannot be mounted): the layers are extracted into
 *   a temporary directory and each layer is the snapshot diff (layer-diff.ts).
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, utimesSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { snapshot, writeDiffTar, writeLayerTar, type DiffSummary, type LayerEntry, type Snapshot } from './layer-diff.js';
import { applyLayer, materialize, type LayerBlob } from './rootfs.js';

/** A layer to build on, with its diff ID (the rootfs cache is keyed by the chain of diff IDs). */
export interface BaseLayer extends LayerBlob {
  diffId: string;
}

/** Where a stage's steps run. */
export interface Workspace {
  /** The rootfs as the container sees it. */
  readonly root: string;
  /** How changes are tracked. */
  readonly kind: 'overlay' | 'plain';
  /** Writes the changes since the last commit as a layer tar, and starts the next step. */
  commit(tarPath: string): Promise<DiffSummary>;
  /** Adds a cached layer on top (a cache hit after the workspace exists). */
  applyCached(layer: LayerBlob): Promise<void>;
  dispose(): void;
}

/** How many extracted base rootfs the store keeps for later builds. */
const ROOTFS_CACHE_KEEP = 6;

/**
 * Opens a workspace on `layers`: overlay if possible (`mode` 'auto'), else
 * or when asked ('plain', also PILOTE_BUILD_OVERLAY=0) a plain copy.
 */
export async function openWorkspace(layers: BaseLayer[], storeRoot: string, tempParent: string, mode: 'auto' | 'plain' = 'auto'): Promise<Workspace> {
  if (mode === 'plain' || process.env.PILOTE_BUILD_OVERLAY === '0') return PlainWorkspace.create(layers, tempParent);
  const temp = mkdtempSync(join(tempParent, 'pilote-ws-'));
  try {
    const base = await cachedRootfs(layers, storeRoot);
    const overlay = new OverlayWorkspace(base, temp);
    if (overlay.tryMount()) return overlay;
    rmSync(temp, { recursive: true, force: true });
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  return PlainWorkspace.create(layers, tempParent);
}

/** The extracted rootfs of a layer chain, from the store's cache (made on first use, atomically). */
export async function cachedRootfs(layers: BaseLayer[], storeRoot: string): Promise<string> {
  const cacheRoot = join(storeRoot, 'build-rootfs');
  mkdirSync(cacheRoot, { recursive: true });
  const chain = createHash('sha256').update(layers.map((l) => l.diffId).join('\n')).digest('hex').slice(0, 32);
  const dir = join(cacheRoot, chain);
  if (existsSync(dir)) {
    const now = new Date();
    utimesSync(dir, now, now); // most recently used
    return dir;
  }
  const partial = join(cacheRoot, `.partial-${chain}-${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(partial, { mode: 0o755 });
  chmodSync(partial, 0o755);
  try {
    await materialize(partial, layers);
    try {
      renameSync(partial, dir);
    } catch (error) {
      if (!existsSync(dir)) throw error; // another build made the same chain meanwhile: use theirs
      rmSync(partial, { recursive: true, force: true });
    }
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    throw error;
  }
  pruneRootfsCache(cacheRoot, dir);
  return dir;
}

/** Keeps the most recently used extracted rootfs; an hour-old one beyond the limit goes. */
function pruneRootfsCache(cacheRoot: string, keep: string): void {
  const entries = readdirSync(cacheRoot)
    .filter((n) => !n.startsWith('.'))
    .map((n) => ({ path: join(cacheRoot, n), mtime: statSync(join(cacheRoot, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const entry of entries.slice(ROOTFS_CACHE_KEEP)) {
    if (entry.path !== keep && Date.now() - entry.mtime > 3600_000) rmSync(entry.path, { recursive: true, force: true });
  }
}

function mount(args: string[]): boolean {
  return spawnSync('mount', args, { stdio: 'ignore' }).status === 0;
}

function umount(path: string): void {
  if (spawnSync('umount', [path], { stdio: 'ignore' }).status !== 0) spawnSync('umount', ['-l', path], { stdio: 'ignore' });
}

function lstatOrUndefined(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

class OverlayWorkspace implements Workspace {
  readonly kind = 'overlay';
  readonly root: string;
  /** Lower directories, topmost first; the base rootfs last. */
  private readonly lowers: string[];
  private upper = '';
  private work = '';
  private step = 0;
  private mounted = false;
  private lowerView?: string;

  constructor(base: string, private readonly temp: string) {
    this.lowers = [base];
    this.root = join(temp, 'merged');
    mkdirSync(this.root, { mode: 0o755 });
  }

  /** Mounts the overlay; false when overlayfs is unavailable. */
  tryMount(): boolean {
    this.step++;
    this.upper = join(this.temp, `upper-${this.step}`);
    this.work = join(this.temp, `work-${this.step}`);
    mkdirSync(this.upper, { mode: 0o755 });
    mkdirSync(this.work);
    // Full copy-ups and no directory redirects, whatever the kernel's defaults: the upper
    // directory must hold every changed file whole for it to be the layer.
    const options = `lowerdir=${this.lowers.join(':')},upperdir=${this.upper},workdir=${this.work},redirect_dir=off,metacopy=off,index=off`;
    this.mounted = mount(['-t', 'overlay', 'overlay', '-o', options, this.root]);
    return this.mounted;
  }

  private remount(): void {
    umount(this.root);
    this.mounted = false;
    rmSync(this.work, { recursive: true, force: true });
    this.lowers.unshift(this.upper);
    if (this.lowerView) {
      umount(this.lowerView);
      this.lowerView = undefined;
    }
    if (!this.tryMount()) throw new Error(`cannot remount the build overlay at ${this.root}`);
  }

  /** The union of the lowers (what the step started from), read-only. */
  private lowerRoot(): string {
    if (this.lowers.length === 1) return this.lowers[0];
    if (!this.lowerView) {
      const view = join(this.temp, `lower-${this.step}`);
      mkdirSync(view);
      if (!mount(['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${this.lowers.join(':')}`, view])) throw new Error('cannot mount the lower view of the build overlay');
      this.lowerView = view;
    }
    return this.lowerView;
  }

  async commit(tarPath: string): Promise<DiffSummary> {
    const lower = this.lowerRoot();
    const entries: LayerEntry[] = [];
    const whiteouts: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(rel ? join(this.upper, rel) : this.upper).sort()) {
        const path = rel ? `${rel}/${name}` : name;
        const st = lstatSync(join(this.upper, path), { bigint: true });
        if (st.isCharacterDevice() && st.rdev === 0n) {
          whiteouts.push(rel ? `${rel}/.wh.${name}` : `.wh.${name}`); // overlayfs's whiteout
          continue;
        }
        const below = lstatOrUndefined(join(lower, path));
        if (st.isDirectory()) {
          const sameDir = below?.isDirectory() && below.mode === st.mode && below.uid === st.uid && below.gid === st.gid && below.mtimeNs === st.mtimeNs;
          // A directory copied up only because something below it changed needs no entry of its own.
          if (!sameDir) entries.push({ path, stat: st });
          if (below?.isDirectory()) {
            // Opaque directories (deleted and recreated): what the lower had and the merged view lacks is gone.
            const here = new Set(readdirSync(join(this.root, path)));
            for (const child of readdirSync(join(lower, path))) {
              if (!here.has(child) && !lstatOrUndefined(join(this.upper, path, child))?.isCharacterDevice()) whiteouts.push(`${path}/.wh.${child}`);
            }
          }
          walk(path);
        } else {
          entries.push({ path, stat: st });
        }
      }
    };
    walk('');
    const summary = await writeLayerTar(tarPath, this.upper, entries, whiteouts);
    this.remount();
    return summary;
  }

  async applyCached(layer: LayerBlob): Promise<void> {
    await applyLayer(this.root, layer);
    this.remount();
  }

  dispose(): void {
    if (this.mounted) umount(this.root);
    if (this.lowerView) umount(this.lowerView);
    this.mounted = false;
    rmSync(this.temp, { recursive: true, force: true });
  }
}

class PlainWorkspace implements Workspace {
  readonly kind = 'plain';
  private snap?: Snapshot;

  private constructor(readonly root: string) {}

  static async create(layers: BaseLayer[], tempParent: string): Promise<PlainWorkspace> {
    const root = mkdtempSync(join(tempParent, 'pilote-rootfs-'));
    chmodSync(root, 0o755); // the container's `/`: mkdtemp's 0700 would lock out non-root users
    try {
      await materialize(root, layers);
    } catch (error) {
      rmSync(root, { recursive: true, force: true });
      throw error;
    }
    const ws = new PlainWorkspace(root);
    ws.snap = snapshot(root);
    return ws;
  }

  async commit(tarPath: string): Promise<DiffSummary> {
    const { summary, after } = await writeDiffTar(this.root, this.snap ?? snapshot(this.root), tarPath);
    this.snap = after;
    return summary;
  }

  async applyCached(layer: LayerBlob): Promise<void> {
    await applyLayer(this.root, layer);
    this.snap = snapshot(this.root);
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
