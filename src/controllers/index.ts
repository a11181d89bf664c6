/**
 * The control plane of one server: the controller manager (every controller
 * on shared informers) and the scheduler, run while this server holds the
 * leader Lease, plus the simulated nodes when asked. Everything talks to the
 * API through an in-process client, with the HTTP API's semantics.
 */
import type { ApiServer } from '../apiserver/api-server.js';
import { LocalClient } from '../client/local-client.js';
import { InformerFactory } from '../client/informer.js';
import { ControllerManager, type Controller } from './runtime/controller.js';
import { ClientEventRecorder } from './runtime/events.js';
import { LeaderElector } from './runtime/leader-election.js';
import { replicaSetController } from './replicaset/controller.js';
import { deploymentController } from './deployment/controller.js';
import { jobController } from './job/job-controller.js';
import { cronJobController } from './cronjob/cronjob-controller.js';
import { garbageCollectorController } from './garbagecollector/garbage-collector.js';
import { namespaceController } from './namespace/namespace-controller.js';
import { serviceAccountController } from './serviceaccount/serviceaccounts-controller.js';
import { rootCACertPublisher } from './serviceaccount/root-ca-cert-publisher.js';
import { endpointsController } from './endpoints/endpoints-controller.js';
import { endpointSliceController } from './endpoints/endpointslice-controller.js';
import { nodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { taintEvictionController } from './nodelifecycle/taint-eviction-controller.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { startSimulatedNodes, type SimulatedNodes } from '../simulated/index.js';
import { logger } from '../util/log.js';

const log = logger('control-plane');

export interface ControlPlaneOptions {
  /** The cluster CA, published in every namespace as kube-root-ca.crt. */
  caPem: string;
  /** Simulated nodes to register (0 = none). */
  simulatedNodes?: number;
  /** How long simulated pods with restartPolicy Never/OnFailure run (seconds). */
  simulatedPodRunSeconds?: number;
  /**
   * Which controllers run, as kube-controller-manager's --controllers: "*" for
   * all, a name to enable, "-name" to disable (e.g. ["*", "-job"], or
   * ["namespace"]). Names are the controllers' without "-controller", plus
   * "scheduler". Default: all.
   */
  controllers?: string[];
  /** How long a node may go without renewing its Lease before it is marked Unknown (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
}

/** Every controller of the controller manager, in start order. */
export function allControllers(caPem: string, options: { nodeMonitorGracePeriodMs?: number } = {}): Controller[] {
  return [
    namespaceController(),
    serviceAccountController(),
    rootCACertPublisher(caPem),
    garbageCollectorController(),
    replicaSetController,
    deploymentController,
    jobController,
    cronJobController,
    endpointsController(),
    endpointSliceController(),
    nodeLifecycleController({ gracePeriodMs: options.nodeMonitorGracePeriodMs }),
    taintEvictionController(),
  ];
}

/** The short name --controllers uses for a controller: "deployment-controller" → "deployment". */
export function controllerFlagName(controller: { name: string }): string {
  return controller.name.replace(/-controller$/, '');
}

/** Whether `name` is enabled by a --controllers list. */
export function controllerEnabled(list: string[] | undefined, name: string): boolean {
  if (!list) return true;
  if (list.includes(`-${name}`)) return false;
  return list.includes(name) || list.includes('*');
}

/** The names --controllers accepts. */
export function knownControllerNames(): string[] {
  return [...allControllers('').map(controllerFlagName), 'scheduler'];
}

/** A running control plane. */
export interface ControlPlane {
  stop(): Promise<void>;
}

/** Starts leader election; the controllers and scheduler run while this server leads. */
export async function startControlPlane(api: ApiServer, options: ControlPlaneOptions): Promise<ControlPlane> {
  const controllerClient = new LocalClient(api, 'kube-controller-manager');
  let running: { manager: ControllerManager; scheduler: Scheduler } | undefined;

  const lead = async () => {
    // Fresh instances per term: a manager that lost the lease never resumes with stale caches.
    const informers = new InformerFactory(controllerClient);
    const manager = new ControllerManager(
      { client: controllerClient, informers, events: new ClientEventRecorder(controllerClient, 'controller-manager'), now: () => new Date() },
      allControllers(options.caPem, { nodeMonitorGracePeriodMs: options.nodeMonitorGracePeriodMs }).filter((c) => controllerEnabled(options.controllers, controllerFlagName(c))),
    );
    const schedulerClient = new LocalClient(api, 'default-scheduler');
    const scheduler = new Scheduler(schedulerClient, new InformerFactory(schedulerClient), new ClientEventRecorder(schedulerClient, 'default-scheduler'), {
      startInformers: true,
    });
    const schedule = controllerEnabled(options.controllers, 'scheduler');
    running = { manager, scheduler };
    await Promise.all([manager.start(), schedule ? scheduler.start() : undefined]);
    log.info('controllers and scheduler started');
  };
  const follow = async () => {
    const current = running;
    running = undefined;
    if (current) await Promise.all([current.manager.stop(), current.scheduler.stop()]);
  };

  const elector = new LeaderElector(controllerClient, { name: 'kube-controller-manager', onStartedLeading: lead, onStoppedLeading: follow });
  elector.start();

  let simulated: SimulatedNodes | undefined;
  if (options.simulatedNodes && options.simulatedNodes > 0) {
    simulated = await startSimulatedNodes(new LocalClient(api, 'kubelet'), {
      count: options.simulatedNodes,
      podRunSeconds: options.simulatedPodRunSeconds,
    });
    log.info('simulated nodes registered', { count: options.simulatedNodes });
  }

  return {
    async stop() {
      await simulated?.stop();
      await elector.stop();
      await follow();
    },
  };
}
