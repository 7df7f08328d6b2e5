/** One relayed answer: each piece goes to the client as a ChatDelta and into the task's record, under the size cap. */
import { AnswerBuilder, DEFAULT_MAX_OUTPUT_BYTES, normaliseFinishReason } from '../answer.js';
import { AnswerAborted } from '../answer-errors.js';
import type { GenerateResult } from '../types.js';
import type { Dispatcher } from 'undici';
import { callModel, type ChatDelta, type ChatRequest, type ToolCallDelta } from '../../tasks/chat.js';
import { sendBackendRequest, type BackendRequest } from '../http-client.js';
import { toBackendError } from '../http-errors.js';

export class ChatRelay {
  readonly answer: AnswerBuilder;
  /** An Ollama /api/generate answer's context, passed on with the end. */
  context: number[] | undefined;
  /** The server's system_fingerprint (OpenAI-compatible), passed on with the next piece and the end. */
  systemFingerprint: string | undefined;
  private fingerprintSent = false;
  private ended = false;

  constructor(private readonly req: ChatRequest, private readonly label: string, model: string) {
    this.answer = new AnswerBuilder({ maxBytes: req.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES, keepReasoning: false, label, model });
  }

  /**
   * A piece of one server message, with its log probabilities and the model's refusal if the server sent them; throws
   * OutputTooLarge past the cap (nothing of the piece is relayed then). A refusal is the task's output, as text is.
   */
  piece(content: string | undefined, reasoning: string | undefined, toolCalls: ToolCallDelta[] | undefined, logprobs?: Record<string, unknown>, refusal?: string): void {
    const delta: ChatDelta = {};
    if (reasoning) {
      this.answer.addReasoning(reasoning);
      delta.reasoning = reasoning;
    }
    if (content) {
      this.answer.addContent(content);
      delta.content = content;
    }
    if (refusal) {
      this.answer.addContent(refusal);
      delta.refusal = refusal;
    }
    if (toolCalls && toolCalls.length > 0) {
      for (const call of toolCalls) this.answer.addOther((call.name ?? '') + (call.arguments ?? ''));
      delta.toolCalls = toolCalls;
    }
    if (logprobs) delta.logprobs = logprobs;
    if (delta.content === undefined && delta.refusal === undefined && delta.reasoning === undefined && delta.toolCalls === undefined && delta.logprobs === undefined) return;
    if (this.systemFingerprint !== undefined && !this.fingerprintSent) {
      delta.systemFingerprint = this.systemFingerprint;
      this.fingerprintSent = true;
    }
    this.req.onDelta(delta);
  }

  /** An embeddings answer, whole (its body was read under the cap: see readJsonBody). */
  embeddings(vectors: number[][]): void {
    this.req.onDelta({ embeddings: vectors });
  }

  /**
   * The last delta: finish reason, model, usage (and Ollama's timings). Once. Throws AnswerAborted (retried) instead
   * when the server gave the answer up (vLLM's finish reason "abort", "error"): its fragment is no answer, so the
   * client never hears it ended, and gets the retry's answer or, once part of it went out, the protocol's error.
   */
  end(durations?: Record<string, number>): void {
    if (this.ended) return;
    this.ended = true;
    const a = this.answer;
    if (normaliseFinishReason(a.rawFinishReason) === 'error') {
      const relayed = a.relayed();
      throw new AnswerAborted(`${this.label}: the server ended the answer with finish_reason ${JSON.stringify(a.rawFinishReason)} after ${relayed.output.length} characters`, relayed);
    }
    this.req.onDelta({
      end: {
        finishReason: a.rawFinishReason ?? 'stop',
        model: a.model ?? '',
        usage: { promptTokens: a.usage.promptTokens, completionTokens: a.usage.completionTokens, reasoningTokens: a.usage.reasoningTokens, cachedTokens: a.usage.cachedTokens ?? null },
        ...(durations && Object.keys(durations).length > 0 ? { durations } : {}),
        ...(this.context ? { context: this.context } : {}),
        ...(this.systemFingerprint !== undefined ? { systemFingerprint: this.systemFingerprint } : {}),
      },
    });
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  result(): GenerateResult {
    return this.answer.relayed();
  }
}

/**
 * Sends a gateway call to the backend and relays its answer with `read` (the protocol's stream or embeddings
 * reader); resolves with the relayed result. Transport and protocol failures come out as the backend errors the
 * worker judges (toBackendError), the abort of `req.signal` as its reason.
 */
export async function relayCall(
  pool: Dispatcher,
  request: BackendRequest,
  req: ChatRequest,
  label: string,
  read: (res: Dispatcher.ResponseData, label: string, relay: ChatRelay) => Promise<void>,
): Promise<GenerateResult> {
  const relay = new ChatRelay(req, label, callModel(req.call));
  let unbind = () => {};
  try {
    const res = await sendBackendRequest(pool, request, label);
    // Not read while the task's reader holds its valve: the server waits on TCP, not on this process's memory.
    if (req.flow) unbind = req.flow.bind({ pause: () => res.body.pause(), resume: () => res.body.resume() });
    await read(res, label, relay);
    return relay.result();
  } catch (err) {
    throw toBackendError(err, req.signal, label);
  } finally {
    unbind();
  }
}
