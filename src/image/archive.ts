/**
 * Image archives: `pilote image save` / `load`.
 * - docker-archive, as `docker save` writes it: manifest.json (Config, RepoTags,
 *   Layers), repositories, `<id>.json` configs and uncompressed `<diffId>/layer.tar`;
 * - OCI archive: an OCI image layout in a tar ({@link ImageStore.exportOciArchive}).
 * `load` reads both (layers plain or gzip; the archive itself may be gzipped) and
 * names images from RepoTags or the index annotations.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join, normalize, posix } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { familiarName } from './reference.js';
import { addBuffer, addDirectory, addFile, digestHex, imageId, MediaTypes, REF_NAME_ANNOTATION, CONTAINERD_NAME_ANNOTATION, writeTarTo, type ImageStore } from './store.js';
import type { Descriptor, ImageConfigFile, ImageManifest, LayerInfo, StoredImage } from './types.js';

/** Archive formats of `save`. */
export type ArchiveFormat = 'docker' | 'oci';

/** One entry of a docker-archive manifest.json. */
interface DockerArchiveEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

/** Writes `refs` as one archive to `out` (a file path, written atomically, or a stream). */
export async function saveImages(store: ImageStore, refs: string[], out: NodeJS.WritableStream | string, format: ArchiveFormat = 'docker'): Promise<void> {
  if (refs.length === 0) throw new Error('name at least one image to save');
  if (format === 'oci') return store.exportOciArchive(refs, out);
  return saveDockerArchive(store, refs, out);
}

/** docker-archive format (what `docker save` writes and `docker load`, `ctr import`, skopeo read). */
export async function saveDockerArchive(store: ImageStore, refs: string[], out: NodeJS.WritableStream | string): Promise<void> {
  const images: { image: StoredImage; tags: string[] }[] = [];
  for (const ref of refs) {
    const image = await store.get(ref);
    const existing = images.find((i) => i.image.digest === image.digest);
    const tags = tagsForRef(ref, image);
    if (existing) existing.tags.push(...tags.filter((t) => !existing.tags.includes(t)));
    else images.push({ image, tags });
  }
  const manifest: DockerArchiveEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  await writeTarTo(out, async (pack) => {
    const written = new Set<string>();
    for (const { image, tags } of images) {
      const idHex = digestHex(imageId(image));
      const configName = `${idHex}.json`;
      const layerNames: string[] = [];
      if (!written.has(configName)) {
        await addFile(pack, configName, store.blobPath(image.manifest.config.digest), image.manifest.config.size);
        written.add(configName);
      }
      for (const [i, layer] of image.manifest.layers.entries()) {
        const diffId = image.config.rootfs.diff_ids[i];
        if (diffId === undefined) throw new Error(`image ${image.digest} has fewer diff_ids than layers; it is corrupt`);
        const dir = digestHex(diffId);
        const name = `${dir}/layer.tar`;
        layerNames.push(name);
        if (written.has(name)) continue;
        await addDirectory(pack, `${dir}/`);
        await addUncompressedLayer(store, pack, name, layer);
        written.add(name);
      }
      manifest.push({ Config: configName, RepoTags: tags.length > 0 ? tags : null, Layers: layerNames });
      for (const tag of tags) {
        const colon = tag.lastIndexOf(':');
        (repositories[tag.slice(0, colon)] ??= {})[tag.slice(colon + 1)] = idHex;
      }
    }
    await addBuffer(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)));
    await addBuffer(pack, 'repositories', Buffer.from(JSON.stringify(repositories)));
  });
}

/** Tags (familiar form, as docker writes RepoTags) to save an image under. */
function tagsForRef(ref: string, image: StoredImage): string[] {
  const names = image.names.map((n) => familiarName(n));
  try {
    const wanted = familiarName(ref);
    if (names.includes(wanted)) return [wanted];
  } catch {
    /* an ID: save under all names */
  }
  return names;
}

/** Adds a layer uncompressed: its size must be in the tar header, so gzip layers are inflated to a temp file first. */
async function addUncompressedLayer(store: ImageStore, pack: tar.Pack, name: string, layer: Descriptor): Promise<void> {
  const blob = store.blobPath(layer.digest);
  if (!(await isGzip(blob))) return addFile(pack, name, blob, layer.size);
  const temp = store.ingestPath();
  try {
    await pipeline(createReadStream(blob), createGunzip(), createWriteStream(temp));
    await addFile(pack, name, temp, statSync(temp).size);
  } finally {
    rmSync(temp, { force: true });
  }
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

/**
 * Loads every image of a docker-archive or OCI archive file (optionally gzipped)
 * into the store. Images keep the names the archive gives them (RepoTags, or
 * the index annotations when they hold a full name; otherwise they are unnamed).
 */
export async function loadImages(store: ImageStore, archivePath: string): Promise<StoredImage[]> {
  if (!existsSync(archivePath)) throw new Error(`archive ${archivePath} does not exist`);
  const dir = store.ingestPath();
  mkdirSync(dir);
  try {
    const links = await extractArchive(archivePath, dir);
    const resolvePath = (p: string) => resolveInArchive(dir, p, links);
    if (existsSync(join(dir, 'index.json')) && existsSync(join(dir, 'oci-layout'))) return await loadOciLayout(store, resolvePath);
    if (existsSync(join(dir, 'manifest.json'))) return await loadDockerArchive(store, resolvePath);
    throw new Error(`${archivePath} is neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Extracts regular files into `dir`; returns the symlinks (docker save links repeated layers) to resolve by hand. */
async function extractArchive(archivePath: string, dir: string): Promise<Map<string, string>> {
  const links = new Map<string, string>();
  const extract = tar.extract();
  const source = (await isGzip(archivePath)) ? createReadStream(archivePath).pipe(createGunzip()) : createReadStream(archivePath);
  const done = pipeline(source, extract);
  for await (const entry of extract) {
    const name = safeEntryName(entry.header.name);
    if (name !== undefined && entry.header.type === 'file') {
      const target = join(dir, name);
      mkdirSync(dirname(target), { recursive: true });
      await pipeline(entry as unknown as Readable, createWriteStream(target));
      continue;
    }
    if (name !== undefined && (entry.header.type === 'symlink' || entry.header.type === 'link') && entry.header.linkname) {
      const linked = entry.header.type === 'symlink' ? posix.join(posix.dirname(name), entry.header.linkname) : entry.header.linkname;
      const safe = safeEntryName(linked);
      if (safe !== undefined) links.set(name, safe);
    }
    entry.resume();
  }
  await done;
  return links;
}

/** A tar entry name made relative and safe, or undefined for names leaving the archive. */
function safeEntryName(name: string): string | undefined {
  const clean = posix.normalize(name.replace(/^\/+/, '')).replace(/\/+$/, '');
  if (clean === '' || clean === '.' || clean.startsWith('../') || clean === '..') return undefined;
  return clean;
}

function resolveInArchive(dir: string, path: string, links: Map<string, string>): string {
  let name = safeEntryName(path);
  for (let hops = 0; name !== undefined && links.has(name) && hops < 16; hops++) name = links.get(name);
  if (name === undefined) throw new Error(`archive path "${path}" leaves the archive`);
  const full = normalize(join(dir, name));
  if (!existsSync(full)) throw new Error(`the archive lacks ${path}, which its manifest lists; it is truncated or corrupt`);
  return full;
}

async function loadDockerArchive(store: ImageStore, resolvePath: (p: string) => string): Promise<StoredImage[]> {
  const entries = JSON.parse(readFileSync(resolvePath('manifest.json'), 'utf8')) as DockerArchiveEntry[];
  const images: StoredImage[] = [];
  for (const entry of entries) {
    const config = JSON.parse(readFileSync(resolvePath(entry.Config), 'utf8')) as ImageConfigFile;
    const layers: LayerInfo[] = [];
    for (const [i, layerPath] of entry.Layers.entries()) {
      const file = resolvePath(layerPath);
      const layer = (await isGzip(file)) ? await store.addLayerBlob(file, MediaTypes.ociLayerGzip) : await store.addLayerFromTar(file);
      const expected = config.rootfs.diff_ids[i];
      if (layer.diffId !== expected) {
        throw new Error(`layer ${layerPath} has diffId ${layer.diffId} but the image config says ${expected}: the archive is corrupt`);
      }
      layers.push(layer);
    }
    // Keep the config bytes as they are so the image ID stays what `docker save` had.
    const configDescriptor = await store.putBlob(readFileSync(resolvePath(entry.Config)), MediaTypes.ociConfig);
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: MediaTypes.ociManifest, config: configDescriptor, layers: layers.map((l) => l.descriptor) };
    images.push(await store.writeManifest(Buffer.from(JSON.stringify(manifest)), entry.RepoTags ?? []));
  }
  return images;
}

async function loadOciLayout(store: ImageStore, resolvePath: (p: string) => string): Promise<StoredImage[]> {
  const index = JSON.parse(readFileSync(resolvePath('index.json'), 'utf8')) as { manifests?: Descriptor[] };
  const blobFile = (digest: string) => resolvePath(`blobs/sha256/${digestHex(digest)}`);
  const images: StoredImage[] = [];
  for (const entry of index.manifests ?? []) {
    let descriptor = entry;
    if (descriptor.mediaType === MediaTypes.ociIndex || descriptor.mediaType === MediaTypes.dockerManifestList) {
      const nested = JSON.parse(readFileSync(blobFile(descriptor.digest), 'utf8')) as { manifests: (Descriptor & { platform?: { os: string; architecture: string } })[] };
      const chosen = nested.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === hostArchitecture()) ?? nested.manifests[0];
      if (!chosen) continue;
      descriptor = { ...chosen, annotations: entry.annotations };
    }
    const manifestBytes = readFileSync(blobFile(descriptor.digest));
    const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
    for (const blob of [manifest.config, ...manifest.layers]) {
      await store.putBlobStream(createReadStream(blobFile(blob.digest)), blob.mediaType, { digest: blob.digest, size: blob.size });
    }
    await store.putBlobStream(streamOf(manifestBytes), descriptor.mediaType, { digest: descriptor.digest });
    const name = entry.annotations?.[CONTAINERD_NAME_ANNOTATION] ?? entry.annotations?.[REF_NAME_ANNOTATION];
    images.push(await store.writeManifest(manifestBytes, name !== undefined && isFullName(name) ? [name] : []));
  }
  return images;
}

/** ref.name in other tools' OCI archives is often a bare tag ("latest"): not a name we can use. */
function isFullName(name: string): boolean {
  return /[/:]/.test(name);
}

function streamOf(data: Buffer): Readable {
  const stream = new PassThrough();
  stream.end(data);
  return stream;
}

/** The OCI architecture name of this machine (`amd64`, `arm64`, …). */
export function hostArchitecture(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[process.arch] ?? process.arch;
}
