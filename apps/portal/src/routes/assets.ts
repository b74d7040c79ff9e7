import { Hono } from 'hono';
import { type Portal, type PortalEnv } from '../http/env.js';
import { PORTAL_CSS } from '../views/styles.js';

/**
 * Static assets: the stylesheet and the dataset page's script (built by `vite build` into `dist/public`).
 *
 * @example
 * app.route('/', assetRoutes(portal));
 */
export function assetRoutes(portal: Portal): Hono<PortalEnv> {
  const routes = new Hono<PortalEnv>();

  routes.get('/assets/portal.css', (c) => {
    c.header('Content-Type', 'text/css; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(PORTAL_CSS);
  });

  // Browsers ask for it on every page; an empty answer keeps a 404 out of the console.
  routes.get('/favicon.ico', (c) => {
    c.header('Cache-Control', 'public, max-age=86400');
    return c.body(null, 204);
  });

  routes.get('/assets/:name{[a-z0-9-]+\\.js}', (c) => {
    const script = portal.assets.get(c.req.param('name'));
    if (script === undefined) return c.notFound();
    c.header('Content-Type', 'text/javascript; charset=utf-8');
    c.header('Cache-Control', 'public, max-age=300');
    return c.body(script);
  });

  return routes;
}
