/**
 * Splits a byte stream into text lines. Keeps the unfinished tail between chunks and decodes with
 * `stream: true`, so a line or a multi-byte UTF-8 character cut across two chunks comes out whole.
 */
export class LineSplitter {
  private readonly decoder = new TextDecoder('utf-8');
  private pending = '';

  /** Feeds one chunk; returns the lines it completes, without their "\n" or "\r\n". */
  push(chunk: Uint8Array): string[] {
    const text = this.decoder.decode(chunk, { stream: true });
    // Most chunks of a long line carry no newline: append without re-splitting the whole buffer.
    if (!text.includes('\n')) {
      this.pending += text;
      return [];
    }
    const lines = (this.pending + text).split('\n');
    this.pending = lines.pop() ?? '';
    return lines.map(withoutCarriageReturn);
  }

  /** Flushes the decoder; returns the last line when the stream did not end with a newline. */
  end(): string[] {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    return rest === '' ? [] : [withoutCarriageReturn(rest)];
  }
}

/** Yields the lines of a byte stream as they complete. */
export async function* readLines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const chunk of body) {
    for (const line of splitter.push(chunk)) yield line;
  }
  for (const line of splitter.end()) yield line;
}

function withoutCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}
