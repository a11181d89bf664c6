/**
 * `pilote image …`: the local image store as `docker image …` shows it —
 * ls, rm, inspect, save, load, tag, push, pull (and bootstrap, from build.ts).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadImages, saveImages, type ArchiveFormat } from '../image/archive.js';
import { familiarName, familiarRepository, parseReference } from '../image/reference.js';
import { emptyRegistriesConfig, loadRegistriesConfig, type RegistriesConfig } from '../image/registries-config.js';
import { pullImage, pushImage, type RegistryOptions } from '../image/registry.js';
import { ImageStore, imageId } from '../image/store.js';
import type { StoredImage } from '../image/types.js';
import { bootstrapCommand, defaultImageStoreDir } from './build.js';

/** Help text of `pilote image`. */
export const IMAGE_USAGE = `Usage: pilote image <command> [options]

Manages Pilote's image store (the OCI layout the node runs images from).

Commands:
  ls                          list images (REPOSITORY TAG IMAGE ID CREATED SIZE)
  rm [-f] IMAGE...            remove names; an image goes with its last name (by ID: all names, needs -f if several)
  prune                       remove dangling (<none>) images and their unused layers
  inspect IMAGE...            print the images' config and manifest as JSON
  save [-o FILE] [--format docker|oci] IMAGE...
                              write images to a tar (docker-archive by default; stdout without -o)
  load -i FILE                load images from a docker-archive or OCI tar (optionally gzipped)
  tag SOURCE TARGET           give an image another name
  push IMAGE [DESTINATION]    upload to a registry (e.g. localhost:5000/app:1)
  pull IMAGE                  download from a registry (through mirrors in registries.yaml)
  bootstrap debian:SUITE      make a Debian base image with debootstrap

Options:
  --image-store DIR           the image store (default: $PILOTE_DATA_DIR/images, else ~/.pilote/images)
  --registries FILE           registry mirrors and credentials, as k3s' registries.yaml
                              (default: DATA_DIR/registries.yaml when it exists)
  --insecure-registry HOST    reach HOST over plain HTTP (loopback registries always are; repeatable)
  -q, --quiet                 ls: only IDs; pull/push: no progress
  -h, --help                  show this help
`;

/** `pilote image <command> …` */
export async function imageCommand(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === 'bootstrap') return bootstrapCommand(rest);
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(IMAGE_USAGE);
    return;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      'image-store': { type: 'string' },
      registries: { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      output: { type: 'string', short: 'o' },
      input: { type: 'string', short: 'i' },
      format: { type: 'string' },
      force: { type: 'boolean', short: 'f' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(IMAGE_USAGE);
    return;
  }
  // Opened on first use, so a mistyped command does not create a store.
  let opened: ImageStore | undefined;
  const openStore = () => (opened ??= ImageStore.open(defaultImageStoreDir(values['image-store'])));
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const need = (count: number, what: string) => {
    if (positionals.length < count) throw new Error(`pilote image ${command} needs ${what}\n\n${IMAGE_USAGE}`);
  };
  const registryOptions = (): RegistryOptions => ({
    registries: registriesConfig(values.registries),
    insecureRegistries: values['insecure-registry'] ?? [],
    progress: values.quiet ? undefined : out,
  });

  switch (command) {
    case 'ls':
    case 'list':
      return listImages(await openStore().list(), values.quiet ?? false, out);
    case 'rm':
    case 'remove':
      need(1, 'at least one IMAGE');
      for (const ref of positionals) {
        const result = await openStore().remove(ref, { force: values.force ?? false });
        for (const name of result.untagged) out(`Untagged: ${familiarName(name)}`);
        if (result.deleted) out(`Deleted: ${result.deleted}`);
      }
      return;
    case 'prune': {
      const removed = await openStore().prune();
      for (const digest of removed) out(`Deleted: ${digest}`);
      out(`Removed ${removed.length} dangling image${removed.length === 1 ? '' : 's'}`);
      return;
    }
    case 'inspect': {
      need(1, 'at least one IMAGE');
      const images = [];
      for (const ref of positionals) images.push(inspectView(await openStore().get(ref)));
      out(JSON.stringify(images, null, 4));
      return;
    }
    case 'save': {
      need(1, 'at least one IMAGE');
      const format = (values.format ?? 'docker') as ArchiveFormat;
      if (format !== 'docker' && format !== 'oci') throw new Error(`--format must be docker or oci, not "${values.format}"`);
      if (!values.output && process.stdout.isTTY) throw new Error('refusing to write an archive to a terminal: use -o FILE or redirect stdout');
      await saveImages(openStore(), positionals, values.output ? resolve(values.output) : process.stdout, format);
      return;
    }
    case 'load': {
      if (!values.input) throw new Error(`pilote image load needs -i FILE (a docker-archive or OCI tar)\n\n${IMAGE_USAGE}`);
      const images = await loadImages(openStore(), resolve(values.input));
      for (const image of images) {
        if (image.names.length === 0) out(`Loaded image ID: ${imageId(image)}`);
        for (const name of image.names) out(`Loaded image: ${familiarName(name)}`);
      }
      return;
    }
    case 'tag':
      if (positionals.length !== 2) throw new Error(`pilote image tag needs SOURCE and TARGET, e.g. pilote image tag app:1 localhost:5000/app:1`);
      await openStore().tag(positionals[0]!, positionals[1]!);
      return;
    case 'push':
      need(1, 'an IMAGE (e.g. localhost:5000/app:1)');
      await pushImage(openStore(), positionals[0]!, positionals[1], registryOptions());
      return;
    case 'pull': {
      need(1, 'an IMAGE (e.g. nginx:1.19)');
      const image = await pullImage(openStore(), positionals[0]!, registryOptions());
      if (values.quiet) out(image.names[0] ?? image.digest);
      return;
    }
    default:
      throw new Error(`unknown image command "${command}"\n\n${IMAGE_USAGE}`);
  }
}

/** registries.yaml from the flag, else DATA_DIR/registries.yaml when it exists, else none. */
function registriesConfig(flag: string | undefined): RegistriesConfig {
  if (flag) return loadRegistriesConfig(resolve(flag));
  const fallback = join(process.env.PILOTE_DATA_DIR ?? join(homedir(), '.pilote'), 'registries.yaml');
  return existsSync(fallback) ? loadRegistriesConfig(fallback) : emptyRegistriesConfig();
}

function listImages(images: StoredImage[], quiet: boolean, out: (line: string) => void): void {
  const rows: string[][] = [];
  const sorted = [...images].sort((a, b) => (b.config.created ?? '').localeCompare(a.config.created ?? ''));
  for (const image of sorted) {
    const id = imageId(image).slice(7, 19);
    if (quiet) {
      if (!rows.some((r) => r[2] === id)) rows.push(['', '', id]);
      continue;
    }
    const created = image.config.created ? timeAgo(new Date(image.config.created)) : 'N/A';
    const size = formatSize(image.size);
    if (image.names.length === 0) rows.push(['<none>', '<none>', id, created, size]);
    for (const name of image.names) {
      const ref = parseReference(name);
      rows.push([familiarRepository(ref), ref.tag ?? '<none>', id, created, size]);
    }
  }
  if (quiet) {
    for (const row of rows) out(row[2]!);
    return;
  }
  const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('').trimEnd();
  out(line(header));
  for (const row of rows) out(line(row));
}

/** What `docker image inspect` shows, from our store's data. */
function inspectView(image: StoredImage): Record<string, unknown> {
  return {
    Id: imageId(image),
    RepoTags: image.names.map(familiarName),
    RepoDigests: image.names.map((n) => `${familiarRepository(parseReference(n))}@${image.digest}`),
    Created: image.config.created,
    Author: image.config.author ?? '',
    Architecture: image.config.architecture,
    Os: image.config.os,
    Config: image.config.config,
    RootFS: { Type: image.config.rootfs.type, Layers: image.config.rootfs.diff_ids },
    Size: image.size,
    Manifest: { Digest: image.digest, MediaType: image.manifest.mediaType, Layers: image.manifest.layers },
    History: image.config.history ?? [],
  };
}

/** `docker images` style (go-units HumanDuration): "About an hour ago", "3 days ago". */
export function timeAgo(date: Date, now = Date.now()): string {
  const seconds = Math.round((now - date.getTime()) / 1000);
  if (Number.isNaN(seconds)) return 'N/A';
  const minutes = Math.floor(seconds / 60);
  const hours = Math.floor(seconds / 3600);
  let text: string;
  if (seconds < 1) text = 'Less than a second';
  else if (seconds === 1) text = '1 second';
  else if (seconds < 60) text = `${seconds} seconds`;
  else if (minutes === 1) text = 'About a minute';
  else if (minutes < 60) text = `${minutes} minutes`;
  else if (hours === 1) text = 'About an hour';
  else if (hours < 48) text = `${hours} hours`;
  else if (hours < 24 * 7 * 2) text = `${Math.floor(hours / 24)} days`;
  else if (hours < 24 * 30 * 2) text = `${Math.floor(hours / 24 / 7)} weeks`;
  else if (hours < 24 * 365 * 2) text = `${Math.floor(hours / 24 / 30)} months`;
  else text = `${Math.floor(hours / 24 / 365)} years`;
  return `${text} ago`;
}

/** Decimal units, as docker prints sizes (5.6MB). */
export function formatSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : value.toPrecision(3).replace(/\.?0+$/, '')}${units[unit]}`;
}
