/**
 * What an agent sees of a command task's changes through MCP: a one-line summary, the branch to merge and the files
 * with their line counts, without the diff (up to max_output_bytes of it) unless it asks; it has the repository and
 * can read the branch itself.
 */
import type { ChangedFile, TaskChanges } from '../tasks/task.js';
import type { TaskView } from './api.js';

/** Most files listed one by one; the summary's counts cover them all. */
const MAX_LISTED_FILES = 50;

/** `result.changes` as MCP tools answer it. */
export interface ChangesForAgent {
  /** e.g. "2 files changed, +3 -0 lines, on branch koubou/<id>; merge: git merge koubou/<id>" */
  summary: string;
  branch: string;
  base: string;
  additions: number;
  deletions: number;
  /** At most MAX_LISTED_FILES; `files_total` says how many there are. */
  files: ChangedFile[];
  files_total: number;
  /** Size of the diff kept in the task (UTF-8 bytes); `diff` itself only when asked for. */
  diff_bytes: number;
  diff_truncated: boolean;
  diff?: string;
}

/** Summarises `changes` (counts of binary files, which have no lines, are left out of the totals and named). */
function changesForAgent(changes: TaskChanges, includeDiff: boolean): ChangesForAgent {
  const additions = sum(changes.files, (f) => f.additions);
  const deletions = sum(changes.files, (f) => f.deletions);
  const binary = changes.files.filter((f) => f.additions === null).length;
  const count = changes.files.length;
  const what = count === 0 ? 'no files changed' : `${count} file${count === 1 ? '' : 's'} changed, +${additions} -${deletions} lines${binary ? ` (${binary} binary)` : ''}`;
  return {
    summary: `${what}, on branch ${changes.branch}${count === 0 ? '' : `; merge: git merge ${changes.branch}`}`,
    branch: changes.branch,
    base: changes.base,
    additions,
    deletions,
    files: changes.files.slice(0, MAX_LISTED_FILES),
    files_total: count,
    diff_bytes: Buffer.byteLength(changes.diff),
    diff_truncated: changes.diff_truncated,
    ...(includeDiff ? { diff: changes.diff } : {}),
  };
}

/** A task's status for an MCP answer: as the API gives it, with `result.changes` summarised. */
export function taskForAgent(view: TaskView, includeDiff: boolean): unknown {
  const changes = view.result?.changes;
  if (!changes) return view;
  return { ...view, result: { ...view.result, changes: changesForAgent(changes, includeDiff) } };
}

const sum = (files: ChangedFile[], count: (f: ChangedFile) => number | null) => files.reduce((n, f) => n + (count(f) ?? 0), 0);
