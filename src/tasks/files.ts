/**
 * Reads the files a task names, at submit time: the contents are stored with the task, so any worker (a remote one
 * too) sees exactly what the client meant, even if the file changes later. Only files inside the configured root, and
 * none the configuration excludes (by default Koubou's own data: `.koubou/`, `config/*.yaml`, the store and its logs).
 * A path that is outside the root, or does not exist, gets one and the same message: errors never tell whether
 * something exists outside the root.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import picomatch from 'picomatch';
import { ValidationError } from '../errors.js';
import type { TaskFile } from './task.js';

export interface FileRules {
  /** Absolute directory files must lie in; null refuses every file. */
  root: string | null;
  maxBytes: number;
  /** Globs (relative to root, `files.exclude`) naming files that may not be attached. */
  exclude: readonly string[];
  /** Absolute paths that may never be attached wherever they are (the store, its journal, the logs), or folders whose contents may not. */
  protectedPaths: readonly string[];
}

/** The store's files and the logs beside it (see cli/commands/start.ts and cli/daemon.ts): never attachable. */
export function storeFiles(storePath: string): string[] {
  const dir = dirname(storePath);
  return [storePath, `${storePath}-wal`, `${storePath}-shm`, `${storePath}-journal`, `${storePath}.lock`, `${storePath}.owner`, join(dir, 'logs') + sep, join(dir, 'koubou.log'), join(dir, 'koubou.pid')];
}

/** Reads each path (relative to root, or absolute inside it); throws ValidationError naming the bad entry. */
export async function readTaskFiles(paths: string[], rules: FileRules): Promise<TaskFile[]> {
  if (paths.length === 0) return [];
  if (!rules.root) throw new ValidationError('this server does not accept files (files.root is not set)', 'files');
  const root = await realpath(rules.root);
  const excluded = picomatch([...rules.exclude], { dot: true });
  const check = { root, maxBytes: rules.maxBytes, isExcluded: (real: string) => excluded(toPosix(relative(root, real))) || isProtected(real, rules.protectedPaths) };
  return Promise.all(paths.map((p, i) => readOne(p, `files[${i}]`, check)));
}

interface Check {
  root: string;
  maxBytes: number;
  isExcluded(absolute: string): boolean;
}

async function readOne(path: string, field: string, check: Check): Promise<TaskFile> {
  const { root } = check;
  const notFound = () => new ValidationError(`${field}: ${JSON.stringify(path)} is not a file inside the allowed root (files.root)`, field);
  const excluded = () => new ValidationError(`${field}: ${JSON.stringify(path)} may not be attached (files.exclude, or Koubou's own store and logs)`, field);
  const asked = resolve(root, path);
  // Outside the root: refused before the file system is asked anything.
  if (!isInside(asked, root)) throw notFound();
  if (check.isExcluded(asked)) throw excluded();
  let real: string;
  try {
    // realpath resolves symlinks, so a link inside the root cannot reach outside it, nor around an exclusion.
    real = await realpath(asked);
  } catch {
    throw notFound();
  }
  if (!isInside(real, root)) throw notFound();
  if (check.isExcluded(real)) throw excluded();
  const info = await stat(real);
  if (!info.isFile()) throw new ValidationError(`${field}: ${JSON.stringify(path)} is not a regular file`, field);
  if (info.size > check.maxBytes) throw new ValidationError(`${field}: ${JSON.stringify(path)} is ${info.size} bytes, over the ${check.maxBytes}-byte limit`, field);
  const bytes = await readFile(real);
  if (bytes.includes(0)) throw new ValidationError(`${field}: ${JSON.stringify(path)} is not a text file`, field);
  return { path: relative(root, real) || path, content: bytes.toString('utf8') };
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/** A protected path ending in the separator is a folder: everything under it is protected. */
function isProtected(path: string, protectedPaths: readonly string[]): boolean {
  return protectedPaths.some((p) => (p.endsWith(sep) ? path.startsWith(p) : path === p));
}

const toPosix = (p: string) => p.split(sep).join('/');
