/** Levenshtein distance, for "did you mean" lists. */
function distance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/**
 * The candidates closest to `word`: those within a third of its length in
 * edits, or sharing its part before the first "." or "_", best first, at most `max`.
 */
export function closeMatches(word: string, candidates: Iterable<string>, max = 5): string[] {
  const w = word.toLowerCase();
  const limit = Math.max(2, Math.floor(w.length / 3));
  const stem = w.split(/[._]/)[0]!;
  const scored: [string, number][] = [];
  for (const c of candidates) {
    const d = distance(w, c.toLowerCase());
    if (d <= limit || (w.length >= 4 && c.toLowerCase().includes(w))) scored.push([c, d]);
    else if (stem.length >= 4 && c.toLowerCase().startsWith(stem)) scored.push([c, d + 100]);
  }
  scored.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return scored.slice(0, max).map(([c]) => c);
}

/** ", did you mean a, b or c?" or "". */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const m = closeMatches(word, candidates);
  if (m.length === 0) return "";
  const list = m.length === 1 ? m[0]! : `${m.slice(0, -1).join(", ")} or ${m[m.length - 1]!}`;
  return `; did you mean ${list}?`;
}
