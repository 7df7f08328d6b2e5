/**
 * The first gate of every request, the /ws upgrade, /events and /mcp included (the MCP spec's Streamable HTTP transport
 * requires a 403 for an invalid Origin). It stops the two ways a web page the user merely visits could use the API:
 * - DNS rebinding: the page's own name, re-pointed at 127.0.0.1, arrives as the `Host`. Only this server's names pass.
 * - Cross-origin requests: a browser names the calling page in `Origin`. Only the dashboard's own origin (the origin
 *   of this very `Host`) and `server.allowed_origins` pass. CORS headers go to the listed origins alone (cors.ts), so
 *   browsers keep every other page from reading any answer.
 * Request bodies must be `application/json`. A browser sends text/plain, application/x-www-form-urlencoded and
 * multipart/form-data cross-site without asking first (they are "simple" requests); JSON needs a CORS preflight,
 * which this server never grants. Requiring JSON holds even where a browser, an extension or a proxy leaves `Origin`
 * out, so it is required of every client, curl's `-d` (form encoded by default) included.
 * Bodies come as they are: one sent compressed (any `Content-Encoding` but identity) is not JSON this server can read,
 * whatever its Content-Type says, so it gets the 400 `invalid_json` naming the header, not a 415 about its type.
 * One exception, for the LLM gateway's routes (`plainJsonPaths`), whose clients are curl and the tools written for
 * Ollama, which sends no Content-Type and accepts JSON however it is labelled: there a JSON body may come with no
 * Content-Type, text/plain or application/x-www-form-urlencoded when the request has no `Origin`. Browsers send
 * `Origin` with every POST, so a page's form or text post still gets the 415 (and a foreign origin the 403 first).
 */
import { hostname, networkInterfaces } from 'node:os';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { HttpBindings } from '@hono/node-server';
import type { MiddlewareHandler } from 'hono';
import { HostNotAllowed, InvalidJson, OriginNotAllowed, UnsupportedMediaType } from '../errors.js';
import { declaresBody } from './early-answer.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { allowOrigin, preflightAnswer } from './cors.js';

export interface GuardPolicy {
  /** The address the server listens on (server.host). */
  bindHost: string;
  /** server.allowed_hosts: lower case, without port. */
  allowedHosts: readonly string[];
  /** server.allowed_origins, as browsers send them (lower case scheme and host, no default port). */
  allowedOrigins: readonly string[];
  /** Paths whose JSON bodies a request without `Origin` may send unlabelled, as text or as a form (none by default). */
  plainJsonPaths?: (path: string) => boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '[::]', '']);
/**
 * Names no page on the internet can have, so none can be re-pointed here: `*.localhost` (RFC 6761 §6.3; browsers
 * answer it with loopback themselves) and `*.internal` (reserved by ICANN in 2024 for private use, never delegated:
 * Docker's host.docker.internal). Ollama takes these too (server/routes.go allowedHost), and `*.local`, which is left
 * out here: any machine on the LAN can announce a `.local` name over mDNS.
 */
const PRIVATE_SUFFIXES = ['.localhost', '.internal'];
/** `name`, `name:port`, `[v6]` or `[v6]:port`; nothing else (no userinfo, path or spaces) is a Host. */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?$/;
const METHODS_WITHOUT_BODY = new Set(['GET', 'HEAD', 'OPTIONS']);
/** What curl's -d and clients that set no type send JSON as (undefined: no Content-Type). */
const PLAIN_TYPES = new Set([undefined, 'text/plain', 'application/x-www-form-urlencoded']);

/** The middleware; mount it before every route and before the token check. */
export function guardRequests(policy: GuardPolicy): MiddlewareHandler {
  const bind = bracketed(policy.bindHost.toLowerCase());
  // This machine's own name too, as Ollama takes it: a page cannot have it without controlling the local resolver.
  const names = new Set(['localhost', '127.0.0.1', '[::1]', bind, hostname().toLowerCase(), ...policy.allowedHosts]);
  const origins = new Set(policy.allowedOrigins);
  const plainJson = policy.plainJsonPaths ?? (() => false);
  // Bound to every interface: a client may name any of this machine's addresses (an IP literal cannot be rebound).
  const isOwnAddress = WILDCARDS.has(bind) ? (name: string) => machineAddresses().has(name) : () => false;

  return async (c, next) => {
    // In-process requests (app.request in tests) may have no Host header; their URL's host stands in.
    const host = (c.req.header('host') ?? new URL(c.req.url).host).toLowerCase();
    const name = hostName(host);
    if (name === null || !(names.has(name) || PRIVATE_SUFFIXES.some((suffix) => name.endsWith(suffix)) || isOwnAddress(name))) {
      throw new HostNotAllowed(
        `this server does not answer to the host ${JSON.stringify(host.slice(0, 100))}; add its name to server.allowed_hosts to use it`,
      );
    }
    const origin = c.req.header('origin');
    const listed = origin !== undefined && !sameOrigin(origin, host) && origins.has(origin.toLowerCase());
    if (origin !== undefined && !sameOrigin(origin, host) && !listed) {
      throw new OriginNotAllowed(
        `requests from pages of ${JSON.stringify(origin.slice(0, 100))} are refused; list that origin in server.allowed_origins to allow it`,
      );
    }
    // A listed page may read what it is answered (before the token check: a preflight carries no token).
    const node = c.env as Partial<HttpBindings> | undefined;
    if (listed && node?.incoming && node.outgoing) {
      const preflight = preflightAnswer(node.incoming, origin);
      if (preflight) return preflight;
      allowOrigin(node.outgoing, origin);
    }
    const type = c.req.header('content-type');
    if (!METHODS_WITHOUT_BODY.has(c.req.method) && (type !== undefined || declaresBody((name) => c.req.header(name)))) {
      const encoding = c.req.header('content-encoding');
      if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
        throw new InvalidJson(
          `the request body is sent with "Content-Encoding: ${encoding.slice(0, 40)}"; compressed bodies are not read: send the JSON uncompressed, without Content-Encoding`,
        );
      }
      // Node reads a body whose last transfer coding is chunked as chunked, and leaves any other coding undone.
      const transfer = c.req.header('transfer-encoding');
      if (transfer !== undefined && transfer.trim().toLowerCase() !== 'chunked') {
        throw new InvalidJson(
          `the request body is sent with "Transfer-Encoding: ${transfer.slice(0, 40)}"; only chunked is read: send the JSON with Content-Length or "Transfer-Encoding: chunked" alone`,
        );
      }
      const essence = type?.split(';')[0]!.trim().toLowerCase();
      const plainAllowed = origin === undefined && PLAIN_TYPES.has(essence) && plainJson(c.req.path);
      if (essence !== 'application/json' && !plainAllowed) {
        throw new UnsupportedMediaType(
          `request bodies must be JSON sent with "Content-Type: application/json" (with curl: -H 'content-type: application/json'); got ${
            type === undefined ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))
          }`,
        );
      }
    }
    await next();
    // A stream written straight to the Node response carries them already; adding them to the stand-in would copy
    // it into a new Response (about 0.1 ms, spent before the task it just queued can reach the scheduler).
    if (c.res === RESPONSE_ALREADY_SENT) return;
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) c.header(name, value);
  };
}

/** The host part of a Host header, lower case, IPv6 in brackets, a trailing dot dropped; null when malformed. */
function hostName(host: string): string | null {
  const match = HOST_HEADER.exec(host);
  if (!match) return null;
  return match[1]!.replace(/\.$/, '');
}

/** The dashboard's own origin: a page served under this very Host (plain http, or https through a TLS proxy). */
function sameOrigin(origin: string, host: string): boolean {
  const lower = origin.toLowerCase();
  return lower === `http://${host}` || lower === `https://${host}`;
}

const bracketed = (address: string) => (address.includes(':') && !address.startsWith('[') ? `[${address}]` : address);

/** This machine's addresses as Host headers name them; read on each use, as interfaces come and go. */
function machineAddresses(): Set<string> {
  const addresses = new Set<string>();
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) addresses.add(bracketed(info.address.split('%')[0]!.toLowerCase()));
  }
  return addresses;
}
