/**
 * What the OpenAI-compatible endpoints accept (zod; fields, types and ranges as platform.openai.com/docs/api-reference
 * gives them for /v1/chat/completions, /v1/completions and /v1/embeddings). Every object lets unknown fields through:
 * they go on untouched to an OpenAI-compatible backend. Optional fields may be null, as the API allows. Asking for
 * more than one answer per request (`n` above 1, several prompts) is refused: the pool runs one answer per task.
 */
import { z, type RefinementCtx } from 'zod';

/** A field the API documents but that may be left out or sent as null. */
const opt = <T extends z.ZodTypeAny>(schema: T) => schema.nullish();
const int = () => z.number().int();
/**
 * A count of tokens: at least 1, and at most what a 32-bit count holds (servers keep it in one: llama.cpp's n_predict
 * is an int32), so 1e300 is refused here, naming the field, rather than by the backend.
 */
export const tokenCount = () => int().min(1).max(2 ** 31 - 1);
/**
 * A completion's token budget, where -1 means no limit: LM Studio's examples send `"max_tokens": -1`, and Ollama's
 * OpenAI layer passes it on as num_predict -1 (openai/openai.go). withoutNoLimit then leaves it out, as no budget is.
 */
const budget = <T extends z.ZodTypeAny>(schema: T) => z.preprocess((v) => (v === -1 ? undefined : v), opt(schema));
const BUDGETS = ['max_tokens', 'max_completion_tokens'] as const;

/** A checked chat or legacy completion body without the budgets that say "no limit" (-1); other fields untouched. */
export function withoutNoLimit(body: Record<string, unknown>): Record<string, unknown> {
  if (!BUDGETS.some((key) => body[key] === -1)) return body;
  const out = { ...body };
  for (const key of BUDGETS) if (out[key] === -1) delete out[key];
  return out;
}
const obj = <S extends z.ZodRawShape>(shape: S) => z.object(shape).passthrough();
/** An object told apart by its `type`, which `fallback` stands in for when it is left out (as clients may). */
export const typed = <T extends z.ZodTypeAny>(fallback: string, schema: T) =>
  z.preprocess((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && (v as { type?: unknown }).type === undefined ? { ...v, type: fallback } : v), schema);

/** A refusal of a value the pool cannot serve (RefusalParams code unsupported_value). */
export function unsupported(ctx: RefinementCtx, message: string): void {
  ctx.addIssue({ code: 'custom', message, params: { code: 'unsupported_value' } });
}

/** `n`: one answer per request. */
const oneChoice = opt(int().min(1)).superRefine((n, ctx) => {
  if (typeof n === 'number' && n > 1) unsupported(ctx, `Unsupported value: 'n' does not support ${n}: the pool runs one answer per request; send ${n} requests instead. Supported values are: 1.`);
});

export const temperature = opt(z.number().min(0).max(2));
export const topP = opt(z.number().min(0).max(1));
const penalty = opt(z.number().min(-2).max(2));
const stop = opt(z.union([z.string(), z.array(z.string())]));
const streamOptions = opt(obj({ include_usage: opt(z.boolean()), include_obfuscation: opt(z.boolean()) }));

const textPart = obj({ type: z.literal('text'), text: z.string() });
// Ollama's OpenAI layer also takes the URL as image_url itself.
const imagePart = obj({ type: z.literal('image_url'), image_url: z.union([obj({ url: z.string(), detail: opt(z.enum(['auto', 'low', 'high'])) }), z.string()]) });
const audioPart = obj({ type: z.literal('input_audio'), input_audio: obj({ data: z.string(), format: z.string() }) });
const filePart = obj({ type: z.literal('file'), file: obj({}) });
const refusalPart = obj({ type: z.literal('refusal'), refusal: z.string() });
const contentOf = (parts: z.ZodTypeAny) => z.union([z.string(), z.array(parts)]);
const textContent = contentOf(z.discriminatedUnion('type', [textPart]));

const toolCall = typed(
  'function',
  z.discriminatedUnion('type', [
    obj({ id: opt(z.string()), type: z.literal('function'), function: obj({ name: z.string().min(1), arguments: z.string() }) }),
    obj({ id: opt(z.string()), type: z.literal('custom'), custom: obj({ name: z.string().min(1), input: z.string() }) }),
  ]),
);

const name = opt(z.string());
const message = z.discriminatedUnion('role', [
  obj({ role: z.literal('system'), content: textContent, name }),
  obj({ role: z.literal('developer'), content: textContent, name }),
  obj({ role: z.literal('user'), content: contentOf(z.discriminatedUnion('type', [textPart, imagePart, audioPart, filePart])), name }),
  obj({
    role: z.literal('assistant'),
    content: opt(contentOf(z.discriminatedUnion('type', [textPart, refusalPart]))),
    tool_calls: opt(z.array(toolCall)),
    refusal: opt(z.string()),
    reasoning: opt(z.string()),
    reasoning_content: opt(z.string()),
    name,
  }),
  // tool_call_id is required by OpenAI, but Ollama's OpenAI layer takes tool messages without it.
  obj({ role: z.literal('tool'), content: textContent, tool_call_id: opt(z.string()) }),
  obj({ role: z.literal('function'), content: z.string().nullable(), name: z.string() }),
]);

const functionTool = obj({
  type: z.literal('function'),
  function: obj({ name: z.string().min(1), description: opt(z.string()), parameters: opt(z.record(z.unknown())), strict: opt(z.boolean()) }),
});
const customTool = obj({ type: z.literal('custom'), custom: obj({ name: z.string().min(1), description: opt(z.string()) }) });

const responseFormat = z.discriminatedUnion('type', [
  obj({ type: z.literal('text') }),
  obj({ type: z.literal('json_object') }),
  obj({ type: z.literal('json_schema'), json_schema: obj({ name: z.string().min(1), description: opt(z.string()), schema: opt(z.record(z.unknown())), strict: opt(z.boolean()) }) }),
]);

/** Fields chat and legacy completions share. */
const sampling = {
  model: z.string().min(1),
  stream: opt(z.boolean()),
  stream_options: streamOptions,
  temperature,
  top_p: topP,
  frequency_penalty: penalty,
  presence_penalty: penalty,
  logit_bias: opt(z.record(z.number())),
  seed: opt(int()),
  stop,
  n: oneChoice,
  user: opt(z.string()),
};

/** POST /v1/chat/completions. */
export const chatCompletionsBody = obj({
  ...sampling,
  messages: z.array(message).min(1),
  max_tokens: budget(tokenCount()),
  max_completion_tokens: budget(tokenCount()),
  logprobs: opt(z.boolean()),
  top_logprobs: opt(int().min(0).max(20)),
  tools: opt(z.array(z.discriminatedUnion('type', [functionTool, customTool]))),
  tool_choice: opt(z.union([z.enum(['none', 'auto', 'required']), obj({ type: z.string() })])),
  parallel_tool_calls: opt(z.boolean()),
  response_format: opt(responseFormat),
  reasoning_effort: opt(z.string()),
  metadata: opt(z.record(z.string())),
  store: opt(z.boolean()),
});

/** POST /v1/completions: one prompt (a string, or a list of one); token lists are not taken (not every backend has them). */
export const completionsBody = obj({
  ...sampling,
  prompt: z.union([z.string(), z.array(z.unknown())]).superRefine((prompt, ctx) => {
    if (!Array.isArray(prompt)) return;
    if (!prompt.every((p) => typeof p === 'string')) {
      ctx.addIssue({ code: 'custom', message: "Invalid type for 'prompt': expected a string or a list of strings (token lists are not supported).", params: { code: 'invalid_type' } });
    } else if (prompt.length !== 1) {
      unsupported(ctx, `Unsupported value: 'prompt' must be one string (or a list of one); the pool runs one answer per request, so send ${prompt.length === 0 ? 'a prompt' : `${prompt.length} requests instead`}.`);
    }
  }),
  suffix: opt(z.string()),
  max_tokens: budget(int().min(0).max(2 ** 31 - 1)),
  echo: opt(z.boolean()),
  best_of: opt(int().min(1)),
  logprobs: opt(int().min(0).max(5)),
});

/** POST /v1/embeddings: text or token inputs, float or base64 vectors. */
export const embeddingsBody = obj({
  model: z.string().min(1),
  input: z.union([z.string(), z.array(z.string()).min(1), z.array(int()).min(1), z.array(z.array(int()).min(1)).min(1)]),
  encoding_format: opt(z.enum(['float', 'base64'])),
  dimensions: opt(int().min(1)),
  user: opt(z.string()),
});
