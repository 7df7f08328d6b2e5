/** NATS payloads: JSON objects with a version field, checked where they enter. */
import { KoubouError } from '../errors.js';

export const PROTOCOL_VERSION = 1;

/** A message that is not JSON, not an object, or of another protocol version. */
export class InvalidMessage extends KoubouError {
  readonly code = 'invalid_message';
  override readonly status = 400;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Adds the version field (the task subjects' by default; the node protocol has its own) and encodes. */
export function encode(payload: Record<string, unknown>, version: number = PROTOCOL_VERSION): Uint8Array {
  return encoder.encode(JSON.stringify({ v: version, ...payload }));
}

/**
 * Decodes and checks the version (the task subjects' by default; the node protocol has its own); returns the payload
 * without it. A message without `v` is taken as that version, so another service can send plain JSON without knowing
 * our envelope; a different `v` is refused.
 */
export function decode(data: Uint8Array, version: number = PROTOCOL_VERSION): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (err) {
    // JSON.parse quotes the text it failed on, and a join carries the pool token: name the position, never the text.
    const at = /position \d+/.exec((err as Error).message)?.[0];
    throw new InvalidMessage(`the message is not valid JSON${at ? ` (at ${at})` : ''}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidMessage('the message must be a JSON object');
  const { v, ...rest } = parsed as Record<string, unknown>;
  if (v !== undefined && v !== version) throw new InvalidMessage(`unsupported protocol version ${JSON.stringify(v)}; this coordinator speaks v: ${version}`);
  return rest;
}
