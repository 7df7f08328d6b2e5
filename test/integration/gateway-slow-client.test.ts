/**
 * A gateway client is given up only when it has fallen behind, not when the backend is fast: a burst of a thousand
 * tokens in one read, or one large event, queues more than server.stream_buffer_bytes in one turn for a client that
 * reads at once, and must reach it whole. A backend faster than its client is held back (the call stops reading it)
 * rather than buffered, and a client that keeps reading, however slowly, gets its whole answer. A client that takes
 * none of what waits for FALL_BEHIND_MS loses its request: the task is cancelled with the cause, and a warn line names it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { FALL_BEHIND_MS } from '../../src/gateway/backlog.js';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { stalledPost } from '../helpers/stalled-client.js';
import { OPENAI_DONE, openAiChunk } from '../helpers/wire.js';
import { streamedText } from '../helpers/openai-stream.js';

const BUFFER_BYTES = 16 * 1024;

describe('gateway: a fast backend, a slow client', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let openai: OpenAI;
  const logs = new LogRing();

  before(async () => {
    fake = await startFakeLlm({ models: ['oai-model'] });
    koubou = await startTestCoordinator({
      // A 3 s attempt timeout: the time a reader holds the call back is the client's, never charged to the attempt.
      backends: [{ type: 'openai', url: fake.url, model: 'oai-model', timeout_s: 3 }],
      log: createPinoLogger({ level: 'warn', console: 'none', ring: logs }),
      logs,
      extra: { server: { stream_buffer_bytes: BUFFER_BYTES }, tasks: { max_output_bytes: 64 * 1024 * 1024 } },
    });
    openai = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  /** The streamed answer through the official client: its text and finish reason. */
  const streamed = (content: string) => streamedText(openai, 'oai-model', content);

  it('relays a burst of 1500 tokens sent in one write, and one event of 300 KiB, whole to a client that reads', async () => {
    const tokens = Array.from({ length: 1500 }, (_, i) => openAiChunk({ content: `t${i} ` }));
    fake.script([{ chunks: [[openAiChunk({ role: 'assistant', content: '' }), ...tokens, openAiChunk({}, 'stop'), OPENAI_DONE].join('')] }]);
    const burst = await streamed('a burst');
    assert.equal(burst.text, Array.from({ length: 1500 }, (_, i) => `t${i} `).join(''));
    assert.equal(burst.finish, 'stop');

    const big = 'λ'.repeat(150 * 1024);
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' }), openAiChunk({ content: big }), openAiChunk({}, 'stop'), OPENAI_DONE] }]);
    const large = await streamed('one large event');
    assert.equal(large.text, big);
    assert.equal(logs.query({ level: 40, limit: 1000 }).filter((e) => /fell behind/.test(String(e.msg))).length, 0, 'nobody was given up');
  });

  it(`relays a long answer from a fast backend whole to a client that reads slower than it, for longer than ${FALL_BEHIND_MS / 1000} s`, async () => {
    // 16,000 pieces of 1,000 characters, 100 to a write: about 19 MB of events, more than the sockets' buffers hold,
    // sent as fast as the coordinator takes them.
    const word = 'w'.repeat(1000);
    const pieces = Array.from({ length: 16_000 }, () => openAiChunk({ content: word }));
    const writes = Array.from({ length: 160 }, (_, i) => pieces.slice(i * 100, i * 100 + 100).join(''));
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' }), ...writes, openAiChunk({}, 'stop'), OPENAI_DONE] }]);
    // 128 KiB every 40 ms: about 3 MB/s, so the answer takes some 6 s to read.
    const started = Date.now();
    const { text, taskId } = await slowRead(koubou.url, '/v1/chat/completions', { model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'read slowly' }] }, 128 * 1024, 40);
    assert.ok(Date.now() - started > FALL_BEHIND_MS, `read in ${Date.now() - started} ms: the client must read for longer than FALL_BEHIND_MS`);
    assert.ok(text.endsWith('data: [DONE]\n\n'), text.slice(-200));
    const content = [...text.matchAll(/"content":"(w+)"/g)].map((m) => m[1]).join('');
    assert.equal(content, word.repeat(16_000));
    assert.equal((await api(koubou.url).status(taskId)).body.status, 'completed');
    assert.equal(logs.query({ level: 40, limit: 1000 }).filter((e) => /fell behind/.test(String(e.msg))).length, 0, 'nobody was given up');
  });

  it('sends an answer of 8 MB asked for whole (stream: false) to a client that reads it slower than FALL_BEHIND_MS allows for one write', async () => {
    const word = 'v'.repeat(1000);
    const pieces = Array.from({ length: 8000 }, () => openAiChunk({ content: word }));
    const writes = Array.from({ length: 80 }, (_, i) => pieces.slice(i * 100, i * 100 + 100).join(''));
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' }), ...writes, openAiChunk({}, 'stop'), OPENAI_DONE] }]);
    // 64 KiB every 100 ms: about 650 KB/s, so the one JSON body takes some 12 s to read, more than 5 s of it after the
    // sockets' buffers took what they hold.
    const started = Date.now();
    const { text } = await slowRead(koubou.url, '/v1/chat/completions', { model: 'oai-model', messages: [{ role: 'user', content: 'whole and slowly' }] }, 64 * 1024, 100);
    assert.ok(Date.now() - started > FALL_BEHIND_MS, `read in ${Date.now() - started} ms`);
    const answer = JSON.parse(text) as { choices: { message: { content: string } }[] };
    assert.equal(answer.choices[0]!.message.content, word.repeat(8000));
    assert.equal(logs.query({ level: 40, limit: 1000 }).filter((e) => /fell behind/.test(String(e.msg))).length, 0, 'nobody was given up');
  });

  it('holds back a backend whose client reads nothing: the call stops reading it, rather than buffering its answer', async () => {
    const written = { count: 0 };
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' })], repeat: { bytes: openAiChunk({ content: 'y'.repeat(8000) }), written } }]);
    const body = JSON.stringify({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'held back' }] });
    const client = stalledPost(koubou.url, '/v1/chat/completions', {}, body);
    try {
      // Once the sockets' buffers are full the server's writes stop, well before the client would be given up.
      let before = -1;
      await eventually(async () => {
        const now = written.count;
        const still = now > 0 && now === before;
        before = now;
        if (!still) await new Promise((resolve) => setTimeout(resolve, 500));
        return still;
      }, FALL_BEHIND_MS - 500, 0);
      assert.ok(written.count * 8000 < 64 * 1024 * 1024, `the server wrote ${written.count} pieces of 8 KB before it was held`);
    } finally {
      client.destroy();
    }
    await eventually(() => fake.inFlight === 0, 5_000);
  });

  it(`gives up a client that leaves its answer unread for ${FALL_BEHIND_MS / 1000} s: cancelled with the cause, and a warn line`, async () => {
    // An endless answer, a piece every millisecond: it fills the socket's buffers, then Koubou's.
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' })], repeat: { bytes: openAiChunk({ content: 'x'.repeat(2000) }), delayMs: 1 } }]);
    const body = JSON.stringify({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'never read' }] });
    const client = stalledPost(koubou.url, '/v1/chat/completions', {}, body);
    try {
      const id = await givenUp(koubou.url, 'never read');
      const task = (await api(koubou.url).status(id)).body;
      assert.equal(task.result.error_code, 'client_fell_behind');
      assert.match(task.result.error, new RegExp(`the client fell behind: \\d+ bytes of its answer waited, none of them read, for ${FALL_BEHIND_MS / 1000} s`));
      const warned = logs.query({ level: 40, limit: 1000 }).find((e) => e.task === id && /gave up a gateway request whose client fell behind/.test(String(e.msg)));
      assert.ok(warned, 'a warn line names the task');
      await eventually(() => fake.inFlight === 0, 5_000);
    } finally {
      client.destroy();
    }
  });
});

describe('gateway: a client that reads nothing, with the default stream_buffer_bytes', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;

  before(async () => {
    fake = await startFakeLlm({ models: ['oai-model'] });
    koubou = await startTestCoordinator({ backends: [{ type: 'openai', url: fake.url, model: 'oai-model' }] });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it(`gives it up after ${FALL_BEHIND_MS / 1000} s though its call is held back below the bound, freeing the backend slot`, async () => {
    // The call stops reading the server once the response holds 16 KiB (Node's high-water mark), far below 256 KiB.
    fake.script([{ chunks: [openAiChunk({ role: 'assistant', content: '' })], repeat: { bytes: openAiChunk({ content: 'z'.repeat(2000) }) } }]);
    const body = JSON.stringify({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'never read either' }] });
    const client = stalledPost(koubou.url, '/v1/chat/completions', {}, body);
    try {
      const id = await givenUp(koubou.url, 'never read either');
      assert.equal((await api(koubou.url).status(id)).body.result.error_code, 'client_fell_behind');
      await eventually(() => fake.inFlight === 0, 5_000);
      assert.equal((await api(koubou.url).get('/health')).body.queue.in_progress, 0);
    } finally {
      client.destroy();
    }
  });
});

/**
 * POSTs body as JSON to url + path and reads the answer `bytes` at a time, pausing `everyMs` between reads (Node's client then stops
 * reading the socket, so the server sees a slow reader); resolves with the whole text and the task id.
 */
function slowRead(url: string, path: string, body: object, bytes: number, everyMs: number): Promise<{ text: string; taskId: string }> {
  const json = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) } }, (res) => {
      const parts: Buffer[] = [];
      let sinceRest = 0;
      res.on('data', (chunk: Buffer) => {
        parts.push(chunk);
        sinceRest += chunk.length;
        if (sinceRest < bytes) return;
        sinceRest = 0;
        res.pause();
        setTimeout(() => res.resume(), everyMs);
      });
      res.on('end', () => resolve({ text: Buffer.concat(parts).toString('utf8'), taskId: String(res.headers['x-koubou-task-id']) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(json);
  });
}

/** The id of the task with this prompt once it is cancelled, waiting up to FALL_BEHIND_MS and then some. */
async function givenUp(url: string, prompt: string): Promise<string> {
  let id = '';
  await eventually(async () => {
    const tasks = (await api(url).get('/tasks?status=cancelled')).body.tasks as { task_id: string; prompt_excerpt: string }[];
    id = tasks.find((t) => t.prompt_excerpt === prompt)?.task_id ?? '';
    return id !== '';
  }, FALL_BEHIND_MS + 25_000, 100);
  return id;
}
