/**
 * An answer is complete at its last piece (`data: [DONE]`, Ollama's `"done": true` object), not when the server ends
 * the body: a server, or a proxy in front of one, that holds the response open after it must hold back neither the
 * task nor a gateway client. What is left of the body is drained for a bounded time, so a server that does end it
 * keeps its connection for the next call and one that never does has it closed. A finish reason that no [DONE]
 * follows completes the answer a moment later.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import { DRAIN_AFTER_ANSWER } from '../../src/backends/body-chunks.js';
import { TRAILING_FACTS_MS } from '../../src/backends/openai-stream.js';
import { api } from '../helpers/api.js';
import { streamedText } from '../helpers/openai-stream.js';
import { eventually } from '../helpers/eventually.js';
import type { FakeRequest } from '../helpers/fake-llm.js';
import type { ScriptedResponse } from '../helpers/fake-llm-faults.js';
import { startTwoProtocolPool } from '../helpers/two-protocol-pool.js';
import { OPENAI_DONE, ollamaLine, openAiChunk } from '../helpers/wire.js';

/** The whole answer "held open" in each protocol, as its server streams it. */
const OPENAI_PIECES = [openAiChunk({ role: 'assistant', content: '' }), openAiChunk({ content: 'held ' }), openAiChunk({ content: 'open' }), openAiChunk({}, 'stop'), OPENAI_DONE];
const ollamaPiece = (content: string) => ollamaLine({ model: 'oll-model', message: { role: 'assistant', content }, done: false });
const OLLAMA_PIECES = [
  ollamaPiece('held '),
  ollamaPiece('open'),
  ollamaLine({ model: 'oll-model', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 3, eval_count: 2 }),
];

const PROTOCOLS = [
  { name: 'OpenAI', model: 'oai-model', pieces: OPENAI_PIECES },
  { name: 'Ollama', model: 'oll-model', pieces: OLLAMA_PIECES },
] as const;

describe('an answer ends at its last piece', () => {
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;

  before(async () => {
    pool = await startTwoProtocolPool();
  });
  after(() => pool.close());

  /** Streams `prompt` through the gateway with the official OpenAI client: the text and the last finish reason. */
  const streamThroughGateway = (prompt: string) => streamedText(new OpenAI({ baseURL: `${pool.koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 }), 'oai-model', prompt);

  /** The generation request the fake got last. */
  const lastCall = (): FakeRequest => pool.fake.requests.filter((r) => r.method === 'POST').at(-1)!;

  for (const { name, model, pieces } of PROTOCOLS) {
    it(`a task on an ${name} server that holds the body open after it completes, and the connection is closed after the drain`, async () => {
      pool.fake.script([{ chunks: pieces, hang: true }]);
      const client = api(pool.koubou.url);
      const id = (await client.delegate({ prompt: `hold the ${name} body`, options: { model } })).body.task_id as string;
      let status: any;
      await eventually(async () => ['completed', 'failed'].includes((status = (await client.status(id)).body).status), 10_000);
      assert.equal(status.status, 'completed', JSON.stringify(status.result));
      assert.equal(status.result.output, 'held open');
      assert.equal(status.attempts, 1);
      const call = lastCall();
      // The rest of the body is read for DRAIN_AFTER_ANSWER.ms at most; then the connection that never ended goes.
      await eventually(() => call.aborted, DRAIN_AFTER_ANSWER.ms + 5_000);
    });

    it(`a task on an ${name} server that ends the body a little after the last piece reads it to its end`, async () => {
      const late: ScriptedResponse = { chunks: [...pieces, { bytes: '', delayMs: 100 }] };
      pool.fake.script([late]);
      const client = api(pool.koubou.url);
      const id = (await client.delegate({ prompt: `end the ${name} body late`, options: { model } })).body.task_id as string;
      await eventually(async () => (await client.status(id)).body.status === 'completed', 10_000);
      const call = lastCall();
      await eventually(() => call.finished || call.aborted, 5_000);
      assert.equal(call.aborted, false, 'the body was read to its end, so its connection can carry the next call');
    });
  }

  it('an OpenAI client streaming through the gateway gets [DONE] while the server holds its body open', async () => {
    pool.fake.script([{ chunks: OPENAI_PIECES, hang: true }]);
    const { text, finish } = await streamThroughGateway('hold it');
    assert.equal(text, 'held open');
    assert.equal(finish, 'stop');
  });

  // A finish reason that no [DONE] follows, the response held open with keep-alive comments (bifrost #6784,
  // claude-code-router #1271 saw servers do this): complete TRAILING_FACTS_MS after the finish reason.
  const FINISH_THEN_HELD: ScriptedResponse = { chunks: OPENAI_PIECES.slice(0, -1), repeat: { bytes: ': keep-alive\n\n', delayMs: 300 } };

  it('a task on an OpenAI server that sends the finish reason, no [DONE], and keeps the body alive completes', async () => {
    pool.fake.script([FINISH_THEN_HELD]);
    const client = api(pool.koubou.url);
    const id = (await client.delegate({ prompt: 'finish without done', options: { model: 'oai-model' } })).body.task_id as string;
    let status: any;
    await eventually(async () => ['completed', 'failed'].includes((status = (await client.status(id)).body).status), TRAILING_FACTS_MS + 8_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.result));
    assert.deepEqual([status.result.output, status.result.finish_reason, status.attempts], ['held open', 'stop', 1]);
    const call = lastCall();
    await eventually(() => call.aborted, 5_000);
  });

  it('an OpenAI client streaming through the gateway gets its answer ended when the server sends the finish reason and no [DONE]', async () => {
    pool.fake.script([FINISH_THEN_HELD]);
    const { text, finish } = await streamThroughGateway('finish without done');
    assert.deepEqual([text, finish], ['held open', 'stop']);
  });

  it('a finish reason of "" or "null" on every chunk (SGLang 0.4.3, KoboldCpp) is no finish: a long answer is read whole, task and client', async () => {
    for (const notYet of ['', 'null']) {
      // Ten pieces 300 ms apart: three seconds, past TRAILING_FACTS_MS, before the real finish.
      const piece = (content: string, finish: string) => ({ bytes: openAiChunk({ content }, finish), delayMs: 300 });
      const slow: ScriptedResponse = { chunks: [...Array.from({ length: 10 }, (_, i) => piece(`w${i} `, notYet)), openAiChunk({}, 'stop'), OPENAI_DONE] };
      const whole = Array.from({ length: 10 }, (_, i) => `w${i} `).join('');
      pool.fake.script([slow]);
      const client = api(pool.koubou.url);
      const id = (await client.delegate({ prompt: `not finished yet ${JSON.stringify(notYet)}`, options: { model: 'oai-model' } })).body.task_id as string;
      let status: any;
      await eventually(async () => ['completed', 'failed'].includes((status = (await client.status(id)).body).status), 15_000);
      assert.deepEqual([status.status, status.result.output], ['completed', whole], JSON.stringify(status.result));
      pool.fake.script([slow]);
      const openai = new OpenAI({ baseURL: `${pool.koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const answer = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'not finished yet' }] });
      assert.deepEqual([answer.choices[0]!.message.content, answer.choices[0]!.finish_reason], [whole, 'stop']);
    }
  });

  it('an Ollama client streaming through the gateway gets its done object while the server holds its body open', async () => {
    pool.fake.script([{ chunks: OLLAMA_PIECES, hang: true }]);
    const ollama = new Ollama({ host: pool.koubou.url });
    let text = '';
    let doneReason: string | undefined;
    for await (const part of await ollama.chat({ model: 'oll-model', stream: true, messages: [{ role: 'user', content: 'hold it' }] })) {
      text += part.message.content;
      if (part.done) doneReason = part.done_reason;
    }
    assert.equal(text, 'held open');
    assert.equal(doneReason, 'stop');
  });
});
