/**
 * The task state machine, in one place: the states, which are final, and each state-changing event with the states it
 * may leave and the one it enters. The store's statements, the wait logic, the queue counts, the metrics and the
 * dashboard (served as /dashboard/task-states.js) all read this table.
 *
 *   pending → in_progress → completed | failed | cancelled;  in_progress → pending (requeue, retry, deferral);
 *   pending → cancelled.
 */

export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

const FINAL = ['completed', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];
/** Terminal states: nothing that arrives later changes them. */
export type FinalStatus = (typeof FINAL)[number];
export const FINAL_STATUSES: ReadonlySet<TaskStatus> = new Set(FINAL);

/** Whether a state is final (narrows the type). */
export function isFinalStatus(status: TaskStatus | null): status is FinalStatus {
  return status !== null && FINAL_STATUSES.has(status);
}

/** The states a task can still leave, in the order it passes them. */
export type OpenStatus = Exclude<TaskStatus, (typeof FINAL)[number]>;
export const OPEN_STATUSES = TASK_STATUSES.filter((s) => !FINAL_STATUSES.has(s)) as readonly OpenStatus[];

/** What people read for a state (dashboard tiles and filters). */
const STATUS_LABELS: Readonly<Record<TaskStatus, string>> = {
  pending: 'waiting',
  in_progress: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** One allowed move: the states an event may take a task out of (none: it creates the task), and the one it enters. */
export interface StateMove {
  readonly from: readonly TaskStatus[];
  readonly to: TaskStatus;
}

/** Every event that changes a task's state, with its move. `progress` (streamed output) changes none. */
export const STATE_MOVES = {
  queued: { from: [], to: 'pending' },
  assigned: { from: ['pending'], to: 'in_progress' },
  /** Its worker was lost. */
  requeued: { from: ['in_progress'], to: 'pending' },
  /** A retryable failure. */
  retried: { from: ['in_progress'], to: 'pending' },
  /** Backpressure: no attempt spent. */
  deferred: { from: ['in_progress'], to: 'pending' },
  completed: { from: ['in_progress'], to: 'completed' },
  failed: { from: ['in_progress'], to: 'failed' },
  cancelled: { from: ['pending', 'in_progress'], to: 'cancelled' },
} as const satisfies Record<string, StateMove>;

export type StateEventKind = keyof typeof STATE_MOVES;
export const STATE_EVENT_KINDS = Object.keys(STATE_MOVES) as StateEventKind[];

/** Whether an event of this kind changes a task's state. */
export function isStateEventKind(kind: string): kind is StateEventKind {
  return Object.hasOwn(STATE_MOVES, kind);
}

/** Whether an event of this kind may take a task out of this state. */
export function mayLeave(kind: StateEventKind, status: TaskStatus): boolean {
  return (STATE_MOVES[kind].from as readonly TaskStatus[]).includes(status);
}

/** The state a task is in after an event of this kind; null for events that change no state (progress). */
export function statusAfter(kind: string): TaskStatus | null {
  return isStateEventKind(kind) ? STATE_MOVES[kind].to : null;
}

/** Whether an event of this kind leaves the task in a final state. */
export function endsTask(kind: string): boolean {
  return isFinalStatus(statusAfter(kind));
}

/** Whether an event of this kind ends a run (the task leaves in_progress, or may: a cancel). */
export function endsRun(kind: string): boolean {
  return isStateEventKind(kind) && mayLeave(kind, 'in_progress');
}

/**
 * The move an event made: [the state it left (null when it created the task), the state it entered]; null for events
 * that change no state. When a kind may leave more than one state, the event's `from` (detail.from as the store writes
 * it) says which; without it the first is assumed.
 */
export function moveOf(kind: string, from?: unknown): [TaskStatus | null, TaskStatus] | null {
  if (!isStateEventKind(kind)) return null;
  const move: StateMove = STATE_MOVES[kind];
  const left = move.from.length > 1 && move.from.includes(from as TaskStatus) ? (from as TaskStatus) : (move.from[0] ?? null);
  return [left, move.to];
}

/** Task counts by state, every state at zero. */
export function zeroCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

/** The table as the dashboard reads it (GET /dashboard/task-states.js). */
export function stateTableJson() {
  return {
    statuses: TASK_STATUSES,
    final: [...FINAL_STATUSES],
    open: OPEN_STATUSES,
    labels: STATUS_LABELS,
    moves: STATE_MOVES,
  };
}
