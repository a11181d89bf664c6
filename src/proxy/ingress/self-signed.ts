/**
 * Self-signed certificates: the ingress controller's fallback certificate
 * (served when no Ingress TLS entry matches the SNI name, as Traefik's
 * "default cert"), and test fixtures for TLS Secrets.
 */
import { randomBytes, webcrypto } from 'node:crypto';

/** A PEM certificate and its PKCS#8 PEM private key. */
export interface PemKeyPair {
  cert: string;
  key: string;
}

/** Key algorithm of a generated certificate. */
export type CertificateKeyType = 'ecdsa' | 'rsa';

/**
 * Generates a self-signed server certificate for `dnsNames` (first one is the
 * CN): ECDSA P-256 by default, or RSA 2048 with `keyType: 'rsa'`.
 */
export async function selfSignedCertificate(dnsNames: string[], commonName = dnsNames[0] ?? 'localhost', options: { keyType?: CertificateKeyType } = {}): Promise<PemKeyPair> {
  // Loaded lazily: the library and its reflect polyfill cost ~100 ms at import.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg =
    options.keyType === 'rsa'
      ? ({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' } as const)
      : ({ name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const);
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions: InstanceType<typeof x509.Extension>[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
  ];
  if (dnsNames.length) extensions.push(new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value }))));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    keys,
    signingAlgorithm: alg,
    extensions,
  });
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return { cert: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n` };
}
