/**
 * The store transitions as the actors use them, on a real SQLite store. The scheduler commits an assignment a turn after
 * the run starts; a run that ends before that commit must still end its task.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.js';
import { silentLogger } from '../../src/logger.js';
import { storeTransitions } from '../../src/delegation/transitions.js';
import { openStore, type Store } from '../../src/store/store.js';
import { ManualClock } from '../helpers/manual-clock.js';
import { tempDir } from '../helpers/temp.js';

const newTask = (id: string) => ({ id, type: 'general' as const, prompt: `prompt ${id}`, files: [], options: {}, priority: 5 });

describe('store transitions', () => {
  const dir = tempDir();
  let store: Store;
  let clock: ManualClock;
  before(async () => {
    clock = new ManualClock();
    store = await openStore(join(dir.path, 'k.db'), clock);
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  for (const end of ['finish', 'retry', 'requeue', 'defer'] as const) {
    it(`a run whose ${end} comes before its assignment's commit still ends it`, async () => {
      const id = `t-${end}`;
      const transitions = storeTransitions(store.tasks, new EventBus(), clock, { max_attempts: 3, max_defer_ms: 60_000 }, silentLogger);
      await store.tasks.insert(newTask(id));
      const claim = transitions.assign(id, 'w1', `lease-${end}`);
      assert.ok(claim);
      // The run ends at once, before the scheduler starts the commit.
      const ending =
        end === 'finish'
          ? transitions.finish(id, `lease-${end}`, { status: 'failed', error: { code: 'invalid_request', message: 'refused' } })
          : end === 'retry'
            ? transitions.retry(id, `lease-${end}`, { code: 'backend_busy', message: 'busy' }, 1000)
            : end === 'requeue'
              ? transitions.requeue(id, `lease-${end}`, 'worker lost')
              : transitions.defer(id, `lease-${end}`, { code: 'backend_busy', message: 'busy' }, 1000, 'b0');
      assert.equal(await claim.commit(), true);
      assert.ok(await ending, `${end} applied`);
      const task = store.tasks.get(id);
      assert.equal(task?.status, end === 'finish' ? 'failed' : 'pending');
      // A deferred run gives its attempt back: the backend pushed back, the task did not fail.
      assert.equal(task?.attempts, end === 'defer' ? 0 : 1);
    });
  }
});
