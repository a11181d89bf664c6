/**
 * The answers of cluster DNS, following the Kubernetes DNS-Based Service
 * Discovery specification as CoreDNS' kubernetes plugin implements it (with
 * `pods insecure`, k3s' default):
 *   <svc>.<ns>.svc.<zone>                 A/AAAA: ClusterIPs; headless: one per ready endpoint
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV per matching port (headless: per endpoint)
 *   <endpoint>.<svc>.<ns>.svc.<zone>      A/AAAA of that endpoint (hostname or dashed IP)
 *   <a-b-c-d>.<ns>.pod.<zone>             A of the IP in the name (namespace must exist)
 *   ExternalName services                 CNAME (chased when the target is in the zone)
 *   reverse names of ClusterIPs/endpoints PTR
 * Unknown names in the zone get NXDOMAIN, known names without the asked type
 * NODATA, both with the zone's SOA in the authority section; TTL 5 s.
 * Everything else is for the forwarder (the result says so).
 */
import type { Answer, RecordType } from 'dns-packet';
import { isIP } from 'node:net';
import type { ClusterView, DnsEndpoint, DnsServicePort } from './cluster-view.js';

/** CoreDNS kubernetes plugin default TTL. */
export const DNS_TTL = 5;
/** Version of the Kubernetes DNS schema, served as TXT `dns-version.<zone>`. */
const DNS_SCHEMA_VERSION = '1.1.0';

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;

/** A resolved answer, or a name the server must ask the upstreams about. */
export type Resolution =
  | {
      kind: 'answer';
      rcode: number;
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
      /** An ExternalName target outside the zone, to resolve upstream and append to the answers. */
      chase?: { name: string; type: RecordType };
    }
  | { kind: 'forward' };

/** One thing a name resolves to: an address (with port) or a CNAME target, owned by a DNS name. */
interface Item {
  host: string;
  port: number;
  /** The name that owns this address: SRV target, and the key used to deduplicate. */
  owner: string;
}

/** `*` and `any` are wildcards in every label, as in CoreDNS. */
const isWildcard = (s: string | undefined) => s === '*' || s === 'any';
const matches = (query: string, value: string) => isWildcard(query) || query === value;
const stripUnderscore = (s: string) => (s.startsWith('_') ? s.slice(1) : s);

/** Parsed `[endpoint|_port._proto].service.namespace.(svc|pod)` request. */
interface RecordRequest {
  kind?: 'svc' | 'pod';
  namespace?: string;
  service?: string;
  endpoint?: string;
  port: string;
  protocol: string;
}

class NameError extends Error {}

/** The resolver over a cluster view for one zone (the cluster domain). */
export class ClusterResolver {
  readonly zone: string;

  constructor(
    private readonly view: ClusterView,
    zone: string,
    /** The DNS service's ClusterIP, answered for `ns.dns.<zone>`. */
    private readonly dnsIp: string,
    private readonly isSynced: () => boolean = () => true,
  ) {
    this.zone = zone.toLowerCase().replace(/\.$/, '');
  }

  /** True when `name` (lower case, no trailing dot) is the zone or under it. */
  inZone(name: string): boolean {
    return name === this.zone || name.endsWith('.' + this.zone);
  }

  /** Answers one question. `qname` is kept as asked (case included) in the answer. */
  resolve(qname: string, qtype: RecordType): Resolution {
    const name = qname.toLowerCase().replace(/\.$/, '');
    if (qtype === 'PTR' && (name.endsWith('.in-addr.arpa') || name.endsWith('.ip6.arpa'))) return this.resolvePtr(qname, name);
    if (!this.inZone(name)) return { kind: 'forward' };
    if (!this.isSynced()) return this.failure(RCODE.SERVFAIL);
    return this.resolveInZone(qname, name, qtype, 0);
  }

  /** The zone's SOA record (authority section of negative answers). */
  soa(): Answer {
    return {
      type: 'SOA',
      name: this.zone,
      ttl: DNS_TTL,
      class: 'IN',
      data: {
        mname: `ns.dns.${this.zone}`,
        rname: `hostmaster.${this.zone}`,
        serial: this.view.serial,
        refresh: 7200,
        retry: 1800,
        expire: 86400,
        minimum: DNS_TTL,
      },
    };
  }

  private failure(rcode: number): Resolution {
    return { kind: 'answer', rcode, answers: [], authorities: rcode === RCODE.SERVFAIL ? [] : [this.soa()], additionals: [] };
  }

  private answer(answers: Answer[], additionals: Answer[] = [], chase?: { name: string; type: RecordType }): Resolution {
    if (answers.length === 0 && !chase) return this.failure(RCODE.NOERROR);
    return { kind: 'answer', rcode: RCODE.NOERROR, answers, authorities: [], additionals, chase };
  }

  private resolvePtr(qname: string, name: string): Resolution {
    const ip = reverseNameToIp(name);
    const names = ip ? this.view.reverseNames(ip) : [];
    // Other reverse names fall through to the upstreams, as k3s' Corefile does for in-addr.arpa.
    if (names.length === 0) return { kind: 'forward' };
    return this.answer(names.map((target) => ({ type: 'PTR', name: qname, ttl: DNS_TTL, class: 'IN', data: target })));
  }

  private resolveInZone(qname: string, name: string, qtype: RecordType, depth: number): Resolution {
    const base = name === this.zone ? '' : name.slice(0, -(this.zone.length + 1));
    if (base === '') return this.apex(qname, qtype);
    if (base === 'dns-version') {
      return qtype === 'TXT' ? this.answer([{ type: 'TXT', name: qname, ttl: DNS_TTL, class: 'IN', data: DNS_SCHEMA_VERSION }]) : this.failure(RCODE.NOERROR);
    }
    if (base === 'ns.dns') {
      return qtype === 'A' ? this.answer([{ type: 'A', name: qname, ttl: DNS_TTL, class: 'IN', data: this.dnsIp }]) : this.failure(RCODE.NOERROR);
    }
    let items: Item[];
    try {
      items = this.records(parseRequest(base));
    } catch (error) {
      if (error instanceof NameError) return this.failure(RCODE.NXDOMAIN);
      throw error;
    }
    switch (qtype) {
      case 'A':
      case 'AAAA':
        return this.addressAnswer(qname, qtype, items, depth);
      case 'CNAME': {
        const cnames = items.filter((i) => !isIP(i.host));
        return this.answer(cnames.map((i) => ({ type: 'CNAME', name: qname, ttl: DNS_TTL, class: 'IN', data: i.host })));
      }
      case 'SRV':
        return this.srvAnswer(qname, items);
      default:
        // The name exists (records() did not throw): NODATA.
        return this.failure(RCODE.NOERROR);
    }
  }

  private apex(qname: string, qtype: RecordType): Resolution {
    if (qtype === 'SOA') return this.answer([{ ...this.soa(), name: qname }]);
    if (qtype === 'NS') {
      const ns = `ns.dns.${this.zone}`;
      return this.answer([{ type: 'NS', name: qname, ttl: DNS_TTL, class: 'IN', data: ns }], [{ type: 'A', name: ns, ttl: DNS_TTL, class: 'IN', data: this.dnsIp }]);
    }
    return this.failure(RCODE.NOERROR);
  }

  private addressAnswer(qname: string, qtype: 'A' | 'AAAA', items: Item[], depth: number): Resolution {
    const family = qtype === 'A' ? 4 : 6;
    const answers: Answer[] = [];
    const seen = new Set<string>();
    for (const item of items) {
      const ipFamily = isIP(item.host);
      if (ipFamily === 0) {
        // ExternalName: CNAME, then the target's addresses (here when in the zone, else upstream).
        answers.push({ type: 'CNAME', name: qname, ttl: DNS_TTL, class: 'IN', data: item.host });
        if (this.inZone(item.host)) {
          if (depth >= 8) return this.answer(answers);
          const chased = this.resolveInZone(item.host, item.host, qtype, depth + 1);
          if (chased.kind === 'answer') answers.push(...chased.answers);
          return this.answer(answers);
        }
        return this.answer(answers, [], { name: item.host, type: qtype });
      }
      if (ipFamily !== family || seen.has(item.host)) continue;
      seen.add(item.host);
      answers.push({ type: qtype, name: qname, ttl: DNS_TTL, class: 'IN', data: item.host });
    }
    return this.answer(answers);
  }

  private srvAnswer(qname: string, items: Item[]): Resolution {
    const targets = items.filter((i) => isIP(i.host) && i.port >= 0);
    const seen = new Set<string>();
    const unique = targets.filter((i) => {
      const key = `${i.owner}:${i.port}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const weight = unique.length ? Math.floor(100 / unique.length) : 0;
    const answers: Answer[] = unique.map((i) => ({ type: 'SRV', name: qname, ttl: DNS_TTL, class: 'IN', data: { priority: 0, weight, port: i.port, target: i.owner } }));
    const extraSeen = new Set<string>();
    const additionals: Answer[] = [];
    for (const i of unique) {
      const key = `${i.owner}|${i.host}`;
      if (extraSeen.has(key)) continue;
      extraSeen.add(key);
      additionals.push({ type: isIP(i.host) === 6 ? 'AAAA' : 'A', name: i.owner, ttl: DNS_TTL, class: 'IN', data: i.host });
    }
    return this.answer(answers, additionals);
  }

  /** What a parsed request resolves to; throws NameError for names that do not exist (NXDOMAIN). */
  private records(r: RecordRequest): Item[] {
    if (!r.kind || r.namespace === undefined) return []; // `svc.<zone>`, `pod.<zone>`: NODATA
    const namespace = r.namespace;
    if (!isWildcard(namespace) && !this.view.hasNamespace(namespace)) throw new NameError();
    if (r.service === undefined) return []; // `<ns>.svc.<zone>`: NODATA
    return r.kind === 'pod' ? this.podRecords(r, namespace, r.service) : this.serviceRecords(r, namespace, r.service);
  }

  private podRecords(r: RecordRequest, namespace: string, label: string): Item[] {
    // `pods insecure`: the address is the name itself (a-b-c-d, or the IPv6 with dashes).
    const ip = (label.split('-').length === 4 && !label.includes('--')) ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
    if (isIP(ip) === 0) throw new NameError();
    return [{ host: ip, port: -1, owner: `${label}.${namespace}.pod.${this.zone}` }];
  }

  private serviceRecords(r: RecordRequest, namespace: string, serviceName: string): Item[] {
    const services = isWildcard(serviceName) || isWildcard(namespace)
      ? this.view.servicesIn(isWildcard(namespace) ? undefined : namespace).filter((s) => matches(serviceName, s.name))
      : [this.view.service(namespace, serviceName)].filter((s) => s !== undefined);
    const items: Item[] = [];
    let found = isWildcard(serviceName) && !isWildcard(namespace); // an empty wildcard is NODATA, not NXDOMAIN
    for (const svc of services) {
      const svcName = `${svc.name}.${svc.namespace}.svc.${this.zone}`;
      if (svc.externalName !== undefined) {
        items.push({ host: svc.externalName, port: -1, owner: svcName });
        found = true;
        continue;
      }
      if (svc.headless || r.endpoint !== undefined) {
        for (const endpoint of this.view.endpoints(svc.namespace, svc.name)) {
          if (r.endpoint !== undefined && !matches(r.endpoint, endpoint.label)) continue;
          for (const port of endpointPorts(endpoint)) {
            if (!(matchesPort(r.port, port.name) && matchesPort(r.protocol, port.protocol))) continue;
            items.push({ host: endpoint.ip, port: port.port, owner: `${endpoint.label}.${svcName}` });
            found = true;
          }
        }
        continue;
      }
      for (const port of svc.ports) {
        if (!(matchesPort(r.port, port.name) && matchesPort(r.protocol, port.protocol))) continue;
        found = true;
        for (const ip of svc.clusterIPs) items.push({ host: ip, port: port.port, owner: svcName });
      }
    }
    if (!found) throw new NameError();
    return items;
  }
}

/** An endpoint's ports; a slice without ports still gives its addresses (CoreDNS' sentinel port). */
function endpointPorts(endpoint: DnsEndpoint): DnsServicePort[] {
  return endpoint.ports.length ? endpoint.ports : [{ name: '', protocol: '', port: -1 }];
}

function matchesPort(query: string, value: string): boolean {
  if (isWildcard(query)) return true;
  return query === value.toLowerCase();
}

function parseRequest(base: string): RecordRequest {
  const segs = base.split('.');
  const r: RecordRequest = { port: '*', protocol: '*' };
  let last = segs.length - 1;
  const kind = segs[last];
  if (kind !== 'svc' && kind !== 'pod') throw new NameError();
  r.kind = kind;
  if (--last < 0) return r;
  r.namespace = segs[last];
  if (--last < 0) return r;
  r.service = segs[last];
  if (--last < 0) return r;
  if (last === 0) r.endpoint = segs[0];
  else if (last === 1) {
    r.protocol = stripUnderscore(segs[1]);
    r.port = stripUnderscore(segs[0]);
  } else throw new NameError();
  return r;
}

/** The IP of a reverse name (`4.3.2.1.in-addr.arpa` → 1.2.3.4, nibble form for ip6.arpa), or undefined. */
export function reverseNameToIp(name: string): string | undefined {
  if (name.endsWith('.in-addr.arpa')) {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
    return parts.reverse().join('.');
  }
  if (name.endsWith('.ip6.arpa')) {
    const nibbles = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (nibbles.length !== 32 || nibbles.some((n) => !/^[0-9a-f]$/.test(n))) return undefined;
    const hex = nibbles.reverse().join('');
    const groups = hex.match(/.{4}/g)!.map((g) => g.replace(/^0+(?=.)/, ''));
    return compressIpv6(groups);
  }
  return undefined;
}

/** Canonical (RFC 5952) text of an IPv6 address from its 8 groups, so it matches how Kubernetes stores IPs. */
function compressIpv6(groups: string[]): string {
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}
