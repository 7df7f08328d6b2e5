/**
 * Reads the files a task names, at submit time: the contents are stored with the task, so any worker (a remote one
 * too) sees exactly what the client meant, even if the file changes later. Only files inside the configured root.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ValidationError } from '../errors.js';
import type { TaskFile } from './task.js';

export interface FileRules {
  /** Absolute directory files must lie in; null refuses every file. */
  root: string | null;
  maxBytes: number;
}

/** Reads each path (relative to root, or absolute inside it); throws ValidationError naming the bad entry. */
export async function readTaskFiles(paths: string[], rules: FileRules): Promise<TaskFile[]> {
  if (paths.length === 0) return [];
  if (!rules.root) throw new ValidationError('this server does not accept files (files.root is not set)', 'files');
  const root = await realpath(rules.root);
  return Promise.all(paths.map((p, i) => readOne(p, `files[${i}]`, root, rules.maxBytes)));
}

async function readOne(path: string, field: string, root: string, maxBytes: number): Promise<TaskFile> {
  let real: string;
  try {
    // realpath resolves symlinks, so a link inside the root cannot reach outside it.
    real = await realpath(resolve(root, path));
  } catch {
    throw new ValidationError(`${field}: no such file ${JSON.stringify(path)}`, field);
  }
  if (!isInside(real, root)) throw new ValidationError(`${field}: ${JSON.stringify(path)} is outside the allowed root`, field);
  const info = await stat(real);
  if (!info.isFile()) throw new ValidationError(`${field}: ${JSON.stringify(path)} is not a regular file`, field);
  if (info.size > maxBytes) throw new ValidationError(`${field}: ${JSON.stringify(path)} is ${info.size} bytes, over the ${maxBytes}-byte limit`, field);
  const bytes = await readFile(real);
  if (bytes.includes(0)) throw new ValidationError(`${field}: ${JSON.stringify(path)} is not a text file`, field);
  return { path: relative(root, real) || path, content: bytes.toString('utf8') };
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}
