import { AccessRefusedError, type AccessPolicy, authorize, type TokenEntry } from '@pp-embed/access-policy';
import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import { createMiddleware } from 'hono/factory';
import type { CatalogRoute } from '../routes/catalog.js';
import { SAMPLE_ROUTE } from '../routes/catalog.js';
import type { TermdbDataset } from '../termdb/dataset.js';
import type { Scope } from '../termdb/types.js';
import type { AppEnv } from './env.js';
import { ApiError } from './errors.js';
import type { AuditSink } from './log.js';

/** What the access layer decided for one request; handlers read it from `c.var.access`. */
export interface Access {
  dataset: TermdbDataset;
  route: CatalogRoute;
  /** Verified claims, when the request carried a token that verified and was granted. */
  claims: DatasetTokenClaims | undefined;
  /** The data this caller may see; every data call takes it. */
  scope: Scope;
  /** False only on a discovery route whose data part needs a token the request did not prove. */
  granted: boolean;
}

export interface AccessDeps {
  datasets: ReadonlyMap<string, TermdbDataset>;
  policy: AccessPolicy;
  clientAddress: (socketAddress: string | undefined, forwardedFor: string | undefined) => string | undefined;
  audit: AuditSink;
  now: () => number;
}

const DSLABEL = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
// A compact JWS (or its first two parts): what a token looks like wherever it turns up in a URL.
const TOKEN_SHAPE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+/;
const TOKEN_PARAMS = new Set(['token', 'access_token', 'jwt', 'id_token', 'x-ds-access-token']);

/** True when the query string carries something that is, or is named like, an access token. */
function tokenInQuery(url: URL, headerKeys: ReadonlySet<string>): boolean {
  let decoded = url.search;
  try {
    decoded = decodeURIComponent(url.search.replaceAll('+', ' '));
  } catch {
    // A malformed escape: the raw text is checked all the same.
  }
  if (TOKEN_SHAPE.test(url.search) || TOKEN_SHAPE.test(decoded)) return true;
  for (const name of url.searchParams.keys()) {
    const lower = name.toLowerCase();
    if (TOKEN_PARAMS.has(lower) || headerKeys.has(lower)) return true;
  }
  return false;
}

/**
 * The role rule: `clientAuthResult.cohorts`, an array of cohort ids, restricts every result to samples in those
 * cohorts. Present but not an array of strings: no samples at all (a malformed grant must not widen access).
 * Without a verified token, aggregated counts below the dataset's `minSampleSize` are suppressed.
 */
export function scopeFor(dataset: TermdbDataset, claims: DatasetTokenClaims | undefined): Scope {
  if (claims === undefined) return { cohorts: null, suppressBelow: dataset.minSampleSize };
  const cohorts = claims.clientAuthResult?.cohorts;
  if (cohorts === undefined) return { cohorts: null, suppressBelow: null };
  const valid = Array.isArray(cohorts) && cohorts.every((id) => typeof id === 'string');
  return { cohorts: valid ? (cohorts as string[]) : [], suppressBelow: null };
}

/**
 * The one access middleware. For a dataset route it: finds the dataset; refuses tokens offered in the URL; asks
 * the policy what the dataset, route and embedding origin need; reads the token from that entry's header only;
 * verifies it with the entry's verifier; authorizes the claims; and leaves the decision in `c.var.access`.
 * A refused request never reaches a handler.
 */
export function accessControl(route: CatalogRoute, deps: AccessDeps, options: { discovery?: boolean } = {}) {
  const headerKeys = new Set(deps.policy.headerKeys());
  return createMiddleware<AppEnv>(async (c, next) => {
    const url = new URL(c.req.url);
    if (tokenInQuery(url, headerKeys)) {
      // Refused so that the caller learns at once; the URL itself is never logged.
      throw new ApiError(
        400,
        'bad_request',
        'Send the access token in the request header, never in the URL.',
        {
          detail: 'token-like text in the query string',
        },
      );
    }
    const labels = url.searchParams.getAll('dslabel');
    const label = labels[0];
    if (labels.length !== 1 || label === undefined || !DSLABEL.test(label)) {
      throw new ApiError(400, 'bad_request', 'dslabel must name one dataset.');
    }
    const dataset = deps.datasets.get(label);
    if (dataset === undefined) throw new ApiError(404, 'dataset_not_found', `There is no dataset ${label}.`);

    const origin = c.req.header('origin');
    const clientIp = deps.clientAddress(
      c.env?.incoming?.socket?.remoteAddress,
      c.req.header('x-forwarded-for'),
    );
    const resolution = deps.policy.resolve(label, route, origin);
    let claims: DatasetTokenClaims | undefined;
    let granted = true;
    if (resolution.kind === 'forbidden') {
      throw new AccessRefusedError(resolution.code, { path: resolution.path });
    } else if (resolution.kind === 'needs-token') {
      try {
        claims = await checkToken(
          resolution.entry,
          c.req.header(resolution.entry.headerKey),
          label,
          clientIp,
        );
      } catch (error) {
        if (options.discovery !== true) throw error;
        granted = false;
      }
    } else {
      // An open route still honours a token when one is offered, in the header that guards the dataset's
      // sample-level data: a verified caller sees unsuppressed counts, within their cohorts.
      const guard = deps.policy.resolve(label, SAMPLE_ROUTE, origin);
      const offered = guard.kind === 'needs-token' ? c.req.header(guard.entry.headerKey) : undefined;
      if (guard.kind === 'needs-token' && offered !== undefined) {
        claims = await checkToken(guard.entry, offered, label, clientIp).catch(() => undefined);
      }
    }
    c.set('access', { dataset, route, claims, scope: scopeFor(dataset, claims), granted });
    await next();
    if (route.sampleLevel && c.res.status === 200) {
      deps.audit({
        time: new Date(deps.now()).toISOString(),
        email: claims?.email ?? null,
        dataset: label,
        route: route.name,
        origin: origin ?? null,
        jti: claims?.jti ?? null,
        samples: c.get('sampleCount') ?? null,
      });
    }
  });
}

async function checkToken(
  entry: TokenEntry,
  header: string | undefined,
  dataset: string,
  clientIp: string | undefined,
): Promise<DatasetTokenClaims> {
  // Two headers of the same name arrive joined with ", "; a compact JWS has no comma.
  if (header !== undefined && header.includes(',')) {
    throw new ApiError(400, 'bad_request', 'Send exactly one access token header.');
  }
  const claims = await entry.verifier.verify(header);
  const decision = authorize(entry, claims, { dataset, clientIp });
  if (!decision.ok)
    throw new AccessRefusedError(decision.code, { detail: decision.reason, path: entry.path });
  return claims;
}
