/**
 * Counts and observations gathered between two flushes into prom-client: adding to a tally costs a map lookup, where
 * prom-client hashes labels and walks buckets for every call. Bounded: a flush empties it, and observe() asks for one
 * once MAX_PENDING observations wait.
 */

const MAX_PENDING = 4096;

type Labels = Record<string, string> | null;

interface Counted<N> {
  name: N;
  labels: Labels;
  n: number;
}

interface Observed<N> {
  name: N;
  labels: Labels;
  values: number[];
}

export class Tally<C extends string, H extends string> {
  private readonly counts = new Map<string, Counted<C>>();
  private readonly observations = new Map<string, Observed<H>>();
  private pending = 0;

  /** Adds `by` (may be negative for a gauge) to the metric `name` with these labels. */
  count(name: C, labels: Labels, by: number): void {
    const key = keyOf(name, labels);
    const entry = this.counts.get(key);
    if (entry) entry.n += by;
    else this.counts.set(key, { name, labels, n: by });
  }

  /** Records one observation; true when so many wait that they should be flushed now. */
  observe(name: H, labels: Labels, value: number): boolean {
    const key = keyOf(name, labels);
    const entry = this.observations.get(key);
    if (entry) entry.values.push(value);
    else this.observations.set(key, { name, labels, values: [value] });
    return ++this.pending >= MAX_PENDING;
  }

  /** Hands over everything gathered since the last drain, and starts again from zero. */
  drain(onCount: (name: C, labels: Labels, n: number) => void, onObserve: (name: H, labels: Labels, values: number[]) => void): void {
    for (const entry of this.counts.values()) {
      if (entry.n !== 0) onCount(entry.name, entry.labels, entry.n);
      entry.n = 0;
    }
    for (const entry of this.observations.values()) {
      if (entry.values.length > 0) onObserve(entry.name, entry.labels, entry.values);
      entry.values = [];
    }
    this.pending = 0;
  }
}

function keyOf(name: string, labels: Labels): string {
  if (labels === null) return name;
  let key = name;
  for (const value of Object.values(labels)) key += `\u0000${value}`;
  return key;
}
