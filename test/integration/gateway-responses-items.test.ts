/**
 * The Responses API's reasoning and tool items, through the official `openai` client's `responses.create`, as a
 * Codex-like client uses them: the model's thinking comes out as a reasoning item (as Ollama writes it) and goes back
 * to the model as the reasoning of the turn it precedes, never as text; a custom tool (free text in) reaches a chat
 * backend as a function taking one string and comes back as a custom_tool_call; a namespace's tools are named
 * `<namespace>.<tool>` for the model and apart for the client; web_search is left out; other tool and item kinds are
 * refused naming their type.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { TWO_PROTOCOL_BACKENDS, startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

type Message = { role: string; content: unknown; reasoning?: string; thinking?: string; tool_calls?: unknown[]; tool_call_id?: string; tool_name?: string };

const CREATED_AT = '2025-01-01T00:00:00.000000000Z';
/** One line of an Ollama /api/chat stream. */
const ollamaLine = (message: object, done = false) =>
  `${JSON.stringify({ model: 'oll-model', created_at: CREATED_AT, message: { role: 'assistant', content: '', ...message }, done, ...(done ? { done_reason: 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 5, prompt_eval_duration: 1, eval_count: 7, eval_duration: 1 } : {}) })}\n`;
/** One chunk of an OpenAI chat completion stream. */
const openAiChunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-i', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

/** Ollama thinking in two pieces, then the answer. */
const THINKING_ANSWER = [ollamaLine({ thinking: 'Think' }), ollamaLine({ thinking: 'ing hard.' }), ollamaLine({ content: 'Answer.' }), ollamaLine({}, true)];

describe('gateway: Responses reasoning and tool items', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let client: OpenAI;
  const lastMessages = () => (fake.requests.at(-1)!.body as { messages: Message[] }).messages;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => pool.close());

  it('streams the backend\'s thinking as a reasoning item before the message, as Ollama\'s own /v1/responses does', async () => {
    fake.script([{ chunks: THINKING_ANSWER }]);
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await client.responses.create({ model: 'oll-model', stream: true, input: 'think first' })) events.push(e);
    assert.deepEqual(events.map((e) => e.type).slice(0, 8), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.reasoning_summary_part.added',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.delta',
      'response.reasoning_summary_text.done',
      'response.reasoning_summary_part.done',
    ]);
    const added = events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
    assert.deepEqual(added.item, { id: (added.item as { id: string }).id, type: 'reasoning', summary: [] });
    const deltas = events.flatMap((e) => (e.type === 'response.reasoning_summary_text.delta' ? [e.delta] : []));
    assert.deepEqual(deltas, ['Think', 'ing hard.']);
    const itemDone = events.find((e) => e.type === 'response.output_item.done') as OpenAI.Responses.ResponseOutputItemDoneEvent;
    assert.deepEqual(itemDone.item, { id: added.item.id, type: 'reasoning', summary: [{ type: 'summary_text', text: 'Thinking hard.' }], encrypted_content: 'Thinking hard.' });
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    assert.deepEqual(completed.response.output.map((i) => i.type), ['reasoning', 'message']);
    assert.equal(completed.response.output_text ?? (completed.response.output[1] as OpenAI.Responses.ResponseOutputMessage).content.map((c) => (c.type === 'output_text' ? c.text : '')).join(''), 'Answer.');
    assert.ok(!events.some((e) => e.type === 'response.reasoning_text.delta'), 'the thinking is not sent twice');
  });

  it('answers the reasoning item whole, and takes it back on the next turn as the reasoning of that assistant turn', async () => {
    fake.script([{ chunks: THINKING_ANSWER }]);
    const first = await client.responses.create({ model: 'oll-model', input: 'think first' });
    assert.deepEqual(first.output.map((i) => i.type), ['reasoning', 'message']);
    assert.equal(first.output_text, 'Answer.');
    const reasoning = first.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: 'Thinking hard.' }]);
    // The client sends the conversation back with the items it got, as Codex does on its next turn.
    await client.responses.create({ model: 'oll-model', input: [{ role: 'user', content: 'think first' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'and then?' }] });
    const messages = lastMessages();
    assert.deepEqual(messages.map((m) => [m.role, m.content, m.thinking]), [
      ['user', 'think first', undefined],
      ['assistant', 'Answer.', 'Thinking hard.'],
      ['user', 'and then?', undefined],
    ]);
  });

  for (const b of TWO_PROTOCOL_BACKENDS) {
    it(`sends reasoning items to an ${b.protocol} backend with the assistant turn they precede, their summaries never`, async () => {
      await client.responses.create({
        model: b.model,
        input: [
          { role: 'user', content: 'weather?' },
          { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'SUMMARY-NOT-SENT' }], encrypted_content: 'I need the tool.' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
          { type: 'reasoning', id: 'rs_2', summary: [], content: [{ type: 'reasoning_text', text: 'It is sunny.' }] },
          { type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Sunny.', annotations: [] }] },
          // Reasoning that no assistant turn follows belongs to nothing the model is shown.
          { type: 'reasoning', id: 'rs_3', summary: [], encrypted_content: 'ORPHAN' },
          { role: 'user', content: 'thanks' },
        ],
      });
      const messages = lastMessages();
      const reasoningOf = (m: Message) => (b.protocol === 'openai' ? m.reasoning : m.thinking);
      assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool', 'assistant', 'user']);
      assert.equal(reasoningOf(messages[1]!), 'I need the tool.');
      assert.equal(messages[1]!.tool_calls?.length, 1);
      assert.equal(reasoningOf(messages[3]!), 'It is sunny.');
      assert.equal(messages[3]!.content, 'Sunny.');
      const sent = JSON.stringify(messages);
      assert.ok(!sent.includes('SUMMARY-NOT-SENT') && !sent.includes('ORPHAN'), sent);
    });
  }

  it('offers a custom tool as a function of one string and answers its call as a custom_tool_call, streamed and not', async () => {
    const patch = '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch';
    const args = JSON.stringify({ input: patch });
    const call = [
      openAiChunk({ role: 'assistant', content: null }),
      openAiChunk({ tool_calls: [{ index: 0, id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: args.slice(0, 12) } }] }),
      openAiChunk({ tool_calls: [{ index: 0, function: { arguments: args.slice(12) } }] }),
      openAiChunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    fake.script([{ chunks: call }, { chunks: call }]);
    const tools: OpenAI.Responses.Tool[] = [{ type: 'custom', name: 'apply_patch', description: 'Edit files', format: { type: 'grammar', syntax: 'lark', definition: 'start: /.+/' } }];
    const whole = await client.responses.create({ model: 'oai-model', tools, input: 'add a.txt' });
    const asked = (fake.requests.at(-1)!.body as { tools: { type: string; function: { name: string; description: string; parameters: { properties: { input: { type: string; description: string } }; required: string[] } } }[] }).tools;
    assert.equal(asked.length, 1);
    assert.equal(asked[0]!.type, 'function');
    assert.equal(asked[0]!.function.name, 'apply_patch');
    assert.equal(asked[0]!.function.description, 'Edit files');
    assert.deepEqual(asked[0]!.function.parameters.required, ['input']);
    assert.equal(asked[0]!.function.parameters.properties.input.type, 'string');
    assert.match(asked[0]!.function.parameters.properties.input.description, /lark grammar:\nstart: \/\.\+\//);
    assert.deepEqual(whole.output, [{ id: whole.output[0]!.id, type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: patch }]);

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await client.responses.create({ model: 'oai-model', tools, stream: true, input: 'add a.txt' })) events.push(e);
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(2), ['response.output_item.added', 'response.custom_tool_call_input.delta', 'response.custom_tool_call_input.done', 'response.output_item.done', 'response.completed']);
    const added = events[2] as OpenAI.Responses.ResponseOutputItemAddedEvent;
    assert.equal(added.item.type, 'custom_tool_call');
    const done = events[4] as OpenAI.Responses.ResponseCustomToolCallInputDoneEvent;
    assert.equal(done.input, patch);
  });

  for (const b of TWO_PROTOCOL_BACKENDS) {
    it(`sends custom_tool_call and custom_tool_call_output items to an ${b.protocol} backend as a call with its input and a tool message`, async () => {
      await client.responses.create({
        model: b.model,
        tools: [{ type: 'custom', name: 'apply_patch' }],
        input: [
          { role: 'user', content: 'add a.txt' },
          { type: 'custom_tool_call', call_id: 'call_p', name: 'apply_patch', input: '*** Begin Patch' },
          { type: 'custom_tool_call_output', call_id: 'call_p', output: 'Done.' },
        ],
      });
      const messages = lastMessages();
      assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'tool']);
      if (b.protocol === 'openai') {
        assert.deepEqual(messages[1]!.tool_calls, [{ id: 'call_p', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } }]);
        assert.equal(messages[2]!.tool_call_id, 'call_p');
      } else {
        assert.deepEqual(messages[1]!.tool_calls, [{ id: 'call_p', function: { name: 'apply_patch', arguments: { input: '*** Begin Patch' } } }]);
        assert.deepEqual([messages[2]!.tool_call_id, messages[2]!.tool_name], ['call_p', 'apply_patch']);
      }
      assert.equal(messages[2]!.content, 'Done.');
    });
  }

  it('names a namespace\'s tools <namespace>.<tool> for the model, and its calls by tool and namespace for the client', async () => {
    fake.script([{ chunks: [ollamaLine({ tool_calls: [{ function: { name: 'files.read', arguments: { path: 'a.txt' } } }] }), ollamaLine({}, true)] }]);
    const parameters = { type: 'object', properties: { path: { type: 'string' } } };
    const res = await client.responses.create({
      model: 'oll-model',
      tools: [{ type: 'namespace', name: 'files', description: 'File tools', tools: [{ type: 'function', name: 'read', parameters }] }],
      input: 'read a.txt',
    });
    assert.deepEqual((fake.requests.at(-1)!.body as { tools: unknown }).tools, [{ type: 'function', function: { name: 'files.read', parameters } }]);
    const call = res.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.deepEqual([call.type, call.name, call.namespace, JSON.parse(call.arguments)], ['function_call', 'read', 'files', { path: 'a.txt' }]);
    // Sent back, the call names the function the model knows.
    await client.responses.create({ model: 'oll-model', input: [{ role: 'user', content: 'read a.txt' }, { ...call, id: undefined } as OpenAI.Responses.ResponseFunctionToolCall, { type: 'function_call_output', call_id: call.call_id, output: 'hello' }] });
    assert.deepEqual(lastMessages()[1]!.tool_calls, [{ id: call.call_id, function: { name: 'files.read', arguments: { path: 'a.txt' } } }]);
  });

  it('leaves a web_search tool out and refuses tools and items it cannot offer, naming their type', async () => {
    const res = await client.responses.create({ model: 'oai-model', tools: [{ type: 'web_search' }], input: 'search nothing' });
    assert.equal(res.output_text, 'echo(oai-model): search nothing');
    assert.equal((fake.requests.at(-1)!.body as { tools?: unknown }).tools, undefined);
    const cases: [object, string][] = [
      [{ tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }, 'tools[0].type'],
      [{ tools: [{ type: 'function', name: 'f' }, { type: 'local_shell' }] }, 'tools[1].type'],
      [{ tools: [{ type: 'custom' }] }, 'tools[0].name'],
      [{ tools: [{ type: 'namespace', name: 'n', tools: [{ type: 'web_search' }] }] }, 'tools[0].tools[0].type'],
      [{ tools: [{ type: 'namespace', name: 'n' }] }, 'tools[0].tools'],
      [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
      [{ input: [{ type: 'reasoning', id: 'rs_1', summary: 'text' }] }, 'input[0].summary'],
      [{ input: [{ type: 'custom_tool_call', call_id: 'c', name: 'apply_patch' }] }, 'input[0].input'],
    ];
    for (const [fields, param] of cases) {
      const body = JSON.stringify({ model: 'oai-model', input: 'hi', ...fields });
      const res = await fetch(`${koubou.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { error: { type: string; param: string | null; message: string } };
      assert.equal(json.error.type, 'invalid_request_error', body);
      assert.equal(json.error.param, param, body);
    }
  });
});
