/**
 * The shape of the generated Go type tables (./v1_32.ts, ./v1_19.ts): for
 * each Go type reachable from core/v1 PodTemplateSpec, either its struct
 * fields (Go name, JSON name — '' for an inlined embedded struct — and Go type
 * expression) or its underlying type. Type expressions use package keys
 * ("corev1.Container", "*metav1.Time", "[]corev1.EnvVar",
 * "map[string]string"); `packages` maps a key to the package name Go prints.
 */
export type GoField = readonly [name: string, json: string, type: string];

export type GoTypeDecl = { fields: readonly GoField[] } | { underlying: string } | { alias: string };

export interface GoTypeTable {
  packages: Record<string, string>;
  types: Record<string, GoTypeDecl>;
}
