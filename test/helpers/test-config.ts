/** Writes a real YAML config into a temp dir and loads it through loadConfig, as `koubou start --config` would. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { loadConfig, type KoubouConfig } from '../../src/config.js';

export interface TestBackend {
  name?: string;
  type?: 'ollama' | 'openai' | 'command';
  /** LLM servers only. */
  url?: string;
  /** Further keys of the entry as they are written in YAML (command backends: preset, command, workspace_root...). */
  settings?: Record<string, unknown>;
  model?: string;
  min_workers?: number;
  max_workers?: number;
  stream?: boolean;
  timeout_s?: number;
  types?: string[];
}

export interface TestConfigOptions {
  dir: string;
  backends: TestBackend[];
  /** Extra YAML sections merged over the defaults below (server, queue, pool, tasks, files...). */
  extra?: Record<string, unknown>;
}

/** Returns the config file path and the loaded config. The store lives in dir, the server on port 0. */
export function writeTestConfig(opts: TestConfigOptions): { file: string; config: KoubouConfig } {
  const extra = opts.extra ?? {};
  const doc = {
    ...extra,
    server: { host: '127.0.0.1', port: 0, ...(extra.server as object) },
    store: { path: join(opts.dir, 'koubou.db') },
    log: { level: 'silent', ...(extra.log as object) },
    files: { root: opts.dir, ...(extra.files as object) },
    backends: opts.backends.map((b, i) => ({
      name: b.name ?? `b${i}`,
      type: b.type ?? 'ollama',
      ...(b.url === undefined ? {} : { url: b.url }),
      model: b.model ?? 'fake-model',
      min_workers: b.min_workers ?? 1,
      max_workers: b.max_workers ?? b.min_workers ?? 1,
      ...(b.stream === undefined ? {} : { stream: b.stream }),
      ...(b.timeout_s === undefined ? {} : { timeout_s: b.timeout_s }),
      ...(b.types === undefined ? {} : { types: b.types }),
      ...b.settings,
    })),
  };
  const file = join(opts.dir, 'koubou.yaml');
  writeFileSync(file, YAML.stringify(doc));
  return { file, config: loadConfig({ file: { path: file, from: '--config' }, cwd: opts.dir }) };
}
