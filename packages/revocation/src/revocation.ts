import { createHash } from 'node:crypto';

/**
 * Why a portal withdrew tokens. Shown by `explain` and in the portal's admin page; never more than this code
 * (no administrator's name, no free text) travels in the feed.
 *
 * @example
 * const reason: RevocationReason = 'password-change';
 */
export type RevocationReason =
  'sign-out' | 'password-change' | 'grant-change' | 'account-removed' | 'admin' | 'api-token-revoked';

/**
 * Every reason, for checks and forms. A replica refuses a feed holding a reason it does not know, so a portal that
 * records a new reason runs behind visualization servers that already know it.
 *
 * @example REVOCATION_REASONS.includes('admin'); // true
 */
export const REVOCATION_REASONS: readonly RevocationReason[] = Object.freeze([
  'sign-out',
  'password-change',
  'grant-change',
  'account-removed',
  'admin',
  'api-token-revoked',
]);

/**
 * One revocation, as the portal records it and its feed publishes it. Times are NumericDate seconds (RFC 7519
 * §2), like a token's `iat`; `at` is when the revocation was made.
 *
 * - `token`: the one token whose `jti` this is (until its `exp`, after which it is refused anyway).
 * - `user`: every token of the user whose subject hash is `sub`, issued (`iat`) before `before`.
 * - `grant`: the same, only where the request needs dataset `dataset` (a grant removed or changed).
 * - `embedder`: every token of this portal issued before `before` (the portal's feed speaks for its embedder).
 *
 * Users appear as {@link subjectHash} of their token's `email`, never as the address itself: the feed is
 * readable by every replica and proxy on its way, and a list of who lost access to which dataset is personal data.
 *
 * @example
 * const r: Revocation = { type: 'user', sub: subjectHash('ana@example.org'), before: 1763899201, at: 1763899200, reason: 'password-change' };
 */
export type Revocation =
  | {
      readonly type: 'token';
      readonly jti: string;
      readonly exp: number;
      readonly at: number;
      readonly reason: RevocationReason;
    }
  | {
      readonly type: 'user';
      readonly sub: string;
      readonly before: number;
      readonly at: number;
      readonly reason: RevocationReason;
    }
  | {
      readonly type: 'grant';
      readonly sub: string;
      readonly dataset: string;
      readonly before: number;
      readonly at: number;
      readonly reason: RevocationReason;
    }
  | {
      readonly type: 'embedder';
      readonly before: number;
      readonly at: number;
      readonly reason: RevocationReason;
    };

const SUBJECT_PREFIX = 'pp-embed revocation subject\u0000';

/**
 * The pseudonym a user has in a revocation feed: base64url SHA-256 of the token's `email` claim (domain
 * separated). Both sides compute it from the same string, so a feed needs no email address in it.
 *
 * @example
 * subjectHash('ana@example.org'); // 43 base64url characters
 */
export function subjectHash(email: string): string {
  return createHash('sha256').update(SUBJECT_PREFIX).update(email).digest('base64url');
}

/**
 * The first whole second after `ms`: a revocation made at `ms` withdraws every token with `iat < before`, which
 * includes every token minted in the same second (a token's `iat` is rounded down), so none minted before the
 * revocation slips through. A portal must therefore not mint for the same user before `before` (it waits).
 *
 * @example
 * cutoffAfter(Date.UTC(2026, 10, 23, 12, 0, 0, 500)); // 1763899201
 */
export function cutoffAfter(ms: number): number {
  return Math.floor(ms / 1000) + 1;
}

/**
 * When a revocation stops mattering: every token it can match has expired by then (tokens live at most
 * `maxTokenLifetimeSeconds`, plus the verifiers' largest clock leeway). A feed leaves such entries out, so it stays
 * as small as the number of revocations in one token lifetime.
 *
 * @example
 * revocationUntil({ type: 'token', jti: 'x', exp: 100, at: 50, reason: 'sign-out' }, 3600); // 160
 */
export function revocationUntil(revocation: Revocation, maxTokenLifetimeSeconds: number): number {
  const leeway = 60;
  return revocation.type === 'token'
    ? revocation.exp + leeway
    : revocation.before + maxTokenLifetimeSeconds + leeway;
}

const SUBJECT = /^[A-Za-z0-9_-]{43}$/;
// C0 controls, DEL and the Unicode line separators: never in a jti or label, and the usual way to forge a log line.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f\u2028\u2029]/;
const MAX_SECONDS = 253_402_300_799; // 9999-12-31T23:59:59Z

const isSeconds = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_SECONDS;
const isShortText = (value: unknown, max: number): value is string =>
  typeof value === 'string' && value !== '' && value.length <= max && !CONTROL.test(value);

/**
 * Checks one entry of a feed: every member known, of its type, and nothing else (an unknown member could be a
 * newer portal's rule this server would silently not apply). Returns the entry or a reason naming the member.
 *
 * @example
 * parseRevocation({ type: 'token', jti: 'a', exp: 2, at: 1, reason: 'admin' }); // { ok: true, revocation: … }
 */
export function parseRevocation(
  value: unknown,
): { ok: true; revocation: Revocation } | { ok: false; problem: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'is not an object' };
  }
  const entry = value as Record<string, unknown>;
  const allowed: Record<string, readonly string[]> = {
    token: ['type', 'jti', 'exp', 'at', 'reason'],
    user: ['type', 'sub', 'before', 'at', 'reason'],
    grant: ['type', 'sub', 'dataset', 'before', 'at', 'reason'],
    embedder: ['type', 'before', 'at', 'reason'],
  };
  const type = entry.type;
  if (typeof type !== 'string' || !Object.hasOwn(allowed, type)) {
    return { ok: false, problem: 'type must be "token", "user", "grant" or "embedder"' };
  }
  const members = allowed[type] as readonly string[];
  for (const key of Object.keys(entry)) {
    if (!members.includes(key))
      return { ok: false, problem: `${key} is not a member of a ${type} revocation` };
  }
  if (!isSeconds(entry.at)) return { ok: false, problem: 'at must be a NumericDate' };
  if (typeof entry.reason !== 'string' || !(REVOCATION_REASONS as readonly string[]).includes(entry.reason)) {
    return { ok: false, problem: `reason must be one of ${REVOCATION_REASONS.join(', ')}` };
  }
  if (type === 'token') {
    if (!isShortText(entry.jti, 256)) return { ok: false, problem: 'jti must be a short string' };
    if (!isSeconds(entry.exp)) return { ok: false, problem: 'exp must be a NumericDate' };
  } else {
    if (!isSeconds(entry.before)) return { ok: false, problem: 'before must be a NumericDate' };
    if (type !== 'embedder' && (typeof entry.sub !== 'string' || !SUBJECT.test(entry.sub))) {
      return { ok: false, problem: 'sub must be a subject hash (43 base64url characters)' };
    }
    if (type === 'grant' && !isShortText(entry.dataset, 200)) {
      return { ok: false, problem: 'dataset must be a dataset label' };
    }
  }
  return { ok: true, revocation: Object.freeze({ ...entry }) as unknown as Revocation };
}
