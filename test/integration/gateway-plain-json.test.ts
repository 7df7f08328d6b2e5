/**
 * The gateway's routes take a JSON body sent the way curl's -d and Ollama clients send it (no Content-Type, or labelled
 * a form or text) from a client that sends no Origin, as Ollama does; a browser's form or text post (it always sends
 * Origin) still gets the 415, and the rest of the API still wants application/json from everyone. A compressed body is a
 * 400 invalid_json everywhere, naming its Content-Encoding.
 */
import assert from 'node:assert/strict';
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

  it('keeps wanting application/json elsewhere, and a multipart body anywhere', async () => {
    const task = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', headers: CURL, body: JSON.stringify({ prompt: 'hi' }) });
    assert.equal(task.status, 415);
    const multipart = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: chat });
    assert.equal(multipart.status, 415);
  });
});
