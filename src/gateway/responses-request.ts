/**
 * Checks a POST /v1/responses body before it becomes a task (fields as in platform.openai.com/docs/api-reference/
 * responses/create): `model`, `input` as a string or a list of items (message items with a role, function_call items
 * with call_id, name and arguments, function_call_output items with a call_id), function tools with a name. The gateway
 * keeps no responses, so `previous_response_id` and `background` are refused: the client sends the whole conversation.
 */
import { GatewayRefusal, bodyObject, optional, required } from './refusal.js';

type Json = Record<string, unknown>;

/** The body as an object whose fields the backend translation relies on; a GatewayRefusal (400) naming the field else. */
export function checkResponsesBody(raw: unknown): Json {
  const body = bodyObject(raw);
  required(body, 'model', 'string');
  const input = required(body, 'input', 'string or array');
  for (const [field, type] of [['stream', 'boolean'], ['instructions', 'string'], ['tools', 'array'], ['max_output_tokens', 'number'], ['temperature', 'number'], ['top_p', 'number'], ['text', 'object'], ['reasoning', 'object']] as const) {
    optional(body, field, type);
  }
  for (const field of ['previous_response_id', 'conversation'] as const) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new GatewayRefusal(400, 'unsupported_parameter', `'${field}' is not supported: the pool keeps no responses; send the whole conversation in 'input'.`, field);
    }
  }
  if (body.background === true) throw new GatewayRefusal(400, 'unsupported_parameter', "'background' is not supported: the answer streams back on this request.", 'background');
  if (Array.isArray(input)) {
    if (input.length === 0) throw new GatewayRefusal(400, 'invalid_value', "'input' must hold at least one item.", 'input');
    input.forEach((item, i) => checkItem(item, `input[${i}]`));
  }
  (Array.isArray(body.tools) ? body.tools : []).forEach((tool, i) => {
    const field = `tools[${i}]`;
    const t = asObject(tool, field);
    requiredIn(t, 'type', 'string', field);
    if (t.type === 'function') requiredIn(t, 'name', 'string', field);
  });
  return body;
}

function checkItem(item: unknown, field: string): void {
  const it = asObject(item, field);
  if (it.type !== undefined) requiredIn(it, 'type', 'string', field);
  const type = it.type ?? 'message';
  if (type === 'message') {
    requiredIn(it, 'role', 'string', field);
    requiredIn(it, 'content', 'string or array', field);
  } else if (type === 'function_call') {
    for (const key of ['call_id', 'name', 'arguments']) requiredIn(it, key, 'string', field);
  } else if (type === 'function_call_output') {
    requiredIn(it, 'call_id', 'string', field);
  }
}

function asObject(value: unknown, field: string): Json {
  try {
    return bodyObject(value);
  } catch {
    throw new GatewayRefusal(400, 'invalid_type', `Invalid type for '${field}': expected an object.`, field);
  }
}

/** required() for a field of a nested object, the error naming its whole path. */
function requiredIn(obj: Json, key: string, type: 'string' | 'string or array', field: string): void {
  try {
    // Empty arguments are a call without any; an empty name or id names nothing.
    if (key === 'arguments' && obj[key] === '') return;
    required(obj, key, type);
  } catch (err) {
    if (!(err instanceof GatewayRefusal)) throw err;
    throw new GatewayRefusal(400, err.code, err.message.replace(`'${key}'`, `'${field}.${key}'`), `${field}.${key}`);
  }
}
