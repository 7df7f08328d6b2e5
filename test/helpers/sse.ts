/** A minimal Server-Sent Events reader over fetch, for tests. */
export interface SseMessage {
  event: string;
  data: any;
  receivedAt: number;
}

export interface SseClient {
  messages: SseMessage[];
  status: number;
  close(): void;
}

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const client: SseClient = { messages: [], status: res.status, close: () => controller.abort() };
  if (!res.ok || !res.body) return client;
  const decoder = new TextDecoder();
  let buffer = '';
  (async () => {
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
          }
          if (data.length) client.messages.push({ event, data: JSON.parse(data.join('\n')), receivedAt: Date.now() });
        }
      }
    } catch {
      // closed by the test
    }
  })();
  return client;
}
