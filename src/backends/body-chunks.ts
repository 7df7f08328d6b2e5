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
 * A deadline a reader starts once its answer can only be followed by trailing facts (an OpenAI-compatible finish
 * reason: the usage chunk and `data: [DONE]` may follow). Some servers and proxies send the finish reason and then
 * hold the response open without `[DONE]`, keep-alive comments and all; when the deadline passes before the body's
 * end, the reading completes with what it has and the body is destroyed (its connection closed).
 */
export class CompleteBy {
  private timer: NodeJS.Timeout | undefined;
  private fire: (() => void) | null = null;

  /** `ms`: how long after start() the reading is complete whatever else arrives. */
  constructor(private readonly ms: number) {}

  /** Starts the deadline; later calls keep the first. */
  start(): void {
    this.timer ??= setTimeout(() => this.fire?.(), this.ms).unref();
  }

  /** Starts a started deadline again from now (more of the answer came); nothing when it has not started. */
  restart(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.start();
  }

  /** For eachChunk: what the deadline does, and its end once the reading is over. */
  bind(fire: () => void): () => void {
    this.fire = fire;
    return () => {
      clearTimeout(this.timer);
      this.fire = null;
    };
  }
}

/** How a reading ended: at the body's end, or complete before it (the reader said so, or its CompleteBy passed). */
export type ReadingEnd = 'end' | 'complete';

/**
 * Hands each chunk of a readable byte stream (an undici response body) to `onChunk` as it arrives, synchronously, and
 * resolves 'end' at the stream's end, or 'complete' as soon as `onChunk` returns true (the answer is complete: the
 * rest of the body is drained as DRAIN_AFTER_ANSWER says, its errors ignored) or `completeBy` passes (the body is
 * destroyed). A relay reads thousands of pieces a second: this costs no promise per chunk, where `for await` over the
 * stream, and async generators on top of it, cost several. Rejects with the stream's error (a reset, an abort),
 * ERR_STREAM_PREMATURE_CLOSE for one closed before its end, or what `onChunk` throws; the stream is destroyed then,
 * so its connection is not reused for another request.
 */
export function eachChunk(body: Readable, onChunk: (chunk: Buffer) => boolean | void, completeBy?: CompleteBy): Promise<ReadingEnd> {
  return new Promise((resolve, reject) => {
    let thrown: { err: unknown } | null = null;
    let complete = false;
    let drainTimer: NodeJS.Timeout | undefined;
    let drained = 0;
    const drain = (bytes: number) => {
      drained += bytes;
      if (drained > DRAIN_AFTER_ANSWER.bytes) body.destroy();
    };
    const unbind = completeBy?.bind(() => {
      if (complete || thrown) return;
      complete = true;
      body.destroy();
      resolve('complete');
    });
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
      resolve('complete');
    });
    finished(body, (err) => {
      clearTimeout(drainTimer);
      unbind?.();
      if (complete) return;
      if (thrown) reject(thrown.err);
      else if (err) reject(err);
      else resolve('end');
    });
  });
}

/**
 * Hands each line of a byte stream to `onLine` as chunks complete them (LineSplitter's rules: CRLF, LF or a bare CR
 * end a line; one longer than `maxLineBytes` is refused), then, at the body's end, the last unterminated line;
 * resolves as eachChunk does: 'complete' once `onLine` returns true or `completeBy` passes (later lines and a partial
 * last one are not read), otherwise 'end'; rejects as eachChunk.
 */
export async function eachLine(body: Readable, onLine: (line: string) => boolean | void, label?: string, maxLineBytes = MAX_LINE_BYTES, completeBy?: CompleteBy): Promise<ReadingEnd> {
  const splitter = new LineSplitter(maxLineBytes, label);
  const ended = await eachChunk(
    body,
    (chunk) => {
      for (const line of splitter.push(chunk)) if (onLine(line) === true) return true;
      return false;
    },
    completeBy,
  );
  if (ended === 'complete') return ended;
  for (const line of splitter.end()) if (onLine(line) === true) return 'complete';
  return 'end';
}
