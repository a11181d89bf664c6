/**
 * The HTTP side of server-side apply and of field managers: PATCH with
 * `application/apply-patch+yaml` (create when absent, merge otherwise), the
 * PatchOptions checks (`fieldManager` required for apply, `force` only for
 * apply) and the manager name of a request (the `fieldManager` parameter,
 * else the client's user agent up to its first "/"), as kube-apiserver's
 * handlers (endpoints/handlers/{patch,create,rest}.go) do them.
 */
import { LineCounter, parseDocument } from 'yaml';
import { StatusError, badRequest, conflict, invalid, type FieldError } from '../errors.js';
import type { KubeObject } from '../types.js';
import { definitionFor } from '../../api/schema.js';
import { parseFieldValidation, strictPatchCheck } from '../../api/decode.js';
import { fieldManagerFor, type ManagedResource } from './hooks.js';

export const APPLY_PATCH_CONTENT_TYPE = 'application/apply-patch+yaml';

/** Longest accepted field manager name (FieldManagerMaxLength). */
export const FIELD_MANAGER_MAX_LENGTH = 128;

type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions';

/** What server-side apply needs from the generic store of a resource (ResourceStore fits). */
export interface ApplyStore extends ManagedResource {
  readonly resource: string;
  withTypeMeta(obj: KubeObject): KubeObject;
  create(namespace: string | undefined, body: KubeObject, options: ApplyWriteOptions): Promise<KubeObject>;
  update(namespace: string | undefined, name: string, build: (current: KubeObject) => KubeObject, options: ApplyWriteOptions & { subresource?: 'status' | ''; pinnedResourceVersion?: boolean }): Promise<KubeObject>;
}

/** The write options an apply passes on to the store. */
export interface ApplyWriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  managedFieldsApplied?: boolean;
}

/** One apply request. */
export interface ApplyRequest {
  readonly namespace: string | undefined;
  readonly name: string;
  readonly subresource: 'status' | '';
  readonly body: Buffer;
  readonly params: URLSearchParams;
  readonly dryRun: boolean;
}

/** The outcome: the stored object, whether it was created (201), and warnings for the client. */
export interface ApplyResponse {
  readonly object: KubeObject;
  readonly created: boolean;
  readonly warnings: string[];
}

/**
 * The field manager name of a write: the `fieldManager` parameter (checked:
 * at most 128 characters, all printable; a 422 on the request's options
 * otherwise), or else the prefix of the User-Agent before its first "/"
 * (e.g. "kubectl" for "kubectl/v1.32.0 (linux/amd64) kubernetes/…").
 */
export function requestFieldManager(params: URLSearchParams, userAgent: string | undefined, optionsKind: OptionsKind): string {
  const param = params.get('fieldManager') ?? '';
  const errors = fieldManagerErrors(param);
  if (errors.length > 0) throw invalid('meta.k8s.io', optionsKind, '', errors);
  return param || managerFromUserAgent(userAgent ?? '');
}

/** prefixFromUserAgent: the part before the first "/", printable characters only, at most 128 bytes. */
export function managerFromUserAgent(userAgent: string): string {
  let out = '';
  let bytes = 0;
  for (const c of userAgent.split('/')[0]!) {
    if (!isPrintable(c)) continue;
    const size = Buffer.byteLength(c);
    if (bytes + size > FIELD_MANAGER_MAX_LENGTH) break;
    out += c;
    bytes += size;
  }
  return out;
}

function fieldManagerErrors(manager: string): FieldError[] {
  const errors: FieldError[] = [];
  if (manager.length > FIELD_MANAGER_MAX_LENGTH) {
    errors.push({ type: 'FieldValueTooLong', field: 'fieldManager', message: `fieldManager: Too long: may not be more than ${FIELD_MANAGER_MAX_LENGTH} bytes` });
  }
  let position = 0;
  for (const c of manager) {
    if (!isPrintable(c)) {
      const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
      errors.push({ type: 'FieldValueInvalid', field: 'fieldManager', message: `fieldManager: Invalid value: ${JSON.stringify(manager)}: invalid character ${code} (at position ${position})` });
    }
    position += Buffer.byteLength(c);
  }
  return errors;
}

/** Go's unicode.IsPrint, near enough: no control or format characters, no separators but the space. */
function isPrintable(c: string): boolean {
  return c === ' ' || !/[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Z}]/u.test(c);
}

/** strconv.ParseBool, as query parameters are decoded. */
function parseBool(value: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
}

/**
 * ValidatePatchOptions for patches that are not applies: `force` is only for
 * apply (422 on PatchOptions otherwise).
 */
export function checkPatchOptions(params: URLSearchParams): void {
  const force = params.get('force');
  if (force === null) return;
  parseBool(force);
  throw invalid('meta.k8s.io', 'PatchOptions', '', [{ type: 'FieldValueForbidden', field: 'force', message: 'force: Forbidden: may not be specified for non-apply patch' }]);
}

/**
 * Serves `PATCH` with `application/apply-patch+yaml`: validates the options,
 * decodes the configuration (YAML or JSON), then applies it to the live
 * object — or, on the object itself, creates it when it does not exist.
 */
export async function serveApply(store: ApplyStore, request: ApplyRequest): Promise<ApplyResponse> {
  const { params, name, namespace, subresource } = request;
  const forceParam = params.get('force');
  const force = forceParam === null ? false : parseBool(forceParam);
  const manager = params.get('fieldManager') ?? '';
  const errors = manager === '' ? [{ type: 'FieldValueRequired', field: 'fieldManager', message: 'fieldManager: Required value: is required for apply patch' }] : fieldManagerErrors(manager);
  if (errors.length > 0) throw invalid('meta.k8s.io', 'PatchOptions', '', errors);
  const fieldValidation = parseFieldValidation(params.get('fieldValidation'), 'PatchOptions');
  const config = decodeApplyConfiguration(request.body);
  const fieldManager = fieldManagerFor(store);
  const definition = definitionFor(store.group, store.strategy.info.version, store.kind);
  let warnings: string[] = [];
  const strictCheck = () => {
    warnings = strictPatchCheck(definition, {}, { fieldValidation, patchType: APPLY_PATCH_CONTENT_TYPE, patch: request.body });
  };
  const options = { dryRun: request.dryRun, fieldManager: manager, managedFieldsApplied: true };
  const configMeta = isMap(config.metadata) ? config.metadata : {};
  const pinned = typeof configMeta.resourceVersion === 'string' && configMeta.resourceVersion !== '';

  const applyToLive = async (): Promise<KubeObject> =>
    store.update(
      namespace,
      name,
      (current) => {
        const object = fieldManager.apply(store.withTypeMeta(current), structuredClone(config), manager, force, subresource);
        strictCheck();
        checkName(object, name, namespace);
        return object;
      },
      { ...options, subresource, pinnedResourceVersion: pinned },
    );

  try {
    return { object: await applyToLive(), created: false, warnings };
  } catch (error) {
    if (subresource !== '' || !isNotFoundOf(error, store, name)) throw error;
  }
  // Nothing there yet: the apply creates the object.
  const object = fieldManager.apply(undefined, structuredClone(config), manager, force, '');
  strictCheck();
  if (object.metadata?.uid) {
    throw conflict(store.group, store.resource, name, `uid mismatch: the provided object specified uid ${object.metadata.uid}, and no existing object was found`);
  }
  checkName(object, name, namespace);
  try {
    return { object: await store.create(namespace, object, options), created: true, warnings };
  } catch (error) {
    // Someone created it meanwhile: apply to theirs.
    if (error instanceof StatusError && error.code === 409 && error.reason === 'AlreadyExists') return { object: await applyToLive(), created: false, warnings };
    throw error;
  }
}

function isNotFoundOf(error: unknown, store: ApplyStore, name: string): boolean {
  return error instanceof StatusError && error.code === 404 && error.details?.name === name && error.details?.kind === store.resource;
}

/** checkName of the patch handler: the object must keep the name and namespace of the URL. */
function checkName(obj: KubeObject, name: string, namespace: string | undefined): void {
  const objName = obj.metadata?.name ?? '';
  if (objName !== name) throw badRequest(`the name of the object (${objName}) does not match the name on the URL (${name})`);
  const objNamespace = obj.metadata?.namespace ?? '';
  if (namespace && objNamespace && objNamespace !== namespace) {
    throw badRequest(`the namespace of the object (${objNamespace}) does not match the namespace on the request (${namespace})`);
  }
}

function isMap(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Decodes an apply body as sigs.k8s.io/yaml does (YAML 1.1, or JSON) into a
 * map; 400 `error decoding YAML: …` when it is not one.
 */
export function decodeApplyConfiguration(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  let value: unknown;
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
  }
  if (value === undefined) value = parseYaml(text);
  if (value === null || value === undefined) return {};
  if (!isMap(value)) {
    const what = Array.isArray(value) ? 'array' : typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'bool' : 'number';
    throw badRequest(`error decoding YAML: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${what} into Go value of type map[string]interface {}`);
  }
  return value;
}

function parseYaml(text: string): unknown {
  const lineCounter = new LineCounter();
  // YAML 1.1 as go-yaml v2 reads it, but timestamps stay strings.
  const document = parseDocument(text, {
    lineCounter,
    uniqueKeys: false,
    version: '1.1',
    customTags: (tags) => tags.filter((tag) => typeof tag === 'string' || (tag.format !== 'TIME' && tag.tag !== 'tag:yaml.org,2002:timestamp')),
  });
  const problem = document.errors[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line ?? 1;
    const reason = problem.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: line ${line}: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
  }
  try {
    return document.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw badRequest(`error decoding YAML: error converting YAML to JSON: yaml: ${(error as Error).message}`);
  }
}
