/**
 * `gemini --output-format stream-json` output: one event per line: init {session_id, model}, message {role, content,
 * delta?}, tool_use {tool_name, tool_id, parameters}, tool_result {tool_id, status, output}, error {severity, message},
 * result {status: success | error, error?: {type, message}, stats: {input_tokens, output_tokens, total_tokens, ...}}.
 * Assistant text streams as it arrives; the answer is the assistant's text after its last tool call.
 */
import { asCount, asRecord, asString, jsonObject, type AgentOutputParser } from './agent-output.js';

export function geminiParser(onChunk: (text: string) => void): AgentOutputParser {
  let current = '';
  let promptTokens: number | undefined;
  let completionTokens: number | undefined;
  let failure: string | undefined;
  let lastError: string | undefined;

  return {
    line(line) {
      const event = jsonObject(line);
      if (!event) return;
      switch (event.type) {
        case 'message': {
          const content = asString(event.content);
          if (event.role !== 'assistant' || content === undefined) return;
          // Without `delta` the event is a whole message, which replaces what came before.
          if (event.delta !== true) current = '';
          current += content;
          onChunk(content);
          return;
        }
        case 'tool_use':
          // What the agent says after using a tool is its answer; what it said before was working notes.
          if (current !== '') onChunk('\n\n');
          current = '';
          return;
        case 'error':
          if (event.severity !== 'warning') lastError = asString(event.message) ?? lastError;
          return;
        case 'result': {
          const stats = asRecord(event.stats);
          promptTokens = asCount(stats?.input_tokens);
          completionTokens = asCount(stats?.output_tokens);
          if (event.status === 'error') failure = asString(asRecord(event.error)?.message) ?? lastError ?? 'gemini reported an error';
          return;
        }
        default:
          // init, tool_result and kinds added later carry nothing the answer needs.
          return;
      }
    },
    answer: () => ({ output: current, promptTokens, completionTokens, failure: failure ?? lastError }),
  };
}

/** What gemini's documented exit codes mean (0 ok, 1 general error, 42 bad input, 53 turn limit). */
export function geminiExitMeaning(code: number): string | null {
  if (code === 42) return 'gemini refused the input (exit 42)';
  if (code === 53) return 'gemini hit its turn limit (exit 53)';
  return null;
}
