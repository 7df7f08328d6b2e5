/**
 * The request guard over real sockets, with no token set (the default a web page would attack): a foreign Host (DNS
 * rebinding), a foreign Origin, or a body that is not application/json is refused on every route, the /ws upgrade,
 * /events and /mcp included; the server's own names, the dashboard's own origin and the listed ones pass. No answer
 * carries a CORS header.
 */
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { rawRequest, upgradeStatus, type RawAnswer } from '../helpers/raw-http.js';

const EVIL = 'http://evil.example';
const LISTED = 'https://dash.example';
/** A desktop app's page, as its engine names it (Obsidian). */
const APP = 'app://obsidian.md';
const DELEGATE = JSON.stringify({ prompt: 'must not run' });
const MCP_INIT = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'guard-test', version: '0' } },
});
const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

function expectRefused(res: RawAnswer, status: number, code: string, label: string): void {
  assert.equal(res.status, status, `${label}: ${JSON.stringify(res.body).slice(0, 300)}`);
  assert.equal(res.body?.error?.code, code, label);
  assert.ok(typeof res.body.error.message === 'string' && res.body.error.message.length > 0, label);
}

function expectNoCors(res: RawAnswer, label: string): void {
  const cors = Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
  assert.deepEqual(cors, [], `${label}: no CORS header`);
}

describe('the request guard: Host, Origin and Content-Type', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let port: string;
  /** Every route a page could aim at, with what it would send. */
  let routes: Array<{ method: string; path: string; body?: string; headers?: Record<string, string> }>;

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url }],
      extra: { server: { allowed_hosts: ['koubou.lan'], allowed_origins: [LISTED, APP] } },
    });
    port = new URL(koubou.url).port;
    routes = [
      { method: 'POST', path: '/task/delegate', body: DELEGATE, headers: { 'content-type': 'application/json' } },
      { method: 'GET', path: '/tasks' },
      { method: 'GET', path: '/workers' },
      { method: 'GET', path: '/health' },
      { method: 'GET', path: '/api/dashboard' },
      { method: 'GET', path: '/api/logs' },
      { method: 'GET', path: '/' },
      { method: 'GET', path: '/events' },
      { method: 'GET', path: '/graphql?query=%7Btasks%7Bid%7D%7D' },
      { method: 'POST', path: '/graphql', body: '{"query":"{ tasks { id prompt } }"}', headers: { 'content-type': 'application/json' } },
      { method: 'POST', path: '/mcp', body: MCP_INIT, headers: MCP_HEADERS },
      { method: 'GET', path: '/metrics' },
    ];
  });
  after(async () => {
    await koubou?.close();
    await fake?.close();
  });

  const taskCount = async () => (await api(koubou.url).get('/tasks')).body.count as number;

  it('refuses a Host that does not name this server on every route (DNS rebinding)', async () => {
    // `.local` names are announced by any machine of the LAN (mDNS); `internal` and `localhost` alone are no suffix.
    const hosts = [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example`, `koubou.lan.evil.example`, 'printer.local', 'internal', 'evil.internal.example', 'localhostevil'];
    for (const host of hosts) {
      for (const route of routes) {
        const res = await rawRequest(koubou.url, { ...route, headers: { ...route.headers, host } });
        expectRefused(res, 403, 'host_not_allowed', `${route.method} ${route.path} with Host ${host}`);
        assert.match(res.body.error.message, /server\.allowed_hosts/);
      }
      assert.equal(await upgradeStatus(koubou.url, '/ws', { host }), 403, `/ws upgrade with Host ${host}`);
    }
    assert.equal(await taskCount(), 0);
  });

  it("answers to the bind address, localhost, 127.0.0.1, [::1] and server.allowed_hosts, with any port and case", async () => {
    const upper = [`LOCALHOST:${port}`, `KOUBOU.LAN:${port}`, `LocalHost.:${port}`];
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LocalHost', `[::1]:${port}`, 'koubou.lan', 'KOUBOU.lan', `koubou.lan:${port}`, 'localhost.', ...upper]) {
      const res = await rawRequest(koubou.url, { path: '/workers', headers: { host } });
      assert.equal(res.status, 200, `Host ${host}: ${JSON.stringify(res.body)}`);
      assert.equal(await upgradeStatus(koubou.url, '/ws', { host }), 101, `/ws upgrade with Host ${host}`);
    }
    // Names no page on the internet can have: this machine's own, *.localhost, and *.internal (Docker's
    // host.docker.internal, which Open WebUI in a container is told to use), as Ollama takes them.
    for (const host of [hostname(), `${hostname().toUpperCase()}:${port}`, `app.localhost:${port}`, `host.docker.internal:${port}`, 'gpu.box.internal']) {
      const res = await rawRequest(koubou.url, { path: '/v1/models', headers: { host } });
      assert.equal(res.status, 200, `Host ${host}: ${JSON.stringify(res.body)}`);
    }
    // The LLM gateway too: clients that build the Host from a name as the user typed it.
    const models = await rawRequest(koubou.url, { path: '/v1/models', headers: { host: `LOCALHOST:${port}` } });
    assert.equal(models.status, 200, JSON.stringify(models.body));
  });

  it('answers a Host that is no host name, and a path HTTP lets through but no URL can hold, with a 400 saying why', async () => {
    for (const [host, path] of [[`evil.example@localhost:${port}`, '/workers'], [`localhost:${port}`, '/work\\ers']] as const) {
      const res = await rawRequest(koubou.url, { path, headers: { host } });
      expectRefused(res, 400, 'malformed_request', `Host ${host}, path ${path}`);
      assert.match(res.body.error.message, /this request cannot be read: /);
    }
  });

  it('refuses a cross-origin Origin on every route, null and look-alikes included', async () => {
    const origins = [EVIL, 'null', `http://localhost:${port}`, `http://127.0.0.1:${Number(port) + 1}`, `${LISTED}:8443`, `http://127.0.0.1:${port}.evil.example`];
    for (const origin of origins) {
      for (const route of routes) {
        const res = await rawRequest(koubou.url, { ...route, headers: { ...route.headers, origin } });
        expectRefused(res, 403, 'origin_not_allowed', `${route.method} ${route.path} from ${origin}`);
        assert.match(res.body.error.message, /server\.allowed_origins/);
        expectNoCors(res, `${route.path} from ${origin}`);
      }
      assert.equal(await upgradeStatus(koubou.url, '/ws', { origin }), 403, `/ws upgrade from ${origin}`);
    }
    // The simple request a page sends without a preflight is refused for its origin before its type is looked at.
    const simple = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', body: DELEGATE, headers: { origin: EVIL, 'content-type': 'text/plain' } });
    expectRefused(simple, 403, 'origin_not_allowed', 'text/plain from evil.example');
    assert.equal(await taskCount(), 0);
  });

  it("lets the dashboard's own origin and server.allowed_origins through, the /ws upgrade and /mcp included", async () => {
    for (const origin of [`http://127.0.0.1:${port}`, LISTED, 'HTTPS://DASH.EXAMPLE']) {
      const submitted = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', body: DELEGATE, headers: { origin, 'content-type': 'application/json' } });
      assert.equal(submitted.status, 202, `${origin}: ${JSON.stringify(submitted.body)}`);
      // Only a listed page is told it may read the answer; the dashboard's own origin needs no CORS.
      if (origin.startsWith('http://127.0.0.1')) expectNoCors(submitted, origin);
      else assert.equal(submitted.headers['access-control-allow-origin'], origin, origin);
      assert.equal((await rawRequest(koubou.url, { path: '/tasks', headers: { origin } })).status, 200, origin);
      assert.equal(await upgradeStatus(koubou.url, '/ws', { origin }), 101, `/ws upgrade from ${origin}`);
      const mcp = await rawRequest(koubou.url, { method: 'POST', path: '/mcp', body: MCP_INIT, headers: { ...MCP_HEADERS, origin } });
      assert.equal(mcp.status, 200, `/mcp from ${origin}: ${JSON.stringify(mcp.body).slice(0, 200)}`);
    }
    // The dashboard's origin is the one of the Host it was loaded under.
    const viaName = await rawRequest(koubou.url, { path: '/tasks', headers: { host: `localhost:${port}`, origin: `http://localhost:${port}` } });
    assert.equal(viaName.status, 200);
    // Clients that are not browsers send no Origin at all.
    const mcp = await rawRequest(koubou.url, { method: 'POST', path: '/mcp', body: MCP_INIT, headers: MCP_HEADERS });
    assert.equal(mcp.status, 200);
  });

  it('requires application/json on every request body: 415 naming the header', async () => {
    const bodies: Array<[string | undefined, string]> = [
      ['text/plain', DELEGATE],
      ['text/plain;charset=UTF-8', DELEGATE],
      ['application/x-www-form-urlencoded', DELEGATE],
      ['multipart/form-data; boundary=x', `--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--x--\r\n`],
      ['application/jsonp', DELEGATE],
      [undefined, DELEGATE],
      // A form with no fields still names its type: a cancel cannot be forged with an empty form either.
      ['application/x-www-form-urlencoded', ''],
    ];
    const before = await taskCount();
    for (const path of ['/task/delegate', '/graphql', '/mcp', '/task/some-id/cancel']) {
      for (const [type, body] of bodies) {
        const headers: Record<string, string> = type === undefined ? {} : { 'content-type': type };
        const res = await rawRequest(koubou.url, { method: 'POST', path, body, headers });
        expectRefused(res, 415, 'unsupported_media_type', `POST ${path} as ${type}`);
        assert.match(res.body.error.message, /application\/json/);
        assert.match(res.body.error.message, /content-type/i);
      }
    }
    assert.equal(await taskCount(), before);
    // JSON with parameters or in upper case is JSON; a POST without a body needs no type (curl -X POST .../cancel).
    const withCharset = await rawRequest(koubou.url, { method: 'POST', path: '/task/delegate', body: DELEGATE, headers: { 'content-type': 'Application/JSON; charset=utf-8' } });
    assert.equal(withCharset.status, 202);
    const cancel = await rawRequest(koubou.url, { method: 'POST', path: `/task/${withCharset.body.task_id}/cancel` });
    assert.notEqual(cancel.status, 415, JSON.stringify(cancel.body));
    assert.equal(cancel.body.task_id, withCharset.body.task_id);
  });

  it('sends no CORS header, not even to a preflight, and marks answers same-origin and nosniff', async () => {
    const preflight = await rawRequest(koubou.url, {
      method: 'OPTIONS',
      path: '/task/delegate',
      headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.notEqual(preflight.status, 204);
    expectNoCors(preflight, 'preflight');
    const sameOriginPreflight = await rawRequest(koubou.url, { method: 'OPTIONS', path: '/task/delegate', headers: { 'access-control-request-method': 'POST' } });
    expectNoCors(sameOriginPreflight, 'preflight without Origin');
    for (const route of routes.filter((r) => r.path !== '/events')) {
      const res = await rawRequest(koubou.url, route);
      expectNoCors(res, route.path);
      assert.equal(res.headers['cross-origin-resource-policy'], 'same-origin', route.path);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', route.path);
    }
  });

  it('lets a listed page (server.allowed_origins, an app:// one too) preflight and read the gateway and the API, streams included; no other page', async () => {
    for (const origin of [LISTED, APP]) {
      const preflight = await rawRequest(koubou.url, {
        method: 'OPTIONS',
        path: '/v1/chat/completions',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-koubou-priority' },
      });
      assert.equal(preflight.status, 204, origin);
      assert.equal(preflight.headers['access-control-allow-origin'], origin);
      assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
      assert.equal(preflight.headers['access-control-allow-headers'], 'authorization, content-type, x-koubou-priority');
      const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'from a page' }] });
      const streamed = await rawRequest(koubou.url, { method: 'POST', path: '/v1/chat/completions', body, headers: { origin, 'content-type': 'application/json' } });
      assert.equal(streamed.status, 200, JSON.stringify(streamed.body).slice(0, 200));
      assert.equal(streamed.headers['access-control-allow-origin'], origin);
      assert.match(String(streamed.headers['access-control-expose-headers']), /X-Koubou-Task-Id/);
      const tags = await rawRequest(koubou.url, { path: '/api/tags', headers: { origin } });
      assert.equal(tags.headers['access-control-allow-origin'], origin);
    }
    // Any other page: refused, and told nothing it could read.
    const foreign = await rawRequest(koubou.url, { method: 'OPTIONS', path: '/v1/chat/completions', headers: { origin: 'app://evil.example', 'access-control-request-method': 'POST' } });
    assert.equal(foreign.status, 403);
    expectNoCors(foreign, 'app://evil.example');
  });
});
