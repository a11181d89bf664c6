/**
 * Test hosts in network namespaces: a netns joined to this machine by a veth
 * pair, so a test can run a real server (busybox httpd, nc) at an address that
 * only exists on this machine — the network-safety rule of RUNTIME.md: traffic
 * only to loopback or to namespaces the project created.
 *
 *   const subnet = await freeSubnet();                     // e.g. { hostIp: '10.200.37.1', nsIp: '10.200.37.2', prefix: 24 }
 *   const host = await createTestHost(uniqueName('be'), subnet);
 *   try {
 *     const server = await startHttpBackend(host, { port: 8080, body: 'backend-a' });
 *     // … reach http://10.200.37.2:8080/ from the machine …
 *   } finally {
 *     await host.destroy();                                // kills what it spawned, deletes netns and links
 *   }
 *
 * Inside the namespace: `eth0` with nsIp/prefix and a default route via the
 * host side (hostIp), so traffic to service IPs goes through this machine's
 * netfilter (what a pod does through its CNI bridge). Names are at most 15
 * characters (the kernel's limit for links); pick unique ones with uniqueName
 * and a unique subnet with freeSubnet, since tests run side by side.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of a command. */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; never throws on a non-zero exit (check `code`). Killed after timeoutMs. */
export function run(command: string, args: string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as NodeJS.ErrnoException).code === 'number' ? Number((error as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr: stderr || (error && !stderr ? error.message : stderr) });
    });
  });
}

async function must(command: string, args: string[]): Promise<string> {
  const result = await run(command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** A unique name of at most `length` characters (default 11, leaving room for a one-letter suffix under 15). */
export function uniqueName(prefix: string, length = 11): string {
  const random = randomBytes(8).toString('hex');
  return (prefix + random).slice(0, length);
}

/** Addresses of a test host's link. */
export interface TestHostAddresses {
  /** This machine's side of the veth (the namespace's gateway). */
  hostIp: string;
  /** The namespace's address. */
  nsIp: string;
  /** Prefix length of the link's subnet (e.g. 24 or 30). */
  prefix: number;
}

/**
 * A /24 in 10.200.0.0/16 that no route of this machine uses yet (random, so
 * parallel tests rarely meet; the kernel refuses a duplicate address anyway).
 */
export async function freeSubnet(base = '10.200'): Promise<TestHostAddresses & { cidr: string }> {
  const routes = await must('ip', ['-4', 'route', 'show', 'table', 'all']);
  for (let attempt = 0; attempt < 200; attempt++) {
    const third = randomInt(1, 255);
    const cidr = `${base}.${third}.0/24`;
    if (!routes.includes(`${base}.${third}.`)) return { cidr, hostIp: `${base}.${third}.1`, nsIp: `${base}.${third}.2`, prefix: 24 };
  }
  throw new Error(`no free /24 in ${base}.0.0/16`);
}

/** A network namespace joined to this machine by a veth pair. */
export interface TestHost {
  /** Name of the namespace (`ip netns exec NAME …`). */
  name: string;
  /** The namespace's address. */
  ip: string;
  /** This machine's address on the link (the namespace's gateway). */
  hostIp: string;
  /** Name of this machine's side of the veth. */
  hostLink: string;
  /** Runs a command inside the namespace and waits for it. */
  exec(command: string[], timeoutMs?: number): Promise<ExecResult>;
  /** Starts a long-running command inside the namespace; destroy() kills it. */
  spawn(command: string[]): ChildProcess;
  /** Kills what spawn started, deletes the namespace and its links. Safe to call twice. */
  destroy(): Promise<void>;
}

/**
 * Creates netns `name` (at most 14 characters: the host link is `name` + "h")
 * with `eth0` = nsIp/prefix, default route via hostIp on this machine's side.
 */
export async function createTestHost(name: string, addresses: TestHostAddresses): Promise<TestHost> {
  if (name.length > 14) throw new Error(`test host name "${name}" is longer than 14 characters (links are limited to 15)`);
  const { hostIp, nsIp, prefix } = addresses;
  const hostLink = `${name}h`;
  const peer = `${name}n`;
  const children = new Set<ChildProcess>();
  let destroyed = false;
  const destroy = async () => {
    if (destroyed) return;
    destroyed = true;
    await Promise.all(
      [...children].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGKILL');
          }),
      ),
    );
    // Deleting the namespace deletes its end of the veth, which deletes ours; the link delete covers a half-made setup.
    await run('ip', ['netns', 'del', name]);
    await run('ip', ['link', 'del', hostLink]);
  };
  try {
    await must('ip', ['netns', 'add', name]);
    await must('ip', ['link', 'add', hostLink, 'type', 'veth', 'peer', 'name', peer]);
    await must('ip', ['link', 'set', peer, 'netns', name]);
    await must('ip', ['-n', name, 'link', 'set', peer, 'name', 'eth0']);
    await must('ip', ['-n', name, 'addr', 'add', `${nsIp}/${prefix}`, 'dev', 'eth0']);
    await must('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    await must('ip', ['-n', name, 'link', 'set', 'eth0', 'up']);
    await must('ip', ['addr', 'add', `${hostIp}/${prefix}`, 'dev', hostLink]);
    await must('ip', ['link', 'set', hostLink, 'up']);
    await must('ip', ['-n', name, 'route', 'add', 'default', 'via', hostIp]);
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    name,
    ip: nsIp,
    hostIp,
    hostLink,
    exec: (command, timeoutMs) => run('ip', ['netns', 'exec', name, ...command], timeoutMs),
    spawn(command) {
      const child = spawn('ip', ['netns', 'exec', name, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      child.once('exit', () => children.delete(child));
      return child;
    },
    destroy,
  };
}

/** A busybox httpd in a test host, answering every GET / with `body`. */
export interface HttpBackend {
  url: string;
  process: ChildProcess;
}

/**
 * Starts `busybox httpd -f -p PORT` inside the host, serving `body` as
 * index.html, and waits (deadline 5 s) until it answers from this machine.
 */
export async function startHttpBackend(host: TestHost, options: { port: number; body: string }): Promise<HttpBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'pilote-httpd-'));
  writeFileSync(join(dir, 'index.html'), options.body);
  const child = host.spawn(['busybox', 'httpd', '-f', '-p', String(options.port), '-h', dir]);
  child.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const url = `http://${host.ip}:${options.port}/`;
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      if ((await httpGet(url, 1000)).trim() === options.body) return { url, process: child };
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`busybox httpd in ${host.name} did not answer on ${url}: ${(error as Error).message}`);
    }
    if (child.exitCode !== null) throw new Error(`busybox httpd in ${host.name} exited with ${child.exitCode}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One GET on a fresh connection (no keep-alive, so each request is a new flow through the NAT); rejects on errors or after timeoutMs. */
export function httpGet(url: string, timeoutMs = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * A route for `cidr` to a device that drops everything (an ifb link): packets
 * to an address of the range without a DNAT rule go nowhere — never out of the
 * machine — yet local connect() works, unlike with a blackhole route (which
 * makes connect() fail with EINVAL before the output hook could DNAT).
 */
export async function routeToSink(cidr: string, name = uniqueName('snk', 15)): Promise<{ link: string; destroy(): Promise<void> }> {
  await must('ip', ['link', 'add', name, 'type', 'ifb']);
  try {
    await must('ip', ['link', 'set', name, 'up']);
    await must('ip', ['route', 'add', cidr, 'dev', name]);
  } catch (error) {
    await run('ip', ['link', 'del', name]);
    throw error;
  }
  return { link: name, destroy: async () => void (await run('ip', ['link', 'del', name])) };
}

/**
 * Turns IPv4 forwarding on (test hosts reaching services through this machine,
 * hairpin included, are forwarded traffic). Left on: the CNI bridge plugin
 * turns it on for pods anyway, and switching it off under a parallel test would break it.
 */
export function enableIpForwarding(): void {
  if (readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() !== '1') writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
}
