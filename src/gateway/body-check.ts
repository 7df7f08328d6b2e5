/**
 * Checks a gateway request body against its endpoint's zod schema and refuses the first problem the way OpenAI's API
 * words it (its messages and codes: "Missing required parameter: 'messages'." missing_required_parameter; "Invalid type
 * for 'messages[0].content': expected …, but got … instead." invalid_type; "Invalid 'max_tokens': integer below minimum
 * value. Expected a value >= 1, but got -5 instead." integer_below_min_value; "Invalid value: 'wizard'. Supported
 * values are: …" invalid_value), with `param` naming the field by its path. Ollama's routes send the same message as
 * their {"error": "..."}. The schemas only check: the body goes on as the client sent it, unknown fields included.
 */
import type { ZodIssue, ZodTypeAny } from 'zod';
import { fieldName } from '../tasks/submission-schema.js';
import { GatewayRefusal, bodyObject } from './refusal.js';

/** The body as an object when `schema` accepts it; else a GatewayRefusal (400) naming the first field at fault. */
export function checkBody(schema: ZodTypeAny, raw: unknown): Record<string, unknown> {
  const body = bodyObject(raw);
  const result = schema.safeParse(body);
  if (!result.success) throw refusalFor(result.error.issues[0]!, body);
  return body;
}

/** What a custom issue (a refinement) may set in its params: the error code, else invalid_value. */
export interface RefusalParams {
  code?: string;
}

function refusalFor(issue: ZodIssue, body: unknown): GatewayRefusal {
  const picked = deepest(issue);
  const field = fieldName(picked.path);
  const value = valueAt(body, picked.path);
  const refuse = (code: string, message: string) => new GatewayRefusal(400, code, message, field || null);
  switch (picked.code) {
    case 'invalid_type':
      if (value === undefined) return refuse('missing_required_parameter', `Missing required parameter: '${field}'.`);
      return refuse('invalid_type', `Invalid type for '${field}': expected ${typeWord(picked.expected)}, but got ${describe(value)} instead.`);
    case 'invalid_union': {
      if (value === undefined) return refuse('missing_required_parameter', `Missing required parameter: '${field}'.`);
      const expected = [...new Set(picked.unionErrors.flatMap((e) => e.issues.map((i) => (i.code === 'invalid_type' ? typeWord(i.expected) : 'another value'))))];
      return refuse('invalid_type', `Invalid type for '${field}': expected one of ${expected.join(' or ')}, but got ${describe(value)} instead.`);
    }
    case 'invalid_union_discriminator':
    case 'invalid_enum_value':
    case 'invalid_literal': {
      const options = picked.code === 'invalid_literal' ? [picked.expected] : picked.options;
      if (value === undefined) return refuse('missing_required_parameter', `Missing required parameter: '${field}'. Supported values are: ${quoteAll(options)}.`);
      return refuse('invalid_value', `Invalid value for '${field}': ${JSON.stringify(value)}. Supported values are: ${quoteAll(options)}.`);
    }
    case 'too_small':
    case 'too_big': {
      const below = picked.code === 'too_small';
      const bound = Number(below ? (picked as { minimum: number | bigint }).minimum : (picked as { maximum: number | bigint }).maximum);
      const sign = `${below ? '>' : '<'}${picked.inclusive ? '=' : ''}`;
      if (picked.type === 'number') {
        const kind = Number.isInteger(value) ? 'integer' : 'decimal';
        return refuse(`${kind}_${below ? 'below_min' : 'above_max'}_value`, `Invalid '${field}': ${kind} ${below ? 'below minimum' : 'above maximum'} value. Expected a value ${sign} ${bound}, but got ${String(value)} instead.`);
      }
      const what = picked.type === 'string' ? 'string' : 'array';
      const length = (value as { length?: number } | undefined)?.length ?? 0;
      if (below && length === 0) return refuse(`empty_${what}`, `Invalid '${field}': empty ${what}. Expected a${what === 'array' ? 'n' : ''} ${what} with minimum length ${bound}, but got an empty ${what} instead.`);
      return refuse(`${what}_${below ? 'below_min' : 'above_max'}_length`, `Invalid '${field}': ${what} too ${below ? 'short' : 'long'}. Expected a length ${sign} ${bound}, but got ${length} instead.`);
    }
    case 'custom':
      return refuse((picked.params as RefusalParams | undefined)?.code ?? 'invalid_value', picked.message);
    default:
      return refuse('invalid_value', `Invalid value for '${field}': ${picked.message}.`);
  }
}

/**
 * The issue to report. When every branch of a union failed, a branch whose type matched says what is wrong (the one
 * that got furthest inside); if no branch's type matched, the union's own issue (the value has none of its types).
 */
function deepest(issue: ZodIssue): ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  let best: ZodIssue | null = null;
  for (const inner of issue.unionErrors.flatMap((e) => e.issues)) {
    const typeMismatch = inner.code === 'invalid_type' && inner.path.length === issue.path.length;
    if (!typeMismatch && (best === null || inner.path.length > best.path.length)) best = inner;
  }
  return best === null ? issue : deepest(best);
}

function valueAt(body: unknown, path: readonly (string | number)[]): unknown {
  let value = body;
  for (const key of path) value = typeof value === 'object' && value !== null ? (value as Record<string | number, unknown>)[key] : undefined;
  return value;
}

const TYPE_WORDS: Record<string, string> = { string: 'a string', number: 'a number', integer: 'an integer', float: 'a decimal', boolean: 'a boolean', object: 'an object', array: 'an array', null: 'null' };
const typeWord = (zodType: string) => TYPE_WORDS[zodType] ?? zodType;

/** A value's JSON type as OpenAI's messages say it: "a string", "an integer", "a decimal", "an object"… */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

const quoteAll = (options: readonly unknown[]) => options.map((o) => `'${String(o)}'`).join(', ');
