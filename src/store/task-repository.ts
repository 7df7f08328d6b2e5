/**
 * Every read and state transition of tasks. The task row records how a task began (created_at, priority) and ended
 * (finished_at, status, output or error); the event log, written in the same transaction, records what happened in
 * between (assigned, retried, requeued, cancelled). History reads join the two, so the common path writes one log row
 * per attempt instead of three per task.
 */
import type { Kysely } from 'kysely';
import { sql } from './kysely.js';
import type { Clock } from '../clock.js';
import type { TaskEvent, TaskEventKind } from '../events/types.js';
import { OUTPUT_EXCERPT_CHARS, type ListedTask, type QueuedTask, type Task, type TaskError, type TaskFile, type TaskOptions, type TaskOutcome, type TaskStatus, type TaskType } from '../tasks/task.js';
import { mayLeave, zeroCounts, type OpenStatus } from '../tasks/states.js';
import type { SqlRunner } from './prepared.js';
import type { Schema, TaskEventRow } from './schema.js';
import * as q from './task-queries.js';
import { rowToListedTask, rowToTask } from './task-mapping.js';
import type { WriteBatcher } from './write-batcher.js';

export interface NewTask {
  id: string;
  type: TaskType;
  prompt: string;
  files: TaskFile[];
  options: TaskOptions;
  priority: number;
  idempotencyKey?: string | null;
  /** What the submission was (tasks/fingerprint.ts), kept with the key to tell a repeat from a reuse. */
  idempotencyFingerprint?: string | null;
}

/**
 * Every column a listing reads as it is: all but `files` (attached contents), `output` (read as an excerpt) and
 * `reasoning` (never listed: it can be as large as the output; the task's own status has it).
 */
const LISTED_COLUMNS = [
  'seq', 'id', 'type', 'prompt', 'options', 'priority', 'status', 'attempts', 'worker_id', 'lease', 'answer',
  'error_code', 'error_message', 'created_at', 'started_at', 'finished_at', 'updated_at', 'idempotency_key', 'idempotency_fingerprint',
] as const;

/** How long an idempotency key keeps naming its task. */
const IDEMPOTENCY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface PriorityCount {
  priority: number;
  pending: number;
  in_progress: number;
}

/** Inserted; or the key already names `existing` (`sameSubmission` false when its fingerprint differs). */
export type InsertResult = { queued: QueuedTask; event: TaskEvent } | { existing: string; sameSubmission: boolean };

export type StatusCounts = Record<TaskStatus, number>;

export type CancelResult =
  | { cancelled: true; from: OpenStatus; lease: string | null; event: TaskEvent }
  | { cancelled: false; status: TaskStatus };

export class TaskRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly sql: SqlRunner,
    private readonly writer: WriteBatcher,
    private readonly clock: Clock,
  ) {}

  /**
   * Inserts a pending task; resolves once it is committed to disk. With an idempotency key already used in the last
   * 24 h it inserts nothing and names the existing task, saying whether it was created by the same submission (a task
   * stored without a fingerprint counts as the same: nothing tells otherwise). Check and insert share one transaction, so two concurrent
   * submits with one key cannot both insert.
   */
  insert(task: NewTask): Promise<InsertResult> {
    return this.writer.write((sql): InsertResult => {
      const now = this.clock.now();
      const key = task.idempotencyKey ?? null;
      if (key !== null) {
        const existing = this.keyedIn(sql, key, task.idempotencyFingerprint ?? null, now);
        if (existing) return existing;
      }
      const [inserted] = sql.all(q.insertTask, {
        id: task.id,
        type: task.type,
        prompt: task.prompt,
        files: JSON.stringify(task.files),
        options: JSON.stringify(task.options),
        priority: task.priority,
        created_at: now,
        updated_at: now,
        idempotency_key: key,
        idempotency_fingerprint: key === null ? null : (task.idempotencyFingerprint ?? null),
      });
      const seq = inserted!.seq;
      const event: TaskEvent = { taskId: task.id, kind: 'queued', at: now, detail: { priority: task.priority, type: task.type } };
      return { queued: queuedTask(task.id, seq, task.priority, task.type, task.options), event };
    });
  }

  /**
   * The task an idempotency key still names (as insert would find it, in order with the writes), or null: lets a
   * repeated submission be answered when no new task could be queued.
   */
  keyed(key: string, fingerprint: string | null): Promise<{ existing: string; sameSubmission: boolean } | null> {
    return this.writer.write((sql) => this.keyedIn(sql, key, fingerprint, this.clock.now()));
  }

  private keyedIn(sql: SqlRunner, key: string, fingerprint: string | null, now: number): { existing: string; sameSubmission: boolean } | null {
    sql.all(q.expireIdempotencyKey, { key, before: now - IDEMPOTENCY_WINDOW_MS });
    const existing = sql.first(q.selectByIdempotencyKey, { key });
    if (!existing) return null;
    const stored = existing.idempotency_fingerprint;
    return { existing: existing.id, sameSubmission: stored === null || stored === fingerprint };
  }

  /** pending → in_progress under a new lease; resolves with the `assigned` event, or null when no longer pending. */
  assign(id: string, workerId: string, lease: string): Promise<{ attempt: number; event: TaskEvent } | null> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      const row = sql.first(q.assignTask, { id, worker_id: workerId, lease, now });
      if (!row) return null;
      const event = appendEvent(sql, { taskId: id, kind: 'assigned', at: now, workerId, lease, detail: { attempt: row.attempts } });
      return { attempt: row.attempts, event };
    });
  }

  /**
   * The worker holding `lease` on this running task, or null when the lease is not (or no longer) the task's. Queued
   * with the writes, so an assignment made before the call is seen.
   */
  leaseHolder(id: string, lease: string): Promise<string | null> {
    return this.writer.write((sql) => sql.first(q.selectLeaseHolder, { id, lease })?.worker_id ?? null);
  }

  /** in_progress → completed|failed, only for the lease that holds the task; null when that lease is stale. */
  finish(id: string, lease: string, outcome: TaskOutcome): Promise<TaskEvent | null> {
    return this.writer.write((sql) => this.finishIn(sql, id, lease, outcome, this.clock.now()));
  }

  private finishIn(sql: SqlRunner, id: string, lease: string, outcome: TaskOutcome, now: number): TaskEvent | null {
    const failed = outcome.status === 'failed';
    const { reasoning = null, ...answer } = outcome.answer ?? {};
    const row = sql.first(q.finishTask, {
      id,
      lease,
      status: outcome.status,
      output: outcome.output ?? null,
      changes: outcome.status === 'completed' && outcome.changes ? JSON.stringify(outcome.changes) : null,
      error_code: failed ? outcome.error.code : null,
      error_message: failed ? outcome.error.message : null,
      answer: outcome.answer ? JSON.stringify(answer) : null,
      reasoning,
      now,
    });
    if (!row) return null;
    if (row.worker_id) sql.all(failed ? q.countWorkerFailed : q.countWorkerCompleted, { id: row.worker_id });
    return { taskId: id, kind: outcome.status, at: now, workerId: row.worker_id, lease, detail: failed ? { error: outcome.error } : null };
  }

  /**
   * Its worker was lost: in_progress → pending for the given lease (the attempt stays counted), or → failed with
   * `worker_lost` once the task has had maxAttempts, so a task that kills its workers cannot loop forever.
   * Null when that lease no longer holds the task.
   */
  requeue(id: string, lease: string, reason: string, maxAttempts: number): Promise<{ queued: QueuedTask | null; event: TaskEvent } | null> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      const held = sql.first(q.selectLeasedAttempts, { id, lease });
      if (!held) return null;
      if (held.attempts >= maxAttempts) {
        const error = { code: 'worker_lost', message: `${reason} (attempt ${held.attempts} of ${maxAttempts})` };
        return { queued: null, event: this.finishIn(sql, id, lease, { status: 'failed', error }, now)! };
      }
      const row = sql.first(q.requeueTask, { id, lease, now })!;
      const event = appendEvent(sql, { taskId: id, kind: 'requeued', at: now, lease, detail: { reason, attempt: held.attempts } });
      return { queued: toQueued(id, row), event };
    });
  }

  /** A retryable failure: in_progress → pending for the given lease, to run again after retryInMs. */
  retry(id: string, lease: string, error: TaskError, retryInMs: number): Promise<{ queued: QueuedTask; event: TaskEvent } | null> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      const row = sql.first(q.requeueTask, { id, lease, now });
      if (!row) return null;
      const event = appendEvent(sql, { taskId: id, kind: 'retried', at: now, lease, detail: { error, retry_in_ms: retryInMs } });
      return { queued: toQueued(id, row), event };
    });
  }

  /**
   * Backpressure (the backend was busy, rate-limited or not there): in_progress → pending for the given lease with the
   * attempt given back, to be queued again after waitMs. Once its first deferral is maxDeferMs or more ago, the task
   * fails `backend_unavailable` instead (queued null, `deferredMs` how long ago), so a server that never takes work
   * cannot keep it forever. Null when that lease no longer holds the task.
   */
  defer(
    id: string,
    lease: string,
    reason: TaskError,
    waitMs: number,
    backend: string,
    maxDeferMs: number,
  ): Promise<{ queued: QueuedTask; event: TaskEvent } | { queued: null; event: TaskEvent; error: TaskError; deferredMs: number } | null> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      if (!sql.first(q.selectLeasedAttempts, { id, lease })) return null;
      const first = sql.first(q.selectFirstDeferral, { id })?.at ?? null;
      if (first !== null && now - first >= maxDeferMs) {
        const deferredMs = now - first;
        const message =
          `backend ${backend} kept pushing back for ${Math.round(deferredMs / 1000)} s since the task's first deferral ` +
          `(tasks.max_defer_ms is ${maxDeferMs}); last: ${reason.code}: ${reason.message}`;
        const error = { code: 'backend_unavailable', message };
        return { queued: null, event: this.finishIn(sql, id, lease, { status: 'failed', error }, now)!, error, deferredMs };
      }
      const row = sql.first(q.deferTask, { id, lease, now })!;
      const event = appendEvent(sql, { taskId: id, kind: 'deferred', at: now, lease, detail: { reason, backend, wait_ms: waitMs } });
      return { queued: toQueued(id, row), event };
    });
  }

  /**
   * pending|in_progress → cancelled. Returns the state it left (and the lease that ran it), or the final state it is
   * already in, or null for an unknown id. Clearing the lease makes any later result from the old run a no-op. `why`:
   * the task's error, when it was cancelled for a reason rather than by whoever asked (its event then says it too).
   */
  cancel(id: string, why?: TaskError): Promise<CancelResult | null> {
    return this.writer.write((sql) => {
      const row = sql.first(q.selectStatus, { id });
      if (!row) return null;
      const from = row.status as TaskStatus;
      if (!mayLeave('cancelled', from)) return { cancelled: false, status: from };
      const now = this.clock.now();
      if (why) sql.all(q.cancelTaskFor, { id, now, error_code: why.code, error_message: why.message });
      else sql.all(q.cancelTask, { id, now });
      const event = appendEvent(sql, { taskId: id, kind: 'cancelled', at: now, workerId: row.worker_id, lease: row.lease, detail: why ? { from, error: why } : { from } });
      return { cancelled: true, from: from as OpenStatus, lease: row.lease, event };
    });
  }

  /** A pending task's new priority; null when the task is not pending (or unknown). */
  setPriority(id: string, priority: number): Promise<QueuedTask | null> {
    return this.writer.write((sql) => {
      const row = sql.first(q.updatePendingPriority, { id, priority, now: this.clock.now() });
      return row ? toQueued(id, row) : null;
    });
  }

  /** At start-up: every task a dead process left in progress goes back to pending. Returns their events. */
  requeueOrphans(reason: string): Promise<TaskEvent[]> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      const rows = sql.all(q.requeueAllInProgress, { now });
      const events: TaskEvent[] = [];
      for (const row of rows) {
        events.push(appendEvent(sql, { taskId: row.id, kind: 'requeued', at: now, lease: row.lease, detail: { reason } }));
      }
      return events;
    });
  }

  /**
   * Cancels every pending or running gateway request (task of kind chat): its client's connection did not outlive this
   * process, so nobody would take its answer. The task's error is `code` (default `client_gone`) with `reason`.
   * Returns the events.
   */
  cancelOpenChats(reason: string, code = 'client_gone'): Promise<TaskEvent[]> {
    return this.writer.write((sql) => {
      const now = this.clock.now();
      return sql.all(q.selectOpenChats, {}).map((row) => {
        sql.all(q.cancelTaskFor, { id: row.id, now, error_code: code, error_message: reason });
        return appendEvent(sql, { taskId: row.id, kind: 'cancelled', at: now, workerId: row.worker_id, lease: row.lease, detail: { from: row.status, reason } });
      });
    });
  }

  /** Every pending task in dispatch order (priority desc, oldest first), without prompts. */
  async pendingQueue(): Promise<QueuedTask[]> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['id', 'seq', 'priority', 'type', 'options'])
      .where('status', '=', 'pending')
      .orderBy('priority', 'desc')
      .orderBy('seq', 'asc')
      .execute();
    return rows.map((r) => toQueued(r.id, r));
  }

  get(id: string): Task | null {
    const row = this.sql.first(q.selectTask, { id });
    return row ? rowToTask(row) : null;
  }

  /** Newest first, optionally filtered by status; each with an excerpt of its output, not the output (see ListedTask). */
  async list(filter: { status?: TaskStatus | undefined; limit: number }): Promise<ListedTask[]> {
    let query = this.db
      .selectFrom('tasks')
      .select(LISTED_COLUMNS)
      // SQLite cuts the excerpt: whole outputs never leave the database for a listing.
      .select([
        sql<string | null>`substr(output, 1, ${OUTPUT_EXCERPT_CHARS})`.as('output'),
        sql<number | null>`length(cast(output as blob))`.as('output_bytes'),
        sql<string | null>`null`.as('reasoning'),
      ]);
    if (filter.status) query = query.where('status', '=', filter.status);
    const rows = await query.orderBy('seq', 'desc').limit(filter.limit).execute();
    return rows.map(rowToListedTask);
  }

  /** Pending and running tasks per priority, highest first; priorities with no open task are left out. */
  openByPriority(): PriorityCount[] {
    const byPriority = new Map<number, PriorityCount>();
    for (const row of this.sql.all(q.countOpenByPriority, {})) {
      let entry = byPriority.get(row.priority);
      if (!entry) byPriority.set(row.priority, (entry = { priority: row.priority, pending: 0, in_progress: 0 }));
      if (row.status === 'pending') entry.pending = Number(row.n);
      else entry.in_progress = Number(row.n);
    }
    return [...byPriority.values()].sort((a, b) => b.priority - a.priority);
  }

  async countByStatus(): Promise<StatusCounts> {
    const rows = await this.db
      .selectFrom('tasks')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    const counts: StatusCounts = zeroCounts();
    for (const r of rows) counts[r.status as TaskStatus] = Number(r.n);
    return counts;
  }

  /** The task's history, oldest first: queued, what the log recorded, then how it ended. */
  events(id: string): TaskEvent[] {
    const task = this.get(id);
    if (!task) return [];
    const logged = loggedEvents(this.sql, id);
    const history: TaskEvent[] = [{ taskId: id, kind: 'queued', at: task.createdAt, detail: { priority: task.priority, type: task.type } }, ...logged];
    if (task.status === 'completed' || task.status === 'failed') {
      history.push({
        taskId: id,
        kind: task.status,
        at: task.finishedAt ?? task.updatedAt,
        workerId: task.workerId,
        lease: task.lease,
        detail: task.error ? { error: task.error } : null,
      });
    }
    return history;
  }
}

function toQueued(id: string, row: q.QueuedRow): QueuedTask {
  return queuedTask(id, row.seq, row.priority, row.type as TaskType, JSON.parse(row.options) as TaskOptions);
}

function queuedTask(id: string, seq: number, priority: number, type: TaskType, options: TaskOptions): QueuedTask {
  return {
    id,
    seq,
    priority,
    type,
    anyType: options.any_type === true,
    model: options.model ?? null,
    chat: options.chat !== undefined,
    maxTokens: options.max_tokens ?? null,
    workdir: options.workdir ?? null,
  };
}

function appendEvent(sql: SqlRunner, e: TaskEvent & { kind: TaskEventKind }): TaskEvent {
  sql.all(q.insertEvent, {
    task_id: e.taskId,
    at: e.at,
    kind: e.kind,
    worker_id: e.workerId ?? null,
    lease: e.lease ?? null,
    detail: e.detail ? JSON.stringify(e.detail) : null,
  });
  return e;
}

function loggedEvents(sql: SqlRunner, id: string): TaskEvent[] {
  return sql.all(q.selectEvents, { id }).map(rowToEvent);
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
