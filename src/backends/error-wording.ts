/**
 * How the errors of an LLM backend's calls are worded: each starts with the backend's label (its type, name and
 * address, for the log and the task's stored error), and a refused request says the status and the server's own body.
 * Written and read here only, so that whoever shows an error without the backend's internals (the LLM gateway, to
 * its clients) reads exactly what was written.
 */

/** How a backend's errors name it: `ollama backend "local" (http://127.0.0.1:11434)`. */
export function backendLabel(type: 'ollama' | 'openai', name: string, address: string): string {
  return `${type} backend ${JSON.stringify(name)} (${address})`;
}

const LABEL = /^(?:ollama|openai) backend "(?:[^"\\]|\\.)*" \([^()\s]*\): /;

/** An error message without the backend label it starts with (the message as it is when it has none). */
export function withoutBackendLabel(message: string): string {
  return message.replace(LABEL, '');
}

/** The message of a call the server answered with an error status: `<label>: HTTP 400 from POST /v1/…: <body>`. */
export function httpErrorText(label: string, status: number, method: string, path: string, bodyExcerpt: string): string {
  return `${label}: HTTP ${status} from ${method} ${path}${bodyExcerpt ? `: ${bodyExcerpt}` : ''}`;
}

const HTTP_ERROR = /^HTTP (\d{3}) from \S+ \S+(?:: (.*))?$/s;

/** The status and body excerpt of an httpErrorText message (label or not), or null when it is not one. */
export function readHttpErrorText(message: string): { status: number; body: string } | null {
  const m = HTTP_ERROR.exec(withoutBackendLabel(message));
  return m ? { status: Number(m[1]), body: m[2] ?? '' } : null;
}
