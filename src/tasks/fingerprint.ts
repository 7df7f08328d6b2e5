/**
 * What makes two submissions under one idempotency key "the same": the normalised submission after validation and
 * defaults (type, prompt, priority, file paths, options), not the request's bytes. So `{"prompt":"x"}` and
 * `{"priority":5,"prompt":"x","sync":true}` are the same task, while another prompt, priority, file list or option is
 * not. How the client waits (`sync`) and the key itself are not part of it; file contents are read later and are not
 * either (the client sent paths).
 */
import { createHash } from 'node:crypto';
import type { DelegateInput } from './validate.js';

/** A sha256 (hex) of the submission's canonical JSON: object keys sorted at every depth, arrays in order. */
export function submissionFingerprint(input: Pick<DelegateInput, 'type' | 'prompt' | 'priority' | 'files' | 'options'>): string {
  const { type, prompt, priority, files, options } = input;
  return createHash('sha256').update(canonicalJson({ type, prompt, priority, files, options })).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
