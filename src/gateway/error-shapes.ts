/**
 * The gateway's errors in each protocol's own shape, so SDKs show the message: OpenAI's {"error": {"message", "type",
 * "param", "code"}} (openai-errors.ts) and Ollama's {"error": "..."} (github.com/ollama/ollama docs/api.md). Also for
 * errors met before a gateway handler runs (no token: 401; a host or origin refused: 403; a method a route does not
 * take: 405; an unknown /v1/ path: 404), which the API's error handler would otherwise answer in Koubou's own shape.
 */
import { KoubouError, ValidationError } from '../errors.js';
import type { ErrorShape } from './exchange.js';
import { GatewayRefusal } from './refusal.js';
import { openAiErrorBody, openAiErrorType } from './openai-errors.js';

export const openAiErrors: ErrorShape = (status, code, message, param) => openAiErrorBody(message, openAiErrorType(status), code, param);

/** Ollama says a model is missing as "model \"x\" not found, try pulling it first". */
export const ollamaErrors: ErrorShape = (_status, code, message) => ({
  error: code === 'model_not_found' ? message.replace(/^The model `(.*)` does not exist.*$/, 'model "$1" not found, try pulling it first') : message,
});

/** The parameter an error names: a refusal's, or a validation error's field. */
export const errorParam = (err: KoubouError) => (err instanceof GatewayRefusal ? err.param : err instanceof ValidationError ? (err.field ?? null) : null);

/**
 * The body for an error on `path`: OpenAI's shape for any /v1/ path, Ollama's for the gateway's Ollama routes
 * (`ollamaPaths`), null for the rest of the API.
 */
export function gatewayErrorBody(ollamaPaths: ReadonlySet<string>): (path: string, err: KoubouError) => object | null {
  return (path, err) => {
    const shape = path.startsWith('/v1/') ? openAiErrors : ollamaPaths.has(path) ? ollamaErrors : null;
    return shape === null ? null : (shape(err.status, err.code, err.message, errorParam(err)) as object);
  };
}
