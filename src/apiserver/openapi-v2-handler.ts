/**
 * `GET /openapi/v2`, answered as kube-openapi's handler does: JSON or gnostic protobuf
 * by the Accept header (406 for anything else), a SHA-512 ETag with 304 on
 * If-None-Match, and gzip when the client takes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { negotiateOpenAPIV2, openapiV2Spec } from '../api/openapi-v2.js';
import type { OpenAPIResource } from '../api/openapi.js';

/** Serves the v2 document of `resources`. */
export function serveOpenAPIV2(req: IncomingMessage, res: ServerResponse, resources: readonly OpenAPIResource[]): void {
  const chosen = negotiateOpenAPIV2(req.headers.accept);
  if (!chosen) {
    res.writeHead(406, { Vary: 'Accept', 'Content-Length': 0 });
    res.end();
    return;
  }
  const spec = openapiV2Spec(resources);
  const etag = `"${spec.etag}"`;
  const headers: Record<string, string | number> = { Vary: 'Accept, Accept-Encoding', ETag: etag, 'Content-Type': chosen.contentType };
  const ifNoneMatch = req.headers['if-none-match'];
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim() === etag || tag.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
  const body = gzip ? spec.gzipped(chosen.form) : chosen.form === 'json' ? spec.json : spec.protobuf;
  if (gzip) headers['Content-Encoding'] = 'gzip';
  headers['Content-Length'] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
