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

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'object' ? 'an object' : `a ${typeof v}`);

/** The body as an object, or a 400 saying what it was instead. */
export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new GatewayRefusal(400, 'invalid_type', `the request body must be a JSON object, got ${typeName(body)}`);
  }
  return body as Record<string, unknown>;
}
