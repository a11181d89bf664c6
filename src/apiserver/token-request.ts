/**
 * The TokenRequest API (POST serviceaccounts/{name}/token) and the
 * authenticator of the tokens it issues: RS256 JWTs signed by one RSA key of
 * the cluster, kept next to the PKI (`<data-dir>/tls/service-account.key`) so
 * tokens stay valid across restarts. Claims are the ones kube-apiserver puts
 * in bound tokens, so in-cluster clients (client-go, kubectl in a pod) accept them.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { conflict, fieldErrors, invalid, notFound, type FieldError } from '../apimachinery/errors.js';
import { isObject, type KubeObject } from '../apimachinery/types.js';
import type { UserInfo } from './auth.js';

/** Issuer and default audience of service-account tokens, as kube-apiserver's defaults on a cluster.local cluster. */
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Audiences the API server accepts (and puts in a token when the request names none). */
export const API_AUDIENCES = [SERVICE_ACCOUNT_ISSUER];
/** Lifetime of a token when the request does not say. */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** Shortest lifetime a request may ask for (ValidateTokenRequest). */
export const MIN_EXPIRATION_SECONDS = 600;
/** The ServiceAccount admission plugin's lifetime: such pod-bound tokens are silently extended (see below). */
const WARN_ONLY_EXPIRATION_SECONDS = 3607;
/** …to one year, with a `warnafter` claim at the requested hour (service-account-extend-token-expiration). */
const EXTENDED_EXPIRATION_SECONDS = 365 * 24 * 3600;

/** The private claim block Kubernetes adds to service-account tokens. */
export interface KubernetesClaims {
  namespace: string;
  serviceaccount: { name: string; uid: string };
  pod?: { name: string; uid: string };
  secret?: { name: string; uid: string };
  node?: { name: string; uid: string };
  warnafter?: number;
}

/** Claims of a service-account JWT. */
export interface ServiceAccountClaims {
  aud: string[];
  exp: number;
  iat: number;
  iss: string;
  jti: string;
  nbf: number;
  sub: string;
  'kubernetes.io': KubernetesClaims;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * Signs and verifies service-account JWTs with one RSA key. The key is read
 * (or generated, 2048 bits) on first use, so servers that never issue a token
 * pay nothing.
 */
export class ServiceAccountTokenIssuer {
  private keys?: { privateKey: KeyObject; publicKey: KeyObject; kid: string };

  /** `keyFile`: PEM (PKCS#8) of the signing key, created if missing; undefined keeps a key in memory only. */
  constructor(private readonly keyFile?: string) {}

  private load() {
    if (this.keys) return this.keys;
    let privateKey: KeyObject;
    if (this.keyFile && existsSync(this.keyFile)) {
      privateKey = createPrivateKey(readFileSync(this.keyFile));
    } else {
      privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
      if (this.keyFile) {
        mkdirSync(dirname(this.keyFile), { recursive: true, mode: 0o700 });
        writeFileSync(this.keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      }
    }
    const publicKey = createPublicKey(privateKey);
    // Key id as kube-apiserver derives it: base64url(SHA-256(DER of the public key)).
    const kid = b64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
    this.keys = { privateKey, publicKey, kid };
    return this.keys;
  }

  /** PEM of the public key (for an OIDC JWKS or a second API server). */
  publicKeyPem(): string {
    return this.load().publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  /** A compact RS256 JWT of `claims`. */
  sign(claims: ServiceAccountClaims): string {
    const { privateKey, kid } = this.load();
    const signingInput = `${b64url(JSON.stringify({ alg: 'RS256', kid }))}.${b64url(JSON.stringify(claims))}`;
    return `${signingInput}.${b64url(sign('sha256', Buffer.from(signingInput), privateKey))}`;
  }

  /**
   * The claims of a token this issuer signed that is valid at `nowSeconds`
   * (signature, issuer, audience, nbf/exp with Kubernetes' 60 s leeway), else undefined.
   */
  verify(token: string, nowSeconds = Math.floor(Date.now() / 1000)): ServiceAccountClaims | undefined {
    const parts = token.split('.');
    if (parts.length !== 3) return undefined;
    try {
      const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as { alg?: string };
      if (header.alg !== 'RS256') return undefined;
      const { publicKey } = this.load();
      if (!verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), publicKey, Buffer.from(parts[2], 'base64url'))) return undefined;
      const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as ServiceAccountClaims;
      if (claims.iss !== SERVICE_ACCOUNT_ISSUER) return undefined;
      const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!audiences.some((a) => API_AUDIENCES.includes(a))) return undefined;
      const leeway = 60;
      if (typeof claims.exp !== 'number' || claims.exp + leeway < nowSeconds) return undefined;
      if (typeof claims.nbf === 'number' && claims.nbf - leeway > nowSeconds) return undefined;
      if (!isObject(claims['kubernetes.io'])) return undefined;
      return claims;
    } catch {
      return undefined;
    }
  }
}

/** Reads of current objects the TokenRequest handler and the authenticator need. */
export interface TokenObjectLookups {
  serviceAccount(namespace: string, name: string): KubeObject | undefined;
  pod(namespace: string, name: string): KubeObject | undefined;
  secret(namespace: string, name: string): KubeObject | undefined;
  node(name: string): KubeObject | undefined;
}

interface BoundObjectRef {
  kind?: string;
  apiVersion?: string;
  name?: string;
  uid?: string;
}

/**
 * Handles `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token`:
 * validates the TokenRequest, checks the ServiceAccount (404) and bound object,
 * and returns the TokenRequest with `status.token` and `status.expirationTimestamp`.
 */
export function createTokenRequest(
  issuer: ServiceAccountTokenIssuer,
  lookups: TokenObjectLookups,
  namespace: string,
  name: string,
  body: unknown,
  nowMs = Date.now(),
): KubeObject {
  const request = isObject(body) ? body : {};
  const spec = isObject(request.spec) ? request.spec : {};
  const errors: FieldError[] = [];
  const expirationSeconds = spec.expirationSeconds === undefined || spec.expirationSeconds === null ? DEFAULT_EXPIRATION_SECONDS : Number(spec.expirationSeconds);
  if (!Number.isInteger(expirationSeconds) || expirationSeconds < MIN_EXPIRATION_SECONDS) {
    errors.push(fieldErrors.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes'));
  } else if (expirationSeconds > 2 ** 32) {
    errors.push(fieldErrors.tooLong('spec.expirationSeconds', 2 ** 32));
  }
  const audiences = Array.isArray(spec.audiences) && spec.audiences.length > 0 ? spec.audiences.map(String) : API_AUDIENCES;
  const bound = isObject(spec.boundObjectRef) ? (spec.boundObjectRef as BoundObjectRef) : undefined;
  if (bound && !['Pod', 'Secret', 'Node'].includes(bound.kind ?? '')) {
    errors.push(fieldErrors.notSupported('spec.boundObjectRef.kind', bound.kind ?? '', ['Pod', 'Secret', 'Node']));
  }
  if (errors.length) throw invalid('authentication.k8s.io', 'TokenRequest', name, errors);

  const sa = lookups.serviceAccount(namespace, name);
  if (!sa) throw notFound('', 'serviceaccounts', name);
  const claims: KubernetesClaims = { namespace, serviceaccount: { name, uid: sa.metadata.uid ?? '' } };
  let pod: KubeObject | undefined;
  if (bound) {
    const boundName = bound.name ?? '';
    const object =
      bound.kind === 'Pod' ? lookups.pod(namespace, boundName) : bound.kind === 'Secret' ? lookups.secret(namespace, boundName) : lookups.node(boundName);
    const resource = bound.kind === 'Pod' ? 'pods' : bound.kind === 'Secret' ? 'secrets' : 'nodes';
    if (!object) throw notFound('', resource, boundName);
    if (bound.uid && bound.uid !== object.metadata.uid) {
      throw conflict('', resource, boundName, `the UID in the bound object reference (${bound.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    const ref = { name: boundName, uid: object.metadata.uid ?? '' };
    if (bound.kind === 'Pod') {
      pod = object;
      claims.pod = ref;
      // Node info of the pod's node, as ServiceAccountTokenPodNodeInfo adds it.
      const nodeName = isObject(object.spec) && typeof object.spec.nodeName === 'string' ? object.spec.nodeName : '';
      const node = nodeName ? lookups.node(nodeName) : undefined;
      if (node) claims.node = { name: nodeName, uid: node.metadata.uid ?? '' };
    } else if (bound.kind === 'Secret') claims.secret = ref;
    else claims.node = ref;
  }

  const now = Math.floor(nowMs / 1000);
  let lifetime = expirationSeconds;
  if (pod && expirationSeconds === WARN_ONLY_EXPIRATION_SECONDS && audiences.every((a) => API_AUDIENCES.includes(a))) {
    claims.warnafter = now + expirationSeconds;
    lifetime = EXTENDED_EXPIRATION_SECONDS;
  }
  const token = issuer.sign({
    aud: audiences,
    exp: now + lifetime,
    iat: now,
    iss: SERVICE_ACCOUNT_ISSUER,
    jti: randomUUID(),
    nbf: now,
    sub: `system:serviceaccount:${namespace}:${name}`,
    'kubernetes.io': claims,
  });
  return {
    kind: 'TokenRequest',
    apiVersion: 'authentication.k8s.io/v1',
    metadata: { name, namespace, creationTimestamp: new Date(now * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    spec: {
      audiences,
      expirationSeconds,
      boundObjectRef: bound ? { kind: bound.kind, apiVersion: bound.apiVersion ?? 'v1', name: bound.name, ...(bound.uid ? { uid: bound.uid } : {}) } : null,
    },
    status: {
      token,
      expirationTimestamp: new Date((now + expirationSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    },
  };
}

/**
 * The user of a bearer token this cluster issued, or undefined when it is not
 * one (or no longer valid: expired, ServiceAccount or bound object deleted or replaced).
 */
export function authenticateServiceAccountToken(issuer: ServiceAccountTokenIssuer, lookups: TokenObjectLookups, token: string): UserInfo | undefined {
  // Cheap shape check first: static tokens never look like a JWT.
  if (!token.startsWith('eyJ')) return undefined;
  const claims = issuer.verify(token);
  if (!claims) return undefined;
  const k = claims['kubernetes.io'];
  const sa = lookups.serviceAccount(k.namespace, k.serviceaccount?.name ?? '');
  if (!sa || sa.metadata.uid !== k.serviceaccount.uid) return undefined;
  if (k.pod) {
    const pod = lookups.pod(k.namespace, k.pod.name);
    if (!pod || pod.metadata.uid !== k.pod.uid) return undefined;
  }
  if (k.secret) {
    const secret = lookups.secret(k.namespace, k.secret.name);
    if (!secret || secret.metadata.uid !== k.secret.uid) return undefined;
  }
  return {
    name: `system:serviceaccount:${k.namespace}:${k.serviceaccount.name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${k.namespace}`, 'system:authenticated'],
  };
}

