import type { Dispatcher } from 'undici';
import { BackendProtocolError } from '../errors.js';
import { parseBaseUrl } from './base-url.js';
import { closePool, createBackendPool, fetchModelNames, readJsonBody, sendBackendRequest } from './http-client.js';
import { toBackendError } from './http-errors.js';
import { errorPayloadText, isRecord, optionalNumber, parseBackendJson } from './json.js';
import { readLines } from './lines.js';
import { readSseEvents } from './sse.js';
import type { Backend, BackendSettings, GenerateRequest, GenerateResult } from './types.js';

/** What a chat completion (streamed or not) boils down to. */
interface Completion {
  output: string;
  model: string | undefined;
  usage: Record<string, unknown> | undefined;
}

/** A Backend speaking the OpenAI chat completions API (LM Studio, vLLM, llama.cpp server…). */
export function createOpenAiBackend(settings: BackendSettings): Backend {
  const { origin, basePath } = parseBaseUrl(settings.url, settings.name);
  // The configured URL may or may not already end in /v1.
  const apiBase = basePath.endsWith('/v1') ? basePath : `${basePath}/v1`;
  const label = `openai backend "${settings.name}" (${origin}${apiBase})`;
  const stream = settings.stream ?? true;
  const headers: Record<string, string> | undefined = settings.api_key
    ? { authorization: `Bearer ${settings.api_key}` }
    : undefined;
  const completionsPath = `${apiBase}/chat/completions`;
  const pool = createBackendPool(origin);

  async function generate(req: GenerateRequest): Promise<GenerateResult> {
    const model = req.model ?? settings.model;
    const messages =
      req.system !== undefined && req.system !== ''
        ? [{ role: 'system', content: req.system }, { role: 'user', content: req.prompt }]
        : [{ role: 'user', content: req.prompt }];
    // include_usage asks for a last chunk carrying token counts.
    const limits = req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {};
    const body = stream ? { model, messages, stream, stream_options: { include_usage: true }, ...limits } : { model, messages, stream, ...limits };
    try {
      const res = await sendBackendRequest(
        pool,
        { method: 'POST', path: completionsPath, body, headers, signal: req.signal },
        label,
      );
      const completion = stream
        ? await readStreamedCompletion(res, label, req.onChunk)
        : await readSingleCompletion(res.body, label);
      return {
        output: completion.output,
        model: completion.model ?? model,
        promptTokens: optionalNumber(completion.usage?.prompt_tokens),
        completionTokens: optionalNumber(completion.usage?.completion_tokens),
      };
    } catch (err) {
      throw toBackendError(err, req.signal, label);
    }
  }

  /** /v1/models answers {"object": "list", "data": [{"id": "…", "object": "model", …}]}. */
  const listModels = (signal?: AbortSignal) =>
    fetchModelNames(pool, `${apiBase}/models`, headers, signal, (listing) =>
      isRecord(listing) && Array.isArray(listing.data)
        ? listing.data.flatMap((m) => (isRecord(m) && typeof m.id === 'string' ? [m.id] : []))
        : [],
    );

  return {
    name: settings.name,
    type: 'openai',
    model: settings.model,
    generate,
    probe: async (signal) => (await listModels(signal)) !== null,
    listModels,
    close: () => closePool(pool),
  };
}

/** Reads chat.completion.chunk events until `data: [DONE]`, passing each content delta to onChunk. */
async function readStreamedCompletion(
  res: Dispatcher.ResponseData,
  label: string,
  onChunk: ((text: string) => void) | undefined,
): Promise<Completion> {
  const pieces: string[] = [];
  let model: string | undefined;
  let usage: Record<string, unknown> | undefined;
  let finishReason: string | undefined;
  let sawDone = false;
  let eventCount = 0;
  for await (const event of readSseEvents(readLines(res.body))) {
    // Read on past [DONE] to the end of the body so the connection can be reused.
    if (sawDone) continue;
    eventCount++;
    if (event.data === '[DONE]') {
      sawDone = true;
      continue;
    }
    const chunk = parseBackendJson(event.data, `SSE event ${eventCount}`, label);
    if (!isRecord(chunk)) throw new BackendProtocolError(`${label}: SSE event ${eventCount} is not a JSON object`);
    // Servers that fail mid-stream send {"error": {...}} as an event.
    if (chunk.error !== undefined && chunk.error !== null) {
      throw new BackendProtocolError(`${label}: server reported an error: ${errorPayloadText(chunk.error)}`);
    }
    if (typeof chunk.model === 'string' && chunk.model !== '') model = chunk.model;
    if (isRecord(chunk.usage)) usage = chunk.usage;
    if (!Array.isArray(chunk.choices)) {
      throw new BackendProtocolError(`${label}: SSE event ${eventCount} has no "choices" array`);
    }
    const choice: unknown = chunk.choices[0];
    // The usage chunk that include_usage adds has an empty choices array.
    if (choice === undefined) continue;
    if (!isRecord(choice)) throw new BackendProtocolError(`${label}: SSE event ${eventCount} has a malformed choice`);
    const content = isRecord(choice.delta) ? choice.delta.content : undefined;
    if (typeof content === 'string' && content !== '') {
      pieces.push(content);
      onChunk?.(content);
    }
    if (typeof choice.finish_reason === 'string') finishReason = choice.finish_reason;
  }
  if (!sawDone && finishReason === undefined) {
    const contentType = String(res.headers['content-type'] ?? 'none');
    throw new BackendProtocolError(
      eventCount === 0
        ? `${label}: response is not an SSE stream (no data events; content-type ${contentType})`
        : `${label}: SSE stream ended without a finish_reason or [DONE] (${eventCount} events received)`,
    );
  }
  return { output: pieces.join(''), model, usage };
}

/** Reads the chat.completion object a `stream: false` request answers with. */
async function readSingleCompletion(body: Dispatcher.ResponseData['body'], label: string): Promise<Completion> {
  const value = await readJsonBody(body, 'response body', label);
  if (!isRecord(value)) throw new BackendProtocolError(`${label}: response body is not a JSON object`);
  if (value.error !== undefined && value.error !== null) {
    throw new BackendProtocolError(`${label}: server reported an error: ${errorPayloadText(value.error)}`);
  }
  const choice: unknown = Array.isArray(value.choices) ? value.choices[0] : undefined;
  const content = isRecord(choice) && isRecord(choice.message) ? choice.message.content : undefined;
  if (typeof content !== 'string') {
    throw new BackendProtocolError(`${label}: response body has no string "choices[0].message.content"`);
  }
  return {
    output: content,
    model: typeof value.model === 'string' && value.model !== '' ? value.model : undefined,
    usage: isRecord(value.usage) ? value.usage : undefined,
  };
}
