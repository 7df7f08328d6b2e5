/** Where a task may run: its `workdir`, resolved through every symlink, must be a directory under a workspace root. */
import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { ValidationError } from '../../errors.js';

/** Expands a leading `~` to the home directory, as a shell would for the user. */
export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? path.join(homedir(), p.slice(2)) : p;
}

/** True when `dir` is `root` or below it (both already real paths). */
export function isUnder(root: string, dir: string): boolean {
  const rel = path.relative(root, dir);
  // `..` as the first segment leaves the root; a directory named `..data` does not.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/**
 * The real path of a task's workdir when it is a directory under one of `roots` (real paths); otherwise a
 * ValidationError naming `field`. `..`, symlinks out of the root and files are refused; relative paths are refused,
 * since the client's working directory means nothing here.
 */
export function resolveWorkdir(workdir: string, roots: readonly string[], field = 'workdir'): string {
  if (roots.length === 0) throw new ValidationError(`${field} needs a backend of type "command" with a workspace_root; none is configured`, field);
  const expanded = expandHome(workdir);
  if (!path.isAbsolute(expanded)) throw new ValidationError(`${field} must be an absolute path (or start with ~/), got ${JSON.stringify(workdir)}`, field);
  const outside = () => new ValidationError(`${field} must be a directory under a workspace_root (${roots.join(', ')}), got ${JSON.stringify(workdir)}`, field);
  // Checked before touching the file system, so the answer says nothing about what exists outside the roots.
  if (!roots.some((root) => isUnder(root, path.resolve(expanded)))) throw outside();
  let real: string;
  try {
    real = realpathSync(expanded);
  } catch {
    throw new ValidationError(`${field} does not exist: ${JSON.stringify(workdir)}`, field);
  }
  // A symlink inside a root may point out of it.
  if (!roots.some((root) => isUnder(root, real))) throw outside();
  if (!statSync(real).isDirectory()) throw new ValidationError(`${field} must be a directory, got a file: ${JSON.stringify(workdir)}`, field);
  // A repository's own git directory is no place to work: git would not isolate it, and a CLI could rewrite history.
  if (real.split(path.sep).includes('.git')) throw new ValidationError(`${field} must not be inside a .git directory, got ${JSON.stringify(workdir)}`, field);
  return real;
}

/**
 * Where a task's workdir is to run, at submit: the real path when it lies under one of this machine's `roots` (see
 * resolveWorkdir); else, when it lies under a root a koubou-node announced (`remoteRoots`), the absolute path as
 * given, normalised: only that node can see the directory, and it resolves it again, through symlinks, when it runs
 * the task. Otherwise a ValidationError naming `field`.
 */
export function taskWorkdir(workdir: string, roots: readonly string[], remoteRoots: readonly string[], field = 'workdir'): string {
  const absolute = path.isAbsolute(expandHome(workdir));
  const expanded = path.resolve(expandHome(workdir));
  const local = roots.some((root) => isUnder(root, expanded));
  if (!local && absolute && remoteRoots.some((root) => isUnder(root, expanded))) return expanded;
  return resolveWorkdir(workdir, local ? roots : [...roots, ...remoteRoots], field);
}

/** A configured workspace_root as given and as its real path: a workdir may be named through either. */
export function workspaceRoots(root: string): string[] {
  const given = path.resolve(expandHome(root));
  try {
    const real = realpathSync(given);
    return real === given ? [given] : [given, real];
  } catch {
    return [given];
  }
}
