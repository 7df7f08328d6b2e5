/** A delegation request as the task service takes it, from the one submission schema; and the API's query values. */
import { ValidationError } from '../errors.js';
import { integerInRange } from '../integer-text.js';
import { delegateBodySchema, parseWith, SUBMISSION_FIELDS } from './submission-schema.js';
import type { TaskOptions, TaskType } from './task.js';

export interface DelegateInput {
  prompt: string;
  type: TaskType;
  priority: number;
  sync: boolean;
  files: string[];
  options: TaskOptions;
  /** Repeating a submit with the same key within 24 h returns the first task. */
  idempotencyKey: string | null;
}

/** Checks a delegate body against the submission schema and fills in defaults; throws ValidationError naming the first bad field. */
export function parseDelegateInput(body: unknown): DelegateInput {
  const b = parseWith(delegateBodySchema, body);
  if (b.type !== undefined && b.task_type !== undefined && b.type !== b.task_type) {
    throw new ValidationError('type and task_type disagree; send one of them', 'type');
  }
  const options: TaskOptions = { ...b.options };
  // `workdir`: only its form is checked here; the service resolves it under a workspace_root (see
  // backends/command/workdir.ts) and keeps the real path in the task's options.
  if (b.workdir != null) options.workdir = b.workdir;
  return {
    prompt: b.prompt,
    type: b.type ?? b.task_type ?? 'general',
    priority: b.priority ?? 5,
    sync: b.sync ?? false,
    files: b.files ?? [],
    options,
    idempotencyKey: b.idempotency_key ?? null,
  };
}

/** 1-255 printable characters; the header and the body field are checked alike. */
export function parseIdempotencyKey(value: unknown, field = 'idempotency_key'): string | null {
  return parseWith(SUBMISSION_FIELDS.idempotency_key, value, [field]) ?? null;
}

/** Characters of streamed output the client already has; undefined when not given. */
export function parseOutputFrom(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = integerInRange(raw, 0, Number.MAX_SAFE_INTEGER);
  if (n === null) throw new ValidationError(`output_from must be a whole number of characters, got ${JSON.stringify(raw)}`, 'output_from');
  return n;
}

/** Seconds a status request may wait for a change: 0 to 60. */
export function parseWaitSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  // Decimal digits with an optional fraction: Number() would also read 0x10 as 16 and 1e1 as 10.
  const n = /^[0-9]{1,2}(\.[0-9]{1,3})?$/.test(raw) ? Number(raw) : NaN;
  if (!(n >= 0 && n <= 60)) throw new ValidationError(`wait must be a number of seconds from 0 to 60 (such as 30 or 2.5), got ${JSON.stringify(raw.slice(0, 40))}`, 'wait');
  return n;
}

/** Priority 1 (lowest) to 10 (highest), default 5. */
export function parsePriority(value: unknown, field = 'priority'): number {
  return parseWith(SUBMISSION_FIELDS.priority, value, [field]) ?? 5;
}

/** A priority sent as text (X-Koubou-Priority): a decimal integer from 1 to 10; the error quotes what was sent. */
export function parsePriorityText(raw: string, field: string): number {
  const n = integerInRange(raw, 1, 10);
  if (n === null) throw new ValidationError(`${field} must be an integer from 1 to 10, got ${JSON.stringify(raw.slice(0, 40))}`, field);
  return n;
}

/** `limit` for listings: 1..1000, default 50. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 50;
  const n = integerInRange(raw, 1, 1000);
  if (n === null) throw new ValidationError(`limit must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`, 'limit');
  return n;
}
