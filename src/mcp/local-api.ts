/** The MCP tools' API served by the coordinator's own core (the /mcp route, and `koubou mcp` when none is running). */
import type { Core } from '../core.js';
import { parseDelegateInput } from '../tasks/validate.js';
import { statusView } from '../delegation/view.js';
import { workerView } from '../store/worker-view.js';
import { delegateBody, type KoubouApi } from './api.js';

export function localApi(core: Pick<Core, 'service' | 'bus' | 'health' | 'workers'>, now: () => number = Date.now): KoubouApi {
  const { service } = core;
  const view = async (id: string, waitMs = 0) => {
    const task = await service.watch(id, waitMs);
    const partial = service.partialOutput(task);
    return statusView(task, await service.estimate(task), partial && { ...partial, from: 0 });
  };
  return {
    async delegate(args) {
      const { taskId } = await service.submit(parseDelegateInput(delegateBody(args)));
      return view(taskId);
    },
    getTask: (id, waitSeconds) => view(id, waitSeconds * 1000),
    async cancel(id) {
      return statusView(await service.cancel(id));
    },
    async list(status, limit) {
      return (await service.list({ status, limit })).map((t) => statusView(t));
    },
    async poolStatus() {
      return { health: await core.health(), workers: (await core.workers()).map((w) => workerView(w, now())) };
    },
    onOutput(id, listener) {
      return core.bus.subscribeTask(id, (e) => {
        if (e.kind === 'progress' && typeof e.detail?.chunk === 'string') listener(e.detail.chunk);
      });
    },
  };
}
