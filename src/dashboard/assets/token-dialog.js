// Asking for the API token when the coordinator answers 401 (and changing or forgetting it on request).
import { hasToken, setToken } from './api.js';
import { byId } from './dom.js';

/** onChanged() runs after the token was set or forgotten, to load everything again with it. */
export function setupTokenDialog(onChanged) {
  const dialog = byId('token-dialog');
  const input = byId('token-input');
  const open = () => {
    if (dialog.open) return;
    input.value = '';
    dialog.showModal();
    input.focus();
  };
  byId('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (!input.value.trim()) return;
    setToken(input.value);
    dialog.close();
    onChanged();
  });
  byId('token-forget').addEventListener('click', () => {
    setToken(null);
    dialog.close();
    onChanged();
  });
  byId('token-button').addEventListener('click', open);
  const label = () => (byId('token-button').textContent = hasToken() ? 'API token ✓' : 'API token');
  label();
  return { ask: open, refresh: label };
}
