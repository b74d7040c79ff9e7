import type { AccessPolicy } from '@pp-embed/access-policy';
import type { ProxyTrust } from '@pp-embed/client-address';
import { describeError, type Logger } from '@pp-embed/server-runtime';
import type { Health } from '@pp-embed/viz-api';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AuditSink } from './http/audit.js';
import type { Bundle } from './http/bundle.js';
import { cors } from './http/cors.js';
import type { AppEnv } from './http/env.js';
import { ApiError } from './http/errors.js';
import { requestHeader } from './http/headers.js';
import { termdbRoutes } from './routes/termdb.js';
import type { TermdbDataset } from './termdb/dataset.js';
import { TermdbError } from './termdb/errors.js';

export interface AppDeps {
  datasets: ReadonlyMap<string, TermdbDataset>;
  policy: AccessPolicy;
  /** The trusted proxies, which say who the client is. */
  proxies: ProxyTrust;
  /** The widget script, or undefined when it has not been built. */
  bundle: Bundle | undefined;
  log: Logger;
  audit: AuditSink;
  now?: () => number;
}

/**
 * Builds the visualization server from its dependencies. Nothing here listens on a port or reads the
 * environment: tests call `app.request()`, and `main.ts` serves it.
 *
 * @example
 * const config = loadConfig('serverconfig.json');
 * const app = createApp({ ...config, bundle: readBundle(bundlePath), log: jsonLogger(), audit: jsonAudit() });
 * const res = await app.request('/termdb/config?dslabel=TermdbTest');
 */
export function createApp(deps: AppDeps): Hono<AppEnv> {
  const now = deps.now ?? Date.now;
  const app = new Hono<AppEnv>();

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('X-Content-Type-Options', 'nosniff');
    c.res.headers.set('Referrer-Policy', 'no-referrer');
    // Dataset answers may be private to one user: no shared cache may keep them.
    if (c.req.path.startsWith('/termdb/')) c.res.headers.set('Cache-Control', 'no-store');
  });
  app.use('*', cors(deps.policy));

  app.get('/healthcheck', (c) =>
    c.json({ status: 'ok', datasets: [...deps.datasets.keys()] } satisfies Health),
  );

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
      { datasets: deps.datasets, policy: deps.policy, proxies: deps.proxies, audit: deps.audit, now },
      deps.log,
    ),
  );

  app.notFound((c) => {
    const error = new ApiError('not_found');
    return c.json(error.body(), error.status);
  });

  app.onError((error, c) => respondToError(error, c, deps.log));
  return app;
}

function respondToError(error: Error, c: Context<AppEnv>, log: Logger): Response {
  // Both come from the client: capped so that a refused request cannot inflate the log.
  const route = c.req.path.slice(0, 200);
  const answer = toApiError(error);
  if (answer === undefined) {
    log.error('internal_error', { route, ...describeError(error) });
    const internal = new ApiError('internal_error');
    return c.json(internal.body(), internal.status);
  }
  const status = answer.status;
  if (status === 401 || status === 403 || status === 429) {
    log.info('refused', {
      route,
      status,
      code: answer.code,
      ...(answer.reason !== undefined && { tokenReason: answer.reason }),
      reason: answer.detail ?? null,
      entry: answer.path ?? null,
      origin: requestHeader(c, 'origin')?.slice(0, 200) ?? null,
    });
  } else if (answer.detail !== undefined) {
    log.info('bad_request', { route, code: answer.code, reason: answer.detail });
  }
  // RFC 6585 §4: how long to wait before the next try.
  if (answer.retryAfter !== undefined) c.header('Retry-After', String(answer.retryAfter));
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
  if (error instanceof TermdbError && error.code !== 'dataset_invalid') return new ApiError(error.code);
  if (error instanceof HTTPException && error.status < 500) return new ApiError('bad_request');
  return undefined;
}
