/**
 * The one reconcile pattern every controller follows (as controller-runtime):
 * informer handlers only enqueue keys ("namespace/name"); workers take keys
 * from a WorkQueue and call `reconcile(key)`, which reads the current state
 * from the informer caches and makes one step towards the desired state. The
 * result asks for a requeue (now or after a delay); a thrown error retries
 * with exponential back-off.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { ApiClient, ResourceRef } from '../../client/types.js';
import { objectKey } from '../../client/types.js';
import type { Informer, InformerFactory } from '../../client/informer.js';
import { WorkQueue } from '../../client/workqueue.js';
import { logger, type Logger } from '../../util/log.js';
import type { EventRecorder } from './events.js';

/** What a reconcile asks for next. */
export type ReconcileResult = void | { requeue?: boolean; requeueAfterMs?: number };

/** Everything a controller gets to work with. */
export interface ControllerContext {
  client: ApiClient;
  informers: InformerFactory;
  events: EventRecorder;
  log: Logger;
  /** Current time; tests may pass a clock that can be advanced. */
  now(): Date;
}

/** A controller: which keys to enqueue on which changes, and how to reconcile one key. */
export interface Controller {
  readonly name: string;
  /** Number of keys reconciled in parallel (never the same key twice at once). */
  readonly workers?: number;
  /** Wires informer handlers to `enqueue`; called once before the informers start. */
  setup(context: ControllerContext, enqueue: (key: string) => void): void;
  reconcile(key: string, context: ControllerContext): Promise<ReconcileResult>;
}

/** Enqueue helpers for the usual wiring. */
export const enqueueFor = {
  /** The object's own key on every add, update and delete. */
  self(informer: Informer, enqueue: (key: string) => void): void {
    const add = (o: KubeObject) => enqueue(objectKey(o));
    informer.addHandlers({ onAdd: add, onUpdate: (_old, o) => add(o), onDelete: add });
  },
  /** The key of the object's controller owner of `kind`, on every change of the object. */
  owner(informer: Informer, kind: string, enqueue: (key: string) => void): void {
    const add = (o: KubeObject) => {
      const owner = controllerOf(o);
      if (owner?.kind === kind) enqueue(o.metadata.namespace ? `${o.metadata.namespace}/${owner.name}` : owner.name);
    };
    informer.addHandlers({
      onAdd: add,
      onUpdate: (old, o) => {
        add(o);
        // An owner change: the former owner must notice it lost the object.
        if (controllerOf(old)?.uid !== controllerOf(o)?.uid) add(old);
      },
      onDelete: add,
    });
  },
};

/** The ownerReference with controller=true, if any. */
export function controllerOf(object: KubeObject): { kind: string; name: string; uid: string; apiVersion: string } | undefined {
  return object.metadata.ownerReferences?.find((ref) => ref.controller) as { kind: string; name: string; uid: string; apiVersion: string } | undefined;
}

/** Runs controllers: their queues, workers and shared informers. */
export class ControllerManager {
  private readonly queues: WorkQueue[] = [];
  private readonly running: Promise<void>[] = [];
  private stopped = false;

  constructor(
    private readonly context: Omit<ControllerContext, 'log'>,
    private readonly controllers: Controller[],
  ) {}

  /** Wires every controller, starts the informers, waits for them to sync, then starts the workers. */
  async start(): Promise<void> {
    const started: { controller: Controller; queue: WorkQueue; context: ControllerContext }[] = [];
    for (const controller of this.controllers) {
      const queue = new WorkQueue();
      const context = { ...this.context, log: logger(controller.name) };
      controller.setup(context, (key) => queue.add(key));
      this.queues.push(queue);
      started.push({ controller, queue, context });
    }
    this.context.informers.start();
    await this.context.informers.waitForSync();
    for (const { controller, queue, context } of started) {
      for (let i = 0; i < (controller.workers ?? 2); i++) this.running.push(this.work(controller, queue, context));
    }
  }

  private async work(controller: Controller, queue: WorkQueue, context: ControllerContext): Promise<void> {
    for (;;) {
      const key = await queue.get();
      if (key === undefined || this.stopped) return;
      try {
        const result = await controller.reconcile(key, context);
        queue.forget(key);
        if (result && result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        else if (result && result.requeue) queue.addRateLimited(key);
      } catch (error) {
        // Conflicts are expected races with other writers: retry quietly.
        if (!(error instanceof StatusError && error.code === 409)) context.log.warn('reconcile failed', { key, error: (error as Error).message });
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  }

  /** Stops the workers (in-flight reconciles finish) and the informers. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const queue of this.queues) queue.shutDown();
    this.context.informers.stop();
    await Promise.allSettled(this.running);
  }
}

/** Re-exported for controllers that only need the resource references. */
export type { ResourceRef };
