import { KoubouError } from '../errors.js';

/**
 * A gateway request refused before it became a task, with the code and parameter the protocol's error names
 * (OpenAI: missing_required_parameter, invalid_type, model_not_found; Ollama shows only the message).
 */
export class GatewayRefusal extends KoubouError {
  readonly code: string;
  override readonly status: number;
  readonly param: string | null;

  constructor(status: number, code: string, message: string, param: string | null = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** Longest part of a client's model name an error repeats: an unknown name may be as long as the body limit. */
const MODEL_NAME_SHOWN = 100;

/** A model name as an error message shows it: cut at MODEL_NAME_SHOWN characters, marked with "…" when cut. */
export const shownModel = (name: string): string => (name.length > MODEL_NAME_SHOWN ? `${name.slice(0, MODEL_NAME_SHOWN)}…` : name);

/** OpenAI's 404 for a model nobody serves (Ollama's shape rewrites it to its own wording: see error-shapes.ts). */
export const modelNotFound = (name: string): GatewayRefusal =>
  new GatewayRefusal(404, 'model_not_found', `The model \`${shownModel(name)}\` does not exist or you do not have access to it.`, 'model');

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** The body as an object, or a 400 saying what it was instead. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRefusal(400, 'invalid_type', `the request body must be a JSON object, got ${typeName(body)}`);
  }
  return body as Record<string, unknown>;
}
