/**
 * `codex exec --json` output: one ThreadEvent per line (codex-rs/exec/src/exec_events.rs): thread.started, turn.started,
 * item.started / item.updated / item.completed carrying an `item` ({id, type: agent_message | reasoning |
 * command_execution | file_change | mcp_tool_call | web_search | todo_list | error, ...}), turn.completed with
 * usage {input_tokens, cached_input_tokens, output_tokens}, turn.failed with error {message}, and error {message}.
 * Agent message text streams as it grows; the answer is the last agent message.
 *
 * Not every error is the end: codex 0.171 reports "Model metadata for `<model>` not found" (an `error` item) on every
 * run with a local model, and "Reconnecting... 1/5 (...)" as `error` events while it retries a request. So only
 * turn.failed fails a run; an error seen in a run whose turn never completed is its reason.
 */
import { asCount, asRecord, asString, jsonObject, type AgentOutputParser } from './agent-output.js';

export function codexParser(onChunk: (text: string) => void): AgentOutputParser {
  /** How much of each agent message has been streamed, by item id. */
  const streamed = new Map<string, number>();
  let last = '';
  let promptTokens: number | undefined;
  let completionTokens: number | undefined;
  let failure: string | undefined;
  let lastError: string | undefined;
  let completed = false;

  const agentMessage = (item: Record<string, unknown>) => {
    const text = asString(item.text);
    if (text === undefined) return;
    const id = asString(item.id) ?? '';
    const sent = streamed.get(id) ?? 0;
    // A new message after an earlier one reads as a new paragraph in the stream.
    if (sent === 0 && streamed.size > 0 && text !== '') onChunk('\n\n');
    if (text.length > sent) onChunk(text.slice(sent));
    streamed.set(id, Math.max(sent, text.length));
    last = text;
  };

  return {
    line(line) {
      const event = jsonObject(line);
      if (!event) return;
      switch (event.type) {
        case 'item.started':
        case 'item.updated':
        case 'item.completed': {
          const item = asRecord(event.item);
          if (item?.type === 'agent_message') agentMessage(item);
          else if (item?.type === 'error' && event.type === 'item.completed') lastError = asString(item.message) ?? lastError;
          return;
        }
        case 'turn.completed': {
          const usage = asRecord(event.usage);
          promptTokens = asCount(usage?.input_tokens);
          completionTokens = asCount(usage?.output_tokens);
          completed = true;
          return;
        }
        case 'turn.failed':
          failure = asString(asRecord(event.error)?.message) ?? 'the turn failed';
          return;
        case 'error':
          lastError = asString(event.message) ?? 'codex reported an error';
          return;
        default:
          // thread.started, turn.started and kinds added later carry nothing the answer needs.
          return;
      }
    },
    answer: () => ({ output: last, promptTokens, completionTokens, failure: failure ?? (completed ? undefined : lastError) }),
  };
}
