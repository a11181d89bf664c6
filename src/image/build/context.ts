/**
 * The build context: the directory given to `pilote build`, filtered by its
 * .dockerignore (Docker's rules, @balena/dockerignore), with COPY/ADD source
 * patterns matched as globs (picomatch) and a content hash of what a COPY
 * reads, which keys the layer cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';
import dockerignore, { type Ignore } from '@balena/dockerignore';
import picomatch from 'picomatch';

/** One COPY/ADD source after pattern expansion. */
export interface Source {
  /** Path on the host. */
  hostPath: string;
  /** Path relative to the context (or the stage rootfs), `/`-separated. */
  relPath: string;
  stat: Stats;
}

/** Thrown when a COPY source matches nothing. */
export class SourceNotFoundError extends Error {}

const GLOB_CHARS = /[*?[\]]/;

/** A build context directory. */
export class BuildContext {
  private readonly ignorer: Ignore;
  private listing?: string[];

  private constructor(
    readonly dir: string,
    private readonly patterns: string[],
  ) {
    // CommonJS module: its function is also exported as `.default`.
    this.ignorer = dockerignore.default().add(patterns);
  }

  /** Opens `dir`, reading its .dockerignore if any. */
  static open(dir: string): BuildContext {
    if (!existsSync(dir) || !lstatSync(dir).isDirectory()) throw new Error(`build context ${dir} is not a directory`);
    const file = join(dir, '.dockerignore');
    const patterns = existsSync(file)
      ? readFileSync(file, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l !== '' && !l.startsWith('#'))
      : [];
    return new BuildContext(dir, patterns);
  }

  /** Whether the .dockerignore excludes `relPath`. */
  isIgnored(relPath: string): boolean {
    const clean = posix.normalize(relPath).replace(/^\/+|\/+$/g, '');
    if (clean === '' || clean === '.') return false;
    return this.ignorer.ignores(clean);
  }

  /** Every path of the context not ignored, relative, `/`-separated (directories included). */
  list(): string[] {
    if (this.listing) return this.listing;
    const out: string[] = [];
    const walk = (rel: string) => {
      for (const name of readdirSync(join(this.dir, rel)).sort()) {
        const child = rel ? `${rel}/${name}` : name;
        if (this.isIgnored(child)) {
          // An ignored directory may still hold re-included (!pattern) paths.
          if (lstatSync(join(this.dir, child)).isDirectory() && this.hasExceptions()) walk(child);
          continue;
        }
        out.push(child);
        if (lstatSync(join(this.dir, child)).isDirectory()) walk(child);
      }
    };
    walk('');
    this.listing = out;
    return out;
  }

  private hasExceptions(): boolean {
    return this.patterns.some((p) => p.startsWith('!'));
  }

  /**
   * Expands COPY/ADD source patterns (relative to the context root, globs
   * allowed). Throws {@link SourceNotFoundError} naming the first pattern
   * that matches nothing.
   */
  resolve(patterns: string[]): Source[] {
    const sources: Source[] = [];
    for (const pattern of patterns) {
      const clean = posix.normalize('/' + pattern).replace(/^\/+/, '').replace(/\/+$/, '');
      let matched: string[];
      if (clean === '' || clean === '.') matched = [''];
      else if (GLOB_CHARS.test(clean)) {
        const isMatch = picomatch(clean, { dot: true });
        matched = this.list().filter((p) => isMatch(p));
      } else matched = existsPath(join(this.dir, clean)) && !this.isIgnored(clean) ? [clean] : [];
      if (matched.length === 0) {
        throw new SourceNotFoundError(`"${pattern}" not found in the build context ${this.dir} (or excluded by .dockerignore)`);
      }
      for (const relPath of matched) {
        const hostPath = join(this.dir, relPath);
        sources.push({ hostPath, relPath, stat: lstatSync(hostPath) });
      }
    }
    return sources;
  }

  /** The paths under a source directory that the .dockerignore keeps (relative to the context). */
  childrenOf(relPath: string): string[] {
    const prefix = relPath === '' ? '' : relPath + '/';
    return this.list().filter((p) => p.startsWith(prefix));
  }

  /** A content hash of sources: names, types, modes, sizes, contents and link targets. */
  async hashSources(sources: Source[]): Promise<string> {
    const hash = createHash('sha256');
    for (const source of sources) {
      hash.update(`src:${source.relPath}\0`);
      const paths = source.stat.isDirectory() ? ['', ...this.childrenOf(source.relPath).map((p) => p.slice(source.relPath ? source.relPath.length + 1 : 0))] : [''];
      for (const sub of paths) {
        const host = sub ? join(source.hostPath, sub) : source.hostPath;
        const st = lstatSync(host);
        hash.update(`${sub}\0${st.mode}\0${st.size}\0`);
        if (st.isSymbolicLink()) hash.update(readlinkSync(host));
        else if (st.isFile()) await hashFileInto(host, hash);
      }
    }
    return 'sha256:' + hash.digest('hex');
  }
}

function existsPath(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function hashFileInto(path: string, hash: ReturnType<typeof createHash>): Promise<void> {
  return new Promise((resolve, reject) => {
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve())
      .on('error', reject);
  });
}

/** Whether a source pattern contains glob characters. */
export function isGlob(pattern: string): boolean {
  return GLOB_CHARS.test(pattern);
}
