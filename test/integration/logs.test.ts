/** Structured logs: pino JSON lines to a file and the ring behind GET /api/logs; GET /api/workers/status. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LogRing } from '../../src/logging/log-ring.js';
import { createPinoLogger } from '../../src/logging/pino-logger.js';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { FaultyWorkers } from '../helpers/faulty-workers.js';
import { tempDir } from '../helpers/temp.js';

describe('logs', () => {
  const dir = tempDir();
  const file = join(dir.path, 'logs', 'koubou.log');
  const logs = new LogRing();
  const faults = new FaultyWorkers();
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({
      backends: [{ url: fake.url }],
      log: createPinoLogger({ level: 'info', console: 'none', file, ring: logs }),
      logs,
      spawnWorker: faults.spawn,
      extra: { pool: { restart: { base_ms: 10, max_ms: 50, intensity: 5, period_ms: 60_000 } } },
    });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
    dir.remove();
  });

  it('serves recent entries, filtered by level and worker, and writes them to the log file', async () => {
    const all = (await client.get('/api/logs')).body;
    assert.ok(all.logs.some((e: { msg: string }) => e.msg === 'supervision tree started'), JSON.stringify(all.logs));
    const id = (await client.delegate({ prompt: '[[mode:hang]] to crash' })).body.task_id;
    await eventually(async () => (await client.status(id)).body.status === 'in_progress');
    faults.crash('local:b0:0');
    await eventually(async () => (await client.get('/api/logs?worker=local:b0:0&level=warn')).body.count > 0);
    const warned = (await client.get('/api/logs?worker=local:b0:0&level=warn')).body.logs;
    assert.ok(warned.every((e: { level: number; worker: string }) => e.level >= 40 && e.worker === 'local:b0:0'));
    assert.ok(warned.some((e: { msg: string }) => e.msg === 'worker crashed'));
    assert.equal((await client.get('/api/logs?level=info&limit=1')).body.count, 1);
    assert.equal((await client.get('/api/logs?level=loud')).status, 400);
    await eventually(() => existsSync(file) && readFileSync(file, 'utf8').includes('worker crashed'));
    for (const line of readFileSync(file, 'utf8').trim().split('\n')) assert.doesNotThrow(() => JSON.parse(line), line);
    await client.call('DELETE', `/task/${id}`);
  });

  it('lists workers at the seeds\' path', async () => {
    const res = (await client.get('/api/workers/status')).body;
    assert.equal(res.count, 1);
    assert.equal(res.workers[0].worker_id, 'local:b0:0');
  });
});
