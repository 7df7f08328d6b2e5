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
 * Synchronous, one line at a time, so a relay pays no promise per line or event.
 */
export class SseDecoder {
  private data: string[] = [];
  private errors: string[] = [];
  private event = '';
  private held = 0;

  constructor(private readonly label = 'stream', private readonly maxEventChars = MAX_LINE_BYTES) {}

  /** Takes one line (without its line ending); calls `onEvent` for each event the line completes (at most two). */
  push(line: string, onEvent: (event: SseEvent) => void): void {
    if (line === '') return this.dispatch(onEvent);
    if (line.charCodeAt(0) === 0x3a /* ':' comment */) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data' && field !== 'error') {
      if (field === 'event') this.event = valueOf(line, colon);
      return;
    }
    const value = valueOf(line, colon);
    this.held += value.length + 1;
    if (this.held > this.maxEventChars) {
      throw new OutputTooLarge(`${this.label}: one event of the stream is longer than ${this.maxEventChars} characters; the answer was refused`);
    }
    (field === 'data' ? this.data : this.errors).push(value);
  }

  /** The stream ended: lenient where the spec discards, a last event missing only its blank line still counts. */
  end(onEvent: (event: SseEvent) => void): void {
    this.dispatch(onEvent);
  }

  private dispatch(onEvent: (event: SseEvent) => void): void {
    const { data, errors, event } = this;
    this.data = [];
    this.errors = [];
    this.event = '';
    this.held = 0;
    if (errors.length > 0) onEvent({ event: 'error', data: errors.join('\n') });
    const joined = data.length === 1 ? data[0]! : data.join('\n');
    if (joined.trim() !== '') onEvent({ event: event || 'message', data: joined });
  }
}

/** A field's value: what follows the colon, less one leading space; '' for a line without a colon. */
function valueOf(line: string, colon: number): string {
  if (colon === -1) return '';
  return line.charCodeAt(colon + 1) === 0x20 ? line.slice(colon + 2) : line.slice(colon + 1);
}

/** The events of a stream of lines, as SseDecoder groups them, for readers that iterate. */
export async function* readSseEvents(lines: AsyncIterable<string>, label = 'stream', maxEventChars = MAX_LINE_BYTES): AsyncGenerator<SseEvent> {
  const decoder = new SseDecoder(label, maxEventChars);
  const ready: SseEvent[] = [];
  const take = (event: SseEvent) => void ready.push(event);
  for await (const line of lines) {
    decoder.push(line, take);
    while (ready.length > 0) yield ready.shift()!;
  }
  decoder.end(take);
  yield* ready;
}
