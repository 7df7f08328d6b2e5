/**
 * The dashboard in real headless Chromium (Debian's `chromium`, driven by playwright-core): it loads with the token
 * from its address and no console error; a task submitted through its form streams and completes with its output; a
 * waiting and a running task are cancelled from its buttons and the API agrees; the API itself still wants the token,
 * and a page without one asks for it. Lists show each task's prompt excerpt and whole id. At desktop and phone widths
 * (1440 and 390 px) the workers' status and heartbeat can be read (in sight, or in a box that shows it scrolls), task
 * details are not cut, and a selected task's panel comes into view; screenshots of both widths are kept in
 * artifacts/ (a CI artifact; the directory is git-ignored).
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
const PHONE = { width: 390, height: 844 };

/**
 * Whether each worker's Status and Heartbeat cells (columns 3 and 4) can be read: 'visible' when the cell lies inside
 * its scroll box and the viewport, 'scrolls' when it lies beyond the edge of a box that scrolls sideways and fades that
 * edge (data-more), else a description of the cut. Read in one go: the rows are redrawn as updates come.
 */
function workerCellsReach(page: Page): Promise<string[]> {
  return page.locator('#workers-body').evaluate((body) =>
    [...body.querySelectorAll('tr[data-worker] td:is(:nth-child(3), :nth-child(4))')].map((td) => {
      const r = td.getBoundingClientRect();
      const box = td.closest('.table-wrap') as any;
      const b = box.getBoundingClientRect();
      const right = Math.min((globalThis as any).document.documentElement.clientWidth, b.right);
      if (r.width > 0 && r.left >= Math.max(0, b.left) - 1 && r.right <= right + 1) return 'visible';
      if (box.scrollWidth > box.clientWidth && (box.dataset.more ?? '').includes(r.left < b.left ? 'left' : 'right')) return 'scrolls';
      return `${td.getAttribute('data-label')} cut off: cell ${r.left}..${r.right}, box ${b.left}..${b.right}, more=${box.dataset.more}`;
    }),
  );
}

/** Elements whose text does not fit their box (cut with an ellipsis or hidden), or that reach past the viewport. */
function cutText(page: Page, selector: string): Promise<string[]> {
  return page.locator(selector).evaluateAll((els) =>
    els
      .filter((e) => e.scrollWidth > e.clientWidth + 1 || e.getBoundingClientRect().right > (globalThis as any).document.documentElement.clientWidth + 1)
      .map((e) => e.textContent ?? ''),
  );
}

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
    // Its view says why it waits, as its status does.
    await waitingRow.click();
    const why = page.locator('#task-view-waiting[data-code="workers_busy"]');
    await why.waitFor({ timeout: WAIT_MS });
    assert.match(await why.innerText(), /all 1 worker that can run it is busy/);
    await waitingRow.locator('button.cancel').click();
    await page.locator(`#tasks-list .task-row[data-task-id="${waiting}"][data-status="cancelled"]`).waitFor({ timeout: WAIT_MS });
    assert.equal((await client.status(waiting)).body.status, 'cancelled');
    await page.locator('#task-view-body .task-title .badge[data-status="cancelled"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#task-view-waiting').count(), 0, 'a task no longer pending says nothing about waiting');

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
    const slow = 'Summarise the workshop log for the morning shift, one line per bench [[chunk-delay:1500]]';
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
    await checkLayout(page, running, slow);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}dashboard.png`, fullPage: true });

    // The same pool on a phone.
    const phone = await browser.newPage({ viewport: PHONE });
    phone.on('console', (m) => m.type() === 'error' && problems.push(`phone console: ${m.text()}`));
    phone.on('pageerror', (err) => problems.push(`phone page error: ${err.message}`));
    try {
      await phone.goto(`${koubou.url}/?access_token=${TOKEN}`);
      await phone.locator(`#workers-body button.link[title="${running}"]`).waitFor({ timeout: WAIT_MS });
      assert.equal(await phone.evaluate(() => (globalThis as any).document.documentElement.scrollWidth), PHONE.width, 'the page itself does not scroll sideways');
      const onPhone = await workerCellsReach(phone);
      assert.ok(onPhone.length >= 2, 'status and heartbeat of each worker');
      assert.deepEqual(onPhone, onPhone.map(() => 'visible'), 'on a phone the workers need no sideways scrolling');
      // Selecting a task from the list (below the fold on a phone) brings its panel into view.
      await phone.evaluate(() => (globalThis as any).scrollTo(0, 0));
      await phone.locator(`#tasks-list .task-row[data-task-id="${waiting[0]}"]`).click();
      await phone.locator('#task-view-body .task-full-id', { hasText: waiting[0] }).waitFor({ timeout: WAIT_MS });
      let top = NaN;
      await eventually(async () => {
        top = await phone.locator('#task-view').evaluate((e) => e.getBoundingClientRect().top);
        return top > -1 && top < PHONE.height / 2;
      }, WAIT_MS).catch(async (err) => {
        await phone.screenshot({ path: `${ARTIFACTS}dashboard-phone-failed.png` });
        throw new Error(`the task panel stays out of view (top ${top} px): ${err.message}`);
      });
      await checkLayout(phone, waiting[0]!, `later: ${slow}`);
      await phone.screenshot({ path: `${ARTIFACTS}dashboard-phone.png`, fullPage: true });
      await phone.screenshot({ path: `${ARTIFACTS}dashboard-phone-task.png` });
    } finally {
      await phone.close();
    }
    for (const id of [...waiting, running]) await client.call('DELETE', `/task/${id}`);
    await page.locator('#queue-priorities .empty').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(problems, []);
  });
});

/**
 * What must hold at any width with `open` selected: each worker's status and heartbeat can be read, the list shows
 * tasks by prompt excerpt and whole id, and no task detail or list line is cut.
 */
async function checkLayout(page: Page, open: string, openPrompt: string): Promise<void> {
  await page.locator(`#tasks-list .task-row[data-task-id="${open}"]`).click();
  await page.locator(`#task-view-body .task-full-id`, { hasText: open }).waitFor({ timeout: WAIT_MS });
  const width = page.viewportSize()!.width;
  const reach = await workerCellsReach(page);
  assert.deepEqual(reach.filter((r) => r !== 'visible' && r !== 'scrolls'), [], `${width} px: workers' status and heartbeat`);
  const listed = page.locator(`#tasks-list .task-row[data-task-id="${open}"]`);
  assert.equal(await listed.locator('.task-id').textContent(), open, 'the whole id, as the CLI prints it');
  assert.equal(await listed.locator('.task-prompt').textContent(), openPrompt.replace(/\s+/g, ' ').slice(0, 80) + (openPrompt.length > 80 ? '…' : ''));
  assert.deepEqual(await cutText(page, '#task-view-body .meta-grid dd'), [], `${width} px: task details cut`);
  assert.deepEqual(await cutText(page, '#tasks-list .task-meta, #tasks-list .task-id'), [], `${width} px: list lines cut`);
}
