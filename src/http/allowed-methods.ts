/**
 * Which methods a path answers to, for the 405 that a request with another method gets (RFC 9110 §15.5.6: a 405
 * carries `Allow`). Read from the app's own router, so every route is covered without listing them twice.
 */
import type { Hono } from 'hono';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** What the router keeps beside each handler (hono-base's RouterRoute): `ALL` marks middleware added with use(). */
interface RouteInfo {
  method: string;
  path: string;
}

/**
 * The methods other than `method` that have a route matching `path`, in METHODS order; empty when none (a 404).
 * A path that a fixed route names (`/task/delegate`) lists only the fixed routes' methods: `DELETE /task/:id` would
 * take "delegate" for a task id, but nobody means that.
 */
export function allowedMethods(app: Hono, path: string, method: string): string[] {
  const found: { method: string; fixed: boolean }[] = [];
  for (const m of METHODS) {
    if (m === method) continue;
    const [handlers] = app.router.match(m, path) as unknown as [Array<[[unknown, RouteInfo], unknown]>];
    for (const [[, route]] of handlers) {
      if (route.method === 'ALL') continue;
      found.push({ method: m, fixed: !/[:*]/.test(route.path) });
    }
  }
  const fixedOnly = found.some((f) => f.fixed);
  return [...new Set(found.filter((f) => f.fixed || !fixedOnly).map((f) => f.method))];
}
