/** hostPath volumes: the `type` checks of the kubelet's host_path plugin. */
import { promises as fs, constants as fsConstants } from 'node:fs';

/** fs.stat, or undefined when nothing is there. */
export async function statOrUndefined(path: string) {
  try {
    return await fs.stat(path);
  } catch {
    return undefined;
  }
}

/** Checks (and for …OrCreate makes) a hostPath as its `type` asks (host_path.go checkType). */
export async function checkHostPathType(path: string, type: string | undefined): Promise<void> {
  if (!type) return;
  const stat = await statOrUndefined(path);
  const fail = (what: string) => new Error(`hostPath type check failed: ${path} is not a ${what}`);
  switch (type) {
    case 'DirectoryOrCreate':
      if (!stat) {
        await fs.mkdir(path, { recursive: true, mode: 0o755 });
        return;
      }
      if (!stat.isDirectory()) throw fail('directory');
      return;
    case 'Directory':
      if (!stat?.isDirectory()) throw fail('directory');
      return;
    case 'FileOrCreate':
      if (!stat) {
        const handle = await fs.open(path, fsConstants.O_CREAT | fsConstants.O_RDONLY, 0o644);
        await handle.close();
        return;
      }
      if (!stat.isFile()) throw fail('file');
      return;
    case 'File':
      if (!stat?.isFile()) throw fail('file');
      return;
    case 'Socket':
      if (!stat?.isSocket()) throw fail('socket file');
      return;
    case 'CharDevice':
      if (!stat?.isCharacterDevice()) throw fail('character device');
      return;
    case 'BlockDevice':
      if (!stat?.isBlockDevice()) throw fail('block device');
      return;
    default:
      throw new Error(`${type} is an invalid volume type`);
  }
}
