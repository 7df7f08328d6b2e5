/**
 * The fake LLM server's Ollama side: /api/chat and /api/generate (NDJSON streams, or one JSON body with
 * `"stream": false`), /api/tags and /api/version, and Ollama's `{"error": "..."}` error body.
 * Format: https://github.com/ollama/ollama/blob/main/docs/api.md
 */
import { echoAnswer, JSON_TYPE, type Generation, type ParsedGeneration, type Rendered } from './fake-llm-wire.js';

export const NDJSON = 'application/x-ndjson';

/** Validates an Ollama generation request like Ollama does; returns the error text when it is invalid. */
export function parseOllama(chat: boolean, fields: Record<string, unknown>, model: string): ParsedGeneration | string {
  let prompt: string;
  let system: string | undefined;
  if (!chat) {
    prompt = typeof fields.prompt === 'string' ? fields.prompt : '';
    system = typeof fields.system === 'string' ? fields.system : undefined;
  } else {
    if (!Array.isArray(fields.messages)) return 'messages are required';
    // Ollama reads roles case-insensitively (api/types.go Message.UnmarshalJSON lowercases them).
    const messages = (fields.messages as Array<{ role?: unknown; content?: unknown }>).map((m) => ({ ...m, role: typeof m?.role === 'string' ? m.role.toLowerCase() : m?.role }));
    const lastUser = messages.findLast((m) => m?.role === 'user');
    prompt = typeof lastUser?.content === 'string' ? lastUser.content : '';
    const systemMessage = messages.find((m) => m?.role === 'system');
    system = typeof systemMessage?.content === 'string' ? systemMessage.content : undefined;
  }
  // Ollama streams unless told otherwise.
  const stream = fields.stream !== false;
  return { generation: { protocol: chat ? 'ollama-chat' : 'ollama-generate', model, prompt, stream, includeUsage: false }, model, prompt, system };
}

/** The echo answer as Ollama sends it: one NDJSON line per word, then a `done` line with the counts. */
export function renderOllama(generation: Generation): Rendered {
  const { protocol, model, prompt, stream } = generation;
  const { answer, words, promptTokens, completionTokens } = echoAnswer(model, prompt);
  const createdAt = new Date().toISOString();
  const chat = protocol === 'ollama-chat';
  const piece = (text: string): Record<string, unknown> =>
    chat
      ? { model, created_at: createdAt, message: { role: 'assistant', content: text }, done: false }
      : { model, created_at: createdAt, response: text, done: false };
  const closing = (text: string): Record<string, unknown> => ({
    ...piece(text),
    done: true,
    done_reason: 'stop',
    ...(chat ? {} : { context: [1, 2, 3] }),
    total_duration: 1_000_000,
    load_duration: 100_000,
    prompt_eval_count: promptTokens,
    prompt_eval_duration: 200_000,
    eval_count: completionTokens,
    eval_duration: 700_000,
  });
  if (!stream) {
    return { status: 200, contentType: JSON_TYPE, contentPieces: [JSON.stringify(closing(answer))], closingPieces: [] };
  }
  return {
    status: 200,
    contentType: NDJSON,
    contentPieces: words.map((w) => `${JSON.stringify(piece(w))}\n`),
    closingPieces: [`${JSON.stringify(closing(''))}\n`],
  };
}

export function ollamaError(message: string): unknown {
  return { error: message };
}

/** The version GET /api/version reports unless told otherwise (FakeLlmOptions.ollamaVersion). */
export const OLLAMA_VERSION = '0.6.8';

/** GET /api/tags's body: each model as a local pull of it would list it. */
export function ollamaTags(models: readonly string[]): unknown {
  return {
    models: models.map((name) => ({
      name: name.includes(':') ? name : `${name}:latest`,
      model: name.includes(':') ? name : `${name}:latest`,
      modified_at: '2025-01-01T00:00:00.000000000Z',
      size: 2019393189,
      digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72',
      details: {
        parent_model: '',
        format: 'gguf',
        family: 'llama',
        families: ['llama'],
        parameter_size: '3.2B',
        quantization_level: 'Q4_K_M',
      },
    })),
  };
}
