/**
 * RUN: executes a command in a real container with runc on the rootfs being
 * built — the host network (docker build's default), /proc, /dev, /sys (ro)
 * and the host's /etc/resolv.conf so that `apt-get` resolves its mirror. The
 * command's output is streamed to the progress output; the runc container is
 * deleted even when the command fails. Mount points runc had to create in the
 * rootfs are removed afterwards so that they do not end up in the layer.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, rmSync, rmdirSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { resolveUser } from './rootfs.js';
import { resolveInRoot } from './rootfs-path.js';

/** What to run and how. */
export interface RunSpec {
  rootfs: string;
  args: string[];
  env: string[];
  cwd: string;
  /** `USER` as written (name or uid, optional `:group`). */
  user?: string;
  /** Receives the command's stdout and stderr as they come. */
  output: (chunk: Buffer) => void;
}

/** Docker's default capability set for containers (and so for RUN). */
const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/** Raised when the command exits with a non-zero code. */
export class RunFailedError extends Error {
  constructor(readonly exitCode: number) {
    super(`exited with code ${exitCode}`);
  }
}

/** Container paths runc mounts on; created in the rootfs when missing. */
const MOUNT_POINTS = ['/proc', '/dev', '/sys', '/etc/resolv.conf'];

/** The OCI runtime config for a build step (runc's `spec` defaults, Docker's capabilities, no network namespace). */
export function buildRuntimeConfig(spec: RunSpec, hostname: string): object {
  const user = resolveUser(spec.rootfs, spec.user);
  const env = [...spec.env];
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${user.home}`);
  if (!env.some((e) => e.startsWith('PATH='))) env.push('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  const caps = user.uid === 0 ? DEFAULT_CAPABILITIES : [];
  const mounts: object[] = [
    { destination: '/proc', type: 'proc', source: 'proc' },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
  ];
  if (existsSync('/etc/resolv.conf')) {
    mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: '/etc/resolv.conf', options: ['rbind', 'ro'] });
  }
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids },
      args: spec.args,
      env,
      cwd: spec.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: false,
    },
    root: { path: spec.rootfs, readonly: false },
    hostname,
    mounts,
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      // No network namespace: RUN shares the host's network, as `docker build` does by default.
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: [
        '/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
        '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** The first missing ancestor-or-self of each mount point: what runc will create. */
function missingMountPaths(rootfs: string): string[] {
  const created: string[] = [];
  for (const point of MOUNT_POINTS) {
    const parts = point.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) {
      const path = '/' + parts.slice(0, i).join('/');
      if (!existsSync(resolveInRoot(rootfs, path, false))) {
        created.push(path);
        break;
      }
    }
  }
  return created;
}

/** The times of the directories that will receive runc's mount points, to put back afterwards. */
function parentTimes(rootfs: string, created: string[]): Map<string, { atime: Date; mtime: Date }> {
  const times = new Map<string, { atime: Date; mtime: Date }>();
  for (const path of created) {
    const host = resolveInRoot(rootfs, posix.dirname(path), false);
    try {
      const st = lstatSync(host);
      times.set(host, { atime: st.atime, mtime: st.mtime });
    } catch {
      // parent missing: nothing to restore
    }
  }
  return times;
}

/** Removes what runc created for its mounts, if the command left it empty. */
function removeMountPaths(rootfs: string, created: string[]): void {
  for (const path of created) {
    // Innermost first: /etc/resolv.conf, then /etc if it is now empty.
    const chain: string[] = [];
    for (const point of MOUNT_POINTS) if (point === path || point.startsWith(path + '/')) chain.push(point);
    const candidates = new Set<string>();
    for (const point of chain) {
      for (let p = point; p.length >= path.length; p = posix.dirname(p)) candidates.add(p);
    }
    for (const candidate of [...candidates].sort((a, b) => b.length - a.length)) {
      const host = resolveInRoot(rootfs, candidate, false);
      try {
        const st = lstatSync(host);
        if (st.isDirectory()) rmdirSync(host);
        else if (st.isFile() && st.size === 0) unlinkSync(host);
      } catch {
        // not empty (the command used it) or already gone: keep it
      }
    }
  }
}

/** Runs the command; resolves on exit code 0, rejects with {@link RunFailedError} otherwise. */
export async function runInContainer(spec: RunSpec): Promise<void> {
  const id = `pilote-build-${randomBytes(6).toString('hex')}`;
  const bundle = mkdtempSync(join(tmpdir(), 'pilote-run-'));
  const created = missingMountPaths(spec.rootfs);
  const times = parentTimes(spec.rootfs, created);
  try {
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(buildRuntimeConfig(spec, 'pilote-build')));
    const code = await new Promise<number>((resolve, reject) => {
      const child = spawn('runc', ['run', '--bundle', bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.on('data', spec.output);
      child.stderr.on('data', spec.output);
      child.on('error', (error) => reject(new Error(`cannot start runc (is it installed?): ${error.message}`)));
      child.on('close', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 : 1)));
    });
    if (code !== 0) throw new RunFailedError(code);
  } finally {
    await new Promise<void>((resolve) => {
      const child = spawn('runc', ['delete', '--force', id], { stdio: 'ignore' });
      child.on('error', () => resolve());
      child.on('close', () => resolve());
    });
    removeMountPaths(spec.rootfs, created);
    for (const [host, t] of times) {
      try {
        utimesSync(host, t.atime, t.mtime);
      } catch {
        // removed by the command: nothing to restore
      }
    }
    rmSync(bundle, { recursive: true, force: true });
  }
}
