/** The Retry-After response header (RFC 9110 §10.2.3): `delay-seconds` or an `HTTP-date`. */

/** A server may ask for a long pause, but a queue should not stall on one header: longer asks are cut to this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Milliseconds to wait from `nowMs`, or null when the header is absent or malformed. A date in the past is 0.
 * The wait is at most MAX_RETRY_AFTER_MS.
 */
export function parseRetryAfter(header: string | string[] | undefined, nowMs: number): number | null {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Math.min(MAX_RETRY_AFTER_MS, Number(value) * 1000);
  // HTTP-date has three historic forms (IMF-fixdate, RFC 850, asctime); Date.parse reads all three. It must name a
  // weekday and a time, which rules out the bare numbers and short words Date.parse would otherwise accept.
  if (!/^[A-Za-z]{3,9}, ?\d|^[A-Za-z]{3} [A-Za-z]{3} /.test(value)) return null;
  // asctime carries no zone; every HTTP-date is GMT, so it must not be read as local time.
  const at = Date.parse(/GMT$/.test(value) ? value : `${value} GMT`);
  if (Number.isNaN(at)) return null;
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, at - nowMs));
}
