/**
 * An OpenAI Responses request (POST /v1/responses, platform.openai.com/docs/api-reference/responses/create) as the
 * chat completion request that asks the same of any OpenAI-compatible server (many have no /v1/responses of their
 * own), and through it of an Ollama. Input items become chat messages: `instructions` a system message first, a
 * message item a message (developer → system, input_text/output_text parts → text, input_image → image_url), each
 * `function_call` an assistant tool call (consecutive calls, and text just before them, make one assistant message),
 * each `function_call_output` a tool message. Reasoning items and tools of kinds other than `function` (web_search,
 * custom…) have no chat equivalent and are left out. Settings: max_output_tokens → max_tokens, text.format →
 * response_format, reasoning.effort → reasoning_effort; temperature, top_p and parallel_tool_calls as they are.
 */
import { isRecord } from '../json.js';

type Json = Record<string, unknown>;

/** The chat completion body (without `stream`) for a Responses body. */
export function responsesToChatBody(body: Json): Json {
  const chat: Json = { model: body.model, messages: responsesToChatMessages(body) };
  for (const key of ['temperature', 'top_p', 'parallel_tool_calls', 'user'] as const) if (body[key] !== undefined && body[key] !== null) chat[key] = body[key];
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  const tools = Array.isArray(body.tools) ? body.tools.filter((t) => isRecord(t) && t.type === 'function').map(chatTool) : [];
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = chatToolChoice(body.tool_choice);
    if (choice !== undefined) chat.tool_choice = choice;
  }
  const format = isRecord(body.text) && isRecord(body.text.format) ? chatResponseFormat(body.text.format) : undefined;
  if (format !== undefined) chat.response_format = format;
  if (isRecord(body.reasoning) && typeof body.reasoning.effort === 'string') chat.reasoning_effort = body.reasoning.effort;
  return chat;
}

/** The conversation of a Responses body as chat messages, `instructions` first. */
export function responsesToChatMessages(body: Json): Json[] {
  const messages: Json[] = [];
  if (typeof body.instructions === 'string' && body.instructions !== '') messages.push({ role: 'system', content: body.instructions });
  if (typeof body.input === 'string') {
    messages.push({ role: 'user', content: body.input });
    return messages;
  }
  for (const item of Array.isArray(body.input) ? body.input.filter(isRecord) : []) {
    const type = item.type ?? 'message';
    if (type === 'message' && typeof item.role === 'string') {
      messages.push({ role: item.role === 'developer' ? 'system' : item.role, content: chatContent(item.content) });
    } else if (type === 'function_call') {
      const call = { id: item.call_id, type: 'function', function: { name: item.name, arguments: typeof item.arguments === 'string' ? item.arguments : '{}' } };
      const last = messages.at(-1);
      // Chat puts the text and the tool calls of one assistant turn in one message.
      if (last?.role === 'assistant') last.tool_calls = [...(Array.isArray(last.tool_calls) ? last.tool_calls : []), call];
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
    } else if (type === 'function_call_output') {
      messages.push({ role: 'tool', tool_call_id: item.call_id, content: textOf(item.output) });
    }
  }
  return messages;
}

/** Message content: a string as it is; parts as one string when all are text, else chat content parts. */
function chatContent(content: unknown): unknown {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  const parts = content.filter(isRecord).flatMap((p): Json[] => {
    if ((p.type === 'input_text' || p.type === 'output_text') && typeof p.text === 'string') return [{ type: 'text', text: p.text }];
    if (p.type === 'refusal' && typeof p.refusal === 'string') return [{ type: 'text', text: p.refusal }];
    if (p.type === 'input_image' && typeof p.image_url === 'string') {
      return [{ type: 'image_url', image_url: { url: p.image_url, ...(typeof p.detail === 'string' && p.detail !== 'original' ? { detail: p.detail } : {}) } }];
    }
    return [];
  });
  return parts.every((p) => p.type === 'text') ? parts.map((p) => p.text).join('') : parts;
}

/** A function call's output: a string, or the text of its parts. */
function textOf(output: unknown): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return '';
  return output.filter(isRecord).map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

function chatTool(tool: unknown): Json {
  const t = tool as Json;
  const fn: Json = { name: t.name, parameters: t.parameters ?? { type: 'object', properties: {} } };
  if (typeof t.description === 'string') fn.description = t.description;
  if (typeof t.strict === 'boolean') fn.strict = t.strict;
  return { type: 'function', function: fn };
}

/** tool_choice: "auto" | "none" | "required" as they are, {type:"function", name} as chat names a function. */
function chatToolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isRecord(choice) && choice.type === 'function' && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  return undefined;
}

/** text.format: json_schema {name, schema, strict, description} and json_object; plain text needs nothing. */
function chatResponseFormat(format: Json): unknown {
  if (format.type === 'json_object') return { type: 'json_object' };
  if (format.type !== 'json_schema') return undefined;
  const schema: Json = { name: format.name ?? 'response', schema: format.schema ?? {} };
  if (typeof format.strict === 'boolean') schema.strict = format.strict;
  if (typeof format.description === 'string') schema.description = format.description;
  return { type: 'json_schema', json_schema: schema };
}
