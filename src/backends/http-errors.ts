import { Aborted, BackendProtocolError, BackendUnavailable, KoubouError } from '../errors.js';
import { excerpt } from './excerpt.js';

/** undici error codes that mean the server could not be reached or the connection broke. */
const CONNECTION_UNDICI_CODES = new Set([
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
  'UND_ERR_INFO',
]);

/** undici error codes that mean the server answered with malformed HTTP. */
/** Failures to open a connection at all: nothing reached the server. */
const CONNECT_PHASE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

const PROTOCOL_UNDICI_CODES = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
]);

/** The error to throw for an aborted signal: its reason when that is an Error, else an Aborted. */
function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new Aborted(reason === undefined ? 'backend call aborted' : `backend call aborted: ${String(reason)}`);
}

/**
 * Maps anything thrown while talking to a backend onto the Backend contract: the abort reason when the
 * signal fired, Koubou errors unchanged, network failures as BackendUnavailable, malformed HTTP as
 * BackendProtocolError. Anything else (e.g. a throwing onChunk callback) is returned unchanged. `beforeResponse`: the
 * request had no answer yet; a connection that could not even be opened then means the server is not there
 * (backpressure), anything else is a failure of the attempt.
 */
export function toBackendError(err: unknown, signal: AbortSignal | undefined, label: string, beforeResponse = false): unknown {
  if (signal?.aborted) return abortError(signal);
  if (err instanceof KoubouError) return err;
  const code = errorCode(err);
  if (code === undefined) return err;
  const message = err instanceof Error ? excerpt(err.message, 200) : '';
  const detail = message.includes(code) ? message : message ? `${code}: ${message}` : code;
  if (code.startsWith('HPE_') || PROTOCOL_UNDICI_CODES.has(code)) {
    return new BackendProtocolError(`${label}: malformed HTTP response (${detail})`, { cause: err });
  }
  if (CONNECTION_UNDICI_CODES.has(code) || isSystemError(err)) {
    // Only a connection that never opened says the server is not there (restarting, down): backpressure, no attempt
    // spent. One that opened and then closed without an answer may be the server dying on this very request (a
    // prompt that crashes it), so that is the task's failure and spends an attempt, or it would circle forever.
    const unreachable = beforeResponse && CONNECT_PHASE_CODES.has(code);
    const what = unreachable ? 'cannot reach the server' : beforeResponse ? 'the server closed the connection before answering' : 'connection lost during the answer';
    return new BackendUnavailable(`${label}: ${what} (${detail})`, { cause: err, beforeResponse: unreachable });
  }
  return err;
}

/** The `code` of an error, looking into AggregateError (Happy Eyeballs tries several addresses). */
function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (err instanceof AggregateError) {
    for (const inner of err.errors) {
      const innerCode = errorCode(inner);
      if (innerCode !== undefined) return innerCode;
    }
  }
  return undefined;
}

/** Node's system errors (ECONNREFUSED, ENOTFOUND, EPIPE…) carry `syscall`; AggregateErrors wrap them. */
function isSystemError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (typeof (err as { syscall?: unknown }).syscall === 'string') return true;
  return err instanceof AggregateError && err.errors.some(isSystemError);
}

/**
 * `err` with every one of `secrets` in its message replaced by `[redacted]`: an error a server reports inside a 200
 * answer (a stream's error event, a JSON body's `error`) may quote the key it was given, and the message becomes the
 * task's error, log lines, events and a gateway client's error. Returns `err` (changed in place).
 */
export function withoutSecrets(err: unknown, secrets: readonly string[]): unknown {
  if (!(err instanceof Error)) return err;
  for (const secret of secrets) if (secret.length >= 4 && err.message.includes(secret)) err.message = err.message.split(secret).join('[redacted]');
  return err;
}

/** Headers that carry a credential, and the scheme word before it (`Bearer <key>`). */
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'x-api-key', 'api-key'];

/**
 * `text` (a server's error body) with every credential the request carried replaced by `[redacted]`: some servers and
 * proxies echo the key they refused ("Incorrect API key provided: <key>"), and the excerpt reaches the log, the task's
 * error and gateway clients.
 */
export function withoutCredentials(text: string, headers: Readonly<Record<string, string>> | undefined): string {
  let out = text;
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!CREDENTIAL_HEADERS.includes(name.toLowerCase())) continue;
    for (const secret of [value, value.replace(/^\S+\s+/, '')]) if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}

/** Bytes of an error body read: enough for any JSON error a server writes, however pretty-printed. */
const ERROR_BODY_BYTES = 16 * 1024;

/**
 * An error body cut to `maxChars` so that its words survive: a JSON error (OpenAI's {"error": {"message", "type",
 * "param", "code"}}, Ollama's {"error": "..."}) is written compactly with only those fields and its message shortened
 * to fit, so it still parses (the gateway reads code and param back from it: gateway/failure.ts); any other text is
 * cut as it is.
 */
export function errorBodyExcerpt(text: string, maxChars = 300): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return excerpt(text, maxChars);
  }
  if (typeof parsed !== 'object' || parsed === null || !('error' in parsed)) return excerpt(text, maxChars);
  const error = (parsed as { error: unknown }).error;
  if (typeof error === 'string') return JSON.stringify({ error: error.length > maxChars - 20 ? `${error.slice(0, maxChars - 20)}…` : error });
  if (typeof error !== 'object' || error === null) return excerpt(text, maxChars);
  const { message, type, param, code } = error as Record<string, unknown>;
  const kept = { type, param, code };
  const room = maxChars - JSON.stringify({ error: { message: '', ...kept } }).length - 1;
  if (typeof message !== 'string' || room < 20) return excerpt(text, maxChars);
  return JSON.stringify({ error: { message: message.length > room ? `${message.slice(0, room)}…` : message, ...kept } });
}

/**
 * Reads the start of an error response (`clean` applied to it, then cut to `maxChars` by errorBodyExcerpt) and
 * discards the rest; never throws.
 */
export async function readBodyExcerpt(body: AsyncIterable<Uint8Array>, maxChars = 300, clean: (text: string) => string = (text) => text): Promise<string> {
  const maxBytes = ERROR_BODY_BYTES;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    // Leaving the loop early destroys the body; reading small bodies to the end keeps the socket reusable.
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.byteLength;
      if (size >= maxBytes) break;
    }
  } catch {
    // A broken body still leaves whatever arrived, which is the best evidence there is.
  }
  // Cleaned before it is cut: a secret cut in half would not be found.
  return errorBodyExcerpt(clean(Buffer.concat(chunks).toString('utf8')), maxChars);
}
