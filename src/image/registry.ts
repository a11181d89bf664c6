/**
 * OCI distribution client (the registry HTTP API v2): pull into and push from
 * the image store. Pull resolves through registries.yaml mirrors first, then
 * the registry; manifest lists / OCI indexes select linux/<this arch>; every
 * blob is verified against its digest before it enters the store. Auth: Bearer
 * tokens from the registry's WWW-Authenticate challenge, or Basic. Plain HTTP
 * for loopback registries, mirror endpoints given as http://, and hosts marked insecure.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { hostArchitecture } from './archive.js';
import { familiarName, formatReference, parseReference, type ImageReference } from './reference.js';
import { emptyRegistriesConfig, endpointsFor, pushEndpointFor, type RegistriesConfig, type RegistryEndpoint } from './registries-config.js';
import { MediaTypes, sha256Digest, type ImageStore } from './store.js';
import type { Descriptor, ImageManifest, StoredImage } from './types.js';
import { logger } from '../util/log.js';

const log = logger('registry');

const MANIFEST_ACCEPT = [MediaTypes.ociIndex, MediaTypes.dockerManifestList, MediaTypes.ociManifest, MediaTypes.dockerManifest].join(', ');
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 60_000;

/** Options of pulls and pushes. */
export interface RegistryOptions {
  /** Mirrors and credentials (registries.yaml). */
  registries?: RegistriesConfig;
  /** Registry hosts reached over plain HTTP besides loopback ones. */
  insecureRegistries?: string[];
  /** Push: upload blobs bigger than this in PATCH chunks of this size (0, the default: one PUT per blob). */
  chunkSize?: number;
  /** Receives one human-readable progress line per step and layer. */
  progress?: (line: string) => void;
}

/** An HTTP-level failure with the status and the registry's error text. */
export class RegistryError extends Error {
  constructor(message: string, readonly status?: number) {
    super(message);
    this.name = 'RegistryError';
  }
}

/**
 * Pulls `ref` (e.g. `nginx:1.19`) into the store and names it with the full
 * reference. Tries mirror endpoints first, then the registry itself.
 */
export async function pullImage(store: ImageStore, ref: string, options: RegistryOptions = {}): Promise<StoredImage> {
  const parsed = parseReference(ref);
  const name = formatReference(parsed);
  const progress = options.progress ?? (() => undefined);
  const endpoints = endpointsFor(options.registries ?? emptyRegistriesConfig(), parsed.registry, options.insecureRegistries);
  const failures: string[] = [];
  for (const endpoint of endpoints) {
    const repository = rewriteRepository(parsed.repository, endpoint);
    const client = new RegistryClient(endpoint, repository, 'pull');
    try {
      progress(`${familiarName(name)}: pulling from ${endpoint.url}/${repository}`);
      return await pullFrom(store, client, parsed, progress);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH'
        ? `no registry answers there (${code}); is it running?`
        : error instanceof Error ? error.message : String(error);
      failures.push(`${endpoint.url}: ${reason}`);
      log.debug('pull from endpoint failed', { endpoint: endpoint.url, repository, reason });
    }
  }
  const hint = endpoints.length === 1 && !endpoints[0]!.url.startsWith('http://')
    ? ' (on a machine without internet, configure a mirror in registries.yaml and pass --registries FILE)'
    : '';
  throw new RegistryError(`cannot pull ${familiarName(name)}: ${failures.join('; ')}${hint}`);
}

async function pullFrom(store: ImageStore, client: RegistryClient, ref: ImageReference, progress: (line: string) => void): Promise<StoredImage> {
  const wanted = ref.digest ?? ref.tag ?? 'latest';
  let { body, mediaType } = await client.getManifest(wanted);
  if (ref.digest !== undefined) verifyDigest(body, ref.digest, 'manifest');
  if (mediaType === MediaTypes.ociIndex || mediaType === MediaTypes.dockerManifestList) {
    const index = JSON.parse(body.toString('utf8')) as { manifests: (Descriptor & { platform?: { os?: string; architecture?: string; variant?: string } })[] };
    const arch = hostArchitecture();
    const chosen = index.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch);
    if (!chosen) {
      const available = index.manifests.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
      throw new RegistryError(`no linux/${arch} image in the manifest list (it has ${available})`);
    }
    ({ body, mediaType } = await client.getManifest(chosen.digest));
    verifyDigest(body, chosen.digest, 'manifest');
  }
  if (mediaType !== MediaTypes.ociManifest && mediaType !== MediaTypes.dockerManifest) {
    throw new RegistryError(`unsupported manifest type ${mediaType} (Pilote reads OCI and Docker schema 2 images)`);
  }
  const manifest = JSON.parse(body.toString('utf8')) as ImageManifest;
  await fetchBlob(store, client, manifest.config);
  for (const layer of manifest.layers) {
    const short = layer.digest.slice(7, 19);
    if (store.hasBlob(layer.digest)) {
      progress(`${short}: already exists`);
      continue;
    }
    progress(`${short}: pulling ${formatBytes(layer.size)}`);
    await fetchBlob(store, client, layer);
    progress(`${short}: pull complete`);
  }
  const names = ref.tag !== undefined ? [formatReference({ registry: ref.registry, repository: ref.repository, tag: ref.tag })] : [];
  // The manifest bytes are kept exactly as served: the image keeps the registry's digest.
  const image = await store.writeManifest(body, names);
  progress(`Digest: ${image.digest}`);
  progress(`Status: downloaded ${familiarName(formatReference(ref))}`);
  return image;
}

async function fetchBlob(store: ImageStore, client: RegistryClient, descriptor: Descriptor): Promise<void> {
  if (store.hasBlob(descriptor.digest)) return;
  const response = await client.getBlob(descriptor.digest);
  await store.putBlobStream(response, descriptor.mediaType, { digest: descriptor.digest, size: descriptor.size });
}

/** Result of a push. */
export interface PushResult {
  /** Full name pushed to. */
  name: string;
  /** Manifest digest in the registry. */
  digest: string;
  size: number;
}

/**
 * Pushes the local image `localRef` to `destination` (default: its own name,
 * e.g. `localhost:5000/app:1`). Blobs the registry has are skipped; others are
 * uploaded monolithically (POST then PUT ?digest=); then the manifest is PUT.
 */
export async function pushImage(store: ImageStore, localRef: string, destination: string | undefined, options: RegistryOptions = {}): Promise<PushResult> {
  const image = await store.get(localRef);
  const target = parseReference(destination ?? pickName(localRef, image));
  if (target.tag === undefined) throw new Error(`push needs a tag, not a digest: e.g. ${target.registry}/${target.repository}:latest`);
  const name = formatReference(target);
  const progress = options.progress ?? (() => undefined);
  const endpoint = pushEndpointFor(options.registries ?? emptyRegistriesConfig(), target.registry, options.insecureRegistries);
  const client = new RegistryClient(endpoint, target.repository, 'push,pull');
  progress(`The push refers to repository [${familiarName(name).replace(/:[^:/]+$/, '')}]`);
  for (const blob of [...image.manifest.layers, image.manifest.config]) {
    const short = blob.digest.slice(7, 19);
    if (await client.hasBlob(blob.digest)) {
      progress(`${short}: layer already exists`);
      continue;
    }
    progress(`${short}: pushing ${formatBytes(blob.size)}`);
    await client.uploadBlob(blob.digest, blob.size, (start, end) => (end < start ? Readable.from([]) : createReadStream(store.blobPath(blob.digest), { start, end })), options.chunkSize);
    progress(`${short}: pushed`);
  }
  const manifestBytes = readFileSync(store.blobPath(image.digest));
  const digest = await client.putManifest(target.tag, manifestBytes, image.manifest.mediaType ?? MediaTypes.ociManifest);
  if (digest !== image.digest) throw new RegistryError(`the registry stored the manifest as ${digest}, expected ${image.digest}`);
  progress(`${target.tag}: digest: ${digest} size: ${manifestBytes.length}`);
  return { name, digest, size: manifestBytes.length };
}

/** The name a push goes to when none is given: the ref itself if it is a name of the image, else its first name. */
function pickName(localRef: string, image: StoredImage): string {
  try {
    const full = formatReference(parseReference(localRef));
    if (image.names.includes(full)) return full;
  } catch {
    /* an ID */
  }
  const first = image.names[0];
  if (first === undefined) throw new Error(`image ${localRef} has no name; give one to push to (e.g. 'pilote image push ${localRef} localhost:5000/app:latest')`);
  return first;
}

// --- the HTTP client --------------------------------------------------------

interface Challenge {
  scheme: 'bearer' | 'basic';
  params: Record<string, string>;
}

/** Talks to one repository at one endpoint, handling auth challenges. */
export class RegistryClient {
  private authorization?: string;
  private readonly base: string;

  constructor(private readonly endpoint: RegistryEndpoint, readonly repository: string, private readonly actions: string) {
    this.base = `${endpoint.url}/v2/${repository}`;
  }

  /** GET a manifest by tag or digest; returns the bytes and the media type. */
  async getManifest(reference: string): Promise<{ body: Buffer; mediaType: string }> {
    const response = await this.send('GET', `${this.base}/manifests/${reference}`, { Accept: MANIFEST_ACCEPT });
    if (response.statusCode !== 200) throw await statusError(response, `manifest ${this.repository}:${reference}`);
    const body = await readBody(response, MAX_MANIFEST_BYTES);
    const header = (response.headers['content-type'] ?? '').split(';')[0]!.trim();
    const declared = (JSON.parse(body.toString('utf8')) as { mediaType?: string }).mediaType;
    return { body, mediaType: declared ?? header };
  }

  /** GET a blob; the response stream (redirects followed). */
  async getBlob(digest: string): Promise<IncomingMessage> {
    const response = await this.send('GET', `${this.base}/blobs/${digest}`, {});
    if (response.statusCode !== 200) throw await statusError(response, `blob ${digest}`);
    return response;
  }

  /** HEAD a blob: whether the registry has it in this repository. */
  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.send('HEAD', `${this.base}/blobs/${digest}`, {});
    response.resume();
    if (response.statusCode === 200) return true;
    if (response.statusCode === 404) return false;
    throw await statusError(response, `blob ${digest}`);
  }

  /**
   * Uploads a blob: POST starts a session; then one PUT ?digest= with the
   * content (monolithic), or PATCHes of `chunkSize` bytes with Content-Range
   * followed by an empty PUT ?digest= (chunked, for big layers on flaky links).
   * `open(start, end)` streams bytes start..end (inclusive) of the blob.
   */
  async uploadBlob(digest: string, size: number, open: (start: number, end: number) => Readable, chunkSize = 0): Promise<void> {
    const start = await this.send('POST', `${this.base}/blobs/uploads/`, { 'Content-Length': '0' });
    start.resume();
    if (start.statusCode !== 202) throw await statusError(start, `starting the upload of ${digest}`);
    let location = this.uploadLocation(start, digest);
    if (chunkSize > 0 && size > chunkSize) {
      for (let offset = 0; offset < size; offset += chunkSize) {
        const end = Math.min(size, offset + chunkSize) - 1;
        const patch = await this.send('PATCH', location.toString(), {
          'Content-Type': 'application/octet-stream', 'Content-Length': String(end - offset + 1), 'Content-Range': `${offset}-${end}`,
        }, () => open(offset, end));
        patch.resume();
        if (patch.statusCode !== 202) throw await statusError(patch, `uploading bytes ${offset}-${end} of ${digest}`);
        location = this.uploadLocation(patch, digest);
      }
      location.searchParams.set('digest', digest);
      const done = await this.send('PUT', location.toString(), { 'Content-Length': '0' });
      done.resume();
      if (done.statusCode !== 201) throw await statusError(done, `completing the upload of ${digest}`);
      return;
    }
    location.searchParams.set('digest', digest);
    const done = await this.send('PUT', location.toString(), { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, () => open(0, size - 1));
    done.resume();
    if (done.statusCode !== 201) throw await statusError(done, `uploading ${digest}`);
  }

  private uploadLocation(response: IncomingMessage, digest: string): URL {
    const location = response.headers.location;
    if (!location) throw new RegistryError(`the registry answered the upload of ${digest} without a Location header`);
    return new URL(location, this.endpoint.url + '/');
  }

  /** PUT a manifest under a tag; returns the digest the registry reports. */
  async putManifest(tag: string, body: Buffer, mediaType: string): Promise<string> {
    const response = await this.send('PUT', `${this.base}/manifests/${tag}`, { 'Content-Type': mediaType, 'Content-Length': String(body.length) }, () => body);
    response.resume();
    if (response.statusCode !== 201) throw await statusError(response, `manifest ${this.repository}:${tag}`);
    const header = response.headers['docker-content-digest'];
    return typeof header === 'string' ? header : sha256Digest(body);
  }

  /** Sends a request; on 401 answers the challenge once and retries. Redirects are followed for GET/HEAD. */
  private async send(method: string, url: string, headers: Record<string, string>, body?: () => Readable | Buffer): Promise<IncomingMessage> {
    let response = await this.raw(method, url, this.withAuth(headers), body);
    if (response.statusCode === 401) {
      const challenge = parseChallenge(response.headers['www-authenticate']);
      response.resume();
      if (!challenge) throw new RegistryError(`${url}: unauthorized and no WWW-Authenticate challenge`, 401);
      await this.authenticate(challenge);
      response = await this.raw(method, url, this.withAuth(headers), body);
      if (response.statusCode === 401) {
        response.resume();
        throw new RegistryError(`${this.endpoint.host} refused the credentials for ${this.repository} (401); set them under configs."${this.endpoint.host}".auth in registries.yaml`, 401);
      }
    }
    return response;
  }

  private withAuth(headers: Record<string, string>): Record<string, string> {
    return this.authorization ? { ...headers, Authorization: this.authorization } : headers;
  }

  private async authenticate(challenge: Challenge): Promise<void> {
    const basic = basicCredentials(this.endpoint);
    if (challenge.scheme === 'basic') {
      if (!basic) throw new RegistryError(`${this.endpoint.host} needs a username and password; set configs."${this.endpoint.host}".auth in registries.yaml`, 401);
      this.authorization = `Basic ${basic}`;
      return;
    }
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError(`${this.endpoint.host} sent a Bearer challenge without realm`);
    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    tokenUrl.searchParams.set('scope', `repository:${this.repository}:${this.actions}`);
    const headers: Record<string, string> = {};
    if (basic) headers.Authorization = `Basic ${basic}`;
    const response = await this.raw('GET', tokenUrl.toString(), headers);
    if (response.statusCode !== 200) throw await statusError(response, `a token from ${tokenUrl.origin}`);
    const answer = JSON.parse((await readBody(response, 1024 * 1024)).toString('utf8')) as { token?: string; access_token?: string };
    const token = answer.token ?? answer.access_token;
    if (!token) throw new RegistryError(`the token endpoint ${tokenUrl.origin} returned no token`);
    this.authorization = `Bearer ${token}`;
  }

  private async raw(method: string, url: string, headers: Record<string, string>, body?: () => Readable | Buffer, redirects = 0): Promise<IncomingMessage> {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls = this.endpoint.config.tls;
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(target, {
        method,
        headers: { 'User-Agent': 'pilote', ...headers },
        timeout: REQUEST_TIMEOUT_MS,
        ...(target.protocol === 'https:' && tls
          ? { rejectUnauthorized: !tls.insecure_skip_verify, ...(tls.ca_file ? { ca: readFileSync(tls.ca_file) } : {}),
              ...(tls.cert_file ? { cert: readFileSync(tls.cert_file) } : {}), ...(tls.key_file ? { key: readFileSync(tls.key_file) } : {}) }
          : {}),
      }, resolve);
      req.on('timeout', () => req.destroy(new RegistryError(`${method} ${target.origin}${target.pathname} timed out`)));
      req.on('error', reject);
      const content = body?.();
      if (content === undefined) req.end();
      else if (Buffer.isBuffer(content)) req.end(content);
      else {
        content.on('error', (error) => req.destroy(error));
        content.pipe(req);
      }
    });
    const status = response.statusCode ?? 0;
    if ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(status) && response.headers.location && redirects < 5) {
      response.resume();
      // Blob storage redirects (S3 etc.) carry their own credentials in the URL.
      const next = new URL(response.headers.location, url);
      const keep = next.host === target.host ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'Authorization'));
      return this.raw(method, next.toString(), keep, body, redirects + 1);
    }
    return response;
  }
}

function basicCredentials(endpoint: RegistryEndpoint): string | undefined {
  const auth = endpoint.config.auth;
  if (!auth) return undefined;
  if (auth.auth) return auth.auth;
  if (auth.username !== undefined) return Buffer.from(`${auth.username}:${auth.password ?? ''}`).toString('base64');
  return undefined;
}

/** Parses `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`. */
export function parseChallenge(header: string | undefined): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'basic') return undefined;
  const params: Record<string, string> = {};
  for (const m of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme, params };
}

function rewriteRepository(repository: string, endpoint: RegistryEndpoint): string {
  for (const [pattern, replacement] of Object.entries(endpoint.rewrite ?? {})) {
    const re = new RegExp(pattern);
    if (re.test(repository)) return repository.replace(re, replacement);
  }
  return repository;
}

function verifyDigest(body: Buffer, expected: string, what: string): void {
  const actual = sha256Digest(body);
  if (actual !== expected) throw new RegistryError(`${what} content does not match its digest: expected ${expected}, got ${actual}`);
}

async function readBody(response: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response) {
    total += (chunk as Buffer).length;
    if (total > limit) {
      response.destroy();
      throw new RegistryError(`response larger than ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function statusError(response: IncomingMessage, what: string): Promise<RegistryError> {
  let detail = '';
  try {
    const text = (await readBody(response, 64 * 1024)).toString('utf8');
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    detail = (parsed.errors ?? []).map((e) => `${e.code ?? ''} ${e.message ?? ''}`.trim()).join('; ');
  } catch {
    /* no JSON error body */
  }
  const status = response.statusCode ?? 0;
  const hint = status === 404 ? 'not found' : status === 401 || status === 403 ? 'access denied' : `HTTP ${status}`;
  return new RegistryError(`${what}: ${hint}${detail ? ` (${detail})` : ''}`, status);
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
