import { AccessRefusedError, type AccessPolicy } from '@pp-embed/access-policy';
import { TokenError } from '@pp-embed/dataset-token';
import { Hono } from 'hono';
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Bundle } from './http/bundle.js';
import type { ClientAddressResolver } from './http/client-ip.js';
import { cors } from './http/cors.js';
import type { AppEnv } from './http/env.js';
import { ApiError, type ErrorBody } from './http/errors.js';
import { type AuditSink, describeError, type Logger } from './http/log.js';
import { termdbRoutes } from './routes/termdb.js';
import type { TermdbDataset } from './termdb/dataset.js';
import { TermdbError } from './termdb/errors.js';

export interface AppDeps {
  datasets: ReadonlyMap<string, TermdbDataset>;
  policy: AccessPolicy;
  /** Origins allowed by CORS besides the policy's embedders. */
  corsOrigins?: ReadonlySet<string>;
  clientAddress: ClientAddressResolver;
  /** The widget script, or undefined when it has not been built. */
  bundle: Bundle | undefined;
  log: Logger;
  audit: AuditSink;
  now?: () => number;
}

const TERMDB_STATUS: Record<TermdbError['code'], ContentfulStatusCode> = {
  term_not_found: 404,
  term_not_supported: 422,
  dataset_invalid: 500,
};

function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
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
  app.use('*', cors(deps.policy, deps.corsOrigins ?? new Set()));

  app.get('/healthcheck', (c) => c.json({ status: 'ok', datasets: [...deps.datasets.keys()] }));

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
    termdbRoutes({
      datasets: deps.datasets,
      policy: deps.policy,
      clientAddress: deps.clientAddress,
      audit: deps.audit,
      now,
    }),
  );

  app.notFound((c) => c.json(errorBody('not_found', 'There is no such route.'), 404));

  app.onError((error, c) => respondToError(error, c, deps.log));
  return app;
}

function respondToError(error: Error, c: Context<AppEnv>, log: Logger): Response {
  // Both come from the client: capped so that a refused request cannot inflate the log.
  const route = c.req.path.slice(0, 200);
  if (error instanceof TokenError) {
    log.info('refused', {
      route,
      status: 401,
      code: error.code,
      reason: error.message,
      origin: c.req.header('origin')?.slice(0, 200) ?? null,
    });
    // RFC 6750 §3: a request without credentials gets the challenge without an error code.
    c.header(
      'WWW-Authenticate',
      error.code === 'token_missing'
        ? 'Bearer realm="pp-embed"'
        : 'Bearer realm="pp-embed", error="invalid_token"',
    );
    return c.json(errorBody(error.code, TOKEN_MESSAGES[error.code]), 401);
  }
  if (error instanceof AccessRefusedError) {
    log.info('refused', {
      route,
      status: 403,
      code: error.code,
      reason: error.detail ?? null,
      entry: error.path ?? null,
    });
    return c.json(errorBody(error.code, error.message), 403);
  }
  if (error instanceof ApiError) {
    if (error.detail !== undefined)
      log.info('bad_request', { route, code: error.code, reason: error.detail });
    return c.json(errorBody(error.code, error.message), error.status);
  }
  if (error instanceof TermdbError && error.code !== 'dataset_invalid') {
    return c.json(errorBody(error.code, error.message), TERMDB_STATUS[error.code]);
  }
  if (error instanceof HTTPException && error.status < 500) {
    return c.json(
      errorBody('bad_request', 'The request is malformed.'),
      error.status as ContentfulStatusCode,
    );
  }
  log.error('internal_error', { route, ...describeError(error) });
  return c.json(errorBody('internal_error', 'The server could not answer this request.'), 500);
}

const TOKEN_MESSAGES: Record<TokenError['code'], string> = {
  token_missing: 'This data needs an access token, and the request carried none.',
  token_invalid: 'The access token is not valid.',
  token_expired: 'The access token has expired.',
  token_not_yet_valid: 'The access token is not valid yet.',
};
