/**
 * `@pp-embed/revocation`: how a portal withdraws dataset tokens before they expire, and how every visualization
 * server replica learns of it within seconds. The portal records revocations (by token, user, grant or for all its
 * tokens) and publishes them as a signed feed; each replica keeps the feed's list in memory, current through a
 * long-poll of conditional GETs, and `decide` (@pp-embed/access-policy) checks every verified token against it.
 *
 * @example
 * import { RevocationFeedClient, RevocationFeeds } from '@pp-embed/revocation';
 * const feeds = new RevocationFeeds([[new RevocationFeedClient({ name: 'portal', url, verifier, maxStaleSeconds: 60 }), ['portal.example.org']]]);
 * feeds.start();
 * @module
 */
export {
  cutoffAfter,
  parseRevocation,
  type Revocation,
  type RevocationReason,
  REVOCATION_REASONS,
  revocationUntil,
  subjectHash,
} from './revocation.js';
export { FEED_TTL_SECONDS, MAX_FEED_ENTRIES, parseFeed, type RevocationFeed, signFeed } from './feed.js';
export { RevocationList } from './list.js';
export {
  feedEtag,
  type FeedClientOptions,
  type FeedHealth,
  RevocationFeedClient,
  type RevocationVerdict,
} from './client.js';
export { firstRevocation, type RevocationLookup, RevocationFeeds } from './registry.js';
export { type FeedAnswer, FeedPublisher, type FeedPublisherOptions, type FeedSnapshot } from './publish.js';
