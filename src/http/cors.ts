/**
 * CORS for the pages the user listed in server.allowed_origins, and for no one else (Fetch standard, "CORS protocol"):
 * a browser-based client of the API or the LLM gateway (Open WebUI's direct connections, an editor's webview, a
 * desktop app's page) reads the answers of a server that names its origin in Access-Control-Allow-Origin. The
 * dashboard's own origin needs none, and any other origin is refused before this is reached (request-guard.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Methods the API's routes take. */
const METHODS = 'GET, POST, DELETE';
/** Headers a page may read besides the CORS-safelisted ones: the gateway's task id, and when to come back. */
const EXPOSED = 'X-Koubou-Task-Id, Retry-After';
/** How long a browser may keep a preflight's answer (s). */
const PREFLIGHT_MAX_AGE_S = 600;
/** A header list as Access-Control-Request-Headers sends it: tokens separated by commas. */
const HEADER_LIST = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(\s*,\s*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;

/** Names `origin` (as the page sent it) on the Node response, so every answer written on it carries it, streams too. */
export function allowOrigin(res: ServerResponse, origin: string): void {
  res.setHeader('access-control-allow-origin', origin);
  res.setHeader('access-control-expose-headers', EXPOSED);
  res.setHeader('vary', 'Origin');
}

/**
 * The answer to a listed page's preflight (OPTIONS with Access-Control-Request-Method): 204 allowing the API's methods
 * and the headers it asked for (Authorization, Content-Type, X-Koubou-Priority…). Null for any other OPTIONS request.
 */
export function preflightAnswer(req: IncomingMessage, origin: string): Response | null {
  if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) return null;
  const asked = req.headers['access-control-request-headers']?.trim() ?? '';
  return new Response(null, {
    status: 204,
    headers: {
      'access-control-allow-origin': origin,
      'access-control-allow-methods': METHODS,
      ...(HEADER_LIST.test(asked) ? { 'access-control-allow-headers': asked } : {}),
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
      vary: 'Origin',
    },
  });
}
