/**
 * Chat messages between the protocols. OpenAI: content is a string or parts ({type:"text"}, {type:"image_url"} with a
 * data URL), assistant `tool_calls` carry `arguments` as JSON text, a `tool` message names its `tool_call_id`, an
 * assistant turn's earlier reasoning is its `reasoning` (as Ollama's and vLLM's OpenAI layers read it; vLLM's older
 * name `reasoning_content` is read too). Ollama: content is a string, images a list of base64 strings, tool call
 * `arguments` an object, a `tool` message names its `tool_name` and `tool_call_id`, reasoning is `thinking`.
 * (OpenAI: platform.openai.com/docs/api-reference/chat; Ollama: docs/api.md and openai/openai.go.)
 */
import { ValidationError } from '../../errors.js';
import { isRecord } from '../json.js';

type Message = Record<string, unknown>;

/**
 * OpenAI messages → Ollama messages, as Ollama's own OpenAI layer maps them: a tool call keeps its id, a tool message
 * its tool_call_id and gets the called function's name as `tool_name`, input_audio data goes among the images. An
 * image given by http(s) URL, and any part other than text, refusal, image_url and input_audio (a file), is refused
 * with a ValidationError (Ollama takes images only as base64 data and fetches no URLs, and takes no files).
 */
export function openAiToOllamaMessages(messages: unknown[]): Message[] {
  const records = messages.filter(isRecord);
  const calledNames = calledFunctions(records);
  return records.map((m, i) => {
    const out: Message = { role: m.role === 'developer' ? 'system' : m.role };
    const images: string[] = [];
    if (Array.isArray(m.content)) {
      const texts: string[] = [];
      m.content.forEach((part: unknown, j) => {
        const field = `messages[${i}].content[${j}]`;
        if (!isRecord(part)) return;
        switch (part.type) {
          case 'text':
            if (typeof part.text === 'string') texts.push(part.text);
            return;
          // An earlier assistant turn's refusal is what the model said.
          case 'refusal':
            if (typeof part.refusal === 'string') texts.push(part.refusal);
            return;
          case 'image_url': {
            // image_url is {url}, or (as Ollama's OpenAI layer also takes it) the URL itself.
            const url = isRecord(part.image_url) ? part.image_url.url : part.image_url;
            if (typeof url === 'string') images.push(inlineImage(url, `${field}.image_url.url`));
            return;
          }
          case 'input_audio': {
            // Ollama's OpenAI layer passes the base64 audio on among the message's images, for models that hear.
            const data = isRecord(part.input_audio) ? part.input_audio.data : undefined;
            if (typeof data !== 'string') throw new ValidationError(`${field}.input_audio.data: the audio must be base64 data`, `${field}.input_audio.data`);
            images.push(data);
            return;
          }
          default:
            // A file or any other part would be dropped unsaid: Ollama takes none (its OpenAI layer refuses them too).
            throw new ValidationError(`${field}.type: an Ollama backend takes text, image_url and input_audio parts, not ${JSON.stringify(String(part.type).slice(0, 40))}`, `${field}.type`);
        }
      });
      out.content = texts.join('');
    } else {
      out.content = typeof m.content === 'string' ? m.content : '';
    }
    // An earlier turn's refusal as the SDK returns it (content null, the refusal beside it) is what the model said.
    if (out.content === '' && typeof m.refusal === 'string') out.content = m.refusal;
    if (images.length > 0) out.images = images;
    if (Array.isArray(m.tool_calls)) {
      out.tool_calls = m.tool_calls.filter(isRecord).map((call) => {
        const fn = isRecord(call.function) ? call.function : {};
        return { ...(typeof call.id === 'string' ? { id: call.id } : {}), function: { name: fn.name, arguments: parseArguments(fn.arguments) } };
      });
    }
    if (m.role === 'tool') {
      const name = typeof m.name === 'string' ? m.name : typeof m.tool_call_id === 'string' ? calledNames.get(m.tool_call_id) : undefined;
      if (name !== undefined) out.tool_name = name;
      if (typeof m.tool_call_id === 'string') out.tool_call_id = m.tool_call_id;
    }
    const reasoning = typeof m.reasoning === 'string' ? m.reasoning : m.reasoning_content;
    if (typeof reasoning === 'string' && reasoning !== '') out.thinking = reasoning;
    return out;
  });
}

/** An image part's URL as Ollama's base64 image data; `field` names it in the refusal of a URL to fetch. */
function inlineImage(url: string, field: string): string {
  if (/^https?:\/\//i.test(url)) {
    throw new ValidationError(`${field}: an Ollama backend takes images only as base64 data, not by URL (${url.slice(0, 80)}); send a data: URL (data:image/png;base64,...)`, field);
  }
  return url.replace(/^data:[^,]*;base64,/, '');
}

/**
 * Tool call id → the name of the function it called, read once (a lookup per tool message made a conversation of
 * thousands of calls cost seconds): the last call of an id wins, as Ollama looks it up.
 */
function calledFunctions(messages: Message[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const m of messages) {
    if (!Array.isArray(m.tool_calls)) continue;
    for (const call of m.tool_calls) {
      const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
      if (typeof call?.id === 'string' && typeof fn?.name === 'string') names.set(call.id, fn.name);
    }
  }
  return names;
}

/**
 * Ollama messages → OpenAI messages. Tool calls keep their ids, or get `call_<n>`; a tool message names its call by
 * `tool_call_id` (Ollama 0.12.10 and later), else by `tool_name`: each answers the earliest call of that name not yet
 * answered, so parallel calls of one function get their own results, as OpenAI-compatible servers require (every
 * call's id answered once). Without either it answers the earliest call still unanswered.
 */
export function ollamaToOpenAiMessages(messages: unknown[]): Message[] {
  let calls = 0;
  // Calls not yet answered, oldest first.
  let open: { id: string; name: unknown }[] = [];
  // The ids tool messages name, so that a result named only by its function does not take a call another result names.
  const named = new Set(messages.filter(isRecord).flatMap((m) => (m.role === 'tool' && typeof m.tool_call_id === 'string' && m.tool_call_id !== '' ? [m.tool_call_id] : [])));
  const answer = (pick: (c: { id: string; name: unknown }) => boolean): string | undefined => {
    const at = open.findIndex(pick);
    if (at < 0) return undefined;
    return open.splice(at, 1)[0]!.id;
  };
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
      // A new assistant turn: what the last one left unanswered stays so.
      open = [];
      out.tool_calls = m.tool_calls.filter(isRecord).map((call) => {
        const fn = isRecord(call.function) ? call.function : {};
        const id = typeof call.id === 'string' && call.id !== '' ? call.id : `call_${calls++}`;
        open.push({ id, name: fn.name });
        return { id, type: 'function', function: { name: fn.name, arguments: JSON.stringify(fn.arguments ?? {}) } };
      });
    }
    if (typeof m.thinking === 'string' && m.thinking !== '') out.reasoning = m.thinking;
    if (out.role === 'tool') {
      let id: string | undefined;
      if (typeof m.tool_call_id === 'string' && m.tool_call_id !== '') id = answer((c) => c.id === m.tool_call_id) ?? m.tool_call_id;
      else if (typeof m.tool_name === 'string') id = answer((c) => c.name === m.tool_name && !named.has(c.id)) ?? answer((c) => c.name === m.tool_name);
      id ??= answer((c) => !named.has(c.id)) ?? answer(() => true);
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
