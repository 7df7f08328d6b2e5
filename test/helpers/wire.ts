/** Exact wire pieces of real LLM servers, for scripted fake answers (see FakeLlm.script). */

/** One OpenAI chat.completion.chunk SSE event, as vLLM and llama.cpp's server write them. */
export function openAiChunk(delta: Record<string, unknown>, finishReason: string | null = null): string {
  const body = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1767225600, model: 'served-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** The usage chunk `stream_options.include_usage` adds: no choices, the counts (reasoning in completion_tokens_details). */
export function openAiUsageChunk(prompt: number, completion: number, reasoning?: number): string {
  const details = reasoning === undefined ? {} : { completion_tokens_details: { reasoning_tokens: reasoning } };
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, ...details };
  return `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1767225600, model: 'served-model', choices: [], usage })}\n\n`;
}

/** The end marker of an OpenAI stream. */
export const OPENAI_DONE = 'data: [DONE]\n\n';

/** One Ollama /api/chat NDJSON line; `model` defaults to the fake's. */
export function ollamaLine(fields: Record<string, unknown>): string {
  return `${JSON.stringify({ model: 'fake-model', created_at: '2026-01-01T00:00:00.000000Z', ...fields })}\n`;
}

/** An Ollama chat answer: optional thinking, the text, then the closing line with done_reason and counts. */
export function ollamaAnswer(a: { thinking?: string; content: string; doneReason: string; promptTokens: number; evalTokens: number; model?: string }): string[] {
  const model = a.model === undefined ? {} : { model: a.model };
  return [
    ...(a.thinking === undefined ? [] : [ollamaLine({ ...model, message: { role: 'assistant', content: '', thinking: a.thinking }, done: false })]),
    ollamaLine({ ...model, message: { role: 'assistant', content: a.content }, done: false }),
    ollamaLine({ ...model, message: { role: 'assistant', content: '' }, done: true, done_reason: a.doneReason, prompt_eval_count: a.promptTokens, eval_count: a.evalTokens }),
  ];
}
