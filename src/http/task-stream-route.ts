/**
 * GET /api/dashboard/tasks/:id/stream: one task as Server-Sent Events for the dashboard's task view. It opens with a
 * `snapshot` (status, prompt, history, and the output streamed so far) and then sends each new event of the task as
 * `task`, like /events. Snapshot and events come from one subscription, so no chunk of output is lost or shown twice.
 */
import { Hono } from 'hono';
import type { EventBus } from '../events/bus.js';
import type { TaskEvent } from '../events/types.js';
import type { TaskService } from '../delegation/service.js';
import { eventView, statusView } from '../delegation/view.js';
import { taskEventFrame } from './sse-frames.js';
import { sseFrame, startSse, type StreamLimits } from './sse-outlet.js';

const PATH = /^\/api\/dashboard\/tasks\/[^/]+\/stream$/;
/** Enough of a prompt to recognise the task; the page is no place to read a whole attached file. */
const PROMPT_CHARS = 4000;

/** Browsers cannot set headers on EventSource: this route, like /events, also takes ?access_token=. */
export const isTaskStreamPath = (path: string) => PATH.test(path);

/** GET /api/dashboard/tasks/:id/stream; a watcher past limits.maxBufferedBytes is dropped, as on /events. */
export function taskStreamRoute(service: TaskService, bus: EventBus, limits: StreamLimits): Hono {
  const app = new Hono();
  app.get('/api/dashboard/tasks/:id/stream', async (c) => {
    const id = c.req.param('id');
    // Events that arrive while the snapshot is read wait here; afterwards they go straight out.
    let early: TaskEvent[] | null = [];
    let send: (frame: string) => void = () => {};
    const unsubscribe = bus.subscribeTask(id, (e) => (early ? early.push(e) : send(taskEventFrame(e))));
    let snapshot;
    try {
      const task = await service.get(id); // an unknown task is a plain 404, before any stream starts
      const history = (await service.events(id)).map(eventView);
      // From here to the end of the handler nothing awaits. The output buffer already holds every chunk published so
      // far, the early ones included, so those are dropped. The buffer is read whatever the (maybe just outdated)
      // status says: a task that has not streamed has no buffer.
      const output = service.partialOutput({ ...task, status: 'in_progress' });
      snapshot = {
        task: statusView(task),
        prompt: task.prompt.slice(0, PROMPT_CHARS),
        prompt_length: task.prompt.length,
        lease: task.lease,
        history,
        output: output && { text: output.text, length: output.length },
      };
    } catch (err) {
      unsubscribe();
      throw err;
    }
    const { outlet, response } = startSse(c.env, 'task stream', limits, unsubscribe);
    send = (frame) => outlet.send(frame);
    outlet.send(sseFrame('snapshot', JSON.stringify(snapshot)));
    for (const e of early) if (e.kind !== 'progress') outlet.send(taskEventFrame(e));
    early = null;
    outlet.keepAlive();
    return response;
  });
  return app;
}
