/**
 * Taint-based eviction (pkg/controller/tainteviction in Kubernetes): a pod on
 * a node with NoExecute taints is deleted — at once if it does not tolerate
 * them all, else when the shortest tolerationSeconds of the tolerations used
 * has passed (pods get 300 s for not-ready/unreachable from admission); a
 * toleration without seconds tolerates forever. The pod first gets a
 * DisruptionTarget condition, then is deleted so its controller replaces it
 * elsewhere. A scheduled eviction is cancelled if the taints go first.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { timestamp } from '../../apimachinery/meta.js';
import { RESOURCES, objectKey } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import type { EventRecorder } from '../runtime/events.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { matchingTolerations, minTolerationMs, taintsOf, tolerationsOf } from './taints.js';
import { recorderFor } from '../runtime/events.js';

const nodeNameOf = (pod: KubeObject): string | undefined => (pod.spec as { nodeName?: string } | undefined)?.nodeName || undefined;
const noExecuteTaints = (node: KubeObject | undefined) => taintsOf(node).filter((t) => t.effect === 'NoExecute');

class TaintEvictionController implements Controller {
  readonly name = 'taint-eviction-controller';
  readonly workers = 4;
  private pods?: Informer;
  private nodes?: Informer;
  private recorder?: EventRecorder;
  /** node name → keys of the pods bound to it. */
  private readonly podsByNode = new Map<string, Set<string>>();
  /** Evictions waiting for their time: pod key → pod uid, when first scheduled and when due (ms). */
  private readonly scheduled = new Map<string, { uid: string; createdAt: number; fireAt: number }>();

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.recorder = recorderFor(context, 'taint-eviction-controller');
    this.pods = context.informers.informer(RESOURCES.pods);
    this.nodes = context.informers.informer(RESOURCES.nodes);
    const index = (pod: KubeObject, add: boolean) => {
      const node = nodeNameOf(pod);
      if (!node) return;
      let set = this.podsByNode.get(node);
      if (add) {
        if (!set) this.podsByNode.set(node, (set = new Set()));
        set.add(objectKey(pod));
      } else {
        set?.delete(objectKey(pod));
        if (set?.size === 0) this.podsByNode.delete(node);
      }
    };
    this.pods.addHandlers({
      onAdd: (pod) => {
        index(pod, true);
        if (nodeNameOf(pod)) enqueue(objectKey(pod));
      },
      onUpdate: (old, pod) => {
        index(old, false);
        index(pod, true);
        if (nodeNameOf(old) !== nodeNameOf(pod) || !jsonEqual(tolerationsOf(old), tolerationsOf(pod))) enqueue(objectKey(pod));
      },
      onDelete: (pod) => {
        index(pod, false);
        enqueue(objectKey(pod));
      },
    });
    const nodeChanged = (node: KubeObject) => {
      for (const key of this.podsByNode.get(node.metadata.name!) ?? []) enqueue(key);
    };
    this.nodes.addHandlers({
      onAdd: nodeChanged,
      onUpdate: (old, node) => {
        if (!jsonEqual(noExecuteTaints(old), noExecuteTaints(node))) nodeChanged(node);
      },
      onDelete: nodeChanged,
    });
  }

  async reconcile(key: string, context: ControllerContext): Promise<ReconcileResult> {
    const pod = this.pods!.get(key);
    const nodeName = pod && nodeNameOf(pod);
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) {
      this.scheduled.delete(key);
      return;
    }
    const taints = noExecuteTaints(this.nodes!.get(nodeName));
    if (taints.length === 0) return this.cancel(key);
    const { tolerated, used } = matchingTolerations(taints, tolerationsOf(pod));
    if (!tolerated) {
      this.scheduled.delete(key);
      await this.evict(pod, context);
      return;
    }
    const min = minTolerationMs(used);
    if (min < 0) return this.cancel(key);
    const now = context.now().getTime();
    let entry = this.scheduled.get(key);
    if (!entry || entry.uid !== pod.metadata.uid) {
      entry = { uid: pod.metadata.uid!, createdAt: now, fireAt: now + min };
      this.scheduled.set(key, entry);
    }
    if (now < entry.fireAt) return { requeueAfterMs: entry.fireAt - now };
    this.scheduled.delete(key);
    await this.evict(pod, context);
    return;
  }

  private cancel(key: string): void {
    if (!this.scheduled.delete(key)) return;
    const { namespace, name } = refOf(key);
    this.recorder?.event({ kind: 'Pod', apiVersion: 'v1', metadata: { namespace, name } }, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  }

  /** deletePodHandler: event, DisruptionTarget condition, delete. */
  private async evict(pod: KubeObject, context: ControllerContext): Promise<void> {
    const key = objectKey(pod);
    const { namespace, name } = refOf(key);
    this.recorder?.event({ kind: 'Pod', apiVersion: 'v1', metadata: { namespace, name } }, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    const client = context.client.resource(RESOURCES.pods);
    try {
      const live = await client.get(namespace, name);
      if (live.metadata.uid !== pod.metadata.uid) return;
      const conditions = isObject(live.status) && Array.isArray(live.status.conditions) ? (live.status.conditions as { type: string; status: string }[]) : [];
      const target = conditions.find((c) => c.type === 'DisruptionTarget');
      if (!(target && target.status === 'True')) {
        await client.patch(
          namespace,
          name,
          'strategic',
          {
            metadata: { uid: live.metadata.uid },
            status: {
              conditions: [
                { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: timestamp(context.now()), reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint' },
              ],
            },
          },
          'status',
        );
      }
      await client.delete(namespace, name, { preconditions: { uid: live.metadata.uid } });
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return;
      throw error;
    }
  }
}

function refOf(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/**
 * The taint eviction controller: deletes pods from nodes with NoExecute
 * taints they do not tolerate (for long enough). Keys are "namespace/name"
 * of pods.
 */
export function taintEvictionController(): Controller {
  return new TaintEvictionController();
}
