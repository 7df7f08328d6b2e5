/**
 * The NATS bridge, under the root supervisor: it brings the coordinator's NATS side up — the task subjects other
 * services delegate through and the node protocol koubou-nodes join by — and keeps trying while the NATS server is
 * not there yet, so the coordinator serves HTTP and its local pool meanwhile. Once connected, the client reconnects
 * by itself after any outage; the bridge only owns the first connection and the last close. I/O is injected.
 */
import { dispatch, spawn, type Ref } from 'nact';
import type { Clock, TimerHandle } from '../src/clock.js';
import type { Logger } from '../src/logger.js';
import type { BridgeStatus } from '../src/health.js';

/** What connecting yields: the served connection, to close at shutdown. */
export interface BridgeLink {
  close(): Promise<void>;
}

export type { BridgeStatus };

export interface BridgeDeps {
  /** Connects and starts serving; rejects when the server cannot be reached (or refuses the credentials). */
  connect(): Promise<BridgeLink>;
  /** Where it connects, for logs (no credentials). */
  target: string;
  /** Delay before the next attempt after `attempt` failures. */
  retryDelayMs(attempt: number): number;
  onStatus(status: BridgeStatus): void;
  clock: Clock;
  log: Logger;
}

export type BridgeMsg =
  | { type: 'connect' }
  | { type: 'connected'; link: BridgeLink }
  | { type: 'failed'; error: string }
  | { type: 'close'; replyTo: Ref<'closed'> };

interface BridgeState {
  link: BridgeLink | null;
  attempts: number;
  /** The attempt in flight, so a close can close what it yields. */
  connecting: Promise<BridgeLink> | null;
  closed: boolean;
  retry: TimerHandle | null;
}

export function spawnBridge(parent: Ref<any>, deps: BridgeDeps): Ref<BridgeMsg> {
  const ref = spawn(parent, (state: BridgeState, msg: BridgeMsg, ctx) => handle(state, msg, ctx.self, deps), 'nats-bridge', {
    initialStateFunc: (): BridgeState => ({ link: null, attempts: 0, connecting: null, closed: false, retry: null }),
    // Its handler does no I/O itself; should it throw, the state it had is still right.
    onCrash: (_msg, err, ctx) => {
      deps.log.error('the NATS bridge crashed; resuming', { error: err?.message });
      return ctx.resume;
    },
  });
  dispatch(ref, { type: 'connect' });
  return ref;
}

async function handle(state: BridgeState, msg: BridgeMsg, self: Ref<BridgeMsg>, deps: BridgeDeps): Promise<BridgeState> {
  switch (msg.type) {
    case 'connect': {
      if (state.closed || state.link || state.connecting) return state;
      deps.onStatus({ state: 'connecting', attempts: state.attempts, error: null });
      const connecting = deps.connect();
      connecting.then(
        (link) => dispatch(self, { type: 'connected', link }),
        (err: Error) => dispatch(self, { type: 'failed', error: err.message }),
      );
      return { ...state, connecting, retry: null };
    }
    case 'connected':
      if (state.closed) return state;
      deps.onStatus({ state: 'connected' });
      if (state.attempts > 0) deps.log.info('connected to NATS', { servers: deps.target, after_attempts: state.attempts + 1 });
      return { ...state, link: msg.link, connecting: null };
    case 'failed': {
      const attempts = state.attempts + 1;
      deps.onStatus({ state: 'connecting', attempts, error: msg.error });
      // Said at once, then now and then: an outage can last hours.
      if (attempts === 1 || attempts % 20 === 0) deps.log.warn('NATS not reachable yet; still trying', { servers: deps.target, attempts, error: msg.error });
      if (state.closed) return { ...state, attempts, connecting: null };
      const retry = deps.clock.setTimeout(() => dispatch(self, { type: 'connect' }), deps.retryDelayMs(attempts));
      return { ...state, attempts, connecting: null, retry };
    }
    case 'close':
      if (state.retry) deps.clock.clearTimeout(state.retry);
      await state.link?.close();
      // An attempt still in flight (it may take seconds to time out) is closed as soon as it connects, even once this
      // actor is gone, rather than waited for or left open behind a stopped coordinator.
      state.connecting?.then((link) => link.close(), () => undefined);
      dispatch(msg.replyTo, 'closed');
      return { ...state, link: null, closed: true, retry: null };
  }
}
