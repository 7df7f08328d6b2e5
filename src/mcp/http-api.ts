/**
 * The MCP tools' API over a running coordinator's REST API (`koubou mcp` when one is running); streamed output comes
 * from the task's event stream, so progress notifications arrive as output streams in, as with an embedded coordinator.
 */
import { readLines } from '../backends/lines.js';
import { readSseEvents } from '../backends/sse.js';
import { delegateBody, type KoubouApi, type TaskView } from './api.js';

/** An error answer from the coordinator, keeping its stable code. */
export class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The REST API allows waits up to 60 s per request. */
const MAX_WAIT_S = 60;

export function httpApi(baseUrl: string, token: string | null): KoubouApi {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...auth };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(baseUrl + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    } catch (err) {
      throw new RemoteError('unreachable', `cannot reach koubou at ${baseUrl}: ${(err as Error).message}`);
    }
    const parsed = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
    if (!res.ok) throw new RemoteError(parsed?.error?.code ?? `http_${res.status}`, parsed?.error?.message ?? `HTTP ${res.status}`);
    return parsed as T;
  }
  const id = (taskId: string) => encodeURIComponent(taskId);
  return {
    async delegate(args) {
      const { task_id } = await call<{ task_id: string }>('POST', '/task/delegate', delegateBody(args));
      return call<TaskView>('GET', `/task/${id(task_id)}/status`);
    },
    getTask: (taskId, waitSeconds) => call<TaskView>('GET', `/task/${id(taskId)}/status?wait=${Math.min(MAX_WAIT_S, waitSeconds)}`),
    async cancel(taskId) {
      await call('DELETE', `/task/${id(taskId)}`);
      return call<TaskView>('GET', `/task/${id(taskId)}/status`);
    },
    async list(status, limit) {
      const query = new URLSearchParams({ limit: String(limit), ...(status ? { status } : {}) });
      return (await call<{ tasks: TaskView[] }>('GET', `/tasks?${query}`)).tasks;
    },
    async poolStatus() {
      const [health, workers] = await Promise.all([call('GET', '/health'), call<{ workers: unknown[] }>('GET', '/workers')]);
      return { health, workers: workers.workers };
    },
    onOutput(taskId, listener) {
      const stream = new AbortController();
      followOutput(`${baseUrl}/api/dashboard/tasks/${id(taskId)}/stream`, auth, stream.signal, listener).catch(() => {
        // Aborted, or the stream broke: progress stops there, while the status polling goes on.
      });
      return () => stream.abort();
    },
  };
}

/**
 * Hands the task's output to `listener` until aborted, from the task's event stream (Server-Sent Events, see
 * http/task-stream-route.ts): first the output streamed before we asked (the `snapshot`), then each progress chunk,
 * with nothing lost or repeated in between.
 */
async function followOutput(url: string, headers: Record<string, string>, signal: AbortSignal, listener: (chunk: string) => void): Promise<void> {
  const res = await fetch(url, { headers: { ...headers, accept: 'text/event-stream' }, signal });
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    return;
  }
  for await (const event of readSseEvents(readLines(res.body))) {
    const data = JSON.parse(event.data) as { output?: { text?: unknown } | null; kind?: string; chunk?: unknown };
    const text = event.event === 'snapshot' ? data.output?.text : event.event === 'task' && data.kind === 'progress' ? data.chunk : null;
    if (typeof text === 'string' && text !== '') listener(text);
  }
}

/** True when a coordinator answers /health at baseUrl within a second. */
export async function isReachable(baseUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}
