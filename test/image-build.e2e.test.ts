/**
 * End-to-end: `pilote build` without a daemon, on a fresh temporary image
 * store. The tutorial's busybox Dockerfile (FROM scratch / ADD busybox.tar.xz
 * / CMD ["sh"]) builds from Debian's busybox-static, skopeo accepts the
 * result as an OCI image (inspect, and copy which verifies every digest), and
 * its rootfs runs busybox in a runc container. A multi-stage build with RUN
 * (in runc), COPY --from, USER, WORKDIR, ENV gives the expected files and
 * config; rebuilds hit the cache, and changing the last COPY rebuilds only
 * that layer. Bad input names the Dockerfile line and leaves no image.
 * No internet: every image is built FROM scratch + busybox.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ImageStore } from '../src/image/store.js';
import { build } from '../src/image/build/builder.js';
import { materialize } from '../src/image/build/rootfs.js';
import { runInContainer } from '../src/image/build/run.js';
import type { StoredImage } from '../src/image/types.js';
import { pullImage } from '../src/image/registry.js';

const execFileAsync = promisify(execFile);
const REPO = resolve(import.meta.dirname, '..', '..');
const PILOTE = join(REPO, 'dist', 'src', 'cmd', 'pilote.js');
const EXAMPLES = join(REPO, 'examples', 'images');

const work = mkdtempSync(join(tmpdir(), 'pilote-build-e2e-'));
const storeDir = join(work, 'store');
let store: ImageStore;

/** Runs `pilote build` as a user would; resolves with its exit code and output. */
async function piloteBuild(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, [PILOTE, 'build', '--image-store', storeDir, ...args], {
      env: { ...process.env, PILOTE_LOG_LEVEL: 'error' },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A build context directory with these files. */
function context(name: string, files: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

/** Extracts an image's layers into a new directory. */
async function rootfsOf(image: StoredImage, from: ImageStore = store): Promise<string> {
  const dir = mkdtempSync(join(work, 'rootfs-'));
  chmodSync(dir, 0o755);
  await materialize(dir, image.manifest.layers.map((d) => ({ path: from.blobPath(d.digest), mediaType: d.mediaType })));
  return dir;
}

before(() => {
  store = ImageStore.open(storeDir);
});
after(() => rmSync(work, { recursive: true, force: true }));

describe('pilote build: the tutorial busybox image', () => {
  const ctx = join(work, 'busybox');
  let image: StoredImage;

  before(() => {
    mkdirSync(ctx, { recursive: true });
    cpSync(join(EXAMPLES, 'busybox', 'Dockerfile'), join(ctx, 'Dockerfile'));
    execFileSync('sh', [join(EXAMPLES, 'busybox', 'make-rootfs.sh'), join(ctx, 'busybox.tar.xz')], { stdio: 'ignore' });
  });

  it('builds FROM scratch / ADD busybox.tar.xz / CMD ["sh"] with per-step progress', async () => {
    assert.equal(readFileSync(join(ctx, 'Dockerfile'), 'utf8'), 'FROM scratch\nADD busybox.tar.xz /\nCMD ["sh"]\n');
    const result = await piloteBuild(['-t', 'busybox:latest', ctx]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^\[1\/3\] FROM scratch$/m);
    assert.match(result.stderr, /^\[2\/3\] ADD busybox.tar.xz \/$/m);
    assert.match(result.stderr, /^\[3\/3\] CMD \["sh"\]$/m);
    assert.match(result.stderr, /^Successfully tagged docker.io\/library\/busybox:latest$/m);
    image = (await store.resolve('busybox'))!;
    assert.ok(image, 'busybox:latest is in the store');
    assert.deepEqual(image.config.config.Cmd, ['sh']);
    assert.equal(image.manifest.layers.length, 1);
    assert.match(result.stderr, new RegExp(`Successfully built ${image.manifest.config.digest}`));
  });

  it('is a valid OCI image for skopeo (inspect, and copy verifying every digest)', async () => {
    const ref = `oci:${storeDir}:docker.io/library/busybox:latest`;
    const { stdout } = await execFileAsync('skopeo', ['inspect', ref]);
    const inspected = JSON.parse(stdout) as { Digest: string; Layers: string[]; Os: string; Architecture: string };
    assert.equal(inspected.Digest, image.digest);
    assert.deepEqual(inspected.Layers, image.manifest.layers.map((l) => l.digest));
    assert.equal(inspected.Os, 'linux');
    const copyDir = join(work, 'skopeo-copy');
    await execFileAsync('skopeo', ['copy', ref, `dir:${copyDir}`]);
    assert.ok(existsSync(join(copyDir, 'manifest.json')));
    const config = JSON.parse((await execFileAsync('skopeo', ['inspect', '--config', ref])).stdout) as { rootfs: { diff_ids: string[] } };
    assert.deepEqual(config.rootfs.diff_ids, image.config.rootfs.diff_ids);
    // Exported as an OCI archive (what the node imports), skopeo reads the same image.
    const archive = join(work, 'busybox-oci.tar');
    await store.exportOciArchive(['busybox:latest'], archive);
    const fromArchive = JSON.parse((await execFileAsync('skopeo', ['inspect', `oci-archive:${archive}`])).stdout) as { Digest: string };
    assert.equal(fromArchive.Digest, image.digest);
  });

  it('runs: busybox prints from a runc container on the image rootfs', async () => {
    const rootfs = await rootfsOf(image);
    let output = '';
    await runInContainer({
      rootfs,
      args: [...(image.config.config.Cmd ?? []), '-c', 'busybox echo hello from busybox; ls /bin/busybox'],
      env: image.config.config.Env ?? [],
      cwd: '/',
      output: (chunk) => (output += chunk.toString()),
    });
    assert.equal(output, 'hello from busybox\n/bin/busybox\n');
  });

  it('a rebuild reuses the layer and gives the same image', async () => {
    const result = await piloteBuild(['-t', 'busybox:latest', ctx]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^\[2\/3\] ADD busybox.tar.xz \/ CACHED$/m);
    assert.equal((await store.resolve('busybox'))!.digest, image.digest);
  });
});

describe('pilote build: multi-stage, RUN, COPY --from, USER, WORKDIR, ENV, cache', () => {
  const dockerfile = [
    'ARG BASE=busybox',
    'FROM ${BASE}:latest AS builder',
    'ARG GREETING=hello',
    'ENV APP_HOME=/opt/app \\',
    '    MODE="production build"',
    'WORKDIR $APP_HOME',
    'RUN echo "$GREETING from $MODE" > greeting.txt && mkdir -p lib && echo util > lib/util.txt && rm /bin/vi',
    'COPY src/ ./src/',
    'RUN rm -rf /var && mkdir /var && echo only > /var/only',
    'RUN ["/bin/sh", "-c", "echo exec form > /opt/app/exec.txt"]',
    'FROM busybox',
    'LABEL org.example.name="multi stage"',
    'ENV PATH=/opt/app/bin:$PATH',
    // Debian's busybox has no adduser: the user is added the old way.
    "RUN echo 'app:x:1234:1234:app:/home/app:/bin/sh' >> /etc/passwd && echo 'app:x:1234:' >> /etc/group",
    'COPY --from=builder --chown=app /opt/app/ /srv/app/',
    'USER app',
    'WORKDIR /srv/app',
    'RUN id -u > whoami.txt && cat greeting.txt',
    'EXPOSE 8080 53/udp',
    'ENV LEGACY legacy value',
    'MAINTAINER Gégé Rasolo',
    'STOPSIGNAL SIGQUIT',
    'VOLUME ["/data"]',
    'ENTRYPOINT ["sh", "-c"]',
    'CMD ["cat /srv/app/greeting.txt"]',
    'COPY last.txt /srv/app/last.txt',
    '',
  ].join('\n');
  let ctx: string;
  let first: Awaited<ReturnType<typeof build>>;
  const quiet = () => undefined;

  before(async () => {
    ctx = context('multi', { Dockerfile: dockerfile, 'src/main.sh': 'echo main\n', 'last.txt': 'v1\n' });
    if (!(await store.resolve('busybox'))) {
      const bb = join(work, 'busybox-base');
      mkdirSync(bb, { recursive: true });
      cpSync(join(EXAMPLES, 'busybox', 'Dockerfile'), join(bb, 'Dockerfile'));
      execFileSync('sh', [join(EXAMPLES, 'busybox', 'make-rootfs.sh'), join(bb, 'busybox.tar.xz')], { stdio: 'ignore' });
      await build({ contextDir: bb, tags: ['busybox:latest'], store, progress: quiet });
    }
  });

  it('produces the expected files and config', async () => {
    let progress = '';
    first = await build({ contextDir: ctx, tags: ['multi:1'], buildArgs: { GREETING: 'bonjour' }, store, progress: (t) => (progress += t) });
    assert.match(progress, /^bonjour from production build$/m, 'RUN output is streamed to the progress');
    const image = (await store.resolve('multi:1'))!;
    const cfg = image.config.config;
    assert.equal(cfg.User, 'app');
    assert.equal(cfg.WorkingDir, '/srv/app');
    assert.ok(cfg.Env?.includes('PATH=/opt/app/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'), JSON.stringify(cfg.Env));
    assert.ok(!cfg.Env?.some((e) => e.startsWith('GREETING=')), 'ARGs are not persisted in the image');
    assert.deepEqual(cfg.Entrypoint, ['sh', '-c']);
    assert.deepEqual(cfg.Cmd, ['cat /srv/app/greeting.txt']);
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(cfg.Labels, { 'org.example.name': 'multi stage' });
    assert.ok(cfg.Env?.includes('LEGACY=legacy value'), 'ENV key value (legacy form)');
    assert.equal(image.config.author, 'Gégé Rasolo');
    assert.equal(cfg.StopSignal, 'SIGQUIT');
    assert.deepEqual(cfg.Volumes, { '/data': {} });

    const rootfs = await rootfsOf(image);
    assert.equal(readFileSync(join(rootfs, 'srv/app/greeting.txt'), 'utf8'), 'bonjour from production build\n');
    assert.equal(readFileSync(join(rootfs, 'srv/app/lib/util.txt'), 'utf8'), 'util\n');
    assert.equal(readFileSync(join(rootfs, 'srv/app/src/main.sh'), 'utf8'), 'echo main\n');
    assert.equal(readFileSync(join(rootfs, 'srv/app/whoami.txt'), 'utf8'), '1234\n', 'RUN ran as USER app');
    assert.equal(readFileSync(join(rootfs, 'srv/app/last.txt'), 'utf8'), 'v1\n');
    const owner = execFileSync('stat', ['-c', '%u:%g', join(rootfs, 'srv/app/greeting.txt')], { encoding: 'utf8' }).trim();
    assert.equal(owner, '1234:1234', 'COPY --chown=app');
    assert.ok(existsSync(join(rootfs, 'bin/vi')), 'the builder stage deleted /bin/vi, not the final one');
    assert.ok(!existsSync(join(rootfs, 'opt/app')), 'nothing of the builder stage but what was copied');
    // Layers: busybox + the user + COPY --from + RUN + COPY.
    assert.equal(image.manifest.layers.length, 5);
  });

  it('a rebuild hits the cache for every layer and yields the same image', async () => {
    const again = await build({ contextDir: ctx, tags: ['multi:1'], buildArgs: { GREETING: 'bonjour' }, store, progress: quiet });
    const layerSteps = again.steps.filter((s) => s.status !== 'metadata');
    assert.ok(layerSteps.length >= 6);
    assert.deepEqual(layerSteps.filter((s) => s.status !== 'cached'), []);
    assert.equal(again.image.digest, first.image.digest);
  });

  it('changing the file of the last COPY rebuilds only that layer', async () => {
    writeFileSync(join(ctx, 'last.txt'), 'v2\n');
    const changed = await build({ contextDir: ctx, tags: ['multi:2'], buildArgs: { GREETING: 'bonjour' }, store, progress: quiet });
    const built = changed.steps.filter((s) => s.status === 'built');
    assert.deepEqual(built.map((s) => s.text), ['COPY last.txt /srv/app/last.txt']);
    const before = first.image.manifest.layers.map((l) => l.digest);
    const after = changed.image.manifest.layers.map((l) => l.digest);
    assert.deepEqual(after.slice(0, -1), before.slice(0, -1));
    assert.notEqual(after.at(-1), before.at(-1));
  });

  it('a different build-arg rebuilds from the RUN that sees it', async () => {
    const other = await build({ contextDir: ctx, tags: ['multi:3'], buildArgs: { GREETING: 'salut' }, store, progress: quiet });
    const firstBuilt = other.steps.find((s) => s.status === 'built');
    assert.match(firstBuilt!.text, /^RUN echo "\$GREETING/);
  });

  it('--target builds one stage', async () => {
    const result = await piloteBuild(['--target', 'builder', '--build-arg', 'GREETING=bonjour', '-t', 'multi:builder', ctx]);
    assert.equal(result.code, 0, result.stderr);
    const image = (await store.resolve('multi:builder'))!;
    assert.equal(image.config.config.WorkingDir, '/opt/app');
    const rootfs = await rootfsOf(image);
    assert.ok(!existsSync(join(rootfs, 'bin/vi')), 'RUN rm /bin/vi became a whiteout');
    assert.ok(existsSync(join(rootfs, 'bin/sh')));
    assert.deepEqual(readdirSync(join(rootfs, 'var')), ['only'], 'a directory deleted and recreated hides what was below');
    assert.equal(readFileSync(join(rootfs, 'opt/app/src/main.sh'), 'utf8'), 'echo main\n');
    assert.equal(readFileSync(join(rootfs, 'opt/app/exec.txt'), 'utf8'), 'exec form\n', 'RUN in exec form');
    assert.ok(!/\[stage-1 /.test(result.stderr), 'the final stage is not built');
  });
});

describe('pilote build: ADD archives', () => {
  it('extracts plain, gzip and bzip2 tars (xz: the busybox image); copies other files, compressed or not, as they are', async () => {
    const ctx = context('add', { 'payload/a.txt': 'A\n', 'notes.gz.txt': 'not an archive\n' });
    execFileSync('tar', ['-C', join(ctx, 'payload'), '-cf', join(ctx, 'plain.tar'), 'a.txt']);
    execFileSync('tar', ['-C', join(ctx, 'payload'), '-czf', join(ctx, 'gz.tgz'), 'a.txt']);
    execFileSync('tar', ['-C', join(ctx, 'payload'), '-cjf', join(ctx, 'bz.tar.bz2'), 'a.txt']);
    execFileSync('sh', ['-c', `gzip -c ${join(ctx, 'notes.gz.txt')} > ${join(ctx, 'text.gz')}`]);
    writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nADD plain.tar /plain/\nADD gz.tgz /gz\nADD bz.tar.bz2 /bz/\nADD notes.gz.txt text.gz /notes/\n');
    const result = await build({ contextDir: ctx, tags: ['add:1'], store, progress: () => undefined });
    const rootfs = await rootfsOf(result.image);
    for (const dir of ['plain', 'gz', 'bz']) assert.equal(readFileSync(join(rootfs, dir, 'a.txt'), 'utf8'), 'A\n', dir);
    assert.equal(readFileSync(join(rootfs, 'notes/notes.gz.txt'), 'utf8'), 'not an archive\n');
    assert.equal(execFileSync('gzip', ['-dc', join(rootfs, 'notes/text.gz')], { encoding: 'utf8' }), 'not an archive\n', 'gzip but not a tar: copied as is');
  });
});

describe('pilote build: bad input names the line and leaves no image', () => {
  const cases: { name: string; dockerfile: string; message: RegExp }[] = [
    { name: 'unknown instruction', dockerfile: 'FROM busybox\nRUN true\nCOPPY a b\n', message: /^pilote: Dockerfile:3: unknown instruction: COPPY \(did you mean COPY\?\)$/m },
    { name: 'missing COPY source', dockerfile: 'FROM busybox\nCOPY here.txt /here.txt\nCOPY missing.txt /x\n', message: /^pilote: Dockerfile:3: COPY failed: "missing.txt" not found in the build context/m },
    { name: 'failing RUN', dockerfile: 'FROM busybox\nENV A=1\nRUN echo about to fail\nRUN echo failing >&2 && exit 3\nCMD ["sh"]\n', message: /^pilote: Dockerfile:4: RUN echo failing >&2 && exit 3 exited with code 3$/m },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      if (!(await store.resolve('busybox'))) return assert.fail('needs busybox:latest from the first suite');
      const tag = `bad-${c.name.toLowerCase().replace(/\W+/g, '-')}:1`;
      const ctx = context(`bad-${c.name.replace(/\W+/g, '-')}`, { Dockerfile: c.dockerfile, 'here.txt': 'here\n' });
      const indexBefore = readFileSync(join(storeDir, 'index.json'), 'utf8');
      const result = await piloteBuild(['-t', tag, ctx]);
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, c.message);
      assert.equal(await store.resolve(tag), undefined);
      assert.equal(readFileSync(join(storeDir, 'index.json'), 'utf8'), indexBefore, 'the store names nothing new');
    });
  }
});

/** A free loopback TCP port. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

describe('pilote build: FROM an image that is only in a registry', () => {
  let registry: ChildProcess | undefined;
  after(() => {
    registry?.kill('SIGTERM');
  });

  it('pulls the base image (local docker-registry) and builds on it', async () => {
    if (!(await store.resolve('busybox'))) return assert.fail('needs busybox:latest from the first suite');
    const port = await freePort();
    const regDir = join(work, 'registry');
    mkdirSync(regDir);
    writeFileSync(
      join(regDir, 'config.yml'),
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${regDir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    registry = spawn('docker-registry', ['serve', join(regDir, 'config.yml')], { stdio: 'ignore' });
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) assert.fail('docker-registry did not start within 15 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    const remote = `127.0.0.1:${port}/tools/busybox:1`;
    await execFileAsync('skopeo', ['copy', `oci:${storeDir}:docker.io/library/busybox:latest`, `docker://${remote}`, '--dest-tls-verify=false']);

    const otherStore = ImageStore.open(join(work, 'store-pull'));
    const ctx = context('pull', { Dockerfile: `FROM ${remote}\nRUN echo built on a pulled base > /pulled.txt\n` });
    let progress = '';
    const result = await build({ contextDir: ctx, tags: ['pulled:1'], store: otherStore, progress: (t) => (progress += t), pull: (ref) => pullImage(otherStore, ref) });
    assert.match(progress, /pulling 127\.0\.0\.1:\d+\/tools\/busybox:1/);
    assert.ok(await otherStore.resolve(remote), 'the base image is now in the store');
    const rootfs = await rootfsOf(result.image, otherStore);
    assert.equal(readFileSync(join(rootfs, 'pulled.txt'), 'utf8'), 'built on a pulled base\n');
  });
});
