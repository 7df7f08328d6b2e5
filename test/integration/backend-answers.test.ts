/**
 * Answers as real servers send them, played back byte for byte: llama.cpp's `error:` frame, vLLM's "abort" finish
 * reason, reasoning models that spend the budget thinking, keep-alive frames, bare-CR line endings, an endless line,
 * an endless answer. Each test names the end state, the attempts spent and the warn line it leaves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import type { ScriptEntry } from '../helpers/fake-llm-faults.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { OPENAI_DONE, ollamaLine as ollamaLineOf, openAiChunk, openAiUsageChunk } from '../helpers/wire.js';

const MAX_ATTEMPTS = 3;
const MAX_OUTPUT_BYTES = 65_536;
const TASKS = { max_attempts: MAX_ATTEMPTS, retry_base_ms: 10, retry_max_ms: 20, max_output_bytes: MAX_OUTPUT_BYTES };

const chunk = openAiChunk;
const usageChunk = openAiUsageChunk;
const DONE = OPENAI_DONE;
/** Lines as Ollama serves gpt-oss:20b, the default model of our own config. */
const ollamaLine = (fields: Record<string, unknown>) => ollamaLineOf({ model: 'gpt-oss:20b', ...fields });

describe('backend answers, byte for byte', () => {
  let fake: FakeLlm;
  let openai: TestCoordinator;
  let ollama: TestCoordinator;
  const logs = new LogRing();

  before(async () => {
    fake = await startFakeLlm();
    const log = createPinoLogger({ level: 'warn', console: 'none', ring: logs });
    openai = await startTestCoordinator({ backends: [{ url: fake.url, type: 'openai' }], log, logs, extra: { tasks: TASKS } });
    ollama = await startTestCoordinator({ backends: [{ url: fake.url, type: 'ollama' }], log, logs, extra: { tasks: TASKS } });
  });

  after(async () => {
    await openai?.close();
    await ollama?.close();
    await fake?.close();
  });

  /** Runs one task against the scripted answers and returns its final status, after every script entry was played. */
  async function run(on: TestCoordinator, script: ScriptEntry[], options: Record<string, unknown> = {}) {
    fake.script(script);
    const client = api(on.url);
    const res = await client.delegate({ prompt: `case ${Math.random()}`, options });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id = res.body.task_id as string;
    let status: any;
    await eventually(async () => {
      status = (await client.status(id)).body;
      return status.status === 'completed' || status.status === 'failed';
    }, 20_000);
    assert.equal(fake.scriptLeft, 0, 'every scripted answer was asked for');
    return status;
  }

  /** The warn lines Koubou logged about a task. */
  const warnings = (taskId: string) => logs.query({ level: 40, limit: 5000 }).filter((e) => e.task === taskId);

  it('case 1: an `error:` SSE field saying 400 fails the task at once with the server\'s message', async () => {
    const bytes = 'error: {"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}\n\n' + DONE;
    const s = await run(openai, [{ chunks: [bytes] }]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.success, false);
    assert.equal(s.result.error_code, 'backend_error');
    assert.match(s.result.error, /\(400\): the request exceeds the available context size/);
    assert.equal(s.result.output, null);
    assert.equal(s.result.finish_reason, 'error');
    assert.equal(s.attempts, 1, 'a 400 is permanent');
    const warned = warnings(s.task_id);
    assert.equal(warned.length, 1, JSON.stringify(warned));
    assert.deepEqual([warned[0]!.msg, warned[0]!.code, warned[0]!.backend, warned[0]!.attempt], ['task failed', 'backend_error', 'b0', 1]);
  });

  it('case 1: a stream that never carries a choice is malformed (retried, then failed)', async () => {
    const onlyDone = { chunks: [': ping\n\n', DONE] };
    const s = await run(openai, [onlyDone, onlyDone, onlyDone]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'backend_protocol_error');
    assert.match(s.result.error, /ended without carrying a choice/);
    assert.equal(s.attempts, MAX_ATTEMPTS);
    assert.deepEqual(warnings(s.task_id).map((e) => e.msg), ['task attempt failed; retrying', 'task attempt failed; retrying', 'task failed']);
  });

  it('case 2: finish_reason "abort" after some content fails the attempt, keeps the reason, and a retry can succeed', async () => {
    const aborted = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'half an ans' }), chunk({}, 'abort'), DONE] };
    const good = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'the whole answer' }), chunk({}, 'stop'), usageChunk(9, 3), DONE] };
    const s = await run(openai, [aborted, good]);
    assert.equal(s.status, 'completed');
    assert.equal(s.result.output, 'the whole answer', 'the fragment never became the answer');
    assert.equal(s.attempts, 2);
    const events = (await api(openai.url).get(`/task/${s.task_id}/events`)).body.events;
    const retried = events.find((e: { kind: string }) => e.kind === 'retried');
    assert.equal(retried.error.code, 'answer_aborted');
    assert.match(retried.error.message, /finish_reason "abort"/);
    const warned = warnings(s.task_id);
    assert.equal(warned.length, 1);
    assert.equal(warned[0]!.code, 'answer_aborted');
    assert.equal(warned[0]!.msg, 'task attempt failed; retrying');
  });

  it('case 2: finish_reason "error" on every attempt fails the task with answer_aborted after max_attempts', async () => {
    const failing = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'par' }), chunk({}, 'error'), DONE] };
    const s = await run(openai, [failing, failing, failing]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'answer_aborted');
    assert.match(s.result.error, /finish_reason "error"/);
    assert.equal(s.result.finish_reason, 'error');
    assert.equal(s.attempts, MAX_ATTEMPTS);
  });

  for (const field of ['reasoning_content', 'reasoning'] as const) {
    it(`case 3: only delta.${field} then finish_reason "length" fails with answer_truncated`, async () => {
      const thinking = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ [field]: 'Let me think. ' }), chunk({ [field]: 'Still thinking…' }), chunk({}, 'length'), usageChunk(12, 64, 64), DONE] };
      const s = await run(openai, [thinking]);
      assert.equal(s.status, 'failed');
      assert.equal(s.result.error_code, 'answer_truncated');
      assert.match(s.result.error, /budget \(64 tokens\) went on reasoning/);
      assert.equal(s.attempts, 1, 'the same budget would be spent the same way');
      assert.equal(s.result.finish_reason, 'length');
      assert.equal(s.result.truncated, true);
      assert.equal(s.result.model, 'served-model');
      assert.deepEqual(s.result.usage, { prompt_tokens: 12, completion_tokens: 64, reasoning_tokens: 64 });
      assert.equal('reasoning' in s.result, false, 'reasoning only comes back when asked for');
      assert.equal(warnings(s.task_id)[0]?.code, 'answer_truncated');
    });
  }

  it('case 3: Ollama thinking-only lines then done_reason "length" fail with answer_truncated', async () => {
    const lines = [
      ollamaLine({ message: { role: 'assistant', content: '', thinking: 'The user wants' }, done: false }),
      ollamaLine({ message: { role: 'assistant', content: '', thinking: ' a long answer…' }, done: false }),
      ollamaLine({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'length', total_duration: 1, prompt_eval_count: 20, eval_count: 128 }),
    ];
    const s = await run(ollama, [{ chunks: lines }], { include_reasoning: true });
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'answer_truncated');
    assert.match(s.result.error, /went on reasoning/);
    assert.equal(s.attempts, 1);
    assert.equal(s.result.model, 'gpt-oss:20b');
    assert.deepEqual(s.result.usage, { prompt_tokens: 20, completion_tokens: 128 });
    assert.equal(s.result.reasoning, 'The user wants a long answer…', 'asked for, the reasoning is kept even on failure');
  });

  it('case 3: a non-empty answer stopped on "length" completes, says truncated, and keeps reasoning out of the output', async () => {
    const lines = [
      ollamaLine({ message: { role: 'assistant', content: '', thinking: 'Plan: list three.' }, done: false }),
      ollamaLine({ message: { role: 'assistant', content: '1. one 2. tw' }, done: false }),
      ollamaLine({ message: { role: 'assistant', content: '' }, done: true, done_reason: 'length', prompt_eval_count: 8, eval_count: 16 }),
    ];
    const asked = await run(ollama, [{ chunks: lines }], { include_reasoning: true });
    assert.equal(asked.status, 'completed');
    assert.equal(asked.result.output, '1. one 2. tw');
    assert.equal(asked.result.finish_reason, 'length');
    assert.equal(asked.result.truncated, true);
    assert.equal(asked.result.reasoning, 'Plan: list three.');
    assert.deepEqual(warnings(asked.task_id), [], 'a truncated answer is a result, not a failure');

    const plain = await run(ollama, [{ chunks: lines }]);
    assert.equal(plain.result.output, '1. one 2. tw');
    assert.equal('reasoning' in plain.result, false);
  });

  it('case 4: empty data frames between real chunks are skipped', async () => {
    const bytes = [chunk({ role: 'assistant', content: '' }), 'data:\n\n', chunk({ content: 'kept ' }), 'data: \n\n', chunk({ content: 'alive' }), 'data:\n\n', chunk({}, 'stop'), DONE];
    const s = await run(openai, [{ chunks: bytes }]);
    assert.equal(s.status, 'completed', JSON.stringify(s.result));
    assert.equal(s.result.output, 'kept alive');
    assert.equal(s.attempts, 1);
  });

  it('case 4: named events of another kind (a proxy\'s `event: ping` keep-alive) between real chunks are skipped', async () => {
    const bytes = [chunk({ role: 'assistant', content: '' }), 'event: ping\ndata: {}\n\n', chunk({ content: 'still ' }), ': comment\nevent: ping\ndata: {"t":1}\n\n', chunk({ content: 'here' }, 'stop'), DONE];
    const s = await run(openai, [{ chunks: bytes }]);
    assert.equal(s.status, 'completed', JSON.stringify(s.result));
    assert.equal(s.result.output, 'still here');
    assert.equal(s.attempts, 1);
  });

  it('case 4: a bare CR ends a line, and CR CR ends an event', async () => {
    const cr = (event: string) => event.replace(/\n/g, '\r');
    const bytes = [cr(chunk({ content: 'carriage ' })), ': comment\r', cr(chunk({ content: 'returns' })), cr(chunk({}, 'stop')), cr(DONE)];
    const s = await run(openai, [{ chunks: bytes }]);
    assert.equal(s.status, 'completed', JSON.stringify(s.result));
    assert.equal(s.result.output, 'carriage returns');
  });

  it('case 4: a line longer than 8 MiB is refused like an answer too large, not unbounded memory, and not retried', async () => {
    const endlessLine = { chunks: ['data: {"choices":[{"index":0,"delta":{"content":"'], repeat: { bytes: 'x'.repeat(64 * 1024) } };
    const s = await run(openai, [endlessLine]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'output_too_large');
    assert.match(s.result.error, /^openai backend "b0" .*: a line of the stream is longer than 8388608 bytes/);
    assert.equal(s.attempts, 1);
    await eventually(() => fake.requests.at(-1)!.aborted, 5000);
  });

  it('case 4: one event of endless data: lines (no blank line ever) is refused the same way', async () => {
    const endlessEvent = { chunks: [chunk({ role: 'assistant', content: '' })], repeat: { bytes: `data: ${'y'.repeat(64 * 1024)}\n` } };
    const s = await run(openai, [endlessEvent]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'output_too_large');
    assert.match(s.result.error, /one event of the stream is longer than 8388608 characters/);
    assert.equal(s.attempts, 1);
  });

  it('stream endings real servers send: [DONE] with a trailing space, and a reset after the finish reason, both end a complete answer', async () => {
    const spaced = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'spaced' }, 'stop'), 'data: [DONE] \n\n'] };
    const s1 = await run(openai, [spaced]);
    assert.equal(s1.status, 'completed', JSON.stringify(s1.result));
    assert.equal(s1.result.output, 'spaced');
    const reset = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'whole' }, 'stop')], reset: true };
    const s2 = await run(openai, [reset]);
    assert.equal(s2.status, 'completed', JSON.stringify(s2.result));
    assert.equal(s2.result.output, 'whole');
    assert.equal(s2.attempts, 1);
  });

  it('a JSON error body sent to a streaming request is the server\'s error, not a malformed stream', async () => {
    const refused = { headers: { 'content-type': 'application/json' }, chunks: ['{"error":{"message":"model not loaded","code":404}}'] };
    const s = await run(openai, [refused]);
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'backend_error');
    assert.match(s.result.error, /model not loaded/);
    assert.equal(s.attempts, 1, 'a 404 is permanent');
  });

  it('a whole chat.completion sent to a streaming request (a server ignoring stream: true) is read as the answer', async () => {
    const completion = {
      id: 'chatcmpl-whole', object: 'chat.completion', created: 1749480000, model: 'whole-model',
      choices: [{ index: 0, message: { role: 'assistant', content: 'all at once' }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 },
    };
    const s = await run(openai, [{ headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify(completion)] }]);
    assert.equal(s.status, 'completed', JSON.stringify(s));
    assert.equal(s.result.output, 'all at once');
    assert.equal(s.result.finish_reason, 'stop');
    assert.equal(s.result.model, 'whole-model');
    assert.equal(s.attempts, 1);
  });

  it('a JSON body with neither an error nor a choice sent to a streaming request is malformed', async () => {
    const s = await run(openai, Array.from({ length: MAX_ATTEMPTS }, () => ({ headers: { 'content-type': 'application/json' }, chunks: ['{"object":"list","data":[]}'] })));
    assert.equal(s.status, 'failed');
    assert.equal(s.result.error_code, 'backend_protocol_error');
    assert.match(s.result.error, /nor a completion with a choice/);
  });

  it("a refusal is the answer (OpenAI's delta.refusal), not an empty one to retry", async () => {
    const bytes = [chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: 'I cannot help with that.' }), chunk({}, 'stop'), DONE];
    const s = await run(openai, [{ chunks: bytes }]);
    assert.equal(s.status, 'completed', JSON.stringify(s.result));
    assert.equal(s.result.output, 'I cannot help with that.');
    assert.equal(s.attempts, 1);
  });

  it('an answer that ends on "stop" without any text is not a success', async () => {
    const empty = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: '' }, 'stop'), DONE] };
    const good = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'now with text' }, 'stop'), DONE] };
    const s = await run(openai, [empty, good]);
    assert.equal(s.status, 'completed');
    assert.equal(s.result.output, 'now with text');
    assert.equal(s.attempts, 2);
    const events = (await api(openai.url).get(`/task/${s.task_id}/events`)).body.events;
    assert.equal(events.find((e: { kind: string }) => e.kind === 'retried').error.code, 'answer_empty');
  });

  for (const [name, on, head, piece] of [
    ['OpenAI', () => openai, chunk({ role: 'assistant', content: '' }), chunk({ content: '0123456789abcdef'.repeat(64) })],
    ['Ollama', () => ollama, '', ollamaLine({ message: { role: 'assistant', content: '0123456789abcdef'.repeat(64) }, done: false })],
  ] as const) {
    it(`an endless ${name} answer fails output_too_large at tasks.max_output_bytes, keeping the first bytes`, async () => {
      const s = await run(on(), [{ chunks: head ? [head] : [], repeat: { bytes: piece } }]);
      assert.equal(s.status, 'failed');
      assert.equal(s.result.error_code, 'output_too_large');
      assert.equal(s.attempts, 1, 'the same request would grow the same way');
      assert.equal(Buffer.byteLength(s.result.output), MAX_OUTPUT_BYTES);
      assert.ok(s.result.output.startsWith('0123456789abcdef0123'));
      assert.equal(s.result.truncated, true);
      await eventually(() => fake.requests.at(-1)?.aborted === true, 5000);
      assert.equal(warnings(s.task_id)[0]?.code, 'output_too_large');
    });
  }
});
