/** Bearer-token check for every route but /health, when a token is configured. */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { Unauthorized } from '../errors.js';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Compares digests in constant time, so the token cannot be guessed byte by byte from timings. */
export function requireBearer(token: string, open: (path: string) => boolean, queryAllowed: (path: string) => boolean = () => false): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    if (open(c.req.path)) return next();
    const header = c.req.header('authorization') ?? '';
    const given = /^Bearer\s+(.+)$/i.exec(header)?.[1]?.trim() ?? (queryAllowed(c.req.path) ? c.req.query('access_token') : undefined);
    if (!given || !timingSafeEqual(digest(given), expected)) {
      throw new Unauthorized('a valid "Authorization: Bearer <token>" header is required');
    }
    return next();
  };
}
