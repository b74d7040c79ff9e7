import { canonicalIp } from '@pp-embed/client-address';
import { type DatasetTokenClaims, peekJwt, type TokenClient, TokenError } from '@pp-embed/dataset-token';
import type { VisaOutcome } from '@pp-embed/passport';
import {
  type DisclosureRule,
  GRANTED_ROUTE_CLASSES,
  type GrantedRouteClass,
  LIMITS,
  type LoginErrorCode,
  ROUTES,
  type RefusalCode,
  type Tier,
  type TokenErrorCode,
  type TokenInvalidReason,
} from '@pp-embed/viz-api';
import type { RevocationLookup, RevocationVerdict } from '@pp-embed/revocation';
import { type Authorization, authorize, requiredDatasets } from './authorize.js';
import { type DatasetDisclosure, NO_DISCLOSURE, rulesBeneath, type TierRule, tierOf } from './disclosure.js';
import type { CredentialEntry, OpenEntry, PasswordEntry, RouteRef, TokenEntry } from './entries.js';
import { type IssuerGrant, issuerGrants, type TrustedIssuer } from './issuers.js';
import { verifyPassword } from './password.js';
import { type AccessPolicy, type ForbiddenCode, throttleOf, type Trace, traceResolution } from './policy.js';

/**
 * The facts of one request, as the server sees them. Nothing else reaches the decision.
 *
 * @example
 * const facts: RequestFacts = {
 *   dataset: 'TermdbTest',
 *   route: ROUTES.samples,
 *   origin: c.req.header('origin'),
 *   clientIp: '203.0.113.7',
 *   header: (name) => c.req.header(name),
 *   disclosure: dataset.disclosure,
 * };
 */
export interface RequestFacts {
  /** The dataset label, as the request named it. */
  readonly dataset: string;
  readonly route: RouteRef;
  /** The raw `Origin` header, if any. */
  readonly origin?: string | null | undefined;
  /** The client address after the trusted-proxy rule, if known. */
  readonly clientIp?: string | undefined;
  /** Reads one request header by its lowercase name; undefined when absent. */
  readonly header: (name: string) => string | undefined;
  /** The dataset's disclosure rules per tier (serverconfig.json); absent: exact counts for everyone. */
  readonly disclosure?: DatasetDisclosure | undefined;
  /** The time of the request in milliseconds; the policy's clock when absent. */
  readonly now?: number;
  /**
   * The revocation lists in force (`RevocationFeeds` of @pp-embed/revocation), asked about every verified token; an
   * in-memory lookup. Absent: no feed is configured.
   */
  readonly revocations?: RevocationLookup | undefined;
  /**
   * A dataset password offered to the login route, for `route`: instead of reading a token, the decision checks
   * it against the `basic` entry guarding that route and, when it is right, issues a token for the entry.
   */
  readonly password?: string;
}

/**
 * A token the server issued for a dataset password: sent in `headerKey` like a portal's, until it expires.
 *
 * @example
 * const issued: IssuedToken = { token, headerKey: 'x-ds-access-token', expiresIn: 3600 };
 */
export interface IssuedToken {
  readonly token: string;
  readonly headerKey: string;
  /** Seconds until it expires. */
  readonly expiresIn: number;
}

/**
 * What one caller may see. Every data call takes it, so that no route can forget it.
 *
 * @example
 * const anonymous: Scope = { cohorts: null, tier: 'anonymous', rule: presetRule('genomics-england'), beneath: [] };
 */
export interface Scope {
  /** Only samples in at least one of these cohorts; `[]` means no samples; null means no restriction. */
  readonly cohorts: readonly string[] | null;
  /** Who is asking. */
  readonly tier: Tier;
  /** The disclosure rule every aggregated count of the answer goes through; null: exact counts. */
  readonly rule: DisclosureRule | null;
  /**
   * The rules of the lower tiers, lowest first, which the caller can also see by asking without its token: what
   * `rule` hides must stay hidden given what they show.
   */
  readonly beneath: readonly DisclosureRule[];
}

/** The codes a decision can refuse with. @example const code: DecisionCode = 'ip_mismatch'; */
export type DecisionCode =
  TokenErrorCode | RefusalCode | LoginErrorCode | 'bad_request' | 'revocation_unavailable';

/**
 * The outcome of {@link decide}.
 *
 * - allowed: `claims` when a token verified and was granted; `scope` for every data call; `granted` false only on
 *   a discovery route whose token was missing or refused (it answers without its token-guarded parts).
 * - refused: the HTTP `status` and stable `code` to answer with; `detail` (which check failed, in plain words),
 *   `path` (the config entry that decided) and `cause` are for logs only.
 *
 * @example
 * const d = await decide(policy, facts);
 * if (!d.allowed) return c.json({ error: { code: d.code, message } }, d.status);
 */
export type Decision =
  | {
      readonly allowed: true;
      readonly claims: DatasetTokenClaims | undefined;
      readonly scope: Scope;
      readonly granted: boolean;
      /** The entry that decided; undefined when no credential covers the request. */
      readonly entry: CredentialEntry | OpenEntry | undefined;
      /**
       * The `kid` of the entry's key that verified the token, when it has one: a server records it to tell when a
       * key rotated out is no longer used.
       */
      readonly kid?: string | undefined;
      /** For a right dataset password: the token issued for it. */
      readonly issued?: IssuedToken;
    }
  | {
      readonly allowed: false;
      readonly status: 400 | 401 | 403 | 429 | 503;
      readonly code: DecisionCode;
      readonly detail: string;
      readonly path: string | undefined;
      readonly cause?: unknown;
      /** With `token_invalid`: which part of the token is wrong, for the client (the wire contract's reasons). */
      readonly reason?: TokenInvalidReason;
      /** With `too_many_attempts`: seconds until a try is counted again. */
      readonly retryAfter?: number;
      /**
       * True when the origin is one whose pages may read no answer of this server (`allowsOrigin` is false), and
       * this refusal is the one answer meant for them: send it with the CORS headers for that origin.
       */
      readonly toOrigin?: true;
    };

/**
 * One step of a decision, for `explain`, which turns each into a sentence. The server does not ask for them.
 */
export type DecisionStep =
  | { readonly step: 'resolved'; readonly trace: Trace }
  | { readonly step: 'duplicate-header'; readonly headerKey: string }
  | {
      readonly step: 'client';
      readonly entry: TokenEntry;
      /** Who sent the request: a script (no `Origin`) or a web page. */
      readonly sender: TokenClient;
      /** Who the token was minted for (`client` claim; a browser when absent). */
      readonly client: TokenClient;
    }
  | {
      readonly step: 'route-class';
      readonly route: RouteRef;
      /** The token's `routeClasses`. */
      readonly granted: readonly GrantedRouteClass[];
    }
  | {
      readonly step: 'token';
      readonly entry: CredentialEntry;
      readonly offered: boolean;
      readonly outcome:
        | { readonly claims: DatasetTokenClaims; readonly kid: string | undefined }
        | { readonly error: TokenError };
    }
  | { readonly step: 'revocation'; readonly entry: TokenEntry; readonly verdict: RevocationVerdict }
  | {
      readonly step: 'grant';
      readonly entry: CredentialEntry;
      readonly claims: DatasetTokenClaims;
      readonly result: Authorization;
    }
  | {
      readonly step: 'issuer';
      readonly entry: TokenEntry;
      /** The token's `iss`, as it reads before anything is verified. */
      readonly iss: string | undefined;
      /** The entry's trusted issuer it names; undefined when none. */
      readonly issuer: TrustedIssuer | undefined;
      readonly outcome:
        | { readonly error: TokenError }
        | {
            readonly grants: readonly IssuerGrant[];
            readonly visas: readonly VisaOutcome[] | undefined;
            /** The grants this request rests on. */
            readonly used: readonly IssuerGrant[];
            readonly refusal?: {
              readonly code: 'dataset_not_granted' | 'insufficient_scope';
              readonly reason: string;
            };
          };
    }
  | { readonly step: 'discovery'; readonly code: DecisionCode }
  | { readonly step: 'unlisted-origin'; readonly host: string }
  | {
      readonly step: 'password';
      readonly entry: CredentialEntry | undefined;
      readonly outcome: 'accepted' | 'refused' | 'throttled' | 'not-available';
      readonly retryAfter?: number;
    }
  | {
      readonly step: 'optional-token';
      readonly guard: CredentialEntry | undefined;
      readonly offered: boolean;
    }
  | {
      readonly step: 'sample-rows';
      readonly disclosure: DatasetDisclosure;
      readonly rule: TierRule;
      readonly code: 'route_forbidden' | 'grant_required';
    }
  | {
      readonly step: 'scope';
      readonly scope: Scope;
      readonly verified: boolean;
      /** The tier's setting, with its config path. */
      readonly tierRule: TierRule;
      /** Why the counts are exact although the tier has a rule: the caller may read the sample-level rows. */
      readonly rows: 'readable' | 'not-readable' | undefined;
    };

// On a route that needs no token, an offered token is read in the header of the entry guarding the dataset's
// sample-level data: verified and granted, it sets the caller's tier (and so its disclosure rule) and applies its
// cohorts. The same entry decides whether a granted caller may read the rows, and so sees exact counts.
const GUARD_ROUTE: RouteRef = ROUTES.samples;

/**
 * The one access decision. Resolves dataset, route and embedder (memoized per config), reads the token from the
 * deciding entry's header only, verifies it (with the entry's key, or with the keys and rules of the trusted issuer
 * its `iss` names, whose scopes, claims or visas then grant), asks the revocation list of the entry's embedder
 * whether a portal's token was withdrawn, checks the grant (datasets, address), applies the discovery exception,
 * decides the caller's tier and disclosure rule, and works out the caller's scope. Sample-level routes answer only
 * callers who see exact counts (or rows the operator published): a caller whose counts are controlled would undo
 * the control by counting rows. The server's middleware calls it for every dataset request; `explain` calls it
 * with `steps` and tells each one. Never throws.
 *
 * @example
 * const decision = await decide(policy, {
 *   dataset: 'TermdbTest', route: ROUTES.samples, origin: 'https://portal.example.org',
 *   clientIp: '203.0.113.7', header: (name) => headers.get(name) ?? undefined, disclosure,
 * });
 * decision.allowed; // false
 * decision.allowed || decision.code; // 'token_missing'
 */
export async function decide(
  policy: AccessPolicy,
  facts: RequestFacts,
  steps?: DecisionStep[],
): Promise<Decision> {
  const trace = traceResolution(policy, facts.dataset, facts.route, facts.origin);
  steps?.push({ step: 'resolved', trace });
  const result = trace.result;

  if (
    facts.route.class === 'discovery' &&
    trace.embedder.kind === 'host' &&
    !policy.allowsOrigin(facts.origin)
  ) {
    // A page whose origin no entry names can read no answer of this server, so its widget would see only a
    // CORS failure. Its discovery request is told the true cause, in an answer it may read and that holds no data.
    steps?.push({ step: 'unlisted-origin', host: trace.embedder.host });
    const out = refused(403, 'embedder_not_allowed', 'the origin is no embedder of any dataset', undefined);
    return { ...out, toOrigin: true };
  }
  if (result.kind === 'forbidden') {
    return refused(403, result.code, forbiddenDetail(result.code), result.path);
  }
  if (facts.password !== undefined) return login(policy, result, facts, steps);

  // A request without an Origin is a script's (the widget, cross-origin, always sends one).
  const sender: TokenClient = trace.embedder.kind === 'absent' ? 'script' : 'browser';
  if (result.kind === 'open') {
    const guard = traceResolution(policy, facts.dataset, GUARD_ROUTE, facts.origin).result;
    const entry = guard.kind === 'needs-token' ? guard.entry : undefined;
    const offered = entry === undefined ? undefined : offeredToken(entry, facts, sender);
    steps?.push({ step: 'optional-token', guard: entry, offered: offered !== undefined });
    let claims: DatasetTokenClaims | undefined;
    let kid: string | undefined;
    if (entry !== undefined && offered !== undefined) {
      // A refused token on an open route is not an error: the answer is the one without a token.
      const checked = await checkToken(entry, offered, facts, sender, steps);
      if ('claims' in checked) ({ claims, kid } = checked);
    }
    return allowed(policy, claims, entry, facts, result.entry, true, sender, steps, kid);
  }

  const entry = result.entry;
  const checked = await checkToken(entry, offeredToken(entry, facts, sender), facts, sender, steps);
  if ('claims' in checked)
    return allowed(policy, checked.claims, entry, facts, entry, true, sender, steps, checked.kid);
  if (facts.route.class === 'discovery' && checked.status !== 400) {
    steps?.push({ step: 'discovery', code: checked.code });
    return allowed(policy, undefined, undefined, facts, entry, false, sender, steps);
  }
  return checked;
}

type Refused = Extract<Decision, { allowed: false }>;

function refused(
  status: Refused['status'],
  code: DecisionCode,
  detail: string,
  path: string | undefined,
  extra: { cause?: unknown; reason?: TokenInvalidReason | undefined; retryAfter?: number } = {},
): Refused {
  const out: { -readonly [K in keyof Refused]: Refused[K] } = { allowed: false, status, code, detail, path };
  if (extra.cause !== undefined) out.cause = extra.cause;
  if (extra.reason !== undefined) out.reason = extra.reason;
  if (extra.retryAfter !== undefined) out.retryAfter = extra.retryAfter;
  return out;
}

/** Who a token issued for a dataset password names as its user, in the audit trail. */
export const PASSWORD_USER = '(dataset password)';

/**
 * The login route: the password offered for `facts.route` is checked against the `basic` entry that guards it
 * for this origin, with the tries of one address at one dataset limited. Right: a token bound to the entry (its
 * `aud`), the dataset and the client address. Every answer of a refused try is the same, so it tells nothing
 * about the password.
 */
async function login(
  policy: AccessPolicy,
  result: Exclude<Trace['result'], { kind: 'forbidden' }>,
  facts: RequestFacts,
  steps: DecisionStep[] | undefined,
): Promise<Decision> {
  const entry = result.kind === 'needs-token' ? result.entry : undefined;
  if (entry?.type !== 'basic') {
    steps?.push({ step: 'password', entry, outcome: 'not-available' });
    return refused(
      400,
      'login_not_available',
      entry === undefined
        ? 'the route needs no credential for this origin'
        : 'the route takes a token from the portal, not a dataset password',
      entry?.path,
    );
  }
  const throttle = throttleOf(policy);
  const now = facts.now ?? Date.now();
  const key = `${facts.clientIp ?? ''}\u0000${facts.dataset}`;
  const wait = throttle.retryAfter(key, now);
  if (wait > 0) {
    steps?.push({ step: 'password', entry, outcome: 'throttled', retryAfter: wait });
    return refused(429, 'too_many_attempts', 'too many wrong passwords from this address', entry.path, {
      retryAfter: wait,
    });
  }
  const password = facts.password as string;
  const right = await throttle.run(() => verifyPassword(entry.passwordHash, password));
  if (right === undefined) {
    steps?.push({ step: 'password', entry, outcome: 'throttled', retryAfter: 1 });
    return refused(429, 'too_many_attempts', 'too many password checks waiting', entry.path, {
      retryAfter: 1,
    });
  }
  if (!right) {
    throttle.failed(key, now);
    steps?.push({ step: 'password', entry, outcome: 'refused' });
    return refused(401, 'password_invalid', 'the password does not match passwordHash', entry.path);
  }
  throttle.succeeded(key);
  steps?.push({ step: 'password', entry, outcome: 'accepted' });
  return {
    allowed: true,
    claims: undefined,
    // The login route answers with a token, never with data.
    scope: { cohorts: null, tier: 'anonymous', rule: null, beneath: [] },
    granted: true,
    entry,
    issued: issue(entry, facts),
  };
}

function issue(entry: PasswordEntry, facts: RequestFacts): IssuedToken {
  const ip = facts.clientIp === undefined ? undefined : canonicalIp(facts.clientIp);
  const token = entry.signer.sign({ datasets: [facts.dataset], email: PASSWORD_USER, ip });
  return { token, headerKey: entry.headerKey, expiresIn: entry.maxTokenAge };
}

const FORBIDDEN_DETAILS: Record<ForbiddenCode, string> = {
  embedder_not_allowed: 'no embedder key of the route block matches the origin',
  route_forbidden: 'the entry is "forbidden"',
  scripts_not_allowed: 'the request has no Origin and no entry of the route block accepts scripts',
};

function forbiddenDetail(code: ForbiddenCode): string {
  return FORBIDDEN_DETAILS[code];
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`, the scheme compared case-insensitively. */
const BEARER = /^Bearer +(\S+)$/i;

/**
 * The token a request offers to `entry`: what its header holds, and from a script also `Authorization: Bearer`
 * (RFC 6750 §2.1), which OAuth clients send by themselves. Both at once is two tokens, refused as two headers are.
 */
function offeredToken(entry: CredentialEntry, facts: RequestFacts, sender: TokenClient): string | undefined {
  const header = facts.header(entry.headerKey);
  if (sender !== 'script' || entry.headerKey === 'authorization') return header;
  // Two Authorization headers arrive joined with ", ", as two token headers do.
  const bearers = (facts.header('authorization') ?? '')
    .split(',')
    .map((value) => BEARER.exec(value.trim())?.[1])
    .filter((token): token is string => token !== undefined);
  if (bearers.length === 0) return header;
  // Joined as two headers of one name would be, so that the duplicate check below refuses them alike.
  return [...(header === undefined ? [] : [header]), ...bearers].join(', ');
}

async function checkToken(
  entry: CredentialEntry,
  header: string | undefined,
  facts: RequestFacts,
  sender: TokenClient,
  steps: DecisionStep[] | undefined,
): Promise<{ claims: DatasetTokenClaims; kid: string | undefined } | Refused> {
  // Two headers of the same name arrive joined with ", "; a compact JWS has no comma.
  if (header !== undefined && header.includes(',')) {
    steps?.push({ step: 'duplicate-header', headerKey: entry.headerKey });
    return refused(400, 'bad_request', `more than one ${entry.headerKey} header`, entry.path);
  }
  // A token whose iss names one of the entry's trusted issuers is that issuer's to verify; any other goes to the
  // entry's own key, and an entry without one trusts no other issuer.
  if (
    entry.type === 'jwt' &&
    header !== undefined &&
    (entry.issuers.length > 0 || entry.verifier === undefined)
  ) {
    // Said before any decoding: a passport with too many visas must not read as a token of an unknown issuer.
    if (header.length > LIMITS.maxPassportLength) {
      const error = new TokenError(
        'token_invalid',
        `token is longer than ${LIMITS.maxPassportLength} characters, the longest passport accepted`,
        { reason: 'malformed' },
      );
      steps?.push({ step: 'token', entry, offered: true, outcome: { error } });
      return refused(401, error.code, error.message, entry.path, { reason: error.reason });
    }
    const iss = peekJwt(header, LIMITS.maxPassportLength)?.payload.iss;
    const trusted = entry.issuers.find((candidate) => candidate.issuer === iss);
    if (trusted !== undefined) return checkIssuerToken(entry, trusted, header, facts, steps);
    if (entry.verifier === undefined) {
      const error = new TokenError(
        'issuer_not_trusted',
        typeof iss === 'string'
          ? `issuer ${JSON.stringify(iss.slice(0, 200))} is not one of the entry's trusted issuers`
          : 'the token names no issuer this entry trusts',
        { claim: 'iss' },
      );
      steps?.push({
        step: 'issuer',
        entry,
        iss: typeof iss === 'string' ? iss : undefined,
        issuer: undefined,
        outcome: { error },
      });
      return refused(401, error.code, error.message, entry.path);
    }
  }
  if (entry.verifier === undefined) {
    const error = new TokenError('token_missing', 'no token was sent');
    steps?.push({ step: 'token', entry, offered: false, outcome: { error } });
    return refused(401, error.code, error.message, entry.path);
  }
  let claims: DatasetTokenClaims;
  let kid: string | undefined;
  try {
    ({ claims, kid } = await entry.verifier.verifyKey(header, facts.now));
  } catch (error) {
    const tokenError = asTokenError(error);
    steps?.push({ step: 'token', entry, offered: header !== undefined, outcome: { error: tokenError } });
    return refused(401, tokenError.code, tokenError.message, entry.path, {
      cause: tokenError.cause,
      reason: tokenError.reason,
    });
  }
  steps?.push({ step: 'token', entry, offered: true, outcome: { claims, kid } });
  if (entry.type === 'jwt') {
    // A browser's token outside its page, or a script's token in a page, is not what either was minted for.
    const client = claims.client ?? 'browser';
    steps?.push({ step: 'client', entry, sender, client });
    if (client !== sender) {
      return sender === 'script'
        ? refused(
            403,
            'token_not_for_scripts',
            "a browser's token in a request without an Origin",
            entry.path,
          )
        : refused(403, 'token_not_for_browsers', "a script's token in a request with an Origin", entry.path);
    }
    // The feeds are the portals' records of the tokens they minted. A token this server issued for a dataset
    // password is in no portal's feed, so no feed holds it back.
    const withdrawn = checkRevocation(entry, claims, facts, steps);
    if (withdrawn !== undefined) return withdrawn;
  }
  const script =
    sender === 'script' && entry.type === 'jwt' && entry.scripts !== false ? entry.scripts : undefined;
  const grant = authorize(entry, claims, { dataset: facts.dataset, clientIp: facts.clientIp, script });
  steps?.push({ step: 'grant', entry, claims, result: grant });
  if (!grant.ok) return refused(403, grant.code, grant.reason, entry.path);
  const routeClass = facts.route.class;
  if (claims.routeClasses !== undefined && isGranted(routeClass)) {
    steps?.push({ step: 'route-class', route: facts.route, granted: claims.routeClasses });
    if (!claims.routeClasses.includes(routeClass)) {
      return refused(403, 'insufficient_scope', `the "routeClasses" claim lacks "${routeClass}"`, entry.path);
    }
  }
  return { claims, kid };
}

const isGranted = (routeClass: RouteRef['class']): routeClass is GrantedRouteClass =>
  (GRANTED_ROUTE_CLASSES as readonly string[]).includes(routeClass);

/** A verifier's refusal as it is; anything else it threw as `token_invalid`, kept as the cause for logs. */
function asTokenError(error: unknown): TokenError {
  return error instanceof TokenError
    ? error
    : new TokenError('token_invalid', 'token could not be verified', { cause: error });
}

/**
 * A token from one of the entry's trusted issuers: verified by that issuer's keys and rules, then granted by the
 * rules (scopes, claims, visas) that name this dataset and cover this route class. Such a token carries no client
 * address, so the address rule of portal tokens does not apply, and it is in no portal's revocation feed (no portal
 * issued it); its grant ends at the earliest expiry it rests on.
 */
async function checkIssuerToken(
  entry: TokenEntry,
  issuer: TrustedIssuer,
  token: string,
  facts: RequestFacts,
  steps: DecisionStep[] | undefined,
): Promise<{ claims: DatasetTokenClaims; kid: undefined } | Refused> {
  const step = { step: 'issuer', entry, iss: issuer.issuer, issuer } as const;
  let verified;
  try {
    verified = await issuer.verifier.verify(token, facts.now);
  } catch (error) {
    const tokenError = asTokenError(error);
    steps?.push({ ...step, outcome: { error: tokenError } });
    return refused(401, tokenError.code, tokenError.message, entry.path, {
      cause: tokenError.cause,
      reason: tokenError.reason,
    });
  }
  const { grants, visas } = await issuerGrants(issuer, token, verified, facts.now);
  const wanted = requiredDatasets(entry, facts.dataset);
  const missing = wanted.filter((id) => !grants.some((g) => g.dataset === id));
  const covering = grants.filter(
    (g) => wanted.includes(g.dataset) && (g.routes === null || g.routes.includes(facts.route.class)),
  );
  const uncovered = wanted.filter((id) => !covering.some((g) => g.dataset === id));
  const refusal =
    missing.length > 0
      ? {
          code: 'dataset_not_granted' as const,
          reason: `no scope, claim or visa of ${issuer.name} grants ${missing.map((id) => JSON.stringify(id)).join(', ')}`,
        }
      : uncovered.length > 0
        ? {
            code: 'insufficient_scope' as const,
            reason: `the grants of ${issuer.name} for ${uncovered.map((id) => JSON.stringify(id)).join(', ')} do not cover ${facts.route.class} routes`,
          }
        : undefined;
  steps?.push({
    ...step,
    outcome: { grants, visas, used: refusal === undefined ? covering : [], ...(refusal && { refusal }) },
  });
  if (refusal !== undefined) return refused(403, refusal.code, refusal.reason, entry.path);
  const here = covering.filter((g) => g.dataset === facts.dataset);
  const restricted = here.length > 0 && here.every((g) => g.cohorts !== null);
  const email = verified.payload.email;
  const claims: DatasetTokenClaims = Object.freeze({
    datasets: Object.freeze([...new Set(covering.map((g) => g.dataset))]),
    // The audit trail's user: the issuer's email for them, or their subject at the issuer. No control characters:
    // they would forge a log line.
    email:
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      typeof email === 'string' && email.length <= 320 && !/[\u0000-\u001f\u007f]/.test(email)
        ? email
        : `${verified.sub ?? ''}@${issuer.name}`,
    iat: verified.iat ?? Math.floor((facts.now ?? Date.now()) / 1000),
    exp: Math.min(verified.exp, ...covering.map((g) => g.expiresAt)),
    iss: verified.iss,
    ...(typeof verified.payload.jti === 'string' && { jti: verified.payload.jti.slice(0, 256) }),
    ...(restricted && {
      clientAuthResult: Object.freeze({ cohorts: [...new Set(here.flatMap((g) => g.cohorts ?? []))] }),
    }),
  });
  // No key of the entry checked it: the issuer's keys did.
  return { claims, kid: undefined };
}

function checkRevocation(
  entry: TokenEntry,
  claims: DatasetTokenClaims,
  facts: RequestFacts,
  steps: DecisionStep[] | undefined,
): Refused | undefined {
  const verdict = facts.revocations?.check({
    embedder: entry.embedder,
    entry: entry.path,
    claims,
    datasets: requiredDatasets(entry, facts.dataset),
    now: facts.now ?? Date.now(),
  });
  if (verdict === undefined) return undefined;
  steps?.push({ step: 'revocation', entry, verdict });
  if (verdict.state === 'retired') {
    // The operator withdrew this portal: terminal, so no sign-in again (a 401) would help.
    return refused(
      403,
      'embedder_retired',
      `registry entry "${verdict.entry}" was retired at ${verdict.at}`,
      entry.path,
    );
  }
  if (verdict.state === 'revoked') {
    const r = verdict.revocation;
    return refused(
      401,
      'token_revoked',
      `revoked by feed "${verdict.feed}" (${r.type}, ${r.reason})`,
      entry.path,
    );
  }
  // Fail closed: without a current list the server cannot tell a withdrawn token from a good one.
  if (verdict.state === 'unavailable') {
    return refused(
      503,
      'revocation_unavailable',
      `revocation feed "${verdict.feed}" is out of date`,
      entry.path,
    );
  }
  return undefined;
}

async function allowed(
  policy: AccessPolicy,
  claims: DatasetTokenClaims | undefined,
  verifiedBy: CredentialEntry | undefined,
  facts: RequestFacts,
  entry: CredentialEntry | OpenEntry | undefined,
  granted: boolean,
  sender: TokenClient,
  steps: DecisionStep[] | undefined,
  kid?: string,
): Promise<Decision> {
  const disclosure = facts.disclosure ?? NO_DISCLOSURE;
  const tier = tierOf(claims);
  const tierRule = disclosure[tier];
  // Who may read the rows sees exact counts: controlling the counts of a caller who can count rows protects nothing.
  let rows: 'readable' | 'not-readable' | undefined;
  let rule = tierRule.rule;
  if (facts.route.class === 'sample-level') {
    // Reaching here with verified claims means the entry that guards this route granted them, unless the route is
    // open; then only who sees exact counts (or the operator's published rows) may have them.
    const code =
      tier === 'signedIn'
        ? 'grant_required'
        : verifiedBy === undefined && tierRule.rule !== null && disclosure.sampleRows !== 'public'
          ? 'route_forbidden'
          : undefined;
    if (code !== undefined) steps?.push({ step: 'sample-rows', disclosure, rule: tierRule, code });
    if (code === 'grant_required') {
      return refused(
        403,
        code,
        'the token\'s access claim is "signedIn": rows need a grant',
        verifiedBy?.path,
      );
    }
    if (code === 'route_forbidden') {
      return refused(
        403,
        code,
        `rows of a dataset no credential protects are not served under a disclosure rule (${disclosure.sampleRowsPath})`,
        disclosure.sampleRowsPath,
      );
    }
    if (rule !== null) rows = 'readable';
    rule = null;
  } else if (tier === 'granted' && rule !== null) {
    rows = (await readsRows(policy, claims, facts, sender, disclosure)) ? 'readable' : 'not-readable';
    if (rows === 'readable') rule = null;
  }
  const scope: Scope = {
    ...cohortsOf(claims),
    tier,
    rule,
    // A caller restricted to cohorts counts other samples than the lower tiers do: their tables do not nest.
    beneath:
      rule === null || claims?.clientAuthResult?.cohorts !== undefined ? [] : rulesBeneath(disclosure, tier),
  };
  steps?.push({ step: 'scope', scope, verified: claims !== undefined, tierRule, rows });
  return kid === undefined
    ? { allowed: true, claims, scope, granted, entry }
    : { allowed: true, claims, scope, granted, entry, kid };
}

/** Whether a granted caller may also read the dataset's sample-level routes from this origin. */
async function readsRows(
  policy: AccessPolicy,
  claims: DatasetTokenClaims | undefined,
  facts: RequestFacts,
  sender: TokenClient,
  disclosure: DatasetDisclosure,
): Promise<boolean> {
  const guard = traceResolution(policy, facts.dataset, GUARD_ROUTE, facts.origin).result;
  if (guard.kind === 'forbidden') return false;
  if (guard.kind === 'open') return disclosure.sampleRows === 'public' || disclosure.anonymous.rule === null;
  if (claims === undefined) return false;
  // The entry that guards the rows must grant this token for the rows themselves: its key, grant and address rule,
  // and, for a trusted issuer's token, scopes that cover sample-level routes (not only the route asked). Asked even
  // when that entry verified the token: a trusted issuer's grant, or a script token's `routeClasses`, can cover
  // aggregated routes only.
  const checked = await checkToken(
    guard.entry,
    offeredToken(guard.entry, facts, sender),
    { ...facts, route: GUARD_ROUTE },
    sender,
    undefined,
  );
  return 'claims' in checked && checked.claims.access !== 'signedIn';
}

const NO_SAMPLES: readonly string[] = Object.freeze([]);

/**
 * The role rule: `clientAuthResult.cohorts`, an array of cohort ids, restricts every result to samples in those
 * cohorts. Present but not an array of strings: no samples at all (a malformed grant must not widen access).
 *
 * @example
 * cohortsOf(undefined); // { cohorts: null }
 * cohortsOf({ …claims, clientAuthResult: { cohorts: ['ABC'] } }); // { cohorts: ['ABC'] }
 */
export function cohortsOf(claims: DatasetTokenClaims | undefined): Pick<Scope, 'cohorts'> {
  const cohorts = claims?.clientAuthResult?.cohorts;
  if (cohorts === undefined) return { cohorts: null };
  const valid = Array.isArray(cohorts) && cohorts.every((id) => typeof id === 'string');
  return { cohorts: valid ? (cohorts as string[]) : NO_SAMPLES };
}
