/**
 * What the gateway has seen each model do (in memory, since this coordinator started): whether it answered
 * generation or embeddings requests, how many it is answering now, and when it last finished one. /api/ps and
 * /api/show report it for models whose backend cannot be asked (OpenAI-compatible servers, koubou-nodes' workers).
 */
import type { ChatEndpoint } from '../tasks/chat.js';

interface Use {
  generated: boolean;
  embedded: boolean;
  active: number;
  /** ms since the epoch the last request ended; null while none has. */
  lastEnded: number | null;
}

export class ModelUse {
  private readonly byModel = new Map<string, Use>();

  /** now: the clock (ms since the epoch). */
  constructor(private readonly now: () => number) {}

  /** A request for `model` has started; call the returned function once it has ended (answered, failed or gone). */
  begin(model: string, endpoint: ChatEndpoint): () => void {
    const use = this.byModel.get(model) ?? { generated: false, embedded: false, active: 0, lastEnded: null };
    this.byModel.set(model, use);
    if (endpoint === 'embeddings') use.embedded = true;
    else use.generated = true;
    use.active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      use.active--;
      use.lastEnded = this.now();
    };
  }

  /** What `model` has been asked to do: embeddings only, generation (or both), or nothing yet. */
  kinds(model: string): { generated: boolean; embedded: boolean } {
    const use = this.byModel.get(model);
    return { generated: use?.generated ?? false, embedded: use?.embedded ?? false };
  }

  /** Models answering a request now, or that finished one less than `withinMs` ago, with when their last one ended. */
  recent(withinMs: number): { model: string; lastEnded: number }[] {
    const now = this.now();
    const out: { model: string; lastEnded: number }[] = [];
    for (const [model, use] of this.byModel) {
      if (use.active > 0) out.push({ model, lastEnded: now });
      else if (use.lastEnded !== null && now - use.lastEnded < withinMs) out.push({ model, lastEnded: use.lastEnded });
    }
    return out;
  }
}
