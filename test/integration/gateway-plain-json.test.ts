/**
 * The gateway's routes take a JSON body sent the way curl's -d and Ollama clients send it (no Content-Type, or labelled
 * a form or text) from a client that sends no Origin, as Ollama does; a browser's form or text post (it always sends
 * Origin) still gets the 415, and the rest of the API still wants application/json from everyone.
 */
import assert from 'node:assert/strict';
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

  it('keeps wanting application/json elsewhere, and a multipart body anywhere', async () => {
    const task = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', headers: CURL, body: JSON.stringify({ prompt: 'hi' }) });
    assert.equal(task.status, 415);
    const multipart = await rawRequest(koubou.url, { method: 'POST', path: '/api/chat', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: chat });
    assert.equal(multipart.status, 415);
  });
});
