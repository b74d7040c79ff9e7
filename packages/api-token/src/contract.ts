/**
 * The portal's endpoints for scripts, as both sides read them: the token exchange (OAuth 2.0, RFC 6749, the
 * `refresh_token` grant with a personal API token as the refresh token) and the endpoint that tells a token's
 * holder what it may access.
 * @module
 */
import { DATASET_LABEL, GRANTED_ROUTE_CLASSES, type GrantedRouteClass } from '@pp-embed/viz-api';

/** The token endpoint (RFC 6749 §3.2): `POST`, `application/x-www-form-urlencoded`. @example new URL(TOKEN_PATH, portal); */
export const TOKEN_PATH = '/oauth/token';

/** `GET` with `Authorization: Bearer <API token>`: what the token may access ({@link AccessInfo}). */
export const ACCESS_PATH = '/api/access';

/**
 * The grant type of the exchange: RFC 6749 §6. The API token is the refresh token a script holds; every OAuth 2.0
 * client library can use it as one (`httr2::oauth_flow_refresh`, `requests_oauthlib`, …).
 *
 * @example
 * new URLSearchParams({ grant_type: EXCHANGE_GRANT_TYPE, refresh_token: apiToken });
 */
export const EXCHANGE_GRANT_TYPE = 'refresh_token';

/**
 * The client id scripts may send (a public client, RFC 6749 §2.1: no secret). Optional; any other id, or any
 * client authentication, is `invalid_client`.
 *
 * @example
 * httr2::oauth_client(id = "pp-scripts", token_url = "https://portal.example.org/oauth/token")
 */
export const SCRIPT_CLIENT_ID = 'pp-scripts';

/** A personal API token lives this many days unless its owner says otherwise. @example DEFAULT_API_TOKEN_DAYS; // 90 */
export const DEFAULT_API_TOKEN_DAYS = 90;

/** The longest a personal API token may live, in days. @example MAX_API_TOKEN_DAYS; // 365 */
export const MAX_API_TOKEN_DAYS = 365;

/**
 * The errors of the token endpoint (RFC 6749 §5.2, and RFC 8628 §3.5's `slow_down` for the rate limit), with
 * their HTTP status. A malformed, unknown, expired or revoked API token gets `invalid_grant` with one and the same
 * description: the answer never tells whether a token existed.
 *
 * @example
 * OAUTH_ERRORS.invalid_grant.status; // 400
 */
export const OAUTH_ERRORS = {
  invalid_request: {
    status: 400,
    meaning:
      'a parameter is missing, repeated or malformed, or the body is not application/x-www-form-urlencoded',
  },
  invalid_client: {
    status: 401,
    meaning: `client authentication was attempted, or a client_id other than "${SCRIPT_CLIENT_ID}" was given (scripts are public clients)`,
  },
  invalid_grant: {
    status: 400,
    meaning: 'the API token is malformed, unknown, expired or revoked (the answer does not say which)',
  },
  unsupported_grant_type: {
    status: 400,
    meaning: `grant_type is not "${EXCHANGE_GRANT_TYPE}"`,
  },
  invalid_scope: {
    status: 400,
    meaning:
      'the scope asks for more than the API token holds, or for nothing its owner is granted now, or names datasets whose grants differ (ask for one dataset at a time)',
  },
  slow_down: {
    status: 429,
    meaning:
      'too many exchanges from this address or with this API token; try again after Retry-After seconds',
  },
  temporarily_unavailable: {
    status: 503,
    meaning: 'the portal cannot reach its database; try again after Retry-After seconds',
  },
  server_error: { status: 500, meaning: 'a fault of the portal (logged there; no detail is sent)' },
} as const satisfies Record<string, { status: number; meaning: string }>;

/** An error code of the token endpoint. @example const code: OAuthErrorCode = 'invalid_grant'; */
export type OAuthErrorCode = keyof typeof OAUTH_ERRORS;

/**
 * The body of a refused exchange (RFC 6749 §5.2).
 *
 * @example
 * const refused: OAuthErrorBody = { error: 'invalid_scope', error_description: 'The token does not hold PPDemo.' };
 */
export interface OAuthErrorBody {
  readonly error: OAuthErrorCode;
  readonly error_description?: string;
}

/**
 * The body of a successful exchange (RFC 6749 §5.1): a short-lived dataset token for the visualization server,
 * sent there as `Authorization: Bearer <access_token>`.
 *
 * @example
 * const { access_token, expires_in } = (await response.json()) as ExchangeResponse;
 */
export interface ExchangeResponse {
  readonly access_token: string;
  readonly token_type: 'Bearer';
  /** Seconds until the dataset token expires. */
  readonly expires_in: number;
  /** What it opens: {@link formatScope}. */
  readonly scope: string;
}

/**
 * What a token opens: datasets and route classes (`aggregated` only, or `sample-level` too).
 *
 * @example
 * const scope: Scope = { datasets: ['PPDemo'], routeClasses: ['aggregated', 'sample-level'] };
 */
export interface Scope {
  readonly datasets: readonly string[];
  readonly routeClasses: readonly GrantedRouteClass[];
}

const DATASET_PREFIX = 'dataset:';

/**
 * A scope as the `scope` parameter and answer write it (RFC 6749 §3.3, space-separated): `dataset:<label>` for
 * each dataset, then each route class.
 *
 * @example
 * formatScope({ datasets: ['PPDemo'], routeClasses: ['aggregated'] }); // 'dataset:PPDemo aggregated'
 */
export function formatScope(scope: Scope): string {
  return [...scope.datasets.map((d) => `${DATASET_PREFIX}${d}`), ...scope.routeClasses].join(' ');
}

/**
 * Reads a `scope` parameter. Parts not given are undefined (the API token's own, RFC 6749 §6); an unknown part is
 * a problem (an `invalid_scope`).
 *
 * @example
 * parseScope('dataset:PPDemo sample-level'); // { ok: true, datasets: ['PPDemo'], routeClasses: ['sample-level'] }
 * parseScope('admin'); // { ok: false, problem: 'unknown scope "admin"' }
 */
export function parseScope(
  text: string,
):
  | { ok: true; datasets: string[] | undefined; routeClasses: GrantedRouteClass[] | undefined }
  | { ok: false; problem: string } {
  const datasets = new Set<string>();
  const classes = new Set<GrantedRouteClass>();
  for (const part of text.split(' ')) {
    if (part === '') continue;
    if (part.startsWith(DATASET_PREFIX)) {
      const label = part.slice(DATASET_PREFIX.length);
      if (!DATASET_LABEL.test(label))
        return { ok: false, problem: `"${part.slice(0, 120)}" names no dataset` };
      datasets.add(label);
    } else if ((GRANTED_ROUTE_CLASSES as readonly string[]).includes(part)) {
      classes.add(part as GrantedRouteClass);
    } else {
      return { ok: false, problem: `unknown scope "${part.slice(0, 120)}"` };
    }
  }
  return {
    ok: true,
    datasets: datasets.size === 0 ? undefined : [...datasets],
    routeClasses: classes.size === 0 ? undefined : [...classes],
  };
}

/**
 * `GET /api/access`: what the API token in the request opens now (its scope, within its owner's grants today),
 * and until when.
 *
 * @example
 * const info = (await (await fetch(new URL(ACCESS_PATH, portal), { headers })).json()) as AccessInfo;
 * for (const d of info.datasets) console.log(d.dataset, d.routeClasses.join('+'), d.cohorts ?? 'all cohorts');
 */
export interface AccessInfo {
  readonly token: {
    readonly id: string;
    readonly name: string;
    /** ISO 8601. */
    readonly createdAt: string;
    readonly expiresAt: string;
    /** Whether each dataset token it is exchanged for is pinned to the address that asked for it. */
    readonly pinned: boolean;
  };
  /** The owner, as dataset tokens name them (`email`). */
  readonly user: string;
  /** The datasets of the token's scope that its owner is granted now; an exchange opens these. */
  readonly datasets: readonly {
    readonly dataset: string;
    readonly routeClasses: readonly GrantedRouteClass[];
    /** The cohorts the owner's grant restricts every answer to; null for none. */
    readonly cohorts: readonly string[] | null;
  }[];
  /** Datasets of the token's scope that its owner is no longer granted: an exchange cannot open them. */
  readonly notGranted: readonly string[];
}
