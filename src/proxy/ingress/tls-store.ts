/**
 * Certificates by SNI name: Ingress `spec.tls` entries map hosts (exact or
 * `*.wildcard`) to `kubernetes.io/tls` Secrets of the Ingress' namespace.
 * The TLS server asks for a context per handshake (SNICallback); contexts are
 * built once per Secret version. Unknown names, and Secrets that are missing
 * or invalid, get the controller's self-signed fallback certificate.
 */
import { X509Certificate } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { KubeObject } from '../../apimachinery/types.js';
import type { Informer } from '../../client/informer.js';
import { logger } from '../../util/log.js';
import { ingressOrder, tlsHosts } from './routing.js';

const log = logger('ingress');

/** Picks the certificate for a TLS handshake. */
export class TlsStore {
  private exact = new Map<string, string>();
  /** ".example.com" → secret key, from `*.example.com` entries. */
  private wildcard = new Map<string, string>();
  private readonly contexts = new Map<string, { version: string; context: SecureContext | undefined; keyType: string | undefined }>();
  readonly fallback: SecureContext;

  constructor(
    private readonly secrets: Informer,
    fallback: { cert: string; key: string },
  ) {
    this.fallback = createSecureContext(fallback);
  }

  /** Rebuilds the host → Secret map from the Ingresses served (the oldest Ingress wins a host). */
  update(ingresses: KubeObject[]): void {
    const exact = new Map<string, string>();
    const wildcard = new Map<string, string>();
    for (const ingress of [...ingresses].sort((a, b) => (ingressOrder(a) < ingressOrder(b) ? -1 : 1))) {
      for (const { host, secret } of tlsHosts(ingress)) {
        const [map, key] = host.startsWith('*.') ? [wildcard, host.slice(1)] : [exact, host];
        if (!map.has(key)) map.set(key, secret);
      }
    }
    this.exact = exact;
    this.wildcard = wildcard;
  }

  /** The secret key (namespace/name) serving `servername`, if an Ingress names one. */
  secretFor(servername: string): string | undefined {
    const name = servername.toLowerCase().replace(/\.$/, '');
    const exact = this.exact.get(name);
    if (exact) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? this.wildcard.get(name.slice(dot)) : undefined;
  }

  /** The TLS context for a handshake's SNI name (the fallback when nothing better fits). */
  contextFor(servername: string | undefined): SecureContext {
    return this.entryFor(servername)?.context ?? this.fallback;
  }

  /**
   * The key type (`rsa`, `ec`, … as node:crypto names it) of the certificate
   * the SNI name gets from a Secret; undefined when it gets the fallback.
   */
  keyTypeFor(servername: string | undefined): string | undefined {
    const entry = this.entryFor(servername);
    return entry?.context ? entry.keyType : undefined;
  }

  private entryFor(servername: string | undefined) {
    const secretKey = servername ? this.secretFor(servername) : undefined;
    if (!secretKey) return undefined;
    const secret = this.secrets.get(secretKey);
    if (!secret) return undefined;
    const version = secret.metadata.resourceVersion ?? '';
    const cached = this.contexts.get(secretKey);
    if (cached && cached.version === version) return cached;
    const entry = { version, ...buildContext(secret) };
    this.contexts.set(secretKey, entry);
    return entry;
  }

  /** Node's SNICallback. */
  readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
    callback(null, this.contextFor(servername));
  };
}

function buildContext(secret: KubeObject): { context: SecureContext | undefined; keyType: string | undefined } {
  const data = (secret.data ?? {}) as Record<string, string>;
  const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
  if (!data['tls.crt'] || !data['tls.key']) {
    log.warn('TLS secret lacks tls.crt or tls.key; serving the default certificate', { secret: key });
    return { context: undefined, keyType: undefined };
  }
  try {
    const cert = Buffer.from(data['tls.crt'], 'base64');
    const context = createSecureContext({ cert, key: Buffer.from(data['tls.key'], 'base64') });
    // The leaf is the first certificate of the chain.
    return { context, keyType: new X509Certificate(cert).publicKey.asymmetricKeyType };
  } catch (error) {
    log.warn('TLS secret does not hold a usable certificate and key; serving the default certificate', { secret: key, error });
    return { context: undefined, keyType: undefined };
  }
}
