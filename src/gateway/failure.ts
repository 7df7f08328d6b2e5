/**
 * What a gateway client is told about a request that got no (whole) answer: the task's error in words about the model
 * it asked for. The backend's name and address stay in the log and in the task's stored error; a client of the pool
 * only knows models. A request the server refused keeps the server's own message and, from an OpenAI-compatible
 * server, the `param` and `code` it named, with the server's status when it is about the request (OpenAI's error
 * shape: platform.openai.com/docs/guides/error-codes; Ollama's is {"error": "..."}).
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
    const { text, param, code } = serverWords(http.body);
    const refused = http.status >= 400 && http.status < 500 && http.status !== 429;
    const what = refused ? 'refused the request' : 'failed';
    const status = refused ? refusalStatus(http.status) : 502;
    // The server's code is about the request only when its status is passed on (not a refusal of the pool's key).
    return { code: (status !== 502 ? code : null) ?? error.code, message: `the server of model ${named} ${what} (HTTP ${http.status})${text ? `: ${text}` : ''}`, param, status };
  }
  // An error reported inside a 200 answer (LiteLLM's {"error": {"code": "400"}}, llama.cpp's error: frame) with a 4xx
  // code is as much a refusal as a 400 status: a client must not retry it.
  const reported = readReportedErrorText(error.message);
  if (reported && reported.code !== null && reported.code >= 400 && reported.code < 500 && reported.code !== 408 && reported.code !== 429) {
    return { code: error.code, message: `the server of model ${named} refused the request (reported ${reported.code}): ${reported.text}`, param: null, status: 400 };
  }
  return { code: error.code, message: `model ${named}: ${withoutInternals(error)}`, param: null, status: statusOf(error.code) };
}

/**
 * The status a server's refusal is passed on with: the statuses about the request itself as they are (400, 404 for a
 * model the server does not have, 413, 422), SDKs act on them; 401 and 403 are about the pool's own credentials for
 * the server, which the client cannot mend (502); other 4xx are a 400.
 */
function refusalStatus(status: number): number {
  if (status === 400 || status === 404 || status === 413 || status === 422) return status;
  if (status === 401 || status === 403) return 502;
  return 400;
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
 * The message, param and code in a server's error body: OpenAI's {"error": {"message", "param", "code"}}, Ollama's
 * {"error": "..."}, or the {"message", "param", "code"} of servers that leave out the wrapper; the body itself when it
 * is none of them. A code is kept only as a word (context_length_exceeded, model_not_found: clients act on them), not
 * as a number some servers repeat the status with.
 */
function serverWords(body: string): { text: string; param: string | null; code: string | null } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { text: body, param: null, code: null };
  }
  const outer = isRecord(parsed) ? parsed : {};
  const inner = isRecord(outer.error) ? outer.error : outer;
  const text = typeof outer.error === 'string' ? outer.error : typeof inner.message === 'string' ? inner.message : body;
  const code = typeof inner.code === 'string' && /^[a-z][a-z0-9_]{0,63}$/i.test(inner.code) ? inner.code : null;
  return { text, param: typeof inner.param === 'string' ? inner.param : null, code };
}
