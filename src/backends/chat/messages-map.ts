/**
 * Chat messages between the protocols. OpenAI: content is a string or parts ({type:"text"}, {type:"image_url"} with a
 * data URL), assistant `tool_calls` carry `arguments` as JSON text, a `tool` message names its `tool_call_id`, an
 * assistant turn's earlier reasoning is its `reasoning` (as Ollama's and vLLM's OpenAI layers read it; vLLM's older
 * name `reasoning_content` is read too). Ollama: content is a string, images a list of base64 strings, tool call
 * `arguments` an object, a `tool` message may name its `tool_name`, reasoning is `thinking`.
 * (OpenAI: platform.openai.com/docs/api-reference/chat; Ollama: docs/api.md and openai/openai.go.)
 */
import { isRecord } from '../json.js';

type Message = Record<string, unknown>;

/** OpenAI messages → Ollama messages. */
export function openAiToOllamaMessages(messages: unknown[]): Message[] {
  return messages.filter(isRecord).map((m) => {
    const out: Message = { role: m.role === 'developer' ? 'system' : m.role };
    const images: string[] = [];
    if (Array.isArray(m.content)) {
      const texts: string[] = [];
      for (const part of m.content.filter(isRecord)) {
        if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
        const url = isRecord(part.image_url) ? part.image_url.url : undefined;
        if (part.type === 'image_url' && typeof url === 'string') images.push(url.replace(/^data:[^,]*;base64,/, ''));
      }
      out.content = texts.join('');
    } else {
      out.content = typeof m.content === 'string' ? m.content : '';
    }
    if (images.length > 0) out.images = images;
    if (Array.isArray(m.tool_calls)) {
      out.tool_calls = m.tool_calls.filter(isRecord).map((call) => {
        const fn = isRecord(call.function) ? call.function : {};
        return { function: { name: fn.name, arguments: parseArguments(fn.arguments) } };
      });
    }
    if (m.role === 'tool' && typeof m.name === 'string') out.tool_name = m.name;
    const reasoning = typeof m.reasoning === 'string' ? m.reasoning : m.reasoning_content;
    if (typeof reasoning === 'string' && reasoning !== '') out.thinking = reasoning;
    return out;
  });
}

/** Ollama messages → OpenAI messages; tool calls get ids (`call_<n>`) that the following tool messages refer to. */
export function ollamaToOpenAiMessages(messages: unknown[]): Message[] {
  let calls = 0;
  const idsByName = new Map<string, string>();
  let lastId: string | undefined;
  return messages.filter(isRecord).map((m) => {
    const text = typeof m.content === 'string' ? m.content : '';
    // Ollama reads roles case-insensitively; OpenAI-compatible servers take them in lower case.
    const out: Message = { role: typeof m.role === 'string' ? m.role.toLowerCase() : m.role };
    if (Array.isArray(m.images) && m.images.length > 0) {
      const parts: unknown[] = text === '' ? [] : [{ type: 'text', text }];
      for (const image of m.images) if (typeof image === 'string') parts.push({ type: 'image_url', image_url: { url: `data:${imageType(image)};base64,${image}` } });
      out.content = parts;
    } else {
      out.content = text;
    }
    if (Array.isArray(m.tool_calls)) {
      out.tool_calls = m.tool_calls.filter(isRecord).map((call) => {
        const fn = isRecord(call.function) ? call.function : {};
        const id = typeof call.id === 'string' ? call.id : `call_${calls++}`;
        if (typeof fn.name === 'string') idsByName.set(fn.name, id);
        lastId = id;
        return { id, type: 'function', function: { name: fn.name, arguments: JSON.stringify(fn.arguments ?? {}) } };
      });
    }
    if (typeof m.thinking === 'string' && m.thinking !== '') out.reasoning = m.thinking;
    if (out.role === 'tool') {
      const byName = typeof m.tool_name === 'string' ? idsByName.get(m.tool_name) : undefined;
      const id = typeof m.tool_call_id === 'string' ? m.tool_call_id : (byName ?? lastId);
      if (id !== undefined) out.tool_call_id = id;
    }
    return out;
  });
}

/** Tool arguments as an object: OpenAI sends JSON text; text that is not a JSON object is kept under "value". */
export function parseArguments(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {};
  try {
    return JSON.parse(raw === '' ? '{}' : raw);
  } catch {
    return { value: raw };
  }
}

/** The media type of a base64 image from its first bytes (PNG, JPEG, GIF, WebP); JPEG when unknown. */
function imageType(base64: string): string {
  if (base64.startsWith('iVBOR')) return 'image/png';
  if (base64.startsWith('R0lGOD')) return 'image/gif';
  if (base64.startsWith('UklGR')) return 'image/webp';
  return 'image/jpeg';
}
