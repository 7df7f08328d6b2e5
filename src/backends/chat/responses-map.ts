/**
 * An OpenAI Responses request (POST /v1/responses, platform.openai.com/docs/api-reference/responses/create) as the
 * chat completion request that asks the same of any OpenAI-compatible server (many have no /v1/responses of their
 * own), and through it of an Ollama. Input items become chat messages: `instructions` a system message first, a
 * message item a message (developer → system, input_text/output_text parts → text, input_image → image_url), each
 * `function_call` or `custom_tool_call` an assistant tool call (consecutive calls, and text just before them, make one
 * assistant message), each `function_call_output` or `custom_tool_call_output` a tool message. A `reasoning` item's
 * text (its reasoning_text content, else its encrypted_content, where Ollama and this gateway put the plain text)
 * becomes the `reasoning` of the assistant message that follows it, which Ollama reads as that turn's thinking; its
 * summary is not fed back, and reasoning that no assistant turn follows is left out. web_search_call items are history
 * of a search the server ran, with nothing to send. Tools as responses-tools.ts maps them. Settings:
 * max_output_tokens → max_tokens, text.format → response_format, reasoning.effort → reasoning_effort; temperature,
 * top_p and parallel_tool_calls as they are.
 */
import { isRecord } from '../json.js';
import { chatToolName, chatTools, customToolArguments } from './responses-tools.js';

type Json = Record<string, unknown>;

/** The chat completion body (without `stream`) for a Responses body. */
export function responsesToChatBody(body: Json): Json {
  const chat: Json = { model: body.model, messages: responsesToChatMessages(body) };
  for (const key of ['temperature', 'top_p', 'parallel_tool_calls', 'user'] as const) if (body[key] !== undefined && body[key] !== null) chat[key] = body[key];
  if (typeof body.max_output_tokens === 'number') chat.max_tokens = body.max_output_tokens;
  const tools = chatTools(body.tools);
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
  /** Reasoning waiting for the assistant turn it belongs to. */
  let reasoning: string | null = null;
  const assistantTurn = (message: Json) => {
    if (reasoning !== null && message.reasoning === undefined) message.reasoning = reasoning;
    reasoning = null;
  };
  const call = (id: unknown, name: string, args: string) => {
    const toolCall = { id, type: 'function', function: { name, arguments: args } };
    const last = messages.at(-1);
    // Chat puts the text and the tool calls of one assistant turn in one message.
    // Added in place: a copy per call made a long run of calls cost its square.
    if (last?.role === 'assistant' && Array.isArray(last.tool_calls)) last.tool_calls.push(toolCall);
    else if (last?.role === 'assistant') last.tool_calls = [toolCall];
    else messages.push({ role: 'assistant', content: null, tool_calls: [toolCall] });
    assistantTurn(messages.at(-1)!);
  };
  const other = (message: Json) => {
    reasoning = null;
    messages.push(message);
  };
  for (const item of Array.isArray(body.input) ? body.input.filter(isRecord) : []) {
    const type = item.type ?? 'message';
    if (type === 'message' && typeof item.role === 'string') {
      const message = { role: item.role === 'developer' ? 'system' : item.role, content: chatContent(item.content) };
      if (item.role === 'assistant') {
        messages.push(message);
        assistantTurn(message);
      } else {
        other(message);
      }
    } else if (type === 'reasoning') {
      reasoning = reasoningText(item);
    } else if (type === 'function_call') {
      call(item.call_id, chatToolName(String(item.name), item.namespace), typeof item.arguments === 'string' ? item.arguments : '{}');
    } else if (type === 'custom_tool_call') {
      call(item.call_id, chatToolName(String(item.name), item.namespace), customToolArguments(typeof item.input === 'string' ? item.input : ''));
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      other({ role: 'tool', tool_call_id: item.call_id, content: textOf(item.output) });
    }
  }
  return messages;
}

/** A reasoning item's text: its reasoning_text parts, else its encrypted_content (plain text from Ollama); null if none. */
function reasoningText(item: Json): string | null {
  const parts = Array.isArray(item.content) ? item.content.filter((p) => isRecord(p) && p.type === 'reasoning_text' && typeof p.text === 'string') : [];
  if (parts.length > 0) return parts.map((p) => (p as Json).text).join('');
  return typeof item.encrypted_content === 'string' && item.encrypted_content !== '' ? item.encrypted_content : null;
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

/** tool_choice: "auto" | "none" | "required" as they are, {type:"function" | "custom", name} as chat names a function. */
function chatToolChoice(choice: unknown): unknown {
  if (choice === 'auto' || choice === 'none' || choice === 'required') return choice;
  if (isRecord(choice) && (choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') return { type: 'function', function: { name: choice.name } };
  // {type: "allowed_tools", mode, tools: [{type: "function", name}]} as chat writes it (ChatCompletionAllowedToolChoice).
  if (isRecord(choice) && choice.type === 'allowed_tools' && Array.isArray(choice.tools)) {
    const tools = choice.tools.filter(isRecord).flatMap((t) => (typeof t.name === 'string' ? [{ type: 'function', function: { name: t.name } }] : []));
    return { type: 'allowed_tools', allowed_tools: { mode: choice.mode === 'required' ? 'required' : 'auto', tools } };
  }
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
