import { Hono } from 'hono';
import { pageUser, type Portal, type PortalEnv } from '../http/env.js';
import { datasetPage, homePage, messagePage } from '../views/pages.js';

/**
 * The pages: `/` (the datasets) and `/datasets/:dslabel` (one dataset in the widget). Both are private to the
 * visitor (`no-store`): they carry the user's email and CSRF tokens.
 *
 * @example
 * app.route('/', pageRoutes(portal));
 */
export function pageRoutes(portal: Portal): Hono<PortalEnv> {
  const { config, stores } = portal;
  const routes = new Hono<PortalEnv>();

  routes.get('/', (c) => {
    const session = c.var.session;
    c.header('Cache-Control', 'no-store');
    return c.html(
      homePage({
        datasets: config.datasets,
        user: pageUser(portal, session),
        grants: session === undefined ? [] : stores.grants.forUser(session.userId),
      }),
    );
  });

  routes.get('/datasets/:dslabel', (c) => {
    const session = c.var.session;
    const user = pageUser(portal, session);
    c.header('Cache-Control', 'no-store');
    const dataset = config.datasets.find((d) => d.label === c.req.param('dslabel'));
    if (dataset === undefined) {
      return c.html(
        messagePage({ title: 'Not found', message: 'This portal has no such dataset.', user }),
        404,
      );
    }
    const grant =
      session === undefined
        ? undefined
        : stores.grants.forUser(session.userId).find((g) => g.dataset === dataset.label);
    return c.html(
      datasetPage({
        dataset,
        vizServerUrl: config.vizServerUrl,
        user,
        access:
          session === undefined
            ? { kind: 'anonymous' }
            : grant === undefined
              ? { kind: 'no-grant' }
              : {
                  kind: 'granted',
                  grant,
                  tokenEndpoint: `/api/dataset-token?dataset=${encodeURIComponent(dataset.label)}`,
                },
        csrf: user?.csrf,
      }),
    );
  });

  routes.get('/healthcheck', (c) => c.json({ status: 'ok' }));

  return routes;
}
