/**
 * GET /ws: a WebSocket for watchers. Clients send {type:'subscribe'|'unsubscribe', channel:'task'|'worker'|'system',
 * task_id?}, {type:'ping'} (→ pong), {type:'get_stats'} (→ the health report) and, as the original system's clients
 * do, {type:'submit_task', payload:{...}} with the body of POST /task/delegate (same validation, same idempotency_key
 * rules) → {type:'task_submitted', task_id, status, replayed}, after which the socket gets that task's events until
 * it ends. Subscribed channels push {type:'event', channel, event}; `system` pushes a stats snapshot every few seconds.
 * What a socket may have buffered is bounded in bytes (ws's `bufferedAmount`): a client that falls behind is told and
 * closed, never waited for. Messages from clients are limited in size (ws closes with 1009 past it) and each socket in
 * its number of subscriptions.
 */
import { createNodeWebSocket } from '@hono/node-ws';
import type { Hono } from 'hono';
import type { Server } from 'node:http';
import type { Clock } from '../clock.js';
import type { Core } from '../core.js';
import type { TaskEvent } from '../events/types.js';
import { KoubouError } from '../errors.js';
import type { Logger } from '../logger.js';
import { FINAL_STATUSES, type TaskStatus } from '../tasks/task.js';
import { parseDelegateInput } from '../tasks/validate.js';
import { isFinal } from '../delegation/wait.js';
import { eventView } from '../delegation/view.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../json-depth.js';
import { errorBody } from './errors.js';
import type { StreamLimits } from './sse-outlet.js';

/** What is used of the `ws` socket: send (a Buffer goes out as a text frame with binary: false), close, and the bytes queued for the peer but not yet sent. */
interface RawSocket {
  send(data: string | Buffer, options?: { binary: boolean }): void;
  close(code: number, reason: string): void;
  readonly bufferedAmount: number;
}

export interface WsLimits extends StreamLimits {
  /** Largest message a client may send. */
  maxMessageBytes: number;
  /** Most subscriptions one socket may hold (a submitted task it watches counts as one). */
  maxSubscriptions: number;
}

const CHANNELS = ['task', 'worker', 'system'] as const;
type Channel = (typeof CHANNELS)[number];
const SYSTEM_EVERY_MS = 5_000;
/** Events of a task submitted over the socket that may wait for the answer to its submit_task. */
const MAX_EARLY = 1000;

type WsCore = Pick<Core, 'bus' | 'workerEvents' | 'health' | 'service'>;

/** Adds /ws to app; call the returned function with the HTTP server once it exists. */
export function addWebSocket(app: Hono, core: WsCore, log: Logger, limits: WsLimits): (server: Server) => void {
  const { upgradeWebSocket, injectWebSocket, wss } = createNodeWebSocket({ app });
  // ws reads maxPayload from its server's options at each upgrade; a larger message closes the socket with 1009.
  wss.options.maxPayload = limits.maxMessageBytes;
  app.get(
    '/ws',
    upgradeWebSocket(() => {
      const subscriptions = new Map<string, () => void>();
      let raw: RawSocket | null = null;
      const unsubscribeAll = () => {
        for (const unsubscribe of subscriptions.values()) unsubscribe();
        subscriptions.clear();
      };
      /** Sends a message, or one already encoded for many sockets (see taskEventMessage). */
      const push = (message: object | Buffer) => {
        if (!raw) return;
        const data = Buffer.isBuffer(message) ? message : JSON.stringify(message);
        const held = raw.bufferedAmount;
        if (held > 0 && held + Buffer.byteLength(data) > limits.maxBufferedBytes) {
          const reason = `the client fell behind: more than ${limits.maxBufferedBytes} bytes of messages waited for it`;
          limits.onDrop('/ws', reason);
          unsubscribeAll();
          // Queued behind the backlog; ws then waits (boundedly) for the close handshake and destroys the socket.
          raw.send(JSON.stringify({ type: 'dropped', reason }));
          raw.close(1008, 'too slow');
          raw = null;
          return;
        }
        raw.send(data, { binary: false });
      };
      const tooMany = () => ({ type: 'error', error: { code: 'too_many_subscriptions', message: `a socket holds at most ${limits.maxSubscriptions} subscriptions; unsubscribe first` } });
      return {
        onOpen(_event, ws) {
          limits.onOpen('/ws');
          raw = ws.raw as unknown as RawSocket;
          push({ type: 'hello', channels: CHANNELS });
        },
        async onMessage(event) {
          if (!raw) return; // dropped: its messages no longer count
          const message = parse(String(event.data));
          if ('error' in message) return push({ type: 'error', error: { code: 'invalid_message', message: message.error } });
          switch (message.type) {
            case 'ping':
              return push({ type: 'pong', at: new Date(limits.clock.now()).toISOString() });
            case 'get_stats':
              return push({ type: 'stats', stats: await core.health() });
            case 'subscribe': {
              const key = `${message.channel}:${message.task_id ?? ''}`;
              if (!subscriptions.has(key) && subscriptions.size >= limits.maxSubscriptions) return push(tooMany());
              if (!subscriptions.has(key)) subscriptions.set(key, subscribe(core, limits.clock, message.channel, message.task_id, push));
              return push({ type: 'subscribed', channel: message.channel, task_id: message.task_id ?? null });
            }
            case 'submit_task': {
              // A submitted task is watched until it ends, so a socket submitting many holds few subscriptions.
              if (subscriptions.size >= limits.maxSubscriptions) return push(tooMany());
              const ended = (taskId: string) => {
                subscriptions.get(`task:${taskId}`)?.();
                subscriptions.delete(`task:${taskId}`);
              };
              const submitted = await submitTask(core, message.payload, push, ended, log);
              if ('error' in submitted) return push({ type: 'error', error: submitted.error });
              const key = `task:${submitted.taskId}`;
              if (subscriptions.has(key)) submitted.stop();
              else subscriptions.set(key, submitted.stop);
              push({ type: 'task_submitted', task_id: submitted.taskId, status: submitted.status, replayed: submitted.replayed });
              return submitted.flush();
            }
            case 'unsubscribe': {
              const key = `${message.channel}:${message.task_id ?? ''}`;
              subscriptions.get(key)?.();
              subscriptions.delete(key);
              return push({ type: 'unsubscribed', channel: message.channel, task_id: message.task_id ?? null });
            }
          }
        },
        onClose() {
          limits.onClose('/ws');
          unsubscribeAll();
          raw = null;
        },
      };
    }),
  );
  return (server) => injectWebSocket(server);
}

const encodedEvents = new WeakMap<TaskEvent, Buffer>();

/** The `task` channel's message for an event, encoded once however many sockets watch (the bus shares event objects). */
function taskEventMessage(e: TaskEvent): Buffer {
  let data = encodedEvents.get(e);
  if (!data) encodedEvents.set(e, (data = Buffer.from(JSON.stringify({ type: 'event', channel: 'task', event: { task_id: e.taskId, ...eventView(e) } }))));
  return data;
}

type Submitted = { taskId: string; status: string; replayed: boolean; stop(): void; flush(): void };

/**
 * Submits through the task service as POST /task/delegate does, subscribed to the new task before it is written so
 * none of its events is lost. Events that arrive before the answer is sent wait (up to MAX_EARLY) until flush().
 */
async function submitTask(
  core: WsCore,
  payload: unknown,
  push: (m: object | Buffer) => void,
  ended: (taskId: string) => void,
  log: Logger,
): Promise<Submitted | { error: ReturnType<typeof errorBody>['error'] }> {
  const early: Buffer[] = [];
  let answered = false;
  let finalSeen = false;
  const send = (e: TaskEvent) => {
    if (answered || early.length >= MAX_EARLY) push(taskEventMessage(e));
    else early.push(taskEventMessage(e));
    if (isFinal(e)) {
      if (answered) ended(e.taskId);
      else finalSeen = true;
    }
  };
  let stop = () => {};
  try {
    const input = parseDelegateInput(payload);
    const submitted = await core.service.submit(input, undefined, undefined, (id) => (stop = core.bus.subscribeTask(id, send)));
    let status: string = submitted.status;
    if (submitted.replayed) {
      // The key named an earlier task: watch that one, and read its state after subscribing so no change is missed.
      stop();
      stop = core.bus.subscribeTask(submitted.taskId, send);
      status = (await core.service.get(submitted.taskId)).status;
    }
    return {
      taskId: submitted.taskId,
      status,
      replayed: submitted.replayed,
      stop: () => stop(),
      flush() {
        answered = true;
        for (const m of early.splice(0)) push(m);
        if (FINAL_STATUSES.has(status as TaskStatus) || finalSeen) ended(submitted.taskId);
      },
    };
  } catch (err) {
    stop();
    if (err instanceof KoubouError) return { error: errorBody(err).error };
    log.error('unexpected error while submitting over the WebSocket', { error: (err as Error).message, stack: (err as Error).stack });
    return { error: { code: 'internal_error', message: 'internal error; see the server log' } };
  }
}

function subscribe(core: WsCore, clock: Clock, channel: Channel, taskId: string | undefined, push: (m: object | Buffer) => void): () => void {
  switch (channel) {
    case 'task': {
      const send = (e: TaskEvent) => push(taskEventMessage(e));
      return taskId ? core.bus.subscribeTask(taskId, send) : core.bus.subscribe(send);
    }
    case 'worker':
      return core.workerEvents.subscribe((e) => push({ type: 'event', channel, event: { ...e, at: new Date(e.at).toISOString() } }));
    case 'system': {
      const timer = clock.setInterval(() => void core.health().then((stats) => push({ type: 'event', channel, event: stats })), SYSTEM_EVERY_MS);
      return () => clock.clearInterval(timer);
    }
  }
}

type ClientMessage =
  | { type: 'ping' }
  | { type: 'get_stats' }
  | { type: 'subscribe' | 'unsubscribe'; channel: Channel; task_id?: string }
  | { type: 'submit_task'; payload: unknown };

/** A client message, or what is wrong with it. */
function parse(text: string): ClientMessage | { error: string } {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text);
  } catch {
    return { error: 'messages must be JSON objects' };
  }
  if (nestsDeeperThan(text)) return { error: `messages may nest arrays and objects at most ${MAX_JSON_DEPTH} levels deep` };
  if (typeof m !== 'object' || m === null) return { error: 'messages must be JSON objects' };
  if (m.type === 'ping' || m.type === 'get_stats') return { type: m.type };
  if (m.type === 'subscribe' || m.type === 'unsubscribe') {
    if (!(CHANNELS as readonly unknown[]).includes(m.channel)) return { error: `channel must be one of ${CHANNELS.join(', ')}` };
    if (m.task_id !== undefined && (typeof m.task_id !== 'string' || m.channel !== 'task')) return { error: 'task_id is a string, for the task channel' };
    return { type: m.type, channel: m.channel as Channel, ...(m.task_id ? { task_id: m.task_id as string } : {}) };
  }
  // The payload is checked by the same function as POST /task/delegate's body, with the same field names in errors.
  if (m.type === 'submit_task') return { type: 'submit_task', payload: m.payload };
  return { error: 'type must be submit_task, subscribe, unsubscribe, ping or get_stats' };
}
