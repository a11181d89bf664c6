/**
 * Garbage collection of dead containers and sandboxes (the kubelet's
 * containerGC with MaxPerPodContainer = 1): for each (pod, container name) the
 * newest dead instance stays — `kubectl logs --previous` reads it — and older
 * ones go; sandboxes that are neither ready nor the pod's newest, and hold no
 * container, go too. Pods gone from the API lose everything (see the
 * kubelet's orphan cleanup). Run per pod by its worker, so it never races a sync.
 */
import { isNotFound, type CriClient } from './cri/client.js';
import type { RuntimePod } from './runtime-state.js';

/** How many dead instances of each container to keep. */
export const DEAD_CONTAINERS_KEPT_PER_NAME = 1;

/** Ids of dead containers to remove (runtime.containers is newest first). */
export function deadContainersToRemove(runtime: RuntimePod): string[] {
  const kept = new Map<string, number>();
  const remove: string[] = [];
  for (const c of runtime.containers) {
    if (c.state !== 'exited') continue;
    const count = kept.get(c.name) ?? 0;
    if (count >= DEAD_CONTAINERS_KEPT_PER_NAME) remove.push(c.id);
    else kept.set(c.name, count + 1);
  }
  return remove;
}

/** Ids of sandboxes to remove: not ready, not the newest, and empty once `removing` containers are gone. */
export function sandboxesToRemove(runtime: RuntimePod, removing: ReadonlySet<string>): string[] {
  const [, ...older] = runtime.sandboxes;
  return older
    .filter((s) => !s.ready)
    .filter((s) => runtime.containers.every((c) => c.sandboxId !== s.id || removing.has(c.id)))
    .map((s) => s.id);
}

/** Removes what deadContainersToRemove and sandboxesToRemove select; returns the ids removed. */
export async function collectPodGarbage(cri: CriClient, runtime: RuntimePod): Promise<string[]> {
  const containers = deadContainersToRemove(runtime);
  const removing = new Set(containers);
  const removed: string[] = [];
  for (const id of containers) {
    try {
      await cri.removeContainer(id);
      removed.push(id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  for (const id of sandboxesToRemove(runtime, removing)) {
    try {
      await cri.removePodSandbox(id);
      removed.push(id);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
  return removed;
}
