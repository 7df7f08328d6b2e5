/**
 * What a gateway client is told about a request that got no (whole) answer: the task's error in words about the model
 * it asked for. The backend's name and address stay in the log and in the task's stored error; a client of the pool
 * only knows models. A request the server refused keeps the server's own message and, from an OpenAI-compatible
 * server, the `param` it named (OpenAI's error shape: platform.openai.com/docs/guides/error-codes; Ollama's is
 * {"error": "..."}).
 */
import { readHttpErrorText, readReportedErrorText, withoutBackendLabel } from '../backends/error-wording.js';
import { isRecord } from '../backends/json.js';
import type { TaskError } from '../tasks/task.js';

export interface ClientFailure {
  /** The task's error code (invalid_request, backend_http_error, answer_interrupted…). */
  code: string;
  message: string;
  /** The request field at fault, as the backend named it (OpenAI's error.param); null when it named none. */
  param: string | null;
  /** The status to answer with while nothing of the answer has gone out. */
  status: number;
}

/** The client's view of `error`, a failure of a request for `model`. */
export function clientFailure(error: TaskError, model: string): ClientFailure {
  const named = JSON.stringify(model);
  const http = readHttpErrorText(error.message);
  if (http) {
    const { text, param } = serverWords(http.body);
    const refused = http.status >= 400 && http.status < 500 && http.status !== 429;
    const what = refused ? 'refused the request' : 'failed';
    return { code: error.code, message: `the server of model ${named} ${what} (HTTP ${http.status})${text ? `: ${text}` : ''}`, param, status: refused ? 400 : 502 };
  }
  // An error reported inside a 200 answer (LiteLLM's {"error": {"code": "400"}}, llama.cpp's error: frame) with a 4xx
  // code is as much a refusal as a 400 status: a client must not retry it.
  const reported = readReportedErrorText(error.message);
  if (reported && reported.code !== null && reported.code >= 400 && reported.code < 500 && reported.code !== 408 && reported.code !== 429) {
    return { code: error.code, message: `the server of model ${named} refused the request (reported ${reported.code}): ${reported.text}`, param: null, status: 400 };
  }
  return { code: error.code, message: `model ${named}: ${withoutInternals(error)}`, param: null, status: statusOf(error.code) };
}

/** The status of a failure that is not a server's HTTP answer. */
function statusOf(code: string): number {
  if (code === 'invalid_request') return 400;
  if (code === 'timeout') return 504;
  if (code === 'cancelled') return 503;
  return 502;
}

/** The error's text without the backend's label and without network addresses (a refused connection names one). */
function withoutInternals(error: TaskError): string {
  const text = withoutBackendLabel(error.message);
  // Not a backend call's own words (those start with its label): the pool's giving up on pushed-back calls, which
  // names the backend it waited for.
  if (text === error.message && (error.code === 'backend_unavailable' || error.code === 'backend_busy')) {
    return 'its servers stayed busy or out of reach for longer than the pool waits for them';
  }
  // A request refused before it reached a server (a field the backend's protocol cannot carry) is about the client's
  // own request: its words, the client's own URLs among them, are kept.
  if (error.code === 'invalid_request') return text;
  // An IPv6 address holds a colon, so an index such as messages[0] is not one.
  return text.replace(/\s*(?:https?:\/\/[^\s)]+|\[[0-9a-fA-F.]*:[0-9a-fA-F:.]*\](?::\d+)?|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b)/g, '');
}

/**
 * The message and param in a server's error body: OpenAI's {"error": {"message", "param"}}, Ollama's {"error": "..."},
 * or the {"message", "param"} of servers that leave out the wrapper; the body itself when it is none of them.
 */
function serverWords(body: string): { text: string; param: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { text: body, param: null };
  }
  const outer = isRecord(parsed) ? parsed : {};
  const inner = isRecord(outer.error) ? outer.error : outer;
  const text = typeof outer.error === 'string' ? outer.error : typeof inner.message === 'string' ? inner.message : body;
  return { text, param: typeof inner.param === 'string' ? inner.param : null };
}
