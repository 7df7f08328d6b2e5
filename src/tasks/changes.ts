/** Reading a TaskChanges that arrives from outside the process (a koubou-node's outcome): checked field by field. */
import { ValidationError } from '../errors.js';
import type { ChangedFile, TaskChanges } from './task.js';

/** More changed files than this in one result is not an agent's edit; the message would not fit NATS anyway. */
const MAX_FILES = 100_000;
const STATUSES: readonly ChangedFile['status'][] = ['added', 'modified', 'deleted', 'renamed'];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const lines = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);

/** The TaskChanges in `value` (null when absent); throws ValidationError naming `field` when it is malformed. */
export function parseTaskChanges(value: unknown, field: string): TaskChanges | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) throw new ValidationError(`${field} must be an object`, field);
  const text = (key: string): string => {
    const v = value[key];
    if (typeof v !== 'string') throw new ValidationError(`${field}.${key} must be a string`, `${field}.${key}`);
    return v;
  };
  const files = value.files;
  if (!Array.isArray(files) || files.length > MAX_FILES) throw new ValidationError(`${field}.files must list at most ${MAX_FILES} files`, `${field}.files`);
  return {
    branch: text('branch'),
    base: text('base'),
    diff: text('diff'),
    diff_truncated: value.diff_truncated === true,
    files: files.map((f: unknown, i) => {
      const at = `${field}.files[${i}]`;
      if (!isObject(f) || typeof f.path !== 'string' || !(STATUSES as readonly unknown[]).includes(f.status)) {
        throw new ValidationError(`${at} must be {path, status: ${STATUSES.join('|')}, additions, deletions}`, at);
      }
      return { path: f.path, status: f.status as ChangedFile['status'], ...(typeof f.from === 'string' ? { from: f.from } : {}), additions: lines(f.additions), deletions: lines(f.deletions) };
    }),
  };
}
