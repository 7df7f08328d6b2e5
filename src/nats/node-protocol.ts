/**
 * The coordinator ↔ koubou-node protocol over NATS (subjects under the prefix; JSON with the version field).
 *
 *   <p>.node.join           node → coordinator, request   {node_id, token, slots:[{backend, model, types, models, max_tokens}]}
 *                                                          → {session, heartbeat_interval_ms, max_attempts, retry_base_ms, retry_max_ms, default_timeout_s}
 *   <p>.node.beat           node → coordinator, request   {node_id, session, leases} → {known}   (unknown: join again;
 *                                                          leases: the runs in hand — a run missing from two beats never
 *                                                          reached the node and is requeued)
 *   <p>.node.<id>.run       coordinator → node, publish   {session, slot, task, lease}
 *   <p>.node.<id>.cancel    coordinator → node, publish   {session, slot, lease}
 *   <p>.node.outcome        node → coordinator, request   {node_id, session, worker_id, task_id, lease, kind:'finish'|'retry'|'defer', outcome|error, delay_ms, backend}
 *                                                          → {recorded}   (the node repeats it until answered;
 *                                                          defer: its backend pushed back, no attempt is spent)
 *   <p>.node.idle           node → coordinator, publish   {node_id, session, slot}
 *   <p>.node.progress       node → coordinator, publish   {task_id, worker_id, lease, chunk}
 *
 * A node never runs anything but its configured LLM backends: the payloads carry prompts, never commands.
 */
export function nodeSubjects(prefix: string) {
  return {
    join: `${prefix}.node.join`,
    beat: `${prefix}.node.beat`,
    run: (nodeId: string) => `${prefix}.node.${nodeId}.run`,
    cancel: (nodeId: string) => `${prefix}.node.${nodeId}.cancel`,
    outcome: `${prefix}.node.outcome`,
    idle: `${prefix}.node.idle`,
    progress: `${prefix}.node.progress`,
  };
}

export type NodeSubjects = ReturnType<typeof nodeSubjects>;

/** Node ids become subject tokens and worker ids: letters, digits, '-' and '_' only. */
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The worker id of a remote slot, as the scheduler and the store know it. */
export const remoteWorkerId = (nodeId: string, slot: number) => `remote:${nodeId}:${slot}`;
