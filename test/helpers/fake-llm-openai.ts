/**
 * The fake LLM server's OpenAI side: /v1/chat/completions (an SSE stream of chat.completion.chunk objects ending in
 * `data: [DONE]`, with a usage chunk when stream_options.include_usage is set; or one chat.completion), /v1/models,
 * and OpenAI's error body. Format: https://platform.openai.com/docs/api-reference/chat
 */
import { echoAnswer, JSON_TYPE, type Generation, type ParsedGeneration, type Rendered } from './fake-llm-wire.js';

export const SSE = 'text/event-stream';

/** Validates a chat completion request like OpenAI does; returns the error text when it is invalid. */
export function parseOpenAi(fields: Record<string, unknown>, model: string): ParsedGeneration | string {
  if (!Array.isArray(fields.messages)) return "'messages' is a required property";
  const messages = fields.messages as Array<{ role?: unknown; content?: unknown }>;
  const lastUser = messages.findLast((m) => m?.role === 'user');
  const prompt = typeof lastUser?.content === 'string' ? lastUser.content : '';
  const systemMessage = messages.find((m) => m?.role === 'system');
  const system = typeof systemMessage?.content === 'string' ? systemMessage.content : undefined;
  // OpenAI streams only when asked.
  const stream = fields.stream === true;
  const streamOptions = fields.stream_options as { include_usage?: unknown } | undefined;
  const includeUsage = stream && streamOptions?.include_usage === true;
  return { generation: { protocol: 'openai', model, prompt, stream, includeUsage }, model, prompt, system };
}

/** Validates a legacy completion request (/v1/completions): `prompt` a string, or a list of strings (answered as one). */
export function parseOpenAiCompletion(fields: Record<string, unknown>, model: string): ParsedGeneration | string {
  const prompt = typeof fields.prompt === 'string' ? fields.prompt : Array.isArray(fields.prompt) ? fields.prompt.join('') : undefined;
  if (prompt === undefined) return "'prompt' is a required property";
  const stream = fields.stream === true;
  const includeUsage = stream && (fields.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  return { generation: { protocol: 'openai', model, prompt, stream, includeUsage, textCompletion: true }, model, prompt, system: undefined };
}

/** The echo answer as OpenAI sends it: a role chunk, a chunk per word, a finish chunk, the usage chunk, [DONE]. */
export function renderOpenAi(generation: Generation): Rendered {
  const { model, prompt, stream } = generation;
  if (generation.textCompletion) return renderTextCompletion(generation);
  const { answer, words, promptTokens, completionTokens } = echoAnswer(model, prompt);
  const created = Math.floor(Date.now() / 1000);
  const id = `chatcmpl-fake${created}`;
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (!stream) {
    const completion = {
      id,
      object: 'chat.completion',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, message: { role: 'assistant', content: answer }, logprobs: null, finish_reason: 'stop' }],
      usage,
    };
    return { status: 200, contentType: JSON_TYPE, contentPieces: [JSON.stringify(completion)], closingPieces: [] };
  }
  const chunk = (delta: Record<string, unknown>, finishReason: string | null): string => {
    const body: Record<string, unknown> = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      system_fingerprint: 'fp_fake',
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
    if (generation.includeUsage) body.usage = null;
    return `data: ${JSON.stringify(body)}\n\n`;
  };
  const contentPieces = [chunk({ role: 'assistant', content: '' }, null), ...words.map((w) => chunk({ content: w }, null))];
  const closingPieces = [chunk({}, 'stop')];
  if (generation.includeUsage) {
    const usageChunk = { id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_fake', choices: [], usage };
    closingPieces.push(`data: ${JSON.stringify(usageChunk)}\n\n`);
  }
  closingPieces.push('data: [DONE]\n\n');
  return { status: 200, contentType: SSE, contentPieces, closingPieces };
}

/**
 * The echo answer as a legacy completion (platform.openai.com/docs/api-reference/completions): one text_completion
 * object, or a text_completion chunk per word, a closing one with finish_reason and empty text, the usage chunk when
 * asked for (choices empty), and [DONE].
 */
function renderTextCompletion(generation: Generation): Rendered {
  const { model, prompt, stream } = generation;
  const { answer, words, promptTokens, completionTokens } = echoAnswer(model, prompt);
  const created = Math.floor(Date.now() / 1000);
  const head = { id: `cmpl-fake${created}`, object: 'text_completion', created, model };
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  const choice = (text: string, finishReason: string | null) => ({ text, index: 0, logprobs: null, finish_reason: finishReason });
  if (!stream) return { status: 200, contentType: JSON_TYPE, contentPieces: [JSON.stringify({ ...head, choices: [choice(answer, 'stop')], usage })], closingPieces: [] };
  const data = (body: unknown) => `data: ${JSON.stringify(body)}\n\n`;
  const closingPieces = [data({ ...head, choices: [choice('', 'stop')] })];
  if (generation.includeUsage) closingPieces.push(data({ ...head, choices: [], usage }));
  closingPieces.push('data: [DONE]\n\n');
  return { status: 200, contentType: SSE, contentPieces: words.map((w) => data({ ...head, choices: [choice(w, null)] })), closingPieces };
}

export function openAiError(message: string): unknown {
  return { error: { message, type: 'server_error', param: null, code: null } };
}

/** The 401 body for a missing or wrong API key. */
export const OPENAI_BAD_KEY = {
  error: {
    message: 'Incorrect API key provided.',
    type: 'invalid_request_error',
    param: null,
    code: 'invalid_api_key',
  },
};

/** GET /v1/models's body. */
export function openAiModels(models: readonly string[]): unknown {
  return {
    object: 'list',
    data: models.map((id) => ({ id, object: 'model', created: 1735689600, owned_by: 'fake-llm' })),
  };
}
