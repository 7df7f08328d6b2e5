/**
 * The pool as an OpenAI Responses server (POST /v1/responses), through the official `openai` client's
 * `responses.create` and `responses.stream`: text answers streamed and not from an Ollama backend and an OpenAI one
 * (both reached as chat), tool calls out as function_call items, function_call / function_call_output items in as
 * tool calls and tool messages, reasoning as a reasoning item, and 400s in OpenAI's shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import type { TestCoordinator } from '../helpers/coordinator.js';
import type { FakeLlm } from '../helpers/fake-llm.js';
import { TWO_PROTOCOL_BACKENDS, startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

describe('gateway: OpenAI Responses API', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  let client: OpenAI;

  before(async () => {
    pool = await startTwoProtocolPool();
    ({ fake, koubou } = pool);
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => pool.close());

  for (const b of TWO_PROTOCOL_BACKENDS) {
    it(`answers a response from an ${b.protocol} backend, instructions as the system message, with usage and the task id`, async () => {
      const { data, response } = await client.responses.create({ model: b.model, instructions: 'be brief', input: `hello ${b.protocol}` }).withResponse();
      assert.equal(data.object, 'response');
      assert.equal(data.status, 'completed');
      assert.equal(data.output_text, `echo(${b.model}): hello ${b.protocol}`);
      assert.equal(data.output.length, 1);
      const message = data.output[0] as OpenAI.Responses.ResponseOutputMessage;
      assert.equal(message.type, 'message');
      assert.equal(message.role, 'assistant');
      assert.equal(data.instructions, 'be brief');
      assert.ok(data.usage!.input_tokens > 0 && data.usage!.output_tokens > 0);
      assert.equal(data.usage!.total_tokens, data.usage!.input_tokens + data.usage!.output_tokens);
      const taskId = response.headers.get('x-koubou-task-id');
      assert.equal(data.id, `resp_${taskId}`);
      const seen = fake.requests.findLast((r) => r.prompt === `hello ${b.protocol}`)!;
      assert.equal(seen.path, b.path);
      assert.equal(seen.system, 'be brief');
      const task = (await (await fetch(`${koubou.url}/task/${taskId}/status`)).json()) as { status: string; prompt: string };
      assert.equal(task.status, 'completed');
    });

    it(`streams a response from an ${b.protocol} backend event by event, a Japanese prompt cut inside characters intact`, async () => {
      const prompt = '[[split]] 日本語のテキストです、こんにちは';
      const stream = await client.responses.create({ model: b.model, stream: true, input: [{ role: 'user', content: [{ type: 'input_text', text: prompt }] }] });
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
      const types = events.map((e) => e.type);
      assert.deepEqual(types.slice(0, 4), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added']);
      assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
      const text = events.flatMap((e) => (e.type === 'response.output_text.delta' ? [e.delta] : [])).join('');
      assert.equal(text, `echo(${b.model}): ${prompt}`);
      assert.ok(types.filter((t) => t === 'response.output_text.delta').length > 1, 'streamed in pieces');
      const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
      assert.equal(completed.response.status, 'completed');
      assert.ok(completed.response.usage!.output_tokens > 0);
      // The client's own accumulator, which follows the items by output_index, agrees (it sets no output_text).
      const final = await client.responses.stream({ model: b.model, input: prompt }).finalResponse();
      const message = final.output[0] as OpenAI.Responses.ResponseOutputMessage;
      assert.deepEqual(message.content.map((c) => (c.type === 'output_text' ? c.text : '')), [`echo(${b.model}): ${prompt}`]);
    });
  }

  it('turns an OpenAI backend\'s streamed tool call into a function_call item, streamed and not', async () => {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-t', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const toolStream = [
      chunk({ role: 'assistant', content: null }, null),
      chunk({ reasoning_content: 'Need the weather.' }, null),
      chunk({ tool_calls: [{ index: 0, id: 'call_abc', type: 'function', function: { name: 'get_weather', arguments: '' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '"東京"}' } }] }, null),
      chunk({}, 'tool_calls'),
      'data: [DONE]\n\n',
    ];
    fake.script([{ chunks: toolStream }, { chunks: toolStream }]);
    const tools: OpenAI.Responses.FunctionTool[] = [{ type: 'function', name: 'get_weather', strict: null, parameters: { type: 'object', properties: { city: { type: 'string' } } } }];
    const whole = await client.responses.create({ model: 'oai-model', tools, input: 'weather in Tokyo?' });
    assert.deepEqual(whole.output.map((i) => i.type), ['reasoning', 'function_call']);
    // As Ollama writes it: the reasoning as the summary, and again as the encrypted content clients send back.
    const reasoning = whole.output[0] as OpenAI.Responses.ResponseReasoningItem;
    assert.deepEqual(reasoning.summary, [{ type: 'summary_text', text: 'Need the weather.' }]);
    assert.equal(reasoning.encrypted_content, 'Need the weather.');
    const call = whole.output[1] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.call_id, 'call_abc');
    assert.equal(call.name, 'get_weather');
    assert.equal(call.arguments, '{"city":"東京"}');
    // The backend was asked with the tool in chat's shape.
    const asked = fake.requests.at(-1)!.body as { tools: unknown[] };
    assert.deepEqual(asked.tools, [{ type: 'function', function: { name: 'get_weather', parameters: tools[0]!.parameters } }]);

    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    const stream = client.responses.stream({ model: 'oai-model', tools, input: 'weather in Tokyo?' });
    stream.on('event', (e) => events.push(e));
    const final = await stream.finalResponse();
    const argDeltas = events.flatMap((e) => (e.type === 'response.function_call_arguments.delta' ? [e.delta] : []));
    assert.deepEqual(argDeltas, ['{"city":', '"東京"}']);
    const argsDone = events.find((e) => e.type === 'response.function_call_arguments.done') as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent;
    assert.equal(argsDone.arguments, '{"city":"東京"}');
    assert.equal(argsDone.name, 'get_weather');
    const streamedCall = final.output.find((i) => i.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    assert.deepEqual(JSON.parse(streamedCall.arguments), { city: '東京' });
    assert.equal(events.filter((e) => e.type === 'response.output_item.done').length, 2);
  });

  it('streams parallel calls one item after another, each closed before the next opens, as OpenAI does', async () => {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-p', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    const call = (index: number, fields: object) => chunk({ tool_calls: [{ index, ...fields }] }, null);
    fake.script([
      {
        chunks: [
          chunk({ role: 'assistant', content: null }, null),
          call(0, { id: 'call_p', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }),
          call(1, { id: 'call_r', type: 'function', function: { name: 'get_weather', arguments: '{"city":' } }),
          call(1, { function: { arguments: '"Rome"}' } }),
          chunk({}, 'tool_calls'),
          'data: [DONE]\n\n',
        ],
      },
    ]);
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    const stream = client.responses.stream({ model: 'oai-model', tools: [{ type: 'function', name: 'get_weather', strict: null, parameters: { type: 'object' } }], input: 'Paris and Rome?' });
    stream.on('event', (e) => events.push(e));
    const final = await stream.finalResponse();
    const order = events.filter((e) => e.type.startsWith('response.output_item') || e.type.startsWith('response.function_call')).map((e) => `${e.type.replace('response.', '')}#${(e as { output_index: number }).output_index}`);
    assert.deepEqual(order, [
      'output_item.added#0', 'function_call_arguments.delta#0', 'function_call_arguments.done#0', 'output_item.done#0',
      'output_item.added#1', 'function_call_arguments.delta#1', 'function_call_arguments.delta#1', 'function_call_arguments.done#1', 'output_item.done#1',
    ]);
    assert.deepEqual(final.output.map((i) => JSON.parse((i as OpenAI.Responses.ResponseFunctionToolCall).arguments)), [{ city: 'Paris' }, { city: 'Rome' }]);
  });

  it('turns an Ollama backend\'s tool call into a function_call item', async () => {
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const created_at = '2025-01-01T00:00:00.000000000Z';
    fake.script([
      {
        chunks: [
          line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Paris' } } }] }, done: false }),
          line({ model: 'oll-model', created_at, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', total_duration: 1, load_duration: 1, prompt_eval_count: 5, prompt_eval_duration: 1, eval_count: 7, eval_duration: 1 }),
        ],
      },
    ]);
    const final = await client.responses.stream({ model: 'oll-model', tools: [{ type: 'function', name: 'get_weather', strict: null, parameters: { type: 'object' } }], input: 'weather?' }).finalResponse();
    const call = final.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.type, 'function_call');
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris' });
    assert.ok(call.call_id.length > 0);
    assert.deepEqual(final.usage && [final.usage.input_tokens, final.usage.output_tokens], [5, 7]);
  });

  for (const b of TWO_PROTOCOL_BACKENDS) {
    it(`sends function_call and function_call_output items to an ${b.protocol} backend as a tool call and its result`, async () => {
      const res = await client.responses.create({
        model: b.model,
        input: [
          { role: 'developer', content: 'use tools' },
          { role: 'user', content: 'weather in Paris?' },
          { type: 'function_call', call_id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
          { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
          { role: 'user', content: 'and so?' },
        ],
      });
      assert.equal(res.output_text, `echo(${b.model}): and so?`);
      const messages = (fake.requests.at(-1)!.body as { messages: Record<string, unknown>[] }).messages;
      assert.deepEqual(messages.map((m) => m.role), ['system', 'user', 'assistant', 'tool', 'user']);
      if (b.protocol === 'openai') {
        assert.deepEqual(messages[2]!.tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }]);
        assert.equal(messages[3]!.tool_call_id, 'call_1');
      } else {
        assert.deepEqual(messages[2]!.tool_calls, [{ id: 'call_1', function: { name: 'get_weather', arguments: { city: 'Paris' } } }]);
        assert.deepEqual([messages[3]!.tool_call_id, messages[3]!.tool_name], ['call_1', 'get_weather']);
      }
      assert.equal(messages[3]!.content, 'sunny');
    });
  }

  it('ends with response.incomplete when the answer hits its token limit', async () => {
    const chunk = (delta: object, finish: string | null) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-l', object: 'chat.completion.chunk', created: 1, model: 'oai-model', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
    fake.script([{ chunks: [chunk({ role: 'assistant', content: 'cut' }, null), chunk({}, 'length'), 'data: [DONE]\n\n'] }]);
    const events: OpenAI.Responses.ResponseStreamEvent[] = [];
    for await (const e of await client.responses.create({ model: 'oai-model', stream: true, max_output_tokens: 1, input: 'long story' })) events.push(e);
    const last = events.at(-1) as OpenAI.Responses.ResponseIncompleteEvent;
    assert.equal(last.type, 'response.incomplete');
    assert.equal(last.response.status, 'incomplete');
    assert.deepEqual(last.response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal((fake.requests.at(-1)!.body as { max_tokens: number }).max_tokens, 1);
  });

  it('answers 400 in OpenAI shape naming the field, and 404 for a model nobody serves', async () => {
    const post = (body: string) => fetch(`${koubou.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const cases: [string, string | null][] = [
      ['{"model": "oai-model", "input": [', null],
      ['{"model": "oai-model"}', 'input'],
      ['{"model": "oai-model", "input": 7}', 'input'],
      ['{"model": "oai-model", "input": []}', 'input'],
      ['{"model": "oai-model", "input": [{"content": "hi"}]}', 'input[0].role'],
      ['{"model": "oai-model", "input": [{"type": "function_call", "call_id": "c", "arguments": "{}"}]}', 'input[0].name'],
      ['{"model": "oai-model", "input": "hi", "tools": [{"type": "function"}]}', 'tools[0].name'],
      ['{"model": "oai-model", "input": "hi", "previous_response_id": "resp_1"}', 'previous_response_id'],
      ['{"model": "oai-model", "input": "hi", "stream": "yes"}', 'stream'],
    ];
    for (const [body, param] of cases) {
      const res = await post(body);
      assert.equal(res.status, 400, body);
      const json = (await res.json()) as { error: { type: string; param: string | null; message: string } };
      assert.equal(json.error.type, 'invalid_request_error', body);
      assert.equal(json.error.param, param, body);
    }
    const err = await client.responses.create({ model: 'nobody-serves-this', input: 'hi' }).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.NotFoundError, String(err));
    assert.equal(err.code, 'model_not_found');
  });
});
