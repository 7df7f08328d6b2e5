/**
 * One watcher's outlet: messages go out in order through `write`; when more than `maxPending` are waiting for a
 * slow client, the watcher is dropped (told why, where possible) instead of making anyone wait or buffering forever.
 */
export class BoundedSink<T> {
  private pending = 0;
  private chain: Promise<void> = Promise.resolve();
  private dropped = false;

  constructor(
    private readonly write: (message: T) => Promise<void>,
    private readonly maxPending: number,
    private readonly onDrop: (reason: string) => void,
  ) {}

  get isDropped(): boolean {
    return this.dropped;
  }

  /** Queues a message; never blocks the caller. */
  push(message: T): void {
    if (this.dropped) return;
    if (this.pending >= this.maxPending) {
      this.dropped = true;
      this.onDrop(`the client fell more than ${this.maxPending} events behind`);
      return;
    }
    this.pending++;
    this.chain = this.chain
      .then(() => this.write(message))
      .then(
        () => void this.pending--,
        () => {
          this.dropped = true;
          this.onDrop('the connection failed');
        },
      );
  }
}
