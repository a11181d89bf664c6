/**
 * Reading the SNI name from real ClientHellos (sent by node:tls), and the
 * dispatcher handing connections to the TLS server whose default certificate
 * matches the key type of the certificate the name gets.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { connect, createSecureContext, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { clientHelloServerName, tlsDispatcher } from './tls-dispatch.js';
import { selfSignedCertificate } from './self-signed.js';

/** The first bytes a TLS client sends (its ClientHello record), with or without SNI. */
async function captureClientHello(servername: string | undefined): Promise<Buffer> {
  let client: TLSSocket | undefined;
  const hello = await new Promise<Buffer>((resolve, reject) => {
    const server = createNetServer((socket) => {
      let data = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        data = Buffer.concat([data, chunk]);
        if (data.length >= 5 && data.length >= 5 + data.readUInt16BE(3)) {
          socket.destroy();
          server.close();
          resolve(data);
        }
      });
    });
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      client = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
      client.on('error', () => undefined);
    });
    server.on('error', reject);
  });
  client?.destroy();
  return hello;
}

describe('ClientHello server name', () => {
  it('reads the SNI name of a real ClientHello, undefined without one, null while incomplete', async () => {
    const withName = await captureClientHello('Shop.Example.test');
    assert.equal(clientHelloServerName(withName), 'shop.example.test');
    assert.equal(clientHelloServerName(withName.subarray(0, 40)), null);
    assert.equal(clientHelloServerName(withName.subarray(0, 3)), null);
    // Clients send no SNI for IP addresses (node:tls, curl, browsers).
    assert.equal(clientHelloServerName(await captureClientHello(undefined)), undefined);
    assert.equal(clientHelloServerName(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
  });
});

describe('TLS dispatcher', () => {
  it('serves an RSA and an ECDSA certificate by SNI, over TLS 1.3 and 1.2, and the default without SNI', async () => {
    const [rsa, ec, fallbackRsa, fallbackEc] = await Promise.all([
      selfSignedCertificate(['rsa.test'], 'rsa.test', { keyType: 'rsa' }),
      selfSignedCertificate(['ec.test'], 'ec.test'),
      selfSignedCertificate(['ingress.local'], 'fallback', { keyType: 'rsa' }),
      selfSignedCertificate(['ingress.local'], 'fallback'),
    ]);
    const contexts: Record<string, ReturnType<typeof createSecureContext>> = { 'rsa.test': createSecureContext(rsa), 'ec.test': createSecureContext(ec) };
    const sniCallback = (name: string, callback: (error: Error | null, context?: ReturnType<typeof createSecureContext>) => void) => callback(null, contexts[name]);
    const servers = {
      rsa: createTlsServer({ ...fallbackRsa, SNICallback: sniCallback }, (socket) => socket.end('hello')),
      ec: createTlsServer({ ...fallbackEc, SNICallback: sniCallback }, (socket) => socket.end('hello')),
    };
    const dispatcher = tlsDispatcher((name) => (name === 'ec.test' ? servers.ec : servers.rsa));
    await new Promise<void>((resolve) => dispatcher.server.listen(0, '127.0.0.1', resolve));
    const { port } = dispatcher.server.address() as AddressInfo;
    const subject = (servername: string | undefined, maxVersion: 'TLSv1.2' | 'TLSv1.3') =>
      new Promise<string>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port, servername, maxVersion, rejectUnauthorized: false }, () => {
          const cert = new X509Certificate(socket.getPeerCertificate().raw);
          socket.on('data', () => undefined);
          socket.on('end', () => resolve(cert.subject));
        });
        socket.on('error', reject);
      });
    try {
      for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
        assert.equal(await subject('rsa.test', version), 'CN=rsa.test', version);
        assert.equal(await subject('ec.test', version), 'CN=ec.test', version);
        assert.equal(await subject(undefined, version), 'CN=fallback', version);
      }
    } finally {
      await dispatcher.close();
    }
  });
});
