/**
 * Authentication: an X.509 client certificate signed by the cluster CA, or a
 * bearer token from the data directory. Impersonation headers are honoured
 * for users in system:masters (the admin), as kubectl --as sends them.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { forbidden } from '../apimachinery/errors.js';

/** Who is making a request. */
export interface UserInfo {
  name: string;
  groups: string[];
}

/** Tokens known to the server: token → user. */
export type TokenTable = Map<string, UserInfo>;

/** The user of each TLS connection's client certificate, parsed once per connection (not per request). */
const certificateUsers = new WeakMap<TLSSocket, UserInfo | null>();

function certificateUser(socket: TLSSocket): UserInfo | undefined {
  let user = certificateUsers.get(socket);
  if (user === undefined) {
    user = null;
    if (socket.authorized) {
      const subject = socket.getPeerCertificate()?.subject as unknown as Record<string, string | string[]> | undefined;
      if (subject?.CN) {
        const groups = subject.O === undefined ? [] : Array.isArray(subject.O) ? subject.O : [subject.O];
        user = { name: String(subject.CN), groups: [...groups, 'system:authenticated'] };
      }
    }
    certificateUsers.set(socket, user);
  }
  return user ?? undefined;
}

/**
 * Authenticates a request; undefined = anonymous. `bearerAuthenticator` is
 * asked about bearer tokens the table does not know (service-account JWTs).
 */
export function authenticate(req: IncomingMessage, tokens: TokenTable, bearerAuthenticator?: (token: string) => UserInfo | undefined): UserInfo | undefined {
  const fromCertificate = certificateUser(req.socket as TLSSocket);
  if (fromCertificate) return fromCertificate;
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ')) {
    const presented = Buffer.from(header.slice(7).trim());
    for (const [token, user] of tokens) {
      const known = Buffer.from(token);
      if (known.length === presented.length && timingSafeEqual(known, presented)) return user;
    }
    return bearerAuthenticator?.(presented.toString());
  }
  return undefined;
}

/** Applies Impersonate-User / Impersonate-Group headers if the caller may impersonate. */
export function impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
  const asUser = req.headers['impersonate-user'];
  if (typeof asUser !== 'string' || asUser === '') return user;
  if (!user.groups.includes('system:masters')) {
    throw forbidden('', 'users', asUser, `User "${user.name}" cannot impersonate resource "users" in API group "" at the cluster scope`);
  }
  const rawGroups = req.headers['impersonate-group'];
  const groups = rawGroups === undefined ? [] : Array.isArray(rawGroups) ? rawGroups : rawGroups.split(',');
  return { name: asUser, groups: [...groups, 'system:authenticated'] };
}
