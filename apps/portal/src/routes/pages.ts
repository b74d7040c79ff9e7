import { Hono } from 'hono';
import type { Session } from '../db/sessions.js';
import { pageUser, type Portal, type PortalEnv, userGrants } from '../http/env.js';
import { type DatasetAccess, datasetPage, homePage, messagePage } from '../views/pages.js';

/**
 * The pages: `/` (the datasets) and `/datasets/:dslabel` (one dataset in the widget). Both are private to the
 * visitor (`no-store`): they carry the user's email and CSRF tokens.
 *
 * @example
 * app.route('/', pageRoutes(portal));
 */
export function pageRoutes(portal: Portal): Hono<PortalEnv> {
  const { config, clock } = portal;
  const routes = new Hono<PortalEnv>();

  const endpoint = (label: string) => `/api/dataset-token?dataset=${encodeURIComponent(label)}`;

  /**
   * A user without a grant for this dataset still gets a token, for one of their other datasets, when they have
   * any: the visualization server then answers `dataset_not_granted`, which the widget words as "not granted",
   * instead of `token_missing`, which would ask a signed-in user to sign in. The token lists only that other
   * dataset, so it opens nothing here.
   */
  async function access(session: Session, label: string): Promise<DatasetAccess> {
    const grants = await userGrants(portal, session, clock());
    const grant = grants.find((g) => g.dataset === label);
    if (grant !== undefined) return { kind: 'granted', grant, tokenEndpoint: endpoint(label) };
    const other = grants[0];
    return { kind: 'no-grant', tokenEndpoint: other === undefined ? undefined : endpoint(other.dataset) };
  }

  routes.get('/', async (c) => {
    const session = c.var.session;
    c.header('Cache-Control', 'no-store');
    return c.html(
      homePage({
        datasets: config.datasets,
        user: pageUser(portal, session),
        grants: session === undefined ? [] : await userGrants(portal, session, clock()),
      }),
    );
  });

  routes.get('/datasets/:dslabel', async (c) => {
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
    return c.html(
      datasetPage({
        dataset,
        vizServerUrl: config.vizServerUrl,
        user,
        access: session === undefined ? { kind: 'anonymous' } : await access(session, dataset.label),
        csrf: user?.csrf,
      }),
    );
  });

  routes.get('/healthcheck', (c) => c.json({ status: 'ok' }));

  return routes;
}
