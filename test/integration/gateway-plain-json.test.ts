/**
 * The gateway's routes take a JSON body sent the way curl's -d and Ollama clients send it (no Content-Type, or labelled
 * a form or text) from a client that sends no Origin, as Ollama does; a browser's form or text post (it always sends
 * Origin) still gets the 415, and the rest of the API still wants application/json from everyone. A compressed body is a
 * 400 invalid_json everywhere, naming its Content-Encoding.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { rawRequest } from '../helpers/raw-http.js';

/** The headers curl 8 sends with `-d`. */
const CURL = { 'user-agent': 'curl/8.5.0', accept: '*/*', 'content-type': 'application/x-www-form-urlencoded' };

describe('gateway: JSON bodies without application/json', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;

  before(async () => {
    fake = await startFakeLlm({ models: ['fake-model'] });
    koubou = await startTestCoordinator({ backends: [{ type: 'ollama', url: fake.url, model: 'fake-model' }] });
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  const chat = JSON.stringify({ model: 'fake-model', stream: false, messages: [{ role: 'user', content: 'hi' }] });

  it("takes curl's form-labelled JSON, unlabelled JSON and text on the gateway routes when no Origin is sent", async () => {
    const asCurl = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: CURL, body: chat });
    assert.equal(asCurl.status, 200, JSON.stringify(asCurl.body));
    assert.equal(asCurl.body.message.content, 'echo(fake-model): hi');

    const { 'content-type': _, ...untyped } = CURL;
    const openai = await rawRequest(koubou.url, { method: 'POST', path: '/v1/chat/completions', headers: untyped, body: chat });
    assert.equal(openai.status, 200, JSON.stringify(openai.body));
    assert.equal(openai.body.choices[0].message.content, 'echo(fake-model): hi');

    const text = await rawRequest(koubou.url, { method: 'POST', path: '/api/generate', headers: { 'content-type': 'text/plain;charset=UTF-8' }, body: '{"model":"fake-model","prompt":"yo","stream":false}' });
    assert.equal(text.status, 200, JSON.stringify(text.body));
    assert.equal(text.body.response, 'echo(fake-model): yo');
  });

  it('still refuses a browser: with an Origin, a form or text post is a 415, from a foreign page a 403', async () => {
    const { host } = new URL(koubou.url);
    const before = fake.count;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
      const sameOrigin = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: { origin: `http://${host}`, 'content-type': type }, body: chat });
      assert.equal(sameOrigin.status, 415, type);
      assert.equal(typeof sameOrigin.body.error, 'string', 'in Ollama shape');
      const foreign = await rawRequest(koubou.url, { method: 'POST', path: '/v1/chat/completions', headers: { origin: 'https://evil.example', 'content-type': type }, body: chat });
      assert.equal(foreign.status, 403, type);
    }
    assert.equal(fake.count, before);
  });

  it('answers a compressed body with a 400 invalid_json naming Content-Encoding, whatever its Content-Type, reaching no backend', async () => {
    const before = fake.count;
    const gzipped = gzipSync(chat);
    const cases: [string, Record<string, string>][] = [
      ['/v1/chat/completions', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
      ['/v1/chat/completions', { 'content-type': 'application/octet-stream', 'content-encoding': 'gzip' }],
      ['/api/chat', { 'content-encoding': 'gzip' }],
      ['/api/chat', { 'content-type': 'application/gzip', 'content-encoding': 'GZIP' }],
      ['/task/delegate', { 'content-type': 'application/json', 'content-encoding': 'deflate' }],
    ];
    for (const [path, headers] of cases) {
      const res = await rawRequest(koubou.url, { method: 'POST', path, headers, body: gzipped });
      const what = `${path} ${JSON.stringify(headers)}`;
      assert.equal(res.status, 400, what);
      const message: string = path === '/api/chat' ? res.body.error : res.body.error.message;
      assert.match(message, /Content-Encoding: (gzip|GZIP|deflate)"; compressed bodies are not read/, what);
      if (path.startsWith('/v1/')) {
        assert.deepEqual({ type: res.body.error.type, code: res.body.error.code, param: res.body.error.param }, { type: 'invalid_request_error', code: 'invalid_json', param: null }, what);
      }
      if (path === '/task/delegate') assert.equal(res.body.error.code, 'invalid_json', what);
    }
    assert.equal(fake.count, before, 'a compressed body reached a backend');
    // "identity" is no compression at all.
    const plain = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' }, body: chat });
    assert.equal(plain.status, 200, JSON.stringify(plain.body));
  });

  it('answers a transfer coding other than chunked, and a body that is not UTF-8, with a 400 invalid_json', async () => {
    const { hostname, port, host } = new URL(koubou.url);
    const status = (head: string, body: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => socket.end(Buffer.concat([Buffer.from(`POST /task/delegate HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n${head}Connection: close\r\n\r\n`), body])));
        let answer = '';
        socket.on('data', (c: Buffer) => (answer += c.toString('latin1')));
        socket.on('end', () => resolve(answer));
        socket.on('error', reject);
      });
    const json = Buffer.from(JSON.stringify({ prompt: 'coded' }));
    const chunked = Buffer.concat([Buffer.from(`${json.length.toString(16)}\r\n`), json, Buffer.from('\r\n0\r\n\r\n')]);
    const coded = await status('Transfer-Encoding: gzip, chunked\r\n', chunked);
    assert.match(coded, /^HTTP\/1\.1 400 /, coded);
    assert.match(coded, /"code":"invalid_json".*Transfer-Encoding: gzip, chunked.*only chunked is read/s);
    // Bytes that are no UTF-8 (0xff, a lone surrogate encoded) would be stored as U+FFFD without a word.
    const latin = Buffer.concat([Buffer.from('{"prompt":"'), Buffer.from([0xff, 0xfe, 0xc0, 0x20, 0xed, 0xa0, 0x80]), Buffer.from('"}')]);
    const bad = await status(`Content-Length: ${latin.length}\r\n`, latin);
    assert.match(bad, /^HTTP\/1\.1 400 /, bad);
    assert.match(bad, /"code":"invalid_json".*not valid UTF-8/s);
    assert.match(await status('Transfer-Encoding: chunked\r\n', chunked), /^HTTP\/1\.1 202 /);
  });

  it('keeps wanting application/json elsewhere, and a multipart body anywhere', async () => {
    const task = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', headers: CURL, body: JSON.stringify({ prompt: 'hi' }) });
    assert.equal(task.status, 415);
    const multipart = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: chat });
    assert.equal(multipart.status, 415);
  });
});
