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

/**
 * The message of an error a server reported inside a 200 answer (an `error` object or llama.cpp's `error:` frame):
 * `<label>: server reported an error (400): <text>`, the code when the server gave one.
 */
export function reportedErrorText(label: string, code: number | undefined, text: string): string {
  return `${label}: server reported an error${code === undefined ? '' : ` (${code})`}: ${text}`;
}

const REPORTED_ERROR = /^server reported an error(?: \((\d{3})\))?: (.*)$/s;

/** The code and text of a reportedErrorText message (label or not), or null when it is not one. */
export function readReportedErrorText(message: string): { code: number | null; text: string } | null {
  const m = REPORTED_ERROR.exec(withoutBackendLabel(message));
  return m ? { code: m[1] === undefined ? null : Number(m[1]), text: m[2] ?? '' } : null;
}
