/**
 * One gateway request as a task of kind chat: submitted to the queue like any task, then followed on the bus until its
 * answer has been relayed. Deltas come from the run that streamed first. If that run is given up (retried, requeued,
 * deferred) before any byte reached the client, what was collected is dropped and the next run answers; once part of
 * the answer has gone out the client cannot be given a second one, so the task is cancelled with the cause recorded
 * (`answer_interrupted`: the state table lets a pending task only be cancelled) and the client told the cause.
 */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { TaskService } from '../delegation/service.js';
import type { Logger } from '../logger.js';
import type { TaskError, TaskType } from '../tasks/task.js';
import type { ChatCall, ChatDelta } from '../tasks/chat.js';
import { callModel } from '../tasks/chat.js';
import { responsesToChatMessages } from '../backends/chat/responses-map.js';
import { clientFailure, type ClientFailure } from './failure.js';

/** The X-Koubou-* headers of a request: its priority, and its type (null: none named, see TaskOptions.any_type). */
export interface RequestMeta {
  type: TaskType | null;
  priority: number;
}

/** Why a request got no (whole) answer, as its client is told (see failure.ts). */
export type SessionFailure = ClientFailure;

export interface SessionListener {
  /** The task's id, before it is written (and so before any other call). */
  accepted(taskId: string): void;
  /** A piece of the answer; the one carrying `end` is the last. */
  delta(delta: ChatDelta): void;
  /**
   * The run relaying the answer was given up and another will answer: drop what was collected and say true, or say
   * false when part of the answer has reached the client already (it cannot take a second one).
   */
  restart(): boolean;
  /** The task ended without an answer (failed, cancelled) or its relayed run was given up. Last call. */
  failed(failure: SessionFailure): void;
}

export interface ChatSession {
  readonly taskId: string;
  /** The client went away (or fell behind: `cause` is recorded on the task): cancel the task unless it has already answered. */
  abandon(cause?: TaskError): void;
}

/** How long pieces may trail their task's completion (a node sends them apart from its outcome). */
const LATE_PIECES_MS = 5_000;

/** Characters of the last user message kept as the task's prompt (what lists and the dashboard show). */
const PROMPT_CHARS = 2000;

/** Submits the call as a task of kind chat and relays its events to the listener. Throws what submit throws. */
export async function startChatSession(
  deps: { service: TaskService; bus: EventBus; log: Logger },
  call: ChatCall,
  meta: RequestMeta,
  listener: SessionListener,
): Promise<ChatSession> {
  let done = false;
  let relayedLease: string | null = null;
  // Runs given up: their pieces may still arrive (a node sends them apart from its outcome) and are not relayed.
  const givenUp = new Set<string>();
  let unsubscribe: () => void = () => {};
  let taskId = '';
  const model = callModel(call);
  const finish = () => {
    done = true;
    unsubscribe();
  };
  const fail = (failure: SessionFailure) => {
    if (done) return;
    finish();
    listener.failed(failure);
  };
  const interrupted = (cause: TaskError) => {
    const why = 'the answer broke off after part of it had reached the client, which cannot take a second one';
    const told = clientFailure(cause, model);
    fail({ ...told, code: 'answer_interrupted', message: `${why}: ${told.message}` });
    deps.log.warn('gateway answer broke off after part of it was sent; task cancelled', { task: taskId, code: cause.code, error: cause.message });
    void deps.service.cancel(taskId, { code: 'answer_interrupted', message: `${why}; the cause (${cause.code}): ${cause.message}` }).catch(() => undefined);
  };
  const onEvent = (e: TaskEvent) => {
    if (done) return;
    const delta = e.kind === 'progress' ? (e.detail?.delta as ChatDelta | undefined) : undefined;
    if (delta) {
      if (e.lease !== undefined && e.lease !== null && givenUp.has(e.lease)) return;
      // Pieces of an earlier, abandoned run may still arrive: only the first relaying run counts.
      if (relayedLease !== null && e.lease !== relayedLease) return;
      relayedLease = e.lease ?? null;
      if (delta.end) finish();
      listener.delta(delta);
      return;
    }
    switch (e.kind) {
      case 'failed': {
        const error = e.detail?.error as TaskError | undefined;
        return fail(clientFailure(error ?? { code: 'failed', message: 'the task failed' }, model));
      }
      case 'cancelled': {
        // Why, when the cancel had a reason of its own (the coordinator shutting down, an answer that broke off).
        const why = (e.detail?.error as TaskError | undefined)?.message ?? (e.detail?.reason as string | undefined);
        return fail({ code: 'cancelled', message: why ? `the request was cancelled: ${why}` : 'the request was cancelled', param: null, status: 503 });
      }
      case 'completed':
        // A node's last pieces travel apart from its outcome and may arrive just after it: wait for them a moment.
        setTimeout(() => fail(clientFailure({ code: 'no_answer', message: 'the backend ended the call without an answer' }, model)), LATE_PIECES_MS).unref();
        return;
      case 'retried':
      case 'requeued':
      case 'deferred': {
        if (e.lease) givenUp.add(e.lease);
        if (relayedLease === null || e.lease !== relayedLease) return; // nothing relayed from it: the next run answers
        relayedLease = null;
        if (listener.restart()) return; // nothing reached the client: the next run answers it whole
        return interrupted(causeOf(e));
      }
    }
  };
  const submitted = await deps.service.submit(
    {
      prompt: promptOf(call),
      type: meta.type ?? 'general',
      priority: meta.priority,
      sync: false,
      files: [],
      options: { model, chat: call, ...(meta.type === null ? { any_type: true } : {}) },
      idempotencyKey: null,
    },
    undefined,
    undefined,
    (id) => {
      taskId = id;
      listener.accepted(id);
      unsubscribe = deps.bus.subscribeTask(id, onEvent);
    },
  );
  taskId = submitted.taskId;
  return {
    taskId,
    abandon(cause) {
      if (done) return;
      finish();
      void deps.service.cancel(taskId, cause).catch(() => undefined);
    },
  };
}

/** Why a run was given up, from its retried (error), requeued (reason) or deferred (reason) event. */
function causeOf(e: TaskEvent): TaskError {
  const detail = e.detail ?? {};
  const error = (detail.error ?? detail.reason) as TaskError | string | undefined;
  if (typeof error === 'string') return { code: 'worker_lost', message: error };
  return error ?? { code: e.kind, message: `the run was ${e.kind}` };
}

/** What the task shows as its prompt: the last user message, the prompt or the input, cut short. */
function promptOf(call: ChatCall): string {
  const body = call.body;
  let text: unknown = body.prompt ?? body.input;
  const messages = call.endpoint === 'responses' ? responsesToChatMessages(body) : body.messages;
  if (Array.isArray(messages)) {
    const last = [...messages].reverse().find((m) => typeof m === 'object' && m !== null && (m as { role?: unknown }).role === 'user') as { content?: unknown } | undefined;
    text = last?.content;
  }
  if (Array.isArray(text)) text = text.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join(' ');
  const shown = typeof text === 'string' && text.trim() !== '' ? text : `(${call.protocol} ${call.endpoint} request)`;
  return shown.length > PROMPT_CHARS ? `${shown.slice(0, PROMPT_CHARS)}…` : shown;
}
