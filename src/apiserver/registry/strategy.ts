/**
 * What each resource adds to the one generic store: its names, its scope, and a
 * handful of hooks (defaults, validation, status/scale subresources, selectable
 * fields, table columns). Everything else — CRUD, conflicts, dry-run,
 * finalizers, watch — is the generic store's job (../store.ts).
 */
import type { FieldError } from '../../apimachinery/errors.js';
import type { KubeObject } from '../../apimachinery/types.js';

/** A column of server-side Table output (meta.k8s.io/v1 TableColumnDefinition). */
export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0 = always shown; 1 = only with `-o wide`. */
  priority: number;
}

/** Server-side printing for a kind: column definitions and one row of cells per object. */
export interface TablePrinter {
  columns: TableColumn[];
  /** Cells in column order. `now` is passed so ages are computed once per response. */
  row(obj: KubeObject, now: Date): unknown[];
}

/** Where the scale subresource reads and writes replicas. */
export interface ScaleSpec {
  /** e.g. "spec.replicas" */
  specReplicasPath: string;
  /** e.g. "status.replicas" */
  statusReplicasPath: string;
  /** e.g. "status.selector" (a string selector) — or the object's label selector at spec.selector. */
  labelSelectorPath?: string;
}

/** Static description of a resource, as discovery advertises it. */
export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** Plural, lower case: "pods". */
  resource: string;
  /** Singular, lower case: "pod". */
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  /** e.g. ["all"] for kinds `kubectl get all` shows. */
  categories?: string[];
  /** Verbs the main resource supports; defaults to every standard verb. */
  verbs?: string[];
}

/** The per-resource strategy. Only `info` is required. */
export interface ResourceStrategy {
  info: ResourceInfo;
  /** Has a `/status` subresource: spec and status are written separately. */
  statusSubresource?: boolean;
  /** Has a `/scale` subresource. */
  scale?: ScaleSpec;
  /** metadata.generation is set to 1 on create and bumped when anything but metadata/status changes. */
  tracksGeneration?: boolean;
  /** Objects of this kind carry no user status on create (cleared), e.g. deployments. */
  clearStatusOnCreate?: boolean;
  /** Fill in defaults in place (after decoding, before validation) — same as Kubernetes' defaulters. */
  defaults?(obj: KubeObject): void;
  /** Kind-specific create-time preparation (e.g. pod phase Pending). */
  prepareForCreate?(obj: KubeObject): void;
  /** Kind-specific update-time preparation (e.g. immutable fields copied). */
  prepareForUpdate?(obj: KubeObject, old: KubeObject): void;
  /** Validate a new object; metadata (name, labels…) is validated generically. */
  validate?(obj: KubeObject): FieldError[];
  /** Validate an update; immutable fields etc. Falls back to `validate` of the new object when absent. */
  validateUpdate?(obj: KubeObject, old: KubeObject): FieldError[];
  /** Extra field-selector fields beyond metadata.name / metadata.namespace. */
  selectableFields?(obj: KubeObject): Record<string, string>;
  /** Server-side table output; when absent, Name + Created At columns are used (as kube-apiserver). */
  table?: TablePrinter;
  /**
   * Graceful deletion (pods): the grace period in seconds for this delete,
   * given the one the client asked for. 0 = delete at once. Absent = never graceful.
   */
  gracefulDeletion?(obj: KubeObject, requestedSeconds: number | undefined): number;
  /** True when a delete must wait for something beyond metadata.finalizers (namespaces' spec.finalizers). */
  finalizeOnDelete?(obj: KubeObject): boolean;
  /** Changes made when an object is marked for deletion (namespaces: phase Terminating). */
  prepareForDelete?(obj: KubeObject): void;
  /** Name validation for this kind; default DNS-1123 subdomain. */
  nameValidation?: 'dns1123Subdomain' | 'dns1123Label' | 'pathSegment';
}
