/** GET /events: the live event stream as Server-Sent Events, filtered by task and kind. */
import { Hono } from 'hono';
import type { EventBus } from '../events/bus.js';
import { TASK_EVENT_KINDS, type TaskEventKind } from '../events/types.js';
import { ValidationError } from '../errors.js';
import { SseFanout } from './sse-fanout.js';
import { sseFrame, startSse, type StreamLimits } from './sse-outlet.js';

/** GET /events; a client holding more than limits.maxBufferedBytes of unsent events is sent `dropped` and disconnected. */
export function eventsRoute(bus: EventBus, limits: StreamLimits): Hono {
  const app = new Hono();
  const fanout = new SseFanout(bus);
  app.get('/events', (c) => {
    const task = c.req.query('task') || null;
    const kinds = parseKinds(c.req.query('kind'));
    let leave = () => {};
    const { outlet, response } = startSse(c.env, '/events', limits, () => leave());
    outlet.send(sseFrame('ready', JSON.stringify({ task, kinds: kinds ? [...kinds] : null })));
    leave = fanout.join({ task, kinds }, outlet);
    outlet.keepAlive();
    return response;
  });
  return app;
}

function parseKinds(raw: string | undefined): Set<TaskEventKind> | null {
  if (!raw) return null;
  const kinds = raw.split(',').map((k) => k.trim());
  for (const k of kinds) {
    if (!(TASK_EVENT_KINDS as readonly string[]).includes(k)) throw new ValidationError(`kind must be a comma-separated list of ${TASK_EVENT_KINDS.join(', ')}; got ${JSON.stringify(k)}`, 'kind');
  }
  return new Set(kinds as TaskEventKind[]);
}
