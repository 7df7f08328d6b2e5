/** Headless Chromium for the dashboard's browser test: Debian's `chromium` package driven by playwright-core. */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** KOUBOU_CHROMIUM points at another Chromium build. */
export const CHROMIUM_PATH = process.env.KOUBOU_CHROMIUM || '/usr/bin/chromium';

/** Why the browser cannot be launched here, or null when it can. */
export function chromiumMissing(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null;
  return `no Chromium at ${CHROMIUM_PATH}: install Debian's "chromium" package (apt-get install chromium; .ci/run does) or set KOUBOU_CHROMIUM`;
}

/** `extraArgs` are further Chromium switches, e.g. --host-resolver-rules to point a test name at loopback. */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    // No sandbox: CI runs as root in a container. The rest keeps a headless run quiet and independent of /dev/shm.
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', ...extraArgs],
  });
}
