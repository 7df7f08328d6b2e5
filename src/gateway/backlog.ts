/**
 * What a gateway client has not read yet, and what is done about it:
 * - once the response says it has enough (write() returns false, as for stream.pipe), the backend call producing the
 *   answer stops reading the server (the task's valve, tasks/flow.ts) until the client has taken what waits ('drain'),
 *   so a server faster than its client is held back by TCP, not buffered;
 * - a client that is held back, or has more than server.stream_buffer_bytes waiting, and takes nothing of it for
 *   FALL_BEHIND_MS is given up. "Takes" is what its socket hands to the kernel, part of a large write included. The
 *   kernel's own send buffer (up to a few MB) frees room only once a good part of it has drained, so a client reading
 *   slower than that buffer drains in FALL_BEHIND_MS may be given up;
 * - pieces from a call no valve holds (a koubou-node's, over NATS) are given up past MAX_BACKLOG_FACTOR times the bound.
 */
import type { ServerResponse } from 'node:http';
import type { FlowValve, TaskFlows } from '../tasks/flow.js';

/**
 * How long a client may take nothing of what waits for it before it is given up. A fast burst from the backend (a
 * thousand tokens in one read, one large event) queues more than the bound in one turn for a client that reads at
 * once: only one that takes nothing of it for this long has fallen behind. A held-back call keeps its backend slot.
 */
export const FALL_BEHIND_MS = 5_000;

/** Times the bound a client may fall behind a call that no valve holds, reading or not. */
export const MAX_BACKLOG_FACTOR = 32;

export interface BacklogOptions {
  /** server.stream_buffer_bytes. */
  boundBytes: number;
  flows: TaskFlows;
  /** The client is given up: `why` says so in words; the caller ends its task and drops the connection. */
  fellBehind(why: string, bufferedBytes: number, waitedMs: number): void;
}

export class ClientBacklog {
  private flow: { valve: FlowValve; close: () => void } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private done = false;
  /** Writes the client's socket has taken (their callbacks ran): what tells a slow reader from one that reads nothing. */
  private flushedWrites = 0;
  private readonly flushed = (): void => {
    this.flushedWrites++;
  };

  constructor(private readonly res: ServerResponse, private readonly o: BacklogOptions) {
    res.on('drain', this.onDrain);
    res.once('close', () => this.close());
  }

  /** The task now exists: its call follows this client's valve. */
  accepted(taskId: string): void {
    this.flow?.close();
    this.flow = this.o.flows.open(taskId);
  }

  /**
   * Writes bytes of the answer (`piece`: a piece of a stream, not its last write), ending the response when `last`.
   * Holds the call back when the response says it has enough, and watches the client from then on.
   */
  write(bytes: string | Buffer, piece: boolean, last: boolean): void {
    if (last) this.res.end(bytes);
    const accepted = last ? false : this.res.write(bytes, this.flushed);
    this.wrote(piece, accepted);
  }

  private wrote(piece: boolean, accepted: boolean): void {
    if (this.done) return;
    const unsent = this.res.writableLength;
    if (!accepted && unsent > 0) this.flow?.valve.hold();
    else if (unsent <= this.o.boundBytes) return;
    if (piece && this.flow?.valve.followed !== true && unsent > this.o.boundBytes * MAX_BACKLOG_FACTOR) {
      return this.giveUp(`more than ${this.o.boundBytes * MAX_BACKLOG_FACTOR} bytes of its answer waited unsent`, 0);
    }
    if (this.timer === null) this.arm();
  }

  /**
   * Gives the client FALL_BEHIND_MS to take some of what waits: a write of it taken, less of it waiting, or less of it
   * still to hand to the kernel (a large write goes out piecemeal; Node counts it taken only once all of it is).
   */
  private arm(): void {
    const takenBefore = this.flushedWrites;
    const unsentBefore = this.res.writableLength;
    // Sampled a turn later: the writes of this turn reach the socket's queue when the response uncorks, on the next tick.
    let queuedBefore = Infinity;
    setImmediate(() => (queuedBefore = this.toHandOver()));
    this.timer = setTimeout(() => {
      this.timer = null;
      const unsent = this.res.writableLength;
      if (this.done || unsent === 0) return;
      if (this.flushedWrites > takenBefore || unsent < unsentBefore || this.toHandOver() < queuedBefore) return this.arm();
      this.giveUp(`${unsent} bytes of its answer waited, none of them read, for ${FALL_BEHIND_MS / 1000} s`, FALL_BEHIND_MS);
    }, FALL_BEHIND_MS).unref();
  }

  /**
   * Bytes the socket has yet to hand to the kernel: libuv's write queue, which shrinks as the kernel takes part of a
   * write (the stream handle's writeQueueSize, as Node's own stream code reads it); Infinity when there is no handle.
   */
  private toHandOver(): number {
    const queued = (this.res.socket as { _handle?: { writeQueueSize?: unknown } } | null)?._handle?.writeQueueSize;
    return typeof queued === 'number' ? queued : Infinity;
  }

  /** The client took what waited: the call reads on, and the wait starts over should it fall behind again. */
  private readonly onDrain = () => {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.flow?.valve.release();
  };

  private giveUp(what: string, waitedMs: number): void {
    const buffered = this.res.writableLength;
    this.close();
    this.o.fellBehind(`the client fell behind: ${what}`, buffered, waitedMs);
  }

  /** Nothing more is watched; the valve is released and forgotten (a call is never left paused for a reader gone). */
  close(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.res.off('drain', this.onDrain);
    this.flow?.close();
  }
}
