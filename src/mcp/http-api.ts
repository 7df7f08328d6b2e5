/**
 * The MCP tools' API over a running coordinator's REST API (`koubou mcp` when one is running), through the CLI's REST
 * client (timeouts, a submit retried under one Idempotency-Key). Streamed output comes from the task's event stream,
 * so progress notifications arrive as output streams in, as with an embedded coordinator.
 */
import { readLines } from '../backends/lines.js';
import { readSseEvents } from '../backends/sse.js';
import { KoubouClient } from '../client/client.js';
import { ApiError, Unreachable } from '../client/errors.js';
import { delegateBody, type KoubouApi, type TaskView } from './api.js';

/** An error answer from the coordinator (or none at all), keeping its stable code for the tool's error text. */
class RemoteError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** No connection could be made, or it broke before the answer: the coordinator may have gone. */
    readonly connectionLost = false,
  ) {
    super(message);
  }
}

/** True for an error of this API that says the coordinator could not be reached (refused, reset), not that it refused. */
export function isConnectionLost(err: unknown): boolean {
  return err instanceof RemoteError && err.connectionLost;
}

/** The REST API allows waits up to 60 s per request. */
const MAX_WAIT_S = 60;
/** How long /health may take to count as an answer when looking for a coordinator. */
const PROBE_MS = 1000;

/** Runs a client call, its errors as RemoteErrors: the API's code, or `unreachable` when no answer came. */
async function remote<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError) throw new RemoteError(err.code, err.apiMessage);
    throw new RemoteError('unreachable', (err as Error).message, err instanceof Unreachable);
  }
}

export function httpApi(baseUrl: string, token: string | null): KoubouApi {
  const client = new KoubouClient({ url: baseUrl, token });
  // The CLI reads the same JSON with its own (narrower) types; these views are what the server sent.
  const view = (call: Promise<TaskView>) => remote(call);
  return {
    async delegate(args) {
      const { task_id } = await remote(client.delegate(delegateBody(args)));
      return view(client.status(task_id));
    },
    getTask: (taskId, waitSeconds) => view(client.status(taskId, Math.min(MAX_WAIT_S, waitSeconds))),
    async cancel(taskId) {
      await remote(client.cancel(taskId));
      return view(client.status(taskId));
    },
    async list(status, limit) {
      return (await remote(client.tasks({ ...(status ? { status } : {}), limit }))).tasks;
    },
    async poolStatus() {
      const [health, workers] = await Promise.all([remote(client.health()), remote(client.workers())]);
      return { health, workers: workers.workers };
    },
    onOutput(taskId, listener) {
      const stream = new AbortController();
      followOutput(client, taskId, stream.signal, listener).catch(() => {
        // Aborted, or the stream broke: progress stops there, while the status polling goes on.
      });
      return () => stream.abort();
    },
  };
}

/**
 * Hands the task's output to `listener` until aborted, from the task's event stream: first the output streamed before
 * we asked (the `snapshot`), then each progress chunk, with nothing lost or repeated in between.
 */
async function followOutput(client: KoubouClient, taskId: string, signal: AbortSignal, listener: (chunk: string) => void): Promise<void> {
  const body = await client.taskStream(taskId, signal);
  if (!body) return;
  for await (const event of readSseEvents(readLines(body))) {
    const data = JSON.parse(event.data) as { output?: { text?: unknown } | null; kind?: string; chunk?: unknown };
    const text = event.event === 'snapshot' ? data.output?.text : event.event === 'task' && data.kind === 'progress' ? data.chunk : null;
    if (typeof text === 'string' && text !== '') listener(text);
  }
}

/** True when a coordinator answers /health at baseUrl within a second. */
export function isReachable(baseUrl: string): Promise<boolean> {
  return new KoubouClient({ url: baseUrl, token: null }).isReachable(PROBE_MS);
}
