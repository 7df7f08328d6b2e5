/** The one place that turns an error into an HTTP answer: a 4xx/5xx status and {error:{code, message}}. */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { KoubouError, MethodNotAllowed, QueueFull, ShuttingDown, Unauthorized, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import { answerBeforeBody } from './early-answer.js';

export function errorBody(err: KoubouError) {
  const field = err instanceof ValidationError && err.field ? { field: err.field } : {};
  return { error: { code: err.code, message: err.message, ...field } };
}

/** The body another protocol's routes answer an error on `path` with (the LLM gateway's); null: errorBody's. */
export type ErrorBodyFor = (path: string, err: KoubouError) => object | null;

/**
 * Hono onError handler: our errors map to their status, in the shape `bodyFor` gives for the path or else errorBody's;
 * anything else is logged and answered 500 without details.
 */
export function errorHandler(log: Logger, bodyFor: ErrorBodyFor = () => null) {
  return (err: Error, c: Context) => {
    if (err instanceof KoubouError) {
      if (err instanceof MethodNotAllowed) c.header('allow', err.allow.join(', '));
      // A 401 names the scheme that answers it (RFC 9110 §11.6.1).
      if (err instanceof Unauthorized) c.header('www-authenticate', 'Bearer');
      // A full queue or a stop passes: the client is told when to come back (RFC 9110 §10.2.3), as the gateway does.
      if (err instanceof QueueFull || err instanceof ShuttingDown) c.header('retry-after', '1');
      if (err.status >= 500) log.warn('request failed', { path: c.req.path, code: err.code, error: err.message });
      // A refusal (413, 401, 403, 415...) may come before the body was read: the client still gets to see it.
      return answerBeforeBody(c, c.json(bodyFor(c.req.path, err) ?? errorBody(err), err.status as ContentfulStatusCode));
    }
    log.error('unexpected error while handling a request', { path: c.req.path, error: err.message, stack: err.stack });
    return answerBeforeBody(c, c.json({ error: { code: 'internal_error', message: 'internal error; see the server log' } }, 500));
  };
}
