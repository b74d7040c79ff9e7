import {
  type AccessPolicy,
  decide,
  type Decision,
  type RequestFacts,
  type RouteRef,
  type Scope,
} from '@pp-embed/access-policy';
import { API_TOKEN_PATTERN } from '@pp-embed/api-token';
import type { ProxyTrust } from '@pp-embed/client-address';
import type { DatasetTokenClaims } from '@pp-embed/dataset-token';
import {
  type DataRouteId,
  DEFAULT_HEADER_KEY,
  type ParamSpec,
  readParam,
  ROUTES,
  type RouteSpec,
} from '@pp-embed/viz-api';
import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { TermdbDataset } from '../termdb/dataset.js';
import type { DatasetRegistry, Lease } from '../termdb/registry.js';
import type { AuditSink } from './audit.js';
import type { AppEnv } from './env.js';
import { ApiError } from './errors.js';
import { clientAddress, requestHeader } from './headers.js';

/** What the access decision allowed for one request; handlers read it from `c.var.access`. */
export interface Access {
  dataset: TermdbDataset;
  route: DataRouteId;
  /** Verified claims, when the request carried a token that verified and was granted. */
  claims: DatasetTokenClaims | undefined;
  /** The data this caller may see; every data call takes it. */
  scope: Scope;
  /** False only on a discovery route whose data part needs a token the request did not prove. */
  granted: boolean;
  /**
   * Keeps the dataset's file open after the handler returns, for a body streamed after it: a new file swapped
   * in meanwhile does not close the one the stream reads. Call the function it returns once the stream ends or
   * is cancelled. Without it, the file is let go when the handler returns.
   */
  hold(): () => void;
}

/** What the dataset routes need besides the access state, which each request reads from `c.var.state`. */
export interface AccessDeps {
  datasets: Pick<DatasetRegistry, 'acquire'>;
  proxies: ProxyTrust;
  audit: AuditSink;
  now: () => number;
  /** Told of the key (`kid`) of a credential entry that checked a token, for the record of key use. */
  keyUse?: ((path: string, kid: string) => void) | undefined;
}

// The token headers of a policy, as a set: made once per policy (a new one comes with a registry change).
const headerKeysOf = new WeakMap<AccessPolicy, ReadonlySet<string>>();

/**
 * Every header a token may come in under `policy`, lowercase.
 *
 * @example
 * datasetOf(c, route, deps, tokenHeaders(c.var.state.policy));
 */
export function tokenHeaders(policy: AccessPolicy): ReadonlySet<string> {
  let keys = headerKeysOf.get(policy);
  if (keys === undefined) headerKeysOf.set(policy, (keys = new Set(policy.headerKeys())));
  return keys;
}

// A compact JWS (or its first two parts): what a token looks like wherever it turns up in a URL.
const TOKEN_SHAPE = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]+/;
const API_TOKEN_SHAPE = new RegExp(API_TOKEN_PATTERN.source);
const TOKEN_PARAMS = new Set(['token', 'access_token', 'jwt', 'id_token', DEFAULT_HEADER_KEY]);

/** True when the query string carries something that is, or is named like, an access token. */
function tokenInQuery(url: URL, headerKeys: ReadonlySet<string>): boolean {
  if (url.search === '') return false;
  let decoded = url.search;
  try {
    decoded = decodeURIComponent(url.search.replaceAll('+', ' '));
  } catch {
    // A malformed escape: the raw text is checked all the same.
  }
  if (TOKEN_SHAPE.test(url.search) || TOKEN_SHAPE.test(decoded)) return true;
  // A personal API token belongs to the portal's exchange alone; in a URL here it has leaked.
  if (API_TOKEN_SHAPE.test(decoded)) return true;
  for (const name of url.searchParams.keys()) {
    const lower = name.toLowerCase();
    if (TOKEN_PARAMS.has(lower) || headerKeys.has(lower)) return true;
  }
  return false;
}

/**
 * What every dataset route checks before the access decision: no token in the URL (refused so that the caller
 * learns at once; the URL itself is never logged), and a `dslabel` naming a served dataset, whose file is then
 * held until `release` (a file swapped in meanwhile serves the next request).
 *
 * @example
 * const { lease } = datasetOf(c, ROUTES.samples, deps, headerKeys);
 * try { … lease.dataset … } finally { lease.release(); }
 */
export function datasetOf(
  c: Context<AppEnv>,
  route: RouteSpec,
  deps: Pick<AccessDeps, 'datasets'>,
  headerKeys: ReadonlySet<string>,
): { url: URL; lease: Lease } {
  const url = new URL(c.req.url);
  if (tokenInQuery(url, headerKeys)) {
    throw new ApiError('bad_request', {
      message: 'Send the access token in the request header, never in the URL.',
      detail: 'token-like text in the query string',
    });
  }
  const label = readParam(url.searchParams, 'dslabel', route.params.dslabel as ParamSpec);
  if (!label.ok || typeof label.value !== 'string') {
    throw new ApiError('bad_request', { message: 'dslabel must name one dataset.' });
  }
  const lease = deps.datasets.acquire(label.value);
  if (lease === undefined) {
    throw new ApiError('dataset_not_found', { message: `There is no dataset ${label.value}.` });
  }
  return { url, lease };
}

/**
 * The facts of a request for the access decision: the dataset and route, the `Origin`, the client address after
 * the trusted-proxy rule, the request's headers, the time and the revocation lookup of the state in force.
 *
 * @example
 * const decision = await decide(c.var.state.policy, factsOf(c, deps, dataset, ROUTES.samples));
 */
export function factsOf(
  c: Context<AppEnv>,
  deps: Pick<AccessDeps, 'proxies' | 'now'>,
  dataset: TermdbDataset,
  route: RouteRef,
): RequestFacts {
  return {
    dataset: dataset.label,
    route,
    origin: requestHeader(c, 'origin'),
    clientIp: clientAddress(c, deps.proxies),
    header: (name) => requestHeader(c, name),
    disclosure: dataset.disclosure,
    now: deps.now(),
    revocations: c.var.state.revocations,
  };
}

/**
 * A refused decision as the error the server answers with: the client gets the code (and a `token_invalid`'s
 * reason, and a throttled login's Retry-After); the detail, entry path and cause go to the log only.
 *
 * @example
 * if (!decision.allowed) throw refusal(decision);
 */
export function refusal(decision: Extract<Decision, { allowed: false }>): ApiError {
  return new ApiError(decision.code, {
    ...(decision.code === 'bad_request' && { message: 'Send exactly one access token header.' }),
    detail: decision.detail,
    path: decision.path,
    cause: decision.cause,
    reason: decision.reason,
    retryAfter: decision.retryAfter,
    toOrigin: decision.toOrigin,
  });
}

/**
 * The access middleware of every dataset route. It refuses tokens offered in the URL, finds the dataset and
 * holds the file it is served from until the answer is made, asks the one access decision (`decide` of
 * @pp-embed/access-policy) what this dataset, route, origin, address and token allow, and leaves the answer in
 * `c.var.access`. A refused request never reaches a handler. Granted sample-level answers are written to the
 * audit trail.
 *
 * @example
 * app.get(ROUTES.samples.path, accessControl('samples', deps), (c) => c.json(…c.var.access.scope…));
 */
export function accessControl(routeId: DataRouteId, deps: AccessDeps) {
  const route = ROUTES[routeId];
  return createMiddleware<AppEnv>(async (c, next) => {
    const { policy } = c.var.state;
    const { lease } = datasetOf(c, route, deps, tokenHeaders(policy));
    let held = false;
    let streaming = false;
    const hold = () => {
      held = true;
      return () => lease.release();
    };
    try {
      const dataset = lease.dataset;
      const facts = factsOf(c, deps, dataset, route);
      const decision = await decide(policy, facts);
      if (!decision.allowed) throw refusal(decision);
      if (decision.kid !== undefined && decision.entry !== undefined)
        deps.keyUse?.(decision.entry.path, decision.kid);
      const { claims, scope, granted } = decision;
      c.set('access', { dataset, route: routeId, claims, scope, granted, hold });
      await next();
      streaming = held && c.error === undefined;
      if (route.class === 'sample-level' && c.res.status === 200) {
        deps.audit({
          time: new Date(deps.now()).toISOString(),
          email: claims?.email ?? null,
          dataset: dataset.label,
          route: route.name,
          origin: facts.origin ?? null,
          jti: claims?.jti ?? null,
          samples: c.get('sampleCount') ?? null,
          client: claims === undefined ? null : (claims.client ?? 'browser'),
          apiToken: claims?.apiTokenId ?? null,
        });
      }
    } finally {
      // A held file is the stream's to let go, unless the handler failed before its stream could start.
      if (!streaming) lease.release();
    }
  });
}
