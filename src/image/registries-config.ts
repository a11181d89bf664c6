/**
 * Registry mirrors and credentials in k3s' registries.yaml format, shared by
 * `pilote image pull/push` and the kubelet (which turns it into containerd's
 * certs.d/<host>/hosts.toml):
 *
 * ```yaml
 * mirrors:
 *   docker.io:
 *     endpoint: ["http://127.0.0.1:5000"]
 *     rewrite: { "^library/(.*)": "mirrored/$1" }   # optional
 * configs:
 *   "registry.example.com:5000":
 *     auth: { username: u, password: p }            # or auth: base64(u:p), or identitytoken
 *     tls: { insecure_skip_verify: true, ca_file: /path/ca.pem }
 * ```
 * A mirror named `*` applies to every registry. Pulls try a registry's mirror
 * endpoints in order, then the registry itself.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** Mirror endpoints of one registry. */
export interface RegistryMirror {
  /** Base URLs, e.g. `http://127.0.0.1:5000` (no scheme means https). */
  endpoint: string[];
  /** Regular expression → replacement applied to the repository path at mirrors (k3s `rewrite`). */
  rewrite?: Record<string, string>;
}

/** Credentials of a registry host. */
export interface RegistryAuth {
  username?: string;
  password?: string;
  /** base64 of `username:password`, as in Docker's config.json. */
  auth?: string;
  identitytoken?: string;
}

/** TLS settings of a registry host. */
export interface RegistryTls {
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  insecure_skip_verify?: boolean;
}

/** Per-host settings, keyed by `host` or `host:port`. */
export interface RegistryHostConfig {
  auth?: RegistryAuth;
  tls?: RegistryTls;
}

/** A parsed registries.yaml. */
export interface RegistriesConfig {
  mirrors: Record<string, RegistryMirror>;
  configs: Record<string, RegistryHostConfig>;
}

/** One place to try for a registry's content. */
export interface RegistryEndpoint {
  /** Base URL without trailing slash, e.g. `http://127.0.0.1:5000`; the API is under `/v2/`. */
  url: string;
  /** `host[:port]` of the URL: the key for credentials and TLS settings. */
  host: string;
  /** Whether this is a mirror (failures fall through to the next endpoint). */
  mirror: boolean;
  /** Repository path rewrites that apply at this endpoint. */
  rewrite?: Record<string, string>;
  config: RegistryHostConfig;
}

/** An empty configuration: every registry is reached directly. */
export function emptyRegistriesConfig(): RegistriesConfig {
  return { mirrors: {}, configs: {} };
}

/** Reads and validates a registries.yaml; a clear error names the file and the problem. */
export function loadRegistriesConfig(path: string): RegistriesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read registries configuration ${path}: ${(error as Error).message}`);
  }
  return parseRegistriesConfig(text, path);
}

/** Parses registries.yaml text (see the module comment for the format). */
export function parseRegistriesConfig(text: string, source = 'registries.yaml'): RegistriesConfig {
  let doc: unknown;
  try {
    doc = parseYaml(text) ?? {};
  } catch (error) {
    throw new Error(`${source} is not valid YAML: ${(error as Error).message}`);
  }
  if (!isObject(doc)) throw new Error(`${source}: expected a mapping with "mirrors" and/or "configs"`);
  const config = emptyRegistriesConfig();
  const mirrors = doc.mirrors ?? {};
  if (!isObject(mirrors)) throw new Error(`${source}: "mirrors" must be a mapping of registry host to {endpoint: [...]}`);
  for (const [host, value] of Object.entries(mirrors)) {
    if (!isObject(value)) throw new Error(`${source}: mirrors."${host}" must be a mapping with "endpoint"`);
    const endpoints = value.endpoint ?? [];
    if (!Array.isArray(endpoints) || !endpoints.every((e) => typeof e === 'string')) {
      throw new Error(`${source}: mirrors."${host}".endpoint must be a list of URLs`);
    }
    for (const e of endpoints) endpointUrl(e as string, source);
    const mirror: RegistryMirror = { endpoint: endpoints as string[] };
    if (value.rewrite !== undefined) {
      if (!isObject(value.rewrite) || !Object.values(value.rewrite).every((v) => typeof v === 'string')) {
        throw new Error(`${source}: mirrors."${host}".rewrite must map regular expressions to replacements`);
      }
      mirror.rewrite = value.rewrite as Record<string, string>;
    }
    config.mirrors[host] = mirror;
  }
  const configs = doc.configs ?? {};
  if (!isObject(configs)) throw new Error(`${source}: "configs" must be a mapping of registry host to {auth, tls}`);
  for (const [host, value] of Object.entries(configs)) {
    if (!isObject(value)) throw new Error(`${source}: configs."${host}" must be a mapping with "auth" and/or "tls"`);
    const hostConfig: RegistryHostConfig = {};
    if (value.auth !== undefined) {
      if (!isObject(value.auth)) throw new Error(`${source}: configs."${host}".auth must be a mapping`);
      hostConfig.auth = pickStrings(value.auth, ['username', 'password', 'auth', 'identitytoken'], `${source}: configs."${host}".auth`);
    }
    if (value.tls !== undefined) {
      if (!isObject(value.tls)) throw new Error(`${source}: configs."${host}".tls must be a mapping`);
      const tls: RegistryTls = pickStrings(value.tls, ['ca_file', 'cert_file', 'key_file'], `${source}: configs."${host}".tls`);
      if (value.tls.insecure_skip_verify !== undefined) {
        if (typeof value.tls.insecure_skip_verify !== 'boolean') throw new Error(`${source}: configs."${host}".tls.insecure_skip_verify must be true or false`);
        tls.insecure_skip_verify = value.tls.insecure_skip_verify;
      }
      hostConfig.tls = tls;
    }
    config.configs[stripScheme(host)] = hostConfig;
  }
  return config;
}

/**
 * Where to fetch content of `registry` from: its mirrors (or the `*` mirror's)
 * in order, then the registry itself. `insecure` lists hosts reached over plain HTTP.
 */
export function endpointsFor(config: RegistriesConfig, registry: string, insecure: string[] = []): RegistryEndpoint[] {
  const endpoints: RegistryEndpoint[] = [];
  const mirror = config.mirrors[registry] ?? config.mirrors['*'];
  for (const raw of mirror?.endpoint ?? []) {
    const url = endpointUrl(raw, 'registries configuration');
    endpoints.push({ url: url.origin + url.pathname.replace(/\/+$/, '').replace(/\/v2$/, ''), host: url.host, mirror: true, ...(mirror?.rewrite ? { rewrite: mirror.rewrite } : {}), config: hostConfigFor(config, url.host) });
  }
  const upstream = upstreamUrl(registry, insecure);
  if (!endpoints.some((e) => e.url === upstream)) {
    endpoints.push({ url: upstream, host: registry, mirror: false, config: hostConfigFor(config, registry) });
  }
  return endpoints;
}

/** The endpoint a push to `registry` goes to (pushes never go to mirrors). */
export function pushEndpointFor(config: RegistriesConfig, registry: string, insecure: string[] = []): RegistryEndpoint {
  return { url: upstreamUrl(registry, insecure), host: registry, mirror: false, config: hostConfigFor(config, registry) };
}

/** The settings of `host` (`host:port` first, then the bare host). */
export function hostConfigFor(config: RegistriesConfig, host: string): RegistryHostConfig {
  return config.configs[host] ?? config.configs[host.replace(/:\d+$/, '')] ?? {};
}

/** `https://host`, or `http://host` for loopback hosts and hosts listed as insecure; Docker Hub's API host for docker.io. */
export function upstreamUrl(registry: string, insecure: string[] = []): string {
  if (registry === 'docker.io') return 'https://registry-1.docker.io';
  const hostname = registry.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const plain = hostname === 'localhost' || hostname === '::1' || hostname.startsWith('127.') || insecure.includes(registry) || insecure.includes(hostname);
  return `${plain ? 'http' : 'https'}://${registry}`;
}

function endpointUrl(raw: string, source: string): URL {
  const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`${source}: "${raw}" is not a URL (expected e.g. http://127.0.0.1:5000)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${source}: endpoint "${raw}" must use http or https`);
  return url;
}

function stripScheme(host: string): string {
  return host.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
}

function pickStrings<K extends string>(value: Record<string, unknown>, keys: K[], where: string): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const v = value[key];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new Error(`${where}.${key} must be a string`);
    out[key] = v;
  }
  return out;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
