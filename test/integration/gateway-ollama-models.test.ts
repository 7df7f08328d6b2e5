/**
 * The Ollama routes that are about models rather than answers, through the official `ollama` client: load requests
 * answered at once as Ollama answers them, unloads passed to the Ollama backends serving the model, pull (success for a served model, never pulling), the older
 * /api/embeddings, delete refused, and /api/show and /api/ps telling what is true — an Ollama backend's own answers,
 * and for an OpenAI-compatible one what the pool has seen. Also: every streamed object but the last says done:false.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

type Failure = Error & { status_code?: number };

describe('gateway: Ollama model routes', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: Ollama;

  before(async () => {
    fake = await startFakeLlm({ models: ['oll-chat', 'oll-embed', 'oai-chat', 'oai-embed'], embeddingModels: ['oll-embed', 'oai-embed'] });
    koubou = await startTestCoordinator({
      backends: [
        { name: 'oll', type: 'ollama', url: fake.url, model: 'oll-chat', settings: { models: ['oll-embed'] } },
        { name: 'oai', type: 'openai', url: fake.url, model: 'oai-chat', settings: { models: ['oai-embed'] } },
      ],
    });
    client = new Ollama({ host: koubou.url });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('shows what an Ollama backend says of its models, and what the pool has seen of the others', async () => {
    const chat = await client.show({ model: 'oll-chat' });
    assert.deepEqual(chat.capabilities, ['completion', 'tools']);
    assert.equal((chat.model_info as unknown as Record<string, unknown>)['general.architecture'], 'llama');
    assert.equal(chat.details.family, 'llama');
    const embed = await client.show({ model: 'oll-embed:latest' });
    assert.deepEqual(embed.capabilities, ['embedding']);
    assert.equal((embed.model_info as unknown as Record<string, unknown>)['general.architecture'], 'bert');
    assert.equal(fake.requests.filter((r) => r.path === '/api/show').length, 2);

    // An OpenAI-compatible server says nothing of capabilities: a model is an embedding model once it has answered as one.
    assert.deepEqual((await client.show({ model: 'oai-embed' })).capabilities, ['completion', 'tools']);
    await client.embed({ model: 'oai-embed', input: 'x' });
    assert.deepEqual((await client.show({ model: 'oai-embed' })).capabilities, ['embedding']);
    assert.deepEqual((await client.show({ model: 'oai-chat' })).model_info, {});
    await assert.rejects(client.show({ model: 'nobody-serves-this' }), (err: Failure) => err.status_code === 404);
  });

  it('lists as running only the models an Ollama says it has loaded and those the pool used lately', async () => {
    const before = await client.ps();
    assert.deepEqual(before.models.map((m) => m.name), ['oai-embed:latest'], 'used by the test before');
    await client.chat({ model: 'oll-chat', messages: [{ role: 'user', content: 'hi' }] });
    const after = await client.ps();
    assert.deepEqual(after.models.map((m) => m.name).sort(), ['oai-embed:latest', 'oll-chat:latest']);
    const own = after.models.find((m) => m.name === 'oll-chat:latest')!;
    assert.equal(own.size, 3_338_801_664, "the Ollama's own entry");
    const seen = after.models.find((m) => m.name === 'oai-embed:latest')!;
    assert.ok(new Date(seen.expires_at).getTime() > Date.now());
  });

  it('answers load requests at once, as Ollama does, without a task or a backend call, and passes unloads to the Ollamas serving the model', async () => {
    const calls = fake.count;
    const load = await client.generate({ model: 'oll-chat', prompt: '' });
    assert.deepEqual([load.model, load.response, load.done, load.done_reason], ['oll-chat', '', true, 'load']);
    // An OpenAI-compatible server has nothing to unload: answered without a call.
    assert.equal((await client.generate({ model: 'oai-chat', prompt: '', keep_alive: 0 })).done_reason, 'unload');
    const chat = await client.chat({ model: 'oai-chat', messages: [] });
    assert.deepEqual([chat.message, chat.done, chat.done_reason], [{ role: 'assistant', content: '' }, true, 'load']);
    assert.equal(fake.count, calls, 'no backend was called');
    // `ollama stop` and Open WebUI's unload: the Ollama serving it is asked to unload it, under its own name.
    assert.equal((await client.chat({ model: 'oll-chat:latest', messages: [], keep_alive: '0s' })).done_reason, 'unload');
    assert.equal(fake.count, calls + 1);
    const unload = fake.requests.at(-1)!;
    assert.deepEqual([unload.path, unload.body], ['/api/generate', { model: 'oll-chat', keep_alive: 0 }]);
    const before = fake.count;
    assert.deepEqual(await client.embed({ model: 'oll-embed', input: [] }), { model: 'oll-embed', embeddings: [] });

    const res = await fetch(`${koubou.url}/api/generate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"oll-chat"}' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('x-koubou-task-id'), null);
    const body = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), ['model', 'created_at', 'response', 'done', 'done_reason']);
    assert.match(body.created_at as string, /^\d{4}-\d\d-\d\dT/);
    assert.equal(fake.count, before, 'no backend was called');

    await assert.rejects(client.generate({ model: 'nobody-serves-this', prompt: '' }), (err: Failure) => err.status_code === 404);
  });

  it('answers a pull of a served model with success, streamed or not, pulling nothing; 404 for another', async () => {
    assert.deepEqual(await client.pull({ model: 'oll-chat' }), { status: 'success' });
    const statuses: string[] = [];
    for await (const part of await client.pull({ model: 'oai-chat:latest', stream: true })) statuses.push(part.status);
    assert.deepEqual(statuses, ['success']);
    const raw = await fetch(`${koubou.url}/api/pull`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":"oll-chat"}' });
    assert.equal(raw.headers.get('content-type'), 'application/x-ndjson');
    assert.equal(await raw.text(), '{"status":"success"}\n');
    await assert.rejects(client.pull({ model: 'llama9' }), (err: Failure) => err.status_code === 404 && /llama9/.test(err.message));
    assert.equal(fake.requests.filter((r) => r.path === '/api/pull').length, 0);
  });

  it('embeds one prompt through the older /api/embeddings on both backend protocols', async () => {
    for (const [model, path] of [['oll-embed', '/api/embed'], ['oai-embed', '/v1/embeddings']] as const) {
      const res = await client.embeddings({ model, prompt: 'ab' });
      assert.deepEqual(res.embedding, [2, 97, 0.5], model);
      const seen = fake.requests.at(-1)!;
      assert.equal(seen.path, path);
      assert.equal((seen.body as { input: unknown }).input, 'ab');
    }
    assert.deepEqual(await client.embeddings({ model: 'oll-embed', prompt: '' }), { embedding: [] });
  });

  it('refuses to delete a model (the pool manages none), and says 404 for a model it does not serve', async () => {
    await assert.rejects(client.delete({ model: 'oll-chat' }), (err: Failure) => err.status_code === 403 && /does not manage/.test(err.message));
    await assert.rejects(client.delete({ model: 'nobody-serves-this' }), (err: Failure) => err.status_code === 404);
  });

  it('streams every object but the last with done:false, the tool call line included', async () => {
    const created_at = '2025-01-01T00:00:00.000000000Z';
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const ollamaTool = [
      line({ model: 'oll-chat', created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false }),
      line({ model: 'oll-chat', created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 3, prompt_eval_count: 2 }),
    ];
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'oai-chat', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const openAiTool = [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, null),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    for (const [model, script] of [['oll-chat', ollamaTool], ['oai-chat', openAiTool]] as const) {
      fake.script([{ chunks: script }]);
      const res = await fetch(`${koubou.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [{ role: 'user', content: 'weather?' }] }) });
      const objects = (await res.text()).trimEnd().split('\n').map((l) => JSON.parse(l) as { done: boolean; message: { tool_calls?: unknown[] } });
      assert.ok(objects.some((o) => o.message.tool_calls), model);
      assert.deepEqual(objects.map((o) => o.done), [...objects.slice(1).map(() => false), true], model);
    }
  });
});
