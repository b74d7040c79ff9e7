import type { AccessPolicy } from '@pp-embed/access-policy';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.js';
import { requestHeader } from './headers.js';

/**
 * CORS for the embedding portals. Allowed origins are exactly the embedders of dsCredentials (as the policy
 * reads them) plus `corsOrigins`; every other origin gets no Access-Control-Allow-Origin, so its page cannot
 * read a response. The allowed request headers are a fixed list: every configured headerKey (a preflight that
 * forgot a custom header key would break the widget) plus content-type; what the browser asks for is never
 * echoed. There is no credentials mode: the token is a header, not a cookie.
 */
export function cors(policy: AccessPolicy, extraOrigins: ReadonlySet<string>) {
  const allowHeaders = [...new Set(['content-type', ...policy.headerKeys()])].join(', ');
  const allowed = (origin: string | undefined): origin is string =>
    origin !== undefined && origin !== 'null' && (extraOrigins.has(origin) || policy.allowsOrigin(origin));

  return createMiddleware<AppEnv>(async (c, next) => {
    const origin = requestHeader(c, 'origin');
    const ok = allowed(origin);
    if (c.req.method === 'OPTIONS' && requestHeader(c, 'access-control-request-method') !== undefined) {
      c.header('Vary', 'Origin');
      if (ok) {
        c.header('Access-Control-Allow-Origin', origin);
        c.header('Access-Control-Allow-Methods', 'GET, OPTIONS');
        c.header('Access-Control-Allow-Headers', allowHeaders);
        c.header('Access-Control-Max-Age', '600');
      }
      return c.body(null, 204);
    }
    await next();
    // After the handler and after onError, so that a 401 or 403 for an allowed origin carries the headers too
    // and the widget can read its code.
    c.res.headers.append('Vary', 'Origin');
    if (ok) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
    }
  });
}
