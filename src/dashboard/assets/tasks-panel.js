// The task list: newest first, each task by its prompt's first words and its whole id (as `koubou tasks` prints it, so
// it can be copied to `koubou status`), with state, type, priority, age, and a cancel button on open tasks.
import { badge, byId, el, replace } from './dom.js';
import { ago } from './format.js';
import { isOpen } from './task-states.js';

/**
 * tasks: status objects (GET /tasks); selected: the open task's id; now: the server's time as estimated here;
 * actions: {select(id), cancel(id)}.
 */
export function renderTasks(tasks, selected, now, actions) {
  const list = byId('tasks-list');
  if (tasks.length === 0) {
    replace(list, el('li', { class: 'empty', text: 'No tasks here yet. Submit one above.' }));
    return;
  }
  replace(
    list,
    tasks.map((t) => {
      const meta = [t.type, `P${t.priority}`, ago(t.created_at, now)];
      if (t.worker_id && isOpen(t.status)) meta.push(t.worker_id);
      return el('li', {
        class: 'task-row',
        data: { taskId: t.task_id, status: t.status },
        attrs: { 'aria-selected': t.task_id === selected ? 'true' : 'false', tabindex: 0, title: t.task_id },
        on: {
          click: () => actions.select(t.task_id),
          keydown: (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), actions.select(t.task_id)),
        },
      },
        badge(t.status),
        el('div', { class: 'task-main' },
          el('span', { class: 'task-prompt', text: t.prompt_excerpt || '(no prompt)' }),
          el('span', { class: 'task-id', text: t.task_id }),
          el('span', { class: 'task-meta', text: meta.join(' · ') }),
        ),
        el('div', { class: 'task-side' },
          isOpen(t.status)
            ? el('button', {
                class: 'danger small cancel',
                text: 'Cancel',
                attrs: { type: 'button', 'aria-label': `Cancel task ${t.task_id}` },
                on: { click: (e) => (e.stopPropagation(), actions.cancel(t.task_id, e.currentTarget)) },
              })
            : null,
        ),
      );
    }),
  );
}
