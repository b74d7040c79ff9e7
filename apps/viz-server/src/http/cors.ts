import type { AccessPolicy } from '@pp-embed/access-policy';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from './env.js';
import { ApiError } from './errors.js';
import { requestHeader } from './headers.js';

/**
 * CORS for the embedding portals. Allowed origins are exactly the embedders of dsCredentials (as the policy
 * reads them) plus `corsOrigins`; every other origin gets no Access-Control-Allow-Origin, so its page cannot
 * read a response. The allowed request headers are a fixed list: every configured headerKey (a preflight that
 * forgot a custom header key would break the widget) plus content-type; what the browser asks for is never
 * echoed. There is no credentials mode: the token is a header, not a cookie. One exception tells an unlisted
 * origin why: the access decision answers its discovery request with `403 embedder_not_allowed` for that origin
 * (`toOrigin`), and that answer alone gets the CORS headers.
 */
export function cors() {
  return createMiddleware<AppEnv>(async (c, next) => {
    const policy = c.var.state.policy;
    const origin = requestHeader(c, 'origin');
    const ok = allowed(policy, origin);
    if (c.req.method === 'OPTIONS' && requestHeader(c, 'access-control-request-method') !== undefined) {
      c.header('Vary', 'Origin');
      if (ok) {
        c.header('Access-Control-Allow-Origin', origin);
        // POST is the login route's; every other route answers it with 405.
        c.header('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
        c.header('Access-Control-Allow-Headers', allowHeaders(policy));
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
    } else if (origin !== undefined && c.error instanceof ApiError && c.error.toOrigin) {
      // The access decision's one answer for an origin whose pages may read nothing else (see decide).
      c.res.headers.set('Access-Control-Allow-Origin', origin);
    }
  });
}

const allowed = (policy: AccessPolicy, origin: string | undefined): origin is string =>
  origin !== undefined && origin !== 'null' && policy.allowsOrigin(origin);

// One string per policy: the list changes only when the embedder registry brings a new policy.
const allowHeadersOf = new WeakMap<AccessPolicy, string>();

function allowHeaders(policy: AccessPolicy): string {
  let value = allowHeadersOf.get(policy);
  if (value === undefined) {
    value = [...new Set(['content-type', ...policy.headerKeys()])].join(', ');
    allowHeadersOf.set(policy, value);
  }
  return value;
}
