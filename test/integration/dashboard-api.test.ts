/**
 * The dashboard's server side: its files (types, caching, served without the token, no other file reachable by any
 * path), the task state table it gets from the server (and keeps no copy of), GET /api/dashboard (open tasks by priority, workers with speed, throughput) and the task stream (a snapshot,
 * then the rest, with nothing lost or doubled when joined midway).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { openSse, type SseClient } from '../helpers/sse.js';
import { tempDir } from '../helpers/temp.js';
import { FINAL_STATUSES, moveOf, STATE_EVENT_KINDS, statusAfter, TASK_STATUSES } from '../../src/tasks/states.js';

/** Compiled, this file runs from dist/test/integration/; the dashboard's files are in src/dashboard/assets/. */
const ASSETS = fileURLToPath(new URL('../../../src/dashboard/assets/', import.meta.url));

const TOKEN = 'dash-api-token';

/** A GET with the path sent exactly as written (fetch would normalise `..` away). */
function rawGet(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: hostname, port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard routes', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const opened: SseClient[] = [];

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }], extra: { server: { api_token: TOKEN } } });
    client = api(koubou.url, TOKEN);
  });
  after(async () => {
    for (const sse of opened) sse.close();
    await koubou.close();
    await fake.close();
  });

  it('serves its files without the token, with their types, an ETag and no-cache', async () => {
    const files: [string, RegExp][] = [
      ['/', /^text\/html; charset=utf-8$/],
      ['/dashboard/app.js', /^text\/javascript; charset=utf-8$/],
      ['/dashboard/style.css', /^text\/css; charset=utf-8$/],
      ['/dashboard/favicon.svg', /^image\/svg\+xml$/],
    ];
    for (const [path, type] of files) {
      const res = await fetch(`${koubou.url}${path}`);
      assert.equal(res.status, 200, path);
      assert.match(res.headers.get('content-type') ?? '', type, path);
      assert.equal(res.headers.get('cache-control'), 'no-cache', path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      const etag = res.headers.get('etag');
      assert.ok(etag, path);
      assert.ok((await res.text()).length > 0, path);
      const again = await fetch(`${koubou.url}${path}`, { headers: { 'if-none-match': etag } });
      assert.equal(again.status, 304, path);
    }
    const page = await fetch(`${koubou.url}/`);
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });

  it("gives the page the server's task state table, and the page's files keep no list of states of their own", async () => {
    // The page's state module, run as the browser gets it: the server's state-table.js beside task-states.js.
    const dir = tempDir();
    try {
      for (const name of ['state-table.js', 'task-states.js']) {
        const res = await fetch(`${koubou.url}/dashboard/${name}`);
        assert.equal(res.status, 200, name);
        assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/, name);
        writeFileSync(join(dir.path, name), await res.text());
      }
      const page = await import(pathToFileURL(join(dir.path, 'task-states.js')).href);
      assert.deepEqual(page.STATES.map(([s]: [string]) => s), TASK_STATUSES);
      assert.equal(page.STATE_KINDS, STATE_EVENT_KINDS.join(','));
      for (const kind of [...STATE_EVENT_KINDS, 'progress']) {
        assert.equal(page.statusAfter(kind) ?? null, statusAfter(kind), kind);
        for (const from of [undefined, ...TASK_STATUSES]) assert.deepEqual(page.moveOf({ kind, from }), moveOf(kind, from), `${kind} from ${from}`);
      }
    } finally {
      dir.remove();
    }
    // A copy of the table lists the final states together (an array, a set, a map, a menu); code may act on one or two.
    const quoted = (s: string) => `['"\`]${s}['"\`]`;
    const listed = new RegExp([...FINAL_STATUSES].map(quoted).join('[^;(){}]{0,80}?'));
    for (const name of readdirSync(ASSETS).filter((n) => /\.(js|html)$/.test(n))) {
      assert.doesNotMatch(readFileSync(join(ASSETS, name), 'utf8'), listed, `${name} lists the final states: it keeps its own copy of the table`);
    }
  });

  it('never serves another file, whatever the path', async () => {
    const paths = [
      '/dashboard/../package.json',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
      '/dashboard/..\\..\\package.json',
      '/dashboard/',
      '/dashboard/index.html',
      '/dashboard/app.js/../../package.json',
      '/src/dashboard/assets/app.js',
      '/package.json',
    ];
    for (const path of paths) {
      for (const headers of [{}, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
        const res = await rawGet(koubou.url, path, headers);
        // 400: Node refuses a backslash in a request line outright.
        assert.ok([400, 401, 404].includes(res.status), `${path}: ${res.status}`);
        assert.ok(!res.body.includes('"devDependencies"') && !res.body.includes('import '), `${path} leaked a file`);
      }
    }
  });

  it('GET /api/dashboard: open tasks by priority, workers with their speed, finished tasks per bucket', async () => {
    assert.equal((await fetch(`${koubou.url}/api/dashboard`)).status, 401);
    // A hanging task holds the only worker; two more wait behind it.
    const held = (await client.delegate({ prompt: 'hold [[mode:hang]]', priority: 5 })).body.task_id;
    await eventually(async () => (await client.status(held)).body.status === 'in_progress');
    const high = (await client.delegate({ prompt: 'high', priority: 8 })).body.task_id;
    const low = (await client.delegate({ prompt: 'low', priority: 2 })).body.task_id;

    const open = (await client.get('/api/dashboard')).body;
    assert.deepEqual(open.queue_by_priority, [
      { priority: 8, pending: 1, in_progress: 0 },
      { priority: 5, pending: 0, in_progress: 1 },
      { priority: 2, pending: 1, in_progress: 0 },
    ]);
    assert.equal(open.health.queue.pending, 2);
    assert.equal(open.health.queue.in_progress, 1);
    assert.deepEqual(Object.keys(open.heartbeat).sort(), ['interval_ms', 'timeout_ms']);
    assert.equal(open.workers.length, 1);
    assert.deepEqual(Object.keys(open.workers[0].speed).sort(), ['chars_per_s', 'chunks_per_s', 'tasks_per_min']);

    for (const id of [low, high, held]) assert.equal((await client.call('DELETE', `/task/${id}`)).status, 200);
    // The read connection sees every commit at once.
    assert.deepEqual((await client.get('/api/dashboard')).body.queue_by_priority, []);
    assert.equal((await client.delegate({ prompt: 'quick one', sync: true })).body.status, 'completed');

    const done = (await client.get('/api/dashboard')).body;
    const sum = (key: string) => done.throughput.buckets.reduce((n: number, b: Record<string, number>) => n + b[key]!, 0);
    assert.equal(done.throughput.bucket_s, 30);
    assert.equal(done.throughput.buckets.length, 30);
    assert.equal(sum('completed'), 1);
    assert.equal(sum('cancelled'), 3);
    assert.ok(Date.parse(done.throughput.since) <= Date.parse(done.now));
    const speed = done.workers[0].speed;
    assert.ok(speed.chars_per_s > 0, JSON.stringify(speed));
    assert.ok(speed.tasks_per_min > 0, JSON.stringify(speed));
    assert.equal(done.workers[0].completed, 1);
  });

  it('the task stream: a snapshot, then the rest; joined midway, no piece of output is lost or doubled', async () => {
    const prompt = 'one two three four five six seven eight nine ten eleven twelve thirteen fourteen [[chunk-delay:60]]';
    const id = (await client.delegate({ prompt, type: 'documentation' })).body.task_id;
    await eventually(async () => ((await client.status(id)).body.partial_output?.length ?? 0) > 10, 10_000);
    const sse = await openSse(`${koubou.url}/api/dashboard/tasks/${id}/stream?access_token=${TOKEN}`);
    opened.push(sse);
    assert.equal(sse.status, 200);
    await eventually(() => sse.messages.some((m) => m.event === 'task' && m.data.kind === 'completed'), 10_000);

    const [first, ...rest] = sse.messages;
    assert.equal(first!.event, 'snapshot');
    const snapshot = first!.data;
    assert.equal(snapshot.task.task_id, id);
    assert.equal(snapshot.task.type, 'documentation');
    assert.equal(snapshot.prompt, prompt);
    assert.equal(snapshot.prompt_length, prompt.length);
    assert.deepEqual(snapshot.history.slice(0, 2).map((e: { kind: string }) => e.kind), ['queued', 'assigned']);
    assert.ok(snapshot.output.text.length > 10, 'joined midway');
    const streamed = rest.filter((m) => m.event === 'task' && m.data.kind === 'progress').map((m) => m.data.chunk).join('');
    assert.equal(snapshot.output.text + streamed, `echo(fake-model): ${prompt}`);
    assert.ok(rest.every((m) => m.event === 'task' && m.data.task_id === id));
  });

  it('the task stream wants the token, in the header or as ?access_token=, and names an unknown task', async () => {
    const id = (await client.delegate({ prompt: 'tiny', sync: true })).body.task_id;
    assert.equal((await openSse(`${koubou.url}/api/dashboard/tasks/${id}/stream`)).status, 401);
    assert.equal((await openSse(`${koubou.url}/api/dashboard/tasks/${id}/stream?access_token=wrong`)).status, 401);
    const withHeader = await openSse(`${koubou.url}/api/dashboard/tasks/${id}/stream`, { authorization: `Bearer ${TOKEN}` });
    opened.push(withHeader);
    assert.equal(withHeader.status, 200);
    await eventually(() => withHeader.messages.some((m) => m.event === 'snapshot'));
    assert.equal(withHeader.messages[0]!.data.task.status, 'completed');
    assert.equal(withHeader.messages[0]!.data.output, null);
    // The query token is for streams only: the rest of the API still wants the header.
    assert.equal((await fetch(`${koubou.url}/api/dashboard?access_token=${TOKEN}`)).status, 401);
    const unknown = await client.get('/api/dashboard/tasks/no-such-task/stream');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'task_not_found');
  });
});
