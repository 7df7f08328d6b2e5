/** Bearer-token check for every route but the open ones (/health, the dashboard's files), when a token is configured. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { Unauthorized } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Whether a request carries the token, in `Authorization: Bearer <token>` or (where `queryAllowed` says so, for
 * EventSource and WebSocket, which cannot set headers) in `?access_token=`. Digests are compared in constant time,
 * so the token cannot be guessed byte by byte from timings.
 */
export function tokenCheck(token: string, queryAllowed: (path: string) => boolean = () => false): (c: Context) => boolean {
  const expected = digest(token);
  return (c) => {
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? (queryAllowed(c.req.path) ? c.req.query('access_token') : undefined);
    return given !== undefined && given !== '' && timingSafeEqual(digest(given), expected);
  };
}

/** Refuses (401) a request to a path that is not `open` unless `hasToken` says it carries the token. */
export function requireBearer(hasToken: (c: Context) => boolean, open: (path: string) => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (!open(c.req.path) && !hasToken(c)) {
      throw new Unauthorized('a valid "Authorization: Bearer <token>" header is required');
    }
    return next();
  };
}
