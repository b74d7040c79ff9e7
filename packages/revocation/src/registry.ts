import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import type { FeedHealth, RevocationFeedClient, RevocationVerdict } from './client.js';

/**
 * What the access decision asks about a verified token: the verdict of the feed that covers the embedder key of
 * the credential entry the token was verified with, or undefined when no feed covers it.
 *
 * @example
 * const verdict = revocations.check({ embedder: entry.embedder, claims, datasets: ['PPDemo'], now });
 */
export interface RevocationLookup {
  check(query: {
    embedder: string;
    claims: DatasetTokenClaims;
    datasets: readonly string[];
    now: number;
  }): RevocationVerdict | undefined;
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
