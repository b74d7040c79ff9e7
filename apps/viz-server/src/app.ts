import type { RevocationFeeds } from '@pp-embed/revocation';
import type { ProxyTrust } from '@pp-embed/client-address';
import {
  describeError,
  type DrainState,
  type Logger,
  RateLimitedLog,
  SERVING,
} from '@pp-embed/server-runtime';
import type { ErrorCode, Health } from '@pp-embed/viz-api';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AuditSink } from './http/audit.js';
import type { Bundle } from './http/bundle.js';
import { cors } from './http/cors.js';
import type { AppEnv } from './http/env.js';
import { ApiError } from './http/errors.js';
import { clientAddress, requestHeader } from './http/headers.js';
import { termdbRoutes } from './routes/termdb.js';
import { TermdbError } from './termdb/errors.js';
import type { DatasetRegistry } from './termdb/registry.js';
import type { AccessState, EmbedderRegistryWatch } from './embedders.js';

export interface AppDeps {
  datasets: Pick<DatasetRegistry, 'acquire' | 'labels' | 'health'>;
  /**
   * What decides access: a fixed state, or a function giving the one in force (the embedder registry swaps it
   * when its file changes). Each request reads it once, when it starts, and is decided by it throughout.
   */
  access: AccessState | (() => AccessState);
  /** The trusted proxies, which say who the client is. */
  proxies: ProxyTrust;
  /** The widget script, or undefined when it has not been built. */
  bundle: Bundle | undefined;
  log: Logger;
  /** Where refusals and malformed requests are logged, bounded per (code, origin, address). Default: over `log`. */
  refusals?: RateLimitedLog;
  audit: AuditSink;
  /** Whether the server is shutting down. Default: never. */
  lifecycle?: DrainState;
  now?: () => number;
  /** The portals' revocation feeds (serverconfig.json `revocationFeeds`), for `/healthcheck`; started by the caller. */
  revocationFeeds?: Pick<RevocationFeeds, 'health'> | undefined;
  /** The embedder registry, for `/healthcheck`. */
  embedderRegistry?: Pick<EmbedderRegistryWatch, 'health'> | undefined;
  /** Told of the key (`kid`) of a credential entry that checked a token, for the record of key use. */
  keyUse?: ((path: string, kid: string) => void) | undefined;
}

// RFC 9110 §10.2.3: how soon a 503 may be retried. Draining: at once, on a new connection (another replica).
// Revocation: the feed is retried every few seconds.
const RETRY_AFTER: Partial<Record<ErrorCode, string>> = {
  server_draining: '1',
  dataset_unavailable: '5',
  revocation_unavailable: '5',
};

/**
 * Builds the visualization server from its dependencies. Nothing here listens on a port or reads the
 * environment: tests call `app.request()`, and `main.ts` serves it.
 *
 * @example
 * const config = loadConfig('serverconfig.json');
 * const datasets = new DatasetRegistry(config.datasets, { log });
 * const app = createApp({ ...config, access: { policy: config.policy }, datasets, bundle: readBundle(bundlePath), log, audit: jsonAudit() });
 * const res = await app.request('/termdb/config?dslabel=TermdbTest');
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const now = deps.now ?? Date.now;
  const lifecycle = deps.lifecycle ?? SERVING;
  const refusals = deps.refusals ?? new RateLimitedLog(deps.log);
  const access = deps.access;
  const state = typeof access === 'function' ? access : () => access;
  const app = new Hono<AppEnv>();

  // First of all: the state that decides this request, read once (a registry change swaps it between requests).
  app.use('*', async (c, next) => {
    c.set('state', state());
    await next();
  });

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    // Dataset answers may be private to one user: no shared cache may keep them.
    if (c.req.path.startsWith('/termdb/')) c.res.headers.set('Cache-Control', 'no-store');
  });
  app.use('*', cors());
  // Behind CORS, so that the widget can read the code of the refusal.
  app.use('*', async (c, next) => {
    if (lifecycle.draining && c.req.path !== '/healthcheck') throw new ApiError('server_draining');
    await next();
  });

  app.get('/healthcheck', (c) => {
    const datasets = deps.datasets.health();
    const keySets = c.var.state.policy.keySets();
    // A feed out of date leaves the replica serving (open routes still work, and tokens until the feed's limit):
    // degraded, for monitoring to read. So does a refused change of the registry: the version before serves.
    const revocationFeeds = deps.revocationFeeds?.health(now()) ?? [];
    const embedderRegistry = deps.embedderRegistry?.health() ?? null;
    const status = lifecycle.draining
      ? 'draining'
      : [...datasets, ...keySets].every((check) => check.status === 'ok') &&
          revocationFeeds.every((feed) => feed.state === 'fresh') &&
          (embedderRegistry === null || embedderRegistry.status === 'ok')
        ? 'ok'
        : 'degraded';
    c.header('Cache-Control', 'no-store');
    const health: Health = {
      status,
      datasets: deps.datasets.labels,
      checks: { datasets, keySets, revocationFeeds, embedderRegistry },
    };
    return c.json(health, status === 'draining' ? 503 : 200);
  });

  app.get('/bin/proteinpaint.js', (c) => {
    const bundle = deps.bundle;
    if (bundle === undefined) {
      return c.text(
        'proteinpaint.js has not been built: run the workspace build (pnpm build) and restart.\n',
        404,
      );
    }
    c.header('ETag', bundle.etag);
    // A script tag may load it from any page; a versioned URL can be cached for good, the plain one is revalidated.
    c.header('Access-Control-Allow-Origin', '*');
    c.header('Cross-Origin-Resource-Policy', 'cross-origin');
    const pinned = c.req.query('v') === bundle.version;
    c.header(
      'Cache-Control',
      pinned ? 'public, max-age=31536000, immutable' : 'public, max-age=300, must-revalidate',
    );
    if (c.req.header('if-none-match') === bundle.etag) return c.body(null, 304);
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    return c.body(bundle.body as Uint8Array<ArrayBuffer>);
  });

  app.route(
    '/',
    termdbRoutes(
      {
        datasets: deps.datasets,
        proxies: deps.proxies,
        audit: deps.audit,
        now,
        keyUse: deps.keyUse,
      },
      deps.log,
    ),
  );

  app.notFound((c) => {
    const error = new ApiError('not_found');
    return c.json(error.body(), error.status);
  });

  app.onError((error, c) => respondToError(error, c, deps.log, refusals, deps.proxies));
  return app;
}

function respondToError(
  error: Error,
  c: Context<AppEnv>,
  log: Logger,
  refusals: RateLimitedLog,
  proxies: ProxyTrust,
): Response {
  // Both come from the client: capped so that a refused request cannot inflate the log.
  const route = c.req.path.slice(0, 200);
  const answer = toApiError(error);
  if (answer === undefined) {
    log.error('internal_error', { route, ...describeError(error) });
    const internal = new ApiError('internal_error');
    return c.json(internal.body(), internal.status);
  }
  const status = answer.status;
  // Anyone can cause these at will: bounded per (code, origin, address) so that a flood cannot fill the disk.
  const refused =
    status === 401 || status === 403 || status === 429 || answer.code === 'revocation_unavailable';
  if (refused || answer.detail !== undefined) {
    const origin = requestHeader(c, 'origin')?.slice(0, 200) ?? null;
    const address = clientAddress(c, proxies) ?? null;
    const key = { code: answer.code, origin, address };
    if (refused) {
      refusals.info(key, 'refused', {
        route,
        status,
        code: answer.code,
        ...(answer.reason !== undefined && { tokenReason: answer.reason }),
        reason: answer.detail ?? null,
        entry: answer.path ?? null,
        origin,
        address,
      });
    } else {
      refusals.info(key, 'bad_request', { route, code: answer.code, reason: answer.detail, origin, address });
    }
  }
  // RFC 9110 §10.2.3 and RFC 6585 §4: how long to wait before the next try.
  const retryAfter = answer.retryAfter !== undefined ? String(answer.retryAfter) : RETRY_AFTER[answer.code];
  if (retryAfter !== undefined) c.header('Retry-After', retryAfter);
  if (status === 401) {
    // RFC 6750 §3: a request without credentials gets the challenge without an error code.
    c.header(
      'WWW-Authenticate',
      answer.code === 'token_missing' || answer.code === 'password_invalid'
        ? 'Bearer realm="pp-embed"'
        : 'Bearer realm="pp-embed", error="invalid_token"',
    );
  }
  return c.json(answer.body(), status);
}

/** The answer for an error thrown on purpose; undefined for a fault, which becomes a 500 with no detail. */
function toApiError(error: Error): ApiError | undefined {
  if (error instanceof ApiError) return error;
  // The termdb layer's messages are sentences written for clients (they name parameters and limits only).
  if (error instanceof TermdbError && error.code !== 'dataset_invalid') {
    return new ApiError(error.code, { message: error.message });
  }
  if (error instanceof HTTPException && error.status < 500) return new ApiError('bad_request');
  return undefined;
}
