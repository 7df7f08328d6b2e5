import { setTimeout as sleep } from 'node:timers/promises';

/** Polls `check` every `intervalMs` until it returns true; throws naming the condition after `timeoutMs`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() >= deadline) {
      const condition = check.toString().replace(/\s+/g, ' ').slice(0, 200);
      throw new Error(`eventually: condition still false after ${timeoutMs} ms: ${condition}`);
    }
    await sleep(intervalMs);
  }
}
