/**
 * `pilote build`: runs a parsed Dockerfile stage by stage without a daemon.
 * Every step advances a content-addressed cache key (parent key + the
 * instruction after substitution + a content hash of COPY/ADD sources); a
 * step whose key is in the cache reuses its layer, otherwise the step runs on
 * a rootfs materialised lazily from the parent layers and its layer is the
 * diff of that rootfs. Only a build that fully succeeds names an image.
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import picomatch from 'picomatch';
import { arch, tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { ImageStore, imageId } from '../store.js';
import type { ImageConfigFile, LayerInfo, StoredImage } from '../types.js';
import { BuildCache } from './cache.js';
import { BuildContext, SourceNotFoundError, type Source } from './context.js';
import { CopyError, copyInto, type CopySource } from './copy.js';
import { SubstitutionError, processWord, processWords, splitRawWords, type VarLookup } from './lexer.js';
import { cachedRootfs, openWorkspace, type BaseLayer, type Workspace } from './workspace.js';
import { DockerfileError, parseDockerfile, type Dockerfile, type Instruction, type Stage } from './parser.js';
import { resolveChown } from './rootfs.js';
import { resolveInRoot } from './rootfs-path.js';
import { RunFailedError, runInContainer } from './run.js';

/** Options of one build. */
export interface BuildOptions {
  contextDir: string;
  /** Path of the Dockerfile (default `<context>/Dockerfile`). */
  dockerfile?: string;
  /** Names to give the image (`name:tag`), normalised by the store. */
  tags?: string[];
  buildArgs?: Record<string, string>;
  /** Build this stage (name or index) instead of the last one. */
  target?: string;
  store: ImageStore;
  noCache?: boolean;
  /** Progress lines and RUN output (default: stderr). */
  progress?: (text: string) => void;
  /** Fetches a base image missing from the store (a registry pull); without it such a FROM fails. */
  pull?: (ref: string) => Promise<StoredImage>;
}

/** The outcome of a build. */
export interface BuildResult {
  image: StoredImage;
  /** Image ID: the digest of its config, as Docker shows it. */
  id: string;
  steps: StepReport[];
}

/** What happened to one step. */
export interface StepReport {
  stage: number;
  text: string;
  line: number;
  /** `cached` (layer reused), `built` (ran), `metadata` (config only). */
  status: 'cached' | 'built' | 'metadata';
  seconds: number;
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', ia32: '386' };
/** Proxy build args usable without an ARG, kept out of cache keys (Docker's predefined args). */
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

/** The evolving state of a stage. */
interface StageState {
  key: string;
  layers: LayerInfo[];
  config: ImageConfigFile;
  args: Map<string, string | undefined>;
  shell: string[];
  cmdSetInStage: boolean;
  /** Creation time of the newest layer (the image's `created`). */
  created?: string;
  /** Where RUN/COPY/ADD change files; opened at the first step that misses the cache. */
  ws?: Workspace;
}

/** Builds an image; throws {@link DockerfileError} naming the line on bad input or a failing step. */
export async function build(options: BuildOptions): Promise<BuildResult> {
  const progress = options.progress ?? ((text: string) => process.stderr.write(text));
  const dockerfilePath = options.dockerfile ?? join(options.contextDir, 'Dockerfile');
  const fileLabel = posix.basename(dockerfilePath);
  let source: string;
  try {
    source = readFileSync(dockerfilePath, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the Dockerfile ${dockerfilePath}: ${(error as Error).message}`);
  }
  const dockerfile = parseDockerfile(source, fileLabel);
  const builder = new Builder(dockerfile, options, progress);
  // An interrupted build must not leave overlay mounts behind.
  const onSignal = (signal: NodeJS.Signals) => {
    builder.cleanup();
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await builder.run();
  } catch (error) {
    await options.store.releaseLeases().catch(() => undefined);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    builder.cleanup();
  }
}

class Builder {
  private readonly context: BuildContext;
  private readonly cache: BuildCache;
  private readonly buildArgs: Record<string, string>;
  private readonly consumedArgs = new Set<string>();
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly finished = new Map<number, StageState>();
  private readonly workspaces: Workspace[] = [];
  private readonly steps: StepReport[] = [];
  private readonly arch = GO_ARCH[arch()] ?? arch();

  constructor(
    private readonly file: Dockerfile,
    private readonly options: BuildOptions,
    private readonly progress: (text: string) => void,
  ) {
    this.context = BuildContext.open(options.contextDir);
    this.cache = BuildCache.forStore(options.store.root);
    this.buildArgs = options.buildArgs ?? {};
  }

  private fail(instruction: Instruction | undefined, detail: string): never {
    throw new DockerfileError(this.file.file, instruction?.line ?? 0, detail);
  }

  async run(): Promise<BuildResult> {
    const started = Date.now();
    this.declareGlobalArgs();
    const target = this.targetStage();
    const needed = this.stagesNeeded(target);
    for (const stage of this.file.stages) {
      if (!needed.has(stage.index)) continue;
      this.finished.set(stage.index, await this.buildStage(stage));
    }
    const unused = Object.keys(this.buildArgs).filter((k) => !this.consumedArgs.has(k) && !PROXY_ARGS.includes(k));
    if (unused.length > 0) this.progress(`[warning] build-args not consumed by any ARG: ${unused.join(', ')}\n`);
    const state = this.finished.get(target.index) as StageState;
    const config: ImageConfigFile = { ...state.config, created: state.created ?? state.config.created ?? new Date(0).toISOString() };
    const image = await this.options.store.writeImage(config, state.layers, this.options.tags ?? []);
    const id = imageId(image);
    this.progress(`Successfully built ${id} in ${((Date.now() - started) / 1000).toFixed(2)}s\n`);
    for (const name of image.names) this.progress(`Successfully tagged ${name}\n`);
    return { image, id, steps: this.steps };
  }

  cleanup(): void {
    for (const ws of this.workspaces.splice(0)) ws.dispose();
  }

  // --- ARGs and stages ----------------------------------------------------

  private automaticArgs(): Record<string, string> {
    const platform = `linux/${this.arch}`;
    return { TARGETPLATFORM: platform, TARGETOS: 'linux', TARGETARCH: this.arch, TARGETVARIANT: '', BUILDPLATFORM: platform, BUILDOS: 'linux', BUILDARCH: this.arch, BUILDVARIANT: '' };
  }

  private declareGlobalArgs(): void {
    for (const [k, v] of Object.entries(this.automaticArgs())) this.globalArgs.set(k, v);
    for (const instruction of this.file.globalArgs) {
      this.declareArgs(instruction, this.globalArgs, (name) => this.globalArgs.get(name));
    }
  }

  /** Applies `ARG a=1 b` to `scope`; a --build-arg overrides the default. */
  private declareArgs(instruction: Instruction, scope: Map<string, string | undefined>, lookup: VarLookup, inherited?: Map<string, string | undefined>): void {
    for (const word of splitRawWords(instruction.args, this.file.escape)) {
      const eq = word.indexOf('=');
      const name = eq < 0 ? word : word.slice(0, eq);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) this.fail(instruction, `invalid ARG name "${name}"`);
      let value: string | undefined = eq < 0 ? inherited?.get(name) : this.expand(instruction, word.slice(eq + 1), lookup);
      if (name in this.buildArgs) {
        value = this.buildArgs[name];
        this.consumedArgs.add(name);
      }
      scope.set(name, value);
    }
  }

  private targetStage(): Stage {
    const target = this.options.target;
    if (target === undefined) return this.file.stages[this.file.stages.length - 1];
    const stage = this.file.stages.find((s) => s.name === target.toLowerCase()) ?? (/^\d+$/.test(target) ? this.file.stages[Number(target)] : undefined);
    if (!stage) throw new Error(`target stage "${target}" could not be found in ${this.file.file} (stages: ${this.file.stages.map((s) => s.name ?? s.index).join(', ')})`);
    return stage;
  }

  private stageByRef(ref: string, before: number): Stage | undefined {
    const lower = ref.toLowerCase();
    const named = this.file.stages.find((s) => s.name === lower && s.index < before);
    if (named) return named;
    if (/^\d+$/.test(ref) && Number(ref) < before) return this.file.stages[Number(ref)];
    return undefined;
  }

  private baseName(stage: Stage): string {
    return this.expand(stage.from, stage.baseRaw, (n) => this.globalArgs.get(n));
  }

  /** The stages `target` depends on (FROM a stage, COPY --from), itself included. */
  private stagesNeeded(target: Stage): Set<number> {
    const needed = new Set<number>();
    const visit = (stage: Stage) => {
      if (needed.has(stage.index)) return;
      needed.add(stage.index);
      const base = this.stageByRef(this.baseName(stage), stage.index);
      if (base) visit(base);
      for (const instruction of stage.instructions) {
        const from = instruction.flags.from;
        if (instruction.keyword === 'COPY' && from !== undefined) {
          const dep = this.stageByRef(from, stage.index);
          if (dep) visit(dep);
        }
      }
    };
    visit(target);
    return needed;
  }

  // --- stage execution -----------------------------------------------------

  private label(stage: Stage, step: number, total: number): string {
    const many = this.file.stages.length > 1;
    return many ? `[${stage.name ?? `stage-${stage.index}`} ${step}/${total}]` : `[${step}/${total}]`;
  }

  private async buildStage(stage: Stage): Promise<StageState> {
    const total = stage.instructions.length + 1;
    const fromStarted = Date.now();
    const state = await this.initialState(stage);
    this.progress(`${this.label(stage, 1, total)} ${stage.from.text}\n`);
    this.steps.push({ stage: stage.index, text: stage.from.text, line: stage.from.line, status: 'metadata', seconds: (Date.now() - fromStarted) / 1000 });
    for (let i = 0; i < stage.instructions.length; i++) {
      const instruction = stage.instructions[i];
      const label = this.label(stage, i + 2, total);
      const started = Date.now();
      let status: StepReport['status'];
      try {
        status = await this.step(stage, state, instruction, label);
      } catch (error) {
        if (error instanceof DockerfileError) throw error;
        if (error instanceof RunFailedError) this.fail(instruction, `${shorten(instruction.text)} exited with code ${error.exitCode}`);
        if (error instanceof SourceNotFoundError || error instanceof CopyError) this.fail(instruction, `${instruction.keyword} failed: ${error.message}`);
        this.fail(instruction, `${shorten(instruction.text)}: ${(error as Error).message}`);
      }
      const seconds = (Date.now() - started) / 1000;
      this.steps.push({ stage: stage.index, text: instruction.text, line: instruction.line, status, seconds });
      if (status === 'built') this.progress(`${label} done in ${seconds.toFixed(2)}s\n`);
    }
    return state;
  }

  private async initialState(stage: Stage): Promise<StageState> {
    const platform = stage.from.flags.platform;
    if (platform !== undefined) {
      const wanted = this.expand(stage.from, platform, (n) => this.globalArgs.get(n));
      if (wanted !== `linux/${this.arch}` && wanted !== 'linux') {
        this.fail(stage.from, `cannot build for platform ${wanted} on linux/${this.arch} (no emulation); use --platform=linux/${this.arch}`);
      }
    }
    const base = this.baseName(stage);
    const emptyConfig: ImageConfigFile = { architecture: this.arch, os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] };
    const common = { args: new Map<string, string | undefined>(), shell: ['/bin/sh', '-c'], cmdSetInStage: false };
    let state: StageState;
    const parent = this.stageByRef(base, stage.index);
    if (base === 'scratch') {
      state = { key: 'scratch', layers: [], config: emptyConfig, ...common };
    } else if (parent) {
      const done = this.finished.get(parent.index) as StageState;
      state = { key: done.key, layers: [...done.layers], config: structuredClone(done.config), created: done.created, ...common };
    } else {
      const image = await this.resolveImage(stage.from, base);
      const config = structuredClone(image.config);
      config.history = config.history ?? [];
      state = { key: `image:${image.digest}`, layers: imageLayers(image), config, created: image.config.created, ...common };
    }
    state.config.config = state.config.config ?? {};
    if (!state.config.config.Env?.some((e) => e.startsWith('PATH='))) state.config.config.Env = [DEFAULT_PATH, ...(state.config.config.Env ?? [])];
    return state;
  }

  private async resolveImage(instruction: Instruction, ref: string): Promise<StoredImage> {
    let image: StoredImage | undefined;
    try {
      image = await this.options.store.resolve(ref);
    } catch (error) {
      this.fail(instruction, (error as Error).message);
    }
    const hint = ref.startsWith('debian') ? ` (or make it with 'pilote image bootstrap ${ref}')` : '';
    if (!image && this.options.pull) {
      this.progress(`pulling ${ref} (not in the image store)\n`);
      try {
        image = await this.options.pull(ref);
      } catch (error) {
        this.fail(instruction, `base image "${ref}" is not in the image store and the pull failed: ${(error as Error).message}${hint}`);
      }
    }
    if (!image) {
      this.fail(instruction, `base image "${ref}" is not in the image store ${this.options.store.root}: fetch it with 'pilote image pull ${ref}'${hint}`);
    }
    return image;
  }

  /** Variables for substitution: ENV wins over ARG, as in Docker. */
  private lookup(state: StageState): VarLookup {
    return (name) => {
      const env = state.config.config.Env?.find((e) => e.startsWith(name + '='));
      if (env !== undefined) return env.slice(name.length + 1);
      return state.args.get(name);
    };
  }

  private expand(instruction: Instruction, text: string, lookup: VarLookup): string {
    try {
      return processWord(text, lookup, this.file.escape);
    } catch (error) {
      if (error instanceof SubstitutionError) this.fail(instruction, error.message);
      throw error;
    }
  }

  private expandWords(instruction: Instruction, lookup: VarLookup): string[] {
    try {
      if (instruction.json) return instruction.json.map((w) => processWord(w, lookup, this.file.escape));
      return processWords(instruction.args, lookup, this.file.escape);
    } catch (error) {
      if (error instanceof SubstitutionError) this.fail(instruction, error.message);
      throw error;
    }
  }

  private advance(state: StageState, text: string): void {
    state.key = createHash('sha256').update(`${state.key}\n${text}`).digest('hex');
  }

  private history(state: StageState, createdBy: string, emptyLayer: boolean): void {
    state.config.history = state.config.history ?? [];
    state.config.history.push({ created: state.created, created_by: createdBy, comment: 'pilote build', ...(emptyLayer ? { empty_layer: true } : {}) });
  }

  /** Runs one instruction. */
  private async step(stage: Stage, state: StageState, instruction: Instruction, label: string): Promise<StepReport['status']> {
    const lookup = this.lookup(state);
    const cfg = state.config.config;
    const metadata = (createdBy: string) => {
      this.advance(state, createdBy);
      this.history(state, createdBy, true);
      this.progress(`${label} ${instruction.text}\n`);
      return 'metadata' as const;
    };
    switch (instruction.keyword) {
      case 'ENV': {
        const pairs = this.keyValues(instruction, lookup, true);
        for (const [k, v] of pairs) cfg.Env = [...(cfg.Env ?? []).filter((e) => !e.startsWith(k + '=')), `${k}=${v}`];
        return metadata(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      case 'ARG': {
        this.declareArgs(instruction, state.args, lookup, this.globalArgs);
        return metadata(`ARG ${instruction.args}`);
      }
      case 'LABEL': {
        const pairs = this.keyValues(instruction, lookup, false);
        cfg.Labels = { ...(cfg.Labels ?? {}) };
        for (const [k, v] of pairs) cfg.Labels[k] = v;
        return metadata(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`);
      }
      case 'MAINTAINER':
        state.config.author = instruction.args;
        return metadata(`MAINTAINER ${instruction.args}`);
      case 'WORKDIR': {
        const dir = this.expand(instruction, instruction.args, lookup);
        cfg.WorkingDir = posix.resolve(cfg.WorkingDir || '/', dir);
        return metadata(`WORKDIR ${cfg.WorkingDir}`);
      }
      case 'USER':
        cfg.User = this.expand(instruction, instruction.args, lookup);
        return metadata(`USER ${cfg.User}`);
      case 'EXPOSE': {
        cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
        for (const port of this.expandWords(instruction, lookup)) {
          for (const p of expandPorts(port)) cfg.ExposedPorts[p] = {};
        }
        return metadata(`EXPOSE ${Object.keys(cfg.ExposedPorts).join(' ')}`);
      }
      case 'VOLUME': {
        cfg.Volumes = { ...(cfg.Volumes ?? {}) };
        const paths = this.expandWords(instruction, lookup);
        for (const path of paths) cfg.Volumes[path] = {};
        return metadata(`VOLUME ${JSON.stringify(paths)}`);
      }
      case 'STOPSIGNAL':
        cfg.StopSignal = this.expand(instruction, instruction.args, lookup);
        return metadata(`STOPSIGNAL ${cfg.StopSignal}`);
      case 'SHELL':
        if (!instruction.json || instruction.json.length === 0) this.fail(instruction, 'SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
        state.shell = instruction.json;
        return metadata(`SHELL ${JSON.stringify(state.shell)}`);
      case 'CMD':
        cfg.Cmd = instruction.json ?? (instruction.args ? [...state.shell, instruction.args] : []);
        state.cmdSetInStage = true;
        return metadata(`CMD ${JSON.stringify(cfg.Cmd)}`);
      case 'ENTRYPOINT':
        cfg.Entrypoint = instruction.json ?? (instruction.args ? [...state.shell, instruction.args] : []);
        // Docker: an ENTRYPOINT resets the CMD inherited from the base image.
        if (!state.cmdSetInStage) cfg.Cmd = null;
        return metadata(`ENTRYPOINT ${JSON.stringify(cfg.Entrypoint)}`);
      case 'HEALTHCHECK':
        this.progress(`${label} ${instruction.text} (ignored: pilote images carry no healthcheck; use a Kubernetes probe)\n`);
        this.advance(state, instruction.text);
        return 'metadata';
      case 'RUN':
        return this.runStep(state, instruction, label);
      case 'COPY':
      case 'ADD':
        return this.copyStep(stage, state, instruction, label);
      default:
        return this.fail(instruction, `${instruction.keyword} is not supported here`);
    }
  }

  /** The `k=v` pairs of ENV/LABEL (and the legacy `ENV k v…` form), expanded with the values before the instruction. */
  private keyValues(instruction: Instruction, lookup: VarLookup, legacyAllowed: boolean): [string, string][] {
    const words = splitRawWords(instruction.args, this.file.escape);
    if (words.length > 0 && !words[0].includes('=')) {
      if (!legacyAllowed) this.fail(instruction, `${instruction.keyword} requires key=value pairs`);
      const rest = instruction.args.slice(instruction.args.indexOf(words[0]) + words[0].length).trim();
      if (!rest) this.fail(instruction, `ENV ${words[0]} needs a value: ENV ${words[0]}=value`);
      return [[words[0], this.expand(instruction, rest, lookup)]];
    }
    return words.map((word) => {
      const eq = word.indexOf('=');
      if (eq < 0) this.fail(instruction, `${instruction.keyword} expects key=value pairs, got "${word}"`);
      const key = this.expand(instruction, word.slice(0, eq), lookup);
      if (!key) this.fail(instruction, `${instruction.keyword} names cannot be empty`);
      return [key, this.expand(instruction, word.slice(eq + 1), lookup)];
    });
  }

  // --- layer steps -------------------------------------------------------------

  /** Looks the key up; on a hit applies the cached result. */
  private async tryCache(state: StageState, createdBy: string, label: string, text: string): Promise<boolean> {
    if (this.options.noCache) return false;
    const entry = this.cache.get(state.key);
    if (!entry || (entry.layer && !this.options.store.hasBlob(entry.layer.descriptor.digest))) return false;
    if (entry.layer) {
      state.layers.push(entry.layer);
      state.config.rootfs.diff_ids.push(entry.layer.diffId);
      state.created = entry.created;
      if (state.ws) await state.ws.applyCached({ path: this.options.store.blobPath(entry.layer.descriptor.digest), mediaType: entry.layer.descriptor.mediaType });
    }
    this.history(state, createdBy, !entry.layer);
    this.progress(`${label} ${text} CACHED\n`);
    return true;
  }

  private baseLayers(layers: LayerInfo[]): BaseLayer[] {
    return layers.map((l) => ({ path: this.options.store.blobPath(l.descriptor.digest), mediaType: l.descriptor.mediaType, diffId: l.diffId }));
  }

  private async ensureRootfs(state: StageState): Promise<string> {
    if (!state.ws) {
      state.ws = await openWorkspace(this.baseLayers(state.layers), this.options.store.root, tmpdir());
      this.workspaces.push(state.ws);
    }
    return state.ws.root;
  }

  /** Runs `change` on the rootfs and records the resulting diff as the step's layer. */
  private async commitChange(state: StageState, createdBy: string, change: (rootfs: string) => Promise<void>): Promise<void> {
    const rootfs = await this.ensureRootfs(state);
    await change(rootfs);
    const tarDir = mkdtempSync(join(tmpdir(), 'pilote-layer-'));
    try {
      const tarPath = join(tarDir, 'layer.tar');
      const summary = await (state.ws as Workspace).commit(tarPath);
      const created = new Date().toISOString();
      let layer: LayerInfo | null = null;
      if (summary.changed + summary.deleted > 0) {
        layer = await this.options.store.addLayerFromTar(tarPath);
        state.layers.push(layer);
        state.config.rootfs.diff_ids.push(layer.diffId);
        state.created = created;
      }
      this.cache.set(state.key, { layer, created });
      this.history(state, createdBy, layer === null);
    } finally {
      rmSync(tarDir, { recursive: true, force: true });
    }
  }

  private async runStep(state: StageState, instruction: Instruction, label: string): Promise<StepReport['status']> {
    const args = instruction.json ?? [...state.shell, instruction.args];
    const argEnv: string[] = [];
    for (const [k, v] of state.args) {
      if (v !== undefined && !state.config.config.Env?.some((e) => e.startsWith(k + '='))) argEnv.push(`${k}=${v}`);
    }
    const createdBy = instruction.json ? `RUN ${JSON.stringify(args)}` : `RUN ${args.join(' ')}`;
    this.advance(state, `${createdBy}\n${JSON.stringify(argEnv)}`);
    if (await this.tryCache(state, createdBy, label, instruction.text)) return 'cached';
    this.progress(`${label} ${instruction.text}\n`);
    const proxyEnv = PROXY_ARGS.filter((k) => k in this.buildArgs).map((k) => `${k}=${this.buildArgs[k]}`);
    await this.commitChange(state, createdBy, async (rootfs) => {
      const cwd = state.config.config.WorkingDir || '/';
      mkdirp(resolveInRoot(rootfs, cwd));
      await runInContainer({
        rootfs,
        args,
        env: [...(state.config.config.Env ?? []), ...argEnv, ...proxyEnv],
        cwd,
        user: state.config.config.User,
        output: (chunk) => this.progress(chunk.toString()),
      });
    });
    return 'built';
  }

  private async copyStep(stage: Stage, state: StageState, instruction: Instruction, label: string): Promise<StepReport['status']> {
    const lookup = this.lookup(state);
    const words = this.expandWords(instruction, lookup);
    if (words.length < 2) this.fail(instruction, `${instruction.keyword} requires at least two arguments: ${instruction.keyword} <src>... <dest>`);
    const dest = words[words.length - 1];
    const patterns = words.slice(0, -1);
    const isAdd = instruction.keyword === 'ADD';
    for (const p of patterns) {
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(p)) {
        this.fail(instruction, `ADD from a URL (${p}) is not supported by pilote build: download the file into the build context, or use RUN with curl/wget`);
      }
    }
    const workdir = state.config.config.WorkingDir || '/';
    const destPath = dest.startsWith('/') ? dest : posix.join(workdir, dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
    const chownSpec = instruction.flags.chown !== undefined ? this.expand(instruction, instruction.flags.chown, lookup) : undefined;
    const chmod = instruction.flags.chmod !== undefined ? parseChmod(instruction, instruction.flags.chmod) : undefined;
    const fromRef = instruction.flags.from !== undefined ? this.expand(instruction, instruction.flags.from, lookup) : undefined;

    let sources: CopySource[];
    let sourceKey: string;
    if (fromRef === undefined) {
      const found: Source[] = this.context.resolve(patterns);
      sources = found.map((s) => ({
        hostPath: s.hostPath,
        stat: s.stat,
        children: s.stat.isDirectory() ? this.context.childrenOf(s.relPath).map((p) => (s.relPath ? p.slice(s.relPath.length + 1) : p)) : undefined,
      }));
      sourceKey = await this.context.hashSources(found);
    } else {
      const { root, key } = await this.fromRoot(stage, instruction, fromRef);
      sources = resolveRootSources(root, patterns);
      sourceKey = `${key}\n${JSON.stringify(patterns)}`;
    }
    const flagText = [fromRef !== undefined ? `--from=${fromRef}` : '', chownSpec ? `--chown=${chownSpec}` : '', chmod !== undefined ? `--chmod=${chmod.toString(8)}` : ''].filter(Boolean).join(' ');
    const createdBy = `${instruction.keyword} ${flagText ? flagText + ' ' : ''}${patterns.join(' ')} ${dest}`;
    this.advance(state, `${createdBy}\n${destPath}\n${sourceKey}`);
    if (await this.tryCache(state, createdBy, label, instruction.text)) return 'cached';
    this.progress(`${label} ${instruction.text}\n`);
    await this.commitChange(state, createdBy, async (rootfs) => {
      const owner = chownSpec ? resolveChown(rootfs, chownSpec) : undefined;
      await copyInto(rootfs, sources, { dest: destPath, owner, keepOwner: fromRef !== undefined, chmod, extractArchives: isAdd });
    });
    return 'built';
  }

  /** The rootfs (and cache identity) of `COPY --from=<stage|image>`. */
  private async fromRoot(stage: Stage, instruction: Instruction, ref: string): Promise<{ root: string; key: string }> {
    const source = this.stageByRef(ref, stage.index);
    if (source) {
      const state = this.finished.get(source.index);
      if (!state) this.fail(instruction, `COPY --from=${ref}: stage not built`);
      return { root: await this.ensureRootfs(state), key: `stage:${state.key}` };
    }
    if (/^\d+$/.test(ref)) this.fail(instruction, `COPY --from=${ref}: there is no stage ${ref} before this one`);
    const image = await this.resolveImage(instruction, ref);
    // Only read: the store's extracted rootfs cache serves it as is.
    const root = await cachedRootfs(this.baseLayers(imageLayers(image)), this.options.store.root);
    return { root, key: `image:${image.digest}` };
  }
}

function mkdirp(host: string): void {
  // recursive mkdir follows existing symlinks on the host path; callers pass paths already resolved in the rootfs
  mkdirSync(host, { recursive: true, mode: 0o755 });
}

/** The layers of a stored image, with their diff IDs. */
function imageLayers(image: StoredImage): LayerInfo[] {
  return image.manifest.layers.map((descriptor, i) => ({ descriptor, diffId: image.config.rootfs.diff_ids[i] }));
}

/** Sources of `COPY --from`: paths (globs allowed in the last component) inside a rootfs. */
function resolveRootSources(root: string, patterns: string[]): CopySource[] {
  const sources: CopySource[] = [];
  for (const pattern of patterns) {
    const clean = posix.normalize('/' + pattern);
    let hosts: string[];
    if (/[*?[\]]/.test(clean)) {
      const dir = resolveInRoot(root, posix.dirname(clean));
      const re = picomatchBase(posix.basename(clean));
      hosts = existsDir(dir) ? readdirSync(dir).sort().filter((n) => re(n)).map((n) => join(dir, n)) : [];
    } else {
      const host = resolveInRoot(root, clean);
      hosts = existsAny(host) ? [host] : [];
    }
    if (hosts.length === 0) throw new SourceNotFoundError(`"${pattern}" not found in the source stage or image`);
    for (const hostPath of hosts) sources.push({ hostPath, stat: lstatSync(hostPath) });
  }
  return sources;
}

function existsDir(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

function existsAny(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function picomatchBase(glob: string): (name: string) => boolean {
  return picomatch(glob, { dot: true });
}

function parseChmod(instruction: Instruction, text: string): number {
  if (!/^[0-7]{3,4}$/.test(text)) throw new DockerfileError('Dockerfile', instruction.line, `invalid --chmod=${text}: use octal permissions such as 0755`);
  return parseInt(text, 8);
}

/** `80` → `80/tcp`; `8000-8002/udp` → each port. */
function expandPorts(spec: string): string[] {
  const [ports, proto = 'tcp'] = spec.split('/', 2);
  const range = /^(\d+)-(\d+)$/.exec(ports);
  if (range) {
    const out: string[] = [];
    for (let p = Number(range[1]); p <= Number(range[2]); p++) out.push(`${p}/${proto.toLowerCase()}`);
    return out;
  }
  return [`${ports}/${proto.toLowerCase()}`];
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 80 ? oneLine.slice(0, 77) + '…' : oneLine;
}
