
/** Base of every error Koubou raises on purpose: a stable code, an HTTP status and whether a retry may help. */
export abstract class KoubouError extends Error {
  abstract readonly code: string;
  /** HTTP status the API answers with when this error reaches a client. */
  readonly status: number = 500;
  /** True when trying the same thing again later may succeed (network, 5xx, timeouts). */
  readonly retryable: boolean = false;
  /**
   * True when the server is busy, rate-limited or not reachable yet: not the task's fault. The task waits and tries
   * again without spending an attempt, and the backend is sent less (see src/supervision/backend-gate.ts).
   */
  readonly backpressure: boolean = false;
  /** How long the server asked us to wait (its Retry-After), in ms; null when it did not say. */
  readonly retryAfterMs: number | null = null;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Client input that does not satisfy the API contract. `field` names the offending key. */
export class ValidationError extends KoubouError {
  readonly code = 'invalid_request';
  override readonly status = 400;
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

export class InvalidJson extends KoubouError {
  readonly code = 'invalid_json';
  override readonly status = 400;
}

export class PayloadTooLarge extends KoubouError {
  readonly code = 'payload_too_large';
  override readonly status = 413;
}

export class Unauthorized extends KoubouError {
  readonly code = 'unauthorized';
  override readonly status = 401;
}

/** A koubou-node spoke for a session or a run that was issued to another node. */
export class NotThisNode extends KoubouError {
  readonly code = 'not_this_node';
  override readonly status = 403;
}

/** A koubou-node joining under the id of another node process that is live: two nodes must not share an id. */
export class NodeIdInUse extends KoubouError {
  readonly code = 'node_id_in_use';
  override readonly status = 409;
}

/** A `Host` header naming none of this server's names: DNS rebinding, or a name missing from `server.allowed_hosts`. */
export class HostNotAllowed extends KoubouError {
  readonly code = 'host_not_allowed';
  override readonly status = 403;
}

/** A request HTTP itself lets through that no route can read: a Host that is no host name, a backslash in the path. */
export class MalformedRequest extends KoubouError {
  readonly code = 'malformed_request';
  override readonly status = 400;
}

/** A request from a web page of another origin that `server.allowed_origins` does not list. */
export class OriginNotAllowed extends KoubouError {
  readonly code = 'origin_not_allowed';
  override readonly status = 403;
}

/** A request body that is not sent as `application/json`. */
export class UnsupportedMediaType extends KoubouError {
  readonly code = 'unsupported_media_type';
  override readonly status = 415;
}

export class TaskNotFound extends KoubouError {
  readonly code = 'task_not_found';
  override readonly status = 404;
  constructor(readonly taskId: string) {
    super(`no task with id ${JSON.stringify(taskId)}`);
  }
}

/** Cancelling a task that has already completed or failed. */
export class TaskAlreadyFinished extends KoubouError {
  readonly code = 'task_already_finished';
  override readonly status = 409;
  constructor(readonly taskId: string, readonly taskStatus: string) {
    super(`task ${taskId} has already ${taskStatus === 'completed' ? 'completed' : 'failed'}; there is nothing to cancel`);
  }
}

/** Retrying a task that has not failed or been cancelled. */
export class TaskNotRetryable extends KoubouError {
  readonly code = 'task_not_retryable';
  override readonly status = 409;
  constructor(readonly taskId: string, readonly taskStatus: string) {
    super(`task ${taskId} is ${taskStatus}; only a failed or cancelled task can be retried`);
  }
}

/** Changing something only a waiting task may change. */
export class TaskNotPending extends KoubouError {
  readonly code = 'task_not_pending';
  override readonly status = 409;
  constructor(readonly taskId: string, readonly taskStatus: string) {
    super(`task ${taskId} is ${taskStatus}; only a pending task's priority can change`);
  }
}

export class RouteNotFound extends KoubouError {
  readonly code = 'not_found';
  override readonly status = 404;
}

/** The path exists, but not for this method; `allow` lists the methods it takes (sent as the Allow header). */
export class MethodNotAllowed extends KoubouError {
  readonly code = 'method_not_allowed';
  override readonly status = 405;
  constructor(readonly method: string, readonly path: string, readonly allow: readonly string[]) {
    super(`${path} does not take ${method}; it takes ${allow.join(', ')}`);
  }
}

/** An idempotency key already names a task created by a different submission (see tasks/fingerprint.ts). */
export class IdempotencyKeyReused extends KoubouError {
  readonly code = 'idempotency_key_reused';
  override readonly status = 422;
  constructor(readonly key: string) {
    super(`the idempotency key ${JSON.stringify(key)} was used within the last 24 h for a different submission (another prompt, type, priority, files or options); send a new key for a new task`);
  }
}

/** Admission control: the queue is full, the client should back off. */
export class QueueFull extends KoubouError {
  readonly code = 'queue_full';
  override readonly status = 503;
  override readonly retryable = true;
}

/** The system is shutting down and takes no new work. */
export class ShuttingDown extends KoubouError {
  readonly code = 'shutting_down';
  override readonly status = 503;
  override readonly retryable = true;
}

/**
 * The backend could not be reached (connection refused, DNS, reset). Before any response that is backpressure (the
 * server is restarting or not up yet); a connection lost in the middle of an answer is a failure of the attempt.
 */
export class BackendUnavailable extends KoubouError {
  readonly code = 'backend_unavailable';
  override readonly status = 502;
  override readonly retryable = true;
  override readonly backpressure: boolean;
  constructor(message: string, options?: { cause?: unknown; beforeResponse?: boolean }) {
    super(message, options);
    this.backpressure = options?.beforeResponse === true;
  }
}

/**
 * The backend said it cannot take the request now: HTTP 503 (Ollama's "server busy" when its queue is full, a model
 * still loading) or 429 (rate limited), optionally with Retry-After. Backpressure, never the task's fault.
 */
export class BackendBusy extends KoubouError {
  readonly code = 'backend_busy';
  override readonly status = 503;
  override readonly retryable = true;
  override readonly backpressure = true;
  override readonly retryAfterMs: number | null;
  constructor(message: string, readonly httpStatus: number, retryAfterMs: number | null) {
    super(message);
    this.retryAfterMs = retryAfterMs;
  }
}

/** The backend answered with an HTTP error (503 and 429 are BackendBusy). 5xx and 408 are retryable; other 4xx are permanent. */
export class BackendHttpError extends KoubouError {
  readonly code = 'backend_http_error';
  override readonly status = 502;
  override readonly retryable: boolean;
  constructor(message: string, readonly httpStatus: number, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = httpStatus >= 500 || httpStatus === 429 || httpStatus === 408;
  }
}

/** The backend answered, but not in the shape its protocol promises. */
export class BackendProtocolError extends KoubouError {
  readonly code = 'backend_protocol_error';
  override readonly status = 502;
  override readonly retryable = true;
}

/**
 * The server reported an error inside a 200 answer (an `error` object in the stream or body, llama.cpp's `error:`
 * SSE field). Permanent when the error says it is the request's fault (a 4xx code other than 408/429), else
 * retryable. `serverCode` is the numeric code the server gave, if any.
 */
export class BackendReportedError extends KoubouError {
  readonly code = 'backend_error';
  override readonly status = 502;
  override readonly retryable: boolean;
  constructor(message: string, readonly serverCode?: number) {
    super(message);
    this.retryable = serverCode === undefined || serverCode < 400 || serverCode >= 500 || serverCode === 408 || serverCode === 429;
  }
}

/** A task ran past its time limit; the backend call was aborted. */
export class TaskTimeout extends KoubouError {
  readonly code = 'timeout';
  override readonly status = 504;
  override readonly retryable = true;
}

/** The work was cancelled on purpose (client cancel, shutdown). */
export class Aborted extends KoubouError {
  readonly code = 'aborted';
  override readonly status = 409;
}

/** The configuration file or an override is wrong; `key` names the offending setting, `file` the file that set it. */
export class ConfigError extends KoubouError {
  readonly code = 'config_error';
  constructor(
    /** What is wrong, without the key and file. */
    readonly reason: string,
    readonly key?: string,
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${key ? `${key}: ` : ''}${reason}`);
  }
}

/** The store failed (disk full, corrupt file). */
export class StoreError extends KoubouError {
  readonly code = 'store_error';
  override readonly status = 503;
  override readonly retryable = true;
}

/** Another live process holds the store's lock; `holderUrl` is where that coordinator answers, once it has said so. */
export class StoreInUse extends KoubouError {
  readonly code = 'store_in_use';
  override readonly status = 409;
  constructor(
    readonly storePath: string,
    readonly holderPid: number | null,
    readonly holderUrl: string | null,
  ) {
    const who = holderUrl ? `koubou at ${holderUrl}` : holderPid ? `koubou pid ${holderPid}, still starting` : 'another process';
    super(`store in use (${who}): ${storePath}`);
  }
}

/**
 * An agent CLI exited non-zero (or could not start). Agent runs have side effects, so it is retried only when the
 * backend says `retry: true`.
 */
export class CommandFailed extends KoubouError {
  readonly code = 'command_failed';
  override readonly retryable: boolean;
  constructor(message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.retryable = retryable;
  }
}

/** The task's workspace could not be prepared or collected (git worktree, commit, diff). */
export class CommandWorkspaceError extends KoubouError {
  readonly code = 'workspace_error';
}

/** What kind of failure an error is: the task's own (permanent or retryable) or the server's backpressure. */
export type FailureKind = 'permanent' | 'retryable' | 'backpressure';

export interface DescribedError {
  code: string;
  message: string;
  retryable: boolean;
  kind: FailureKind;
  /** Set for backpressure when the server named a wait (Retry-After). */
  retryAfterMs: number | null;
}

/** Normalises anything thrown into {code, message, retryable, kind, retryAfterMs} for logs, results and events. */
export function describeError(err: unknown): DescribedError {
  if (err instanceof KoubouError) {
    const kind: FailureKind = err.backpressure ? 'backpressure' : err.retryable ? 'retryable' : 'permanent';
    return { code: err.code, message: err.message, retryable: err.retryable, kind, retryAfterMs: err.retryAfterMs };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'internal_error', message, retryable: false, kind: 'permanent', retryAfterMs: null };
}
