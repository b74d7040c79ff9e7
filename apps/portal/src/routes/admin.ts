import { isApiTokenId } from '@pp-embed/api-token';
import { DATASET_LABEL } from '@pp-embed/viz-api';
import { type Context, Hono } from 'hono';
import type { Session } from '../db/sessions.js';
import { MAX_TOKEN_TTL_SECONDS, type RevocationTarget } from '../db/revocations.js';
import { isValidEmail, normalizeEmail } from '../db/users.js';
import { logRefusal, pageUser, type Portal, type PortalEnv } from '../http/env.js';
import type { PageUser } from '../views/layout.js';
import { adminPage, messagePage } from '../views/pages.js';

/**
 * The administrator's page: `GET /admin`, `POST /admin/revoke` (a user's tokens, a grant's, one token by `jti`,
 * or every token of the portal) and `POST /admin/api-tokens/revoke` (anyone's personal API token, with the dataset
 * tokens it was exchanged for). Only a signed-in administrator (`pp-portal-users set-admin`) gets past the door;
 * the form carries the session's CSRF token like every other POST. Each revocation is logged with who made it.
 *
 * @example
 * app.route('/', adminRoutes(portal));
 */
export function adminRoutes(portal: Portal): Hono<PortalEnv> {
  const { store, csrf, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();

  const refuse = (c: Context<PortalEnv>) => {
    const session = c.var.session;
    if (session === undefined) return c.redirect(`/login?next=${encodeURIComponent('/admin')}`, 303);
    logRefusal(portal, c, 'admin_refused', { email: session.email });
    return c.html(
      messagePage({
        title: 'Not allowed',
        message: 'This page is for the portal’s administrators.',
        user: pageUser(portal, session),
      }),
      403,
    );
  };

  const page = async (
    c: Context<PortalEnv>,
    user: PageUser,
    status: 200 | 400 | 403,
    notice?: { notice?: string; error?: string },
  ) => {
    c.header('Cache-Control', 'no-store');
    const recent = await store.revocations.recent(50);
    const tokens = await store.apiTokens.list({ limit: 200 });
    return c.html(
      adminPage({ user, csrf: user.csrf, recent, apiTokens: tokens, now: clock(), ...notice }),
      status,
    );
  };

  routes.get('/admin', async (c) => {
    const session = c.var.session;
    if (session?.isAdmin !== true) return refuse(c);
    const done = c.req.query('done') === '1';
    return page(c, pageUser(portal, session) as PageUser, 200, done ? { notice: 'Revoked.' } : {});
  });

  /** An administrator's form, read and checked (session, role, CSRF); otherwise the answer to send instead. */
  const adminForm = async (
    c: Context<PortalEnv>,
  ): Promise<{ session: Session; user: PageUser; form: Record<string, unknown> } | Response> => {
    const session = c.var.session;
    if (session?.isAdmin !== true) return refuse(c);
    const user = pageUser(portal, session) as PageUser;
    let form: Record<string, unknown>;
    try {
      form = (await c.req.parseBody()) as Record<string, unknown>;
    } catch {
      return page(c, user, 400, { error: 'The form could not be read.' });
    }
    if (!csrf.checkSession(session.id, form.csrf)) {
      logRefusal(portal, c, 'csrf_failed', { path: c.req.path, email: session.email });
      return page(c, user, 403, { error: 'This page was out of date. Reload it and try again.' });
    }
    return { session, user, form };
  };

  routes.post('/admin/revoke', async (c) => {
    const checked = await adminForm(c);
    if (checked instanceof Response) return checked;
    const { session, user, form } = checked;
    const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');
    const now = clock();
    let target: RevocationTarget | undefined;
    const email = normalizeEmail(text('email'));
    switch (text('kind')) {
      case 'user':
        if (isValidEmail(email)) target = { type: 'user', email };
        break;
      case 'grant':
        if (isValidEmail(email) && DATASET_LABEL.test(text('dataset'))) {
          target = { type: 'grant', email, dataset: text('dataset') };
        }
        break;
      case 'token':
        // A jti the portal minted lives at most the longest token lifetime.
        if (/^[A-Za-z0-9_.:-]{1,256}$/.test(text('jti'))) {
          target = { type: 'token', jti: text('jti'), exp: Math.floor(now / 1000) + MAX_TOKEN_TTL_SECONDS };
        }
        break;
      case 'all':
        target = { type: 'embedder' };
        break;
    }
    if (target === undefined)
      return page(c, user, 400, { error: 'Fill in the form: an email, a dataset label or a token id.' });
    await store.revocations.add(target, { now, reason: 'admin', actor: session.email });
    logger.info('revoked', {
      by: session.email,
      type: target.type,
      dataset: target.type === 'grant' ? target.dataset : null,
    });
    return c.redirect('/admin?done=1', 303);
  });

  routes.post('/admin/api-tokens/revoke', async (c) => {
    const checked = await adminForm(c);
    if (checked instanceof Response) return checked;
    const { session, user, form } = checked;
    const id = typeof form.id === 'string' ? form.id : '';
    if (!isApiTokenId(id) || !(await store.apiTokens.revoke(id, { now: clock(), actor: session.email }))) {
      return page(c, user, 400, { error: 'There is no live API token with this id.' });
    }
    logger.info('api_token_revoked', { by: session.email, apiToken: id });
    return c.redirect('/admin?done=1', 303);
  });

  return routes;
}
