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

/** A required field of the given JSON type ('string' must also be non-empty, 'array' a list). */
export function required(body: Record<string, unknown>, field: string, type: 'string' | 'array' | 'string or array'): unknown {
  const value = body[field];
  if (value === undefined || value === null) throw new GatewayRefusal(400, 'missing_required_parameter', `Missing required parameter: '${field}'.`, field);
  checkType(value, field, type);
  if (type === 'string' && value === '') throw new GatewayRefusal(400, 'invalid_value', `'${field}' must not be empty.`, field);
  return value;
}

/** An optional field: absent (or null), or of the given type. */
export function optional(body: Record<string, unknown>, field: string, type: 'boolean' | 'object' | 'number' | 'string' | 'array'): void {
  const value = body[field];
  if (value !== undefined && value !== null) checkType(value, field, type);
}

function checkType(value: unknown, field: string, type: string): void {
  const ok =
    type === 'array' ? Array.isArray(value)
    : type === 'string or array' ? typeof value === 'string' || Array.isArray(value)
    : type === 'object' ? typeof value === 'object' && value !== null && !Array.isArray(value)
    : typeof value === type;
  if (!ok) throw new GatewayRefusal(400, 'invalid_type', `Invalid type for '${field}': expected ${type === 'object' ? 'an object' : type === 'array' ? 'an array' : `a ${type}`}, but got ${typeName(value)} instead.`, field);
}

/** Each message must be an object with a string role. */
export function checkMessages(messages: unknown[], field = 'messages'): void {
  if (messages.length === 0) throw new GatewayRefusal(400, 'invalid_value', `'${field}' must hold at least one message.`, field);
  messages.forEach((m, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new GatewayRefusal(400, 'invalid_type', `Invalid type for '${field}[${i}]': expected an object, but got ${typeName(m)} instead.`, `${field}[${i}]`);
    const role = (m as { role?: unknown }).role;
    if (typeof role !== 'string') throw new GatewayRefusal(400, 'missing_required_parameter', `Missing required parameter: '${field}[${i}].role'.`, `${field}[${i}].role`);
  });
}
