/**
 * Image references, normalised as Docker does (github.com/distribution/reference):
 * `nginx` → `docker.io/library/nginx:latest`, `localhost:5000/x` keeps its
 * registry, `name@sha256:…` pins a digest. Everything that stores or looks up
 * images goes through {@link parseReference} so that one image has one name.
 */

/** A parsed, normalised image reference. */
export interface ImageReference {
  /** Registry host (and port), e.g. `docker.io`, `localhost:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/nginx`. */
  repository: string;
  /** Tag; `latest` when the text had neither tag nor digest. */
  tag?: string;
  /** `algorithm:hex`, e.g. `sha256:…`. */
  digest?: string;
}

/** The registry Docker assumes when a name has none. */
export const DEFAULT_REGISTRY = 'docker.io';
const LEGACY_DEFAULT_REGISTRY = 'index.docker.io';
const OFFICIAL_REPO_PREFIX = 'library/';
const MAX_NAME_LENGTH = 255;

// Grammar of distribution/reference (facts, not code): path components are
// lowercase alphanumerics joined by one of `.`, `_`, `__` or any run of `-`.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HEX64 = /^[a-f0-9]{64}$/;

/** Thrown for text that is not a valid image reference. */
export class InvalidReferenceError extends Error {
  constructor(text: string, reason: string) {
    super(`invalid image reference "${text}": ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

/**
 * Parses `text` into a normalised reference. A name without registry gets
 * `docker.io` (and `library/` for one-component names); a reference with
 * neither tag nor digest gets the tag `latest`.
 * @throws InvalidReferenceError with the reason (uppercase, bad tag, …).
 */
export function parseReference(text: string): ImageReference {
  const fail = (reason: string): never => {
    throw new InvalidReferenceError(text, reason);
  };
  if (text === '') fail('the name is empty');
  if (HEX64.test(text)) fail('a 64-character hexadecimal string is an image ID, not a name; use sha256:<id> or a name');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) fail(`"${digest}" is not a digest (expected algorithm:hex)`);
    const [algorithm, hex] = digest.split(':') as [string, string];
    if (algorithm === 'sha256' && !HEX64.test(hex)) fail('a sha256 digest has 64 lowercase hexadecimal characters');
  }

  let tag: string | undefined;
  // A tag follows the last ':' that comes after the last '/' (a ':' before it is a port).
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) fail(`"${tag}" is not a valid tag (letters, digits, _ . -, up to 128, not starting with . or -)`);
  }
  if (rest === '') fail('the name is empty');

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  if (slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase())) {
    registry = first;
    repository = rest.slice(slash + 1);
  } else {
    registry = DEFAULT_REGISTRY;
    repository = rest;
  }
  if (registry === LEGACY_DEFAULT_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !repository.includes('/')) repository = OFFICIAL_REPO_PREFIX + repository;

  validateRegistry(registry, fail);
  if (repository !== repository.toLowerCase()) fail('repository name must be lowercase');
  for (const component of repository.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      fail(`"${component}" is not a valid path component (lowercase letters, digits and single separators . _ __ -)`);
    }
  }
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) fail(`the name is longer than ${MAX_NAME_LENGTH} characters`);

  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository, ...(tag !== undefined ? { tag } : {}), ...(digest !== undefined ? { digest } : {}) };
}

function validateRegistry(registry: string, fail: (reason: string) => never): void {
  let host = registry;
  if (host.startsWith('[')) {
    // IPv6 literal: [::1]:5000
    const end = host.indexOf(']');
    if (end < 0) fail(`"${registry}" is not a valid registry host`);
    host = host.slice(end + 1);
    if (host === '') return;
    if (!/^:\d+$/.test(host)) fail(`"${registry}" is not a valid registry host`);
    return;
  }
  const colon = host.lastIndexOf(':');
  if (colon >= 0) {
    if (!/^\d+$/.test(host.slice(colon + 1))) fail(`"${registry}" has an invalid port`);
    host = host.slice(0, colon);
  }
  for (const part of host.split('.')) {
    if (!DOMAIN_COMPONENT.test(part)) fail(`"${registry}" is not a valid registry host`);
  }
}

/** The full form: `docker.io/library/nginx:latest`, `host:5000/a/b@sha256:…`. */
export function formatReference(ref: ImageReference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/** Normalises any accepted form to the full name (`nginx` → `docker.io/library/nginx:latest`). */
export function normalizeName(text: string): string {
  return formatReference(parseReference(text));
}

/** The repository name without tag or digest: `docker.io/library/nginx`. */
export function repositoryName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}

/**
 * The short form Docker shows: `docker.io/library/nginx:latest` → `nginx:latest`,
 * `docker.io/user/app:1` → `user/app:1`; other registries are kept.
 */
export function familiarName(full: string): string {
  const ref = parseReference(full);
  let name = familiarRepository(ref);
  if (ref.tag !== undefined) name += `:${ref.tag}`;
  if (ref.digest !== undefined) name += `@${ref.digest}`;
  return name;
}

/** The familiar repository without tag (`nginx`, `user/app`, `localhost:5000/app`), as `docker images` shows it. */
export function familiarRepository(ref: ImageReference): string {
  if (ref.registry !== DEFAULT_REGISTRY) return repositoryName(ref);
  const official = ref.repository.startsWith(OFFICIAL_REPO_PREFIX) && ref.repository.split('/').length === 2;
  return official ? ref.repository.slice(OFFICIAL_REPO_PREFIX.length) : ref.repository;
}
