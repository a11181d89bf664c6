/**
 * The generic shapes every Kubernetes object shares. Handlers and storage work
 * on these; per-kind code may narrow them with the types from `kubernetes-types`.
 */
import type { ObjectMeta as ReadonlyObjectMeta } from 'kubernetes-types/meta/v1.js';

/** ObjectMeta as the server handles it: the server sets uid, resourceVersion, timestamps… */
export type ObjectMeta = { -readonly [K in keyof ReadonlyObjectMeta]: ReadonlyObjectMeta[K] };

/** Any Kubernetes object as it travels through the API server. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** A plain JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A JSON object (record) — what we decode request bodies into before checks. */
export type JsonObject = { [key: string]: unknown };

/** True when `value` is a non-null, non-array object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Group/version/kind of a type, as discovery and TypeMeta spell them. */
export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

/** `apiVersion` for a group and version: core is "v1", others "group/version". */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Deep copy of a JSON-compatible value. */
export function deepCopy<T>(value: T): T {
  return structuredClone(value);
}
