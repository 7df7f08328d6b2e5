/** What happens to workers (started, restarted, lost, retired, gave up, left with their node), for watchers. */

export interface WorkerEvent {
  kind: 'started' | 'restarted' | 'lost' | 'retired' | 'gave_up' | 'left';
  workerId: string;
  at: number;
  /** Kind-specific facts: {cause} when lost, {reason} when it gave up or left, {node} for remote workers. */
  detail?: Record<string, unknown>;
}

/** Fan-out of worker events; a throwing listener never disturbs the others. */
export class WorkerEvents {
  private readonly listeners = new Set<(e: WorkerEvent) => void>();

  publish(e: WorkerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(e);
      } catch {
        // A listener's failure is its own business.
      }
    }
  }

  subscribe(listener: (e: WorkerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
