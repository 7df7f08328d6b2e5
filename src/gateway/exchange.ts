/**
 * One gateway request from body to answer, the same for every endpoint and protocol: read and check the body, read the
 * X-Koubou-* headers, find the model, submit the task, relay the deltas through the endpoint's presenter, and cancel
 * the task when the client goes away. The answer's head waits for the first bytes of the answer, so a request that
 * fails before any (a model the backend refuses, a full queue) still gets an HTTP error status.
 */
import type { Context } from 'hono';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { ServerResponse } from 'node:http';
import type { ChatCall } from '../tasks/chat.js';
import { callModel } from '../tasks/chat.js';
import type { EventBus } from '../events/bus.js';
import { KoubouError, QueueFull, ShuttingDown, ValidationError } from '../errors.js';
import { readJson } from '../http/json-body.js';
import { nodeResponse } from '../http/sse-outlet.js';
import { SECURITY_HEADERS } from '../http/security-headers.js';
import type { Logger } from '../logger.js';
import type { TaskService } from '../delegation/service.js';
import { TASK_TYPES, type TaskType } from '../tasks/task.js';
import { parsePriorityText } from '../tasks/validate.js';
import type { ModelDirectory, ServedModel } from './models.js';
import type { ModelUse } from './model-use.js';
import type { Presenter } from './presenter.js';
import { modelNotFound, shownModel } from './refusal.js';
import { startChatSession, type ChatSession, type RequestMeta, type SessionFailure } from './session.js';
import { errorParam } from './error-shapes.js';
import { ClientBacklog } from './backlog.js';
import type { TaskFlows } from '../tasks/flow.js';

export interface GatewayDeps {
  service: TaskService;
  bus: EventBus;
  models: ModelDirectory;
  log: Logger;
  bodyLimitBytes: number;
  /** Bytes of an answer a client may leave unread before its call is held back (server.stream_buffer_bytes). */
  maxBufferedBytes: number;
  /** The task valves the calls follow (backpressure: see backlog.ts). */
  flows: TaskFlows;
  /** The time, ms since the epoch (the coordinator's clock). */
  now: () => number;
  /** What GET /api/version reports (ollama-version.ts). */
  ollamaVersion: () => Promise<string>;
  /** What each model has been asked to do, and when (for /api/ps and /api/show). */
  modelUse: ModelUse;
}

/** How a protocol writes an error body. */
export type ErrorShape = (status: number, code: string, message: string, param: string | null) => unknown;

/** A request that becomes a task: the call to run and how to present its answer. */
export interface TaskRequest {
  call: ChatCall;
  presenter: (taskId: string) => Presenter;
}

/** A request answered without a task, once its model is found (Ollama's load and unload requests). */
export interface ImmediateRequest {
  model: string;
  answer: () => object | Promise<object>;
}

/** What an endpoint makes of a body: a task to run, or an answer of its own; throws a GatewayRefusal for a bad one. */
export type Prepare = (body: unknown) => TaskRequest | ImmediateRequest;

/** Why a request's task is cancelled when its client closes the connection before the answer is complete. */
const CLIENT_GONE = { code: 'client_gone', message: 'the client closed its connection before its answer was complete' };

/** Seconds a client refused for a full queue is asked to wait. */
const RETRY_AFTER_S = 1;

/**
 * How often a request still waiting for its first byte checks that some worker serves (or will soon again serve) its
 * model: one whose node left and did not come back within NODE_RETURN_MS is answered 404 rather than held for ever.
 */
const SERVED_CHECK_MS = 5_000;

/** A Hono handler for one gateway endpoint. */
export function gatewayHandler(deps: GatewayDeps, errorShape: ErrorShape, prepare: Prepare) {
  return async (c: Context): Promise<Response> => {
    let prepared: ReturnType<Prepare>;
    let meta: RequestMeta;
    let served: ServedModel | null;
    try {
      prepared = prepare(await readJson(c, deps.bodyLimitBytes));
      meta = readHeaders(c);
      const model = 'call' in prepared ? callModel(prepared.call) : prepared.model;
      served = await deps.models.find(model);
      if (served === null) {
        throw modelNotFound(model);
      }
    } catch (err) {
      return refuse(c, errorShape, err);
    }
    // An answer of the route's own goes out as Ollama writes it (Go's c.JSON), streaming asked for or not.
    if (!('call' in prepared)) return c.body(JSON.stringify(await prepared.answer()), 200, { 'content-type': 'application/json; charset=utf-8' });
    const res = nodeResponse(c.env);
    if (!res) throw new Error('the LLM gateway needs a Node HTTP server (served by @hono/node-server)');
    res.once('close', deps.modelUse.begin(served.name, prepared.call.endpoint));
    try {
      await relay(res, deps, prepared, meta, errorShape);
    } catch (err) {
      return refuse(c, errorShape, err);
    }
    return RESPONSE_ALREADY_SENT;
  };
}

/** A refusal as the protocol's error; full queue and shutdown ask the client to come back (Retry-After). */
export function refuse(c: Context, errorShape: ErrorShape, err: unknown): Response {
  if (!(err instanceof KoubouError)) throw err;
  const param = errorParam(err);
  if (err instanceof QueueFull || err instanceof ShuttingDown) c.header('retry-after', String(RETRY_AFTER_S));
  return c.json(errorShape(err.status, err.code, err.message, param) as object, err.status as 400);
}

/** X-Koubou-Priority (a decimal integer 1-10, default 5) and X-Koubou-Type (a task type; null when not sent). */
function readHeaders(c: Context): RequestMeta {
  const rawPriority = c.req.header('x-koubou-priority');
  const priority = rawPriority === undefined ? 5 : parsePriorityText(rawPriority, 'X-Koubou-Priority');
  const type = c.req.header('x-koubou-type');
  if (type !== undefined && !(TASK_TYPES as readonly string[]).includes(type)) {
    throw new ValidationError(`X-Koubou-Type must be one of ${TASK_TYPES.join(', ')}; got ${JSON.stringify(type.slice(0, 40))}`, 'X-Koubou-Type');
  }
  return { type: (type ?? null) as TaskType | null, priority };
}

/** Submits the task and writes its answer to the Node response; resolves once submitted. Throws what submit throws. */
async function relay(res: ServerResponse, deps: GatewayDeps, prepared: TaskRequest, meta: RequestMeta, errorShape: ErrorShape): Promise<void> {
  let taskId = '';
  let presenter: Presenter | null = null;
  let session: ChatSession | null = null;
  let finished = false;
  let gone = false;
  const backlog = new ClientBacklog(res, {
    boundBytes: deps.maxBufferedBytes,
    flows: deps.flows,
    fellBehind(why, bufferedBytes, waitedMs) {
      deps.log.warn('gave up a gateway request whose client fell behind', { task: taskId, buffered_bytes: bufferedBytes, waited_ms: waitedMs });
      // An answer already ended is not held for it either; its task has completed and stays so.
      if (!finished) session?.abandon({ code: 'client_fell_behind', message: why });
      finished = true;
      res.destroy();
    },
  });
  const head = (status: number, contentType: string, length?: number) =>
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-cache', 'x-koubou-task-id': taskId, ...(length === undefined ? {} : { 'content-length': String(length) }), ...SECURITY_HEADERS });
  const write = (bytes: string) => {
    if (bytes === '' || finished) return;
    if (!res.headersSent) head(200, presenter!.contentType);
    // Pieces that arrive in one turn (one read from the backend often holds several) leave in one write: Node corks
    // the socket at a response's first write in a turn and uncorks it on the next tick (_http_outgoing.js, write_).
    backlog.write(bytes, true, false);
  };
  const end = (bytes: string) => {
    if (finished) return;
    finished = true;
    if (res.headersSent) return backlog.write(bytes, false, true);
    const body = Buffer.from(bytes);
    head(200, presenter!.contentType, body.length);
    backlog.write(body, false, true);
  };
  const fail = (failure: SessionFailure) => {
    if (finished) return;
    if (res.headersSent) return end(presenter!.streamError(failure));
    finished = true;
    const body = Buffer.from(JSON.stringify(errorShape(failure.status, failure.code, failure.message, failure.param)));
    // 503 (a shutdown, a cancel): worth asking again shortly, as for a full queue.
    if (failure.status === 503) res.setHeader('retry-after', String(RETRY_AFTER_S));
    head(failure.status, 'application/json', body.length);
    res.end(body);
  };
  const model = callModel(prepared.call);
  const stillServed = setInterval(() => {
    if (finished || res.headersSent) return clearInterval(stillServed);
    void deps.models.find(model).then((found) => {
      if (found !== null || finished || res.headersSent) return;
      const message = `The model \`${shownModel(model)}\` is no longer served by any worker of the pool: the node serving it left and did not come back.`;
      deps.log.warn('gave up a gateway request: no worker serves its model any more', { task: taskId, model });
      session?.abandon({ code: 'model_not_found', message });
      fail({ code: 'model_not_found', message, param: 'model', status: 404 });
    }, () => undefined);
  }, SERVED_CHECK_MS).unref();
  res.once('close', () => {
    clearInterval(stillServed);
    if (finished) return;
    gone = true;
    session?.abandon(CLIENT_GONE);
  });
  session = await startChatSession(deps, prepared.call, meta, {
    accepted(id) {
      taskId = id;
      backlog.accepted(id);
      presenter = prepared.presenter(id);
    },
    delta(d) {
      if (d.end) end(presenter!.finish(d.end));
      else write(presenter!.delta(d));
    },
    restart() {
      // Only a stream that has sent bytes is interrupted; a collected answer starts again with the next run.
      if (res.headersSent || finished) return false;
      presenter = prepared.presenter(taskId);
      return true;
    },
    failed: fail,
  });
  if (gone) session.abandon(CLIENT_GONE);
}
