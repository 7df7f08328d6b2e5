/**
 * The one HTTP client of the coordinator's REST API, for the CLI and for `koubou mcp` forwarding to a running
 * coordinator: JSON in and out, every call under a timeout, errors turned into CliErrors (ApiError keeps the API's code).
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DelegateBody, Submitted, TaskEventView, TaskState, TaskStatus, WorkerView } from './api-types.js';
import type { ClientEnv } from './client-env.js';
import { ApiError, CliError, Unreachable } from './errors.js';

/** Time an ordinary call may take; a long-poll gets its wait on top. */
const CALL_TIMEOUT_MS = 30_000;
/** A submit whose connection broke after sending is sent again (same Idempotency-Key) this many times. */
const SUBMIT_RETRIES = 2;
/** Connection errors after which the request may or may not have reached the server. */
const MAYBE_SENT = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export class KoubouClient {
  constructor(private readonly env: ClientEnv) {}

  get url(): string {
    return this.env.url;
  }

  /**
   * Queues a task. One Idempotency-Key per submit (the body's idempotency_key when it has one), so a retried call
   * never creates a second task.
   */
  async delegate(body: DelegateBody): Promise<Submitted> {
    const headers = { 'idempotency-key': body.idempotency_key ?? randomUUID() };
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call<Submitted>('POST', '/task/delegate', { body, headers });
      } catch (err) {
        if (!(err instanceof BrokenConnection) || attempt >= SUBMIT_RETRIES) throw err;
        await sleep(250 * 2 ** attempt);
      }
    }
  }

  /** The task's status; with waitS > 0 the server may hold the answer until the status changes (long-poll). */
  /** With outputFrom, the answer carries the output streamed past that many characters, and waits for it too. */
  status(id: string, waitS = 0, outputFrom?: number): Promise<TaskStatus> {
    const params = new URLSearchParams();
    if (waitS > 0) params.set('wait', String(waitS));
    if (outputFrom !== undefined) params.set('output_from', String(outputFrom));
    const query = params.size > 0 ? `?${params}` : '';
    return this.call<TaskStatus>('GET', `/task/${encodeURIComponent(id)}/status${query}`, { timeoutMs: CALL_TIMEOUT_MS + waitS * 1000 });
  }

  events(id: string): Promise<{ task_id: string; events: TaskEventView[] }> {
    return this.call('GET', `/task/${encodeURIComponent(id)}/events`);
  }

  tasks(filter: { status?: TaskState; limit?: number }): Promise<{ tasks: TaskStatus[]; count: number }> {
    const query = new URLSearchParams();
    if (filter.status) query.set('status', filter.status);
    if (filter.limit !== undefined) query.set('limit', String(filter.limit));
    const qs = query.toString();
    return this.call('GET', `/tasks${qs ? `?${qs}` : ''}`);
  }

  workers(): Promise<{ workers: WorkerView[]; count: number }> {
    return this.call('GET', '/workers');
  }

  health(timeoutMs = CALL_TIMEOUT_MS): Promise<{ status: string }> {
    return this.call('GET', '/health', { timeoutMs });
  }

  cancel(id: string): Promise<Submitted> {
    return this.call('DELETE', `/task/${encodeURIComponent(id)}`);
  }

  /** True when the coordinator answers /health within `timeoutMs`. */
  async isReachable(timeoutMs: number): Promise<boolean> {
    try {
      await this.health(timeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The task's event stream (Server-Sent Events, see http/task-stream-route.ts), open until `signal` aborts; null when
   * the server refuses it. Not under the call timeout: it lasts as long as the task.
   */
  async taskStream(id: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | null> {
    const res = await fetch(`${this.env.url}/api/dashboard/tasks/${encodeURIComponent(id)}/stream`, { headers: this.headers({ accept: 'text/event-stream' }), signal });
    if (res.ok && res.body) return res.body;
    await res.body?.cancel();
    return null;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.env.token ? { ...extra, authorization: `Bearer ${this.env.token}` } : extra;
  }

  private async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
    const headers = this.headers({ accept: 'application/json', ...opts.headers });
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = opts.timeoutMs ?? CALL_TIMEOUT_MS;
    let res: Response;
    let text: string;
    try {
      res = await fetch(this.env.url + path, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (err) {
      throw this.networkError(err as Error, timeoutMs);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new CliError(`unexpected answer from ${this.env.url}${path} (HTTP ${res.status}, not JSON): ${excerpt(text)}`);
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: unknown; message?: unknown; field?: unknown } } | null)?.error;
      if (error && typeof error.code === 'string') {
        const hint = res.status === 401 && !this.env.token ? ' (set KOUBOU_API_TOKEN)' : '';
        throw new ApiError(res.status, error.code, `${String(error.message ?? '')}${hint}`, typeof error.field === 'string' ? error.field : undefined);
      }
      throw new CliError(`HTTP ${res.status} from ${this.env.url}${path}: ${excerpt(text)}`);
    }
    return parsed as T;
  }

  private networkError(err: Error, timeoutMs: number): CliError {
    if (err.name === 'TimeoutError') return new CliError(`koubou at ${this.env.url} did not answer within ${Math.round(timeoutMs / 1000)} s`);
    const cause = err.cause as (Error & { code?: string; errors?: Error[] }) | undefined;
    const code = cause?.code ?? (err as Error & { code?: string }).code;
    const reason = cause?.message || cause?.errors?.[0]?.message || code || err.message;
    if (code !== undefined && MAYBE_SENT.has(code)) return new BrokenConnection(this.env.url, reason);
    return new Unreachable(this.env.url, reason);
  }
}

/** The connection broke mid-call: the request may have been handled, so only idempotent calls are sent again. */
class BrokenConnection extends Unreachable {}

function excerpt(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine || '(empty body)';
}
