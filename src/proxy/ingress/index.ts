/** The built-in ingress controller (IngressClass `pilote`). */
export { startIngressController, type IngressController, type IngressControllerOptions } from './controller.js';
export { INGRESS_CLASS_NAME, INGRESS_CONTROLLER_NAME, ensureIngressClass } from './ingress-class.js';
export { RouteTable } from './routing.js';
export { selfSignedCertificate } from './self-signed.js';
