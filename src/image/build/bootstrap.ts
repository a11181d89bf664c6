/**
 * `pilote image bootstrap debian:<suite>`: a Debian base image without a
 * registry — `debootstrap --variant=minbase` into a temporary directory,
 * tidied as Docker's official debian image is (no apt lists or caches, an
 * empty /dev, a policy-rc.d that keeps package scripts from starting
 * services during builds), stored as a one-layer image named
 * `docker.io/library/debian:<suite>`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { arch, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatReference, parseReference } from '../reference.js';
import type { ImageStore } from '../store.js';
import type { ImageConfigFile, StoredImage } from '../types.js';
import { writeDiffTar } from './layer-diff.js';

/** Options of a bootstrap. */
export interface BootstrapOptions {
  store: ImageStore;
  /** `debian:<suite>` (any spelling of the Docker Hub name). */
  ref: string;
  /** Debian mirror URL (default: the one this machine's apt uses). */
  mirror?: string;
  progress?: (text: string) => void;
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

/** The Debian mirror in this machine's apt sources (deb822 or one-line format), if any. */
export function hostDebianMirror(): string | undefined {
  const files = ['/etc/apt/sources.list'];
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const name of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(name)) files.push(join(dir, name));
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/^\s*URIs:\s*(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1];
    for (const m of text.matchAll(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/gm)) if (/\/debian\/?$/.test(m[1])) return m[1];
  }
  return undefined;
}

/** Runs debootstrap and stores the result as an image. */
export async function bootstrapImage(options: BootstrapOptions): Promise<StoredImage> {
  const progress = options.progress ?? ((text: string) => process.stderr.write(text));
  const ref = parseReference(options.ref);
  if (ref.registry !== 'docker.io' || ref.repository !== 'library/debian' || !ref.tag) {
    throw new Error(`pilote image bootstrap makes Debian images only: give debian:<suite> (e.g. debian:bookworm), not ${options.ref}`);
  }
  const suite = ref.tag === 'latest' ? 'bookworm' : ref.tag;
  const name = formatReference({ ...ref, tag: ref.tag });
  const mirror = options.mirror ?? hostDebianMirror() ?? 'http://deb.debian.org/debian';
  const work = mkdtempSync(join(tmpdir(), 'pilote-bootstrap-'));
  const started = Date.now();
  try {
    const rootfs = join(work, 'rootfs');
    progress(`[1/3] debootstrap --variant=minbase ${suite} (mirror ${mirror})\n`);
    await runStreaming('debootstrap', ['--variant=minbase', suite, rootfs, mirror], (line) => progress(`      ${line}\n`));
    progress(`[2/3] tidying the rootfs (apt lists and caches, /dev, policy-rc.d)\n`);
    tidy(rootfs);
    progress(`[3/3] writing the layer\n`);
    const tarPath = join(work, 'layer.tar');
    const skip = (rel: string) => rel === 'dev' || rel === 'proc' || rel === 'sys';
    await writeDiffTar(rootfs, new Map(), tarPath, skip);
    const layer = await options.store.addLayerFromTar(tarPath);
    const created = new Date().toISOString();
    const config: ImageConfigFile = {
      created,
      architecture: GO_ARCH[arch()] ?? arch(),
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['bash'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `debootstrap --variant=minbase ${suite} ${mirror} # pilote image bootstrap`, comment: 'pilote image bootstrap' }, { created, created_by: 'CMD ["bash"]', empty_layer: true }],
    };
    const image = await options.store.writeImage(config, [layer], [name]);
    progress(`Bootstrapped ${name} (${(layer.descriptor.size / 1024 / 1024).toFixed(1)} MB compressed) in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
    return image;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function tidy(rootfs: string): void {
  const emptyDir = (rel: string) => {
    const dir = join(rootfs, rel);
    if (!existsSync(dir)) return;
    for (const child of readdirSync(dir)) rmSync(join(dir, child), { recursive: true, force: true });
  };
  emptyDir('dev');
  emptyDir('proc');
  emptyDir('sys');
  emptyDir('var/lib/apt/lists');
  mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
  for (const file of readdirSync(join(rootfs, 'var/cache/apt'))) if (file.endsWith('.bin')) rmSync(join(rootfs, 'var/cache/apt', file), { force: true });
  emptyDir('var/cache/apt/archives');
  mkdirSync(join(rootfs, 'var/cache/apt/archives/partial'), { recursive: true });
  rmSync(join(rootfs, 'var/log/bootstrap.log'), { force: true });
  rmSync(join(rootfs, 'debootstrap'), { recursive: true, force: true });
  // The runtime provides these; an image shipping the build machine's would leak them.
  rmSync(join(rootfs, 'etc/resolv.conf'), { force: true });
  writeFileSync(join(rootfs, 'etc/hostname'), '');
  // As Docker's debian image: package scripts must not start services inside a build container.
  writeFileSync(join(rootfs, 'usr/sbin/policy-rc.d'), '#!/bin/sh\n# pilote image bootstrap: no service starts during image builds\nexit 101\n');
  chmodSync(join(rootfs, 'usr/sbin/policy-rc.d'), 0o755);
  // As Docker's debian image: apt keeps no downloaded .debs (smaller layers).
  writeFileSync(
    join(rootfs, 'etc/apt/apt.conf.d/docker-clean'),
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
      'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n' +
      'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n',
  );
}

function runStreaming(command: string, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const handle = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      onLine(line);
    };
    createInterface({ input: child.stdout }).on('line', handle);
    createInterface({ input: child.stderr }).on('line', handle);
    child.on('error', (error) => reject(new Error(`cannot run ${command} (apt-get install ${command}): ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} exited with code ${code}; last output:\n${tail.join('\n')}`));
    });
  });
}
