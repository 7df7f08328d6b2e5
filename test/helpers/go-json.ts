/**
 * JSON as Go's encoding/json writes it, for stand-ins of servers written in Go (Ollama): `json.Marshal` of a
 * map[string]any sorts its keys (byte order), and strings escape <, >, & and U+2028/U+2029 as \u003c, \u003e, \u0026,
 * \u2028, \u2029 (HTMLEscape). Everything else matches JSON.stringify for the values our stand-ins send.
 */

/** `json.Marshal` of a value made of maps: keys sorted at every level. */
export function goMarshal(value: unknown): string {
  return goEscape(JSON.stringify(sortKeys(value)));
}

/** `json.Marshal` of a struct or an ordered map (Ollama's tool-call arguments): keys in the order given. */
export function goMarshalOrdered(value: unknown): string {
  return goEscape(JSON.stringify(value));
}

function goEscape(json: string): string {
  // These characters only occur inside strings in JSON text, so replacing them everywhere is safe.
  return json.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}
