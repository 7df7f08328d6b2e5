/**
 * Gateway request bodies checked field by field before they become tasks: wrong types and values are a 400 in the
 * protocol's shape naming the field by its path (OpenAI's `param`, Ollama's message), and reach no backend; more than
 * one answer per request (`n` above 1, several prompts) is refused naming `n` or `prompt`. What real clients send —
 * nulls, fields the gateway does not know — still passes, unknown fields untouched to a backend of the same protocol.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { Ollama } from 'ollama';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

type OpenAiError = { error: { message: string; type: string; param: string | null; code: string } };

describe('gateway: request bodies checked by schema', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
  });
  after(() => pool.close());

  const post = (path: string, body: object) => fetch(`${koubou.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const user = [{ role: 'user', content: 'hi' }];

  /** Each body must be refused with a 400 naming `param` (OpenAI shape), for both backend protocols, reaching neither. */
  async function refusedOpenAi(path: string, cases: [object, string, string?][]) {
    for (const model of ['oll-model', 'oai-model']) {
      for (const [fields, param, code] of cases) {
        const before = fake.count;
        const res = await post(path, { model, ...fields });
        const body = JSON.stringify(fields);
        assert.equal(res.status, 400, `${path} ${body}`);
        const json = (await res.json()) as OpenAiError;
        assert.equal(json.error.type, 'invalid_request_error', body);
        assert.equal(json.error.param, param, body);
        if (code) assert.equal(json.error.code, code, body);
        assert.ok(json.error.message.includes(param), `${body}: ${json.error.message}`);
        assert.equal(fake.count, before, `${body} reached a backend`);
      }
    }
  }

  it('refuses wrong-typed and invalid chat completion fields, naming each by its path', async () => {
    await refusedOpenAi('/v1/chat/completions', [
      [{ messages: [{ role: 'user', content: 42 }] }, 'messages[0].content', 'invalid_type'],
      [{ messages: [{ role: 'user', content: { a: 1 } }] }, 'messages[0].content', 'invalid_type'],
      [{ messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages[0].content[0].text', 'invalid_type'],
      [{ messages: [{ role: 'user', content: [{ type: 'video', video: 'x' }] }] }, 'messages[0].content[0].type', 'invalid_value'],
      [{ messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role', 'invalid_value'],
      [{ messages: [] }, 'messages', 'empty_array'],
      [{ messages: user, max_tokens: -5 }, 'max_tokens', 'integer_below_min_value'],
      [{ messages: user, max_tokens: 'x' }, 'max_tokens', 'invalid_type'],
      [{ messages: user, max_tokens: 1.5 }, 'max_tokens', 'invalid_type'],
      [{ messages: user, max_tokens: 1e300 }, 'max_tokens', 'integer_above_max_value'],
      [{ messages: user, max_completion_tokens: 2 ** 31 }, 'max_completion_tokens', 'integer_above_max_value'],
      [{ messages: user, temperature: 'hot' }, 'temperature', 'invalid_type'],
      [{ messages: user, temperature: 3 }, 'temperature'],
      [{ messages: user, tools: [1, 'x', { type: 'function' }] }, 'tools[0]', 'invalid_type'],
      [{ messages: user, tools: [{ type: 'function' }] }, 'tools[0].function', 'missing_required_parameter'],
      [{ messages: user, tools: [{ type: 'function', function: { name: 'f', parameters: 'x' } }] }, 'tools[0].function.parameters', 'invalid_type'],
      [{ messages: user, stream: true, stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'invalid_type'],
      [{ messages: user, stop: 5 }, 'stop', 'invalid_type'],
      [{ messages: user, response_format: { type: 'xml' } }, 'response_format.type', 'invalid_value'],
      [{ messages: [{ role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: { a: 1 } } }] }, ...user] }, 'messages[0].tool_calls[0].function.arguments', 'invalid_type'],
      [{ messages: user, n: 2 }, 'n', 'unsupported_value'],
      [{ messages: user, n: 0 }, 'n', 'integer_below_min_value'],
    ]);
  });

  it('refuses invalid legacy completions, several prompts and n above 1 naming prompt and n', async () => {
    await refusedOpenAi('/v1/completions', [
      [{ prompt: ['Say A', 'Say B'] }, 'prompt', 'unsupported_value'],
      [{ prompt: [] }, 'prompt', 'unsupported_value'],
      [{ prompt: [[1, 2]] }, 'prompt', 'invalid_type'],
      [{ prompt: 'x', n: 3 }, 'n', 'unsupported_value'],
      [{ prompt: 'x', max_tokens: -2 }, 'max_tokens', 'integer_below_min_value'],
      [{ prompt: 'x', logprobs: 9 }, 'logprobs', 'integer_above_max_value'],
      [{ prompt: 7 }, 'prompt', 'invalid_type'],
    ]);
  });

  it('refuses invalid embeddings and Responses fields', async () => {
    await refusedOpenAi('/v1/embeddings', [
      [{ input: 'ab', dimensions: 'x' }, 'dimensions', 'invalid_type'],
      [{ input: 'ab', encoding_format: 'hex' }, 'encoding_format', 'invalid_value'],
      [{ input: [] }, 'input', 'empty_array'],
      [{ input: ['a', 3] }, 'input[1]', 'invalid_type'],
    ]);
    await refusedOpenAi('/v1/responses', [
      [{ input: 'hi', max_output_tokens: -1 }, 'max_output_tokens', 'integer_below_min_value'],
      [{ input: 'hi', max_output_tokens: 1e300 }, 'max_output_tokens', 'integer_above_max_value'],
      [{ input: 'hi', temperature: 'warm' }, 'temperature', 'invalid_type'],
      [{ input: [{ type: 'reasoning', summary: [], encrypted_content: 'thought' }] }, 'input', 'invalid_value'],
      [{ input: [{ type: 'web_search_call', id: 'ws_1', status: 'completed' }] }, 'input', 'invalid_value'],
      [{ instructions: 'be brief', input: [{ type: 'reasoning', summary: [] }] }, 'input', 'invalid_value'],
      [{ input: [{ type: 'mystery' }] }, 'input[0].type', 'invalid_value'],
      [{ input: [{ role: 'wizard', content: 'hi' }] }, 'input[0].role', 'invalid_value'],
      [{ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] }, 'input[0].content[0].type', 'invalid_value'],
      [{ input: [{ role: 'user', content: 42 }] }, 'input[0].content', 'invalid_type'],
    ]);
  });

  it('refuses invalid Ollama fields in Ollama shape, naming the field', async () => {
    const cases: [string, object, string][] = [
      ['/api/chat', { messages: [{ role: 'user', content: 42 }] }, 'messages[0].content'],
      ['/api/chat', { messages: [{ role: 'wizard', content: 'hi' }] }, 'messages[0].role'],
      ['/api/chat', { messages: [{ role: 'user', content: 'hi', images: [1] }] }, 'messages[0].images[0]'],
      ['/api/chat', { messages: user, options: { temperature: 'hot' } }, 'options.temperature'],
      ['/api/chat', { messages: user, options: { stop: 'x' } }, 'options.stop'],
      ['/api/chat', { messages: user, tools: [1, 'x', { type: 'function' }] }, 'tools[0]'],
      ['/api/chat', { messages: user, tools: [{ type: 'function' }] }, 'tools[0].function'],
      ['/api/chat', { messages: user, keep_alive: 'soon' }, 'keep_alive'],
      ['/api/chat', { messages: user, think: 'very' }, 'think'],
      ['/api/chat', { messages: user, format: 'xml' }, 'format'],
      ['/api/generate', { prompt: 3 }, 'prompt'],
      ['/api/generate', { prompt: 'x', context: ['a'] }, 'context[0]'],
      ['/api/embed', { input: 42 }, 'input'],
      ['/api/embed', { input: ['a', 1] }, 'input[1]'],
    ];
    for (const [path, fields, field] of cases) {
      const before = fake.count;
      const res = await post(path, { model: 'oll-model', ...fields });
      const body = `${path} ${JSON.stringify(fields)}`;
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { error: unknown };
      assert.equal(typeof json.error, 'string', body);
      assert.ok((json.error as string).includes(`'${field}'`), `${body}: ${String(json.error)}`);
      assert.equal(fake.count, before, `${body} reached a backend`);
    }
  });

  it('passes what real clients send: nulls, every documented field, and unknown fields to a backend of the same protocol', async () => {
    const openai = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const model of ['oll-model', 'oai-model']) {
      const reply = await openai.chat.completions.create({
        model,
        messages: [
          { role: 'developer', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'hello' }], name: 'ann' },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'done' },
          { role: 'user', content: 'again' },
        ],
        temperature: 0.2,
        top_p: 0.9,
        max_tokens: 50,
        max_completion_tokens: null,
        stop: ['END'],
        seed: 1,
        n: 1,
        presence_penalty: 0,
        frequency_penalty: null,
        tools: [{ type: 'function', function: { name: 'f', description: 'f', parameters: { type: 'object', properties: {} }, strict: false } }],
        tool_choice: 'auto',
        parallel_tool_calls: true,
        user: 'u1',
        metadata: { run: 'a' },
        store: false,
        // Not OpenAI's: servers such as vLLM take it, so it must reach them.
        top_k: 20,
      } as OpenAI.ChatCompletionCreateParamsNonStreaming);
      assert.equal(reply.choices[0]!.message.content, `echo(${model}): again`);
    }
    assert.equal((fake.requests.at(-1)!.body as { top_k?: unknown }).top_k, 20);
    const completion = await openai.completions.create({ model: 'oai-model', prompt: ['one prompt'], n: 1, max_tokens: 0, echo: false, suffix: null });
    assert.equal(completion.choices[0]!.text, 'echo(oai-model): one prompt');
    // -1 is no limit (LM Studio's examples send it; Ollama reads it as num_predict -1): it reaches no backend as a budget.
    for (const model of ['oll-model', 'oai-model']) {
      const unlimited = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'no limit' }], max_tokens: -1, max_completion_tokens: -1 });
      assert.equal(unlimited.choices[0]!.message.content, `echo(${model}): no limit`);
      const sent = fake.requests.at(-1)!.body as { max_tokens?: unknown; max_completion_tokens?: unknown; options?: { num_predict?: unknown } };
      assert.deepEqual([sent.max_tokens, sent.max_completion_tokens, sent.options?.num_predict], [undefined, undefined, undefined], model);
      const text = await openai.completions.create({ model, prompt: 'no limit', max_tokens: -1 });
      assert.equal(text.choices[0]!.text, `echo(${model}): no limit`);
    }

    const ollama = new Ollama({ host: koubou.url });
    for (const model of ['oll-model', 'oai-model']) {
      const reply = await ollama.chat({
        model,
        messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello' }],
        options: { temperature: 0.1, num_ctx: 4096, num_predict: -1, stop: ['END'], top_k: 40, seed: 3 },
        keep_alive: '5m',
        format: 'json',
        think: false,
      });
      assert.equal(reply.message.content, `echo(${model}): hello`);
    }
    const res = await post('/api/chat', { model: 'oll-model', messages: [{ role: 'USER', content: 'upper', thinking: null }], stream: false, keep_alive: -1, options: { temperature: null }, custom_field: 'kept' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { message: { content: string } }).message.content, 'echo(oll-model): upper');
    assert.equal((fake.requests.at(-1)!.body as { custom_field?: unknown }).custom_field, 'kept');
  });

  it('takes a photo inline (gateway.body_limit_bytes, 20 MiB) where the API keeps its 1 MiB, and refuses past it with 413 in the protocol shape', async () => {
    // A 3 MB JPEG as base64: 4 MB of JSON, as a phone photo sent by Open WebUI or the SDKs comes.
    const photo = Buffer.alloc(3 * 1024 * 1024, 7).toString('base64');
    for (const model of ['oll-model', 'oai-model']) {
      const chat = await post('/v1/chat/completions', { model, messages: [{ role: 'user', content: [{ type: 'text', text: 'what is this' }, { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${photo}` } }] }] });
      assert.equal(chat.status, 200, `${model}: ${(await chat.clone().text()).slice(0, 300)}`);
      const ollama = await post('/api/chat', { model, stream: false, messages: [{ role: 'user', content: 'and this', images: [photo] }] });
      assert.equal(ollama.status, 200, `${model}: ${(await ollama.clone().text()).slice(0, 300)}`);
    }
    const task = await post('/task/delegate', { prompt: photo });
    assert.equal(task.status, 413);
    const huge = Buffer.alloc(16 * 1024 * 1024, 7).toString('base64');
    const openAi = await post('/v1/chat/completions', { model: 'oai-model', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${huge}` } }] }] });
    assert.equal(openAi.status, 413);
    assert.match(((await openAi.json()) as OpenAiError).error.message, /20971520-byte limit/);
    const ollama = await post('/api/chat', { model: 'oll-model', messages: [{ role: 'user', content: 'x', images: [huge] }] });
    assert.equal(ollama.status, 413);
    assert.match(((await ollama.json()) as { error: string }).error, /20971520-byte limit/);
  });
});
