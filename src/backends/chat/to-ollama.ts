/** Any gateway call as a request to an Ollama server: endpoint under /api and body. */
import { isRecord } from '../json.js';
import { openAiToOllamaMessages } from './messages-map.js';
import { openAiToOllamaOptions } from './options-map.js';
import { responsesToChatBody } from './responses-map.js';
import type { ChatCall } from '../../tasks/chat.js';

export type OllamaPath = 'chat' | 'generate' | 'embed';

/**
 * Ollama calls pass through untouched except that streaming is forced on (so the answer can be relayed and
 * cancelled). OpenAI calls are translated: chat completions become /api/chat, completions /api/generate, embeddings
 * /api/embed, as Ollama's own OpenAI-compatible layer does; a Responses call goes as the chat completion that asks the
 * same (responses-map.ts).
 */
export function toOllamaRequest(call: ChatCall): { path: OllamaPath; body: Record<string, unknown> } {
  const body = call.endpoint === 'responses' ? responsesToChatBody(call.body) : call.body;
  if (call.protocol === 'ollama') {
    if (call.endpoint === 'embeddings') return { path: 'embed', body };
    return { path: call.endpoint === 'generate' ? 'generate' : 'chat', body: { ...body, stream: true } };
  }
  if (call.endpoint === 'embeddings') {
    return { path: 'embed', body: { model: body.model, input: body.input, ...(body.dimensions === undefined ? {} : { dimensions: body.dimensions }) } };
  }
  const { options, format, think, logprobs } = openAiToOllamaOptions(body);
  const shared = { model: body.model, stream: true, options, ...(format === undefined ? {} : { format }), ...(think === undefined ? {} : { think }), ...logprobs };
  if (call.endpoint === 'completions') {
    const prompt = Array.isArray(body.prompt) ? body.prompt.join('') : typeof body.prompt === 'string' ? body.prompt : '';
    return { path: 'generate', body: { ...shared, prompt, ...(typeof body.suffix === 'string' ? { suffix: body.suffix } : {}) } };
  }
  const messages = openAiToOllamaMessages(Array.isArray(body.messages) ? body.messages : []);
  const tools = offeredTools(body.tools, body.tool_choice);
  return { path: 'chat', body: { ...shared, messages, ...(tools === undefined ? {} : { tools }) } };
}

/**
 * The tools an Ollama server is given for an OpenAI `tool_choice`, which it has no field for: "none" offers none (no
 * call can come back, as OpenAI promises), a named function only that one, `allowed_tools` only those it lists;
 * "auto" and "required" all of them.
 */
function offeredTools(tools: unknown, choice: unknown): unknown[] | undefined {
  if (!Array.isArray(tools) || choice === 'none') return undefined;
  const nameOf = (t: unknown) => (t as { function?: { name?: unknown } } | null)?.function?.name;
  let names: unknown[] | null = null;
  if (isRecord(choice) && choice.type === 'function') names = [nameOf(choice)];
  if (isRecord(choice) && choice.type === 'allowed_tools' && isRecord(choice.allowed_tools) && Array.isArray(choice.allowed_tools.tools)) names = choice.allowed_tools.tools.map(nameOf);
  if (names === null) return tools;
  const picked = tools.filter((t) => names.includes(nameOf(t)));
  return picked.length > 0 ? picked : tools;
}
