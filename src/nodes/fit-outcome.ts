/**
 * A node's outcome must fit in one NATS message (the server's max_payload: 1 MiB by default, 8 MB in the config
 * `koubou nats-config` writes). An agent CLI's diff is what grows: it is cut to fit, marked diff_truncated (the branch
 * on the node holds all of it). An answer that cannot fit even without its diff fails as output_too_large, rather
 * than being offered to a server that refuses it for ten minutes.
 */
import { utf8Prefix } from '../backends/answer.js';
import type { TaskOutcome } from '../tasks/task.js';

/** Bytes kept for the rest of the message around the outcome (version, session, task id, lease, kind). */
const ENVELOPE_BYTES = 4096;

const jsonBytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/** The outcome as it can be sent in a message of at most `maxPayload` bytes; `cut` says what had to give. */
export function fitOutcome(outcome: TaskOutcome, maxPayload: number): { outcome: TaskOutcome; cut: 'none' | 'diff' | 'answer' } {
  const budget = maxPayload - ENVELOPE_BYTES;
  if (jsonBytes(outcome) <= budget) return { outcome, cut: 'none' };
  if (outcome.status === 'completed' && outcome.changes) {
    const changes = outcome.changes;
    const withoutDiff = { ...outcome, changes: { ...changes, diff: '', diff_truncated: true } };
    // What the escaped diff may take; escaping (quotes, newlines) makes it larger than its UTF-8 bytes.
    const room = budget - jsonBytes(withoutDiff);
    if (room >= 0) {
      let keep = room;
      let diff = utf8Prefix(changes.diff, keep);
      for (let escaped = jsonBytes(diff) - 2; escaped > room && keep > 0; escaped = jsonBytes(diff) - 2) {
        keep = Math.floor((keep * room) / escaped) - 1;
        diff = utf8Prefix(changes.diff, keep);
      }
      return { outcome: { ...outcome, changes: { ...changes, diff, diff_truncated: true } }, cut: 'diff' };
    }
  }
  const bytes = outcome.status === 'completed' ? Buffer.byteLength(outcome.output) : jsonBytes(outcome);
  const error = {
    code: 'output_too_large',
    message: `the answer (${bytes} bytes) does not fit in one NATS message (the server's max_payload is ${maxPayload} bytes); raise max_payload in the nats-server config`,
  };
  return { outcome: { status: 'failed', error, ...(outcome.answer ? { answer: outcome.answer } : {}) }, cut: 'answer' };
}
