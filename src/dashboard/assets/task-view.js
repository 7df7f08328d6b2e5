// The task view: one task's state, prompt, output as it streams, and its history, kept live by the task's own stream
// (GET /api/dashboard/tasks/:id/stream: a snapshot, then every event of the task).
import { api, streamUrl } from './api.js';
import { badge, byId, el, replace } from './dom.js';
import { clock, count, duration, preciseClock } from './format.js';
import { listen } from './live.js';
import { endsTask, isFinal, isOpen, labelOf, statusAfter } from './task-states.js';
/** Short prompts are shown open; long ones folded. */
const OPEN_PROMPT_CHARS = 400;
/** Why a pending task waits changes without an event of its own (a circuit opens, a worker frees): asked this often. */
const WAITING_REFRESH_MS = 2000;

/** "12 in · 40 out (30 reasoning)", from a result's usage. */
function tokens(usage) {
  if (!usage || (usage.prompt_tokens === null && usage.completion_tokens === null)) return '—';
  const reasoning = usage.reasoning_tokens !== undefined ? ` (${count(usage.reasoning_tokens)} reasoning)` : '';
  return `${count(usage.prompt_tokens ?? 0)} in · ${count(usage.completion_tokens ?? 0)} out${reasoning}`;
}

const errorText = (error) => (error && typeof error === 'object' ? `${error.code}: ${error.message}` : String(error ?? ''));

/** What one history entry adds to its kind. */
function describe(e) {
  switch (e.kind) {
    case 'queued':
      return [e.type, e.priority !== undefined ? `priority ${e.priority}` : null].filter(Boolean).join(' · ');
    case 'assigned':
      return [e.worker_id, e.attempt ? `attempt ${e.attempt}` : null].filter(Boolean).join(' · ');
    case 'retried':
      return `${errorText(e.error)}${e.retry_in_ms !== undefined ? ` · again in ${duration(e.retry_in_ms)}` : ''}`;
    case 'deferred':
      return `${e.backend ?? ''} pushed back: ${errorText(e.reason)} · waits ${duration(e.wait_ms ?? 0)} (no attempt spent)`;
    case 'requeued':
      return e.reason ?? '';
    case 'completed':
      return e.worker_id ?? '';
    case 'failed':
      return errorText(e.error);
    case 'cancelled':
      return e.from ? `was ${labelOf(e.from)}` : '';
    default:
      return '';
  }
}

export class TaskView {
  /** actions: {cancel(id, button)}; now(): the server's time as the page estimates it. */
  constructor(actions, now) {
    this.root = byId('task-view-body');
    this.actions = actions;
    this.now = now;
    this.id = null;
    this.stream = null;
    this.view = null;
    /** A pending task's `waiting_for` from its status, and when it was asked. */
    this.waiting = null;
    this.waitingAskedAt = 0;
  }

  get selected() {
    return this.id;
  }

  /** Opens a task (again, when asked for the open one: a fresh snapshot). */
  async show(id) {
    this.stream?.close();
    this.stream = null;
    this.id = id;
    this.view = null;
    this.waiting = null;
    replace(this.root, el('p', { class: 'empty', text: 'Loading…' }));
    try {
      // Asked first through the API, so an unknown id or a missing token gets a clear answer.
      const status = await api(`/task/${encodeURIComponent(id)}/status`);
      this.waiting = status.waiting_for ?? null;
      this.waitingAskedAt = Date.now();
    } catch (err) {
      if (this.id === id) replace(this.root, el('p', { class: 'error-box', text: `Cannot open task ${id}: ${err.message}` }));
      return;
    }
    if (this.id !== id) return;
    this.stream = listen(() => streamUrl(`/api/dashboard/tasks/${encodeURIComponent(id)}/stream`), {
      snapshot: (s) => this.id === id && this.snapshot(s),
      task: (e) => this.id === id && this.event(e),
    });
  }

  snapshot(s) {
    this.view = {
      task: s.task,
      prompt: s.prompt,
      promptLength: s.prompt_length,
      history: [],
      seen: new Set(),
      // The attempt the output belongs to; null while unknown (the next piece's lease is adopted, not a restart).
      lease: s.output ? s.lease : null,
    };
    // An ended task's stream buffer is gone: its stored answer is the output, shown with the warning that goes with it.
    this.build(s.output?.text ?? (isFinal(s.task.status) ? (s.task.result?.output ?? '') : ''));
    for (const e of s.history) this.addHistory(e);
    if (isFinal(s.task.status)) this.finish();
  }

  event(e) {
    const v = this.view;
    if (!v) return;
    if (e.kind === 'progress') {
      if (v.lease !== null && e.lease !== v.lease) this.setOutput('');
      v.lease = e.lease;
      this.appendOutput(e.chunk ?? '');
      return;
    }
    this.addHistory(e);
    if (e.kind === 'retried' || e.kind === 'deferred' || e.kind === 'requeued') {
      // That attempt is over; the next one streams afresh.
      this.setOutput('');
      v.lease = null;
    } else if (e.kind === 'assigned' && v.lease !== null && e.lease !== v.lease) {
      this.setOutput('');
      v.lease = e.lease;
    }
    const t = v.task;
    t.status = statusAfter(e.kind) ?? t.status;
    // Back in the queue: the old reason no longer holds; the next tick asks for the new one.
    if (statusAfter(e.kind) === 'pending') {
      this.waiting = null;
      this.waitingAskedAt = 0;
    }
    if (e.kind === 'assigned') {
      t.worker_id = e.worker_id;
      if (e.attempt) t.attempts = e.attempt;
      t.started_at = e.at;
    }
    if (endsTask(e.kind)) t.finished_at = e.at;
    this.renderHead();
    if (isFinal(t.status)) this.finish();
  }

  /** The task has ended: read its final result (the output as stored) and stop listening. */
  async finish() {
    const id = this.id;
    this.stream?.close();
    this.stream = null;
    try {
      const task = await api(`/task/${encodeURIComponent(id)}/status`);
      if (this.id !== id || !this.view) return;
      this.view.task = task;
      if (task.result?.output !== null && task.result?.output !== undefined) this.setOutput(task.result.output);
    } catch {
      // What the stream showed stays on screen.
    }
    if (this.id === id) this.renderHead();
  }

  close() {
    this.stream?.close();
    this.stream = null;
    this.id = null;
    this.view = null;
    replace(this.root, el('p', { class: 'empty', text: 'Select a task to follow its output and history.' }));
  }

  /** Called every second: durations of a live task keep counting. */
  tick() {
    if (this.view && !isFinal(this.view.task.status)) this.renderMeta();
    if (this.view?.task.status === 'pending' && Date.now() - this.waitingAskedAt >= WAITING_REFRESH_MS) void this.refreshWaiting();
  }

  /** Asks the server again why the pending task waits. */
  async refreshWaiting() {
    const id = this.id;
    this.waitingAskedAt = Date.now();
    try {
      const status = await api(`/task/${encodeURIComponent(id)}/status`);
      if (this.id !== id || !this.view) return;
      this.waiting = status.status === 'pending' ? (status.waiting_for ?? null) : null;
      this.renderWaiting();
    } catch {
      // The last reason shown stays; the next tick asks again.
    }
  }

  /** "Waiting for: …" under the title, for a pending task whose server said why. */
  renderWaiting() {
    const pending = this.view?.task.status === 'pending';
    const w = pending ? this.waiting : null;
    replace(
      this.waitingBox,
      w ? el('div', { class: 'waiting-for', data: { code: w.code }, attrs: { id: 'task-view-waiting' } }, el('strong', { text: 'Waiting: ' }), el('span', { text: w.message }), el('code', { text: w.code })) : null,
    );
  }

  build(outputText) {
    const v = this.view;
    this.head = el('div', { class: 'task-title' });
    this.meta = el('dl', { class: 'meta-grid' });
    this.errorBox = el('div');
    this.reasoningBox = el('div');
    this.waitingBox = el('div');
    this.output = el('pre', { class: 'output', attrs: { 'aria-live': 'off', tabindex: 0 } });
    this.outputText = document.createTextNode(outputText);
    this.output.append(this.outputText);
    this.outputNote = el('span', { class: 'muted' });
    this.history = el('ol', { class: 'history' });
    const folded = v.promptLength > OPEN_PROMPT_CHARS;
    const cut = v.promptLength > v.prompt.length ? `\n… (${count(v.promptLength - v.prompt.length)} more characters)` : '';
    replace(
      this.root,
      this.head,
      this.waitingBox,
      this.meta,
      el('details', { class: 'prompt', attrs: { open: !folded } },
        el('summary', { text: `Prompt · ${count(v.promptLength)} characters` }),
        el('pre', { text: v.prompt + cut }),
      ),
      el('div', {}, el('div', { class: 'section-label' }, el('span', { text: 'Output' }), this.outputNote), this.output),
      this.errorBox,
      this.reasoningBox,
      el('div', {}, el('div', { class: 'section-label' }, el('span', { text: 'History' })), this.history),
    );
    this.renderHead();
  }

  renderHead() {
    const t = this.view.task;
    const open = isOpen(t.status);
    replace(
      this.head,
      badge(t.status),
      el('span', { class: 'task-full-id', text: t.task_id }),
      open
        ? el('button', {
            class: 'danger small cancel',
            text: 'Cancel task',
            attrs: { type: 'button', id: 'task-view-cancel' },
            on: { click: (e) => this.actions.cancel(t.task_id, e.currentTarget) },
          })
        : null,
    );
    this.output.dataset.streaming = String(t.status === 'in_progress');
    this.output.dataset.status = t.status;
    this.output.dataset.placeholder =
      t.status === 'pending' ? 'Waiting for a worker…' : t.status === 'in_progress' ? 'Waiting for the first words…' : 'No output.';
    const failed = t.status === 'failed' && t.result?.error;
    const cut = t.status === 'completed' && t.result?.truncated;
    replace(
      this.errorBox,
      failed
        ? el('div', { class: 'error-box', text: `${t.result.error_code ?? 'error'}: ${t.result.error}` })
        : cut
          ? el('div', { class: 'warn-box', text: `The answer was cut short (finish reason: ${t.result.finish_reason}). Raise options.max_tokens for the whole answer.` })
          : null,
    );
    const reasoning = t.result?.reasoning;
    replace(
      this.reasoningBox,
      reasoning
        ? el('details', { class: 'reasoning' }, el('summary', { text: `Reasoning · ${count(reasoning.length)} characters` }), el('pre', { text: reasoning }))
        : null,
    );
    this.renderWaiting();
    this.renderMeta();
  }

  renderMeta() {
    const t = this.view.task;
    const now = this.now();
    const created = Date.parse(t.created_at);
    const started = t.started_at ? Date.parse(t.started_at) : null;
    const finished = t.finished_at ? Date.parse(t.finished_at) : null;
    const fields = [
      ['Type', t.type],
      ['Priority', t.priority],
      ['Model', t.model ?? 'backend default'],
      ['Worker', t.worker_id ?? '—'],
      ['Attempts', t.attempts],
      ['Created', clock(t.created_at)],
      ['Waited', duration((started ?? finished ?? now) - created)],
      ['Ran', started ? duration((finished ?? now) - started) : '—'],
    ];
    const r = t.result;
    if (r) fields.push(['Finish', `${r.finish_reason ?? '—'}${r.truncated ? ' (truncated)' : ''}`], ['Answered by', r.model ?? '—'], ['Tokens', tokens(r.usage)]);
    replace(this.meta, fields.map(([k, v]) => el('div', {}, el('dt', { text: k }), el('dd', { text: v, attrs: { title: String(v) } }))));
    this.outputNote.textContent = `${count(this.outputText.length)} characters`;
  }

  setOutput(text) {
    this.outputText.data = text;
    this.outputNote.textContent = `${count(text.length)} characters`;
  }

  appendOutput(chunk) {
    const pre = this.output;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    this.outputText.appendData(chunk);
    this.outputNote.textContent = `${count(this.outputText.length)} characters`;
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }

  addHistory(e) {
    const v = this.view;
    // The snapshot's history and the first live events may overlap by an entry or two.
    const key = `${e.kind}|${e.at}|${e.lease ?? ''}`;
    if (v.seen.has(key)) return;
    v.seen.add(key);
    this.history.append(
      el('li', { data: { kind: e.kind } },
        el('span', { class: 'when', text: preciseClock(e.at), attrs: { title: e.at } }),
        el('span', { class: 'kind', text: e.kind }),
        el('span', { class: 'what', text: describe(e) }),
      ),
    );
  }
}
