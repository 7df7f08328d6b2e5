/**
 * One schema for a task submission, on every adapter that takes one: REST, NATS, the WebSocket's submit_task, GraphQL
 * and the MCP tool (served at /mcp, and by `koubou mcp` forwarding to the coordinator's REST API). A field the schema
 * does not know is refused with a 4xx (or a tool error) that names it and the field meant; what REST refuses in a
 * field, MCP refuses with the same words. Nothing refused reaches the queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/logger.js';
import { connectNats, type NatsLink } from '../../src/nats/connection.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { mcpOverHttp, mcpOverStdio, type McpTestClient } from '../helpers/mcp-client.js';
import { startNatsServer, type NatsServer } from '../helpers/nats-server.js';
import { connectWebSocket } from '../helpers/ws-client.js';

/** A misspelt field, a misspelt option, and a name near no field: what each is refused with. */
const UNKNOWN: Array<{ body: Record<string, unknown>; field: string; message: RegExp }> = [
  { body: { prompt: 'hi', priorty: 3 }, field: 'priorty', message: /unknown field "priorty"; did you mean "priority"\?/ },
  { body: { prompt: 'hi', options: { modle: 'm' } }, field: 'options.modle', message: /unknown field "options.modle"; did you mean "options.model"\?/ },
  { body: { prompt: 'hi', zzzzzzzz: true }, field: 'zzzzzzzz', message: /unknown field "zzzzzzzz"; the fields are prompt, type, .*idempotency_key/ },
];

describe('one schema for a task submission', () => {
  let nats: NatsServer;
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let link: NatsLink;

  before(async () => {
    nats = await startNatsServer();
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { nats: { url: nats.url, prefix: 'kb' } } });
    client = api(koubou.url);
    link = await connectNats({ url: nats.url, name: 'schema-test', log: silentLogger });
  });
  after(async () => {
    await link?.close();
    await koubou?.close();
    await fake?.close();
    await nats?.close();
  });

  it('REST: an unknown field is 400 naming it and the field meant', async () => {
    for (const { body, field, message } of UNKNOWN) {
      const res = await client.delegate(body);
      assert.equal(res.status, 400, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'invalid_request');
      assert.equal(res.body.error.field, field);
      assert.match(res.body.error.message, message);
    }
    // A bad known field is reported before an unknown one, so the field most likely meant is fixed first.
    const both = await client.delegate({ prompt: 'hi', priority: 0, extra: 1 });
    assert.equal(both.body.error.field, 'priority');
  });

  it('NATS: the same error as REST', async () => {
    for (const { body } of UNKNOWN) {
      const answer = await link.request('kb.task.delegate', body, 5000);
      assert.deepEqual(answer.error, (await client.delegate(body)).body.error);
    }
    const status = await link.request('kb.task.status', { task_id: 'x', taskid: 'y' }, 5000);
    assert.deepEqual(status.error, { code: 'invalid_request', field: 'taskid', message: 'unknown field "taskid"; did you mean "task_id"?' });
  });

  it('WebSocket submit_task: the same error as REST', async () => {
    const ws = await connectWebSocket(`${koubou.url.replace('http', 'ws')}/ws`);
    try {
      for (const { body } of UNKNOWN) ws.send({ type: 'submit_task', payload: body });
      await eventually(() => ws.messages.filter((m) => m.type === 'error').length === UNKNOWN.length);
      const errors = ws.messages.filter((m) => m.type === 'error').map((m) => m.error);
      for (const [i, { body }] of UNKNOWN.entries()) assert.deepEqual(errors[i], (await client.delegate(body)).body.error);
    } finally {
      ws.close();
    }
  });

  it('GraphQL submitTask: an unknown argument is 400 naming it and the argument meant', async () => {
    const res = await client.post('/graphql', { query: 'mutation { submitTask(prompt: "hi", priorty: 3) { id } }' });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    const [error] = res.body.errors;
    assert.equal(error.extensions.code, 'invalid_request');
    assert.equal(error.extensions.field, 'priorty');
    assert.match(error.message, /Unknown argument "priorty".*Did you mean "priority"\?/);
  });

  function mcpSuite(name: string, open: () => Promise<McpTestClient>) {
    describe(`MCP delegate_task (${name})`, () => {
      let mcp: McpTestClient;
      before(async () => {
        mcp = await open();
      });
      after(async () => {
        await mcp?.close();
      });

      it('its input schema is the submission schema: strict, with the same bounds', async () => {
        const { tools } = await mcp.client.listTools();
        const schema = tools.find((t) => t.name === 'delegate_task')!.inputSchema as any;
        assert.equal(schema.additionalProperties, false);
        assert.deepEqual(schema.required, ['prompt']);
        assert.equal(schema.properties.model.maxLength, 256);
        assert.equal(schema.properties.timeout.maximum, 86_400);
        assert.equal(schema.properties.files.anyOf?.[0]?.maxItems ?? schema.properties.files.maxItems, 50);
        assert.equal(schema.properties.priority.maximum, 10);
      });

      it('an unknown argument is refused, naming it and the argument meant', async () => {
        await assert.rejects(mcp.call('delegate_task', { prompt: 'hi', priorty: 3 }), /unknown field "priorty"; did you mean "priority"\?/);
        await assert.rejects(mcp.call('delegate_task', { prompt: 'hi', wait_secnds: 3 }), /did you mean "wait_seconds"\?/);
      });

      it('an empty model and a timeout HTTP refuses are refused with the words HTTP uses', async () => {
        const cases: Array<[string, unknown, RegExp]> = [
          ['model', '', /must be a non-empty model name of at most 256 characters/],
          ['model', '   ', /must be a non-empty model name of at most 256 characters/],
          ['timeout', -1, /must be a number of seconds above 0 and at most 86400/],
          ['timeout', 86_401, /must be a number of seconds above 0 and at most 86400/],
          ['max_tokens', 0, /must be an integer from 1 to 1000000/],
        ];
        for (const [option, value, message] of cases) {
          const label = `${option} ${JSON.stringify(value)}`;
          const http = await client.delegate({ prompt: 'hi', options: { [option]: value } });
          assert.equal(http.status, 400, label);
          assert.equal(http.body.error.field, `options.${option}`, label);
          assert.match(http.body.error.message, message, label);
          await assert.rejects(mcp.call('delegate_task', { prompt: 'hi', [option]: value }), (err: Error) => {
            assert.match(err.message, message, label);
            assert.match(err.message, new RegExp(`\\b${option} must be`), `${label}: names the argument`);
            return true;
          });
        }
      });
    });
  }

  mcpSuite('/mcp', () => mcpOverHttp(koubou.url));
  mcpSuite('koubou mcp forwarding over REST', () => mcpOverStdio({ KOUBOU_URL: koubou.url }));

  it('nothing refused was queued', async () => {
    const list = await client.get('/tasks?limit=1000');
    assert.equal(list.body.count, 0);
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0);
  });
});
