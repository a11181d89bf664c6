/**
 * Server-side printing: turns objects into a meta.k8s.io/v1 Table with the
 * kind's columns (one printer mechanism for every kind), as `kubectl get` asks.
 */
import type { KubeObject } from '../apimachinery/types.js';
import { defaultTablePrinter } from '../api/printers.js';
import type { TablePrinter } from './registry/strategy.js';

export const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

/** What the client asked for in its Accept header. */
export type ResponseShape = 'object' | 'table' | 'metadata';

/** Reads the `as=` parameter of the Accept header (Table / PartialObjectMetadata[List]). */
export function negotiateShape(accept: string | undefined): ResponseShape {
  if (!accept) return 'object';
  for (const part of accept.split(',')) {
    const params = part.split(';').map((s) => s.trim());
    const as = params.find((p) => p.startsWith('as='))?.slice(3);
    const group = params.find((p) => p.startsWith('g='))?.slice(2);
    if (group !== 'meta.k8s.io') continue;
    if (as === 'Table') return 'table';
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') return 'metadata';
  }
  return 'object';
}

/** How much of each object a Table row carries (`includeObject` query parameter). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The object metadata as a PartialObjectMetadata. */
export function partialMetadata(object: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** Builds a Table for objects; `withColumns` false omits columnDefinitions (watch events after the first). */
export function buildTable(
  printer: TablePrinter | undefined,
  objects: KubeObject[],
  listMeta: Record<string, unknown>,
  options: { includeObject: IncludeObject; typeMeta: (o: KubeObject) => KubeObject; withColumns?: boolean },
): Record<string, unknown> {
  const p = printer ?? defaultTablePrinter;
  const now = new Date();
  const rows = objects.map((object) => {
    const row: Record<string, unknown> = { cells: p.row(object, now) };
    if (options.includeObject === 'Metadata') row.object = partialMetadata(object);
    else if (options.includeObject === 'Object') row.object = options.typeMeta(object);
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: options.withColumns === false ? null : p.columns,
    rows,
  };
}
