/** GET /metrics: valid Prometheus text whose counters move as tasks run. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../helpers/api.js';
import { startTestCoordinator, type TestCoordinator } from '../helpers/coordinator.js';
import { eventually } from '../helpers/eventually.js';
import { startFakeLlm, type FakeLlm } from '../helpers/fake-llm.js';
import { parsePrometheus, sampleValue, type Sample } from '../helpers/prometheus.js';
import { tempDir } from '../helpers/temp.js';

describe('Prometheus metrics', () => {
  let fake: FakeLlm;
  let koubou: TestCoordinator;
  let client: ReturnType<typeof api>;
  const scrape = async (): Promise<Sample[]> => {
    const res = await fetch(`${koubou.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await res.text());
  };

  before(async () => {
    fake = await startFakeLlm();
    koubou = await startTestCoordinator({ backends: [{ name: 'gpu', url: fake.url, min_workers: 2, max_workers: 2 }], extra: { tasks: { max_attempts: 1 } } });
    client = api(koubou.url);
  });
  after(async () => {
    await koubou.close();
    await fake.close();
  });

  it('counts tasks, waits, runs, backend calls and workers as they happen', async () => {
    const before = await scrape();
    assert.equal(sampleValue(before, 'koubou_workers', { status: 'total' }), 2);
    await client.delegate({ prompt: 'a', type: 'code', sync: true });
    await client.delegate({ prompt: 'b', type: 'code', sync: true });
    await client.delegate({ prompt: '[[mode:error400]] c', type: 'translation', sync: true });
    const after = await scrape();
    assert.equal(sampleValue(after, 'koubou_tasks_finished_total', { state: 'completed', type: 'code' }), 2);
    assert.equal(sampleValue(after, 'koubou_tasks_finished_total', { state: 'failed', type: 'translation' }), 1);
    assert.equal(sampleValue(after, 'koubou_tasks_submitted_total', { type: 'code' }), 2);
    assert.equal(sampleValue(after, 'koubou_tasks', { state: 'completed' }), 2);
    assert.equal(sampleValue(after, 'koubou_task_queue_wait_seconds_count'), 3);
    assert.equal(sampleValue(after, 'koubou_task_run_seconds_count'), 3);
    assert.equal(sampleValue(after, 'koubou_backend_request_seconds_count', { backend: 'gpu', outcome: 'ok' }), 2);
    assert.equal(sampleValue(after, 'koubou_backend_errors_total', { backend: 'gpu', code: 'backend_http_error' }), 1);
    assert.equal(sampleValue(after, 'koubou_worker_restarts'), 0);
    assert.ok(sampleValue(after, 'koubou_process_resident_memory_bytes') > 0, 'process metrics are there too');
  });
});

describe('Prometheus metrics across a restart', () => {
  it('counts a task that was pending at start-up under its own type', async () => {
    const fake = await startFakeLlm();
    const dir = tempDir();
    try {
      // The first coordinator's backend takes only code, so the translation waits, and is on disk when it stops.
      const first = await startTestCoordinator({ dir: dir.path, backends: [{ url: fake.url, types: ['code'] }] });
      const id = (await api(first.url).delegate({ prompt: 'bonjour', type: 'translation' })).body.task_id as string;
      await first.coordinator.stop();
      const second = await startTestCoordinator({ dir: dir.path, backends: [{ url: fake.url }] });
      try {
        await eventually(async () => (await api(second.url).status(id)).body.status === 'completed');
        const samples = parsePrometheus(await (await fetch(`${second.url}/metrics`)).text());
        assert.equal(sampleValue(samples, 'koubou_tasks_finished_total', { state: 'completed', type: 'translation' }), 1);
      } finally {
        await second.coordinator.stop();
      }
    } finally {
      await fake.close();
      dir.remove();
    }
  });
});
