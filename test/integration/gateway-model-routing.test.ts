/**
 * A gateway request is answered by the model it names and by no other: `m` and `m:latest` are one model everywhere
 * (the listing, the check for unknown models, the routing, the name the backend is sent); a request that named no
 * task type runs on a backend serving its model whatever `types` that backend takes, one that named a type waits for
 * a backend serving the model that takes it; a backend whose workers start on demand is waited for, never bypassed.
 * Ordinary tasks naming a model keep to the backends serving it the same way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('gateway: the model a request names is the model that answers', () => {
  const fakes: Record<'oai' | 'rest' | 'oll' | 'coder', FakeLlm> = {} as never;
  let koubou: TestCoordinator;
  let openai: OpenAI;
  let ollama: Ollama;
  const posts = (name: keyof typeof fakes) => fakes[name].requests.filter((r) => r.method === 'POST');

  before(async () => {
    fakes.oai = await startFakeLlm({ models: ['qwen-oai'] });
    fakes.rest = await startFakeLlm({ models: ['mistral-oai'] });
    fakes.oll = await startFakeLlm({ models: ['llama'] });
    fakes.coder = await startFakeLlm({ models: ['qwen-code'] });
    koubou = await startTestCoordinator({
      backends: [
        // Started on demand: no worker of theirs is in the pool when the first request for their model comes.
        { name: 'oai', type: 'openai', url: fakes.oai.url, model: 'qwen-oai', min_workers: 0, max_workers: 1 },
        { name: 'rest', type: 'openai', url: fakes.rest.url, model: 'mistral-oai', min_workers: 0, max_workers: 1 },
        { name: 'oll', type: 'ollama', url: fakes.oll.url, model: 'llama' },
        { name: 'coder', type: 'ollama', url: fakes.coder.url, model: 'qwen-code', types: ['code'] },
      ],
    });
    openai = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    ollama = new Ollama({ host: koubou.url });
  });
  after(async () => {
    await koubou.close();
    for (const fake of Object.values(fakes)) await fake.close();
  });

  it('serves `m:latest` (how /api/tags lists `m`) by the backend serving `m`, which is sent the name it knows', async () => {
    const tags = (await ollama.list()).models.map((m) => m.name);
    assert.ok(tags.includes('qwen-oai:latest'), tags.join());
    const reply = await ollama.chat({ model: 'qwen-oai:latest', messages: [{ role: 'user', content: 'which model?' }] });
    assert.equal(reply.message.content, 'echo(qwen-oai): which model?');
    assert.deepEqual(posts('oai').map((r) => [r.path, r.model]), [['/v1/chat/completions', 'qwen-oai']]);
    const other = await openai.chat.completions.create({ model: 'llama:latest', messages: [{ role: 'user', content: 'and you?' }] });
    assert.equal(other.choices[0]!.message.content, 'echo(llama): and you?');
    assert.deepEqual(posts('oll').map((r) => r.model), ['llama']);
    // Every answer, and every piece of a stream, names the model as asked, though the backend answered as `llama`.
    assert.equal(reply.model, 'qwen-oai:latest');
    assert.equal(other.model, 'llama:latest');
    const ollamaPieces = [];
    for await (const part of await ollama.chat({ model: 'llama:latest', stream: true, messages: [{ role: 'user', content: 'streamed' }] })) ollamaPieces.push(part.model);
    assert.deepEqual([...new Set(ollamaPieces)], ['llama:latest']);
    const openAiPieces = [];
    for await (const chunk of await openai.chat.completions.create({ model: 'qwen-oai:latest', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'streamed' }] })) openAiPieces.push(chunk.model);
    assert.deepEqual([...new Set(openAiPieces)], ['qwen-oai:latest']);
  });

  it('runs a request naming no type on the backend serving its model, whatever types that backend takes', async () => {
    const reply = await openai.chat.completions.create({ model: 'qwen-code', messages: [{ role: 'user', content: 'untyped' }] });
    assert.equal(reply.choices[0]!.message.content, 'echo(qwen-code): untyped');
    const typed = await openai.chat.completions.create({ model: 'qwen-code', messages: [{ role: 'user', content: 'typed' }] }, { headers: { 'x-koubou-type': 'code' } });
    assert.equal(typed.choices[0]!.message.content, 'echo(qwen-code): typed');
    assert.deepEqual(posts('coder').map((r) => r.prompt), ['untyped', 'typed']);
    assert.equal(posts('oll').filter((r) => r.model === 'qwen-code').length, 0);
  });

  it('keeps a request whose type no backend serving its model takes waiting, saying why, never on another model', async () => {
    const abort = new AbortController();
    const request = openai.chat.completions
      .create({ model: 'qwen-code', messages: [{ role: 'user', content: 'documentation please' }] }, { headers: { 'x-koubou-type': 'documentation' }, signal: abort.signal })
      .catch((err: Error) => err);
    const client = api(koubou.url);
    const waiting = { id: '', why: null as { code: string; message: string } | null };
    await eventually(async () => {
      const tasks = (await client.get('/tasks?status=pending')).body.tasks as { task_id: string; prompt_excerpt: string }[];
      waiting.id = tasks.find((t) => t.prompt_excerpt === 'documentation please')?.task_id ?? '';
      waiting.why = waiting.id === '' ? null : (await client.status(waiting.id)).body.waiting_for;
      return waiting.why !== null;
    }, 10_000);
    assert.deepEqual(waiting.why, { code: 'no_capable_worker', message: 'no worker serving the model qwen-code takes tasks of type documentation' });
    abort.abort();
    assert.ok((await request) instanceof Error);
    await eventually(async () => (await client.status(waiting.id)).body.status === 'cancelled', 5_000);
    for (const name of ['oll', 'coder', 'oai'] as const) assert.equal(posts(name).filter((r) => r.prompt === 'documentation please').length, 0, name);
  });

  it('gives an ordinary task naming `m:latest` to the backend serving `m`, waiting for its worker to start', async () => {
    const client = api(koubou.url);
    const res = await client.delegate({ prompt: 'rest task', options: { model: 'mistral-oai:latest' }, sync: true });
    assert.equal(res.body.status, 'completed', JSON.stringify(res.body));
    assert.equal(res.body.result.output, 'echo(mistral-oai): rest task');
    assert.deepEqual(posts('rest').map((r) => r.model), ['mistral-oai']);
    assert.equal(posts('oll').filter((r) => r.prompt === 'rest task').length, 0);
  });
});
