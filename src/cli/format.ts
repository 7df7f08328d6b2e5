/** Human-readable output: durations, aligned tables, a task's status as lines. */
import type { TaskResult, TaskStatus, WorkerView } from '../client/api-types.js';

/** 0.4s, 12s, 3m05s, 2h03m, 3d04h. */
function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) ms = 0;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86_400)}d${pad(Math.floor(s / 3600) % 24)}h`;
}

/** Time since an ISO timestamp, or '-' when there is none. */
function age(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '-' : duration(now - at);
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd()).join('\n') + '\n';
}

export function tasksTable(tasks: TaskStatus[], now = Date.now()): string {
  if (tasks.length === 0) return 'no tasks\n';
  return table(
    ['ID', 'STATUS', 'TYPE', 'PRI', 'TRIES', 'WORKER', 'AGE', 'PROMPT'],
    tasks.map((t) => [t.task_id, t.status, t.type, String(t.priority), String(t.attempts), t.worker_id ?? '-', age(t.created_at, now), t.prompt_excerpt ?? '']),
  );
}

export function workersTable(workers: WorkerView[], now = Date.now()): string {
  if (workers.length === 0) return 'no workers\n';
  return table(
    ['WORKER', 'BACKEND', 'MODEL', 'STATUS', 'TASK', 'HEARTBEAT', 'DONE', 'FAILED', 'RESTARTS', 'UP'],
    workers.map((w) => [
      w.worker_id,
      w.backend,
      w.model,
      w.status,
      w.current_task ?? '-',
      w.heartbeat_age_ms === null ? '-' : `${duration(w.heartbeat_age_ms)} ago`,
      String(w.completed),
      String(w.failed),
      String(w.restarts),
      age(w.started_at, now),
    ]),
  );
}

/** "queue #3, eta 20s" when the server says where a pending task stands, else ''. */
function queueInfo(t: TaskStatus): string {
  const parts: string[] = [];
  if (typeof t.queue_position === 'number') parts.push(`queue #${t.queue_position}`);
  if (typeof t.eta_s === 'number') parts.push(`eta ${duration(t.eta_s * 1000)}`);
  return parts.join(', ');
}

/** The one-line warning for a completed task whose answer was cut short, or '' when it was not. */
export function truncationWarning(t: TaskStatus): string {
  const r = t.result;
  if (t.status !== 'completed' || !r?.truncated) return '';
  if (r.finish_reason === 'content_filter') return `koubou: warning: task ${t.task_id}'s answer was stopped by the server's content filter\n`;
  const tokens = typeof r.usage?.completion_tokens === 'number' ? ` after ${r.usage.completion_tokens} tokens` : '';
  return `koubou: warning: task ${t.task_id}'s answer was cut short (finish reason ${r.finish_reason ?? 'unknown'}${tokens}); ask for more with options.max_tokens\n`;
}

/** For an agent CLI task that changed files in a worktree: the branch to merge and what it holds, as a stderr line. */
export function changesNote(t: TaskStatus): string {
  const c = t.result?.changes;
  if (!c) return '';
  const count = (key: 'additions' | 'deletions') => c.files.reduce((sum, f) => sum + (f[key] ?? 0), 0);
  const files = `${c.files.length} file${c.files.length === 1 ? '' : 's'} changed, +${count('additions')} -${count('deletions')}`;
  return `koubou: ${files} on branch ${c.branch}; merge with: git merge ${c.branch}\n`;
}

/** "12 in, 40 out (30 reasoning)" from a result's usage, or '' when the server reported none. */
function usageText(usage: TaskResult['usage'] | undefined): string {
  if (!usage || (usage.prompt_tokens === null && usage.completion_tokens === null)) return '';
  const reasoning = usage.reasoning_tokens === undefined ? '' : ` (${usage.reasoning_tokens} reasoning)`;
  return `${usage.prompt_tokens ?? '?'} in, ${usage.completion_tokens ?? '?'} out${reasoning}`;
}

/** "failed: code: message" / "was cancelled" for a task that did not complete. */
export function failure(t: TaskStatus): string {
  if (t.status === 'cancelled') return `task ${t.task_id} was cancelled`;
  const r = t.result;
  const what = [r?.error_code, r?.error].filter(Boolean).join(': ') || 'no error recorded';
  return `task ${t.task_id} failed: ${what}`;
}

/** The short state of a task: "in_progress on w1 (attempt 2)", "pending (queue #3, eta 20s)". */
export function stateLine(t: TaskStatus): string {
  const extra: string[] = [];
  if (t.status === 'pending') {
    const q = queueInfo(t);
    if (q) extra.push(q);
    if (t.attempts > 0) extra.push(`after ${t.attempts} attempt${t.attempts === 1 ? '' : 's'}`);
    if (t.waiting_for) extra.push(`waiting: ${t.waiting_for.message}`);
  } else if (t.status === 'in_progress') {
    if (t.worker_id) extra.push(`on ${t.worker_id}`);
    extra.push(`attempt ${t.attempts}`);
  } else if (t.finished_at && t.created_at) {
    extra.push(`after ${duration(Date.parse(t.finished_at) - Date.parse(t.created_at))}`);
  }
  return extra.length ? `${t.status} (${extra.join(', ')})` : t.status;
}

/** A status change, for `status --watch`: "12:03:04  in_progress (on w1, attempt 1)". */
export function changeLine(t: TaskStatus, at = new Date()): string {
  return `${at.toTimeString().slice(0, 8)}  ${stateLine(t)}\n`;
}

/** `koubou status ID`: aligned "key  value" lines, then the output of a completed task. */
export function statusBlock(t: TaskStatus, now = Date.now()): string {
  const when = (iso: string | null) => (iso ? `${iso} (${age(iso, now)} ago)` : '-');
  const rows: Array<[string, string]> = [
    ['task', t.task_id],
    ['status', t.status],
    ['type', t.type],
    ['prompt', t.prompt_excerpt ?? '-'],
    ['priority', String(t.priority)],
    ['attempts', String(t.attempts)],
    ['worker', t.worker_id ?? '-'],
  ];
  if (t.model) rows.push(['model', t.model]);
  const q = queueInfo(t);
  if (q) rows.push(['queue', q]);
  if (t.waiting_for) rows.push(['waiting', `${t.waiting_for.message} (${t.waiting_for.code})`]);
  rows.push(['created', when(t.created_at)], ['started', when(t.started_at)], ['finished', when(t.finished_at)]);
  const r = t.result;
  if (r && !r.success) rows.push(['error', [r.error_code, r.error].filter(Boolean).join(': ') || '-']);
  if (r?.finish_reason) rows.push(['finish', `${r.finish_reason}${r.truncated ? ' (truncated)' : ''}`]);
  if (r?.model) rows.push(['answered by', r.model]);
  const used = usageText(r?.usage);
  if (used) rows.push(['tokens', used]);
  const width = Math.max(...rows.map(([k]) => k.length));
  let text = rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n') + '\n';
  if (t.result?.success && t.result.output !== null) text += `\n${withNewline(t.result.output)}`;
  return text;
}

/**
 * The line `status --watch` prints where a new attempt's output begins: "--- attempt 2 (previous attempt failed:
 * backend_protocol_error) ---"; attempt 0 stands for the stored output replacing what streamed.
 */
export function attemptMarker(attempt: number, previous: string | null): string {
  if (attempt === 0) return '--- final output ---\n';
  return `--- attempt ${attempt}${previous ? ` (previous attempt ${previous})` : ''} ---\n`;
}

export function withNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
