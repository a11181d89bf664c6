/**
 * Host network settings a node needs: forwarding on, and the cluster and
 * service ranges routed nowhere by default (RUNTIME.md network safety): a
 * packet for a pod or ClusterIP no rule handles is dropped here instead of
 * leaving through the default gateway. The bridge's own /24 route is more
 * specific and still wins for local pods.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AgentConfig } from '../agent/config.js';
import { parseCidr } from '../agent/config.js';
import { cniPaths } from './cni.js';
import { logger } from '../util/log.js';

const log = logger('host-network');

function ip(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** "a.b.c.d/n" normalised to its network address (what `ip route` prints). */
function canonicalCidr(cidr: string): string {
  const { base, prefix } = parseCidr(cidr);
  return `${[24, 16, 8, 0].map((s) => (base >>> s) & 255).join('.')}/${prefix}`;
}

function writeSysctl(path: string, value: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() !== value) writeFileSync(path, value);
  } catch (error) {
    log.warn('could not set sysctl', { path, value, error: (error as Error).message });
  }
}

/** Whether a blackhole/unreachable/prohibit route of the main table already covers `cidr`. */
function coveredByDropRoute(cidr: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  const routes = ip(['-4', 'route', 'show', 'table', 'main']).split('\n');
  return routes.some((line) => {
    const match = /^(blackhole|unreachable|prohibit)\s+(\S+)/.exec(line.trim());
    if (!match) return false;
    const dst = match[2]!.includes('/') ? match[2]! : `${match[2]}/32`;
    const route = parseCidr(dst);
    if (route.prefix > prefix) return false;
    const mask = route.prefix === 0 ? 0 : (0xffffffff << (32 - route.prefix)) >>> 0;
    return ((base & mask) >>> 0) === route.base;
  });
}

/**
 * Adds `blackhole` routes for the cluster and service CIDRs when no route for
 * exactly that prefix exists and no drop route covers it (tests' /24s sit
 * inside the shared 10.42.0.0/16 and 10.43.0.0/16 blackholes), and enables IPv4 forwarding (and bridged traffic
 * through iptables/nftables when br_netfilter is loaded, for hairpin service traffic).
 */
export function ensureLocalRoutes(config: Pick<AgentConfig, 'clusterCidr' | 'serviceCidr'>): void {
  for (const cidr of new Set([canonicalCidr(config.clusterCidr), canonicalCidr(config.serviceCidr)])) {
    // A route for exactly this range, or a drop route around it, already keeps it on the machine.
    if (ip(['-4', 'route', 'show', 'exact', cidr, 'table', 'main']).trim() || coveredByDropRoute(cidr)) continue;
    try {
      ip(['route', 'add', 'blackhole', cidr]);
      log.info('routed range locally (blackhole)', { cidr });
    } catch (error) {
      // Another agent on this machine may have added it meanwhile.
      if (!ip(['-4', 'route', 'show', 'exact', cidr, 'table', 'main']).trim()) {
        throw new Error(`could not add "blackhole ${cidr}" route (needs root): ${(error as Error).message}`);
      }
    }
  }
  writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
  if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) writeSysctl('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
}

/** True when a network interface of that name exists. */
export function linkExists(name: string): boolean {
  return existsSync(`/sys/class/net/${name}`);
}

/**
 * Removes the node's bridge and CNI address state (for `--cleanup` and tests).
 * Call after every pod sandbox is gone. The shared blackhole routes stay.
 */
export function cleanupNodeNetwork(config: Pick<AgentConfig, 'bridgeName' | 'dataDir'>): void {
  if (linkExists(config.bridgeName)) {
    try {
      ip(['link', 'del', config.bridgeName]);
    } catch (error) {
      if (linkExists(config.bridgeName)) log.warn('could not remove bridge', { bridge: config.bridgeName, error: (error as Error).message });
    }
  }
  rmSync(cniPaths(config.dataDir).ipamDir, { recursive: true, force: true });
}
