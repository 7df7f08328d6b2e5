/**
 * gateway.ollama_listen and gateway.ollama_version: the gateway on a port of its own (tools that assume Ollama's port),
 * behind the same token as the API and serving nothing else, and the version /api/version reports.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { ConfigError } from '../../src/errors.js';
import { FALLBACK_OLLAMA_VERSION } from '../../src/gateway/ollama-version.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { tempDir } from '../helpers/temp.js';
import { writeTestConfig } from '../helpers/test-config.js';
import { startTwoProtocolPool } from '../helpers/two-protocol-pool.js';

const TOKEN = 'listener-test-token';

describe('gateway: a listener of its own', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let ollamaUrl: string;

  before(async () => {
    fake = await startFakeLlm({ models: ['oai-model'] });
    koubou = await startTestCoordinator({
      backends: [{ name: 'oai', type: 'openai', url: fake.url, model: 'oai-model' }],
      extra: { server: { api_token: TOKEN }, gateway: { ollama_listen: '127.0.0.1:0' } },
    });
    ollamaUrl = koubou.coordinator.ollamaHttp!.url;
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('serves both protocols there, behind the API token', async () => {
    assert.notEqual(ollamaUrl, koubou.url);
    const ollama = new Ollama({ host: ollamaUrl, headers: { authorization: `Bearer ${TOKEN}` } });
    const reply = await ollama.chat({ model: 'oai-model', messages: [{ role: 'user', content: 'hi there' }] });
    assert.equal(reply.message.content, 'echo(oai-model): hi there');
    const openai = new OpenAI({ baseURL: `${ollamaUrl}/v1`, apiKey: TOKEN, maxRetries: 0 });
    const res = await openai.responses.create({ model: 'oai-model', input: 'hello' });
    assert.equal(res.output_text, 'echo(oai-model): hello');
    const refused = await fetch(`${ollamaUrl}/api/tags`);
    assert.equal(refused.status, 401);
  });

  it('refuses a request without the token in the protocol\'s own error shape, so the SDKs say why', async () => {
    for (const base of [koubou.url, ollamaUrl]) {
      const err = await new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong', maxRetries: 0 }).models.list().catch((e: unknown) => e);
      assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
      assert.equal(err.type, 'authentication_error');
      assert.match(err.message, /Authorization: Bearer/);
      const refused = await new Ollama({ host: base }).chat({ model: 'oai-model', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      assert.equal((refused as { status_code?: number }).status_code, 401);
      assert.match((refused as Error).message, /Authorization: Bearer/);
    }
    // A method a gateway route does not take, in OpenAI's shape too; the API's own routes keep theirs.
    const wrongMethod = await fetch(`${koubou.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(wrongMethod.status, 405);
    assert.equal(((await wrongMethod.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    assert.equal(((await (await fetch(`${koubou.url}/tasks`)).json()) as { error: { code: string } }).error.code, 'unauthorized');
  });

  it('refuses to start on a port another server holds, naming gateway.ollama_listen', async () => {
    await assert.rejects(
      startTestCoordinator({ backends: [{ url: fake.url, model: 'oll-model' }], extra: { gateway: { ollama_listen: `127.0.0.1:${fake.port}` } } }),
      (err: Error) => /EADDRINUSE/.test(err.message) && err.message.includes('gateway.ollama_listen'),
    );
  });

  it('answers Ollama\'s root and serves none of the API', async () => {
    const root = await fetch(`${ollamaUrl}/`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(await root.text(), 'Ollama is running');
    const tasks = await fetch(`${ollamaUrl}/tasks`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(tasks.status, 404);
  });

  it('reports the fixed version when no Ollama backend answers', async () => {
    const res = await fetch(`${ollamaUrl}/api/version`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await res.json(), { version: FALLBACK_OLLAMA_VERSION });
  });
});

describe('gateway: the version /api/version reports', () => {
  let pool: Awaited<ReturnType<typeof startTwoProtocolPool>>;
  before(async () => (pool = await startTwoProtocolPool()));
  after(() => pool.close());

  it('is the lowest version among the live Ollama backends', async () => {
    // The stand-in Ollama reports 0.6.8 (fake-llm-ollama.ts).
    const version = await new Ollama({ host: pool.koubou.url }).version();
    assert.deepEqual(version, { version: '0.6.8' });
  });

  it('is gateway.ollama_version when set, and bad settings name their key', async () => {
    const fixed = await startTestCoordinator({ backends: [{ url: pool.fake.url, model: 'oll-model' }], extra: { gateway: { ollama_version: '0.14.1' } } });
    try {
      assert.deepEqual(await (await fetch(`${fixed.url}/api/version`)).json(), { version: '0.14.1' });
    } finally {
      await fixed.close();
    }
    const temp = tempDir();
    try {
      for (const [gateway, key] of [[{ ollama_listen: '11435' }, 'gateway.ollama_listen'], [{ ollama_listen: 'localhost:70000' }, 'gateway.ollama_listen'], [{ ollama_version: 'latest' }, 'gateway.ollama_version']] as const) {
        assert.throws(() => writeTestConfig({ dir: temp.path, backends: [{ url: pool.fake.url }], extra: { gateway } }), (err: unknown) => err instanceof ConfigError && err.key === key);
      }
    } finally {
      temp.remove();
    }
  });
});
