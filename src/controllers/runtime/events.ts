/**
 * Records core/v1 Events for what users should see in `kubectl describe`
 * (Scheduled, ScalingReplicaSet, SuccessfulCreate…). Repeats of the same event
 * on the same object are folded into one Event with a count, as client-go's
 * recorder does, so a crash-looping object does not flood the store.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { timestamp } from '../../apimachinery/meta.js';
import { apiVersionOf } from '../../apimachinery/types.js';
import { RESOURCES, type ApiClient } from '../../client/types.js';
import { logger } from '../../util/log.js';

const log = logger('events');

export type EventType = 'Normal' | 'Warning';

/** Emits Events on behalf of one component (e.g. "deployment-controller"). */
export interface EventRecorder {
  event(object: KubeObject, type: EventType, reason: string, message: string): void;
}

/** What identifies "the same event" for folding. */
interface Folded {
  name: string;
  namespace: string;
  count: number;
}

/** An EventRecorder that writes through an ApiClient. Writes are fire-and-forget. */
export class ClientEventRecorder implements EventRecorder {
  private readonly seen = new Map<string, Folded>();

  constructor(
    private readonly client: ApiClient,
    private readonly component: string,
    private readonly host = '',
  ) {}

  /** A recorder for another component, sharing the client. */
  forComponent(component: string): ClientEventRecorder {
    return new ClientEventRecorder(this.client, component, this.host);
  }

  event(object: KubeObject, type: EventType, reason: string, message: string): void {
    const namespace = object.metadata.namespace || 'default';
    const involved = {
      kind: object.kind,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
      uid: object.metadata.uid,
      apiVersion: object.apiVersion,
      resourceVersion: object.metadata.resourceVersion,
    };
    const foldKey = [involved.uid, type, reason, message, this.component].join('|');
    const now = timestamp();
    const events = this.client.resource(RESOURCES.events);
    const folded = this.seen.get(foldKey);
    if (folded) {
      folded.count++;
      events
        .patch(folded.namespace, folded.name, 'merge', { count: folded.count, lastTimestamp: now })
        .catch((error: Error) => log.debug('event update failed', { error: error.message }));
      return;
    }
    const name = `${object.metadata.name}.${eventNameSuffix()}`;
    this.seen.set(foldKey, { name, namespace, count: 1 });
    if (this.seen.size > 10_000) this.seen.delete(this.seen.keys().next().value!);
    events
      .create(namespace, {
        apiVersion: apiVersionOf('', 'v1'),
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: involved,
        reason,
        message,
        type,
        source: { component: this.component, ...(this.host ? { host: this.host } : {}) },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        reportingComponent: this.component,
        reportingInstance: this.host,
      })
      .catch((error: Error) => log.debug('event create failed', { error: error.message }));
  }
}

let lastEventNanos = 0n;

/**
 * The hex Unix time in nanoseconds, as Kubernetes names events: names then sort
 * in the order the events happened, which is the order `kubectl describe` shows
 * events of the same second in. Strictly increasing within this process.
 */
function eventNameSuffix(): string {
  // Sub-millisecond clock, so two processes recording in the same millisecond rarely pick the same name.
  const now = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
  lastEventNanos = now > lastEventNanos ? now : lastEventNanos + 1n;
  return lastEventNanos.toString(16);
}

/** The context's recorder, reporting as `component` (e.g. "replicaset-controller") when it can. */
export function recorderFor(context: { events: EventRecorder }, component: string): EventRecorder {
  const events = context.events as EventRecorder & { forComponent?(component: string): EventRecorder };
  return typeof events.forComponent === 'function' ? events.forComponent(component) : events;
}
