/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven by playwright-core): it loads with the token
 * from its address and no console error; a task submitted through its form streams and completes with its output; a
 * waiting and a running task are cancelled from its buttons and the API agrees; the API itself still wants the token,
 * and a page without one asks for it. The last test keeps a screenshot at artifacts/dashboard.png (a CI artifact; the
 * directory is git-ignored).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { api } from '../helpers/api.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { ollamaAnswer } from '../helpers/wire.js';

const TOKEN = 'dash-token';
/** Compiled, this file runs from dist/test/integration/. */
const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/', import.meta.url));
/** Generous: CI machines are slow, and nothing here measures time. */
const WAIT_MS = 15_000;

describe('the dashboard in a browser', { skip: chromiumMissing() ?? false }, () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  let browser: Browser;
  let page: Page;
  const problems: string[] = [];
  let submittedId = '';

  before(async () => {
    fake = await startFakeLlm();
    // One worker, so a second long task has to wait: it can be cancelled while pending.
    koubou = await startTestCoordinator({ backends: [{ url: fake.url, min_workers: 1, max_workers: 1 }], extra: { server: { api_token: TOKEN } } });
    client = api(koubou.url, TOKEN);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  });
  after(async () => {
    // The page first: its live streams should end before the server goes.
    await browser?.close();
    await koubou?.close();
    await fake?.close();
  });

  it('serves the page without a token, while the API still answers 401 without one', async () => {
    const pageRes = await fetch(`${koubou.url}/`);
    assert.equal(pageRes.status, 200);
    assert.match(pageRes.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await pageRes.text(), /<title>Koubou<\/title>/);
    for (const path of ['/tasks', '/workers', '/api/dashboard', '/events']) {
      const res = await fetch(`${koubou.url}${path}`);
      assert.equal(res.status, 401, path);
      await res.body?.cancel();
    }
  });

  it('loads with the token from its address, hides it, and shows the pool live with no console error', async () => {
    await page.goto(`${koubou.url}/?access_token=${TOKEN}`);
    await page.locator('#live[data-state="live"]').waitFor({ timeout: WAIT_MS });
    await page.locator('#workers-body tr[data-worker]').first().waitFor({ timeout: WAIT_MS });
    await page.locator('#health-status[data-state="ok"]').waitFor({ timeout: WAIT_MS });
    assert.ok(!page.url().includes('access_token'), `the token stays out of the address bar: ${page.url()}`);
    assert.equal(await page.evaluate(() => (globalThis as any).localStorage.getItem('koubou.apiToken')), TOKEN);
    assert.deepEqual(problems, []);
  });

  it('submits a task through the form and shows it streaming, then completed with its output', async () => {
    // Markup in the prompt must come back as text, never as elements.
    const prompt = 'Write <b id="injected">bold</b> & "quoted" words slowly, one by one, for the watchers [[chunk-delay:200]]';
    await page.fill('#submit-prompt', prompt);
    await page.selectOption('#submit-type', 'documentation');
    await page.fill('#submit-priority', '7');
    await page.click('#submit-button');

    const view = page.locator('#task-view-body');
    // Streaming: part of the output is on the page while the task still runs.
    await view.locator('.output[data-status="in_progress"]', { hasText: 'echo(fake-model)' }).waitFor({ timeout: WAIT_MS });
    await view.locator('.task-title .badge[data-status="completed"]').waitFor({ timeout: WAIT_MS });
    submittedId = (await view.locator('.task-full-id').textContent()) ?? '';
    const expected = `echo(fake-model): ${prompt}`;
    await eventually(async () => (await view.locator('.output').textContent()) === expected, WAIT_MS);
    assert.equal(await page.locator('#injected').count(), 0, 'no element was made from the prompt');
    const kinds = await view.locator('.history li').evaluateAll((items) => items.map((li) => li.getAttribute('data-kind')));
    assert.deepEqual(kinds, ['queued', 'assigned', 'completed']);
    await page.locator(`#tasks-list .task-row[data-task-id="${submittedId}"][data-status="completed"]`).waitFor({ timeout: WAIT_MS });

    const status = (await client.status(submittedId)).body;
    assert.equal(status.status, 'completed');
    assert.equal(status.type, 'documentation');
    assert.equal(status.priority, 7);
    assert.equal(status.result.output, expected);
    const meta = (await view.locator('.meta-grid').textContent()) ?? '';
    assert.match(meta, /Finishstop/);
    assert.match(meta, /Answered byfake-model/);
    assert.match(meta, /Tokens\d+ in · \d+ out/);
    assert.deepEqual(problems, []);
  });

  it('shows a truncated answer with a warning, how it ended and the reasoning it was asked to keep', async () => {
    fake.script([{ chunks: ollamaAnswer({ model: 'gpt-oss:20b', thinking: 'Count to three.', content: 'one, two, th', doneReason: 'length', promptTokens: 5, evalTokens: 9 }) }]);
    const id = (await client.delegate({ prompt: 'count', options: { include_reasoning: true } })).body.task_id as string;
    await eventually(async () => (await client.status(id)).body.status === 'completed', WAIT_MS);
    await page.locator(`#tasks-list .task-row[data-task-id="${id}"]`).click();
    const view = page.locator('#task-view-body');
    await view.locator('.warn-box', { hasText: 'cut short (finish reason: length)' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await view.locator('.output').textContent(), 'one, two, th');
    assert.match((await view.locator('.meta-grid').textContent()) ?? '', /Finishlength \(truncated\).*Answered bygpt-oss:20b.*Tokens5 in · 9 out/);
    assert.equal(await view.locator('.reasoning pre').textContent(), 'Count to three.');
    assert.deepEqual(problems, []);
  });

  it('cancels a waiting task from the list and a running one from the task view; the API agrees', async () => {
    // The only worker takes the first; the second waits behind it.
    const slow = 'one two three four five six seven eight nine ten eleven twelve [[chunk-delay:2000]]';
    const running = (await client.delegate({ prompt: `running: ${slow}` })).body.task_id as string;
    await eventually(async () => (await client.status(running)).body.status === 'in_progress', WAIT_MS);
    const waiting = (await client.delegate({ prompt: `waiting: ${slow}`, priority: 3 })).body.task_id as string;

    const waitingRow = page.locator(`#tasks-list .task-row[data-task-id="${waiting}"][data-status="pending"]`);
    await waitingRow.waitFor({ timeout: WAIT_MS });
    await waitingRow.locator('button.cancel').click();
    await page.locator(`#tasks-list .task-row[data-task-id="${waiting}"][data-status="cancelled"]`).waitFor({ timeout: WAIT_MS });
    assert.equal((await client.status(waiting)).body.status, 'cancelled');

    await page.locator(`#tasks-list .task-row[data-task-id="${running}"]`).click();
    const view = page.locator('#task-view-body');
    await view.locator('.task-title .badge[data-status="in_progress"]').waitFor({ timeout: WAIT_MS });
    await page.click('#task-view-cancel');
    await view.locator('.task-title .badge[data-status="cancelled"]').waitFor({ timeout: WAIT_MS });
    await page.locator(`#tasks-list .task-row[data-task-id="${running}"][data-status="cancelled"]`).waitFor({ timeout: WAIT_MS });
    assert.equal((await client.status(running)).body.status, 'cancelled');
    // The running generation was aborted at the LLM server, not left to finish.
    await eventually(() => fake.abortedCount >= 1, WAIT_MS);
    assert.deepEqual(problems, []);
  });

  it('asks for the token when it has none, then loads with the one given', async () => {
    // A fresh context: no stored token. Its 401s are expected, so its console is not watched.
    const context = await browser.newContext();
    try {
      const fresh = await context.newPage();
      await fresh.goto(`${koubou.url}/`);
      await fresh.locator('#token-dialog[open]').waitFor({ timeout: WAIT_MS });
      await fresh.fill('#token-input', TOKEN);
      await fresh.click('#token-save');
      await fresh.locator('#live[data-state="live"]').waitFor({ timeout: WAIT_MS });
      await fresh.locator('#workers-body tr[data-worker]').first().waitFor({ timeout: WAIT_MS });
      assert.equal(await fresh.locator('#token-dialog[open]').count(), 0);
    } finally {
      await context.close();
    }
  });

  it('keeps a screenshot of the dashboard at work as a test artifact (artifacts/dashboard.png)', async () => {
    // Something to look at: one task streaming, two waiting at different priorities.
    const slow = 'Summarise the workshop log for the morning shift, one line per bench [[chunk-delay:300]]';
    const running = (await client.delegate({ prompt: slow, type: 'analysis', priority: 9 })).body.task_id as string;
    await eventually(async () => (await client.status(running)).body.status === 'in_progress', WAIT_MS);
    const waiting = [
      (await client.delegate({ prompt: `later: ${slow}`, priority: 6 })).body.task_id as string,
      (await client.delegate({ prompt: `much later: ${slow}`, type: 'translation', priority: 2 })).body.task_id as string,
    ];
    await page.locator(`#tasks-list .task-row[data-task-id="${running}"]`).click();
    await page.locator('#task-view-body .output[data-status="in_progress"]', { hasText: 'the workshop log' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#queue-priorities [data-priority="2"]').waitFor({ timeout: WAIT_MS });
    await page.locator(`#workers-body button.link[title="${running}"]`).waitFor({ timeout: WAIT_MS });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });
    for (const id of [...waiting, running]) await client.call('DELETE', `/task/${id}`);
    await page.locator('#queue-priorities .empty').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(problems, []);
  });
});
