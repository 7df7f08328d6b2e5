/** Reading an AnswerInfo that arrives from outside the process (a koubou-node's outcome): checked field by field. */
import { ValidationError } from '../errors.js';
import { FINISH_REASONS, type AnswerInfo, type FinishReason } from './task.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

/** The AnswerInfo in `value`, undefined when absent; throws ValidationError naming `field` when it is malformed. */
export function parseAnswerInfo(value: unknown, field: string): AnswerInfo | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw new ValidationError(`${field} must be an object`, field);
  const reason = value.finishReason;
  if (typeof reason !== 'string' || !(FINISH_REASONS as readonly string[]).includes(reason)) {
    throw new ValidationError(`${field}.finishReason must be one of ${FINISH_REASONS.join(', ')}`, `${field}.finishReason`);
  }
  const usage = isObject(value.usage) ? value.usage : {};
  return {
    finishReason: reason as FinishReason,
    truncated: value.truncated === true,
    model: typeof value.model === 'string' ? value.model : null,
    usage: { promptTokens: count(usage.promptTokens), completionTokens: count(usage.completionTokens), reasoningTokens: count(usage.reasoningTokens) },
    ...(typeof value.reasoning === 'string' ? { reasoning: value.reasoning } : {}),
  };
}
