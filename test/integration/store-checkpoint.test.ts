/**
 * WAL checkpoints run in the checkpointer's thread, not in the commits: after a burst of writes the store file itself
 * grows while the process keeps writing, long before the WAL reaches SQLite's own threshold (10,000 pages), and the WAL
 * stops growing once its frames are checkpointed. A real store file, a real thread.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/clock.js';
import { openStore } from '../../src/store/store.js';
import { newTaskId } from '../../src/tasks/ids.js';
import { eventually } from '../helpers/eventually.js';
import { tempDir } from '../helpers/temp.js';

/** About 2 KiB a task: 1,000 of them are ~2 MB, far below the 40 MB at which SQLite would checkpoint by itself. */
const PROMPT = 'x'.repeat(2000);

describe('WAL checkpoints', () => {
  it('are taken off the committing thread once writes come in a burst: the store file grows, the WAL stays small', async () => {
    const dir = tempDir('koubou-checkpoint-');
    const path = join(dir.path, 'koubou.db');
    const store = await openStore(path, systemClock);
    try {
      const sizeAtStart = statSync(path).size;
      // One commit per task (each awaited), as a steady stream of submits makes them.
      for (let i = 0; i < 1000; i++) {
        await store.tasks.insert({ id: newTaskId(systemClock), type: 'general', prompt: PROMPT, files: [], options: {}, priority: 5 });
      }
      await eventually(() => statSync(path).size > sizeAtStart + 1_000_000, 10_000);
      // Once checkpointed, new commits reuse the WAL from its start instead of growing it.
      const walAfterBurst = statSync(`${path}-wal`).size;
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 300; i++) {
          await store.tasks.insert({ id: newTaskId(systemClock), type: 'general', prompt: PROMPT, files: [], options: {}, priority: 5 });
        }
        await new Promise((resolve) => setTimeout(resolve, 1_200));
      }
      const wal = statSync(`${path}-wal`).size;
      assert.ok(wal <= walAfterBurst * 1.5, `the WAL kept growing (${walAfterBurst} → ${wal} bytes): nothing checkpointed it`);
      assert.equal((await store.tasks.list({ limit: 2000 })).length, 1900);
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
