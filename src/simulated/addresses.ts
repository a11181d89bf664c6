/**
 * Fake addresses of simulated nodes and their pods. Node i owns the i-th
 * block after the base (a /24 while a node holds at most 253 pods:
 * 10.42.i.0/24, spilling into 10.43.… past 256 nodes); the node's InternalIP
 * is the block's .1 and its pods get the others. Nothing ever connects to
 * these addresses: they only have to be unique and look like a cluster's.
 */

/** "10.42.0.0" → 0x0a2a0000. */
export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function intToIp(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** The address block of one simulated node: its own IP and a pool for its pods. */
export class NodeAddressBlock {
  readonly nodeIP: string;
  /** The block in CIDR notation (e.g. 10.42.3.0/24). */
  readonly cidr: string;
  private readonly start: number;
  private readonly size: number;
  private readonly used = new Set<number>();
  /** Where the next search for a free address starts (addresses are reused last). */
  private cursor = 2;

  /** `maxPods` sizes the block: the smallest power of two ≥ 256 holding them plus network, node and broadcast addresses. */
  constructor(base: string, index: number, maxPods: number) {
    let bits = 8;
    while (2 ** bits < maxPods + 3) bits++;
    this.size = 2 ** bits;
    const baseInt = ipToInt(base);
    this.start = (baseInt - (baseInt % this.size) + index * this.size) >>> 0;
    if (this.start + this.size - 1 > 0xffffffff) throw new Error(`node ${index}: no room for its addresses after ${base}`);
    this.nodeIP = intToIp(this.start + 1);
    this.cidr = `${intToIp(this.start)}/${32 - bits}`;
  }

  /** A free pod address, or undefined when the block is full. */
  allocate(): string | undefined {
    const usable = this.size - 3;
    if (this.used.size >= usable) return undefined;
    for (let i = 0; i < usable; i++) {
      const offset = 2 + ((this.cursor - 2 + i) % usable);
      if (!this.used.has(offset)) {
        this.used.add(offset);
        this.cursor = offset + 1 > this.size - 2 ? 2 : offset + 1;
        return intToIp(this.start + offset);
      }
    }
    return undefined;
  }

  /** Marks an address as taken (a pod found running after a restart); false when it is not in this block. */
  reserve(ip: string): boolean {
    let value: number;
    try {
      value = ipToInt(ip);
    } catch {
      return false;
    }
    const offset = value - this.start;
    if (offset < 2 || offset > this.size - 2) return false;
    this.used.add(offset);
    return true;
  }

  release(ip: string | undefined): void {
    if (!ip) return;
    try {
      this.used.delete(ipToInt(ip) - this.start);
    } catch {
      // not one of ours
    }
  }

  get allocated(): number {
    return this.used.size;
  }
}
