/**
 * The three PATCH bodies Kubernetes accepts besides server-side apply:
 * JSON patch (RFC 6902), JSON merge patch (RFC 7386) and strategic merge
 * patch (k8s.io/apimachinery/pkg/util/strategicpatch, server side, format v2).
 *
 * Each function takes the current object as plain JSON and returns the
 * patched object; inputs are never mutated. Failures are StatusErrors with the
 * codes and messages kube-apiserver answers (see
 * staging/src/k8s.io/apiserver/pkg/endpoints/handlers/patch.go).
 */
import jsonpatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { StatusError, badRequest, tooLarge } from './errors.js';
import { deepCopy, isObject, type JsonObject } from './types.js';
import { EMPTY_PATCH_SCHEMA, lookupPatchField, type PatchField, type PatchSchema } from './patch-schema.js';

export type { PatchSchema, PatchField } from './patch-schema.js';
export { patchSchemaFor, EMPTY_PATCH_SCHEMA } from './patch-schema.js';

/** kube-apiserver refuses JSON patches longer than this (413). */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/** The fixed message of a 422 built by NewGenericServerResponse: the underlying error is not sent. */
const UNPROCESSABLE_MESSAGE = 'the server rejected our request due to an error in our request';

/** 422 Invalid as kube-apiserver answers a JSON patch that does not apply. */
function unprocessable(cause: string): StatusError {
  const error = new StatusError(422, 'Invalid', UNPROCESSABLE_MESSAGE, {});
  // Not on the wire (Kubernetes drops it too), but useful in logs.
  (error as Error).cause = cause;
  return error;
}

// ---------------------------------------------------------------------------
// JSON patch (RFC 6902)
// ---------------------------------------------------------------------------

/**
 * Applies an RFC 6902 JSON patch (`application/json-patch+json`).
 *
 * - a body that is not an array → 400 `json: cannot unmarshal … into Go value of type jsonpatch.Patch`
 * - more than 10000 operations → 413
 * - an operation that does not apply (failed `test`, missing path, unknown op…) → 422 Invalid,
 *   message "the server rejected our request due to an error in our request", as kube-apiserver does.
 */
export function applyJsonPatch(doc: unknown, patchBody: unknown): unknown {
  if (patchBody === null || patchBody === undefined) return deepCopy(doc); // Go decodes `null` to an empty patch
  if (!Array.isArray(patchBody)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(patchBody)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of patchBody) {
    if (op !== null && !isObject(op)) {
      throw badRequest(`json: cannot unmarshal ${jsonTypeName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (patchBody.length > MAX_JSON_PATCH_OPERATIONS) {
    throw tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${patchBody.length}`,
    );
  }
  try {
    // validate = true: checks each op's shape and paths; mutateDocument = false: works on a clone.
    return jsonpatch.applyPatch(doc, patchBody as Operation[], true, false).newDocument;
  } catch (err) {
    throw unprocessable((err instanceof Error ? err.message : String(err)).split('\n')[0]!);
  }
}

// ---------------------------------------------------------------------------
// JSON merge patch (RFC 7386)
// ---------------------------------------------------------------------------

/**
 * Applies an RFC 7386 merge patch (`application/merge-patch+json`): objects
 * merge recursively, `null` deletes a key, anything else replaces. Follows the
 * library kube-apiserver uses (evanphx/json-patch): `null` members are pruned
 * from values that are inserted rather than merged; a `null` or scalar patch is
 * a 400 "Invalid JSON Patch"; an array patch replaces the document (the caller
 * then rejects it when it needs an object).
 */
export function applyMergePatch(doc: unknown, patch: unknown): unknown {
  if (Array.isArray(patch)) return pruneNulls(deepCopy(patch));
  if (!isObject(patch)) throw badRequest('Invalid JSON Patch');
  const patchCopy = deepCopy(patch);
  if (!isObject(doc)) return pruneNulls(patchCopy);
  const target = deepCopy(doc);
  mergeDocs(target, patchCopy);
  return target;
}

function mergeDocs(doc: JsonObject, patch: JsonObject): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete doc[key];
    } else if (!hasOwn(doc, key) || doc[key] === null) {
      doc[key] = pruneNulls(value);
    } else {
      doc[key] = mergeValue(doc[key], value);
    }
  }
}

function mergeValue(current: unknown, patch: unknown): unknown {
  if (!isObject(current)) return pruneNulls(patch);
  if (!isObject(patch)) return patch;
  mergeDocs(current, patch);
  return current;
}

/** Removes `null` members of objects, recursively (null array items stay). */
function pruneNulls(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const item of value) if (item !== null) pruneNulls(item);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (value[key] === null) delete value[key];
      else pruneNulls(value[key]);
    }
  }
  return value;
}

// ---------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------

const DIRECTIVE_MARKER = '$patch';
const DELETE_DIRECTIVE = 'delete';
const REPLACE_DIRECTIVE = 'replace';
const MERGE_DIRECTIVE = 'merge';
const RETAIN_KEYS_DIRECTIVE = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST_PREFIX = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER_PREFIX = '$setElementOrder';

// Errors kube-apiserver maps to 400 with the error text (interpretStrategicMergePatchError).
const ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST = 'invalid patch format of primitive list';
const ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS = 'invalid patch format of retainKeys';
const ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER = 'invalid patch format of setElementOrder list';

/**
 * Errors Kubernetes returns unmapped (so they reach clients as a 500 with no
 * reason); Pilote answers them as 400 BadRequest with the same message, since
 * they are all caused by the patch body.
 */
function patchError(message: string): StatusError {
  return badRequest(message);
}

/**
 * Applies a Kubernetes strategic merge patch
 * (`application/strategic-merge-patch+json`) to `doc`, using `schema` (see
 * {@link patchSchemaFor}) to know which lists merge and by which key.
 *
 * Supported as the server implements it: lists merged by `patchMergeKey`,
 * primitive `merge` lists merged as sets, other lists replaced; `null` deletes
 * a key; `$patch: replace|delete` on maps, `$patch: replace|delete` items in
 * merge lists; `$retainKeys`; `$deleteFromPrimitiveList/<list>`;
 * `$setElementOrder/<list>` (patch items in the given order, server-only items
 * keep their relative place). `$patch: merge` is rejected, as Kubernetes does.
 *
 * Errors: a non-object patch → 400 `json: cannot unmarshal …`; malformed
 * directives → 400 with Kubernetes' message (e.g. "invalid patch format of
 * retainKeys", "map: map[image:x] does not contain declared merge key: name");
 * lists of lists → 422.
 */
export function applyStrategicMergePatch(doc: unknown, patch: unknown, schema: PatchSchema): unknown {
  if (patch === null || patch === undefined) return deepCopy(doc);
  if (!isObject(patch)) {
    throw badRequest(`json: cannot unmarshal ${jsonTypeName(patch)} into Go value of type map[string]interface {}`);
  }
  const original = isObject(doc) ? deepCopy(doc) : {};
  // Works in place on copies, as the Go implementation mutates both maps.
  return mergeMap(original, deepCopy(patch), schema);
}

/** Merges `patch` into `original` (mutating both) and returns the result. */
function mergeMap(original: JsonObject | undefined, patch: JsonObject, schema: PatchSchema): JsonObject {
  if (hasOwn(patch, DIRECTIVE_MARKER)) return directiveOnMap(patch[DIRECTIVE_MARKER], patch);
  const target = original ?? {};

  applyRetainKeys(target, patch);
  // Handles every $setElementOrder list (and the list it orders), deleting both
  // from `patch` before the loop below sees its keys.
  applySetElementOrder(target, patch, schema);

  for (const patchKey of Object.keys(patch)) {
    const patchValue = patch[patchKey];
    let key = patchKey;
    let isDeleteList = false;
    if (patchKey.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX)) {
      key = extractKey(patchKey, DELETE_FROM_PRIMITIVE_LIST_PREFIX);
      isDeleteList = true;
    }

    // null deletes the key (server side, unmatched nulls are simply dropped).
    if (patchValue === null) {
      delete target[key];
      continue;
    }

    if (!hasOwn(target, key) || !sameGoType(target[key], patchValue)) {
      // Not in the original (or of another type): take the patch value, minus directives.
      if (!isDeleteList) {
        discardNulls(patchValue);
        const kept = removeDirectives(patchValue);
        if (kept.keep) target[key] = kept.value;
        else delete target[key];
      }
      continue;
    }

    const originalValue = target[key];
    const field = lookupPatchField(schema, key);
    if (isObject(originalValue) && isObject(patchValue)) {
      target[key] =
        field.strategy === REPLACE_DIRECTIVE
          ? stripDirectiveKeys(patchValue)
          : mergeMap(originalValue, patchValue, field.schema ?? EMPTY_PATCH_SCHEMA);
    } else if (Array.isArray(originalValue) && Array.isArray(patchValue)) {
      target[key] = mergeSliceHandler(originalValue, patchValue, field, isDeleteList);
    } else {
      const kept = removeDirectives(patchValue);
      if (kept.keep) target[key] = kept.value;
      else delete target[key];
    }
  }
  return target;
}

/** `$patch` on a map: `replace` keeps only the patch, `delete` empties it. */
function directiveOnMap(directive: unknown, patch: JsonObject): JsonObject {
  if (directive === REPLACE_DIRECTIVE) {
    delete patch[DIRECTIVE_MARKER];
    return stripDirectiveKeys(patch) as JsonObject;
  }
  if (directive === DELETE_DIRECTIVE) return {};
  throw patchError(errBadPatchType(directive, patch));
}

/**
 * `$retainKeys`: every key of the patch must be listed; keys of the original
 * that are not listed are cleared.
 */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!hasOwn(patch, RETAIN_KEYS_DIRECTIVE)) return;
  const retainKeys = patch[RETAIN_KEYS_DIRECTIVE];
  delete patch[RETAIN_KEYS_DIRECTIVE];
  if (!Array.isArray(retainKeys)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  const retained = new Set<unknown>(retainKeys);
  for (const key of Object.keys(patch)) {
    if (
      patch[key] === null ||
      key.startsWith(DELETE_FROM_PRIMITIVE_LIST_PREFIX) ||
      key.startsWith(SET_ELEMENT_ORDER_PREFIX)
    ) {
      continue;
    }
    if (!retained.has(key)) throw badRequest(ERR_BAD_PATCH_FORMAT_FOR_RETAIN_KEYS);
  }
  for (const key of Object.keys(original)) {
    if (!retained.has(key)) delete original[key];
  }
}

/**
 * `$setElementOrder/<list>`: merges the list (if patched) and orders the
 * result: items named in the directive in its order, the server's other items
 * interleaved where they stood relative to them.
 */
function applySetElementOrder(original: JsonObject, patch: JsonObject, schema: PatchSchema): void {
  for (const key of Object.keys(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER_PREFIX)) continue;
    const order = patch[key];
    delete patch[key];
    if (!Array.isArray(order)) throw patchError(errBadArgType('[]interface {}', order));
    const listKey = extractKey(key, SET_ELEMENT_ORDER_PREFIX);

    const foundOriginal = hasOwn(original, listKey);
    const foundPatch = hasOwn(patch, listKey);
    let originalList: unknown[] | undefined;
    let patchList: unknown[] | undefined;
    if (foundOriginal) {
      const value = original[listKey];
      if (!Array.isArray(value)) throw patchError(errBadArgType('[]interface {}', value));
      originalList = value;
    }
    if (foundPatch) {
      const value = patch[listKey];
      if (!Array.isArray(value)) throw patchError(errBadArgType('[]interface {}', value));
      patchList = value;
    }
    const field = lookupPatchField(schema, listKey);
    const mergeKey = field.mergeKey ?? '';
    validatePatchWithSetOrderList(patchList ?? [], order, mergeKey);

    let merged: unknown[];
    if (originalList && !patchList) {
      merged = originalList;
    } else if (!originalList && patchList) {
      merged = removeDirectives(patchList).value as unknown[];
    } else if (originalList && patchList) {
      merged = mergeSliceHandler(originalList, patchList, field, false);
    } else {
      continue;
    }

    const [patchItems, serverOnly] = mergeKey
      ? partitionMapsByPresentInList(merged, order, mergeKey)
      : partitionPrimitivesByPresentInList(merged, order);
    const kind = sliceElementKind(originalList ?? [], patchList ?? []);
    original[listKey] = normalizeElementOrder(patchItems, serverOnly, order, originalList ?? [], mergeKey, kind);
    delete patch[listKey];
  }
}

/** Checks the patch list is a subsequence of the `$setElementOrder` list (deletions aside). */
function validatePatchWithSetOrderList(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const nonDelete = mergeKey ? extractToDeleteItems(patchList)[0] : patchList;
  let patchIndex = 0;
  let orderIndex = 0;
  while (patchIndex < nonDelete.length && orderIndex < order.length) {
    if (containsDirectiveMarker(nonDelete[patchIndex])) {
      patchIndex++;
      continue;
    }
    if (mergeKeyValueEqual(nonDelete[patchIndex], order[orderIndex], mergeKey)) patchIndex++;
    orderIndex++;
  }
  if (patchIndex < nonDelete.length && orderIndex >= order.length) {
    throw patchError(
      `The order in patch list:\n${goFormat(patchList)}\n doesn't match ${SET_ELEMENT_ORDER_PREFIX} list:\n${goFormat(order)}\n`,
    );
  }
}

function mergeKeyValueEqual(left: unknown, right: unknown, mergeKey: string): boolean {
  if (!mergeKey) return left === right;
  if (!isObject(left)) throw patchError(errBadArgType('map[string]interface {}', left));
  if (!isObject(right)) throw patchError(errBadArgType('map[string]interface {}', right));
  if (!hasOwn(left, mergeKey)) throw patchError(errNoMergeKey(left, mergeKey));
  if (!hasOwn(right, mergeKey)) throw patchError(errNoMergeKey(right, mergeKey));
  return left[mergeKey] === right[mergeKey];
}

/** Lists with strategy `merge` (and `$deleteFromPrimitiveList` lists) merge; others are replaced. */
function mergeSliceHandler(original: unknown[], patch: unknown[], field: PatchField, isDeleteList: boolean): unknown[] {
  if (field.strategy === MERGE_DIRECTIVE || isDeleteList) {
    return mergeSlice(original, patch, field.schema ?? EMPTY_PATCH_SCHEMA, field.mergeKey ?? '', isDeleteList);
  }
  return stripDirectiveKeys(patch) as unknown[];
}

function mergeSlice(
  original: unknown[],
  patch: unknown[],
  schema: PatchSchema,
  mergeKey: string,
  isDeleteList: boolean,
): unknown[] {
  if (original.length === 0 && patch.length === 0) return original;
  const kind = sliceElementKind(original, patch);

  let merged: unknown[];
  if (kind !== 'map') {
    if (isDeleteList) return deleteFromSlice(original, patch);
    merged = deduplicate([...original, ...patch]);
  } else {
    // Go names the schema by its reflect kind here, hence "struct".
    if (!mergeKey) throw patchError('cannot merge lists without merge key for struct');
    [original, patch] = mergeSliceWithSpecialElements(original, patch, mergeKey);
    merged = mergeSliceWithoutSpecialElements(original, patch, mergeKey, schema);
  }

  const [patchItems, serverOnly] = mergeKey
    ? partitionMapsByPresentInList(merged, patch, mergeKey)
    : partitionPrimitivesByPresentInList(merged, patch);
  return normalizeElementOrder(patchItems, serverOnly, patch, original, mergeKey, kind);
}

/**
 * Applies `$patch: delete` items (drop every item with that key) and
 * `$patch: replace` (the list becomes the patch's other items).
 */
function mergeSliceWithSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
): [unknown[], unknown[]] {
  const plain: unknown[] = [];
  let replace = false;
  for (const item of patch) {
    const map = item as JsonObject;
    if (!hasOwn(map, DIRECTIVE_MARKER)) {
      plain.push(item);
      continue;
    }
    const directive = map[DIRECTIVE_MARKER];
    if (directive === DELETE_DIRECTIVE) {
      if (!hasOwn(map, mergeKey)) throw patchError(errNoMergeKey(map, mergeKey));
      original = deleteMatchingEntries(original, mergeKey, map[mergeKey]);
    } else if (directive === REPLACE_DIRECTIVE) {
      replace = true; // keep scanning to drop the other directive items
    } else if (directive === MERGE_DIRECTIVE) {
      throw patchError('merging lists cannot yet be specified in the patch');
    } else {
      throw patchError(errBadPatchType(directive, map));
    }
  }
  if (replace) return [stripDirectiveKeys(plain) as unknown[], []];
  return [original, plain];
}

function deleteMatchingEntries(original: unknown[], mergeKey: string, value: unknown): unknown[] {
  return original.filter((item, index) => {
    if (!isObject(item)) throw patchError(`value for key ${index} is not a map`);
    return !(hasOwn(item, mergeKey) && item[mergeKey] === value);
  });
}

/** Merges each patch item into the original item with the same key, or appends it. */
function mergeSliceWithoutSpecialElements(
  original: unknown[],
  patch: unknown[],
  mergeKey: string,
  schema: PatchSchema,
): unknown[] {
  let result = original;
  let copied = false;
  const positions = keyPositions(original, mergeKey);
  for (const item of patch) {
    const map = item as JsonObject;
    if (!hasOwn(map, mergeKey)) throw patchError(errNoMergeKey(map, mergeKey));
    const index = positions.get(map[mergeKey]);
    if (index !== undefined) {
      result[index] = mergeMap(result[index] as JsonObject, map, schema);
    } else {
      // Appending must not grow `original`: it still gives the server order afterwards.
      if (!copied) {
        result = [...result];
        copied = true;
      }
      positions.set(map[mergeKey], result.length);
      result.push(stripDirectiveKeys(map));
    }
  }
  return result;
}

/** First index of each merge-key value in a list of maps (findMapInSliceBasedOnKeyValue, indexed). */
function keyPositions(list: unknown[], mergeKey: string): Map<unknown, number> {
  const positions = new Map<unknown, number>();
  list.forEach((item, index) => {
    if (!isObject(item)) throw patchError(`value for key ${index} is not a map`);
    if (hasOwn(item, mergeKey) && !positions.has(item[mergeKey])) positions.set(item[mergeKey], index);
  });
  return positions;
}

/** `$deleteFromPrimitiveList`: removes every listed value. */
function deleteFromSlice(current: unknown[], toDelete: unknown[]): unknown[] {
  const remove = new Set(toDelete);
  return current.filter((item) => !remove.has(item));
}

function deduplicate(values: unknown[]): unknown[] {
  return [...new Set(values)];
}

type ElementKind = 'map' | 'string' | 'number' | 'bool' | 'nil';

/** The common kind of all items (Go: sliceElementType); lists of lists are refused. */
function sliceElementKind(...lists: unknown[][]): ElementKind {
  let kind: ElementKind | undefined;
  for (const list of lists) {
    for (const item of list) {
      if (Array.isArray(item)) {
        if (kind === undefined) throw new StatusError(422, 'Invalid', UNPROCESSABLE_MESSAGE, {});
        throw patchError(`list element types are not identical: ${goFormat(lists)}`);
      }
      const current = elementKind(item);
      if (kind === undefined) kind = current;
      else if (kind !== current) throw patchError(`list element types are not identical: ${goFormat(lists)}`);
    }
  }
  if (kind === undefined) throw patchError('no elements in any of the given slices');
  return kind;
}

function elementKind(value: unknown): ElementKind {
  if (value === null || value === undefined) return 'nil';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  return 'map';
}

/** Splits `list` into items present in `by` (compared by merge key) and the others. */
function partitionMapsByPresentInList(list: unknown[], by: unknown[], mergeKey: string): [unknown[], unknown[]] {
  const present: unknown[] = [];
  const others: unknown[] = [];
  let inBy: Map<unknown, number> | undefined;
  for (const item of list) {
    if (!isObject(item)) throw patchError(errBadArgType('map[string]interface {}', item));
    if (!hasOwn(item, mergeKey)) throw patchError(errNoMergeKey(item, mergeKey));
    inBy ??= keyPositions(by, mergeKey);
    (inBy.has(item[mergeKey]) ? present : others).push(item);
  }
  return [present, others];
}

function partitionPrimitivesByPresentInList(list: unknown[], by: unknown[]): [unknown[], unknown[]] {
  const inBy = new Set(by);
  const present: unknown[] = [];
  const others: unknown[] = [];
  for (const item of list) (inBy.has(item) ? present : others).push(item);
  return [present, others];
}

/**
 * Orders `patchItems` by `patchOrder` and `serverOnly` by `serverOrder`, then
 * interleaves them: patch order wins, server-only items stay next to the
 * items they preceded on the server.
 */
function normalizeElementOrder(
  patchItems: unknown[],
  serverOnly: unknown[],
  patchOrder: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const sortedPatch = normalizeSliceOrder(patchItems, patchOrder, mergeKey, kind);
  const sortedServer = normalizeSliceOrder(serverOnly, serverOrder, mergeKey, kind);
  return mergeSortedSlice(sortedServer, sortedPatch, serverOrder, mergeKey, kind);
}

function normalizeSliceOrder(toSort: unknown[], order: unknown[], mergeKey: string, kind: ElementKind): unknown[] {
  let toDelete: unknown[] = [];
  if (kind === 'map') {
    validateMergeKeyInLists(mergeKey, toSort, order);
    [toSort, toDelete] = extractToDeleteItems(toSort);
  }
  const position = indexer(order, mergeKey, kind);
  // Go's sort.SliceStable with a "less" that is true whenever either item is
  // missing from `order`; for such inputs only insertion sort (what Go runs on
  // short lists) reproduces its result, so use it.
  const sorted = [...toSort];
  for (let i = 1; i < sorted.length; i++) {
    for (let j = i; j > 0; j--) {
      const a = position(sorted[j]);
      const b = position(sorted[j - 1]);
      const less = a >= 0 && b >= 0 ? a < b : true;
      if (!less) break;
      [sorted[j], sorted[j - 1]] = [sorted[j - 1], sorted[j]];
    }
  }
  return sorted.concat(toDelete);
}

/** Inserts each server-only item (`left`) before the first patch item (`right`) it preceded on the server. */
function mergeSortedSlice(
  left: unknown[],
  right: unknown[],
  serverOrder: unknown[],
  mergeKey: string,
  kind: ElementKind,
): unknown[] {
  const position = indexer(serverOrder, mergeKey, kind);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (i >= left.length) out.push(right[j++]);
    else if (j >= right.length) out.push(left[i++]);
    else {
      const li = position(left[i]);
      const ri = position(right[j]);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** index(): position of an item in `list`, comparing merge-key values for maps. */
function indexer(list: unknown[], mergeKey: string, kind: ElementKind): (item: unknown) => number {
  const valueOf = kind === 'map' ? (item: unknown) => (isObject(item) ? item[mergeKey] : undefined) : (item: unknown) => item;
  const positions = new Map<unknown, number>();
  list.forEach((item, index) => {
    const value = valueOf(item);
    if (!positions.has(value)) positions.set(value, index);
  });
  return (item) => positions.get(valueOf(item)) ?? -1;
}

function validateMergeKeyInLists(mergeKey: string, ...lists: unknown[][]): void {
  for (const list of lists) {
    for (const item of list) {
      if (!isObject(item)) throw patchError(errBadArgType('map[string]interface {}', item));
      if (!hasOwn(item, mergeKey)) throw patchError(errNoMergeKey(item, mergeKey));
    }
  }
}

/** Splits out the `$patch: delete` items. */
function extractToDeleteItems(list: unknown[]): [unknown[], unknown[]] {
  const keep: unknown[] = [];
  const remove: unknown[] = [];
  for (const item of list) {
    if (!isObject(item)) throw patchError(errBadArgType('map[string]interface {}', item));
    (item[DIRECTIVE_MARKER] === DELETE_DIRECTIVE ? remove : keep).push(item);
  }
  return [keep, remove];
}

function containsDirectiveMarker(item: unknown): boolean {
  return isObject(item) && hasOwn(item, DIRECTIVE_MARKER);
}

/** `$prefix/key` → `key`; a missing `/` is a malformed directive. */
function extractKey(key: string, prefix: string): string {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) {
    throw badRequest(
      prefix === DELETE_FROM_PRIMITIVE_LIST_PREFIX
        ? ERR_BAD_PATCH_FORMAT_FOR_PRIMITIVE_LIST
        : ERR_BAD_PATCH_FORMAT_FOR_SET_ELEMENT_ORDER,
    );
  }
  return key.slice(slash + 1);
}

/** Deletes null members of objects (recursively) from a value about to be inserted. */
function discardNulls(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) discardNulls(item);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (value[key] === null) delete value[key];
      else discardNulls(value[key]);
    }
  }
}

function isDirectiveKey(key: string): boolean {
  return (
    key === DIRECTIVE_MARKER ||
    key === RETAIN_KEYS_DIRECTIVE ||
    key.startsWith(`${SET_ELEMENT_ORDER_PREFIX}/`) ||
    key.startsWith(`${DELETE_FROM_PRIMITIVE_LIST_PREFIX}/`)
  );
}

/**
 * Go's removeDirectives, for a value inserted where the original had none:
 * maps carrying `$patch` vanish (from lists too). Other directive keys are
 * dropped as well: Kubernetes drops them when decoding into the typed object,
 * and Pilote stores what it merged.
 */
function removeDirectives(value: unknown): { value: unknown; keep: boolean } {
  if (isObject(value)) {
    if (hasOwn(value, DIRECTIVE_MARKER)) return { value: undefined, keep: false };
    for (const key of Object.keys(value)) {
      if (isDirectiveKey(key)) {
        delete value[key];
        continue;
      }
      const child = removeDirectives(value[key]);
      if (child.keep) value[key] = child.value;
      else delete value[key];
    }
    return { value, keep: true };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const item of value) {
      const child = removeDirectives(item);
      if (child.keep) out.push(child.value);
    }
    return { value: out, keep: true };
  }
  return { value, keep: true };
}

/**
 * Drops directive keys from a value taken wholesale (replaced lists and maps,
 * appended items), as Kubernetes' typed decoding would.
 */
function stripDirectiveKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (const item of value) stripDirectiveKeys(item);
  } else if (isObject(value)) {
    for (const key of Object.keys(value)) {
      if (isDirectiveKey(key)) delete value[key];
      else stripDirectiveKeys(value[key]);
    }
  }
  return value;
}

/** Go's reflect.TypeOf equality for decoded JSON: maps, slices, strings, numbers, bools, nil. */
function sameGoType(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) return Array.isArray(a) && Array.isArray(b);
  return elementKind(a) === elementKind(b);
}

// ---------------------------------------------------------------------------
// Go-compatible messages
// ---------------------------------------------------------------------------

function errNoMergeKey(map: JsonObject, mergeKey: string): string {
  return `map: ${goFormat(map)} does not contain declared merge key: ${mergeKey}`;
}

function errBadPatchType(directive: unknown, map: JsonObject): string {
  return `unknown patch type: ${goFormat(directive)} in map: ${goFormat(map)}`;
}

function errBadArgType(expected: string, actual: unknown): string {
  return `expected a ${expected}, but received a ${goTypeName(actual)}`;
}

/** reflect.TypeOf(v).String() for a value decoded by encoding/json (ints kept as int64). */
function goTypeName(value: unknown): string {
  if (value === null || value === undefined) return '%!s(<nil>)';
  if (Array.isArray(value)) return '[]interface {}';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  return 'map[string]interface {}';
}

/** Formats a decoded JSON value like Go's `%v`: `map[a:1 b:[x y]]`. */
function goFormat(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(value[k])}`).join(' ')}]`;
  }
  return String(value);
}

/** The JSON type name encoding/json uses in "cannot unmarshal X" errors. */
function jsonTypeName(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'bool';
  if (value === null || value === undefined) return 'null';
  return 'object';
}

function hasOwn(object: JsonObject, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}
