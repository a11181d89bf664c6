/**
 * Materialises an image's root filesystem in a directory: its layers
 * extracted in order with GNU tar (owners, modes, xattrs, devices, hardlinks
 * kept), the OCI whiteouts of each layer (`.wh.<name>` deletes a lower path,
 * `.wh..wh..opq` empties a lower directory) applied before the layer itself.
 * Also resolves USER names against the rootfs' /etc/passwd and /etc/group.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { resolveInRoot } from './rootfs-path.js';

/** A layer blob on disk. */
export interface LayerBlob {
  path: string;
  mediaType: string;
}

/** The GNU tar option that decompresses a layer of this media type. */
export function tarCompressionFlag(mediaType: string): string[] {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return ['-z'];
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return ['--zstd'];
  return [];
}

/** Runs a command, resolving its stdout; rejects with its stderr on failure. */
export function runTool(command: string, args: string[], options: { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new Error(`${command} ${args.join(' ')} failed (exit ${code}): ${err.trim()}`));
    });
    if (options.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the exit code tells what happened
      child.stdin.end(options.input);
    }
  });
}

/** Extracts a layer (or any tar, compression auto-detected when `flags` is empty) into `root`. */
export async function extractTar(root: string, tarPath: string, flags: string[]): Promise<void> {
  await runTool('tar', ['-x', ...flags, '-f', tarPath, '-C', root, '--numeric-owner', '--same-owner', '-p', '--xattrs', '--xattrs-include=*', '--keep-directory-symlink', '--exclude=.wh.*']);
}

/** Applies one layer on top of `root`: whiteouts first, then its contents. */
export async function applyLayer(root: string, layer: LayerBlob): Promise<void> {
  const flags = tarCompressionFlag(layer.mediaType);
  const listing = await runTool('tar', ['-t', ...flags, '-f', layer.path, '--quoting-style=literal']);
  for (const line of listing.split('\n')) {
    const name = line.replace(/\/$/, '');
    const base = posix.basename(name);
    if (!base.startsWith('.wh.')) continue;
    const dir = resolveInRoot(root, posix.dirname(name));
    if (base === '.wh..wh..opq') {
      if (existsSync(dir)) for (const child of readdirSync(dir)) rmSync(join(dir, child), { recursive: true, force: true });
    } else {
      rmSync(join(dir, base.slice(4)), { recursive: true, force: true });
    }
  }
  await extractTar(root, layer.path, flags);
}

/** Extracts `layers` in order into `root` (an empty directory). */
export async function materialize(root: string, layers: LayerBlob[]): Promise<void> {
  for (const layer of layers) await applyLayer(root, layer);
}

/** A user as a process runs it. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

function readTable(root: string, file: string): string[][] {
  const path = resolveInRoot(root, file);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));
}

/**
 * Resolves `USER name[:group]` (names or numbers) against the rootfs, as
 * runc/Docker do: a numeric uid absent from /etc/passwd is allowed, a name
 * is not.
 */
export function resolveUser(root: string, spec: string | undefined): ResolvedUser {
  const [userPart, groupPart] = (spec || '0').split(':', 2);
  const passwd = readTable(root, '/etc/passwd');
  const groups = readTable(root, '/etc/group');
  const entry = passwd.find((p) => p[0] === userPart) ?? (/^\d+$/.test(userPart) ? passwd.find((p) => p[2] === userPart) : undefined);
  let uid: number;
  let gid: number;
  let home = '/';
  let name: string | undefined;
  if (entry) {
    name = entry[0];
    uid = Number(entry[2]);
    gid = Number(entry[3]);
    home = entry[5] || '/';
  } else if (/^\d+$/.test(userPart)) {
    uid = Number(userPart);
    gid = 0;
  } else {
    throw new Error(`unable to find user ${userPart}: no matching entries in passwd file`);
  }
  if (groupPart !== undefined) {
    const group = groups.find((g) => g[0] === groupPart) ?? (/^\d+$/.test(groupPart) ? ['', '', groupPart] : undefined);
    if (!group) throw new Error(`unable to find group ${groupPart}: no matching entries in group file`);
    gid = Number(group[2]);
  }
  const additionalGids =
    groupPart === undefined && name !== undefined
      ? groups.filter((g) => (g[3] ?? '').split(',').includes(name as string)).map((g) => Number(g[2])).filter((g) => g !== gid)
      : [];
  if (uid === 0 && !entry) home = '/root';
  return { uid, gid, additionalGids, home };
}

/** Resolves a `--chown=user:group` against the rootfs (default group: the user's primary group). */
export function resolveChown(root: string, spec: string): { uid: number; gid: number } {
  const [userPart, groupPart] = spec.split(':', 2);
  const user = resolveUser(root, userPart);
  if (groupPart === undefined) return { uid: user.uid, gid: /^\d+$/.test(userPart) ? user.uid : user.gid };
  return { uid: user.uid, gid: resolveUser(root, `${userPart}:${groupPart}`).gid };
}
