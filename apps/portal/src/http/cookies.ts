import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';

/**
 * The portal's two cookies. Under https both get the `__Host-` prefix, which browsers only accept with `Secure`,
 * `Path=/` and no `Domain`, so a sibling subdomain cannot plant one (RFC 6265bis §4.1.3.2).
 *
 * - session: the session id, for the session's whole lifetime.
 * - sign-in: a nonce that the sign-in form's CSRF token is bound to, before there is a session.
 *
 * @example
 * const kind: CookieKind = 'session';
 */
export type CookieKind = 'session' | 'sign-in' | 'institution';

const BASE: Record<CookieKind, string> = {
  session: 'pp_session',
  'sign-in': 'pp_signin',
  // The pending sign-in at the institution's IdP (state, nonce, PKCE verifier), signed.
  institution: 'pp_institution',
};

/**
 * The cookie's name for this request's scheme.
 *
 * @example
 * cookieName('session', true); // '__Host-pp_session'
 */
export function cookieName(kind: CookieKind, https: boolean): string {
  return https ? `__Host-${BASE[kind]}` : BASE[kind];
}

/**
 * Reads one of the portal's cookies.
 *
 * @example
 * const id = readCookie(c, 'session', c.var.https);
 */
export function readCookie(c: Context, kind: CookieKind, https: boolean): string | undefined {
  return getCookie(c, cookieName(kind, https));
}

/**
 * Sets one of the portal's cookies: httpOnly, SameSite=Lax, Path=/, Secure under https.
 *
 * @example
 * writeCookie(c, 'session', id, { https: c.var.https, maxAgeSeconds: 43_200 });
 */
export function writeCookie(
  c: Context,
  kind: CookieKind,
  value: string,
  options: { https: boolean; maxAgeSeconds: number },
): void {
  setCookie(c, cookieName(kind, options.https), value, {
    httpOnly: true,
    sameSite: 'Lax',
    path: '/',
    secure: options.https,
    maxAge: options.maxAgeSeconds,
  });
}

/**
 * Removes one of the portal's cookies from the browser.
 *
 * @example
 * clearCookie(c, 'session', c.var.https);
 */
export function clearCookie(c: Context, kind: CookieKind, https: boolean): void {
  deleteCookie(c, cookieName(kind, https), { path: '/', secure: https, httpOnly: true, sameSite: 'Lax' });
}
