/**
 * The in-process transport of the client interface: calls the API server's
 * generic stores directly, with the same semantics (conflicts, validation,
 * selectors, watch) as the HTTP API, minus the HTTP and JSON round trip.
 */
import type { ApiServer } from '../apiserver/api-server.js';
import { bindPod } from '../apiserver/api-server.js';
import type { ResourceStore } from '../apiserver/store.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from '../apimachinery/patch.js';
import { patchSchemaFor } from '../apimachinery/patch-schema.js';
import { badRequest, notFound } from '../apimachinery/errors.js';
import { deepCopy, isObject, type KubeObject } from '../apimachinery/types.js';
import type { ApiClient, ClientDeleteOptions, ClientList, ClientListOptions, ClientWatch, ClientWatchEvent, PatchType, ResourceClient, ResourceRef } from './types.js';

/** Copies on the way out so callers can never mutate the cache's objects. */
const out = (object: KubeObject): KubeObject => deepCopy(object);

class LocalResourceClient implements ResourceClient {
  constructor(
    private readonly store: ResourceStore,
    /** Recorded in managedFields for every write, as a component's client would send it. */
    private readonly fieldManager: string | undefined,
    /** For subresources served by the API server itself (serviceaccounts/token). */
    private readonly api?: ApiServer,
  ) {}

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.store.withTypeMeta(out(this.store.get(namespace, name).object));
  }

  async list(namespace: string | undefined, options: ClientListOptions = {}): Promise<ClientList> {
    const page = await this.store.list(namespace, options);
    return { items: page.items.map((item) => out(item.object)), resourceVersion: String(page.revision), continue: page.continue };
  }

  watch(
    namespace: string | undefined,
    options: ClientListOptions & { allowWatchBookmarks?: boolean },
    onEvent: (event: ClientWatchEvent) => void,
    onError: (error: Error) => void,
  ): ClientWatch {
    let stopped = false;
    let watcher: { stop(): void } | undefined;
    // Events are delivered on a later tick, as over HTTP, so a handler's writes never re-enter the store mid-dispatch.
    const queue: ClientWatchEvent[] = [];
    let scheduled = false;
    const flush = () => {
      scheduled = false;
      for (const event of queue.splice(0)) {
        if (stopped) return;
        onEvent(event);
      }
    };
    try {
      watcher = this.store.watch(
        namespace,
        options,
        (event) => {
          if (stopped) return;
          queue.push({ type: event.type, object: event.type === 'BOOKMARK' ? event.object.object : out(event.object.object) });
          if (!scheduled) {
            scheduled = true;
            setImmediate(flush);
          }
        },
        (error) => {
          if (!stopped) setImmediate(() => onError(error));
        },
      );
    } catch (error) {
      setImmediate(() => onError(error as Error));
    }
    return {
      stop: () => {
        stopped = true;
        watcher?.stop();
      },
    };
  }

  async create(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    return this.store.create(namespace, deepCopy(object), { fieldManager: this.fieldManager });
  }

  async update(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    const pinned = Boolean(object.metadata.resourceVersion);
    return this.store.update(namespace, object.metadata.name!, () => deepCopy(object), { pinnedResourceVersion: pinned, fieldManager: this.fieldManager });
  }

  async updateStatus(namespace: string | undefined, object: KubeObject): Promise<KubeObject> {
    const pinned = Boolean(object.metadata.resourceVersion);
    return this.store.update(namespace, object.metadata.name!, () => deepCopy(object), { subresource: 'status', pinnedResourceVersion: pinned, fieldManager: this.fieldManager });
  }

  async patch(namespace: string | undefined, name: string, type: PatchType, patch: unknown, subresource?: 'status' | 'scale'): Promise<KubeObject> {
    const apply = (current: KubeObject): KubeObject => {
      const withType = this.store.withTypeMeta(current);
      const patched =
        type === 'json' ? applyJsonPatch(withType, patch) : type === 'merge' ? applyMergePatch(withType, patch) : applyStrategicMergePatch(withType, patch, patchSchemaFor(this.store.group, this.store.kind));
      if (!isObject(patched)) throw badRequest('the patch did not produce an object');
      return patched as KubeObject;
    };
    if (subresource === 'scale') {
      return this.store.update(namespace, name, (current) => {
        const replicas = isObject(patch) && isObject(patch.spec) ? patch.spec.replicas : undefined;
        const next = deepCopy(current);
        next.spec = { ...(isObject(next.spec) ? next.spec : {}), replicas };
        return next;
      }, { subresource: 'scale', fieldManager: this.fieldManager });
    }
    return this.store.update(namespace, name, apply, { subresource: subresource ?? '', fieldManager: this.fieldManager });
  }

  async delete(namespace: string | undefined, name: string, options: ClientDeleteOptions = {}): Promise<void> {
    await this.store.delete(namespace, name, options);
  }

  async createSubresource(namespace: string | undefined, name: string, subresource: string, body: KubeObject): Promise<unknown> {
    if (subresource === 'binding' && this.store.resource === 'pods') {
      const target = isObject(body.target) ? body.target : {};
      return bindPod(this.store, namespace, name, String(target.name ?? ''));
    }
    if (subresource === 'token' && this.store.resource === 'serviceaccounts' && this.api) {
      return this.api.createServiceAccountToken(namespace ?? '', name, deepCopy(body));
    }
    throw notFound(this.store.group, `${this.store.resource}/${subresource}`, name);
  }
}

/** An ApiClient served by the API server of this process. */
export class LocalClient implements ApiClient {
  private readonly clients = new Map<string, LocalResourceClient>();

  /** `fieldManager` names the component in managedFields (e.g. "kube-controller-manager"). */
  constructor(
    private readonly api: ApiServer,
    private readonly fieldManager?: string,
  ) {}

  resource(ref: ResourceRef): ResourceClient {
    const key = `${ref.group}/${ref.resource}`;
    let client = this.clients.get(key);
    if (!client) {
      client = new LocalResourceClient(this.api.storeFor(ref.group, ref.resource), this.fieldManager, this.api);
      this.clients.set(key, client);
    }
    return client;
  }
}
