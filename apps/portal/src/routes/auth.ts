import { Hono, type Context } from 'hono';
import { MAX_PASSWORD_LENGTH } from '../auth/password.js';
import { randomId } from '../db/sessions.js';
import { isValidEmail, MAX_EMAIL_LENGTH, normalizeEmail } from '../db/users.js';
import { clearCookie, readCookie, writeCookie } from '../http/cookies.js';
import { logRefusal, pageUser, type Portal, type PortalEnv } from '../http/env.js';
import { loginPage, messagePage } from '../views/pages.js';

/**
 * The one sentence for every failed sign-in: it never tells whether the account exists.
 *
 * @example
 * loginPage({ csrf, next, email: typed, error: WRONG_CREDENTIALS });
 */
export const WRONG_CREDENTIALS = 'Wrong email or password.';

const SIGN_IN_NONCE_SECONDS = 2 * 3600;

/**
 * Where to go after signing in: a path on this portal, or `/`. Anything that a browser could read as another
 * host (`//evil.example`, `/\evil.example`, a scheme) falls back to `/`.
 *
 * @example
 * safeNext('/datasets/PPDemo'); // '/datasets/PPDemo'
 * safeNext('//evil.example/'); // '/'
 */
export function safeNext(next: unknown): string {
  if (typeof next !== 'string' || next.length > 512) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are what is refused here
  if (!next.startsWith('/') || next.startsWith('//') || /[\\\u0000-\u001f\u007f]/.test(next)) return '/';
  return next;
}

/** The posted form's fields, or undefined when the body cannot be read as a form (a 400, never a 500). */
async function readForm(c: Context<PortalEnv>): Promise<Record<string, unknown> | undefined> {
  try {
    return (await c.req.parseBody()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

const unreadable = (c: Context<PortalEnv>) =>
  c.html(
    messagePage({ title: 'Bad request', message: 'The form could not be read. Please try again.' }),
    400,
  );

const field = (form: Record<string, unknown>, name: string): string => {
  const value = form[name];
  return typeof value === 'string' ? value : '';
};

/**
 * Sign-in and sign-out: `GET /login`, `POST /login`, `POST /logout`.
 *
 * A successful sign-in replaces any session the browser had with a new one under a new id (against session
 * fixation). Failures, counted per account and per client address, all get the same sentence; past the limit the
 * answer is 429 with `Retry-After`, and no password is checked.
 *
 * @example
 * app.route('/', authRoutes(portal));
 */
export function authRoutes(portal: Portal): Hono<PortalEnv> {
  const { store, csrf, accounts, limits, logger, clock } = portal;
  const routes = new Hono<PortalEnv>();
  const sessionSeconds = Math.floor(store.sessions.lifetimes.maxAgeMs / 1000);
  const failures = store.loginFailures;
  const accountKey = (email: string) => `account:${email}`;
  const addressKey = (address: string) => `address:${address}`;

  /** The sign-in nonce cookie, made when missing; the form's CSRF token is bound to it. */
  function signInNonce(c: Context<PortalEnv>): string {
    const existing = readCookie(c, 'sign-in', c.var.https);
    if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const nonce = randomId();
    writeCookie(c, 'sign-in', nonce, { https: c.var.https, maxAgeSeconds: SIGN_IN_NONCE_SECONDS });
    return nonce;
  }

  function form(
    c: Context<PortalEnv>,
    props: { nonce: string; next: string; email: string; error: string | undefined },
    status: 200 | 401 | 403 | 429,
  ) {
    c.header('Cache-Control', 'no-store');
    return c.html(
      loginPage({
        csrf: csrf.forSignIn(props.nonce),
        next: props.next,
        email: props.email,
        error: props.error,
        user: pageUser(portal, c.var.session),
        institution: portal.institution?.config.name,
      }),
      status,
    );
  }

  routes.get('/login', (c) => {
    const next = safeNext(c.req.query('next'));
    // Shown to a signed-in user too: signing in again (as someone else) replaces the session.
    return form(c, { nonce: signInNonce(c), next, email: '', error: undefined }, 200);
  });

  routes.post('/login', async (c) => {
    const body = await readForm(c);
    if (body === undefined) return unreadable(c);
    const next = safeNext(field(body, 'next'));
    const typed = field(body, 'email').slice(0, MAX_EMAIL_LENGTH);
    const nonce = readCookie(c, 'sign-in', c.var.https);
    if (nonce === undefined || !csrf.checkSignIn(nonce, body.csrf)) {
      logRefusal(portal, c, 'csrf_failed', { path: '/login' });
      return form(
        c,
        {
          nonce: signInNonce(c),
          next,
          email: typed,
          error: 'This sign-in form has expired. Please sign in again.',
        },
        403,
      );
    }

    const email = normalizeEmail(typed);
    const password = field(body, 'password');
    const address = c.var.client ?? 'unknown';
    const now = clock();
    const wait = Math.max(
      await failures.retryAfterMs(accountKey(email), limits.perAccount, now),
      await failures.retryAfterMs(addressKey(address), limits.perAddress, now),
    );
    if (wait > 0) {
      const minutes = Math.ceil(wait / 60_000);
      logRefusal(portal, c, 'login_throttled', { email });
      c.header('Retry-After', String(Math.ceil(wait / 1000)));
      return form(
        c,
        {
          nonce,
          next,
          email: typed,
          error: `Too many sign-in attempts. Please try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
        },
        429,
      );
    }

    const user =
      isValidEmail(email) && password !== '' && password.length <= MAX_PASSWORD_LENGTH
        ? await accounts.authenticate(email, password)
        : undefined;
    if (user === undefined) {
      await failures.hit(accountKey(email), clock());
      await failures.hit(addressKey(address), clock());
      logger.info('login_failed', { email });
      return form(c, { nonce, next, email: typed, error: WRONG_CREDENTIALS }, 401);
    }

    await failures.reset(accountKey(email));
    // Session fixation: whatever session id the browser brought is ended (with its tokens), and the new one is fresh.
    const previous = readCookie(c, 'session', c.var.https);
    if (previous !== undefined) await store.sessions.end(previous, clock());
    const { id } = await store.sessions.create(user.id, clock());
    writeCookie(c, 'session', id, { https: c.var.https, maxAgeSeconds: sessionSeconds });
    clearCookie(c, 'sign-in', c.var.https);
    logger.info('login_succeeded', { email: user.email });
    return c.redirect(next, 303);
  });

  routes.post('/logout', async (c) => {
    const session = c.var.session;
    if (session === undefined) {
      clearCookie(c, 'session', c.var.https);
      return c.redirect('/', 303);
    }
    const body = await readForm(c);
    if (body === undefined) return unreadable(c);
    if (!csrf.checkSession(session.id, body.csrf)) {
      logRefusal(portal, c, 'csrf_failed', { path: '/logout', email: session.email });
      c.header('Cache-Control', 'no-store');
      return c.html(
        messagePage({
          title: 'Not signed out',
          message: 'This page was out of date. Reload it and sign out again.',
          user: pageUser(portal, session),
        }),
        403,
      );
    }
    // Signing out withdraws the tokens minted for this session, on every visualization server, within seconds.
    await store.sessions.end(session.id, clock());
    clearCookie(c, 'session', c.var.https);
    logger.info('logout', { email: session.email });
    return c.redirect('/', 303);
  });

  return routes;
}
