/**
 * List + watch of pods for the simulated kubelets: one watch for every
 * simulated node (not one per node), paged lists, and no cache of its own —
 * only the keys of the pods it handed over, so a relist can report the ones
 * that went away. Objects the filter refuses (pods on other nodes) are dropped
 * on arrival, which keeps memory proportional to the simulated pods.
 */
import { StatusError } from '../apimachinery/errors.js';
import type { KubeObject } from '../apimachinery/types.js';
import { logger } from '../util/log.js';
import type { ClientWatch, ResourceClient } from '../client/types.js';

const log = logger('simulated-kubelet');

export interface ReflectorHandlers {
  /** An object that passes the filter was added or changed. */
  upsert(object: KubeObject): void;
  /** An object handed over before is gone (deleted, or it left the filter). */
  remove(key: string): void;
}

export interface ReflectorOptions {
  fieldSelector?: string;
  labelSelector?: string;
  /** Items per list page (default 500). */
  pageSize?: number;
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

export class Reflector {
  private readonly known = new Set<string>();
  private resourceVersion = '';
  private watch?: ClientWatch;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private failures = 0;
  private resolveSynced!: () => void;
  /** Resolves after the first complete list was handed over. */
  readonly synced = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  constructor(
    private readonly client: ResourceClient,
    private readonly options: ReflectorOptions,
    private readonly accept: (object: KubeObject) => boolean,
    private readonly handlers: ReflectorHandlers,
  ) {}

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.watch?.stop();
  }

  private retry(what: () => void): void {
    if (this.stopped) return;
    this.failures++;
    const delay = Math.min(5000, 200 * 2 ** Math.min(this.failures - 1, 5));
    this.timer = setTimeout(what, delay);
    this.timer.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    try {
      const seen = new Set<string>();
      const accepted: KubeObject[] = [];
      let token: string | undefined;
      let resourceVersion = '';
      do {
        const page = await this.client.list(undefined, {
          fieldSelector: this.options.fieldSelector,
          labelSelector: this.options.labelSelector,
          limit: this.options.pageSize ?? 500,
          continue: token,
        });
        if (this.stopped) return;
        for (const item of page.items) if (this.accept(item)) accepted.push(item);
        token = page.continue;
        resourceVersion = page.resourceVersion;
      } while (token);
      for (const item of accepted) {
        const key = keyOf(item);
        seen.add(key);
        this.known.add(key);
        this.handlers.upsert(item);
      }
      for (const key of [...this.known]) {
        if (!seen.has(key)) {
          this.known.delete(key);
          this.handlers.remove(key);
        }
      }
      this.resourceVersion = resourceVersion;
      this.failures = 0;
      this.resolveSynced();
      this.startWatch();
    } catch (error) {
      // An expired continue token only means "list again from the start".
      if (!(error instanceof StatusError && error.code === 410)) log.warn('pod list failed; retrying', { error: (error as Error).message });
      this.retry(() => void this.relist());
    }
  }

  private startWatch(): void {
    if (this.stopped) return;
    this.watch = this.client.watch(
      undefined,
      { fieldSelector: this.options.fieldSelector, labelSelector: this.options.labelSelector, resourceVersion: this.resourceVersion, allowWatchBookmarks: true },
      (event) => {
        const object = event.object;
        if (object.metadata?.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
        if (event.type === 'BOOKMARK') return;
        this.failures = 0;
        const key = keyOf(object);
        if (event.type !== 'DELETED' && this.accept(object)) {
          this.known.add(key);
          this.handlers.upsert(object);
        } else if (this.known.delete(key)) {
          this.handlers.remove(key);
        }
      },
      (error) => {
        if (this.stopped) return;
        if (error instanceof StatusError && error.code === 410) void this.relist();
        else if (error.name === 'WatchClosedError') this.startWatch();
        else this.retry(() => this.startWatch());
      },
    );
  }
}
