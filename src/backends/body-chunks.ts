import { finished, type Readable } from 'node:stream';
import { LineSplitter, MAX_LINE_BYTES } from './lines.js';

/**
 * Hands each chunk of a readable byte stream (an undici response body) to `onChunk` as it arrives, synchronously, and
 * resolves at the stream's end. A relay reads thousands of pieces a second: this costs no promise per chunk, where
 * `for await` over the stream, and async generators on top of it, cost several. Rejects with the stream's error
 * (a reset, an abort), ERR_STREAM_PREMATURE_CLOSE for one closed before its end, or what `onChunk` throws; the
 * stream is destroyed then, so its connection is not reused for another request.
 */
export function eachChunk(body: Readable, onChunk: (chunk: Buffer) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let thrown: { err: unknown } | null = null;
    body.on('data', (chunk: Buffer) => {
      if (thrown) return;
      try {
        onChunk(chunk);
      } catch (err) {
        thrown = { err };
        body.destroy();
      }
    });
    finished(body, (err) => {
      if (thrown) reject(thrown.err);
      else if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Hands each line of a byte stream to `onLine` as chunks complete them (LineSplitter's rules: CRLF, LF or a bare CR
 * end a line; one longer than `maxLineBytes` is refused), then the last unterminated line; rejects as eachChunk does.
 */
export async function eachLine(body: Readable, onLine: (line: string) => void, label?: string, maxLineBytes = MAX_LINE_BYTES): Promise<void> {
  const splitter = new LineSplitter(maxLineBytes, label);
  await eachChunk(body, (chunk) => {
    for (const line of splitter.push(chunk)) onLine(line);
  });
  for (const line of splitter.end()) onLine(line);
}
