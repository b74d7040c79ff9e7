import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { Accounts } from './auth/accounts.js';
import type { Institution } from './auth/institution.js';
import { CsrfTokens, sameOriginRequest } from './auth/csrf.js';
import type { ScryptParams } from './auth/password.js';
import { TOKEN_PATH } from '@pp-embed/api-token';
import { FeedPublisher } from '@pp-embed/revocation';
import type { WindowLimit } from './db/login-failures.js';
import { StoreUnavailableError } from './db/sql.js';
import type { PortalStore } from './db/store.js';
import { clientAddress, expectedOrigin, isHttps } from './http/client.js';
import { clearCookie, readCookie } from './http/cookies.js';
import { type AppConfig, apiError, logRefusal, pageUser, type Portal, type PortalEnv } from './http/env.js';
import { securityHeaders } from './http/security.js';
import {
  describeError,
  type DrainState,
  type Logger,
  RateLimitedLog,
  SERVING,
  silentLogger,
} from '@pp-embed/server-runtime';
import { assetRoutes } from './routes/assets.js';
import { authRoutes } from './routes/auth.js';
import { institutionRoutes } from './routes/institution.js';
import { adminRoutes } from './routes/admin.js';
import { apiTokenRoutes } from './routes/api-tokens.js';
import { DEFAULT_EXCHANGE_LIMITS, exchangeRoutes, type ExchangeLimits } from './routes/exchange.js';
import { pageRoutes } from './routes/pages.js';
import { revocationRoutes } from './routes/revocations.js';
import { tokenRoutes } from './routes/token.js';
import type { TokenKeys } from './tokens/keys.js';
import { messagePage } from './views/pages.js';

/**
 * Failed sign-ins allowed per window, per account and per client address.
 *
 * @example
 * const strict: LoginLimits = { perAccount: { limit: 3, windowMs: 3_600_000 }, perAddress: { limit: 10, windowMs: 3_600_000 } };
 */
export interface LoginLimits {
  perAccount: WindowLimit;
  perAddress: WindowLimit;
}

/**
 * 5 failures per account and 20 per address in any 15 minutes.
 *
 * @example
 * createApp({ ...deps, loginLimits: { ...DEFAULT_LOGIN_LIMITS, perAccount: { limit: 3, windowMs: 900_000 } } });
 */
export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  perAccount: { limit: 5, windowMs: 15 * 60_000 },
  perAddress: { limit: 20, windowMs: 15 * 60_000 },
};

/**
 * What {@link createApp} is built from. Only `config`, `store` and `keys` are required.
 *
 * @example
 * const deps: AppDeps = { config, store: await openStore({ kind: 'sqlite', path: ':memory:' }), keys: hs256Keys(secret, { ttlSeconds: 600 }) };
 */
export interface AppDeps {
  config: AppConfig;
  store: PortalStore;
  keys: TokenKeys;
  /** The revocation feed's publisher; made here when absent. `main.ts` wakes it for other processes' changes. */
  feed?: FeedPublisher;
  /** Milliseconds since the epoch. Default Date.now. */
  clock?: () => number;
  logger?: Logger;
  /** Directory of built page scripts (`dist/public`); without it, pages load no script of ours. */
  assetsDir?: string | undefined;
  loginLimits?: LoginLimits;
  /** How often scripts may exchange API tokens; tests and benchmarks change it. */
  exchangeLimits?: ExchangeLimits;
  /** scrypt parameters for new and dummy hashes; tests lower them. */
  passwordParams?: ScryptParams;
  /** Where refusals a client can cause at will are logged, bounded. Default: over `logger`. */
  refusals?: RateLimitedLog;
  /** Whether the portal is shutting down. Default: never. */
  lifecycle?: DrainState;
  /** "Sign in with your institution", when an institution is configured. */
  institution?: Institution | undefined;
}

const MAX_BODY_BYTES = 16 * 1024;

function readAssets(dir: string | undefined): Map<string, string> {
  const assets = new Map<string, string>();
  if (dir === undefined || !existsSync(dir)) return assets;
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.js')) assets.set(name, readFileSync(join(dir, name), 'utf8'));
  }
  return assets;
}

/**
 * Builds the portal's Hono app from its dependencies; nothing here opens a port or reads the environment, so
 * tests call `app.request()` directly.
 *
 * Routes: `GET /`, `GET /datasets/:dslabel`, `GET|POST /login`, `POST /logout`, `POST /api/dataset-token`,
 * `GET|POST /tokens` (personal API tokens), `POST /oauth/token` (their exchange), `GET /api/access`,
 * `GET /.well-known/jwks.json`, `GET /.well-known/pp-revocations`, `GET|POST /admin`, `GET /assets/*`,
 * `GET /healthcheck`. Every POST but the exchange (scripts send the API token, not a cookie) must come from the
 * portal's own pages (Fetch Metadata / Origin) and carry a CSRF token; every response carries the security headers
 * and CSP.
 *
 * @example
 * const app = createApp({ config, store, keys, logger: jsonLogger() });
 * serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 3000 });
 */
export function createApp(deps: AppDeps): Hono<PortalEnv> {
  const { config, store, keys } = deps;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger ?? silentLogger;
  const lifecycle = deps.lifecycle ?? SERVING;
  const feed =
    deps.feed ??
    new FeedPublisher({
      version: () => store.revocations.version(),
      snapshot: () => store.revocations.snapshot(clock()),
      signer: () => keys.signer(),
      now: clock,
    });
  // A revocation committed by this process wakes the held feed requests at once.
  store.revocations.onChange(() => feed.notify());
  const portal: Portal = {
    config,
    store,
    keys,
    clock,
    logger,
    refusals: deps.refusals ?? new RateLimitedLog(logger),
    csrf: new CsrfTokens(store.csrfKey),
    accounts: new Accounts(store.users, deps.passwordParams),
    limits: deps.loginLimits ?? DEFAULT_LOGIN_LIMITS,
    feed,
    assets: readAssets(deps.assetsDir),
    institution: deps.institution,
  };

  const app = new Hono<PortalEnv>();
  const isApi = (path: string) => path.startsWith('/api/');
  // The token endpoint answers in OAuth 2.0's error shape (RFC 6749 §5.2), whatever goes wrong.
  const isOAuth = (path: string) => path === TOKEN_PATH;
  const oauthFailure = (c: Context, status: 500 | 503, error: string, description: string) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ error, error_description: description }, status);
  };

  app.onError((error, c) => {
    if (error instanceof StoreUnavailableError) {
      // The store is away (PostgreSQL restarting, the network): a clear refusal; the next request tries again.
      logger.error('store_unavailable', { path: c.req.path, ...describeError(error) });
      c.header('Retry-After', '5');
      if (isOAuth(c.req.path)) {
        return oauthFailure(c, 503, 'temporarily_unavailable', 'The portal cannot reach its database.');
      }
      if (isApi(c.req.path)) {
        return apiError(
          c,
          503,
          'store_unavailable',
          'The portal cannot reach its database. Try again shortly.',
        );
      }
      return c.html(
        messagePage({
          title: 'Temporarily unavailable',
          message: 'The portal cannot reach its database right now. Try again in a moment.',
        }),
        503,
      );
    }
    logger.error('internal_error', { path: c.req.path, ...describeError(error) });
    if (isOAuth(c.req.path)) return oauthFailure(c, 500, 'server_error', 'The portal could not answer.');
    if (isApi(c.req.path)) return apiError(c, 500, 'internal_error', 'The portal could not answer.');
    return c.html(
      messagePage({
        title: 'Something went wrong',
        message: 'The portal could not show this page. Try again.',
      }),
      500,
    );
  });

  app.notFound((c) => {
    if (isApi(c.req.path)) return apiError(c, 404, 'not_found', 'No such endpoint.');
    return c.html(messagePage({ title: 'Not found', message: 'There is no such page here.' }), 404);
  });

  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    // The path only: a query string could carry anything.
    const fields = {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round(performance.now() - started),
    };
    // A refused request is one anyone can send at will: bounded per status, origin and address.
    if (c.res.status >= 400 && c.res.status < 500) {
      const origin = c.req.header('origin')?.slice(0, 200) ?? null;
      const address = c.var.client ?? null;
      portal.refusals.info({ code: String(c.res.status), origin, address }, 'request', {
        ...fields,
        address,
      });
    } else logger.info('request', fields);
  });

  app.use(securityHeaders(config.vizServerUrl));

  // While the portal shuts down, every new request (on a connection still open) is refused, so that a load
  // balancer or browser goes elsewhere; requests already running finish.
  app.use(async (c, next) => {
    if (!lifecycle.draining) return next();
    c.header('Retry-After', '1');
    if (c.req.path === '/healthcheck') return c.json({ status: 'draining' }, 503);
    if (isApi(c.req.path)) {
      return apiError(c, 503, 'server_draining', 'The portal is restarting. Send the request again.');
    }
    return c.html(
      messagePage({ title: 'Restarting', message: 'The portal is restarting. Reload the page in a moment.' }),
      503,
    );
  });

  app.use(async (c, next) => {
    const https = isHttps(c, config);
    c.set('https', https);
    c.set('origin', expectedOrigin(c, config));
    c.set('client', clientAddress(c, config.proxies));
    const id = readCookie(c, 'session', https);
    const now = clock();
    const session = await store.sessions.find(id, now);
    if (session !== undefined) await store.sessions.touch(session, now);
    else if (id !== undefined) clearCookie(c, 'session', https);
    c.set('session', session);
    await next();
  });

  app.use(async (c, next) => {
    // The token endpoint is for scripts, which send no Origin; what it needs is the API token in the body, which
    // no other site's page can know (CSRF does not apply).
    if (c.req.method !== 'POST' || isOAuth(c.req.path)) return next();
    const strict = isApi(c.req.path);
    if (!sameOriginRequest(c.req.header('sec-fetch-site'), c.req.header('origin'), c.var.origin, strict)) {
      logRefusal(portal, c, 'cross_origin_post', { path: c.req.path });
      if (strict) return apiError(c, 403, 'csrf_failed', 'Cross-origin requests are not accepted.');
      return c.html(
        messagePage({
          title: 'Request refused',
          message: 'This form was sent from another site.',
          user: pageUser(portal, c.var.session),
        }),
        403,
      );
    }
    return next();
  });

  app.use(
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => apiError(c, 413, 'payload_too_large', 'The request body is too large.'),
    }),
  );

  app.route('/', assetRoutes(portal));
  app.route('/', revocationRoutes(portal));
  app.route('/', adminRoutes(portal));
  app.route('/', tokenRoutes(portal));
  app.route('/', exchangeRoutes(portal, deps.exchangeLimits ?? DEFAULT_EXCHANGE_LIMITS));
  app.route('/', apiTokenRoutes(portal));
  app.route('/', authRoutes(portal));
  app.route('/', institutionRoutes(portal));
  app.route('/', pageRoutes(portal));
  return app;
}
