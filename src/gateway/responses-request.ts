/**
 * What POST /v1/responses accepts (zod; fields as in platform.openai.com/docs/api-reference/responses/create):
 * `model`, `input` as a string or a list of items — message items with a role and text or image parts,
 * function_call and custom_tool_call items with call_id and name, their outputs with a call_id, reasoning items (fed
 * back as the next assistant turn's reasoning), web_search_call items (history, nothing to send) — and tools of the
 * kinds the pool can offer a model (backends/chat/responses-tools.ts). Any other item, part or tool kind is refused
 * naming its `type`, as is what needs kept responses: the gateway keeps none, so `previous_response_id`,
 * `conversation` and `background` are refused and the client sends the whole conversation. An input that leaves
 * nothing to send a model (only reasoning or search history) is refused naming `input`.
 */
import { z } from 'zod';
import { RESPONSES_TOOL_TYPES } from '../backends/chat/responses-tools.js';
import { responsesToChatMessages } from '../backends/chat/responses-map.js';
import { checkBody } from './body-check.js';
import { temperature, tokenCount, topP, typed } from './openai-schemas.js';
import { GatewayRefusal } from './refusal.js';

type Json = Record<string, unknown>;

const opt = <T extends z.ZodTypeAny>(schema: T) => schema.nullish();
const obj = <S extends z.ZodRawShape>(shape: S) => z.object(shape).passthrough();
const id = z.string().min(1);

const textPart = (type: string) => obj({ type: z.literal(type), text: z.string() });
const contentPart = z.discriminatedUnion('type', [
  textPart('input_text'),
  textPart('output_text'),
  obj({ type: z.literal('input_image'), image_url: z.string(), detail: opt(z.string()) }),
  obj({ type: z.literal('refusal'), refusal: z.string() }),
]);

const item = typed(
  'message',
  z.discriminatedUnion('type', [
    obj({ type: z.literal('message'), role: z.enum(['user', 'assistant', 'system', 'developer']), content: z.union([z.string(), z.array(contentPart)]) }),
    obj({ type: z.literal('function_call'), call_id: id, name: id, arguments: z.string(), namespace: opt(z.string()) }),
    obj({ type: z.literal('custom_tool_call'), call_id: id, name: id, input: z.string(), namespace: opt(z.string()) }),
    obj({ type: z.literal('function_call_output'), call_id: id, output: z.union([z.string(), z.array(obj({ type: z.string() }))]) }),
    obj({ type: z.literal('custom_tool_call_output'), call_id: id, output: z.union([z.string(), z.array(obj({ type: z.string() }))]) }),
    obj({ type: z.literal('reasoning'), summary: opt(z.array(z.unknown())), content: opt(z.array(z.unknown())), encrypted_content: opt(z.string()) }),
    obj({ type: z.literal('web_search_call') }),
  ]),
);

const functionTool = obj({ type: z.literal('function'), name: id, parameters: opt(z.record(z.unknown())), description: opt(z.string()), strict: opt(z.boolean()) });
const customTool = obj({ type: z.literal('custom'), name: id, description: opt(z.string()) });
const [, , , ...webSearchTypes] = RESPONSES_TOOL_TYPES;
const tool = z.discriminatedUnion('type', [
  functionTool,
  customTool,
  // Namespaces do not nest: their members are functions and custom tools.
  obj({ type: z.literal('namespace'), name: id, tools: z.array(z.discriminatedUnion('type', [functionTool, customTool])) }),
  ...webSearchTypes.map((type) => obj({ type: z.literal(type) })),
] as unknown as [typeof functionTool, typeof customTool]);

const responsesBody = obj({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(item).min(1)]),
  instructions: opt(z.string()),
  stream: opt(z.boolean()),
  tools: opt(z.array(tool)),
  tool_choice: opt(z.union([z.enum(['none', 'auto', 'required']), obj({ type: z.string() })])),
  parallel_tool_calls: opt(z.boolean()),
  max_output_tokens: opt(tokenCount()),
  temperature,
  top_p: topP,
  text: opt(obj({ format: opt(obj({ type: z.enum(['text', 'json_object', 'json_schema']) })) })),
  reasoning: opt(obj({ effort: opt(z.string()), summary: opt(z.string()) })),
  store: opt(z.boolean()),
  metadata: opt(z.record(z.string())),
  truncation: opt(z.enum(['auto', 'disabled'])),
  user: opt(z.string()),
});

/** The body when the pool can answer it; a GatewayRefusal (400) naming the field else. */
export function checkResponsesBody(raw: unknown): Json {
  const body = checkBody(responsesBody, raw);
  for (const field of ['previous_response_id', 'conversation'] as const) {
    if (body[field] !== undefined && body[field] !== null) {
      throw new GatewayRefusal(400, 'unsupported_parameter', `'${field}' is not supported: the pool keeps no responses; send the whole conversation in 'input'.`, field);
    }
  }
  if (body.background === true) throw new GatewayRefusal(400, 'unsupported_parameter', "'background' is not supported: the answer streams back on this request.", 'background');
  if (!responsesToChatMessages(body).some((m) => m.role !== 'system')) {
    throw new GatewayRefusal(400, 'invalid_value', "Invalid 'input': it holds nothing to send to a model (only reasoning or search history); add a message.", 'input');
  }
  return body;
}
