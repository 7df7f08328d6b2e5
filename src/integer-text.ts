/**
 * Whole numbers sent as text (headers, query values, command-line flags). Number() would also take "1e1", "0x9",
 * "0b1", "1.0" and " 5 "; a person writing a count writes decimal digits, so only those are taken.
 */

const DECIMAL_INTEGER = /^-?[0-9]{1,15}$/;

/** The integer `raw` writes in decimal digits (an optional minus, no sign, spaces, exponent or prefix); else null. */
export function decimalInteger(raw: string): number | null {
  return DECIMAL_INTEGER.test(raw) ? Number(raw) : null;
}

/** The decimal integer `raw` writes when it is from `min` to `max`; else null. */
export function integerInRange(raw: string, min: number, max: number): number | null {
  const n = decimalInteger(raw);
  return n !== null && n >= min && n <= max ? n : null;
}
