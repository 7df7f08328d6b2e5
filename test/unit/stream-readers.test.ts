/**
 * Property tests of the stream readers: any valid SSE or NDJSON stream, cut into chunks of any sizes, yields the
 * same events as the stream it was built from. Streams and cuts come from a seeded PRNG, so a failure names the
 * seed that reproduces it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutputTooLarge } from '../../src/backends/answer-errors.js';
import { LineSplitter, readLines } from '../../src/backends/lines.js';
import { readSseEvents, type SseEvent } from '../../src/backends/sse.js';
import { BackendProtocolError } from '../../src/errors.js';

const STREAMS = 300;
const CUTS_PER_STREAM = 4;

/** mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same sequence. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(rand: Rand, items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
const int = (rand: Rand, max: number) => Math.floor(rand() * (max + 1));

/** Text without line breaks, mixing ASCII, spaces, colons and multi-byte characters (2, 3 and 4 UTF-8 bytes). */
function text(rand: Rand, maxLength: number): string {
  const alphabet = ['a', 'b', 'z', ' ', ':', '{', '"', 'é', '工', '房', '🏯', '\t', '0'];
  let out = '';
  for (let i = int(rand, maxLength); i > 0; i--) out += pick(rand, alphabet);
  return out;
}

/** Writes lines with random endings (LF, CR, CRLF), never a CR line ending followed by an empty LF line (that is CRLF). */
function joinLines(rand: Rand, lines: string[]): string {
  let out = '';
  let previous = '';
  for (const line of lines) {
    let ending = pick(rand, ['\n', '\r', '\r\n']);
    if (previous === '\r' && line === '' && ending === '\n') ending = '\r\n';
    out += line + ending;
    previous = ending;
  }
  return out;
}

/** A random valid event stream and the events a reader must get from it. */
function sseStream(rand: Rand): { bytes: Buffer; events: SseEvent[] } {
  const lines: string[] = [];
  const events: SseEvent[] = [];
  for (let e = int(rand, 8); e > 0; e--) {
    if (rand() < 0.2) lines.push(`:${text(rand, 10)}`);
    const kind = rand() < 0.15 ? 'keepalive' : 'event';
    if (kind === 'keepalive') {
      lines.push(pick(rand, ['data:', 'data: ']), '');
      continue;
    }
    const name = rand() < 0.3 ? text(rand, 6).replace(/[: \t]/g, 'x') || 'delta' : '';
    if (name) lines.push(`event: ${name}`);
    const data: string[] = [];
    for (let d = 1 + int(rand, 3); d > 0; d--) {
      const value = text(rand, 40);
      data.push(value);
      lines.push(rand() < 0.5 && !value.startsWith(' ') ? `data:${value}` : `data: ${value}`);
      if (rand() < 0.1) lines.push(`id: ${int(rand, 99)}`);
    }
    lines.push('');
    const joined = data.join('\n');
    if (joined.trim() !== '') events.push({ event: name || 'message', data: joined });
  }
  const bom = rand() < 0.1 ? '\ufeff' : '';
  return { bytes: Buffer.from(bom + joinLines(rand, lines), 'utf8'), events };
}

/** A random NDJSON stream (LF or CRLF per line, blank lines between some) and the objects in it. */
function ndjsonStream(rand: Rand): { bytes: Buffer; objects: unknown[] } {
  const objects: unknown[] = [];
  let out = '';
  for (let n = int(rand, 10); n > 0; n--) {
    const object = { model: 'm', message: { role: 'assistant', content: text(rand, 30), thinking: text(rand, 5) }, done: rand() < 0.1 };
    objects.push(object);
    out += JSON.stringify(object) + pick(rand, ['\n', '\r\n']);
    if (rand() < 0.1) out += '\n';
  }
  return { bytes: Buffer.from(out, 'utf8'), objects };
}

/** The bytes cut at random places into chunks of 1 byte up to the whole. */
async function* cut(rand: Rand, bytes: Buffer): AsyncGenerator<Uint8Array> {
  const small = rand() < 0.5;
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + int(rand, small ? 4 : Math.max(1, bytes.length));
    yield bytes.subarray(at, at + size);
    at += size;
  }
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('stream readers (property)', () => {
  it('any valid SSE stream cut anywhere yields the events it was built from', async () => {
    for (let seed = 1; seed <= STREAMS; seed++) {
      const rand = prng(seed);
      const { bytes, events } = sseStream(rand);
      for (let c = 0; c < CUTS_PER_STREAM; c++) {
        const got = await collect(readSseEvents(readLines(cut(rand, bytes))));
        assert.deepEqual(got, events, `seed ${seed}, cut ${c}: ${JSON.stringify(bytes.toString('utf8'))}`);
      }
    }
  });

  it('any NDJSON stream cut anywhere yields the objects it was built from', async () => {
    for (let seed = 1; seed <= STREAMS; seed++) {
      const rand = prng(seed * 7919);
      const { bytes, objects } = ndjsonStream(rand);
      for (let c = 0; c < CUTS_PER_STREAM; c++) {
        const lines = await collect(readLines(cut(rand, bytes)));
        assert.deepEqual(lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l)), objects, `seed ${seed}, cut ${c}`);
      }
    }
  });
});

describe('line reader bounds and endings', () => {
  it('refuses a line longer than the cap, whether it arrives whole or in pieces', () => {
    assert.throws(() => new LineSplitter(16).push(Buffer.from('x'.repeat(17) + '\n')), OutputTooLarge);
    const splitter = new LineSplitter(16);
    assert.deepEqual(splitter.push(Buffer.from('x'.repeat(16))), []);
    assert.throws(() => splitter.push(Buffer.from('y')), /longer than 16 bytes/);
    assert.deepEqual(new LineSplitter(16).push(Buffer.from('x'.repeat(16) + '\r\n')), ['x'.repeat(16)], 'the ending does not count');
  });

  it('reads a bare CR as one line ending, also when the LF of a CRLF comes in the next chunk', () => {
    const s = new LineSplitter();
    assert.deepEqual(s.push(Buffer.from('a\r\rdata: b\r')), ['a', '', 'data: b']);
    assert.deepEqual(s.push(Buffer.from('\nnext\r')), ['next'], 'the LF completes the CRLF, it is no empty line');
    assert.deepEqual(s.push(Buffer.from('\r')), ['']);
    assert.deepEqual(s.end(), []);
  });

  it("skips SSE keep-alive events with empty data and turns llama.cpp's error: field into an error event", async () => {
    async function* lines(): AsyncGenerator<string> {
      yield* ['data:', '', 'data: ', '', 'data: {"a":1}', '', 'error: {"code":400,"message":"too long"}', '', 'data: [DONE]', ''];
    }
    assert.deepEqual(await collect(readSseEvents(lines())), [
      { event: 'message', data: '{"a":1}' },
      { event: 'error', data: '{"code":400,"message":"too long"}' },
      { event: 'message', data: '[DONE]' },
    ]);
  });
});
