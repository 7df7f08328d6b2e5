/**
 * Checks a POST /v1/responses body before it becomes a task (fields as in platform.openai.com/docs/api-reference/
 * responses/create): `model`, `input` as a string or a list of items — message items with a role, function_call and
 * custom_tool_call items with call_id and name, their outputs with a call_id, reasoning items (fed back as the next
 * assistant turn's reasoning), web_search_call items (history, nothing to send) — and tools of the kinds the pool can
 * offer a model (backends/chat/responses-tools.ts). Any other item or tool kind is refused naming its `type`, as is
 * what needs kept responses: the gateway keeps none, so `previous_response_id` and `background` are refused and the
 * client sends the whole conversation.
 */
import { RESPONSES_TOOL_TYPES } from '../backends/chat/responses-tools.js';
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
  (Array.isArray(body.tools) ? body.tools : []).forEach((tool, i) => checkTool(tool, `tools[${i}]`, true));
  return body;
}

/** Input items the pool can send on (responses-map.ts); a message item may leave out its type. */
const ITEM_TYPES = ['message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning', 'web_search_call'];

function checkItem(item: unknown, field: string): void {
  const it = asObject(item, field);
  if (it.type !== undefined) requiredIn(it, 'type', 'string', field);
  const type = it.type ?? 'message';
  if (!ITEM_TYPES.includes(type as string)) {
    throw new GatewayRefusal(400, 'invalid_value', `Invalid value for '${field}.type': ${JSON.stringify(type)} items are not supported; the pool takes ${ITEM_TYPES.join(', ')} items.`, `${field}.type`);
  }
  if (type === 'message') {
    requiredIn(it, 'role', 'string', field);
    requiredIn(it, 'content', 'string or array', field);
  } else if (type === 'function_call') {
    for (const key of ['call_id', 'name', 'arguments']) requiredIn(it, key, 'string', field);
  } else if (type === 'custom_tool_call') {
    for (const key of ['call_id', 'name', 'input']) requiredIn(it, key, 'string', field);
  } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
    requiredIn(it, 'call_id', 'string', field);
  } else if (type === 'reasoning') {
    for (const key of ['summary', 'content']) if (it[key] !== undefined && it[key] !== null && !Array.isArray(it[key])) invalidType(`${field}.${key}`, 'an array');
    if (it.encrypted_content !== undefined && it.encrypted_content !== null && typeof it.encrypted_content !== 'string') invalidType(`${field}.encrypted_content`, 'a string');
  }
}

/** A tool of a kind the pool offers a model, with a name; a namespace's members too (`top`: namespaces do not nest). */
function checkTool(tool: unknown, field: string, top: boolean): void {
  const t = asObject(tool, field);
  requiredIn(t, 'type', 'string', field);
  const kinds: readonly string[] = top ? RESPONSES_TOOL_TYPES : ['function', 'custom'];
  if (!kinds.includes(t.type as string)) {
    throw new GatewayRefusal(
      400,
      'invalid_value',
      `Invalid value for '${field}.type': ${JSON.stringify(t.type)} tools are not supported; the pool's models can call ${top ? 'function, custom and namespace tools (a web_search tool is left out: the pool runs no searches)' : 'a namespace\'s function and custom tools'}.`,
      `${field}.type`,
    );
  }
  if (t.type === 'function' || t.type === 'custom' || t.type === 'namespace') requiredIn(t, 'name', 'string', field);
  if (t.type === 'namespace') {
    if (!Array.isArray(t.tools)) invalidType(`${field}.tools`, 'an array');
    (t.tools as unknown[]).forEach((member, j) => checkTool(member, `${field}.tools[${j}]`, false));
  }
}

function invalidType(field: string, expected: string): never {
  throw new GatewayRefusal(400, 'invalid_type', `Invalid type for '${field}': expected ${expected}.`, field);
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
    // Empty arguments are a call without any, an empty input an empty text; an empty name or id names nothing.
    if ((key === 'arguments' || key === 'input') && obj[key] === '') return;
    required(obj, key, type);
  } catch (err) {
    if (!(err instanceof GatewayRefusal)) throw err;
    throw new GatewayRefusal(400, err.code, err.message.replace(`'${key}'`, `'${field}.${key}'`), `${field}.${key}`);
  }
}
