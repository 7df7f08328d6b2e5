/** A ChatDelta from another process (a koubou-node's progress message): only well-typed fields are kept. */
import { isRecord, optionalNumber } from '../json.js';
import type { ChatDelta, ToolCallDelta } from '../../tasks/chat.js';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const orNull = (v: unknown) => optionalNumber(v) ?? null;

/** The delta in `value`, or undefined when it is not an object. */
export function readChatDelta(value: unknown): ChatDelta | undefined {
  if (!isRecord(value)) return undefined;
  const delta: ChatDelta = {};
  if (str(value.content) !== undefined) delta.content = value.content as string;
  if (str(value.reasoning) !== undefined) delta.reasoning = value.reasoning as string;
  if (Array.isArray(value.toolCalls)) {
    delta.toolCalls = value.toolCalls.filter(isRecord).map((c, i): ToolCallDelta => {
      const call: ToolCallDelta = { index: optionalNumber(c.index) ?? i };
      for (const key of ['id', 'name', 'arguments'] as const) if (str(c[key]) !== undefined) call[key] = c[key] as string;
      return call;
    });
  }
  if (isRecord(value.logprobs)) delta.logprobs = value.logprobs;
  if (str(value.systemFingerprint) !== undefined) delta.systemFingerprint = value.systemFingerprint as string;
  if (Array.isArray(value.embeddings)) {
    delta.embeddings = value.embeddings.filter(Array.isArray).map((v) => (v as unknown[]).map((n) => optionalNumber(n) ?? 0));
  }
  if (isRecord(value.end)) {
    const e = value.end;
    const usage = isRecord(e.usage) ? e.usage : {};
    const durations = isRecord(e.durations) ? Object.fromEntries(Object.entries(e.durations).filter(([, n]) => optionalNumber(n) !== undefined)) as Record<string, number> : undefined;
    delta.end = {
      finishReason: str(e.finishReason) ?? 'stop',
      model: str(e.model) ?? '',
      usage: { promptTokens: orNull(usage.promptTokens), completionTokens: orNull(usage.completionTokens) },
      ...(durations ? { durations } : {}),
      ...(Array.isArray(e.context) && e.context.every((n) => typeof n === 'number') ? { context: e.context as number[] } : {}),
      ...(str(e.systemFingerprint) !== undefined ? { systemFingerprint: e.systemFingerprint as string } : {}),
    };
  }
  return delta;
}
