import { REVOCATION_FEED_TYP, type Signer, type SignedDocument } from '@pp-embed/dataset-token';
import { parseRevocation, type Revocation } from './revocation.js';

/**
 * The content of a revocation feed: a JWT of type {@link REVOCATION_FEED_TYP} signed with the portal's token key,
 * holding every revocation still able to match a live token.
 *
 * - `epoch`: the identity of the portal's store. A new store (not a restored one) starts a new epoch.
 * - `seq`: grows with every revocation the store records. A replica never goes back to a lower `seq` of the same
 *   epoch, so an old signed copy replayed at it is refused.
 *
 * @example
 * const feed: RevocationFeed = { epoch: 'k3…', seq: 12, revocations: [], iat: 1763899200, exp: 1763899500 };
 */
export interface RevocationFeed {
  readonly epoch: string;
  readonly seq: number;
  readonly revocations: readonly Revocation[];
  /** When the portal signed it (NumericDate). */
  readonly iat: number;
  readonly exp: number;
}

/** The longest feed a replica reads, in entries: one token lifetime of revocations at a large site. */
export const MAX_FEED_ENTRIES = 200_000;

/**
 * Reads a verified feed document, entry by entry. One malformed entry refuses the whole feed (a partial list
 * would silently un-revoke what it leaves out); the reason names the entry and member.
 *
 * @example
 * const read = parseFeed(await verifier.verify(jws));
 * if (!read.ok) log.warn('revocation_feed_refused', { reason: read.problem });
 */
export function parseFeed(
  document: SignedDocument,
): { ok: true; feed: RevocationFeed } | { ok: false; problem: string } {
  const { epoch, seq, revocations } = document.payload;
  if (typeof epoch !== 'string' || !/^[A-Za-z0-9_-]{8,64}$/.test(epoch)) {
    return { ok: false, problem: 'epoch must be 8 to 64 base64url characters' };
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    return { ok: false, problem: 'seq must be a whole number' };
  }
  if (!Array.isArray(revocations)) return { ok: false, problem: 'revocations must be an array' };
  if (revocations.length > MAX_FEED_ENTRIES) {
    return { ok: false, problem: `revocations holds more than ${MAX_FEED_ENTRIES} entries` };
  }
  const out: Revocation[] = [];
  for (let i = 0; i < revocations.length; i++) {
    const read = parseRevocation(revocations[i]);
    if (!read.ok) return { ok: false, problem: `revocations[${i}]: ${read.problem}` };
    out.push(read.revocation);
  }
  return {
    ok: true,
    feed: Object.freeze({
      epoch,
      seq,
      revocations: Object.freeze(out),
      iat: document.iat,
      exp: document.exp,
    }),
  };
}

/**
 * How long a signed feed stays acceptable after the portal signed it. A replica also refuses a feed older than its
 * own staleness limit, so this only bounds what an old copy found elsewhere is worth.
 */
export const FEED_TTL_SECONDS = 300;

/**
 * Signs a feed for the portal's endpoint, with the key that signs its tokens.
 *
 * @example
 * const jws = signFeed(keys.signer(), { epoch, seq, revocations });
 * c.header('Content-Type', 'application/jwt');
 */
export function signFeed(
  signer: Signer,
  feed: { epoch: string; seq: number; revocations: readonly Revocation[] },
): string {
  return signer.signDocument(
    { epoch: feed.epoch, seq: feed.seq, revocations: feed.revocations },
    { typ: REVOCATION_FEED_TYP, ttlSeconds: FEED_TTL_SECONDS },
  );
}
