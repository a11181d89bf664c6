/**
 * The OpenAPI v3 documents a Kubernetes 1.32 API server serves: the index at
 * `GET /openapi/v3` and one document per group-version (`/openapi/v3/api/v1`,
 * `/openapi/v3/apis/apps/v1`), built from the generated schema.
 *
 * kubectl reads them for two things: `apply`/`create`/`edit` look for a PATCH operation
 * tagged with the object's `x-kubernetes-group-version-kind` that lists the
 * `fieldValidation` parameter (server-side field validation support), and `explain`
 * prints the kind's schema (`description`, `properties`, `required`, nested
 * `allOf: [{$ref}]`).
 */
import { createHash } from 'node:crypto';
import { definitionByName, definitionFor, schemaDefinitions } from './schema.js';
import type { GroupVersionKind, SchemaNode } from './schema.js';
import { patchSchemaFor, type PatchSchema } from '../apimachinery/patch-schema.js';
import { withEnums } from './enums.js';

/** A served resource, as the API server's registry knows it. */
export interface OpenAPIResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Plural, lower case: "pods". */
  readonly resource: string;
  readonly namespaced: boolean;
  /** e.g. ["status", "log", "exec", "binding", "eviction"] for pods, ["status", "scale"] for deployments. */
  readonly subresources: readonly string[];
  /** Verbs of the main resource; every standard verb when absent. */
  readonly verbs?: readonly string[];
  /**
   * For kinds outside the built-in schema (custom resources): the OpenAPI v3 schema of
   * the object (a CRD version's `schema.openAPIV3Schema`), so `kubectl explain` finds it.
   */
  readonly schema?: Readonly<Record<string, unknown>>;
}

/** `GET /openapi/v3`: where each group-version document is, with its content hash. */
export interface OpenAPIV3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

/** One group-version document, serialized once, and its hash (uppercase hex SHA-512 of the JSON). */
export interface OpenAPIV3DocumentJSON {
  readonly json: string;
  readonly hash: string;
}

interface CachedSpec {
  readonly index: OpenAPIV3Index;
  readonly documents: Map<string, { document: Record<string, unknown> } & OpenAPIV3DocumentJSON>;
}

/** Specs by resource set; a few are kept since the set changes only when CRDs come and go. */
const cache = new Map<string, CachedSpec>();
const CACHED_SPECS = 4;

/** The `GET /openapi/v3` answer for these resources. */
export function openapiV3Index(resources: readonly OpenAPIResource[]): OpenAPIV3Index {
  return specFor(resources).index;
}

/**
 * The OpenAPI 3.0 document of one group-version, e.g. "api/v1", "apis/apps/v1" (the
 * path after /openapi/v3/; "v1" and "apps/v1" work too). Undefined when no resource is
 * served in that group-version. Built once per resource set.
 */
export function openapiV3Document(groupVersion: string, resources: readonly OpenAPIResource[]): Record<string, unknown> | undefined {
  return specFor(resources).documents.get(documentPath(groupVersion))?.document;
}

/** {@link openapiV3Document} serialized, with the hash the index advertises (use it as the ETag). */
export function openapiV3DocumentJSON(groupVersion: string, resources: readonly OpenAPIResource[]): OpenAPIV3DocumentJSON | undefined {
  const entry = specFor(resources).documents.get(documentPath(groupVersion));
  return entry && { json: entry.json, hash: entry.hash };
}

/** "v1" → "api/v1", "apps/v1" → "apis/apps/v1"; paths already in that form are kept. */
function documentPath(groupVersion: string): string {
  const gv = groupVersion.replace(/^\/+|\/+$/g, '').replace(/^openapi\/v3\//, '');
  if (gv.startsWith('api/') || gv.startsWith('apis/')) return gv;
  return gv.includes('/') ? `apis/${gv}` : `api/${gv}`;
}

function specFor(resources: readonly OpenAPIResource[]): CachedSpec {
  const key = JSON.stringify(resources);
  const cached = cache.get(key);
  if (cached) return cached;
  const byPath = new Map<string, OpenAPIResource[]>();
  for (const resource of resources) {
    const path = resource.group ? `apis/${resource.group}/${resource.version}` : `api/${resource.version}`;
    let list = byPath.get(path);
    if (!list) byPath.set(path, (list = []));
    list.push(resource);
  }
  const documents: CachedSpec['documents'] = new Map();
  const index: OpenAPIV3Index = { paths: {} };
  for (const path of [...byPath.keys()].sort()) {
    const list = byPath.get(path)!;
    const document = buildDocument(list[0]!.group, list[0]!.version, list);
    const json = JSON.stringify(document);
    const hash = createHash('sha512').update(json).digest('hex').toUpperCase();
    documents.set(path, { document, json, hash });
    index.paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
  }
  const spec = { index, documents };
  if (cache.size >= CACHED_SPECS) cache.delete(cache.keys().next().value!);
  cache.set(key, spec);
  return spec;
}

// ---------------------------------------------------------------------------
// Paths

type Json = Record<string, unknown>;

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** What a subresource accepts and returns, as in Kubernetes' registry. */
interface SubresourceShape {
  /** The kind it takes and returns; `same` = the resource's own kind. */
  readonly kind: GroupVersionKind | 'same';
  readonly operations: ReadonlyArray<'get' | 'put' | 'patch' | 'post' | 'log' | 'connect' | 'proxy'>;
}

const SUBRESOURCES: Record<string, SubresourceShape> = {
  status: { kind: 'same', operations: ['get', 'put', 'patch'] },
  ephemeralcontainers: { kind: 'same', operations: ['get', 'put', 'patch'] },
  resize: { kind: 'same', operations: ['get', 'put', 'patch'] },
  approval: { kind: 'same', operations: ['get', 'put', 'patch'] },
  finalize: { kind: 'same', operations: ['put'] },
  scale: { kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, operations: ['get', 'put', 'patch'] },
  binding: { kind: { group: '', version: 'v1', kind: 'Binding' }, operations: ['post'] },
  eviction: { kind: { group: 'policy', version: 'v1', kind: 'Eviction' }, operations: ['post'] },
  token: { kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, operations: ['post'] },
  log: { kind: 'same', operations: ['log'] },
  exec: { kind: { group: '', version: 'v1', kind: 'PodExecOptions' }, operations: ['connect'] },
  attach: { kind: { group: '', version: 'v1', kind: 'PodAttachOptions' }, operations: ['connect'] },
  portforward: { kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' }, operations: ['connect'] },
  proxy: { kind: 'same', operations: ['proxy'] },
};

const PARAM_DOCS = {
  pretty: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
  namespace: 'object name and auth scope, such as for teams and projects',
  dryRun:
    'When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed',
  fieldManager:
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint.',
  fieldManagerPatch:
    'fieldManager is a name associated with the actor or entity that is making these changes. The value must be less than or 128 characters long, and only contain printable characters, as defined by https://golang.org/pkg/unicode/#IsPrint. This field is required for apply requests (application/apply-patch) but optional for non-apply patch types (JsonPatch, MergePatch, StrategicMergePatch).',
  fieldValidation:
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore: This will ignore any unknown fields that are silently dropped from the object, and will ignore all but the last duplicate field that the decoder encounters. This is the default behavior prior to v1.23. - Warn: This will send a warning via the standard warning response header for each unknown field that is dropped from the object, and for each duplicate field that is encountered. The request will still succeed if there are no other errors, and will only persist the last of any duplicate fields. This is the default in v1.23+ - Strict: This will fail the request with a BadRequest error if any unknown fields would be dropped from the object, or if any duplicate fields are present. The error returned from the server will contain all unknown and duplicate fields encountered.',
  force:
    'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people. Force flag must be unset for non-apply patch requests.',
  allowWatchBookmarks:
    'allowWatchBookmarks requests watch events with type "BOOKMARK". Servers that do not implement bookmarks may ignore this flag and bookmarks are sent at the server\'s discretion. Clients should not assume bookmarks are returned at any specific interval, nor may they assume the server will send any BOOKMARK event during a session. If this is not a watch, this field is ignored.',
  continue:
    'The continue option should be set when retrieving more results from the server. Since this value is server defined, clients may only use the continue value from a previous query result with identical query parameters (except for the value of continue) and the server may reject a continue value it does not recognize. If the specified continue value is no longer valid whether due to expiration (generally five to fifteen minutes) or a configuration change on the server, the server will respond with a 410 ResourceExpired error together with a continue token. If the client needs a consistent list, it must restart their list without the continue field. Otherwise, the client may send another list request with the token received with the 410 error, the server will respond with a list starting from the next key, but from the latest snapshot, which is inconsistent from the previous list results - objects that are created, modified, or deleted after the first list request will be included in the response, as long as their keys are after the "next key".\n\nThis field is not supported when watch is true. Clients may start a watch from the last resourceVersion value returned by the server and not miss any modifications.',
  fieldSelector: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.',
  labelSelector: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.',
  limit:
    'limit is a maximum number of responses to return for a list call. If more items exist, the server will set the `continue` field on the list metadata to a value that can be used with the same initial query to retrieve the next set of results. Setting a limit may return fewer than the requested amount of items (up to zero items) in the event all requested objects are filtered out and clients should only use the presence of the continue field to determine whether more results are available. Servers may choose not to support the limit argument and will return all of the available results. If limit is specified and the continue field is empty, clients may assume that no more results are available. This field is not supported if watch is true.\n\nThe server guarantees that the objects returned when using continue will be identical to issuing a single list call without a limit - that is, no objects created, modified, or deleted after the first request is issued will be included in any subsequent continued requests. This is sometimes referred to as a consistent snapshot, and ensures that a client that is using limit to receive smaller chunks of a very large result can ensure they see all possible objects. If objects are updated during a chunked list the version of the object that was present at the time the first list result was calculated is returned.',
  resourceVersion:
    'resourceVersion sets a constraint on what resource versions a request may be served from. See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  resourceVersionMatch:
    'resourceVersionMatch determines how resourceVersion is applied to list calls. It is highly recommended that resourceVersionMatch be set for list calls where resourceVersion is set See https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions for details.\n\nDefaults to unset',
  sendInitialEvents:
    '`sendInitialEvents=true` may be set together with `watch=true`. In that case, the watch stream will begin with synthetic events to produce the current state of objects in the collection. Once all such events have been sent, a synthetic "Bookmark" event  will be sent. The bookmark will report the ResourceVersion (RV) corresponding to the set of objects, and be marked with `"k8s.io/initial-events-end": "true"` annotation. Afterwards, the watch stream will proceed as usual, sending watch events corresponding to changes (subsequent to the RV) to objects watched.\n\nWhen `sendInitialEvents` option is set, we require `resourceVersionMatch` option to also be set. The semantic of the watch request is as following: - `resourceVersionMatch` = NotOlderThan\n  is interpreted as "data at least as new as the provided `resourceVersion`"\n  and the bookmark event is send when the state is synced\n  to a `resourceVersion` at least as fresh as the one provided by the ListOptions.\n  If `resourceVersion` is unset, this is interpreted as "consistent read" and the\n  bookmark event is send when the state is synced at least to the moment\n  when request started being processed.\n- `resourceVersionMatch` set to any other value or unset\n  Invalid error is returned.\n\nDefaults to true if `resourceVersion=""` or `resourceVersion="0"` (for backward compatibility reasons) and to false otherwise.',
  timeoutSeconds: 'Timeout for the list/watch call. This limits the duration of the call, regardless of any activity or inactivity.',
  watch:
    'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications. Specify resourceVersion.',
  gracePeriodSeconds:
    'The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.',
  ignoreStoreReadErrorWithClusterBreakingPotential:
    'if set to true, it will trigger an unsafe deletion of the resource in case the normal deletion flow fails with a corrupt object error. A resource is considered corrupt if it can not be retrieved from the underlying storage successfully because of a) its data can not be transformed e.g. decryption failure, or b) it fails to decode into an object. NOTE: unsafe deletion ignores finalizer constraints, skips precondition checks, and removes the object from the storage. WARNING: This may potentially break the cluster if the workload associated with the resource being unsafe-deleted relies on normal deletion flow. Use only if you REALLY know what you are doing. The default value is false, and the user must opt in to enable it',
  orphanDependents:
    'Deprecated: please use the PropagationPolicy, this field will be deprecated in 1.7. Should the dependent objects be orphaned. If true/false, the "orphan" finalizer will be added to/removed from the object\'s finalizers list. Either this field or PropagationPolicy may be set, but not both.',
  propagationPolicy:
    "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
  container: 'The container for which to stream logs. Defaults to only container if there is one container in the pod.',
  follow: 'Follow the log stream of the pod. Defaults to false.',
  limitBytes:
    'If set, the number of bytes to read from the server before terminating the log output. This may not display a complete final line of logging, and may return slightly more or slightly less than the specified limit.',
  previous: 'Return previous terminated container logs. Defaults to false.',
  sinceSeconds:
    'A relative time in seconds before the current time from which to show logs. If this value precedes the time a pod was started, only logs since the pod start will be returned. If this value is in the future, no logs will be returned. Only one of sinceSeconds or sinceTime may be specified.',
  tailLines:
    'If set, the number of lines from the end of the logs to show. If not specified, logs are shown from the creation of the container or sinceSeconds or sinceTime',
  timestamps:
    'If true, add an RFC3339 or RFC3339Nano timestamp at the beginning of every line of log output. Defaults to false.',
} as const;

type ParamName = keyof typeof PARAM_DOCS;

function queryParam(name: ParamName, type: 'string' | 'boolean' | 'integer', doc: string = PARAM_DOCS[name]): Json {
  return { description: doc, in: 'query', name: name === 'fieldManagerPatch' ? 'fieldManager' : name, schema: { type, uniqueItems: true } };
}

function pathParam(name: string, description: string): Json {
  return { description, in: 'path', name, required: true, schema: { type: 'string', uniqueItems: true } };
}

const LIST_PARAMS: readonly Json[] = [
  queryParam('allowWatchBookmarks', 'boolean'),
  queryParam('continue', 'string'),
  queryParam('fieldSelector', 'string'),
  queryParam('labelSelector', 'string'),
  queryParam('limit', 'integer'),
  queryParam('resourceVersion', 'string'),
  queryParam('resourceVersionMatch', 'string'),
  queryParam('sendInitialEvents', 'boolean'),
  queryParam('timeoutSeconds', 'integer'),
  queryParam('watch', 'boolean'),
];
const WRITE_PARAMS: readonly Json[] = [queryParam('dryRun', 'string'), queryParam('fieldManager', 'string'), queryParam('fieldValidation', 'string')];
const PATCH_PARAMS: readonly Json[] = [
  queryParam('dryRun', 'string'),
  queryParam('fieldManagerPatch', 'string'),
  queryParam('fieldValidation', 'string'),
  queryParam('force', 'boolean'),
];
const DELETE_PARAMS: readonly Json[] = [
  queryParam('dryRun', 'string'),
  queryParam('gracePeriodSeconds', 'integer'),
  queryParam('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean'),
  queryParam('orphanDependents', 'boolean'),
  queryParam('propagationPolicy', 'string'),
];
const LOG_PARAMS: readonly Json[] = [
  queryParam('container', 'string'),
  queryParam('follow', 'boolean'),
  queryParam('limitBytes', 'integer'),
  queryParam('previous', 'boolean'),
  queryParam('sinceSeconds', 'integer'),
  queryParam('tailLines', 'integer'),
  queryParam('timestamps', 'boolean'),
];
const PRETTY = queryParam('pretty', 'string');

const OBJECT_MEDIA = ['application/json', 'application/vnd.kubernetes.protobuf', 'application/yaml'];
const LIST_MEDIA = [...OBJECT_MEDIA, 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'].sort();
const PATCH_MEDIA = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

const schemaRef = (definition: string): Json => ({ $ref: `#/components/schemas/${definition}` });

function content(mediaTypes: readonly string[], schema: Json): Json {
  return Object.fromEntries(mediaTypes.map((m) => [m, { schema }]));
}

function responses(codes: Record<string, [string, Json | undefined]>, mediaTypes: readonly string[] = OBJECT_MEDIA): Json {
  const out: Json = {};
  for (const [code, [description, schema]] of Object.entries(codes)) {
    out[code] = schema ? { content: content(mediaTypes, schema), description } : { description };
  }
  out['401'] = { description: 'Unauthorized' };
  return out;
}

/** Builds the operations of one group-version. */
class PathBuilder {
  readonly paths: Record<string, Json> = {};
  /** Built-in definitions the document needs. */
  readonly roots = new Set<string>();
  /** Schemas of custom resources, by definition name. */
  readonly customSchemas: Record<string, Json> = {};
  /** Patch types the resource being added accepts. */
  private patchMedia: readonly string[] = PATCH_MEDIA;
  private readonly tag: string;
  private readonly opPrefix: string;
  private readonly prefix: string;

  constructor(group: string, version: string) {
    const groupName = group ? camelGroup(group) : 'core';
    this.tag = `${groupName}_${version}`;
    this.opPrefix = `${capitalize(groupName)}${capitalize(version)}`;
    this.prefix = group ? `/apis/${group}/${version}` : `/api/${version}`;
    this.add(`${this.prefix}/`, 'get', {
      description: 'get available resources',
      operationId: `get${this.opPrefix}APIResources`,
      responses: responses({ '200': ['OK', schemaRef(`${META}.APIResourceList`)] }),
      tags: [this.tag],
    });
    this.roots.add(`${META}.APIResourceList`);
  }

  addResource(resource: OpenAPIResource): void {
    const { kind, resource: plural, namespaced } = resource;
    const verbs = new Set(resource.verbs ?? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch']);
    const gvk = { group: resource.group, kind, version: resource.version };
    let kindDefinition = definitionFor(resource.group, resource.version, kind)?.name;
    let listDefinition = definitionFor(resource.group, resource.version, `${kind}List`)?.name;
    if (kindDefinition) this.roots.add(kindDefinition);
    if (listDefinition) this.roots.add(listDefinition);
    if (!kindDefinition && resource.schema) [kindDefinition, listDefinition] = this.addCustomSchemas(resource, resource.schema);
    const object = kindDefinition ? schemaRef(kindDefinition) : { type: 'object' };
    const list = listDefinition ? schemaRef(listDefinition) : { type: 'object' };
    const status = schemaRef(`${META}.Status`);
    this.roots.add(`${META}.Status`).add(`${META}.DeleteOptions`).add(`${META}.WatchEvent`).add(`${META}.Patch`);

    const ns = namespaced ? 'Namespaced' : '';
    const base = namespaced ? `${this.prefix}/namespaces/{namespace}/${plural}` : `${this.prefix}/${plural}`;
    const item = `${base}/{name}`;
    const scopeParams = namespaced ? [pathParam('namespace', PARAM_DOCS.namespace)] : [];
    const nameParam = pathParam('name', `name of the ${kind}`);
    const op = (fields: Json): Json => ({ ...fields, tags: [this.tag] });
    const tagged = (action: string, k: GroupVersionKind = gvk): Json => ({
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': k,
    });

    // Collection.
    if (verbs.has('list')) {
      this.add(base, 'get', op({
        description: `list or watch objects of kind ${kind}`,
        operationId: `list${this.opPrefix}${ns}${kind}`,
        responses: responses({ '200': ['OK', list] }, LIST_MEDIA),
        ...tagged('list'),
      }));
    }
    if (verbs.has('create')) {
      this.add(base, 'post', op({
        description: `create ${article(kind)} ${kind}`,
        operationId: `create${this.opPrefix}${ns}${kind}`,
        parameters: WRITE_PARAMS,
        requestBody: { content: { '*/*': { schema: object } }, required: true },
        responses: responses({ '200': ['OK', object], '201': ['Created', object], '202': ['Accepted', object] }),
        ...tagged('post'),
      }));
    }
    if (verbs.has('deletecollection')) {
      this.add(base, 'delete', op({
        description: `delete collection of ${kind}`,
        operationId: `delete${this.opPrefix}Collection${ns}${kind}`,
        parameters: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')].sort(byName),
        requestBody: { content: { '*/*': { schema: schemaRef(`${META}.DeleteOptions`) } } },
        responses: responses({ '200': ['OK', status] }),
        ...tagged('deletecollection'),
      }));
    }
    if (this.paths[base]) this.setParams(base, [...scopeParams, PRETTY]);

    // Item.
    if (verbs.has('get')) {
      this.add(item, 'get', op({
        description: `read the specified ${kind}`,
        operationId: `read${this.opPrefix}${ns}${kind}`,
        responses: responses({ '200': ['OK', object] }),
        ...tagged('get'),
      }));
    }
    if (verbs.has('update')) {
      this.add(item, 'put', op({
        description: `replace the specified ${kind}`,
        operationId: `replace${this.opPrefix}${ns}${kind}`,
        parameters: WRITE_PARAMS,
        requestBody: { content: { '*/*': { schema: object } }, required: true },
        responses: responses({ '200': ['OK', object], '201': ['Created', object] }),
        ...tagged('put'),
      }));
    }
    // Custom resources take no strategic merge patch.
    const builtin = definitionFor(resource.group, resource.version, kind) !== undefined;
    this.patchMedia = builtin ? PATCH_MEDIA : PATCH_MEDIA.filter((m) => m !== 'application/strategic-merge-patch+json');
    if (verbs.has('patch')) this.addPatch(item, `partially update the specified ${kind}`, `patch${this.opPrefix}${ns}${kind}`, object, tagged('patch'));
    if (verbs.has('delete')) {
      // Pods are deleted gracefully and answered with the pod itself.
      const deleted = kind === 'Pod' && resource.group === '' ? object : status;
      this.add(item, 'delete', op({
        description: `delete ${article(kind)} ${kind}`,
        operationId: `delete${this.opPrefix}${ns}${kind}`,
        parameters: DELETE_PARAMS,
        requestBody: { content: { '*/*': { schema: schemaRef(`${META}.DeleteOptions`) } } },
        responses: responses({ '200': ['OK', deleted], '202': ['Accepted', deleted] }),
        ...tagged('delete'),
      }));
    }
    if (this.paths[item]) this.setParams(item, [nameParam, ...scopeParams, PRETTY]);

    // Cross-namespace list and the deprecated watch paths.
    if (namespaced && verbs.has('list')) {
      const all = `${this.prefix}/${plural}`;
      this.add(all, 'get', op({
        description: `list or watch objects of kind ${kind}`,
        operationId: `list${this.opPrefix}${kind}ForAllNamespaces`,
        responses: responses({ '200': ['OK', list] }, LIST_MEDIA),
        ...tagged('list'),
      }));
      this.setParams(all, [...LIST_PARAMS, PRETTY].sort(byName));
    }
    if (verbs.has('watch')) {
      const watchEvent = schemaRef(`${META}.WatchEvent`);
      const watchBase = namespaced ? `${this.prefix}/watch/namespaces/{namespace}/${plural}` : `${this.prefix}/watch/${plural}`;
      this.add(watchBase, 'get', op({
        description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
        operationId: `watch${this.opPrefix}${ns}${kind}List`,
        responses: responses({ '200': ['OK', watchEvent] }, LIST_MEDIA),
        ...tagged('watchlist'),
      }));
      this.setParams(watchBase, [...LIST_PARAMS, ...scopeParams, PRETTY].sort(byName));
      this.add(`${watchBase}/{name}`, 'get', op({
        description: `watch changes to an object of kind ${kind}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`,
        operationId: `watch${this.opPrefix}${ns}${kind}`,
        responses: responses({ '200': ['OK', watchEvent] }, LIST_MEDIA),
        ...tagged('watch'),
      }));
      this.setParams(`${watchBase}/{name}`, [...LIST_PARAMS, nameParam, ...scopeParams, PRETTY].sort(byName));
      if (namespaced) {
        const watchAll = `${this.prefix}/watch/${plural}`;
        this.add(watchAll, 'get', op({
          description: `watch individual changes to a list of ${kind}. deprecated: use the 'watch' parameter with a list operation instead.`,
          operationId: `watch${this.opPrefix}${kind}ListForAllNamespaces`,
          responses: responses({ '200': ['OK', watchEvent] }, LIST_MEDIA),
          ...tagged('watchlist'),
        }));
        this.setParams(watchAll, [...LIST_PARAMS, PRETTY].sort(byName));
      }
    }

    for (const name of resource.subresources) this.addSubresource(resource, name, item, [nameParam, ...scopeParams, PRETTY]);
  }

  /** A custom resource's schema under Kubernetes' name for it (group reversed: com.example.stable.v1.CronTab), and its list. */
  private addCustomSchemas(resource: OpenAPIResource, schema: Readonly<Record<string, unknown>>): [string, string] {
    const name = `${resource.group.split('.').reverse().join('.')}.${resource.version}.${resource.kind}`;
    const gvk = (kind: string) => [{ group: resource.group, kind, version: resource.version }];
    const properties = { ...((schema.properties as Json | undefined) ?? {}) };
    properties.metadata = {
      allOf: [schemaRef(`${META}.ObjectMeta`)],
      description: "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    };
    this.customSchemas[name] = sortObject({ ...schema, type: 'object', properties: sortObject(properties), 'x-kubernetes-group-version-kind': gvk(resource.kind) });
    this.customSchemas[`${name}List`] = {
      description: `${resource.kind}List is a list of ${resource.kind}`,
      properties: {
        apiVersion: { type: 'string' },
        items: { items: schemaRef(name), type: 'array' },
        kind: { type: 'string' },
        metadata: { allOf: [schemaRef(`${META}.ListMeta`)] },
      },
      required: ['items'],
      type: 'object',
      'x-kubernetes-group-version-kind': gvk(`${resource.kind}List`),
    };
    this.roots.add(`${META}.ObjectMeta`).add(`${META}.ListMeta`);
    return [name, `${name}List`];
  }

  private addSubresource(resource: OpenAPIResource, name: string, item: string, params: Json[]): void {
    const shape = SUBRESOURCES[name] ?? { kind: 'same', operations: ['get', 'put', 'patch'] };
    const ownGvk = { group: resource.group, kind: resource.kind, version: resource.version };
    const gvk = shape.kind === 'same' ? ownGvk : shape.kind;
    const definition = definitionFor(gvk.group, gvk.version, gvk.kind)?.name;
    if (definition) this.roots.add(definition);
    const object = definition ? schemaRef(definition) : { type: 'object' };
    const ns = resource.namespaced ? 'Namespaced' : '';
    const suffix = capitalize(name);
    const path = `${item}/${name}`;
    const what = `${name} of the specified ${resource.kind}`;
    const id = (verb: string) => `${verb}${this.opPrefix}${ns}${resource.kind}${suffix}`;
    const extensions = (action: string, k: GroupVersionKind = gvk): Json => ({ 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': k });
    const tags = [this.tag];

    for (const operation of shape.operations) {
      switch (operation) {
        case 'get':
          this.add(path, 'get', { description: `read ${what}`, operationId: id('read'), responses: responses({ '200': ['OK', object] }), tags, ...extensions('get') });
          break;
        case 'put':
          this.add(path, 'put', {
            description: `replace ${what}`,
            operationId: id('replace'),
            parameters: WRITE_PARAMS,
            requestBody: { content: { '*/*': { schema: object } }, required: true },
            responses: responses({ '200': ['OK', object], '201': ['Created', object] }),
            tags,
            ...extensions('put'),
          });
          break;
        case 'patch':
          this.addPatch(path, `partially update ${what}`, id('patch'), object, extensions('patch'));
          break;
        case 'post':
          this.add(path, 'post', {
            description: `create ${name} of ${article(resource.kind)} ${resource.kind}`,
            operationId: id('create'),
            parameters: WRITE_PARAMS,
            requestBody: { content: { '*/*': { schema: object } }, required: true },
            responses: responses({ '200': ['OK', object], '201': ['Created', object], '202': ['Accepted', object] }),
            tags,
            ...extensions('post'),
          });
          break;
        case 'log':
          this.add(path, 'get', {
            description: `read ${what}`,
            operationId: id('read'),
            parameters: LOG_PARAMS,
            responses: responses({ '200': ['OK', { type: 'string' }] }, ['application/json', 'application/vnd.kubernetes.protobuf', 'application/yaml', 'text/plain']),
            tags,
            ...extensions('get', ownGvk),
          });
          break;
        case 'connect':
        case 'proxy': {
          const methods = operation === 'proxy' ? ['delete', 'get', 'head', 'options', 'patch', 'post', 'put'] : ['get', 'post'];
          const connectGvk = operation === 'proxy' ? { group: '', kind: `${resource.kind}ProxyOptions`, version: 'v1' } : gvk;
          // A proxy also forwards any path below it.
          const targets: Array<[string, string]> = operation === 'proxy' ? [[path, ''], [`${path}/{path}`, 'WithPath']] : [[path, '']];
          for (const [target, idSuffix] of targets) {
            for (const method of methods) {
              this.add(target, method, {
                description: `connect ${method.toUpperCase()} requests to ${name} of ${resource.kind}`,
                operationId: `connect${this.opPrefix}${capitalize(method)}${ns}${resource.kind}${suffix}${idSuffix}`,
                responses: responses({ '200': ['OK', { type: 'string' }] }, ['*/*']),
                tags,
                'x-kubernetes-action': 'connect',
                'x-kubernetes-group-version-kind': connectGvk,
              });
            }
          }
          if (operation === 'proxy') this.setParams(`${path}/{path}`, [...params, pathParam('path', 'path to the resource')]);
          break;
        }
      }
    }
    if (this.paths[path]) this.setParams(path, params);
  }

  /** PATCH, with the fieldValidation parameter kubectl looks for before sending strict writes. */
  private addPatch(path: string, description: string, operationId: string, object: Json, extensions: Json): void {
    this.add(path, 'patch', {
      description,
      operationId,
      parameters: PATCH_PARAMS,
      requestBody: { content: content(this.patchMedia, schemaRef(`${META}.Patch`)), required: true },
      responses: responses({ '200': ['OK', object], '201': ['Created', object] }),
      tags: [this.tag],
      ...extensions,
    });
  }

  private add(path: string, method: string, operation: Json): void {
    (this.paths[path] ??= {})[method] = operation;
  }

  private setParams(path: string, params: Json[]): void {
    this.paths[path]!.parameters = params;
  }
}

function byName(a: Json, b: Json): number {
  return String(a.name) < String(b.name) ? -1 : String(a.name) > String(b.name) ? 1 : 0;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** "rbac.authorization.k8s.io" → "rbacAuthorization", as Kubernetes names operation tags. */
function camelGroup(group: string): string {
  const parts = group.replace(/\.k8s\.io$/, '').split('.');
  return parts.map((p, i) => (i === 0 ? p : capitalize(p))).join('');
}

function article(kind: string): string {
  return /^[AEIOU]/.test(kind) ? 'an' : 'a';
}

// ---------------------------------------------------------------------------
// Components

function buildDocument(group: string, version: string, resources: readonly OpenAPIResource[]): Record<string, unknown> {
  const builder = new PathBuilder(group, version);
  for (const resource of resources) builder.addResource(resource);
  const schemas: Record<string, unknown> = {};
  for (const name of reachableDefinitions(builder.roots)) {
    schemas[name] = withEnums(name, toOpenAPI(schemaDefinitions()[name]!));
  }
  Object.assign(schemas, builder.customSchemas);
  for (const resource of resources) {
    const root = definitionFor(resource.group, resource.version, resource.kind);
    if (root && schemas[root.name]) annotatePatchStrategies(schemas, root.name, patchSchemaFor(resource.group, resource.kind), new Set());
  }
  const paths = Object.fromEntries(Object.keys(builder.paths).sort().map((p) => [p, sortObject(builder.paths[p]!)]));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths,
    components: {
      schemas: sortObject(schemas),
      securitySchemes: { BearerToken: { description: 'Bearer Token authentication', in: 'header', name: 'authorization', type: 'apiKey' } },
    },
  };
}

/**
 * Marks the properties that strategic merge patch treats specially with
 * `x-kubernetes-patch-strategy` / `x-kubernetes-patch-merge-key`, as the real
 * spec does: kubectl apply and edit read them to compute their patches (a list
 * without them is replaced whole, so every apply would look like a change).
 */
function annotatePatchStrategies(schemas: Record<string, unknown>, definitionName: string, patch: PatchSchema, seen: Set<string>): void {
  const key = `${definitionName}|${patch.name}`;
  if (seen.has(key)) return;
  seen.add(key);
  const definition = schemas[definitionName] as { properties?: Record<string, Record<string, unknown>> } | undefined;
  for (const [property, field] of Object.entries(patch.fields)) {
    const node = definition?.properties?.[property];
    if (!node) continue;
    const strategy = [field.strategy, field.retainKeys ? 'retainKeys' : undefined].filter(Boolean).join(',');
    if (strategy) node['x-kubernetes-patch-strategy'] = strategy;
    if (field.mergeKey) node['x-kubernetes-patch-merge-key'] = field.mergeKey;
    if (field.schema) {
      const target = refName(node) ?? refName(node.items as Record<string, unknown> | undefined);
      if (target && schemas[target]) annotatePatchStrategies(schemas, target, field.schema, seen);
    }
  }
}

/** The definition a schema node points at ($ref directly or through allOf). */
function refName(node: Record<string, unknown> | undefined): string | undefined {
  if (!node) return undefined;
  const ref = (node.$ref ?? (node.allOf as { $ref?: string }[] | undefined)?.[0]?.$ref) as string | undefined;
  return ref?.replace('#/components/schemas/', '');
}

/** The definitions `roots` refer to, transitively, in name order. */
function reachableDefinitions(roots: Iterable<string>): string[] {
  const found = new Set<string>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (found.has(name)) continue;
    const definition = definitionByName(name);
    if (!definition) continue;
    found.add(name);
    collectRefs(definition.schema, pending);
  }
  return [...found].sort();
}

function collectRefs(schema: SchemaNode, out: string[]): void {
  if (schema.$ref) out.push(schema.$ref);
  for (const child of Object.values(schema.properties ?? {})) collectRefs(child, out);
  if (schema.items) collectRefs(schema.items, out);
  if (schema.additionalProperties) collectRefs(schema.additionalProperties, out);
  for (const child of schema.oneOf ?? []) collectRefs(child, out);
}

/**
 * A generated schema node in OpenAPI v3 form. A `$ref` with siblings (a description)
 * becomes `allOf: [{$ref}]`, since OpenAPI 3.0 ignores siblings of `$ref` — what
 * Kubernetes' spec does and what `kubectl explain` follows.
 */
function toOpenAPI(schema: SchemaNode): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    switch (key) {
      case '$ref':
        break;
      case 'properties':
        out.properties = Object.fromEntries(Object.entries(value as Record<string, SchemaNode>).map(([k, v]) => [k, toOpenAPI(v)]));
        break;
      case 'items':
      case 'additionalProperties':
        out[key] = toOpenAPI(value as SchemaNode);
        break;
      case 'oneOf':
        out.oneOf = (value as SchemaNode[]).map(toOpenAPI);
        break;
      default:
        out[key] = value;
    }
  }
  if (schema.$ref) {
    const ref = `#/components/schemas/${schema.$ref}`;
    if (Object.keys(out).length === 0) return { $ref: ref };
    out.allOf = [{ $ref: ref }];
  }
  return sortObject(out);
}

function sortObject<T extends Json>(obj: T): T {
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]])) as T;
}
