import { readFile } from 'node:fs/promises';
import { type LockOptions, withLock, writeFileAtomic } from './files.js';

/** The `format` of a record of key use. */
export const SEEN_FORMAT = 'pp-embed/embedder-seen@1';

/**
 * When one key of one entry checked a token first and last, as ISO times.
 *
 * @example
 * const use: KeyUse = { first: '2026-05-23T12:00:00.000Z', last: '2026-05-24T08:30:00.000Z' };
 */
export interface KeyUse {
  readonly first: string;
  readonly last: string;
}

/**
 * Entry id → kid → use. A key that never checked a token has no row.
 *
 * @example
 * seen.get('portal.example.org')?.get('20260523-k3x9qa')?.last;
 */
export type SeenKeys = ReadonlyMap<string, ReadonlyMap<string, KeyUse>>;

/**
 * One observation to record: a key of an entry checked tokens between `first` and `last` (milliseconds).
 *
 * @example
 * const use: Observation = { id: 'portal.example.org', kid: '20260523-k3x9qa', first: t0, last: t1 };
 */
export interface Observation {
  readonly id: string;
  readonly kid: string;
  readonly first: number;
  readonly last: number;
}

const isTime = (text: string): boolean => !Number.isNaN(Date.parse(text));

function parse(text: string): Map<string, Map<string, KeyUse>> {
  const out = new Map<string, Map<string, KeyUse>>();
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return out;
  }
  const entries = (raw as { format?: unknown; entries?: unknown } | null)?.entries;
  if (
    (raw as { format?: unknown }).format !== SEEN_FORMAT ||
    typeof entries !== 'object' ||
    entries === null
  ) {
    return out;
  }
  for (const [id, keys] of Object.entries(entries)) {
    if (typeof keys !== 'object' || keys === null) continue;
    const byKid = new Map<string, KeyUse>();
    for (const [kid, use] of Object.entries(keys as Record<string, unknown>)) {
      const { first, last } = (use ?? {}) as { first?: unknown; last?: unknown };
      if (typeof first === 'string' && typeof last === 'string' && isTime(first) && isTime(last)) {
        byKid.set(kid, { first, last });
      }
    }
    out.set(id, byKid);
  }
  return out;
}

/**
 * Reads the record of key use; a missing or unreadable one is empty (it is a convenience for operators, never a
 * reason to refuse anything).
 *
 * @example
 * const seen = await readSeen(companionFiles(file).seen);
 */
export async function readSeen(file: string): Promise<SeenKeys> {
  try {
    return parse(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();
const earlier = (a: string, b: string): string => (Date.parse(a) <= Date.parse(b) ? a : b);
const later = (a: string, b: string): string => (Date.parse(a) >= Date.parse(b) ? a : b);

/**
 * Merges observations into the record of key use, under its lock, in one atomic write: the earliest first use
 * and the latest last use win, so several servers writing the same file lose nothing but their order. A server
 * calls it every few seconds with what it saw, never per request.
 *
 * @throws LockedError when another writer holds the lock past `lock.waitMs` (a server skips one turn).
 * @example
 * await recordSeen(companionFiles(file).seen, [{ id, kid, first, last }], { waitMs: 0 });
 */
export async function recordSeen(
  file: string,
  observations: readonly Observation[],
  lock: LockOptions = {},
): Promise<void> {
  if (observations.length === 0) return;
  await withLock(
    file,
    async () => {
      let current: Map<string, Map<string, KeyUse>>;
      try {
        current = parse(await readFile(file, 'utf8'));
      } catch {
        current = new Map();
      }
      for (const o of observations) {
        let byKid = current.get(o.id);
        if (byKid === undefined) current.set(o.id, (byKid = new Map()));
        const was = byKid.get(o.kid);
        byKid.set(
          o.kid,
          was === undefined
            ? { first: iso(o.first), last: iso(o.last) }
            : { first: earlier(was.first, iso(o.first)), last: later(was.last, iso(o.last)) },
        );
      }
      const entries = Object.fromEntries([...current].map(([id, byKid]) => [id, Object.fromEntries(byKid)]));
      await writeFileAtomic(file, `${JSON.stringify({ format: SEEN_FORMAT, entries }, null, 2)}\n`);
    },
    lock,
  );
}
