import { BackendProtocolError } from '../errors.js';
import { excerpt } from './excerpt.js';

/** True for a plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses JSON text; throws BackendProtocolError naming what was parsed and showing an excerpt of it. */
export function parseBackendJson(text: string, what: string, label: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new BackendProtocolError(`${label}: ${what} is not JSON: ${JSON.stringify(excerpt(text, 200))}`);
  }
}

/** Reads a number field that servers may omit; anything that is not a finite number counts as absent. */
export function optionalNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** Turns an error payload ({"error": "..."} or {"error": {"message": "..."}}) into readable text. */
export function errorPayloadText(error: unknown): string {
  if (typeof error === 'string') return excerpt(error);
  if (isRecord(error) && typeof error.message === 'string') return excerpt(error.message);
  return excerpt(JSON.stringify(error) ?? String(error));
}
