/**
 * The proxy of one slot on a koubou-node. The scheduler treats it like a local worker; it forwards runs and cancels
 * to the node. Its lease is kept by the node's heartbeats (see the node registry), and its results arrive through the
 * node bridge, which records them under the run's lease like a local worker would.
 */
import { spawn, type Ref } from 'nact';
import { remoteGroup, type RemoteSend, type RemoteSlotInfo } from '../src/nodes/remote-slot.js';
import type { WorkerHandle, WorkerMsg } from '../src/routing/worker-protocol.js';

/** Spawns the proxy of one remote slot under parent (the node registry's holder of that node's session). */
export function spawnRemoteWorker(parent: Ref<any>, actorName: string, slot: RemoteSlotInfo, send: RemoteSend): WorkerHandle {
  const ref = spawn(
    parent,
    (state: null, msg: WorkerMsg) => {
      if (msg.type === 'run') send.run(slot, msg.task, msg.lease);
      else if (msg.type === 'cancel') send.cancel(slot, msg.lease);
      return state;
    },
    actorName,
    // Forwarding cannot fail in a way a restart would fix; a crash is logged by the parent's sweep when beats stop.
    { onCrash: (_msg, _err, ctx) => ctx.resume },
  );
  return { id: slot.id, incarnation: slot.incarnation, ref, backend: slot.backend, model: slot.model, location: 'remote', group: remoteGroup(slot.nodeId, slot.backend), caps: slot.caps };
}
