/** The task statements the queue runs for every task, compiled once (see prepared.ts). */
import { sql, type Selectable } from 'kysely';
import { prepare } from './prepared.js';
import type { TaskEventsTable, TasksTable } from './schema.js';
import { OPEN_STATUSES, STATE_MOVES, type StateEventKind, type TaskStatus } from '../tasks/states.js';

/** The states the moves of these kinds leave (the state table's), for a statement's WHERE. */
const leaving = (...kinds: StateEventKind[]): TaskStatus[] => [...new Set(kinds.flatMap((k) => STATE_MOVES[k].from))];

/** What the scheduler needs of a task to queue and route it. */
export type QueuedRow = { seq: number; priority: number; type: string; options: string };

type NewTaskParams = Omit<
  Selectable<TasksTable>,
  'seq' | 'status' | 'attempts' | 'worker_id' | 'lease' | 'output' | 'changes' | 'error_code' | 'error_message' | 'started_at' | 'finished_at' | 'answer' | 'reasoning'
>;

export const insertTask = prepare<NewTaskParams, { seq: number }>((db, p) =>
  db
    .insertInto('tasks')
    .values({
      id: p('id'),
      type: p('type'),
      prompt: p('prompt'),
      files: p('files'),
      options: p('options'),
      priority: p('priority'),
      status: STATE_MOVES.queued.to,
      attempts: 0,
      created_at: p('created_at'),
      updated_at: p('updated_at'),
      idempotency_key: p('idempotency_key'),
      idempotency_fingerprint: p('idempotency_fingerprint'),
    })
    .returning('seq'),
);

export const selectByIdempotencyKey = prepare<{ key: string }, { id: string; idempotency_fingerprint: string | null }>((db, p) =>
  db.selectFrom('tasks').select(['id', 'idempotency_fingerprint']).where('idempotency_key', '=', p('key')),
);

/** A key is remembered for a day; after that it may name a new task. */
export const expireIdempotencyKey = prepare<{ key: string; before: number }, never>((db, p) =>
  db.updateTable('tasks').set({ idempotency_key: null }).where('idempotency_key', '=', p('key')).where('created_at', '<', p('before')),
);

export const insertEvent = prepare<Omit<Selectable<TaskEventsTable>, 'seq'>, never>((db, p) =>
  db.insertInto('task_events').values({
    task_id: p('task_id'),
    at: p('at'),
    kind: p('kind'),
    worker_id: p('worker_id'),
    lease: p('lease'),
    detail: p('detail'),
  }),
);

/** The claim already read the row for the run: only the attempt number comes back, not the prompt again. */
export const assignTask = prepare<{ id: string; worker_id: string; lease: string; now: number }, { attempts: number }>(
  (db, p) =>
    db
      .updateTable('tasks')
      .set((eb) => ({
        status: STATE_MOVES.assigned.to,
        worker_id: p('worker_id'),
        lease: p('lease'),
        attempts: eb('attempts', '+', 1),
        started_at: p('now'),
        updated_at: p('now'),
      }))
      .where('id', '=', p('id'))
      .where('status', 'in', leaving('assigned'))
      .returning('attempts'),
);

type FinishParams = {
  id: string;
  lease: string;
  status: string;
  output: string | null;
  changes: string | null;
  error_code: string | null;
  error_message: string | null;
  answer: string | null;
  reasoning: string | null;
  now: number;
};

export const finishTask = prepare<FinishParams, { worker_id: string | null }>((db, p) =>
  db
    .updateTable('tasks')
    .set({
      status: p('status'),
      output: p('output'),
      changes: p('changes'),
      error_code: p('error_code'),
      error_message: p('error_message'),
      answer: p('answer'),
      reasoning: p('reasoning'),
      finished_at: p('now'),
      updated_at: p('now'),
    })
    .where('id', '=', p('id'))
    .where('lease', '=', p('lease'))
    .where('status', 'in', leaving('completed', 'failed'))
    .returning('worker_id'),
);

export const countWorkerCompleted = prepare<{ id: string }, never>((db, p) =>
  db.updateTable('workers').set((eb) => ({ completed: eb('completed', '+', 1) })).where('id', '=', p('id')),
);

export const countWorkerFailed = prepare<{ id: string }, never>((db, p) =>
  db.updateTable('workers').set((eb) => ({ failed: eb('failed', '+', 1) })).where('id', '=', p('id')),
);

export const requeueTask = prepare<{ id: string; lease: string; now: number }, QueuedRow>(
  (db, p) =>
    db
      .updateTable('tasks')
      .set({ status: STATE_MOVES.requeued.to, worker_id: null, lease: null, started_at: null, updated_at: p('now') })
      .where('id', '=', p('id'))
      .where('lease', '=', p('lease'))
      .where('status', 'in', leaving('requeued', 'retried'))
      .returning(['seq', 'priority', 'type', 'options']),
);

/** Backpressure: back to pending with the attempt given back, since the task never really ran. */
export const deferTask = prepare<{ id: string; lease: string; now: number }, QueuedRow>(
  (db, p) =>
    db
      .updateTable('tasks')
      .set((eb) => ({ status: STATE_MOVES.deferred.to, worker_id: null, lease: null, started_at: null, updated_at: p('now'), attempts: eb('attempts', '-', 1) }))
      .where('id', '=', p('id'))
      .where('lease', '=', p('lease'))
      .where('status', 'in', leaving('deferred'))
      .returning(['seq', 'priority', 'type', 'options']),
);

/** When the task was first deferred (walks the task's events by the (task_id, seq) index); no row or null at: never. */
export const selectFirstDeferral = prepare<{ id: string }, { at: number | null }>((db, p) =>
  db.selectFrom('task_events').select((eb) => eb.fn.min<number | null>('at').as('at')).where('task_id', '=', p('id')).where('kind', '=', 'deferred'),
);

export const requeueAllInProgress = prepare<{ now: number }, { id: string; lease: string | null }>((db, p) =>
  db
    .updateTable('tasks')
    .set({ status: STATE_MOVES.requeued.to, worker_id: null, lease: null, started_at: null, updated_at: p('now') })
    .where('status', 'in', leaving('requeued'))
    .returning(['id', 'lease']),
);

export const selectLeasedAttempts = prepare<{ id: string; lease: string }, { attempts: number }>((db, p) =>
  db.selectFrom('tasks').select('attempts').where('id', '=', p('id')).where('lease', '=', p('lease')).where('status', '=', 'in_progress'),
);

export const selectStatus = prepare<{ id: string }, { status: string; lease: string | null; worker_id: string | null }>((db, p) =>
  db.selectFrom('tasks').select(['status', 'lease', 'worker_id']).where('id', '=', p('id')),
);

export const cancelTask = prepare<{ id: string; now: number }, never>((db, p) =>
  db
    .updateTable('tasks')
    .set({ status: STATE_MOVES.cancelled.to, lease: null, finished_at: p('now'), updated_at: p('now') })
    .where('id', '=', p('id'))
    .where('status', 'in', leaving('cancelled')),
);

/** Open tasks of kind chat (a gateway request: options.chat is set), with what cancelling one needs. */
export const selectOpenChats = prepare<Record<string, never>, { id: string; status: string; lease: string | null; worker_id: string | null }>((db) =>
  db
    .selectFrom('tasks')
    .select(['id', 'status', 'lease', 'worker_id'])
    .where('status', 'in', leaving('cancelled'))
    .where(sql<unknown>`json_extract(options, '$.chat')`, 'is not', null),
);

/** cancelTask, with the error saying why (the task was not cancelled by anyone). */
export const cancelTaskFor = prepare<{ id: string; now: number; error_code: string; error_message: string }, never>((db, p) =>
  db
    .updateTable('tasks')
    .set({ status: STATE_MOVES.cancelled.to, lease: null, finished_at: p('now'), updated_at: p('now'), error_code: p('error_code'), error_message: p('error_message') })
    .where('id', '=', p('id'))
    .where('status', 'in', leaving('cancelled')),
);

export const selectEvents = prepare<{ id: string }, Selectable<TaskEventsTable>>((db, p) =>
  db.selectFrom('task_events').selectAll().where('task_id', '=', p('id')).orderBy('seq'),
);

export const updatePendingPriority = prepare<{ id: string; priority: number; now: number }, QueuedRow>((db, p) =>
  db
    .updateTable('tasks')
    .set({ priority: p('priority'), updated_at: p('now') })
    .where('id', '=', p('id'))
    .where('status', '=', 'pending')
    .returning(['seq', 'priority', 'type', 'options']),
);

export const selectTask = prepare<{ id: string }, Selectable<TasksTable>>((db, p) =>
  db.selectFrom('tasks').selectAll().where('id', '=', p('id')),
);

/** Open tasks by status and priority; walks the (status, priority) index, so it stays cheap with a long queue. */
export const countOpenByPriority = prepare<Record<string, never>, { status: string; priority: number; n: number }>((db) =>
  db
    .selectFrom('tasks')
    .select(['status', 'priority', (eb) => eb.fn.countAll<number>().as('n')])
    .where('status', 'in', OPEN_STATUSES)
    .groupBy(['status', 'priority']),
);

/** The worker running this task under this lease; no row when the lease is not (or no longer) the task's. */
export const selectLeaseHolder = prepare<{ id: string; lease: string }, { worker_id: string | null }>((db, p) =>
  db.selectFrom('tasks').select('worker_id').where('id', '=', p('id')).where('lease', '=', p('lease')).where('status', '=', 'in_progress'),
);
