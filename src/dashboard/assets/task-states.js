// What the page knows of task states, all read from the server's state table (state-table.js, made by the server).
import { TASK_STATES } from './state-table.js';

const { moves } = TASK_STATES;

/** The states in order, each with what people read for it: [[status, label], …]. */
export const STATES = TASK_STATES.statuses.map((s) => [s, TASK_STATES.labels[s]]);
/** Final states, in order (the throughput chart's series). */
export const FINAL_STATES = TASK_STATES.final;
const FINAL = new Set(FINAL_STATES);
/** Every event kind that changes a state, comma-separated as GET /events?kind= takes them. */
export const STATE_KINDS = Object.keys(moves).join(',');

/** What people read for a state: "waiting", "running", … */
export const labelOf = (status) => TASK_STATES.labels[status] ?? status;
export const isFinal = (status) => FINAL.has(status);
export const isOpen = (status) => TASK_STATES.open.includes(status);
/** The state after an event of this kind; undefined when it changes none (progress). */
export const statusAfter = (kind) => moves[kind]?.to;
/** Whether an event of this kind ends the task. */
export const endsTask = (kind) => FINAL.has(statusAfter(kind));
/** Whether an event of this kind ends a run (its task leaves, or may leave, in_progress). */
export const endsRun = (kind) => moves[kind]?.from.includes('in_progress') ?? false;

/** [state left (null: the task is new), state entered] for a state change; the event's `from` tells when the kind may leave several. */
export function moveOf(e) {
  const m = moves[e.kind];
  if (!m) return null;
  return [m.from.length > 1 && m.from.includes(e.from) ? e.from : (m.from[0] ?? null), m.to];
}
