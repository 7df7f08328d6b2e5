/** The coordinator's side of the node protocol (see node-protocol.ts): NATS messages ↔ the core's NodePort. */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readChatDelta } from '../backends/chat/delta-codec.js';
import path from 'node:path';
import { NodeIdInUse, NotThisNode, Unauthorized, ValidationError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { AnnouncedSlot, RemoteSend } from './remote-slot.js';
import type { NodeOutcome, NodePort } from './node-port.js';
import { capabilities } from '../routing/capabilities.js';
import { TASK_TYPES, type TaskType } from '../tasks/task.js';
import { newSecretId } from '../tasks/ids.js';
import { InvalidMessage } from '../nats/codec.js';
import type { NatsLink, Payload } from '../nats/connection.js';
import { NODE_ID, NODE_PROTOCOL_VERSION, type NodeSubjects } from '../nats/node-protocol.js';
import { parseAnswerInfo } from '../tasks/answer-info.js';
import { parseTaskChanges } from '../tasks/changes.js';

/** Publishes runs and cancels to the node that owns the slot. */
export function nodeSender(link: NatsLink, subjects: NodeSubjects): RemoteSend {
  return {
    run: (slot, task, lease) => link.publish(subjects.run(slot.nodeId), { session: slot.session, slot: slot.slot, task, lease }),
    cancel: (slot, lease) => link.publish(subjects.cancel(slot.nodeId), { session: slot.session, slot: slot.slot, lease }),
  };
}

export interface ServeNodesOptions {
  /** Null: any node the NATS server lets publish on its join subject may join. */
  poolToken: string | null;
  /** How long a node that has stopped beating still counts as live (pool.heartbeat_timeout_ms). */
  heartbeatTimeoutMs: number;
  /** Settings every node adopts, so retries and timeouts behave the same on every machine. */
  settings: { heartbeat_interval_ms: number; max_attempts: number; retry_base_ms: number; retry_max_ms: number; default_timeout_s: number; max_output_bytes: number };
  log: Logger;
}

/**
 * Serves the node protocol on `link` (which must speak NODE_PROTOCOL_VERSION). The node id is read from the subject,
 * never from the payload: with subject permissions the NATS server itself vouches for it.
 */
export function serveNodes(link: NatsLink, subjects: NodeSubjects, port: NodePort, opts: ServeNodesOptions): void {
  const from = (subject: string, p: Payload) => {
    const nodeId = subjects.nodeIdOf(subject);
    if (!NODE_ID.test(nodeId)) throw new ValidationError('the node id in the subject may hold letters, digits, "-" and "_" (at most 64)', 'node_id');
    // Older nodes also name themselves in the payload; a different name there is someone posing as another node.
    if (p.node_id !== undefined && p.node_id !== nodeId) {
      opts.log.warn('refused a node message naming another node', { node: nodeId, named: String(p.node_id).slice(0, 64) });
      throw new NotThisNode(`a message on ${nodeId}'s subject must not speak for another node`);
    }
    return nodeId;
  };
  const processes = new NodeProcesses(opts.heartbeatTimeoutMs);
  link.serve(subjects.fromAny('join'), async (p, subject) => {
    const nodeId = from(subject, p);
    if (!tokenMatches(opts.poolToken, p.token)) {
      opts.log.warn('refused a node with a wrong pool token', { node: nodeId });
      throw new Unauthorized('wrong pool token');
    }
    const slots = slotsOf(p.slots);
    const versions = versionsOf(p.ollama_versions);
    const instance = typeof p.instance === 'string' ? p.instance.slice(0, 64) : null;
    const live = processes.liveOther(nodeId, instance, Date.now());
    if (live !== null) {
      opts.log.warn('refused a node joining under the id of another live node; give each koubou-node its own --id', { node: nodeId, live_for_ms: live });
      throw new NodeIdInUse(`another koubou-node with id "${nodeId}" is live (it last answered ${live} ms ago); give each node its own --id`);
    }
    const session = newSecretId();
    processes.joined(nodeId, instance, session, Date.now());
    port.join(nodeId, session, slots, versions);
    return { session, ...opts.settings };
  });
  link.serve(subjects.fromAny('beat'), async (p, subject) => {
    const nodeId = from(subject, p);
    const session = text(p.session, 'session');
    const known = await port.beat(nodeId, session, leasesOf(p.leases), versionsOf(p.ollama_versions));
    if (known) processes.beat(nodeId, session, Date.now());
    return { known };
  });
  // A node stopping on purpose says so once its runs are over, so nothing more is sent to it meanwhile.
  link.serve(subjects.fromAny('leave'), async (p, subject) => ({ left: await port.leave(from(subject, p), text(p.session, 'session')) }));
  link.serve(subjects.fromAny('outcome'), async (p, subject) => ({ recorded: await port.outcome(from(subject, p), text(p.session, 'session'), outcomeOf(p)) }));
  link.subscribe(subjects.fromAny('idle'), (p, subject) => port.idle(from(subject, p), text(p.session, 'session'), Number(p.slot)));
  link.subscribe(subjects.fromAny('progress'), (p, subject) => port.progress(from(subject, p), text(p.task_id, 'task_id'), text(p.lease, 'lease'), chunkOf(p.chunk), readChatDelta(p.delta)));
}

/**
 * Which process (the instance id a node makes up at start) holds each node id, and when it last beat: a join under a
 * live node's id from another process is refused, or two nodes sharing an id would take each other's place for ever.
 * A node that restarts is let in once its old process has been silent for the heartbeat timeout.
 */
class NodeProcesses {
  private readonly byNode = new Map<string, { instance: string | null; session: string; seenAt: number }>();

  constructor(private readonly liveMs: number) {}

  /** Milliseconds since another process holding `nodeId` was last heard, while it is live; else null. */
  liveOther(nodeId: string, instance: string | null, now: number): number | null {
    const held = this.byNode.get(nodeId);
    // A node too old to say which process it is cannot be told apart from its own restart.
    if (!held || held.instance === null || instance === null || held.instance === instance) return null;
    const silentMs = now - held.seenAt;
    return silentMs <= this.liveMs ? silentMs : null;
  }

  joined(nodeId: string, instance: string | null, session: string, now: number): void {
    this.byNode.delete(nodeId);
    this.byNode.set(nodeId, { instance, session, seenAt: now });
    // Bounded: the nodes that joined longest ago are forgotten first.
    if (this.byNode.size > 4096) this.byNode.delete(this.byNode.keys().next().value!);
  }

  beat(nodeId: string, session: string, now: number): void {
    const held = this.byNode.get(nodeId);
    if (held && held.session === session) held.seenAt = now;
  }
}

/** A node of the first protocol (shared subjects) is told plainly to upgrade instead of waiting for an answer forever. */
export function refuseLegacyNodes(link: NatsLink, subjects: NodeSubjects): void {
  link.serve(subjects.legacyJoin, async () => {
    throw new InvalidMessage(
      `this coordinator speaks node protocol v${NODE_PROTOCOL_VERSION} (subjects ${subjects.join('<node id>')} and so on): upgrade koubou-node`,
    );
  });
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function tokenMatches(expected: string | null, given: unknown): boolean {
  if (expected === null) return true;
  return typeof given === 'string' && timingSafeEqual(digest(given), digest(expected));
}

/** A progress chunk: a chat task's piece may carry no text (a tool call, the end), so "" is allowed here. */
function chunkOf(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('chunk must be a string', 'chunk');
  return value;
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw new ValidationError(`${field} must be a non-empty string`, field);
  return value;
}

function slotsOf(value: unknown): AnnouncedSlot[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > 1024) throw new ValidationError('slots must list 1 to 1024 slots', 'slots');
  return value.map((s: Payload, i) => {
    const at = `slots[${i}]`;
    const model = text(s?.model, `${at}.model`);
    const agent = s.type === 'command';
    const caps = capabilities(model, {
      types: typesOf(s.types, `${at}.types`),
      models: modelsOf(s.models, `${at}.models`),
      max_tokens: maxTokensOf(s.max_tokens, `${at}.max_tokens`),
      ...(agent ? { type: 'command', workspace_roots: rootsOf(s.workspace_roots, `${at}.workspace_roots`) } : {}),
    });
    return { backend: text(s?.backend, `${at}.backend`), model, caps };
  });
}

/** An agent CLI's workspace roots on its node: absolute, normalised paths (the node sends them so). */
function rootsOf(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 16) throw new ValidationError(`${field} must list at most 16 directories`, field);
  return value.map((r, i) => {
    const root = text(r, `${field}[${i}]`);
    if (root.length > 4096 || !path.isAbsolute(root) || path.resolve(root) !== root) throw new ValidationError(`${field}[${i}] must be an absolute, normalised path`, `${field}[${i}]`);
    return root;
  });
}

/** Longest version string kept: Ollama's are like "0.13.5" or "0.14.0-rc1". */
const MAX_VERSION_CHARS = 64;

/** A node's Ollama versions by backend name (null: that backend did not answer); null from a node that does not say. */
function versionsOf(value: unknown): Record<string, string | null> | null {
  if (value === undefined || value === null) return null;
  const field = 'ollama_versions';
  if (typeof value !== 'object' || Array.isArray(value) || Object.keys(value).length > 1024) {
    throw new ValidationError(`${field} must map at most 1024 backend names to versions`, field);
  }
  const out: Record<string, string | null> = {};
  for (const [backend, version] of Object.entries(value)) {
    if (version !== null && (typeof version !== 'string' || version.length > MAX_VERSION_CHARS)) {
      throw new ValidationError(`${field}.${backend} must be a version string of at most ${MAX_VERSION_CHARS} characters, or null`, `${field}.${backend}`);
    }
    out[backend] = version;
  }
  return out;
}

function leasesOf(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length > 1024) throw new ValidationError('leases must list at most 1024 leases', 'leases');
  return value.map((l, i) => text(l, `leases[${i}]`));
}

/** Absent or null: every type (a node from before capabilities were announced takes everything). */
function typesOf(value: unknown, field: string): TaskType[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.some((t) => !(TASK_TYPES as readonly unknown[]).includes(t))) {
    throw new ValidationError(`${field} must list task types from ${TASK_TYPES.join(', ')}`, field);
  }
  return value as TaskType[];
}

function modelsOf(value: unknown, field: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > 64) throw new ValidationError(`${field} must list at most 64 model names`, field);
  return value.map((m, i) => text(m, `${field}[${i}]`));
}

function maxTokensOf(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new ValidationError(`${field} must be a positive integer or null`, field);
  return value;
}

function outcomeOf(p: Payload): NodeOutcome {
  const taskId = text(p.task_id, 'task_id');
  const lease = text(p.lease, 'lease');
  if (p.kind === 'retry' || p.kind === 'defer') {
    const e = p.error as { code?: unknown; message?: unknown };
    const error = { code: text(e?.code, 'error.code'), message: String(e?.message ?? '') };
    const delayMs = Math.max(0, Number(p.delay_ms) || 0);
    if (p.kind === 'defer') return { kind: 'defer', taskId, lease, error, delayMs, backend: text(p.backend, 'backend') };
    return { kind: 'retry', taskId, lease, error, delayMs };
  }
  const o = p.outcome as { status?: unknown; output?: unknown; error?: { code?: unknown; message?: unknown }; answer?: unknown; changes?: unknown };
  const answer = parseAnswerInfo(o?.answer, 'outcome.answer');
  const facts = answer ? { answer } : {};
  if (o?.status === 'completed' && typeof o.output === 'string') {
    // An agent CLI's branch and diff (the branch lives in the node's repository).
    const changes = parseTaskChanges(o.changes, 'outcome.changes');
    return { kind: 'finish', taskId, lease, outcome: { status: 'completed', output: o.output, ...facts, ...(changes ? { changes } : {}) } };
  }
  if (o?.status === 'failed') {
    const error = { code: text(o.error?.code, 'outcome.error.code'), message: String(o.error?.message ?? '') };
    return { kind: 'finish', taskId, lease, outcome: { status: 'failed', error, ...facts, ...(typeof o.output === 'string' ? { output: o.output } : {}) } };
  }
  throw new ValidationError('outcome must be {status:"completed", output} or {status:"failed", error}', 'outcome');
}
