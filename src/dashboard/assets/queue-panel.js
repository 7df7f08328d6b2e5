// The queue panel: tasks by state, and open (waiting and running) tasks by priority.
import { byId, el, replace } from './dom.js';
import { count } from './format.js';
import { STATES } from './task-states.js';

/** counts: a number per state (the server's state table names them); byPriority: [{priority, pending, in_progress}]. */
export function renderQueue(counts, byPriority) {
  replace(
    byId('queue-tiles'),
    STATES.map(([key, label]) =>
      el('div', { class: 'tile', data: { state: key }, style: { '--c': `var(--${key === 'in_progress' ? 'running' : key})` } },
        el('div', { class: 'n', text: count(counts?.[key]) }),
        el('div', { class: 'label', text: label }),
      ),
    ),
  );
  const rows = (byPriority ?? []).filter((p) => p.pending + p.in_progress > 0);
  const list = byId('queue-priorities');
  if (rows.length === 0) {
    replace(list, el('p', { class: 'empty', text: 'Nothing waiting or running.' }));
    return;
  }
  const widest = Math.max(...rows.map((p) => p.pending + p.in_progress));
  replace(
    list,
    rows.map((p) =>
      el('div', { class: 'prio-row', data: { priority: p.priority } },
        el('span', { class: 'prio-label', text: `P${p.priority}` }),
        el('div', { class: 'prio-bar', attrs: { title: `${p.in_progress} running, ${p.pending} waiting` } },
          el('span', { class: 'running', style: { width: `${(p.in_progress / widest) * 100}%` } }),
          el('span', { class: 'pending', style: { width: `${(p.pending / widest) * 100}%` } }),
        ),
        el('span', { class: 'prio-count', text: `${count(p.in_progress)} run · ${count(p.pending)} wait` }),
      ),
    ),
  );
}
