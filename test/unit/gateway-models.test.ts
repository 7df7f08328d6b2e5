import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Core } from '../../src/core.js';
import { modelDirectory } from '../../src/gateway/models.js';
import { NODE_RETURN_MS } from '../../src/routing/pool-view.js';
import type { WorkerInfo } from '../../src/store/worker-view.js';

/** A node's live worker serving `model`, as Core.workers() lists it. */
const nodeWorker = (model: string) => ({ id: 'remote:gpu:0', backend: 'gpu', model, location: 'remote', status: 'idle', models: [model] }) as unknown as WorkerInfo;

describe('the gateway model directory', () => {
  it("still finds a node's model for pool.node_return_ms after the node left (requests wait for it), then no more; the listing shows live ones only", async () => {
    let clock = 1_000_000;
    let workers: WorkerInfo[] = [nodeWorker('big-model')];
    const listeners: (() => void)[] = [];
    const core = {
      config: { backends: [], pool: { node_return_ms: NODE_RETURN_MS } },
      workers: async () => workers,
      workerEvents: { subscribe: (f: () => void) => listeners.push(f) },
      nodesHeardFrom: () => ({ models: [], since: 0 }),
    } as unknown as Pick<Core, 'config' | 'workers' | 'workerEvents' | 'nodesHeardFrom'>;
    const models = modelDirectory(core, () => clock);
    assert.equal((await models.find('big-model'))?.owner, 'node');
    // The node leaves: its worker is gone, and an event says so.
    workers = [];
    for (const f of listeners) f();
    assert.deepEqual(await models.list(), []);
    assert.equal((await models.find('big-model'))?.name, 'big-model', 'waited for: the node may be restarting');
    assert.equal(await models.find('other-model'), null, 'a model nobody served is not found');
    clock += NODE_RETURN_MS - 1;
    assert.notEqual(await models.find('big-model'), null);
    clock += 1;
    assert.equal(await models.find('big-model'), null, 'not back within NODE_RETURN_MS: no longer served');
    // Back again: found as any live model.
    workers = [nodeWorker('big-model')];
    for (const f of listeners) f();
    assert.equal((await models.find('big-model'))?.owner, 'node');
  });

  it('finds the models of the nodes a restarted coordinator heard from before, for pool.node_return_ms after its start', async () => {
    let clock = 5_000_000;
    const core = {
      config: { backends: [], pool: { node_return_ms: NODE_RETURN_MS } },
      workers: async () => [],
      workerEvents: { subscribe: () => undefined },
      nodesHeardFrom: () => ({ models: ['big-model'], since: 5_000_000 }),
    } as unknown as Pick<Core, 'config' | 'workers' | 'workerEvents' | 'nodesHeardFrom'>;
    const models = modelDirectory(core, () => clock);
    assert.equal((await models.find('big-model:latest'))?.name, 'big-model');
    assert.equal(await models.find('other-model'), null);
    clock += NODE_RETURN_MS;
    assert.equal(await models.find('big-model'), null);
  });
});
