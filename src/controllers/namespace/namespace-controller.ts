/**
 * Namespace deletion (pkg/controller/namespace in Kubernetes). A deleted
 * namespace is marked Terminating by the API server and kept by its
 * `kubernetes` finalizer (spec.finalizers); this controller then deletes
 * everything in it, resource by resource, reporting progress in the
 * namespace's conditions (NamespaceDeletionContentFailure,
 * NamespaceContentRemaining, NamespaceFinalizersRemaining…). Once nothing is
 * left it removes its finalizer, and the API server lets the namespace go.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { timestamp } from '../../apimachinery/meta.js';
import { RESOURCES, type ResourceClient } from '../../client/types.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import { servedResources, type ServedResource } from '../garbagecollector/resources.js';

export interface NamespaceControllerOptions {
  /** The namespaced resources to empty; default: every served namespaced resource that can be listed and deleted. */
  resources?: ServedResource[];
  /**
   * Longest wait before looking again at a namespace whose content is still
   * going away (default 1000 ms). Kubernetes waits half its estimate (pods'
   * grace period, or 15 s for finalizers); we look sooner, as the deletion is
   * usually over by then.
   */
  maxRecheckMs?: number;
  workers?: number;
}

/** The finalizer this controller owns in spec.finalizers. */
export const NAMESPACE_FINALIZER = 'kubernetes';
/** Estimate used when remaining content waits on finalizers (finalizerEstimateSeconds). */
const FINALIZER_ESTIMATE_SECONDS = 15;

interface NamespaceCondition {
  type: string;
  status: 'True' | 'False';
  lastTransitionTime: string;
  reason: string;
  message: string;
}

/** The conditions this controller maintains, in the order Kubernetes writes them, with their "all good" form. */
const CONDITION_TYPES: { type: string; okReason: string; okMessage: string }[] = [
  { type: 'NamespaceDeletionDiscoveryFailure', okReason: 'ResourcesDiscovered', okMessage: 'All resources successfully discovered' },
  { type: 'NamespaceDeletionGroupVersionParsingFailure', okReason: 'ParsedGroupVersions', okMessage: 'All legacy kube types successfully parsed' },
  { type: 'NamespaceDeletionContentFailure', okReason: 'ContentDeleted', okMessage: 'All content successfully deleted, may be waiting on finalization' },
  { type: 'NamespaceContentRemaining', okReason: 'ContentRemoved', okMessage: 'All content successfully removed' },
  { type: 'NamespaceFinalizersRemaining', okReason: 'ContentHasNoFinalizers', okMessage: 'All content-preserving finalizers finished' },
];

const isNotFound = (e: unknown): boolean => e instanceof StatusError && e.code === 404;
const isConflict = (e: unknown): boolean => e instanceof StatusError && e.code === 409;
const specFinalizers = (ns: KubeObject): string[] => (isObject(ns.spec) && Array.isArray(ns.spec.finalizers) ? ns.spec.finalizers.map(String) : []);
const phaseOf = (ns: KubeObject): string | undefined => (isObject(ns.status) ? (ns.status.phase as string | undefined) : undefined);

/** What is left of one resource after a deletion pass. */
interface ResourceRemains {
  estimateSeconds: number;
  remaining: number;
  finalizers: Map<string, number>;
}

class NamespaceController implements Controller {
  readonly name = 'namespace-controller';
  readonly workers: number;
  private readonly resources: ServedResource[];
  private readonly maxRecheckMs: number;

  constructor(options: NamespaceControllerOptions) {
    this.resources = options.resources ?? servedResources().filter((r) => r.namespaced && r.verbs.includes('list') && r.verbs.includes('delete'));
    this.maxRecheckMs = options.maxRecheckMs ?? 1000;
    this.workers = options.workers ?? 2;
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    const namespaces = context.informers.informer(RESOURCES.namespaces);
    const add = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp) enqueue(ns.metadata.name!);
    };
    namespaces.addHandlers({ onAdd: add, onUpdate: (_old, ns) => add(ns) });
  }

  async reconcile(name: string, context: ControllerContext): Promise<ReconcileResult> {
    const client = context.client.resource(RESOURCES.namespaces);
    // Several writers touch a terminating namespace: start from its live state.
    let ns: KubeObject;
    try {
      ns = await client.get(undefined, name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (!ns.metadata.deletionTimestamp) return;
    try {
      ns = await this.ensureTerminating(client, ns);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    if (specFinalizers(ns).length === 0) return;

    const { estimateSeconds, errors, latest } = await this.deleteAllContent(ns, context);
    if (errors.length > 0) throw new Error(errors.join('; '));
    if (estimateSeconds > 0) {
      context.log.debug('content remains', { namespace: name, estimateSeconds });
      return { requeueAfterMs: Math.min(estimateSeconds * 500, this.maxRecheckMs) };
    }
    try {
      await this.finalize(client, latest);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    return;
  }

  /** updateNamespaceStatusFunc: phase Terminating (the API server already sets it on delete). */
  private async ensureTerminating(client: ResourceClient, ns: KubeObject): Promise<KubeObject> {
    for (;;) {
      if (phaseOf(ns) === 'Terminating') return ns;
      try {
        return await client.updateStatus(undefined, { ...ns, status: { ...(isObject(ns.status) ? ns.status : {}), phase: 'Terminating' } });
      } catch (error) {
        if (!isConflict(error)) throw error;
        ns = await this.refetch(client, ns);
      }
    }
  }

  /** finalizeNamespace: drop our token from spec.finalizers; with none left, the API server deletes the namespace. */
  private async finalize(client: ResourceClient, ns: KubeObject): Promise<void> {
    for (;;) {
      const rest = [...new Set(specFinalizers(ns).filter((f) => f !== NAMESPACE_FINALIZER))].sort();
      try {
        await client.update(undefined, { ...ns, spec: { ...(isObject(ns.spec) ? ns.spec : {}), finalizers: rest } });
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
        ns = await this.refetch(client, ns);
      }
    }
  }

  private async refetch(client: ResourceClient, previous: KubeObject): Promise<KubeObject> {
    const latest = await client.get(undefined, previous.metadata.name!);
    if (latest.metadata.uid !== previous.metadata.uid) throw new Error('namespace uid has changed across retries');
    return latest;
  }

  /** deleteAllContent: one deletion pass over every resource; the longest estimate of what remains, and the errors. */
  private async deleteAllContent(ns: KubeObject, context: ControllerContext): Promise<{ estimateSeconds: number; errors: string[]; latest: KubeObject }> {
    const namespace = ns.metadata.name!;
    const deletedAt = Date.parse(ns.metadata.deletionTimestamp!);
    const errors: string[] = [];
    let estimateSeconds = 0;
    const remainingByResource = new Map<ServedResource, number>();
    const remainingByFinalizer = new Map<string, number>();
    for (const resource of this.resources) {
      try {
        const remains = await this.deleteResourceContent(resource, namespace, deletedAt, context);
        estimateSeconds = Math.max(estimateSeconds, remains.estimateSeconds);
        if (remains.remaining > 0) {
          remainingByResource.set(resource, remains.remaining);
          for (const [finalizer, count] of remains.finalizers) remainingByFinalizer.set(finalizer, (remainingByFinalizer.get(finalizer) ?? 0) + count);
        }
      } catch (error) {
        const message = (error as Error).message;
        errors.push(message);
        if (error instanceof RemainsError) {
          estimateSeconds = Math.max(estimateSeconds, error.remains.estimateSeconds);
          remainingByResource.set(resource, error.remains.remaining);
        }
      }
    }

    const now = timestamp(context.now());
    const failures: NamespaceCondition[] = [];
    if (remainingByResource.size > 0) {
      const parts = [...remainingByResource].map(([r, n]) => `${r.resource}.${r.group} has ${n} resource instances`).sort();
      failures.push({ type: 'NamespaceContentRemaining', status: 'True', lastTransitionTime: now, reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${parts.join(', ')}` });
    }
    if (remainingByFinalizer.size > 0) {
      const parts = [...remainingByFinalizer].map(([f, n]) => `${f} in ${n} resource instances`).sort();
      failures.push({
        type: 'NamespaceFinalizersRemaining',
        status: 'True',
        lastTransitionTime: now,
        reason: 'SomeFinalizersRemain',
        message: `Some content in the namespace has finalizers remaining: ${parts.join(', ')}`,
      });
    }
    if (errors.length > 0) {
      const sorted = [...errors].sort();
      failures.push({
        type: 'NamespaceDeletionContentFailure',
        status: 'True',
        lastTransitionTime: now,
        reason: 'ContentDeletionFailed',
        message: `Failed to delete all resource types, ${sorted.length} remaining: ${sorted.join(', ')}`,
      });
    }
    const latest = await this.updateConditions(ns, failures, now, context);
    return { estimateSeconds, errors, latest };
  }

  /** deleteAllContentForGroupVersionResource: delete every object of one resource, then see what is left. */
  private async deleteResourceContent(resource: ServedResource, namespace: string, deletedAt: number, context: ControllerContext): Promise<ResourceRemains> {
    const client = context.client.resource(resource);
    const estimateSeconds = resource.group === '' && resource.resource === 'pods' ? await this.podsEstimate(client, namespace, deletedAt, context) : 0;
    // Background: the namespace goes only when all of it is gone, so nothing needs orphaning.
    for (const item of (await client.list(namespace)).items) {
      try {
        await client.delete(namespace, item.metadata.name!, { propagationPolicy: 'Background' });
      } catch (error) {
        if (!isNotFound(error) && !(error instanceof StatusError && error.code === 405)) throw error;
      }
    }
    const left = (await client.list(namespace)).items;
    if (left.length === 0) return { estimateSeconds: 0, remaining: 0, finalizers: new Map() };
    const finalizers = new Map<string, number>();
    for (const item of left) for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
    if (estimateSeconds > 0) return { estimateSeconds, remaining: left.length, finalizers };
    // Items waiting on finalizers are normal: give the garbage collector and friends time.
    if (finalizers.size > 0) return { estimateSeconds: FINALIZER_ESTIMATE_SECONDS, remaining: left.length, finalizers };
    throw new RemainsError(
      `unexpected items still remain in namespace: ${namespace} for gvr: ${resource.group}/${resource.version}, Resource=${resource.resource}`,
      { estimateSeconds, remaining: left.length, finalizers },
    );
  }

  /** estimateGracefulTerminationForPods: the longest grace period of the pods still running, unless it already elapsed. */
  private async podsEstimate(client: ResourceClient, namespace: string, deletedAt: number, context: ControllerContext): Promise<number> {
    let estimate = 0;
    for (const pod of (await client.list(namespace)).items) {
      const phase = isObject(pod.status) ? pod.status.phase : undefined;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = isObject(pod.spec) ? pod.spec.terminationGracePeriodSeconds : undefined;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    const elapsedSeconds = (context.now().getTime() - deletedAt) / 1000;
    return elapsedSeconds >= estimate ? 0 : estimate;
  }

  /** updateConditions: every maintained condition present, failures as given, the others in their "ok" form. Returns the namespace as written. */
  private async updateConditions(ns: KubeObject, failures: NamespaceCondition[], now: string, context: ControllerContext): Promise<KubeObject> {
    const status = isObject(ns.status) ? { ...ns.status } : {};
    const conditions = (Array.isArray(status.conditions) ? status.conditions.map((c) => ({ ...(c as NamespaceCondition) })) : []) as NamespaceCondition[];
    let changed = false;
    for (const { type, okReason, okMessage } of CONDITION_TYPES) {
      const wanted = failures.find((c) => c.type === type) ?? { type, status: 'False', lastTransitionTime: now, reason: okReason, message: okMessage };
      const existing = conditions.find((c) => c.type === type);
      if (!existing) {
        conditions.push(wanted);
        changed = true;
      } else if (existing.status !== wanted.status || existing.reason !== wanted.reason || existing.message !== wanted.message) {
        if (existing.status !== wanted.status) existing.lastTransitionTime = now;
        existing.status = wanted.status;
        existing.reason = wanted.reason;
        existing.message = wanted.message;
        changed = true;
      }
    }
    if (!changed) return ns;
    try {
      return await context.client.resource(RESOURCES.namespaces).updateStatus(undefined, { ...ns, status: { ...status, conditions } });
    } catch (error) {
      // As Kubernetes: a failed condition update is logged, the next pass writes it again.
      context.log.debug('could not update namespace conditions', { namespace: ns.metadata.name, error: (error as Error).message });
      return ns;
    }
  }
}

/** Content left without finalizers to explain it: an error that still carries the counts for the conditions. */
class RemainsError extends Error {
  constructor(
    message: string,
    readonly remains: ResourceRemains,
  ) {
    super(message);
  }
}

/**
 * The namespace controller: empties deleted namespaces, then releases them.
 * Keys are namespace names.
 * @param options which resources to empty, and how soon to look again while content remains.
 */
export function namespaceController(options: NamespaceControllerOptions = {}): Controller {
  return new NamespaceController(options);
}
