/**
 * Namespace finalization: when a namespace is deleted it turns Terminating;
 * this loop deletes everything in it, then clears its `kubernetes` finalizer
 * and lets it go. (The controller runtime will host it; the logic stays.)
 */
import type { ApiServer } from '../apiserver/api-server.js';
import type { ResourceStore } from '../apiserver/store.js';
import { StatusError } from '../apimachinery/errors.js';
import { logger } from '../util/log.js';

const log = logger('namespace-controller');

/** Watches namespaces and finalizes the ones being deleted. Returns a stop function. */
export function startNamespaceController(api: ApiServer, namespacedStores: ResourceStore[]): () => void {
  const namespaces = api.storeFor('', 'namespaces');
  const inFlight = new Set<string>();
  const retry = new Set<string>();

  const finalize = async (name: string): Promise<void> => {
    if (inFlight.has(name)) {
      retry.add(name);
      return;
    }
    inFlight.add(name);
    try {
      let remaining = 0;
      for (const store of namespacedStores) {
        const page = await store.list(name, {});
        for (const item of page.items) {
          remaining++;
          try {
            await store.delete(name, item.object.metadata.name!, { gracePeriodSeconds: 0 });
          } catch (error) {
            if (!(error instanceof StatusError && error.code === 404)) throw error;
          }
        }
      }
      if (remaining > 0 && namespacedStores.some((s) => s.cache.list(`${s.prefix}${name}/`).next().done === false)) {
        // Objects with finalizers of their own: come back when they change.
        setTimeout(() => void finalize(name), 1000).unref();
        return;
      }
      const ns = namespaces.cache.get(namespaces.key(undefined, name));
      if (!ns) return;
      await namespaces.update(undefined, name, (current) => ({ ...current, spec: { ...(current.spec as object), finalizers: [] } }));
      await namespaces.delete(undefined, name, {});
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 404)) log.error('namespace finalization failed', { namespace: name, error });
    } finally {
      inFlight.delete(name);
      if (retry.delete(name)) void finalize(name);
    }
  };

  const watcher = namespaces.watch(
    undefined,
    {},
    (event) => {
      const ns = event.object.object;
      if (event.type !== 'DELETED' && ns.metadata.deletionTimestamp) void finalize(ns.metadata.name!);
    },
    (error) => log.error('namespace watch ended', { error }),
  );
  return () => watcher.stop();
}
