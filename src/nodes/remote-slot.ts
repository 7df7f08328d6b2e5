/** A slot on a koubou-node as the coordinator knows it, and how runs and cancels reach it. */
import type { Capabilities } from '../routing/capabilities.js';
import type { Task } from '../tasks/task.js';

/** A slot a koubou-node announces when it joins. */
export interface AnnouncedSlot {
  backend: string;
  model: string;
  caps: Capabilities;
}

/** One incarnation of a remote slot: `remote:<node>:<slot>`, leased by its node's session. */
export interface RemoteSlotInfo extends AnnouncedSlot {
  id: string;
  incarnation: number;
  nodeId: string;
  session: string;
  slot: number;
}

/** How runs and cancels reach a node (the NATS bridge publishes them). */
export interface RemoteSend {
  run(slot: RemoteSlotInfo, task: Task, lease: string): void;
  cancel(slot: RemoteSlotInfo, lease: string): void;
}

/** The slots one backend of one node offers share a speed; `remoteGroup(node, '')` prefixes all of a node's groups. */
export const remoteGroup = (nodeId: string, backend: string) => `remote:${nodeId}:${backend}`;
