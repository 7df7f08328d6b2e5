/**
 * Which subjects each kind of NATS user needs, derived from the subject definitions so the two cannot drift apart.
 * `koubou nats-config` writes these into a nats-server config; with them the server itself keeps every client to its
 * role (nats-server authorization: https://docs.nats.io/running-a-nats-service/configuration/securing_nats/authorization).
 */
import { NODE_VERBS, nodeSubjects } from './node-protocol.js';

export interface RolePermissions {
  /** Subjects (wildcards allowed) the user may publish to. */
  publish: string[];
  /** Subjects the user may subscribe to. */
  subscribe: string[];
  /** May answer the requests it receives (publish once to each request's reply subject), whoever sent them. */
  allowResponses: boolean;
}

/** The coordinator: everything under the prefix (its own inbox is there too), and answers to any requester. */
export function coordinatorPermissions(prefix: string): RolePermissions {
  return { publish: [`${prefix}.>`], subscribe: [`${prefix}.>`], allowResponses: true };
}

/**
 * One node: it speaks only on its own subjects, hears only its runs and cancels, and reads replies only under its own
 * inbox prefix, so it can neither pose as another node nor read another node's work.
 */
export function nodePermissions(prefix: string, nodeId: string): RolePermissions {
  const s = nodeSubjects(prefix);
  return {
    publish: NODE_VERBS.map((verb) => s[verb](nodeId)),
    subscribe: [s.run(nodeId), s.cancel(nodeId), `${s.nodeInbox(nodeId)}.>`],
    allowResponses: false,
  };
}

/** Other services: delegate and ask for status (request/reply on `<p>.task.*`) and read the replies, nothing else. */
export function servicePermissions(prefix: string): RolePermissions {
  return { publish: [`${prefix}.task.*`], subscribe: ['_INBOX.>'], allowResponses: false };
}
