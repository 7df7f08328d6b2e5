// The workers table: status, heartbeat age, current task, speed, counts and restarts of each worker.
import { badge, byId, el, replace } from './dom.js';
import { count, duration, rate } from './format.js';

const LIVE = new Set(['idle', 'busy']);

/**
 * How late a heartbeat is. The age is read from the workers table, written once per interval, so up to two intervals
 * is normal; past the timeout the pool is replacing the worker.
 */
function ageClass(ageMs, heartbeat) {
  if (ageMs <= Math.min(heartbeat.interval_ms * 2.5, heartbeat.timeout_ms)) return 'age-ok';
  if (ageMs <= heartbeat.timeout_ms) return 'age-late';
  return 'age-dead';
}

function speedCell(speed) {
  if (!speed || (speed.chars_per_s === null && !speed.tasks_per_min)) return el('td', { class: 'num muted', text: '—' });
  const parts = [];
  if (speed.chars_per_s !== null) parts.push(`${rate(speed.chars_per_s)} ch/s`);
  parts.push(`${rate(speed.tasks_per_min)}/min`);
  const title = `streamed ${rate(speed.chars_per_s)} characters (${rate(speed.chunks_per_s)} pieces, about tokens) per second of running time; ${rate(speed.tasks_per_min)} tasks completed per minute, over the last 5 minutes`;
  return el('td', { class: 'num', text: parts.join(' · '), attrs: { title } });
}

/**
 * Each cell carries its column's heading (data-label), read from the table's own header: on a phone the rows are
 * laid out as small cards and the labels are shown beside the values.
 */
function labelCells(row, headings) {
  [...row.cells].forEach((cell, i) => headings[i] && (cell.dataset.label = headings[i]));
  return row;
}

/** workers: rows of GET /api/dashboard (heartbeat ages as of that read); onTask(id) opens a task. */
export function renderWorkers(workers, heartbeat, onTask) {
  const body = byId('workers-body');
  const live = workers.filter((w) => LIVE.has(w.status)).length;
  byId('workers-note').textContent = workers.length ? `${live} of ${workers.length} up · ${workers.filter((w) => w.status === 'busy').length} busy` : '';
  if (workers.length === 0) {
    replace(body, el('tr', { class: 'empty-row' }, el('td', { attrs: { colspan: 9 }, text: 'No workers yet.' })));
    return;
  }
  const headings = [...byId('workers-table').tHead.rows[0].cells].map((th) => th.textContent);
  replace(
    body,
    workers.map((w) => {
      const age = w.heartbeat_age_ms;
      const beating = LIVE.has(w.status) && age !== null;
      return labelCells(el('tr', { data: { worker: w.worker_id } },
        el('td', {}, el('span', { class: 'mono', text: w.worker_id }), w.location === 'remote' ? el('span', { class: 'tag', text: 'remote' }) : null),
        el('td', {}, el('span', { text: w.backend }), el('span', { class: 'muted', text: ` · ${w.model}` })),
        el('td', {}, badge(w.status)),
        el('td', { class: `num ${beating ? ageClass(age, heartbeat) : 'muted'}`, text: beating ? duration(age) : '—', attrs: { title: w.last_heartbeat ?? '' } }),
        el('td', {}, w.current_task
          ? el('button', { class: 'link', text: w.current_task, attrs: { type: 'button', title: w.current_task }, on: { click: () => onTask(w.current_task) } })
          : el('span', { class: 'muted', text: '—' })),
        speedCell(w.speed),
        el('td', { class: 'num', text: count(w.completed) }),
        el('td', { class: `num${w.failed ? '' : ' muted'}`, text: count(w.failed) }),
        el('td', { class: `num${w.restarts ? ' age-late' : ' muted'}`, text: count(w.restarts) }),
      ), headings);
    }),
  );
}
