/**
 * A koubou-node's composition root: its worker actors (actors/worker.ts) put into the node runtime
 * (src/nodes/run-node.ts). Apart from src/main.ts, the only file in src/ that imports from actors/; kept apart so a
 * node does not load the coordinator's store, HTTP server and adapters.
 */
import { spawnWorker } from '../actors/worker.js';
import { runNode, type NodeOptions } from './nodes/run-node.js';

/** Joins the pool at opts.natsUrl and serves it until stop(); rejects when the coordinator refuses the node. */
export function startNode(opts: NodeOptions): ReturnType<typeof runNode> {
  return runNode(opts, spawnWorker);
}
