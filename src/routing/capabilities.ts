/**
 * What a group of workers can take: the task types, the models, the longest answer. Local backends declare it in
 * config; koubou-nodes announce it when they join. A task only goes to workers that can take it.
 */
import { isUnder, workspaceRoots } from '../backends/command/workdir.js';
import type { TaskType } from '../tasks/task.js';

export interface Capabilities {
  /** Task types these workers take; null = every type. */
  readonly types: readonly TaskType[] | null;
  /** Models these workers serve; the backend's default model is always first. */
  readonly models: readonly string[];
  /** Most tokens an answer may have here; null = no limit declared. */
  readonly maxTokens: number | null;
  /** Runs tasks in a workdir (an agent CLI: a command backend); an LLM server cannot. */
  readonly workspaces: boolean;
  /** Where its tasks' workdirs may be: the workspace_root as configured and as its real path; empty without one. */
  readonly workspaceRoots: readonly string[];
}

/** What a queued task asks of the worker that runs it. */
export interface Requirement {
  readonly type: TaskType;
  readonly model: string | null;
  readonly maxTokens: number | null;
  /** The workdir the task names (absolute): only workers with workspaces whose roots hold it can take it. */
  readonly workdir: string | null;
}

/**
 * A backend's capabilities from its config entry (or a node's announcement): `command.workspace_root` of a local
 * command backend, or `workspace_roots` as a koubou-node announced them (already absolute, as and after realpath).
 */
export function capabilities(
  model: string,
  extra: { types?: readonly TaskType[] | null; models?: readonly string[]; max_tokens?: number | null; type?: string; command?: { workspace_root: string | null } | null; workspace_roots?: readonly string[] },
): Capabilities {
  const root = extra.command?.workspace_root;
  return {
    types: extra.types ?? null,
    models: [model, ...(extra.models ?? []).filter((m) => m !== model)],
    maxTokens: extra.max_tokens ?? null,
    workspaces: extra.type === 'command',
    workspaceRoots: extra.type !== 'command' ? [] : (extra.workspace_roots ?? (root ? workspaceRoots(root) : [])),
  };
}

/** The type and the answer length fit; the model is checked separately (see serves), as it is a preference first. */
export function accepts(c: Capabilities, r: Requirement): boolean {
  if (c.types !== null && !c.types.includes(r.type)) return false;
  if (r.workdir !== null && !(c.workspaces && c.workspaceRoots.some((root) => isUnder(root, r.workdir!)))) return false;
  return r.maxTokens === null || c.maxTokens === null || r.maxTokens <= c.maxTokens;
}

export function serves(c: Capabilities, model: string): boolean {
  return c.models.includes(model);
}
