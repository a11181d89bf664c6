/**
 * Certificates by SNI name: Ingress `spec.tls` entries map hosts (exact or
 * `*.wildcard`) to `kubernetes.io/tls` Secrets of the Ingress' namespace.
 * The TLS server asks for a context per handshake (SNICallback); contexts are
 * built once per Secret version. Unknown names, and Secrets that are missing
 * or invalid, get the controller's self-signed fallback certificate.
 */
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
  private readonly contexts = new Map<string, { version: string; context: SecureContext | undefined }>();
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
    const secretKey = servername ? this.secretFor(servername) : undefined;
    if (!secretKey) return this.fallback;
    const secret = this.secrets.get(secretKey);
    if (!secret) return this.fallback;
    const version = secret.metadata.resourceVersion ?? '';
    const cached = this.contexts.get(secretKey);
    if (cached && cached.version === version) return cached.context ?? this.fallback;
    const context = buildContext(secret);
    this.contexts.set(secretKey, { version, context });
    return context ?? this.fallback;
  }

  /** Node's SNICallback. */
  readonly sniCallback = (servername: string, callback: (error: Error | null, context?: SecureContext) => void): void => {
    callback(null, this.contextFor(servername));
  };
}

function buildContext(secret: KubeObject): SecureContext | undefined {
  const data = (secret.data ?? {}) as Record<string, string>;
  const key = `${secret.metadata.namespace}/${secret.metadata.name}`;
  if (!data['tls.crt'] || !data['tls.key']) {
    log.warn('TLS secret lacks tls.crt or tls.key; serving the default certificate', { secret: key });
    return undefined;
  }
  try {
    return createSecureContext({ cert: Buffer.from(data['tls.crt'], 'base64'), key: Buffer.from(data['tls.key'], 'base64') });
  } catch (error) {
    log.warn('TLS secret does not hold a usable certificate and key; serving the default certificate', { secret: key, error });
    return undefined;
  }
}
