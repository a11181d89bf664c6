/**
 * A raw HTTPS client for API tests: plain node:https requests against a test
 * server, authenticated with the admin client certificate, the admin bearer
 * token, or nothing. Bodies come back as text and (when they parse) JSON, so
 * tests can assert status codes, headers and `Status` objects exactly.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How a client authenticates. */
export type ApiAuth = 'cert' | 'token' | 'none' | { token: string };

/** A finished response. */
export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON (any: tests read arbitrary shapes). */
  json: any;
}

/** Reads a whole response: its status, headers, text, and JSON when the text is JSON. */
export function readResponse(res: IncomingMessage): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('error', reject);
    res.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
    });
  });
}

export interface RequestOptions {
  /** An object is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
}

/** One event of a watch stream. */
export interface WatchEventLine {
  type: string;
  object: any;
}

/** An open watch: events are queued as they arrive; `next()` waits for one. */
export class WatchStream {
  private readonly queue: WatchEventLine[] = [];
  private waiter?: () => void;
  private partial = '';
  /** Resolves when the server ends the stream. */
  readonly ended: Promise<void>;
  endedAt?: number;

  constructor(
    readonly response: IncomingMessage,
    private readonly abort: () => void,
  ) {
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) if (line.trim()) this.queue.push(JSON.parse(line) as WatchEventLine);
      this.waiter?.();
    });
    this.ended = new Promise((resolve) => {
      const done = () => {
        this.endedAt ??= Date.now();
        this.waiter?.();
        resolve();
      };
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  get headers(): IncomingHttpHeaders {
    return this.response.headers;
  }

  /** The next event, or undefined when the stream ended or `timeoutMs` passed first. */
  async next(timeoutMs = 5000): Promise<WatchEventLine | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = this.queue.shift();
      if (event) return event;
      if (this.endedAt !== undefined || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        this.waiter = () => {
          clearTimeout(timer);
          this.waiter = undefined;
          resolve();
        };
      });
    }
  }

  /** Collects `count` events (fails when fewer arrive in time). */
  async take(count: number, timeoutMs = 5000): Promise<WatchEventLine[]> {
    const deadline = Date.now() + timeoutMs;
    const out: WatchEventLine[] = [];
    while (out.length < count) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (!event) throw new Error(`watch: got ${out.length} of ${count} events: ${JSON.stringify(out.map((e) => [e.type, e.object?.metadata?.name]))}`);
      out.push(event);
    }
    return out;
  }

  /** Events already received and not yet taken. */
  pending(): WatchEventLine[] {
    return this.queue.splice(0);
  }

  close(): void {
    this.abort();
  }
}

/** A client for one server and one identity. */
export class ApiClient {
  private readonly agent: Agent;

  constructor(
    readonly port: number,
    readonly tlsDir: string,
    readonly auth: ApiAuth = 'cert',
  ) {
    const ca = readFileSync(join(tlsDir, 'ca.crt'));
    const cert = auth === 'cert' ? { cert: readFileSync(join(tlsDir, 'admin.crt')), key: readFileSync(join(tlsDir, 'admin.key')) } : {};
    this.agent = new Agent({ ca, ...cert, keepAlive: true, maxSockets: 32 });
  }

  private headersFor(options: RequestOptions, body: Buffer | undefined): Record<string, string> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.auth === 'token') headers.Authorization = `Bearer ${readFileSync(join(this.tlsDir, 'admin.token'), 'utf8').trim()}`;
    else if (typeof this.auth === 'object') headers.Authorization = `Bearer ${this.auth.token}`;
    if (options.accept) headers.Accept = options.accept;
    if (body !== undefined) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      // A Transfer-Encoding header asks for a chunked body without a declared length.
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'transfer-encoding')) headers['Content-Length'] = String(body.length);
    }
    return headers;
  }

  private static encode(body: unknown): Buffer | undefined {
    if (body === undefined) return undefined;
    if (Buffer.isBuffer(body)) return body;
    if (typeof body === 'string') return Buffer.from(body);
    return Buffer.from(JSON.stringify(body));
  }

  /** Sends one request and reads the whole answer. */
  request(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    const body = ApiClient.encode(options.body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: this.port, method, path, agent: this.agent, headers: this.headersFor(options, body) },
        (res) => readResponse(res).then(resolve, reject),
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  get(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('GET', path, options);
  }

  post(path: string, body: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('POST', path, { ...options, body });
  }

  put(path: string, body: unknown, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('PUT', path, { ...options, body });
  }

  patch(path: string, body: unknown, contentType: string, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('PATCH', path, { ...options, body, contentType });
  }

  delete(path: string, options: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('DELETE', path, options);
  }

  /** Opens a watch (the path carries watch=true or /watch/) and resolves once the headers arrived. */
  watch(path: string, options: RequestOptions = {}): Promise<WatchStream> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: this.port, method: 'GET', path, agent: false, ca: readFileSync(join(this.tlsDir, 'ca.crt')), ...this.tlsIdentity(), headers: this.headersFor(options, undefined) },
        (res) => resolve(new WatchStream(res, () => req.destroy())),
      );
      req.on('error', reject);
      req.end();
    });
  }

  private tlsIdentity(): { cert?: Buffer; key?: Buffer } {
    if (this.auth !== 'cert') return {};
    return { cert: readFileSync(join(this.tlsDir, 'admin.crt')), key: readFileSync(join(this.tlsDir, 'admin.key')) };
  }

  /** Closes pooled connections. */
  close(): void {
    this.agent.destroy();
  }
}
