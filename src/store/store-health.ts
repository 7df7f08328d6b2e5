/**
 * Whether the store can be written: a write that fails for a storage reason (a full disk: SQLITE_FULL; an I/O error:
 * SQLITE_IOERR_*; a read-only or locked file) marks it unwritable with that reason. Only a probe clears it (see
 * store.ts): on a nearly full disk small writes still fit in pages SQLite already holds while new tasks do not, so one
 * committed write proves nothing. Constraint violations and our own errors say nothing about the disk and are left out.
 */

export interface StoreStatus {
  writable: boolean;
  /** Why the last write failed ("SQLITE_FULL: database or disk is full"); null while writable. */
  error: string | null;
  /** When writes started failing (epoch ms); null while writable. */
  since: number | null;
}

/** The SQLite code of a storage failure in err or its causes, or null when err is not one. */
export function storageFailure(err: unknown): string | null {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_') && !code.startsWith('SQLITE_CONSTRAINT')) return `${code}: ${e.message}`;
  }
  return null;
}

export class StoreHealth {
  private status: StoreStatus = { writable: true, error: null, since: null };

  constructor(private readonly now: () => number) {}

  /** A write failed; returns true when it was a storage failure (now recorded). */
  failed(err: unknown): boolean {
    const reason = storageFailure(err);
    if (reason === null) return false;
    this.status = { writable: false, error: reason, since: this.status.since ?? this.now() };
    return true;
  }

  /** A probe showed the store can be written again. */
  recovered(): void {
    if (!this.status.writable) this.status = { writable: true, error: null, since: null };
  }

  get current(): StoreStatus {
    return this.status;
  }
}
