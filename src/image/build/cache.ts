/**
 * The layer cache of `pilote build`: cache key → the layer a step produced
 * (or none, for a step that changed nothing). Keys are content-addressed by
 * the builder (parent state + instruction after substitution + content hash
 * of COPY/ADD sources), so a hit is valid whatever built it. Stored as one
 * JSON file in the image store directory, rewritten atomically (temp file +
 * rename) and merged with what other builds wrote meanwhile.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { LayerInfo } from '../types.js';

/** What one cached step produced. */
export interface CacheEntry {
  /** The layer, or null when the step changed no file. */
  layer: LayerInfo | null;
  /** When the layer was made (kept so a fully cached rebuild yields the same image digest). */
  created: string;
}

/** The cache file of an image store. */
export class BuildCache {
  private entries: Record<string, CacheEntry>;
  private readonly added: Record<string, CacheEntry> = {};

  constructor(private readonly file: string) {
    this.entries = BuildCache.read(file);
  }

  /** The cache of the store at `storeDir` (`build-cache.json`). */
  static forStore(storeDir: string): BuildCache {
    return new BuildCache(join(storeDir, 'build-cache.json'));
  }

  private static read(file: string): Record<string, CacheEntry> {
    if (!existsSync(file)) return {};
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, CacheEntry>;
    } catch {
      return {}; // an unreadable cache only costs a rebuild
    }
  }

  /** The entry for `key`, if any. */
  get(key: string): CacheEntry | undefined {
    return this.entries[key];
  }

  /** Records an entry and saves the file at once (a failed build still caches the steps that succeeded). */
  set(key: string, entry: CacheEntry): void {
    this.entries[key] = entry;
    this.added[key] = entry;
    const merged = { ...BuildCache.read(this.file), ...this.added };
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    writeFileSync(temp, JSON.stringify(merged));
    renameSync(temp, this.file);
    this.entries = merged;
  }
}
