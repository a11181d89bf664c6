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
 * The device the service range is routed to. A packet sent there is dropped
 * (an ifb device only forwards what tc redirects to it), so nothing for a
 * ClusterIP without a rule leaves the machine — but unlike a blackhole route,
 * the host can still connect() to a ClusterIP: the route lookup at connect
 * succeeds, then the service proxy's output hook rewrites the destination.
 */
export const SERVICE_SINK_DEVICE = 'pilote-svc';

/** Whether a route of the main table for a prefix covering `cidr` goes to `device`. */
function coveredByDeviceRoute(cidr: string, device: string): boolean {
  const { base, prefix } = parseCidr(cidr);
  return ip(['-4', 'route', 'show', 'dev', device, 'table', 'main']).split('\n').some((line) => {
    const dst = line.trim().split(/\s+/)[0];
    if (!dst || dst === 'default') return false;
    const route = parseCidr(dst.includes('/') ? dst : `${dst}/32`);
    const mask = route.prefix === 0 ? 0 : (0xffffffff << (32 - route.prefix)) >>> 0;
    return route.prefix <= prefix && ((base & mask) >>> 0) === route.base;
  });
}

/** Routes the service range to the sink device. */
function ensureServiceSink(serviceCidr: string): void {
  if (!linkExists(SERVICE_SINK_DEVICE)) {
    try {
      ip(['link', 'add', SERVICE_SINK_DEVICE, 'type', 'ifb']);
    } catch (error) {
      // Another agent may have created it meanwhile; without ifb, a blackhole still keeps packets home.
      if (!linkExists(SERVICE_SINK_DEVICE)) {
        log.warn('no ifb device for the service range: ClusterIPs are blackholed, so the host itself cannot reach them', { error: (error as Error).message });
        ensureBlackhole(serviceCidr);
        return;
      }
    }
  }
  ip(['link', 'set', SERVICE_SINK_DEVICE, 'up']);
  if (coveredByDeviceRoute(serviceCidr, SERVICE_SINK_DEVICE)) return;
  // A blackhole for exactly this range (an older Pilote's) is replaced; a wider one stays, this more specific route wins.
  ip(['route', 'replace', serviceCidr, 'dev', SERVICE_SINK_DEVICE]);
  log.info('routed the service range to the sink device', { cidr: serviceCidr, device: SERVICE_SINK_DEVICE });
}

/** Adds a blackhole route for `cidr` unless a route for it or a drop route around it exists. */
function ensureBlackhole(cidr: string): void {
  if (ip(['-4', 'route', 'show', 'exact', cidr, 'table', 'main']).trim() || coveredByDropRoute(cidr)) return;
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

/**
 * Keeps the cluster and service ranges on the machine: the pod range goes to a
 * blackhole (the bridge's own /24 is more specific and wins for local pods),
 * the service range to the sink device (see SERVICE_SINK_DEVICE). Enables IPv4
 * forwarding, and bridged traffic through the netfilter hooks when
 * br_netfilter is loaded (hairpin service traffic).
 */
export function ensureLocalRoutes(config: Pick<AgentConfig, 'clusterCidr' | 'serviceCidr'>): void {
  ensureBlackhole(canonicalCidr(config.clusterCidr));
  ensureServiceSink(canonicalCidr(config.serviceCidr));
  writeSysctl('/proc/sys/net/ipv4/ip_forward', '1');
  if (existsSync('/proc/sys/net/bridge/bridge-nf-call-iptables')) writeSysctl('/proc/sys/net/bridge/bridge-nf-call-iptables', '1');
}

/** True when a network interface of that name exists. */
export function linkExists(name: string): boolean {
  // Asked of the kernel, not /sys: an agent entered into a network namespace with nsenter sees the host's /sys.
  try {
    ip(['link', 'show', 'dev', name]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Removes the node's bridge and CNI address state (for `--cleanup` and tests).
 * Call after every pod sandbox is gone. The range routes stay: other nodes
 * of this machine may share them, and they only ever keep packets home.
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
