/**
 * GET /api/dashboard/tasks/:id/stream: one task as Server-Sent Events for the dashboard's task view. It opens with a
 * `snapshot` (status, prompt, history, and the output streamed so far) and then sends each new event of the task as
 * `task`, like /events. Snapshot and events come from one subscription, so no chunk of output is lost or shown twice.
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { BoundedSink } from '../events/bounded-sink.js';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { TaskService } from '../tasks/service.js';
import { eventView, statusView } from '../tasks/view.js';

const PATH = /^\/api\/dashboard\/tasks\/[^/]+\/stream$/;
/** Enough of a prompt to recognise the task; the page is no place to read a whole attached file. */
const PROMPT_CHARS = 4000;
const KEEPALIVE_MS = 15_000;

/** Browsers cannot set headers on EventSource: this route, like /events, also takes ?access_token=. */
export const isTaskStreamPath = (path: string) => PATH.test(path);

/** GET /api/dashboard/tasks/:id/stream; a watcher more than maxPending events behind is dropped, as on /events. */
export function taskStreamRoute(service: TaskService, bus: EventBus, maxPending = 1000): Hono {
  const app = new Hono();
  app.get('/api/dashboard/tasks/:id/stream', async (c) => {
    const id = c.req.param('id');
    await service.get(id); // an unknown task is a plain 404, before any stream starts
    return streamSSE(c, async (stream) => {
      let closed = false;
      let done!: () => void;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const sink = new BoundedSink<{ event: string; data: string }>(
        (m) => stream.writeSSE(m),
        maxPending,
        (reason) => {
          void stream.writeSSE({ event: 'dropped', data: JSON.stringify({ reason }) }).catch(() => {});
          done();
        },
      );
      const toMessage = (e: TaskEvent) => ({ event: 'task', data: JSON.stringify({ task_id: e.taskId, ...eventView(e) }) });
      // Events that arrive while the snapshot is read wait here; afterwards they go straight out.
      let early: TaskEvent[] | null = [];
      const unsubscribe = bus.subscribeTask(id, (e) => (early ? early.push(e) : sink.push(toMessage(e))));
      const keepalive = setInterval(() => void stream.write(': keepalive\n\n').catch(() => {}), KEEPALIVE_MS);
      stream.onAbort(() => {
        closed = true;
        done();
      });
      try {
        const task = await service.get(id);
        const history = (await service.events(id)).map(eventView);
        // From here to the end of the block nothing awaits. The output buffer already holds every chunk published so
        // far, the early ones included, so those are dropped. The buffer is read whatever the (maybe just outdated)
        // status says: a task that has not streamed has no buffer.
        const output = service.partialOutput({ ...task, status: 'in_progress' });
        const snapshot = {
          task: statusView(task),
          prompt: task.prompt.slice(0, PROMPT_CHARS),
          prompt_length: task.prompt.length,
          lease: task.lease,
          history,
          output: output && { text: output.text, length: output.length },
        };
        sink.push({ event: 'snapshot', data: JSON.stringify(snapshot) });
        for (const e of early) if (e.kind !== 'progress') sink.push(toMessage(e));
        early = null;
        await finished;
      } finally {
        clearInterval(keepalive);
        unsubscribe();
        if (!closed) await stream.close();
      }
    });
  });
  return app;
}
