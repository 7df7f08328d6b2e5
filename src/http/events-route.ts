/** GET /events: the live event stream as Server-Sent Events, filtered by task and kind. */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { BoundedSink } from '../events/bounded-sink.js';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent, TaskEventKind } from '../events/types.js';
import { ValidationError } from '../errors.js';
import { eventView } from '../tasks/view.js';

const KINDS: readonly TaskEventKind[] = ['queued', 'assigned', 'requeued', 'retried', 'deferred', 'progress', 'completed', 'failed', 'cancelled'];
/** Keeps proxies from closing a quiet stream. */
const KEEPALIVE_MS = 15_000;

export function eventsRoute(bus: EventBus, maxPending = 1000): Hono {
  const app = new Hono();
  app.get('/events', (c) => {
    const task = c.req.query('task') || null;
    const kinds = parseKinds(c.req.query('kind'));
    return streamSSE(c, async (stream) => {
      let closed = false;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const sink = new BoundedSink<TaskEvent>(
        (e) => stream.writeSSE({ event: 'task', data: JSON.stringify({ task_id: e.taskId, ...eventView(e) }) }),
        maxPending,
        (reason) => {
          // Told once, without waiting on the backlog that caused the drop.
          void stream.writeSSE({ event: 'dropped', data: JSON.stringify({ reason }) }).catch(() => {});
          done();
        },
      );
      const accept = (e: TaskEvent) => !kinds || kinds.has(e.kind);
      const unsubscribe = task ? bus.subscribeTask(task, (e) => accept(e) && sink.push(e)) : bus.subscribe((e) => accept(e) && sink.push(e));
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(() => {}), KEEPALIVE_MS);
      stream.onAbort(() => {
        closed = true;
        done();
      });
      await stream.writeSSE({ event: 'ready', data: JSON.stringify({ task, kinds: kinds ? [...kinds] : null }) });
      await finished;
      clearInterval(keepalive);
      unsubscribe();
      if (!closed) await stream.close();
    });
  });
  return app;
}

function parseKinds(raw: string | undefined): Set<TaskEventKind> | null {
  if (!raw) return null;
  const kinds = raw.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(KINDS as readonly string[]).includes(k)) throw new ValidationError(`kind must be a comma-separated list of ${KINDS.join(', ')}; got ${JSON.stringify(k)}`, 'kind');
  }
  return new Set(kinds as TaskEventKind[]);
}
