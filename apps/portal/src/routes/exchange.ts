import { cohortsOf } from '@pp-embed/access-policy';
import {
  ACCESS_PATH,
  type AccessInfo,
  EXCHANGE_GRANT_TYPE,
  type ExchangeResponse,
  formatScope,
  OAUTH_ERRORS,
  type OAuthErrorCode,
  parseScope,
  SCRIPT_CLIENT_ID,
  TOKEN_PATH,
} from '@pp-embed/api-token';
import { type Context, Hono } from 'hono';
import type { ApiTokenRecord } from '../db/api-tokens.js';
import type { WindowLimit } from '../db/login-failures.js';
import { apiError, logRefusal, type Portal, type PortalEnv } from '../http/env.js';
import { tokenClaims } from '../tokens/mint.js';
import { mintFor } from './token.js';

/**
 * How often the exchange may be asked, counted in the store so that every portal replica counts the same attempts:
 * failed attempts per client address (a guessing script, a leaked token's old copies), successful ones per API
 * token (a runaway job, a leaked token in use).
 *
 * @example
 * const strict: ExchangeLimits = { perToken: { limit: 60, windowMs: 600_000 }, perAddress: { limit: 10, windowMs: 600_000 } };
 */
export interface ExchangeLimits {
  perToken: WindowLimit;
  perAddress: WindowLimit;
}

/**
 * 600 exchanges per API token and 30 failed ones per address in any 10 minutes. A script exchanges once per
 * dataset token lifetime; a workflow of a few hundred jobs that each start with an exchange stays under the first.
 *
 * @example
 * createApp({ ...deps, exchangeLimits: DEFAULT_EXCHANGE_LIMITS });
 */
export const DEFAULT_EXCHANGE_LIMITS: ExchangeLimits = {
  perToken: { limit: 600, windowMs: 10 * 60_000 },
  perAddress: { limit: 30, windowMs: 10 * 60_000 },
};

/** What a scope is made of, for a scope that is not. */
const SCOPE_PARTS = 'The scope is made of dataset:<label> parts and the classes aggregated and sample-level.';

/** One sentence for every API token that does not work: it never says whether the token existed. */
const NOT_VALID = 'The API token is not valid.';

/** RFC 6749 §5.1 and §5.2: token responses are never cached. */
function noStore(c: Context<PortalEnv>): void {
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
}

function oauthError(
  c: Context<PortalEnv>,
  error: OAuthErrorCode,
  description: string,
  retryAfterMs?: number,
): Response {
  noStore(c);
  const status = OAUTH_ERRORS[error].status;
  // RFC 6749 §5.2: a 401 names the authentication scheme; scripts are public clients, so none would succeed.
  if (status === 401) c.header('WWW-Authenticate', 'Basic realm="pp-portal"');
  if (retryAfterMs !== undefined)
    c.header('Retry-After', String(Math.max(1, Math.ceil(retryAfterMs / 1000))));
  return c.json({ error, error_description: description }, status);
}

/** RFC 6750 §2.1: `Authorization: Bearer <token>`. */
const bearer = (header: string | undefined): string | undefined =>
  header === undefined ? undefined : /^Bearer +(\S+)$/i.exec(header.trim())?.[1];

/**
 * The endpoints for scripts:
 *
 * - `POST /oauth/token`: the exchange. OAuth 2.0's `refresh_token` grant (RFC 6749 §6) with a personal API token
 *   as the refresh token, answered with a dataset token for the visualization server: the owner's grants of this
 *   moment, within the API token's scope (and the `scope` asked for), for scripts (`client: "script"`), pinned to
 *   the client address when the API token says so. Refusals are RFC 6749 §5.2 errors; every API token that does
 *   not work gets the same `invalid_grant` after the same work (one lookup, one constant-time comparison, one
 *   count), whether or not it existed. Rate-limited per address and per API token, in the store.
 * - `GET /api/access`: what the API token in `Authorization: Bearer` opens now, and until when ({@link AccessInfo}).
 *
 * @example
 * app.route('/', exchangeRoutes(portal, DEFAULT_EXCHANGE_LIMITS));
 */
export function exchangeRoutes(portal: Portal, limits: ExchangeLimits): Hono<PortalEnv> {
  const { store, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();
  const addressKey = (c: Context<PortalEnv>) => `exchange-address:${c.var.client ?? 'unknown'}`;
  const tokenKey = (record: ApiTokenRecord) => `exchange-token:${record.id}`;

  /**
   * The live API token `text` is, with the address's failures counted and limited (one statement for the limit
   * and the token). `throttled` is the wait when this address has failed too often; the token is not used then.
   */
  async function authenticate(
    c: Context<PortalEnv>,
    text: string,
  ): Promise<{ record: ApiTokenRecord } | { throttled: number } | { refused: true }> {
    const checked = await store.apiTokens.authenticate(text, clock(), {
      key: addressKey(c),
      limit: limits.perAddress,
    });
    if ('throttled' in checked) {
      logRefusal(portal, c, 'exchange_throttled', { path: c.req.path });
      return checked;
    }
    if ('record' in checked) return checked;
    await store.loginFailures.hit(addressKey(c), clock());
    logRefusal(portal, c, 'api_token_refused', { path: c.req.path });
    return checked;
  }

  routes.post(TOKEN_PATH, async (c) => {
    // RFC 6749 §3.2: the parameters travel in the body. A URL is logged and kept by proxies on the way, so a query
    // is refused before anything in it is read (and the portal logs paths only).
    if (new URL(c.req.url).search !== '') {
      return oauthError(c, 'invalid_request', 'Send the parameters in the body, never in the URL.');
    }
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/x-www-form-urlencoded') {
      return oauthError(c, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded.');
    }
    const form = new URLSearchParams(await c.req.text());
    // RFC 6749 §3.2: a parameter is sent at most once.
    for (const name of new Set(form.keys())) {
      if (form.getAll(name).length > 1) {
        return oauthError(c, 'invalid_request', 'A parameter is sent more than once.');
      }
    }
    // Scripts are public clients (RFC 6749 §2.1): any client authentication is a mistake, not a credential.
    if (c.req.header('authorization') !== undefined || form.has('client_secret')) {
      return oauthError(c, 'invalid_client', 'Scripts authenticate with the API token alone.');
    }
    const clientId = form.get('client_id');
    if (clientId !== null && clientId !== SCRIPT_CLIENT_ID) {
      return oauthError(c, 'invalid_client', `The client_id is "${SCRIPT_CLIENT_ID}", or none.`);
    }
    const grantType = form.get('grant_type');
    if (grantType === null) return oauthError(c, 'invalid_request', 'grant_type is required.');
    if (grantType !== EXCHANGE_GRANT_TYPE) {
      return oauthError(c, 'unsupported_grant_type', `grant_type is "${EXCHANGE_GRANT_TYPE}".`);
    }
    const apiToken = form.get('refresh_token');
    if (apiToken === null || apiToken === '') {
      return oauthError(c, 'invalid_request', 'refresh_token (the API token) is required.');
    }
    const asked = parseScope(form.get('scope') ?? '');
    // Descriptions never repeat what the client sent: a token pasted in the wrong field would come back in them.
    if (!asked.ok) return oauthError(c, 'invalid_scope', SCOPE_PARTS);

    const checked = await authenticate(c, apiToken);
    if ('throttled' in checked) {
      return oauthError(c, 'slow_down', 'Too many failed exchanges from this address.', checked.throttled);
    }
    if ('refused' in checked) return oauthError(c, 'invalid_grant', NOT_VALID);
    const { record } = checked;
    const now = clock();
    const wanted = asked.datasets ?? record.datasets;
    // The token's own limit, the owner's grants of this moment (a grant removed since the token was made opens
    // nothing) and the revocation cutoff, in one round trip. The cutoff is read for the token's datasets among
    // those asked for (a scope beyond them is refused below), so a scope's length never shapes a statement.
    const context = await store.apiTokens.forExchange(record, now, {
      counter: { key: tokenKey(record), limit: limits.perToken },
      datasets: wanted.filter((d) => record.datasets.includes(d)),
    });
    if (context.retryAfterMs > 0) {
      logRefusal(portal, c, 'exchange_throttled', { apiToken: record.id });
      return oauthError(c, 'slow_down', 'Too many exchanges with this API token.', context.retryAfterMs);
    }

    // RFC 6749 §6: the scope asked for may narrow the token's, never widen it.
    const beyond =
      (asked.datasets ?? []).some((d) => !record.datasets.includes(d)) ||
      (asked.routeClasses ?? []).some((rc) => !record.routeClasses.includes(rc));
    if (beyond) {
      return oauthError(c, 'invalid_scope', 'The scope asks for more than the API token holds.');
    }
    const routeClasses = record.routeClasses.filter((rc) => (asked.routeClasses ?? [rc]).includes(rc));
    const grants = context.grants.filter((g) => wanted.includes(g.dataset));
    if (grants.length === 0) {
      return oauthError(c, 'invalid_scope', "The token's owner has no grant for the datasets asked for now.");
    }
    const decision = tokenClaims(grants);
    if (!decision.ok) {
      return oauthError(
        c,
        'invalid_scope',
        `Your grants differ per dataset: ask for one, e.g. scope=dataset:${grants[0]?.dataset ?? ''}.`,
      );
    }

    let ip: string | undefined;
    if (record.pinned) {
      ip = c.var.client;
      if (ip === undefined) throw new Error('the API token is pinned but the client address is unknown');
    }
    const minted = await mintFor(
      portal,
      record.email,
      decision,
      { ip, client: 'script', apiTokenId: record.id, routeClasses },
      [],
      context.cutoff,
    );
    if (minted === undefined) {
      // Only a grant with an end stops a token being minted, and an account's own grants have none.
      return oauthError(c, 'invalid_scope', "The token's owner has no grant for the datasets asked for now.");
    }
    if (!(await store.apiTokens.recordExchange(record, minted, now, { key: tokenKey(record) }))) {
      // Revoked between the check and now: the dataset token is not handed out.
      return oauthError(c, 'invalid_grant', NOT_VALID);
    }
    logger.info('api_token_exchanged', {
      email: record.email,
      apiToken: record.id,
      datasets: decision.datasets,
      routeClasses,
    });
    noStore(c);
    const body: ExchangeResponse = {
      access_token: minted.token,
      token_type: 'Bearer',
      expires_in: minted.expiresIn,
      scope: formatScope({ datasets: decision.datasets, routeClasses }),
    };
    return c.json(body);
  });

  routes.on(['GET', 'PUT', 'DELETE', 'PATCH'], TOKEN_PATH, (c) => {
    // RFC 9110 §15.5.6, in the endpoint's own error shape.
    noStore(c);
    c.header('Allow', 'POST');
    return c.json({ error: 'invalid_request', error_description: 'Use POST.' }, 405);
  });

  routes.get(ACCESS_PATH, async (c) => {
    const text = bearer(c.req.header('authorization'));
    const refuse = () => {
      // RFC 6750 §3.1.
      c.header('WWW-Authenticate', 'Bearer realm="pp-portal", error="invalid_token"');
      return apiError(c, 401, 'invalid_token', NOT_VALID);
    };
    if (text === undefined) {
      c.header('WWW-Authenticate', 'Bearer realm="pp-portal"');
      return apiError(c, 401, 'invalid_token', 'Send the API token as Authorization: Bearer <token>.');
    }
    const checked = await authenticate(c, text);
    if ('throttled' in checked) {
      c.header('Retry-After', String(Math.ceil(checked.throttled / 1000)));
      return apiError(c, 429, 'too_many_requests', 'Too many failed requests from this address.');
    }
    if ('refused' in checked) return refuse();
    const { record } = checked;
    const grants = await store.grants.forUser(record.userId);
    const iso = (ms: number) => new Date(ms).toISOString();
    const info: AccessInfo = {
      token: {
        id: record.id,
        name: record.name,
        createdAt: iso(record.createdAt),
        expiresAt: iso(record.expiresAt),
        pinned: record.pinned,
      },
      user: record.email,
      datasets: record.datasets.flatMap((dataset) => {
        const grant = grants.find((g) => g.dataset === dataset);
        if (grant === undefined) return [];
        // The cohorts the visualization server will apply, by its own rule.
        const { cohorts } = cohortsOf({
          datasets: [dataset],
          email: record.email,
          iat: 0,
          exp: 1,
          clientAuthResult: grant.clientAuthResult,
        });
        return [{ dataset, routeClasses: record.routeClasses, cohorts }];
      }),
      notGranted: record.datasets.filter((d) => !grants.some((g) => g.dataset === d)),
    };
    c.header('Cache-Control', 'no-store');
    return c.json(info);
  });

  return routes;
}
