/**
 * OpenAI chat requests translated for an Ollama backend as Ollama's own OpenAI layer translates them: tool calls keep
 * their ids and tool messages name the function they answer; an image given by URL (which Ollama cannot fetch) is a
 * 400 naming the field instead of reaching the model as broken base64, and an inline one arrives as base64. Tool calls an
 * Ollama backend makes (it sends no ids) get ids no other answer has, so a conversation never holds two calls of one id.
 * A reasoning effort reaches an Ollama backend as its `think`, as Ollama's OpenAI layer maps it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

type SentMessage = { role: string; content: string; images?: string[]; tool_calls?: { id?: string; function: { name: string } }[]; tool_name?: string; tool_call_id?: string };

describe('gateway: OpenAI chat translated for an Ollama backend', () => {
  let fake: FakeLlm;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let client: OpenAI;

  before(async () => {
    pool = await startTwoProtocolPool();
    fake = pool.fake;
    client = new OpenAI({ baseURL: `${pool.koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => pool.close());

  const sent = () => (fake.requests.at(-1)!.body as { messages: SentMessage[] }).messages;

  /** A user message of text and `part` is a 400 naming the part's field (`field`), and nothing reaches the backend. */
  async function assertPartRefused(part: object, field: RegExp): Promise<void> {
    const before = fake.count;
    const content = [{ type: 'text', text: 'what is this?' }, part] as OpenAI.ChatCompletionContentPart[];
    const err = await client.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content }] }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.match(err.message, field);
    assert.equal(fake.count, before, 'nothing reached the backend');
  }

  it("keeps tool call ids and names each tool message's function", async () => {
    await client.chat.completions.create({
      model: 'oll-model',
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_9', content: '18C' },
        { role: 'user', content: 'thanks' },
      ],
    });
    const messages = sent();
    assert.equal(messages[1]!.tool_calls![0]!.id, 'call_9');
    assert.deepEqual([messages[2]!.role, messages[2]!.tool_name, messages[2]!.tool_call_id, messages[2]!.content], ['tool', 'get_weather', 'call_9', '18C']);
  });

  it('refuses an image by URL naming the field, and sends an inline one as base64', async () => {
    await assertPartRefused({ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }, /messages\[0\]\.content\[1\]\.image_url\.url/);

    const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==';
    await client.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content: [{ type: 'text', text: 'and this?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }] });
    assert.deepEqual(sent()[0]!.images, [png]);
    // Ollama's OpenAI layer also takes the URL as image_url itself.
    const res = await fetch(`${pool.koubou.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'oll-model', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: `data:image/png;base64,${png}` }] }] }),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(sent()[0]!.images, [png]);
  });

  it("sends an earlier assistant turn's refusal to an Ollama backend as that message's text", async () => {
    await client.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content: 'do it' }, { role: 'assistant', content: null, refusal: 'I refuse to do that.' }, { role: 'user', content: 'please?' }] });
    assert.deepEqual(sent()[1], { role: 'assistant', content: 'I refuse to do that.' });
  });

  it('refuses a file part naming the field instead of dropping it, and sends input_audio data among the images as Ollama does', async () => {
    await assertPartRefused({ type: 'file', file: { file_data: 'data:application/pdf;base64,JVBERi0=' } }, /messages\[0\]\.content\[1\]\.type/);
    await client.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content: [{ type: 'text', text: 'what is said?' }, { type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] }] });
    assert.deepEqual([sent()[0]!.content, sent()[0]!.images], ['what is said?', ['UklGRg==']]);
  });

  it('carries tool_choice to an Ollama backend, which has no such field, in the tools it offers: none, one named, or all', async () => {
    const fn = (name: string) => ({ type: 'function' as const, function: { name, parameters: { type: 'object' } } });
    const tools = [fn('get_weather'), fn('get_time')];
    const offered = () => ((fake.requests.at(-1)!.body as { tools?: { function: { name: string } }[] }).tools ?? []).map((t) => t.function.name);
    const ask = (tool_choice: OpenAI.ChatCompletionToolChoiceOption | undefined) =>
      client.chat.completions.create({ model: 'oll-model', tools, ...(tool_choice === undefined ? {} : { tool_choice }), messages: [{ role: 'user', content: 'weather?' }] });
    await ask('none');
    assert.deepEqual(offered(), []);
    await ask({ type: 'function', function: { name: 'get_time' } });
    assert.deepEqual(offered(), ['get_time']);
    await ask({ type: 'allowed_tools', allowed_tools: { mode: 'auto', tools: [{ type: 'function', function: { name: 'get_weather' } }] } });
    assert.deepEqual(offered(), ['get_weather']);
    await client.responses.create({ model: 'oll-model', tools: [{ type: 'function', name: 'get_weather', strict: null, parameters: {} }, { type: 'function', name: 'get_time', strict: null, parameters: {} }], tool_choice: { type: 'allowed_tools', mode: 'auto', tools: [{ type: 'function', name: 'get_time' }] }, input: 'time?' });
    assert.deepEqual(offered(), ['get_time']);
    await ask('required');
    assert.deepEqual(offered(), ['get_weather', 'get_time']);
    await ask(undefined);
    assert.deepEqual(offered(), ['get_weather', 'get_time']);
  });

  it('gives the tool calls of an Ollama backend ids no earlier answer had, streamed or not', async () => {
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const created_at = '2025-01-01T00:00:00.000000000Z';
    const toolAnswer = (name: string) => [
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name, arguments: {} } }] }, done: false }),
      line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', eval_count: 1, prompt_eval_count: 1 }),
    ];
    fake.script([{ chunks: toolAnswer('get_weather') }, { chunks: toolAnswer('get_time') }, { chunks: toolAnswer('get_date') }]);
    const tools: OpenAI.ChatCompletionTool[] = ['get_weather', 'get_time', 'get_date'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object' } } }));
    const first = await client.chat.completions.create({ model: 'oll-model', tools, messages: [{ role: 'user', content: 'weather, then time' }] });
    const second = await client.chat.completions.create({ model: 'oll-model', tools, messages: [{ role: 'user', content: 'and the time?' }] });
    const third = await client.chat.completions.stream({ model: 'oll-model', tools, messages: [{ role: 'user', content: 'and the date?' }] }).finalChatCompletion();
    const ids = [first, second, third].map((c) => c.choices[0]!.message.tool_calls![0]!.id);
    assert.equal(new Set(ids).size, 3, `tool call ids repeat across answers: ${ids.join(', ')}`);

    // The conversation goes back with both calls and their results: each result names the function it answers.
    const weather = first.choices[0]!.message.tool_calls![0]!;
    const time = second.choices[0]!.message.tool_calls![0]!;
    await client.chat.completions.create({
      model: 'oll-model',
      messages: [
        { role: 'user', content: 'weather, then time' },
        { role: 'assistant', content: null, tool_calls: [weather] },
        { role: 'tool', tool_call_id: weather.id, content: '18C' },
        { role: 'assistant', content: null, tool_calls: [time] },
        { role: 'tool', tool_call_id: time.id, content: '12:00' },
        { role: 'user', content: 'thanks' },
      ],
    });
    const results = sent().filter((m) => m.role === 'tool').map((m) => [m.content, m.tool_name]);
    assert.deepEqual(results, [['18C', 'get_weather'], ['12:00', 'get_time']]);
  });

  it('sends a reasoning effort to an Ollama backend as think, as Ollama maps it', async () => {
    const body = () => fake.requests.at(-1)!.body as { think?: unknown; reasoning_effort?: unknown };
    await client.chat.completions.create({ model: 'oll-model', reasoning_effort: 'high', messages: [{ role: 'user', content: 'think hard' }] });
    assert.equal(body().think, 'high');
    assert.equal(body().reasoning_effort, undefined);
    await client.chat.completions.create({ model: 'oll-model', reasoning_effort: 'none' as OpenAI.ReasoningEffort, messages: [{ role: 'user', content: 'no thinking' }] });
    assert.equal(body().think, false);
    await client.responses.create({ model: 'oll-model', reasoning: { effort: 'low' }, input: 'think a little' });
    assert.equal(body().think, 'low');
    await client.chat.completions.create({ model: 'oll-model', messages: [{ role: 'user', content: 'as the model likes' }] });
    assert.equal(body().think, undefined);
  });
});
