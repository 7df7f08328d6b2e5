/**
 * The fake LLM server's fault modes and scripted answers: what a test can make it do instead of answering normally
 * (fail, hang, send garbage, stop halfway, pause between pieces, cut a write inside a character), how a prompt asks
 * for one (`[[mode:hang]]`, `[[delay:200]]`, `[[chunk-delay:20]]`, `[[split]]`), and the writers that play them.
 */
import type http from 'node:http';

/**
 * ok: answers normally. error500 / error400: that status with the protocol's error body.
 * hang: never finishes (streaming: headers and the first piece, then silence; otherwise nothing at all).
 * garbage: 200 with a body that is not the protocol. truncate: a streamed answer stops halfway
 * (no done / finish_reason / [DONE]) and the response ends; a single JSON body is cut in half.
 */
export type FakeMode = 'ok' | 'error500' | 'error400' | 'hang' | 'garbage' | 'truncate';

export const FAKE_MODES: readonly FakeMode[] = ['ok', 'error500', 'error400', 'hang', 'garbage', 'truncate'];

/** One chunk of a scripted response: exact bytes, written after an optional pause. */
export type ScriptedChunk = string | Uint8Array | { bytes: string | Uint8Array; delayMs?: number };

/**
 * A response played back exactly as given, whatever the request asked for: the status, the headers, then each chunk
 * as its own write (so the client reads them as separate pieces when they are apart in time).
 */
export interface ScriptedResponse {
  /** Default 200. */
  status?: number;
  /** Default: the protocol's streaming content-type (text/event-stream for OpenAI, application/x-ndjson for Ollama). */
  headers?: Record<string, string>;
  chunks: readonly ScriptedChunk[];
  /**
   * After the chunks, write this one again and again (each after delayMs, default 0) until the client goes away, as a
   * real server does: waiting for 'drain' while the socket is full. `written.count` counts the writes made.
   */
  repeat?: { bytes: string | Uint8Array; delayMs?: number; written?: { count: number } };
  /** Leave the response open after the chunks instead of ending it. */
  hang?: boolean;
  /** After the chunks, reset the connection (TCP RST) instead of ending the response. */
  reset?: boolean;
  /** Wait this long before the status line (a proxy answering once its own timeout has passed). */
  headAfterMs?: number;
}

export type ScriptEntry = FakeMode | ScriptedResponse;

export interface FakeBehaviour {
  mode: FakeMode;
  /** Wait before answering at all. */
  delayMs: number;
  /** Wait between streamed pieces. */
  chunkDelayMs: number;
  /** Write each streamed piece in two parts cut inside a multi-byte UTF-8 character (or mid-line). */
  splitWrites: boolean;
}

/** What the `garbage` mode sends with a 200: anything that is not the protocol. */
export const GARBAGE = '<html><body>502 Bad Gateway, or anything else that is not the protocol</body></html>\n';

/** Runs fn after ms on a timer the server clears when it closes. */
export type Later = (ms: number, fn: () => void) => void;

const MARKER = /\[\[(mode|delay|chunk-delay|split)(?::([\w-]+))?\]\]/g;
/** Minimum pause between the two halves of a split write, so they reach the client as separate chunks. */
const SPLIT_PAUSE_MS = 2;

/** Throws on a mode the fake does not know (a typo in a test). */
export function checkMode(mode: string): asserts mode is FakeMode {
  if (!FAKE_MODES.includes(mode as FakeMode)) throw new Error(`fake-llm: unknown mode ${JSON.stringify(mode)}`);
}

/** Reads `[[mode:x]]`, `[[delay:ms]]`, `[[chunk-delay:ms]]` and `[[split]]` from a prompt. */
export function readMarkers(prompt: string): Partial<FakeBehaviour> {
  const found: Partial<FakeBehaviour> = {};
  for (const [, name, value] of prompt.matchAll(MARKER)) {
    if (name === 'mode' && FAKE_MODES.includes(value as FakeMode)) found.mode = value as FakeMode;
    else if (name === 'delay') found.delayMs = Number(value) || 0;
    else if (name === 'chunk-delay') found.chunkDelayMs = Number(value) || 0;
    else if (name === 'split') found.splitWrites = true;
  }
  return found;
}

/**
 * Writes pieces one pause apart (and each in two halves when splitting), and ends the response with the last one, as
 * Ollama, vLLM and llama.cpp's server do: nothing waits between the closing piece and the end of the body.
 */
export function writeSlowly(res: http.ServerResponse, pieces: string[], behaviour: FakeBehaviour, later: Later): void {
  const parts: Buffer[] = [];
  for (const piece of pieces) {
    const bytes = Buffer.from(piece, 'utf8');
    if (behaviour.splitWrites) parts.push(...splitInsideCharacter(bytes));
    else parts.push(bytes);
  }
  const pause = behaviour.splitWrites ? Math.max(behaviour.chunkDelayMs, SPLIT_PAUSE_MS) : behaviour.chunkDelayMs;
  let next = 0;
  const step = (): void => {
    if (res.destroyed) return;
    const part = parts[next++];
    if (part === undefined) {
      res.end();
      return;
    }
    if (next === parts.length) {
      res.end(part);
      return;
    }
    res.write(part);
    later(pause, step);
  };
  step();
}

/** Plays a scripted response back: status, headers, each chunk as a write after its pause, then end/repeat/hang. */
export function play(script: ScriptedResponse, contentType: string, res: http.ServerResponse, later: Later): void {
  if (script.headAfterMs) {
    const { headAfterMs: _, ...now } = script;
    later(script.headAfterMs, () => !res.destroyed && play(now, contentType, res, later));
    return;
  }
  res.writeHead(script.status ?? 200, script.headers ?? { 'content-type': contentType, 'cache-control': 'no-cache' });
  res.flushHeaders();
  const chunks = script.chunks.map((c) => (typeof c === 'string' || c instanceof Uint8Array ? { bytes: c, delayMs: 0 } : c));
  let next = 0;
  const step = (): void => {
    if (res.destroyed) return;
    const chunk = chunks[next++];
    if (chunk !== undefined) {
      const write = () => {
        if (res.destroyed) return;
        res.write(chunk.bytes);
        step();
      };
      if (chunk.delayMs) later(chunk.delayMs, write);
      // Apart in time even without a pause, so each chunk reaches the client as its own read.
      else if (next > 1) later(1, write);
      else write();
      return;
    }
    if (script.repeat) repeatForever(res, script.repeat, later);
    else if (script.reset) later(50, () => res.socket?.resetAndDestroy());
    else if (!script.hang) res.end();
  };
  step();
}

/** Writes the same bytes until the client goes away, waiting for 'drain' when the socket is full. */
function repeatForever(res: http.ServerResponse, repeat: NonNullable<ScriptedResponse['repeat']>, later: Later): void {
  const { bytes, delayMs = 0, written } = repeat;
  const again = (): void => {
    if (res.destroyed) return;
    if (written) written.count++;
    if (!res.write(bytes)) res.once('drain', () => later(delayMs, again));
    else later(delayMs, again);
  };
  again();
}

/** Cuts bytes in two inside the first multi-byte character, or in the middle when there is none. */
function splitInsideCharacter(bytes: Buffer): Buffer[] {
  if (bytes.length < 2) return [bytes];
  // A continuation byte (10xxxxxx) is never the first byte of a character.
  let cut = bytes.findIndex((b) => (b & 0xc0) === 0x80);
  if (cut <= 0) cut = Math.floor(bytes.length / 2);
  return [bytes.subarray(0, cut), bytes.subarray(cut)];
}
