/**
 * One gateway request as a task of kind chat: submitted to the queue like any task, then followed on the bus until its
 * answer has been relayed. Deltas come from the run that streamed first; if that run is given up after relaying
 * (retried, requeued) the client cannot be given a second answer, so the task is cancelled and the client told.
 */
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { TaskService } from '../delegation/service.js';
import type { TaskType } from '../tasks/task.js';
import type { ChatCall, ChatDelta } from '../tasks/chat.js';
import { callModel } from '../tasks/chat.js';
import { responsesToChatMessages } from '../backends/chat/responses-map.js';

/** Why a request got no (whole) answer: the task's error code and message. */
export interface SessionFailure {
  code: string;
  message: string;
}

export interface SessionListener {
  /** The task's id, before it is written (and so before any other call). */
  accepted(taskId: string): void;
  /** A piece of the answer; the one carrying `end` is the last. */
  delta(delta: ChatDelta): void;
  /** The task ended without an answer (failed, cancelled) or its relayed run was given up. Last call. */
  failed(failure: SessionFailure): void;
}

export interface ChatSession {
  readonly taskId: string;
  /** The client went away: cancel the task unless it has already answered. */
  abandon(): void;
}

/** How long pieces may trail their task's completion (a node sends them apart from its outcome). */
const LATE_PIECES_MS = 5_000;

/** Characters of the last user message kept as the task's prompt (what lists and the dashboard show). */
const PROMPT_CHARS = 2000;

/** Submits the call as a task of kind chat and relays its events to the listener. Throws what submit throws. */
export async function startChatSession(
  deps: { service: TaskService; bus: EventBus },
  call: ChatCall,
  meta: { type: TaskType; priority: number },
  listener: SessionListener,
): Promise<ChatSession> {
  let done = false;
  let relayedLease: string | null = null;
  let unsubscribe: () => void = () => {};
  let taskId = '';
  const finish = () => {
    done = true;
    unsubscribe();
  };
  const fail = (failure: SessionFailure) => {
    if (done) return;
    finish();
    listener.failed(failure);
  };
  const onEvent = (e: TaskEvent) => {
    if (done) return;
    const delta = e.kind === 'progress' ? (e.detail?.delta as ChatDelta | undefined) : undefined;
    if (delta) {
      // Pieces of an earlier, abandoned run may still arrive: only the first relaying run counts.
      if (relayedLease !== null && e.lease !== relayedLease) return;
      relayedLease = e.lease ?? null;
      if (delta.end) finish();
      listener.delta(delta);
      return;
    }
    switch (e.kind) {
      case 'failed': {
        const error = e.detail?.error as SessionFailure | undefined;
        return fail(error ?? { code: 'failed', message: 'the task failed' });
      }
      case 'cancelled':
        return fail({ code: 'cancelled', message: 'the request was cancelled' });
      case 'completed':
        // A node's last pieces travel apart from its outcome and may arrive just after it: wait for them a moment.
        setTimeout(() => fail({ code: 'no_answer', message: 'the backend ended the call without an answer' }), LATE_PIECES_MS).unref();
        return;
      case 'retried':
      case 'requeued':
      case 'deferred':
        if (relayedLease === null) return; // nothing sent yet: the next run answers
        fail({ code: 'answer_interrupted', message: `the backend call was interrupted after part of the answer was sent (${e.kind})` });
        void deps.service.cancel(taskId).catch(() => undefined);
        return;
    }
  };
  const submitted = await deps.service.submit(
    { prompt: promptOf(call), type: meta.type, priority: meta.priority, sync: false, files: [], options: { model: callModel(call), chat: call }, idempotencyKey: null },
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
    abandon() {
      if (done) return;
      finish();
      void deps.service.cancel(taskId).catch(() => undefined);
    },
  };
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
