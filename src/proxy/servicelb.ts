/**
 * The built-in service load balancer, as k3s' ServiceLB: a Service of type
 * LoadBalancer gets the node's IP as its external address
 * (status.loadBalancer.ingress[{ip, ipMode: VIP}]), so `kubectl get svc` shows
 * EXTERNAL-IP, and the service proxy routes that IP and the Service's ports to
 * its endpoints. Services with another spec.loadBalancerClass are left to their
 * controller; a Service that stops being a LoadBalancer loses the address.
 */
import type { Service, LoadBalancerIngress } from 'kubernetes-types/core/v1.js';
import type { AgentConfig } from '../agent/config.js';
import type { KubeObject } from '../apimachinery/types.js';
import { StatusError } from '../apimachinery/errors.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/workqueue.js';
import { objectKey, splitKey, RESOURCES, type ApiClient } from '../client/types.js';
import { logger } from '../util/log.js';

const log = logger('servicelb');

/** The loadBalancerClass this load balancer answers to (besides an unset class). */
export const SERVICELB_CLASS = 'pilote.dev/servicelb';

/** A running service load balancer. */
export interface ServiceLB {
  stop(): Promise<void>;
}

/** True when this load balancer owns the Service's load-balancer status. */
export function handledByServiceLB(service: Service): boolean {
  const lbClass = service.spec?.loadBalancerClass;
  return lbClass === undefined || lbClass === '' || lbClass === SERVICELB_CLASS;
}

/** The ingress list a Service should have: the node IP for our LoadBalancers, nothing for other types. */
export function desiredIngress(service: Service, nodeIp: string): LoadBalancerIngress[] | undefined {
  if (!handledByServiceLB(service)) return undefined; // not ours: leave it alone
  if (service.spec?.type === 'LoadBalancer') return [{ ip: nodeIp, ipMode: 'VIP' }];
  return [];
}

function sameIngress(a: LoadBalancerIngress[], b: LoadBalancerIngress[]): boolean {
  return a.length === b.length && a.every((x, i) => x.ip === b[i].ip && x.hostname === b[i].hostname && (x.ipMode ?? 'VIP') === (b[i].ipMode ?? 'VIP'));
}

/** Starts the service load balancer; resolves once it has seen every Service. */
export async function startServiceLB(opts: { client: ApiClient; config: AgentConfig }): Promise<ServiceLB> {
  const services = opts.client.resource(RESOURCES.services);
  const informer = new Informer(services, { resyncMs: 60_000 });
  const queue = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 30_000 });
  const enqueue = (s: KubeObject) => queue.add(objectKey(s));
  informer.addHandlers({ onAdd: enqueue, onUpdate: (_old, s) => enqueue(s) });

  const reconcile = async (key: string): Promise<void> => {
    const object = informer.get(key);
    if (!object) return;
    const service = object as unknown as Service;
    const want = desiredIngress(service, opts.config.nodeIp);
    const have = service.status?.loadBalancer?.ingress ?? [];
    if (!want || sameIngress(have, want)) return;
    const { namespace, name } = splitKey(key);
    // A merge patch replaces the list as a whole; null removes it (status.loadBalancer becomes {}, as Kubernetes shows it).
    await services.patch(namespace, name, 'merge', { status: { loadBalancer: { ingress: want.length ? want : null } } }, 'status');
    log.info(want.length ? 'load balancer address set' : 'load balancer address removed', { service: key, ip: want[0]?.ip });
  };

  let stopped = false;
  const worker = (async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await reconcile(key);
        queue.forget(key);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404) && !stopped) {
          log.warn('could not update load balancer status; retrying', { service: key, error });
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  })();

  informer.start();
  await informer.hasSynced();
  return {
    async stop() {
      stopped = true;
      informer.stop();
      queue.shutDown();
      await worker;
    },
  };
}
