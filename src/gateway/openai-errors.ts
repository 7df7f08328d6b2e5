/** Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} (platform.openai.com/docs/guides/error-codes). */

export function openAiErrorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** The error type OpenAI uses for a status: invalid_request_error for 4xx, server_error otherwise. */
export function openAiErrorType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_exceeded';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}
