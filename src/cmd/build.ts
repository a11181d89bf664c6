/**
 * `pilote build` (a Dockerfile builder, no daemon) and `pilote image
 * bootstrap` (a Debian base image from debootstrap), both writing to the
 * image store the node reads.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ImageStore } from '../image/store.js';
import { build } from '../image/build/builder.js';
import { bootstrapImage } from '../image/build/bootstrap.js';
import { emptyRegistriesConfig, loadRegistriesConfig, type RegistriesConfig } from '../image/registries-config.js';
import { pullImage } from '../image/registry.js';

const BUILD_USAGE = `Usage: pilote build [options] CONTEXT

Builds an image from a Dockerfile without a daemon (RUN steps run in runc
containers) into Pilote's image store.

Options:
  -t, --tag NAME:TAG      name the image (repeatable)
  -f, --file FILE         the Dockerfile (default: CONTEXT/Dockerfile)
  --build-arg KEY=VALUE   set a build argument (KEY alone takes it from the environment; repeatable)
  --target STAGE          build this stage of a multi-stage Dockerfile
  --no-cache              ignore the layer cache
  --image-store DIR       the image store (default: $PILOTE_DATA_DIR/images, else ~/.pilote/images)
  --registries FILE       mirrors for pulling missing base images, as k3s' registries.yaml
                          (default: DATA_DIR/registries.yaml when it exists)
  --insecure-registry HOST  pull from HOST over plain HTTP (loopback registries always are)
  -h, --help              show this help
`;

const BOOTSTRAP_USAGE = `Usage: pilote image bootstrap debian:SUITE [--mirror URL] [--image-store DIR]

Makes a Debian base image without a registry: debootstrap --variant=minbase
SUITE into a temporary directory, stored as docker.io/library/debian:SUITE.

Options:
  --mirror URL            Debian mirror (default: the one this machine's apt uses)
  --image-store DIR       the image store (default: $PILOTE_DATA_DIR/images, else ~/.pilote/images)
`;

/** The image store directory from `--image-store` or the data-dir default. */
export function defaultImageStoreDir(flag: string | undefined): string {
  if (flag) return resolve(flag);
  return join(process.env.PILOTE_DATA_DIR ?? join(homedir(), '.pilote'), 'images');
}

/** `pilote build …` */
export async function buildCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      tag: { type: 'string', short: 't', multiple: true },
      file: { type: 'string', short: 'f' },
      'build-arg': { type: 'string', multiple: true },
      target: { type: 'string' },
      'no-cache': { type: 'boolean' },
      'image-store': { type: 'string' },
      registries: { type: 'string' },
      'insecure-registry': { type: 'string', multiple: true },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BUILD_USAGE);
    return;
  }
  if (positionals.length !== 1) throw new Error(`pilote build needs exactly one CONTEXT directory (e.g. "."), got ${positionals.length}\n\n${BUILD_USAGE}`);
  const buildArgs: Record<string, string> = {};
  for (const arg of values['build-arg'] ?? []) {
    const eq = arg.indexOf('=');
    if (eq < 0) {
      const fromEnv = process.env[arg];
      if (fromEnv !== undefined) buildArgs[arg] = fromEnv;
    } else buildArgs[arg.slice(0, eq)] = arg.slice(eq + 1);
  }
  const contextDir = resolve(positionals[0]);
  const store = ImageStore.open(defaultImageStoreDir(values['image-store']));
  await untilDone('build', () => build({
    contextDir,
    dockerfile: values.file ? resolve(values.file) : undefined,
    tags: values.tag ?? [],
    buildArgs,
    target: values.target,
    noCache: values['no-cache'] ?? false,
    store,
    // As `docker build`: a base image missing locally is pulled (through the mirrors).
    pull: (ref) =>
      pullImage(store, ref, {
        registries: registriesConfig(values.registries),
        insecureRegistries: values['insecure-registry'] ?? [],
        progress: (line) => process.stderr.write(`${line}\n`),
      }),
  }));
}

/**
 * Awaits `work`, turning "the event loop ran dry before it finished" (a bug:
 * a stream nobody ends) into a failure instead of a silent exit code 0.
 */
async function untilDone<T>(what: string, work: () => Promise<T>): Promise<T> {
  let settled = false;
  const onExit = () => {
    if (!settled) {
      process.stderr.write(`pilote ${what}: internal error: stopped before finishing (nothing left to wait for)\n`);
      process.exitCode = 70;
    }
  };
  process.once('exit', onExit);
  try {
    return await work();
  } finally {
    settled = true;
    process.off('exit', onExit);
  }
}

/** registries.yaml from the flag, else DATA_DIR/registries.yaml when it exists, else none. */
function registriesConfig(flag: string | undefined): RegistriesConfig {
  if (flag) return loadRegistriesConfig(resolve(flag));
  const fallback = join(process.env.PILOTE_DATA_DIR ?? join(homedir(), '.pilote'), 'registries.yaml');
  return existsSync(fallback) ? loadRegistriesConfig(fallback) : emptyRegistriesConfig();
}

/** `pilote image bootstrap debian:SUITE …` (dispatched from `pilote image`). */
export async function bootstrapCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      mirror: { type: 'string' },
      'image-store': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    process.stdout.write(BOOTSTRAP_USAGE);
    return;
  }
  if (positionals.length !== 1) throw new Error(`pilote image bootstrap needs one image name, e.g. debian:bookworm\n\n${BOOTSTRAP_USAGE}`);
  const store = ImageStore.open(defaultImageStoreDir(values['image-store']));
  await untilDone('image bootstrap', () => bootstrapImage({ store, ref: positionals[0], mirror: values.mirror }));
}
