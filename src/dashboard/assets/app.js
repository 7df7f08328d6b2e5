// The dashboard: reads the pool's picture once, then keeps it current from what the coordinator pushes — task state
// changes over GET /events, worker changes over /ws, a task's output over its own stream. The only timer-driven read
// is a slow refresh of heartbeat ages and worker speeds.
import { api, initToken, onUnauthorized, streamUrl } from './api.js';
import { byId, el, replace } from './dom.js';
import { clock, count } from './format.js';
import { listen, socket, throttle } from './live.js';
import { renderQueue } from './queue-panel.js';
import { setupSubmitForm } from './submit-form.js';
import { renderTasks } from './tasks-panel.js';
import { TaskView } from './task-view.js';
import { ThroughputPanel } from './throughput-panel.js';
import { setupTokenDialog } from './token-dialog.js';
import { renderWorkers } from './workers-panel.js';
import { scrollCue } from './scroll-cue.js';
import { endsRun, endsTask, moveOf, STATE_KINDS, STATES, statusAfter } from './task-states.js';
/** Heartbeat ages and worker speeds: the workers table is written once per heartbeat interval anyway. */
const SLOW_REFRESH_MS = 3000;
const TASK_LIMIT = 50;

const state = {
  snapshot: null,
  /** How far the server's clock is ahead of this browser's. */
  offset: 0,
  counts: null,
  tasks: [],
  filter: '',
  /** The newest state change seen per task, so a list read before it cannot undo it. */
  latest: new Map(),
  links: { events: 'connecting', workers: 'connecting' },
};
let connections = [];

const serverNow = () => Date.now() + state.offset;

const taskView = new TaskView({ cancel }, serverNow);
const workersCue = scrollCue(document.querySelector('.workers .table-wrap'));
const throughput = new ThroughputPanel();
initToken();
const tokenDialog = setupTokenDialog(() => restart());
onUnauthorized(() => tokenDialog.ask());
setupSubmitForm((id) => {
  loadTasks();
  select(id);
});
// The filter offers every state the server has.
byId('tasks-filter').append(...STATES.map(([value, label]) => el('option', { attrs: { value }, text: label })));
byId('tasks-filter').addEventListener('change', (e) => {
  state.filter = e.target.value;
  state.tasks = [];
  loadTasks();
});

// ---- reading ----

async function loadSnapshot() {
  try {
    const s = await api('/api/dashboard');
    state.snapshot = s;
    tokenDialog.required(s.api_token_required);
    state.offset = Date.parse(s.now) - Date.now();
    state.counts = { ...s.health.queue };
    reconcileWorkers(s.workers);
    throughput.load(s.throughput);
    render();
  } catch (err) {
    problem(err);
  }
}

async function loadTasks() {
  const filter = state.filter;
  try {
    const query = new URLSearchParams({ limit: String(TASK_LIMIT), ...(filter ? { status: filter } : {}) });
    const { tasks } = await api(`/tasks?${query}`);
    if (filter !== state.filter) return;
    for (const t of tasks) {
      const latest = state.latest.get(t.task_id);
      if (latest && latest.at > Date.parse(t.updated_at)) applyToTask(t, latest.event);
    }
    state.tasks = filter ? tasks.filter((t) => t.status === filter) : tasks;
    render();
  } catch (err) {
    problem(err);
  }
}

const refreshSnapshotSoon = throttle(loadSnapshot, 1000);
const refreshTasksSoon = throttle(loadTasks, 1000);

// ---- what the streams push ----

function onTaskEvent(e) {
  const at = Date.parse(e.at);
  const seen = state.latest.get(e.task_id);
  if (!seen || seen.at <= at) state.latest.set(e.task_id, { at, event: e });
  if (state.latest.size > 5000) state.latest.delete(state.latest.keys().next().value);
  moveCount(e);
  throughput.count(e);
  patchWorker(e);
  const t = state.tasks.find((x) => x.task_id === e.task_id);
  if (t) {
    applyToTask(t, e);
    if (state.filter && t.status !== state.filter) state.tasks = state.tasks.filter((x) => x !== t);
  } else if (!state.filter || state.filter === statusAfter(e.kind)) {
    refreshTasksSoon();
  }
  // Priorities and the authoritative counts follow within a second.
  refreshSnapshotSoon();
  render();
}

function moveCount(e) {
  const counts = state.counts;
  if (!counts) return;
  // As the server's own counter moves them (src/delegation/queue-stats.ts), by the same table.
  const move = moveOf(e);
  if (!move) return;
  const [from, to] = move;
  if (from) counts[from] = Math.max(0, counts[from] - 1);
  counts[to] += 1;
}

function patchWorker(e) {
  const workers = state.snapshot?.workers;
  if (!workers) return;
  if (e.kind === 'assigned') {
    const w = workers.find((x) => x.worker_id === e.worker_id);
    if (w) Object.assign(w, { status: 'busy', current_task: e.task_id });
    return;
  }
  if (!endsRun(e.kind)) return;
  const w = workers.find((x) => x.current_task === e.task_id);
  if (!w) return;
  Object.assign(w, { status: w.status === 'busy' ? 'idle' : w.status, current_task: null });
  if (e.kind === 'completed') w.completed += 1;
  if (e.kind === 'failed') w.failed += 1;
}

/**
 * The workers table is written once per heartbeat interval, so a row may predate the last few events: replay the
 * newest event of each task that came after the worker's last heartbeat.
 */
function reconcileWorkers(workers) {
  const beatOf = (w) => (w.last_heartbeat ? Date.parse(w.last_heartbeat) : 0);
  for (const w of workers) {
    const latest = w.current_task && state.latest.get(w.current_task);
    if (latest && latest.at > beatOf(w) && latest.event.kind !== 'assigned') Object.assign(w, { status: w.status === 'busy' ? 'idle' : w.status, current_task: null });
  }
  for (const { at, event } of state.latest.values()) {
    if (event.kind !== 'assigned') continue;
    const w = workers.find((x) => x.worker_id === event.worker_id);
    if (w && at > beatOf(w)) Object.assign(w, { status: 'busy', current_task: event.task_id });
  }
}

function applyToTask(t, e) {
  t.status = statusAfter(e.kind) ?? t.status;
  if (e.kind === 'assigned') {
    t.worker_id = e.worker_id;
    if (e.attempt) t.attempts = e.attempt;
  }
  if (endsTask(e.kind)) t.finished_at = e.at;
  t.updated_at = e.at;
}

// ---- actions ----

function select(id) {
  if (!id) return;
  history.replaceState(history.state, '', `#task=${encodeURIComponent(id)}`);
  taskView.show(id);
  render();
  revealTaskView();
}

/**
 * On one column (a phone) the task view sits below the list: bring it up. Beside the list (wide screens) only when its
 * head is out of sight.
 */
function revealTaskView() {
  const panel = byId('task-view');
  panel.dataset.open = 'true';
  const { top, left } = panel.getBoundingClientRect();
  const beside = left >= byId('tasks-list').getBoundingClientRect().right;
  if (beside && top >= 0 && top <= window.innerHeight - 120) return;
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  panel.scrollIntoView({ block: 'start', behavior: still ? 'auto' : 'smooth' });
}

async function cancel(id, button) {
  const label = button?.textContent;
  if (button) {
    button.disabled = true;
    button.textContent = 'Cancelling…';
  }
  try {
    await api(`/task/${encodeURIComponent(id)}`, { method: 'DELETE' });
  } catch (err) {
    if (button) {
      button.disabled = false;
      button.textContent = label;
    }
    problem(err);
  }
}

// ---- drawing ----

let frame = 0;
/** Coalesces the many changes of a busy moment into one paint per frame. */
function render() {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    paint();
  });
}

function paint() {
  const s = state.snapshot;
  if (s) {
    renderHeader(s);
    renderQueue(state.counts, s.queue_by_priority);
    renderWorkers(s.workers, s.heartbeat, select);
    workersCue();
  }
  renderTasks(state.tasks, taskView.selected, serverNow(), { select, cancel });
  renderLinks();
}

function renderHeader(s) {
  const pill = byId('health-status');
  // A koubou-node's backend whose circuit is not closed, or that is paused, counts too, named by its group (remote:<node>:<backend>).
  const remoteDown = (s.health.remote_backends ?? [])
    .filter((g) => g.circuit !== 'closed' || g.paused_until)
    .map((g) => ({ ...g, name: g.group, status: g.circuit !== 'closed' ? 'circuit_open' : 'paused' }));
  const down = [...s.health.backends.filter((b) => (b.status ?? (b.reachable ? 'ok' : 'unreachable')) !== 'ok' || b.failed), ...remoteDown];
  pill.dataset.state = s.health.status;
  pill.textContent = s.health.status === 'ok' ? 'healthy' : 'degraded';
  pill.title = down.length ? down.map(backendProblem).join('\n') : 'every backend answers';
  const c = state.counts;
  const busy = s.workers.filter((w) => w.status === 'busy').length;
  const part = (n, label) => [el('b', { text: count(n) }), ` ${label}`];
  const parts = [
    part(s.health.workers.total, s.health.workers.total === 1 ? 'worker' : 'workers'),
    part(busy, 'busy'),
    part(c.pending, 'waiting'),
    part(c.in_progress, 'running'),
    part(c.completed, 'completed'),
    part(c.failed, 'failed'),
  ];
  for (const b of down) parts.push([backendState(b)]);
  replace(byId('health-summary'), parts.flatMap((p, i) => (i ? [' · ', ...p] : p)));
  document.title = `Koubou · ${c.pending} waiting · ${c.in_progress} running`;
  byId('queue-note').textContent = `${count(c.pending + c.in_progress)} open`;
}

/** A backend that is not fine, in a few words for the header. */
function backendState(b) {
  if (b.status === 'circuit_open') return `${b.name} circuit open since ${clock(b.since)}`;
  if (b.status === 'paused') return `${b.name} paused until ${clock(b.paused_until)}`;
  return `${b.name} ${b.status === 'model_missing' ? 'model missing' : 'down'}`;
}

/** One line per backend that is not fine: why, since when, and what to do. */
function backendProblem(b) {
  if (b.failed) return `${b.name}: ${b.failed}`;
  if (b.status === 'circuit_open') return `${b.name}: circuit open since ${clock(b.since)} (next probe ${b.probe_at ? clock(b.probe_at) : 'soon'})`;
  if (b.status === 'paused') return `${b.name}: ${b.paused_by === 'retry_after' ? 'asked for a pause (Retry-After)' : 'said it is busy'}; no new work before ${clock(b.paused_until)}`;
  if (b.status === 'model_missing') return `${b.name}: model ${b.model} missing; to fix: ${b.fix}`;
  return `${b.name}: unreachable`;
}

function renderLinks() {
  const states = Object.values(state.links);
  const live = byId('live');
  const up = states.every((s) => s === 'live');
  live.dataset.state = up ? 'live' : 'connecting';
  live.textContent = up ? 'live' : 'reconnecting…';
}

let problemTimer = 0;
function problem(err) {
  if (err?.status === 401) return; // the token dialog is asking
  const toast = byId('toast');
  toast.textContent = err.message;
  toast.hidden = false;
  clearTimeout(problemTimer);
  problemTimer = setTimeout(() => (toast.hidden = true), 6000);
}

// ---- connections ----

function linkState(name) {
  return (s) => {
    state.links[name] = s;
    renderLinks();
  };
}

function start() {
  loadSnapshot();
  loadTasks();
  connections = [
    // Every state change; output pieces (`progress`) only come for the open task, on its own stream.
    listen(() => streamUrl('/events', { kind: STATE_KINDS }), {
      // Each (re)connection: what happened while away is read again.
      ready: () => {
        refreshSnapshotSoon();
        refreshTasksSoon();
      },
      task: onTaskEvent,
    }, linkState('events')),
    socket(() => streamUrl('/ws', {}, { ws: true }), {
      onOpen: (send) => {
        send({ type: 'subscribe', channel: 'worker' });
        refreshSnapshotSoon();
      },
      onMessage: (m) => m.type === 'event' && m.channel === 'worker' && refreshSnapshotSoon(),
    }, linkState('workers')),
  ];
  const fromHash = /^#task=(.+)$/.exec(location.hash);
  if (fromHash) select(decodeURIComponent(fromHash[1]));
}

function restart() {
  for (const c of connections) c.close();
  tokenDialog.refresh();
  start(); // the open task (named in the address) opens again with the new token
}

setInterval(() => {
  if (document.visibilityState === 'visible') loadSnapshot();
}, SLOW_REFRESH_MS);
// The open task's running time keeps counting.
setInterval(() => taskView.tick(), 1000);
window.addEventListener('hashchange', () => {
  const m = /^#task=(.+)$/.exec(location.hash);
  if (m && decodeURIComponent(m[1]) !== taskView.selected) select(decodeURIComponent(m[1]));
});

start();
