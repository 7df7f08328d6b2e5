/** The workers-table statements the pool manager runs, compiled once (see prepared.ts). */
import { prepare } from './prepared.js';

type Started = { id: string; backend: string; model: string; location: string; now: number; restart: number };

/** Inserts a worker row, or revives an existing one; `restart` (0/1) is added to its restart count. */
export const upsertStartedWorker = prepare<Started, never>((db, p) =>
  db
    .insertInto('workers')
    .values({
      id: p('id'),
      backend: p('backend'),
      model: p('model'),
      location: p('location'),
      status: 'live',
      current_task: null,
      last_heartbeat: p('now'),
      completed: 0,
      failed: 0,
      restarts: 0,
      started_at: p('now'),
      updated_at: p('now'),
    })
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        backend: eb.ref('excluded.backend'),
        model: eb.ref('excluded.model'),
        location: eb.ref('excluded.location'),
        status: 'live',
        current_task: null,
        last_heartbeat: eb.ref('excluded.last_heartbeat'),
        started_at: eb.ref('excluded.started_at'),
        updated_at: eb.ref('excluded.updated_at'),
        restarts: eb('workers.restarts', '+', p('restart')),
      })),
    ),
);

export const updateWorkerBeat = prepare<{ id: string; status: string; last_heartbeat: number | null; now: number }, never>(
  (db, p) =>
    db
      .updateTable('workers')
      .set({ status: p('status'), last_heartbeat: p('last_heartbeat'), updated_at: p('now') })
      .where('id', '=', p('id')),
);

export const markWorkersGone = prepare<{ now: number }, never>((db, p) =>
  db.updateTable('workers').set({ status: 'gone', current_task: null, updated_at: p('now') }).where('status', '!=', 'gone'),
);
