/**
 * Web pages of other origins, in real headless Chromium, against a coordinator with no token (the default):
 * - the real dashboard page, served by another origin on loopback and pointed at Koubou, shows no data and cannot
 *   submit;
 * - a hostile page's requests that browsers send without a preflight (a text/plain fetch, a text/plain form shaped
 *   as JSON, a url-encoded form) create no task, and its WebSocket, EventSource and reads get nothing;
 * - a DNS-rebound page (its own name pointed at 127.0.0.1, so Koubou looks same-origin to the browser) is refused
 *   for its Host.
 */
import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { stateTableModule } from '../../src/http/dashboard-route.js';
import { api } from '../helpers/api.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

/** Compiled, this file runs from dist/test/integration/; the dashboard's files are in src/dashboard/assets/. */
const ASSETS = fileURLToPath(new URL('../../../src/dashboard/assets/', import.meta.url));
const WAIT_MS = 15_000;
const REBOUND = 'rebound.example';
const SECRET = 'the secret prompt nobody else may read';

/** Another origin on loopback: it serves the real dashboard files, and /attack, a blank page for scripted attacks. */
async function otherOrigin(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/attack') return res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>hostile</title><iframe name="sink"></iframe>');
    const name = path === '/' ? 'index.html' : path.replace(/^\/dashboard\//, '');
    if (!/^[a-z0-9-]+\.(html|js|css|svg)$/.test(name)) return res.writeHead(404).end();
    const type = { html: 'text/html', js: 'text/javascript', css: 'text/css', svg: 'image/svg+xml' }[name.split('.').pop()!]!;
    // The state table is made by the server, not read from a file.
    res.writeHead(200, { 'content-type': type }).end(name === 'state-table.js' ? stateTableModule() : readFileSync(ASSETS + name));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('web pages of other origins in a browser', { skip: chromiumMissing() ?? false }, () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let other: Awaited<ReturnType<typeof otherOrigin>>;
  let browser: Browser;
  const taskCount = async () => (await client.get('/tasks')).body.count as number;
  const stopWatching: Array<() => void> = [];

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ url: fake.url }] });
    client = api(koubou.url);
    const seeded = (await client.delegate({ prompt: SECRET })).body.task_id as string;
    await eventually(async () => (await client.status(seeded)).body.status === 'completed', WAIT_MS);
    other = await otherOrigin();
    // The rebound name leads to loopback. Chromium's own guard against public pages calling private addresses is
    // switched off, as other browsers have none: the test is of Koubou's Host check, not of the browser's.
    browser = await launchChromium([
      `--host-resolver-rules=MAP ${REBOUND} 127.0.0.1`,
      '--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,LocalNetworkAccessChecks',
    ]);
  });
  after(async () => {
    for (const stop of stopWatching) stop();
    await browser?.close();
    await other?.close();
    await koubou?.close();
    await fake?.close();
  });

  /**
   * Statuses of Koubou's answers to the browser, by method and path, as its HTTP server sent them (Node's diagnostics channel): the
   * browser hides an answer that CORS blocks, but the test must know the request reached Koubou and was refused.
   */
  function koubouAnswers(): Map<string, number> {
    const seen = new Map<string, number>();
    const port = Number(new URL(koubou.url).port);
    const onFinish = (message: unknown) => {
      const { request, response } = message as { request: http.IncomingMessage; response: http.ServerResponse };
      // Only the browser's requests, not the test's own checks.
      if (request.socket.localPort === port && /Chrome/.test(request.headers['user-agent'] ?? '')) seen.set(`${request.method} ${new URL(request.url ?? '/', 'http://x').pathname}`, response.statusCode);
    };
    diagnostics.subscribe('http.server.response.finish', onFinish);
    stopWatching.push(() => diagnostics.unsubscribe('http.server.response.finish', onFinish));
    return seen;
  }

  it('the real dashboard, served by another origin and aimed at Koubou, shows no data and cannot submit', async () => {
    const page = await browser.newPage();
    const seen = koubouAnswers();
    // What a hostile copy of the page would do: send its API calls, streams and socket to Koubou instead of home.
    await page.addInitScript((target: string) => {
      const w = globalThis as any;
      const retarget = (u: string | URL, ws = false) => {
        const url = new URL(String(u), w.location.href);
        if (url.origin !== w.location.origin) return url.href;
        const to = new URL(url.pathname + url.search, target);
        if (ws) to.protocol = 'ws:';
        return to.href;
      };
      const fetchHome = w.fetch.bind(w);
      w.fetch = (input: string, init: object) => fetchHome(retarget(input), init);
      const ES = w.EventSource;
      w.EventSource = class extends ES {
        constructor(u: string, o?: object) {
          super(retarget(u), o);
        }
      };
      const WS = w.WebSocket;
      w.WebSocket = class extends WS {
        constructor(u: string, p?: string[]) {
          super(retarget(u, true), p);
        }
      };
    }, koubou.url);
    try {
      await page.goto(`${other.url}/`);
      // Its reads reached Koubou and were refused...
      await eventually(() => seen.get('GET /api/dashboard') === 403 && seen.get('GET /events') === 403, WAIT_MS);
      // ...so nothing of the pool or of the finished task is on the page.
      assert.equal(await page.locator('#workers-body tr[data-worker]').count(), 0);
      assert.equal(await page.locator('#tasks-list .task-row').count(), 0);
      assert.notEqual(await page.locator('#health-status').getAttribute('data-state'), 'ok');
      assert.ok(!(await page.content()).includes(SECRET));

      const before = await taskCount();
      await page.fill('#submit-prompt', 'a task forged from another origin');
      const refused = page.waitForEvent('requestfailed', { predicate: (r) => r.url().endsWith('/task/delegate'), timeout: WAIT_MS });
      await page.click('#submit-button');
      await refused;
      // JSON needs a preflight, which Koubou refuses: the POST itself is never sent.
      assert.equal(seen.get('OPTIONS /task/delegate'), 403);
      assert.equal(seen.has('POST /task/delegate'), false);
      assert.equal(await taskCount(), before);
    } finally {
      await page.close();
    }
  });

  it("a hostile page's no-preflight submits create no task, and its socket, stream and reads get nothing", async () => {
    const page = await browser.newPage();
    const seen = koubouAnswers();
    try {
      await page.goto(`${other.url}/attack`);
      const before = await taskCount();
      const results = await page.evaluate(async (target: string) => {
        const { document, WebSocket, EventSource } = globalThis as any;
        const out: Record<string, unknown> = {};
        // 1. fetch with a "simple" content type: sent without asking; its answer is opaque to the page anyway.
        await fetch(`${target}/task/delegate`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ prompt: 'forged by fetch' }) });
        // 2. A text/plain form whose one field makes the body JSON: {"prompt":"forged by form","x":"="}.
        // 3. A url-encoded form.
        const submit = (enctype: string, name: string, value: string) =>
          new Promise<void>((resolve) => {
            const frame = document.querySelector('iframe')!;
            frame.addEventListener('load', () => resolve(), { once: true });
            const form = Object.assign(document.createElement('form'), { method: 'POST', action: `${target}/task/delegate`, enctype, target: 'sink' });
            form.append(Object.assign(document.createElement('input'), { name, value }));
            document.body.append(form);
            form.submit();
          });
        await submit('text/plain', '{"prompt":"forged by form","x":"', '"}');
        await submit('application/x-www-form-urlencoded', 'prompt', 'forged by url-encoded form');
        // 4. Reads: a CORS fetch, the WebSocket, the event stream.
        out.read = await fetch(`${target}/tasks`).then((r) => r.text(), (e: Error) => `failed: ${e.name}`);
        out.ws = await new Promise((resolve) => {
          const ws = new WebSocket(`${target.replace('http:', 'ws:')}/ws`);
          const got: string[] = [];
          // Settled by the first message (a read) or by the refusal; a hanging test would hide which.
          ws.onmessage = (e: { data: unknown }) => {
            got.push(String(e.data));
            resolve({ opened: true, got });
            ws.close();
          };
          ws.onclose = () => resolve({ opened: got.length > 0, got });
        });
        out.events = await new Promise((resolve) => {
          const source = new EventSource(`${target}/events`);
          const got: string[] = [];
          source.addEventListener('ready', (e: { data: string }) => {
            got.push(e.data);
            source.close();
            resolve(got);
          });
          source.onerror = () => {
            source.close();
            resolve(got);
          };
        });
        return out;
      }, koubou.url);

      assert.equal(await taskCount(), before, 'no task was created');
      assert.equal(seen.get('POST /task/delegate'), 403, 'the forged submits reached Koubou and were refused');
      assert.match(String(results.read), /^failed/);
      assert.deepEqual(results.ws, { opened: false, got: [] });
      assert.deepEqual(results.events, []);
      assert.equal(seen.get('GET /tasks'), 403);
      assert.equal(seen.get('GET /events'), 403);
    } finally {
      await page.close();
    }
  });

  it('a DNS-rebound page, same-origin in the eyes of the browser, is refused for its Host', async () => {
    const page = await browser.newPage();
    const port = new URL(koubou.url).port;
    const rebound = `http://${REBOUND}:${port}`;
    // The page comes from the attacker's server (fulfilled here); later lookups of its name give 127.0.0.1.
    await page.route(`${rebound}/attack`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>rebound</title>' }));
    try {
      await page.goto(`${rebound}/attack`);
      const before = await taskCount();
      const results = await page.evaluate(async () => {
        const { location, WebSocket } = globalThis as any;
        const read = await fetch('/tasks');
        const submit = await fetch('/task/delegate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'forged after rebinding' }) });
        const ws = await new Promise((resolve) => {
          const socket = new WebSocket(`ws://${location.host}/ws`);
          socket.onopen = () => resolve('opened');
          socket.onerror = () => resolve('refused');
        });
        return { read: { status: read.status, body: await read.text() }, submit: { status: submit.status, body: await submit.text() }, ws };
      });
      // Same-origin, the page can read the answers: they are refusals naming the Host.
      assert.equal(results.read.status, 403, results.read.body);
      assert.match(results.read.body, /host_not_allowed/);
      assert.ok(!results.read.body.includes(SECRET));
      assert.equal(results.submit.status, 403, results.submit.body);
      assert.equal(results.ws, 'refused');
      assert.equal(await taskCount(), before);
    } finally {
      await page.close();
    }
  });
});
