/**
 * The node's CNI network: one conflist in `<dataDir>/cni/net.d` that
 * containerd's CRI plugin loads (conf_dir in its config). Pods get a veth on the
 * node's bridge and an address of the node's pod /24 from host-local IPAM;
 * portmap implements hostPort. containerd sets up each pod's loopback itself.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentConfig } from '../agent/config.js';
import { nthAddress } from '../agent/config.js';

/** The CNI network name of a node: unique per bridge so two agents on one machine never share IPAM state. */
export function cniNetworkName(config: Pick<AgentConfig, 'bridgeName'>): string {
  return `pilote-${config.bridgeName}`;
}

/** Directories of the agent's CNI files. */
export function cniPaths(dataDir: string): { confDir: string; ipamDir: string; conflist: string } {
  const confDir = join(dataDir, 'cni', 'net.d');
  return { confDir, ipamDir: join(dataDir, 'cni', 'ipam'), conflist: join(confDir, '10-pilote.conflist') };
}

/** The conflist object for a node: bridge (gateway, masquerade, hairpin) + host-local IPAM + portmap. */
export function cniConflist(config: Pick<AgentConfig, 'bridgeName' | 'podCidr' | 'dataDir'>): Record<string, unknown> {
  if (config.bridgeName.length > 15) throw new Error(`bridge name "${config.bridgeName}" is longer than 15 characters (a Linux limit)`);
  return {
    cniVersion: '1.0.0',
    name: cniNetworkName(config),
    plugins: [
      {
        type: 'bridge',
        bridge: config.bridgeName,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: config.podCidr, gateway: nthAddress(config.podCidr, 1) }]],
          routes: [{ dst: '0.0.0.0/0' }],
          dataDir: cniPaths(config.dataDir).ipamDir,
        },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ],
  };
}

/**
 * Writes the node's conflist (only when it changed, as containerd watches the
 * directory) and removes any other conflist there, since CRI uses the first one.
 */
export function writeCniConfig(config: Pick<AgentConfig, 'bridgeName' | 'podCidr' | 'dataDir'>): string {
  const { confDir, ipamDir, conflist } = cniPaths(config.dataDir);
  mkdirSync(confDir, { recursive: true });
  mkdirSync(ipamDir, { recursive: true });
  const text = JSON.stringify(cniConflist(config), null, 2) + '\n';
  let current = '';
  try {
    current = readFileSync(conflist, 'utf8');
  } catch {
    /* first write */
  }
  if (current !== text) writeFileSync(conflist, text);
  for (const name of readdirSync(confDir)) if (join(confDir, name) !== conflist) rmSync(join(confDir, name), { force: true, recursive: true });
  return conflist;
}
