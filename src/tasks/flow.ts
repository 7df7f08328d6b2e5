/**
 * Backpressure from a task's one reader to the backend call producing its answer. A gateway client is the only reader
 * of its task's answer: when it reads slower than the backend writes (a fast server, a long answer), its response
 * closes the valve and the call stops reading the server's body, so TCP holds the server back instead of the
 * coordinator's memory and event loop taking everything in. Only in-process calls are held: a koubou-node's pieces
 * arrive over NATS, and a client that falls too far behind one of them is given up instead (see gateway/exchange.ts).
 */

/** What a call binds the valve to: pausing and resuming the read of its response body. */
export interface FlowTarget {
  pause(): void;
  resume(): void;
}

/** One task's valve: open unless its reader holds it; the call reading the answer follows it. */
export class FlowValve {
  private held = false;
  private target: FlowTarget | null = null;
  /** performance.now() when the current hold began; ms held before it. */
  private heldSince = 0;
  private heldBefore = 0;

  /** Follows the valve from now (paused at once when held); returns the unbinding, for when the read is over. */
  bind(target: FlowTarget): () => void {
    this.target = target;
    if (this.held) target.pause();
    return () => {
      if (this.target === target) this.target = null;
    };
  }

  /** The reader has more than it wants unread: the call stops reading. */
  hold(): void {
    if (this.held) return;
    this.held = true;
    this.heldSince = performance.now();
    this.target?.pause();
  }

  /** The reader caught up (or went away): the call reads again. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    this.heldBefore += performance.now() - this.heldSince;
    this.target?.resume();
  }

  /**
   * Milliseconds the valve has been held in all (the current hold included): the time the call waited on its reader,
   * which is not the server's (not counted against the attempt's timeout, nor in the backend's call times).
   */
  heldMs(): number {
    return this.heldBefore + (this.held ? performance.now() - this.heldSince : 0);
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** True while a call reads by it (an in-process call; a koubou-node's pieces come over NATS, unheld). */
  get followed(): boolean {
    return this.target !== null;
  }
}

/** The valves of the tasks whose readers hold one, by task id: the reader opens and closes them, the worker finds them. */
export class TaskFlows {
  private readonly valves = new Map<string, FlowValve>();

  /** A valve for this task's reader; `close` forgets it (released, so no call stays paused on a reader gone). */
  open(taskId: string): { valve: FlowValve; close: () => void } {
    const valve = new FlowValve();
    this.valves.set(taskId, valve);
    return {
      valve,
      close: () => {
        valve.release();
        if (this.valves.get(taskId) === valve) this.valves.delete(taskId);
      },
    };
  }

  /** The valve of a task whose reader holds one; undefined for any other task (REST tasks, answers nobody streams). */
  find(taskId: string): FlowValve | undefined {
    return this.valves.get(taskId);
  }

  get size(): number {
    return this.valves.size;
  }
}
