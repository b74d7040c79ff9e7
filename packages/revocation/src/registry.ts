import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import type { FeedHealth, RevocationFeedClient, RevocationVerdict } from './client.js';

/**
 * What the access decision asks about a verified token: the verdict of the feed that covers the embedder key of
 * the credential entry the token was verified with (or of the registry that holds that entry), or undefined when
 * nothing covers it.
 *
 * @example
 * const verdict = revocations.check({ embedder: entry.embedder, entry: entry.path, claims, datasets: ['PPDemo'], now });
 */
export interface RevocationLookup {
  check(query: {
    embedder: string;
    /** The path of the credential entry that verified the token. */
    entry: string;
    claims: DatasetTokenClaims;
    datasets: readonly string[];
    now: number;
  }): RevocationVerdict | undefined;
}

/**
 * Several lookups asked as one, in order: the first that withdraws the token (or cannot tell) decides; otherwise
 * the first that clears it. Undefined when none is given.
 *
 * @example
 * const revocations = firstRevocation([registryRetirements, feeds]);
 */
export function firstRevocation(
  lookups: readonly (RevocationLookup | undefined)[],
): RevocationLookup | undefined {
  const present = lookups.filter((l): l is RevocationLookup => l !== undefined);
  if (present.length <= 1) return present[0];
  return {
    check(query) {
      let clear: RevocationVerdict | undefined;
      for (const lookup of present) {
        const verdict = lookup.check(query);
        if (verdict === undefined) continue;
        if (verdict.state !== 'clear') return verdict;
        clear ??= verdict;
      }
      return clear;
    },
  };
}

/**
 * Every revocation feed of a server, by the embedder keys each covers (serverconfig.json's `revocationFeeds`).
 *
 * @example
 * const feeds = new RevocationFeeds([[client, ['portal.example.org']]]);
 * feeds.start();
 * decide(policy, { ...facts, revocations: feeds });
 */
export class RevocationFeeds implements RevocationLookup {
  readonly #byEmbedder = new Map<string, RevocationFeedClient>();
  readonly clients: readonly RevocationFeedClient[];

  constructor(feeds: readonly (readonly [RevocationFeedClient, readonly string[]])[]) {
    this.clients = feeds.map(([client]) => client);
    for (const [client, embedders] of feeds) for (const e of embedders) this.#byEmbedder.set(e, client);
  }

  check({
    embedder,
    claims,
    datasets,
    now,
  }: Parameters<RevocationLookup['check']>[0]): RevocationVerdict | undefined {
    return this.#byEmbedder.get(embedder)?.check(claims, datasets, now);
  }

  /** The feeds' rows for `/healthcheck`. @example feeds.health(Date.now()); */
  health(now: number): FeedHealth[] {
    return this.clients.map((c) => c.health(now));
  }

  /**
   * Loads every feed once, in parallel (at start, before serving). Resolves to the names of the feeds that
   * could not be loaded; their embedders' tokens are refused until they are.
   *
   * @example
   * const missing = await feeds.syncOnce();
   */
  async syncOnce(): Promise<string[]> {
    const results = await Promise.all(this.clients.map((c) => c.syncOnce()));
    return this.clients.filter((_, i) => !results[i]).map((c) => c.name);
  }

  /** @example feeds.start(); */
  start(): void {
    for (const c of this.clients) c.start();
  }

  /** @example await feeds.stop(); */
  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.stop()));
  }
}
