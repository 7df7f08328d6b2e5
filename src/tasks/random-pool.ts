/**
 * Random bytes for ids, drawn from a pool that is refilled from the system CSPRNG 4 KiB at a time: one call into the
 * crypto library for a few hundred ids instead of one per id (Node's own crypto.randomUUID caches its entropy the same
 * way). Every byte is handed out once.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let used = POOL_BYTES;

/** Writes `length` (at most 4096) fresh random bytes into `target` from `at` on. */
export function fillRandom(target: Buffer, at: number, length: number): void {
  if (used + length > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  pool.copy(target, at, used, used + length);
  used += length;
}
