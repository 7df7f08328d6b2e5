/** At start-up, a warning for each backend that does not answer or does not list its model, naming the fix. */
import type { Logger } from '../logger.js';
import { checkModel } from './model-check.js';
import type { Backend } from './types.js';

const STARTUP_CHECK_TIMEOUT_MS = 5_000;

/** Checks every backend once; logs a warning per problem. Resolves to the names of those that did not answer. Never throws. */
export async function warnAboutBackends(settings: readonly { name: string; url: string }[], backends: readonly Backend[], log: Logger): Promise<string[]> {
  const down = await Promise.all(
    backends.map(async (b, i) => {
      const url = settings[i]?.url;
      const check = await checkModel(b, AbortSignal.timeout(STARTUP_CHECK_TIMEOUT_MS));
      if (check.state === 'unreachable') {
        log.warn(`backend ${b.name} does not answer at ${url}: start it (tasks for it wait in the queue meanwhile)`, { backend: b.name, url, code: 'backend_unavailable' });
        return [b.name];
      } else if (check.state === 'model_missing') {
        log.warn(`backend ${b.name} does not list model ${b.model}; to fix: ${check.fix}`, { backend: b.name, url, model: b.model, code: 'model_missing', fix: check.fix, listed: check.listed });
      }
      return [];
    }),
  );
  return down.flat();
}
