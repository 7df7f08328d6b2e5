/**
 * Coalesces notices to an actor into one message per turn. nact handles one message per actor per event-loop turn, so
 * a scheduler told about every queued task or idle worker separately could assign at most one task per turn.
 */

/** Returns notify(item); `send` receives the items gathered until `schedule` fires, in order. */
export function coalescing<T>(send: (items: T[]) => void, schedule: (flush: () => void) => void = queueMicrotask): (item: T) => void {
  let batch: T[] = [];
  return (item) => {
    batch.push(item);
    if (batch.length > 1) return;
    schedule(() => {
      const out = batch;
      batch = [];
      send(out);
    });
  };
}

/** Gathers everything notified during one pass of the event loop (all I/O callbacks of a poll phase). */
export const perLoopTurn = (flush: () => void): void => {
  setImmediate(flush);
};
