// Term search over the dataset's tree, in memory: datasets hold hundreds to a few thousand terms.
import { LIMITS, type Term, type TermMatch, type TermSearchResult } from '@pp-embed/viz-api';

export interface SearchableTerm {
  readonly term: Term;
  readonly parentId: string | null;
}

/**
 * Leaf terms whose name or id holds every word of `query` (case-insensitive), best first: the whole name, then
 * names that start with the query, then names with a word that starts with it, then the rest; ties in tree
 * order. Each with its path from a root term.
 *
 * @example
 * searchTerms(records, 'age diag'); // { terms: [{ id: 'agedx', name: 'Age at diagnosis', path: [...] }], total: 1 }
 */
export function searchTerms(records: ReadonlyMap<string, SearchableTerm>, query: string): TermSearchResult {
  const q = query.trim().toLowerCase().replace(/\s+/g, ' ');
  const words = q.split(' ').filter(Boolean);
  if (words.length === 0) return { terms: [], total: 0 };
  const scored: { record: SearchableTerm; score: number; order: number }[] = [];
  let order = 0;
  for (const record of records.values()) {
    order++;
    if (!record.term.isleaf) continue;
    const name = record.term.name.toLowerCase();
    const hay = `${name} ${record.term.id.toLowerCase()}`;
    if (!words.every((w) => hay.includes(w))) continue;
    const score =
      name === q
        ? 0
        : name.startsWith(q)
          ? 1
          : name.split(/[^\p{L}\p{N}]+/u).some((w) => w.startsWith(words[0] as string))
            ? 2
            : 3;
    scored.push({ record, score, order });
  }
  scored.sort((a, b) => a.score - b.score || a.order - b.order);
  const terms: TermMatch[] = scored.slice(0, LIMITS.maxSearchResults).map(({ record }) => {
    const path: { id: string; name: string }[] = [];
    let parent = record.parentId;
    // The depth bound guards against a parent cycle in a malformed file.
    for (let depth = 0; parent !== null && depth < 100; depth++) {
      const up = records.get(parent);
      if (up === undefined) break;
      path.unshift({ id: up.term.id, name: up.term.name });
      parent = up.parentId;
    }
    return { ...record.term, path };
  });
  return { terms, total: scored.length };
}
