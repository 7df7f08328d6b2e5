/**
 * The one schema (zod) of a task submission. POST /task/delegate, the NATS task subject, the WebSocket's submit_task
 * and GraphQL's submitTask check their input with `delegateBodySchema`; the MCP delegate_task tool is built from the
 * same fields (`SUBMISSION_FIELDS`, `OPTION_FIELDS`), so no adapter can accept what another refuses.
 * Every message names the field by its path (`options.timeout`, `files[2]`) and says what was expected and what came;
 * a field the schema does not know is refused, with the nearest known name when one is close.
 */
import { z, type ZodErrorMap, type ZodIssue, type ZodRawShape, type ZodTypeAny } from 'zod';
import { closest } from '../did-you-mean.js';
import { ValidationError } from '../errors.js';
import { TASK_TYPES } from './task.js';

const LIMITS = {
  maxFiles: 50,
  maxPathLength: 4096,
  maxModelLength: 256,
  maxTokens: 1_000_000,
  /** One day: longer runs are almost certainly a mistake. */
  maxTimeoutS: 86_400,
} as const;

/** A value as error messages show it: `the string "abc"`, `number 0`, `null`, `an array`, `nothing`. */
function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** A zod issue path as the API names fields: `options.timeout`, `files[2]`; '' for the input itself. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/** zod parameters whose every message is `<field> <text(value)>`, whatever check failed. */
const says = (text: (value: unknown) => string): { errorMap: ZodErrorMap } => ({
  errorMap: (issue, ctx) => ({ message: `${fieldName(issue.path)} ${text(ctx.data)}` }),
});
/** zod parameters whose every message is `<field> must be <what>, got <value>`. */
export const must = (what: string) => says((v) => `must be ${what}, got ${describeValue(v)}`);

/** An object refusing keys it does not know, naming each with the nearest known one. `what`: "an object". */
export function strictObject<S extends ZodRawShape>(shape: S, what: string) {
  const known = Object.keys(shape);
  const errorMap: ZodErrorMap = (issue, ctx) => {
    if (issue.code === 'unrecognized_keys') return { message: issue.keys.map((k) => unknownField(issue.path, k, known)).join('; ') };
    return { message: `${fieldName(issue.path) || 'the request body'} must be ${what}, got ${describeValue(ctx.data)}` };
  };
  return z.object(shape, { errorMap }).strict();
}

function unknownField(path: readonly (string | number)[], key: string, known: readonly string[]): string {
  const near = closest(key, known);
  const name = fieldName([...path, key]);
  if (near !== null) return `unknown field ${JSON.stringify(name)}; did you mean ${JSON.stringify(fieldName([...path, near]))}?`;
  return `unknown field ${JSON.stringify(name)}; the fields are ${known.join(', ')}`;
}

const nonBlank = /\S/;
const noNul = /^[^\0]*$/;

/** A path given by the client (an attached file, a workdir): not blank, no NUL, bounded. */
const clientPath = z
  .string(says((v) => (typeof v === 'string' && v.trim() !== '' ? 'is not a usable path' : `must be a non-empty path, got ${describeValue(v)}`)))
  .regex(nonBlank)
  .regex(noNul)
  .max(LIMITS.maxPathLength);

const taskType = z.enum(TASK_TYPES, must(`one of ${TASK_TYPES.join(', ')}`)).optional();

/** Fields a submission has under the same name on every adapter. */
export const SUBMISSION_FIELDS = {
  prompt: z
    .string(says((v) => (v === undefined ? 'is required' : typeof v !== 'string' ? `must be a string, got ${describeValue(v)}` : 'must not be empty')))
    .regex(nonBlank)
    .describe('what the task is to do'),
  type: taskType,
  priority: z.number(must('an integer from 1 to 10')).int().min(1).max(10).optional().describe('1-10, higher first (default 5)'),
  files: z
    .array(clientPath, says((v) => (Array.isArray(v) ? `may name at most ${LIMITS.maxFiles} paths, got ${v.length}` : `must be an array of paths, got ${describeValue(v)}`)))
    .max(LIMITS.maxFiles)
    .nullish()
    .describe("paths under the server's files.root whose contents are attached"),
  workdir: clientPath
    .nullish()
    .describe("absolute path of a directory under a command backend's workspace_root: an agent CLI works there, in a git worktree on branch koubou/<task-id> whose diff comes back in result.changes"),
  idempotency_key: z
    .string(must('1 to 255 printable characters'))
    .min(1)
    .max(255)
    .regex(/^[^\u0000-\u001f\u007f]*$/)
    .nullish()
    .describe('repeat it on retries: the same task comes back'),
};

/** How one task runs; under `options` in the REST body, beside the other arguments in the MCP tool. */
export const OPTION_FIELDS = {
  timeout: z
    .number(must(`a number of seconds above 0 and at most ${LIMITS.maxTimeoutS}`))
    .positive()
    .max(LIMITS.maxTimeoutS)
    .optional()
    .describe('seconds per attempt'),
  model: z
    .string(must(`a non-empty model name of at most ${LIMITS.maxModelLength} characters`))
    .regex(nonBlank)
    // It may reach an agent CLI as an argument of its own (`-m <model>`): never let it read as a flag.
    .regex(/^[^-]/, 'must be a model name, not something that starts with "-"')
    .max(LIMITS.maxModelLength)
    .optional()
    .describe("a model the pool serves (default: the backend's)"),
  max_tokens: z.number(must(`an integer from 1 to ${LIMITS.maxTokens}`)).int().min(1).max(LIMITS.maxTokens).optional().describe('most tokens of the answer'),
  include_reasoning: z.boolean(must('true or false')).optional().describe("return the model's reasoning in result.reasoning"),
};

/** A task id as a request names it (NATS status, MCP tools); an unknown one is a 404, not a 400. */
export const TASK_ID = z.string(must('a task id')).min(1);

/** The body of POST /task/delegate, and the payload of every other adapter's submission. Field order is check order. */
export const delegateBodySchema = strictObject(
  {
    prompt: SUBMISSION_FIELDS.prompt,
    type: SUBMISSION_FIELDS.type,
    /** The original system's name for `type`. */
    task_type: taskType,
    priority: SUBMISSION_FIELDS.priority,
    /** Wait for the result (up to server.sync_wait_s) before answering. */
    sync: z.boolean(must('true or false')).optional(),
    files: SUBMISSION_FIELDS.files,
    options: strictObject(OPTION_FIELDS, 'an object').nullish(),
    workdir: SUBMISSION_FIELDS.workdir,
    idempotency_key: SUBMISSION_FIELDS.idempotency_key,
  },
  'a JSON object',
);

export type DelegateBody = z.input<typeof delegateBodySchema>;

/** The first problem zod found, as a ValidationError naming its field (an unknown one by its own name). */
function validationError(issue: ZodIssue): ValidationError {
  const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]!] : issue.path;
  return new ValidationError(issue.message, fieldName(path) || undefined);
}

/** Checks `value` against `schema`; throws ValidationError naming the first bad field. `path`: the value's own name. */
export function parseWith<S extends ZodTypeAny>(schema: S, value: unknown, path: (string | number)[] = []): z.output<S> {
  const result = schema.safeParse(value, { path });
  if (!result.success) throw validationError(result.error.issues[0]!);
  return result.data;
}
