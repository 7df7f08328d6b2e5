/**
 * The pool as an OpenAI-compatible server, through the official `openai` client: chat completions streamed and not,
 * to an Ollama backend (translated) and an OpenAI one (passed through), tool calls, models, and errors in OpenAI's shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { TWO_PROTOCOL_BACKENDS, startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

describe('gateway: OpenAI protocol', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let client: OpenAI;
  const BACKENDS = TWO_PROTOCOL_BACKENDS;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => pool.close());

  for (const b of BACKENDS) {
    it(`answers a chat completion from an ${b.protocol} backend, with usage and the task id`, async () => {
      const { data, response } = await client.chat.completions
        .create({ model: b.model, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: `hello ${b.protocol}` }] })
        .withResponse();
      assert.equal(data.object, 'chat.completion');
      assert.equal(data.choices[0]!.message.role, 'assistant');
      assert.equal(data.choices[0]!.message.content, `echo(${b.model}): hello ${b.protocol}`);
      assert.equal(data.choices[0]!.finish_reason, 'stop');
      assert.ok(data.usage!.prompt_tokens > 0 && data.usage!.completion_tokens > 0);
      assert.equal(data.usage!.total_tokens, data.usage!.prompt_tokens + data.usage!.completion_tokens);
      const taskId = response.headers.get('x-koubou-task-id');
      assert.ok(taskId);
      assert.equal(data.id, `chatcmpl-${taskId}`);
      // Written straight to the Node response, past the middleware that adds them to Hono's answers.
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(response.headers.get('cross-origin-resource-policy'), 'same-origin');
      const seen = fake.requests.findLast((r) => r.prompt === `hello ${b.protocol}`)!;
      assert.equal(seen.path, b.path);
      assert.equal(seen.system, 'be brief');
      const task = (await (await fetch(`${koubou.url}/task/${taskId}/status`)).json()) as { status: string; prompt?: string };
      assert.equal(task.status, 'completed');
    });

    it(`streams a chat completion from an ${b.protocol} backend, a Japanese prompt cut inside characters intact`, async () => {
      const prompt = '[[split]] 日本語のテキストです、こんにちは';
      const stream = await client.chat.completions.create({ model: b.model, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: prompt }] });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | null | undefined;
      let role: string | undefined;
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        const choice = chunk.choices[0];
        if (choice) {
          role ??= choice.delta.role;
          text += choice.delta.content ?? '';
          finish = choice.finish_reason ?? finish;
        }
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(role, 'assistant');
      assert.equal(text, `echo(${b.model}): ${prompt}`);
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.completion_tokens > 0);
    });
  }

  it('answers legacy completions from both backend protocols, streamed and not', async () => {
    for (const b of BACKENDS) {
      const { data, response } = await client.completions.create({ model: b.model, prompt: `complete ${b.protocol}` }).withResponse();
      assert.equal(data.object, 'text_completion');
      assert.equal(data.id, `cmpl-${response.headers.get('x-koubou-task-id')}`);
      assert.equal(data.choices[0]!.text, `echo(${b.model}): complete ${b.protocol}`);
      assert.equal(data.choices[0]!.finish_reason, 'stop');
      assert.ok(data.usage!.completion_tokens > 0);
      assert.equal(fake.requests.at(-1)!.path, b.protocol === 'openai' ? '/v1/completions' : '/api/generate');
      const stream = await client.completions.create({ model: b.model, prompt: '[[split]] 続きを書いて', stream: true, stream_options: { include_usage: true } });
      let text = '';
      let finish: string | null = null;
      let usage: OpenAI.CompletionUsage | undefined;
      let chunks = 0;
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'text_completion');
        chunks++;
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
        usage = chunk.usage ?? usage;
      }
      assert.equal(text, `echo(${b.model}): [[split]] 続きを書いて`);
      assert.ok(chunks > 3, 'streamed in pieces');
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.prompt_tokens > 0, b.model);
    }
    const bad = await fetch(`${koubou.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"oai-model","prompt":[[1,2]]}' });
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { param: string } }).error.param, 'prompt');
  });

  it('embeds through both backend protocols, as floats and as the base64 the client asks for by default', async () => {
    for (const b of BACKENDS) {
      // The client asks for base64 unless told otherwise, and decodes it back to floats.
      const byDefault = await client.embeddings.create({ model: b.model, input: ['ab', 'xyz'] });
      assert.deepEqual(byDefault.data.map((d) => d.embedding), [[2, 97, 0.5], [3, 120, 0.5]], b.model);
      assert.ok(byDefault.usage.prompt_tokens > 0);
      const floats = await client.embeddings.create({ model: b.model, input: 'ab', encoding_format: 'float' });
      assert.deepEqual(floats.data[0]!.embedding, [2, 97, 0.5]);
    }
  });

  it('lists the models the pool serves', async () => {
    const ids: string[] = [];
    for await (const m of client.models.list()) ids.push(m.id);
    assert.deepEqual(ids.sort(), ['oai-model', 'oll-model']);
  });

  it('answers 404 model_not_found at once for a model nobody serves', async () => {
    const err = await client.chat.completions.create({ model: 'nobody-serves-this', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.code, 'model_not_found');
    assert.equal(err.param, 'model');
  });

  it('repeats at most 100 characters of an unknown model name in its 404, in either protocol', async () => {
    const name = `${'m'.repeat(100)}${'Z'.repeat(200_000)}`;
    const post = (path: string, body: object) => fetch(`${koubou.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answers = [
      await post('/v1/chat/completions', { model: name, messages: [{ role: 'user', content: 'hi' }] }),
      await post('/v1/embeddings', { model: name, input: 'hi' }),
      // A URL past 16 KiB of headers is Node's 431 before any route.
      await fetch(`${koubou.url}/v1/models/${name.slice(0, 5_000)}`),
      await post('/api/chat', { model: name, messages: [{ role: 'user', content: 'hi' }] }),
      await post('/api/show', { model: name }),
      await post('/api/embed', { model: name, input: 'hi' }),
    ];
    for (const res of answers) {
      assert.equal(res.status, 404, res.url);
      const text = await res.text();
      assert.ok(text.length < 400 && text.includes(`${'m'.repeat(100)}…`) && !text.includes('ZZ'), `${res.url}: ${text.slice(0, 300)}`);
    }
  });

  it('answers 400 in OpenAI shape for bad JSON, missing messages and wrong types, never 500', async () => {
    const post = (body: string) => fetch(`${koubou.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cases: [string, string | null][] = [
      ['{"model": "oai-model", "messages": [', null],
      ['{"model": "oai-model"}', 'messages'],
      ['{"model": "oai-model", "messages": "hi"}', 'messages'],
      ['{"model": 7, "messages": [{"role": "user", "content": "hi"}]}', 'model'],
      ['{"model": "oai-model", "messages": [{"content": "hi"}]}', 'messages[0].role'],
      ['{"model": "oai-model", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}', 'stream'],
    ];
    for (const [body, param] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { error: { message: string; type: string; param: string | null; code: string } };
      assert.equal(json.error.type, 'invalid_request_error', body);
      assert.equal(json.error.param, param, body);
      assert.ok(json.error.message.length > 0);
    }
    const err = await client.chat.completions.create({ model: 'oai-model' } as never).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError);
  });

  it('passes a tool call through from an OpenAI backend, streamed and not', async () => {
    const id = 'chatcmpl-tool';
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const toolStream = [
      chunk({ role: 'assistant', content: null }, null),
      chunk({ tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"東京"}' } }] }, null),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    fake.script([{ chunks: toolStream }, { chunks: toolStream }]);
    const whole = await client.chat.completions.create({ model: 'oai-model', tools, messages: [{ role: 'user', content: 'weather?' }] });
    assert.equal(whole.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(whole.choices[0]!.message.tool_calls, [{ id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '{"city":"東京"}' } }]);
    const streamed = await client.chat.completions.stream({ model: 'oai-model', tools, messages: [{ role: 'user', content: 'weather?' }] }).finalChatCompletion();
    assert.equal(streamed.choices[0]!.finish_reason, 'tool_calls');
    const call = streamed.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.id, 'call_abc');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: '東京' });
  });

  it('turns an Ollama backend tool call into OpenAI tool_calls, streamed and not', async () => {
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const created_at = '2025-01-01T00:00:00.000000000Z';
    const toolStream = [
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false }),
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 5, prompt_eval_duration: 1, eval_count: 7, eval_duration: 1 }),
    ];
    fake.script([{ chunks: toolStream }, { chunks: toolStream }]);
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } }];
    const whole = await client.chat.completions.create({ model: 'oll-model', tools, messages: [{ role: 'user', content: 'weather?' }] });
    assert.equal(whole.choices[0]!.finish_reason, 'tool_calls');
    const call = whole.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris' });
    assert.deepEqual(whole.usage, { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    const streamed = await client.chat.completions.stream({ model: 'oll-model', tools, messages: [{ role: 'user', content: 'weather?' }] }).finalChatCompletion();
    const streamedCall = streamed.choices[0]!.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    assert.equal(streamed.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(JSON.parse(streamedCall.function.arguments), { city: 'Paris' });
    assert.ok(streamedCall.id.length > 0);
  });
});
