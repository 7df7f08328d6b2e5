/**
 * Server timeouts and early answers over real sockets. A client that never finishes its headers, or sends less body
 * than its Content-Length, is cut off after a bounded time (Node's defaults held such a request for 60 s and 300 s),
 * while /events, /ws and long-polls opened before stay open past those timeouts. A client that sends a whole
 * oversized body before reading sees the 413, not EPIPE.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { openSse } from '../helpers/sse.js';

const BODY_LIMIT = 64 * 1024;
/** Far below Node's own defaults, far above the configured timeouts: nothing here measures time. */
const BOUND_MS = 15_000;

/** A raw connection that records what comes back and when it closes. */
async function rawConnection(url: string) {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  const state = { text: '', closed: false };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (state.text += d));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => (state.closed = true));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, state, host: `${hostname}:${port}` };
}

/**
 * POSTs `size` bytes the way a simple client does: the whole body is written (waiting for each chunk to drain), and
 * the answer is read when it comes. Resolves with what was read once all was written and the server closed; rejects
 * with the socket error (EPIPE, ECONNRESET) if the server cut the connection while the body was being sent.
 */
async function sendWholeBody(url: string, size: number, chunked: boolean): Promise<string> {
  const { socket, state, host } = await rawConnection(url);
  let failure: Error | null = null;
  socket.on('error', (err) => (failure ??= err));
  const framing = chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${size}`;
  const write = (data: string | Buffer) =>
    socket.write(data) ? Promise.resolve() : new Promise<void>((resolve) => socket.once('drain', resolve).once('close', resolve));
  await write(`POST /task/delegate HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${framing}\r\n\r\n`);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < size && !failure && !state.closed; sent += chunk.length) {
    const piece = chunk.subarray(0, Math.min(chunk.length, size - sent));
    await write(chunked ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')]) : piece);
  }
  if (chunked && !failure && !state.closed) await write('0\r\n\r\n');
  await eventually(() => state.closed, BOUND_MS);
  if (failure) throw failure;
  return state.text;
}

describe('server timeouts and early answers', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }],
      extra: { server: { headers_timeout_s: 0.3, request_timeout_s: 0.6, keep_alive_timeout_s: 0.3, body_limit_bytes: BODY_LIMIT } },
    });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  it('cuts off a client whose headers never end', async () => {
    const { socket, state, host } = await rawConnection(koubou.url);
    socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
    await eventually(() => state.closed, BOUND_MS);
    assert.match(state.text, /^(HTTP\/1\.1 408 |$)/, state.text.slice(0, 100));
  });

  it('cuts off a request whose body is shorter than its Content-Length, while streams and long-polls opened before live on', async () => {
    // One worker, held by a task that hangs: the second task waits, and a long-poll on it waits for a change.
    const holding = (await client.delegate({ prompt: 'hold the only worker [[mode:hang]]' })).body.task_id as string;
    await eventually(async () => (await client.status(holding)).body.status === 'in_progress', BOUND_MS);
    const waiting = (await client.delegate({ prompt: 'wait behind it' })).body.task_id as string;
    const events = await openSse(`${koubou.url}/events?task=${waiting}`);
    assert.equal(events.status, 200);
    const longPoll = client.get(`/task/${waiting}/status?wait=60`);

    const { socket, state, host } = await rawConnection(koubou.url);
    socket.write(`POST /task/delegate HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"prompt":`);
    await eventually(() => state.closed, BOUND_MS);
    assert.match(state.text, /^(HTTP\/1\.1 408 |$)/, state.text.slice(0, 100));

    // The stream and the long-poll have outlived the request timeout that just cut the slow request.
    await client.call('DELETE', `/task/${waiting}`);
    const answered = await longPoll;
    assert.equal(answered.status, 200);
    assert.equal(answered.body.status, 'cancelled');
    await eventually(() => events.messages.some((m) => m.event === 'task' && m.data.kind === 'cancelled'), BOUND_MS);
    events.close();
    await client.call('DELETE', `/task/${holding}`);
  });

  it('closes an idle keep-alive connection', async () => {
    const { socket, state, host } = await rawConnection(koubou.url);
    socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    await eventually(() => state.text.includes('"status"'), BOUND_MS);
    await eventually(() => state.closed, BOUND_MS);
  });

  it('answers 413 to a client that writes its whole oversized body before reading, and then closes', async () => {
    for (const chunked of [false, true]) {
      for (const size of [BODY_LIMIT + 1, 4 * 1024 * 1024]) {
        const label = `${size} bytes${chunked ? ', chunked' : ''}`;
        const answer = await sendWholeBody(koubou.url, size, chunked);
        assert.match(answer, /^HTTP\/1\.1 413 /, label);
        assert.match(answer, /^connection: close\r$/im, label);
        assert.match(answer, /"code":"payload_too_large"/, label);
      }
    }
    assert.equal((await client.get('/tasks?status=pending')).body.count, 0);
  });
});
