/**
 * A cache of forwarded answers (k3s' Corefile has `cache 30`): pods ask the
 * same outside names again and again, and with `ndots:5` every outside name
 * is first tried under each search domain. Positive and negative answers are
 * kept for their TTL (the SOA minimum for negative ones), at most 30 s; hits
 * are served with the remaining TTL and the asking client's id.
 */
import * as dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';

const MAX_TTL_SECONDS = 30;
const NOERROR = 0;
const NXDOMAIN = 3;

interface Entry {
  response: DecodedPacket;
  storedAt: number;
  expiresAt: number;
}

const ttlOf = (a: Answer): number | undefined => (a.type === 'OPT' ? undefined : (a as { ttl?: number }).ttl);

/** Forwarded answers by question, bounded in size (the oldest entry goes first). */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cache key of a question. */
  static key(name: string, type: string, klass = 'IN'): string {
    return `${name.toLowerCase().replace(/\.$/, '')}|${type}|${klass}`;
  }

  /** The cached answer for `key` re-encoded with `id` and the remaining TTLs, if still fresh. */
  get(key: string, id: number): Buffer | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (now >= entry.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    const elapsed = Math.floor((now - entry.storedAt) / 1000);
    const age = (records: Answer[] | undefined) =>
      (records ?? []).map((r) => (r.type === 'OPT' ? r : { ...r, ttl: Math.max(0, ((r as { ttl?: number }).ttl ?? 0) - elapsed) })) as Answer[];
    return dnsPacket.encode({ ...entry.response, id, answers: age(entry.response.answers), authorities: age(entry.response.authorities), additionals: age(entry.response.additionals) });
  }

  /** Stores an upstream answer when it can be cached (NOERROR/NXDOMAIN, not truncated, TTL > 0). */
  put(key: string, wire: Buffer): void {
    let response: DecodedPacket;
    try {
      response = dnsPacket.decode(wire);
    } catch {
      return;
    }
    const rcode = (response.flags ?? 0) & 0xf;
    if ((rcode !== NOERROR && rcode !== NXDOMAIN) || response.flag_tc) return;
    const answers = response.answers ?? [];
    let ttl: number | undefined;
    if (answers.length > 0) ttl = Math.min(...answers.map(ttlOf).filter((t): t is number => t !== undefined));
    else {
      // Negative answer: the SOA's minimum (RFC 2308), bounded by the SOA record's own TTL.
      const soa = (response.authorities ?? []).find((a) => a.type === 'SOA') as { ttl?: number; data: { minimum?: number } } | undefined;
      if (soa) ttl = Math.min(soa.ttl ?? 0, soa.data.minimum ?? 0);
    }
    if (ttl === undefined || !Number.isFinite(ttl) || ttl <= 0) return;
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { response, storedAt: now, expiresAt: now + Math.min(ttl, MAX_TTL_SECONDS) * 1000 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  get size(): number {
    return this.entries.size;
  }
}
