/**
 * The sandbox ("pause") image, built locally because these machines cannot pull
 * registry.k8s.io/pause: static busybox plus a shell that waits until TERM/INT.
 * It is written as an OCI archive and imported into containerd's k8s.io
 * namespace with `ctr images import` when CRI does not know it yet.
 *
 * Also exports writeBusyboxImageArchive(), the same tiny image with any command
 * and name (tests use it to get a real image without a registry).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import tar from 'tar-stream';
import type { CriClient } from './cri/client.js';

const execFileAsync = promisify(execFile);

/** Name of the sandbox image (containerd's `sandbox_image`). */
export const PAUSE_IMAGE = 'pilote.local/pause:1.0';

/** Where the static busybox comes from (Debian's busybox-static). */
export const BUSYBOX_PATH = '/usr/bin/busybox';

/** busybox applets linked in /bin of the images built here. */
const APPLETS = ['sh', 'ls', 'cat', 'echo', 'sleep', 'env', 'id', 'ps', 'kill', 'wget', 'httpd', 'nc', 'mkdir', 'rm', 'touch', 'date', 'hostname', 'ip', 'ping', 'grep', 'head', 'tail', 'true', 'false', 'test', 'printf', 'whoami', 'dd', 'df', 'mount', 'cp', 'mv', 'ln', 'chmod', 'stat', 'wc', 'sed', 'tr', 'tee', 'nslookup', 'ifconfig', 'top', 'du', 'find', 'xargs', 'yes', 'seq', 'uname', 'tar'];

/** Exits cleanly on TERM/INT, otherwise sleeps forever: what a pause container does. */
const PAUSE_SCRIPT = "trap 'exit 0' TERM INT; while true; do sleep 86400 & wait $!; done";

function sha256(data: Buffer | string): string {
  return 'sha256:' + createHash('sha256').update(data).digest('hex');
}

/** Builds an uncompressed, reproducible layer tar (fixed mtimes) with busybox and its applets. */
async function busyboxLayer(extraFiles: Record<string, string> = {}): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (chunk: unknown) => {
    chunks.push(chunk as Buffer);
  });
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  const mtime = new Date(0);
  const dir = (name: string, mode = 0o755) => pack.entry({ name, type: 'directory', mode, mtime });
  for (const d of ['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/', 'root/', 'var/', 'var/www/']) dir(d, d === 'tmp/' ? 0o1777 : 0o755);
  pack.entry({ name: 'bin/busybox', mode: 0o755, mtime }, readFileSync(BUSYBOX_PATH));
  for (const applet of APPLETS) pack.entry({ name: `bin/${applet}`, type: 'symlink', linkname: 'busybox', mode: 0o777, mtime });
  pack.entry({ name: 'etc/passwd', mode: 0o644, mtime }, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  pack.entry({ name: 'etc/group', mode: 0o644, mtime }, 'root:x:0:\nnogroup:x:65534:\n');
  for (const [name, content] of Object.entries(extraFiles)) pack.entry({ name: name.replace(/^\/+/, ''), mode: 0o644, mtime }, content);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Writes the busybox layer (uncompressed tar: /bin/busybox, applet links, /etc/passwd) to `outPath`. */
export async function writeBusyboxLayerTar(outPath: string, extraFiles: Record<string, string> = {}): Promise<void> {
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, await busyboxLayer(extraFiles));
}

/** What the busybox image runs and is called. */
export interface BusyboxImageOptions {
  /** Full image name, e.g. `docker.io/library/busybox:latest`. */
  name: string;
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  env?: string[];
  workingDir?: string;
  /** Extra files (path → content) added to the layer. */
  files?: Record<string, string>;
}

/**
 * Writes an OCI image archive (oci-layout, index.json, blobs/) of a busybox image
 * to `outPath`, named through the `io.containerd.image.name` and
 * `org.opencontainers.image.ref.name` annotations. Returns the manifest digest.
 */
export async function writeBusyboxImageArchive(outPath: string, options: BusyboxImageOptions): Promise<string> {
  const layer = await busyboxLayer(options.files);
  const layerDigest = sha256(layer);
  const configJson = Buffer.from(JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: options.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(options.entrypoint ? { Entrypoint: options.entrypoint } : {}),
      Cmd: options.cmd ?? ['sh'],
      ...(options.user ? { User: options.user } : {}),
      WorkingDir: options.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [layerDigest] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'pilote busybox image' }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(configJson), size: configJson.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
  }));
  const manifestDigest = sha256(manifest);
  const tag = options.name.includes('@') ? '' : options.name.slice(options.name.lastIndexOf(':') + 1);
  const index = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: manifestDigest,
      size: manifest.length,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': options.name, 'org.opencontainers.image.ref.name': tag },
    }],
  }));

  mkdirSync(dirname(outPath), { recursive: true });
  const pack = tar.pack();
  const mtime = new Date(0);
  pack.entry({ name: 'oci-layout', mode: 0o644, mtime }, '{"imageLayoutVersion":"1.0.0"}');
  pack.entry({ name: 'index.json', mode: 0o644, mtime }, index);
  pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755, mtime });
  pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755, mtime });
  for (const blob of [layer, configJson, manifest]) pack.entry({ name: `blobs/sha256/${sha256(blob).slice(7)}`, mode: 0o644, mtime }, blob);
  pack.finalize();
  await pipeline(pack, createWriteStream(outPath));
  return manifestDigest;
}

/** Imports an OCI or docker archive into containerd's k8s.io namespace (what CRI sees). */
export async function importImageArchive(socket: string, archivePath: string): Promise<void> {
  try {
    await execFileAsync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', archivePath], { timeout: 10 * 60_000 });
  } catch (error) {
    const e = error as Error & { stderr?: string };
    throw new Error(`importing ${archivePath} into containerd failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** Imports the pause image into containerd unless CRI already has it. */
export async function ensurePauseImage(cri: CriClient, socket: string, workDir: string): Promise<void> {
  const status = await cri.imageStatus(PAUSE_IMAGE);
  if (status.image) return;
  mkdirSync(workDir, { recursive: true });
  const archive = join(workDir, 'pause.oci.tar');
  await writeBusyboxImageArchive(archive, { name: PAUSE_IMAGE, entrypoint: ['/bin/sh', '-c', PAUSE_SCRIPT], cmd: [] });
  try {
    await importImageArchive(socket, archive);
  } finally {
    rmSync(archive, { force: true });
  }
}
