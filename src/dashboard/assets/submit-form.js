// The submit form: POST /task/delegate with a fresh idempotency key, then open the new task.
import { api, newKey } from './api.js';
import { labelOf } from './task-states.js';
import { byId } from './dom.js';

function say(text, kind = '') {
  const message = byId('submit-message');
  message.textContent = text;
  message.dataset.kind = kind;
}

/** onSubmitted(taskId) runs once the task is accepted (it is on disk by then). */
export function setupSubmitForm(onSubmitted) {
  const form = byId('submit-form');
  const button = byId('submit-button');
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const prompt = byId('submit-prompt').value;
    if (!prompt.trim()) {
      say('Write a prompt first.', 'error');
      return;
    }
    const model = byId('submit-model').value.trim();
    const body = {
      prompt,
      type: byId('submit-type').value,
      priority: Number(byId('submit-priority').value),
      ...(model ? { options: { model } } : {}),
    };
    button.disabled = true;
    say('Submitting…');
    try {
      const answer = await api('/task/delegate', { method: 'POST', body, headers: { 'idempotency-key': newKey() } });
      say(`Submitted ${answer.task_id}: ${labelOf(answer.status)}.`, 'ok');
      byId('submit-prompt').value = '';
      onSubmitted(answer.task_id);
    } catch (err) {
      say(err.field ? `${err.field}: ${err.message}` : err.message, 'error');
    } finally {
      button.disabled = false;
    }
  });
  // Ctrl/Cmd+Enter submits from the prompt.
  byId('submit-prompt').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) form.requestSubmit();
  });
}
