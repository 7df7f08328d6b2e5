/** The GraphQL API at /graphql, end to end: a real coordinator, real HTTP, the fake LLM server. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildClientSchema, getIntrospectionQuery } from 'graphql';
import { graphqlExecutor } from '../../src/graphql/execute.js';
import type { GraphqlCore } from '../../src/graphql/schema.js';
import { createLogger } from '../../src/logger.js';
import { api, type ApiResponse } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { ollamaAnswer } from '../helpers/wire.js';

const TASK_FIELDS = 'id status type priority prompt output error errorCode workerId attempts createdAt updatedAt queuePosition';

type Client = ReturnType<typeof api>;

function gqlClient(client: Client) {
  return (query: string, variables?: Record<string, unknown>): Promise<ApiResponse> =>
    client.post('/graphql', { query, ...(variables ? { variables } : {}) });
}

/** The one error of a response, with its code; fails when the response has none or several. */
function onlyError(res: ApiResponse): { message: string; extensions: { code: string; field?: string }; path?: string[] } {
  assert.ok(Array.isArray(res.body.errors), `expected errors in ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errors.length, 1, JSON.stringify(res.body.errors));
  const err = res.body.errors[0];
  assert.doesNotMatch(JSON.stringify(res.body), /stack|\.js:\d+/, 'no stack traces or source locations');
  return err;
}

describe('graphql', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: Client;
  let gql: ReturnType<typeof gqlClient>;
  const posts = (tag: string) => fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes(tag));

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 2, max_workers: 2 }] });
    client = api(koubou.url);
    gql = gqlClient(client);
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  async function submit(prompt: string, extra: { type?: string; priority?: number } = {}) {
    const res = await gql(`mutation($p: String!, $t: String, $pr: Int) { submitTask(prompt: $p, type: $t, priority: $pr) { ${TASK_FIELDS} } }`, {
      p: prompt,
      t: extra.type,
      pr: extra.priority,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    return res.body.data.submitTask;
  }

  async function task(id: string) {
    const res = await gql(`query($id: ID!) { task(id: $id) { ${TASK_FIELDS} } }`, { id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.task;
  }

  async function until(id: string, status: string, timeoutMs = 5000) {
    let last: any;
    await eventually(async () => (last = await task(id))?.status === status, timeoutMs);
    return last;
  }

  async function systemStatus() {
    const res = await gql('{ systemStatus { activeWorkers pendingTasks completedTasks failedTasks inProgressTasks status } }');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data.systemStatus;
  }

  it('submitTask queues a task that task(id) shows completed with its output', async () => {
    const tag = randomUUID();
    const submitted = await submit(`Write a haiku ${tag}`, { type: 'documentation', priority: 7 });
    assert.match(submitted.id, /\S/);
    assert.ok(['pending', 'in_progress', 'completed'].includes(submitted.status), submitted.status);
    assert.equal(submitted.type, 'documentation');
    assert.equal(submitted.priority, 7);
    assert.equal(submitted.prompt, `Write a haiku ${tag}`);
    assert.ok(!Number.isNaN(Date.parse(submitted.createdAt)), submitted.createdAt);

    const done = await until(submitted.id, 'completed');
    assert.match(done.output, new RegExp(`^echo\\(fake-model\\): .*${tag}`));
    assert.equal(done.error, null);
    assert.equal(done.errorCode, null);
    assert.equal(done.attempts, 1);
    assert.match(done.workerId, /\S/);
    assert.equal(done.queuePosition, null, 'only pending tasks have a queue position');
    assert.ok(Date.parse(done.updatedAt) >= Date.parse(done.createdAt));
    // The REST API sees the same task.
    const rest = await client.status(submitted.id);
    assert.equal(rest.body.status, 'completed');
    assert.equal(rest.body.result.output, done.output);
  });

  it('task(id).result is REST\'s result: how the answer ended, and the reasoning when asked for', async () => {
    fake.script([{ chunks: ollamaAnswer({ model: 'served:1b', thinking: 'hmm', content: 'partial', doneReason: 'length', promptTokens: 3, evalTokens: 7 }) }]);
    const res = await gql('mutation($p: String!) { submitTask(prompt: $p, includeReasoning: true) { id result } }', { p: `cut ${randomUUID()}` });
    const id = res.body.data.submitTask.id as string;
    assert.equal(res.body.data.submitTask.result, null, 'no result before the task ends');
    const fields = 'status result';
    let task: any;
    await eventually(async () => {
      task = (await gql('query($id: ID!) { task(id: $id) { ' + fields + ' } }', { id })).body.data.task;
      return task.status === 'completed';
    });
    assert.deepEqual(task.result, {
      success: true,
      output: 'partial',
      output_bytes: 7,
      error: null,
      error_code: null,
      finish_reason: 'length',
      truncated: true,
      model: 'served:1b',
      usage: { prompt_tokens: 3, completion_tokens: 7 },
      reasoning: 'hmm',
    });
    assert.deepEqual(task.result, (await client.status(id)).body.result, 'the same as REST');
  });

  it('systemStatus counts move as tasks complete, fail and run', async () => {
    const before = await systemStatus();
    assert.equal(before.status, 'ok');
    assert.equal(before.activeWorkers, 2);

    const ok = await submit(`counted ${randomUUID()}`);
    const bad = await submit(`[[mode:error400]] counted ${randomUUID()}`);
    await until(ok.id, 'completed');
    await until(bad.id, 'failed');
    const hanging = await submit(`[[mode:hang]] counted ${randomUUID()}`);
    await until(hanging.id, 'in_progress');

    const during = await systemStatus();
    assert.equal(during.completedTasks, before.completedTasks + 1);
    assert.equal(during.failedTasks, before.failedTasks + 1);
    assert.equal(during.inProgressTasks, before.inProgressTasks + 1);
    assert.equal(during.pendingTasks, 0);

    await gql('mutation($id: ID!) { cancelTask(id: $id) { status } }', { id: hanging.id });
    await eventually(async () => (await systemStatus()).inProgressTasks === before.inProgressTasks);
  });

  it('a task waiting for a worker has its queuePosition (priority first) and counts as pending', async () => {
    const blockers = [await submit(`[[mode:hang]] blocker ${randomUUID()}`), await submit(`[[mode:hang]] blocker ${randomUUID()}`)];
    for (const b of blockers) await until(b.id, 'in_progress');
    const low = await submit(`waits low ${randomUUID()}`, { priority: 3 });
    const high = await submit(`waits high ${randomUUID()}`, { priority: 8 });
    await eventually(async () => (await task(high.id)).queuePosition === 1);
    assert.equal((await task(low.id)).queuePosition, 2);
    const status = await systemStatus();
    assert.equal(status.pendingTasks, 2);
    assert.equal(status.inProgressTasks, 2);
    const pending = (await gql('{ tasks(status: pending) { id queuePosition } }')).body.data.tasks;
    assert.deepEqual(pending, [
      { id: high.id, queuePosition: 1 },
      { id: low.id, queuePosition: 2 },
    ]);
    for (const t of [low, high, ...blockers]) {
      const res = await gql('mutation($id: ID!) { cancelTask(id: $id) { status queuePosition } }', { id: t.id });
      assert.deepEqual(res.body.data.cancelTask, { status: 'cancelled', queuePosition: null });
    }
    await eventually(async () => (await systemStatus()).pendingTasks === 0 && (await systemStatus()).inProgressTasks === 0);
  });

  it('tasks(status:, limit:) filters by state and caps the count, newest first', async () => {
    const failed = await submit(`[[mode:error400]] listed ${randomUUID()}`);
    const a = await submit(`listed a ${randomUUID()}`);
    const b = await submit(`listed b ${randomUUID()}`);
    await until(failed.id, 'failed');
    await until(a.id, 'completed');
    await until(b.id, 'completed');

    const completed = await gql('{ tasks(status: completed, limit: 2) { id status } }');
    assert.equal(completed.status, 200);
    assert.deepEqual(completed.body.data.tasks, [
      { id: b.id, status: 'completed' },
      { id: a.id, status: 'completed' },
    ]);

    const failures = (await gql('{ tasks(status: failed) { id status errorCode } }')).body.data.tasks;
    assert.ok(failures.length >= 1);
    assert.ok(failures.every((t: { status: string }) => t.status === 'failed'));
    assert.equal(failures[0].id, failed.id);
    assert.equal(failures[0].errorCode, 'backend_http_error');

    const all = (await gql('{ tasks { id } }')).body.data.tasks;
    assert.ok(all.some((t: { id: string }) => t.id === failed.id) && all.some((t: { id: string }) => t.id === a.id));

    const badLimit = await gql('{ tasks(limit: 0) { id } }');
    assert.equal(badLimit.status, 200);
    assert.equal(badLimit.body.data, null);
    const err = onlyError(badLimit);
    assert.equal(err.extensions.code, 'invalid_request');
    assert.equal(err.extensions.field, 'limit');

    const badStatus = await gql('{ tasks(status: done) { id } }');
    assert.equal(badStatus.status, 400, 'an unknown enum value is a document error');
    assert.equal(onlyError(badStatus).extensions.code, 'invalid_request');
  });

  it('workers lists the pool', async () => {
    const res = await gql('{ workers { id backend model location status currentTask lastHeartbeat completed failed restarts } }');
    assert.equal(res.status, 200);
    const workers = res.body.data.workers;
    assert.equal(workers.length, 2);
    assert.equal(new Set(workers.map((w: { id: string }) => w.id)).size, 2);
    for (const w of workers) {
      assert.equal(w.backend, 'b0');
      assert.equal(w.model, 'fake-model');
      assert.equal(w.location, 'local');
      assert.match(w.status, /\S/);
      assert.ok(w.lastHeartbeat !== null && !Number.isNaN(Date.parse(w.lastHeartbeat)), String(w.lastHeartbeat));
      assert.equal(w.restarts, 0);
    }
    const completed = workers.reduce((sum: number, w: { completed: number }) => sum + w.completed, 0);
    assert.ok(completed >= 1, 'the tasks completed so far are counted');
    const rest = (await client.get('/workers')).body.workers.map((w: { worker_id: string }) => w.worker_id).sort();
    assert.deepEqual(workers.map((w: { id: string }) => w.id).sort(), rest);
  });

  it('cancelTask cancels a running task and aborts its backend request; errors keep their REST codes', async () => {
    const tag = randomUUID();
    const hanging = await submit(`[[mode:hang]] ${tag}`);
    const running = await until(hanging.id, 'in_progress');
    assert.match(running.workerId, /\S/);
    await eventually(() => posts(tag).length === 1);

    const res = await gql('mutation($id: ID!) { cancelTask(id: $id) { id status } }', { id: hanging.id });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data.cancelTask, { id: hanging.id, status: 'cancelled' });
    await eventually(() => posts(tag)[0]!.aborted, 2000);
    assert.equal((await task(hanging.id)).status, 'cancelled');

    const again = await gql('mutation($id: ID!) { cancelTask(id: $id) { status } }', { id: hanging.id });
    assert.equal(again.body.data.cancelTask.status, 'cancelled', 'cancelling twice is fine');

    const unknown = await gql('mutation { cancelTask(id: "nope") { id } }');
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.data, null);
    const err = onlyError(unknown);
    assert.equal(err.extensions.code, 'task_not_found');
    assert.deepEqual(err.path, ['cancelTask']);

    const done = await submit(`finish ${randomUUID()}`);
    await until(done.id, 'completed');
    const finished = await gql('mutation($id: ID!) { cancelTask(id: $id) { id } }', { id: done.id });
    assert.equal(onlyError(finished).extensions.code, 'task_already_finished');
  });

  it('retryTask submits a failed task again as a new task that runs', async () => {
    const tag = randomUUID();
    const failed = await submit(`[[mode:error400]] ${tag}`, { type: 'analysis', priority: 3 });
    const ended = await until(failed.id, 'failed');
    assert.equal(ended.errorCode, 'backend_http_error');
    assert.equal(posts(tag).length, 1);

    const res = await gql(`mutation($id: ID!) { retryTask(id: $id) { ${TASK_FIELDS} } }`, { id: failed.id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const retried = res.body.data.retryTask;
    assert.notEqual(retried.id, failed.id);
    assert.equal(retried.prompt, `[[mode:error400]] ${tag}`);
    assert.equal(retried.type, 'analysis');
    assert.equal(retried.priority, 3);
    assert.equal(retried.attempts, 0);
    // It ran: the backend saw the prompt a second time, and the new task ended on its own account.
    const rerun = await until(retried.id, 'failed');
    assert.equal(rerun.attempts, 1);
    assert.equal(posts(tag).length, 2);
    assert.equal((await task(failed.id)).status, 'failed', 'the original is left as it was');
  });

  it('retryTask on a failed task whose failure has passed completes the new task', async () => {
    const tag = randomUUID();
    fake.script(['error400']);
    const failed = await submit(`flaky ${tag}`);
    await until(failed.id, 'failed');
    const retried = (await gql('mutation($id: ID!) { retryTask(id: $id) { id status } }', { id: failed.id })).body.data.retryTask;
    assert.notEqual(retried.id, failed.id);
    const done = await until(retried.id, 'completed');
    assert.match(done.output, new RegExp(tag));
  });

  it('retryTask retries a cancelled task, refuses a completed or running one, and an unknown id is task_not_found', async () => {
    const done = await submit(`done ${randomUUID()}`);
    await until(done.id, 'completed');
    const completed = await gql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id: done.id });
    assert.equal(completed.status, 200);
    assert.equal(completed.body.data, null);
    const err = onlyError(completed);
    assert.equal(err.extensions.code, 'task_not_retryable');
    assert.match(err.message, /completed/);

    const hanging = await submit(`[[mode:hang]] ${randomUUID()}`);
    await until(hanging.id, 'in_progress');
    const running = await gql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id: hanging.id });
    assert.equal(onlyError(running).extensions.code, 'task_not_retryable');
    await gql('mutation($id: ID!) { cancelTask(id: $id) { id } }', { id: hanging.id });
    const fromCancelled = await gql('mutation($id: ID!) { retryTask(id: $id) { id status prompt } }', { id: hanging.id });
    assert.equal(fromCancelled.body.errors, undefined, JSON.stringify(fromCancelled.body));
    assert.notEqual(fromCancelled.body.data.retryTask.id, hanging.id);
    await until(fromCancelled.body.data.retryTask.id, 'in_progress');
    await gql('mutation($id: ID!) { cancelTask(id: $id) { id } }', { id: fromCancelled.body.data.retryTask.id });

    const unknown = await gql('mutation { retryTask(id: "nope") { id } }');
    assert.equal(onlyError(unknown).extensions.code, 'task_not_found');
  });

  it('submitTask validates like POST /task/delegate: invalid_request naming the field, nothing queued', async () => {
    const before = (await gql('{ tasks(limit: 1000) { id } }')).body.data.tasks.length;
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ p: 'too urgent', pr: 11 }, 'priority'],
      [{ p: 'too lazy', pr: 0 }, 'priority'],
      [{ p: '   ' }, 'prompt'],
      [{ p: 'what type?', t: 'poetry' }, 'type'],
    ];
    for (const [variables, field] of cases) {
      const res = await gql('mutation($p: String!, $t: String, $pr: Int) { submitTask(prompt: $p, type: $t, priority: $pr) { id } }', variables);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.data, null);
      const err = onlyError(res);
      assert.equal(err.extensions.code, 'invalid_request', JSON.stringify(variables));
      assert.equal(err.extensions.field, field, JSON.stringify(variables));
    }
    const after = (await gql('{ tasks(limit: 1000) { id } }')).body.data.tasks.length;
    assert.equal(after, before);
  });

  it('updateTaskPriority moves a pending task ahead; only a pending task can change', async () => {
    const blockers = [await submit(`[[mode:hang]] blocker ${randomUUID()}`), await submit(`[[mode:hang]] blocker ${randomUUID()}`)];
    for (const b of blockers) await until(b.id, 'in_progress');
    const waiting: { id: string }[] = [];
    for (let i = 0; i < 3; i++) waiting.push(await submit(`waits ${i} ${randomUUID()}`));
    await eventually(async () => (await task(waiting[2]!.id)).queuePosition === 3);
    const res = await gql('mutation($id: ID!) { updateTaskPriority(id: $id, priority: 9) { id priority queuePosition } }', { id: waiting[2]!.id });
    assert.deepEqual(res.body.data.updateTaskPriority, { id: waiting[2]!.id, priority: 9, queuePosition: 1 });
    assert.equal((await task(waiting[0]!.id)).queuePosition, 2, 'the others keep their order behind it');
    assert.equal(onlyError(await gql(`mutation { updateTaskPriority(id: "${blockers[0]!.id}", priority: 9) { id } }`)).extensions.code, 'task_not_pending');
    assert.equal(onlyError(await gql('mutation { updateTaskPriority(id: "nope", priority: 9) { id } }')).extensions.code, 'task_not_found');
    assert.equal(onlyError(await gql(`mutation { updateTaskPriority(id: "${waiting[0]!.id}", priority: 11) { id } }`)).extensions.code, 'invalid_request');
    for (const t of [...waiting, ...blockers]) await gql('mutation($id: ID!) { cancelTask(id: $id) { status } }', { id: t.id });
  });

  it('retryTask carries the attached files over, and retrying twice gives the same new task', async () => {
    writeFileSync(join(koubou.dir, 'notes.txt'), 'file content for the retry');
    const failed = (await client.delegate({ prompt: `[[mode:error400]] with a file ${randomUUID()}`, files: ['notes.txt'], sync: true })).body.task_id;
    const first = (await gql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id: failed })).body.data.retryTask.id;
    const second = (await gql('mutation($id: ID!) { retryTask(id: $id) { id } }', { id: failed })).body.data.retryTask.id;
    assert.equal(second, first);
    await until(first, 'failed');
    const sent = fake.requests.filter((r) => r.method === 'POST' && r.prompt?.includes('file content for the retry'));
    assert.equal(sent.length, 2, 'the original and its one retry both carried the file');
  });

  it('task(id) is null for an unknown id', async () => {
    const res = await gql('{ task(id: "nope") { id status } }');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { data: { task: null } });
  });

  it('a document that cannot run answers 400 with errors and no data', async () => {
    const malformed = await gql('{ tasks { id ');
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.data, undefined);
    const syntax = onlyError(malformed);
    assert.match(syntax.message, /Syntax Error/);
    assert.equal(syntax.extensions.code, 'invalid_request');

    const unknownField = await gql('{ tasks { id secret } }');
    assert.equal(unknownField.status, 400);
    assert.match(onlyError(unknownField).message, /secret/);

    const badVariable = await gql('query($l: Int) { tasks(limit: $l) { id } }', { l: 'many' });
    assert.equal(badVariable.status, 400);
    assert.equal(onlyError(badVariable).extensions.code, 'invalid_request');

    const notJson = await client.call('POST', '/graphql', undefined, { raw: '{"query": ' });
    assert.equal(notJson.status, 400);
    assert.equal(onlyError(notJson).extensions.code, 'invalid_json');

    const noQuery = await client.post('/graphql', { variables: {} });
    assert.equal(noQuery.status, 400);
    assert.equal(onlyError(noQuery).extensions.field, 'query');

    const huge = await gql(`{ workers { id } } # ${'x'.repeat(21 * 1024)}`);
    assert.equal(huge.status, 400);
    assert.match(onlyError(huge).message, /20480-byte limit/);

    let deep = 'name';
    for (let i = 0; i < 25; i++) deep = `ofType { ${deep} }`;
    const tooDeep = await gql(`{ __type(name: "Task") { ${deep} } }`);
    assert.equal(tooDeep.status, 400);
    assert.match(onlyError(tooDeep).message, /levels deep/);

    const aliases = Array.from({ length: 600 }, (_, i) => `w${i}: workers { id }`).join(' ');
    const tooWide = await gql(`{ ${aliases} }`);
    assert.equal(tooWide.status, 400);
    assert.match(onlyError(tooWide).message, /more than 500 fields/);

    let bomb = '{ ...F20 } fragment F0 on Query { workers { id } } ';
    for (let i = 1; i <= 20; i++) bomb += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} } `;
    const fragmentBomb = await gql(bomb);
    assert.equal(fragmentBomb.status, 400, 'fragments are counted expanded');
    assert.match(onlyError(fragmentBomb).message, /more than 500 fields/);

    // Many aliased lists: each is small, together they would build and hold every task many times over.
    const manyLists = await gql(`{ ${Array.from({ length: 100 }, (_, i) => `t${i}: tasks(limit: 1000) { id output result }`).join(' ')} }`);
    const listErrors = manyLists.body.errors as { message: string }[];
    assert.ok(listErrors.length > 0 && listErrors.every((e) => /more than 1000 tasks across its fields/.test(e.message)), JSON.stringify(listErrors).slice(0, 500));
    assert.equal(manyLists.body.data ?? null, null);
    const withinBudget = await gql(`{ a: tasks(limit: 500) { id } b: tasks(limit: 500) { id } }`);
    assert.equal(withinBudget.status, 200, JSON.stringify(withinBudget.body.errors));

    // What GraphiQL and code generators send stays within the limits.
    const introspection = await gql(getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }));
    assert.equal(introspection.status, 200, JSON.stringify(introspection.body.errors));
    const served = buildClientSchema(introspection.body.data);
    assert.deepEqual(Object.keys(served.getMutationType()!.getFields()), ['submitTask', 'cancelTask', 'retryTask', 'updateTaskPriority']);
    assert.deepEqual(Object.keys(served.getQueryType()!.getFields()), ['systemStatus', 'task', 'tasks', 'workers']);
  });

  it('GET runs queries but refuses mutations', async () => {
    const query = encodeURIComponent('query($id: ID!) { task(id: $id) { id } workers { id } }');
    const variables = encodeURIComponent(JSON.stringify({ id: 'nope' }));
    const res = await client.get(`/graphql?query=${query}&variables=${variables}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data.task, null);
    assert.equal(res.body.data.workers.length, 2);

    const tag = randomUUID();
    const mutation = encodeURIComponent(`mutation { submitTask(prompt: "via GET ${tag}") { id } }`);
    const refused = await client.get(`/graphql?query=${mutation}`);
    assert.equal(refused.status, 405);
    assert.equal(refused.headers.get('allow'), 'POST');
    assert.match(onlyError(refused).message, /POST/);
    const listed = (await gql('{ tasks(limit: 1000) { prompt } }')).body.data.tasks;
    assert.ok(!listed.some((t: { prompt: string }) => t.prompt.includes(tag)), 'the mutation did not run');
  });
});

describe('graphql auth', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { server: { api_token: 't' } } });
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  it('needs the bearer token like every REST route', async () => {
    const tag = randomUUID();
    const anonymous = await api(koubou.url).post('/graphql', { query: `mutation { submitTask(prompt: "no token ${tag}") { id } }` });
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.error.code, 'unauthorized');
    const wrong = await api(koubou.url, 'wrong').get(`/graphql?query=${encodeURIComponent('{ workers { id } }')}`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error.code, 'unauthorized');

    const authed = gqlClient(api(koubou.url, 't'));
    const tasks = await authed('{ tasks { prompt } }');
    assert.equal(tasks.status, 200);
    assert.ok(!tasks.body.data.tasks.some((t: { prompt: string }) => t.prompt.includes(tag)), 'the refused mutation did not run');
    const status = await authed('{ systemStatus { activeWorkers status } }');
    assert.equal(status.body.data.systemStatus.activeWorkers, 1);
  });
});

describe('graphql unexpected errors', () => {
  it('are logged with their stack but answered as internal_error without details', async () => {
    const logged: string[] = [];
    const log = createLogger('error', (line) => logged.push(line));
    const broken = {
      workers: async () => {
        throw new Error('disk on fire at /var/secret/path');
      },
    } as unknown as GraphqlCore;
    const run = graphqlExecutor(broken, log);
    const answer = await run({ query: '{ workers { id } }', variables: undefined, operationName: undefined }, 'POST');
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      data: null,
      errors: [
        {
          message: 'internal error; see the server log',
          locations: [{ line: 1, column: 3 }],
          path: ['workers'],
          extensions: { code: 'internal_error' },
        },
      ],
    });
    assert.equal(logged.length, 1);
    const entry = JSON.parse(logged[0]!);
    assert.equal(entry.error, 'disk on fire at /var/secret/path');
    assert.match(entry.stack, /disk on fire/);
  });
});
