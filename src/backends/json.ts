import { BackendProtocolError, BackendReportedError } from '../errors.js';
import { excerpt } from './excerpt.js';
import { reportedErrorText } from './error-wording.js';

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
function errorPayloadText(error: unknown): string {
  if (typeof error === 'string') return excerpt(error);
  if (isRecord(error) && typeof error.message === 'string') return excerpt(error.message);
  return excerpt(JSON.stringify(error) ?? String(error));
}

/**
 * The error a server reported inside a 200 answer (the value of an `error` field, or llama.cpp's `error:` SSE frame
 * {"code":400,"message":…,"type":…}) as a BackendReportedError: permanent when its numeric `code` says the request
 * was at fault.
 */
export function reportedError(error: unknown, label: string): BackendReportedError {
  const inner = isRecord(error) && error.error !== undefined && error.error !== null ? error.error : error;
  const raw = isRecord(inner) ? inner.code : undefined;
  const code = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{3}$/.test(raw) ? Number(raw) : undefined;
  return new BackendReportedError(reportedErrorText(label, code, errorPayloadText(inner)), code);
}

/** JSON when the text is JSON, else the text itself (an error frame may be either). */
export function parseLooseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
