/**
 * The few host operations the service proxy needs: running an nft script as
 * one transaction, reading or deleting a table, the sysctl NodePorts on
 * 127.0.0.1 need, and clearing stale UDP conntrack entries (with the
 * `conntrack` tool when it is installed).
 */
import { spawn, execFile } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** An nft failure, with the script's lines nft complained about. */
export class NftError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'NftError';
  }
}

function run(command: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') reject(new Error(`${command} is not installed: install the ${command === 'nft' ? 'nftables' : command} package (apt-get install -y ${command === 'nft' ? 'nftables' : command})`));
      else reject(error);
    });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.on('error', () => {}); // nft may exit before reading everything; its exit status tells why
    child.stdin.end(input ?? '');
  });
}

/** Runs a script with `nft -f -`: the kernel applies all of it or none of it. */
export async function runNftScript(script: string): Promise<void> {
  const result = await run('nft', ['-f', '-'], script);
  if (result.code !== 0) {
    const first = result.stderr.split('\n').slice(0, 6).join('\n');
    throw new NftError(`nft rejected the transaction (nothing was applied): ${first}`, result.stderr);
  }
}

/** True when `table ip <name>` exists. */
export async function tableExists(table: string): Promise<boolean> {
  const result = await run('nft', ['list', 'table', 'ip', table]);
  return result.code === 0;
}

/** Deletes `table ip <name>` if it exists. */
export async function deleteTable(table: string): Promise<void> {
  await runNftScript(`add table ip ${table}\ndelete table ip ${table}\n`);
}

/** Shape of `nft -j list table` output we read. */
export interface NftJsonTable {
  chains: string[];
  rules: number;
  sets: string[];
  /** Map or set name → its elements as nft prints them in JSON. */
  elements: Map<string, unknown[]>;
}

/** The chains, sets and rule count of a table as the kernel holds it (`nft -j list table ip T`). */
export async function listTable(table: string): Promise<NftJsonTable> {
  const result = await run('nft', ['-j', 'list', 'table', 'ip', table]);
  if (result.code !== 0) throw new NftError(`cannot list table ip ${table}: ${result.stderr.trim()}`, result.stderr);
  const parsed = JSON.parse(result.stdout) as { nftables: Record<string, { name?: string; elem?: unknown[] }>[] };
  const out: NftJsonTable = { chains: [], rules: 0, sets: [], elements: new Map() };
  for (const item of parsed.nftables) {
    if (item.chain) out.chains.push(item.chain.name!);
    else if (item.rule) out.rules++;
    else if (item.set || item.map) {
      const set = (item.set ?? item.map)!;
      out.sets.push(set.name!);
      out.elements.set(set.name!, set.elem ?? []);
    }
  }
  return out;
}

const ROUTE_LOCALNET = '/proc/sys/net/ipv4/conf/all/route_localnet';

/**
 * NodePorts on 127.0.0.1 are DNATed to a pod: the kernel must then route a
 * packet whose source is 127.0.0.1 (masqueraded on the way out), which it only
 * does with route_localnet=1 — kube-proxy's iptables mode sets the same.
 * Returns false when it could not (then 127.0.0.1 NodePorts don't work).
 */
export function enableRouteLocalnet(): boolean {
  try {
    if (readFileSync(ROUTE_LOCALNET, 'utf8').trim() !== '1') writeFileSync(ROUTE_LOCALNET, '1');
    return true;
  } catch {
    return false;
  }
}

/** True when IPv4 forwarding is on (needed for pods and test hosts reaching services, hairpin included). */
export function ipForwardingEnabled(): boolean {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/** Path of the `conntrack` tool (package conntrack), if installed. */
export function findConntrack(): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const candidate = join(dir, 'conntrack');
    if (existsSync(candidate)) return candidate;
  }
  for (const candidate of ['/usr/sbin/conntrack', '/sbin/conntrack']) if (existsSync(candidate)) return candidate;
  return undefined;
}

/**
 * Deletes UDP conntrack entries matching a filter, as kube-proxy does when an
 * endpoint goes away (UDP has no end of connection: without this, a client
 * keeps sending to the old endpoint). `conntrack -D` exits 1 when nothing
 * matched, which is fine.
 */
export function deleteUdpConntrack(conntrack: string, filter: { origDst?: string; dstNat?: string; origPortDst?: number }): Promise<void> {
  const args = ['-D', '-p', 'udp'];
  if (filter.origDst) args.push('--orig-dst', filter.origDst);
  if (filter.origPortDst) args.push('--orig-port-dst', String(filter.origPortDst));
  if (filter.dstNat) args.push('--dst-nat', filter.dstNat);
  return new Promise((resolve) => execFile(conntrack, args, () => resolve()));
}
