/**
 * Sampling options and output formats between the two protocols, field for field as Ollama's own OpenAI-compatible
 * layer maps them (temperature, top_p, seed, stop, penalties; max_tokens ↔ options.num_predict; response_format
 * json_object ↔ format "json", json_schema ↔ a schema object as `format`; reasoning_effort → think).
 */
import { isRecord } from '../json.js';

/** The most tokens an answer is asked for on an OpenAI server (a 32-bit count, as llama.cpp's n_predict). */
const MAX_TOKENS = 2 ** 31 - 1;

/** Fields with the same name and meaning on both sides (Ollama keeps them under `options`). */
const SHARED = ['temperature', 'top_p', 'seed', 'frequency_penalty', 'presence_penalty'] as const;

/** Log probabilities asked for, as Ollama's top-level `logprobs` and `top_logprobs` (api/types.go ChatRequest). */
export interface OllamaLogprobs {
  logprobs?: boolean;
  top_logprobs?: number;
}

/**
 * OpenAI request fields → Ollama's `options` object and top-level `format`, `think` and log probabilities (chat's
 * `logprobs: true` with `top_logprobs`, or a legacy completion's `logprobs: <n>`, as Ollama's OpenAI layer reads them).
 */
export function openAiToOllamaOptions(body: Record<string, unknown>): { options: Record<string, unknown>; format?: unknown; think?: string | boolean; logprobs: OllamaLogprobs } {
  const options: Record<string, unknown> = {};
  for (const key of SHARED) if (body[key] !== undefined && body[key] !== null) options[key] = body[key];
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (typeof maxTokens === 'number') options.num_predict = maxTokens;
  if (typeof body.stop === 'string') options.stop = [body.stop];
  else if (Array.isArray(body.stop)) options.stop = body.stop;
  const format = isRecord(body.response_format) ? ollamaFormat(body.response_format) : undefined;
  const think = ollamaThink(body.reasoning_effort);
  const logprobs: OllamaLogprobs = {};
  if (body.logprobs === true || (typeof body.logprobs === 'number' && body.logprobs >= 0)) logprobs.logprobs = true;
  const top = typeof body.logprobs === 'number' ? body.logprobs : body.top_logprobs;
  if (logprobs.logprobs && typeof top === 'number' && top > 0) logprobs.top_logprobs = top;
  return { options, ...(format === undefined ? {} : { format }), ...(think === undefined ? {} : { think }), logprobs };
}

/**
 * A reasoning effort as Ollama's `think`, as its OpenAI layer maps `reasoning_effort` (and the Responses API's
 * `reasoning.effort`, which arrives here as `reasoning_effort`): high, medium and low as they are, none as false. Other
 * efforts (minimal, xhigh) are levels Ollama has no name for: they are left out, and the model thinks as it does by
 * default.
 */
function ollamaThink(effort: unknown): string | boolean | undefined {
  if (effort === 'none') return false;
  if (effort === 'low' || effort === 'medium' || effort === 'high') return effort;
  return undefined;
}

function ollamaFormat(rf: Record<string, unknown>): unknown {
  if (rf.type === 'json_object') return 'json';
  if (rf.type === 'json_schema' && isRecord(rf.json_schema)) return rf.json_schema.schema;
  return undefined;
}

/** Ollama `options` and `format` → OpenAI request fields. */
export function ollamaToOpenAiOptions(body: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const options = isRecord(body.options) ? body.options : {};
  for (const key of SHARED) if (options[key] !== undefined) out[key] = options[key];
  // Whole-number options as Ollama reads them (api/types.go FromMap truncates a float), so an OpenAI server that wants
  // an integer gets one; num_predict ≤ 0 (-1: no limit, -2: fill the context) is no limit there.
  if (typeof options.seed === 'number') out.seed = Math.trunc(options.seed);
  const numPredict = typeof options.num_predict === 'number' ? Math.min(Math.trunc(options.num_predict), MAX_TOKENS) : 0;
  if (numPredict > 0) out.max_tokens = numPredict;
  if (Array.isArray(options.stop)) out.stop = options.stop;
  if (body.format === 'json') out.response_format = { type: 'json_object' };
  else if (isRecord(body.format)) out.response_format = { type: 'json_schema', json_schema: { name: 'response', schema: body.format } };
  // think as a level is OpenAI's reasoning_effort (Ollama's own OpenAI layer maps them so); true and false have no
  // counterpart there: false is kept by leaving the thinking out of the answer (OllamaAnswer).
  if (body.think === 'high' || body.think === 'medium' || body.think === 'low') out.reasoning_effort = body.think;
  if (body.logprobs === true) {
    out.logprobs = true;
    if (typeof body.top_logprobs === 'number' && body.top_logprobs > 0) out.top_logprobs = body.top_logprobs;
  }
  return out;
}
