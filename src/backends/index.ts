import { ConfigError } from '../errors.js';
import { createOllamaBackend } from './ollama.js';
import { createOpenAiBackend } from './openai.js';
import { createCommandBackend, type CommandBackendDeps } from './command/index.js';
import type { Backend, BackendSettings } from './types.js';

export type { Backend, BackendSettings, BackendType, GenerateRequest, GenerateResult } from './types.js';

/**
 * Builds the Backend for a configured entry according to its `type`. `env` is what command backends may pass on to
 * their CLIs (an allowlist of it; see command/env.ts); LLM backends ignore it.
 */
export function createBackend(settings: BackendSettings, env: CommandBackendDeps = { inheritedEnv: {}, secrets: [] }): Backend {
  switch (settings.type) {
    case 'ollama':
      return createOllamaBackend(settings);
    case 'openai':
      return createOpenAiBackend(settings);
    case 'command':
      return createCommandBackend(settings, env);
    default: {
      // Settings may come from an unchecked file, so the impossible case is still handled.
      const type: never = settings.type;
      throw new ConfigError(`backend "${settings.name}": unknown type ${JSON.stringify(type)} (expected "ollama", "openai" or "command")`);
    }
  }
}
