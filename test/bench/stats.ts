/** Small statistics for benchmark reports. */

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[idx]!;
}

export const median = (values: number[]) => percentile(values, 50);

/** "min–max" of the values, formatted. */
export function spread(values: number[], digits = 2): string {
  return `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;
}

export function fmt(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

/** "median (min–max)" of the rounds' values, e.g. "1.52 (1.40–1.61)". */
export function medianRange(values: number[], digits = 2): string {
  return values.length === 0 ? 'n/a' : `${fmt(median(values), digits)} (${spread(values, digits)})`;
}

/** Milliseconds per sequential call of fn, after up to `warmUp` calls that are not counted. */
export async function timeEach(n: number, warmUp: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < Math.min(warmUp, n); i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}
