/** A Storage decorator that records the latency of every operation in a histogram. */
import type { Histogram } from 'prom-client';
import type { ListOptions, Storage, WatchHandlers } from './interface.js';

/** Wraps `inner` so each call is timed under its operation name. */
export function instrumentStorage(inner: Storage, histogram: Histogram<'operation'>): Storage {
  const timed = async <T>(operation: string, run: () => Promise<T>): Promise<T> => {
    const end = histogram.startTimer({ operation });
    try {
      return await run();
    } finally {
      end();
    }
  };
  return {
    get: (key: string, revision?: number) => timed('get', () => inner.get(key, revision)),
    list: (options: ListOptions) => timed('list', () => inner.list(options)),
    count: (prefix: string) => timed('count', () => inner.count(prefix)),
    create: (key: string, value: string) => timed('create', () => inner.create(key, value)),
    update: (key: string, value: string, expected: number) => timed('update', () => inner.update(key, value, expected)),
    delete: (key: string, expected?: number) => timed('delete', () => inner.delete(key, expected)),
    watch: (prefix: string, after: number, handlers: WatchHandlers) => inner.watch(prefix, after, handlers),
    currentRevision: () => inner.currentRevision(),
    compactedRevision: () => inner.compactedRevision(),
    compact: (revision: number) => timed('compact', () => inner.compact(revision)),
    close: () => inner.close(),
  };
}
