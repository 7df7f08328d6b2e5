/** Reads a backend entry's command settings (type command), with errors naming the key. */
import path from 'node:path';
import { bool, fail, int, list, nullable, str, type Section } from '../../config-validate.js';
import { ConfigError } from '../../errors.js';
import type { BackendType } from '../types.js';
import { isForbiddenEnvName } from './env.js';
import { PRESETS } from './presets.js';
import { COMMAND_DEFAULTS, type CommandSettings } from './settings.js';
import { expandHome } from './workdir.js';

const COMMAND_KEYS = ['preset', 'command', 'workspace_root', 'isolation', 'keep_worktree', 'prepared_worktrees', 'env', 'kill_grace_ms', 'max_output_bytes', 'retry'] as const;
/** Each prepared worktree is a full checkout on disk. */
const MAX_PREPARED_WORKTREES = 8;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The command settings of a `type: command` entry; null for other types (which may not set these keys). */
export function readCommandSettings(b: Section<Record<(typeof COMMAND_KEYS)[number], unknown>>, type: BackendType, cwd: string): CommandSettings | null {
  if (type !== 'command') {
    for (const k of COMMAND_KEYS) if (b.has(k)) throw new ConfigError('only applies to type "command"', b.keyOf(k));
    return null;
  }
  const preset = b.read('preset', (v, k) => {
    if (!(PRESETS as readonly unknown[]).includes(v)) fail(k, `must be one of ${PRESETS.map((p) => JSON.stringify(p)).join(', ')}`, v);
    return v as CommandSettings['preset'];
  });
  const command = b.read('command', nullable((v, k) => {
    const items = list(v, k).map((a, i) => str(a, `${k}[${i}]`));
    if (items.length === 0) throw new ConfigError('must list the executable and its arguments', k);
    return items;
  }));
  if (preset === 'generic' && command === null) throw new ConfigError('preset "generic" needs command: [executable, args...]', b.keyOf('command'));
  const env = readEnv(b);
  return {
    preset,
    command,
    workspace_root: b.read('workspace_root', nullable((v, k) => path.resolve(cwd, expandHome(str(v, k))))),
    isolation: b.read('isolation', (v, k) => (v === 'worktree' || v === 'none' ? v : fail(k, 'must be "worktree" or "none"', v))),
    keep_worktree: b.read('keep_worktree', bool),
    prepared_worktrees: b.read('prepared_worktrees', (v, k) => int(v, k, { min: 0, max: MAX_PREPARED_WORKTREES })),
    env_pass: env.pass,
    env_set: env.set,
    kill_grace_ms: b.read('kill_grace_ms', (v, k) => int(v, k, { min: 0, max: 600_000 })),
    max_output_bytes: b.read('max_output_bytes', (v, k) => int(v, k, { min: 1024 })),
    retry: b.read('retry', bool),
  };
}

/** `env:` is a list of names to pass through, or a mapping of NAME: value to set; Koubou's own names are refused. */
function readEnv(b: Section<Record<'env', unknown>>): { pass: string[]; set: Record<string, string> } {
  return b.read('env', (v, k) => {
    const check = (name: string, at: string) => {
      if (!ENV_NAME.test(name)) fail(at, 'must be an environment variable name', name);
      if (isForbiddenEnvName(name)) throw new ConfigError('Koubou never passes its own settings or NATS credentials to a command', at);
    };
    if (Array.isArray(v)) {
      const pass = v.map((n, i) => str(n, `${k}[${i}]`));
      pass.forEach((n, i) => check(n, `${k}[${i}]`));
      return { pass, set: {} };
    }
    if (typeof v !== 'object' || v === null) fail(k, 'must be a list of names or a mapping of NAME: value', v);
    const set: Record<string, string> = {};
    for (const [name, value] of Object.entries(v as Record<string, unknown>)) {
      check(name, `${k}.${name}`);
      if (typeof value !== 'string' && typeof value !== 'number') fail(`${k}.${name}`, 'must be a string', value);
      set[name] = String(value);
    }
    return { pass: [], set };
  });
}

