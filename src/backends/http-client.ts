import { Pool, type Dispatcher } from 'undici';
import { httpErrorText } from './error-wording.js';
import { BackendBusy, BackendHttpError, BackendUnavailable } from '../errors.js';
import { OutputTooLarge } from './answer-errors.js';
import { readBodyExcerpt, toBackendError, withoutCredentials } from './http-errors.js';
import { parseBackendJson } from './json.js';
import { parseRetryAfter } from './retry-after.js';

/** Time a probe may take when the caller gives no signal. */
const DEFAULT_PROBE_TIMEOUT_MS = 2000;

/** A keep-alive connection pool to one backend origin. */
export function createBackendPool(origin: string): Pool {
  return new Pool(origin, {
    connections: 64,
    // A big local model may think for minutes before its first byte; the caller's signal is the time limit.
    headersTimeout: 0,
    bodyTimeout: 0,
  });
}

/**
 * Closes the pool's connections at once. Calls still in flight reject with BackendUnavailable: a graceful
 * close would wait forever on a hanging server, so callers abort their calls first when they care.
 */
export async function closePool(pool: Pool): Promise<void> {
  if (!pool.destroyed) await pool.destroy();
}

export interface BackendRequest {
  method: 'GET' | 'POST';
  path: string;
  /** Serialised as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal | undefined;
}

/** How soon a proxy's 502/504 must come for it to say the server behind it is not there (see sendBackendRequest). */
export const GATEWAY_ERROR_AT_ONCE_MS = 2_000;

/**
 * Sends one request and returns the response when its status is 2xx. A network failure before any response throws
 * BackendUnavailable (backpressure: the server is not there yet), and so do 502 and 504 answered at once (within
 * GATEWAY_ERROR_AT_ONCE_MS), a proxy in front of it (nginx, Caddy, an ingress) saying that the server behind it is not
 * there: a restart, not a task's fault. One that comes after a while is the proxy giving up on this call (its read
 * timeout on a long generation): an HTTP error like any other, or one such task would hold the whole backend's
 * circuit open.
 * 503 and 429 throw BackendBusy with the wait the Retry-After header asks for; any other status throws
 * BackendHttpError. All quote an excerpt of the body (which is consumed either way).
 */
export async function sendBackendRequest(pool: Dispatcher, req: BackendRequest, label: string): Promise<Dispatcher.ResponseData> {
  const hasBody = req.body !== undefined;
  const sentAt = performance.now();
  let res: Dispatcher.ResponseData;
  try {
    res = await pool.request({
      method: req.method,
      path: req.path,
      headers: hasBody ? { 'content-type': 'application/json', ...req.headers } : req.headers,
      body: hasBody ? JSON.stringify(req.body) : null,
      signal: req.signal ?? null,
    });
  } catch (err) {
    throw toBackendError(err, req.signal, label, true);
  }
  if (res.statusCode < 200 || res.statusCode >= 300) {
    const bodyExcerpt = await readBodyExcerpt(res.body, undefined, (text) => withoutCredentials(text, req.headers));
    const message = httpErrorText(label, res.statusCode, req.method, req.path, bodyExcerpt);
    if (res.statusCode === 503 || res.statusCode === 429) {
      throw new BackendBusy(message, res.statusCode, parseRetryAfter(res.headers['retry-after'], Date.now()));
    }
    const atOnce = performance.now() - sentAt <= GATEWAY_ERROR_AT_ONCE_MS;
    if ((res.statusCode === 502 || res.statusCode === 504) && atOnce) throw new BackendUnavailable(message, { beforeResponse: true });
    throw new BackendHttpError(message, res.statusCode);
  }
  return res;
}

/**
 * Reads a whole response body and parses it as JSON (BackendProtocolError when it is not). A body longer than
 * maxBytes is abandoned (the connection closed) with OutputTooLarge, so one answer cannot fill the memory.
 */
export async function readJsonBody(body: Dispatcher.ResponseData['body'], what: string, label: string, maxBytes = Infinity): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      throw new OutputTooLarge(`${label}: the ${what} is longer than ${maxBytes} bytes; the call was aborted`);
    }
    chunks.push(chunk);
  }
  return parseBackendJson(Buffer.concat(chunks).toString('utf8'), what, label);
}

/** Largest model listing read; a server listing more than fits here is read as not answering. */
const MAX_LISTING_BYTES = 4 * 1024 * 1024;

/**
 * GET `path` (a model listing) and pick the names out of it with `pick`; null when it does not answer 200 with JSON
 * before the signal (default: 2 s) fires. Never throws.
 */
export async function fetchModelNames(
  pool: Dispatcher,
  path: string,
  headers: Record<string, string> | undefined,
  signal: AbortSignal | undefined,
  pick: (listing: unknown) => string[],
): Promise<string[] | null> {
  try {
    const res = await pool.request({
      method: 'GET',
      path,
      headers,
      signal: signal ?? AbortSignal.timeout(DEFAULT_PROBE_TIMEOUT_MS),
    });
    if (res.statusCode !== 200) {
      // Consume the body so the connection returns to the pool.
      await res.body.dump().catch(() => undefined);
      return null;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    // Leaving the loop early destroys the body: a listing past the bound is not read on.
    for await (const chunk of res.body as AsyncIterable<Buffer>) {
      if ((size += chunk.byteLength) > MAX_LISTING_BYTES) return null;
      chunks.push(chunk);
    }
    return pick(JSON.parse(Buffer.concat(chunks).toString('utf8')));
  } catch {
    return null;
  }
}
