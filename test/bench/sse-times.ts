/** Watches GET /events and notes, per task, when each event kind was first seen (performance.now(), sub-ms). */
export interface EventTimes {
  /** taskId → kind → first receipt time. */
  readonly first: Map<string, Map<string, number>>;
  /** Resolves once the coordinator has subscribed this stream (its `ready` event). */
  readonly ready: Promise<void>;
  close(): void;
}

export async function watchEventTimes(url: string): Promise<EventTimes> {
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  if (!res.ok || !res.body) throw new Error(`GET ${url} answered ${res.status}`);
  const first = new Map<string, Map<string, number>>();
  let onReady!: () => void;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = performance.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: ?(.*)$/m.exec(block)?.[1];
          const data = /^data: ?(.*)$/m.exec(block)?.[1];
          if (event === 'ready') onReady();
          if (event !== 'task' || !data) continue;
          const e = JSON.parse(data) as { task_id: string; kind: string };
          let kinds = first.get(e.task_id);
          if (!kinds) first.set(e.task_id, (kinds = new Map()));
          if (!kinds.has(e.kind)) kinds.set(e.kind, at);
        }
      }
    } catch {
      // closed
    }
  })();
  return { first, ready, close: () => controller.abort() };
}
