/**
 * One error type for the whole API server: it renders to a Kubernetes `Status`.
 * Every failure a client can see is built through the helpers below so reasons,
 * codes and messages match what real Kubernetes returns.
 */

/** One entry of `details.causes`: what is wrong and where (field path). */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The `metav1.Status` reasons Pilote uses. */
export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Invalid'
  | 'Gone'
  | 'Expired'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable'
  | 'TooManyRequests'
  | '';

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** A `metav1.Status` object as sent on the wire. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** An error that carries the HTTP code and `Status` body to answer with. */
export class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: StatusReason,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
    this.name = 'StatusError';
  }

  /** The wire form of this error. */
  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details) status.details = this.details;
    if (this.reason === '') delete status.reason;
    return status;
  }
}

/** A group/resource pair in the form Kubernetes messages use: "pods", "deployments.apps". */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

export function notFound(group: string, resource: string, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${qualifiedResource(group, resource)} "${name}" not found`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

export function alreadyExists(group: string, resource: string, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${qualifiedResource(group, resource)} "${name}" already exists`, {
    name,
    group: group || undefined,
    kind: resource,
  });
}

/** 409 Conflict, e.g. a stale resourceVersion on update. */
export function conflict(group: string, resource: string, name: string, why: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(group, resource)} "${name}": ${why}`,
    { name, group: group || undefined, kind: resource },
  );
}

/** The standard stale-object message real Kubernetes uses. */
export const STALE_OBJECT_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

/** A field-level validation error, as in k8s.io/apimachinery/pkg/util/validation/field. */
export interface FieldError {
  /** e.g. "FieldValueRequired", "FieldValueInvalid", "FieldValueNotSupported", "FieldValueDuplicate", "FieldValueForbidden", "FieldValueTooLong" */
  type: string;
  /** Field path, e.g. "spec.containers[0].name". */
  field: string;
  /** Full message as Kubernetes prints it, e.g. `spec.containers[0].name: Required value`. */
  message: string;
}

/** Builders for field errors with Kubernetes' exact message shapes. */
export const fieldErrors = {
  required(field: string, detail = ''): FieldError {
    return { type: 'FieldValueRequired', field, message: `${field}: Required value${detail ? `: ${detail}` : ''}` };
  },
  invalid(field: string, value: unknown, detail: string): FieldError {
    return { type: 'FieldValueInvalid', field, message: `${field}: Invalid value: ${formatValue(value)}: ${detail}` };
  },
  notSupported(field: string, value: unknown, supported: string[]): FieldError {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    return {
      type: 'FieldValueNotSupported',
      field,
      message: `${field}: Unsupported value: ${formatValue(value)}: supported values: ${list}`,
    };
  },
  duplicate(field: string, value: unknown): FieldError {
    return { type: 'FieldValueDuplicate', field, message: `${field}: Duplicate value: ${formatValue(value)}` };
  },
  forbidden(field: string, detail: string): FieldError {
    return { type: 'FieldValueForbidden', field, message: `${field}: Forbidden: ${detail}` };
  },
  tooLong(field: string, maxLength: number): FieldError {
    return {
      type: 'FieldValueTooLong',
      field,
      message: `${field}: Too long: may not be more than ${maxLength} bytes`,
    };
  },
};

/** Formats a value the way Go's field errors do (%q for strings, plain for numbers). */
function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined || value === null) return 'null';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** 422 Invalid: `Kind "name" is invalid: [a, b]` with one cause per field error. */
export function invalid(group: string, kind: string, name: string, errors: FieldError[]): StatusError {
  const messages = errors.map((e) => e.message);
  const summary = messages.length === 1 ? messages[0] : `[${messages.join(', ')}]`;
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new StatusError(422, 'Invalid', `${qualifiedKind} "${name}" is invalid: ${summary}`, {
    name,
    group: group || undefined,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.message.slice(e.field.length + 2), field: e.field })),
  });
}

export function badRequest(message: string, causes?: StatusCause[]): StatusError {
  return new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined);
}

export function unauthorized(): StatusError {
  return new StatusError(401, 'Unauthorized', 'Unauthorized');
}

export function forbidden(group: string, resource: string, name: string, why: string): StatusError {
  const target = name ? ` "${name}"` : '';
  return new StatusError(403, 'Forbidden', `${qualifiedResource(group, resource)}${target} is forbidden: ${why}`, {
    name: name || undefined,
    group: group || undefined,
    kind: resource,
  });
}

export function methodNotAllowed(message: string): StatusError {
  return new StatusError(405, 'MethodNotAllowed', message);
}

/** 410 for a watch or list from a compacted resourceVersion. */
export function resourceExpired(message = 'too old resource version'): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function tooLarge(message = 'Request entity too large: limit is 3145728'): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`, {
    causes: [{ reason: 'UnsupportedMediaType', message: contentType }],
  });
}

export function notAcceptable(message: string): StatusError {
  return new StatusError(406, 'NotAcceptable', message);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`);
}

/**
 * 504 for a read at a resourceVersion the server has not reached in time, as
 * storage.NewTooLargeResourceVersionError: clients (client-go's reflector) look
 * for the ResourceVersionTooLarge cause and retry after `retryAfterSeconds`.
 */
export function tooLargeResourceVersion(requested: number, current: number): StatusError {
  return new StatusError(504, 'Timeout', `Timeout: Too large resource version: ${requested}, current: ${current}`, {
    causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
    retryAfterSeconds: 1,
  });
}

export function timeout(message: string): StatusError {
  return new StatusError(504, 'Timeout', message);
}
