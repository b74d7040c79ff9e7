import { type Context, Hono } from 'hono';
import { clearCookie, readCookie, writeCookie } from '../http/cookies.js';
import { logRefusal, pageUser, type Portal, type PortalEnv } from '../http/env.js';
import { messagePage } from '../views/pages.js';
import { safeNext } from './auth.js';

/** The path the IdP sends the browser back to; registered as the client's redirect URI at the IdP. */
export const INSTITUTION_CALLBACK = '/login/institution/callback';

/**
 * "Sign in with your institution": `GET /login/institution?next=` sends the browser to the IdP with a new state,
 * nonce and PKCE challenge (kept in a signed, `HttpOnly`, ten-minute cookie), and `GET /login/institution/callback`
 * completes the authorization code flow, finds or makes the user of (issuer, subject), starts a new session (a new
 * id, against fixation) and keeps what the institution's groups and visas grant for that session. Any failure
 * (an IdP error, a forged or replayed return, an IdP that cannot be reached) ends on a page that says so, never
 * with a session.
 *
 * @example
 * if (portal.institution) app.route('/', institutionRoutes(portal));
 */
export function institutionRoutes(portal: Portal): Hono<PortalEnv> {
  const { store, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();
  const sessionSeconds = Math.floor(store.sessions.lifetimes.maxAgeMs / 1000);

  const failed = (c: Context<PortalEnv>, status: 400 | 502, message: string) => {
    c.header('Cache-Control', 'no-store');
    return c.html(
      messagePage({ title: 'Sign-in did not complete', message, user: pageUser(portal, c.var.session) }),
      status,
    );
  };

  routes.get('/login/institution', async (c) => {
    const institution = portal.institution;
    if (institution === undefined) return c.notFound();
    const next = safeNext(c.req.query('next'));
    let started;
    try {
      started = await institution.start(`${c.var.origin}${INSTITUTION_CALLBACK}`, next);
    } catch (error) {
      logger.warn('institution_unavailable', {
        issuer: institution.config.issuer,
        cause: error instanceof Error ? error.message : String(error),
      });
      return failed(c, 502, `${institution.config.name} cannot be reached right now. Try again in a moment.`);
    }
    writeCookie(c, 'institution', started.cookie, { https: c.var.https, maxAgeSeconds: 600 });
    c.header('Cache-Control', 'no-store');
    return c.redirect(started.url.toString(), 303);
  });

  routes.get(INSTITUTION_CALLBACK, async (c) => {
    const institution = portal.institution;
    if (institution === undefined) return c.notFound();
    const pending = institution.pending(readCookie(c, 'institution', c.var.https));
    clearCookie(c, 'institution', c.var.https);
    if (pending === undefined) {
      logRefusal(portal, c, 'institution_state_missing', { path: INSTITUTION_CALLBACK });
      return failed(c, 400, 'This sign-in link has expired or was not started here. Please sign in again.');
    }
    let signIn;
    try {
      // The URL as the browser sent it, on the origin the IdP redirected to.
      const url = new URL(c.req.url);
      signIn = await institution.finish(new URL(`${c.var.origin}${url.pathname}${url.search}`), pending);
    } catch (error) {
      logger.warn('institution_sign_in_failed', {
        issuer: institution.config.issuer,
        cause: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
      return failed(c, 400, `${institution.config.name} did not confirm the sign-in. Please try again.`);
    }
    const now = clock();
    const user = await store.identities.userFor(signIn.issuer, signIn.subject, signIn.email, now);
    const previous = readCookie(c, 'session', c.var.https);
    if (previous !== undefined) await store.sessions.end(previous, now);
    const { id } = await store.sessions.create(user.id, now);
    await store.identities.grant(id, signIn.grants);
    writeCookie(c, 'session', id, { https: c.var.https, maxAgeSeconds: sessionSeconds });
    logger.info('login_succeeded', {
      email: user.email,
      issuer: signIn.issuer,
      datasets: signIn.grants.map((g) => g.dataset),
      visas: signIn.visas.map((v) => (v.accepted ? 'accepted' : (v.refusal ?? 'refused'))),
    });
    return c.redirect(pending.next, 303);
  });

  return routes;
}
