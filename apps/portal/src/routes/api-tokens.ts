import { isApiTokenId, MAX_API_TOKEN_DAYS } from '@pp-embed/api-token';
import type { GrantedRouteClass } from '@pp-embed/viz-api';
import { type Context, Hono } from 'hono';
import { ApiTokenRefused, type ApiTokenRecord } from '../db/api-tokens.js';
import type { Session } from '../db/sessions.js';
import { logRefusal, pageUser, type Portal, type PortalEnv } from '../http/env.js';
import { apiTokensPage } from '../views/api-tokens.js';
import type { PageUser } from '../views/layout.js';
import { messagePage } from '../views/pages.js';

type Form = Record<string, string | File | (string | File)[]>;

/** The posted form, or undefined when the body cannot be read as one. Repeated fields come as lists. */
async function readForm(c: Context<PortalEnv>): Promise<Form | undefined> {
  try {
    return (await c.req.parseBody({ all: true })) as Form;
  } catch {
    return undefined;
  }
}

/** One text field of a form; a field sent twice, or a file, reads as empty. */
const text = (form: Form, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
};

const texts = (form: Form, name: string): string[] => {
  const value = form[name];
  const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return values.filter((v): v is string => typeof v === 'string');
};

/**
 * The owner's pages of personal API tokens: `GET /tokens` (the list and the form), `POST /tokens` (makes one and
 * shows it once, `no-store`) and `POST /tokens/revoke`. Signed-in users only; every form carries the session's CSRF
 * token like the portal's other forms. Tokens are never logged, only their ids.
 *
 * @example
 * app.route('/', apiTokenRoutes(portal));
 */
export function apiTokenRoutes(portal: Portal): Hono<PortalEnv> {
  const { store, csrf, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();

  const page = async (
    c: Context<PortalEnv>,
    session: Session,
    status: 200 | 400 | 403 | 404,
    extra: { created?: { token: string; record: ApiTokenRecord }; notice?: string; error?: string } = {},
  ) => {
    // The page may hold a token shown once: no cache keeps it.
    c.header('Cache-Control', 'no-store');
    const [grants, institutional] = await Promise.all([
      store.grants.forUser(session.userId),
      store.identities.grantsFor(session.id, clock()),
    ]);
    return c.html(
      apiTokensPage({
        user: pageUser(portal, session) as PageUser,
        grants,
        sessionOnly: institutional.map((g) => g.dataset).filter((d) => !grants.some((g) => g.dataset === d)),
        tokens: await store.apiTokens.forUser(session.userId),
        now: clock(),
        portalOrigin: c.var.origin,
        ...extra,
      }),
      status,
    );
  };

  /** The signed-in session whose form this is; otherwise the answer to send instead. */
  const signedInForm = async (
    c: Context<PortalEnv>,
  ): Promise<{ session: Session; form: Form } | Response> => {
    const session = c.var.session;
    if (session === undefined) return c.redirect(`/login?next=${encodeURIComponent('/tokens')}`, 303);
    const form = await readForm(c);
    if (form === undefined) return page(c, session, 400, { error: 'The form could not be read.' });
    if (!csrf.checkSession(session.id, form.csrf)) {
      logRefusal(portal, c, 'csrf_failed', { path: c.req.path, email: session.email });
      return page(c, session, 403, { error: 'This page was out of date. Reload it and try again.' });
    }
    return { session, form };
  };

  routes.get('/tokens', async (c) => {
    const session = c.var.session;
    if (session === undefined) return c.redirect(`/login?next=${encodeURIComponent('/tokens')}`, 303);
    return page(c, session, 200, c.req.query('revoked') === '1' ? { notice: 'Revoked.' } : {});
  });

  routes.post('/tokens', async (c) => {
    const checked = await signedInForm(c);
    if (checked instanceof Response) return checked;
    const { session, form } = checked;
    const access = text(form, 'access');
    const routeClasses: GrantedRouteClass[] =
      access === 'sample-level'
        ? ['aggregated', 'sample-level']
        : access === 'aggregated'
          ? ['aggregated']
          : [];
    const days = /^\d{1,4}$/.test(text(form, 'days')) ? Number(text(form, 'days')) : Number.NaN;
    try {
      const created = await store.apiTokens.create(
        { id: session.userId },
        {
          name: text(form, 'name'),
          datasets: texts(form, 'datasets'),
          routeClasses,
          pinned: text(form, 'pinned') !== '',
          days,
        },
        clock(),
      );
      logger.info('api_token_created', {
        email: session.email,
        apiToken: created.record.id,
        datasets: created.record.datasets,
        routeClasses: created.record.routeClasses,
        expiresAt: new Date(created.record.expiresAt).toISOString(),
      });
      return page(c, session, 200, { created });
    } catch (error) {
      if (!(error instanceof ApiTokenRefused)) throw error;
      return page(c, session, 400, {
        error: Number.isNaN(days) ? `A token lasts 1 to ${MAX_API_TOKEN_DAYS} days.` : error.message,
      });
    }
  });

  routes.post('/tokens/revoke', async (c) => {
    const checked = await signedInForm(c);
    if (checked instanceof Response) return checked;
    const { session, form } = checked;
    const id = text(form, 'id');
    const revoked =
      isApiTokenId(id) &&
      (await store.apiTokens.revoke(id, { now: clock(), actor: session.email, ownerId: session.userId }));
    if (!revoked) return page(c, session, 404, { error: 'You have no live token with this id.' });
    logger.info('api_token_revoked', { by: session.email, apiToken: id });
    return c.redirect('/tokens?revoked=1', 303);
  });

  routes.on(['PUT', 'DELETE', 'PATCH'], ['/tokens', '/tokens/revoke'], (c) => {
    c.header('Allow', 'GET, POST');
    return c.html(messagePage({ title: 'Not allowed', message: 'Use the forms on the page.' }), 405);
  });

  return routes;
}
