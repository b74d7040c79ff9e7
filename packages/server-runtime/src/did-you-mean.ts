/**
 * The candidate a mistyped name most likely meant, for a "did you mean" in a configuration error: the one that
 * differs only in case, else the nearest by edit distance (insertions, deletions, substitutions and swaps of
 * two neighbours, case ignored) when it is close enough to be a slip of the keyboard rather than another name.
 * Undefined when nothing is that close.
 *
 * @example
 * closestName('termdbtest', ['TermdbTest', 'PPDemo']); // 'TermdbTest'
 * closestName('headerkey', ['headerKey', 'dsnames']);  // 'headerKey'
 * closestName('burden', ['termdb/samples', 'termdb']); // undefined
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  // One slip per four characters, at most two: "sample" is close to "samples", "burden" to nothing. A name of
  // one or two characters is another name after any slip, so it is only matched up to case.
  const allowed = name.length < 3 ? 0 : Math.min(2, Math.max(1, Math.floor(name.length / 4)));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: Levenshtein plus the swap of two neighbouring characters. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return Infinity;
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const above = rows[i - 1] as number[];
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(
        (above[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (above[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        value = Math.min(value, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      }
      row.push(value);
    }
    rows.push(row);
  }
  return (rows[a.length] as number[])[b.length] as number;
}
