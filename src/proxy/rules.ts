/**
 * The service proxy's nftables rules, computed without touching the kernel:
 * what one Service (with its EndpointSlices) contributes to the table, the
 * fixed skeleton of the table, and the state that turns a change of a few
 * Services into one small `nft -f` transaction (flush+refill only their chains,
 * add/delete only their map elements).
 *
 * The layout follows kube-proxy's nftables mode (pkg/proxy/nftables): a
 * `services` verdict map keyed by `ip daddr . meta l4proto . th dport`, one
 * chain per service port (`svc-…`) that picks an endpoint with `numgen random`,
 * one chain per endpoint (`sep-…`) that marks hairpin traffic for masquerade and
 * DNATs, an `ext-…` chain per service port for NodePort/LoadBalancer/external IPs
 * traffic (masqueraded, externalTrafficPolicy Cluster), no-endpoint maps that
 * reject, and the rest of the service range dropped.
 *
 * internalTrafficPolicy / externalTrafficPolicy Local use an `svl-…` chain
 * over this node's endpoints only (EndpointSlice nodeName), as kube-proxy.
 *
 * A difference from kube-proxy's nftables mode, on purpose: NodePorts also
 * answer on 127.0.0.0/8 (what a developer on one machine tries first; it needs
 * route_localnet=1, as kube-proxy's iptables mode does).
 */
import { createHash } from 'node:crypto';
import type { EndpointAddress, Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';
import type { EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { KubeObject } from '../apimachinery/types.js';

/** The maps and sets of the table that several services put elements in. */
export type SharedMapName = 'services' | 'nodeports' | 'no-endpoint-services' | 'no-endpoint-nodeports' | 'cluster-ips';

/** One element of a shared map (value "" for the `cluster-ips` set). */
export interface MapElement {
  map: SharedMapName;
  /** e.g. `10.43.0.5 . tcp . 80` or `tcp . 30080`. */
  key: string;
  /** e.g. `goto svc-…`. */
  value: string;
}

/** A UDP service port, for clearing stale conntrack entries when its endpoints change. */
export interface UdpFlow {
  /** Cluster, external and load-balancer IPs of the service port. */
  serviceIps: string[];
  port: number;
  nodePort?: number;
  /** Endpoints receiving new traffic. */
  endpointIps: string[];
}

/** Everything one Service contributes to the table. */
export interface ServiceRules {
  /** Chain name → its rules (each one nft rule statement). */
  chains: Map<string, string[]>;
  /** Set name → its declaration body (what goes between braces). */
  sets: Map<string, string>;
  elements: MapElement[];
  udp: UdpFlow[];
}

/** What the rules depend on besides the Service and its slices. */
export interface RulesContext {
  /** All pods: traffic to a ClusterIP from outside it is masqueraded, as kube-proxy with --cluster-cidr. */
  clusterCidr: string;
  /** This node: the endpoints the Local traffic policies keep (EndpointSlice endpoints[].nodeName). */
  nodeName?: string;
}

/** Mark bit asking the postrouting chain to masquerade (kube-proxy's 0x4000). */
export const MASQUERADE_MARK = '0x4000';
/** kube-proxy's default for sessionAffinityConfig.clientIP.timeoutSeconds. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIpv4(value: unknown): value is string {
  return typeof value === 'string' && IPV4.test(value) && value.split('.').every((o) => Number(o) <= 255);
}

/** Short stable hash of a name, so chain names stay unique whatever the readable suffix. */
function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10).toUpperCase();
}

/** A usable endpoint of one service port. */
export interface ResolvedEndpoint {
  ip: string;
  port: number;
}

/**
 * The endpoints of one service port that get new connections, as kube-proxy's
 * CategorizeEndpoints: the ready ones; if none is ready, the serving+terminating
 * ones (so a rollout that only has terminating pods left still answers).
 * Endpoints listed in several slices count once. Sorted, so rules are stable.
 * With `onlyNode`, only the endpoints on that node (for the Local traffic policies).
 */
export function usableEndpoints(slices: readonly KubeObject[], portName: string, protocol: string, onlyNode?: string): ResolvedEndpoint[] {
  const ready = new Map<string, ResolvedEndpoint>();
  const fallback = new Map<string, ResolvedEndpoint>();
  for (const object of slices) {
    const slice = object as unknown as EndpointSlice;
    if (slice.addressType !== 'IPv4') continue;
    const port = (slice.ports ?? []).find((p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port || typeof port.port !== 'number') continue;
    for (const endpoint of slice.endpoints ?? []) {
      const ip = endpoint.addresses?.[0];
      if (!isIpv4(ip)) continue;
      if (onlyNode !== undefined && endpoint.nodeName !== onlyNode) continue;
      const conditions = endpoint.conditions ?? {};
      // Unset conditions mean ready (and serving = ready, terminating = false), as the API documents.
      const isReady = conditions.ready ?? true;
      const serving = conditions.serving ?? isReady;
      const terminating = conditions.terminating ?? false;
      const resolved = { ip, port: port.port };
      const key = `${ip}:${port.port}`;
      if (isReady) ready.set(key, resolved);
      else if (serving && terminating) fallback.set(key, resolved);
    }
  }
  const chosen = ready.size > 0 ? ready : fallback;
  return [...chosen.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port);
}

/**
 * EndpointSlices equivalent to an Endpoints object (one per subset), as
 * Kubernetes' EndpointSlice mirroring controller would write them. Pilote has
 * no mirroring controller, so the proxy reads a selectorless Service's
 * Endpoints this way when no EndpointSlice names the Service (user-written
 * Endpoints for a database outside the cluster; the `kubernetes` Service).
 */
export function slicesFromEndpoints(object: KubeObject): KubeObject[] {
  const subsets = (object as unknown as Endpoints).subsets ?? [];
  return subsets.map((subset, index) => {
    const endpoint = (ready: boolean) => (address: EndpointAddress) => ({ addresses: [address.ip], nodeName: address.nodeName, conditions: { ready } });
    const slice: EndpointSlice = {
      metadata: { name: `${object.metadata.name}-mirror-${index}`, namespace: object.metadata.namespace },
      addressType: 'IPv4',
      ports: (subset.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
      endpoints: [...(subset.addresses ?? []).map(endpoint(true)), ...(subset.notReadyAddresses ?? []).map(endpoint(false))],
    };
    return slice as unknown as KubeObject;
  });
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** The addresses of a Service the proxy answers on, by kind. */
export function serviceAddresses(service: Service): { clusterIps: string[]; externalIps: string[]; loadBalancerIps: string[] } {
  const spec = service.spec ?? {};
  const clusterIps = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(isIpv4);
  const externalIps = (spec.externalIPs ?? []).filter(isIpv4);
  // ipMode Proxy means the load balancer itself proxies: kube-proxy then adds no rule for that IP.
  const loadBalancerIps =
    spec.type === 'LoadBalancer'
      ? (service.status?.loadBalancer?.ingress ?? []).filter((i) => i.ipMode !== 'Proxy').map((i) => i.ip).filter(isIpv4)
      : [];
  return { clusterIps, externalIps, loadBalancerIps: [...new Set(loadBalancerIps)] };
}

/** True for Services that get no rules: ExternalName (a DNS name) and headless ones. */
export function hasNoProxyRules(service: Service): boolean {
  const spec = service.spec ?? {};
  if (spec.type === 'ExternalName') return true;
  return !spec.clusterIP || spec.clusterIP === 'None';
}

/** What one Service (with the EndpointSlices labelled with its name) contributes to the table. */
export function computeServiceRules(object: KubeObject, slices: readonly KubeObject[], context: RulesContext): ServiceRules {
  const rules: ServiceRules = { chains: new Map(), sets: new Map(), elements: [], udp: [] };
  const service = object as unknown as Service;
  if (hasNoProxyRules(service)) return rules;
  const spec = service.spec ?? {};
  const { clusterIps, externalIps, loadBalancerIps } = serviceAddresses(service);
  const affinityTimeout =
    spec.sessionAffinity === 'ClientIP' ? spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS : undefined;
  for (const ip of clusterIps) rules.elements.push({ map: 'cluster-ips', key: ip, value: '' });
  const portContext: PortContext = {
    clusterIps,
    // A LoadBalancer answers on localhost too, as k3s' ServiceLB (host ports) does: what a developer tries first.
    outsideIps: [...externalIps, ...loadBalancerIps, ...(loadBalancerIps.length > 0 ? ['127.0.0.1'] : [])],
    affinityTimeout,
    clusterCidr: context.clusterCidr,
    nodeName: context.nodeName,
    internalLocal: spec.internalTrafficPolicy === 'Local',
    externalLocal: spec.externalTrafficPolicy === 'Local',
  };
  for (const port of spec.ports ?? []) addServicePort(rules, service, port, slices, portContext);
  return rules;
}

interface PortContext {
  clusterIps: string[];
  outsideIps: string[];
  affinityTimeout?: number;
  clusterCidr: string;
  nodeName?: string;
  /** internalTrafficPolicy Local: ClusterIP traffic only to this node's endpoints. */
  internalLocal: boolean;
  /** externalTrafficPolicy Local: outside traffic only to this node's endpoints, client address kept. */
  externalLocal: boolean;
}

function addServicePort(rules: ServiceRules, service: Service, port: ServicePort, slices: readonly KubeObject[], ctx: PortContext): void {
  const protocol = port.protocol ?? 'TCP';
  const proto = protocol.toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(proto) || typeof port.port !== 'number') return;
  const portName = port.name ?? '';
  const readable = `${service.metadata?.namespace}/${service.metadata?.name}/${proto}/${portName || port.port}`;
  const id = hash(readable);
  const svcChain = `svc-${id}-${readable}`;
  const localChain = `svl-${id}-${readable}`;
  const extChain = `ext-${id}-${readable}`;
  const nodePort = typeof port.nodePort === 'number' && port.nodePort > 0 ? port.nodePort : undefined;
  const hasOutside = ctx.outsideIps.length > 0 || nodePort !== undefined;
  const all = usableEndpoints(slices, portName, protocol);
  const needLocal = ctx.internalLocal || (ctx.externalLocal && hasOutside);
  const local = needLocal ? usableEndpoints(slices, portName, protocol, ctx.nodeName ?? '') : [];
  if (proto === 'udp') {
    const endpointIps = [...new Set([...all, ...local].map((e) => e.ip))];
    rules.udp.push({ serviceIps: [...ctx.clusterIps, ...ctx.outsideIps], port: port.port, nodePort, endpointIps });
  }

  if (all.length === 0) {
    // kube-proxy: "has no endpoints" → reject, so clients fail at once instead of timing out.
    for (const ip of [...ctx.clusterIps, ...ctx.outsideIps]) {
      rules.elements.push({ map: 'no-endpoint-services', key: `${ip} . ${proto} . ${port.port}`, value: 'goto reject-chain' });
    }
    if (nodePort) rules.elements.push({ map: 'no-endpoint-nodeports', key: `${proto} . ${nodePort}`, value: 'goto reject-chain' });
    return;
  }

  // One DNAT chain per endpoint, shared by the cluster-wide and the node-local choice.
  const endpointChain = new Map<string, { chain: string; affinitySet?: string }>();
  for (const endpoint of [...all, ...local]) {
    const epReadable = `${readable}__${endpoint.ip}/${endpoint.port}`;
    if (endpointChain.has(epReadable)) continue;
    const chain = `sep-${hash(epReadable)}-${epReadable}`;
    const sepRules = [`ip saddr ${endpoint.ip} jump mark-for-masquerade`];
    let affinitySet: string | undefined;
    if (ctx.affinityTimeout !== undefined) {
      // One set per endpoint (as kube-proxy): a client address in it sticks to that endpoint until the timeout.
      affinitySet = `aff-${hash(`${epReadable}#${ctx.affinityTimeout}`)}-${epReadable}`;
      rules.sets.set(affinitySet, `type ipv4_addr; flags dynamic,timeout; timeout ${ctx.affinityTimeout}s;`);
      sepRules.push(`update @${affinitySet} { ip saddr }`);
    }
    sepRules.push(`meta l4proto ${proto} dnat to ${endpoint.ip}:${endpoint.port}`);
    rules.chains.set(chain, sepRules);
    endpointChain.set(epReadable, { chain, affinitySet });
  }
  const balance = (endpoints: ResolvedEndpoint[], clusterIpTarget: boolean): string[] => {
    const out: string[] = [];
    // Traffic to the ClusterIP from outside the pod network (the host, other machines) is masqueraded, so replies come back through us.
    if (clusterIpTarget) for (const ip of ctx.clusterIps) out.push(`ip daddr ${ip} ${proto} dport ${port.port} ip saddr != ${ctx.clusterCidr} jump mark-for-masquerade`);
    const chains = endpoints.map((e) => endpointChain.get(`${readable}__${e.ip}/${e.port}`)!);
    for (const { chain, affinitySet } of chains) if (affinitySet) out.push(`ip saddr @${affinitySet} goto ${chain}`);
    if (chains.length === 1) out.push(`goto ${chains[0].chain}`);
    else out.push(`numgen random mod ${chains.length} vmap { ${chains.map((c, i) => `${i} : goto ${c.chain}`).join(', ')} }`);
    return out;
  };
  rules.chains.set(svcChain, balance(all, !ctx.internalLocal));
  if (local.length > 0) rules.chains.set(localChain, balance(local, ctx.internalLocal));

  for (const ip of ctx.clusterIps) {
    const key = `${ip} . ${proto} . ${port.port}`;
    if (!ctx.internalLocal) rules.elements.push({ map: 'services', key, value: `goto ${svcChain}` });
    else if (local.length > 0) rules.elements.push({ map: 'services', key, value: `goto ${localChain}` });
    // kube-proxy: "has no local endpoints" → drop (not reject: other nodes may have some).
    else rules.elements.push({ map: 'no-endpoint-services', key, value: 'drop' });
  }
  if (!hasOutside) return;
  if (!ctx.externalLocal) {
    // externalTrafficPolicy Cluster: outside traffic (NodePort, LoadBalancer, external IPs, 127.0.0.1) is masqueraded.
    rules.chains.set(extChain, ['jump mark-for-masquerade', `goto ${svcChain}`]);
  } else {
    // externalTrafficPolicy Local, as kube-proxy: pods and this host still use every endpoint (masqueraded for
    // the host); other clients only this node's endpoints, unmasqueraded so the client address is kept.
    rules.chains.set(extChain, [
      `ip saddr ${ctx.clusterCidr} goto ${svcChain}`,
      'fib saddr type local jump mark-for-masquerade',
      `fib saddr type local goto ${svcChain}`,
      local.length > 0 ? `goto ${localChain}` : 'drop',
    ]);
  }
  for (const ip of ctx.outsideIps) rules.elements.push({ map: 'services', key: `${ip} . ${proto} . ${port.port}`, value: `goto ${extChain}` });
  if (nodePort) rules.elements.push({ map: 'nodeports', key: `${proto} . ${nodePort}`, value: `goto ${extChain}` });
}

/** Key types of the shared maps, in nft syntax. */
const MAP_DECLARATIONS: Record<SharedMapName, string> = {
  services: 'map services { type ipv4_addr . inet_proto . inet_service : verdict; }',
  nodeports: 'map nodeports { type inet_proto . inet_service : verdict; }',
  'no-endpoint-services': 'map no-endpoint-services { type ipv4_addr . inet_proto . inet_service : verdict; }',
  'no-endpoint-nodeports': 'map no-endpoint-nodeports { type inet_proto . inet_service : verdict; }',
  'cluster-ips': 'set cluster-ips { type ipv4_addr; }',
};

/**
 * The fixed part of the table. Priorities are numbers: nft 1.0.6 rejects
 * `priority dstnat` on the output hook (dstnat = -100, srcnat = 100). The
 * filter chains run just before (-110) and after (-90) DNAT, as kube-proxy's.
 */
export function skeleton(table: string, serviceCidr: string): string {
  return [
    `table ip ${table} {`,
    ...Object.values(MAP_DECLARATIONS).map((d) => `  ${d}`),
    `  chain mark-for-masquerade { meta mark set meta mark | ${MASQUERADE_MARK}; }`,
    `  chain masquerading { meta mark & ${MASQUERADE_MARK} == 0 return; meta mark set meta mark ^ ${MASQUERADE_MARK}; masquerade fully-random; }`,
    // TCP gets a reset, others ICMP port-unreachable: both fail a client at once ("connection refused").
    '  chain reject-chain { meta l4proto tcp reject with tcp reset; reject; }',
    '  chain services { ip daddr . meta l4proto . th dport vmap @services; fib daddr type local meta l4proto . th dport vmap @nodeports; }',
    '  chain service-endpoints-check { ip daddr . meta l4proto . th dport vmap @no-endpoint-services; }',
    '  chain nodeport-endpoints-check { fib daddr type local meta l4proto . th dport vmap @no-endpoint-nodeports; }',
    // After DNAT: still a ClusterIP means no port matched (reject); anything else in the range has no service (drop, never forward).
    `  chain cluster-ips-check { ip daddr @cluster-ips reject; ip daddr ${serviceCidr} drop; }`,
    '  chain filter-input { type filter hook input priority -110; policy accept; ct state new jump nodeport-endpoints-check; ct state new jump service-endpoints-check; }',
    '  chain filter-forward { type filter hook forward priority -110; policy accept; ct state new jump service-endpoints-check; jump cluster-ips-check; }',
    '  chain filter-output { type filter hook output priority -110; policy accept; ct state new jump service-endpoints-check; }',
    '  chain filter-output-post-dnat { type filter hook output priority -90; policy accept; jump cluster-ips-check; }',
    '  chain nat-prerouting { type nat hook prerouting priority -100; policy accept; jump services; }',
    '  chain nat-output { type nat hook output priority -100; policy accept; jump services; }',
    '  chain nat-postrouting { type nat hook postrouting priority 100; policy accept; jump masquerading; }',
    '}',
  ].join('\n');
}

/** Counts of what one transaction contained: how incremental an update was. */
export interface TransactionSummary {
  /** True when the whole table was rewritten (start, or recovery after a failure). */
  full: boolean;
  /** Services whose rules were recomputed. */
  services: number;
  chainsAdded: number;
  chainsFlushed: number;
  chainsDeleted: number;
  rules: number;
  setsAdded: number;
  setsDeleted: number;
  elementsAdded: number;
  elementsDeleted: number;
  /** Length of the nft script. */
  bytes: number;
}

/** A transaction to hand to `nft -f -`, and what it will leave applied if it succeeds. */
export interface PlannedTransaction {
  script: string;
  summary: TransactionSummary;
  /** Makes the plan the applied state; call only after nft accepted the script. */
  commit(): void;
}

interface SharedEntry {
  /** The value in the kernel, if any. */
  applied?: string;
  /** Service key → the value it wants. The smallest key wins when several services claim one element. */
  owners: Map<string, string>;
}

function elementId(map: string, key: string): string {
  return `${map}|${key}`;
}

function effective(entry: SharedEntry): string | undefined {
  let best: string | undefined;
  let value: string | undefined;
  for (const [owner, v] of entry.owners) if (best === undefined || owner < best) [best, value] = [owner, v];
  return value;
}

function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((r, i) => r === b[i]);
}

function renderElement(map: SharedMapName, key: string, value: string): string {
  return value ? `${key} : ${value}` : key;
}

/**
 * What the kernel holds, per Service, and the planner of transactions. Pure:
 * it never runs nft; the caller runs `script` and then `commit()`s.
 */
export class RuleState {
  private services = new Map<string, ServiceRules>();
  private shared = new Map<string, SharedEntry & { map: SharedMapName; key: string }>();

  constructor(
    private readonly table: string,
    private readonly serviceCidr: string,
  ) {}

  /** The rules applied for a service key ("ns/name"), if any. */
  applied(serviceKey: string): ServiceRules | undefined {
    return this.services.get(serviceKey);
  }

  /**
   * The whole table from scratch: delete ours if it exists (so restarts never
   * duplicate anything), then the skeleton and every service, atomically.
   */
  planFull(all: ReadonlyMap<string, ServiceRules | undefined>): PlannedTransaction {
    const fresh = new RuleState(this.table, this.serviceCidr);
    const lines = [`add table ip ${this.table}`, `delete table ip ${this.table}`, skeleton(this.table, this.serviceCidr)];
    const incremental = fresh.planChanges(all);
    const script = `${lines.join('\n')}\n${incremental.script}`;
    return {
      script,
      summary: { ...incremental.summary, full: true, bytes: script.length },
      commit: () => {
        incremental.commit();
        this.services = fresh.services;
        this.shared = fresh.shared;
      },
    };
  }

  /** A transaction bringing the given services (undefined = deleted) to their new rules, touching nothing else. */
  planChanges(changes: ReadonlyMap<string, ServiceRules | undefined>): PlannedTransaction {
    const t = this.table;
    const summary: TransactionSummary = {
      full: false, services: changes.size, chainsAdded: 0, chainsFlushed: 0, chainsDeleted: 0, rules: 0,
      setsAdded: 0, setsDeleted: 0, elementsAdded: 0, elementsDeleted: 0, bytes: 0,
    };
    const deleteElements: string[] = [];
    const addSets: string[] = [];
    const addChains: string[] = [];
    const fillChains: string[] = [];
    const flushRemoved: string[] = [];
    const deleteChains: string[] = [];
    const deleteSets: string[] = [];
    const addElements: string[] = [];

    // Shared elements: apply each service's claims to the owners, then diff the winners.
    const nextShared = new Map(this.shared);
    const touched = new Set<string>();
    for (const [key, next] of changes) {
      const previous = this.services.get(key);
      for (const e of previous?.elements ?? []) {
        const id = elementId(e.map, e.key);
        const entry = nextShared.get(id)!;
        const copy = { ...entry, owners: new Map(entry.owners) };
        copy.owners.delete(key);
        nextShared.set(id, copy);
        touched.add(id);
      }
      for (const e of next?.elements ?? []) {
        const id = elementId(e.map, e.key);
        const entry = nextShared.get(id) ?? { map: e.map, key: e.key, owners: new Map<string, string>() };
        const copy = { ...entry, owners: new Map(entry.owners) };
        copy.owners.set(key, e.value);
        nextShared.set(id, copy);
        touched.add(id);
      }
    }
    for (const id of touched) {
      const entry = nextShared.get(id)!;
      const want = effective(entry);
      if (want === entry.applied) {
        if (entry.owners.size === 0) nextShared.delete(id);
        continue;
      }
      if (entry.applied !== undefined) {
        deleteElements.push(`delete element ip ${t} ${entry.map} { ${entry.key} }`);
        summary.elementsDeleted++;
      }
      if (want !== undefined) {
        addElements.push(`add element ip ${t} ${entry.map} { ${renderElement(entry.map, entry.key, want)} }`);
        summary.elementsAdded++;
      }
      if (entry.owners.size === 0) nextShared.delete(id);
      else nextShared.set(id, { ...entry, applied: want });
    }

    // Chains and sets are owned by one service each (their names hash the service and port).
    for (const [key, next] of changes) {
      const previous = this.services.get(key);
      const oldChains = previous?.chains ?? new Map<string, string[]>();
      const newChains = next?.chains ?? new Map<string, string[]>();
      for (const [name, body] of newChains) {
        const before = oldChains.get(name);
        if (sameRules(before, body)) continue;
        if (before === undefined) {
          addChains.push(`add chain ip ${t} ${name}`);
          summary.chainsAdded++;
        } else {
          fillChains.push(`flush chain ip ${t} ${name}`);
          summary.chainsFlushed++;
        }
        for (const rule of body) fillChains.push(`add rule ip ${t} ${name} ${rule}`);
        summary.rules += body.length;
      }
      for (const name of oldChains.keys()) {
        if (newChains.has(name)) continue;
        // Flushed first: a chain still jumping to another would make that one's delete fail.
        flushRemoved.push(`flush chain ip ${t} ${name}`);
        deleteChains.push(`delete chain ip ${t} ${name}`);
        summary.chainsDeleted++;
      }
      const oldSets = previous?.sets ?? new Map<string, string>();
      const newSets = next?.sets ?? new Map<string, string>();
      for (const [name, body] of newSets) {
        if (oldSets.has(name)) continue; // a set's body is part of its name's hash
        addSets.push(`add set ip ${t} ${name} { ${body} }`);
        summary.setsAdded++;
      }
      for (const name of oldSets.keys()) {
        if (newSets.has(name)) continue;
        deleteSets.push(`delete set ip ${t} ${name}`);
        summary.setsDeleted++;
      }
    }

    // Order matters inside the transaction: nothing may reference a chain or set when it is deleted,
    // and nothing may reference one before it exists.
    const script = [...deleteElements, ...addSets, ...addChains, ...fillChains, ...flushRemoved, ...deleteChains, ...deleteSets, ...addElements].join('\n') + '\n';
    summary.bytes = script.length;
    return {
      script,
      summary,
      commit: () => {
        for (const [key, next] of changes) {
          if (next && (next.chains.size > 0 || next.sets.size > 0 || next.elements.length > 0 || next.udp.length > 0)) this.services.set(key, next);
          else this.services.delete(key);
        }
        this.shared = nextShared;
      },
    };
  }
}
