/**
 * Fields a backend of the client's own protocol sends come back to the client: an Ollama's /api/generate `context`,
 * an OpenAI-compatible server's `logprobs` (chat and legacy completions, streamed and whole) and `system_fingerprint`.
 * Also GET /v1/models/{model} through the official client.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

/** Two tokens, "Hello" and " world", as OpenAI streams a chat completion asked for logprobs (role chunk first, usage last). */
function chatWithLogprobs(): string[] {
  const head = { id: 'chatcmpl-lp', object: 'chat.completion.chunk', created: 1749480000, model: 'oai-model', system_fingerprint: 'fp_abc' };
  const token = (text: string, logprob: number) => ({ token: text, logprob, bytes: [...Buffer.from(text)], top_logprobs: [] });
  const chunk = (delta: object, logprobs: object | null, finish: string | null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs, finish_reason: finish }], usage: null })}\n\n`;
  return [
    chunk({ role: 'assistant', content: '', refusal: null }, { content: [], refusal: null }, null),
    chunk({ content: 'Hello' }, { content: [token('Hello', -0.0030339211)], refusal: null }, null),
    chunk({ content: ' world' }, { content: [token(' world', -0.0089504095)], refusal: null }, null),
    chunk({}, null, 'stop'),
    `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    'data: [DONE]\n\n',
  ];
}

/** The same as a legacy completion stream (text_completion chunks with logprobs as vLLM's LogProbs writes them). */
function completionWithLogprobs(): string[] {
  const head = { id: 'cmpl-lp', object: 'text_completion', created: 1749480000, model: 'oai-model', system_fingerprint: 'fp_abc' };
  const chunk = (text: string, logprobs: object | null, finish: string | null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, text, logprobs, finish_reason: finish }], usage: null })}\n\n`;
  return [
    chunk('Hello', { text_offset: [0], token_logprobs: [-0.25], tokens: ['Hello'], top_logprobs: [{ Hello: -0.25 }] }, null),
    chunk(' world', { text_offset: [5], token_logprobs: [-0.5], tokens: [' world'], top_logprobs: [{ ' world': -0.5 }] }, null),
    chunk('', null, 'stop'),
    `data: ${JSON.stringify({ ...head, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } })}\n\n`,
    'data: [DONE]\n\n',
  ];
}

describe('gateway: fields passed through from a backend of the same protocol', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let openai: OpenAI;
  let ollama: Ollama;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
    openai = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    ollama = new Ollama({ host: koubou.url });
  });
  after(() => pool.close());

  it("returns an Ollama's /api/generate context, whole and streamed", async () => {
    const whole = await ollama.generate({ model: 'oll-model', prompt: 'remember this', stream: false });
    assert.deepEqual(whole.context, [1, 2, 3]);
    let last;
    for await (const part of await ollama.generate({ model: 'oll-model', prompt: 'and this', stream: true })) last = part;
    assert.deepEqual(last!.context, [1, 2, 3]);
    // An OpenAI-compatible server has none to give.
    assert.equal((await ollama.generate({ model: 'oai-model', prompt: 'x', stream: false })).context, undefined);
  });

  it("returns an OpenAI-compatible server's chat logprobs and system_fingerprint, whole and streamed", async () => {
    fake.script([{ chunks: chatWithLogprobs() }, { chunks: chatWithLogprobs() }]);
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'greet' }];
    const whole = await openai.chat.completions.create({ model: 'oai-model', messages, logprobs: true });
    assert.equal((fake.requests.at(-1)!.body as { logprobs?: unknown }).logprobs, true);
    assert.equal(whole.system_fingerprint, 'fp_abc');
    assert.equal(whole.choices[0]!.message.content, 'Hello world');
    assert.deepEqual(whole.choices[0]!.logprobs?.content?.map((t) => [t.token, t.logprob]), [['Hello', -0.0030339211], [' world', -0.0089504095]]);

    const stream = await openai.chat.completions.create({ model: 'oai-model', messages, logprobs: true, stream: true });
    const tokens: string[] = [];
    const fingerprints = new Set<unknown>();
    for await (const chunk of stream) {
      fingerprints.add(chunk.system_fingerprint);
      for (const t of chunk.choices[0]?.logprobs?.content ?? []) tokens.push(t.token);
    }
    assert.deepEqual(tokens, ['Hello', ' world']);
    assert.deepEqual([...fingerprints], ['fp_abc']);
  });

  it("returns an OpenAI-compatible server's legacy completion logprobs, whole and streamed", async () => {
    fake.script([{ chunks: completionWithLogprobs() }, { chunks: completionWithLogprobs() }]);
    const whole = await openai.completions.create({ model: 'oai-model', prompt: 'greet', logprobs: 1 });
    assert.equal(whole.choices[0]!.text, 'Hello world');
    assert.deepEqual(whole.choices[0]!.logprobs, { text_offset: [0, 5], token_logprobs: [-0.25, -0.5], tokens: ['Hello', ' world'], top_logprobs: [{ Hello: -0.25 }, { ' world': -0.5 }] });
    assert.equal(whole.system_fingerprint, 'fp_abc');
    const tokens: string[] = [];
    for await (const chunk of await openai.completions.create({ model: 'oai-model', prompt: 'greet', logprobs: 1, stream: true })) tokens.push(...(chunk.choices[0]?.logprobs?.tokens ?? []));
    assert.deepEqual(tokens, ['Hello', ' world']);
  });

  it('says logprobs and system_fingerprint are null when the server sent none', async () => {
    const whole = await openai.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(whole.choices[0]!.logprobs, null);
    assert.equal(whole.system_fingerprint, null);
  });

  it('puts tool calls together from servers that leave out the index (a new id is a new call) or repeat the name in every piece', async () => {
    const head = { id: 'chatcmpl-tc', object: 'chat.completion.chunk', created: 1749480000, model: 'oai-model' };
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const call = (fields: object) => chunk({ tool_calls: [{ type: 'function', ...fields }] });
    const noIndex = [
      chunk({ role: 'assistant', content: null }),
      call({ id: 'c1', function: { name: 'get_weather', arguments: '{"city":' } }),
      call({ function: { arguments: '"Paris"}' } }),
      call({ id: 'c2', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } }),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    const repeatedName = [
      chunk({ role: 'assistant', content: null }),
      call({ index: 0, id: 'c1', function: { name: 'get_weather', arguments: '{"city":' } }),
      call({ index: 0, id: 'c1', function: { name: 'get_weather', arguments: '"Oslo"}' } }),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    const expected = [
      [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Paris"}' }, { id: 'c2', name: 'get_time', arguments: '{"tz":"UTC"}' }],
      [{ id: 'c1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
    ];
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }];
    for (const [i, pieces] of [noIndex, repeatedName].entries()) {
      fake.script([{ chunks: pieces }]);
      const whole = await openai.chat.completions.create({ model: 'oai-model', tools, messages: [{ role: 'user', content: 'call tools' }] });
      const calls = whole.choices[0]!.message.tool_calls!.map((c) => ({ id: c.id, name: (c as { function: { name: string } }).function.name, arguments: (c as { function: { arguments: string } }).function.arguments }));
      assert.deepEqual(calls, expected[i]);
      // Streamed, put together the way the official client's helper does.
      fake.script([{ chunks: pieces }]);
      const runner = openai.chat.completions.stream({ model: 'oai-model', tools, messages: [{ role: 'user', content: 'call tools' }] });
      const final = await runner.finalChatCompletion();
      const streamedCalls = final.choices[0]!.message.tool_calls!.map((c) => ({ id: c.id, name: (c as { function: { name: string } }).function.name, arguments: (c as { function: { arguments: string } }).function.arguments }));
      assert.deepEqual(streamedCalls, expected[i]);
    }
  });

  it('relays a whole chat.completion from a server that ignores stream: true, text and tool calls, to a streaming client', async () => {
    const whole = (message: object, finish: string) => ({
      headers: { 'content-type': 'application/json' },
      chunks: [JSON.stringify({ id: 'chatcmpl-w', object: 'chat.completion', created: 1749480000, model: 'oai-model', choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage: { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 } })],
    });
    fake.script([whole({ role: 'assistant', content: 'Hello world' }, 'stop')]);
    const stream = await openai.chat.completions.create({ model: 'oai-model', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    let finish: string | null = null;
    let usage;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.deepEqual({ text, finish, total: usage?.total_tokens }, { text: 'Hello world', finish: 'stop', total: 6 });
    const calls = [{ id: 'c1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }, { id: 'c2', type: 'function', function: { name: 'get_time', arguments: '{}' } }];
    fake.script([whole({ role: 'assistant', content: null, tool_calls: calls }, 'tool_calls')]);
    const tools = [{ type: 'function' as const, function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const final = await openai.chat.completions.stream({ model: 'oai-model', tools, messages: [{ role: 'user', content: 'call tools' }] }).finalChatCompletion();
    assert.equal(final.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(final.choices[0]!.message.tool_calls!.map((c) => ({ id: c.id, function: (c as { function: object }).function })), calls.map(({ id, function: f }) => ({ id, function: f })));
  });

  it("passes an OpenAI-compatible server's refusal on: chat whole and streamed, Responses whole and streamed, and as text to an Ollama client", async () => {
    // As OpenAI streams a refusal (ChatCompletionChunk delta.refusal): the role chunk opens it, the text follows.
    const head = { id: 'chatcmpl-rf', object: 'chat.completion.chunk', created: 1749480000, model: 'oai-model' };
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const refusing = { chunks: [chunk({ role: 'assistant', content: null, refusal: '' }), chunk({ refusal: "I'm sorry, " }), chunk({ refusal: "I can't help with that." }), chunk({}, 'stop'), 'data: [DONE]\n\n'] };
    const said = "I'm sorry, I can't help with that.";
    const messages = [{ role: 'user' as const, content: 'something forbidden' }];

    fake.script([refusing]);
    const whole = await openai.chat.completions.create({ model: 'oai-model', messages });
    assert.deepEqual([whole.choices[0]!.message.content, whole.choices[0]!.message.refusal, whole.choices[0]!.finish_reason], [null, said, 'stop']);
    fake.script([refusing]);
    let streamed = '';
    for await (const c of await openai.chat.completions.create({ model: 'oai-model', stream: true, messages })) streamed += c.choices[0]?.delta.refusal ?? '';
    assert.equal(streamed, said);

    fake.script([refusing]);
    const response = await openai.responses.create({ model: 'oai-model', input: 'something forbidden' });
    assert.deepEqual((response.output[0] as { content: unknown }).content, [{ type: 'refusal', refusal: said }]);
    fake.script([refusing]);
    const events: string[] = [];
    const runner = openai.responses.stream({ model: 'oai-model', input: 'something forbidden' });
    runner.on('event', (e) => events.push(e.type));
    const final = await runner.finalResponse();
    // The helper adds `parsed` to each part it puts together.
    assert.deepEqual((final.output[0] as { content: { type: string; refusal: string }[] }).content.map(({ type, refusal }) => ({ type, refusal })), [{ type: 'refusal', refusal: said }]);
    assert.deepEqual(events.filter((t) => t.includes('refusal') || t.startsWith('response.content_part')), ['response.content_part.added', 'response.refusal.delta', 'response.refusal.delta', 'response.refusal.done', 'response.content_part.done']);

    fake.script([refusing]);
    const told = await ollama.chat({ model: 'oai-model', stream: false, messages });
    assert.equal(told.message.content, said);
  });

  it("passes on the cached and reasoning token counts an OpenAI-compatible server gives: chat whole and streamed, and Responses", async () => {
    const head = { id: 'chatcmpl-u', object: 'chat.completion.chunk', created: 1749480000, model: 'oai-model' };
    const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
    const usage = { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, prompt_tokens_details: { cached_tokens: 96 }, completion_tokens_details: { reasoning_tokens: 12 } };
    const answer = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ content: 'Done.' }), chunk({}, 'stop'), `data: ${JSON.stringify({ ...head, choices: [], usage })}\n\n`, 'data: [DONE]\n\n'] };
    const messages = [{ role: 'user' as const, content: 'count them' }];
    fake.script([answer]);
    const whole = await openai.chat.completions.create({ model: 'oai-model', messages });
    assert.deepEqual([whole.usage?.prompt_tokens_details?.cached_tokens, whole.usage?.completion_tokens_details?.reasoning_tokens], [96, 12]);
    fake.script([answer]);
    let streamed;
    for await (const c of await openai.chat.completions.create({ model: 'oai-model', stream: true, stream_options: { include_usage: true }, messages })) streamed = c.usage ?? streamed;
    assert.deepEqual([streamed?.prompt_tokens_details?.cached_tokens, streamed?.completion_tokens_details?.reasoning_tokens], [96, 12]);
    fake.script([answer]);
    const response = await openai.responses.create({ model: 'oai-model', input: 'count them' });
    assert.deepEqual([response.usage?.input_tokens_details.cached_tokens, response.usage?.output_tokens_details.reasoning_tokens], [96, 12]);
  });

  it('carries log probabilities across the protocols: asked for and answered, Ollama list ↔ chat logprobs.content', async () => {
    const token = (text: string, logprob: number) => ({ token: text, logprob, bytes: [...Buffer.from(text)], top_logprobs: [{ token: text, logprob, bytes: [...Buffer.from(text)] }] });
    const hi = token('Hi', -0.5);
    const there = token(' there', -0.25);
    // As Ollama streams them (api/types.go ChatResponse.Logprobs), one list per line.
    const line = (content: string, logprobs: object[] | undefined, done = false) =>
      `${JSON.stringify({ model: 'oll-model', created_at: '2025-01-01T00:00:00Z', message: { role: 'assistant', content }, done, ...(done ? { done_reason: 'stop', eval_count: 2, prompt_eval_count: 3 } : {}), ...(logprobs ? { logprobs } : {}) })}\n`;
    const ollamaAnswer = { chunks: [line('Hi', [hi]), line(' there', [there]), line('', undefined, true)] };
    const sent = () => fake.requests.at(-1)!.body as Record<string, unknown>;

    fake.script([ollamaAnswer]);
    const whole = (await ollama.chat({ model: 'oll-model', stream: false, logprobs: true, top_logprobs: 1, messages: [{ role: 'user', content: 'hi' }] } as never)) as unknown as { logprobs?: unknown };
    assert.deepEqual(whole.logprobs, [hi, there]);
    fake.script([ollamaAnswer]);
    const lines: unknown[] = [];
    for await (const part of await ollama.chat({ model: 'oll-model', stream: true, messages: [{ role: 'user', content: 'hi' }] })) lines.push(...(((part as unknown as { logprobs?: unknown[] }).logprobs) ?? []));
    assert.deepEqual(lines, [hi, there]);

    fake.script([ollamaAnswer]);
    const chat = await openai.chat.completions.create({ model: 'oll-model', logprobs: true, top_logprobs: 1, messages: [{ role: 'user', content: 'hi' }] });
    assert.deepEqual([sent().logprobs, sent().top_logprobs], [true, 1]);
    assert.deepEqual(chat.choices[0]!.logprobs?.content, [hi, there]);

    const [openAiHead, hello, world] = chatWithLogprobs();
    fake.script([{ chunks: [openAiHead!, hello!, world!, 'data: ' + JSON.stringify({ id: 'x', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }) + '\n\n', 'data: [DONE]\n\n'] }]);
    const told = (await ollama.chat({ model: 'oai-model', stream: false, logprobs: true, top_logprobs: 2, messages: [{ role: 'user', content: 'hi' }] } as never)) as unknown as { logprobs?: { token: string }[] };
    assert.deepEqual([sent().logprobs, sent().top_logprobs], [true, 2]);
    assert.deepEqual(told.logprobs?.map((t) => t.token), ['Hello', ' world']);
  });

  it('retrieves one model, and says 404 model_not_found for a model nobody serves', async () => {
    const model = await openai.models.retrieve('oll-model');
    assert.deepEqual({ id: model.id, object: model.object, owned_by: model.owned_by }, { id: 'oll-model', object: 'model', owned_by: 'oll' });
    const err = await openai.models.retrieve('nobody-serves-this').catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.code, 'model_not_found');
  });
});
