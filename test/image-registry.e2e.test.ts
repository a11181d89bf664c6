/**
 * The image store against the real CNCF registry (Debian's docker-registry),
 * started by this test on a free loopback port: push, pull into a fresh store,
 * skopeo reads what we pushed and the archives we write, and registries.yaml
 * mirrors resolve `nginx:1.19` to the local registry.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, get, type IncomingMessage, type ServerResponse } from 'node:http';
import { createPrivateKey, randomUUID, sign } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';
import { pipeline } from 'node:stream/promises';
import { createReadStream } from 'node:fs';
import { saveImages } from '../src/image/archive.js';
import { pullImage, pushImage } from '../src/image/registry.js';
import { parseRegistriesConfig } from '../src/image/registries-config.js';
import { ImageStore, imageId } from '../src/image/store.js';
import { PILOTE_BIN } from './helpers/cluster.js';

const run = promisify(execFile);

let dir: string;
let port: number;
const registries: TestRegistry[] = [];

interface TestRegistry {
  port: number;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** GET /v2/ status, or 0 while nothing listens. */
function v2Status(registryPort: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get(`http://127.0.0.1:${registryPort}/v2/`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
  });
}

/** Starts `docker-registry serve` with filesystem storage in the test's directory; `extra` is more YAML config. */
async function startRegistry(name: string, extra: string[] = []): Promise<TestRegistry> {
  const registryPort = await freePort();
  const config = join(dir, `${name}.yml`);
  writeFileSync(config, [
    'version: 0.1',
    'log: { level: error }',
    'storage:',
    `  filesystem: { rootdirectory: ${join(dir, `${name}-data`)} }`,
    '  delete: { enabled: true }',
    `http: { addr: "127.0.0.1:${registryPort}" }`,
    ...extra,
  ].join('\n'));
  const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const registry: TestRegistry = {
    port: registryPort,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
  registries.push(registry);
  const deadline = Date.now() + 15_000;
  while ((await v2Status(registryPort)) === 0) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    if (Date.now() > deadline) throw new Error(`docker-registry did not answer on ${registryPort}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 20)); // poll interval while the registry starts
  }
  return registry;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pilote-registry-e2e-'));
  port = (await startRegistry('open')).port;
});

after(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  rmSync(dir, { recursive: true, force: true });
});

/** An image with a static busybox as /bin/busybox and /bin/sh, stored under `names`. */
async function busyboxImage(store: ImageStore, names: string[]) {
  const rootfs = join(dir, `rootfs-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/usr/bin/busybox', join(rootfs, 'bin', 'busybox'));
  symlinkSync('busybox', join(rootfs, 'bin', 'sh'));
  const layerTar = `${rootfs}.tar`;
  await run('tar', ['-C', rootfs, '--numeric-owner', '--mtime=@0', '-cf', layerTar, 'bin']);
  const layer = await store.addLayerFromTar(layerTar);
  return store.writeImage({
    architecture: 'amd64', os: 'linux', created: new Date().toISOString(),
    config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  }, [layer], names);
}

/** Names of the files in a gzip layer blob. */
async function layerFiles(path: string): Promise<string[]> {
  const names: string[] = [];
  const extract = tar.extract();
  const done = pipeline(createReadStream(path), createGunzip(), extract);
  for await (const entry of extract) {
    names.push(entry.header.name);
    entry.resume();
  }
  await done;
  return names.sort();
}

test('push to docker-registry, skopeo inspects it, pull into a fresh store', async () => {
  const source = ImageStore.open(join(dir, 'source'));
  const name = `127.0.0.1:${port}/pilote-test/busybox:1`;
  const image = await busyboxImage(source, [name]);

  const lines: string[] = [];
  const pushed = await pushImage(source, name, undefined, { progress: (l) => lines.push(l) });
  assert.equal(pushed.digest, image.digest);
  assert.ok(lines.some((l) => l.endsWith(': pushed')), lines.join('\n'));
  const again: string[] = [];
  await pushImage(source, name, undefined, { progress: (l) => again.push(l) });
  assert.equal(again.filter((l) => l.endsWith('already exists')).length, 2, `layer and config are skipped the second time:\n${again.join('\n')}`);

  const { stdout } = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${name}`]);
  const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Architecture: string; Os: string };
  assert.equal(inspected.Digest, image.digest);
  assert.deepEqual(inspected.Layers, image.manifest.layers.map((l) => l.digest));
  assert.equal(inspected.Os, 'linux');

  const target = ImageStore.open(join(dir, 'target'));
  const pulled = await pullImage(target, name);
  assert.equal(pulled.digest, image.digest);
  assert.equal(imageId(pulled), imageId(image));
  assert.deepEqual(pulled.names, [name]);
  const layerPath = target.blobPath(pulled.manifest.layers[0]!.digest);
  assert.deepEqual(await layerFiles(layerPath), ['bin/', 'bin/busybox', 'bin/sh']);
  assert.deepEqual(readFileSync(layerPath), readFileSync(source.blobPath(image.manifest.layers[0]!.digest)));

  // What we pull, skopeo accepts as archives in both formats.
  for (const format of ['oci', 'docker'] as const) {
    const file = join(dir, `pulled-${format}.tar`);
    await saveImages(target, [name], file, format);
    const transport = format === 'oci' ? 'oci-archive' : 'docker-archive';
    await run('skopeo', ['copy', '-q', `${transport}:${file}`, `dir:${join(dir, `copy-${format}`)}`]);
    const copied = JSON.parse(readFileSync(join(dir, `copy-${format}`, 'manifest.json'), 'utf8')) as { config: { digest: string } };
    assert.equal(copied.config.digest, imageId(image));
  }
});

test('chunked upload (PATCH with Content-Range) is accepted and pulls back identical', async () => {
  const source = ImageStore.open(join(dir, 'chunked'));
  const name = `127.0.0.1:${port}/pilote-test/chunked:1`;
  const image = await busyboxImage(source, [name]);
  assert.ok(image.manifest.layers[0]!.size > 3 * 300_000, 'the layer spans several chunks');
  await pushImage(source, name, undefined, { chunkSize: 300_000 });
  const pulled = await pullImage(ImageStore.open(join(dir, 'chunked-back')), name);
  assert.equal(pulled.digest, image.digest);
});

test('pulling a missing image names it and leaves nothing behind', async () => {
  const store = ImageStore.open(join(dir, 'missing'));
  await assert.rejects(pullImage(store, `127.0.0.1:${port}/pilote-test/nothing:1`), /cannot pull 127\.0\.0\.1:\d+\/pilote-test\/nothing:1: .*not found/);
  assert.deepEqual(await store.list(), []);
});

test('registries.yaml mirrors docker.io: `pilote image pull nginx:1.19` comes from the local registry', async () => {
  const source = ImageStore.open(join(dir, 'mirror-source'));
  const mirrored = `127.0.0.1:${port}/library/nginx:1.19`;
  const image = await busyboxImage(source, [mirrored]);
  await pushImage(source, mirrored, undefined);

  const registries = join(dir, 'registries.yaml');
  writeFileSync(registries, `mirrors:\n  docker.io:\n    endpoint:\n      - "http://127.0.0.1:${port}"\n`);
  assert.deepEqual(parseRegistriesConfig(readFileSync(registries, 'utf8')).mirrors['docker.io']?.endpoint, [`http://127.0.0.1:${port}`]);

  const storeDir = join(dir, 'cli-store');
  const pull = await run(process.execPath, [PILOTE_BIN, 'image', 'pull', 'nginx:1.19', '--image-store', storeDir, '--registries', registries]);
  assert.match(pull.stdout, new RegExp(`pulling from http://127.0.0.1:${port}/library/nginx`));
  assert.match(pull.stdout, /Digest: sha256:/);
  const ls = await run(process.execPath, [PILOTE_BIN, 'image', 'ls', '--image-store', storeDir]);
  const rows = ls.stdout.trim().split('\n');
  assert.match(rows[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(rows[1]!, new RegExp(`^nginx\\s+1\\.19\\s+${imageId(image).slice(7, 19)}\\s+`));
  const stored = await ImageStore.open(storeDir).get('nginx:1.19');
  assert.equal(stored.digest, image.digest);
  assert.deepEqual(stored.names, ['docker.io/library/nginx:1.19']);
});

/** A bcrypt htpasswd line (docker-registry accepts only bcrypt), or undefined without python3's crypt. */
function htpasswdLine(user: string, password: string): string | undefined {
  try {
    const hash = execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))', password], { encoding: 'utf8' }).trim();
    return hash.startsWith('$2') ? `${user}:${hash}` : undefined;
  } catch {
    return undefined;
  }
}

test('basic auth (htpasswd): credentials from registries.yaml; without them a clear error', async (t) => {
  const line = htpasswdLine('pilote', 's3cret');
  if (!line) return t.skip('python3 crypt with bcrypt is not available to write an htpasswd file');
  writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
  const secured = await startRegistry('basic', ['auth:', `  htpasswd: { realm: pilote-test, path: ${join(dir, 'htpasswd')} }`]);
  assert.equal(await v2Status(secured.port), 401);
  const host = `127.0.0.1:${secured.port}`;
  const store = ImageStore.open(join(dir, 'basic-source'));
  const name = `${host}/team/app:1`;
  const image = await busyboxImage(store, [name]);

  await assert.rejects(pushImage(store, name, undefined), /needs a username and password; set configs."127\.0\.0\.1:\d+".auth/);
  const wrong = parseRegistriesConfig(`configs:\n  "${host}":\n    auth: { username: pilote, password: nope }\n`);
  await assert.rejects(pushImage(store, name, undefined, { registries: wrong }), /refused the credentials/);
  const right = parseRegistriesConfig(`configs:\n  "${host}":\n    auth: { username: pilote, password: s3cret }\n`);
  assert.equal((await pushImage(store, name, undefined, { registries: right })).digest, image.digest);
  const pulled = await pullImage(ImageStore.open(join(dir, 'basic-target')), name, { registries: right });
  assert.equal(pulled.digest, image.digest);
});

/**
 * A Docker token server (the protocol Docker Hub's auth.docker.io speaks) for
 * the real registry in `auth: token` mode: checks Basic credentials, grants
 * the scope asked for in an ES256 JWT whose x5c is our self-signed cert.
 */
async function startTokenServer(keyPem: string, certDer: Buffer, service: string, issuer: string, user: string, password: string) {
  const scopes: string[] = [];
  const key = createPrivateKey(keyPem);
  const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const scope = url.searchParams.get('scope') ?? '';
    scopes.push(scope);
    const [type, name, actions] = scope.split(':');
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [certDer.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: url.searchParams.get('service') ?? service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(),
      access: type ? [{ type, name, actions: (actions ?? '').split(',') }] : [] };
    const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token: `${signingInput}.${b64url(signature)}`, expires_in: 300 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return { port: address.port, scopes, close: () => new Promise((resolve) => server.close(resolve)) };
}

test('token auth: the registry\'s Bearer challenge, a token from its token server, push and pull', async () => {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.pem');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', keyFile, '-out', certFile,
    '-days', '1', '-subj', '/CN=pilote-test-token-signer']);
  const certDer = Buffer.from(readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const tokens = await startTokenServer(readFileSync(keyFile, 'utf8'), certDer, 'pilote-test-registry', 'pilote-test-issuer', 'robot', 'hunter2');
  try {
    const secured = await startRegistry('token', ['auth:', '  token:', `    realm: http://127.0.0.1:${tokens.port}/token`,
      '    service: pilote-test-registry', '    issuer: pilote-test-issuer', `    rootcertbundle: ${certFile}`]);
    const host = `127.0.0.1:${secured.port}`;
    const store = ImageStore.open(join(dir, 'token-source'));
    const name = `${host}/team/tokened:1`;
    const image = await busyboxImage(store, [name]);

    await assert.rejects(pushImage(store, name, undefined), /token from http:\/\/127\.0\.0\.1:\d+: access denied/);
    const registries = parseRegistriesConfig(`configs:\n  "${host}":\n    auth: { username: robot, password: hunter2 }\n`);
    assert.equal((await pushImage(store, name, undefined, { registries })).digest, image.digest);
    const pulled = await pullImage(ImageStore.open(join(dir, 'token-target')), name, { registries });
    assert.equal(pulled.digest, image.digest);
    assert.ok(tokens.scopes.includes('repository:team/tokened:push,pull'), tokens.scopes.join(' '));
    assert.ok(tokens.scopes.includes('repository:team/tokened:pull'), tokens.scopes.join(' '));
  } finally {
    await tokens.close();
  }
});
