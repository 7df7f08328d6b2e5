/**
 * The coordinator ↔ koubou-node protocol over NATS (subjects under the prefix; JSON with `"v": 2`).
 *
 * Every subject a node publishes on carries its own node id, so a nats-server with the subject permissions of
 * `koubou nats-config` lets each node speak only as itself; the coordinator takes the node id from the subject.
 *
 *   <p>.node.<id>.join      node → coordinator, request   {token?, slots:[{backend, model, types, models, max_tokens}], ollama_versions?}
 *                                                          → {session, heartbeat_interval_ms, max_attempts, retry_base_ms, retry_max_ms, default_timeout_s, max_output_bytes}
 *   <p>.node.<id>.beat      node → coordinator, request   {session, leases, ollama_versions?} → {known}   (unknown: join again;
 *                                                          leases: the runs in hand — a run missing from two beats never
 *                                                          reached the node and is requeued)
 *                           ollama_versions: {<backend name>: "0.13.5" | null} — what each of the node's Ollama backends
 *                           last said its version was (null: it did not answer); absent from older nodes
 *   <p>.node.<id>.run       coordinator → node, publish   {session, slot, task, lease}
 *   <p>.node.<id>.cancel    coordinator → node, publish   {session, slot, lease}
 *   <p>.node.<id>.outcome   node → coordinator, request   {session, task_id, lease, kind:'finish'|'retry'|'defer', outcome|error, delay_ms, backend}
 *                                                          → {recorded}   (the node repeats it until answered;
 *                                                          defer: its backend pushed back, no attempt is spent)
 *   <p>.node.<id>.idle      node → coordinator, publish   {session, slot}
 *   <p>.node.<id>.progress  node → coordinator, publish   {session, task_id, lease, chunk}
 *
 * A node's requests expect their replies under its own inbox prefix, `<p>.inbox.node.<id>`, so no other client needs
 * (or gets) permission to read them. A node never runs anything but its configured LLM backends: the payloads carry
 * prompts, never commands.
 */
export const NODE_PROTOCOL_VERSION = 2;

/** What a node sends, coordinator-bound; the node id is the subject's fourth-from-last token. */
export const NODE_VERBS = ['join', 'beat', 'outcome', 'idle', 'progress', 'leave'] as const;
export type NodeVerb = (typeof NODE_VERBS)[number];

export function nodeSubjects(prefix: string) {
  const from = (verb: NodeVerb) => (nodeId: string) => `${prefix}.node.${nodeId}.${verb}`;
  return {
    join: from('join'),
    beat: from('beat'),
    outcome: from('outcome'),
    idle: from('idle'),
    progress: from('progress'),
    leave: from('leave'),
    /** What the coordinator subscribes to for one verb: every node's. */
    fromAny: (verb: NodeVerb) => `${prefix}.node.*.${verb}`,
    run: (nodeId: string) => `${prefix}.node.${nodeId}.run`,
    cancel: (nodeId: string) => `${prefix}.node.${nodeId}.cancel`,
    /** Where a node's request replies go (its connection's inbox prefix). */
    nodeInbox: (nodeId: string) => `${prefix}.inbox.node.${nodeId}`,
    coordinatorInbox: `${prefix}.inbox.coordinator`,
    /** The node id a coordinator-bound subject names. */
    nodeIdOf: (subject: string) => subject.slice(prefix.length + '.node.'.length, subject.lastIndexOf('.')),
    /** Where version-1 nodes (shared subjects, node id in the payload) still knock: they are told to upgrade. */
    legacyJoin: `${prefix}.node.join`,
  };
}

export type NodeSubjects = ReturnType<typeof nodeSubjects>;

/** Node ids become subject tokens and worker ids: letters, digits, '-' and '_' only. */
export const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The worker id of a remote slot, as the scheduler and the store know it. */
export const remoteWorkerId = (nodeId: string, slot: number) => `remote:${nodeId}:${slot}`;

/** Whether a worker id names a slot of this node. */
export const isSlotOf = (workerId: string | null, nodeId: string) => workerId !== null && workerId.startsWith(`remote:${nodeId}:`);
