import { BackendProtocolError } from '../errors.js';
import { OutputTooLarge } from './answer-errors.js';

/** Longest line a backend may send (8 MiB): past it the stream is refused, so one call's memory stays bounded. */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Splits a byte stream into text lines. A line ends at CRLF, LF or a bare CR, as the WHATWG event-stream rules say
 * (NDJSON's LF and CRLF are the same rules). Works on bytes, which UTF-8 never puts a CR or LF inside, so a line or a
 * multi-byte character cut across two chunks comes out whole. A line longer than `maxLineBytes` throws
 * BackendProtocolError instead of growing the buffer.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** The previous chunk ended in a CR: an LF opening the next one belongs to it. */
  private afterCr = false;
  private first = true;

  /** label: who sent the stream, for the message of a refused line. */
  constructor(private readonly maxLineBytes = MAX_LINE_BYTES, private readonly label = 'stream') {}

  /** Feeds one chunk; returns the lines it completes, without their line endings. */
  push(chunk: Uint8Array): string[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: string[] = [];
    let pos = 0;
    if (this.afterCr && buf.length > 0) {
      if (buf[0] === LF) pos = 1;
      this.afterCr = false;
    }
    // Each search runs once per position it passes, so a chunk costs linear time however many lines it holds.
    let nextLf = buf.indexOf(LF, pos);
    let nextCr = buf.indexOf(CR, pos);
    while (nextLf !== -1 || nextCr !== -1) {
      const end = nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : Math.min(nextLf, nextCr);
      lines.push(this.take(buf, pos, end));
      pos = end + 1;
      if (buf[end] === CR) {
        if (pos === buf.length) this.afterCr = true;
        else if (buf[pos] === LF) pos++;
      }
      if (nextLf !== -1 && nextLf < pos) nextLf = buf.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = buf.indexOf(CR, pos);
    }
    if (pos < buf.length) this.keep(buf.subarray(pos));
    return lines;
  }

  /** Returns the last line when the stream did not end with a line ending. */
  end(): string[] {
    if (this.partBytes === 0) return [];
    return [this.take(Buffer.alloc(0), 0, 0)];
  }

  /** The line made of the kept parts and buf[from, to). */
  private take(buf: Buffer, from: number, to: number): string {
    this.check(this.partBytes + (to - from));
    const bytes = this.parts.length === 0 ? buf.subarray(from, to) : Buffer.concat([...this.parts, buf.subarray(from, to)]);
    this.parts = [];
    this.partBytes = 0;
    let line = bytes.toString('utf8');
    // A byte order mark may open the stream; it is not part of the first line.
    if (this.first) {
      this.first = false;
      if (line.charCodeAt(0) === 0xfeff) line = line.slice(1);
    }
    return line;
  }

  private keep(rest: Buffer): void {
    this.check(this.partBytes + rest.length);
    // The chunk's buffer may be reused by the reader: keep a copy of the unfinished line.
    this.parts.push(Buffer.from(rest));
    this.partBytes += rest.length;
  }

  private check(bytes: number): void {
    if (bytes > this.maxLineBytes) {
      throw new OutputTooLarge(`${this.label}: a line of the stream is longer than ${this.maxLineBytes} bytes; the answer was refused`);
    }
  }
}

/** Yields the lines of a byte stream as they complete (see LineSplitter). */
export async function* readLines(body: AsyncIterable<Uint8Array>, label?: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<string> {
  const splitter = new LineSplitter(maxLineBytes, label);
  for await (const chunk of body) {
    for (const line of splitter.push(chunk)) yield line;
  }
  for (const line of splitter.end()) yield line;
}
