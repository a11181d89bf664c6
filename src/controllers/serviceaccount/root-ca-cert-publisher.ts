/**
 * The root CA publisher (pkg/controller/certificates/rootcacertpublisher in
 * Kubernetes): a ConfigMap `kube-root-ca.crt` in every namespace whose `ca.crt`
 * is the cluster CA, so pods can verify the API server (service account token
 * volumes project it). Recreated when deleted, restored when edited.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { jsonEqual } from '../../apimachinery/meta.js';
import { RESOURCES } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';
import { isNamespaceTerminating } from './serviceaccounts-controller.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. ' +
  'No other usage is guaranteed across distributions of Kubernetes clusters.';

class RootCACertPublisher implements Controller {
  readonly name = 'root-ca-cert-publisher';
  readonly workers = 2;
  private configMaps?: Informer;

  constructor(private readonly caPem: string) {}

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    // Only the one config map per namespace is cached, not every config map of the cluster.
    this.configMaps = context.informers.informer(RESOURCES.configMaps, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    const namespaces = context.informers.informer(RESOURCES.namespaces);
    namespaces.addHandlers({
      onAdd: (ns) => enqueue(ns.metadata.name!),
      onUpdate: (_old, ns) => {
        if ((ns.status as { phase?: string } | undefined)?.phase === 'Active') enqueue(ns.metadata.name!);
      },
    });
    const changed = (cm: KubeObject) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) enqueue(cm.metadata.namespace!);
    };
    this.configMaps.addHandlers({ onUpdate: (_old, cm) => changed(cm), onDelete: changed });
  }

  async reconcile(namespace: string, context: ControllerContext): Promise<ReconcileResult> {
    const client = context.client.resource(RESOURCES.configMaps);
    const data = { 'ca.crt': this.caPem };
    const cm = this.configMaps!.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    if (!cm) {
      try {
        await client.create(namespace, { metadata: { name: ROOT_CA_CONFIGMAP, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data });
      } catch (error) {
        // Don't retry when the namespace is gone or terminating.
        if (error instanceof StatusError && error.code === 404) return;
        if (isNamespaceTerminating(error)) return;
        throw error;
      }
      return;
    }
    if (jsonEqual(cm.data, data) && cm.metadata.annotations?.[DESCRIPTION_ANNOTATION]) return;
    await client.update(namespace, {
      ...cm,
      metadata: { ...cm.metadata, annotations: { ...cm.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } },
      data,
    });
    return;
  }
}

/**
 * The root CA publisher: ConfigMap `kube-root-ca.crt` (key `ca.crt`) in every
 * namespace. Keys are namespace names.
 * @param caPem the cluster CA certificate, PEM-encoded (the one that signed the API server's serving certificate).
 */
export function rootCACertPublisher(caPem: string): Controller {
  return new RootCACertPublisher(caPem);
}
