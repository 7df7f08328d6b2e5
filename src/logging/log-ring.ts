/** The most recent log entries, kept in memory for GET /api/logs. Fed by pino as one more destination. */

export interface LogEntry {
  level: number;
  time: string;
  msg: string;
  [field: string]: unknown;
}

/** pino's numeric levels, by name. */
export const LEVELS: Record<string, number> = { debug: 20, info: 30, warn: 40, error: 50 };

export class LogRing {
  private readonly entries: LogEntry[] = [];

  constructor(private readonly capacity = 5000) {}

  /** pino destination: one JSON line per call. */
  write(line: string): void {
    try {
      this.entries.push(JSON.parse(line) as LogEntry);
      if (this.entries.length > this.capacity) this.entries.splice(0, this.entries.length - this.capacity);
    } catch {
      // Not a JSON line: nothing we could filter on.
    }
  }

  /** Newest last; at least `level`, mentioning `worker` when given, at most `limit`. */
  query(filter: { level?: number | undefined; worker?: string | undefined; limit: number }): LogEntry[] {
    const matching = this.entries.filter(
      (e) => (filter.level === undefined || e.level >= filter.level) && (filter.worker === undefined || e.worker === filter.worker),
    );
    return matching.slice(-filter.limit);
  }
}
