/**
 * Listings show an excerpt of each output, never whole outputs (issue 10 part 4): GET /tasks (which the dashboard and
 * `koubou tasks` read), GraphQL `tasks` and MCP list_tasks; the whole output stays on the task's own status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { mcpOverHttp } from '../helpers/mcp-client.js';

describe('listings', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  // Multi-byte characters, so that bytes and characters differ.
  const prompt = 'é'.repeat(20_000);
  const expected = `echo(fake-model): ${prompt}`;
  let id: string;

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }] });
    client = api(koubou.url);
    const done = await client.delegate({ prompt, sync: true });
    assert.equal(done.body.status, 'completed');
    id = done.body.task_id;
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('GET /tasks gives the first 1000 characters and the whole size; the status gives the whole output', async () => {
    const listed = (await client.get('/tasks?limit=5')).body.tasks.find((t: { task_id: string }) => t.task_id === id);
    assert.equal(listed.result.output, expected.slice(0, 1000));
    assert.equal(listed.result.output_bytes, Buffer.byteLength(expected));
    const status = (await client.status(id)).body;
    assert.equal(status.result.output, expected);
    assert.equal(status.result.output_bytes, Buffer.byteLength(expected));
  });

  it('GraphQL tasks gives the excerpt, task(id) the whole output', async () => {
    const res = await client.post('/graphql', { query: `{ tasks(limit: 5) { id output outputBytes } task(id: "${id}") { output outputBytes } }` });
    const listed = res.body.data.tasks.find((t: { id: string }) => t.id === id);
    assert.equal(listed.output, expected.slice(0, 1000));
    assert.equal(listed.outputBytes, Buffer.byteLength(expected));
    assert.equal(res.body.data.task.output, expected);
  });

  it('MCP list_tasks gives the excerpt', async () => {
    const mcp = await mcpOverHttp(koubou.url);
    try {
      const listed = (await mcp.call('list_tasks', { limit: 5 })) as { task_id: string; result: { output: string } }[];
      assert.equal(listed.find((t) => t.task_id === id)!.result.output, expected.slice(0, 1000));
    } finally {
      await mcp.close();
    }
  });
});
