/** Any gateway call as a request to an OpenAI-compatible server: path under /v1 and body. */
import { ValidationError } from '../../errors.js';
import { isRecord } from '../json.js';
import { ollamaToOpenAiMessages } from './messages-map.js';
import { ollamaToOpenAiOptions } from './options-map.js';
import { responsesToChatBody } from './responses-map.js';
import type { ChatCall } from '../../tasks/chat.js';

export type OpenAiPath = 'chat/completions' | 'completions' | 'embeddings';

/**
 * OpenAI calls pass through untouched except that streaming is forced on with usage (so the answer can be relayed,
 * counted and cancelled) and embeddings are asked for as floats (the gateway encodes base64 itself); a Responses call
 * becomes the chat completion that asks the same (responses-map.ts), as not every server has /v1/responses. Ollama
 * calls are translated: chat and generate become chat completions (a raw prompt or one with a suffix a text
 * completion, which applies no template), embed becomes embeddings. A generate that goes on from an earlier answer's
 * `context` (Ollama's own tokens) is refused with a ValidationError: no OpenAI-compatible server can take it.
 */
export function toOpenAiRequest(call: ChatCall): { path: OpenAiPath; body: Record<string, unknown> } {
  const body = call.body;
  const streaming = (b: Record<string, unknown>) => ({ ...b, stream: true, stream_options: { ...(isRecord(b.stream_options) ? b.stream_options : {}), include_usage: true } });
  if (call.protocol === 'openai') {
    if (call.endpoint === 'embeddings') return { path: 'embeddings', body: { ...body, encoding_format: 'float' } };
    if (call.endpoint === 'responses') return { path: 'chat/completions', body: streaming(responsesToChatBody(body)) };
    return { path: call.endpoint === 'completions' ? 'completions' : 'chat/completions', body: streaming(body) };
  }
  if (call.endpoint === 'embeddings') {
    return { path: 'embeddings', body: { model: body.model, input: body.input, encoding_format: 'float', ...(body.dimensions === undefined ? {} : { dimensions: body.dimensions }) } };
  }
  if (call.endpoint === 'generate') {
    if (Array.isArray(body.context) && body.context.length > 0) {
      throw new ValidationError("context: an OpenAI-compatible backend cannot go on from an Ollama answer's context tokens; send the conversation as /api/chat messages", 'context');
    }
    // A raw prompt takes no chat template, and a suffix asks to fill in the middle: both are a text completion.
    const suffix = typeof body.suffix === 'string' && body.suffix !== '' ? body.suffix : undefined;
    if (body.raw === true || suffix !== undefined) {
      const prompt = typeof body.prompt === 'string' ? body.prompt : '';
      // A legacy completion has no reasoning_effort or response_format, and asks for logprobs as a count of alternatives.
      const { reasoning_effort: _effort, response_format: _format, logprobs, top_logprobs, ...options } = ollamaToOpenAiOptions(body);
      const asked = logprobs === true ? { logprobs: typeof top_logprobs === 'number' ? top_logprobs : 0 } : {};
      return { path: 'completions', body: streaming({ model: body.model, prompt, ...(suffix === undefined ? {} : { suffix }), ...options, ...asked }) };
    }
  }
  const messages =
    call.endpoint === 'generate'
      ? [
          ...(typeof body.system === 'string' && body.system !== '' ? [{ role: 'system', content: body.system }] : []),
          { role: 'user', content: typeof body.prompt === 'string' ? body.prompt : '', ...(Array.isArray(body.images) ? { images: body.images } : {}) },
        ]
      : Array.isArray(body.messages) ? body.messages : [];
  const chat: Record<string, unknown> = { model: body.model, messages: ollamaToOpenAiMessages(messages), ...ollamaToOpenAiOptions(body) };
  if (Array.isArray(body.tools)) chat.tools = body.tools;
  return { path: 'chat/completions', body: streaming(chat) };
}
