/** A `type: command` backend's settings, as config.ts reads them from the backend entry. */
import type { PresetName } from './presets.js';

export type Isolation = 'worktree' | 'none';

export interface CommandSettings {
  preset: PresetName;
  /** generic: the argv template; a preset: the executable (and leading args) to call instead of its default name. */
  command: readonly string[] | null;
  /** Absolute; task workdirs must resolve under it. null: tasks may not name a workdir here. */
  workspace_root: string | null;
  /** worktree (default; needs a git repository, otherwise the task runs as with none) or none. */
  isolation: Isolation;
  /** Keep each task's worktree directory after it ends (the branch is kept either way). */
  keep_worktree: boolean;
  /** Worktrees kept ready per repository a task has named, made in the background (0: each task makes its own). */
  prepared_worktrees: number;
  /** Names passed through from our environment, and NAME: value pairs set for the CLI. */
  env_pass: readonly string[];
  env_set: Readonly<Record<string, string>>;
  /** SIGTERM to SIGKILL, ms. */
  kill_grace_ms: number;
  /** Cap on stdout + stderr (and on the diff kept in the result), bytes. */
  max_output_bytes: number;
  /** Retry a failed run (from a fresh worktree); off by default since agent runs have side effects. */
  retry: boolean;
}

export const COMMAND_DEFAULTS = {
  preset: 'generic',
  command: null,
  workspace_root: null,
  isolation: 'worktree',
  keep_worktree: false,
  prepared_worktrees: 1,
  env: {},
  kill_grace_ms: 5000,
  max_output_bytes: 4 * 1024 * 1024,
  retry: false,
} as const;
