import type { Dispatcher } from 'undici';
import { backendLabel } from './error-wording.js';
import { BackendProtocolError } from '../errors.js';
import { parseBaseUrl } from './base-url.js';
import { closePool, createBackendPool, fetchModelNames, readJsonBody, sendBackendRequest } from './http-client.js';
import { toBackendError, withoutSecrets } from './http-errors.js';
import { AnswerBuilder } from './answer.js';
import { isRecord, reportedError } from './json.js';
import { finishReasonOf, readCompletionStream, readFacts } from './openai-stream.js';
import type { Backend, BackendSettings, GenerateRequest, GenerateResult } from './types.js';
import { relayCall } from './chat/relay.js';
import { relayOpenAiEmbeddings, relayOpenAiStream } from './chat/openai-reader.js';
import { toOpenAiRequest } from './chat/to-openai.js';
import type { ChatRequest } from '../tasks/chat.js';

/** A Backend speaking the OpenAI chat completions API (LM Studio, vLLM, llama.cpp server…). */
export function createOpenAiBackend(settings: BackendSettings): Backend {
  const { origin, basePath } = parseBaseUrl(settings.url, settings.name);
  // The configured URL may or may not already end in /v1.
  const apiBase = basePath.endsWith('/v1') ? basePath : `${basePath}/v1`;
  const label = backendLabel('openai', settings.name, `${origin}${apiBase}`);
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
      const answer = AnswerBuilder.forRequest(req, label, model);
      if (stream) await readStreamedCompletion(res, label, answer);
      else await readSingleCompletion(res.body, label, answer);
      return answer.finish();
    } catch (err) {
      throw toBackendError(err, req.signal, label);
    }
  }

  /** A gateway call: passed through or translated (chat/to-openai.ts), the answer relayed piece by piece. */
  async function chat(req: ChatRequest): Promise<GenerateResult> {
    const { path, body } = toOpenAiRequest(req.call);
    const request = { method: 'POST' as const, path: `${apiBase}/${path}`, body, headers, signal: req.signal };
    return relayCall(pool, request, req, label, path === 'embeddings' ? relayOpenAiEmbeddings : relayOpenAiStream);
  }

  /** /v1/models answers {"object": "list", "data": [{"id": "…", "object": "model", …}]}. */
  const listModels = (signal?: AbortSignal) =>
    fetchModelNames(pool, `${apiBase}/models`, headers, signal, (listing) =>
      isRecord(listing) && Array.isArray(listing.data)
        ? listing.data.flatMap((m) => (isRecord(m) && typeof m.id === 'string' ? [m.id] : []))
        : [],
    );

  // Whatever the server says back, its own key is not repeated (see withoutSecrets; HTTP refusals: sendBackendRequest).
  const secrets = settings.api_key ? [settings.api_key] : [];
  const redacted = <T>(call: Promise<T>): Promise<T> => call.catch((err: unknown) => Promise.reject(withoutSecrets(err, secrets)));
  return {
    name: settings.name,
    type: 'openai',
    model: settings.model,
    generate: (req) => redacted(generate(req)),
    chat: (req) => redacted(chat(req)),
    probe: async (signal) => (await listModels(signal)) !== null,
    listModels,
    close: () => closePool(pool),
  };
}

/**
 * Reads chat.completion.chunk events until `data: [DONE]` into the answer: content and reasoning deltas
 * (`delta.reasoning_content`, as vLLM and llama.cpp send it, or `delta.reasoning`), finish_reason, model and usage.
 */
function readStreamedCompletion(res: Dispatcher.ResponseData, label: string, answer: AnswerBuilder): Promise<void> {
  return readCompletionStream(res, label, answer, (choice) => {
    if (isRecord(choice.delta)) readMessage(choice.delta, answer);
  });
}

/** Reads the chat.completion object a `stream: false` request answers with. */
async function readSingleCompletion(body: Dispatcher.ResponseData['body'], label: string, answer: AnswerBuilder): Promise<void> {
  const value = await readJsonBody(body, 'response body', label, answer.bodyLimit);
  if (!isRecord(value)) throw new BackendProtocolError(`${label}: response body is not a JSON object`);
  if (value.error !== undefined && value.error !== null) throw reportedError(value.error, label);
  const choice: unknown = Array.isArray(value.choices) ? value.choices[0] : undefined;
  const message = isRecord(choice) ? choice.message : undefined;
  // Reasoning models may answer `"content": null` when the budget went on reasoning.
  if (!isRecord(message) || (typeof message.content !== 'string' && message.content !== null)) {
    throw new BackendProtocolError(`${label}: response body has no string "choices[0].message.content"`);
  }
  readFacts(value, answer);
  readMessage(message, answer);
  if (isRecord(choice)) answer.rawFinishReason = finishReasonOf(choice) ?? answer.rawFinishReason;
}

/**
 * A delta or message: its content and its reasoning (one of the two names; newer vLLM sends both alike), and the
 * model's refusal, which is its answer as text is (a refusal is not an empty answer to retry).
 */
function readMessage(message: Record<string, unknown>, answer: AnswerBuilder): void {
  const reasoning = typeof message.reasoning === 'string' ? message.reasoning : message.reasoning_content;
  if (typeof reasoning === 'string') answer.addReasoning(reasoning);
  if (typeof message.content === 'string') answer.addContent(message.content);
  if (typeof message.refusal === 'string') answer.addContent(message.refusal);
}
