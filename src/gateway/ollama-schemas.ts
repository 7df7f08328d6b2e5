/**
 * What the Ollama-compatible endpoints accept (zod), as Ollama's server reads them (github.com/ollama/ollama
 * api/types.go: ChatRequest, GenerateRequest, EmbedRequest, EmbeddingRequest, Message, Tool, Options and its FromMap,
 * Duration, ThinkValue): a JSON null is a field left out, as Go reads it; roles are read case-insensitively; options
 * have the types Ollama's Options fields have (whole-number options take any number, as Ollama truncates them) and
 * unknown options pass, as Ollama only logs them. Unknown fields pass through to an Ollama backend untouched.
 */
import { z } from 'zod';

const opt = <T extends z.ZodTypeAny>(schema: T) => schema.nullish();
const obj = <S extends z.ZodRawShape>(shape: S) => z.object(shape).passthrough();

/** Go's time.ParseDuration syntax ("5m", "1h30m", "-1", "0"), or a number of seconds; negative is "keep for ever". */
const GO_DURATION = /^[+-]?(0|((\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const keepAlive = opt(z.union([z.number(), z.string().regex(GO_DURATION, 'must be a duration such as "5m", "30s" or "0"')]));

/** keep_alive asks for the model to be unloaded now (0, "0", "0s"…). */
export function unloadsNow(keepAlive: unknown): boolean {
  if (typeof keepAlive === 'number') return keepAlive === 0;
  return typeof keepAlive === 'string' && GO_DURATION.test(keepAlive) && !/[1-9]/.test(keepAlive);
}

const NUMBER_OPTIONS = ['num_keep', 'seed', 'num_predict', 'top_k', 'top_p', 'min_p', 'typical_p', 'repeat_last_n', 'temperature', 'repeat_penalty', 'presence_penalty', 'frequency_penalty', 'num_ctx', 'num_batch', 'num_gpu', 'main_gpu', 'num_thread', 'draft_num_predict'] as const;
const options = opt(
  obj({
    ...Object.fromEntries(NUMBER_OPTIONS.map((key) => [key, opt(z.number())])),
    stop: opt(z.array(z.string())),
    use_mmap: opt(z.boolean()),
  }),
);

/** `format`: "json", a JSON schema object, or nothing. */
const format = opt(z.union([z.enum(['json', '']), z.record(z.unknown())]));
const think = opt(z.union([z.boolean(), z.enum(['high', 'medium', 'low', 'max'])]));
/** Base64 image data. */
const images = opt(z.array(z.string()));

const toolCall = obj({ id: opt(z.string()), function: obj({ index: opt(z.number().int()), name: z.string().min(1), arguments: opt(z.record(z.unknown())) }) });

const message = obj({
  role: z.preprocess((r) => (typeof r === 'string' ? r.toLowerCase() : r), z.enum(['system', 'user', 'assistant', 'tool'])),
  content: opt(z.string()),
  thinking: opt(z.string()),
  images,
  tool_calls: opt(z.array(toolCall)),
  tool_name: opt(z.string()),
  tool_call_id: opt(z.string()),
});

const tool = obj({
  type: z.literal('function'),
  function: obj({ name: z.string().min(1), description: opt(z.string()), parameters: opt(z.record(z.unknown())) }),
});

/** What every generating request shares. */
const generating = {
  model: z.string().min(1),
  stream: opt(z.boolean()),
  format,
  options,
  keep_alive: keepAlive,
  think,
  logprobs: opt(z.boolean()),
  top_logprobs: opt(z.number().int().min(0).max(20)),
  truncate: opt(z.boolean()),
  shift: opt(z.boolean()),
};

/** POST /api/chat; no messages at all asks for the model to be loaded (or, with keep_alive 0, unloaded). */
export const chatBody = obj({ ...generating, messages: opt(z.array(message)), tools: opt(z.array(tool)) });

/** POST /api/generate; an empty or absent prompt asks for the model to be loaded (or unloaded). */
export const generateBody = obj({
  ...generating,
  prompt: opt(z.string()),
  suffix: opt(z.string()),
  system: opt(z.string()),
  template: opt(z.string()),
  context: opt(z.array(z.number().int())),
  raw: opt(z.boolean()),
  images,
});

/** POST /api/embed; an empty input only loads the model. */
export const embedBody = obj({
  model: z.string().min(1),
  input: opt(z.union([z.string(), z.array(z.string())])),
  dimensions: opt(z.number().int().min(0)),
  truncate: opt(z.boolean()),
  keep_alive: keepAlive,
  options,
});

/** POST /api/embeddings (the older form): one `prompt`; an empty one only loads the model. */
export const embeddingsBody = obj({ model: z.string().min(1), prompt: opt(z.string()), keep_alive: keepAlive, options });

/** POST /api/show, /api/pull, /api/delete: the model, as `model` or (older clients) `name`. */
export const modelRequestBody = obj({ model: opt(z.string()), name: opt(z.string()), stream: opt(z.boolean()) }).superRefine((body, ctx) => {
  if (!body.model && !body.name) ctx.addIssue({ code: 'custom', path: ['model'], message: "Missing required parameter: 'model'.", params: { code: 'missing_required_parameter' } });
});

/** The model a show, pull or delete request names. */
export const namedModel = (body: Record<string, unknown>) => String(body.model || body.name);
