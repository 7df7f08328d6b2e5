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
  /** null: any type (a gateway request that named none: its model alone says where it runs). */
  readonly type: TaskType | null;
  readonly model: string | null;
  /**
   * A gateway request (a task of kind chat): only an LLM server serving `model` may run it, as its answer must come
   * from the model it named. For other tasks the model is a preference (see ableToRun).
   */
  readonly chat: boolean;
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

/** The type, the kind of backend and the answer length fit; the model is checked separately (see serves and ableToRun). */
export function accepts(c: Capabilities, r: Requirement): boolean {
  // An agent CLI takes a prompt, not an LLM server's chat call.
  if (r.chat && c.workspaces) return false;
  if (r.type !== null && c.types !== null && !c.types.includes(r.type)) return false;
  if (r.workdir !== null && !(c.workspaces && c.workspaceRoots.some((root) => isUnder(root, r.workdir!)))) return false;
  return r.maxTokens === null || c.maxTokens === null || r.maxTokens <= c.maxTokens;
}

/**
 * Ollama names a model without a tag as its ":latest" (`ollama list` and /api/tags show "llama3.2:latest" for a model
 * pulled as "llama3.2"), so both spellings are one model, on any backend. The key two names of one model share.
 */
export function modelKey(name: string): string {
  return name.endsWith(':latest') ? name.slice(0, -':latest'.length) : name;
}

/** Whether two names are one model (see modelKey). */
export function sameModel(a: string, b: string): boolean {
  return modelKey(a) === modelKey(b);
}

/** The name these workers serve `model` under (as their config or node spelled it), or null when they do not serve it. */
export function servedName(c: Capabilities, model: string): string | null {
  return c.models.find((m) => sameModel(m, model)) ?? null;
}

/** The models these workers serve to gateway requests: an LLM server's models; none for an agent CLI (see accepts). */
export function chatModels(c: Capabilities): readonly string[] {
  return c.workspaces ? [] : c.models;
}

/** Whether these workers serve `model` (the one answer to "does backend X serve model M"). */
export function serves(c: Capabilities, model: string): boolean {
  return servedName(c, model) !== null;
}

/** Whether these workers serve `model` to gateway requests (see chatModels). */
export function servesChat(c: Capabilities, model: string): boolean {
  return !c.workspaces && serves(c, model);
}

/**
 * Of `candidates` (worker groups, configured backends), the ones that may run a task asking `r`: they accept it, and
 * when it names a model they serve it. A task that only prefers its model (not a gateway request) goes to any that
 * accept it when no backend serving the model could take it: none of the candidates, and none of `startable` (local
 * backends whose workers are started on demand, so a serving one without workers yet is waited for, not bypassed).
 */
export function ableToRun<T extends { readonly caps: Capabilities }>(r: Requirement, candidates: Iterable<T>, startable: readonly Capabilities[] = []): T[] {
  const accepting = [...candidates].filter((c) => accepts(c.caps, r));
  const model = r.model;
  if (model === null) return accepting;
  const serving = accepting.filter((c) => serves(c.caps, model));
  if (serving.length > 0 || r.chat || startable.some((c) => accepts(c, r) && serves(c, model))) return serving;
  return accepting;
}
