/**
 * Gateway requests wait in the pool's queue like any task: priority from X-Koubou-Priority, a client that goes away
 * cancels its task (pending: it never starts; running: the backend request is aborted), a full queue answers 503 with
 * Retry-After.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

describe('gateway: queueing and disconnects', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: OpenAI;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));
  const taskStatus = async (id: string) => ((await (await fetch(`${koubou.url}/task/${id}/status`)).json()) as { status: string }).status;
  const pendingCount = async () => ((await (await fetch(`${koubou.url}/tasks?status=pending`)).json()) as { count: number }).count;

  before(async () => {
    fake = await startFakeLlm();
    // One slot, so a hanging request holds the pool and the rest queue behind it.
    koubou = await startTestCoordinator({ backends: [{ type: 'openai', url: fake.url, min_workers: 1, max_workers: 1 }], extra: { queue: { max_pending: 12 } } });
    client = new OpenAI({ baseURL: `${koubou.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  /** A streamed request that gets its first piece and then hangs; returns its abort and task id once it runs. */
  async function hanging(tag: string): Promise<{ abort: AbortController; taskId: string }> {
    const abort = new AbortController();
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: `[[mode:hang]] ${tag}` }] }, { signal: abort.signal })
      .withResponse();
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    // Keep reading in the background so the abort surfaces there and not as an unhandled rejection.
    void (async () => {
      try {
        while (!(await iterator.next()).done);
      } catch {
        // aborted
      }
    })();
    return { abort, taskId: response.headers.get('x-koubou-task-id')! };
  }

  it('a client aborting mid-stream cancels its task: the backend sees the abort within 1 s and the slot serves the next', async () => {
    const tag = randomUUID();
    const { abort, taskId } = await hanging(tag);
    assert.equal(posts(tag).length, 1);
    const t0 = Date.now();
    abort.abort();
    await eventually(() => posts(tag)[0]!.aborted, 1000);
    assert.ok(Date.now() - t0 < 1000, `aborted after ${Date.now() - t0} ms`);
    await eventually(async () => (await taskStatus(taskId)) === 'cancelled');
    const cancelled = (await (await fetch(`${koubou.url}/task/${taskId}/status`)).json()) as { result: { error_code: string; error: string } };
    assert.equal(cancelled.result.error_code, 'client_gone', 'the task says why it was cancelled');
    const next = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'after the abort' }] });
    assert.equal(next.choices[0]!.message.content, 'echo(fake-model): after the abort');
  });

  it('a client that goes away while its request waits leaves a task that never starts', async () => {
    const blockerTag = randomUUID();
    const blocker = await hanging(blockerTag);
    const tag = randomUUID();
    const abort = new AbortController();
    const waiting = client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: tag }] }, { signal: abort.signal }).catch((e: unknown) => e);
    await eventually(async () => (await pendingCount()) === 1);
    abort.abort();
    assert.ok((await waiting) instanceof OpenAI.APIUserAbortError);
    await eventually(async () => (await pendingCount()) === 0);
    blocker.abort.abort();
    await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'after both' }] });
    assert.equal(posts(tag).length, 0, 'the abandoned request never reached the backend');
  });

  it('a request with X-Koubou-Priority: 10 overtakes ten priority-1 requests', async () => {
    const blocker = await hanging(randomUUID());
    const run = randomUUID();
    const ask = (name: string, priority: number) =>
      client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: `${run} ${name}` }] }, { headers: { 'X-Koubou-Priority': String(priority) } });
    const low = Array.from({ length: 10 }, (_, i) => ask(`low-${i}`, 1));
    await eventually(async () => (await pendingCount()) === 10);
    const high = ask('high', 10);
    await eventually(async () => (await pendingCount()) === 11);
    blocker.abort.abort();
    await Promise.all([high, ...low]);
    const order = posts(run).map((r) => r.prompt!.split(' ')[1]);
    assert.equal(order[0], 'high', `backend saw ${order.join(', ')}`);
  });

  it('takes X-Koubou-Priority only as a decimal integer from 1 to 10, quoting what was sent', async () => {
    for (const sent of ['abc', '1e1', '0x9', '10.0', '+5', '0', '11', '']) {
      const error = await client.chat.completions
        .create({ model: 'fake-model', messages: [{ role: 'user', content: 'prioritised' }] }, { headers: { 'X-Koubou-Priority': sent } })
        .catch((err: unknown) => err);
      assert.ok(error instanceof OpenAI.APIError, `${JSON.stringify(sent)}: ${String(error)}`);
      assert.equal(error.status, 400, sent);
      assert.equal(error.param, 'X-Koubou-Priority', sent);
      assert.equal((error.error as { message: string }).message, `X-Koubou-Priority must be an integer from 1 to 10, got ${JSON.stringify(sent)}`);
    }
    assert.equal(posts('prioritised').length, 0);
  });

  it('a full queue answers 503 with Retry-After in OpenAI shape', async () => {
    const blocker = await hanging(randomUUID());
    const abort = new AbortController();
    const queued = Array.from({ length: 12 }, (_, i) =>
      client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: `fill ${i}` }] }, { signal: abort.signal }).catch(() => undefined),
    );
    await eventually(async () => (await pendingCount()) === 12);
    const res = await fetch(`${koubou.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'one too many' }] }),
    });
    assert.equal(res.status, 503);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    const body = (await res.json()) as { error: { code: string; type: string } };
    assert.equal(body.error.code, 'queue_full');
    abort.abort();
    await Promise.all(queued);
    blocker.abort.abort();
    await eventually(async () => (await pendingCount()) === 0);
  });
});
