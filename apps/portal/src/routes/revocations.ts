import { Hono } from 'hono';
import type { Portal, PortalEnv } from '../http/env.js';

/**
 * Where the revocation feed is published, for every visualization server replica.
 *
 * @example
 * const url = new URL(REVOCATION_FEED_PATH, 'https://portal.example.org');
 */
export const REVOCATION_FEED_PATH = '/.well-known/pp-revocations';

/**
 * `GET /.well-known/pp-revocations`: the signed revocation feed (`application/jwt`, a JWT of type
 * `pp-revocations+jwt` signed with the token key). A conditional GET (`If-None-Match`) answers 304 when nothing
 * changed; with `Prefer: wait=N` (at most 25) the request is held until a revocation is recorded on the store, by
 * any portal replica, or N seconds pass. Users appear only as subject hashes; still, serve this path to the
 * visualization servers only where you can (see docs/deployment.md).
 *
 * @example
 * app.route('/', revocationRoutes(portal));
 */
export function revocationRoutes(portal: Portal): Hono<PortalEnv> {
  const routes = new Hono<PortalEnv>();
  routes.get(REVOCATION_FEED_PATH, async (c) => {
    const answer = await portal.feed.answer({
      ifNoneMatch: c.req.header('if-none-match'),
      prefer: c.req.header('prefer'),
      signal: c.req.raw.signal,
    });
    c.header('ETag', answer.etag);
    // Never from a cache: an old list un-revokes what came after it.
    c.header('Cache-Control', 'no-cache');
    if (answer.status === 304) return c.body(null, 304);
    c.header('Content-Type', 'application/jwt');
    return c.body(answer.body);
  });
  return routes;
}
