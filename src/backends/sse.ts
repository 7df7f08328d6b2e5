import { OutputTooLarge } from './answer-errors.js';
import { MAX_LINE_BYTES } from './lines.js';

export interface SseEvent {
  /** The `event:` field, "message" when absent; "error" for a non-standard `error:` field (see below). */
  event: string;
  /** The `data:` lines of the event joined with "\n". */
  data: string;
}

/**
 * Groups Server-Sent Events lines into events as the WHATWG rules say: `data:` lines accumulate, a blank line
 * dispatches, `:` comments and other fields (id, retry…) are ignored. Two departures, both for LLM servers:
 * - an event whose data is empty or blank (`data:` or `data: ` sent as a keep-alive) is skipped;
 * - a non-standard `error:` field, which llama.cpp's server sends instead of `data:` when a request fails after the
 *   headers (`error: {"code":400,"message":…}`), comes out as an event of type "error" carrying that value.
 * An event whose data (and error) lines add up past `maxEventChars` (default: the line cap, 8 MiB) throws
 * OutputTooLarge: a server that never sends the blank line cannot fill the memory.
 */
export async function* readSseEvents(lines: AsyncIterable<string>, label = 'stream', maxEventChars = MAX_LINE_BYTES): AsyncGenerator<SseEvent> {
  let data: string[] = [];
  let errors: string[] = [];
  let event = '';
  let held = 0;
  function* dispatch(): Generator<SseEvent> {
    if (errors.length > 0) yield { event: 'error', data: errors.join('\n') };
    const joined = data.join('\n');
    if (joined.trim() !== '') yield { event: event || 'message', data: joined };
    data = [];
    errors = [];
    event = '';
    held = 0;
  }
  for await (const line of lines) {
    if (line === '') {
      yield* dispatch();
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data' || field === 'error') {
      held += value.length + 1;
      if (held > maxEventChars) throw new OutputTooLarge(`${label}: one event of the stream is longer than ${maxEventChars} characters; the answer was refused`);
      (field === 'data' ? data : errors).push(value);
    } else if (field === 'event') event = value;
  }
  // Lenient where the spec discards: a last event missing only its blank line still counts.
  yield* dispatch();
}
