/**
 * How much work a backend may be given right now: a circuit breaker for a server that is not there (closed → open after
 * consecutive connection failures → half-open: one probe after a backoff → closed), a pause when it says it is busy or
 * rate-limited (its Retry-After, else a backoff), and an adaptive in-flight limit under its worker count (AIMD: halve on
 * a busy answer, one more after a success while the limit was in use). Pure: time comes from the injected clock, and
 * the owner (the scheduler) says how many calls are in flight.
 */
import type { Clock } from '../clock.js';
import { backoffMs } from './backoff.js';

/** What one backend call says about the server (not about the task). */
/** The least pause a Retry-After answer gets: the header's own unit, one second. */
const MIN_RETRY_AFTER_MS = 1000;

export type CallVerdict =
  /** A complete answer. */
  | { kind: 'ok' }
  /** The server answered, but the attempt failed on its own account (4xx, 5xx, a malformed answer). */
  | { kind: 'answered' }
  /** 503 / 429: it cannot take more now; retryAfterMs is what it asked for, if anything. */
  | { kind: 'busy'; retryAfterMs: number | null }
  /** No connection before any response: refused, reset, unresolvable. */
  | { kind: 'unreachable' }
  /** Nothing learned about the server (a timeout, a cancel, our own error). */
  | { kind: 'unknown' };

export interface GateSettings {
  /** Consecutive connection failures that open the circuit. */
  failureThreshold: number;
  /** First wait before an open circuit lets a probe through, and before a busy backend (no Retry-After) is sent more. */
  probeBaseMs: number;
  /** The waits double up to this. */
  probeMaxMs: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

/** A backend's gate as /health, /workers and the dashboard show it. Times are epoch ms. */
export interface GateStatus {
  circuit: CircuitState;
  /** Closed: since when. Open or half-open: since the first failed call of this outage (probes do not reset it). */
  since: number;
  /** Open: when one probe task may go. */
  probeAt: number | null;
  /** Consecutive connection failures. */
  failures: number;
  /** Busy or rate-limited: no new call before this. */
  pausedUntil: number | null;
  /** Why it is paused: the server's Retry-After, or our own backoff after a busy answer without one; null when not paused. */
  pausedBy: 'retry_after' | 'backoff' | null;
  /** Most calls in flight; null = no limit below the worker count. */
  limit: number | null;
}

/** A change worth a log line and a look from the operator. */
export type GateChange =
  | { kind: 'circuit'; from: CircuitState; to: CircuitState; probeInMs: number | null }
  | { kind: 'limit'; from: number | null; to: number | null }
  | { kind: 'paused'; forMs: number };

/** What the owner knows about the call being recorded. */
export interface CallContext {
  /** Calls in flight to this backend, this one included. */
  inFlight: number;
  /** Workers on this backend: a limit reaching it is no limit. */
  ceiling: number;
  /** When this call was sent: busy answers to calls sent before the last decrease are the same congestion. */
  startedAt: number;
}

export class BackendGate {
  private circuit: CircuitState = 'closed';
  private since: number;
  private failures = 0;
  /** Failed probes in a row, for the backoff of the next one. */
  private failedProbes = 0;
  private probeAt: number | null = null;
  private pausedUntil: number | null = null;
  private pausedBy: 'retry_after' | 'backoff' = 'backoff';
  private busyEpisodes = 0;
  private limit: number | null = null;
  private lastDecreaseAt = -Infinity;
  /** Whether the server has answered any call: a check's older word that it is not there then no longer counts. */
  private answered = false;

  constructor(
    private readonly settings: GateSettings,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly random: () => number = Math.random,
  ) {
    this.since = clock.now();
  }

  /** May one more call go, with `inFlight` calls already out? */
  admits(inFlight: number): boolean {
    if (this.circuit === 'open') return false;
    if (this.circuit === 'half_open') return inFlight === 0;
    if (this.pausedUntil !== null && this.clock.now() < this.pausedUntil) return false;
    return this.limit === null || inFlight < this.limit;
  }

  /** Open or paused: it takes nothing now, however many calls are out. */
  get blocked(): boolean {
    return !this.admits(0);
  }

  /**
   * Milliseconds from now until it may take a call again with none in flight: until an open circuit's probe falls due
   * or a pause ends, whichever is later; 0 when it takes one now. What a task deferred by this backend really waits.
   */
  closedForMs(): number {
    const now = this.clock.now();
    const probe = this.circuit === 'open' && this.probeAt !== null ? this.probeAt - now : 0;
    const pause = this.pausedUntil !== null ? this.pausedUntil - now : 0;
    return Math.max(0, probe, pause);
  }

  /**
   * A check outside any task (the start-up probe of its model listing) found no server: the circuit opens at once, as
   * after failureThreshold refused connections, so the first task waits for a probe instead of each task spending a
   * refused connection. Nothing changes when it is already open or half-open, or when a call has had an answer since
   * (the check, started before it, is out of date).
   */
  markUnreachable(): GateChange[] {
    if (this.circuit !== 'closed' || this.answered) return [];
    this.failures++;
    return [this.open(0)];
  }

  /** Applies what time alone changes (an open circuit's probe falls due, a pause ends). */
  advance(): GateChange[] {
    const now = this.clock.now();
    if (this.pausedUntil !== null && now >= this.pausedUntil) this.pausedUntil = null;
    if (this.circuit === 'open' && this.probeAt !== null && now >= this.probeAt) return [this.moveTo('half_open', null)];
    return [];
  }

  /** When advance() will have something to do; null when nothing waits on time. */
  wakeAt(): number | null {
    const times = [this.circuit === 'open' ? this.probeAt : null, this.pausedUntil].filter((t): t is number => t !== null);
    return times.length === 0 ? null : Math.min(...times);
  }

  /** Records how a call ended; returns the changes it caused. */
  record(verdict: CallVerdict, call: CallContext): GateChange[] {
    switch (verdict.kind) {
      case 'ok':
        return [...this.reached(), ...this.grow(call)];
      case 'answered':
        return this.reached();
      case 'busy':
        return [...this.reached(), ...this.shrink(call, verdict.retryAfterMs)];
      case 'unreachable':
        return this.unreachable();
      case 'unknown':
        return [];
    }
  }

  status(): GateStatus {
    const paused = this.pausedUntil !== null && this.clock.now() < this.pausedUntil;
    return {
      circuit: this.circuit,
      since: this.since,
      probeAt: this.circuit === 'open' ? this.probeAt : null,
      failures: this.failures,
      pausedUntil: paused ? this.pausedUntil : null,
      pausedBy: paused ? this.pausedBy : null,
      limit: this.limit,
    };
  }

  /** The server answered: whatever the answer, it is there. */
  private reached(): GateChange[] {
    this.answered = true;
    this.failures = 0;
    this.failedProbes = 0;
    return this.circuit === 'closed' ? [] : [this.moveTo('closed', null)];
  }

  private unreachable(): GateChange[] {
    this.failures++;
    if (this.circuit === 'half_open') return [this.open(++this.failedProbes)];
    if (this.circuit === 'closed' && this.failures >= this.settings.failureThreshold) return [this.open(0)];
    return [];
  }

  private open(step: number): GateChange {
    const wait = this.backoff(step);
    this.probeAt = this.clock.now() + wait;
    return this.moveTo('open', wait);
  }

  private moveTo(to: CircuitState, probeInMs: number | null): GateChange {
    const from = this.circuit;
    this.circuit = to;
    if (from === 'closed' || to === 'closed') this.since = this.clock.now();
    if (to !== 'open') this.probeAt = null;
    return { kind: 'circuit', from, to, probeInMs };
  }

  /** Multiplicative decrease, once per congestion episode; and a pause before the next call. */
  private shrink(call: CallContext, retryAfterMs: number | null): GateChange[] {
    const changes: GateChange[] = [];
    const now = this.clock.now();
    const newEpisode = call.startedAt >= this.lastDecreaseAt;
    if (newEpisode) {
      this.busyEpisodes++;
      this.lastDecreaseAt = now;
      const from = this.limit;
      const to = Math.max(1, Math.floor(Math.min(this.limit ?? call.ceiling, call.inFlight) / 2));
      if (to !== from) {
        this.limit = to;
        changes.push({ kind: 'limit', from, to });
      }
    }
    // Retry-After counts whole seconds: 0 (or a date already past, clock skew) means "soon", not "at once".
    const forMs = retryAfterMs === null ? this.backoff(this.busyEpisodes - 1) : Math.max(retryAfterMs, MIN_RETRY_AFTER_MS);
    if (this.pausedUntil === null || now + forMs > this.pausedUntil) {
      this.pausedUntil = now + forMs;
      this.pausedBy = retryAfterMs !== null ? 'retry_after' : 'backoff';
      changes.push({ kind: 'paused', forMs });
    }
    return changes;
  }

  /** Additive increase after a success while the limit was in use; reaching the worker count lifts it. */
  private grow(call: CallContext): GateChange[] {
    this.busyEpisodes = 0;
    if (this.limit === null || call.inFlight < this.limit) return [];
    const from = this.limit;
    const to = from + 1 >= call.ceiling ? null : from + 1;
    this.limit = to;
    return [{ kind: 'limit', from, to }];
  }

  private backoff(step: number): number {
    return backoffMs(step, this.settings.probeBaseMs, this.settings.probeMaxMs, this.random);
  }
}

/** One gate per backend (per worker group: a backend on one machine), made on first use. */
export class BackendGates {
  private readonly gates = new Map<string, BackendGate>();

  constructor(
    private readonly settings: GateSettings,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  get(key: string): BackendGate {
    let gate = this.gates.get(key);
    if (!gate) this.gates.set(key, (gate = new BackendGate(this.settings, this.clock)));
    return gate;
  }

  /** The gate's status, or null for a backend that has had no call yet (a closed circuit, no limit). */
  status(key: string): GateStatus | null {
    return this.gates.get(key)?.status() ?? null;
  }

  /** Every gate that has seen a call, by key, with its status. */
  statuses(): [string, GateStatus][] {
    return [...this.gates].map(([key, gate]) => [key, gate.status()]);
  }

  /** Time-driven changes of every gate, by key. */
  advance(): [string, GateChange][] {
    const out: [string, GateChange][] = [];
    for (const [key, gate] of this.gates) for (const c of gate.advance()) out.push([key, c]);
    return out;
  }

  /** The earliest time any gate changes by itself. */
  wakeAt(): number | null {
    let at: number | null = null;
    for (const gate of this.gates.values()) {
      const t = gate.wakeAt();
      if (t !== null && (at === null || t < at)) at = t;
    }
    return at;
  }
}
