/**
 * How a gateway request that the backend fails is answered, through the official clients: a stream cut off after part
 * of the answer went out ends with the protocol's in-stream error carrying the cause, and its task is cancelled with
 * the cause recorded; a request that has sent nothing yet is served whole by the retry; a backend's refusal is told in
 * words about the model (never the backend's name or address, which stay in the task's stored error), with the
 * OpenAI `param` the backend named.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { OPENAI_DONE, ollamaLine, openAiChunk } from '../helpers/wire.js';

/** A streamed answer whose connection is reset after its first words, before any finish reason. */
const cutOpenAi = { chunks: [openAiChunk({ role: 'assistant', content: '' }), openAiChunk({ content: 'partial ' })], reset: true };
const cutOllama = { chunks: [ollamaLine({ model: 'oll-model', message: { role: 'assistant', content: 'partial ' }, done: false })], reset: true };

/** vLLM giving an answer up: a fragment, then finish_reason "abort" (its engine aborted the request), then [DONE]. */
const abortedOpenAi = { chunks: [openAiChunk({ role: 'assistant', content: '' }), openAiChunk({ content: 'Hel' }), openAiChunk({}, 'abort'), OPENAI_DONE] };

/** OpenAI's 400 for a bad request, as its API writes it (the `param` names the field at fault). */
const OPENAI_REFUSAL = {
  status: 400,
  headers: { 'content-type': 'application/json' },
  chunks: [JSON.stringify({ error: { message: "Invalid type for 'messages[0].content': expected one of a string or array of objects, but got an object instead.", type: 'invalid_request_error', param: 'messages[0].content', code: 'invalid_type' } })],
};
/** Ollama's error body: {"error": "..."}. */
const OLLAMA_REFUSAL = { status: 400, headers: { 'content-type': 'application/json; charset=utf-8' }, chunks: ['{"error":"invalid options: temprature"}'] };

describe('gateway: failures as the client sees them', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let openai: OpenAI;
  let ollama: Ollama;
  const status = async (id: string) => (await api(koubou.url).status(id)).body;
  /** What no gateway client may see: the backends' names and the fake's address. */
  const assertNoInternals = (message: string) => {
    assert.doesNotMatch(message, /secret-oai|secret-oll/, message);
    assert.ok(!message.includes(String(fake.port)), message);
  };

  before(async () => {
    fake = await startFakeLlm({ models: ['oai-model', 'oll-model'] });
    koubou = await startTestCoordinator({
      backends: [
        { name: 'secret-oai', type: 'openai', url: fake.url, model: 'oai-model' },
        { name: 'secret-oll', type: 'ollama', url: fake.url, model: 'oll-model' },
      ],
      // A retry waits long enough for the cancel of an interrupted stream to land before it could start.
      extra: { tasks: { max_attempts: 3, retry_base_ms: 300, retry_max_ms: 300 } },
    });
    openai = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    ollama = new Ollama({ host: koubou.url });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('ends an OpenAI stream cut off mid-answer with the cause, and records it on the cancelled task', async () => {
    fake.script([cutOpenAi]);
    const { data: stream, response } = await openai.chat.completions.create({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'cut me off' }] }).withResponse();
    let text = '';
    let error: Error | null = null;
    try {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    } catch (err) {
      error = err as Error;
    }
    assert.equal(text, 'partial ');
    assert.ok(error, 'the stream ends with an error');
    assert.match(error.message, /broke off after part of it had reached the client/);
    assert.match(error.message, /model "oai-model": connection lost during the answer/);
    assertNoInternals(error.message);
    const task = await status(response.headers.get('x-koubou-task-id')!);
    assert.equal(task.status, 'cancelled');
    assert.equal(task.attempts, 1);
    assert.equal(task.result.error_code, 'answer_interrupted');
    // The stored error keeps the backend's own words, its name included, for whoever runs the pool.
    assert.match(task.result.error, /the cause \(backend_unavailable\): openai backend "secret-oai" \(.*\): connection lost during the answer/);
  });

  it('ends an Ollama stream cut off mid-answer with the cause as its error line', async () => {
    fake.script([cutOllama]);
    let text = '';
    let error: Error | null = null;
    try {
      for await (const part of await ollama.chat({ model: 'oll-model', stream: true, messages: [{ role: 'user', content: 'cut me off too' }] })) text += part.message.content;
    } catch (err) {
      error = err as Error;
    }
    assert.equal(text, 'partial ');
    assert.ok(error, 'the stream ends with an error');
    assert.match(error.message, /model "oll-model": connection lost during the answer/);
    assertNoInternals(error.message);
  });

  it('answers a request that has received nothing yet from the retry of a run cut off mid-answer', async () => {
    fake.script([cutOpenAi]);
    const { data, response } = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'whole please' }] }).withResponse();
    assert.equal(data.choices[0]!.message.content, 'echo(oai-model): whole please');
    const task = await status(response.headers.get('x-koubou-task-id')!);
    assert.equal(task.status, 'completed');
    assert.equal(task.attempts, 2);
    fake.script([cutOllama]);
    const reply = await ollama.chat({ model: 'oll-model', stream: false, messages: [{ role: 'user', content: 'whole too' }] });
    assert.equal(reply.message.content, 'echo(oll-model): whole too');
  });

  it('never relays an answer the server gave up (finish_reason "abort") as one that ended: the retry answers, or the stream ends in an error', async () => {
    fake.script([abortedOpenAi]);
    const { data, response } = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'abort once' }] }).withResponse();
    assert.equal(data.choices[0]!.message.content, 'echo(oai-model): abort once');
    assert.equal(data.choices[0]!.finish_reason, 'stop');
    const whole = await status(response.headers.get('x-koubou-task-id')!);
    assert.equal(whole.status, 'completed');
    assert.equal(whole.attempts, 2);
    const events = (await api(koubou.url).get(`/task/${whole.task_id}/events`)).body.events as { kind: string; error?: { code: string } }[];
    assert.equal(events.find((e) => e.kind === 'retried')?.error?.code, 'answer_aborted');

    fake.script([abortedOpenAi]);
    const { data: stream, response: streamed } = await openai.chat.completions.create({ model: 'oai-model', stream: true, messages: [{ role: 'user', content: 'abort mid-stream' }] }).withResponse();
    let text = '';
    const finishes: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta.content ?? '';
        if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      }
    })().catch((err: Error) => err);
    assert.equal(text, 'Hel');
    assert.deepEqual(finishes, [], 'no finish reason says the fragment ended well');
    assert.ok(error instanceof Error, 'the stream ends with an error');
    assert.match(error.message, /broke off after part of it had reached the client/);
    const cut = await status(streamed.headers.get('x-koubou-task-id')!);
    assert.equal(cut.status, 'cancelled');
    assert.equal(cut.result.error_code, 'answer_interrupted');
    assert.match(cut.result.error, /answer_aborted/);
  });

  it("passes a refusal's status on when it is about the request (404 for a model the server lacks), and a refusal of the pool's own credentials as 502", async () => {
    const notFound = { status: 404, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ error: { message: 'The model `oai-model` does not exist or you do not have access to it.', type: 'invalid_request_error', param: null, code: 'model_not_found' } })] };
    fake.script([notFound]);
    const missing = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'are you there?' }] }).catch((err: unknown) => err);
    assert.ok(missing instanceof OpenAI.NotFoundError, String(missing));
    assert.equal(missing.code, 'model_not_found');
    fake.script([{ status: 404, headers: { 'content-type': 'application/json; charset=utf-8' }, chunks: ['{"error":"model \\"oll-model\\" not found, try pulling it first"}'] }]);
    const pulled = (await ollama.chat({ model: 'oll-model', messages: [{ role: 'user', content: 'are you there?' }] }).catch((err: unknown) => err)) as Error & { status_code?: number };
    assert.equal(pulled.status_code, 404, pulled.message);
    assert.match(pulled.message, /not found, try pulling it first/);
    fake.script([{ status: 401, headers: { 'content-type': 'application/json' }, chunks: [JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } })] }]);
    const keyed = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'with whose key?' }] }).catch((err: unknown) => err);
    assert.ok(keyed instanceof OpenAI.APIError, String(keyed));
    assert.equal(keyed.status, 502, 'not 401: the client\'s own token was fine');
    assert.equal(keyed.code, 'backend_http_error', 'nor a code saying its key is wrong');
    // OpenAI's own body, pretty-printed and over 300 characters: its code and param still come through.
    const pretty = JSON.stringify({ error: { message: "This model's maximum context length is 8192 tokens. However, you requested 9500 tokens (8500 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.", type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }, null, 2);
    assert.ok(pretty.length > 300);
    fake.script([{ status: 400, headers: { 'content-type': 'application/json' }, chunks: [pretty] }]);
    const tooLong = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'a long conversation' }] }).catch((err: unknown) => err);
    assert.ok(tooLong instanceof OpenAI.BadRequestError, String(tooLong));
    assert.deepEqual([tooLong.code, tooLong.param], ['context_length_exceeded', 'messages']);
    assert.match(tooLong.message, /maximum context length is 8192 tokens/);
  });

  it('answers an error a server reports inside a 200 with a 4xx code (LiteLLM, llama.cpp) as a 400, so clients do not retry it', async () => {
    const litellm = { headers: { 'content-type': 'application/json' }, chunks: ['{"error":{"message":"litellm.BadRequestError: OpenAIException - context too long","type":null,"param":null,"code":"400"}}'] };
    const llamaCpp = { chunks: ['error: {"code":400,"message":"the request exceeds the available context size, try increasing it","type":"exceed_context_size_error"}\n\n'] };
    for (const [script, words] of [[litellm, /refused the request \(reported 400\): litellm\.BadRequestError: OpenAIException - context too long/], [llamaCpp, /refused the request \(reported 400\): the request exceeds the available context size/]] as const) {
      fake.script([script]);
      const error = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'too long' }] }).catch((err: unknown) => err);
      assert.ok(error instanceof OpenAI.APIError, String(error));
      assert.equal(error.status, 400, error.message);
      assert.match(error.message, words);
      assertNoInternals(error.message);
    }
  });

  it("tells a refused request the server's message and param in words about the model, not the backend", async () => {
    fake.script([OPENAI_REFUSAL]);
    const error = await openai.chat.completions.create({ model: 'oai-model', messages: [{ role: 'user', content: 'refuse me' }] }).catch((err: unknown) => err);
    assert.ok(error instanceof OpenAI.APIError, String(error));
    assert.equal(error.status, 400);
    assert.equal(error.param, 'messages[0].content');
    // The server's own code, which clients act on (invalid_type here; context_length_exceeded to trim a conversation).
    assert.equal(error.code, 'invalid_type');
    assert.match(error.message, /the server of model "oai-model" refused the request \(HTTP 400\): Invalid type for 'messages\[0\]\.content'/);
    assertNoInternals(error.message);
    fake.script([OLLAMA_REFUSAL]);
    const refused = await ollama.chat({ model: 'oll-model', messages: [{ role: 'user', content: 'refuse me too' }] }).catch((err: unknown) => err as Error & { status_code?: number });
    assert.ok(refused instanceof Error);
    assert.equal(refused.status_code, 400);
    assert.equal(refused.message, 'the server of model "oll-model" refused the request (HTTP 400): invalid options: temprature');
    // The task keeps the backend's name and address.
    const failed = (await api(koubou.url).get('/tasks?status=failed')).body.tasks as { task_id: string; prompt_excerpt: string }[];
    const stored = await status(failed.find((t) => t.prompt_excerpt === 'refuse me too')!.task_id);
    assert.match(stored.result.error, new RegExp(`^ollama backend "secret-oll" \\(${fake.url.replace(/[.]/g, '\\.')}\\): HTTP 400`));
  });
});
