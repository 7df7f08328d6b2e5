/**
 * The coordinator's NATS side, as the bridge actor brings it up: connecting (with the configured credentials),
 * serving the task subjects other services delegate through and the node protocol koubou-nodes join by, and sending
 * runs to nodes over whatever connection is current (none before the first: no node can have joined yet).
 */
import type { RemoteSend } from './nodes/remote-slot.js';
import type { KoubouConfig } from './config.js';
import type { Core } from './core.js';
import type { NodePort } from './nodes/node-port.js';
import type { Logger } from './logger.js';
import { backoffMs } from './supervision/backoff.js';
import { connectNats, redactedServers, serversAndCredentials, type NatsLink } from './nats/connection.js';
import { nodeSender, refuseLegacyNodes, serveNodes } from './nodes/node-bridge.js';
import { NODE_PROTOCOL_VERSION, nodeSubjects } from './nats/node-protocol.js';
import { subjects } from './nats/subjects.js';
import { serveTasksOverNats } from './nats/task-adapter.js';

/** What the bridge actor (actors/nats-bridge.ts) needs to bring the NATS side up and keep trying. */
export interface NatsConnector {
  /** Connects and starts serving; rejects when the server cannot be reached (or refuses the credentials). */
  connect(): Promise<{ close(): Promise<void> }>;
  /** Where it connects, for logs (no credentials). */
  target: string;
  /** Delay in ms before the next attempt after `attempt` failures. */
  retryDelayMs(attempt: number): number;
}

export interface CoordinatorNats {
  bridge: NatsConnector;
  remote: RemoteSend;
  /** Settles once the first connection attempt has succeeded or failed. */
  firstAttempt: Promise<void>;
}

/**
 * The coordinator's NATS side for `config.nats` (url set). `core` and `nodes` are read when the bridge first connects,
 * which the composition root starts only once they exist; runs go to nodes through `remote` from then on.
 */
export function coordinatorNats(config: KoubouConfig, log: Logger, core: () => Core, nodes: () => NodePort): CoordinatorNats {
  const { url, prefix, nkey_seed_file, creds_file, tls_ca_file } = config.nats;
  const creds = serversAndCredentials(url!);
  if (!nkey_seed_file && !creds_file && !creds.user && !creds.token) {
    log.warn('NATS without credentials: any client of that server can read and forge pool traffic; see koubou nats-config', { servers: creds.servers.join(',') });
  }
  let sender: RemoteSend | null = null;
  let attempted!: () => void;
  const firstAttempt = new Promise<void>((resolve) => (attempted = resolve));
  return {
    bridge: {
      target: redactedServers(url!),
      retryDelayMs: (attempt) => backoffMs(attempt - 1, 250, 5_000),
      async connect() {
        try {
          const node = nodeSubjects(prefix);
          const link = await connectNats({
            url: url!,
            name: 'koubou-coordinator',
            log: log.child({ adapter: 'nats' }),
            nkeySeedFile: nkey_seed_file,
            credsFile: creds_file,
            tlsCaFile: tls_ca_file,
            inboxPrefix: node.coordinatorInbox,
          });
          const served = serveOverNats(core(), nodes(), link, config, log);
          sender = nodeSender(link.speaking(NODE_PROTOCOL_VERSION), node);
          return served;
        } finally {
          attempted();
        }
      },
    },
    remote: {
      run: (slot, task, lease) => sender?.run(slot, task, lease),
      cancel: (slot, lease) => sender?.cancel(slot, lease),
    },
    firstAttempt,
  };
}

/** Serves the task subjects (other services delegate through them) and the node protocol (koubou-nodes join). */
function serveOverNats(core: Core, nodes: NodePort, link: NatsLink, config: KoubouConfig, log: Logger): { close(): Promise<void> } {
  const stopEvents = serveTasksOverNats(core, link, subjects(config.nats.prefix), config.server.sync_wait_s * 1000);
  const node = nodeSubjects(config.nats.prefix);
  refuseLegacyNodes(link, node);
  serveNodes(link.speaking(NODE_PROTOCOL_VERSION), node, nodes, {
    poolToken: config.nats.pool_token,
    heartbeatTimeoutMs: config.pool.heartbeat_timeout_ms,
    settings: {
      heartbeat_interval_ms: config.pool.heartbeat_interval_ms,
      max_attempts: config.tasks.max_attempts,
      retry_base_ms: config.tasks.retry_base_ms,
      retry_max_ms: config.tasks.retry_max_ms,
      default_timeout_s: config.tasks.default_timeout_s,
      max_output_bytes: config.tasks.max_output_bytes,
    },
    log: log.child({ adapter: 'nodes' }),
  });
  log.info('serving tasks and nodes over NATS', { servers: redactedServers(config.nats.url!), prefix: config.nats.prefix });
  return {
    async close() {
      stopEvents();
      await link.close();
    },
  };
}
