import { ConfigError } from '../errors.js';
import { createOllamaBackend } from './ollama.js';
import { createOpenAiBackend } from './openai.js';
import type { Backend, BackendSettings } from './types.js';

export type { Backend, BackendSettings, BackendType, GenerateRequest, GenerateResult } from './types.js';
export { createOllamaBackend } from './ollama.js';
export { createOpenAiBackend } from './openai.js';

/** Builds the Backend for a configured server according to its `type`. */
export function createBackend(settings: BackendSettings): Backend {
  switch (settings.type) {
    case 'ollama':
      return createOllamaBackend(settings);
    case 'openai':
      return createOpenAiBackend(settings);
    default: {
      // Settings may come from an unchecked file, so the impossible case is still handled.
      const type: never = settings.type;
      throw new ConfigError(`backend "${settings.name}": unknown type ${JSON.stringify(type)} (expected "ollama" or "openai")`);
    }
  }
}
