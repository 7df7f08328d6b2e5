/** Does a backend serve the model it is configured with? Asked at start-up and by /health. */
import type { Backend, BackendType } from './types.js';

export type ModelCheck =
  | { state: 'ok' }
  | { state: 'unreachable' }
  /** The server answers but does not list the model; `fix` is what the user can run or do about it. */
  | { state: 'model_missing'; fix: string; listed: string[] };

/** Lists the server's models and looks for the backend's own. Never throws. */
export async function checkModel(backend: Backend, signal?: AbortSignal): Promise<ModelCheck> {
  // An agent CLI has no listing to ask; it reports a missing model in the task's error.
  if (backend.type === 'command') return { state: 'ok' };
  const listed = await backend.listModels(signal);
  if (listed === null) return { state: 'unreachable' };
  if (modelListed(backend.type, listed, backend.model)) return { state: 'ok' };
  return { state: 'model_missing', fix: missingModelFix(backend.type, backend.model), listed: listed.slice(0, 20) };
}

/** Ollama names a model without a tag by its `:latest` tag; OpenAI-compatible servers list exact ids. */
function modelListed(type: BackendType, listed: readonly string[], model: string): boolean {
  if (listed.includes(model)) return true;
  return type === 'ollama' && !model.includes(':') && listed.includes(`${model}:latest`);
}

/** What to do about a model the server does not have. */
function missingModelFix(type: BackendType, model: string): string {
  return type === 'ollama' ? `ollama pull ${model}` : `load ${model} in the server (it is not in its GET /v1/models), or configure a model it lists`;
}
