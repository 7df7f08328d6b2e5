/**
 * What a gateway client has not read yet, and what is done about it:
 * - once the response says it has enough (write() returns false, as for stream.pipe), the backend call producing the
 *   answer stops reading the server (the task's valve, tasks/flow.ts) until the client has taken what waits ('drain'),
 *   so a server faster than its client is held back by TCP, not buffered;
 * - past server.stream_buffer_bytes unsent, a client that takes none of it for FALL_BEHIND_MS is given up (one that keeps taking some, however slowly, never
 *   is: what the socket has accepted is counted);
 * - pieces from a call no valve holds (a koubou-node's, over NATS) are given up past MAX_BACKLOG_FACTOR times the bound.
 */
import type { ServerResponse } from 'node:http';
import type { FlowValve, TaskFlows } from '../tasks/flow.js';

/**
 * How long more than the bound may wait with none of it taken before the client is given up. A fast burst from the
 * backend (a thousand tokens in one read, one large event) queues more than the bound in one turn for a client that
 * reads at once: only one that takes nothing of it for this long has fallen behind.
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

  /** The callback to give each res.write(): counts the writes the socket has taken. */
  readonly flushed = (): void => {
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
   * After each write (made with `flushed` as its callback), given what write() returned (false: 'drain' will follow);
   * `piece`: a piece of a stream (not the last write of an answer, which may be large alone).
   */
  wrote(piece: boolean, accepted = true): void {
    if (this.done) return;
    if (!accepted) this.flow?.valve.hold();
    const unsent = this.res.writableLength;
    if (unsent <= this.o.boundBytes) return;
    if (piece && this.flow?.valve.followed !== true && unsent > this.o.boundBytes * MAX_BACKLOG_FACTOR) {
      return this.giveUp(`more than ${this.o.boundBytes * MAX_BACKLOG_FACTOR} bytes of its answer waited unsent`, 0);
    }
    if (this.timer === null) this.arm();
  }

  /**
   * Gives the client FALL_BEHIND_MS to take some of what waits: a write of it taken, or less of it waiting (the last
   * write of an answer, which nothing follows).
   */
  private arm(): void {
    const takenBefore = this.flushedWrites;
    const unsentBefore = this.res.writableLength;
    this.timer = setTimeout(() => {
      this.timer = null;
      const unsent = this.res.writableLength;
      if (this.done || unsent <= this.o.boundBytes) return;
      if (this.flushedWrites > takenBefore || unsent < unsentBefore) return this.arm();
      this.giveUp(`more than ${this.o.boundBytes} bytes of its answer waited unread for ${FALL_BEHIND_MS / 1000} s`, FALL_BEHIND_MS);
    }, FALL_BEHIND_MS).unref();
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
