export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines of the event joined with "\n". */
  data: string;
}

/**
 * Groups Server-Sent Events lines into events as the WHATWG rules say: `data:` lines accumulate,
 * a blank line dispatches, `:` comments and unknown fields (id, retry…) are ignored.
 */
export async function* readSseEvents(lines: AsyncIterable<string>): AsyncGenerator<SseEvent> {
  let data: string[] = [];
  let event = '';
  for await (const line of lines) {
    if (line === '') {
      if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
      data = [];
      event = '';
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  // Lenient where the spec discards: a last event missing only its blank line still counts.
  if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
}
