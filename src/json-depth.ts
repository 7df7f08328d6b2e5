/**
 * How deep a client's JSON may nest. Every reader of a parsed value that walks it (JSON.stringify when the store
 * writes a gateway request, schema checks, the GraphQL engine, request translation) recurses once per level, so a
 * body of a few kilobytes of `[` would overflow the stack deep inside one of them; it is refused where it is read.
 */

/** Arrays and objects inside one another that a JSON value from a client may have; far beyond any real request. */
export const MAX_JSON_DEPTH = 100;

/** Whether JSON text nests arrays and objects deeper than `max` levels (brackets inside strings do not count). */
export function nestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}
