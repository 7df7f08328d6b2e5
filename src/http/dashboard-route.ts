/**
 * The dashboard's page at / (also reached from /dashboard) and its static files at /dashboard/<name>. The files are read once, when the module is
 * first used, into a map keyed by URL path: a request can only name one of them, so no path can reach another file.
 * They hold no data (the page fetches it with the API token), so they are served without one. One file is made here, not
 * read: /dashboard/state-table.js, the server's task state table as a module, so the page keeps no copy of it.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Hono, type Context } from 'hono';
import { RouteNotFound } from '../errors.js';
import { packageRoot } from '../package-root.js';
import { stateTableJson } from '../tasks/states.js';

/** The assets ship in the package as they are in the repo. */
const ASSET_DIR = join(packageRoot(), 'src', 'dashboard', 'assets');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};
const SAFE_NAME = /^[a-z0-9][a-z0-9-]*\.(html|css|js|svg)$/;

/** Same-origin only: no inline script, no CDN, no framing. 'self' covers the page's own ws:// connection. */
const PAGE_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

let loaded: Map<string, Asset> | null = null;

const STATE_TABLE = 'state-table.js';

/** /dashboard/state-table.js: `export const TASK_STATES = {statuses, final, open, labels, moves}` (see tasks/states.ts). */
export function stateTableModule(): string {
  return `// Made by the server from its task state table; the page keeps no copy of it.\nexport const TASK_STATES = ${JSON.stringify(stateTableJson())};\n`;
}

function asset(name: string, body: Buffer): Asset {
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
  return { body: new Uint8Array(body), type: CONTENT_TYPES[extname(name)]!, etag };
}

/** URL path → asset, read once from disk (and the state table, made once). */
function assets(): Map<string, Asset> {
  if (loaded) return loaded;
  const map = new Map<string, Asset>();
  for (const name of readdirSync(ASSET_DIR)) {
    if (!SAFE_NAME.test(name)) continue;
    map.set(name === 'index.html' ? '/' : `/dashboard/${name}`, asset(name, readFileSync(join(ASSET_DIR, name))));
  }
  if (!map.has('/')) throw new Error(`the dashboard's index.html is missing from ${ASSET_DIR}`);
  map.set(`/dashboard/${STATE_TABLE}`, asset(STATE_TABLE, Buffer.from(stateTableModule())));
  return (loaded = map);
}

/** Where the original system's docs send people for the dashboard; they are redirected to the page at /. */
const OLD_ADDRESSES: ReadonlySet<string> = new Set(['/dashboard']);

/** Whether the path is one of the dashboard's files or old addresses (served without a token). */
export function isDashboardAsset(path: string): boolean {
  return assets().has(path) || OLD_ADDRESSES.has(path);
}

/** GET / (the page) and GET /dashboard/<name> (its scripts, styles and icon). */
export function dashboardRoute(): Hono {
  assets(); // read now: a package missing its files fails at start, not on the first visit
  const app = new Hono();
  const serve = (c: Context) => {
    const asset = assets().get(c.req.path);
    if (!asset) throw new RouteNotFound(`no dashboard file ${c.req.path}`);
    // Revalidated on every load (cheap with the ETag), so an upgraded server never runs against stale scripts.
    const headers: Record<string, string> = {
      'content-type': asset.type,
      'cache-control': 'no-cache',
      etag: asset.etag,
      'x-content-type-options': 'nosniff',
      // The page's own address may carry ?access_token= until its script removes it: never send it on.
      'referrer-policy': 'no-referrer',
    };
    if (asset.type.startsWith('text/html')) headers['content-security-policy'] = PAGE_POLICY;
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304, headers);
    return c.body(asset.body, 200, headers);
  };
  app.get('/', serve);
  for (const old of OLD_ADDRESSES) app.get(old, (c) => c.redirect('/', 301));
  app.get('/dashboard/:name', serve);
  return app;
}
