/**
 * Test support for the Job and CronJob controllers: a stand-in kubelet that
 * watches pods and writes their status through the API as a kubelet would —
 * Running (and Ready), then Succeeded or Failed with the containers' exit
 * codes, or Failed (exit 143) once deleted. What happens to each pod is
 * decided by a function of the pod, which may return a promise to hold the
 * pod running until the test releases it.
 */
import { StatusError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';
import { InformerFactory } from '../../client/informer.js';
import { RESOURCES, objectKey, type ApiClient } from '../../client/types.js';
import type { Pod } from './job-util.js';

/** How a pod ends: exit code 0 succeeds, anything else fails; 'hang' keeps it running. */
export type PodOutcome = { exitCode: number } | 'hang';

export type PodBehaviour = (pod: Pod) => PodOutcome | Promise<PodOutcome>;

export interface FakeKubelet {
  stop(): void;
}

const rfc = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Starts the fake kubelet on every pod of the cluster (or of one namespace). */
export function startFakeKubelet(client: ApiClient, behaviour: PodBehaviour, namespace?: string): FakeKubelet {
  const factory = new InformerFactory(client);
  const informer = factory.informer(RESOURCES.pods, { namespace });
  const pods = client.resource(RESOURCES.pods);
  const started = new Set<string>();
  const killed = new Set<string>();
  let stopped = false;

  /** Reads the pod, applies `change` to its status, writes it back; retries on conflicts. */
  const writeStatus = async (key: string, change: (pod: Pod) => boolean): Promise<void> => {
    const [ns, name] = key.split('/');
    for (let attempt = 0; attempt < 20 && !stopped; attempt++) {
      let pod: Pod;
      try {
        pod = (await pods.get(ns, name)) as Pod;
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return;
        throw error;
      }
      if (!change(pod)) return;
      try {
        await pods.updateStatus(ns, pod as KubeObject);
        return;
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return;
        if (!(error instanceof StatusError && error.code === 409)) throw error;
      }
    }
  };

  const containerNames = (pod: Pod) => (pod.spec?.containers ?? []).map((c) => c.name);
  const terminal = (pod: Pod) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

  const finish = (key: string, exitCode: number, startedAt: string) =>
    writeStatus(key, (pod) => {
      if (terminal(pod)) return false;
      const now = rfc();
      pod.status = {
        ...pod.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'False', lastTransitionTime: now },
          { type: 'Initialized', status: 'True', lastTransitionTime: startedAt, ...(exitCode === 0 ? { reason: 'PodCompleted' } : {}) },
          { type: 'Ready', status: 'False', lastTransitionTime: now, reason: exitCode === 0 ? 'PodCompleted' : 'PodFailed' },
          { type: 'ContainersReady', status: 'False', lastTransitionTime: now, reason: exitCode === 0 ? 'PodCompleted' : 'PodFailed' },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: startedAt },
        ],
        containerStatuses: containerNames(pod).map((name) => ({
          name,
          image: 'busybox',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: now } },
        })),
      };
      return true;
    });

  const run = async (pod: Pod): Promise<void> => {
    const key = objectKey(pod);
    const startedAt = rfc();
    await writeStatus(key, (current) => {
      if (terminal(current) || current.metadata.deletionTimestamp) return false;
      current.status = {
        ...current.status,
        phase: 'Running',
        conditions: [
          { type: 'PodReadyToStartContainers', status: 'True', lastTransitionTime: startedAt },
          { type: 'Initialized', status: 'True', lastTransitionTime: startedAt },
          { type: 'Ready', status: 'True', lastTransitionTime: startedAt },
          { type: 'ContainersReady', status: 'True', lastTransitionTime: startedAt },
          { type: 'PodScheduled', status: 'True', lastTransitionTime: startedAt },
        ],
        startTime: startedAt,
        containerStatuses: containerNames(current).map((name) => ({
          name,
          image: 'busybox',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt } },
        })),
      };
      return true;
    });
    const outcome = await behaviour(pod);
    if (outcome === 'hang' || stopped || killed.has(key)) return;
    await finish(key, outcome.exitCode, startedAt);
  };

  const onPod = (object: KubeObject) => {
    const pod = object as Pod;
    const key = objectKey(pod);
    if (pod.metadata.deletionTimestamp) {
      // Deleted while running: the containers are killed and the pod fails.
      if (!terminal(pod) && !killed.has(key)) {
        killed.add(key);
        void finish(key, 143, pod.status?.startTime ?? rfc()).catch(() => undefined);
      }
      return;
    }
    if (started.has(key) || terminal(pod)) return;
    started.add(key);
    void run(pod).catch(() => undefined);
  };
  informer.addHandlers({ onAdd: onPod, onUpdate: (_old, pod) => onPod(pod) });
  factory.start();
  return {
    stop() {
      stopped = true;
      factory.stop();
    },
  };
}
