/** Bearer-token authentication: every route but /health needs `Authorization: Bearer <api_token>`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, type ApiResponse } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

const TOKEN = 's3cret';

function expectUnauthorized(res: ApiResponse, label: string): void {
  assert.equal(res.status, 401, `${label}: ${JSON.stringify(res.body)}`);
  assert.equal(res.body?.error?.code, 'unauthorized', label);
  assert.match(res.body.error.message, /Bearer/, label);
  // RFC 9110 §11.6.1: a 401 names the scheme the client must use.
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer\b/, `${label}: WWW-Authenticate`);
}

describe('auth', () => {
  let fake: FakeLlm;
  let tc: TestCoordinator;
  let anonymous: ReturnType<typeof api>;
  let authed: ReturnType<typeof api>;

  /** Calls every protected route with the given headers and expects 401 from each. */
  async function expectAllRefused(headers: Record<string, string>, label: string): Promise<void> {
    const body = { prompt: `must not run (${label})` };
    const calls: Array<[string, string, unknown]> = [
      ['POST', '/task/delegate', body],
      ['GET', '/tasks', undefined],
      ['GET', '/workers', undefined],
      ['GET', '/task/x/status', undefined],
      ['GET', '/task/x/events', undefined],
    ];
    for (const [method, path, payload] of calls) {
      expectUnauthorized(await anonymous.call(method, path, payload, { headers }), `${label}: ${method} ${path}`);
    }
  }

  before(async () => {
    fake = await startFakeLlm();
    tc = await startTestCoordinator({ backends: [{ url: fake.url }], extra: { server: { api_token: TOKEN } } });
    anonymous = api(tc.url);
    authed = api(tc.url, TOKEN);
  });

  after(async () => {
    await tc?.close();
    await fake?.close();
  });

  it('refuses every protected route without an Authorization header', async () => {
    await expectAllRefused({}, 'no header');
  });

  it('refuses a wrong or malformed token', async () => {
    const wrong: Array<[string, string]> = [
      ['wrong token', 'Bearer wrong'],
      ['token prefix', 'Bearer s3cre'],
      ['token with a suffix', 'Bearer s3cret2'],
      ['case differs', 'Bearer S3CRET'],
      ['no scheme', TOKEN],
      ['Basic scheme', `Basic ${Buffer.from(`user:${TOKEN}`).toString('base64')}`],
      ['Token scheme', `Token ${TOKEN}`],
      ['empty bearer', 'Bearer '],
    ];
    for (const [label, authorization] of wrong) await expectAllRefused({ authorization }, label);
  });

  it('no refused request reached the queue or the backend', async () => {
    const list = await authed.get('/tasks');
    assert.equal(list.status, 200);
    assert.equal(list.body.count, 0);
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0);
  });

  it('accepts the right token: delegate, then status, events, listing and workers', async () => {
    const prompt = 'authorised work';
    const res = await authed.delegate({ prompt });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const id: string = res.body.task_id;
    await eventually(async () => (await authed.status(id)).body.status === 'completed');
    const status = await authed.status(id);
    assert.equal(status.status, 200);
    assert.equal(status.body.result.output, `echo(fake-model): ${prompt}`);

    const events = await authed.get(`/task/${id}/events`);
    assert.equal(events.status, 200);
    assert.deepEqual(events.body.events.map((e: { kind: string }) => e.kind), ['queued', 'assigned', 'completed']);

    const list = await authed.get('/tasks');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.tasks.map((t: { task_id: string }) => t.task_id), [id]);

    const workers = await authed.get('/workers');
    assert.equal(workers.status, 200);
    assert.equal(workers.body.count, 1);

    // The scheme is case-insensitive and surrounding blanks are tolerated.
    const lower = await anonymous.call('GET', `/task/${id}/status`, undefined, { headers: { authorization: `bearer   ${TOKEN}  ` } });
    assert.equal(lower.status, 200, JSON.stringify(lower.body));
    assert.equal(lower.body.task_id, id);
  });

  it('an unknown route is refused before it is found (401, not 404), and answers 404 with the token', async () => {
    expectUnauthorized(await anonymous.get('/no-such-route'), 'unknown route without a token');
    const found = await authed.get('/no-such-route');
    assert.equal(found.status, 404);
    assert.equal(found.body.error.code, 'not_found');
  });

  it('/health answers without a token, with its status only; with the token, in full', async () => {
    // Open for probes, but backend names, models and counts are for token holders.
    const res = await anonymous.get('/health');
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { status: 'ok' });
    // A wrong token does not break the open route either, and shows no more.
    const wrong = await anonymous.call('GET', '/health', undefined, { headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.status, 200);
    assert.deepEqual(wrong.body, { status: 'ok' });
    const full = await authed.get('/health');
    assert.equal(full.body.status, 'ok');
    assert.equal(full.body.queue.completed, 1);
    assert.equal(full.body.backends[0].model, 'fake-model');
  });
});
