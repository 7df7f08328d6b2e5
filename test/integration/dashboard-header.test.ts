/**
 * The dashboard's header and throughput note in real headless Chromium: the "API token" button shows only when the
 * coordinator has a token, and the throughput note says what its number is before the number.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { api } from '../helpers/api.js';
import { chromiumMissing, launchChromium } from '../helpers/browser.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';

const TOKEN = 'header-token';
const WAIT_MS = 15_000;

describe('the dashboard header', { skip: chromiumMissing() ?? false }, () => {
  let fake: FakeLlm;
  let open: TestCoordinator;
  let guarded: TestCoordinator;
  let browser: Browser;

  before(async () => {
    fake = await startFakeLlm();
    [open, guarded] = await Promise.all([
      startTestCoordinator({ backends: [{ url: fake.url }] }),
      startTestCoordinator({ backends: [{ url: fake.url }], extra: { server: { api_token: TOKEN } } }),
    ]);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await open?.close();
    await guarded?.close();
    await fake?.close();
  });

  it('hides the "API token" button when the coordinator has no token, and names the throughput figure', async () => {
    await api(open.url).delegate({ prompt: 'one for the chart', sync: true });
    const page = await browser.newPage();
    try {
      await page.goto(`${open.url}/`);
      await page.locator('#health-status[data-state="ok"]').waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#token-button').isHidden(), true);
      const note = page.locator('#throughput-note');
      await eventually(async () => /\d/.test((await note.textContent()) ?? ''), WAIT_MS);
      assert.match((await note.textContent()) ?? '', /^completed per minute, last \d+ min: \d+(\.\d+)?$/);
    } finally {
      await page.close();
    }
  });

  it('shows it when the coordinator has a token, whether the page has it already or is asked for it', async () => {
    const withToken = await browser.newPage();
    try {
      await withToken.goto(`${guarded.url}/?access_token=${TOKEN}`);
      await withToken.locator('#health-status[data-state="ok"]').waitFor({ timeout: WAIT_MS });
      await withToken.locator('#token-button').waitFor({ state: 'visible', timeout: WAIT_MS });
      assert.equal(await withToken.locator('#token-button').textContent(), 'API token ✓');
      // A fresh context has no stored token: the 401 opens the dialog and brings the button.
      const fresh = await browser.newContext();
      const page = await fresh.newPage();
      await page.goto(`${guarded.url}/`);
      await page.locator('#token-dialog[open]').waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#token-button').isVisible(), true);
      await fresh.close();
    } finally {
      await withToken.close();
    }
  });
});
