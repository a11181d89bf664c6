/**
 * The cluster's certificates: a CA, the API server's serving certificate and
 * an admin client certificate, generated once under the data directory
 * (ECDSA P-256: generation takes milliseconds) and reused on later starts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

/** PEM material the server and its clients need. */
export interface ClusterPki {
  caCert: string;
  /** The CA's private key: signs the kubelet's serving certificate and service-account-free client certificates. */
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  /** Bearer token of the admin user. */
  adminToken: string;
}

const files = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  serverCert: 'server.crt',
  serverKey: 'server.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
  adminToken: 'admin.token',
} as const;

/** IP SANs of the serving certificate; 10.43.0.1 is the `kubernetes` service's ClusterIP. */
export const SERVING_IPS = ['127.0.0.1', '::1', '10.43.0.1'];

/**
 * Loads the PKI from `<dataDir>/tls`, generating whatever is missing.
 * `servingIps` are added to the serving certificate's SANs when it is made
 * (the `kubernetes` service's address of another service range, the node's address).
 */
export async function loadOrCreatePki(dataDir: string, servingIps: string[] = []): Promise<ClusterPki> {
  const dir = join(dataDir, 'tls');
  const path = (name: keyof typeof files) => join(dir, files[name]);
  if (!Object.keys(files).every((name) => existsSync(path(name as keyof typeof files)))) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const generated = await generatePki(servingIps);
    for (const [name, pem] of Object.entries(generated)) {
      writeFileSync(path(name as keyof typeof files), pem, { mode: 0o600 });
    }
  }
  const read = (name: keyof typeof files) => readFileSync(path(name), 'utf8');
  return {
    caCert: read('caCert'),
    caKey: read('caKey'),
    serverCert: read('serverCert'),
    serverKey: read('serverKey'),
    adminCert: read('adminCert'),
    adminKey: read('adminKey'),
    adminToken: read('adminToken').trim(),
  };
}

async function generatePki(extraIps: string[]): Promise<Record<keyof typeof files, string>> {
  // Loaded only on first start: the library and its reflect polyfill cost ~100 ms.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const newKeys = () => webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
  const notBefore = new Date(Date.now() - 60_000);
  const years = (n: number) => new Date(Date.now() + n * 365 * 24 * 3600 * 1000);
  const serial = () => randomBytes(8).toString('hex').replace(/^[89a-f]/, '1');

  const caKeys = await newKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=pilote-ca',
    notBefore,
    notAfter: years(10),
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const issue = async (subject: string, usage: 'server' | 'client', sans: X509.JsonGeneralNames = []) => {
    const keys = await newKeys();
    const extensions: X509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(sans));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter: years(usage === 'server' ? 1 : 1),
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: alg,
      extensions,
    });
    return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) };
  };

  const dnsNames = ['localhost', hostname(), 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
  const server = await issue('CN=kube-apiserver', 'server', [
    ...dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...[...new Set([...SERVING_IPS, ...extraIps])].map((value) => ({ type: 'ip' as const, value })),
  ]);
  // Same identity k3s gives its admin: the system:masters group may do everything.
  const admin = await issue('CN=system:admin, O=system:masters', 'client');
  return {
    caCert: ca.toString('pem'),
    caKey: await keyPem(caKeys.privateKey),
    serverCert: server.cert,
    serverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    adminToken: randomBytes(24).toString('hex') + '\n',
  };
}

async function keyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  const body = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

/** Writes the admin kubeconfig (certificates embedded) and returns its path. */
export function writeKubeconfig(dataDir: string, pki: ClusterPki, serverUrl: string): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  const text = `apiVersion: v1
kind: Config
clusters:
- name: pilote
  cluster:
    server: ${serverUrl}
    certificate-authority-data: ${b64(pki.caCert)}
users:
- name: admin
  user:
    client-certificate-data: ${b64(pki.adminCert)}
    client-key-data: ${b64(pki.adminKey)}
contexts:
- name: pilote
  context:
    cluster: pilote
    user: admin
    namespace: default
current-context: pilote
preferences: {}
`;
  const path = join(dataDir, 'kubeconfig.yaml');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
