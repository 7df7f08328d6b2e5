/** A WebSocket client for tests that keeps every message it receives (parsed JSON). */

export interface TestSocket {
  messages: any[];
  /** Sends a value as JSON; a string is sent as it is (to send bytes a client would type). */
  send(message: unknown): void;
  close(): void;
  /** Resolves with the close code once the socket has closed. */
  closed: Promise<number>;
}

/** Node 22+ has a global WebSocket; on 20 the `ws` package (a dependency of the server side) stands in. */
export async function connectWebSocket(url: string): Promise<TestSocket> {
  const Impl: any = (globalThis as any).WebSocket ?? (await import('ws' as string)).WebSocket;
  const ws = new Impl(url);
  const messages: any[] = [];
  ws.addEventListener('message', (e: { data: unknown }) => messages.push(JSON.parse(String(e.data))));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('WebSocket failed to open')));
  });
  const closed = new Promise<number>((resolve) => ws.addEventListener('close', (e: { code: number }) => resolve(e.code)));
  return { messages, send: (m) => ws.send(typeof m === 'string' ? m : JSON.stringify(m)), close: () => ws.close(), closed };
}
