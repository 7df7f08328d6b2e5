/**
 * The `koubou` command as users run it: a real process per invocation (stdout a pipe, so no progress line), talking to
 * an in-process coordinator backed by the fake LLM; and `start --detach` / `stop` with a real background coordinator.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../../src/cli/daemon.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { closedPort } from '../helpers/ports.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { ollamaAnswer } from '../helpers/wire.js';
import { KOUBOU_CLI } from '../helpers/cli-paths.js';

const CLI = KOUBOU_CLI;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A `koubou ARGS` process while it runs: what it has printed so far, and its end. */
interface Running {
  readonly stdout: string;
  readonly stderr: string;
  done: Promise<Run>;
}

/** Starts `koubou ARGS`; only PATH and `env` reach it. */
function startKoubou(args: string[], env: Record<string, string>, input?: string): Running {
  const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  const printed = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (printed.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (printed.stderr += c.toString()));
  child.stdin.end(input);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, ...printed });
    }),
  );
  return {
    get stdout() {
      return printed.stdout;
    },
    get stderr() {
      return printed.stderr;
    },
    done,
  };
}

/** Runs `koubou ARGS` to its end; only PATH and `env` reach it. */
function koubou(args: string[], env: Record<string, string>, input?: string): Promise<Run> {
  return startKoubou(args, env, input).done;
}

/** A port free right now (listen on 0, close): `start --detach` needs a known port to find the server. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the koubou command against a coordinator', () => {
  let fake: FakeLlm;
  let tc: TestCoordinator;
  let client: ReturnType<typeof api>;
  let env: Record<string, string>;
  const run = (args: string[], input?: string) => koubou(args, env, input);

  before(async () => {
    fake = await startFakeLlm();
    tc = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 2, max_workers: 2 }] });
    client = api(tc.url);
    env = { KOUBOU_URL: tc.url };
  });
  after(async () => {
    await tc.close();
    await fake.close();
  });

  it('submit --wait prints exactly the output and exits 0, with nothing on stderr when not a terminal', async () => {
    const prompt = `hello ${randomUUID()}`;
    const res = await run(['submit', prompt, '--wait']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(res.stdout, `echo(fake-model): ${prompt}\n`);
    assert.equal(res.stderr, '');
  });

  it('submit --wait on an answer cut at the token limit prints it, warns on stderr in one line, and --json says how it ended', async () => {
    const cut = { chunks: ollamaAnswer({ thinking: 'plan', content: 'the first half', doneReason: 'length', promptTokens: 2, evalTokens: 32 }) };
    fake.script([cut]);
    const plain = await run(['submit', `cut ${randomUUID()}`, '--wait']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, 'the first half\n');
    assert.match(plain.stderr, /^koubou: warning: task [0-9a-f-]{36}'s answer was cut short \(finish reason length after 32 tokens\); ask for more with options.max_tokens\n$/);

    fake.script([cut]);
    const asJson = await run(['submit', `cut ${randomUUID()}`, '--include-reasoning', '--wait', '--json']);
    assert.equal(asJson.code, 0, asJson.stderr);
    const { result } = JSON.parse(asJson.stdout);
    assert.deepEqual(result, {
      success: true,
      output: 'the first half',
      output_bytes: 14,
      error: null,
      error_code: null,
      finish_reason: 'length',
      truncated: true,
      model: 'fake-model',
      usage: { prompt_tokens: 2, completion_tokens: 32 },
      reasoning: 'plan',
    });
    assert.equal(asJson.stderr.split('\n').filter(Boolean).length, 1, 'one warning line');
  });

  it('submit reads the prompt from stdin with "-", and sends --file, --type and --priority', async () => {
    writeFileSync(join(tc.dir, 'note.txt'), 'the attached words');
    const prompt = `summarise ${randomUUID()}`;
    const res = await run(['submit', '-', '--file', 'note.txt', '--type', 'analysis', '--priority', '8', '--wait', '--json'], `${prompt}\n`);
    assert.equal(res.code, 0, res.stderr);
    const final = JSON.parse(res.stdout);
    assert.equal(final.status, 'completed');
    assert.equal(final.type, 'analysis');
    assert.equal(final.priority, 8);
    assert.equal(final.result.output, `echo(fake-model): ${prompt}\n\n--- note.txt ---\nthe attached words`);
  });

  it('submit without --wait prints the id, which status --json then reports', async () => {
    const res = await run(['submit', `async ${randomUUID()}`]);
    assert.equal(res.code, 0, res.stderr);
    const id = res.stdout.trim();
    assert.match(id, UUID);
    assert.equal(res.stdout, `${id}\n`);
    const status = await run(['status', id, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const view = JSON.parse(status.stdout);
    assert.equal(view.task_id, id);
    assert.ok(['pending', 'in_progress', 'completed'].includes(view.status), view.status);
    const human = await run(['status', id]);
    assert.match(human.stdout, new RegExp(`^task\\s+${id}$`, 'm'));
  });

  it('status --watch streams the output to stdout, each change to stderr, and ends when the task ends', async () => {
    const prompt = `[[delay:300]] [[chunk-delay:120]] watched as it streams ${randomUUID()}`;
    const id = (await client.delegate({ prompt })).body.task_id as string;
    const res = await run(['status', id, '--watch']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((await client.status(id)).body.status, 'completed', 'the watch ended only once the task had');
    assert.equal(res.stdout, `echo(fake-model): ${prompt}\n`, 'stdout is exactly the output');
    const lines = res.stderr.trimEnd().split('\n');
    assert.match(lines.at(-1)!, /^\d\d:\d\d:\d\d {2}completed \(after [\d.]+s\)$/);
    assert.ok(lines.slice(0, -1).some((l) => /\s(pending|in_progress)\b/.test(l)), `a change before the end:\n${res.stderr}`);
  });

  it('status --watch of a retried task: the new attempt restarts the stream after a marker, the output is printed once', async () => {
    // Both workers are held, so the task waits while the watch starts; then its first attempt is cut off mid-stream.
    const blockers: string[] = [];
    for (const n of [1, 2]) blockers.push((await client.delegate({ prompt: `[[mode:hang]] blocker ${n} ${randomUUID()}` })).body.task_id as string);
    await eventually(async () => (await Promise.all(blockers.map((b) => client.status(b)))).every((r) => r.body.status === 'in_progress'), 5000);
    const prompt = `[[chunk-delay:80]] ${Array.from({ length: 24 }, (_, i) => `word${i}`).join(' ')} ${randomUUID()}`;
    const answer = `echo(fake-model): ${prompt}`;
    const id = (await client.delegate({ prompt })).body.task_id as string;
    const watch = startKoubou(['status', id, '--watch'], env);
    await eventually(() => /\bpending\b/.test(watch.stderr), 10_000);
    fake.script(['truncate']);
    for (const b of blockers) await client.call('DELETE', `/task/${b}`);

    const res = await watch.done;
    assert.equal(res.code, 0, res.stderr);
    const marker = '--- attempt 2 (previous attempt failed: backend_protocol_error) ---\n';
    const [before, after, ...more] = res.stdout.split(marker);
    assert.equal(more.length, 0, `one marker:\n${res.stdout}`);
    assert.ok(after !== undefined, `a marker line:\n${res.stdout}`);
    assert.ok(before!.endsWith('\n') && before!.length > 1 && answer.startsWith(before!.slice(0, -1)), `the first attempt's partial text, ended by a newline:\n${res.stdout}`);
    assert.equal(after, `${answer}\n`, 'the second attempt streams from its start, and the output is not printed again');
    const status = (await client.status(id)).body;
    assert.equal(status.attempts, 2);
    assert.equal(status.result.output, answer);
  });

  it('a failing task: submit --wait exits 1 with the error on stderr and nothing on stdout', async () => {
    const res = await run(['submit', `[[mode:error400]] ${randomUUID()}`, '--wait']);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /^koubou: task [0-9a-f-]{36} failed: backend_http_error: .*HTTP 400/);
  });

  it('--json prints parseable JSON for submit, tasks and workers', async () => {
    const submitted = await run(['submit', `json ${randomUUID()}`, '--json']);
    assert.equal(submitted.code, 0, submitted.stderr);
    const { task_id, status } = JSON.parse(submitted.stdout);
    assert.match(task_id, UUID);
    assert.equal(status, 'pending');

    const tasks = await run(['tasks', '--json', '--limit', '1000']);
    assert.equal(tasks.code, 0, tasks.stderr);
    const listing = JSON.parse(tasks.stdout);
    assert.equal(listing.count, listing.tasks.length);
    assert.ok(listing.tasks.some((t: { task_id: string }) => t.task_id === task_id));

    const workers = await run(['workers', '--json']);
    assert.equal(workers.code, 0, workers.stderr);
    const pool = JSON.parse(workers.stdout);
    assert.equal(pool.count, 2);
    assert.ok(pool.workers.every((w: { backend: string; model: string }) => w.backend === 'b0' && w.model === 'fake-model'));

    const table = await run(['tasks', '--status', 'completed']);
    assert.match(table.stdout, /^ID\s+STATUS\s+TYPE\s+PRI/);
    assert.ok(table.stdout.trimEnd().split('\n').slice(1).every((l) => / completed /.test(l)), table.stdout);
  });

  it('tasks prints whole ids and a one-line prompt excerpt, so a listed task can be recognised and named', async () => {
    const tag = randomUUID();
    const id = (await client.delegate({ prompt: `Explain the lease sweep\nin two lines ${tag}`, sync: true })).body.task_id as string;
    const res = await run(['tasks', '--limit', '1000']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^ID\s+STATUS\s+TYPE\s+PRI\s+TRIES\s+WORKER\s+AGE\s+PROMPT$/m);
    const row = res.stdout.split('\n').find((l) => l.includes(tag)) ?? '';
    assert.ok(row.startsWith(`${id}  completed`), `the row starts with the whole id:\n${res.stdout}`);
    assert.ok(row.endsWith(`Explain the lease sweep in two lines ${tag}`), row);
    const shown = await run(['status', row.split(' ')[0]!]);
    assert.match(shown.stdout, new RegExp(`^prompt\\s+Explain the lease sweep in two lines ${tag}$`, 'm'));
  });

  it('cancel of a running task exits 0 and the task is cancelled; cancelling a finished one exits 1', async () => {
    const tag = randomUUID();
    const id = (await client.delegate({ prompt: `[[mode:hang]] ${tag}` })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress', 5000);
    const res = await run(['cancel', id, '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.deepEqual(JSON.parse(res.stdout), { task_id: id, status: 'cancelled' });
    assert.equal((await client.status(id)).body.status, 'cancelled');
    await eventually(() => fake.requests.some((r) => r.prompt?.includes(tag) && r.aborted), 2000);

    const done = (await client.delegate({ prompt: 'finished already', sync: true })).body.task_id as string;
    const again = await run(['cancel', done]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^koubou: task_already_finished: /);
  });

  it('wrong usage exits 2 with a message and the usage', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /missing command/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['submit', 'x', '--priority', 'x'], /--priority must be an integer from 1 to 10, got "x"/],
      [['submit'], /missing PROMPT/],
      [['status'], /missing ID/],
      [['tasks', '--bogus'], /unknown option --bogus/],
    ];
    const results = await Promise.all(cases.map(([args]) => run(args)));
    results.forEach((res, i) => {
      const [args, message] = cases[i]!;
      assert.equal(res.code, 2, `koubou ${args.join(' ')}`);
      assert.match(res.stderr, message);
      assert.match(res.stderr, /usage: koubou/);
      assert.equal(res.stdout, '');
    });
    const help = await run(['submit', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: koubou submit PROMPT/);
  });

  it('an unreachable server: exit 1 with a clear message', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const res = await koubou(['tasks'], { KOUBOU_URL: url });
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, new RegExp(`^koubou: cannot reach koubou at ${url}: .*ECONNREFUSED`));
  });
});

/**
 * A stand-in server whose task completes `doneAfterMs` after the first status call (not after the server starts, so
 * a slow process start on a loaded machine does not find the task already done); with `longPoll` it holds a status call carrying `wait`
 * until then (as the real server will), without it it answers at once (as the real server did before `wait`).
 */
async function statusServer(doneAfterMs: number, longPoll: boolean) {
  let start = Number.POSITIVE_INFINITY;
  const waits: Array<string | null> = [];
  const view = () => {
    const done = Date.now() - start >= doneAfterMs;
    return {
      task_id: 't1',
      status: done ? 'completed' : 'pending',
      type: 'general',
      priority: 5,
      worker_id: null,
      attempts: done ? 1 : 0,
      result: done ? { success: true, output: 'finally', error: null, error_code: null } : null,
      created_at: new Date(start).toISOString(),
      started_at: null,
      finished_at: null,
      updated_at: null,
    };
  };
  const server = http.createServer((req, res) => {
    if (waits.length === 0) start = Date.now();
    const wait = new URL(req.url ?? '/', 'http://x').searchParams.get('wait');
    waits.push(wait);
    const answer = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(view()));
    const remaining = doneAfterMs - (Date.now() - start);
    // A timer may fire a millisecond before Date.now() says it is due: wait a little past it, as a real long-poll would.
    if (longPoll && wait !== null && remaining > 0) setTimeout(answer, remaining + 5);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return { url, waits, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('following a task, with and without long-polling on the server', () => {
  it('without long-polling: polls with wait=30, pausing between quick unchanged answers (no busy loop)', async () => {
    const server = await statusServer(1000, false);
    try {
      const res = await koubou(['status', 't1', '--watch'], { KOUBOU_URL: server.url });
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /finally\n$/);
      assert.equal(server.waits[0], null, 'the first call asks at once');
      assert.ok(server.waits.slice(1).every((w) => w === '30'), server.waits.join(','));
      // One second of pending at >= 200 ms between calls: about 5 calls, never hundreds.
      assert.ok(server.waits.length >= 3 && server.waits.length <= 9, `${server.waits.length} calls`);
    } finally {
      await server.close();
    }
  });

  it('with long-polling: one held call covers the wait', async () => {
    const server = await statusServer(1000, true);
    try {
      const res = await koubou(['status', 't1', '--watch', '--json'], { KOUBOU_URL: server.url });
      assert.equal(res.code, 0, res.stderr);
      const changes = res.stdout.trimEnd().split('\n').map((l) => JSON.parse(l).status);
      assert.deepEqual(changes, ['pending', 'completed']);
      assert.deepEqual(server.waits, [null, '30']);
    } finally {
      await server.close();
    }
  });
});

describe('koubou start --detach and stop', () => {
  it('starts a background coordinator (pid file, log, /health answers) and stops it', async () => {
    const fake = await startFakeLlm();
    const dir = tempDir();
    let pid: number | null = null;
    try {
      const port = await freePort();
      const { file } = writeTestConfig({
        dir: dir.path,
        backends: [{ url: fake.url }],
        extra: { server: { port }, pool: { shutdown_grace_ms: 1000 }, log: { level: 'info' } },
      });
      const started = await koubou(['start', '--detach', '--config', file, '--json'], {});
      assert.equal(started.code, 0, started.stderr);
      const info = JSON.parse(started.stdout);
      assert.equal(info.url, `http://127.0.0.1:${port}`);
      assert.equal(info.pid_file, join(dir.path, 'koubou.pid'));
      pid = Number(readFileSync(info.pid_file, 'utf8').trim());
      assert.equal(info.pid, pid);
      assert.ok(isAlive(pid));
      assert.equal((await fetch(`${info.url}/health`)).status, 200);
      const done = await koubou(['submit', 'through the daemon', '--wait'], { KOUBOU_URL: info.url });
      assert.equal(done.stdout, 'echo(fake-model): through the daemon\n');
      assert.match(readFileSync(info.log_file, 'utf8'), /koubou is listening/);

      const twice = await koubou(['start', '--detach', '--config', file], {});
      assert.equal(twice.code, 1);
      assert.match(twice.stderr, new RegExp(`store in use \\(koubou at http://127\\.0\\.0\\.1:${port}\\)`));

      const stopped = await koubou(['stop', '--config', file], {});
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal(stopped.stdout, `koubou stopped (pid ${pid})\n`);
      assert.equal(existsSync(info.pid_file), false, 'pid file removed');
      assert.equal(isAlive(pid), false, 'process gone');
      await assert.rejects(fetch(`${info.url}/health`));

      const again = await koubou(['stop', '--config', file], {});
      assert.equal(again.code, 1);
      assert.match(again.stderr, /not running/);
    } finally {
      if (pid !== null && isAlive(pid)) process.kill(pid, 'SIGKILL');
      dir.remove();
      await fake.close();
    }
  });
});
