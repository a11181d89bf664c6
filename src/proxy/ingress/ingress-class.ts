/**
 * Which Ingresses the built-in controller serves. It owns the IngressClasses
 * whose `spec.controller` is ours (`pilote`, created at start and marked as
 * the cluster default), and serves an Ingress when its `spec.ingressClassName`
 * (or the older `kubernetes.io/ingress.class` annotation) names one of them,
 * or when it names no class at all and one of ours is the default.
 */
import type { KubeObject } from '../../apimachinery/types.js';
import { StatusError } from '../../apimachinery/errors.js';
import type { ApiClient, ResourceRef } from '../../client/types.js';
import { logger } from '../../util/log.js';

const log = logger('ingress');

export const INGRESS_CLASS_NAME = 'pilote';
export const INGRESS_CONTROLLER_NAME = 'pilote.io/ingress-controller';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

export const INGRESS_RESOURCES = {
  ingresses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingresses' },
  ingressClasses: { group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses' },
} as const satisfies Record<string, ResourceRef>;

/** Creates the `pilote` IngressClass (default class) when it does not exist; an existing one is left as the user set it. */
export async function ensureIngressClass(client: ApiClient): Promise<void> {
  const classes = client.resource(INGRESS_RESOURCES.ingressClasses);
  try {
    const existing = await classes.get(undefined, INGRESS_CLASS_NAME);
    const controller = (existing.spec as { controller?: string } | undefined)?.controller;
    if (controller !== INGRESS_CONTROLLER_NAME) {
      log.warn('IngressClass "pilote" belongs to another controller; the built-in ingress serves only classes with its controller name', { controller, ours: INGRESS_CONTROLLER_NAME });
    }
    return;
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 404)) throw error;
  }
  try {
    await classes.create(undefined, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: INGRESS_CLASS_NAME, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' }, labels: { 'app.kubernetes.io/component': 'controller', 'app.kubernetes.io/name': 'pilote-ingress' } },
      spec: { controller: INGRESS_CONTROLLER_NAME },
    });
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 409)) throw error;
  }
}

/** Decides, from the current IngressClasses, whether an Ingress is ours. */
export class ClassFilter {
  private ours = new Set<string>();
  private defaultIsOurs = false;

  /** Recomputes from the IngressClass objects. */
  update(classes: KubeObject[]): void {
    const ours = classes.filter((c) => (c.spec as { controller?: string } | undefined)?.controller === INGRESS_CONTROLLER_NAME);
    this.ours = new Set(ours.map((c) => c.metadata.name ?? ''));
    const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
    // With several defaults Kubernetes refuses to pick (admission rejects class-less Ingresses); serve them if one is ours.
    this.defaultIsOurs = defaults.some((c) => this.ours.has(c.metadata.name ?? ''));
  }

  /** True when this controller serves the Ingress. */
  serves(ingress: KubeObject): boolean {
    const className = (ingress.spec as { ingressClassName?: string } | undefined)?.ingressClassName ?? ingress.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
    if (className) return this.ours.has(className);
    return this.defaultIsOurs;
  }
}
