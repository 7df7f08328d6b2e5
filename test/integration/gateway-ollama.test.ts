/**
 * The pool as an Ollama-compatible server, through the official `ollama` client: chat and generate streamed (NDJSON)
 * and not, to an Ollama backend (passed through) and an OpenAI one (translated), tool calls, the listings, and errors
 * in Ollama's shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { TWO_PROTOCOL_BACKENDS, startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

describe('gateway: Ollama protocol', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let client: Ollama;
  const BACKENDS = TWO_PROTOCOL_BACKENDS;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
    client = new Ollama({ host: koubou.url });
  });
  after(() => pool.close());

  for (const b of BACKENDS) {
    it(`chats with an ${b.protocol} backend, whole and streamed, a Japanese prompt cut inside characters intact`, async () => {
      const whole = await client.chat({ model: b.model, stream: false, messages: [{ role: 'user', content: `hi ${b.protocol}` }] });
      assert.equal(whole.message.role, 'assistant');
      assert.equal(whole.message.content, `echo(${b.model}): hi ${b.protocol}`);
      assert.equal(whole.done, true);
      assert.equal(whole.done_reason, 'stop');
      assert.ok(whole.eval_count > 0 && whole.prompt_eval_count > 0);
      assert.equal(fake.requests.findLast((r) => r.prompt === `hi ${b.protocol}`)!.path, b.path);

      const prompt = '[[split]] 日本語のテキストです';
      let text = '';
      let last;
      for await (const part of await client.chat({ model: b.model, stream: true, messages: [{ role: 'user', content: prompt }] })) {
        text += part.message.content;
        last = part;
      }
      assert.equal(text, `echo(${b.model}): ${prompt}`);
      assert.equal(last!.done, true);
      assert.equal(last!.done_reason, 'stop');
      assert.ok(last!.eval_count > 0 && last!.total_duration > 0);
    });

    it(`generates with an ${b.protocol} backend, whole and streamed`, async () => {
      const whole = await client.generate({ model: b.model, prompt: `gen ${b.protocol}`, stream: false });
      assert.equal(whole.response, `echo(${b.model}): gen ${b.protocol}`);
      assert.equal(whole.done, true);
      let text = '';
      for await (const part of await client.generate({ model: b.model, prompt: `gen2 ${b.protocol}`, stream: true })) text += part.response;
      assert.equal(text, `echo(${b.model}): gen2 ${b.protocol}`);
    });
  }

  it('embeds through both backend protocols', async () => {
    for (const b of BACKENDS) {
      const res = await client.embed({ model: b.model, input: ['ab', 'xyz'] });
      assert.deepEqual(res.embeddings, [[2, 97, 0.5], [3, 120, 0.5]], b.model);
      assert.ok(res.prompt_eval_count > 0);
    }
  });

  it('lists the models, the running ones, a version, and shows a model', async () => {
    const tags = await client.list();
    assert.deepEqual(tags.models.map((m) => m.name).sort(), ['oai-model:latest', 'oll-model:latest']);
    // The Ollama backend's own entry (what Open WebUI's model picker shows); the OpenAI-compatible one says nothing of it.
    const own = tags.models.find((m) => m.name === 'oll-model:latest')!;
    assert.deepEqual([own.size, own.digest.length, own.details.parameter_size, own.details.quantization_level], [2019393189, 64, '3.2B', 'Q4_K_M']);
    assert.notEqual(String(own.modified_at), '1970-01-01T00:00:00.000Z');
    const other = tags.models.find((m) => m.name === 'oai-model:latest')!;
    assert.deepEqual([other.size, other.digest], [0, '']);
    const ps = await client.ps();
    assert.equal(ps.models.length, 2);
    const version = (await (await fetch(`${koubou.url}/api/version`)).json()) as { version: string };
    // The pool's Ollama's own (gateway-listener.test.ts covers how it is chosen).
    assert.match(version.version, /^\d+\.\d+\.\d+$/);
    const shown = await client.show({ model: 'oll-model:latest' });
    assert.ok(Array.isArray(shown.capabilities));
    await assert.rejects(client.show({ model: 'nobody-serves-this' }), (err: Error & { status_code?: number }) => err.status_code === 404);
  });

  it('answers 404 in Ollama shape for a model nobody serves, and 400 for bad input, never 500', async () => {
    await assert.rejects(
      client.chat({ model: 'nobody-serves-this', messages: [{ role: 'user', content: 'hi' }] }),
      (err: Error & { status_code?: number }) => err.status_code === 404 && /not found/.test(err.message),
    );
    const post = (path: string, body: string) => fetch(`${koubou.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    for (const [path, body] of [
      ['/api/chat', '{"model": "oll-model", "messages": ['],
      ['/api/chat', '{"model": "oll-model", "messages": {}}'],
      ['/api/chat', '{"messages": [{"role": "user", "content": "hi"}]}'],
      ['/api/generate', '{"model": "oll-model", "prompt": 3}'],
      ['/api/generate', '{"model": "oll-model", "prompt": "x", "options": []}'],
    ] as const) {
      const res = await post(path, body);
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { error: unknown };
      assert.equal(typeof json.error, 'string', body);
    }
  });

  it('relays tool calls in message.tool_calls from both backend protocols, whole and streamed', async () => {
    const created_at = '2025-01-01T00:00:00.000000000Z';
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    // As Ollama 0.12.10 and later send it (api/types.go ToolCall: an id, the index within the answer).
    const ollamaTool = [
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '', tool_calls: [{ id: 'call_x1y2z3w4', function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false }),
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 3, prompt_eval_count: 2 }),
    ];
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const openAiTool = [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"ci' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: 'ty":"Paris"}' } }] }, null),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    const tools = [{ type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string', description: 'city' } }, required: ['city'] } } }];
    for (const [model, script, id] of [['oll-model', ollamaTool, 'call_x1y2z3w4'], ['oai-model', openAiTool, 'call_1']] as const) {
      const expected = [{ id, function: { index: 0, name: 'get_weather', arguments: { city: 'Paris' } } }];
      fake.script([{ chunks: script }, { chunks: script }]);
      const whole = await client.chat({ model, tools, stream: false, messages: [{ role: 'user', content: 'weather?' }] });
      assert.deepEqual(whole.message.tool_calls, expected, model);
      const calls = [];
      for await (const part of await client.chat({ model, tools, stream: true, messages: [{ role: 'user', content: 'weather?' }] })) calls.push(...(part.message.tool_calls ?? []));
      assert.deepEqual(calls, expected, model);
    }
    // An older Ollama sends no ids: each call gets one of its own answer's, numbered by index.
    fake.script([{ chunks: [line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'a', arguments: {} } }, { function: { name: 'b', arguments: {} } }] }, done: false }), ollamaTool[1]!] }]);
    const res = await fetch(`${koubou.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'oll-model', tools, stream: false, messages: [{ role: 'user', content: 'two calls' }] }) });
    const taskId = res.headers.get('x-koubou-task-id');
    const calls = ((await res.json()) as { message: { tool_calls: { id: string; function: { index: number } }[] } }).message.tool_calls;
    assert.deepEqual(calls.map((c) => [c.id, c.function.index]), [[`call_${taskId}_0`, 0], [`call_${taskId}_1`, 1]]);
  });

  it('answers parallel calls of one function with their own results on an OpenAI backend, by tool_call_id or in order by tool_name', async () => {
    const paris = { id: 'call_p', function: { name: 'get_weather', arguments: { city: 'Paris' } } };
    const rome = { id: 'call_r', function: { name: 'get_weather', arguments: { city: 'Rome' } } };
    const ask = async (calls: object[], results: object[]) => {
      await client.chat({ model: 'oai-model', stream: false, messages: [{ role: 'user', content: 'weather in Paris and Rome?' }, { role: 'assistant', content: '', tool_calls: calls }, ...results] } as never);
      return (fake.requests.at(-1)!.body as { messages: { role: string; content: string; tool_call_id?: string; tool_calls?: { id: string }[] }[] }).messages;
    };
    // Without ids (an older Ollama, or a client that drops them), results answer the calls of their name in order.
    let sent = await ask([{ function: paris.function }, { function: rome.function }], [{ role: 'tool', tool_name: 'get_weather', content: '18C' }, { role: 'tool', tool_name: 'get_weather', content: '21C' }]);
    const ids = sent[1]!.tool_calls!.map((c) => c.id);
    assert.equal(new Set(ids).size, 2, JSON.stringify(ids));
    assert.deepEqual(sent.slice(2).map((m) => [m.tool_call_id, m.content]), [[ids[0], '18C'], [ids[1], '21C']]);
    // With ids, each result names its call, in whatever order.
    sent = await ask([paris, rome], [{ role: 'tool', tool_name: 'get_weather', tool_call_id: 'call_r', content: '21C' }, { role: 'tool', tool_name: 'get_weather', tool_call_id: 'call_p', content: '18C' }]);
    assert.deepEqual(sent.slice(2).map((m) => [m.tool_call_id, m.content]), [['call_r', '21C'], ['call_p', '18C']]);
    // A result named only by its function takes no call that a later result names by id.
    sent = await ask([paris, rome], [{ role: 'tool', tool_name: 'get_weather', content: '21C' }, { role: 'tool', tool_name: 'get_weather', tool_call_id: 'call_p', content: '18C' }]);
    assert.deepEqual(sent.slice(2).map((m) => [m.tool_call_id, m.content]), [['call_r', '21C'], ['call_p', '18C']]);
  });

  it('carries think to an OpenAI backend: a level as reasoning_effort, false by leaving the thinking out of the answer', async () => {
    const chunk = (delta: object, finish: string | null = null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const thinking = { chunks: [chunk({ role: 'assistant', content: '' }), chunk({ reasoning_content: 'Let me think.' }), chunk({ content: 'Four.' }), chunk({}, 'stop'), 'data: [DONE]\n\n'] };
    const sent = () => fake.requests.at(-1)!.body as { reasoning_effort?: unknown; think?: unknown };
    fake.script([thinking]);
    const high = await client.chat({ model: 'oai-model', think: 'high', stream: false, messages: [{ role: 'user', content: '2+2?' }] });
    assert.deepEqual([sent().reasoning_effort, sent().think, high.message.thinking], ['high', undefined, 'Let me think.']);
    fake.script([thinking, thinking]);
    const off = await client.chat({ model: 'oai-model', think: false, stream: false, messages: [{ role: 'user', content: '2+2?' }] });
    assert.deepEqual([sent().reasoning_effort, off.message.thinking, off.message.content], [undefined, undefined, 'Four.']);
    const parts = [];
    for await (const part of await client.chat({ model: 'oai-model', think: false, stream: true, messages: [{ role: 'user', content: '2+2?' }] })) parts.push(part.message);
    assert.deepEqual([parts.map((m) => m.thinking).filter(Boolean), parts.map((m) => m.content).join('')], [[], 'Four.']);
  });

  it('sends a raw or suffixed /api/generate to an OpenAI backend as a text completion, and refuses a context it cannot carry', async () => {
    const last = () => fake.requests.at(-1)!;
    const raw = await client.generate({ model: 'oai-model', prompt: '<|im_start|>user hi', raw: true, stream: false });
    assert.deepEqual([last().path, (last().body as { prompt?: string }).prompt, (last().body as { messages?: unknown }).messages], ['/v1/completions', '<|im_start|>user hi', undefined]);
    assert.match(String(raw.response), /echo\(oai-model\)/);
    await client.generate({ model: 'oai-model', prompt: 'def add(a, b):', suffix: '    return c', stream: false });
    assert.deepEqual([last().path, (last().body as { suffix?: string }).suffix], ['/v1/completions', '    return c']);
    // Log probabilities asked as a legacy completion takes them, and answered as Ollama's list.
    const head = { id: 'cmpl-lp', object: 'text_completion', created: 1, model: 'oai-model' };
    const piece = (text: string, lp: number) => `data: ${JSON.stringify({ ...head, choices: [{ index: 0, text, logprobs: { tokens: [text], token_logprobs: [lp], top_logprobs: [{ [text]: lp }], text_offset: [0] }, finish_reason: null }] })}\n\n`;
    fake.script([{ chunks: [piece('Hi', -0.5), `data: ${JSON.stringify({ ...head, choices: [{ index: 0, text: '', logprobs: null, finish_reason: 'stop' }] })}\n\n`, 'data: [DONE]\n\n'] }]);
    const scored = (await client.generate({ model: 'oai-model', prompt: 'hello', raw: true, think: 'high', logprobs: true, top_logprobs: 2, stream: false } as never)) as unknown as { logprobs?: unknown };
    assert.deepEqual([(last().body as { logprobs?: unknown }).logprobs, (last().body as { top_logprobs?: unknown }).top_logprobs, (last().body as { reasoning_effort?: unknown }).reasoning_effort], [2, undefined, undefined]);
    assert.deepEqual(scored.logprobs, [{ token: 'Hi', logprob: -0.5, top_logprobs: [{ token: 'Hi', logprob: -0.5 }] }]);
    const before = fake.count;
    const refused = (await client.generate({ model: 'oai-model', prompt: 'and then?', context: [1, 2, 3], stream: false }).catch((err: unknown) => err)) as Error & { status_code?: number };
    assert.equal(refused.status_code, 400, refused.message);
    assert.match(refused.message, /context/);
    assert.equal(fake.count, before, 'nothing reached the backend');
  });

  it('sends an earlier assistant turn\'s thinking to an OpenAI backend as that message\'s reasoning', async () => {
    const messages = [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'Hello.', thinking: 'Greet back.' }, { role: 'user', content: 'again' }];
    const reply = await client.chat({ model: 'oai-model', stream: false, messages });
    assert.equal(reply.message.content, 'echo(oai-model): again');
    const sent = (fake.requests.at(-1)!.body as { messages: { role: string; content: unknown; reasoning?: string }[] }).messages;
    assert.deepEqual(sent.map((m) => [m.role, m.content, m.reasoning]), [['user', 'hi', undefined], ['assistant', 'Hello.', 'Greet back.'], ['user', 'again', undefined]]);
  });
});
