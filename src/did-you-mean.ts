/** "did you mean …?" for a misspelt flag or config key: the nearest known name by edit distance, when near enough. */

/**
 * The candidate nearest to `word` (Damerau-Levenshtein: insert, delete, substitute, swap two neighbours), or null
 * when none is within a third of the word's length (at least 1, at most 3 edits) — beyond that a guess misleads.
 * Failing that, an abbreviation (`prio` for `priority`: at least 3 letters, the start of exactly one candidate).
 */
export function closest(word: string, candidates: Iterable<string>): string | null {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)));
  let best: string | null = null;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best ?? abbreviated(word, candidates);
}

function abbreviated(word: string, candidates: Iterable<string>): string | null {
  if (word.length < 3) return null;
  const lower = word.toLowerCase();
  const starts = [...candidates].filter((c) => c.toLowerCase().startsWith(lower));
  return starts.length === 1 ? starts[0]! : null;
}

/** Optimal string alignment distance between a and b. */
function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
