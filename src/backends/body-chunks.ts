import { finished, type Readable } from 'node:stream';
import { LineSplitter, MAX_LINE_BYTES } from './lines.js';

/**
 * What is left of a body once its answer is complete (after `data: [DONE]`, or Ollama's `"done": true` object) is
 * read and dropped for at most this long and this many bytes, so that the connection can carry the next call; past
 * either the body is destroyed (its connection closed). The answer does not wait for it: a server, or a proxy in front
 * of one, that holds the response open after the last piece must not hold back the task or the client.
 */
export const DRAIN_AFTER_ANSWER = { ms: 2_000, bytes: 64 * 1024 };

/**
 * Hands each chunk of a readable byte stream (an undici response body) to `onChunk` as it arrives, synchronously, and
 * resolves at the stream's end, or as soon as `onChunk` returns true (the answer is complete: the rest of the body is
 * drained as DRAIN_AFTER_ANSWER says, its errors ignored). A relay reads thousands of pieces a second: this costs no
 * promise per chunk, where `for await` over the stream, and async generators on top of it, cost several. Rejects with
 * the stream's error (a reset, an abort), ERR_STREAM_PREMATURE_CLOSE for one closed before its end, or what `onChunk`
 * throws; the stream is destroyed then, so its connection is not reused for another request.
 */
export function eachChunk(body: Readable, onChunk: (chunk: Buffer) => boolean | void): Promise<void> {
  return new Promise((resolve, reject) => {
    let thrown: { err: unknown } | null = null;
    let complete = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let drained = 0;
    const drain = (bytes: number) => {
      drained += bytes;
      if (drained > DRAIN_AFTER_ANSWER.bytes) body.destroy();
    };
    body.on('data', (chunk: Buffer) => {
      if (thrown) return;
      if (complete) return drain(chunk.length);
      try {
        if (onChunk(chunk) !== true) return;
      } catch (err) {
        thrown = { err };
        body.destroy();
        return;
      }
      complete = true;
      drainTimer = setTimeout(() => body.destroy(), DRAIN_AFTER_ANSWER.ms).unref();
      resolve();
    });
    finished(body, (err) => {
      clearTimeout(drainTimer);
      if (complete) return;
      if (thrown) reject(thrown.err);
      else if (err) reject(err);
      else resolve();
    });
  });
}

/**
 * Hands each line of a byte stream to `onLine` as chunks complete them (LineSplitter's rules: CRLF, LF or a bare CR
 * end a line; one longer than `maxLineBytes` is refused), then the last unterminated line; resolves at the end, or
 * once `onLine` returns true (the answer is complete: later lines are not read, see eachChunk); rejects as eachChunk.
 */
export async function eachLine(body: Readable, onLine: (line: string) => boolean | void, label?: string, maxLineBytes = MAX_LINE_BYTES): Promise<void> {
  const splitter = new LineSplitter(maxLineBytes, label);
  let complete = false;
  await eachChunk(body, (chunk) => {
    for (const line of splitter.push(chunk)) if (onLine(line) === true) return (complete = true);
    return false;
  });
  if (complete) return;
  for (const line of splitter.end()) if (onLine(line) === true) return;
}
