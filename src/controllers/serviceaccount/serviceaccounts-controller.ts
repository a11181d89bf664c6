/**
 * Service accounts every namespace has (pkg/controller/serviceaccount in
 * Kubernetes): `default` in every Active namespace, created when the
 * namespace appears and again whenever it is deleted.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { isObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import { RESOURCES } from '../../client/types.js';
import type { Informer } from '../../client/informer.js';
import type { Controller, ControllerContext, ReconcileResult } from '../runtime/controller.js';

export interface ServiceAccountControllerOptions {
  /** The accounts to ensure in every namespace (default: ["default"]). */
  serviceAccounts?: string[];
}

/** A 403 whose cause says the namespace is terminating: creating there will never work. */
export function isNamespaceTerminating(error: unknown): boolean {
  return error instanceof StatusError && error.code === 403 && (error.details?.causes ?? []).some((c) => c.reason === 'NamespaceTerminating');
}

class ServiceAccountsController implements Controller {
  readonly name = 'serviceaccount-controller';
  readonly workers = 2;
  private readonly accounts: string[];
  private namespaces?: Informer;
  private serviceAccounts?: Informer;

  constructor(options: ServiceAccountControllerOptions) {
    this.accounts = options.serviceAccounts ?? ['default'];
  }

  setup(context: ControllerContext, enqueue: (key: string) => void): void {
    this.namespaces = context.informers.informer(RESOURCES.namespaces);
    this.serviceAccounts = context.informers.informer(RESOURCES.serviceAccounts);
    this.namespaces.addHandlers({ onAdd: (ns) => enqueue(ns.metadata.name!), onUpdate: (_old, ns) => enqueue(ns.metadata.name!) });
    this.serviceAccounts.addHandlers({ onDelete: (sa) => enqueue(sa.metadata.namespace!) });
  }

  async reconcile(namespace: string, context: ControllerContext): Promise<ReconcileResult> {
    const ns: KubeObject | undefined = this.namespaces!.get(namespace);
    // Nothing is created in a namespace that is not Active.
    if (!ns || (isObject(ns.status) ? ns.status.phase : undefined) !== 'Active') return;
    for (const name of this.accounts) {
      if (this.serviceAccounts!.get(`${namespace}/${name}`)) continue;
      try {
        await context.client.resource(RESOURCES.serviceAccounts).create(namespace, { metadata: { name } });
      } catch (error) {
        if (error instanceof StatusError && error.code === 409) continue;
        if (isNamespaceTerminating(error)) continue;
        throw error;
      }
    }
    return;
  }
}

/**
 * The service account controller: a `default` ServiceAccount in every Active
 * namespace. Keys are namespace names.
 */
export function serviceAccountController(options: ServiceAccountControllerOptions = {}): Controller {
  return new ServiceAccountsController(options);
}
