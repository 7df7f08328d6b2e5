/** Every read and state transition of tasks. Each transition appends to the task's event log in the same transaction. */
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../clock.js';
import type { TaskEvent, TaskEventKind } from '../events/types.js';
import type { QueuedTask, Task, TaskFile, TaskOptions, TaskOutcome, TaskStatus, TaskType } from '../tasks/task.js';
import type { Schema, TaskEventRow } from './schema.js';
import * as q from './task-queries.js';
import { rowToTask } from './task-mapping.js';
import type { WriteBatcher } from './write-batcher.js';

export interface NewTask {
  id: string;
  type: TaskType;
  prompt: string;
  files: TaskFile[];
  options: TaskOptions;
  priority: number;
}

export type StatusCounts = Record<TaskStatus, number>;

type Db = Kysely<Schema> | Transaction<Schema>;

export class TaskRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly writer: WriteBatcher,
    private readonly clock: Clock,
  ) {}

  /** Inserts a pending task; resolves once it is committed to disk. */
  insert(task: NewTask): Promise<{ queued: QueuedTask; event: TaskEvent }> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      const [inserted] = await q.insertTask.run(trx, {
        id: task.id,
        type: task.type,
        prompt: task.prompt,
        files: JSON.stringify(task.files),
        options: JSON.stringify(task.options),
        priority: task.priority,
        created_at: now,
        updated_at: now,
      });
      const seq = inserted!.seq;
      const event = await appendEvent(trx, { taskId: task.id, kind: 'queued', at: now, detail: { priority: task.priority } });
      return { queued: { id: task.id, seq, priority: task.priority, model: task.options.model ?? null }, event };
    });
  }

  /** pending → in_progress under a new lease; null when the task is no longer pending (cancelled meanwhile). */
  assign(id: string, workerId: string, lease: string): Promise<{ task: Task; event: TaskEvent } | null> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      const [row] = await q.assignTask.run(trx, { id, worker_id: workerId, lease, now });
      if (!row) return null;
      const event = await appendEvent(trx, { taskId: id, kind: 'assigned', at: now, workerId, lease, detail: { attempt: row.attempts } });
      return { task: rowToTask(row), event };
    });
  }

  /** in_progress → completed|failed, only for the lease that holds the task; null when that lease is stale. */
  finish(id: string, lease: string, outcome: TaskOutcome): Promise<TaskEvent | null> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      const failed = outcome.status === 'failed';
      const [row] = await q.finishTask.run(trx, {
        id,
        lease,
        status: outcome.status,
        output: failed ? null : outcome.output,
        error_code: failed ? outcome.error.code : null,
        error_message: failed ? outcome.error.message : null,
        now,
      });
      if (!row) return null;
      if (row.worker_id) await (failed ? q.countWorkerFailed : q.countWorkerCompleted).run(trx, { id: row.worker_id });
      return appendEvent(trx, {
        taskId: id,
        kind: outcome.status,
        at: now,
        workerId: row.worker_id,
        lease,
        detail: failed ? { error: outcome.error } : null,
      });
    });
  }

  /** in_progress → pending for the given lease (worker lost, shutdown); the attempt stays counted. */
  requeue(id: string, lease: string, reason: string): Promise<{ queued: QueuedTask; event: TaskEvent } | null> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      const [row] = await q.requeueTask.run(trx, { id, lease, now });
      if (!row) return null;
      const event = await appendEvent(trx, { taskId: id, kind: 'requeued', at: now, lease, detail: { reason } });
      return { queued: toQueued(id, row), event };
    });
  }

  /** At start-up: every task a dead process left in progress goes back to pending. Returns their events. */
  requeueOrphans(reason: string): Promise<TaskEvent[]> {
    return this.writer.write(async (trx) => {
      const now = this.clock.now();
      const rows = await trx
        .updateTable('tasks')
        .set({ status: 'pending', worker_id: null, lease: null, started_at: null, updated_at: now })
        .where('status', '=', 'in_progress')
        .returning(['id', 'lease'])
        .execute();
      const events: TaskEvent[] = [];
      for (const row of rows) {
        events.push(await appendEvent(trx, { taskId: row.id, kind: 'requeued', at: now, lease: row.lease, detail: { reason } }));
      }
      return events;
    });
  }

  /** Every pending task in dispatch order (priority desc, oldest first), without prompts. */
  async pendingQueue(): Promise<QueuedTask[]> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['id', 'seq', 'priority', 'options'])
      .where('status', '=', 'pending')
      .orderBy('priority', 'desc')
      .orderBy('seq', 'asc')
      .execute();
    return rows.map((r) => toQueued(r.id, r));
  }

  async get(id: string): Promise<Task | null> {
    const [row] = await q.selectTask.run(this.db, { id });
    return row ? rowToTask(row) : null;
  }

  /** Newest first, optionally filtered by status. */
  async list(filter: { status?: TaskStatus | undefined; limit: number }): Promise<Task[]> {
    let q = this.db.selectFrom('tasks').selectAll();
    if (filter.status) q = q.where('status', '=', filter.status);
    const rows = await q.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map(rowToTask);
  }

  async countByStatus(): Promise<StatusCounts> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const counts: StatusCounts = { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 };
    for (const r of rows) counts[r.status as TaskStatus] = Number(r.n);
    return counts;
  }

  /** The task's history, oldest first. */
  async events(id: string): Promise<TaskEvent[]> {
    const rows = await this.db.selectFrom('task_events').selectAll().where('task_id', '=', id).orderBy('seq').execute();
    return rows.map(rowToEvent);
  }
}

function toQueued(id: string, row: { seq: number; priority: number; options: string }): QueuedTask {
  const options = JSON.parse(row.options) as TaskOptions;
  return { id, seq: row.seq, priority: row.priority, model: options.model ?? null };
}

async function appendEvent(db: Db, e: TaskEvent & { kind: TaskEventKind }): Promise<TaskEvent> {
  await q.insertEvent.run(db, {
    task_id: e.taskId,
    at: e.at,
    kind: e.kind,
    worker_id: e.workerId ?? null,
    lease: e.lease ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  });
  return e;
}

function rowToEvent(row: TaskEventRow): TaskEvent {
  return {
    taskId: row.task_id,
    kind: row.kind as TaskEventKind,
    at: row.at,
    workerId: row.worker_id,
    lease: row.lease,
    detail: row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : null,
  };
}
