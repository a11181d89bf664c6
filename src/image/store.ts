/**
 * Pilote's image store: an OCI image layout on disk (oci-layout, index.json,
 * blobs/sha256/…) that `pilote build`, `pilote image …` and the kubelet share.
 *
 * Several processes may use one directory at once, and any of them may crash:
 * - blobs are written to ingest/ and renamed into blobs/ once their digest is
 *   known, so a blob file is always complete;
 * - index.json (the names) is rewritten with temp file + rename under a lock
 *   file (index.json.lock), so readers see the old or the new index, never half;
 * - an image becomes visible only when its name is added to index.json, after
 *   all its blobs exist: a failed build or pull leaves unnamed blobs, which
 *   garbage collection removes;
 * - a process holds a lease (leases/<pid>-….json) on the blobs it wrote but has
 *   not named yet, so a concurrent `image rm` does not collect them.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, createReadStream, createWriteStream, existsSync, fsyncSync, linkSync, mkdirSync, openSync,
  readdirSync, readFileSync, renameSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import { readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGunzip, createGzip } from 'node:zlib';
import tar from 'tar-stream';
import { formatReference, parseReference, type ImageReference } from './reference.js';
import type { Descriptor, ImageConfigFile, ImageManifest, LayerInfo, StoredImage } from './types.js';

/** Media types the store writes and understands. */
export const MediaTypes = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Annotation holding an image's name in an OCI index (the OCI standard one). */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
/** Annotation `ctr images import` reads to name an image. */
export const CONTAINERD_NAME_ANNOTATION = 'io.containerd.image.name';

/** gzip level for layers: fast (hashing + compression of big layers dominates builds); deterministic output. */
const LAYER_GZIP_LEVEL = zlibConstants.Z_BEST_SPEED;
const LOCK_WAIT_MS = 60_000;
/** A lock older than this whose holder still looks alive is considered abandoned (pid reuse). */
const LOCK_STALE_MS = 10 * 60_000;
const INGEST_STALE_MS = 60 * 60_000;
const DIGEST_PATTERN = /^sha256:([a-f0-9]{64})$/;

interface OciIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

/** Thrown when a reference names no image in the store. */
export class ImageNotFoundError extends Error {
  constructor(ref: string) {
    super(`image "${ref}" not found in the image store (see 'pilote image ls'; build it with 'pilote build' or fetch it with 'pilote image pull')`);
    this.name = 'ImageNotFoundError';
  }
}

/** Hex part of a `sha256:` digest; throws on anything else (blob paths are built from it). */
export function digestHex(digest: string): string {
  const match = DIGEST_PATTERN.exec(digest);
  if (!match) throw new Error(`"${digest}" is not a sha256 digest (sha256:<64 hex>)`);
  return match[1]!;
}

/** The image ID Docker shows: the digest of the image's config. */
export function imageId(image: StoredImage): string {
  return image.manifest.config.digest;
}

/** An OCI image layout directory used as an image store. See the module comment for the concurrency rules. */
export class ImageStore {
  /** Absolute path of the layout directory. */
  readonly root: string;
  private readonly leaseFile: string;
  private readonly leased = new Set<string>();
  private lockChain: Promise<unknown> = Promise.resolve();

  private constructor(root: string) {
    this.root = root;
    this.leaseFile = join(root, 'leases', `${process.pid}-${randomBytes(6).toString('hex')}.json`);
  }

  /** Opens (and creates if missing) the image store at `dir`. */
  static open(dir: string): ImageStore {
    const root = resolvePath(dir);
    for (const sub of ['blobs/sha256', 'ingest', 'leases']) mkdirSync(join(root, sub), { recursive: true });
    createFileIfMissing(join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    createFileIfMissing(join(root, 'index.json'), JSON.stringify(emptyIndex()));
    return new ImageStore(root);
  }

  /** Path of the blob file for `digest` (which may not exist). */
  blobPath(digest: string): string {
    return join(this.root, 'blobs', 'sha256', digestHex(digest));
  }

  /** Whether the blob is in the store. */
  hasBlob(digest: string): boolean {
    return existsSync(this.blobPath(digest));
  }

  /** Reads a blob whole (manifests, configs). */
  async readBlob(digest: string): Promise<Buffer> {
    return readFile(this.blobPath(digest));
  }

  /**
   * Adds an uncompressed layer tar: one streaming pass computes its diffId
   * (sha256 of the tar), gzips it and hashes the compressed blob.
   */
  async addLayerFromTar(tarPath: string): Promise<LayerInfo> {
    const temp = this.ingestPath();
    const diff = new HashingPassThrough();
    const compressed = new HashingPassThrough();
    try {
      await pipeline(createReadStream(tarPath), diff, createGzip({ level: LAYER_GZIP_LEVEL }), compressed, createWriteStream(temp));
      const digest = compressed.digest();
      await this.commitTemp(temp, digest);
      return { descriptor: { mediaType: MediaTypes.ociLayerGzip, digest, size: compressed.bytes }, diffId: diff.digest() };
    } finally {
      await removeQuietly(temp);
    }
  }

  /**
   * Adds an already-compressed (gzip) or plain tar layer file as is; the diffId
   * is computed by decompressing it in the same pass.
   */
  async addLayerBlob(blobPath: string, mediaType: string): Promise<LayerInfo> {
    const temp = this.ingestPath();
    const blob = new HashingPassThrough();
    const diff = new DiffIdTap();
    try {
      await pipeline(createReadStream(blobPath), blob, diff, createWriteStream(temp));
      const digest = blob.digest();
      const diffId = await diff.result(digest);
      await this.commitTemp(temp, digest);
      return { descriptor: { mediaType, digest, size: blob.bytes }, diffId };
    } finally {
      await removeQuietly(temp);
    }
  }

  /** Stores `data` as a blob (idempotent) and returns its descriptor. */
  async putBlob(data: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(data);
    const temp = this.ingestPath();
    try {
      if (!this.hasBlob(digest)) writeFileDurably(temp, data);
      await this.commitTemp(temp, digest);
    } finally {
      await removeQuietly(temp);
    }
    return { mediaType, digest, size: data.length };
  }

  /**
   * Streams a blob into the store (registry pulls, archive loads). With
   * `expected`, the content must hash to that digest (and size) or nothing is stored.
   */
  async putBlobStream(source: Readable, mediaType: string, expected?: { digest: string; size?: number }): Promise<Descriptor> {
    if (expected) digestHex(expected.digest);
    const temp = this.ingestPath();
    const hash = new HashingPassThrough();
    try {
      await pipeline(source, hash, createWriteStream(temp));
      const digest = hash.digest();
      if (expected && digest !== expected.digest) {
        throw new Error(`blob content does not match its digest: expected ${expected.digest}, got ${digest} (corrupt download or archive; retry)`);
      }
      if (expected?.size !== undefined && hash.bytes !== expected.size) {
        throw new Error(`blob ${digest} has ${hash.bytes} bytes, its descriptor says ${expected.size}`);
      }
      await this.commitTemp(temp, digest);
      return { mediaType, digest, size: hash.bytes };
    } finally {
      await removeQuietly(temp);
    }
  }

  /**
   * Writes an image: its config and manifest blobs, then its names in index.json.
   * All layer blobs must already be in the store. Names move from any image that had them (like `docker tag`).
   */
  async writeImage(config: ImageConfigFile, layers: LayerInfo[], names: string[]): Promise<StoredImage> {
    const diffIds = layers.map((l) => l.diffId);
    if (JSON.stringify(config.rootfs.diff_ids) !== JSON.stringify(diffIds)) {
      throw new Error('image config rootfs.diff_ids do not match the layers given to writeImage');
    }
    const configDescriptor = await this.putBlob(Buffer.from(JSON.stringify(config)), MediaTypes.ociConfig);
    const manifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: configDescriptor,
      layers: layers.map((l) => l.descriptor),
    };
    return this.writeManifest(Buffer.from(JSON.stringify(manifest)), names);
  }

  /**
   * Stores manifest bytes as they are (a pulled manifest keeps its digest) and
   * names them. The config and layer blobs must already be in the store.
   */
  async writeManifest(manifestBytes: Buffer, names: string[]): Promise<StoredImage> {
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    const mediaType = manifest.mediaType ?? MediaTypes.ociManifest;
    if (mediaType !== MediaTypes.ociManifest && mediaType !== MediaTypes.dockerManifest) {
      throw new Error(`cannot store a manifest of type ${mediaType}: only single-platform image manifests`);
    }
    const fullNames = [...new Set(names.map(normalizeTagged))];
    const descriptor = await this.putBlob(manifestBytes, mediaType);
    let all: string[] = fullNames;
    await this.withIndexLock(async () => {
      for (const d of [manifest.config, ...manifest.layers]) {
        if (!this.hasBlob(d.digest)) throw new Error(`blob ${d.digest} of the image is missing from the store; write layers before the image`);
      }
      const index = this.readIndex();
      assignNames(index, descriptor, fullNames);
      all = namesOf(index, descriptor.digest);
      this.writeIndex(index);
      for (const d of [descriptor, manifest.config, ...manifest.layers]) this.leased.delete(d.digest);
      this.writeLease();
    });
    const config = JSON.parse((await this.readBlob(manifest.config.digest)).toString('utf8')) as ImageConfigFile;
    return { names: all, digest: descriptor.digest, manifest, config, size: imageSize(manifest) };
  }

  /**
   * Finds an image by any name form (`nginx`, `nginx:latest`,
   * `docker.io/library/nginx`), by manifest or config digest (`sha256:…`,
   * `name@sha256:…`) or by a unique prefix of its ID. Ambiguous prefixes throw.
   */
  async resolve(ref: string): Promise<StoredImage | undefined> {
    const images = await this.list();
    if (DIGEST_PATTERN.test(ref)) return images.find((i) => i.digest === ref || imageId(i) === ref);
    let parsed: ImageReference | undefined;
    try {
      parsed = parseReference(ref);
    } catch {
      parsed = undefined;
    }
    if (parsed?.digest !== undefined) {
      const digest = parsed.digest;
      return images.find((i) => i.digest === digest || imageId(i) === digest);
    }
    if (parsed) {
      const name = formatReference(parsed);
      const found = images.find((i) => i.names.includes(name));
      if (found) return found;
    }
    const prefix = /^(?:sha256:)?([a-f0-9]{3,63})$/.exec(ref)?.[1];
    if (prefix === undefined) {
      if (!parsed) parseReference(ref); // rethrow the parse error: it says what is wrong
      return undefined;
    }
    const matches = images.filter((i) => digestHex(imageId(i)).startsWith(prefix) || digestHex(i.digest).startsWith(prefix));
    const distinct = new Set(matches.map((i) => i.digest));
    if (distinct.size > 1) throw new Error(`image ID prefix "${prefix}" is ambiguous (${distinct.size} images); give more characters`);
    return matches[0];
  }

  /** Like {@link resolve}, but throws {@link ImageNotFoundError} when nothing matches. */
  async get(ref: string): Promise<StoredImage> {
    const image = await this.resolve(ref);
    if (!image) throw new ImageNotFoundError(ref);
    return image;
  }

  /** Every image in the store (one entry per manifest, with all its names). */
  async list(): Promise<StoredImage[]> {
    const byDigest = new Map<string, string[]>();
    for (const entry of this.readIndex().manifests) {
      if (entry.mediaType !== MediaTypes.ociManifest && entry.mediaType !== MediaTypes.dockerManifest) continue;
      const names = byDigest.get(entry.digest) ?? [];
      const name = entryName(entry);
      if (name !== undefined && !names.includes(name)) names.push(name);
      byDigest.set(entry.digest, names);
    }
    const images: StoredImage[] = [];
    for (const [digest, names] of byDigest) {
      try {
        const manifest = JSON.parse((await this.readBlob(digest)).toString('utf8')) as ImageManifest;
        const config = JSON.parse((await this.readBlob(manifest.config.digest)).toString('utf8')) as ImageConfigFile;
        images.push({ names, digest, manifest, config, size: imageSize(manifest) });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
        // Removed by a concurrent `image rm` between reading the index and the blob: not an image any more.
      }
    }
    return images;
  }

  /** Gives the image `source` resolves to the additional name `target` (moved from any other image). */
  async tag(source: string, target: string): Promise<void> {
    const image = await this.get(source);
    const name = normalizeTagged(target);
    const descriptor: Descriptor = { mediaType: image.manifest.mediaType ?? MediaTypes.ociManifest, digest: image.digest, size: (await stat(this.blobPath(image.digest))).size };
    await this.withIndexLock(async () => {
      if (!this.hasBlob(image.digest)) throw new ImageNotFoundError(source);
      const index = this.readIndex();
      assignNames(index, descriptor, [name]);
      this.writeIndex(index);
    });
  }

  /**
   * Removes a name (`nginx:1.19`) — the image goes when its last name goes — or,
   * by ID/digest, the whole image (with `force` when it has several names, as
   * `docker rmi -f`). Then collects blobs no image references.
   */
  async remove(ref: string, options: { force?: boolean } = {}): Promise<{ untagged: string[]; deleted?: string }> {
    const image = await this.get(ref);
    let byName: string | undefined;
    try {
      const parsed = parseReference(ref);
      if (parsed.digest === undefined) byName = formatReference(parsed);
    } catch {
      byName = undefined;
    }
    if (byName !== undefined && !image.names.includes(byName)) byName = undefined; // matched by ID prefix
    if (byName === undefined && image.names.length > 1 && !options.force) {
      throw new Error(`image ${ref} is referenced by ${image.names.length} names (${image.names.join(', ')}); remove them by name or use --force`);
    }
    const untagged = byName !== undefined ? [byName] : image.names;
    let deleted: string | undefined;
    await this.withIndexLock(async () => {
      const index = this.readIndex();
      index.manifests = index.manifests.filter((e) => {
        if (e.digest !== image.digest) return true;
        const name = entryName(e);
        return byName !== undefined && name !== undefined && name !== byName;
      });
      if (!index.manifests.some((e) => e.digest === image.digest)) deleted = image.digest;
      this.writeIndex(index);
      this.collectGarbageLocked();
    });
    return { untagged, ...(deleted ? { deleted } : {}) };
  }

  /** Removes dangling (unnamed) images and collects their blobs, as `docker image prune`; returns the removed manifest digests. */
  async prune(): Promise<string[]> {
    return this.withIndexLock(async () => {
      const index = this.readIndex();
      const dangling = index.manifests.filter((e) => entryName(e) === undefined).map((e) => e.digest);
      index.manifests = index.manifests.filter((e) => entryName(e) !== undefined);
      this.writeIndex(index);
      this.collectGarbageLocked();
      return dangling;
    });
  }

  /** Removes blobs that no named image references and no live process holds; returns how many. */
  async garbageCollect(): Promise<number> {
    return this.withIndexLock(async () => this.collectGarbageLocked());
  }

  /** Drops this process's lease on unnamed blobs (e.g. after a failed build), so GC may collect them. */
  async releaseLeases(): Promise<void> {
    await this.withIndexLock(async () => {
      this.leased.clear();
      this.writeLease();
    });
  }

  /**
   * Writes an OCI image layout tar of `refs` (to a stream or a file path):
   * index.json names each image with `org.opencontainers.image.ref.name` and
   * `io.containerd.image.name` (the full name), so `ctr -n k8s.io images import`
   * and `skopeo copy oci-archive:…` both accept it. A file is written atomically.
   */
  async exportOciArchive(refs: string[], out: NodeJS.WritableStream | string): Promise<void> {
    const entries: Descriptor[] = [];
    const blobs = new Map<string, number>();
    for (const ref of refs) {
      const image = await this.get(ref);
      const manifestSize = (await stat(this.blobPath(image.digest))).size;
      const descriptor: Descriptor = { mediaType: image.manifest.mediaType ?? MediaTypes.ociManifest, digest: image.digest, size: manifestSize };
      const name = nameForRef(ref, image);
      entries.push(indexEntry(descriptor, name));
      blobs.set(image.digest, manifestSize);
      for (const d of [image.manifest.config, ...image.manifest.layers]) blobs.set(d.digest, d.size);
    }
    const index: OciIndex = { ...emptyIndex(), manifests: entries };
    await writeTarTo(out, async (pack) => {
      await addBuffer(pack, 'oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
      await addBuffer(pack, 'index.json', Buffer.from(JSON.stringify(index)));
      await addDirectory(pack, 'blobs/');
      await addDirectory(pack, 'blobs/sha256/');
      for (const [digest, size] of blobs) await addFile(pack, `blobs/sha256/${digestHex(digest)}`, this.blobPath(digest), size);
    });
  }

  // --- internals -----------------------------------------------------------

  /** A unique temp path in ingest/ (same filesystem as blobs/, so rename is atomic). */
  ingestPath(): string {
    return join(this.root, 'ingest', `${process.pid}-${randomBytes(8).toString('hex')}`);
  }

  /** Moves a complete temp file to its blob path (or keeps the existing blob) and leases it. */
  private async commitTemp(temp: string, digest: string): Promise<void> {
    const target = this.blobPath(digest);
    if (existsSync(temp)) fsyncPath(temp);
    await this.withIndexLock(async () => {
      if (existsSync(target)) {
        const now = new Date();
        utimesSync(target, now, now);
      } else {
        renameSync(temp, target);
        fsyncPath(join(this.root, 'blobs', 'sha256')); // the rename itself survives a power loss
      }
      this.leased.add(digest);
      this.writeLease();
    });
  }

  private readIndex(): OciIndex {
    const index = JSON.parse(readFileSync(join(this.root, 'index.json'), 'utf8')) as OciIndex;
    index.manifests ??= [];
    return index;
  }

  private writeIndex(index: OciIndex): void {
    const temp = this.ingestPath();
    writeFileDurably(temp, JSON.stringify(index));
    renameSync(temp, join(this.root, 'index.json'));
    fsyncPath(this.root);
  }

  private writeLease(): void {
    if (this.leased.size === 0) {
      try {
        unlinkSync(this.leaseFile);
      } catch {
        /* no lease file yet */
      }
      return;
    }
    const temp = this.ingestPath();
    writeFileSync(temp, JSON.stringify({ pid: process.pid, digests: [...this.leased] }));
    renameSync(temp, this.leaseFile);
  }

  /** GC body; the caller holds the index lock. */
  private collectGarbageLocked(): number {
    const keep = new Set<string>();
    const visit = (digest: string) => {
      if (keep.has(digest)) return;
      keep.add(digest);
      let doc: { manifests?: Descriptor[]; config?: Descriptor; layers?: Descriptor[] };
      try {
        doc = JSON.parse(readFileSync(this.blobPath(digest), 'utf8')) as typeof doc;
      } catch {
        return;
      }
      for (const child of doc.manifests ?? []) visit(child.digest);
      if (doc.config) keep.add(doc.config.digest);
      for (const layer of doc.layers ?? []) keep.add(layer.digest);
    };
    for (const entry of this.readIndex().manifests) visit(entry.digest);
    for (const digest of this.liveLeases()) keep.add(digest);

    let removed = 0;
    const blobDir = join(this.root, 'blobs', 'sha256');
    for (const hex of readdirSync(blobDir)) {
      if (keep.has(`sha256:${hex}`)) continue;
      try {
        unlinkSync(join(blobDir, hex));
        removed++;
      } catch {
        /* already gone */
      }
    }
    // Temp files of crashed writers.
    const ingestDir = join(this.root, 'ingest');
    for (const name of readdirSync(ingestDir)) {
      const path = join(ingestDir, name);
      const pid = Number(name.split('-')[0]);
      try {
        if (!processAlive(pid) || Date.now() - statSync(path).mtimeMs > INGEST_STALE_MS) unlinkSync(path);
      } catch {
        /* gone */
      }
    }
    return removed;
  }

  /** Digests leased by live processes; lease files of dead processes are removed. */
  private liveLeases(): string[] {
    const dir = join(this.root, 'leases');
    const digests: string[] = [...this.leased];
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      try {
        const lease = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; digests: string[] };
        if (processAlive(lease.pid)) digests.push(...lease.digests);
        else unlinkSync(path);
      } catch {
        /* unreadable or just removed */
      }
    }
    return digests;
  }

  /**
   * Runs `fn` holding index.json.lock: an O_EXCL lock file with the holder's pid.
   * Calls within one process are also queued in memory so they don't spin on the file.
   */
  private async withIndexLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lockChain.then(() => this.withFileLock(fn));
    this.lockChain = run.catch(() => undefined);
    return run;
  }

  private async withFileLock<T>(fn: () => Promise<T>): Promise<T> {
    const lockPath = join(this.root, 'index.json.lock');
    const deadline = Date.now() + LOCK_WAIT_MS;
    for (let attempt = 0; ; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, `${process.pid} ${Date.now()}`);
        closeSync(fd);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readLockHolder(lockPath);
      if (holder && (!processAlive(holder.pid) || Date.now() - holder.since > LOCK_STALE_MS)) {
        await removeQuietly(lockPath); // the holder crashed while holding the lock
        continue;
      }
      if (Date.now() > deadline) {
        throw new Error(`image store ${this.root} is locked by process ${holder?.pid ?? '?'}; if no pilote process is using it, remove ${lockPath}`);
      }
      // Retry backoff while another process holds the lock (not a wait for a result).
      await new Promise((r) => setTimeout(r, Math.min(50, 1 + attempt) + Math.random() * 5));
    }
    try {
      return await fn();
    } finally {
      unlinkSync(lockPath);
    }
  }
}

// --- helpers ---------------------------------------------------------------

/** `sha256:<hex>` of a buffer. */
export function sha256Digest(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A pass-through stream that hashes (sha256) and counts what flows through it. */
export class HashingPassThrough extends Transform {
  private readonly hash = createHash('sha256');
  /** Bytes seen so far. */
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
  /** `sha256:<hex>` of everything that passed (call once, after the end). */
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * Passes a layer blob through unchanged while computing its diffId: the sha256
 * of the decompressed content when it is gzip, or of the blob itself when it is a plain tar.
 */
class DiffIdTap extends Transform {
  private gunzip?: ReturnType<typeof createGunzip>;
  private readonly hash = createHash('sha256');
  private decided = false;
  private failure?: Error;
  private finished?: Promise<void>;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.decided) {
      this.decided = true;
      if (chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b) {
        const gunzip = createGunzip();
        this.gunzip = gunzip;
        gunzip.on('data', (d: Buffer) => this.hash.update(d));
        this.finished = new Promise<void>((resolve) => {
          gunzip.on('end', resolve);
          gunzip.on('error', (error) => {
            this.failure = error;
            resolve();
          });
        });
      }
    }
    if (!this.gunzip) {
      this.hash.update(chunk);
      callback(null, chunk);
      return;
    }
    if (this.failure || this.gunzip.write(chunk)) {
      callback(null, chunk);
      return;
    }
    // Wait for the decompressor, unless it fails (corrupt gzip): then result() reports it.
    const gunzip = this.gunzip;
    const proceed = () => {
      gunzip.off('drain', proceed);
      gunzip.off('error', proceed);
      callback(null, chunk);
    };
    gunzip.once('drain', proceed);
    gunzip.once('error', proceed);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.failure) this.gunzip?.end();
    callback();
  }

  /** The diffId, once the stream has ended. */
  async result(blobDigest: string): Promise<string> {
    if (!this.gunzip) return `sha256:${this.hash.digest('hex')}`;
    await this.finished;
    if (this.failure) throw new Error(`layer ${blobDigest} is not a valid gzip stream: ${this.failure.message}`);
    return `sha256:${this.hash.digest('hex')}`;
  }
}

function emptyIndex(): OciIndex {
  return { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
}

function indexEntry(descriptor: Descriptor, name?: string): Descriptor {
  const { annotations: _ignored, ...plain } = descriptor;
  return name === undefined ? plain : { ...plain, annotations: { [REF_NAME_ANNOTATION]: name, [CONTAINERD_NAME_ANNOTATION]: name } };
}

/**
 * Points `names` at `descriptor` in the index. An image that loses its last
 * name to this stays as a dangling (<none>) image, as in Docker; an unnamed
 * entry of `descriptor` goes once it has a name.
 */
function assignNames(index: OciIndex, descriptor: Descriptor, names: string[]): void {
  const orphanCandidates = new Map<string, Descriptor>();
  index.manifests = index.manifests.filter((entry) => {
    const name = entryName(entry);
    if (name === undefined) return names.length === 0 || entry.digest !== descriptor.digest;
    if (!names.includes(name)) return true;
    if (entry.digest !== descriptor.digest) orphanCandidates.set(entry.digest, entry);
    return false;
  });
  for (const [digest, entry] of orphanCandidates) {
    if (!index.manifests.some((e) => e.digest === digest)) index.manifests.push(indexEntry(entry));
  }
  if (names.length > 0) index.manifests.push(...names.map((n) => indexEntry(descriptor, n)));
  else if (!index.manifests.some((e) => e.digest === descriptor.digest)) index.manifests.push(indexEntry(descriptor));
}

function namesOf(index: OciIndex, digest: string): string[] {
  return index.manifests.filter((e) => e.digest === digest).map(entryName).filter((n): n is string => n !== undefined);
}

function entryName(entry: Descriptor): string | undefined {
  return entry.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? entry.annotations?.[REF_NAME_ANNOTATION];
}

/** A name as stored: full form with a tag (`latest` if none); digests are not names. */
function normalizeTagged(name: string): string {
  const ref = parseReference(name);
  if (ref.tag === undefined) throw new Error(`"${name}" pins a digest; an image name needs a tag (e.g. ${ref.registry}/${ref.repository}:latest)`);
  return formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag });
}

/** The name to export an image under: the ref itself when it is one of its names, else its first name. */
function nameForRef(ref: string, image: StoredImage): string | undefined {
  try {
    const parsed = parseReference(ref);
    if (parsed.tag !== undefined && parsed.digest === undefined) {
      const full = formatReference(parsed);
      if (image.names.includes(full)) return full;
    }
  } catch {
    /* an ID */
  }
  return image.names[0];
}

function imageSize(manifest: ImageManifest): number {
  return manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0);
}

/** Creates `path` with `content` unless it exists; atomic, so concurrent openers never clobber each other. */
function createFileIfMissing(path: string, content: string): void {
  if (existsSync(path)) return;
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileDurably(temp, content);
  try {
    linkSync(temp, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temp);
  }
}

function writeFileDurably(path: string, data: string | Buffer): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function fsyncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch {
    /* already gone */
  }
}

function readLockHolder(path: string): { pid: number; since: number } | undefined {
  try {
    const [pid, since] = readFileSync(path, 'utf8').split(' ').map(Number);
    if (!pid || !since) return undefined; // being written right now
    return { pid, since };
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// --- tar writing (shared with archive.ts) ----------------------------------

/** Writes a tar built by `fill` to a stream, or atomically to a file path. */
export async function writeTarTo(out: NodeJS.WritableStream | string, fill: (pack: tar.Pack) => Promise<void>): Promise<void> {
  const pack = tar.pack();
  const temp = typeof out === 'string' ? `${resolvePath(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp` : undefined;
  const destination = temp !== undefined ? createWriteStream(temp) : (out as Writable);
  const piping = pipeline(pack, destination, { end: temp !== undefined });
  try {
    await fill(pack);
    pack.finalize();
    await piping;
    if (temp !== undefined) await rename(temp, out as string);
  } catch (error) {
    pack.destroy(error as Error);
    await piping.catch(() => undefined);
    if (temp !== undefined) await removeQuietly(temp);
    throw error;
  }
}

/** Fixed header fields so archives of the same image are byte-identical. */
const ENTRY_DEFAULTS = { mtime: new Date(0), uid: 0, gid: 0 } as const;

/** Adds a buffer as a regular file entry. */
export function addBuffer(pack: tar.Pack, name: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...ENTRY_DEFAULTS, name, size: data.length, mode: 0o644, type: 'file' }, data, (error) => (error ? reject(error) : resolve()));
  });
}

/** Adds a directory entry. */
export function addDirectory(pack: tar.Pack, name: string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ ...ENTRY_DEFAULTS, name, mode: 0o755, type: 'directory' }, (error) => (error ? reject(error) : resolve()));
  });
}

/** Streams a file (of known size) into the tar as `name`. */
export async function addFile(pack: tar.Pack, name: string, path: string, size: number): Promise<void> {
  await addStream(pack, name, createReadStream(path), size);
}

/** Streams `source` (exactly `size` bytes) into the tar as `name`. */
export async function addStream(pack: tar.Pack, name: string, source: Readable, size: number): Promise<void> {
  let entryDone!: Promise<void>;
  const entry = (() => {
    let stream!: ReturnType<tar.Pack['entry']>;
    entryDone = new Promise<void>((resolve, reject) => {
      stream = pack.entry({ ...ENTRY_DEFAULTS, name, size, mode: 0o644, type: 'file' }, (error) => (error ? reject(error) : resolve()));
    });
    return stream;
  })();
  await Promise.all([pipeline(source, entry as unknown as NodeJS.WritableStream), entryDone]);
}
