/** The MCP server, driven by the SDK's own client over Streamable HTTP (/mcp) and over stdio (`koubou mcp`). */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { mcpOverHttp, mcpOverStdio, type McpTestClient } from '../helpers/mcp-client.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { ollamaAnswer } from '../helpers/wire.js';

describe('MCP server', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm({ chunkDelayMs: 20 });
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 2, max_workers: 2 }], extra: { server: { api_token: 'mcp-token' } } });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  function suite(name: string, open: () => Promise<McpTestClient>) {
    describe(name, () => {
      let mcp: McpTestClient;
      before(async () => {
        mcp = await open();
      });
      after(async () => {
        await mcp.close();
      });

      it('lists at most five tools, each with a description and an input schema', async () => {
        const { tools } = await mcp.client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), ['cancel_task', 'delegate_task', 'get_task', 'list_tasks', 'pool_status']);
        for (const t of tools) {
          assert.ok(t.description && t.description.length < 200, t.name);
          assert.equal(t.inputSchema.type, 'object');
        }
      });

      it('delegate_task without a wait returns the task id at once; with a wait, the result', async () => {
        const queued = await mcp.call('delegate_task', { prompt: 'no wait [[delay:300]]' });
        assert.match(queued.task_id, /^[0-9a-f-]{36}$/);
        assert.ok(['pending', 'in_progress'].includes(queued.status));
        const done = await mcp.call('delegate_task', { prompt: 'with wait', type: 'documentation', wait_seconds: 20 });
        assert.equal(done.status, 'completed');
        assert.equal(done.result.output, 'echo(fake-model): with wait');
        assert.equal(done.result.finish_reason, 'stop');
        assert.equal(done.result.truncated, false);
        assert.equal(done.result.model, 'fake-model');
        assert.equal(typeof done.result.usage.completion_tokens, 'number');
      });

      it('delegate_task with include_reasoning returns the reasoning apart from the output', async () => {
        fake.script([{ chunks: ollamaAnswer({ thinking: 'First, think.', content: 'Then answer.', doneReason: 'stop', promptTokens: 4, evalTokens: 6 }) }]);
        const done = await mcp.call('delegate_task', { prompt: 'think first', include_reasoning: true, wait_seconds: 20 });
        assert.equal(done.result.output, 'Then answer.');
        assert.equal(done.result.reasoning, 'First, think.');
        assert.deepEqual(done.result.usage, { prompt_tokens: 4, completion_tokens: 6 });
      });

      it('get_task long-polls and answers as soon as the task ends, not at the end of the wait', async () => {
        const { task_id } = await mcp.call('delegate_task', { prompt: 'soon [[delay:500]]' });
        const t0 = Date.now();
        const view = await mcp.call('get_task', { task_id, wait_seconds: 30 });
        assert.equal(view.status, 'completed');
        assert.ok(Date.now() - t0 < 5000, `answered after ${Date.now() - t0} ms`);
      });

      it('cancel_task stops a running task; list_tasks and pool_status answer', async () => {
        const tag = randomUUID();
        const { task_id } = await mcp.call('delegate_task', { prompt: `[[mode:hang]] ${tag}` });
        await eventually(() => posts(tag).length === 1);
        const cancelled = await mcp.call('cancel_task', { task_id });
        assert.equal(cancelled.status, 'cancelled');
        await eventually(() => posts(tag)[0]!.aborted);
        const list = await mcp.call('list_tasks', { status: 'cancelled', limit: 5 });
        assert.ok(list.some((t: { task_id: string }) => t.task_id === task_id));
        const pool = await mcp.call('pool_status');
        assert.equal(pool.workers.length, 2);
        assert.ok(pool.health.queue);
      });

      it('the same idempotency_key returns the same task', async () => {
        const key = randomUUID();
        const tag = randomUUID();
        const first = await mcp.call('delegate_task', { prompt: `once ${tag}`, idempotency_key: key });
        const second = await mcp.call('delegate_task', { prompt: `once ${tag}`, idempotency_key: key, wait_seconds: 10 });
        assert.equal(second.task_id, first.task_id);
        assert.equal(second.status, 'completed');
        assert.equal(posts(tag).length, 1);
      });

      it('bad arguments and unknown tasks are tool errors with a stable code', async () => {
        await assert.rejects(mcp.call('get_task', { task_id: 'nope' }), /task_not_found/);
        await assert.rejects(mcp.call('delegate_task', { prompt: 'x', files: ['../../etc/passwd'] }), /invalid_request: files\[0\]/);
        await assert.rejects(mcp.call('delegate_task', { prompt: 'x', priority: 11 }), /priority/);
      });
    });
  }

  suite('over Streamable HTTP at /mcp', () => mcpOverHttp(koubou.url, 'mcp-token'));
  suite('over stdio (koubou mcp, talking to the running coordinator)', () => mcpOverStdio({ KOUBOU_URL: koubou.url, KOUBOU_API_TOKEN: 'mcp-token' }));

  it('sends progress notifications while a waited task streams its output (HTTP)', async () => {
    const mcp = await mcpOverHttp(koubou.url, 'mcp-token');
    try {
      const messages: string[] = [];
      const done = await mcp.call('delegate_task', { prompt: 'stream me please now', wait_seconds: 20 }, (m) => messages.push(m));
      assert.equal(done.status, 'completed');
      assert.ok(messages.length >= 3, `got ${messages.length} progress notifications: ${JSON.stringify(messages)}`);
      assert.ok(messages.some((m) => m.includes('stream me')), 'the output streams in');
    } finally {
      await mcp.close();
    }
  });

  it('sends progress notifications as output streams in when koubou mcp forwards to a running coordinator', async () => {
    const mcp = await mcpOverStdio({ KOUBOU_URL: koubou.url, KOUBOU_API_TOKEN: 'mcp-token' });
    try {
      const messages: string[] = [];
      const done = await mcp.call('delegate_task', { prompt: 'stream me through the forwarder word by word [[chunk-delay:150]]', wait_seconds: 20 }, (m) => messages.push(m));
      assert.equal(done.status, 'completed');
      assert.ok(messages.length >= 3, `got ${messages.length} progress notifications: ${JSON.stringify(messages)}`);
      assert.ok(messages.some((m) => m.includes('stream me')), `the output streams in: ${JSON.stringify(messages)}`);
    } finally {
      await mcp.close();
    }
  });

  it('koubou mcp starts an embedded coordinator when none answers, on the configured store', async () => {
    const dir = tempDir();
    try {
      const { file, config } = writeTestConfig({ dir: dir.path, backends: [{ url: fake.url }] });
      const mcp = await mcpOverStdio({ KOUBOU_URL: `http://127.0.0.1:${await closedPort()}`, KOUBOU_CONFIG: file }, dir.path);
      try {
        const done = await mcp.call('delegate_task', { prompt: 'embedded', wait_seconds: 20 });
        assert.equal(done.status, 'completed');
        assert.equal(done.result.output, 'echo(fake-model): embedded');
      } finally {
        await mcp.close();
      }
      assert.ok(existsSync(config.store.path), 'the task went to the configured store');
    } finally {
      dir.remove();
    }
  });

  it('/mcp needs the API token like every other route', async () => {
    await assert.rejects(mcpOverHttp(koubou.url), /401|nauthorized/);
  });
});
