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

/** Adds the version field and encodes. */
export function encode(payload: Record<string, unknown>): Uint8Array {
  return encoder.encode(JSON.stringify({ v: PROTOCOL_VERSION, ...payload }));
}

/**
 * Decodes and checks the version; returns the payload without it. A message without `v` is taken as the current
 * version, so another service can send plain JSON without knowing our envelope; a different `v` is refused.
 */
export function decode(data: Uint8Array): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new InvalidMessage(`the message is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new InvalidMessage('the message must be a JSON object');
  const { v, ...rest } = parsed as Record<string, unknown>;
  if (v !== undefined && v !== PROTOCOL_VERSION) throw new InvalidMessage(`unsupported protocol version ${JSON.stringify(v)}; this coordinator speaks v: ${PROTOCOL_VERSION}`);
  return rest;
}
