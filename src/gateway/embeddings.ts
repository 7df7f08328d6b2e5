/**
 * Embeddings answers. OpenAI (platform.openai.com/docs/api-reference/embeddings): {object:"list", data:[{object:
 * "embedding", index, embedding}], model, usage:{prompt_tokens, total_tokens}}, each embedding a list of floats or, with
 * encoding_format "base64", the base64 of its little-endian float32 bytes (what the official client asks for by
 * default). Ollama /api/embed: {model, embeddings, total_duration, load_duration, prompt_eval_count}; the older
 * /api/embeddings: {embedding} (api/types.go EmbeddingResponse).
 */
import type { ChatDelta, ChatEnd } from '../tasks/chat.js';
import type { Presenter } from './presenter.js';

const NS_PER_MS = 1_000_000;

abstract class EmbeddingsAnswer implements Presenter {
  readonly contentType: string = 'application/json';
  protected vectors: number[][] = [];

  constructor(protected readonly model: string) {}

  delta(d: ChatDelta): string {
    if (d.embeddings) this.vectors = d.embeddings;
    return '';
  }

  abstract finish(end: ChatEnd): string;

  streamError(): string {
    return '';
  }
}

export class OpenAiEmbeddings extends EmbeddingsAnswer {
  constructor(model: string, private readonly base64: boolean) {
    super(model);
  }

  finish(end: ChatEnd): string {
    const tokens = end.usage.promptTokens ?? 0;
    const data = this.vectors.map((v, index) => ({ object: 'embedding', index, embedding: this.base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v }));
    return JSON.stringify({ object: 'list', data, model: this.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }
}

export class OllamaEmbeddings extends EmbeddingsAnswer {
  override readonly contentType = 'application/json; charset=utf-8';
  private readonly started: number;

  /** now: the clock (ms) total_duration is measured by when the server gives none. */
  constructor(model: string, private readonly now: () => number) {
    super(model);
    this.started = now();
  }

  finish(end: ChatEnd): string {
    const d = end.durations ?? {};
    return JSON.stringify({
      model: this.model,
      embeddings: this.vectors,
      total_duration: d.total_duration ?? (this.now() - this.started) * NS_PER_MS,
      load_duration: d.load_duration ?? 0,
      prompt_eval_count: end.usage.promptTokens ?? 0,
    });
  }
}

/**
 * Ollama's older /api/embeddings answer: the one vector, {"embedding": [...]}. It is asked for as /api/embed asks it,
 * so an Ollama backend's vector comes back normalized, as /api/embed gives it (Ollama's own /api/embeddings does not).
 */
export class OllamaLegacyEmbedding extends EmbeddingsAnswer {
  override readonly contentType = 'application/json; charset=utf-8';

  constructor() {
    super('');
  }

  finish(): string {
    return JSON.stringify({ embedding: this.vectors[0] ?? [] });
  }
}
