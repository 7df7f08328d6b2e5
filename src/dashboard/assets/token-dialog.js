// Asking for the API token when the coordinator answers 401 (and changing or forgetting it on request). The button
// shows only where a token means something: the coordinator has one (server.api_token) or has just asked for it.
import { hasToken, setToken } from './api.js';
import { byId } from './dom.js';

/** onChanged() runs after the token was set or forgotten, to load everything again with it. */
export function setupTokenDialog(onChanged) {
  const dialog = byId('token-dialog');
  const input = byId('token-input');
  const button = byId('token-button');
  const open = () => {
    button.hidden = false;
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
  button.addEventListener('click', open);
  const label = () => (button.textContent = hasToken() ? 'API token ✓' : 'API token');
  label();
  /** From GET /api/dashboard's api_token_required. */
  const required = (yes) => (button.hidden = !yes);
  return { ask: open, refresh: label, required };
}
