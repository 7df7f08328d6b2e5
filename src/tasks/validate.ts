/** Validation of a delegation request, shared by every adapter (HTTP, and later MCP, NATS, CLI). */
import { ValidationError } from '../errors.js';
import { TASK_TYPES, type TaskOptions, type TaskType } from './task.js';

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

export const LIMITS = {
  maxFiles: 50,
  maxPathLength: 4096,
  maxModelLength: 256,
  maxTokens: 1_000_000,
  /** One day: longer runs are almost certainly a mistake. */
  maxTimeoutS: 86_400,
} as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks a delegate body and fills in defaults; throws ValidationError naming the first bad field. */
export function parseDelegateInput(body: unknown): DelegateInput {
  if (!isObject(body)) throw new ValidationError(`the request body must be a JSON object, got ${describe(body)}`);

  const prompt = body.prompt;
  if (prompt === undefined) throw new ValidationError('prompt is required', 'prompt');
  if (typeof prompt !== 'string') throw new ValidationError(`prompt must be a string, got ${describe(prompt)}`, 'prompt');
  if (prompt.trim() === '') throw new ValidationError('prompt must not be empty', 'prompt');

  return {
    prompt,
    type: parseType(body),
    priority: parsePriority(body.priority),
    sync: parseBoolean(body.sync, 'sync', false),
    files: parseFiles(body.files),
    options: withWorkdir(parseOptions(body.options), body.workdir),
    idempotencyKey: parseIdempotencyKey(body.idempotency_key),
  };
}

/** 1-255 printable characters; the header and the body field are checked alike. */
export function parseIdempotencyKey(value: unknown, field = 'idempotency_key'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length < 1 || value.length > 255 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new ValidationError(`${field} must be 1 to 255 printable characters, got ${describe(value)}`, field);
  }
  return value;
}

/** Characters of streamed output the client already has; undefined when not given. */
export function parseOutputFrom(raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new ValidationError(`output_from must be a whole number of characters, got ${JSON.stringify(raw)}`, 'output_from');
  return n;
}

/** Seconds a status request may wait for a change: 0 to 60. */
export function parseWaitSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 60) throw new ValidationError(`wait must be a number of seconds from 0 to 60, got ${JSON.stringify(raw)}`, 'wait');
  return n;
}

function parseType(body: Record<string, unknown>): TaskType {
  const field = body.type !== undefined ? 'type' : 'task_type';
  const value = body.type ?? body.task_type;
  if (value === undefined) return 'general';
  if (body.type !== undefined && body.task_type !== undefined && body.type !== body.task_type) {
    throw new ValidationError('type and task_type disagree; send one of them', 'type');
  }
  if (typeof value !== 'string' || !(TASK_TYPES as readonly string[]).includes(value)) {
    throw new ValidationError(`${field} must be one of ${TASK_TYPES.join(', ')}; got ${describe(value)}`, field);
  }
  return value as TaskType;
}

/** Priority 1 (lowest) to 10 (highest), default 5. */
export function parsePriority(value: unknown, field = 'priority'): number {
  if (value === undefined) return 5;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 10) {
    throw new ValidationError(`${field} must be an integer from 1 to 10, got ${describe(value)}`, field);
  }
  return value;
}

function parseBoolean(value: unknown, field: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new ValidationError(`${field} must be true or false, got ${describe(value)}`, field);
  return value;
}

function parseFiles(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new ValidationError(`files must be an array of paths, got ${describe(value)}`, 'files');
  if (value.length > LIMITS.maxFiles) throw new ValidationError(`files may name at most ${LIMITS.maxFiles} paths, got ${value.length}`, 'files');
  return value.map((p, i) => {
    const field = `files[${i}]`;
    if (typeof p !== 'string' || p.trim() === '') throw new ValidationError(`${field} must be a non-empty path, got ${describe(p)}`, field);
    if (p.length > LIMITS.maxPathLength || p.includes('\0')) throw new ValidationError(`${field} is not a usable path`, field);
    return p;
  });
}

function parseOptions(value: unknown): TaskOptions {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new ValidationError(`options must be an object, got ${describe(value)}`, 'options');
  const options: TaskOptions = {};
  if (value.timeout !== undefined) {
    const t = value.timeout;
    if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0 || t > LIMITS.maxTimeoutS) {
      throw new ValidationError(`options.timeout must be a number of seconds above 0 and at most ${LIMITS.maxTimeoutS}, got ${describe(t)}`, 'options.timeout');
    }
    options.timeout = t;
  }
  if (value.model !== undefined) {
    const m = value.model;
    if (typeof m !== 'string' || m.trim() === '' || m.length > LIMITS.maxModelLength) {
      throw new ValidationError(`options.model must be a non-empty model name of at most ${LIMITS.maxModelLength} characters, got ${describe(m)}`, 'options.model');
    }
    options.model = m;
  }
  if (value.max_tokens !== undefined) {
    const n = value.max_tokens;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > LIMITS.maxTokens) {
      throw new ValidationError(`options.max_tokens must be an integer from 1 to ${LIMITS.maxTokens}, got ${describe(n)}`, 'options.max_tokens');
    }
    options.max_tokens = n;
  }
  if (value.include_reasoning !== undefined) {
    options.include_reasoning = parseBoolean(value.include_reasoning, 'options.include_reasoning', false);
  }
  return options;
}

/**
 * `workdir`: where an agent CLI (a command backend) works. Only its form is checked here; the service resolves it
 * under a workspace_root (see backends/command/workdir.ts) and keeps the real path in the task's options.
 */
function withWorkdir(options: TaskOptions, value: unknown): TaskOptions {
  if (value === undefined || value === null) return options;
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(`workdir must be a non-empty path, got ${describe(value)}`, 'workdir');
  if (value.length > LIMITS.maxPathLength || value.includes('\0')) throw new ValidationError('workdir is not a usable path', 'workdir');
  return { ...options, workdir: value };
}

/** `limit` for listings: 1..1000, default 50. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 50;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new ValidationError(`limit must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`, 'limit');
  return n;
}
